"""The projected problem of :mod:`iondyn.eis.varpro`: for given nonlinear parameters θ =
(ln τ_k, logit n_k, logit n_e) of every row, the weighted amplitude columns, the exact
non-negative amplitudes (active set) and χ², the Gauss–Newton matrix JᵀJ = DᵀD − EᵀG⁻¹E and
the gradient Jᵀr = Dᵀr of Kaufman's projected Jacobian (BIT 15, 49 (1975)); the formulas are
in :mod:`iondyn.eis.varpro`'s docstring.
"""

from __future__ import annotations

import numpy as np

__all__ = ["N_HI", "N_LO", "Z_MAX", "Problem", "n_of", "z_of"]

N_LO, N_HI = 0.2, 1.0
Z_MAX = 7.0  # |logit| bound of the exponents: n ≤ 0.9993, dn/dz ≥ 7·10⁻⁴ (no saturation)


def n_of(zn):
    """n = N_LO + (N_HI − N_LO) σ(z) and dn/dz for the logits ``zn``."""
    sig = 1.0 / (1.0 + np.exp(-np.minimum(np.maximum(zn, -40.0), 40.0)))
    return N_LO + (N_HI - N_LO) * sig, (N_HI - N_LO) * sig * (1.0 - sig)


def z_of(n):
    """The logit z of exponents ``n``, within ±``Z_MAX``."""
    u = np.clip((np.asarray(n, dtype=float) - N_LO) / (N_HI - N_LO), 1e-9, 1 - 1e-9)
    return np.clip(np.log(u) - np.log1p(-u), -Z_MAX, Z_MAX)


class Problem:
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
        n_all, dn_all = n_of(theta[:, s:])  # the arcs' exponents and the electrode's
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
        # are zero (their amplitudes are); the LM step leaves them out anyway.
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


def _clip150(a):
    """``a`` clipped to [−150, 150] in place (e^±150 keeps products clear of subnormals)."""
    return np.minimum(np.maximum(a, -150.0, out=a), 150.0, out=a)
