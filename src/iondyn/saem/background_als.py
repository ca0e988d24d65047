r"""Asymmetric-least-squares baseline (Eilers & Boelens 2005), for the SAEM engine and maps.

The baseline z of a spectrum y minimises

.. math:: \sum_i w_i (y_i - z_i)^2 + \lambda \sum_i (\Delta^2 z_i)^2,
          \qquad w_i = p \text{ if } y_i > z_i \text{ else } 1 - p

iterated from w = 1 (P. H. C. Eilers and H. F. M. Boelens, "Baseline correction with
asymmetric least squares smoothing", Leiden University Medical Centre report (2005); the
penalised smoother of P. H. C. Eilers, Anal. Chem. 75, 3631 (2003)). Points above the baseline
(peaks) get the small weight p, so the baseline follows the lower envelope — the usual
baseline of Raman spectra (fluorescence). Each iteration solves the symmetric pentadiagonal
system (W + λ DᵀD) z = W y; :func:`als_baseline` does it for a whole batch at once (a banded
LDLᵀ factorisation vectorised over the spectra, a loop over the channels only).

As a SAEM background it has no free parameter: the baseline is computed from the data once
and held fixed while the peaks are fitted (``ctx["baseline"]``). λ is given relative to 500
points, ``lam = lam_500 · (N/500)⁴``, so the baseline's stiffness is the same fraction of the
window whatever the sampling (default lam_500 = 10⁶: a correlation length of about 6 % of the
window); p = 0.01, 10 iterations.
"""

from __future__ import annotations

import numpy as np

from iondyn.saem.background import Background, register_background

__all__ = ["ALS", "als_baseline", "pentadiagonal_solve"]


def _d2_bands(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Main, first and second off-diagonals of DᵀD for second differences on n points."""
    d = np.zeros((n - 2, n))
    i = np.arange(n - 2)
    d[i, i], d[i, i + 1], d[i, i + 2] = 1.0, -2.0, 1.0
    dtd = d.T @ d if n <= 64 else None
    if dtd is not None:
        return np.diag(dtd).copy(), np.diag(dtd, 1).copy(), np.diag(dtd, 2).copy()
    main = np.full(n, 6.0)
    main[[0, -1]] = 1.0
    main[[1, -2]] = 5.0
    off1 = np.full(n - 1, -4.0)
    off1[[0, -1]] = -2.0
    off2 = np.ones(n - 2)
    return main, off1, off2


def pentadiagonal_solve(
    main: np.ndarray, off1: np.ndarray, off2: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """Solve A z = rhs for symmetric pentadiagonal A, batched: ``main`` (B, N), ``off1``
    (B, N−1) or (N−1,), ``off2`` (B, N−2) or (N−2,), ``rhs`` (B, N). LDLᵀ without pivoting
    (A must be positive definite, as W + λDᵀD is)."""
    b, n = rhs.shape
    off1 = np.broadcast_to(off1, (b, n - 1))
    off2 = np.broadcast_to(off2, (b, n - 2)) if n > 2 else np.zeros((b, 0))
    d = np.empty((b, n))
    e = np.zeros((b, n))  # L[i, i-1]
    f = np.zeros((b, n))  # L[i, i-2]
    z = np.empty((b, n))
    for i in range(n):
        a_ii = main[:, i].copy()
        if i >= 2:
            f[:, i] = off2[:, i - 2] / d[:, i - 2]
        if i >= 1:
            a_i1 = off1[:, i - 1].copy()
            if i >= 2:
                a_i1 -= f[:, i] * e[:, i - 1] * d[:, i - 2]
            e[:, i] = a_i1 / d[:, i - 1]
            a_ii -= e[:, i] ** 2 * d[:, i - 1]
        if i >= 2:
            a_ii -= f[:, i] ** 2 * d[:, i - 2]
        d[:, i] = a_ii
        zi = rhs[:, i].copy()
        if i >= 1:
            zi -= e[:, i] * z[:, i - 1]
        if i >= 2:
            zi -= f[:, i] * z[:, i - 2]
        z[:, i] = zi
    z /= d
    out = np.empty((b, n))
    for i in range(n - 1, -1, -1):
        v = z[:, i].copy()
        if i + 1 < n:
            v -= e[:, i + 1] * out[:, i + 1]
        if i + 2 < n:
            v -= f[:, i + 2] * out[:, i + 2]
        out[:, i] = v
    return out


def als_baseline(
    y: np.ndarray, lam_500: float = 1e6, p: float = 0.01, n_iter: int = 10
) -> np.ndarray:
    """The ALS baseline of every row of ``y`` (B, N) (see the module docstring)."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    b, n = y.shape
    if n < 5:
        return np.repeat(y.min(axis=1, keepdims=True), n, axis=1)
    lam = float(lam_500) * (n / 500.0) ** 4
    main, off1, off2 = _d2_bands(n)
    w = np.ones((b, n))
    z = y
    for _ in range(int(n_iter)):
        z = pentadiagonal_solve(w + lam * main, lam * off1, lam * off2, w * y)
        new = np.where(y > z, p, 1.0 - p)
        if np.array_equal(new, w):
            break
        w = new
    return z


class ALS(Background):
    """A fixed asymmetric-least-squares baseline (see the module docstring)."""

    name = "als"

    def __init__(self, lam_500: float = 1e6, p: float = 0.01, n_iter: int = 10):
        self.lam_500 = float(lam_500)
        self.p = float(p)
        self.n_iter = int(n_iter)

    @property
    def param_names(self):
        return ()

    def init(self, x, y, mask):
        base = np.zeros_like(y)
        n_valid = mask.sum(axis=-1)
        for n in np.unique(n_valid):
            rows = np.nonzero(n_valid == n)[0]
            base[rows, :n] = als_baseline(y[rows, :n], self.lam_500, self.p, self.n_iter)
            base[rows, n:] = base[rows, n - 1 : n]
        # a Poisson model must stay positive: the baseline is floored just above zero
        floor = 1e-9 * max(float(np.abs(y).max()), 1e-300)
        base = np.maximum(base, floor)
        return np.zeros((y.shape[0], 0)), base, {"baseline": base}

    def evaluate(self, x, beta, peaks, ctx):
        return ctx["baseline"]

    def jacobian(self, x, beta, peaks, ctx):
        return np.zeros((x.shape[0], 0, x.shape[-1]))

    def describe(self, x, beta, cov, mask, ctx):
        return [{"kind": "als", "lam_500": self.lam_500, "p": self.p} for _ in range(beta.shape[0])]


register_background("als", ALS)
