"""Non-negative least squares in Gram form: minimise ½ xᵀGx − cᵀx subject to x ≥ 0.

Used by the DRT (:mod:`iondyn.eis.drt_lambda`), where G = AᵀA + λP is small (the number of
basis functions) whatever the number of frequencies, and successive λ warm-start each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

__all__ = ["NNLSSolution", "nnls_gram", "spd_solve"]


@dataclass
class NNLSSolution:
    """Solution x ≥ 0, its free set, iterations used and a convergence flag."""

    x: np.ndarray
    free: np.ndarray
    iterations: int
    converged: bool


def spd_solve(g: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Solve G s = c for symmetric positive definite G (least squares if it is not)."""
    _, s, info = lapack.dposv(g, c)
    if info != 0:
        s = np.linalg.lstsq(g, c, rcond=None)[0]
    return s


def _solve_free(g: np.ndarray, c: np.ndarray, free: np.ndarray) -> np.ndarray:
    s = np.zeros_like(c)
    idx = np.flatnonzero(free)
    if idx.size:
        s[idx] = spd_solve(g[np.ix_(idx, idx)], c[idx])
    return s


def _default_tol(g: np.ndarray, c: np.ndarray) -> float:
    scale = max(float(np.abs(c).max(initial=0.0)), float(np.abs(g).max(initial=0.0)))
    return max(1e-12 * scale, 1e-300)


def _nnls_pivoting(
    g: np.ndarray, c: np.ndarray, free: np.ndarray, max_iter: int, tol: float
) -> NNLSSolution:
    """Block principal pivoting (Júdice & Pires 1994; Kim & Park 2011)."""
    p = c.size
    free = free.copy()
    backup, n_best = 3, p + 1
    x = np.zeros(p)
    for iterations in range(1, max_iter + 1):
        x = _solve_free(g, c, free)
        y = g @ x - c
        y[free] = 0.0
        x_scale = max(float(np.abs(x).max(initial=0.0)), 1.0)
        viol = (free & (x < -tol * x_scale)) | (~free & (y < -tol))
        n_viol = int(viol.sum())
        if n_viol == 0:
            x = np.where(free, np.maximum(x, 0.0), 0.0)
            return NNLSSolution(x, free & (x > 0.0), iterations, True)
        if n_viol < n_best:
            n_best, backup = n_viol, 3
            free ^= viol
        elif backup > 0:
            backup -= 1
            free ^= viol
        else:  # Murty's rule: move only the last violating variable
            k = int(np.flatnonzero(viol)[-1])
            free[k] = not free[k]
    return NNLSSolution(np.where(free, np.maximum(x, 0.0), 0.0), free, max_iter, False)


def _nnls_lawson_hanson(
    g: np.ndarray, c: np.ndarray, free: np.ndarray, max_iter: int, tol: float
) -> NNLSSolution:
    """Lawson–Hanson active-set method in Gram form (Bro & De Jong 1997); monotone."""
    free = free.copy()
    x = np.zeros(c.size)
    while free.any():  # feasible start: shrink the free set until its solution is positive
        s = _solve_free(g, c, free)
        bad = free & (s <= 0.0)
        if not bad.any():
            x = s
            break
        free &= ~bad
    iterations = 0
    while iterations < max_iter:
        w = c - g @ x
        w[free] = -np.inf
        k = int(np.argmax(w))
        if w[k] <= tol:
            return NNLSSolution(x, free, iterations, True)
        free[k] = True
        iterations += 1
        s = _solve_free(g, c, free)
        while np.any(s[free] <= 0.0) and iterations < max_iter:
            # step back along x → s to where the first variable reaches zero, drop it
            iterations += 1
            neg = free & (s <= 0.0)
            alpha = np.min(x[neg] / (x[neg] - s[neg]))
            x = x + alpha * (s - x)
            free &= x > 1e-14 * max(float(x.max()), 1.0)
            x[~free] = 0.0
            s = _solve_free(g, c, free)
        x = np.where(free & (s > 0.0), s, 0.0)
        free &= x > 0.0
    return NNLSSolution(x, free, iterations, False)


def nnls_gram(
    g: np.ndarray,
    c: np.ndarray,
    free_init: np.ndarray | None = None,
    max_iter: int | None = None,
    tol: float | None = None,
) -> NNLSSolution:
    """Minimise ½ xᵀ G x − cᵀ x subject to x ≥ 0 (G symmetric positive definite).

    First block principal pivoting (Júdice & Pires, Comput. Oper. Res. 21, 587 (1994);
    Kim & Park, SIAM J. Sci. Comput. 33, 3261 (2011)): solve on the free set F, move every
    variable violating the KKT conditions (x_F < 0, or gradient Gx − c < 0 off F) across at
    once; a warm start (``free_init``, a previous solution's free set) needs only a few solves.
    When rounding makes it cycle (nearly singular G at tiny λ) it hands over to the monotone
    Lawson–Hanson active-set method (Bro & De Jong, J. Chemometrics 11, 393 (1997)), started
    from the same warm start. Optimality: the gradient is ≥ −``tol`` on variables held at zero.
    """
    g = np.asarray(g, dtype=float)
    c = np.asarray(c, dtype=float)
    p = c.size
    tol = _default_tol(g, c) if tol is None else float(tol)
    if max_iter is None:
        max_iter = 3 * p + 10
    free = np.zeros(p, dtype=bool) if free_init is None else np.asarray(free_init, bool).copy()
    sol = _nnls_pivoting(g, c, free, min(12, max_iter), tol)
    if sol.converged:
        return sol
    fallback = _nnls_lawson_hanson(g, c, free, max_iter, tol)
    fallback.iterations += sol.iterations
    return fallback
