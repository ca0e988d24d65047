"""Trajectory readers: VASP XDATCAR, extended XYZ and LAMMPS text dumps in NumPy, the rest
through ASE.

:func:`open_trajectory` returns a :class:`~iondyn.md.frames.TrajectorySource` that streams
blocks of frames; nothing is read before the blocks are asked for, and a block is parsed in
one NumPy call. The three text formats are read here without any dependency (gzip-compressed
files too); ``vasprun.xml`` — and every format with ``backend = "ase"`` — goes through ASE
(:mod:`iondyn.md.readers_ase`, imported only then; LGPL-2.1, an optional extra).

A last frame cut short (a run killed while writing) is dropped with a warning; a frame
damaged anywhere else is an error naming the line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from iondyn.errors import FileFormatError, InputError
from iondyn.io.text import check_input_file
from iondyn.md.formats import FORMATS, detect_format, open_text
from iondyn.md.frames import FrameBlock, TrajectorySource
from iondyn.md.readers_lammps import lammps_source

__all__ = ["open_trajectory"]

_NO_LIMIT = 1 << 60


def open_trajectory(
    path: str | Path, format: str = "auto", backend: str = "auto"
) -> TrajectorySource:
    """A streaming source for the trajectory in ``path``.

    ``format``: ``auto`` (from the content) or one of xdatcar, vasprun, lammps-dump, extxyz;
    ``backend``: ``auto`` (NumPy readers where there is one, ASE for vasprun.xml), ``native``
    or ``ase``.
    """
    p = Path(path)
    check_input_file(p, _NO_LIMIT)
    if backend not in ("auto", "native", "ase"):
        raise InputError(f"unknown reader backend {backend!r} (auto, native, ase)", str(p))
    if format == "auto":
        found = detect_format(p)
        if found is None:
            raise FileFormatError(
                "not a trajectory iondyn recognises (XDATCAR, vasprun.xml, LAMMPS dump, "
                "extended XYZ); name the format",
                str(p),
            )
        format = found[0]
    elif format not in FORMATS:
        raise InputError(f"unknown trajectory format {format!r} ({', '.join(FORMATS)})", str(p))
    if backend == "ase" or (backend == "auto" and format == "vasprun"):
        from iondyn.md.readers_ase import ase_source

        return ase_source(p, format)
    if format == "vasprun":
        raise InputError("vasprun.xml is read through ASE: use backend = 'ase'", str(p))
    if format == "xdatcar":
        return _xdatcar_source(p)
    if format == "extxyz":
        return _extxyz_source(p)
    return lammps_source(p)


def parse_floats(
    lines: list[str], width: int, path: str, line_of: Callable[[int], int]
) -> np.ndarray:
    """(len(lines), width) floats; an error naming the first bad line (``line_of(k)``: the
    file's line number of ``lines[k]``)."""
    try:
        flat = np.array(" ".join(lines).split(), dtype=float)
    except ValueError:
        flat = None
    if flat is not None and flat.size == len(lines) * width:
        return flat.reshape(len(lines), width)
    for k, line in enumerate(lines):
        fields = line.split()
        ok = len(fields) == width and all(_is_number(x) for x in fields)
        if not ok:
            raise FileFormatError(
                f"expected {width} numbers, got {line.strip()[:60]!r}", path, line_of(k)
            )
    raise FileFormatError("unreadable coordinates", path, line_of(0))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------- XDATCAR


def _xdatcar_header(fh, path: str, line_no: int) -> tuple[np.ndarray, tuple[str, ...], int]:
    """Read one XDATCAR header (comment … counts); returns (cell, symbols, lines read)."""
    raw = [fh.readline() for _ in range(7)]
    if not raw[-1]:
        raise FileFormatError("truncated XDATCAR header", path, line_no)
    try:
        scale = float(raw[1].split()[0])
        cell = np.array([[float(x) for x in r.split()[:3]] for r in raw[2:5]])
    except (ValueError, IndexError):
        raise FileFormatError("bad lattice in the XDATCAR header", path, line_no + 1) from None
    if cell.shape != (3, 3):
        raise FileFormatError("bad lattice in the XDATCAR header", path, line_no + 2)
    if scale < 0:  # a negative scale is the cell volume
        scale = (-scale / abs(np.linalg.det(cell))) ** (1.0 / 3.0)
    cell = cell * scale
    names = raw[5].split()
    try:
        counts = [int(x) for x in raw[6].split()]
    except ValueError:
        raise FileFormatError("bad atom counts in the XDATCAR header", path, line_no + 6) from None
    if len(names) != len(counts) or not counts:
        raise FileFormatError("element symbols and counts do not match", path, line_no + 5)
    symbols = tuple(s.split("_")[0].split("/")[0] for s, c in zip(names, counts) for _ in range(c))
    return cell, symbols, 7


def _xdatcar_source(path: Path) -> TrajectorySource:
    where = str(path)
    with open_text(path) as fh:
        _, symbols, _ = _xdatcar_header(fh, where, 1)
    n = len(symbols)
    source = TrajectorySource(where, "xdatcar", symbols, lambda b: iter(()), "wrapped")

    def blocks(block_frames: int) -> Iterator[FrameBlock]:
        with open_text(path) as fh:
            cell, _, line_no = _xdatcar_header(fh, where, 1)
            frames = _Frames(n, where)
            try:
                while True:
                    head = fh.readline()
                    line_no += 1
                    if not head:
                        break
                    words = head.split()
                    if not words:
                        continue
                    if words[0].lower() not in ("direct", "cartesian"):
                        # a new header (variable-cell run); its comment line was just read
                        rest = [fh.readline() for _ in range(6)]
                        cell, again, _ = _xdatcar_header(
                            io.StringIO(head + "".join(rest)), where, line_no
                        )
                        if again != symbols:
                            raise FileFormatError("the atoms change between frames", where, line_no)
                        line_no += 6
                        continue
                    lines = [fh.readline() for _ in range(n)]
                    if not lines[-1].strip():
                        _truncated(source, frames.count, lines, n)
                        break
                    frames.add(lines, cell, line_no + 1, cartesian=words[0].lower() == "cartesian")
                    line_no += n
                    if frames.full(block_frames):
                        yield frames.pop()
            except EOFError:
                source.warnings.append(
                    "the compressed file ends early (truncated): the last frame is dropped"
                )
            if frames.rows:
                yield frames.pop()

    source.blocks = blocks
    return source


def _truncated(source: TrajectorySource, frame: int, lines: list[str], n: int) -> None:
    got = sum(1 for x in lines if x.strip())
    source.warnings.append(
        f"the last frame ({frame}) is incomplete ({got} of {n} atoms): dropped (truncated file)"
    )


class _Frames:
    """Lines of a block of frames waiting to be parsed in one call."""

    def __init__(self, n: int, where: str, columns: tuple[int, int] = (0, 3)):
        self.n, self.where, self.columns = n, where, columns
        self.rows: list[str] = []
        self.cells: list[np.ndarray] = []
        self.cartesian: list[bool] = []
        self.starts: list[int] = []
        self.count = 0

    def add(self, lines: list[str], cell: np.ndarray, line_no: int, cartesian: bool) -> None:
        self.starts.append(line_no)
        self.rows.extend(lines)
        self.cells.append(cell)
        self.cartesian.append(cartesian)
        self.count += 1

    def full(self, block_frames: int) -> bool:
        return len(self.cells) >= block_frames

    def pop(self) -> FrameBlock:
        a, b = self.columns
        rows = self.rows if (a, b) == (0, 3) else [" ".join(r.split()[a:b]) for r in self.rows]
        width = b - a
        starts, n = list(self.starts), self.n
        xyz = parse_floats(rows, width, self.where, lambda k: starts[k // n] + k % n)
        xyz = xyz.reshape(len(self.cells), self.n, 3)
        h = np.array(self.cells)
        frac = ~np.array(self.cartesian)
        if np.any(frac):
            xyz[frac] = np.einsum("fnk,fkl->fnl", xyz[frac], h[frac])
        self.rows, self.cells, self.cartesian, self.starts = [], [], [], []
        return FrameBlock(xyz, h)


# ------------------------------------------------------------------ extended XYZ

_KV = re.compile(r'(\w+)\s*=\s*("([^"]*)"|\S+)')


def _comment_info(line: str) -> dict[str, str]:
    return {
        m.group(1).lower(): (m.group(3) if m.group(3) is not None else m.group(2))
        for m in _KV.finditer(line)
    }


def _properties(info: dict[str, str], where: str, line_no: int) -> tuple[int, int, int]:
    """(number of columns, species column, first position column) from Properties=."""
    spec = info.get("properties", "species:S:1:pos:R:3")
    parts = spec.split(":")
    if len(parts) % 3:
        raise FileFormatError(f"bad Properties={spec!r}", where, line_no)
    col, species, pos = 0, None, None
    for name, _kind, count in zip(parts[0::3], parts[1::3], parts[2::3]):
        if name.lower() == "species":
            species = col
        if name.lower() == "pos":
            pos = col
        col += int(count)
    if species is None or pos is None:
        raise FileFormatError("Properties= names no species or pos column", where, line_no)
    return col, species, pos


def _extxyz_source(path: Path) -> TrajectorySource:
    where = str(path)
    with open_text(path) as fh:
        n = _atom_count(fh.readline(), where, 1)
        info = _comment_info(fh.readline())
        ncol, sc, pc = _properties(info, where, 2)
        first = [fh.readline().split() for _ in range(n)]
    if any(len(f) < ncol for f in first):
        raise FileFormatError(f"the first frame has fewer than {ncol} columns", where, 3)
    symbols = tuple(f[sc] for f in first)
    has_cell = "lattice" in info
    temp = _float_or_none(info.get("temperature") or info.get("temperature_k"))
    source = TrajectorySource(where, "extxyz", symbols, lambda b: iter(()), temperature_K=temp)
    if not has_cell:
        source.warnings.append("no Lattice= in the file: coordinates taken as unwrapped")
        source.coordinates = "unwrapped"

    def blocks(block_frames: int) -> Iterator[FrameBlock]:
        with open_text(path) as fh:
            line_no = 0
            frames = _Frames(n, where, (pc, pc + 3))
            try:
                while True:
                    count_line = fh.readline()
                    if not count_line.strip():
                        break
                    count = _atom_count(count_line, where, line_no + 1)
                    if count != n:
                        raise FileFormatError(
                            f"frame {frames.count} has {count} atoms, the first had {n}",
                            where,
                            line_no + 1,
                        )
                    info = _comment_info(fh.readline())
                    lines = [fh.readline() for _ in range(n)]
                    if not lines[-1].strip():
                        _truncated(source, frames.count, lines, n)
                        break
                    cell = _lattice(info, where, line_no + 2) if has_cell else np.eye(3) * 1e9
                    frames.add(lines, cell, line_no + 3, cartesian=True)
                    line_no += n + 2
                    if frames.full(block_frames):
                        yield frames.pop()
            except EOFError:
                source.warnings.append(
                    "the compressed file ends early (truncated): the last frame is dropped"
                )
            if frames.rows:
                yield frames.pop()

    source.blocks = blocks
    return source


def _atom_count(line: str, where: str, line_no: int) -> int:
    try:
        n = int(line.split()[0])
    except (ValueError, IndexError):
        raise FileFormatError(
            f"expected an atom count, got {line.strip()[:40]!r}", where, line_no
        ) from None
    if n <= 0:
        raise FileFormatError("the atom count must be positive", where, line_no)
    return n


def _lattice(info: dict[str, str], where: str, line_no: int) -> np.ndarray:
    try:
        cell = np.array([float(x) for x in info["lattice"].split()]).reshape(3, 3)
    except (KeyError, ValueError):
        raise FileFormatError("missing or bad Lattice= (9 numbers)", where, line_no) from None
    return cell


def _float_or_none(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None
