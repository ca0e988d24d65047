"""Unwrapping and bad input: mixed wrapped/unwrapped frames, tilted and changing cells,
volume jumps, non-finite values, spilling to disk."""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.errors import DataError, InputError
from iondyn.md.diffusion import DiffusionFitter
from iondyn.md.frames import array_source
from iondyn.md.simulate import lattice_walk, lattice_walk_source
from iondyn.md.trajectory import Trajectory, build_trajectory


def _walk(cell=None, frames=200):
    wrapped, cube = lattice_walk(12, frames, 0.2, box_sites=6, spacing_A=2.0, seed=7)
    frac = wrapped @ np.linalg.inv(cube)
    cell = cube if cell is None else cell
    return frac, cell


def test_wrapped_unwrapped_and_mixed_input_give_one_trajectory():
    frac, cell = _walk()
    wrapped = frac @ cell
    ref = Trajectory.from_arrays(wrapped, cell, 1.0, ["Li"] * 12, "Li")
    unwrapped = np.asarray(ref.positions)
    mixed = np.where((np.arange(200) % 3 == 0)[:, None, None], wrapped, unwrapped)
    for data in (unwrapped, mixed):
        t = Trajectory.from_arrays(data, cell, 1.0, ["Li"] * 12, "Li")
        assert np.allclose(t.positions - t.positions[:1], unwrapped - unwrapped[:1], atol=1e-9)
    # declared unwrapped, mixed frames jump by a cell vector: an error, not a silent D
    with pytest.raises(DataError, match="wrapped coordinates in an unwrapped trajectory"):
        Trajectory.from_arrays(mixed, cell, 1.0, ["Li"] * 12, "Li", coordinates="unwrapped")
    t = Trajectory.from_arrays(unwrapped, cell, 1.0, ["Li"] * 12, "Li", coordinates="unwrapped")
    assert np.allclose(t.positions, unwrapped)


def test_tilted_cell_gives_the_same_d_as_its_cube():
    """A strongly tilted cell (60° between a and b) holding the same fractional walk: the
    unwrapped steps are the hops mapped by the cell, D follows the mapped step variance."""
    frac, cube = _walk(frames=400)
    tilted = np.array([[12.0, 0.0, 0.0], [6.0, 10.392304845, 0.0], [0.0, 0.0, 12.0]])
    t = Trajectory.from_arrays(frac @ tilted, tilted, 1.0, ["Li"] * 12, "Li")
    c = Trajectory.from_arrays(frac @ cube, cube, 1.0, ["Li"] * 12, "Li")
    steps = np.diff(np.asarray(c.positions), axis=0) @ np.linalg.inv(cube) @ tilted
    assert np.allclose(np.diff(np.asarray(t.positions), axis=0), steps, atol=1e-9)


def test_npt_cell_scaling_is_not_diffusion():
    """Ions fixed in fractional coordinates of a breathing cell (±3 %): no drift of D."""
    rng = np.random.default_rng(3)
    frac = np.broadcast_to(rng.random((10, 3)), (300, 10, 3))
    scale = 1.0 + 0.03 * np.sin(np.arange(300) / 7.0)
    cells = np.eye(3)[None] * 10.0 * scale[:, None, None]
    pos = np.einsum("fnk,fkl->fnl", frac, cells)
    t = Trajectory.from_arrays(pos, cells, 1.0, ["Li"] * 10, "Li")
    assert np.max(np.abs(np.asarray(t.positions) - pos)) < 0.3 + 1e-9  # only the rescaling


def test_bad_cells_and_values():
    frac, cell = _walk(frames=20)
    pos = frac @ cell
    jump = np.broadcast_to(cell, (20, 3, 3)).copy()
    jump[10:] *= 1.2  # another run's cell from frame 10 on
    with pytest.raises(DataError, match=r"volume changes by 73 % between two consecutive frames"):
        Trajectory.from_arrays(pos, jump, 1.0, ["Li"] * 12, "Li")
    flat = np.broadcast_to(cell, (20, 3, 3)).copy()
    flat[5, 2] = flat[5, 1]
    with pytest.raises(DataError, match="cell of frame 5 is singular"):
        Trajectory.from_arrays(pos, flat, 1.0, ["Li"] * 12, "Li")
    bad = pos.copy()
    bad[7, 3, 1] = np.nan
    with pytest.raises(DataError, match="frame 7 has non-finite coordinates"):
        Trajectory.from_arrays(bad, cell, 1.0, ["Li"] * 12, "Li")
    with pytest.raises(InputError, match="coordinates must be one of"):
        Trajectory.from_arrays(pos, cell, 1.0, ["Li"] * 12, "Li", coordinates="maybe")


def test_unequal_frame_spacing_is_an_error():
    frac, cell = _walk(frames=10)
    src = array_source(frac @ cell, cell, ["Li"] * 12)
    inner = src.blocks

    def blocks(n):
        for b in inner(n):
            b.steps = np.array([0, 10, 20, 30, 45, 55, 65, 75, 85, 95])[: len(b)]
            yield b

    src.blocks = blocks
    with pytest.raises(DataError, match="not equally spaced"):
        build_trajectory(src, "Li", timestep_fs=1.0)


def test_spilled_to_disk_gives_the_same_answer(tmp_path):
    """Positions beyond the memory limit go to a temporary file (a memory map): same D."""
    src = lattice_walk_source(20, 600, 0.3, box_sites=8, seed=9)
    small = build_trajectory(src, "Li", frame_interval_fs=1000.0, memory_limit_mb=0.05,
                             block_frames=64, scratch_dir=str(tmp_path))  # fmt: skip
    big = build_trajectory(src, "Li", frame_interval_fs=1000.0, block_frames=64)
    assert small.on_disk and not big.on_disk
    assert isinstance(small.positions, np.memmap)
    a, b = DiffusionFitter(chunk_mb=0.1).fit(small), DiffusionFitter().fit(big)
    assert a.D_cm2_per_s == pytest.approx(b.D_cm2_per_s, rel=1e-10)
    assert a.D_sigma_cm2_per_s == pytest.approx(b.D_sigma_cm2_per_s, rel=1e-10)
