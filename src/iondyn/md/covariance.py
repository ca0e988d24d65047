r"""Covariance of time-averaged MSD points of a random walk (the model behind the GLS fit).

Successive MSD points share most of their time windows, so they are strongly correlated;
a least-squares line through them that treats them as independent under-states the error of
the slope several-fold (Bullerjahn, von Bülow & Hummer, J. Chem. Phys. 153, 024116 (2020);
McCluskey, Coles & Morgan, J. Open Source Softw. 9, 5984 (2024) — kinisi — and its method
paper arXiv:2305.18244; pymatgen-analysis-diffusion issue #449).

For M independent walkers with Gaussian steps of variance s² per component and frame
(s² = 2 D Δt), observed for N steps (N + 1 frames), the MSD at lag i averages n_i = N − i + 1
windows. For zero-mean jointly Gaussian displacements Cov(X², Y²) = 2 Cov(X, Y)², and two
windows of lags i and j whose intervals overlap by o steps have Cov(X, Y) = o s² per
component, so (Qian, Sheetz & Elson, Biophys. J. 60, 910 (1991); Bullerjahn et al. 2020)

.. math::

    \Sigma_{ij} = \mathrm{Cov}[\overline{\delta r^2}(i), \overline{\delta r^2}(j)]
                = \frac{2 d\, s^4}{M\, n_i n_j} \sum_{t, u} o(t, i; u, j)^2 .

With k = t − u the overlap is a trapezoid in k and the number of (t, u) pairs at a given k is
piecewise linear with the same break points (0 and j − i for i ≤ j), so the double sum is a
sum of three cubic polynomials over integer ranges, evaluated in closed form (Faulhaber)
— O(1) per pair of lags, for any trajectory length:

* −i < k < 0: (N − j + 1 + k)(i + k)²;
* 0 ≤ k ≤ j − i: (N − j + 1) i²;
* j − i < k < j: (N − i + 1 − k)(j − k)²;

each over the k for which the pair count is positive (k ≥ −(N − j), k ≤ N − i).
"""

from __future__ import annotations

import numpy as np

__all__ = ["overlap_sums", "random_walk_covariance"]


def _power_sums(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Σ_{k=a}^{b} k^p for p = 0 … 3 (0 where b < a), elementwise."""
    a = a.astype(float)
    b = b.astype(float)
    empty = b < a

    def f(n: np.ndarray) -> tuple[np.ndarray, ...]:  # Σ_{k=0}^{n} k^p (n ≥ −1)
        return (
            n + 1.0,
            n * (n + 1.0) / 2.0,
            n * (n + 1.0) * (2.0 * n + 1.0) / 6.0,
            (n * (n + 1.0) / 2.0) ** 2,
        )

    # Σ_{a}^{b} = F(b) − F(a − 1); negative ranges by symmetry k → −k
    def signed(n: np.ndarray) -> tuple[np.ndarray, ...]:
        # G(n) = Σ_{k=0}^{n} k^p for n ≥ 0, = −Σ_{k=n+1}^{−1} k^p for n < 0
        pos = f(np.maximum(n, -1.0))
        m = np.maximum(-n - 1.0, 0.0)  # number of terms n+1 … −1 is −n−1
        neg = f(m)  # Σ_{k=0}^{m} k^p = Σ over |k| = 0 … m
        sign = (1.0, -1.0, 1.0, -1.0)
        out = []
        for p in range(4):
            neg_sum = sign[p] * (neg[p] - (1.0 if p == 0 else 0.0))  # Σ_{k=−m}^{−1} k^p
            out.append(np.where(n >= 0, pos[p], -neg_sum))
        return tuple(out)

    gb = signed(b)
    ga = signed(a - 1.0)
    return tuple(np.where(empty, 0.0, x - y) for x, y in zip(gb, ga))


def overlap_sums(
    lags_i: np.ndarray, lags_j: np.ndarray, n_steps: int, power: int = 2
) -> np.ndarray:
    """Σ_{t,u} o(t, i; u, j)^power (power 2 or 1) for pairs of lags (broadcast), windows of a
    trajectory of ``n_steps`` steps (see the module docstring). Lags must lie in
    1 … n_steps."""
    li = np.asarray(lags_i, dtype=float)
    lj = np.asarray(lags_j, dtype=float)
    i, j = np.minimum(li, lj), np.maximum(li, lj)
    i, j = np.broadcast_arrays(i, j)
    n = float(n_steps)
    c = n - j + 1.0
    e = n - i + 1.0
    s1 = _power_sums(np.maximum(1.0 - i, -(n - j)), np.full_like(i, -1.0))
    s3 = _power_sums(j - i + 1.0, np.minimum(j - 1.0, n - i))
    if power == 1:
        # (c + k)(i + k), c i (j − i + 1), (e − k)(j − k)
        seg1 = c * i * s1[0] + (c + i) * s1[1] + s1[2]
        seg2 = c * i * (j - i + 1.0)
        seg3 = e * j * s3[0] - (e + j) * s3[1] + s3[2]
        return seg1 + seg2 + seg3
    # segment 1: k from max(1 − i, −(N − j)) to −1: (c + k)(i + k)², c = N − j + 1
    seg1 = c * i**2 * s1[0] + (2.0 * c * i + i**2) * s1[1] + (c + 2.0 * i) * s1[2] + s1[3]
    # segment 2: k from 0 to j − i: (N − j + 1) i²
    seg2 = c * i**2 * (j - i + 1.0)
    # segment 3: k from j − i + 1 to min(j − 1, N − i): (e − k)(j − k)², e = N − i + 1
    seg3 = e * j**2 * s3[0] - (2.0 * e * j + j**2) * s3[1] + (e + 2.0 * j) * s3[2] - s3[3]
    return seg1 + seg2 + seg3


def random_walk_covariance(
    lags: np.ndarray,
    n_steps: int,
    step_variance: float,
    n_dims: int,
    n_walkers: float,
    jump_excess: float = 0.0,
) -> np.ndarray:
    r"""Σ_ij of the time-averaged MSD (summed over ``n_dims`` components, averaged over
    ``n_walkers`` independent walkers) at ``lags`` (frames) of a random walk observed for
    ``n_steps`` steps, with per-component step variance ``step_variance`` s² = 2 D Δt.

    For independent steps ξ that are not Gaussian (ions that hop), the covariance of two
    windows' squared displacements overlapping by o steps is
    Cov(|ΣA ξ|², |ΣB ξ|²) = 2 tr(C²) o² + κ o, with C the step covariance and
    κ = Var|ξ|² − 2 tr(C²) the excess of the steps' fourth moment (0 for Gaussian steps; for
    hops of length a at rate ν ≪ 1 per frame, κ ≈ ν a⁴ ≫ 2 tr(C²) = 2 ν² a⁴/d). Hence

    .. math::

        \Sigma_{ij} = \frac{2 d s^4 \sum o^2 + \kappa \sum o}{M n_i n_j},

    ``jump_excess`` = κ/(2 d s⁴) (dimensionless; 0: the Gaussian model of Bullerjahn et al.).
    """
    lag = np.asarray(lags, dtype=float)
    if lag.ndim != 1 or np.any(lag < 1) or np.any(lag > n_steps):
        raise ValueError("lags must be a 1-D array within 1 … n_steps")
    w = overlap_sums(lag[:, None], lag[None, :], n_steps)
    if jump_excess:
        w = w + jump_excess * overlap_sums(lag[:, None], lag[None, :], n_steps, power=1)
    n_win = n_steps - lag + 1.0
    return 2.0 * n_dims * step_variance**2 * w / (n_walkers * np.outer(n_win, n_win))
