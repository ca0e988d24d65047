"""LAMMPS text dumps (``dump atom`` / ``dump custom``), streamed in blocks.

Every frame is ``ITEM: TIMESTEP``, ``ITEM: NUMBER OF ATOMS``, ``ITEM: BOX BOUNDS`` (with
``xy xz yz`` for a tilted box) and ``ITEM: ATOMS`` with named columns. Coordinates, in order of
preference: unwrapped ``xu yu zu`` (or scaled ``xsu ysu zsu``); wrapped ``x y z`` or ``xs ys zs``
plus image flags ``ix iy iz`` (unwrapped with them); wrapped without image flags (unwrapped here
by the minimum image). Atoms are sorted by ``id`` in every frame (dumps need not be). Symbols
come from an ``element`` column when there is one, else the ``type`` numbers as text ("1",
"2", …): choose the species by its type then. Times: the TIMESTEP values × ``timestep_fs``.

Tilted boxes follow the LAMMPS documentation ("Triclinic (non-orthogonal) simulation boxes"):
the bounds given are those of the bounding box, xlo = xlo_bound − min(0, xy, xz, xy + xz),
xhi = xhi_bound − max(0, xy, xz, xy + xz), ylo = ylo_bound − min(0, yz),
yhi = yhi_bound − max(0, yz), and a = (xhi − xlo, 0, 0), b = (xy, yhi − ylo, 0),
c = (xz, yz, zhi − zlo).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from iondyn.errors import FileFormatError
from iondyn.md.formats import open_text
from iondyn.md.frames import FrameBlock, TrajectorySource

__all__ = ["lammps_source"]


class _Frame:
    __slots__ = ("atoms", "box", "cols", "line", "rows", "step")


def _read_frame(fh, where: str, line_no: int) -> tuple[_Frame | None, int, bool]:
    """One frame, the next line number and whether the file ended inside the frame."""
    line = fh.readline()
    while line and not line.strip():
        line, line_no = fh.readline(), line_no + 1
    if not line:
        return None, line_no, False
    if line.strip() != "ITEM: TIMESTEP":
        raise FileFormatError(
            f"expected 'ITEM: TIMESTEP', got {line.strip()[:40]!r}", where, line_no + 1
        )
    f = _Frame()
    head = [fh.readline() for _ in range(8)]
    if not head[-1]:
        return None, line_no, True
    try:
        f.step = int(head[0].split()[0])
        f.atoms = int(head[2].split()[0])
    except (ValueError, IndexError):
        raise FileFormatError("bad TIMESTEP or NUMBER OF ATOMS", where, line_no + 2) from None
    if not head[3].startswith("ITEM: BOX BOUNDS") or not head[7].startswith("ITEM: ATOMS"):
        raise FileFormatError("expected the BOX BOUNDS and ATOMS items", where, line_no + 4)
    try:
        f.box = np.array([[float(x) for x in r.split()] for r in head[4:7]])
    except ValueError:
        raise FileFormatError("bad BOX BOUNDS", where, line_no + 5) from None
    f.cols = head[7].split()[2:]
    f.line = line_no + 10
    f.rows = [fh.readline() for _ in range(f.atoms)]
    ended = f.atoms > 0 and not f.rows[-1].strip()
    return f, line_no + 9 + f.atoms, ended


def _cell(box: np.ndarray, where: str, line: int) -> np.ndarray:
    if box.shape == (3, 2):
        lo, hi = box[:, 0], box[:, 1]
        return np.diag(hi - lo)
    if box.shape != (3, 3):
        raise FileFormatError("BOX BOUNDS must have 2 or 3 numbers per line", where, line)
    xy, xz, yz = box[0, 2], box[1, 2], box[2, 2]
    xlo = box[0, 0] - min(0.0, xy, xz, xy + xz)
    xhi = box[0, 1] - max(0.0, xy, xz, xy + xz)
    ylo = box[1, 0] - min(0.0, yz)
    yhi = box[1, 1] - max(0.0, yz)
    return np.array([[xhi - xlo, 0.0, 0.0], [xy, yhi - ylo, 0.0], [xz, yz, box[2, 1] - box[2, 0]]])


_KINDS = (
    (("xu", "yu", "zu"), False, True),
    (("xsu", "ysu", "zsu"), True, True),
    (("x", "y", "z"), False, False),
    (("xs", "ys", "zs"), True, False),
)


def _layout(
    cols: list[str], where: str, line: int
) -> tuple[list[int], bool, bool, list[int] | None]:
    for names, scaled, unwrapped in _KINDS:
        if all(n in cols for n in names):
            images = None
            if not unwrapped and all(n in cols for n in ("ix", "iy", "iz")):
                images = [cols.index(n) for n in ("ix", "iy", "iz")]
            return [cols.index(n) for n in names], scaled, unwrapped, images
    raise FileFormatError(
        "the ATOMS item has no coordinate columns (x y z, xu yu zu, xs ys zs)", where, line
    )


def lammps_source(path: Path) -> TrajectorySource:
    where = str(path)
    with open_text(path) as fh:
        first, _, _ = _read_frame(fh, where, 0)
    if first is None or first.atoms <= 0:
        raise FileFormatError("no complete frame", where, 1)
    cols = first.cols
    if "id" not in cols:
        raise FileFormatError("the ATOMS item has no id column", where, first.line - 1)
    idx, _, unwrapped, images = _layout(cols, where, first.line - 1)
    table = [r.split() for r in first.rows]
    order = np.argsort([int(r[cols.index("id")]) for r in table])
    name_col = (
        cols.index("element")
        if "element" in cols
        else cols.index("type")
        if "type" in cols
        else None
    )
    if name_col is None:
        raise FileFormatError("the ATOMS item has neither element nor type", where, first.line - 1)
    symbols = tuple(table[k][name_col] for k in order)
    n = len(symbols)
    known = "unwrapped" if unwrapped or images is not None else "wrapped"
    source = TrajectorySource(where, "lammps-dump", symbols, lambda b: iter(()), known)

    def parse(frames: list[_Frame]) -> FrameBlock:
        out = np.empty((len(frames), n, 3))
        cells = np.empty((len(frames), 3, 3))
        steps = np.empty(len(frames), dtype=np.int64)
        for k, f in enumerate(frames):
            if f.cols != cols:
                raise FileFormatError("the ATOMS columns change between frames", where, f.line - 1)
            if f.atoms != n:
                raise FileFormatError(
                    f"a frame has {f.atoms} atoms, the first had {n}", where, f.line - 2
                )
            try:
                data = np.array(" ".join(f.rows).split(), dtype=float).reshape(n, len(cols))
            except ValueError:
                raise FileFormatError(
                    "bad numbers in the ATOMS rows (a frame is damaged)", where, f.line
                ) from None
            data = data[np.argsort(data[:, cols.index("id")], kind="stable")]
            h = _cell(f.box, where, f.line - 5)
            xyz = data[:, idx]
            if scaled_cols:
                xyz = xyz @ h
            if images is not None:
                xyz = xyz + data[:, images] @ h
            out[k], cells[k], steps[k] = xyz, h, f.step
        return FrameBlock(out, cells, steps)

    scaled_cols = _layout(cols, where, 0)[1]

    def blocks(block_frames: int) -> Iterator[FrameBlock]:
        with open_text(path) as fh:
            line_no, frames = 0, []
            try:
                while True:
                    f, line_no, ended = _read_frame(fh, where, line_no)
                    if ended:
                        source.warnings.append(
                            f"the last frame (MD step {getattr(f, 'step', '?')}) is incomplete: "
                            "dropped (truncated file)"
                        )
                        break
                    if f is None:
                        break
                    frames.append(f)
                    if len(frames) == block_frames:
                        yield parse(frames)
                        frames = []
            except EOFError:
                source.warnings.append(
                    "the compressed file ends early (truncated): last frame dropped"
                )
            if frames:
                yield parse(frames)

    source.blocks = blocks
    return source
