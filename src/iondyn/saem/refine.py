"""Stage 2 of SAEM: batched Levenberg–Marquardt refinement under the chosen likelihood.

Every spectrum of the batch is a row; rows iterate together and drop out when converged.
Parameters live in unconstrained coordinates z (see :mod:`iondyn.saem.transforms`); each
iteration solves, per row, the Marquardt-scaled normal equations

    (JᵀWJ + λ diag(JᵀWJ)) δ = JᵀW (y − m)

(Levenberg, Q. Appl. Math. 2, 164 (1944); Marquardt, J. SIAM 11, 431 (1963)) with W from the
likelihood (1/σ² for least squares, 1/m for Poisson Fisher scoring). A step is accepted when the
cost decreases. A row has converged when an accepted step moved every parameter by less than
``xtol`` standard errors, or reduced χ² by less than ``chi2_tol`` (in units of the noise
variance), or the cost by less than ``ftol`` relative. Rows whose cost stalls without meeting
these tests stop early and are reported as not converged.

The covariance at the optimum is (JᵀWJ)⁻¹ — scaled by the reduced χ² when the noise level is
unknown — mapped back to natural parameters with the transform's Jacobian.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from iondyn.saem.likelihood import Likelihood
from iondyn.saem.transforms import Transform, from_z, jacobian_diag, to_z

__all__ = ["LMResult", "levenberg_marquardt", "normal_matrix_covariance"]

ModelFn = Callable[[np.ndarray, np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]]


@dataclass
class LMResult:
    """Per row: natural parameters (B, P), covariance (B, P, P), cost (B,), model (B, N),
    iterations (B,), converged (B,), rank_deficient (B,)."""

    params: np.ndarray
    cov: np.ndarray
    cost: np.ndarray
    model: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    rank_deficient: np.ndarray


def _scaled_solve(a: np.ndarray, g: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Solve (A + λ diag A) δ = g per row with Jacobi scaling; (B, P, P), (B, P), (B,)."""
    d = np.diagonal(a, axis1=-2, axis2=-1)
    dmax = np.max(d, axis=-1, keepdims=True)
    d = np.maximum(d, 1e-14 * np.maximum(dmax, 1e-300))
    s = 1.0 / np.sqrt(d)
    sa = a * s[:, :, None] * s[:, None, :]
    p = a.shape[-1]
    m = sa + (lam[:, None, None] + 1e-12) * np.eye(p)
    rhs = (g * s)[..., None]
    try:
        sol = np.linalg.solve(m, rhs)[..., 0]
    except np.linalg.LinAlgError:
        sol = np.stack([np.linalg.lstsq(m[i], rhs[i, :, 0], rcond=None)[0] for i in range(len(m))])
    return sol * s


def _inverse_diagonal(a: np.ndarray) -> np.ndarray:
    """diag(A⁻¹) per row, through the Jacobi-scaled matrix (inf where singular)."""
    d = np.maximum(np.diagonal(a, axis1=-2, axis2=-1), 1e-300)
    s = 1.0 / np.sqrt(d)
    sa = a * s[:, :, None] * s[:, None, :] + 1e-12 * np.eye(a.shape[-1])
    try:
        inv = np.linalg.inv(sa)
    except np.linalg.LinAlgError:
        return np.full(d.shape, np.inf)
    return np.abs(np.diagonal(inv, axis1=-2, axis2=-1)) * s * s


def _cond(m: np.ndarray) -> float:
    try:
        return float(np.linalg.cond(m))
    except np.linalg.LinAlgError:
        return np.inf


