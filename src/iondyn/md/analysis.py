"""Tracer and collective MSDs of a trajectory, computed ion chunk by ion chunk.

:func:`tracer_msd` runs :func:`iondyn.md.msd.msd_fft` over chunks of ions sized to a memory
budget (the positions may be a memory map of a trajectory larger than memory) and returns the
mean over ions and the variance of that mean from the spread of the per-ion MSDs (the
"empirical variance" the GLS fit uses). :func:`collective_msd` is the MSD of the summed
displacement divided by the number of ions. :func:`choose_window` picks the diffusive regime.
"""

from __future__ import annotations

import numpy as np

from iondyn.errors import DataError, InputError
from iondyn.md.msd import msd_fft

__all__ = ["AXES", "axes_of", "choose_window", "collective_msd", "fit_lags", "tracer_msd"]

AXES = {"x": 0, "y": 1, "z": 2}


def axes_of(dims: str) -> list[int]:
    """Cartesian components of a dimension string such as ``xyz`` or ``xy``."""
    if not dims or any(c not in AXES for c in dims) or len(set(dims)) != len(dims):
        raise InputError(f"dimensions must be a subset of 'xyz' such as 'xy', not {dims!r}")
    return [AXES[c] for c in dims]


def tracer_msd(
    positions: np.ndarray, dims: str = "xyz", chunk_mb: float = 256.0
) -> tuple[np.ndarray, np.ndarray]:
    """(mean MSD over ions, variance of that mean) at every lag, Å² and Å⁴.

    ``positions``: (F, N, 3); the FFT work of one chunk of ions stays within ``chunk_mb``.
    """
    f, n = positions.shape[0], positions.shape[1]
    comp = axes_of(dims)
    per_ion = max(1, int(chunk_mb * 2**20 / (f * len(comp) * 8 * 8)))
    total = np.zeros(f)
    total_sq = np.zeros(f)
    for start in range(0, n, per_ion):
        chunk = np.asarray(positions[:, start : start + per_ion, :])[:, :, comp]
        m = msd_fft(np.transpose(chunk, (1, 0, 2)))
        total += m.sum(axis=0)
        total_sq += np.einsum("bt,bt->t", m, m)
    mean = total / n
    var = (total_sq - n * mean**2) / max(n - 1, 1) / n if n > 1 else np.full(f, np.nan)
    return mean, np.maximum(var, 0.0)


def collective_msd(positions: np.ndarray, dims: str = "xyz", chunk_frames: int = 4096):
    """MSD of R(t) = Σ_i r_i(t) divided by N (Å²) at every lag: ⟨|ΔR|²⟩/N."""
    f, n = positions.shape[0], positions.shape[1]
    comp = axes_of(dims)
    summed = np.empty((f, len(comp)))
    for start in range(0, f, chunk_frames):
        block = np.asarray(positions[start : start + chunk_frames])[:, :, comp]
        summed[start : start + chunk_frames] = block.sum(axis=1)
    return msd_fft(summed[None])[0] / n


def choose_window(
    msd: np.ndarray,
    frame_interval_ps: float,
    start_ps: float | None = None,
    end_ps: float | None = None,
    end_fraction: float = 0.5,
    where: str | None = None,
) -> tuple[int, int, list[str]]:
    """(first lag, last lag) of the fit, in frames, and warnings.

    ``end_ps`` defaults to ``end_fraction`` of the trajectory. ``start_ps`` defaults to the
    diffusive regime, where the MSD has become a straight line: the first lag t (at least 5
    frames) from which the secant slope [MSD(2t) − MSD(t)]/t, on a logarithmic grid of lags,
    stays within 15 % of its median over the last third of the window (the local exponent
    d ln MSD/d ln t is no criterion: a positive intercept keeps it below 1). When no such lag
    exists, a fifth of the window, with a warning.
    """
    f = msd.size
    warnings: list[str] = []
    last = f - 1 if end_ps is None else round(end_ps / frame_interval_ps)
    if end_ps is None:
        last = max(int(end_fraction * (f - 1)), 1)
    last = min(last, f - 1)
    if start_ps is not None:
        first = max(round(start_ps / frame_interval_ps), 1)
    else:
        first = _diffusive_start(msd, last)
        if first is None:
            first = max(last // 5, 1)
            warnings.append(
                "no diffusive regime found (the MSD's slope keeps changing up to the end of the "
                f"window): fitted from {first * frame_interval_ps:.4g} ps; check the MSD plot "
                "and set the fit start"
            )
    if last - first + 1 < 3:
        raise DataError(
            f"the fitting window ({first * frame_interval_ps:.4g}–{last * frame_interval_ps:.4g}"
            " ps) holds fewer than 3 lags: a longer trajectory or another window is needed",
            where,
        )
    return first, last, warnings


def _diffusive_start(msd: np.ndarray, last: int) -> int | None:
    """First lag t (≥ 5 frames) from which the secant slope [MSD(2t) − MSD(t)]/t stays within
    15 % of its median over the last third of the window (the MSD has become a line)."""
    lo = min(5, max(last // 4, 1))
    grid = np.unique(np.geomspace(1, max(last // 2, 1), 40).astype(int))
    grid = grid[grid >= 1]
    if grid.size < 4:
        return lo
    g = (msd[2 * grid] - msd[grid]) / grid
    ref = float(np.median(g[-max(grid.size // 3, 1) :]))
    if not ref > 0:
        return None
    ok = np.abs(g / ref - 1.0) <= 0.15
    if not ok[-1]:
        return None
    bad = np.nonzero(~ok)[0]
    k = 0 if bad.size == 0 else bad[-1] + 1
    return int(max(grid[k], lo))


def fit_lags(first: int, last: int, max_points: int) -> np.ndarray:
    """Lags used by the fit: every lag of the window, or ``max_points`` evenly spread."""
    if last - first + 1 <= max_points:
        return np.arange(first, last + 1)
    return np.unique(np.round(np.linspace(first, last, max_points)).astype(int))
