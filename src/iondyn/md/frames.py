"""Blocks of frames: what every trajectory reader yields, and a trajectory source in memory.

A reader streams a trajectory as :class:`FrameBlock` objects of at most ``block_frames``
frames each, so a trajectory larger than memory is never held whole: Cartesian positions (Å)
as stored in the file, the cell of every frame (rows a, b, c in Å) and, when the file has
them, the MD step numbers of the frames. :class:`TrajectorySource` is the reader's other half:
the atom symbols, the file's own metadata (temperature, MD time step, whether the
coordinates are wrapped) and the warnings found while reading (a truncated last frame).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FrameBlock", "TrajectorySource", "array_source"]


@dataclass
class FrameBlock:
    """``positions`` (B, N, 3) Å, ``cells`` (B, 3, 3) Å, ``steps`` (B,) MD step numbers or
    ``None``."""

    positions: np.ndarray
    cells: np.ndarray
    steps: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.positions.shape[0])


@dataclass
class TrajectorySource:
    """A trajectory as a stream of blocks.

    ``symbols``: one per atom (element symbols, or LAMMPS type numbers as text);
    ``blocks(block_frames)``: iterator of :class:`FrameBlock`; ``coordinates``: ``wrapped``,
    ``unwrapped`` or ``unknown`` as the file says; ``timestep_fs``: the MD time step when
    the file gives it; ``frame_interval_fs``: the time between stored frames when the file
    gives it; ``temperature_K``: the thermostat temperature when the file gives it;
    ``warnings``: filled while the blocks are read.
    """

    path: str | None
    format: str
    symbols: tuple[str, ...]
    blocks: Callable[[int], Iterator[FrameBlock]]
    coordinates: str = "unknown"
    timestep_fs: float | None = None
    frame_interval_fs: float | None = None
    temperature_K: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def n_atoms(self) -> int:
        return len(self.symbols)


def array_source(
    positions: np.ndarray,
    cells: np.ndarray,
    symbols: list[str] | tuple[str, ...],
    *,
    coordinates: str = "unknown",
    frame_interval_fs: float | None = None,
    temperature_K: float | None = None,
) -> TrajectorySource:
    """A :class:`TrajectorySource` over arrays in memory: ``positions`` (F, N, 3) Å,
    ``cells`` (3, 3) for a fixed cell or (F, 3, 3)."""
    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise ValueError("positions must have shape (frames, atoms, 3)")
    h = np.asarray(cells, dtype=float)
    if h.shape == (3, 3):
        h = np.broadcast_to(h, (pos.shape[0], 3, 3))
    if h.shape != (pos.shape[0], 3, 3):
        raise ValueError("cells must have shape (3, 3) or (frames, 3, 3)")

    def blocks(block_frames: int) -> Iterator[FrameBlock]:
        for start in range(0, pos.shape[0], block_frames):
            stop = start + block_frames
            yield FrameBlock(pos[start:stop], np.array(h[start:stop]))

    return TrajectorySource(
        None,
        "arrays",
        tuple(str(s) for s in symbols),
        blocks,
        coordinates=coordinates,
        frame_interval_fs=frame_interval_fs,
        temperature_K=temperature_K,
    )
