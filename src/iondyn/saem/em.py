"""Stage 1 of SAEM: batched, accelerated EM on a spectrum read as a weighted histogram.

The non-negative signal w_i (background-subtracted counts times bin width, normalised to
Σ w = 1) is treated as a histogram of events at x_i and fitted by the mixture
p(x) = Σ_k π_k f̃_k(x) with f̃_k normalised on the measured window (Matsumura et al., Sci.
Technol. Adv. Mater. 20, 733 (2019)):

* E-step: r_ik = π_k f̃_k(x_i) / p(x_i)
* M-step: π_k = Σ_i w_i r_ik; θ_k maximises Σ_i w_i r_ik log f̃_k(x_i | θ_k)

All rows (spectra × starts) are iterated together as one array computation. Convergence is
accelerated with SQUAREM (Varadhan & Roland, Scand. J. Stat. 35, 335 (2008)) in unconstrained
coordinates with a monotonicity safeguard. A guard keeps components alive: widths are floored,
components that die (π → 0), collapse onto the floor, or duplicate another one are re-seeded
at the largest positive residual of the fit (a merge followed by a split). The best
log-likelihood state seen is returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iondyn.saem.components.base import Component, Window
from iondyn.saem.components.lineshapes import Gaussian
from iondyn.saem.transforms import from_z, to_z

__all__ = ["EMResult", "run_em"]

_TINY = 1e-300
_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


@dataclass
class EMResult:
    """Best state per row: θ (R, K, P) of the *requested* component, π (R, K), loglik (R,)."""

    theta: np.ndarray
    pi: np.ndarray
    loglik: np.ndarray
    iterations: int
    reseeds: np.ndarray


class _GaussianEM(Gaussian):
    """Gaussian with the closed-form (floored) M-step, the stand-in for location–scale shapes."""

    def m_step(self, x, omega, theta, window=None, sigma_floor=0.0):
        wsum = np.maximum(omega.sum(-1), _TINY)
        xx = np.asarray(x)[..., None, :]
        mu = np.sum(omega * xx, axis=-1) / wsum
        var = np.sum(omega * (xx - mu[..., None]) ** 2, axis=-1) / wsum
        sigma = np.maximum(np.sqrt(np.maximum(var, 0.0)), sigma_floor)
        return np.stack([mu, sigma * _FWHM_PER_SIGMA], axis=-1)


def _e_step(comp, x, w, theta, pi, window):
    f = comp.pdf(x, theta, window)
    mass = comp.window_mass(x, theta, window)
    f = f / mass[..., None]
    mix = pi[..., None] * f
    p = np.maximum(mix.sum(axis=-2), _TINY)
    loglik = np.sum(w * np.log(p), axis=-1)
    return mix / p[..., None, :], loglik, p


def _em_step(comp, x, w, theta, pi, window, sigma_floor, k):
    resp, loglik, _ = _e_step(comp, x, w, theta, pi, window)
    omega = w[..., None, :] * resp
    wk = omega.sum(-1)
    new_pi = np.maximum(wk, 1e-12)
    new_pi = new_pi / new_pi.sum(-1, keepdims=True)
    new_theta = comp.m_step(x, omega, theta, window, sigma_floor=sigma_floor[..., None])
    new_theta = _floor_width(comp, new_theta, sigma_floor)
    return new_theta, new_pi, loglik


def _floor_width(comp, theta, sigma_floor):
    center, sigma = comp.location_scale(theta)
    low = sigma < sigma_floor[..., None]
    if np.any(low):
        fixed = comp.from_location_scale(center, np.maximum(sigma, sigma_floor[..., None]))
        theta = np.where(low[..., None], fixed, theta)
    return theta


def _pack(comp, theta, pi):
    logpi = np.log(np.maximum(pi, 1e-300))
    z = to_z(theta, comp.transforms)
    return np.concatenate([logpi, z.reshape(z.shape[:-2] + (-1,))], axis=-1)


def _unpack(comp, u, k):
    logpi = u[..., :k]
    logpi = logpi - logpi.max(axis=-1, keepdims=True)
    pi = np.exp(logpi)
    pi = pi / pi.sum(-1, keepdims=True)
    z = u[..., k:].reshape(u.shape[:-1] + (k, comp.n_params))
    return from_z(z, comp.transforms), pi


def _guard(comp, x, w, theta, pi, window, sigma_floor, reseeds, max_reseeds):
    """Re-seed dead, collapsed or duplicated components at the largest positive residual."""
    k = pi.shape[-1]
    center, sigma = comp.location_scale(theta)
    dead = pi < 1e-3 / k
    collapsed = sigma <= sigma_floor[..., None] * 1.001
    dup = np.zeros_like(dead)
    if k > 1:
        dc = np.abs(center[..., :, None] - center[..., None, :])
        smin = np.minimum(sigma[..., :, None], sigma[..., None, :])
        close = (dc < 0.5 * smin) & (np.abs(sigma[..., :, None] - sigma[..., None, :]) < 0.5 * smin)
        close &= ~np.eye(k, dtype=bool)
        smaller = pi[..., :, None] <= pi[..., None, :]
        dup = np.any(close & smaller, axis=-1)
    bad = (dead | collapsed | dup) & (reseeds[..., None] < max_reseeds)
    rows = np.nonzero(bad.any(axis=-1))[0]
    if rows.size == 0:
        return theta, pi, reseeds
    theta = theta.copy()
    pi = pi.copy()
    xr = x if x.shape[0] == theta.shape[0] else np.broadcast_to(x, (theta.shape[0], x.shape[-1]))
    _, _, p = _e_step(comp, xr[rows], w[rows], theta[rows], pi[rows], _rows(window, rows))
    # model mass per bin ≈ p·Δx; residual of the normalised histogram
    dx = np.gradient(xr[rows], axis=-1)
    resid = w[rows] - p * np.abs(dx)
    for n, r in enumerate(rows):
        ks = np.nonzero(bad[r])[0]
        for kk in ks:
            i = int(np.argmax(resid[n]))
            good = ~bad[r]
            s_new = float(np.median(sigma[r][good])) if good.any() else float(sigma[r].mean())
            s_new = max(s_new, 2.0 * float(sigma_floor[r]))
            theta[r, kk] = comp.from_location_scale(np.array([xr[r, i]]), np.array([s_new]))[0]
            pi[r, kk] = max(1.0 / k, 0.05)
            # suppress this residual region for the next re-seed of the same row
            lo = max(0, i - 3)
            resid[n, lo : i + 4] = -np.inf
        pi[r] = pi[r] / pi[r].sum()
        reseeds[r] += 1
    return theta, pi, reseeds


def _rows(window: Window, rows: np.ndarray) -> Window:
    if window is None:
        return None
    return (np.asarray(window[0])[rows], np.asarray(window[1])[rows])


def run_em(
    component: Component,
    x: np.ndarray,
    w: np.ndarray,
    theta0: np.ndarray,
    pi0: np.ndarray,
    window: Window,
    sigma_floor: np.ndarray,
    max_iter: int = 60,
    tol: float = 1e-6,
    accelerate: bool = True,
    max_reseeds: int = 3,
) -> EMResult:
    """Run EM on R rows at once.

    ``x`` (R, N) increasing grids, ``w`` (R, N) non-negative weights (normalised here),
    ``theta0`` (R, K, P) starting shape parameters of ``component``, ``pi0`` (R, K),
    ``window`` a pair of (R,) arrays, ``sigma_floor`` (R,) minimal Gaussian-equivalent widths.
    Location–scale components (``component.em_proxy``) are iterated as Gaussians and
    converted at the end; others use their own M-step.
    """
    w = np.asarray(w, dtype=float)
    w = w / np.maximum(w.sum(-1, keepdims=True), _TINY)
    k = pi0.shape[-1]
    if component.em_proxy:
        comp: Component = _GaussianEM()
        c0, s0 = component.location_scale(theta0)
        theta = comp.from_location_scale(c0, np.maximum(s0, sigma_floor[:, None]))
    else:
        comp = component
        theta = _floor_width(comp, np.array(theta0, dtype=float), sigma_floor)
    pi = np.asarray(pi0, dtype=float) / np.sum(pi0, axis=-1, keepdims=True)
    reseeds = np.zeros(theta.shape[0], dtype=int)

    best_theta = theta.copy()
    best_pi = pi.copy()
    best_ll = np.full(theta.shape[0], -np.inf)
    last_ll = np.full(theta.shape[0], -np.inf)
    active = np.ones(theta.shape[0], dtype=bool)
    it = 0
    while it < max_iter and active.any():
        r = np.nonzero(active)[0]
        xs, ws, sf = x[r], w[r], sigma_floor[r]
        win = _rows(window, r)
        th, pp = theta[r], pi[r]
        if accelerate:
            t1, p1, ll0 = _em_step(comp, xs, ws, th, pp, win, sf, k)
            t2, p2, ll1 = _em_step(comp, xs, ws, t1, p1, win, sf, k)
            u0, u1, u2 = _pack(comp, th, pp), _pack(comp, t1, p1), _pack(comp, t2, p2)
            dr = u1 - u0
            v = u2 - 2.0 * u1 + u0
            alpha = -np.linalg.norm(dr, axis=-1) / np.maximum(np.linalg.norm(v, axis=-1), _TINY)
            alpha = np.clip(alpha, -20.0, -1.0)[..., None]
            t_acc, p_acc = _unpack(comp, u0 - 2.0 * alpha * dr + alpha * alpha * v, k)
            t_acc = _floor_width(comp, t_acc, sf)
            ok_vals = np.all(np.isfinite(t_acc.reshape(t_acc.shape[0], -1)), axis=-1)
            t_acc = np.where(ok_vals[:, None, None], t_acc, t2)
            p_acc = np.where(ok_vals[:, None], p_acc, p2)
            t3, p3, ll_acc = _em_step(comp, xs, ws, t_acc, p_acc, win, sf, k)
            good = np.isfinite(ll_acc) & (ll_acc >= ll1)
            th = np.where(good[:, None, None], t3, t2)
            pp = np.where(good[:, None], p3, p2)
            ll_now = np.where(good, ll_acc, ll1)
            states = ((t_acc, p_acc, ll_acc), (t1, p1, ll1), (theta[r], pi[r], ll0))
            it += 3
        else:
            t1, p1, ll0 = _em_step(comp, xs, ws, th, pp, win, sf, k)
            states = ((th, pp, ll0),)
            th, pp = t1, p1
            ll_now = ll0
            it += 1
        # remember the best state whose log-likelihood is known
        for ts, ps, ls in states:
            better = np.isfinite(ls) & (ls > best_ll[r])
            idx = r[better]
            best_ll[idx] = ls[better]
            best_theta[idx] = ts[better]
            best_pi[idx] = ps[better]
        th, pp, reseeds_new = _guard(comp, xs, ws, th, pp, win, sf, reseeds[r].copy(), max_reseeds)
        changed = reseeds_new != reseeds[r]
        reseeds[r] = reseeds_new
        theta[r] = th
        pi[r] = pp
        settled = np.abs(ll_now - last_ll[r]) <= tol * np.maximum(np.abs(ll_now), 1.0)
        last_ll[r] = np.where(changed, -np.inf, ll_now)
        active[r[settled & ~changed]] = False
    # final E-step value of the last state
    _, ll_last, _ = _e_step(comp, x, w, theta, pi, window)
    better = np.isfinite(ll_last) & (ll_last > best_ll)
    best_ll = np.where(better, ll_last, best_ll)
    best_theta = np.where(better[:, None, None], theta, best_theta)
    best_pi = np.where(better[:, None], pi, best_pi)

    if component.em_proxy:
        c, s = comp.location_scale(best_theta)
        best_theta = component.from_location_scale(c, s)
    return EMResult(best_theta, best_pi, best_ll, it, reseeds)
