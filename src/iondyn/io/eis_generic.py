"""Generic CSV/TXT impedance tables: named columns in any order, or three bare columns.

What is understood:

* delimiters: comma, semicolon, tab, whitespace; decimal commas (``1,5;2,3`` or quoted
  ``"1,5","2,3"``); comment lines starting with ``#``, ``%``, ``!`` or ``//`` (a commented
  line just above the data may hold the column names, as ``numpy.savetxt`` writes them);
* column names in any order (:mod:`iondyn.io.eis_columns`): frequency in Hz/kHz/MHz or angular
  frequency in rad/s; Z' and Z'' in Ω/kΩ/MΩ/mΩ, or |Z| and phase (degrees unless the unit says
  rad); a leading ``-`` (``-Z''``, ``-Im(Z)``, ``-Phase``) means the column holds the negative;
  an optional line of units under the names (``Hz, Ohm, Ohm``);
* several blocks (separated by blank lines or a repeated header) and sweeps that restart in
  one block become several spectra; a cycle/spectrum column splits them too;
* a file without column names: three columns are f, Z', Z''; more columns are accepted only
  when the fourth is |Z| = hypot(Z', Z'') (f, Z', Z'', |Z|, phase, … as CH Instruments writes).
  The sign of Z'' is then detected: a capacitive system has Z'' < 0 at the low-frequency end,
  so when most values of the lower half of the frequencies are positive the column holds −Z''
  and is flipped. ``metadata["z_imag_sign"]`` (``"as-read"``/``"flipped"``) and
  ``metadata["z_imag_sign_reason"]`` report the decision. With named columns the names decide;
  a plain ``Z''`` column that looks like −Z'' is read as written, with a warning.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError
from iondyn.io.eis_columns import KNOWN_UNITS, find_columns
from iondyn.io.eis_common import (
    Table,
    fraction_positive_low_frequency,
    spectra_from_table,
)
from iondyn.io.eis_table import parse_rows, split_fields
from iondyn.io.eis_temperature import temperature_from_comments
from iondyn.io.text import guess_delimiter, parse_number

__all__ = ["data_blocks", "read_generic", "sniff_generic", "table_delimiter"]

_COMMENT = ("#", "%", "!", "//")


def _n_numeric(fields: list[str]) -> int:
    n = 0
    for f in fields:
        try:
            parse_number(f)
            n += 1
        except ValueError:
            if f == "":
                n += 1
    return n


def _is_data(line: str, delimiter: str | None) -> bool:
    fields = split_fields(line, delimiter)
    n = _n_numeric(fields)
    return n >= 2 and 2 * n > len(fields)


def _starts_with_number(line: str) -> bool:
    first = re.split(r"[\t;,\s]+", line.strip().strip('"'), maxsplit=1)[0].strip('"')
    try:
        parse_number(first)
    except ValueError:
        return False
    return True


def table_delimiter(lines: list[str]) -> str | None:
    """The delimiter most data lines agree on (tab, semicolon, comma), else whitespace.

    Unlike :func:`iondyn.io.text.guess_delimiter` a minority of odd lines (a header, one
    malformed row) does not change the answer, so the malformed row can be reported by line.
    """
    body = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith(_COMMENT)]
    numeric = [ln for ln in body if _starts_with_number(ln)]
    sample = (numeric or body)[-50:]
    if not sample:
        return None
    for delim in ("\t", ";", ","):
        counts = [ln.count(delim) for ln in sample]
        mode = max(set(counts), key=counts.count)
        if mode > 0 and 2 * counts.count(mode) > len(counts):
            if delim == ",":  # "1,5 2,3" is decimal commas between blanks, not a comma table
                return guess_delimiter([ln for ln in sample if ln.count(",") == mode])
            return delim
    return guess_delimiter(sample)


def data_blocks(lines: list[str], delimiter: str | None) -> list[dict[str, Any]]:
    """Runs of data rows, each with the text lines (headers, comments) seen before it."""
    blocks: list[dict[str, Any]] = []
    pending: list[tuple[int, str, bool]] = []
    current: dict[str, Any] | None = None
    for i, line in enumerate(lines):
        text = line.strip()
        if not text:
            if current is not None:
                blocks.append(current)
                current = None
            continue
        comment = text.startswith(_COMMENT)
        if not comment and _is_data(line, delimiter):
            if current is None:
                current = {"headers": pending, "rows": []}
                pending = []
            current["rows"].append((i + 1, line))
            continue
        if current is not None:
            blocks.append(current)
            current = None
        pending.append((i + 1, text.lstrip("#%!/").strip() if comment else line, comment))
    if current is not None:
        blocks.append(current)
    return blocks


def _is_unit_line(fields: list[str]) -> bool:
    units = [f.strip("()[] ") for f in fields]
    return bool(units) and all(u in KNOWN_UNITS or u in ("", "#", "-") for u in units)


def _names(
    path: str, headers: list[tuple[int, str, bool]], width: int, delimiter: str | None
) -> list[str] | None:
    """Column names for a block of ``width`` columns, from the text lines above it."""
    candidates = [h for h in headers if not h[2]] or headers
    if not candidates:
        return None
    lineno, text, comment = candidates[-1]
    fields = split_fields(text, delimiter)
    if _is_unit_line(fields) and len(candidates) > 1:
        names = split_fields(candidates[-2][1], delimiter)
        if len(names) == len(fields) == width:
            return [
                f"{n} ({u.strip('()[] ')})" if u.strip("()[] ") else n
                for n, u in zip(names, fields)
            ]
    named = _impedance_names_line(headers, width, delimiter)
    if named is not None:
        return named
    if len(fields) != width and delimiter is None:
        fields = [f for f in re.split(r"\s{2,}|\t", text.strip()) if f] or fields
    known = find_columns(fields)
    if len(fields) == width and (known or not comment):
        return fields
    if "frequency" in known or "z_real" in known or "z_mod" in known:
        raise FileFormatError(
            f"the column header names {len(fields)} columns but the data rows have {width}",
            path,
            lineno,
        )
    return None  # a title line, not column names


def _impedance_names_line(
    headers: list[tuple[int, str, bool]], width: int, delimiter: str | None
) -> list[str] | None:
    """The nearest header line above the data (not only the last one: exports such as
    RelaxIS put a metadata line between the names and the rows) that names ``width`` columns
    including a frequency and an impedance pair."""
    for _, text, _ in reversed(headers):
        fields = split_fields(text, delimiter)
        if len(fields) != width:
            continue
        try:
            found = find_columns(fields)
        except FileFormatError:
            continue
        has_z = ("z_real" in found and "z_imag" in found) or ("z_mod" in found and "phase" in found)
        if has_z and ("frequency" in found or "angular_frequency" in found):
            return fields
    return None


def _headerless(path: str, table: Table, meta: dict[str, Any]) -> Table:
    """Name the columns of a headerless block and decide the sign of Z''."""
    width = table.data.shape[1]
    names = ["f (Hz)", "Z' (ohm)", "Z'' (ohm)"]
    if width > 3:
        zr, zi, zm = table.data[:, 1], table.data[:, 2], table.data[:, 3]
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            rel = np.abs(np.hypot(zr, zi) - np.abs(zm)) / np.maximum(np.abs(zm), 1e-300)
        rel = rel[np.isfinite(rel)]
        if not (rel.size and np.median(rel) < 0.01):
            raise FileFormatError(
                f"a file without column names must have 3 columns (f, Z', Z''), or f, Z', Z'', "
                f"|Z|, …; this one has {width} and its 4th column is not |Z|. Add a header line",
                path,
                int(table.lines[0]),
            )
        names += ["|Z| (ohm)"] + (["phase (deg)"] if width > 4 else [])
        names += [f"column {j + 1}" for j in range(len(names), width)]
    share = fraction_positive_low_frequency(table.data[:, 0], table.data[:, 2])
    if share > 0.5:
        names[2] = "-Z'' (ohm)"
        meta["z_imag_sign"] = "flipped"
        meta["z_imag_sign_reason"] = (
            f"no column names; the 3rd column is positive at {share:.0%} of the lower-frequency "
            "half, where a capacitive Z'' is negative, so it holds -Z'' and was negated"
        )
        if width > 4:
            names[4] = "-phase (deg)"
    else:
        meta["z_imag_sign"] = "as-read"
        meta["z_imag_sign_reason"] = (
            f"no column names; the 3rd column is negative at {1 - share:.0%} of the "
            "lower-frequency half (capacitive), so it is Z''"
        )
    meta["columns_assumed"] = names[: min(width, 5)]
    return Table(names, table.data, table.lines)


def sniff_generic(lines: list[str]) -> bool:
    """At least three numeric columns somewhere in the file."""
    delimiter = table_delimiter(lines)
    return any(
        len(b["rows"]) >= 1 and _width(b, delimiter) >= 3 for b in data_blocks(lines, delimiter)
    )


def _width(block: dict[str, Any], delimiter: str | None) -> int:
    return len(split_fields(block["rows"][0][1], delimiter))


def _has_columns(text: str, delimiter: str | None) -> bool:
    try:
        return bool(find_columns(split_fields(text, delimiter)))
    except FileFormatError:
        return True


def read_generic(path: str, lines: list[str]) -> list[ImpedanceSpectrum]:
    """All spectra of a generic delimited impedance table."""
    delimiter = table_delimiter(lines)
    blocks = data_blocks(lines, delimiter)
    if not blocks:
        raise FileFormatError("no numeric data rows (not an impedance table?)", path)
    spectra: list[ImpedanceSpectrum] = []
    names: list[str] | None = None
    comments = [t for b in blocks for _, t, _ in b["headers"] if not _has_columns(t, delimiter)]
    for block in blocks:
        width = _width(block, delimiter)
        names = _names(path, block["headers"], width, delimiter) or (
            names if names and len(names) == width else None
        )
        meta: dict[str, Any] = {
            "delimiter": {None: "whitespace", "\t": "tab"}.get(delimiter, delimiter)
        }
        if names is None:
            if width < 3:
                raise FileFormatError(
                    f"only {width} numeric columns; an impedance table needs f, Z', Z''",
                    path,
                    block["rows"][0][0],
                )
            table = _headerless(
                path, parse_rows(path, ["c"] * width, block["rows"], delimiter), meta
            )
        else:
            table = parse_rows(path, names, block["rows"], delimiter)
            found = find_columns(names)
            if "z_imag" in found and not found["z_imag"][1].negated and "frequency" in found:
                f = table.data[:, found["frequency"][0]]
                share = fraction_positive_low_frequency(f, table.data[:, found["z_imag"][0]])
                if share > 0.5:
                    meta["warnings"] = [
                        f"column {names[found['z_imag'][0]]!r} is positive at {share:.0%} of the "
                        "lower-frequency half; if it holds -Z'', name it '-Z''' (read as written)"
                    ]
        temperature = temperature_from_comments(comments, meta) if comments else None
        if comments:
            meta["comments"] = comments[:20]
        spectra += spectra_from_table(path, table, metadata=meta, temperature_K=temperature)
    for k, s in enumerate(spectra):
        s.index = k
    return spectra
