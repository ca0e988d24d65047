"""ZView / ZPlot ``.z`` files (Scribner Associates), in both layouts.

* ``ZPLOT2 ASCII`` — an indented ``key: value`` comment block (experiment, potentiostat and
  analyser settings, ``Data Points: N``), the column names on the line before ``End Comments``
  (``Freq(Hz) Ampl Bias Time(Sec) Z'(a) Z''(b) GD Err Range``), then the data (tab- or
  comma-separated).
* the older quoted layout (``"ZPlotW Data File: Version 3.2c"``, also ``"Z60W Data File"``):
  quoted title lines, free text lines, a configuration line, a point count, the quoted column
  names, then comma-separated data.

``Z''(b)`` is the imaginary part in the physics convention (negative for a capacitor). Header
counts often disagree with the rows (the files were cut or appended to): the rows are trusted
and ``metadata["declared_points"]`` plus a warning record the discrepancy. A temperature written
in a free comment line as its own item (``…, 800 C``) becomes ``temperature_K``, with
``metadata["temperature_source"]`` quoting the line.
"""

from __future__ import annotations

import re
from typing import Any

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError
from iondyn.io.eis_common import spectra_from_table
from iondyn.io.eis_table import parse_rows, split_fields
from iondyn.io.eis_temperature import temperature_from_comments
from iondyn.io.text import guess_delimiter

__all__ = ["read_scribner_quoted", "read_zview", "sniff_scribner_quoted", "sniff_zview"]

#: Column names of a ZPlot data row, for files whose names line is missing.
ZPLOT_COLUMNS = ["Freq(Hz)", "Ampl", "Bias", "Time(Sec)", "Z'(a)", "Z''(b)", "GD", "Err", "Range"]
_KEY_VALUE = re.compile(r"^\s*([^:]+?):\s*(.*?)\s*$")


def sniff_zview(lines: list[str]) -> bool:
    """``ZPLOT2 ASCII`` or a quoted ``ZPlot…``/``ZView…`` title on the first line."""
    first = next((ln.strip() for ln in lines[:3] if ln.strip()), "")
    return first.startswith("ZPLOT2 ASCII") or bool(re.match(r'^"Z(Plot|View)', first))


def sniff_scribner_quoted(lines: list[str]) -> bool:
    """The quoted layout: a quoted first line ending in ``Data File: Version …``."""
    first = next((ln.strip() for ln in lines[:3] if ln.strip()), "")
    return bool(re.match(r'^"[^"]*Data File: Version [^"]*"$', first))


def _declared(meta: dict[str, Any], declared: int | None, n_rows: int) -> None:
    if declared is not None:
        meta["declared_points"] = declared
        if declared != n_rows:
            meta.setdefault("warnings", []).append(
                f"the header says {declared} data points but the file holds {n_rows} rows; "
                "the rows were read"
            )


def _read_zplot2(path: str, lines: list[str]) -> list[ImpedanceSpectrum]:
    end = next((i for i, ln in enumerate(lines) if ln.strip() == "End Comments"), None)
    if end is None:
        raise FileFormatError("ZPLOT2 file without an 'End Comments' line", path)
    header: dict[str, str] = {}
    comments: list[str] = []
    in_user = False
    for line in lines[1 : end - 1]:
        m = _KEY_VALUE.match(line)
        if line.strip().startswith("Begin User Comments"):
            in_user = True
        elif line.strip().startswith("End User Comments"):
            in_user = False
        elif in_user:
            comments.append(line.strip())
        elif m:
            header.setdefault(m.group(1), m.group(2))
    rows = [(i + 1, ln) for i, ln in enumerate(lines[end + 1 :], start=end + 1) if ln.strip()]
    if not rows:
        raise FileFormatError("no data rows after 'End Comments'", path, end + 1)
    delimiter = guess_delimiter([ln for _, ln in rows[:50]])
    names = split_fields(lines[end - 1], "\t" if "\t" in lines[end - 1] else None)
    n_data = len(split_fields(rows[0][1], delimiter))
    if len(names) != n_data or not any("Freq" in n for n in names):
        if n_data != len(ZPLOT_COLUMNS):
            raise FileFormatError(
                f"cannot match the {n_data} data columns to column names", path, rows[0][0]
            )
        names = ZPLOT_COLUMNS
    table = parse_rows(path, names, rows, delimiter)
    meta: dict[str, Any] = {"layout": "ZPLOT2 ASCII", "header": header}
    if "Measured Data, ZPlot" in header:
        meta["software"] = f"ZPlot {header['Measured Data, ZPlot']}"
    for key in ("Date", "Time", "Experiment Type"):
        if key in header:
            meta[key.lower().replace(" ", "_")] = header[key]
    if comments:
        meta["comments"] = comments
    declared = header.get("Data Points", "")
    _declared(meta, int(declared) if declared.isdigit() else None, len(rows))
    temperature = temperature_from_comments(comments, meta)
    return spectra_from_table(
        path, table, metadata=meta, temperature_K=temperature, split_cycles=False
    )


def read_scribner_quoted(
    path: str, lines: list[str], *, layout: str | None = None
) -> tuple[list[ImpedanceSpectrum], dict[str, Any]]:
    """Spectra of the quoted layout (``ZPlotW``/``Z60W Data File``) and its header metadata."""
    col = next(
        (
            i
            for i, ln in enumerate(lines[:200])
            if ln.strip().startswith('"') and "Freq" in ln and ("Z'" in ln or "Z''" in ln)
        ),
        None,
    )
    if col is None:
        raise FileFormatError("quoted .z layout without a 'Freq … Z'(a) Z''(b)' column line", path)
    names = re.split(r"\s{2,}|\t", lines[col].strip().strip('"').strip())
    comments = []
    declared = None
    config = None
    for line in lines[1:col]:
        text = line.strip().strip('"').strip()
        if not text:
            continue
        if text.isdigit():
            declared = int(text)
        elif re.fullmatch(r"[-+0-9.eE]+(,[-+0-9.eE]+)+", text):
            config = text
        else:
            comments.append(text)
    rows = [(i + 1, ln) for i, ln in enumerate(lines[col + 1 :], start=col + 1) if ln.strip()]
    if not rows:
        raise FileFormatError("no data rows after the column names", path, col + 1)
    delimiter = guess_delimiter([ln for _, ln in rows[:50]])
    if len(names) != len(split_fields(rows[0][1], delimiter)):
        names = lines[col].strip().strip('"').split()
    table = parse_rows(path, names, rows, delimiter)
    meta: dict[str, Any] = {"layout": layout or lines[0].strip().strip('"').lstrip("\ufeff")}
    if comments:
        meta["comments"] = comments
    if config:
        meta["configuration"] = config
    _declared(meta, declared, len(rows))
    temperature = temperature_from_comments(comments, meta)
    spectra = spectra_from_table(
        path, table, metadata=meta, temperature_K=temperature, split_cycles=False
    )
    return spectra, meta


def read_zview(path: str, lines: list[str]) -> list[ImpedanceSpectrum]:
    """All spectra of a ZView/ZPlot ``.z`` file (either layout)."""
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if first.startswith("ZPLOT2 ASCII"):
        return _read_zplot2(path, lines)
    return read_scribner_quoted(path, lines)[0]
