"""Content sniffing: which impedance format a file is, and which kind of data it holds.

* :func:`detect_impedance_format` looks at the content (magic lines, column names, section
  tags), never only at the extension: a Gamry table renamed ``.txt`` is still Gamry. The
  extension is a hint used only when no content rule matches (then the reader of that format
  explains what is wrong with the file).
* :func:`sniff_kind` tells the pipeline whether a file is an impedance spectrum, a TSDC curve
  or a peak spectrum. The impedance part is complete; the TSDC/peaks part is a first rule
  (a temperature-like first column name → TSDC, any other numeric table → peaks) for the
  pipeline to refine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from iondyn.errors import FileFormatError
from iondyn.io.eis_autolab import sniff_autolab
from iondyn.io.eis_biologic import sniff_biologic_mpt
from iondyn.io.eis_biologic_mpr import sniff_biologic_mpr
from iondyn.io.eis_chi import sniff_chi
from iondyn.io.eis_columns import find_columns
from iondyn.io.eis_common import split_lines
from iondyn.io.eis_gamry import sniff_gamry
from iondyn.io.eis_generic import data_blocks, sniff_generic, table_delimiter
from iondyn.io.eis_parstat import sniff_parstat
from iondyn.io.eis_powersuite import sniff_powersuite
from iondyn.io.eis_table import split_fields
from iondyn.io.eis_versastudio import sniff_versastudio
from iondyn.io.eis_zview import sniff_zview
from iondyn.io.text import decode, is_binary, read_bytes

__all__ = ["EXTENSION_HINTS", "detect_impedance_format", "sniff_kind"]

#: Content rules for text formats, most specific first.
TEXT_SNIFFERS: list[tuple[str, Callable[[list[str]], bool]]] = [
    ("gamry", sniff_gamry),
    ("biologic-mpt", sniff_biologic_mpt),
    ("versastudio", sniff_versastudio),
    ("autolab", sniff_autolab),
    ("zview", sniff_zview),
    ("chi", sniff_chi),
    ("parstat", sniff_parstat),
    ("powersuite", sniff_powersuite),
]

#: Extension → format, consulted only when no content rule matches.
EXTENSION_HINTS = {
    ".dta": "gamry",
    ".mpt": "biologic-mpt",
    ".mpr": "biologic-mpr",
    ".z": "zview",
    ".par": "versastudio",
}

#: How much of a file the sniffers look at (lines).
SNIFF_LINES = 400


def _load(path_or_text: str | Path | bytes) -> tuple[bytes | None, list[str] | None, str]:
    """(raw bytes or None, decoded lines or None for binary, file name or '')."""
    if isinstance(path_or_text, bytes):
        data, name = path_or_text, ""
    elif isinstance(path_or_text, Path) or (
        "\n" not in path_or_text and len(path_or_text) < 4096 and Path(path_or_text).is_file()
    ):
        data, name = read_bytes(path_or_text), Path(path_or_text).name
    else:
        return None, split_lines(path_or_text.lstrip("\ufeff")), ""
    if sniff_biologic_mpr(data) or is_binary(data):
        return data, None, name
    return data, split_lines(decode(data)), name


def detect_lines(lines: list[str], name: str = "") -> str | None:
    """The format of already decoded lines (see :func:`detect_impedance_format`)."""
    head = lines[:SNIFF_LINES]
    for fmt, sniff in TEXT_SNIFFERS:
        if sniff(head):
            return fmt
    if sniff_generic(head):
        return "generic"
    return EXTENSION_HINTS.get(Path(name).suffix.lower()) if name else None


def detect_impedance_format(path_or_text: str | Path | bytes) -> str | None:
    """The impedance format name of a file (path), its text, or its bytes; ``None`` if unknown.

    A ``str`` is taken as a path when it names an existing file and has no newline, otherwise
    as file content. Names are those of :func:`iondyn.io.impedance.list_impedance_formats`.
    Raises :class:`~iondyn.errors.FileFormatError` only when a path cannot be read.
    """
    data, lines, name = _load(path_or_text)
    if data is not None and sniff_biologic_mpr(data):
        return "biologic-mpr"
    if lines is None:
        # binary but not an .mpr: only an .mpr name is worth handing to a reader (to explain)
        return "biologic-mpr" if Path(name).suffix.lower() == ".mpr" else None
    return detect_lines(lines, name)


_TEMPERATURE_NAME = re.compile(
    r"^\s*(t|temp|temperature)\b|\((k|°c|c)\)|\[(k|°c|c)\]|/\s*(k|°c)$", re.IGNORECASE
)


def sniff_kind(path: str | Path) -> str | None:
    """``"impedance"``, ``"tsdc"``, ``"peaks"`` or ``None`` (not a data file iondyn knows).

    Impedance: any recognised instrument format, a table with frequency and impedance columns,
    or a headerless table of ≥ 3 columns whose first column is positive and spans ≥ 2 decades.
    TSDC: a numeric table whose first column name is temperature-like (``T``, ``Temp``,
    ``Temperature [C]``, ``T (K)``). Peaks: any other table of ≥ 2 numeric columns.
    """
    data, lines, _ = _load(Path(path))
    if data is not None and sniff_biologic_mpr(data):
        return "impedance"
    if not lines:
        return None
    fmt = detect_lines(lines)
    if fmt not in (None, "generic"):
        return "impedance"
    delimiter = table_delimiter(lines)
    blocks = data_blocks(lines, delimiter)
    if not blocks:
        return None
    first = blocks[0]
    header = [t for _, t, comment in first["headers"] if not comment][-1:] or [
        t for _, t, _ in first["headers"]
    ][-1:]
    names = split_fields(header[0], delimiter) if header else []
    width = len(split_fields(first["rows"][0][1], delimiter))
    if names:
        try:
            found = find_columns(names)
        except FileFormatError:  # an ambiguous unit still means an impedance header
            return "impedance"
        has_f = "frequency" in found or "angular_frequency" in found
        has_z = ("z_real" in found and "z_imag" in found) or ("z_mod" in found and "phase" in found)
        if has_f and has_z:
            return "impedance"
        if _TEMPERATURE_NAME.search(names[0]):
            return "tsdc"
    elif width >= 3:
        x = [split_fields(ln, delimiter)[0] for _, ln in first["rows"]]
        try:
            values = [float(v.replace(",", ".")) for v in x]
        except ValueError:
            values = []
        if values and min(values) > 0 and max(values) / min(values) >= 100:
            return "impedance"
    return "peaks" if width >= 2 else None
