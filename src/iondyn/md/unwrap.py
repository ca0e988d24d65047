r"""Unwrapping across periodic boundaries, also for cells that change (NPT) or are tilted.

Wrapped coordinates jump by a lattice vector when an ion crosses the cell boundary. With
cell matrix H_t (rows a, b, c in Å) and wrapped Cartesian positions w_t, the unwrapped
trajectory follows the "toroidal-view-preserving" (TOR) scheme of Bullerjahn, von Bülow,
Heidari, Hénin & Hummer, J. Chem. Theory Comput. 19, 3406 (2023), which is correct under a
changing cell:

.. math::

    u_{t+1} = u_t + \Delta w - \mathrm{round}(\Delta w\, H_{t+1}^{-1})\, H_{t+1},
    \qquad \Delta w = w_{t+1} - w_t .

The step is reduced in the *new* frame's fractional coordinates, so an ion that is carried
by a barostat's rescaling is not given spurious jumps. Coordinates that are already unwrapped
(or a mixture of wrapped and unwrapped frames) pass through unchanged, because their jumps
are whole lattice vectors or zero. The scheme requires every true step between stored frames
to be shorter than half a cell width; :func:`largest_step_fraction` measures how close a
trajectory comes (reported, and a warning above :data:`STEP_WARN_FRACTION`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "MAX_VOLUME_JUMP",
    "STEP_WARN_FRACTION",
    "cell_widths",
    "check_cells",
    "largest_step_fraction",
    "unwrap_block",
]

#: A largest minimum-image step above this fraction of the narrowest cell width is a warning:
#: a fast ion may have crossed half the cell between two stored frames.
STEP_WARN_FRACTION = 0.25

#: A cell whose volume changes by more than this fraction between consecutive frames is not a
#: continuous NPT run (concatenated runs of different cells, or a corrupt frame).
MAX_VOLUME_JUMP = 0.10


def cell_widths(cells: np.ndarray) -> np.ndarray:
    """Perpendicular widths (Å) of cells (..., 3, 3): V / |b × c| etc."""
    h = np.asarray(cells, dtype=float)
    vol = np.abs(np.linalg.det(h))
    a, b, c = h[..., 0, :], h[..., 1, :], h[..., 2, :]
    areas = np.stack(
        [
            np.linalg.norm(np.cross(b, c), axis=-1),
            np.linalg.norm(np.cross(c, a), axis=-1),
            np.linalg.norm(np.cross(a, b), axis=-1),
        ],
        axis=-1,
    )
    return vol[..., None] / areas


def check_cells(
    cells: np.ndarray, previous_volume: float | None = None, first_frame: int = 0
) -> str | None:
    """A one-line problem with a block of cells (B, 3, 3), or ``None``: non-finite values, a
    singular (flat) cell, or a volume jump above :data:`MAX_VOLUME_JUMP` between frames
    (``previous_volume`` is the last volume of the preceding block, ``first_frame`` the index
    of the block's first frame in the trajectory)."""
    h = np.asarray(cells, dtype=float)
    if not np.all(np.isfinite(h)):
        bad = int(np.argwhere(~np.isfinite(h).all(axis=(1, 2)))[0, 0])
        return f"cell of frame {first_frame + bad} is not finite"
    vol = np.abs(np.linalg.det(h))
    scale = np.linalg.norm(h, axis=(1, 2)) ** 3
    flat = vol <= 1e-9 * np.maximum(scale, 1e-300)
    if np.any(flat):
        return f"cell of frame {first_frame + int(np.argmax(flat))} is singular (zero volume)"
    v = vol if previous_volume is None else np.concatenate([[previous_volume], vol])
    jump = np.abs(np.diff(v)) / v[:-1]
    if jump.size and np.max(jump) > MAX_VOLUME_JUMP:
        k = int(np.argmax(jump))
        return (
            f"the cell volume changes by {100 * jump[k]:.0f} % between two consecutive frames "
            f"(frames {first_frame + k - (previous_volume is not None)}–"
            f"{first_frame + k - (previous_volume is not None) + 1}): not one continuous run"
        )
    return None


def unwrap_block(
    wrapped: np.ndarray,
    cells: np.ndarray,
    last_wrapped: np.ndarray | None,
    last_unwrapped: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Unwrap a block of frames (TOR scheme, see the module docstring).

    ``wrapped``: (B, N, 3) Cartesian positions as stored; ``cells``: (B, 3, 3);
    ``last_wrapped`` / ``last_unwrapped``: (N, 3) of the frame before the block (``None`` for
    the first block: its first frame is its own origin). Returns the unwrapped block (B, N, 3)
    and the largest minimum-image step of the block as a fraction of the cell width."""
    w = np.asarray(wrapped, dtype=float)
    h = np.asarray(cells, dtype=float)
    if last_wrapped is None:
        prev_w = w[:1]
        start = w[0]
    else:
        prev_w = last_wrapped[None]
        start = last_unwrapped
    steps = np.diff(np.concatenate([prev_w, w], axis=0), axis=0)  # (B, N, 3)
    inv = np.linalg.inv(h)  # (B, 3, 3)
    frac = np.einsum("bnk,bkl->bnl", steps, inv)
    frac -= np.round(frac)
    steps = np.einsum("bnl,blk->bnk", frac, h)
    largest = float(np.max(np.abs(frac))) if frac.size else 0.0
    return start[None] + np.cumsum(steps, axis=0), largest


def largest_step_fraction(unwrapped: np.ndarray, cells: np.ndarray) -> float:
    """Largest step between consecutive frames as a fraction of the cell (fractional
    coordinates of the step), for trajectories given already unwrapped."""
    u = np.asarray(unwrapped, dtype=float)
    if u.shape[0] < 2:
        return 0.0
    inv = np.linalg.inv(np.asarray(cells, dtype=float)[1:])
    frac = np.einsum("bnk,bkl->bnl", np.diff(u, axis=0), inv)
    return float(np.max(np.abs(frac)))
