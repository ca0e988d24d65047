"""Starting points for EM: peak picking on a smoothed second derivative plus random restarts.

Each spectrum gets S starts of K components, returned as centers, Gaussian-equivalent widths
σ and mixing weights π, all (B, S, K):

1. *peak picking* — local minima of the Savitzky–Golay second derivative of the
   background-subtracted data, ranked by height, deduplicated, with σ ≈ sqrt(−y/y″)
   (exact at the center of a Gaussian);
2. *quantiles* — centers at the (k + ½)/K weighted quantiles of the signal;
3. *random restarts* — centers drawn from the signal itself (inverse CDF), widths log-uniform
   around range/(2K), from a seeded generator so that every run gives the same answer.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import convolve1d
from scipy.signal import savgol_coeffs

from iondyn.saem.batch import grid_steps

__all__ = ["pick_peaks", "seed_starts", "smooth_rows", "window_areas"]


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles q (..., M) of the distribution with weights w (B, N) on x (B, N) → (B, ..., M)."""
    cdf = np.cumsum(w, axis=-1)
    cdf = cdf / np.maximum(cdf[:, -1:], 1e-300)
    out = np.empty((x.shape[0],) + q.shape[1:])
    for b in range(x.shape[0]):
        out[b] = np.interp(q[b], cdf[b], x[b])
    return out


@lru_cache(maxsize=512)
def _savgol(window: int, order: int, deriv: int) -> np.ndarray:
    """Savitzky–Golay convolution coefficients (read-only; cached: a batch asks for the same few
    windows again and again)."""
    c = savgol_coeffs(window, order, deriv=deriv)
    c.setflags(write=False)
    return c


