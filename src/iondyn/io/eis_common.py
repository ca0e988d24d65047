"""Shared machinery of the impedance readers: from parsed columns to ImpedanceSpectrum objects.

Every format module parses its file into a :class:`Table` (column names, a float array, the line
number of every row) plus header metadata, and hands it to :func:`spectra_from_table`, which

1. finds the frequency and impedance columns (:mod:`iondyn.io.eis_columns`), converts units to
   Hz and Ω, and builds Z = Z' + iZ'' in the physics convention (Z'' < 0 capacitive), negating
   columns that hold −Z'' (``-Im(Z)``, ``-Z''``) or using |Z|·exp(iφ) when only modulus and phase
   are there;
2. splits the rows into spectra: by a cycle column (``z cycle``, ``cycle number``) when it
   changes, then wherever the frequency sweep restarts (a step against the sweep direction);
3. applies the NaN policy — rows with a missing/NaN value are dropped and listed in
   ``metadata["warnings"]``; infinite values, zero or negative frequencies and a frequency
   repeated within one spectrum are errors naming the file and line;
4. applies the range checks (after unit conversion) — a frequency outside
   [:data:`FREQUENCY_MIN_HZ`, :data:`FREQUENCY_MAX_HZ`] = [10⁻⁹, 10¹³] Hz, or an impedance
   with |Z| outside [:data:`IMPEDANCE_MIN_OHM`, :data:`IMPEDANCE_MAX_OHM`] = [10⁻¹⁵, 10¹⁵] Ω
   (|Z| = 0 included), is a :class:`~iondyn.errors.DataError` naming the file and line. These
   are physically absurd values (corrupted files, a wrong unit factor): instruments span about
   10 µHz–3 GHz (THz spectroscopy 10¹³ Hz) and 1 mΩ–10¹⁴ Ω, and the analyses square, invert
   and exponentiate these numbers, which would overflow beyond. A temperature column with values
   outside (0, 10⁴] K is not used (a warning says so).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import DataError, FileFormatError
from iondyn.io.eis_columns import ColumnRole, find_columns

__all__ = [
    "FREQUENCY_MAX_HZ",
    "FREQUENCY_MIN_HZ",
    "IMPEDANCE_MAX_OHM",
    "IMPEDANCE_MIN_OHM",
    "Table",
    "restart_segments",
    "spectra_from_table",
    "split_lines",
]


#: Accepted frequency range (Hz) of impedance data; see the module docstring.
FREQUENCY_MIN_HZ = 1e-9
FREQUENCY_MAX_HZ = 1e13
#: Accepted range of |Z| (Ω); see the module docstring.
IMPEDANCE_MIN_OHM = 1e-15
IMPEDANCE_MAX_OHM = 1e15
_TEMPERATURE_MAX_K = 1e4


@dataclass
class Table:
    """Parsed rows of one data block: ``data[i, j]`` is row i, column ``columns[j]``."""

    columns: list[str]
    data: np.ndarray
    lines: np.ndarray  # 1-based line number of every row (0 where unknown, e.g. binary files)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data = np.asarray(self.data, dtype=float).reshape(-1, len(self.columns))
        self.lines = np.asarray(self.lines, dtype=int)

    def take(self, rows: np.ndarray) -> Table:
        return Table(self.columns, self.data[rows], self.lines[rows], list(self.warnings))


_LINE_END = re.compile(r"\r*\n|\r")


def split_lines(text: str) -> list[str]:
    """Lines of decoded text without terminators (``\\n``, ``\\r\\n``, ``\\r\\r\\n``, ``\\r``)."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _where(path: str, line: int) -> tuple[str, int | None]:
    return path, (int(line) if line > 0 else None)


