"""Shape summaries of TSDC peaks: the universal first-order width and numeric peak finding.

A first-order peak written in t = T/Tm depends on the single number γ = Ea/kTm:

    Tm · f(t) = γ · exp(γ − γ/t − x(t)),   x(t) = γ t e^{γ−γ/t} [e^u E2(u)]_{u=γ/t}

(βτ0 = kTm² e^{−γ}/Ea from the peak equation; T0 far below Tm). Its full width at half maximum
is therefore Tm · w(γ) with a universal function w, tabulated once here by bisection and
interpolated linearly in ln γ on a dense grid (w ≈ 2.45/γ for large γ, cf. Chen's FWHM formula
Ea ≈ 2.52 kTm²/ω − 2kTm; Chen, J. Appl. Phys. 40, 570 (1969)). For peaks without a universal
form (general order, distributed Ea) :func:`numeric_peak_shape` finds the maximum and the
half-maximum points on a fine grid.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from iondyn.tsdc.model import scaled_e2

__all__ = [
    "GAMMA_RANGE",
    "gamma_from_width",
    "numeric_peak_shape",
    "relative_width",
    "relative_width_slope",
]

#: Range of γ = Ea/kTm covered by the width table (outside it values are clipped).
GAMMA_RANGE = (1.5, 5000.0)


def _phi(t: np.ndarray, g: np.ndarray) -> np.ndarray:
    """ln(Tm f/γ) of the first-order peak in t = T/Tm."""
    u = g / t
    with np.errstate(over="ignore", under="ignore"):
        x = np.exp(np.minimum(np.log(t) + g - u + np.log(scaled_e2(u)) + np.log(g), 700.0))
    return g - u - x


@lru_cache(maxsize=1)
def _width_table() -> tuple[np.ndarray, np.ndarray]:
    """(ln γ, ln w) on a dense grid (linear interpolation error < 1e−6 relative)."""
    g = np.exp(np.linspace(np.log(GAMMA_RANGE[0]), np.log(GAMMA_RANGE[1]), 2500))
    target = _phi(np.ones_like(g), g) - np.log(2.0)

    def crossing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # φ(a) < target < φ(b) on the rising side, the reverse on the falling side
        fa_below = _phi(a, g) < target
        for _ in range(64):
            mid = 0.5 * (a + b)
            same = (_phi(mid, g) < target) == fa_below
            a = np.where(same, mid, a)
            b = np.where(same, b, mid)
        return 0.5 * (a + b)

    left = crossing(np.full_like(g, 1e-3), np.ones_like(g))
    right = crossing(np.ones_like(g), 1.0 + 40.0 / g + 2.0)
    return np.log(g), np.log(right - left)


def relative_width(gamma: np.ndarray) -> np.ndarray:
    """FWHM/Tm of a first-order peak with γ = Ea/kTm (clipped to :data:`GAMMA_RANGE`)."""
    lg, lw = _width_table()
    g = np.clip(np.asarray(gamma, float), *GAMMA_RANGE)
    return np.exp(np.interp(np.log(g), lg, lw))


def relative_width_slope(gamma: np.ndarray) -> np.ndarray:
    """d ln w / d ln γ of :func:`relative_width` (≈ −1; from the table by differences)."""
    lg, lw = _width_table()
    g = np.clip(np.asarray(gamma, float), *GAMMA_RANGE)
    return np.interp(np.log(g), lg, np.gradient(lw, lg))


def gamma_from_width(width: np.ndarray) -> np.ndarray:
    """γ = Ea/kTm of the first-order peak whose FWHM/Tm is ``width`` (inverse of
    :func:`relative_width`, clipped to the table)."""
    lg, lw = _width_table()
    w = np.clip(np.asarray(width, float), np.exp(lw[-1]), np.exp(lw[0]))
    return np.exp(np.interp(np.log(w), lw[::-1], lg[::-1]))


def numeric_peak_shape(
    density: Callable[[np.ndarray], np.ndarray],
    center_guess: np.ndarray,
    width_guess: np.ndarray,
    n: int = 801,
    span: tuple[float, float] = (-5.0, 7.0),
) -> dict[str, np.ndarray]:
    """Maximum position, FWHM and maximum of peaks evaluated on their own grids.

    ``density(T)`` takes grids T of shape (..., n) (one per peak, built from ``center_guess``
    and ``width_guess`` of shape (...)) and returns the density there. The maximum is refined
    by a parabola through the three highest grid points, the half-maximum points by linear
    interpolation. Peaks whose half maximum is not reached on the grid get NaN widths.
    """
    c = np.asarray(center_guess, float)
    w = np.maximum(np.asarray(width_guess, float), 1e-6 * np.abs(c) + 1e-12)
    s = np.linspace(span[0], span[1], n)
    T = c[..., None] + w[..., None] * s
    T = np.maximum(T, 1e-3)
    f = density(T)
    i = np.clip(np.argmax(f, axis=-1), 1, n - 2)
    take = np.take_along_axis
    fm = take(f, (i - 1)[..., None], -1)[..., 0]
    f0 = take(f, i[..., None], -1)[..., 0]
    fp = take(f, (i + 1)[..., None], -1)[..., 0]
    denom = fm - 2.0 * f0 + fp
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(denom < 0, 0.5 * (fm - fp) / denom, 0.0)
    shift = np.clip(np.nan_to_num(shift), -0.5, 0.5)
    dT = w * (s[1] - s[0])
    center = take(T, i[..., None], -1)[..., 0] + shift * dT
    fmax = f0 - 0.25 * (fm - fp) * shift
    half = 0.5 * fmax[..., None]
    idx = np.arange(n)
    above = f >= half
    # the contiguous half-maximum region around the maximum
    left_i = np.where(~above & (idx < i[..., None]), idx, -1).max(axis=-1)
    right_i = np.where(~above & (idx > i[..., None]), idx, n).min(axis=-1)
    ok = (left_i >= 0) & (right_i < n)
    li = np.clip(left_i, 0, n - 2)
    ri = np.clip(right_i, 1, n - 1)

    def interp(j0, j1):
        t0 = take(T, j0[..., None], -1)[..., 0]
        t1 = take(T, j1[..., None], -1)[..., 0]
        y0 = take(f, j0[..., None], -1)[..., 0]
        y1 = take(f, j1[..., None], -1)[..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(y1 != y0, (half[..., 0] - y0) / (y1 - y0), 0.5)
        return t0 + np.clip(frac, 0.0, 1.0) * (t1 - t0)

    t_left = interp(li, li + 1)
    t_right = interp(ri - 1, ri)
    fwhm = np.where(ok, t_right - t_left, np.nan)
    return {"center": center, "fwhm": fwhm, "height": fmax}
