"""Reader for TSDC curves in CSV/TXT files.

Layout: a numeric table (comma, semicolon, tab or whitespace separated, decimal point or
comma), optionally preceded by a header row of column names and by comment lines (``#``, ``%``,
``!``). The temperature column is the one whose name mentions temperature (``T``, ``Temp``,
``Temperature [C]``, …), else the first; the current column the first other column whose name
looks like a current (``I``, ``J``, ``current``, ``nA/cm2``, ``A``, …), else the next one. Other
columns are ignored and kept in ``metadata["reference_curves"]`` (e.g. the fitted components a
file was published with).

Units: the temperature unit comes from the header (``K``, ``[C]``, ``(°C)``, ``℃``, ``degC``,
``Celsius``, …) or the ``temperature_unit`` argument; a header without a unit is taken as kelvin
with a warning. The current unit is read from the header (``nA/cm2``, ``I (pA)``, …) or given,
and kept in the curve. A heating rate stated in a comment line (``heating rate: 5 K/min``,
``beta = 0.1 K/s``) is used when ``beta`` is not given.

Errors name the file and line: a temperature that does not increase (a repeated value or a
cooling segment), temperatures below 0 K or above :data:`TEMPERATURE_MAX_K` (10⁴ K) after
conversion, a current whose magnitude exceeds :data:`CURRENT_MAX` (10¹⁵ in the file's unit;
magnitudes below :data:`CURRENT_MIN`, 10⁻²⁵⁰, are read as 0), a current that is zero
everywhere, a stated heating rate outside 10⁻⁶–10³ K/s, text in the numeric block. The limits
reject corrupted values (1e308) that no instrument writes and that would overflow the fits.
``heating_segment=True`` instead averages repeated temperatures and keeps the longest strictly
heating run, with a warning.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from iondyn.constants import ZERO_CELSIUS_K
from iondyn.data import TSDCCurve
from iondyn.errors import DataError, FileFormatError, InputError
from iondyn.io.text import guess_delimiter, parse_number, read_lines

__all__ = [
    "CURRENT_MAX",
    "CURRENT_MIN",
    "TEMPERATURE_MAX_K",
    "normalise_current_unit",
    "read_tsdc",
    "temperature_unit_of",
]

#: Accepted ranges (see the module docstring).
TEMPERATURE_MAX_K = 1e4
CURRENT_MAX = 1e15
#: Currents below this magnitude are read as 0 (tail values underflowing to denormals).
CURRENT_MIN = 1e-250
_BETA_RANGE_K_PER_S = (1e-6, 1e3)

_COMMENT = ("#", "%", "!")
_TEMP_NAME = re.compile(r"(^t$|^t[\s_\[(]|temp|kelvin|celsius|°|℃|deg)", re.IGNORECASE)
_CURRENT_NAME = re.compile(
    r"(^i$|^j$|^i[\s_\[(]|^j[\s_\[(]|curr|dens|amp|(^|[\s\[(/])[fpnuµμm]?a([\s\])/]|$))",
    re.IGNORECASE,
)
_BETA = re.compile(
    r"(heating[\s_-]*rate|beta|β)\s*[:=]?\s*([-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?)\s*"
    r"(K|°C|C|℃)\s*/\s*(s|sec|min)",
    re.IGNORECASE,
)


def temperature_unit_of(name: str) -> str | None:
    """``"K"``, ``"C"``, ``"F"`` or ``None`` from a column header such as ``Temperature [C]``,
    ``T (°C)``, ``T/K``, ``Temp_degC``, ``T ℃``."""
    n = name.strip()
    if re.search(r"℃|°\s*c\b|deg\s*c\b|celsius", n, re.IGNORECASE):
        return "C"
    if re.search(r"°\s*f\b|fahrenheit", n, re.IGNORECASE):
        return "F"
    if re.search(r"kelvin|[\[(/_\s]k[\])\s]*$", n, re.IGNORECASE):
        return "K"
    if re.search(r"[\[(/_\s]c[\])\s]*$", n, re.IGNORECASE):
        return "C"
    return None


def normalise_current_unit(unit: str) -> str:
    """ASCII form of a current unit: ``µA``/``μA`` → ``uA``, ``cm²`` → ``cm2``."""
    u = unit.strip().replace("µ", "u").replace("μ", "u").replace("²", "2").replace("^2", "2")
    return u.replace(" ", "")


def _current_unit_of(name: str) -> str | None:
    """A current unit in a column header: ``nA/cm2``, ``I (pA)``, ``J [µA/cm²]``, ``I/A``, and
    iondyn's own key style ``current_A_per_m2`` (``iondyn simulate tsdc --out``)."""
    n = name.strip()
    m = re.search(r"[\[(]([^\])]+)[\])]", n)
    candidates = ([m.group(1)] if m else []) + [n] + ([n.split("/", 1)[1]] if "/" in n else [])
    k = re.search(r"_([fpnuµμm]?A)(?:_per_(mm|cm|m)2)?$", n)
    if k:
        candidates.append(k.group(1) + (f"/{k.group(2)}2" if k.group(2) else ""))
    for cand in candidates:
        u = normalise_current_unit(cand)
        if re.fullmatch(r"[fpnum]?A(/(mm|cm|m)2)?", u):
            return u
    return None


