"""Content sniffing: which impedance format a file is, and which kind of data it holds.

* :func:`detect_impedance_format` looks at the content (magic lines, column names, section
  tags), never only at the extension: a Gamry table renamed ``.txt`` is still Gamry. The
  extension is a hint used only when no content rule matches (then the reader of that format
  explains what is wrong with the file).
* :func:`sniff_kind` tells whether a file is an impedance spectrum, a TSDC curve, a peak
  spectrum or a spectrum image; the scoring of every kind lives in :mod:`iondyn.io.sniff`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from iondyn.io.eis_autolab import sniff_autolab
from iondyn.io.eis_biologic import sniff_biologic_mpt
from iondyn.io.eis_biologic_mpr import sniff_biologic_mpr
from iondyn.io.eis_chi import sniff_chi
from iondyn.io.eis_common import split_lines
from iondyn.io.eis_gamry import sniff_gamry
from iondyn.io.eis_generic import sniff_generic
from iondyn.io.eis_novocontrol import sniff_novocontrol
from iondyn.io.eis_parstat import sniff_parstat
from iondyn.io.eis_powersuite import sniff_powersuite
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
    ("novocontrol", sniff_novocontrol),
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


def sniff_kind(path: str | Path) -> str | None:
    """The kind of data in ``path`` (see :func:`iondyn.io.sniff.sniff_kind`)."""
    from iondyn.io.sniff import sniff_kind as _sniff_kind

    return _sniff_kind(path)
