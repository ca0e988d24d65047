"""The component interface of the SAEM engine.

A component is a *normalised* peak shape f(x | θ) with shape parameters θ (the peak's weight or
area is handled by the engine). The engine models a spectrum as

    y(x) ≈ Σ_k A_k f(x | θ_k) + background(x)

and, during EM initialisation, treats max(y − baseline, 0) as a weighted histogram of a mixture
Σ_k π_k f̃(x | θ_k) with f̃ normalised on the measured window.

Array conventions (every method is batched):

* ``x`` has shape (..., N) — one grid per spectrum (or a broadcastable (1, N) grid);
* ``theta`` has shape (..., K, P) — K components of P shape parameters each;
* densities come back with shape (..., K, N), gradients with shape (..., K, P, N);
* ``window`` is ``None`` or a pair (lo, hi) of arrays of shape (...,) bounding the measured range.

A new shape (a TSDC peak, a ZARC loss peak, a Gaussian in ln τ) subclasses :class:`Component`
and implements :meth:`pdf`, :meth:`from_location_scale`, :meth:`location_scale` and
:meth:`describe`; analytic gradients (:meth:`pdf_grad`), a closed-form CDF (:meth:`cdf`) and a
closed-form M-step (:meth:`m_step`) are optional speed-ups over the numerical defaults here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from iondyn.saem.transforms import Transform, from_z, to_z

__all__ = ["Component", "Window", "bin_widths", "window_bounds"]

Window = tuple[np.ndarray, np.ndarray] | None

_TINY = 1e-300


def bin_widths(x: np.ndarray) -> np.ndarray:
    """Widths of the bins centred on the grid points of ``x`` (..., N), increasing x.

    Δ_i = (x_{i+1} − x_{i−1})/2 inside, half-intervals at both ends; a single point gets 1.
    Points padded by repeating the last x value get zero width.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    if n == 1:
        return np.ones_like(x)
    d = np.diff(x, axis=-1)
    w = np.zeros_like(x)
    w[..., :-1] += 0.5 * d
    w[..., 1:] += 0.5 * d
    return w


