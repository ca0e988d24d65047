"""Readers for peak spectra: two-column files and matrix files.

Layouts understood:

* two columns x, y — whitespace, tab, comma or semicolon separated, with or without a header
  (column names, units), decimal point or decimal comma (``1,5;2,3`` or ``1,5 2,3``);
* a matrix — first column x, one further column per spectrum (a series, a map); header names
  become the spectra's labels.

Lines starting with ``#`` or ``%`` are comments. Header lines are the non-numeric lines before
the first numeric row; after it every line must be numeric with the same number of columns
(otherwise the error names the line). Rows with a missing or NaN value are dropped from the
spectrum concerned and reported in ``metadata["warnings"]``; infinite values are an error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iondyn.data import Spectrum, SpectrumSet
from iondyn.errors import DataError, FileFormatError
from iondyn.io.text import guess_delimiter, parse_number, read_lines

__all__ = ["read_spectra"]

_COMMENT = ("#", "%", "!")


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
    x_all = data[:, 0]
    labels = header[1:] if len(header) == data.shape[1] else None
    x_name = header[0] if len(header) == data.shape[1] else ""
    spectra = []
    for j in range(1, data.shape[1]):
        y = data[:, j]
        keep = np.isfinite(x_all) & np.isfinite(y)
        meta: dict = {"column": j}
        if labels is not None:
            meta["label"] = labels[j - 1]
        if x_name:
            meta["x_name"] = x_name
        if not keep.all():
            meta["warnings"] = [f"dropped {int((~keep).sum())} row(s) with missing or NaN values"]
        if keep.sum() == 0:
            raise DataError(f"column {j + 1} has no finite values", src)
        spectra.append(Spectrum(x_all[keep], y[keep], None, src, j - 1, x_unit, y_unit, meta))
    return SpectrumSet(spectra)


def body_line(body: list[tuple[int, str]], first_line: int | None, row: int) -> int | None:
    """File line number of numeric row ``row`` (0-based) of the data block."""
    numeric = [n for n, _ in body if first_line is not None and n >= first_line]
    return numeric[row] if row < len(numeric) else None
