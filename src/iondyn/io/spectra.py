"""Readers for peak spectra: two-column files and matrix files.

Layouts understood:

* two columns x, y — whitespace, tab, comma or semicolon separated, with or without a header
  (column names, units), decimal point or decimal comma (``1,5;2,3`` or ``1,5 2,3``);
* a matrix — first column x, one further column per spectrum (a series, a map); header names
  become the spectra's labels.

Lines starting with ``#`` or ``%`` are comments. Header lines are the non-numeric lines before
the first numeric row; after it every line must be numeric with the same number of columns
(otherwise the error names the line). Rows with a missing or NaN value are dropped from the
spectrum concerned and reported in ``metadata["warnings"]``; infinite values and magnitudes
beyond :data:`VALUE_MAX` (10²⁰) are an error naming the line.

**Axis names and units** come from the header (:func:`parse_axis_header`): ``BE/eV``,
``Binding Energy (eV)``, ``E [eV]`` give a name and a unit, the abbreviations ``BE``/``KE``/``PE``
are spelled out (binding / kinetic / photon energy). The x column's name and unit go to
``metadata["x_name"]`` and ``x_unit``; the y column's header names the y axis only when it
is an intensity-like quantity (``counts``, ``CPS``, ``intensity``, ``Intensity (counts)``,
``signal``, ``absorbance``), otherwise it is the spectrum's ``label`` (a sample name such as
``InPET_C1s``) and ``metadata["y_name"]`` stays unset. A file that says nothing (no header)
leaves both empty: plots then fall back to ``x`` and ``intensity``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from iondyn.data import Spectrum, SpectrumSet
from iondyn.errors import DataError, FileFormatError
from iondyn.io.text import guess_delimiter, parse_number, read_lines

__all__ = ["parse_axis_header", "quantity_name", "read_spectra"]

_COMMENT = ("#", "%", "!")

#: Largest accepted magnitude of an axis or intensity value: far beyond any count rate or
#: energy, and small enough that sums of squares stay finite in the fits.
VALUE_MAX = 1e20


#: Spelled-out names of axis quantities (keys lower case).
_QUANTITIES = {
    "be": "binding energy",
    "binding energy": "binding energy",
    "binding": "binding energy",
    "ke": "kinetic energy",
    "kinetic energy": "kinetic energy",
    "pe": "photon energy",
    "photon energy": "photon energy",
    "energy": "energy",
    "energy loss": "energy loss",
    "raman shift": "Raman shift",
    "wavenumber": "wavenumber",
    "wavelength": "wavelength",
    "intensity": "intensity",
    "counts": "counts",
    "cps": "counts/s",
    "counts/s": "counts/s",
    "c/s": "counts/s",
}
#: Headers of a y column that name a quantity rather than a sample.
_Y_QUANTITIES = {"intensity", "counts", "counts/s", "signal", "absorbance", "transmittance"}
_UNIT_BRACKETS = re.compile(r"^(?P<name>.*?)\s*[(\[](?P<unit>[^()\[\]]+)[)\]]\s*$")
_UNIT_SLASH = re.compile(r"^(?P<name>[^/]*[^/\s])\s*/\s*(?P<unit>[^/\s]{1,12})$")


def quantity_name(text: str) -> str:
    """``text`` with the usual abbreviations spelled out (``BE`` → ``binding energy``) and the
    usual quantity names in lower case; anything else unchanged."""
    t = " ".join(text.split())
    return _QUANTITIES.get(t.lower(), t)


def parse_axis_header(text: str) -> tuple[str, str]:
    """(name, unit) of a column header: ``BE/eV`` → (binding energy, eV), ``Binding Energy
    (eV)`` → (binding energy, eV), ``counts`` → (counts, ''), ``x`` → (x, '')."""
    t = text.strip().strip('"').strip("'").strip()
    if t.lower() in _QUANTITIES:
        return quantity_name(t), ""
    m = _UNIT_BRACKETS.match(t) or _UNIT_SLASH.match(t)
    if m and m.group("name").strip():
        return quantity_name(m.group("name")), m.group("unit").strip()
    return quantity_name(t), ""


def _y_axis(text: str) -> tuple[str, str] | None:
    """(name, unit) when a y header names an intensity-like quantity (with or without a unit),
    ``None`` when it is a label (``InPET_C1s``, ``Ar/O2``, ``sample (annealed)``)."""
    name, unit = parse_axis_header(text)
    return (name, unit) if name.lower() in _Y_QUANTITIES else None


def _fields(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    return [f.strip() for f in line.rstrip(delimiter).split(delimiter)]


def _parse_row(fields: list[str]) -> list[float]:
    out = []
    for f in fields:
        if f == "":
            out.append(float("nan"))
        else:
            out.append(parse_number(f))
    return out


def read_spectra(path: str | Path, x_unit: str = "", y_unit: str = "") -> SpectrumSet:
    """Read a two-column or matrix spectrum file into a :class:`SpectrumSet`.

    ``x_unit``/``y_unit`` given here win over the units found in the header.

    Raises :class:`FileFormatError` (naming the file and line) when the file is empty, has a
    single column, or has text inside the numeric block, and :class:`DataError` for infinite
    values, non-monotonic or duplicate x.
    """
    src = str(path)
    lines = read_lines(path)
    body = [
        (i + 1, ln)
        for i, ln in enumerate(lines)
        if ln.strip() and not ln.lstrip().startswith(_COMMENT)
    ]
    if not body:
        raise FileFormatError("the file holds no data (only comments or blank lines)", src)
    delimiter = guess_delimiter([ln for _, ln in body[-50:]])
    header: list[str] = []
    rows: list[list[float]] = []
    width: int | None = None
    first_line = None
    for lineno, line in body:
        fields = _fields(line, delimiter)
        try:
            values = _parse_row(fields)
        except ValueError:
            if not rows:
                header = fields
                continue
            raise FileFormatError(
                f"text in a numeric column ({line.strip()[:40]!r})", src, line=lineno
            ) from None
        if width is None:
            width = len(values)
            first_line = lineno
        elif len(values) != width:
            raise FileFormatError(
                f"expected {width} columns like line {first_line}, found {len(values)}",
                src,
                line=lineno,
            )
        rows.append(values)
    if not rows:
        raise FileFormatError("no numeric rows found", src)
    data = np.asarray(rows, dtype=float)
    if data.shape[1] < 2:
        raise FileFormatError(
            "only one column: a spectrum needs x and y columns", src, line=first_line
        )
    if np.any(np.isinf(data)):
        r = int(np.nonzero(np.isinf(data).any(axis=1))[0][0])
        raise DataError("infinite value in the data", src, line=body_line(body, first_line, r))
    with np.errstate(invalid="ignore"):
        huge = np.abs(data) > VALUE_MAX
    if huge.any():
        r = int(np.nonzero(huge.any(axis=1))[0][0])
        raise DataError(
            f"value beyond ±{VALUE_MAX:g} (corrupted file or wrong unit?)",
            src,
            line=body_line(body, first_line, r),
        )
    x_all = data[:, 0]
    named = len(header) == data.shape[1]
    labels = header[1:] if named else None
    x_name, header_x_unit = parse_axis_header(header[0]) if named else ("", "")
    x_unit = x_unit or header_x_unit
    spectra = []
    for j in range(1, data.shape[1]):
        y = data[:, j]
        keep = np.isfinite(x_all) & np.isfinite(y)
        meta: dict = {"column": j}
        unit_j = y_unit
        if labels is not None:
            meta["label"] = labels[j - 1]
            y_axis = _y_axis(labels[j - 1])
            if y_axis is not None:
                meta["y_name"] = y_axis[0]
                unit_j = unit_j or y_axis[1]
        if x_name:
            meta["x_name"] = x_name
            meta["x_header"] = header[0]
        if not keep.all():
            meta["warnings"] = [f"dropped {int((~keep).sum())} row(s) with missing or NaN values"]
        if keep.sum() == 0:
            raise DataError(f"column {j + 1} has no finite values", src)
        spectra.append(Spectrum(x_all[keep], y[keep], None, src, j - 1, x_unit, unit_j, meta))
    return SpectrumSet(spectra)


def body_line(body: list[tuple[int, str]], first_line: int | None, row: int) -> int | None:
    """File line number of numeric row ``row`` (0-based) of the data block."""
    numeric = [n for n, _ in body if first_line is not None and n >= first_line]
    return numeric[row] if row < len(numeric) else None