def window_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The measured window of each grid: from half a bin below the first point to half above
    the last (..., N) → two arrays of shape (...)."""
    x = np.asarray(x, dtype=float)
    if x.shape[-1] == 1:
        return x[..., 0] - 0.5, x[..., 0] + 0.5
    lo = x[..., 0] - 0.5 * (x[..., 1] - x[..., 0])
    last = x[..., -1]
    # the last real point (padding repeats it): half a bin of the last real interval above it
    dx = np.diff(x, axis=-1)
    nz = np.where(dx > 0, dx, np.nan)
    last_step = np.take_along_axis(
        nz, np.maximum(np.sum(dx > 0, axis=-1, keepdims=True) - 1, 0), axis=-1
    )[..., 0]
    hi = last + 0.5 * np.nan_to_num(last_step, nan=0.0)
    return lo, hi


class Component(ABC):
    """A normalised peak shape usable by the SAEM engine (see the module docstring)."""

    #: Short name used in results and on the command line.
    name: ClassVar[str] = "component"
    #: Names of the shape parameters θ, in order.
    param_names: ClassVar[tuple[str, ...]] = ()
    #: Names of per-peak quantities :meth:`describe` reports besides center, fwhm, height.
    extra_names: ClassVar[tuple[str, ...]] = ()
    #: True when ∫ f over the measured window is 1 (areas then refer to the window), e.g. the
    #: Doniach–Šunjić line whose integral over the real line diverges.
    window_normalised: ClassVar[bool] = False
    #: True when the EM stage may use a Gaussian stand-in and convert with
    #: :meth:`from_location_scale` (location–scale shapes). False: EM uses this shape itself.
    em_proxy: ClassVar[bool] = True

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    @property
    def transforms(self) -> tuple[Transform, ...]:
        """Per-parameter transforms to unconstrained coordinates (default: all identity)."""
        return tuple(Transform("identity") for _ in self.param_names)

    # ------------------------------------------------------------------ densities
    @abstractmethod
    def pdf(self, x: np.ndarray, theta: np.ndarray, window: Window = None) -> np.ndarray:
        """Density values, (..., K, N)."""

    def cdf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray | None:
        """Closed-form cumulative distribution (..., K, N), or ``None`` when there is none."""
        return None

    def pdf_grad(
        self, x: np.ndarray, theta: np.ndarray, window: Window = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Density and its gradient with respect to θ: ((..., K, N), (..., K, P, N)).

        Default: central finite differences with :meth:`fd_step`.
        """
        f = self.pdf(x, theta, window)
        grad = np.empty(f.shape[:-1] + (self.n_params,) + f.shape[-1:])
        for j in range(self.n_params):
            h = self.fd_step(theta, j)
            tp = theta.copy()
            tm = theta.copy()
            tp[..., j] += h
            tm[..., j] -= h
            grad[..., j, :] = (self.pdf(x, tp, window) - self.pdf(x, tm, window)) / (
                2.0 * h[..., None]
            )
        return f, grad

    def fd_step(self, theta: np.ndarray, j: int) -> np.ndarray:
        """Finite-difference step for parameter ``j`` (..., K): relative for log/logit
        parameters, a small fraction of the peak's width for the others."""
        t = self.transforms[j]
        v = theta[..., j]
        if t.kind == "log":
            return 1e-5 * np.abs(v) + 1e-300
        if t.kind == "logit":
            return 1e-5 * np.minimum(v - t.lo, t.hi - v) + 1e-12
        _, sigma = self.location_scale(theta)
        return 1e-4 * np.maximum(sigma, 1e-12)

    def window_mass(self, x: np.ndarray, theta: np.ndarray, window: Window) -> np.ndarray:
        """∫ f over the window, (..., K): closed-form CDF when available, else the trapezoid
        sum of the density on the grid ``x``."""
        if self.window_normalised:
            return np.ones(theta.shape[:-1])
        if window is not None:
            lo, hi = window
            edges = np.stack([np.asarray(lo, float), np.asarray(hi, float)], axis=-1)
            c = self.cdf(edges, theta)
            if c is not None:
                return np.maximum(c[..., 1] - c[..., 0], _TINY)
        f = self.pdf(x, theta, window)
        return np.maximum(np.sum(f * bin_widths(x)[..., None, :], axis=-1), _TINY)

    # ------------------------------------------------------------------ EM support
    @abstractmethod
    def from_location_scale(self, center: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Shape parameters (..., K, P) of a peak at ``center`` with a Gaussian-equivalent
        standard deviation ``sigma`` (used for seeding and for the Gaussian EM stand-in)."""

    @abstractmethod
    def location_scale(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(center, Gaussian-equivalent σ) of each component, arrays (..., K)."""

    def near_gaussian(self, center: np.ndarray, sigma: np.ndarray) -> np.ndarray | None:
        """For shapes that contain the Gaussian as a limit (Voigt, pseudo-Voigt): parameters
        close to that limit, refined as one more candidate next to :meth:`from_location_scale`
        so the fit can never end worse than the Gaussian basin allows. ``None``: no such limit."""
        return None

    def m_step(
        self,
        x: np.ndarray,
        omega: np.ndarray,
        theta: np.ndarray,
        window: Window = None,
        sigma_floor: np.ndarray | float = 0.0,
    ) -> np.ndarray:
        """Maximise Σ_i ω_ik log f̃(x_i | θ_k) for every component (..., K, P).

        ``omega`` (..., K, N) are the data weights times responsibilities. The default makes
        three damped Newton steps in unconstrained coordinates with finite-difference gradient
        and Hessian, accepting a step only where the objective increases (a generalised EM step,
        which keeps EM's monotonicity).
        """
        return numeric_m_step(self, x, omega, theta, window, n_iter=3)

    # ------------------------------------------------------------------ reporting
    @abstractmethod
    def describe(self, theta: np.ndarray, window: Window = None) -> dict[str, np.ndarray]:
        """Per-peak summary (..., K) arrays: ``center``, ``fwhm``, ``height_per_area`` (peak
        maximum of f) and the quantities named in :attr:`extra_names`."""

    def describe_jacobian(self, theta: np.ndarray, window: Window = None) -> dict[str, np.ndarray]:
        """d(describe)/dθ by central differences: each entry (..., K, P)."""
        keys = ("center", "fwhm", "height_per_area", *self.extra_names)
        out = {k: np.empty(theta.shape) for k in keys}
        for j in range(self.n_params):
            h = self.fd_step(theta, j)
            tp = theta.copy()
            tm = theta.copy()
            tp[..., j] += h
            tm[..., j] -= h
            dp = self.describe(tp, window)
            dm = self.describe(tm, window)
            for k in keys:
                out[k][..., j] = (dp[k] - dm[k]) / (2.0 * h)
        return out


def weighted_loglik(
    component: Component,
    x: np.ndarray,
    omega: np.ndarray,
    theta: np.ndarray,
    window: Window,
) -> np.ndarray:
    """Q(θ) = Σ_i ω_ik log f̃(x_i | θ_k) with f̃ normalised on the window, (..., K)."""
    f = component.pdf(x, theta, window)
    mass = component.window_mass(x, theta, window)
    logf = np.log(np.maximum(f, _TINY)) - np.log(mass)[..., None]
    return np.sum(omega * logf, axis=-1)


def numeric_m_step(
    component: Component,
    x: np.ndarray,
    omega: np.ndarray,
    theta: np.ndarray,
    window: Window,
    n_iter: int = 3,
) -> np.ndarray:
    """Damped Newton ascent of :func:`weighted_loglik` in unconstrained coordinates.

    Batched over every leading axis and over K. Steps are accepted per component only when Q
    increases; otherwise the damping grows (Levenberg–Marquardt on −Q).
    """
    tr = component.transforms
    p = component.n_params
    z = to_z(theta, tr)
    _, sigma = component.location_scale(theta)
    steps = np.empty(z.shape)
    for j, t in enumerate(tr):
        steps[..., j] = 1e-3 if t.kind != "identity" else 1e-3 * np.maximum(sigma, 1e-12)

    def q(zz: np.ndarray) -> np.ndarray:
        return weighted_loglik(component, x, omega, from_z(zz, tr), window)

    q0 = q(z)
    mu = np.full(q0.shape, 1e-3)
    for _ in range(n_iter):
        grad = np.empty(z.shape)
        hess = np.empty(z.shape + (p,))
        qp = np.empty(z.shape)
        qm = np.empty(z.shape)
        for i in range(p):
            e = np.zeros(z.shape)
            e[..., i] = steps[..., i]
            qp[..., i] = q(z + e)
            qm[..., i] = q(z - e)
            grad[..., i] = (qp[..., i] - qm[..., i]) / (2 * steps[..., i])
            hess[..., i, i] = (qp[..., i] - 2 * q0 + qm[..., i]) / steps[..., i] ** 2
        for i in range(p):
            for j in range(i + 1, p):
                ei = np.zeros(z.shape)
                ej = np.zeros(z.shape)
                ei[..., i] = steps[..., i]
                ej[..., j] = steps[..., j]
                hij = (q(z + ei + ej) - q(z + ei - ej) - q(z - ei + ej) + q(z - ei - ej)) / (
                    4 * steps[..., i] * steps[..., j]
                )
                hess[..., i, j] = hij
                hess[..., j, i] = hij
        neg_h = -hess
        pending = np.ones(q0.shape, dtype=bool)
        for _attempt in range(4):
            diag = np.abs(np.diagonal(neg_h, axis1=-2, axis2=-1)) + 1e-12
            a = neg_h + (mu[..., None, None] * diag[..., None, :]) * np.eye(p)
            a = a + np.eye(p) * 1e-12
            try:
                delta = np.linalg.solve(a, grad[..., None])[..., 0]
            except np.linalg.LinAlgError:
                delta = grad / diag
            delta = np.where(np.isfinite(delta), delta, 0.0)
            z_new = z + delta
            q_new = q(z_new)
            ok = pending & np.isfinite(q_new) & (q_new > q0)
            z = np.where(ok[..., None], z_new, z)
            q0 = np.where(ok, q_new, q0)
            mu = np.where(ok, mu * 0.3, np.where(pending, mu * 10.0, mu))
            pending &= ~ok
            if not pending.any():
                break
    return from_z(z, tr)
