"""TSDC peak shapes as SAEM components (registered as ``tsdc``, ``tsdc-general``,
``tsdc-gaussian``).

Each component is the normalised current f(T) = J(T)/(β P0) of one relaxation, so the area the
engine fits is A = β P0 (∫J dT = β ∫J dt). Shapes are parameterised by the peak temperature
Tm and the activation energy Ea — far better conditioned than (Ea, ln τ0), whose estimates are
almost perfectly correlated — and do not depend on β: with τ0 fixed by the peak equation,
βτ0 = kTm²/Ea · exp(−Ea/kTm). τ0 itself needs β and is derived afterwards
(:mod:`iondyn.tsdc.fit`).

The density is normalised on [T0, ∞) where T0 is the start of heating: ``t0`` when given,
otherwise the lower edge of the measured window. The window mass has a closed form
(F(T) = 1 − exp{−[x(T) − x(T0)]}), so EM on a curve cut shortly after its maximum is the exact
window-truncated likelihood, and EM runs on the TSDC shape itself (``em_proxy = False``).
"""

from __future__ import annotations

import numpy as np

from iondyn.saem.components.base import Component, Window
from iondyn.saem.transforms import LOG, Transform, logit
from iondyn.tsdc.model import (
    K_B_EV,
    first_order_kernel,
    gaussian_node_count,
    gaussian_nodes,
    general_order_density,
    general_order_ln_beta_tau0,
    ln_beta_tau0_from_peak,
)
from iondyn.tsdc.mstep import first_order_m_step
from iondyn.tsdc.shape import (
    gamma_from_width,
    numeric_peak_shape,
    relative_width,
    relative_width_slope,
)

__all__ = ["TSDCFirstOrder", "TSDCGaussianEa", "TSDCGeneralOrder"]

_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
_EA_MIN = 0.01


def heating_start(t0: float | None, window: Window, lead: tuple[int, ...]) -> np.ndarray:
    """T0 with shape lead + (1, 1) (broadcasting against (..., K, N) densities)."""
    if t0 is not None:
        return np.full(lead + (1, 1), float(t0))
    if window is None:
        return np.zeros(lead + (1, 1))
    lo = np.broadcast_to(np.asarray(window[0], float), lead)
    return lo[..., None, None]


