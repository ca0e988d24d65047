"""SAEM pieces for impedance loss spectra: the ZARC loss peak and the electrode CPE tail.

With u = ln ω, the loss spectrum −Z″(u) of a ZARC element Z = R/(1 + (iωτ)^n) is

    −Z″(u) = (π R / 2) · p(u − u₀),   p(s) = sin a / (π (cosh(n s) + cos a)),   a = nπ/2,

with u₀ = −ln τ: a normalised, symmetric density in u whose weight is πR/2. A chain
R–ZARC–ZARC–… therefore has a loss spectrum that is a *mixture* of such peaks, which SAEM
decomposes without initial guesses (the mixture model of docs/saem.md). A blocking electrode
adds the power-law tail of a CPE, −Z″ = sin(n_e π/2)/(Q ω^{n_e}), modelled as a background.
The modulus loss M″ = ωC₀Z′ of an R‖C element is the n = 1 peak with weight (π/2)·C₀/C.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from iondyn.saem.background import Background
from iondyn.saem.components.base import Component, Window
from iondyn.saem.transforms import Transform, logit

__all__ = ["CPETail", "ZarcLoss", "zarc_loss_fwhm"]

_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
N_MIN = 0.3


def zarc_loss_fwhm(n: np.ndarray) -> np.ndarray:
    r"""FWHM in u = ln ω of the ZARC loss peak.

    .. math:: \cosh(n s_{1/2}) + \cos a = 2(1 + \cos a) \Rightarrow
              \mathrm{FWHM} = \frac{2}{n}\,\operatorname{arccosh}(2 + \cos a),\quad a = n\pi/2

    n = 1 (Debye) gives 2 arccosh 2 = 2.634, i.e. 1.144 decades.
    """
    n = np.asarray(n, dtype=float)
    return 2.0 * np.arccosh(2.0 + np.cos(0.5 * np.pi * n)) / n


@lru_cache(maxsize=1)
def _fwhm_table() -> tuple[np.ndarray, np.ndarray]:
    n = np.linspace(N_MIN, 1.0, 2001)
    return zarc_loss_fwhm(n)[::-1], n[::-1]  # increasing FWHM for np.interp


class ZarcLoss(Component):
    r"""The ZARC loss peak in u = ln ω (Cole & Cole, J. Chem. Phys. 9, 341 (1941)).

    .. math:: p(s) = \frac{\sin a}{\pi(\cosh(ns) + \cos a)},\quad a = \frac{n\pi}{2},
              \quad s = u - u_0

    normalised (∫p ds = 1) with the closed-form CDF

    .. math:: F(s) = \tfrac12 + \tfrac1a \arctan\!\left(\tan\tfrac a2 \tanh\tfrac{ns}{2}\right).

    Parameters θ = (u₀, n): u₀ = ln ω_peak = −ln τ, 0.3 ≤ n ≤ 1. The fitted area A of −Z″(u)
    gives R = 2A/π.
    """

    name = "zarc-loss"
    param_names = ("u0", "n")
    extra_names = ("n",)

    @property
    def transforms(self) -> tuple[Transform, ...]:
        return (Transform("identity"), logit(N_MIN, 1.0))

    @staticmethod
    def _split(x, theta):
        s = np.asarray(x, dtype=float)[..., None, :] - theta[..., 0][..., None]
        return s, theta[..., 1][..., None]

    def pdf(self, x: np.ndarray, theta: np.ndarray, window: Window = None) -> np.ndarray:
        s, n = self._split(x, theta)
        a = 0.5 * np.pi * n
        ns = np.minimum(np.abs(n * s), 700.0)
        return np.sin(a) / (np.pi * (np.cosh(ns) + np.cos(a)))

    def pdf_grad(self, x, theta, window=None):
        s, n = self._split(x, theta)
        a = 0.5 * np.pi * n
        ns = np.clip(n * s, -700.0, 700.0)
        ch, sh = np.cosh(ns), np.sinh(ns)
        den = ch + np.cos(a)
        f = np.sin(a) / (np.pi * den)
        g = np.empty(f.shape[:-1] + (2,) + f.shape[-1:])
        # ∂f/∂u0 = −∂f/∂s = f · n sinh(ns)/den
        g[..., 0, :] = f * n * sh / den
        # ∂f/∂n: a' = π/2
        d_sin = 0.5 * np.pi * np.cos(a)
        d_den = s * sh - 0.5 * np.pi * np.sin(a)
        g[..., 1, :] = (d_sin * den - np.sin(a) * d_den) / (np.pi * den * den)
        return f, g

    def cdf(self, x, theta):
        s, n = self._split(x, theta)
        a = 0.5 * np.pi * n
        return 0.5 + np.arctan(np.tan(0.5 * a) * np.tanh(0.5 * n * s)) / a

    def from_location_scale(self, center, sigma):
        fw = np.asarray(sigma) * _FWHM_PER_SIGMA
        table_fw, table_n = _fwhm_table()
        n = np.interp(fw, table_fw, table_n, left=1.0, right=N_MIN)
        n = np.clip(n, N_MIN + 1e-3, 1.0 - 1e-3)
        return np.stack([np.asarray(center, dtype=float) + 0 * n, n], axis=-1)

    def location_scale(self, theta):
        return theta[..., 0], zarc_loss_fwhm(theta[..., 1]) / _FWHM_PER_SIGMA

    def describe(self, theta, window=None):
        n = theta[..., 1]
        a = 0.5 * np.pi * n
        return {
            "center": theta[..., 0].copy(),
            "fwhm": zarc_loss_fwhm(n),
            "height_per_area": np.tan(0.5 * a) / np.pi,
            "n": n.copy(),
        }


class CPETail(Background):
    r"""Power-law loss tail of a (blocking-electrode) CPE in u = ln ω.

    .. math:: -Z''(u) = \frac{\sin(n_e\pi/2)}{Q\,\omega^{n_e}} = e^{\ell - n_e u},
              \quad \ell = \ln\frac{\sin(n_e\pi/2)}{Q}

    Parameters β = (ℓ, n_e) with 0.3 ≤ n_e ≤ 1; Q = sin(n_eπ/2) e^{−ℓ}. Initialised from a line
    fitted to ln(−Z″) over the lowest-frequency tenth of the spectrum.
    """

    name = "cpe-tail"

    @property
    def param_names(self):
        return ("log_amplitude", "n")

    @property
    def transforms(self):
        return (Transform("identity"), logit(N_MIN, 1.0))

    def init(self, x, y, mask):
        b = y.shape[0]
        beta = np.zeros((b, 2))
        base = np.zeros_like(y)
        for i in range(b):
            m = mask[i] & (y[i] > 0)
            xs, ys = x[i, m], y[i, m]
            if xs.size < 3:
                beta[i] = (np.log(max(float(np.max(y[i])), 1e-300)) - 0.0, 0.8)
                continue
            k = max(3, xs.size // 10)
            order = np.argsort(xs)[:k]
            slope, icpt = np.polyfit(xs[order], np.log(ys[order]), 1)
            n_e = float(np.clip(-slope, N_MIN + 0.01, 0.99))
            beta[i] = (icpt, n_e)
            base[i] = np.where(mask[i], np.exp(np.clip(icpt - n_e * x[i], -700, 700)), 0.0)
        # keep the baseline well below the data so that EM still sees the arcs
        base = np.minimum(base, 0.5 * np.where(mask, np.maximum(y, 0.0), 0.0))
        return beta, base, {}

    def evaluate(self, x, beta, peaks, ctx):
        return np.exp(np.clip(beta[:, :1] - beta[:, 1:2] * x, -700.0, 700.0))

    def jacobian(self, x, beta, peaks, ctx):
        b = self.evaluate(x, beta, peaks, ctx)
        return np.stack([b, -x * b], axis=1)

    def describe(self, x, beta, cov, mask, ctx):
        out = super().describe(x, beta, cov, mask, ctx)
        for i, d in enumerate(out):
            n_e = beta[i, 1]
            q = np.sin(0.5 * np.pi * n_e) * np.exp(-beta[i, 0])
            # δQ/Q = δℓ (ℓ enters as e^{-ℓ}) ⊕ (π/2)cot(n_eπ/2) δn_e
            g = np.array([-1.0, 0.5 * np.pi / np.tan(0.5 * np.pi * n_e)])
            var = float(g @ cov[i] @ g) if cov.size else float("nan")
            d["Q"] = float(q)
            d["Q_err"] = float(q * np.sqrt(max(var, 0.0)))
        return out
