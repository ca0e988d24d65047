"""The Doniach–Šunjić line of metallic core levels (asymmetric, XPS)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.interpolate import CubicSpline

from iondyn.saem.components.base import Component, Window
from iondyn.saem.transforms import LOG, Transform, logit

__all__ = ["DoniachSunjic"]

_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def _ds_complex_power(t: np.ndarray, gamma: np.ndarray, power: np.ndarray) -> np.ndarray:
    """(γ − i t)^power, principal branch (Re(γ − i t) > 0, so no branch cut is crossed)."""
    return np.exp(power * np.log(gamma - 1j * t))


class DoniachSunjic(Component):
    r"""Doniach–Šunjić line (Doniach & Šunjić, J. Phys. C 3, 285 (1970)).

    .. math:: DS(t) = \Gamma(1-\alpha)\,
              \frac{\cos\!\left[\tfrac{\pi\alpha}{2} + (1-\alpha)\arctan(t/\gamma)\right]}
                   {(t^2+\gamma^2)^{(1-\alpha)/2}}
              = \Gamma(1-\alpha)\,
                \operatorname{Re}\!\left[e^{i\pi\alpha/2}(\gamma - it)^{\alpha-1}\right]

    with t = x − E when the asymmetric tail extends to lower x (``tail="low"``, e.g. a
    kinetic-energy axis) and t = E − x for ``tail="high"`` (a binding-energy axis). For α > 0
    the integral over the real line diverges, so the density is normalised on the measured
    window with the closed-form antiderivative

    .. math:: \int DS\,dt = \Gamma(1-\alpha)\,\operatorname{Re}\!\left[e^{i\pi\alpha/2}\,
              \frac{i(\gamma - it)^{\alpha}}{\alpha}\right],

    and the reported *area is the area inside the window*. Parameters θ = (E, γ, α) with γ the
    Lorentzian half width (lifetime) and 0 < α < 0.5 the asymmetry (singularity index).
    For α → 0 the line is a Lorentzian of FWHM 2γ.
    """

    name = "doniach-sunjic"
    param_names = ("center", "gamma", "alpha")
    extra_names = ("gamma", "alpha", "peak_position")
    window_normalised = True

    def __init__(self, tail: str = "low"):
        if tail not in ("low", "high"):
            raise ValueError("tail must be 'low' or 'high'")
        self.tail = tail

    def __repr__(self) -> str:
        return f"DoniachSunjic(tail={self.tail!r})"

    @property
    def transforms(self) -> tuple[Transform, ...]:
        return (Transform("identity"), LOG, logit(1e-4, 0.5))

    def _t(self, x: np.ndarray, center: np.ndarray) -> np.ndarray:
        return x - center if self.tail == "low" else center - x

    @staticmethod
    def _raw(t: np.ndarray, gamma: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """DS/Γ(1−α) in real arithmetic: cos(πα/2 + (1−α)·atan(t/γ)) (t² + γ²)^(−(1−α)/2)."""
        psi = 0.5 * np.pi * alpha + (1.0 - alpha) * np.arctan2(t, gamma)
        return np.cos(psi) * np.exp(-0.5 * (1.0 - alpha) * np.log(t * t + gamma * gamma))

    def _raw_grad(self, t, gamma, alpha):
        """raw and its derivatives with respect to (t, γ, α)."""
        phi = np.arctan2(t, gamma)
        r2 = t * t + gamma * gamma
        half_log = 0.5 * np.log(r2)
        psi = 0.5 * np.pi * alpha + (1.0 - alpha) * phi
        e = np.exp(-(1.0 - alpha) * half_log)
        cos, sin = np.cos(psi), np.sin(psi)
        raw = cos * e
        common = (1.0 - alpha) * e / r2
        d_t = -common * (gamma * sin + t * cos)
        d_g = common * (t * sin - gamma * cos)
        d_a = e * (-sin * (0.5 * np.pi - phi) + cos * half_log)
        return raw, d_t, d_g, d_a

    def _antiderivative(self, t: np.ndarray, gamma: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        zp = _ds_complex_power(t, gamma, alpha)
        return (np.exp(0.5j * np.pi * alpha) * 1j * zp / alpha).real

    def _mass(self, theta: np.ndarray, window: Window) -> np.ndarray:
        if window is None:
            raise ValueError("the Doniach–Šunjić line needs the measured window")
        lo = np.asarray(window[0], dtype=float)[..., None]
        hi = np.asarray(window[1], dtype=float)[..., None]
        c, g, a = theta[..., 0], theta[..., 1], theta[..., 2]
        fa = self._antiderivative(self._t(lo, c), g, a)
        fb = self._antiderivative(self._t(hi, c), g, a)
        mass = fb - fa if self.tail == "low" else fa - fb
        return np.maximum(mass, 1e-300)

    def pdf(self, x, theta, window=None):
        xx = np.asarray(x, dtype=float)[..., None, :]
        c = theta[..., 0][..., None]
        g = theta[..., 1][..., None]
        a = theta[..., 2][..., None]
        raw = self._raw(self._t(xx, c), g, a)
        return raw / self._mass(theta, window)[..., None]

    def pdf_grad(self, x, theta, window=None):
        """Analytic gradient of raw(t)/M(θ); ∂M/∂γ and ∂M/∂α by central differences of the
        closed-form window mass (two numbers per component)."""
        xx = np.asarray(x, dtype=float)[..., None, :]
        c = theta[..., 0][..., None]
        g = theta[..., 1][..., None]
        a = theta[..., 2][..., None]
        t = self._t(xx, c)
        raw, d_t, d_g, d_a = self._raw_grad(t, g, a)
        mass = self._mass(theta, window)[..., None]
        dt_dc = -1.0 if self.tail == "low" else 1.0
        lo = np.asarray(window[0], dtype=float)[..., None]
        hi = np.asarray(window[1], dtype=float)[..., None]
        r_hi = self._raw(self._t(hi, theta[..., 0]), theta[..., 1], theta[..., 2])
        r_lo = self._raw(self._t(lo, theta[..., 0]), theta[..., 1], theta[..., 2])
        sign = 1.0 if self.tail == "low" else -1.0
        dm = np.empty(theta.shape)
        dm[..., 0] = sign * dt_dc * (r_hi - r_lo)
        for j in (1, 2):
            h = self.fd_step(theta, j)
            tp = theta.copy()
            tm = theta.copy()
            tp[..., j] += h
            tm[..., j] -= h
            dm[..., j] = (self._mass(tp, window) - self._mass(tm, window)) / (2 * h)
        f = raw / mass
        grad = np.empty(f.shape[:-1] + (3,) + f.shape[-1:])
        grad[..., 0, :] = d_t * dt_dc / mass - f * dm[..., 0][..., None] / mass
        grad[..., 1, :] = d_g / mass - f * dm[..., 1][..., None] / mass
        grad[..., 2, :] = d_a / mass - f * dm[..., 2][..., None] / mass
        return f, grad

    def window_mass(self, x, theta, window):
        return np.ones(theta.shape[:-1])

    def from_location_scale(self, center, sigma):
        # FWHM of a Lorentzian-like line ≈ 2γ; a modest default asymmetry
        gamma = 0.5 * sigma * _FWHM_PER_SIGMA
        return np.stack([center, gamma, np.full(np.shape(center), 0.05)], axis=-1)

    def location_scale(self, theta):
        return theta[..., 0], 2.0 * theta[..., 1] / _FWHM_PER_SIGMA

    # ------------------------------------------------------------------ shape summary
    @staticmethod
    @lru_cache(maxsize=1)
    def _shape_table() -> tuple[CubicSpline, ...]:
        """Splines in α of the maximum position, the half-maximum points and the maximum of
        DS(t; γ = 1, α), tabulated once by vectorised bisection (smooth in α)."""
        alpha = np.linspace(0.0, 0.5, 1001)
        raw = DoniachSunjic._raw
        one = np.ones_like(alpha)

        def slope(t):
            # d raw/dt at γ = 1 (see _raw_grad)
            phi = np.arctan(t)
            psi = 0.5 * np.pi * alpha + (1.0 - alpha) * phi
            r2 = 1.0 + t * t
            e = r2 ** (-0.5 * (1.0 - alpha))
            return -(1.0 - alpha) * e / r2 * (np.sin(psi) + t * np.cos(psi))

        lo, hi = -one, one
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            up = slope(mid) > 0
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
        t_max = 0.5 * (lo + hi)
        f_max = raw(t_max, one, alpha)
        half = 0.5 * f_max

        def crossing(a, b):
            fa_above = raw(a, one, alpha) > half
            for _ in range(80):
                mid = 0.5 * (a + b)
                same = (raw(mid, one, alpha) > half) == fa_above
                a = np.where(same, mid, a)
                b = np.where(same, b, mid)
            return 0.5 * (a + b)

        left = crossing(t_max, t_max - 200.0 * one)
        right = crossing(t_max, t_max + 200.0 * one)
        return tuple(CubicSpline(alpha, v) for v in (t_max, left, right, f_max))

    def _shape_in_gamma_units(self, alpha: np.ndarray) -> tuple[np.ndarray, ...]:
        """(t_max, left, right, f_max) of DS(t; γ = 1, α) from the cached splines."""
        return tuple(spline(alpha) for spline in self._shape_table())

    def describe(self, theta, window=None):
        c, g, a = theta[..., 0], theta[..., 1], theta[..., 2]
        t_max, left, right, f_max = self._shape_in_gamma_units(a)
        # raw density scales as γ^(α−1); normalised by the window mass
        height = f_max * g ** (a - 1.0) / self._mass(theta, window)
        peak_x = c + t_max * g if self.tail == "low" else c - t_max * g
        return {
            "center": c.copy(),
            "fwhm": (right - left) * g,
            "height_per_area": height,
            "gamma": g.copy(),
            "alpha": a.copy(),
            "peak_position": peak_x,
        }
