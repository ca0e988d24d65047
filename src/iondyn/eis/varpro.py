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
live in [``N_LO``, ``N_HI``] = [0.2, 1] through a logit (1 is the bound of the final CNLS: a scan
solution with n > 1 would be one the refinement cannot reach); ln τ is kept (projected)
within two decades beyond the measured window, 1/(100 ω_max) ≤ τ ≤ 100/ω_min. Without that
bound an over-fitted arc ran to τ → ∞, R → ∞, where the overflow guard on (ωτ)ⁿ turned
R·a(ω) into a frequency-independent complex constant — no circuit element — that "explained"
noise and won the BIC.

A row has converged when

* the undamped Gauss–Newton step predicts a decrease of χ² below ``gtol`` noise units,
  gᵀ(JJᵀ)⁻¹g < gtol · χ²/(2N − k) — a stationary point whatever the damping (unlike a small
  accepted step, a heavily damped crawl does not pass this test);
* or an accepted step lowered χ² by less than ``ftol`` relative while the damping is small;
* or χ² fell by less than ``stall_gain`` noise units over ``stall_iter`` iterations — a flat
  valley where further progress is statistically irrelevant (typically two arcs of an
  over-fitted candidate merging, which the scan's covariance test then rejects).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["N_HI", "N_LO", "ArcRows", "varpro_fit"]

N_LO, N_HI = 0.2, 1.0
_MAX_STEP = 1.5  # largest change of ln τ or of a logit exponent per iteration


@dataclass
class ArcRows:
    """Per row: ``tau`` (B, S), ``n`` (B, S), ``ne`` (B,), amplitudes ``c`` (B, S + 2) =
    (R₀, R₁ … R_S, Y_e), ``cost`` χ² (B,), ``converged`` (B,), ``iterations`` (B,)."""

    tau: np.ndarray
    n: np.ndarray
    ne: np.ndarray
    c: np.ndarray
    cost: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray


def _n_of(zn):
    sig = 1.0 / (1.0 + np.exp(-np.minimum(np.maximum(zn, -40.0), 40.0)))
    return N_LO + (N_HI - N_LO) * sig, (N_HI - N_LO) * sig * (1.0 - sig)


def _z_of(n):
    u = np.clip((np.asarray(n, dtype=float) - N_LO) / (N_HI - N_LO), 1e-9, 1 - 1e-9)
    return np.log(u) - np.log1p(-u)


class _Problem:
    """The data of every spectrum and the padded layout shared by all rows.

    ``omega``/``z``: (M, N) — M spectra padded to N points (padding: ω = NaN, weight 0);
    ``spec`` (B,): the spectrum of each row.
    """

    def __init__(self, omega, z, spec, n_arcs, electrode, slots):
        valid = np.isfinite(omega) & np.isfinite(z)
        zz = np.where(valid, z, 1.0)
        self.w = np.where(valid, 1.0 / np.abs(zz), 0.0)  # (M, N); padding weighs nothing
        self.y = np.concatenate([zz.real * self.w, zz.imag * self.w], axis=-1)  # (M, 2N)
        self.ynorm = np.sqrt(np.einsum("mn,mn->m", self.y, self.y))
        lnw = np.log(np.where(valid, omega, 1.0))
        big = np.where(valid, lnw, -np.inf).max(axis=1)
        small = np.where(valid, lnw, np.inf).min(axis=1)
        # padded points sit at the highest frequency (their weight is zero anyway)
        self.lnw = np.where(valid, lnw, big[:, None])
        self.spec = np.asarray(spec, dtype=int)
        # ln τ of an arc stays within two decades beyond the window (see varpro_fit)
        self.u_lo = (-big - np.log(100.0))[self.spec]
        self.u_hi = (-small + np.log(100.0))[self.spec]
        self.n_pts = valid.sum(axis=1)[self.spec]
        self.slots = slots
        b = n_arcs.size
        self.arc_on = np.arange(slots)[None, :] < n_arcs[:, None]  # (B, S)
        self.cols = np.concatenate([np.ones((b, 1), bool), self.arc_on, electrode[:, None]], 1)
        self.theta_on = np.concatenate([self.arc_on, self.arc_on, electrode[:, None]], 1)
        self.dof = np.maximum(2 * self.n_pts - (1 + 3 * n_arcs + 2 * electrode), 1)
        self.n = omega.shape[1]

    def evaluate(self, theta, rows, free0=None):
        """χ², amplitudes, Gauss–Newton matrix JᵀJ (rows, P, P), gradient Jᵀr (rows, P) of
        the projected problem and the free-amplitude mask at θ (``free0``: the mask to start
        the active set from). Real arithmetic: with x = (ωτ)ⁿ, φ = nπ/2 and D = 1 + 2x cos φ + x²,
        Re a = (1 + x cos φ)/D, Im a = −x sin φ/D; a(a − 1) = Re: a′(a′ − 1) − a″²,
        Im: a″(2a′ − 1)."""
        s, nn = self.slots, self.n
        sp = self.spec[rows]
        lnw, w, y = self.lnw[sp], self.w[sp], self.y[sp]
        u = theta[:, :s]
        n_all, dn_all = _n_of(theta[:, s:])  # the arcs' exponents and the electrode's
        n, dn, ne, dne = n_all[:, :s], dn_all[:, :s], n_all[:, s], dn_all[:, s]
        b = theta.shape[0]
        # L = ln ωτ per arc and point; x = (ωτ)ⁿ per arc and, in the last slot, the
        # electrode's ω^{−n_e}, clipped at e^±150 (no subnormal products)
        big_l = u[..., None] + lnw[:, None, :]  # (B, S, N)
        expo = np.empty((b, s + 1, nn))
        np.multiply(n[..., None], big_l, out=expo[:, :s])
        np.multiply(-ne[:, None], lnw, out=expo[:, s])
        xe = np.exp(_clip150(expo))
        phi = 0.5 * np.pi * n_all  # (B, S + 1)
        cos_p, sin_p = np.cos(phi)[..., None], np.sin(phi)[..., None]
        x, cs, sn = xe[:, :s], cos_p[:, :s], sin_p[:, :s]
        xc = x * cs
        inv_d = 1.0 / (1.0 + 2.0 * xc + x * x)
        ar = (1.0 + xc) * inv_d
        ai = -(x * sn) * inv_d
        # electrode a_e = ω^{−n_e} e^{−i n_e π/2}
        mag = xe[:, s]
        er, ei = mag * cos_p[:, s], -mag * sin_p[:, s]
        cols = self.cols[rows]
        # one stack X of the weighted amplitude columns A (real | imaginary parts) and the
        # derivatives D̃ of those columns per unit amplitude (D = diag(c) D̃): every product
        # the step needs (G = AAᵀ, E = A Dᵀ, D Dᵀ) is a block of X Xᵀ — one matmul
        ma, p = s + 2, 2 * s + 1
        xs = np.empty((b, ma + p, 2 * nn))
        aw = xs[:, :ma]
        wc = w[:, None, :] * cols[..., None]  # the weights of the candidate's columns (B, M, N)
        aw[:, 0, :nn] = wc[:, 0]
        aw[:, 0, nn:] = 0.0
        np.multiply(ar, wc[:, 1 : s + 1], out=aw[:, 1 : s + 1, :nn])
        np.multiply(ai, wc[:, 1 : s + 1], out=aw[:, 1 : s + 1, nn:])
        np.multiply(er, wc[:, s + 1], out=aw[:, s + 1, :nn])
        np.multiply(ei, wc[:, s + 1], out=aw[:, s + 1, nn:])
        wa = w[:, None, :]
        # ∂a/∂θ: p = a(a − 1) (= −a² (iωτ)ⁿ); ∂/∂ln τ = n p, ∂/∂z_n = p (L + iπ/2) dn/dz,
        # ∂a_e/∂z_e = −a_e (ln ω + iπ/2) dn_e/dz
        dt = xs[:, ma:]
        pr = ar * (ar - 1.0) - ai * ai
        pim = ai * (2.0 * ar - 1.0)
        nw = n[..., None] * wa
        np.multiply(pr, nw, out=dt[:, :s, :nn])
        np.multiply(pim, nw, out=dt[:, :s, nn:])
        h = 0.5 * np.pi
        dw = dn[..., None] * wa
        np.multiply(pr * big_l - pim * h, dw, out=dt[:, s : 2 * s, :nn])
        np.multiply(pr * h + pim * big_l, dw, out=dt[:, s : 2 * s, nn:])
        ge = -dne[:, None] * w
        np.multiply(ge, er * lnw - ei * h, out=dt[:, 2 * s, :nn])
        np.multiply(ge, er * h + ei * lnw, out=dt[:, 2 * s, nn:])
        gx = xs @ xs.transpose(0, 2, 1)  # (B, M + P, M + P)
        gram = gx[:, :ma, :ma]
        rhs = (aw @ y[..., None])[..., 0]
        # active set for c ≥ 0, warm-started from the row's last one: clamp negative
        # amplitudes at zero; release a clamped one whose gradient Aᵀr says it would grow
        free = cols.copy() if free0 is None else cols & free0
        ginv = _masked_inverse(gram, free)
        c = (ginv @ rhs[..., None])[..., 0]
        if free0 is not None:  # the release threshold, relative to ‖a_j‖ ‖y‖
            tol = 1e-9 * np.sqrt(np.maximum(np.diagonal(gram, axis1=-2, axis2=-1), 1e-300))
            tol *= self.ynorm[sp, None]
        for _ in range(2 * cols.shape[1]):
            change = free & (c < 0)  # to clamp
            if free0 is not None:  # to release: ∂χ²/∂c_j < 0 at c_j = 0
                grad_c = rhs - (gram @ (c * free)[..., None])[..., 0]
                change |= cols & ~free & (grad_c > tol)
            bad = np.nonzero(change.any(axis=1))[0]
            if bad.size == 0:
                break
            free[bad] ^= change[bad]
            ginv[bad] = _masked_inverse(gram[bad], free[bad])
            c[bad] = (ginv[bad] @ (rhs[bad] * free[bad])[..., None])[..., 0]
        c = np.where(free, c, 0.0)
        resid = y - (c[:, None, :] @ aw)[:, 0, :]  # (clamped amplitudes are zero)
        cost = np.einsum("bn,bn->b", resid, resid)
        # Kaufman's J = D P⊥ (P⊥ projects out the free amplitudes' columns) enters only as
        # H = J Jᵀ = D Dᵀ − Eᵀ G⁻¹ E with E = A_free Dᵀ, and g = J r = D r, since A r = 0 at
        # the linear optimum (the normal equations of the free amplitudes; clamped ones are
        # zero columns of A) — J itself is never formed. The rows and columns of inactive θ
        # are zero (their amplitudes are); _lm_step leaves them out anyway.
        cp = np.concatenate([c[:, 1 : s + 1], c[:, 1 : s + 1], c[:, -1:]], axis=1)  # (B, P)
        e = gx[:, :ma, ma:] * free[:, :, None] * cp[:, None, :]  # (B, M, P)
        h = gx[:, ma:, ma:] * (cp[:, :, None] * cp[:, None, :])
        h -= e.transpose(0, 2, 1) @ (ginv @ e)
        g = np.einsum("bpn,bn->bp", dt, resid) * (cp * self.theta_on[rows])
        return cost, c, h, g, free


def _masked_inverse(gram, free):
    """(G restricted to the free amplitudes)⁻¹, zero elsewhere, with Jacobi scaling: the
    scale s is 0 on the clamped amplitudes, so s G s has zero rows and columns there, a unit
    diagonal keeps it invertible, and the final s-scaling zeroes them again."""
    d = np.diagonal(gram, axis1=-2, axis2=-1)
    s = free / np.sqrt(np.maximum(d, 1e-300))
    ss = s[:, :, None] * s[:, None, :]
    g = gram * ss
    m = gram.shape[-1]
    g.reshape(g.shape[0], m * m)[:, :: m + 1] += np.where(free, 1e-12, 1.0)  # the diagonal
    try:
        inv = np.linalg.inv(g)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(g)
    return inv * ss


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


def _clip150(a):
    """``a`` clipped to [−150, 150] in place (e^±150 keeps products clear of subnormals)."""
    return np.minimum(np.maximum(a, -150.0, out=a), 150.0, out=a)


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
) -> ArcRows:
    """Fit every row (``n_arcs`` (B,), ``electrode`` (B,) bool, starts ``tau0``/``n0``
    (B, S) and ``ne0`` (B,)) to its spectrum and return the optima (see the module docstring).

    ``omega``/``z``: one spectrum (N,) or M spectra (M, N), padded with NaN where they have
    fewer points; ``spectrum`` (B,): the spectrum of each row (default: all rows the first).
    Rows are independent: a row's result does not depend on the others. With at least
    ``group_rows`` rows the rows are fitted in groups of equal ``n_arcs`` with no padded arc
    slots (less arithmetic; fewer, larger NumPy calls pay off below that).
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
    opts = (max_iter, gtol, ftol, stall_iter, stall_gain)
    kinds = np.unique(n_arcs)
    if b < group_rows or kinds.size == 1:
        return _fit_rows(omega, z, spec, n_arcs, electrode, tau0, n0, ne0, *opts)
    slots = tau0.shape[1]
    out = ArcRows(
        np.ones((b, slots)),
        np.ones((b, slots)),
        np.ones(b),
        np.zeros((b, slots + 2)),
        np.full(b, np.inf),
        np.zeros(b, dtype=bool),
        np.zeros(b, dtype=int),
    )
    for k in kinds:
        i = np.nonzero(n_arcs == k)[0]
        r = _fit_rows(
            omega, z, spec[i], n_arcs[i], electrode[i], tau0[i, :k], n0[i, :k], ne0[i], *opts
        )
        out.tau[i, :k], out.n[i, :k], out.ne[i] = r.tau, r.n, r.ne
        out.c[i, : k + 1], out.c[i, -1] = r.c[:, :-1], r.c[:, -1]
        out.cost[i], out.converged[i], out.iterations[i] = r.cost, r.converged, r.iterations
    return out


def _fit_rows(
    omega, z, spec, n_arcs, electrode, tau0, n0, ne0, max_iter, gtol, ftol, stall_iter, stall_gain
) -> ArcRows:
    """The Levenberg–Marquardt loop of :func:`varpro_fit` with ``tau0.shape[1]`` arc slots."""
    slots = tau0.shape[1]
    b = n_arcs.size
    prob = _Problem(omega, z, spec, n_arcs, electrode, slots)
    theta = np.concatenate(
        [np.log(np.maximum(tau0, 1e-300)), _z_of(n0), _z_of(np.asarray(ne0, float))[:, None]],
        axis=1,
    )
    theta[:, :slots] = np.clip(theta[:, :slots], prob.u_lo[:, None], prob.u_hi[:, None])
    all_rows = np.arange(b)
    with np.errstate(all="ignore"):
        cost, c, hess, grad, free = prob.evaluate(theta, all_rows)
    cost = np.where(np.isfinite(cost), cost, np.inf)
    lam = np.full(b, 1e-3)
    iterations = np.zeros(b, dtype=int)
    converged = np.zeros(b, dtype=bool)
    active = np.isfinite(cost)
    on = prob.theta_on
    ref_cost = cost.copy()  # for the stall test, every `stall_iter` iterations
    for _ in range(max_iter):
        rows = np.nonzero(active)[0]
        if rows.size == 0:
            break
        with np.errstate(all="ignore"):
            h, g = hess[rows], grad[rows]
            # the undamped (λ = 0) and the damped step in one batched solve
            both = _lm_step(
                np.concatenate([h, h]),
                np.concatenate([g, g]),
                np.concatenate([np.zeros(rows.size), lam[rows]]),
                np.concatenate([on[rows], on[rows]]),
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
        biggest = np.abs(delta).max(axis=-1)
        delta *= np.minimum(1.0, _MAX_STEP / np.maximum(biggest, 1e-300))[:, None]
        t_try = theta[rows] + delta
        u_try = t_try[:, :slots]  # ln τ within its bounds (a view: clipped in place)
        np.minimum(
            np.maximum(u_try, prob.u_lo[rows, None], out=u_try), prob.u_hi[rows, None], out=u_try
        )
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
        # iterations — a flat valley (typically two arcs of an over-fitted candidate merging)
        check = iterations[rows] % stall_iter == 0
        sigma2 = cost[rows] / prob.dof[rows]
        stall = check & (ref_cost[rows] - cost[rows] < stall_gain * sigma2)
        ref_cost[rows[check]] = cost[rows[check]]
        converged[rows[done | stall]] = True
        active[rows[done | stuck | stall]] = False
    s = slots
    n, _ = _n_of(theta[:, s : 2 * s])
    ne, _ = _n_of(theta[:, 2 * s])
    return ArcRows(np.exp(theta[:, :s]), n, ne, c, cost, converged, iterations)
