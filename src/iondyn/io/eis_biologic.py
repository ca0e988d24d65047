"""BioLogic EC-Lab / BT-Lab ``.mpt`` text exports.

Layout: ``EC-Lab ASCII FILE``, ``Nb header lines : N`` (N counts every header line including
the column names), a header of ``key : value`` lines and a fixed-width technique parameter block,
then the tab-separated column names (``freq/Hz``, ``Re(Z)/Ohm``, ``-Im(Z)/Ohm``, ``|Z|/Ohm``,
``Phase(Z)/deg``, ``time/s``, ``cycle number``, …) on line N and the data. Exports made without
the header start directly with the column names. ``-Im(Z)`` is negated to the physics
convention.

Several spectra in one file (loops, ``z cycle``) become several spectra: split on ``z cycle``
(else ``cycle number``) where it changes, then where the frequency sweep restarts. Rows with
frequency 0 (other techniques of a sequence in the same file) are skipped and counted.

Quirks handled: Windows-1252 ``µ``/``²`` in the header, no newline at the end, a trailing tab
on the column-name line, decimal commas (European locales), an ``Nb header lines`` count that
points at the wrong line (the column-name line is then searched for and a warning says so),
a column-name line with fewer names than the data have columns (an error: the columns cannot be
matched to their names), and one with a single name more than the data have columns. The
latter is read, with a warning in ``metadata["warnings"]``, only where the match is unambiguous:
the surplus name is empty (a doubled tab; it is dropped), or it is the last name, beyond the
data width, and the frequency and impedance columns all come before it (it is ignored). When
``|Z|``, ``Re(Z)`` and ``-Im(Z)`` are all there, |Z| = hypot(Re Z, Im Z) is then checked row by
row (to 0.1 %), so a name dropped at the wrong place is an error rather than shifted columns.
Surplus empty names at the end of the line (more tabs than EC-Lab's usual one) are ignored with
a warning.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError
from iondyn.io.eis_columns import find_columns
from iondyn.io.eis_common import Table, parse_float_or_none, spectra_from_table
from iondyn.io.eis_table import parse_rows, split_fields
from iondyn.io.text import parse_number

__all__ = ["biologic_metadata", "read_biologic_mpt", "sniff_biologic_mpt", "spectra_from_columns"]

_MAGIC = ("EC-Lab ASCII FILE", "BT-Lab ASCII FILE")
_NB_HEADER = re.compile(r"^\s*Nb header lines\s*:\s*(\d+)")
_PARAM = re.compile(r"^(\S[^:]{0,19}?)\s{2,}(\S.*?)\s*$")


def _is_column_line(line: str) -> bool:
    return "\t" in line and "freq/Hz" in line


def _looks_like_names(line: str) -> bool:
    """A tab-separated line whose first field is not a number (a column-name line)."""
    fields = split_fields(line, "\t")
    if "\t" not in line or not fields:
        return False
    try:
        parse_number(fields[0])
    except ValueError:
        return True
    return False


def sniff_biologic_mpt(lines: list[str]) -> bool:
    """EC-Lab/BT-Lab magic on line 1, or an export without header starting with its columns."""
    first = next((ln.strip() for ln in lines[:3] if ln.strip()), "")
    if first in _MAGIC:
        return True
    return _is_column_line(first) and ("Re(Z)/Ohm" in first or "|Z|/Ohm" in first)


def biologic_metadata(header: list[str]) -> tuple[dict[str, Any], str | None]:
    """Metadata and instrument name from the EC-Lab header lines (everything before the columns)."""
    meta: dict[str, Any] = {}
    info: dict[str, str] = {}
    params: dict[str, str] = {}
    for line in header[2:]:
        text = line.strip()
        if not text:
            continue
        if " : " in line or text.endswith(" :"):
            key, _, value = text.partition(":")
            info[key.strip()] = value.strip()
        elif text.endswith("Spectroscopy") or text.endswith("Impedance"):
            meta.setdefault("technique", text)
        elif text.endswith("(software)"):
            meta["software"] = text.removesuffix("(software)").strip()
        else:
            m = _PARAM.match(line)
            if m:
                params[m.group(1).strip()] = re.sub(r"\s{2,}", " | ", m.group(2))
    instrument = f"BioLogic {info['Device']}" if info.get("Device") else None
    for key, name in (
        ("Acquisition started on", "acquisition_start"),
        ("Run on channel", "channel"),
        ("Electrode material", "electrode_material"),
        ("Electrolyte", "electrolyte"),
        ("Comments", "comments"),
    ):
        if info.get(key):
            meta[name] = info[key]
    area = info.get("Electrode surface area", "")
    if area:
        value = parse_float_or_none(area.split()[0])
        meta["electrode_area_cm2"] = value if value is not None else area
    units = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "mHz": 1e-3, "µHz": 1e-6}
    for key, name in (("fi", "frequency_initial_Hz"), ("ff", "frequency_final_Hz")):
        value = parse_float_or_none(params.get(key, "").split(" | ")[0])
        unit = params.get(f"unit {key}", "").split(" | ")[0]
        if value is not None and unit in units:
            meta[name] = value * units[unit]
    for key, name in (("Va (mV)", "ac_amplitude_mV"), ("E (V)", "dc_potential_V")):
        value = parse_float_or_none(params.get(key, "").split(" | ")[0])
        if value is not None:
            meta[name] = value
    if params:
        meta["parameters"] = params
    if info:
        meta["header"] = info
    return meta, instrument


def spectra_from_columns(
    path: str, table: Table, meta: dict[str, Any], instrument: str | None
) -> list[ImpedanceSpectrum]:
    """BioLogic rules (skip frequency-0 rows, split on cycles and restarts) for .mpt and .mpr."""
    return spectra_from_table(
        path, table, metadata=meta, instrument=instrument, skip_zero_frequency=True
    )


def read_biologic_mpt(path: str, lines: list[str]) -> list[ImpedanceSpectrum]:
    """All spectra of an EC-Lab ``.mpt`` text export."""
    warnings: list[str] = []
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise FileFormatError("the file is empty", path)
    if lines[first].strip() in _MAGIC:
        m = _NB_HEADER.match(lines[first + 1]) if first + 1 < len(lines) else None
        if m is None:
            raise FileFormatError("EC-Lab file without 'Nb header lines' on line 2", path, 2)
        nb = int(m.group(1))
        col = first + nb - 1
        if col >= len(lines) or not _looks_like_names(lines[col]):
            found = next((i for i, ln in enumerate(lines[: col + 50]) if _is_column_line(ln)), None)
            if found is None:
                raise FileFormatError(
                    f"no column-name line with 'freq/Hz' (the header says {nb} header lines); "
                    "not an impedance export?",
                    path,
                )
            warnings.append(
                f"'Nb header lines : {nb}' points at line {col + 1}, but the column names are "
                f"on line {found + 1}; used those"
            )
            col = found
    else:
        col = first
    rows = [(i + 1, ln) for i, ln in enumerate(lines[col + 1 :], start=col + 1) if ln.strip()]
    if not rows:
        raise FileFormatError("the file has a column header but no data rows", path, col + 1)
    columns, fixed = _match_names(path, lines[col], col + 1, rows[0])
    table = parse_rows(path, columns, rows, "\t")
    if len(columns) != len(split_fields(lines[col], "\t")):
        _check_alignment(path, table, col + 1)  # a name was dropped: do the columns line up?
    warnings += fixed
    meta, instrument = biologic_metadata(lines[:col])
    meta["warnings"] = warnings
    return spectra_from_columns(path, table, meta, instrument)


def _trailing_empty(line: str) -> int:
    """Number of empty tab-separated fields at the end of ``line``."""
    fields = [f.strip() for f in line.split("\t")]
    n = 0
    while n < len(fields) - 1 and fields[-1 - n] == "":
        n += 1
    return n


def _impedance_columns_before(names: list[str], width: int) -> bool:
    """Frequency and Z (Re/Im, or |Z|/phase) columns all among the first ``width`` names."""
    try:
        found = find_columns(names)
    except FileFormatError:
        return False
    for group in (("frequency", "z_real", "z_imag"), ("frequency", "z_mod", "phase")):
        if all(r in found for r in group):
            return all(found[r][0] < width for r in group)
    return False


def _match_names(
    path: str, name_line: str, line_no: int, first_row: tuple[int, str]
) -> tuple[list[str], list[str]]:
    """Column names matched to the data width, and warnings; raises where it is ambiguous."""
    names = split_fields(name_line, "\t")
    n_data = len(split_fields(first_row[1], "\t"))
    where = f"the column-name line (line {line_no})"
    if len(names) == n_data:
        surplus = _trailing_empty(name_line) - _trailing_empty(first_row[1]) - 1
        if surplus > 0:
            return names, [
                f"{where} ends with {surplus} empty name(s) more than the data rows have "
                "columns (extra tabs); ignored"
            ]
        return names, []
    count = f"{where} names {len(names)} columns but the data rows have {n_data}"
    if len(names) == n_data + 1:
        empty = [j for j, name in enumerate(names) if not name]
        if len(empty) == 1:
            j = empty[0]
            return names[:j] + names[j + 1 :], [
                f"{count}; the empty name in field {j + 1} was dropped"
            ]
        if not empty and _impedance_columns_before(names, n_data):
            return names[:n_data], [
                f"{count}; the last name {names[-1]!r} has no data column and was ignored "
                "(the frequency and impedance columns come before it)"
            ]
    what = "missing" if n_data > len(names) else "extra"
    raise FileFormatError(
        f"{count}; a column name is {what} and the columns cannot be matched to their names",
        path,
        first_row[0],
    )


def _check_alignment(path: str, table: Table, line_no: int) -> None:
    """After a surplus name was dropped: |Z| must equal hypot(Re Z, Im Z) where all three exist."""
    cols = {name: j for j, name in enumerate(table.columns)}
    if not all(c in cols for c in ("|Z|/Ohm", "Re(Z)/Ohm", "-Im(Z)/Ohm")):
        return
    mod = table.data[:, cols["|Z|/Ohm"]]
    calc = np.hypot(table.data[:, cols["Re(Z)/Ohm"]], table.data[:, cols["-Im(Z)/Ohm"]])
    with np.errstate(invalid="ignore", divide="ignore"):
        bad = np.abs(calc - mod) > 1e-3 * np.abs(mod)
    if bad.any():
        raise FileFormatError(
            f"the column-name line (line {line_no}) does not match the data width, and after "
            "dropping the surplus name, '|Z|/Ohm' differs from hypot(Re(Z), Im(Z)): the columns "
            "cannot be matched to their names",
            path,
            int(table.lines[int(np.argmax(bad))]),
        )
