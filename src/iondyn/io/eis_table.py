"""Delimited data rows → :class:`~iondyn.io.eis_common.Table`, with errors naming the line.

Shared by the readers of column-oriented exports (BioLogic, Parstat, CH Instruments,
PowerSuite, VersaStudio, Autolab NOVA, generic CSV/TXT). Fields are split on the delimiter
(quotes respected for ``,`` and ``;``; runs of whitespace for ``None``); a trailing delimiter
is ignored; an empty field is a missing value (NaN). Values in impedance columns (frequency,
Z', Z'', |Z|, phase, cycle, temperature, time) must be numbers — anything else is an error
naming the line and column; other columns may hold text (status flags) and are then NaN.
"""

from __future__ import annotations

import csv

import numpy as np

from iondyn.errors import FileFormatError
from iondyn.io.eis_columns import classify_column
from iondyn.io.eis_common import Table
from iondyn.io.text import guess_delimiter, parse_number

__all__ = ["parse_rows", "split_fields", "table_after_header"]


def split_fields(line: str, delimiter: str | None) -> list[str]:
    """Fields of one line, stripped, without the empty field a trailing delimiter makes."""
    if delimiter is None:
        return line.split()
    if delimiter in ",;" and '"' in line:
        fields = next(csv.reader([line], delimiter=delimiter))
    else:
        fields = line.split(delimiter)
    fields = [f.strip() for f in fields]
    while fields and fields[-1] == "" and len(fields) > 1:
        fields.pop()
    return fields


def parse_rows(
    path: str,
    columns: list[str],
    rows: list[tuple[int, str]],
    delimiter: str | None,
    *,
    what: str = "data row",
) -> Table:
    """Parse ``rows`` (1-based line number, text) into a table with ``columns``.

    A row with a different number of fields than there are columns is an error naming the line
    (the column header does not describe the data, or the file is truncated).
    """
    width = len(columns)
    strict = []
    for name in columns:
        try:
            strict.append(classify_column(name) is not None)
        except FileFormatError:
            strict.append(True)
    data = np.full((len(rows), width), np.nan)
    for r, (lineno, text) in enumerate(rows):
        fields = split_fields(text, delimiter)
        if len(fields) != width:
            hint = " (truncated file?)" if r == len(rows) - 1 and len(fields) < width else ""
            raise FileFormatError(
                f"{what} has {len(fields)} fields but the column header names {width}{hint}",
                path,
                lineno,
            )
        for j, token in enumerate(fields):
            if token == "":
                continue
            try:
                data[r, j] = parse_number(token)
            except ValueError:
                if strict[j]:
                    raise FileFormatError(
                        f"column {columns[j]!r}: not a number ({token[:30]!r})", path, lineno
                    ) from None
    return Table(list(columns), data, np.array([ln for ln, _ in rows], dtype=int))


def table_after_header(
    path: str, lines: list[str], header: int, delimiter: str | None = "auto"
) -> Table:
    """The column names on line index ``header`` and every non-blank line after it.

    ``delimiter="auto"`` guesses it from the data rows (:func:`iondyn.io.text.guess_delimiter`).
    """
    rows = [(i + 1, ln) for i, ln in enumerate(lines[header + 1 :], start=header + 1) if ln.strip()]
    if not rows:
        raise FileFormatError("column header but no data rows", path, header + 1)
    if delimiter == "auto":
        delimiter = guess_delimiter([ln for _, ln in rows[:50]])
    columns = split_fields(lines[header].lstrip("\ufeff"), delimiter)
    return parse_rows(path, columns, rows, delimiter)
