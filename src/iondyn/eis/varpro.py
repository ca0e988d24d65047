"""Batched variable-projection CNLS of arc chains: the candidate scan of :mod:`iondyn.eis.autofit`.

In ZARC form the candidate circuits ``R0-p(R1,CPE1)-…-p(RK,CPEK)[-CPE(K+1)]`` are

    Z(ω) = R₀ + Σ_k R_k a_k(ω) + Y_e a_e(ω),   a_k = 1/(1 + (iωτ_k)^{n_k}),   a_e = (iω)^{−n_e},

with τ_k = (R_k Q_k)^{1/n_k} and Y_e = 1/Q_e: *linear* in c = (R₀, R₁ … R_K, Y_e) for fixed
θ = (ln τ_k, n_k, n_e). Variable projection (Golub & Pereyra, SIAM J. Numer. Anal. 10, 413
(1973)) eliminates c: for every θ the weighted linear least-squares problem min‖W(y − A(θ)c)‖²
(modulus weights W = 1/|Z|, real and imaginary parts stacked) is solved exactly, with c ≥ 0
imposed by an active set (a negative amplitude is clamped to zero and the rest re-solved),
and Levenberg–Marquardt runs on θ alone (at most 2K + 1 parameters) with Kaufman's Jacobian
(BIT 15, 49 (1975))

    J = P⊥ ∂(A c)/∂θ,   P⊥ = I − A (AᵀA)⁻¹ Aᵀ,
    ∂a/∂ln τ = −a² n x,   ∂a/∂n = −a² x ln(iωτ),   x = (iωτ)ⁿ,   ∂a_e/∂n_e = −a_e ln(iω).

(only JᵀJ = DᵀD − EᵀG⁻¹E and Jᵀr = Dᵀr are formed, D = ∂(A c)/∂θ, E = AᵀD, G = AᵀA:
the residual r is orthogonal to the free columns of A at the linear optimum). The amplitudes
are always optimal, so a start needs only the arcs' τ and n; the R–Q valley that slows a fit
in (R, Q, n) does not exist. Every row of the batch is one start of one candidate for one
spectrum — rows of many spectra (NaN-padded to a common length), of different K and with or
without the electrode iterate together (in a padded layout of ``slots`` arcs, unused ones
masked, or grouped by K for large batches); rows are independent of each other. Exponents
live in [``N_LO``, ``N_HI``] = [0.2, 1] through a logit z (1 is the bound of the final CNLS: a
scan solution with n > 1 would be one the refinement cannot reach), with |z| ≤ 7 (n ≤ 0.9993):
at the logit's saturation dn/dz → 0, an arc that touched n ≈ 1 could not come back, and the
step limit of 1.5 per iteration, applied to the whole step, shrank every other parameter's
step with it (its Gauss–Newton step in z grows as 1/(dn/dz)). So the exponents' steps are
clipped one by one, ln τ's together (keeping their direction); ln τ is kept (projected)
within two decades beyond the measured window, 1/(100 ω_max) ≤ τ ≤ 100/ω_min. Without that
bound an over-fitted arc ran to τ → ∞, R → ∞, where the overflow guard on (ωτ)ⁿ turned
R·a(ω) into a frequency-independent complex constant — no circuit element — that "explained"
noise and won the BIC.

A row has converged when

* the undamped Gauss–Newton step predicts a decrease of χ² below ``gtol`` noise units,
  gᵀ(JJᵀ)⁻¹g < gtol · χ²/(2N − k) — a stationary point whatever the damping (unlike a small
  accepted step, a heavily damped crawl does not pass this test);
* or an accepted step lowered χ² by less than ``ftol`` relative while the damping is small;
* or χ² fell by less than ``stall_gain`` noise units over ``stall_iter`` iterations with at
  least one accepted step among them — a flat valley where further progress is statistically
  irrelevant (typically two arcs of an over-fitted candidate merging, which the scan's
  covariance test then rejects). Iterations that were all rejected say the damping is too
  small, not that the valley is flat: counted, four of them (a row resumed at λ = 10⁻³) once
  ended a row 600 noise units above its optimum as "converged". A resumed row now also
  starts at the damping it ended with (``lam0``).

A parameter at its bound whose descent direction points outwards is held for that step
(the active set of projected Newton methods, Bertsekas, SIAM J. Control Optim. 20, 221
(1982)): the step would be cut back to the bound anyway, and the other parameters'
steps, computed as if it moved, need not descend; the stationarity test above is then the
one of the free parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iondyn.eis.varpro_model import N_HI, N_LO, Z_MAX, Problem, n_of, z_of

__all__ = ["N_HI", "N_LO", "ArcRows", "varpro_fit"]

_MAX_STEP = 1.5  # largest change of ln τ or of a logit exponent per iteration


@dataclass
class ArcRows:
    """Per row: ``tau`` (B, S), ``n`` (B, S), ``ne`` (B,), amplitudes ``c`` (B, S + 2) =
    (R₀, R₁ … R_S, Y_e), ``cost`` χ² (B,), ``converged`` (B,), ``iterations`` (B,), the
    Levenberg–Marquardt damping ``lam`` (B,) at the end (a row resumed later starts there)."""

    tau: np.ndarray
    n: np.ndarray
    ne: np.ndarray
    c: np.ndarray
    cost: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    lam: np.ndarray


def _lm_step(h, g, lam, on):
    """Solve (H + λ diag H) δ = g per row with Jacobi scaling; inactive θ get δ = 0 (their
    scale is zero: a zero row and column of the scaled matrix with a unit diagonal)."""
    d = np.diagonal(h, axis1=-2, axis2=-1)
    ok = on & (d > 1e-14 * np.maximum(d.max(axis=-1, keepdims=True), 1e-300))
    s = ok / np.sqrt(np.where(ok, d, 1.0))
    m = h * (s[:, :, None] * s[:, None, :])
    p = h.shape[-1]
    m.reshape(m.shape[0], p * p)[:, :: p + 1] += np.where(ok, lam[:, None], 1.0) + 1e-10
    try:
        sol = np.linalg.solve(m, (g * s)[..., None])[..., 0]
    except np.linalg.LinAlgError:
        sol = np.stack([np.linalg.lstsq(m[i], g[i] * s[i], rcond=None)[0] for i in range(len(m))])
    return sol * s


def varpro_fit(
    omega: np.ndarray,
    z: np.ndarray,
    n_arcs: np.ndarray,
    electrode: np.ndarray,
    tau0: np.ndarray,
    n0: np.ndarray,
    ne0: np.ndarray,
    spectrum: np.ndarray | None = None,
    max_iter: int = 200,
    gtol: float = 1e-2,
    ftol: float = 1e-10,
    stall_iter: int = 4,
    stall_gain: float = 0.2,
    group_rows: int = 64,
    lam0: np.ndarray | None = None,
) -> ArcRows:
    """Fit every row (``n_arcs`` (B,), ``electrode`` (B,) bool, starts ``tau0``/``n0``
    (B, S) and ``ne0`` (B,)) to its spectrum and return the optima (see the module docstring).

    ``omega``/``z``: one spectrum (N,) or M spectra (M, N), padded with NaN where they have
    fewer points; ``spectrum`` (B,): the spectrum of each row (default: all rows the first).
    Rows are independent: a row's result does not depend on the others. With at least
    ``group_rows`` rows the rows are fitted in groups of equal ``n_arcs`` with no padded arc
    slots (less arithmetic; fewer, larger NumPy calls pay off below that). ``lam0`` (B,): the
    starting damping per row (default 10⁻³; a row resumed from an earlier run passes the
    damping it ended with, so it does not spend its first steps on rejected trials).
    """
    n_arcs = np.asarray(n_arcs, dtype=int)
    electrode = np.asarray(electrode, dtype=bool)
    tau0 = np.asarray(tau0, dtype=float)
    n0 = np.asarray(n0, dtype=float)
    ne0 = np.asarray(ne0, dtype=float)
    omega = np.atleast_2d(np.asarray(omega, dtype=float))
    z = np.atleast_2d(np.asarray(z, dtype=complex))
    b = n_arcs.size
    spec = np.zeros(b, dtype=int) if spectrum is None else np.asarray(spectrum, dtype=int)
    lam0 = np.full(b, 1e-3) if lam0 is None else np.asarray(lam0, dtype=float)
    opts = (max_iter, gtol, ftol, stall_iter, stall_gain)
    kinds = np.unique(n_arcs)
    if b < group_rows or kinds.size == 1:
        return _fit_rows(omega, z, spec, n_arcs, electrode, tau0, n0, ne0, lam0, *opts)
    slots = tau0.shape[1]
    out = ArcRows(
        np.ones((b, slots)),
        np.ones((b, slots)),
        np.ones(b),
        np.zeros((b, slots + 2)),
        np.full(b, np.inf),
        np.zeros(b, dtype=bool),
        np.zeros(b, dtype=int),
        lam0.copy(),
    )
    for k in kinds:
        i = np.nonzero(n_arcs == k)[0]
        r = _fit_rows(
            omega,
            z,
            spec[i],
            n_arcs[i],
            electrode[i],
            tau0[i, :k],
            n0[i, :k],
            ne0[i],
            lam0[i],
            *opts,
        )
        out.tau[i, :k], out.n[i, :k], out.ne[i] = r.tau, r.n, r.ne
        out.c[i, : k + 1], out.c[i, -1] = r.c[:, :-1], r.c[:, -1]
        out.cost[i], out.converged[i], out.iterations[i] = r.cost, r.converged, r.iterations
        out.lam[i] = r.lam
    return out


def _fit_rows(
    omega,
    z,
    spec,
    n_arcs,
    electrode,
    tau0,
    n0,
    ne0,
    lam0,
    max_iter,
    gtol,
    ftol,
    stall_iter,
    stall_gain,
) -> ArcRows:
    """The Levenberg–Marquardt loop of :func:`varpro_fit` with ``tau0.shape[1]`` arc slots."""
    slots = tau0.shape[1]
    b = n_arcs.size
    prob = Problem(omega, z, spec, n_arcs, electrode, slots)
    theta = np.concatenate(
        [np.log(np.maximum(tau0, 1e-300)), z_of(n0), z_of(np.asarray(ne0, float))[:, None]],
        axis=1,
    )
    theta[:, :slots] = np.clip(theta[:, :slots], prob.u_lo[:, None], prob.u_hi[:, None])
    all_rows = np.arange(b)
    with np.errstate(all="ignore"):
        cost, c, hess, grad, free = prob.evaluate(theta, all_rows)
    cost = np.where(np.isfinite(cost), cost, np.inf)
    lam = lam0.astype(float).copy()
    iterations = np.zeros(b, dtype=int)
    converged = np.zeros(b, dtype=bool)
    active = np.isfinite(cost)
    on = prob.theta_on
    # the bounds of θ: ln τ within the window's margins, the exponents' logits within ±Z_MAX
    th_lo = np.concatenate(
        [np.repeat(prob.u_lo[:, None], slots, 1), np.full((b, slots + 1), -Z_MAX)], 1
    )
    th_hi = np.concatenate(
        [np.repeat(prob.u_hi[:, None], slots, 1), np.full((b, slots + 1), Z_MAX)], 1
    )
    ref_cost = cost.copy()  # for the stall test, every `stall_iter` iterations
    moves = np.zeros(b, dtype=int)  # accepted steps since the last stall test
    for _ in range(max_iter):
        rows = np.nonzero(active)[0]
        if rows.size == 0:
            break
        with np.errstate(all="ignore"):
            h, g = hess[rows], grad[rows]
            # a parameter at its bound whose descent direction g points outwards is held
            # for this step (projected LM): its step would be cut back to the bound anyway,
            # and the others' steps, computed as if it moved, would not descend
            t = theta[rows]
            held = ((t >= th_hi[rows] - 1e-9) & (g > 0)) | ((t <= th_lo[rows] + 1e-9) & (g < 0))
            on_rows = on[rows] & ~held
            # the undamped (λ = 0) and the damped step in one batched solve
            both = _lm_step(
                np.concatenate([h, h]),
                np.concatenate([g, g]),
                np.concatenate([np.zeros(rows.size), lam[rows]]),
                np.concatenate([on_rows, on_rows]),
            )
            gn, delta = both[: rows.size], both[rows.size :]
            predicted = np.einsum("bp,bp->b", gn, g)
        stationary = ~(predicted > gtol * cost[rows] / prob.dof[rows])
        converged[rows[stationary]] = True
        active[rows[stationary]] = False
        keep = ~stationary
        rows, delta = rows[keep], delta[keep]
        if rows.size == 0:
            break
        delta = np.where(np.isfinite(delta), delta, 0.0)
        # ln τ steps are scaled together (direction kept); an exponent's logit step is
        # clipped on its own, so one exponent near its bound does not freeze the others
        biggest = np.abs(delta[:, :slots]).max(axis=-1, initial=0.0)
        delta *= np.minimum(1.0, _MAX_STEP / np.maximum(biggest, 1e-300))[:, None]
        zs = delta[:, slots:]
        np.clip(zs, -_MAX_STEP, _MAX_STEP, out=zs)
        t_try = theta[rows] + delta
        u_try = t_try[:, :slots]  # ln τ within its bounds (a view: clipped in place)
        np.minimum(
            np.maximum(u_try, prob.u_lo[rows, None], out=u_try), prob.u_hi[rows, None], out=u_try
        )
        z_try = t_try[:, slots:]
        np.clip(z_try, -Z_MAX, Z_MAX, out=z_try)
        with np.errstate(all="ignore"):
            c_try, cc, hh, gg, ff = prob.evaluate(t_try, rows, free[rows])
        ok = np.isfinite(c_try) & np.isfinite(hh.sum(axis=(1, 2)))  # (a NaN or ∞ propagates)
        accept = ok & (c_try < cost[rows])
        iterations[rows] += 1
        gain = (cost[rows] - c_try) / np.maximum(cost[rows], 1e-300)
        done = accept & (gain < ftol) & (lam[rows] < 1e-2)
        acc = rows[accept]
        theta[acc], cost[acc], c[acc] = t_try[accept], c_try[accept], cc[accept]
        hess[acc], grad[acc], free[acc] = hh[accept], gg[accept], ff[accept]
        lam[rows] = np.where(accept, np.maximum(lam[rows] / 3.0, 1e-9), lam[rows] * 4.0)
        stuck = ~accept & (lam[rows] > 1e10)
        # stall: χ² fell by less than `stall_gain` noise units over the last `stall_iter`
        # iterations, at least one of them accepted — a flat valley (typically two arcs of an
        # over-fitted candidate merging); only rejected steps say the damping is too small
        moves[acc] += 1
        check = iterations[rows] % stall_iter == 0
        sigma2 = cost[rows] / prob.dof[rows]
        stall = check & (moves[rows] > 0) & (ref_cost[rows] - cost[rows] < stall_gain * sigma2)
        ref_cost[rows[check]] = cost[rows[check]]
        moves[rows[check]] = 0
        converged[rows[done | stall]] = True
        active[rows[done | stuck | stall]] = False
    s = slots
    n, _ = n_of(theta[:, s : 2 * s])
    ne, _ = n_of(theta[:, 2 * s])
    return ArcRows(np.exp(theta[:, :s]), n, ne, c, cost, converged, iterations, lam)
