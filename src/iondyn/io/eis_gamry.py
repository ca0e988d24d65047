"""Gamry Framework ``.DTA`` files and Gamry-style text exports (``EXPLAIN`` … ``ZCURVE TABLE``).

Layout (Gamry, "EIS Data File Format"): the file starts with ``EXPLAIN`` and ``TAG <technique>``;
each further line is ``KEY<tab>TYPE<tab>value…`` (setup parameters), and a data table is
``NAME<tab>TABLE[<tab>count]`` followed by a tab-led row of column names, a row of units and
tab-led data rows. A file may hold several tables: an ``OCVCURVE`` before the ``ZCURVE``, and
after an aborted run ``EXPERIMENTABORTED<tab>TOGGLE<tab>T`` and a ``FRACURVE``. Every table with
``Freq``, ``Zreal`` and ``Zimag`` columns is one spectrum; Gamry writes Zimag in the physics
convention ("for a capacitor, Zimag and Zphz are negative").

Quirks handled: Windows-1252 ``°`` or U+FFFD in the units row, trailing tabs, a declared row
count that disagrees with the rows (the rows are read and the disagreement is a warning), an
incomplete last row (an error naming the line: the file is truncated), rows inside a table that
are not tab-led Gamry rows (e.g. space-separated: they are left out, and a warning counts them
and names their lines — never dropped silently), drift-corrected columns (Gamry names them
``ZrealDrCor``/``ZimagDrCor``; a pair whose name mentions drift or correction is the data, and
``metadata["drift_corrected"]`` says so and which pair was used). Gamry-style text exports (e.g. the
bayes-drt ``PDAC_…_350C.txt``) carry free comment lines and ``key,value`` lines instead of the
setup block; both are kept in metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError
from iondyn.io.eis_common import Table, parse_float_or_none, spectra_from_table
from iondyn.io.text import parse_number

__all__ = ["read_gamry", "sniff_gamry"]

#: Setup keys copied to metadata with a readable name: key → (name, numeric?).
_SETUP = {
    "TITLE": ("title", False),
    "DATE": ("date", False),
    "TIME": ("time", False),
    "PSTAT": ("potentiostat", False),
    "VDC": ("dc_potential_V", True),
    "VAC": ("ac_amplitude_mV_rms", True),
    "FREQINIT": ("frequency_initial_Hz", True),
    "FREQFINAL": ("frequency_final_Hz", True),
    "PTSPERDEC": ("points_per_decade", True),
    "AREA": ("electrode_area_cm2", True),
    "EOC": ("open_circuit_potential_V", True),
    "ZGUESS": ("estimated_z_ohm", True),
    "FRAMEWORKVERSION": ("framework_version", False),
    "INSTRUMENTVERSION": ("instrument_version", False),
}
#: Names handed to the column recogniser (units made explicit; Gamry writes Hz, ohm, s).
_RENAMED = {"Freq": "Freq (Hz)", "Zreal": "Zreal (ohm)", "Zimag": "Zimag (ohm)", "Time": "Time (s)"}
_DRIFT = re.compile(r"drcor|drift|corr", re.IGNORECASE)
#: A line that starts like a data row (a number after optional blanks) but is not tab-led.
_LOOSE_ROW = re.compile(r"^\s*[-+]?(\d|\.\d)")


def sniff_gamry(lines: list[str]) -> bool:
    """True when the first non-blank line is Gamry's ``EXPLAIN`` tag."""
    for line in lines[:5]:
        if line.strip():
            return line.strip() == "EXPLAIN"
    return False


@dataclass
class _GamryTable:
    name: str
    line: int  # 1-based line of the NAME<tab>TABLE line
    declared: int | None
    columns: list[str]
    units: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    malformed: list[int] = field(default_factory=list)  # 1-based lines of rows left out


def _fields(line: str) -> list[str]:
    """Tab-separated fields of a tab-led row, without the leading and trailing empties."""
    parts = line.split("\t")
    if parts and parts[0].strip() == "":
        parts = parts[1:]
    while parts and parts[-1].strip() == "":
        parts.pop()
    return [p.strip() for p in parts]


def _parse(path: str, lines: list[str]) -> tuple[dict[str, Any], list[_GamryTable]]:
    meta: dict[str, Any] = {}
    extra: dict[str, str] = {}
    comments: list[str] = []
    tables: list[_GamryTable] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if not line.strip() or line.startswith("\t"):
            i += 1
            continue
        parts = [p.strip() for p in line.split("\t")]
        key = parts[0]
        if len(parts) >= 2 and parts[1] == "TABLE":
            declared = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
            if i + 2 >= n:
                raise FileFormatError(
                    f"table {key} ends before its column header (truncated file?)", path, i + 1
                )
            table = _GamryTable(key, i + 1, declared, _fields(lines[i + 1]), _fields(lines[i + 2]))
            i += 3
            while i < n and lines[i].strip():
                if lines[i].startswith("\t"):
                    table.rows.append((i + 1, _fields(lines[i])))
                elif _LOOSE_ROW.match(lines[i]):
                    table.malformed.append(i + 1)
                else:
                    break
                i += 1
            tables.append(table)
            continue
        if key == "NOTES" and len(parts) >= 3 and parts[2].isdigit():
            count = int(parts[2])
            notes = [lines[j].strip() for j in range(i + 1, min(i + 1 + count, n))]
            if any(notes):
                meta["notes"] = "\n".join(x for x in notes if x)
            i += 1 + count
            continue
        if key == "TAG" and len(parts) >= 2:
            meta["technique_tag"] = parts[1]
        elif key == "EXPERIMENTABORTED":
            meta["aborted"] = len(parts) > 2 and parts[2] == "T"
        elif key in _SETUP and len(parts) >= 3:
            name, numeric = _SETUP[key]
            value = parts[2]
            meta[name] = parse_float_or_none(value) if numeric else value
            if numeric and meta[name] is None:
                meta[name] = value
        elif len(parts) == 1 and "," in key:
            k, _, v = key.partition(",")
            extra[k.strip()] = v.strip()
        elif len(parts) == 1 and i > 0:
            comments.append(key)
        i += 1
    if extra:
        meta["header"] = extra
    if comments:
        meta["comments"] = comments
    return meta, tables


