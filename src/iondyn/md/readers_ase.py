"""Trajectories read through ASE (``ase.io.iread``): vasprun.xml and any format ASE knows.

ASE (the Atomic Simulation Environment, LGPL-2.1; Larsen et al., J. Phys.: Condens. Matter
29, 273002 (2017)) is an optional extra: it is imported here, only when such a file is read,
and its absence is a one-line error saying how to install it. Frames are streamed by
``iread`` and grouped into blocks. From a ``vasprun.xml`` the MD time step (POTIM, every
ionic step is stored there) and the thermostat temperature (TEBEG) are taken from the
``<incar>``/``<parameters>`` head of the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from iondyn.errors import FileFormatError
from iondyn.md.formats import head_text
from iondyn.md.frames import FrameBlock, TrajectorySource

__all__ = ["ase_source", "require_ase"]

_ASE_FORMATS = {
    "xdatcar": "vasp-xdatcar",
    "vasprun": "vasp-xml",
    "lammps-dump": "lammps-dump-text",
    "extxyz": "extxyz",
}


def require_ase(path: str | None = None):
    """The ``ase.io`` module, or a one-line :class:`FileFormatError` when ASE is missing."""
    try:
        import ase.io
    except ImportError:
        raise FileFormatError(
            "reading this trajectory needs ASE, which is not installed "
            "(pip install ase; LGPL-2.1, the 'md' extra)",
            path,
        ) from None
    return ase.io


def _incar_value(head: str, name: str) -> float | None:
    m = re.search(rf'<i\s+(?:type="\w+"\s+)?name="{name}">\s*([-+0-9.eE]+)\s*</i>', head)
    return float(m.group(1)) if m else None


def ase_source(path: Path, format: str) -> TrajectorySource:
    where = str(path)
    aseio = require_ase(where)
    fmt = _ASE_FORMATS.get(format, format)
    try:
        first = next(aseio.iread(where, index=":", format=fmt))
    except StopIteration:
        raise FileFormatError("no frames", where) from None
    except Exception as exc:  # ASE raises many types for a bad file
        first_line = (str(exc).splitlines() or [""])[0][:120]
        raise FileFormatError(
            f"ASE cannot read it ({type(exc).__name__}: {first_line})", where
        ) from None
    symbols = tuple(first.get_chemical_symbols())
    source = TrajectorySource(where, format, symbols, lambda b: iter(()))
    if format == "vasprun":
        head = head_text(path, 1 << 20)
        source.timestep_fs = _incar_value(head, "POTIM")
        source.frame_interval_fs = source.timestep_fs
        source.temperature_K = _incar_value(head, "TEBEG")

    def blocks(block_frames: int) -> Iterator[FrameBlock]:
        pos, cells = [], []
        frames = aseio.iread(where, index=":", format=fmt)
        k = 0
        while True:
            try:
                atoms = next(frames)
            except StopIteration:
                break
            except Exception as exc:  # a damaged frame: keep what was read, say so
                source.warnings.append(
                    f"reading stopped at frame {k} ({type(exc).__name__}: "
                    f"{(str(exc).splitlines() or [''])[0][:80]}): "
                    "the frames after it are dropped (truncated file?)"
                )
                break
            if tuple(atoms.get_chemical_symbols()) != symbols:
                raise FileFormatError(f"the atoms change at frame {k}", where)
            pos.append(atoms.get_positions(wrap=False))
            cells.append(np.array(atoms.cell.array, dtype=float))
            k += 1
            if len(pos) == block_frames:
                yield FrameBlock(np.array(pos), np.array(cells))
                pos, cells = [], []
        if pos:
            yield FrameBlock(np.array(pos), np.array(cells))

    source.blocks = blocks
    return source
