r"""Peak shapes for the map kernels, written for any array module ``xp`` (NumPy or CuPy).

Every function takes the common spectral grid ``x`` (N,), the shape parameters of K peaks of
B pixels and returns the unit-area densities f (B, K, N) and, when asked, their derivatives
(B, K, P, N) with respect to the P shape parameters:

* Gaussian, θ = (c, Γ): f = exp(−(x − c)²/2σ²)/(σ√(2π)), Γ = 2√(2 ln 2) σ;
* Lorentzian, θ = (c, Γ): f = (γ/π)/((x − c)² + γ²), Γ = 2γ;
* pseudo-Voigt, θ = (c, Γ, η): η L + (1 − η) G with the same Γ (Wertheim, Butler, West &
  Buchanan, Rev. Sci. Instrum. 45, 1369 (1974)).

These are the shapes of :mod:`iondyn.saem.components.lineshapes` (the same formulas and
parameters, so a SAEM fit starts a map fit directly); they are repeated here because the SAEM
components are NumPy-only. Other SAEM shapes (Voigt, Doniach–Šunjić) run on the CPU through
:class:`SaemShape`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["NATIVE_SHAPES", "MapShape", "SaemShape", "get_map_shape"]

_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
_SQRT2PI = np.sqrt(2.0 * np.pi)


def _gauss(xp, t, fw, grad: bool):
    s = fw / _FWHM_PER_SIGMA
    u = t / s
    f = xp.exp(-0.5 * u * u) / (s * _SQRT2PI)
    if not grad:
        return f, None
    dc = f * u / s
    dw = (u * u - 1.0) * (f / (s * _FWHM_PER_SIGMA))
    return f, (dc, dw)


def _lorentz(xp, t, fw, grad: bool):
    g = 0.5 * fw
    den = t * t + g * g
    f = (g / np.pi) / den
    if not grad:
        return f, None
    dc = f * 2.0 * t / den
    dw = 0.5 * (t * t - g * g) / (np.pi * den * den)
    return f, (dc, dw)


@dataclass(frozen=True)
class MapShape:
    """A peak shape of the map kernels: ``param_names``, per-parameter transform kinds
    (``identity``/``log``/``logit``) and ``density(xp, x, theta, grad)``."""

    name: str
    param_names: tuple[str, ...]
    kinds: tuple[str, ...]
    native: bool = True
    component: Any = None

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    def density(self, xp, x, theta, grad: bool = True):
        """f (B, K, N) and ∂f/∂θ (B, K, P, N) (None when ``grad`` is False)."""
        t = x[None, None, :] - theta[..., 0:1]
        fw = theta[..., 1:2]
        if self.name in ("gaussian", "lorentzian"):
            f, g = (_gauss if self.name == "gaussian" else _lorentz)(xp, t, fw, grad)
            if g is None:
                return f, None
            out = xp.empty(f.shape[:2] + (2,) + f.shape[2:])
            out[:, :, 0], out[:, :, 1] = g
            return f, out
        eta = theta[..., 2:3]
        fg, gg = _gauss(xp, t, fw, grad)
        fl, gl = _lorentz(xp, t, fw, grad)
        f = eta * fl + (1.0 - eta) * fg
        if not grad:
            return f, None
        return f, xp.stack(
            [eta * gl[0] + (1 - eta) * gg[0], eta * gl[1] + (1 - eta) * gg[1], fl - fg], axis=2
        )

    def describe(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """center, fwhm and height per unit area (..., K) (NumPy)."""
        c, fw = theta[..., 0], theta[..., 1]
        hg = _FWHM_PER_SIGMA / (fw * _SQRT2PI)
        hl = 2.0 / (np.pi * fw)
        if self.name == "gaussian":
            h = hg
        elif self.name == "lorentzian":
            h = hl
        else:
            h = theta[..., 2] * hl + (1 - theta[..., 2]) * hg
        return {"center": c, "fwhm": fw, "height_per_area": h}

    def to_saem(self, theta: np.ndarray) -> np.ndarray:
        return theta

    def from_saem(self, theta: np.ndarray) -> np.ndarray:
        return theta


class SaemShape(MapShape):
    """Any SAEM component (Voigt, Doniach–Šunjić, a registered shape) on the CPU, through its
    own ``pdf_grad``/``describe`` (windows: the measured window of the common grid)."""

    def __init__(self, component: Any):
        kinds = tuple(t.kind for t in component.transforms)
        object.__setattr__(self, "name", component.name)
        object.__setattr__(self, "param_names", tuple(component.param_names))
        object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "native", False)
        object.__setattr__(self, "component", component)
        object.__setattr__(self, "_bounds", tuple((t.lo, t.hi) for t in component.transforms))

    def density(self, xp, x, theta, grad: bool = True):
        if xp is not np:
            raise NotImplementedError(f"the {self.name} shape runs on the CPU only")
        b = theta.shape[0]
        xx = np.broadcast_to(x, (b, x.size))
        lo = np.full(b, x[0] - 0.5 * (x[1] - x[0]))
        hi = np.full(b, x[-1] + 0.5 * (x[-1] - x[-2]))
        if grad:
            return self.component.pdf_grad(xx, theta, (lo, hi))
        return self.component.pdf(xx, theta, (lo, hi)), None

    def describe(self, theta):
        d = self.component.describe(theta)
        return {k: np.asarray(v) for k, v in d.items()}


#: Shapes with native (NumPy/CuPy) kernels; their transform kinds.
NATIVE_SHAPES = {
    "gaussian": (("center", "fwhm"), ("identity", "log")),
    "lorentzian": (("center", "fwhm"), ("identity", "log")),
    "pseudo-voigt": (("center", "fwhm", "eta"), ("identity", "log", "logit")),
}


def get_map_shape(name: str) -> MapShape:
    """The map shape of ``name`` (native for Gaussian, Lorentzian, pseudo-Voigt; any other
    SAEM component through :class:`SaemShape`)."""
    from iondyn.saem.components import get_component

    comp = get_component(name)
    if comp.name in NATIVE_SHAPES:
        names, kinds = NATIVE_SHAPES[comp.name]
        return MapShape(comp.name, names, kinds, True, comp)
    return SaemShape(comp)
