"""Unwrapped trajectories of one species, built from a stream of frames in bounded memory.

:func:`build_trajectory` reads a :class:`~iondyn.md.frames.TrajectorySource` block by block,
unwraps every atom across the periodic boundaries (:mod:`iondyn.md.unwrap`, also under
a changing or tilted cell), removes the drift of the framework (the centre of mass of the atoms
of the other species, as kinisi and pymatgen's DiffusionAnalyzer do) and keeps the unwrapped
positions of the chosen species only. Those are kept in memory up to ``memory_limit_mb`` and
spilled to an anonymous temporary file beyond (read back as a memory map), so a trajectory of
10⁵ frames × 10³ ions never has to fit in memory.

Coordinates (``coordinates``):

* ``auto`` (default) — unwrap every step by the minimum image (TOR scheme); wrapped,
  unwrapped and mixed input give the same trajectory as long as no ion moves more than half
  a cell width between two stored frames;
* ``wrapped`` — the same;
* ``unwrapped`` — taken as they are; a step of more than half a cell between two frames is
  then an error (wrapped frames mixed into an unwrapped trajectory).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iondyn.display.summary import Displayable
from iondyn.errors import DataError, InputError
from iondyn.md.frames import TrajectorySource
from iondyn.md.unwrap import (
    STEP_WARN_FRACTION,
    check_cells,
    largest_step_fraction,
    unwrap_block,
)

__all__ = ["COORDINATES", "Trajectory", "build_trajectory"]

COORDINATES = ("auto", "wrapped", "unwrapped")

_FS_PER_PS = 1000.0


@dataclass(repr=False)
class Trajectory(Displayable):
    """Unwrapped, drift-corrected positions of one species.

    ``positions``: (F, N, 3) Å (an array, or a read-only memory map for long trajectories);
    ``cells``: (F, 3, 3) Å; ``frame_interval_ps``: time between frames; ``drift``: (F, 3) Å,
    the framework displacement that was removed (zeros when there is no framework).
    """

    positions: np.ndarray
    cells: np.ndarray
    frame_interval_ps: float
    species: str
    n_atoms_total: int
    temperature_K: float | None = None
    source: str | None = None
    format: str = "arrays"
    drift: np.ndarray | None = None
    largest_step: float = 0.0
    warnings: list[str] = field(default_factory=list)
    on_disk: bool = False

    @property
    def n_frames(self) -> int:
        return int(self.positions.shape[0])

    @property
    def n_ions(self) -> int:
        return int(self.positions.shape[1])

    @property
    def duration_ps(self) -> float:
        return (self.n_frames - 1) * self.frame_interval_ps

    @property
    def volumes_A3(self) -> np.ndarray:
        return np.abs(np.linalg.det(self.cells))

    @property
    def mean_volume_A3(self) -> float:
        return float(np.mean(self.volumes_A3))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "species": self.species,
            "n_frames": self.n_frames,
            "n_ions": self.n_ions,
            "n_atoms_total": self.n_atoms_total,
            "frame_interval_ps": self.frame_interval_ps,
            "duration_ps": self.duration_ps,
            "mean_volume_A3": self.mean_volume_A3,
            "temperature_K": self.temperature_K,
            "largest_step_fraction": self.largest_step,
            "drift_max_A": None if self.drift is None else float(np.max(np.abs(self.drift))),
            "on_disk": self.on_disk,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_arrays(
        cls,
        positions: np.ndarray,
        cells: np.ndarray,
        frame_interval_ps: float,
        symbols: list[str] | tuple[str, ...],
        species: str,
        **kwargs: Any,
    ) -> Trajectory:
        """The NumPy path: ``positions`` (F, N, 3) Å, ``cells`` (3, 3) or (F, 3, 3), one
        symbol per atom; keywords as :func:`build_trajectory` (``coordinates``,
        ``drift_correction``, ``temperature_K``)."""
        from iondyn.md.frames import array_source

        source = array_source(positions, cells, symbols)
        return build_trajectory(
            source, species, frame_interval_fs=frame_interval_ps * _FS_PER_PS, **kwargs
        )

    def _summary(self) -> Any:
        from iondyn.display.views_results import trajectory_summary

        return trajectory_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """⟨|r(t) − r(0)|²⟩ of the species against time: a first look before the MSD
        analysis (:class:`~iondyn.md.diffusion.DiffusionFitter`). Returns the axes."""
        from iondyn.display.views_results import trajectory_plot

        return trajectory_plot(self, ax)

    def to_dataframe(self) -> Any:
        """Per frame: ``time_ps``, ``volume_A3`` and ``displacement_from_start_A2``."""
        import pandas as pd

        from iondyn.display.views_results import displacement_from_start

        return pd.DataFrame(
            {
                "time_ps": np.arange(self.n_frames) * self.frame_interval_ps,
                "volume_A3": self.volumes_A3,
                "displacement_from_start_A2": displacement_from_start(self),
            }
        )


class _Spill:
    """Frames-major storage that stays in memory up to a limit, then goes to a temp file."""

    def __init__(self, n_ions: int, limit_bytes: int, scratch_dir: str | None):
        self.n_ions = n_ions
        self.limit = limit_bytes
        self.dir = scratch_dir
        self.parts: list[np.ndarray] = []
        self.nbytes = 0
        self.file = None
        self.frames = 0

    def add(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=np.float64)
        self.frames += block.shape[0]
        if self.file is not None:
            self.file.write(block.tobytes())
            return
        self.parts.append(block)
        self.nbytes += block.nbytes
        if self.nbytes > self.limit:
            self.file = tempfile.TemporaryFile(dir=self.dir)
            for part in self.parts:
                self.file.write(part.tobytes())
            self.parts = []

    def array(self) -> np.ndarray:
        if self.file is None:
            if not self.parts:
                return np.zeros((0, self.n_ions, 3))
            return np.concatenate(self.parts, axis=0)
        self.file.flush()
        return np.memmap(self.file, dtype=np.float64, mode="r", shape=(self.frames, self.n_ions, 3))


def _select(symbols: tuple[str, ...], species: str, where: str | None) -> np.ndarray:
    idx = np.array([i for i, s in enumerate(symbols) if s == species], dtype=int)
    if idx.size == 0:
        present = ", ".join(sorted(set(symbols)))
        raise InputError(f"no {species!r} atoms in the trajectory (it holds {present})", where)
    return idx


def build_trajectory(
    source: TrajectorySource,
    species: str,
    *,
    frame_interval_fs: float | None = None,
    timestep_fs: float | None = None,
    coordinates: str = "auto",
    drift_correction: bool = True,
    temperature_K: float | None = None,
    block_frames: int = 1024,
    memory_limit_mb: float = 1024.0,
    scratch_dir: str | None = None,
    max_frames: int | None = None,
) -> Trajectory:
    """Read ``source`` once and return the unwrapped :class:`Trajectory` of ``species``.

    The time between frames is ``frame_interval_fs`` if given, else the file's, else
    ``timestep_fs`` × the step difference of the file's step numbers; frames must be equally
    spaced. ``max_frames`` stops after that many frames.
    """
    where = source.path
    if coordinates not in COORDINATES:
        raise InputError(f"coordinates must be one of {', '.join(COORDINATES)}", where)
    selected = _select(source.symbols, species, where)
    others = np.setdiff1d(np.arange(source.n_atoms), selected)
    mode = coordinates
    if mode == "auto":
        mode = "unwrapped" if source.coordinates == "unwrapped" else "wrapped"
    store = _Spill(selected.size, int(memory_limit_mb * 2**20), scratch_dir)
    cells_parts, drift_parts, step_parts = [], [], []
    last_w = last_u = None
    origin_framework = None
    prev_volume = None
    largest = 0.0
    n_read = 0
    for block in source.blocks(block_frames):
        if max_frames is not None and n_read >= max_frames:
            break
        if max_frames is not None and n_read + len(block) > max_frames:
            keep = max_frames - n_read
            block.positions, block.cells = block.positions[:keep], block.cells[:keep]
            block.steps = None if block.steps is None else block.steps[:keep]
        pos = np.asarray(block.positions, dtype=float)
        if pos.ndim != 3 or pos.shape[1:] != (source.n_atoms, 3):
            raise DataError(f"frame {n_read} does not hold {source.n_atoms} atoms", where)
        if not np.all(np.isfinite(pos)):
            bad = int(np.argwhere(~np.isfinite(pos).all(axis=(1, 2)))[0, 0]) + n_read
            raise DataError(f"frame {bad} has non-finite coordinates", where)
        problem = check_cells(block.cells, prev_volume, n_read)
        if problem is not None:
            raise DataError(problem, where)
        prev_volume = float(abs(np.linalg.det(block.cells[-1])))
        if mode == "wrapped":
            unwrapped, step = unwrap_block(pos, block.cells, last_w, last_u)
            last_w, last_u = pos[-1], unwrapped[-1]
        else:
            joined = pos if last_u is None else np.concatenate([last_u[None], pos])
            cells = (
                block.cells
                if last_u is None
                else np.concatenate([cells_parts[-1][-1:], block.cells])
            )
            step = largest_step_fraction(joined, cells)
            if step > 0.5:
                raise DataError(
                    f"an atom jumps by {step:.2f} of a cell vector between two frames within "
                    f"frames {n_read - 1}–{n_read + len(block) - 1}: wrapped coordinates in an "
                    "unwrapped trajectory (mixed input); read it with coordinates = 'auto'",
                    where,
                )
            unwrapped, last_u = pos, pos[-1]
        largest = max(largest, step)
        if drift_correction and others.size:
            com = unwrapped[:, others, :].mean(axis=1)
            if origin_framework is None:
                origin_framework = com[0].copy()
            drift = com - origin_framework
        else:
            drift = np.zeros((len(block), 3))
        store.add(unwrapped[:, selected, :] - drift[:, None, :])
        cells_parts.append(np.asarray(block.cells, dtype=float))
        drift_parts.append(drift)
        if block.steps is not None:
            step_parts.append(np.asarray(block.steps))
        n_read += len(block)
    if n_read == 0:
        raise DataError("no frames in the trajectory", where)
    if n_read < 2:
        raise DataError("a single frame: a displacement needs at least two frames", where)
    steps = np.concatenate(step_parts) if len(step_parts) == len(cells_parts) else None
    interval = _frame_interval(source, steps, frame_interval_fs, timestep_fs, where)
    warnings = list(source.warnings)
    if largest > STEP_WARN_FRACTION and mode == "wrapped":
        warnings.append(
            f"an ion moves {largest:.2f} of a cell vector between two stored frames: frames may "
            "be too far apart to unwrap reliably (a step beyond 0.5 cannot be told from a jump "
            "through the boundary)"
        )
    return Trajectory(
        positions=store.array(),
        cells=np.concatenate(cells_parts),
        frame_interval_ps=interval / _FS_PER_PS,
        species=species,
        n_atoms_total=source.n_atoms,
        temperature_K=temperature_K if temperature_K is not None else source.temperature_K,
        source=source.path,
        format=source.format,
        drift=np.concatenate(drift_parts),
        largest_step=largest,
        warnings=warnings,
        on_disk=store.file is not None,
    )


def _frame_interval(source, steps, frame_interval_fs, timestep_fs, where) -> float:
    if frame_interval_fs is not None:
        if not frame_interval_fs > 0:
            raise InputError("frame_interval_fs must be positive", where)
        return float(frame_interval_fs)
    dt = timestep_fs if timestep_fs is not None else source.timestep_fs
    if steps is not None and dt is not None:
        diff = np.diff(steps)
        if diff.size and (np.any(diff <= 0) or np.any(diff != diff[0])):
            k = int(np.argmax(diff != diff[0])) if np.any(diff != diff[0]) else 0
            raise DataError(
                f"frames are not equally spaced in time (MD steps {steps[k]}, {steps[k + 1]}, "
                f"{steps[k + 2] if k + 2 < steps.size else '…'}): the MSD needs a constant "
                "frame interval",
                where,
            )
        return float(diff[0] * dt) if diff.size else float(dt)
    if source.frame_interval_fs is not None:
        return float(source.frame_interval_fs)
    raise InputError(
        "the time between frames is unknown: give frame_interval_fs (--frame-interval-fs), or "
        "timestep_fs (--timestep-fs) for a file with step numbers",
        where,
    )