def window_edges(
    window: Window, lead: tuple[int, ...], t0: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) with shape lead + (1,) for (..., K) parameter arrays; lo is raised to ``t0``
    (nothing is released before heating starts)."""
    lo = np.broadcast_to(np.asarray(window[0], float), lead)[..., None]
    hi = np.broadcast_to(np.asarray(window[1], float), lead)[..., None]
    if t0 is not None:
        lo = np.maximum(lo, t0)
    return lo, hi


class _TSDCBase(Component):
    """Shared plumbing: T0, transforms, the first-order seeding map."""

    em_proxy = False

    def __init__(self, t0: float | None = None):
        if t0 is not None and not float(t0) > 0:
            raise ValueError("t0 must be a positive temperature in K")
        self.t0 = None if t0 is None else float(t0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(t0={self.t0!r})"

    def _t0(self, window: Window, theta: np.ndarray) -> np.ndarray:
        return heating_start(self.t0, window, theta.shape[:-2])

    @staticmethod
    def _first_order_from_location_scale(center, sigma):
        tm = np.maximum(np.asarray(center, float), 1.0)
        g = gamma_from_width(_FWHM_PER_SIGMA * np.asarray(sigma, float) / tm)
        return tm, np.maximum(g * K_B_EV * tm, _EA_MIN)

    def cdf(self, x, theta):
        return None  # window masses are computed in closed form by window_mass


class TSDCFirstOrder(_TSDCBase):
    r"""First-order (Debye) TSDC peak, θ = (Tm, Ea).

    .. math:: f(T) = \frac{1}{\beta\tau_0} e^{-E_a/kT}
              \exp\!\left\{-\frac{T E_2(E_a/kT) - T_0 E_2(E_a/kT_0)}{\beta\tau_0}\right\},
              \quad \beta\tau_0 = \frac{kT_m^2}{E_a} e^{-E_a/kT_m}

    (Bucci, Fieschi & Guidi, Phys. Rev. 148, 816 (1966)). Analytic gradient, closed-form
    window mass and an analytic Newton M-step (:func:`iondyn.tsdc.mstep.first_order_m_step`).
    """

    name = "tsdc"
    param_names = ("Tm", "Ea")
    extra_names = ("Ea", "ln_beta_tau0")

    @property
    def transforms(self) -> tuple[Transform, ...]:
        return (LOG, LOG)

    def pdf(self, x, theta, window=None):
        xx = np.asarray(x, float)[..., None, :]
        tm, ea = theta[..., 0:1], theta[..., 1:2]
        return first_order_kernel(xx, self._t0(window, theta), ea, ln_beta_tau0_from_peak(tm, ea))[
            0
        ]

    def pdf_grad(self, x, theta, window=None):
        xx = np.asarray(x, float)[..., None, :]
        tm, ea = theta[..., 0:1], theta[..., 1:2]
        f, d_e, d_l, *_ = first_order_kernel(
            xx, self._t0(window, theta), ea, ln_beta_tau0_from_peak(tm, ea), grad=True
        )
        l_t = 2.0 / tm + ea / (K_B_EV * tm * tm)
        l_e = -1.0 / ea - 1.0 / (K_B_EV * tm)
        grad = np.empty(f.shape[:-1] + (2,) + f.shape[-1:])
        grad[..., 0, :] = f * d_l * l_t
        grad[..., 1, :] = f * (d_e + d_l * l_e)
        return f, grad

    def window_mass(self, x, theta, window):
        if window is None:
            return np.ones(theta.shape[:-1])
        lead = theta.shape[:-2]
        lo, hi = window_edges(window, lead, self.t0)
        tm, ea = theta[..., 0], theta[..., 1]
        edges = np.stack([np.broadcast_to(lo, tm.shape), np.broadcast_to(hi, tm.shape)], -1)
        # remaining fraction p(T) = exp(−[x(T) − x(T0)]) from the kernel pieces
        _, _, _, xs, x0, *_ = first_order_kernel(
            edges,
            self._t0(window, theta),
            ea[..., None],
            ln_beta_tau0_from_peak(tm, ea)[..., None],
            grad=True,
        )
        with np.errstate(under="ignore"):
            p_lo = np.exp(-(xs[..., 0] - x0[..., 0]))
            mass = p_lo * -np.expm1(-(xs[..., 1] - xs[..., 0]))
        return np.maximum(mass, 1e-300)

    def m_step(self, x, omega, theta, window=None, sigma_floor=0.0):
        return first_order_m_step(self, x, omega, theta, window)

    def from_location_scale(self, center, sigma):
        tm, ea = self._first_order_from_location_scale(center, sigma)
        return np.stack([tm, ea], axis=-1)

    def location_scale(self, theta):
        tm, ea = theta[..., 0], theta[..., 1]
        return tm, tm * relative_width(ea / (K_B_EV * tm)) / _FWHM_PER_SIGMA

    def describe(self, theta, window=None):
        tm, ea = theta[..., 0], theta[..., 1]
        l_bt = ln_beta_tau0_from_peak(tm, ea)
        t0 = self._t0(window, theta)
        height = first_order_kernel(tm[..., None], t0, ea[..., None], l_bt[..., None])[0][..., 0]
        return {
            "center": tm.copy(),
            "fwhm": tm * relative_width(ea / (K_B_EV * tm)),
            "height_per_area": height,
            "Ea": ea.copy(),
            "ln_beta_tau0": l_bt,
        }

    def describe_jacobian(self, theta, window=None):
        """Analytic d(describe)/dθ: the height through ∂f/∂T = 0 at Tm, the FWHM through the
        slope of the universal width w(γ)."""
        tm, ea = theta[..., 0], theta[..., 1]
        l_bt = ln_beta_tau0_from_peak(tm, ea)
        t0 = self._t0(window, theta)
        f, d_e, d_l, *_ = first_order_kernel(
            tm[..., None], t0, ea[..., None], l_bt[..., None], grad=True
        )
        f, d_e, d_l = f[..., 0], d_e[..., 0], d_l[..., 0]
        l_t = 2.0 / tm + ea / (K_B_EV * tm * tm)
        l_e = -1.0 / ea - 1.0 / (K_B_EV * tm)
        gamma = ea / (K_B_EV * tm)
        w = relative_width(gamma)
        slope = relative_width_slope(gamma)
        zero, one = np.zeros(tm.shape), np.ones(tm.shape)
        return {
            "center": np.stack([one, zero], -1),
            "fwhm": np.stack([w * (1.0 - slope), tm * w * slope / ea], -1),
            "height_per_area": np.stack([f * d_l * l_t, f * (d_e + d_l * l_e)], -1),
            "Ea": np.stack([zero, one], -1),
            "ln_beta_tau0": np.stack([l_t, l_e], -1),
        }


class TSDCGeneralOrder(_TSDCBase):
    r"""General-order TSDC peak, θ = (Tm, Ea, b) with kinetic order 1 < b < 3.

    .. math:: f(T) = \frac{1}{\beta\tau_0} e^{-E_a/kT}
              \left[1 + (b-1)\frac{I(T) - I(T_0)}{\beta\tau_0}\right]^{-b/(b-1)}

    (May & Partridge, J. Chem. Phys. 40, 1401 (1964)), βτ0 from the peak condition
    (:func:`iondyn.tsdc.model.general_order_ln_beta_tau0`). Numerical gradient and M-step.
    """

    name = "tsdc-general"
    param_names = ("Tm", "Ea", "order")
    extra_names = ("Ea", "order", "ln_beta_tau0")

    @property
    def transforms(self):
        return (LOG, LOG, logit(1.0, 3.0))

    def _ln_bt(self, theta, t0):
        return general_order_ln_beta_tau0(theta[..., 0], theta[..., 1], theta[..., 2], t0)

    def pdf(self, x, theta, window=None):
        xx = np.asarray(x, float)[..., None, :]
        t0 = self._t0(window, theta)
        l_bt = self._ln_bt(theta, t0[..., 0])[..., None]
        return general_order_density(xx, theta[..., 1:2], l_bt, theta[..., 2:3], t0)

    def window_mass(self, x, theta, window):
        if window is None:
            return np.ones(theta.shape[:-1])
        lo, hi = window_edges(window, theta.shape[:-2], self.t0)
        t0 = self._t0(window, theta)[..., 0]
        l_bt = self._ln_bt(theta, t0)
        b = theta[..., 2]

        def remaining(T):
            from iondyn.tsdc.model import log_temperature_integral

            with np.errstate(over="ignore", under="ignore"):
                x = np.exp(np.minimum(log_temperature_integral(T, theta[..., 1]) - l_bt, 700))
                has0 = t0 > 0
                lx0 = log_temperature_integral(np.where(has0, t0, 1.0), theta[..., 1]) - l_bt
                x0 = np.where(has0, np.exp(np.minimum(lx0, 700)), 0.0)
                return np.exp(-np.log1p((b - 1.0) * (x - x0)) / (b - 1.0))

        lo_b = np.broadcast_to(lo, b.shape)
        hi_b = np.broadcast_to(hi, b.shape)
        return np.maximum(remaining(lo_b) - remaining(hi_b), 1e-300)

    def from_location_scale(self, center, sigma):
        tm, ea = self._first_order_from_location_scale(center, sigma)
        return np.stack([tm, ea, np.full(tm.shape, 1.5)], axis=-1)

    def location_scale(self, theta):
        tm, ea = theta[..., 0], theta[..., 1]
        # a second-order peak is ~1.5× wider than a first-order one of the same Ea and Tm
        scale = 1.0 + 0.5 * (theta[..., 2] - 1.0)
        return tm, scale * tm * relative_width(ea / (K_B_EV * tm)) / _FWHM_PER_SIGMA

    def describe(self, theta, window=None):
        tm, ea, b = theta[..., 0], theta[..., 1], theta[..., 2]
        t0 = self._t0(window, theta)[..., 0]
        l_bt = self._ln_bt(theta, t0)
        w1 = tm * relative_width(ea / (K_B_EV * tm))

        def density(T):
            return general_order_density(
                T, ea[..., None], l_bt[..., None], b[..., None], t0[..., None]
            )

        shape = numeric_peak_shape(density, tm, w1)
        return {
            "center": tm.copy(),
            "fwhm": shape["fwhm"],
            "height_per_area": shape["height"],
            "Ea": ea.copy(),
            "order": b.copy(),
            "ln_beta_tau0": l_bt,
        }


class TSDCGaussianEa(_TSDCBase):
    r"""Gaussian distribution of activation energies with a common τ0, θ = (Tm0, Ē, σ_E).

    .. math:: f(T) = \int \frac{e^{-(E-\bar E)^2/2\sigma_E^2}}{\sigma_E\sqrt{2\pi}}\,
              f_1(T; E, \beta\tau_0)\,dE,
              \qquad \beta\tau_0 = \frac{kT_{m0}^2}{\bar E} e^{-\bar E/kT_{m0}}

    Tm0 is the peak temperature of the mean-energy relaxation (so τ0 follows from the peak
    equation as for one peak); the reported ``center`` is the maximum of the whole
    distributed peak. Trapezoid rule on ``n_nodes`` energies over ±5σ (default: enough for
    the current σ_E and window, :func:`iondyn.tsdc.model.gaussian_node_count`), analytic gradient
    (van Turnhout, *Thermally Stimulated Discharge of Polymer Electrets* (1975), ch. 3).
    """

    name = "tsdc-gaussian"
    param_names = ("Tm0", "Ea", "sigma_E")
    extra_names = ("Ea", "sigma_E", "ln_beta_tau0")

    def __init__(self, t0: float | None = None, n_nodes: int | None = None):
        super().__init__(t0)
        self.n_nodes = None if n_nodes is None else int(n_nodes)

    @property
    def transforms(self):
        return (LOG, LOG, LOG)

    def _nodes(self, theta, window):
        """Node offsets z (J,), energies E_j (..., K, 1, J), weights (..., K, 1, J) and
        L = ln βτ0 (..., K, 1, 1)."""
        tm, ea, sg = theta[..., 0:1], theta[..., 1:2], theta[..., 2:3]
        n = self.n_nodes
        if n is None:
            lo = 0.0 if window is None else np.min(np.asarray(window[0], float))
            t_low = np.maximum(lo, 0.5 * tm[..., 0])
            n = gaussian_node_count(sg[..., 0], t_low)
        z, w = gaussian_nodes(n)
        e_j = (ea + sg * z)[..., None, :]
        w_j = np.where(e_j > 1e-3, w, 0.0)
        w_j = w_j / np.sum(w_j, axis=-1, keepdims=True)
        l_bt = ln_beta_tau0_from_peak(tm, ea)[..., None]
        return z, np.maximum(e_j, 1e-3), w_j, l_bt

    def pdf(self, x, theta, window=None):
        return self.pdf_grad(x, theta, window, grad=False)[0]

    def pdf_grad(self, x, theta, window=None, grad=True):
        xx = np.asarray(x, float)[..., None, :, None]
        z, e_j, w_j, l_bt = self._nodes(theta, window)
        t0 = self._t0(window, theta)[..., None]
        out = first_order_kernel(xx, t0, e_j, l_bt, grad=grad)
        f = np.sum(w_j * out[0], axis=-1)
        if not grad:
            return f, None
        fj, d_e, d_l = out[0], out[1], out[2]
        tm, ea = theta[..., 0:1], theta[..., 1:2]
        l_t = (2.0 / tm + ea / (K_B_EV * tm * tm))[..., None]
        l_e = (-1.0 / ea - 1.0 / (K_B_EV * tm))[..., None]
        g = np.empty(f.shape[:-1] + (3,) + f.shape[-1:])
        g[..., 0, :] = np.sum(w_j * fj * d_l, axis=-1) * l_t[..., 0]
        g[..., 1, :] = np.sum(w_j * fj * (d_e + d_l * l_e), axis=-1)
        g[..., 2, :] = np.sum(w_j * fj * d_e * z, axis=-1)
        return f, g

    def window_mass(self, x, theta, window):
        if window is None:
            return np.ones(theta.shape[:-1])
        lo, hi = window_edges(window, theta.shape[:-2], self.t0)
        _, e_j, w_j, l_bt = self._nodes(theta, window)
        t0 = self._t0(window, theta)
        edges = np.stack(
            [np.broadcast_to(lo[..., None], e_j.shape), np.broadcast_to(hi[..., None], e_j.shape)]
        )
        _, _, _, xs, x0, *_ = first_order_kernel(edges, t0, e_j, l_bt, grad=True)
        with np.errstate(under="ignore"):
            mass_j = np.exp(-(xs[0] - x0[0])) * -np.expm1(-(xs[1] - xs[0]))
        return np.maximum(np.sum(w_j * mass_j, axis=-1)[..., 0], 1e-300)

    def from_location_scale(self, center, sigma):
        tm, ea = self._first_order_from_location_scale(center, sigma)
        return np.stack([tm, ea, 0.02 * ea], axis=-1)

    def location_scale(self, theta):
        tm, ea, sg = theta[..., 0], theta[..., 1], theta[..., 2]
        w1 = tm * relative_width(ea / (K_B_EV * tm))
        spread = _FWHM_PER_SIGMA * sg * tm / ea
        return tm, np.sqrt(w1 * w1 + spread * spread) / _FWHM_PER_SIGMA

    def describe(self, theta, window=None):
        tm, ea, sg = theta[..., 0], theta[..., 1], theta[..., 2]
        c, s = self.location_scale(theta)
        lead = theta.shape[:-2]
        win = None if window is None else window_edges(window, lead)

        def density(T):
            # one grid per component: evaluate component k on its own grid
            th = theta[..., None, :]  # (..., K, 1, P)
            return self.pdf(T, th, None if win is None else (win[0], win[1]))[..., 0, :]

        shape = numeric_peak_shape(density, c, _FWHM_PER_SIGMA * s)
        return {
            "center": shape["center"],
            "fwhm": shape["fwhm"],
            "height_per_area": shape["height"],
            "Ea": ea.copy(),
            "sigma_E": sg.copy(),
            "ln_beta_tau0": ln_beta_tau0_from_peak(tm, ea),
        }