def normal_matrix_covariance(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(JᵀWJ)⁻¹ per row with Jacobi scaling and a pseudo-inverse fallback.

    Rows whose scaled matrix has a condition number above 10¹³ (or a zero diagonal) are
    rank deficient and get the pseudo-inverse; the others are inverted as one batch.
    Returns (covariance (B, P, P), rank_deficient (B,))."""
    finite = np.all(np.isfinite(a.reshape(a.shape[0], -1)), axis=-1)
    a = np.where(finite[:, None, None], a, 0.0)
    d = np.diagonal(a, axis1=-2, axis2=-1)
    ok = d > 0
    s = np.where(ok, 1.0 / np.sqrt(np.where(ok, d, 1.0)), 0.0)
    sa = a * s[:, :, None] * s[:, None, :]
    with np.errstate(all="ignore"):
        try:
            cond = np.linalg.cond(sa)
        except np.linalg.LinAlgError:
            cond = np.array([_cond(m) for m in sa])
    deficient = ~np.isfinite(cond) | (cond > 1e13) | ~np.all(ok, axis=-1)
    inv = np.empty_like(a)
    good = np.nonzero(~deficient)[0]
    try:
        inv[good] = np.linalg.inv(sa[good])
    except np.linalg.LinAlgError:
        deficient[good] = True
    for i in np.nonzero(deficient)[0]:
        try:
            inv[i] = np.linalg.pinv(sa[i], rcond=1e-13)
        except np.linalg.LinAlgError:
            inv[i] = np.nan
    with np.errstate(all="ignore"):
        cov = inv * s[:, :, None] * s[:, None, :]
    cov[~finite] = np.nan
    return cov, deficient


def levenberg_marquardt(
    model: ModelFn,
    y: np.ndarray,
    weights: np.ndarray,
    mask: np.ndarray,
    p0: np.ndarray,
    transforms: tuple[Transform, ...],
    likelihood: Likelihood,
    max_iter: int = 200,
    xtol: float = 1e-3,
    ftol: float = 1e-12,
    chi2_tol: float = 1e-6,
    max_log_step: float = 1.5,
    stall_tol: float = 1e-7,
    stall_iter: int = 15,
) -> LMResult:
    """Minimise ``likelihood.cost`` for every row.

    ``model(rows, p, jacobian)`` evaluates the model of the given rows (an index array) at
    natural parameters ``p`` (len(rows), P) and returns (m, ∂m/∂p (len(rows), P, N) or None).
    ``y``, ``weights`` (1/σ² or ones) and ``mask`` are (B, N); ``p0`` (B, P).
    """
    b_count, p_count = p0.shape
    nonlinear = np.array([t.kind != "identity" for t in transforms], dtype=bool)
    n_valid = mask.sum(axis=-1)
    dof = np.maximum(n_valid - p_count, 1)
    z = to_z(p0, transforms)
    all_rows = np.arange(b_count)
    with np.errstate(all="ignore"):
        m, jac = model(all_rows, from_z(z, transforms), True)
        cost = likelihood.cost(y, m, weights, mask)
    jac = jac * jacobian_diag(z, transforms)[:, :, None]
    bad_start = ~np.all(np.isfinite(jac.reshape(b_count, -1)), axis=-1)
    cost = np.where(bad_start, np.inf, cost)
    jac = np.where(np.isfinite(jac), jac, 0.0)
    lam = np.full(b_count, 1e-3)
    iterations = np.zeros(b_count, dtype=int)
    converged = np.zeros(b_count, dtype=bool)
    stalled = np.zeros(b_count, dtype=int)
    active = np.isfinite(cost)

    for _ in range(max_iter):
        rows = np.nonzero(active)[0]
        if rows.size == 0:
            break
        yr, mr, jr = y[rows], m[rows], jac[rows]
        with np.errstate(all="ignore"):
            w = likelihood.weights(yr, mr, weights[rows], mask[rows])
            jw = jr * w[:, None, :]
            a = np.matmul(jw, jr.transpose(0, 2, 1))
            g = np.einsum("bpn,bn->bp", jw, np.where(mask[rows], yr - mr, 0.0))
            delta = _scaled_solve(a, g, lam[rows])
        delta = np.where(np.isfinite(delta), delta, 0.0)
        # trust region in transformed coordinates: a log/logit parameter moves by at most
        # `max_log_step` per iteration, so a bounded parameter cannot jump into saturation
        if nonlinear.any():
            biggest = np.max(np.abs(delta[:, nonlinear]), axis=-1)
            delta = delta * np.minimum(1.0, max_log_step / np.maximum(biggest, 1e-300))[:, None]
        z_try = z[rows] + delta
        p_try = from_z(z_try, transforms)
        finite = np.all(np.isfinite(p_try), axis=-1)
        p_try = np.where(finite[:, None], p_try, from_z(z[rows], transforms))
        with np.errstate(all="ignore"):
            m_try, j_try = model(rows, p_try, True)
            cost_try = likelihood.cost(yr, m_try, weights[rows], mask[rows])
        finite &= np.all(np.isfinite(j_try.reshape(rows.size, -1)), axis=-1)
        cost_try = np.where(finite, cost_try, np.inf)
        accept = np.isfinite(cost_try) & (cost_try <= cost[rows])
        iterations[rows] += 1

        # convergence: the step is tiny compared with the parameters' standard errors, or the
        # cost gain is statistically negligible (Δχ² in units of the noise variance)
        sigma2 = cost[rows] / dof[rows] if likelihood.scale_covariance else np.ones(rows.size)
        with np.errstate(all="ignore"):
            diag = np.maximum(np.diagonal(a, axis1=-2, axis2=-1), 1e-300)
            se = np.sqrt(np.maximum(_inverse_diagonal(a), 1e-300) * sigma2[:, None])
            step_in_se = np.max(np.abs(delta) / se, -1)
            gain = cost[rows] - cost_try
            rel_gain = gain / np.maximum(np.abs(cost[rows]), 1e-300)
            chi2_gain = gain / np.maximum(sigma2, 1e-300)
        done = accept & ((step_in_se < xtol) | (rel_gain < ftol) | (chi2_gain < chi2_tol))

        acc_rows = rows[accept]
        if acc_rows.size:
            z[acc_rows] = z_try[accept]
            m[acc_rows] = m_try[accept]
            jac[acc_rows] = j_try[accept] * jacobian_diag(z_try[accept], transforms)[:, :, None]
            cost[acc_rows] = cost_try[accept]
        lam[rows] = np.where(accept, np.maximum(lam[rows] / 3.0, 1e-12), lam[rows] * 4.0)
        # a row whose damping exploded can make no progress: stationary if its gradient is tiny
        stuck = ~accept & (lam[rows] > 1e10)
        if np.any(stuck):
            with np.errstate(all="ignore"):
                gnorm = np.max(np.abs(g) / np.sqrt(diag), axis=-1)
            stationary = gnorm < 1e-6 * np.sqrt(np.maximum(cost[rows], 1e-300))
            done |= stuck & stationary
            active[rows[stuck & ~stationary]] = False
        converged[rows[done]] = True
        active[rows[done]] = False
        # a row whose cost has stalled (relative gain below `stall_tol` for `stall_iter`
        # iterations in a row) stops without being called converged: typically a component
        # creeping towards zero or infinite width in an under- or over-fitted model
        slow = ~done & (~accept | (rel_gain < stall_tol))
        stalled[rows] = np.where(slow, stalled[rows] + 1, 0)
        active[rows[stalled[rows] >= stall_iter]] = False

    # covariance at the optimum
    w = likelihood.weights(y, m, weights, mask)
    with np.errstate(all="ignore"):
        a = np.matmul(jac * w[:, None, :], jac.transpose(0, 2, 1))
    cov_z, deficient = normal_matrix_covariance(a)
    if likelihood.scale_covariance:
        with np.errstate(all="ignore"):
            cov_z = cov_z * (cost / dof)[:, None, None]
    d = jacobian_diag(z, transforms)
    with np.errstate(all="ignore"):
        cov = cov_z * d[:, :, None] * d[:, None, :]
    return LMResult(from_z(z, transforms), cov, cost, m, iterations, converged, deficient)