def _line_list(lines: list[int]) -> str:
    """``27–30, 34`` for lines 27, 28, 29, 30 and 34."""
    runs: list[list[int]] = []
    for ln in lines:
        if runs and ln == runs[-1][-1] + 1:
            runs[-1].append(ln)
        else:
            runs.append([ln])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _pick(columns: list[str], name: str) -> int | None:
    low = [c.lower() for c in columns]
    return low.index(name.lower()) if name.lower() in low else None


def _z_columns(table: _GamryTable) -> tuple[int, int, bool] | None:
    """Indices of the Zreal/Zimag pair to use and whether it is the drift-corrected one."""
    cols = table.columns
    real = [j for j, c in enumerate(cols) if c.lower().startswith("zreal")]
    imag = [j for j, c in enumerate(cols) if c.lower().startswith("zimag")]
    corrected_r = [j for j in real if _DRIFT.search(cols[j])]
    corrected_i = [j for j in imag if _DRIFT.search(cols[j])]
    if corrected_r and corrected_i:
        return corrected_r[0], corrected_i[0], True
    plain_r, plain_i = _pick(cols, "Zreal"), _pick(cols, "Zimag")
    if plain_r is None or plain_i is None:
        return None
    return plain_r, plain_i, False


def _numeric(path: str, table: _GamryTable, picks: dict[str, int]) -> Table:
    width = len(table.columns)
    data = np.empty((len(table.rows), len(picks)))
    for r, (lineno, fields) in enumerate(table.rows):
        if len(fields) < width:
            raise FileFormatError(
                f"row of table {table.name} has {len(fields)} of {width} fields (truncated file?)",
                path,
                lineno,
            )
        for c, j in enumerate(picks.values()):
            try:
                data[r, c] = parse_number(fields[j])
            except ValueError:
                raise FileFormatError(
                    f"column {table.columns[j]!r} of table {table.name}: "
                    f"not a number ({fields[j][:30]!r})",
                    path,
                    lineno,
                ) from None
    return Table(list(picks), data, np.array([ln for ln, _ in table.rows], dtype=int))


def read_gamry(path: str, lines: list[str]) -> list[ImpedanceSpectrum]:
    """All impedance tables of a Gamry ``.DTA`` file or Gamry-style text export."""
    meta, tables = _parse(path, lines)
    z_tables = [t for t in tables if _pick(t.columns, "Freq") is not None and _z_columns(t)]
    if not z_tables:
        names = ", ".join(t.name for t in tables) or "none"
        raise FileFormatError(
            f"Gamry file without an impedance table (ZCURVE with Freq, Zreal, Zimag); "
            f"tables found: {names}",
            path,
        )
    instrument = None
    if meta.get("potentiostat"):
        instrument = f"Gamry {meta['potentiostat']}"
    spectra: list[ImpedanceSpectrum] = []
    for table in z_tables:
        jr, ji, corrected = _z_columns(table)  # type: ignore[misc]
        picks = {"Freq": _pick(table.columns, "Freq"), "Zreal": jr, "Zimag": ji}
        for optional in ("Time", "Idc", "Vdc"):
            j = _pick(table.columns, optional)
            if j is not None:
                picks[optional] = j
        if not table.rows:
            raise FileFormatError(f"table {table.name} has no data rows", path, table.line)
        parsed = _numeric(path, table, picks)  # type: ignore[arg-type]
        m = dict(meta)
        warnings = []
        if table.declared is not None and table.declared != len(table.rows):
            warnings.append(
                f"table {table.name} declares {table.declared} rows but holds "
                f"{len(table.rows)}; the rows were read"
            )
            m["declared_rows"] = table.declared
        if table.malformed:
            warnings.append(
                f"table {table.name}: {len(table.malformed)} row(s) that are not tab-led Gamry "
                f"rows were left out (lines {_line_list(table.malformed)})"
            )
            m["malformed_lines"] = list(table.malformed)
        if meta.get("aborted"):
            warnings.append("the experiment was aborted (EXPERIMENTABORTED T)")
        m.update(
            table=table.name,
            table_line=table.line,
            units=dict(zip(table.columns, table.units)),
            drift_corrected=corrected,
            z_imag_sign_reason="Gamry convention: Zimag < 0 for a capacitor",
            warnings=warnings,
        )
        if corrected:
            m["z_columns_drift_corrected"] = [table.columns[jr], table.columns[ji]]
        for key in ("Idc", "Vdc"):
            if key in picks:
                values = parsed.data[:, list(picks).index(key)]
                values = values[np.isfinite(values)]
                if values.size:
                    with np.errstate(over="ignore"):
                        mean = float(values.mean())
                    m[f"{key}_mean"] = mean if np.isfinite(mean) else None
        names = [_RENAMED.get(k, k) for k in picks]
        spectra += spectra_from_table(
            path,
            Table(names, parsed.data, parsed.lines),
            metadata=m,
            instrument=instrument,
            split_cycles=False,
            split_restarts=False,
        )
    return spectra