def smooth_rows(
    y: np.ndarray, n_valid: np.ndarray, frac: int, order: int, deriv: int = 0, dx=None
) -> np.ndarray:
    """Savitzky–Golay filter of every row over its valid points, window ≈ n/``frac`` (odd,
    ≥ 5); rows of equal length are filtered together. Padded points are left at zero."""
    out = np.zeros_like(y)
    for n in np.unique(n_valid):
        rows = np.nonzero(n_valid == n)[0]
        n = int(n)
        win = min(max(order + 2 + (order % 2 == 0), (n // frac) | 1), n if n % 2 else n - 1)
        if win <= order:
            out[rows, :n] = y[rows, :n] if deriv == 0 else 0.0
            continue
        delta = 1.0 if dx is None else dx[rows][:, None]
        # = scipy.signal.savgol_filter(…, mode="nearest"), with the coefficients computed once
        filt = convolve1d(y[rows, :n], _savgol(win, order, deriv), axis=-1, mode="nearest")
        out[rows, :n] = filt / delta**deriv
    return out


def pick_peaks(
    x: np.ndarray,
    ys: np.ndarray,
    d2: np.ndarray,
    n_valid: int,
    k: int,
    sigma_floor: float,
    taken: tuple[list[float], list[float], list[float]] | None = None,
) -> tuple[list[float], list[float], list[float]]:
    """Add up to ``k`` peak candidates of one spectrum to ``taken``: minima of the smoothed
    second derivative ``d2`` with d2 < 0, sorted by smoothed height ``ys``; a candidate closer
    than one estimated σ (σ ≈ sqrt(−y/y″), exact at the top of a Gaussian) to one already
    taken is dropped."""
    centers, sigmas, heights = ([], [], []) if taken is None else taken
    n = n_valid
    x, ys, d2 = x[:n], ys[:n], d2[:n]
    if n < 7 or not np.any(ys > 0):
        return centers, sigmas, heights
    inner = np.arange(1, n - 1)
    is_min = (d2[inner] < d2[inner - 1]) & (d2[inner] <= d2[inner + 1]) & (d2[inner] < 0)
    idx = inner[is_min & (ys[inner] > 0.02 * ys.max())]
    for i in idx[np.argsort(-ys[idx])]:
        if len(centers) >= k:
            break
        s = float(np.sqrt(max(ys[i], 0.0) / max(-d2[i], 1e-300)))
        s = float(np.clip(s, sigma_floor, 0.25 * (x[-1] - x[0])))
        if any(abs(x[i] - c) < max(s, sc) for c, sc in zip(centers, sigmas)):
            continue
        centers.append(float(x[i]))
        sigmas.append(s)
        heights.append(float(ys[i]))
    return centers, sigmas, heights


def seed_starts(
    x: np.ndarray,
    w: np.ndarray,
    n_valid: np.ndarray,
    k: int,
    n_random: int,
    rng: np.random.Generator | list[np.random.Generator],
    sigma_floor: np.ndarray,
    density: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centers, σ and π of S = 2 + n_random starts for every spectrum, each (B, S, K).

    ``rng``: one generator for the batch, or one per spectrum (batch-independent starts).

    ``x`` (B, N) increasing, ``w`` (B, N) non-negative signal weights (y·Δx), ``density``
    (B, N) the background-subtracted signal per unit x used for peak picking (defaults to w).
    """
    b_count, _ = x.shape
    density = w if density is None else density
    s_count = 2 + n_random
    centers = np.empty((b_count, s_count, k))
    sigmas = np.empty((b_count, s_count, k))
    pis = np.full((b_count, s_count, k), 1.0 / k)
    lo = x[:, 0]
    hi = x[np.arange(b_count), np.maximum(n_valid - 1, 0)]
    span = np.maximum(hi - lo, 1e-300)

    # 2. quantile start (also the filler for missing peak-picking candidates)
    q = np.broadcast_to((np.arange(k) + 0.5) / k, (b_count, k))
    quant = _weighted_quantiles(x, w, q)
    quant_sigma = np.maximum(span / (2.5 * k), sigma_floor)
    centers[:, 1] = quant
    sigmas[:, 1] = quant_sigma[:, None]

    # 1. peak picking at a fine, then a coarser, then a finer smoothing scale
    dx = grid_steps(x, n_valid)
    picked = [([], [], []) for _ in range(b_count)]
    for frac in (40, 20, 80):
        need = [b for b in range(b_count) if len(picked[b][0]) < k]
        if not need:
            break
        rows = np.array(need)
        ys = smooth_rows(density[rows], n_valid[rows], frac, 3)
        d2 = smooth_rows(density[rows], n_valid[rows], frac, 3, deriv=2, dx=dx[rows])
        for j, b in enumerate(need):
            picked[b] = pick_peaks(
                x[b], ys[j], d2[j], int(n_valid[b]), k, float(sigma_floor[b]), picked[b]
            )
    for b in range(b_count):
        c, s, h = (np.asarray(v, dtype=float) for v in picked[b])
        m = c.size
        if m < k:
            # fill from the quantile start, away from the picked peaks
            fill = [qc for qc in quant[b] if np.all(np.abs(qc - c) > 0.5 * quant_sigma[b])]
            fill = (fill + list(quant[b]))[: k - m]
            c = np.concatenate([c, fill])
            s = np.concatenate([s, np.full(k - m, quant_sigma[b])])
            h = np.concatenate([h, np.full(k - m, h.min() if m else 1.0)])
        order = np.argsort(c)
        centers[b, 0] = c[order]
        sigmas[b, 0] = s[order]
        weights = np.maximum(h[order] * s[order], 1e-12)
        pis[b, 0] = weights / weights.sum()

    # 3. random restarts, drawn from the signal itself
    if n_random:
        if isinstance(rng, np.random.Generator):
            u = rng.random((b_count, n_random, k))
            v = rng.uniform(-1.0, 0.7, size=(b_count, n_random, k))
        else:  # one generator per spectrum
            u = np.stack([g.random((n_random, k)) for g in rng])
            v = np.stack([g.uniform(-1.0, 0.7, size=(n_random, k)) for g in rng])
        draws = _weighted_quantiles(x, w, u.reshape(b_count, -1)).reshape(b_count, n_random, k)
        centers[:, 2:] = np.sort(draws, axis=-1)
        spread = np.exp(v)
        sigmas[:, 2:] = np.maximum(
            (span / (2.0 * k))[:, None, None] * spread, sigma_floor[:, None, None]
        )
    return centers, sigmas, pis


def window_areas(
    pi: np.ndarray,
    total: np.ndarray,
    mass: np.ndarray,
    n_spectra: int,
    n_candidates: int,
    floor: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """Areas of EM components as starts for the refinement, and which candidate each row
    keeps.

    A = π Σw / m with m the part of the (unit-area) component inside the measured window, so
    that a peak cut by the window is not biased (Matsumura et al., Sci. Technol. Adv. Mater.
    20, 733 (2019)). A component essentially outside the window (m < ``floor``) has an area
    the data do not determine, and π/m overflows (seen on real impedance columns read as
    spectra): such a start is degenerate. Rows are spectra × candidates (R = B·M, K); a
    degenerate candidate is replaced by its spectrum's first regular one (returned index
    ``src`` (R,)), and where a spectrum has none, m is floored.
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        areas = pi * total[:, None] / mass
        bad = ~np.all(np.isfinite(areas) & (mass >= floor), axis=1)
        clipped = pi * total[:, None] / np.maximum(mass, floor)
    areas = np.where(bad[:, None], clipped, areas)
    bad = bad.reshape(n_spectra, n_candidates)
    src = np.arange(n_spectra * n_candidates).reshape(n_spectra, n_candidates)
    first_good = src[np.arange(n_spectra), np.argmax(~bad, axis=1)]
    replace = bad & (~bad).any(axis=1, keepdims=True)
    src = np.where(replace, first_good[:, None], src)
    return areas, src.reshape(-1)