def restart_segments(frequency: np.ndarray) -> list[np.ndarray]:
    """Index arrays of the monotonic sweeps in ``frequency`` (a new one at each reversal).

    A sweep's direction is set by its first two points; a step against it starts the next
    sweep. ``[1e3, 1e2, 10, 1e3, 1e2]`` → ``[[0, 1, 2], [3, 4]]``. Equal neighbours do not split
    (they are reported as duplicates later).
    """
    n = frequency.size
    if n < 3:
        return [np.arange(n)]
    starts = [0]
    direction = 0.0
    for i in range(1, n):
        step = np.sign(frequency[i] - frequency[i - 1])
        if step == 0:
            continue
        if direction == 0.0:
            direction = step
        elif step != direction:
            starts.append(i)
            direction = 0.0
    bounds = [*starts, n]
    return [np.arange(a, b) for a, b in itertools.pairwise(bounds)]


def _column(table: Table, found: dict[str, tuple[int, ColumnRole]], role: str) -> np.ndarray:
    j, r = found[role]
    values = table.data[:, j] * r.scale
    return -values if r.negated else values


def _impedance(
    path: str, table: Table, found: dict[str, tuple[int, ColumnRole]], meta: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Frequency (Hz) and complex Z (Ω) of every row, with column provenance in ``meta``."""
    if "frequency" in found:
        freq = _column(table, found, "frequency")
        meta["frequency_column"] = table.columns[found["frequency"][0]]
    elif "angular_frequency" in found:
        freq = _column(table, found, "angular_frequency") / (2.0 * np.pi)
        meta["frequency_column"] = table.columns[found["angular_frequency"][0]] + " (ω/2π)"
    else:
        raise FileFormatError(f"no frequency column among {_names(table.columns)}", path=path)
    if "z_real" in found and "z_imag" in found:
        zr = _column(table, found, "z_real")
        zi = _column(table, found, "z_imag")
        meta["z_columns"] = [table.columns[found["z_real"][0]], table.columns[found["z_imag"][0]]]
        if found["z_imag"][1].negated:
            meta.setdefault("z_imag_sign", "flipped")
            meta.setdefault(
                "z_imag_sign_reason",
                f"column {table.columns[found['z_imag'][0]]!r} holds -Z''",
            )
        roles = [found["z_real"][1], found["z_imag"][1]]
    elif "z_mod" in found and "phase" in found:
        mod = _column(table, found, "z_mod")
        phase_deg = _column(table, found, "phase")
        zr = mod * np.cos(np.deg2rad(phase_deg))
        zi = mod * np.sin(np.deg2rad(phase_deg))
        meta["z_columns"] = [table.columns[found["z_mod"][0]], table.columns[found["phase"][0]]]
        meta["z_from"] = "|Z| and phase: Z = |Z| exp(i phi)"
        if found["phase"][1].negated:
            meta.setdefault("z_imag_sign", "flipped")
            meta.setdefault(
                "z_imag_sign_reason",
                f"column {table.columns[found['phase'][0]]!r} holds -phase",
            )
        meta.setdefault(
            "z_imag_sign_reason",
            f"column {table.columns[found['phase'][0]]!r} read as the phase of Z (< 0 capacitive)",
        )
        if not found["phase"][1].unit:
            meta.setdefault("warnings", []).append("the phase column has no unit; read as degrees")
        roles = [found["z_mod"][1]]
    else:
        raise FileFormatError(
            "no impedance columns (need Z' and Z'', or |Z| and phase) among "
            + _names(table.columns),
            path=path,
        )
    meta.setdefault("z_imag_sign", "as-read")
    meta.setdefault(
        "z_imag_sign_reason",
        f"column {meta['z_columns'][-1]!r} read as the imaginary part in the physics convention",
    )
    if any(r.area_specific for r in roles):
        meta["z_unit_in_file"] = next(r.unit for r in roles if r.area_specific)
        meta.setdefault("warnings", []).append(
            f"impedance is area-specific ({meta['z_unit_in_file']}); values kept as read, "
            "not divided by an area"
        )
    return freq, zr + 1j * zi


def _names(columns: list[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:12])
    return f"[{shown}{', ...' if len(columns) > 12 else ''}]"


def _check_finite(path: str, table: Table, used: list[int]) -> np.ndarray:
    """Raise on infinite values; return a mask of rows with NaN in a used column."""
    sub = table.data[:, used]
    bad_inf = np.isinf(sub).any(axis=1)
    if bad_inf.any():
        i = int(np.argmax(bad_inf))
        raise DataError("infinite value in an impedance column", *_where(path, table.lines[i]))
    return np.isnan(sub).any(axis=1)


def _check_range(path: str, freq: np.ndarray, z: np.ndarray, lines: np.ndarray) -> None:
    """DataError naming the first row whose frequency or |Z| lies outside the accepted ranges
    (or became infinite through a unit factor)."""
    with np.errstate(all="ignore"):
        modulus = np.abs(z)
    bad_f = ~((freq >= FREQUENCY_MIN_HZ) & (freq <= FREQUENCY_MAX_HZ))
    bad_z = ~((modulus >= IMPEDANCE_MIN_OHM) & (modulus <= IMPEDANCE_MAX_OHM))
    if not (bad_f.any() or bad_z.any()):
        return
    i = int(np.argmax(bad_f | bad_z))
    if bad_f[i]:
        problem = (
            f"frequency {freq[i]:.6g} Hz is outside the accepted range "
            f"{FREQUENCY_MIN_HZ:g}–{FREQUENCY_MAX_HZ:g} Hz"
        )
    else:
        problem = (
            f"|Z| = {modulus[i]:.6g} Ω is outside the accepted range "
            f"{IMPEDANCE_MIN_OHM:g}–{IMPEDANCE_MAX_OHM:g} Ω"
        )
    raise DataError(problem + " (corrupted file or wrong unit?)", *_where(path, lines[i]))


def _line_list(lines: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(int(x)) for x in lines[:limit])
    return shown + (f" and {lines.size - limit} more" if lines.size > limit else "")


def spectra_from_table(
    path: str,
    table: Table,
    *,
    metadata: dict[str, Any] | None = None,
    instrument: str | None = None,
    temperature_K: float | None = None,
    split_cycles: bool = True,
    split_restarts: bool = True,
    skip_zero_frequency: bool = False,
) -> list[ImpedanceSpectrum]:
    """Turn one parsed table into spectra (see the module docstring for the rules, the NaN
    policy and the accepted ranges of frequency and |Z|).

    ``skip_zero_frequency`` drops rows with frequency exactly 0 (the DC rows of Parstat and
    BioLogic multi-technique exports) and counts them in ``metadata["n_rows_skipped_dc"]``.
    """
    base = dict(metadata or {})
    warnings: list[str] = list(base.pop("warnings", [])) + list(table.warnings)
    try:
        found = find_columns(table.columns)
    except FileFormatError as exc:
        raise FileFormatError(exc.problem, path=path) from None
    meta: dict[str, Any] = {}
    with np.errstate(all="ignore"):  # unit factors may overflow: caught by _check_range
        freq, z = _impedance(path, table, found, meta)
    warnings += meta.pop("warnings", [])
    used = [found[r][0] for r in ("frequency", "angular_frequency") if r in found]
    used += [found[r][0] for r in ("z_real", "z_imag", "z_mod", "phase") if r in found]
    nan_rows = _check_finite(path, table, used)
    rows = np.arange(len(table.lines))
    if skip_zero_frequency:
        dc = (freq == 0) & ~nan_rows
        if dc.any():
            base["n_rows_skipped_dc"] = int(dc.sum())
        rows = rows[~dc]
    if nan_rows[rows].any():
        dropped = table.lines[rows[nan_rows[rows]]]
        warnings.append(
            f"dropped {dropped.size} row(s) with a missing or NaN value "
            f"(line {_line_list(dropped)})"
        )
        rows = rows[~nan_rows[rows]]
    if rows.size == 0:
        raise DataError("no impedance rows with a valid frequency and impedance", path=path)
    bad = rows[freq[rows] <= 0]
    if bad.size:
        raise DataError(
            f"frequency {freq[bad[0]]:g} Hz is not positive", *_where(path, table.lines[bad[0]])
        )
    _check_range(path, freq[rows], z[rows], table.lines[rows])
    groups, split_by = _split(table, found, freq, rows, split_cycles, split_restarts)
    spectra = []
    for k, idx in enumerate(groups):
        _check_duplicates(path, freq[idx], table.lines[idx])
        m = dict(base) | meta
        if "z_imag_sign_reason" in base:  # the reader knows its format's convention best
            m["z_imag_sign_reason"] = base["z_imag_sign_reason"]
        m["split_by"] = split_by
        if table.lines[idx[0]] > 0:
            m["lines"] = [int(table.lines[idx[0]]), int(table.lines[idx[-1]])]
        if "cycle" in found and split_by != "none":
            m["cycle"] = float(table.data[idx[0], found["cycle"][0]])
        t_k = temperature_K
        if "temperature" in found and t_k is None:
            t_k = _temperature_from_column(table, found, idx, m)
        if "time" in found:
            j, role = found["time"]
            with np.errstate(all="ignore"):
                t_s = table.data[[idx[0], idx[-1]], j] * role.scale
            if np.all(np.isfinite(t_s)):
                m["time_s"] = [float(t_s[0]), float(t_s[1])]
        m["warnings"] = list(warnings) + m.pop("warnings", [])
        spectra.append(
            ImpedanceSpectrum(
                freq[idx],
                z[idx],
                source=path,
                index=k,
                temperature_K=t_k,
                instrument=instrument,
                metadata=m,
            )
        )
    return spectra


def _split(
    table: Table,
    found: dict[str, tuple[int, ColumnRole]],
    freq: np.ndarray,
    rows: np.ndarray,
    split_cycles: bool,
    split_restarts: bool,
) -> tuple[list[np.ndarray], str]:
    groups = [rows]
    how = []
    if split_cycles and "cycle" in found:
        values = table.data[rows, found["cycle"][0]]
        if np.unique(values).size > 1:
            change = np.flatnonzero(values[1:] != values[:-1]) + 1
            groups = np.split(rows, change)
            how.append(f"column {table.columns[found['cycle'][0]]!r}")
    if split_restarts:
        out = []
        for g in groups:
            out += [g[s] for s in restart_segments(freq[g])]
        if len(out) > len(groups):
            how.append("frequency restart")
        groups = out
    return groups, (" + ".join(how) if how else "none")


def _check_duplicates(path: str, freq: np.ndarray, lines: np.ndarray) -> None:
    order = np.argsort(freq, kind="stable")
    same = np.flatnonzero(np.diff(freq[order]) == 0)
    if same.size:
        a, b = sorted((int(lines[order[same[0]]]), int(lines[order[same[0] + 1]])))
        raise DataError(
            f"frequency {freq[order[same[0]]]:g} Hz appears twice in one spectrum "
            f"(lines {a} and {b}); remove one of the rows",
            *_where(path, b),
        )


def _temperature_from_column(
    table: Table, found: dict[str, tuple[int, ColumnRole]], idx: np.ndarray, meta: dict[str, Any]
) -> float | None:
    j, role = found["temperature"]
    values = table.data[idx, j]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    if role.unit == "C":
        values = values + 273.15
    elif role.unit != "K":
        return None
    if not np.all((values > 0) & (values <= _TEMPERATURE_MAX_K)):
        meta.setdefault("warnings", []).append(
            f"column {table.columns[j]!r} holds temperatures outside 0–{_TEMPERATURE_MAX_K:g} K;"
            " not used"
        )
        return None
    meta["temperature_source"] = (
        f"column {table.columns[j]!r}: mean over the spectrum "
        f"(range {values.min():.2f}-{values.max():.2f} K)"
    )
    return float(values.mean())


def parse_float_or_none(text: str) -> float | None:
    """``float(text)`` for header values, ``None`` when it is not a plain number."""
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def fraction_positive_low_frequency(frequency: np.ndarray, z_imag: np.ndarray) -> float:
    """Share of points with Z'' > 0 among the lower half of the frequencies.

    A capacitive system has Z'' < 0 there (inductive cable and battery artefacts sit at the
    high-frequency end), so a share above 1/2 means the column most probably holds −Z''.
    """
    finite = np.isfinite(frequency) & np.isfinite(z_imag)
    f, zi = frequency[finite], z_imag[finite]
    if f.size == 0:
        return 0.0
    with np.errstate(all="ignore"):  # values near 1e308 (refused later) overflow the median
        low = f <= np.median(f)
    return float(np.mean(zi[low] > 0))
