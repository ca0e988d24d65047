"""Which trajectory format a file holds, from its first few kilobytes.

Recognised (score, reason): LAMMPS text dump (``ITEM: TIMESTEP`` first, 1.0), VASP
vasprun.xml (an XML ``<modeling>`` document, 0.95 for molecular dynamics — IBRION = 0 —
else 0.9), VASP XDATCAR (lattice, symbols and counts followed by
``Direct configuration=``, 1.0), extended XYZ (an atom count, then a comment line with
``Lattice="…"``, 0.95) and plain XYZ without a cell (0.5: readable, but nothing says how to
unwrap it). Gzip-compressed files (``.gz``) are looked into. Only the head is read, so a
trajectory of many gigabytes is recognised at once.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

__all__ = ["FORMATS", "detect_format", "head_text", "open_text"]

#: Formats :func:`iondyn.md.readers.open_trajectory` knows.
FORMATS = ("xdatcar", "vasprun", "lammps-dump", "extxyz")

_HEAD_BYTES = 65536
_NUM = r"[-+]?(\d+\.?\d*|\.\d+)([eEdD][-+]?\d+)?"
_THREE = re.compile(rf"^\s*{_NUM}\s+{_NUM}\s+{_NUM}\s*$")
_ONE = re.compile(rf"^\s*{_NUM}\s*$")
_INTS = re.compile(r"^\s*\d+(\s+\d+)*\s*$")
_SYMBOLS = re.compile(r"^\s*[A-Z][a-z]?(_\w+)?(/\w+)?(\s+[A-Z][a-z]?(_\w+)?(/\w+)?)*\s*$")
_CONFIG = re.compile(r"^\s*(direct|cartesian)\s+configuration\s*=?\s*\d+\s*$", re.I)


def open_text(path: str | Path):
    """A text stream of ``path`` (gzip-decompressed for ``.gz`` or gzip magic)."""
    p = Path(path)
    with open(p, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(p, "rt", encoding="utf-8", errors="replace")
    return open(p, encoding="utf-8", errors="replace")


def head_text(path: str | Path, n_bytes: int = _HEAD_BYTES) -> str:
    """The first ``n_bytes`` characters of the (decompressed) text, '' when unreadable."""
    parts: list[str] = []
    try:
        with open_text(path) as fh:
            while sum(map(len, parts)) < n_bytes:
                chunk = fh.read(4096)
                if not chunk:
                    break
                parts.append(chunk)
    except (OSError, EOFError, UnicodeError):  # a cut gzip stream: keep what was read
        pass
    return "".join(parts)[:n_bytes]


def detect_format(path: str | Path, text: str | None = None) -> tuple[str, float, str] | None:
    """``(format, score, reason)`` of the trajectory ``path`` holds, or ``None``."""
    head = head_text(path) if text is None else text
    if "\x00" in head[:4096]:
        return None
    lines = head.splitlines()[:64]
    if not lines:
        return None
    if lines[0].strip() == "ITEM: TIMESTEP":
        return "lammps-dump", 1.0, "LAMMPS dump (ITEM: TIMESTEP)"
    start = head.lstrip()[:2048]
    if start.startswith("<?xml") and "<modeling>" in start:
        md = re.search(r'<i\s+(type="int"\s+)?name="IBRION">\s*0\s*</i>', head)
        if md:
            return "vasprun", 0.95, "VASP vasprun.xml of a molecular-dynamics run (IBRION = 0)"
        return "vasprun", 0.9, "VASP vasprun.xml (ionic steps)"
    xdat = _xdatcar(lines)
    if xdat:
        return "xdatcar", 1.0, "VASP XDATCAR (lattice, counts, 'Direct configuration=')"
    if len(lines) >= 3 and re.fullmatch(r"\s*\d+\s*", lines[0]) and int(lines[0]) > 0:
        atom = lines[2].split()
        if len(atom) >= 4 and re.fullmatch(r"[A-Za-z][a-z]?\w*", atom[0]):
            if 'lattice="' in lines[1].lower():
                return "extxyz", 0.95, 'extended XYZ (atom count, Lattice="…")'
            return "extxyz", 0.5, "XYZ without a cell (cannot be unwrapped)"
    return None


def _xdatcar(lines: list[str]) -> bool:
    if len(lines) < 8 or not _ONE.match(lines[1]):
        return False
    if not all(_THREE.match(x) for x in lines[2:5]):
        return False
    if _SYMBOLS.match(lines[5]) and _INTS.match(lines[6]):
        return bool(_CONFIG.match(lines[7]))
    return bool(_INTS.match(lines[5]) and _CONFIG.match(lines[6]))  # VASP 4: no symbols
