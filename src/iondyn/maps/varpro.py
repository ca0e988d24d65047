r"""Batched Levenberg–Marquardt by variable projection: the map fit's kernel.

For every pixel (a row of the batch) the model m = Φ(θ)ᵀc + g (:class:`~iondyn.maps.model.MapModel`)
is linear in the coefficients c (peak areas, polynomial or power-law amplitudes) and nonlinear
in θ (centres, widths, shape and background exponents). The coefficients are never iterated:
for the current θ they are solved exactly,

.. math:: c(\theta) = \arg\min_{c,\;c_j \ge 0\ (j \in \mathcal{A})}
          \sum_i w_i (y_i - g_i - \Phi_i^\top c)^2,

by a batched active-set solution (Lawson & Hanson, *Solving Least Squares Problems* (1974),
ch. 23: clamp the negative areas, release a clamped one whose gradient points inwards), and
Levenberg–Marquardt moves only θ on the reduced problem (Golub & Pereyra, SIAM J. Numer. Anal.
10, 413 (1973); Kaufman, BIT 15, 49 (1975)). With X = [Φ; D], D = ∂m/∂θ at fixed c, the
normal matrix XWXᵀ has blocks G = ΦWΦᵀ, E = DWΦᵀ, H = DWDᵀ, and the θ step solves

.. math:: (S + \lambda\,\mathrm{diag}\,S)\,\delta = D W r - E G^{-1} \Phi W r,
          \qquad S = H - E G^{-1} E^\top

(the Schur complement: the Gauss–Newton step of θ with c eliminated; Φ W r = 0 at the
linear optimum of the Gaussian likelihood, which is Kaufman's variable-projection step),
in unconstrained coordinates (log widths, logit mixing fractions) with a trust region of
1.5 per step on them, as in :mod:`iondyn.saem.refine`.

Likelihoods: ``gaussian`` — w = 1/σ² (ones: σ unknown, the covariance is scaled by χ²/dof);
``poisson`` — the deviance D = 2Σ[y ln(y/m) − (y − m)] with Fisher-scoring weights w = 1/m
(McCullagh & Nelder, *Generalized Linear Models*, 2nd ed. (1989), §2.5): c is then solved
with the weights of the current model (iteratively reweighted least squares), and a trial
point also tries half of that step, so the deviance decreases at every accepted step; at
convergence c and θ satisfy the Poisson score equations. The covariance of (c, θ) is the
inverse Fisher information (XWXᵀ)⁻¹ (a clamped coefficient and the shape of a peak whose area
is zero are undetermined: their errors are NaN).

All arrays stay on the array module ``xp`` (NumPy or CuPy) during the iterations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from iondyn.maps.device import to_host
from iondyn.maps.model import MapModel

__all__ = ["VPResult", "vp_refine"]

_CLIP = 700.0


@dataclass
class VPResult:
    """Per pixel (host arrays): θ (B, n_nl), coefficients (B, L), cost (B,), model (B, N),
    converged (B,), iterations (B,), clamped (B, L), covariance of [c, θ] (B, L + n_nl, …)."""

    theta: np.ndarray
    coef: np.ndarray
    cost: np.ndarray
    model: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    clamped: np.ndarray
    cov: np.ndarray
    dof: np.ndarray


class _Coords:
    """Natural ↔ unconstrained coordinates of θ for any xp (identity, log, logit)."""

    def __init__(self, xp, kinds, bounds):
        self.xp = xp
        self.log = xp.asarray(np.array([k == "log" for k in kinds]))
        self.logit = xp.asarray(np.array([k == "logit" for k in kinds]))
        self.lo = xp.asarray(np.array([b[0] for b in bounds], dtype=float))
        self.hi = xp.asarray(np.array([b[1] for b in bounds], dtype=float))
        self.nonlinear = np.array([k != "identity" for k in kinds])

    def to_z(self, th):
        xp = self.xp
        u = xp.clip((th - self.lo) / (self.hi - self.lo), 1e-12, 1 - 1e-12)
        return xp.where(
            self.log,
            xp.log(xp.maximum(th, 1e-300)),
            xp.where(self.logit, xp.log(u) - xp.log1p(-u), th),
        )

    def from_z(self, z):
        xp = self.xp
        e = xp.exp(xp.clip(z, -_CLIP, _CLIP))
        sig = 1.0 / (1.0 + xp.exp(-xp.clip(z, -_CLIP, _CLIP)))
        return xp.where(self.log, e, xp.where(self.logit, self.lo + (self.hi - self.lo) * sig, z))

    def dtheta_dz(self, z):
        xp = self.xp
        e = xp.exp(xp.clip(z, -_CLIP, _CLIP))
        sig = 1.0 / (1.0 + xp.exp(-xp.clip(z, -_CLIP, _CLIP)))
        return xp.where(
            self.log, e, xp.where(self.logit, (self.hi - self.lo) * sig * (1 - sig), 1.0)
        )


def _spd_solve(xp, a, rhs):
    """Solve A x = rhs for a batch of symmetric positive (semi)definite A (B, P, P), rhs
    (B, P) or (B, P, M), with Jacobi scaling and a tiny ridge."""
    vec = rhs.ndim == 2
    r = rhs[..., None] if vec else rhs
    good = xp.all(xp.isfinite(a.reshape(a.shape[0], -1)), axis=1)
    p = a.shape[-1]
    eye = xp.eye(p)
    a = xp.where(good[:, None, None], a, eye)
    d = xp.diagonal(a, axis1=1, axis2=2)
    dmax = xp.max(d, axis=1, keepdims=True)
    d = xp.maximum(d, 1e-14 * xp.maximum(dmax, 1e-300))
    s = 1.0 / xp.sqrt(d)
    sa = a * s[:, :, None] * s[:, None, :] + 1e-10 * eye
    sol = xp.linalg.solve(sa, r * s[:, :, None]) * s[:, :, None]
    sol = xp.where(xp.isfinite(sol), sol, 0.0)
    return sol[..., 0] if vec else sol


def _masked_gram(xp, g, free):
    """G with the rows/columns of clamped coefficients replaced by the identity."""
    both = free[:, :, None] & free[:, None, :]
    eye = xp.eye(g.shape[-1], dtype=bool)[None]
    return xp.where(both, g, xp.where(eye, 1.0, 0.0))


def _nnls(xp, g, h, nonneg, free=None, n_pass: int | None = None):
    """Batched active-set solution of min cᵀGc − 2hᵀc with c_j ≥ 0 where ``nonneg``.
    Returns (c (B, L), free (B, L))."""
    b, l_count = h.shape
    nn = xp.asarray(nonneg)[None, :]
    free = xp.ones((b, l_count), dtype=bool) if free is None else free.copy()
    for _ in range(n_pass or (2 * l_count + 2)):
        c = _spd_solve(xp, _masked_gram(xp, g, free), xp.where(free, h, 0.0))
        c = xp.where(free, c, 0.0)
        neg = nn & free & (c < 0)
        # release the clamped coefficient whose gradient points into the feasible set
        grad = h - xp.einsum("bij,bj->bi", g, c)
        scale = xp.sqrt(xp.maximum(xp.diagonal(g, axis1=1, axis2=2), 1e-300))
        want = ~free & (grad / scale > 1e-9 * xp.max(xp.abs(h) / scale, axis=1, keepdims=True))
        any_neg = xp.any(neg, axis=1)
        release = want & ~any_neg[:, None]
        if release.any():
            best = xp.argmax(xp.where(release, grad / scale, -xp.inf), axis=1)
            rel = xp.zeros_like(release)
            rel[xp.arange(b), best] = True
            release = rel & release
        if not (bool(any_neg.any()) or bool(release.any())):
            return c, free
        free = (free & ~neg) | release
    c = _spd_solve(xp, _masked_gram(xp, g, free), xp.where(free, h, 0.0))
    return xp.where(free, xp.where(nn & (c < 0), 0.0, c), 0.0), free


class _Lik:
    def __init__(self, xp, name, y, w):
        self.xp = xp
        self.name = name
        self.y = y
        self.w = w
        if name == "poisson":
            self.ylogy = xp.where(y > 0, y * xp.log(xp.where(y > 0, y, 1.0)), 0.0)

    def weights(self, rows, m):
        xp = self.xp
        if self.name == "poisson":
            return 1.0 / xp.maximum(m, 1e-6)
        return self.w[rows] if self.w is not None else xp.ones_like(m)

    def cost(self, rows, m):
        xp = self.xp
        y = self.y[rows]
        if self.name == "poisson":
            with np.errstate(divide="ignore", invalid="ignore"):
                t = self.ylogy[rows] - y * xp.log(xp.maximum(m, 1e-300)) - y + m
            bad = xp.any(m <= 0, axis=1) | ~xp.all(xp.isfinite(m), axis=1)
            return xp.where(bad, xp.inf, 2.0 * xp.sum(t, axis=1))
        r = y - m
        w = self.w[rows] if self.w is not None else 1.0
        c = xp.sum(w * r * r, axis=1)
        return xp.where(xp.isfinite(c), c, xp.inf)


def _model(xp, phi, c, off):
    m = xp.matmul(c[:, None, :], phi)[:, 0, :]
    return m if off is None else m + off


def vp_refine(
    model: MapModel,
    y: Any,
    theta0: Any,
    *,
    likelihood: str = "gaussian",
    weights: Any = None,
    offset: Any = None,
    batch_rows: int | None = None,
    **options: Any,
) -> VPResult:
    """Refine θ from ``theta0`` (B, n_nl) for every row of ``y`` (B, N) (module docstring).

    ``weights`` 1/σ² (B, N) for the Gaussian likelihood (None: unknown σ); ``offset`` (B, N)
    a fixed additive baseline (the ALS background). Rows are refined in sub-batches of
    ``batch_rows`` (default 256 on the CPU, where arrays that fit the processor's cache make
    every elementwise operation several times faster; all rows at once on a GPU); rows are
    independent, so the result does not depend on it.
    """
    b_count = int(np.shape(y)[0])
    step = batch_rows or (256 if model.xp is np else b_count)
    if b_count <= step:
        return _vp_refine(model, y, theta0, likelihood, weights, offset, **options)
    parts = []
    for i in range(0, b_count, step):
        sl = slice(i, i + step)
        parts.append(
            _vp_refine(
                model,
                y[sl],
                theta0[sl],
                likelihood,
                None if weights is None else weights[sl],
                None if offset is None else offset[sl],
                **options,
            )
        )
    return VPResult(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in VPResult.__dataclass_fields__)
    )


def _vp_refine(
    model: MapModel,
    y: Any,
    theta0: Any,
    likelihood: str = "gaussian",
    weights: Any = None,
    offset: Any = None,
    max_iter: int = 60,
    gain_tol: float = 1e-4,
    step_tol: float = 1e-3,
    stall_iter: int = 8,
    max_log_step: float = 1.5,
) -> VPResult:
    xp = model.xp
    y = xp.asarray(y, dtype=float)
    b_count, n = y.shape
    w = None if weights is None else xp.asarray(weights, dtype=float)
    off = None if offset is None else xp.asarray(offset, dtype=float)
    lik = _Lik(xp, likelihood, y, w)
    crd = _Coords(xp, model.kinds, model.bounds)
    nonneg = model.nonneg
    l_count = model.n_lin
    p_count = model.n_nl
    z = crd.to_z(xp.asarray(theta0, dtype=float))
    all_rows = xp.arange(b_count)

    def target(rows):
        return y[rows] if off is None else y[rows] - off[rows]

    def lin_solve(rows, phi, wts, free=None):
        pw = phi * wts[:, None, :]
        g = xp.matmul(pw, phi.transpose(0, 2, 1))
        h = xp.matmul(pw, target(rows)[:, :, None])[..., 0]
        return _nnls(xp, g, h, nonneg, free)

    # start: c at θ0, with IRLS passes for Poisson (weights of the data, then of the model)
    with np.errstate(all="ignore"):
        phi, parts = model.basis(crd.from_z(z), True)
        wts = lik.weights(all_rows, xp.maximum(y, 1.0)) if likelihood == "poisson" else None
        if wts is None:
            wts = lik.weights(all_rows, y)
        coef, free = lin_solve(all_rows, phi, wts)
        m = _model(xp, phi, coef, None if off is None else off)
        if likelihood == "poisson":
            for _ in range(2):
                coef, free = lin_solve(all_rows, phi, lik.weights(all_rows, m), free)
                m = _model(xp, phi, coef, off)
        cost = lik.cost(all_rows, m)
    lam = xp.full(b_count, 1e-3)
    iterations = np.zeros(b_count, dtype=int)
    converged = xp.zeros(b_count, dtype=bool)
    stalled = xp.zeros(b_count, dtype=int)
    active = xp.isfinite(cost)
    nonlinear = xp.asarray(crd.nonlinear)
    dof = max(n - l_count - p_count, 1)

    for _ in range(max_iter):
        rows = xp.nonzero(active)[0]
        if int(rows.size) == 0:
            break
        with np.errstate(all="ignore"):
            ph, cf, fr, mr = phi[rows], coef[rows], free[rows], m[rows]
            pr = {
                k: (v[rows] if v is not None and getattr(v, "ndim", 0) else v)
                for k, v in parts.items()
            }
            d = model.jacobian(cf, pr)
            wts = lik.weights(rows, mr)
            xmat = xp.concatenate([ph, d], axis=1)
            xw = xmat * wts[:, None, :]
            big = xp.matmul(xw, xmat.transpose(0, 2, 1))
            r = y[rows] - mr
            grad = xp.matmul(xw, r[:, :, None])[..., 0]
            g = _masked_gram(xp, big[:, :l_count, :l_count], fr)
            e = big[:, l_count:, :l_count] * fr[:, None, :]
            h = big[:, l_count:, l_count:]
            gc = xp.where(fr, grad[:, :l_count], 0.0)
            ginv_et = _spd_solve(xp, g, e.transpose(0, 2, 1))
            ginv_gc = _spd_solve(xp, g, gc)
            s = h - xp.matmul(e, ginv_et)
            gth = grad[:, l_count:] - xp.einsum("bpl,bl->bp", e, ginv_gc)
            jz = crd.dtheta_dz(z[rows])
            sz = s * jz[:, :, None] * jz[:, None, :]
            gz = gth * jz
            dg = xp.maximum(xp.diagonal(sz, axis1=1, axis2=2), 1e-300)
            damped = sz + (lam[rows][:, None, None] * dg[:, None, :]) * xp.eye(p_count)
            delta = _spd_solve(xp, damped, gz)
            if bool(crd.nonlinear.any()):
                biggest = xp.max(xp.abs(xp.where(nonlinear, delta, 0.0)), axis=1)
                delta = delta * xp.minimum(1.0, max_log_step / xp.maximum(biggest, 1e-300))[:, None]
            z_try = z[rows] + delta
            ph_t, parts_t = model.basis(crd.from_z(z_try), True)
            c_t, fr_t = lin_solve(rows, ph_t, wts, fr)
            m_t = _model(xp, ph_t, c_t, None if off is None else off[rows])
            cost_t = lik.cost(rows, m_t)
            if likelihood == "poisson":
                c_h = 0.5 * (c_t + cf)
                m_h = _model(xp, ph_t, c_h, None if off is None else off[rows])
                cost_h = lik.cost(rows, m_h)
                use_h = cost_h < cost_t
                c_t = xp.where(use_h[:, None], c_h, c_t)
                fr_t = xp.where(use_h[:, None], fr_t | fr, fr_t)
                m_t = xp.where(use_h[:, None], m_h, m_t)
                cost_t = xp.where(use_h, cost_h, cost_t)
            accept = xp.isfinite(cost_t) & (cost_t <= cost[rows])
            if likelihood == "gaussian" and w is None:
                sigma2 = cost[rows] / dof
            else:
                sigma2 = xp.ones(rows.size)
            gain = (cost[rows] - cost_t) / xp.maximum(sigma2, 1e-300)
            eye = xp.broadcast_to(xp.eye(p_count), sz.shape).copy()
            inv_diag = xp.diagonal(_spd_solve(xp, sz, eye), axis1=1, axis2=2)
            se = xp.sqrt(xp.maximum(inv_diag, 1e-300) * sigma2[:, None])
            step = xp.max(xp.abs(delta) / se, axis=1) if p_count else xp.zeros(rows.size)
            done = accept & ((gain < gain_tol) | (step < step_tol))
        acc = rows[accept]
        if int(acc.size):
            z[acc] = z_try[accept]
            phi[acc] = ph_t[accept]
            for k, v in parts_t.items():
                if v is not None and getattr(v, "ndim", 0):
                    parts[k][acc] = v[accept]
            coef[acc] = c_t[accept]
            free[acc] = fr_t[accept]
            m[acc] = m_t[accept]
            cost[acc] = cost_t[accept]
        lam[rows] = xp.where(accept, xp.maximum(lam[rows] / 3.0, 1e-12), lam[rows] * 4.0)
        stuck = ~accept & (lam[rows] > 1e8)
        done = done | stuck
        converged[rows[done]] = True
        active[rows[done]] = False
        slow = ~done & (~accept | (gain < 1e-6))
        stalled[rows] = xp.where(slow, stalled[rows] + 1, 0)
        active[rows[stalled[rows] >= stall_iter]] = False
        iterations[to_host(rows)] += 1

    cov = _covariance(model, crd, z, coef, free, phi, parts, lik, all_rows, m, w, likelihood, dof)
    return VPResult(
        to_host(crd.from_z(z)),
        to_host(coef),
        to_host(cost),
        to_host(m),
        to_host(converged),
        iterations,
        to_host(~free),
        cov,
        np.full(b_count, dof),
    )


def _covariance(model, crd, z, coef, free, phi, parts, lik, rows, m, w, likelihood, dof):
    """(B, L + n_nl, L + n_nl) covariance of [c, θ] in natural units (host; NaN where a
    parameter is clamped or undetermined)."""
    from iondyn.saem.refine import normal_matrix_covariance

    xp = model.xp
    with np.errstate(all="ignore"):
        d = model.jacobian(coef, parts)
        xmat = xp.concatenate([phi, d], axis=1)
        wts = lik.weights(rows, m)
        info = to_host(xp.matmul(xmat * wts[:, None, :], xmat.transpose(0, 2, 1)))
    fixed = np.zeros(info.shape[:2], dtype=bool)
    clamped = to_host(~free)
    fixed[:, : model.n_lin] = clamped
    p = model.shape.n_params
    for k in range(model.k):
        fixed[:, model.n_lin + k * p : model.n_lin + (k + 1) * p] |= clamped[:, k : k + 1]
    q = info.shape[1]
    eye = np.eye(q, dtype=bool)
    both = ~fixed[:, :, None] & ~fixed[:, None, :]
    info = np.where(both, info, np.where(eye[None], 1.0, 0.0))
    cov, _ = normal_matrix_covariance(info)
    if likelihood == "gaussian" and w is None:
        with np.errstate(all="ignore"):
            cov = cov * (to_host(lik.cost(rows, m)) / dof)[:, None, None]
    cov[fixed[:, :, None] | fixed[:, None, :]] = np.nan
    return cov
