"""Symmetric line shapes: Gaussian, Lorentzian, pseudo-Voigt and Voigt.

All are location–scale densities normalised over the real line, parameterised by the center
c and (except Voigt) the full width at half maximum Γ, so that standard errors come out directly
on the quantities spectroscopists report.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from iondyn.saem.components.base import Component, Window
from iondyn.saem.transforms import LOG, Transform, logit

__all__ = ["Gaussian", "Lorentzian", "PseudoVoigt", "Voigt", "voigt_fwhm"]

_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
_SQRT2PI = np.sqrt(2.0 * np.pi)
_SQRT2 = np.sqrt(2.0)


def _split(x: np.ndarray, theta: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
    """x (..., N) → (..., 1, N); theta[..., j] (..., K) → (..., K, 1)."""
    return np.asarray(x, dtype=float)[..., None, :], theta[..., j][..., None]


def _gauss(t: np.ndarray, fwhm: np.ndarray) -> np.ndarray:
    s = fwhm / _FWHM_PER_SIGMA
    return np.exp(-0.5 * (t / s) ** 2) / (s * _SQRT2PI)


def _lorentz(t: np.ndarray, fwhm: np.ndarray) -> np.ndarray:
    g = 0.5 * fwhm
    return (g / np.pi) / (t * t + g * g)


class Gaussian(Component):
    r"""Gaussian line.

    .. math:: f(x) = \frac{1}{\sigma\sqrt{2\pi}} \exp\!\left(-\frac{(x-c)^2}{2\sigma^2}\right),
              \quad \Gamma = 2\sqrt{2\ln 2}\,\sigma

    Parameters θ = (c, Γ). Closed-form CDF ½[1 + erf((x − c)/(σ√2))] and closed-form EM
    M-step (weighted mean and variance; Dempster, Laird & Rubin, J. R. Stat. Soc. B 39, 1 (1977)).
    """

    name = "gaussian"
    param_names = ("center", "fwhm")

    @property
    def transforms(self) -> tuple[Transform, ...]:
        return (Transform("identity"), LOG)

    def pdf(self, x: np.ndarray, theta: np.ndarray, window: Window = None) -> np.ndarray:
        xx, c = _split(x, theta, 0)
        return _gauss(xx - c, theta[..., 1][..., None])

    def pdf_grad(self, x, theta, window=None):
        xx, c = _split(x, theta, 0)
        fw = theta[..., 1][..., None]
        s = fw / _FWHM_PER_SIGMA
        t = xx - c
        f = np.exp(-0.5 * (t / s) ** 2) / (s * _SQRT2PI)
        g = np.empty(f.shape[:-1] + (2,) + f.shape[-1:])
        g[..., 0, :] = f * t / (s * s)
        g[..., 1, :] = f * (t * t / s**3 - 1.0 / s) / _FWHM_PER_SIGMA
        return f, g

    def cdf(self, x, theta):
        xx, c = _split(x, theta, 0)
        s = theta[..., 1][..., None] / _FWHM_PER_SIGMA
        return 0.5 * (1.0 + special.erf((xx - c) / (s * _SQRT2)))

    def from_location_scale(self, center, sigma):
        return np.stack([center, sigma * _FWHM_PER_SIGMA], axis=-1)

    def location_scale(self, theta):
        return theta[..., 0], theta[..., 1] / _FWHM_PER_SIGMA

    def describe(self, theta, window=None):
        s = theta[..., 1] / _FWHM_PER_SIGMA
        return {
            "center": theta[..., 0].copy(),
            "fwhm": theta[..., 1].copy(),
            "height_per_area": 1 / (s * _SQRT2PI),
        }

    def describe_jacobian(self, theta, window=None):
        z = np.zeros(theta.shape)
        center = z.copy()
        center[..., 0] = 1.0
        fwhm = z.copy()
        fwhm[..., 1] = 1.0
        hpa = z.copy()
        hpa[..., 1] = -_FWHM_PER_SIGMA / (_SQRT2PI * theta[..., 1] ** 2)
        return {"center": center, "fwhm": fwhm, "height_per_area": hpa}


class Lorentzian(Component):
    r"""Lorentzian (Cauchy) line.

    .. math:: f(x) = \frac{\gamma/\pi}{(x-c)^2 + \gamma^2}, \quad \Gamma = 2\gamma

    Parameters θ = (c, Γ). CDF ½ + arctan((x − c)/γ)/π.
    """

    name = "lorentzian"
    param_names = ("center", "fwhm")

    @property
    def transforms(self):
        return (Transform("identity"), LOG)

    def pdf(self, x, theta, window=None):
        xx, c = _split(x, theta, 0)
        return _lorentz(xx - c, theta[..., 1][..., None])

    def pdf_grad(self, x, theta, window=None):
        xx, c = _split(x, theta, 0)
        g_ = 0.5 * theta[..., 1][..., None]
        t = xx - c
        d = t * t + g_ * g_
        f = (g_ / np.pi) / d
        g = np.empty(f.shape[:-1] + (2,) + f.shape[-1:])
        g[..., 0, :] = (g_ / np.pi) * 2.0 * t / (d * d)
        g[..., 1, :] = 0.5 * (d - 2.0 * g_ * g_) / (np.pi * d * d)
        return f, g

    def cdf(self, x, theta):
        xx, c = _split(x, theta, 0)
        return 0.5 + np.arctan((xx - c) / (0.5 * theta[..., 1][..., None])) / np.pi

    def from_location_scale(self, center, sigma):
        # equal FWHM to the Gaussian stand-in
        return np.stack([center, sigma * _FWHM_PER_SIGMA], axis=-1)

    def location_scale(self, theta):
        return theta[..., 0], theta[..., 1] / _FWHM_PER_SIGMA

    def describe(self, theta, window=None):
        return {
            "center": theta[..., 0].copy(),
            "fwhm": theta[..., 1].copy(),
            "height_per_area": 2.0 / (np.pi * theta[..., 1]),
        }


class PseudoVoigt(Component):
    r"""Pseudo-Voigt line: a Lorentzian and a Gaussian of the same FWHM mixed with fraction η.

    .. math:: f(x) = \eta\, L(x; c, \Gamma) + (1-\eta)\, G(x; c, \Gamma), \quad 0 \le \eta \le 1

    Parameters θ = (c, Γ, η) (Wertheim et al., Rev. Sci. Instrum. 45, 1369 (1974)).
    """

    name = "pseudo-voigt"
    param_names = ("center", "fwhm", "eta")
    extra_names = ("eta",)

    @property
    def transforms(self):
        return (Transform("identity"), LOG, logit(0.0, 1.0))

    def pdf(self, x, theta, window=None):
        xx, c = _split(x, theta, 0)
        fw = theta[..., 1][..., None]
        eta = theta[..., 2][..., None]
        t = xx - c
        return eta * _lorentz(t, fw) + (1.0 - eta) * _gauss(t, fw)

    def pdf_grad(self, x, theta, window=None):
        eta = theta[..., 2][..., None, None]
        lf, lg = Lorentzian().pdf_grad(x, theta[..., :2])
        gf, gg = Gaussian().pdf_grad(x, theta[..., :2])
        e = eta[..., 0, :]
        f = e * lf + (1.0 - e) * gf
        g = np.empty(f.shape[:-1] + (3,) + f.shape[-1:])
        g[..., :2, :] = eta * lg + (1.0 - eta) * gg
        g[..., 2, :] = lf - gf
        return f, g

    def cdf(self, x, theta):
        eta = theta[..., 2][..., None]
        return eta * Lorentzian().cdf(x, theta[..., :2]) + (1.0 - eta) * Gaussian().cdf(
            x, theta[..., :2]
        )

    def from_location_scale(self, center, sigma):
        return np.stack([center, sigma * _FWHM_PER_SIGMA, np.full(np.shape(center), 0.3)], -1)

    def near_gaussian(self, center, sigma):
        return np.stack([center, sigma * _FWHM_PER_SIGMA, np.full(np.shape(center), 0.02)], -1)

    def location_scale(self, theta):
        return theta[..., 0], theta[..., 1] / _FWHM_PER_SIGMA

    def describe(self, theta, window=None):
        fw = theta[..., 1]
        eta = theta[..., 2]
        hpa = eta * 2.0 / (np.pi * fw) + (1.0 - eta) * _FWHM_PER_SIGMA / (_SQRT2PI * fw)
        return {
            "center": theta[..., 0].copy(),
            "fwhm": fw.copy(),
            "height_per_area": hpa,
            "eta": eta.copy(),
        }


def voigt_fwhm(sigma: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    r"""FWHM of a Voigt profile (Olivero & Longbothum, JQSRT 17, 233 (1977); 0.02 % accurate).

    .. math:: \Gamma_V \approx 0.5346\,\Gamma_L + \sqrt{0.2166\,\Gamma_L^2 + \Gamma_G^2},
              \quad \Gamma_L = 2\gamma,\ \Gamma_G = 2\sqrt{2\ln 2}\,\sigma
    """
    fl = 2.0 * gamma
    fg = _FWHM_PER_SIGMA * sigma
    return 0.5346 * fl + np.sqrt(0.2166 * fl * fl + fg * fg)


class Voigt(Component):
    r"""Voigt line: a Gaussian (σ) convolved with a Lorentzian (HWHM γ).

    .. math:: V(x) = \frac{\operatorname{Re}\,w(z)}{\sigma\sqrt{2\pi}},
              \quad z = \frac{x - c + i\gamma}{\sigma\sqrt 2}

    with w the Faddeeva function (``scipy.special.wofz``; ``voigt_profile`` is the same
    function). Analytic gradients from w'(z) = −2z w(z) + 2i/√π. Parameters θ = (c, σ, γ);
    the FWHM is reported with :func:`voigt_fwhm`.
    """

    name = "voigt"
    param_names = ("center", "sigma", "gamma")
    extra_names = ("sigma", "gamma")

    @property
    def transforms(self):
        return (Transform("identity"), LOG, LOG)

    def pdf(self, x, theta, window=None):
        xx, c = _split(x, theta, 0)
        return special.voigt_profile(xx - c, theta[..., 1][..., None], theta[..., 2][..., None])

    def pdf_grad(self, x, theta, window=None):
        xx, c = _split(x, theta, 0)
        s = theta[..., 1][..., None]
        gam = theta[..., 2][..., None]
        norm = 1.0 / (s * _SQRT2PI)
        z = ((xx - c) + 1j * gam) / (s * _SQRT2)
        w = special.wofz(z)
        f = w.real * norm
        dw = -2.0 * z * w + 2j / np.sqrt(np.pi)
        g = np.empty(f.shape[:-1] + (3,) + f.shape[-1:])
        g[..., 0, :] = (dw * (-1.0 / (s * _SQRT2))).real * norm
        g[..., 1, :] = (dw * (-z / s)).real * norm - f / s
        g[..., 2, :] = (dw * (1j / (s * _SQRT2))).real * norm
        return f, g

    def from_location_scale(self, center, sigma, lorentz_fraction: float = 0.25):
        # split the Gaussian-equivalent width between both parts (same FWHM)
        fwhm = sigma * _FWHM_PER_SIGMA
        gamma = lorentz_fraction * fwhm
        sig = np.sqrt(np.maximum((fwhm - 0.5346 * 2 * gamma) ** 2 - 0.2166 * (2 * gamma) ** 2, 0))
        sig = np.maximum(sig / _FWHM_PER_SIGMA, 1e-3 * sigma)
        return np.stack([center, sig, gamma], axis=-1)

    def near_gaussian(self, center, sigma):
        return self.from_location_scale(center, sigma, lorentz_fraction=0.02)

    def location_scale(self, theta):
        return theta[..., 0], voigt_fwhm(theta[..., 1], theta[..., 2]) / _FWHM_PER_SIGMA

    def describe(self, theta, window=None):
        s = theta[..., 1]
        g = theta[..., 2]
        peak = special.wofz(1j * g / (s * _SQRT2)).real / (s * _SQRT2PI)
        return {
            "center": theta[..., 0].copy(),
            "fwhm": voigt_fwhm(s, g),
            "height_per_area": peak,
            "sigma": s.copy(),
            "gamma": g.copy(),
        }