def _fields(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    return [f.strip() for f in line.rstrip(delimiter).split(delimiter)]


def _beta_from_comments(lines: list[str]) -> float | None:
    for line in lines:
        m = _BETA.search(line)
        if m:
            value = float(m.group(2).replace(",", "."))
            return value / 60.0 if m.group(4).lower().startswith("min") else value
    return None


def _heating_segment(
    T: np.ndarray, J: np.ndarray, line_no: list[int]
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Average runs of repeated temperatures, then keep the longest strictly increasing run."""
    starts = np.concatenate([[0], np.nonzero(np.diff(T) != 0)[0] + 1])
    ends = np.concatenate([starts[1:], [T.size]])
    T2 = T[starts]
    J2 = np.array([J[a:b].mean() for a, b in zip(starts, ends)])
    L2 = [line_no[a] for a in starts]
    breaks = np.concatenate([[0], np.nonzero(np.diff(T2) <= 0)[0] + 1, [T2.size]])
    k = int(np.argmax(np.diff(breaks)))
    a, b = int(breaks[k]), int(breaks[k + 1])
    return T2[a:b], J2[a:b], L2[a:b]


def _check_ranges(
    src: str, T: np.ndarray, J: np.ndarray, lines: list[int], unit_t: str, unit_i: str
) -> None:
    """DataError naming the line of the first temperature above TEMPERATURE_MAX_K or current
    beyond ±CURRENT_MAX (temperatures ≤ 0 K are reported by the caller); currents below
    CURRENT_MIN in magnitude are set to 0 in place."""
    bad_t = T > TEMPERATURE_MAX_K
    J[np.abs(J) < CURRENT_MIN] = 0.0
    bad_j = np.abs(J) > CURRENT_MAX
    if not (bad_t.any() or bad_j.any()):
        return
    r = int(np.argmax(bad_t | bad_j))
    if bad_t[r]:
        shown = T[r] - ZERO_CELSIUS_K if unit_t == "C" else T[r]
        problem = (
            f"temperature {shown:g} {'°C' if unit_t == 'C' else 'K'} is above "
            f"{TEMPERATURE_MAX_K:g} K"
        )
    else:
        problem = (
            f"current {J[r]:g} {unit_i} is beyond the accepted magnitude {CURRENT_MAX:g} {unit_i}"
        )
    raise DataError(problem + " (corrupted file or wrong unit?)", src, lines[r])


def read_tsdc(
    path: str | Path,
    beta: float | None = None,
    temperature_unit: str = "auto",
    current_unit: str | None = None,
    heating_segment: bool = False,
) -> TSDCCurve:
    """Read one TSDC curve (see the module docstring).

    ``beta``: heating rate in K/s (overrides a rate found in the file); ``temperature_unit``:
    ``auto`` | ``K`` | ``C``; ``current_unit``: the unit of the current column when the
    header does not say (or to override it); ``heating_segment``: keep the longest heating
    run instead of raising on a non-increasing temperature.
    """
    src = str(path)
    tu = temperature_unit.strip().upper().replace("°", "")
    if tu not in ("AUTO", "K", "C"):
        raise InputError(f"temperature unit must be 'auto', 'K' or 'C', not {temperature_unit!r}")
    if beta is not None and not (np.isfinite(beta) and beta > 0):
        raise InputError(f"the heating rate must be positive, got {beta} K/s", path=src)
    lines = read_lines(path)
    comments = [ln for ln in lines if ln.lstrip().startswith(_COMMENT)]
    body = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and ln not in comments]
    if not body:
        raise FileFormatError("the file holds no data", src)
    delimiter = guess_delimiter([ln for _, ln in body[-50:]])
    header: list[str] = []
    rows: list[list[float]] = []
    line_no: list[int] = []
    width = None
    warnings: list[str] = []
    for no, line in body:
        fields = _fields(line, delimiter)
        try:
            values = [float("nan") if f == "" else parse_number(f) for f in fields]
        except ValueError:
            if not rows:
                header = fields
                continue
            raise FileFormatError(
                f"text in the numeric block ({line.strip()[:40]!r})", src, no
            ) from None
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise FileFormatError(f"expected {width} columns, found {len(values)}", src, no)
        rows.append(values)
        line_no.append(no)
    if not rows:
        raise FileFormatError("no numeric rows found", src)
    data = np.asarray(rows, dtype=float)
    if data.shape[1] < 2:
        raise FileFormatError("only one column: a TSDC curve needs temperature and current", src)
    names = header if len(header) == data.shape[1] else [""] * data.shape[1]
    it = next((j for j, n in enumerate(names) if n and _TEMP_NAME.search(n)), 0)
    ic = next(
        (j for j, n in enumerate(names) if j != it and n and _CURRENT_NAME.search(n)),
        1 if it == 0 else 0,
    )
    # units
    found_t = temperature_unit_of(names[it]) if names[it] else None
    if found_t == "F":
        raise FileFormatError(f"temperatures in °F are not supported ({names[it]!r})", src)
    if tu == "AUTO":
        if found_t is None:
            unit_t = "K"
            warnings.append("the temperature unit is not stated in the file: assumed K")
        else:
            unit_t = found_t
    else:
        unit_t = tu
    unit_i = normalise_current_unit(current_unit) if current_unit else None
    if unit_i is None:
        unit_i = _current_unit_of(names[ic]) if names[ic] else None
        if unit_i is None:
            unit_i = "A"
            warnings.append("the current unit is not stated in the file: assumed A")
    T = data[:, it]
    J = data[:, ic]
    keep = np.isfinite(T) & np.isfinite(J)
    if not keep.all():
        warnings.append(f"dropped {int((~keep).sum())} row(s) with missing or NaN values")
    if np.any(np.isinf(data[:, [it, ic]])):
        r = int(np.nonzero(np.isinf(data[:, [it, ic]]).any(axis=1))[0][0])
        raise DataError("infinite value in the data", src, line_no[r])
    T, J = T[keep], J[keep]
    lines_kept = [n for n, k in zip(line_no, keep) if k]
    if unit_t == "C":
        T = T + ZERO_CELSIUS_K
    _check_ranges(src, T, J, lines_kept, unit_t, unit_i)
    if T.size and np.any(T <= 0):
        r = int(np.nonzero(T <= 0)[0][0])
        shown = T[r] - ZERO_CELSIUS_K if unit_t == "C" else T[r]
        raise DataError(
            f"temperature {shown:g} {'°C' if unit_t == 'C' else 'K'} is at or below 0 K "
            "(wrong temperature unit? use temperature_unit / --temperature-unit)",
            src,
            lines_kept[r],
        )
    d = np.diff(T)
    if np.any(d <= 0):
        if not heating_segment:
            r = int(np.nonzero(d <= 0)[0][0]) + 1
            what = "repeats" if d[r - 1] == 0 else "decreases (a cooling segment)"
            raise DataError(
                f"the temperature {what}: {T[r]:.6g} K after {T[r - 1]:.6g} K; TSDC needs a "
                "heating run (heating_segment=True / --heating-segment keeps the longest one)",
                src,
                lines_kept[r],
            )
        n0 = T.size
        T, J, lines_kept = _heating_segment(T, J, lines_kept)
        warnings.append(
            f"kept the longest heating run: {T.size} of {n0} points (lines {lines_kept[0]}–"
            f"{lines_kept[-1]}), repeated temperatures averaged"
        )
    if T.size < 5:
        raise DataError(f"only {T.size} usable points", src)
    if not np.any(J != 0):
        raise DataError("the current is zero everywhere", src)
    rate = beta if beta is not None else _beta_from_comments(comments)
    lo, hi = _BETA_RANGE_K_PER_S
    if beta is None and rate is not None and not lo <= rate <= hi:
        raise DataError(
            f"the heating rate {rate:g} K/s stated in the file is outside {lo:g}–{hi:g} K/s "
            "(give it with beta / --beta)",
            src,
        )
    extra = {
        (names[j] or f"column {j + 1}"): data[keep, j] if T.size == keep.sum() else None
        for j in range(data.shape[1])
        if j not in (it, ic)
    }
    meta = {
        "temperature_column": names[it] or "column 1",
        "current_column": names[ic] or f"column {ic + 1}",
        "temperature_unit_in_file": unit_t,
        "reference_curves": {k: v for k, v in extra.items() if v is not None},
        "warnings": warnings,
    }
    return TSDCCurve(T, J, unit_i, rate, src, 0, meta)
