r"""The model of one pixel's spectrum in a map fit, split into its linear and nonlinear parts.

.. math:: m(x) = \sum_{k=1}^{K} A_k\, \varphi_k(x\mid\theta_k, s) + \sum_j c_j\, b_j(x\mid r)
          + g(x)

* peaks: unit-area shapes f_k (centre, FWHM, …: nonlinear θ_k) with areas A_k ≥ 0 (linear);
* backgrounds (:data:`MAP_BACKGROUNDS`):
  ``none``; ``constant``/``linear``/``quadratic``/``polynomial`` — c_j u^j in the normalised
  abscissa u ∈ [−1, 1] (linear coefficients, as :class:`iondyn.saem.background.Polynomial`);
  ``shirley`` — c₀ + s ∫ peaks from the low-background side (Shirley, Phys. Rev. B 5, 4709
  (1972)), i.e. φ_k = f_k + s S_k with S_k the running integral of f_k, s nonlinear, c₀ linear
  (as :class:`iondyn.saem.background.Shirley`);
  ``power-law`` — A (E/E₀)^(−r) before an EELS edge, A ≥ 0 linear, r nonlinear
  (:mod:`iondyn.saem.background_powerlaw`);
  ``als`` — a fixed asymmetric-least-squares baseline g(x) computed from each pixel's data
  (:mod:`iondyn.saem.background_als`), no parameter.

The linear coefficients are never iterated: :mod:`iondyn.maps.varpro` solves them exactly for
the current nonlinear parameters (variable projection). Arrays carry a leading pixel axis B
and live on the array module ``xp`` (NumPy or CuPy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iondyn.errors import DataError, InputError
from iondyn.maps.lineshapes import MapShape

__all__ = ["MAP_BACKGROUNDS", "MapModel"]

MAP_BACKGROUNDS = (
    "none",
    "constant",
    "linear",
    "quadratic",
    "polynomial",
    "shirley",
    "power-law",
    "als",
)


def _cumulative(xp, v, dxh, from_right: bool):
    """Trapezoid running integral of v (..., N) along N (from the right end when asked)."""
    seg = (v[..., 1:] + v[..., :-1]) * dxh
    left = xp.concatenate([xp.zeros(v.shape[:-1] + (1,)), xp.cumsum(seg, axis=-1)], axis=-1)
    return left[..., -1:] - left if from_right else left


class MapModel:
    """K peaks of ``shape`` plus a background on the common grid ``x`` (module docstring)."""

    def __init__(
        self,
        shape: MapShape,
        n_peaks: int,
        background: str,
        x: np.ndarray,
        xp: Any = np,
        *,
        degree: int = 2,
        shirley_from_right: bool = False,
    ):
        bg = str(background).strip().lower().replace("powerlaw", "power-law")
        if bg not in MAP_BACKGROUNDS:
            raise InputError(
                f"unknown map background {background!r}; choose one of {', '.join(MAP_BACKGROUNDS)}"
            )
        self.shape = shape
        self.k = int(n_peaks)
        self.background = bg
        self.xp = xp
        self.x_host = np.asarray(x, dtype=float)
        self.x = xp.asarray(self.x_host)
        self.from_right = bool(shirley_from_right)
        self.degree = {"constant": 0, "linear": 1, "quadratic": 2}.get(bg, int(degree))
        n = self.x_host.size
        lin = [f"p{k + 1}_area" for k in range(self.k)]
        nonneg = [True] * self.k
        nl = [f"p{k + 1}_{p}" for k in range(self.k) for p in shape.param_names]
        kinds = list(shape.kinds) * self.k
        bounds = [(0.0, 1.0)] * len(kinds)
        self._basis_bg = None
        if bg in ("constant", "linear", "quadratic", "polynomial"):
            u = (self.x_host - 0.5 * (self.x_host[0] + self.x_host[-1])) / max(
                0.5 * (self.x_host[-1] - self.x_host[0]), 1e-300
            )
            self._basis_bg = xp.asarray(np.stack([u**j for j in range(self.degree + 1)]))
            lin += [f"bg_c{j}" for j in range(self.degree + 1)]
            nonneg += [False] * (self.degree + 1)
        elif bg == "shirley":
            lin.append("bg_c0")
            nonneg.append(False)
            nl.append("bg_k")
            kinds.append("identity")
            bounds.append((0.0, 1.0))
            self._basis_bg = xp.ones((1, n))
        elif bg == "power-law":
            if np.any(self.x_host <= 0):
                raise DataError("a power-law background needs positive energies on the axis")
            self._logx = xp.asarray(np.log(self.x_host / self.x_host[0]))
            lin.append("bg_A")
            nonneg.append(True)
            nl.append("bg_r")
            kinds.append("identity")
            bounds.append((0.0, 1.0))
        self.lin_names = lin
        self.nl_names = nl
        self.nonneg = np.array(nonneg, dtype=bool)
        self.kinds = tuple(kinds)
        self.bounds = tuple(bounds)
        self._dxh = xp.asarray(0.5 * np.diff(self.x_host)) if n > 1 else None

    @property
    def n_lin(self) -> int:
        return len(self.lin_names)

    @property
    def n_nl(self) -> int:
        return len(self.nl_names)

    @property
    def uses_offset(self) -> bool:
        """True for the ALS background (a fixed baseline g(x) per pixel)."""
        return self.background == "als"

    def split(self, theta):
        """θ (B, n_nl) → peak parameters (B, K, P) and background parameters (B, ·)."""
        p = self.shape.n_params
        return theta[:, : self.k * p].reshape(theta.shape[0], self.k, p), theta[:, self.k * p :]

    def basis(self, theta, grad: bool = True):
        """Φ (B, L, N) and the parts of ∂Φ/∂θ that :meth:`jacobian` combines with the
        linear coefficients."""
        xp = self.xp
        peaks, bgp = self.split(theta)
        f, df = self.shape.density(xp, self.x, peaks, grad)
        b = theta.shape[0]
        parts: dict[str, Any] = {"df": df}
        phi_p = f
        if self.background == "shirley":
            s_k = _cumulative(xp, f, self._dxh, self.from_right)
            s = bgp[:, 0][:, None, None]
            phi_p = f + s * s_k
            parts["S"] = s_k
            if grad:
                parts["dS"] = _cumulative(xp, df, self._dxh, self.from_right)
            parts["s"] = bgp[:, 0]
        rows = [phi_p]
        if self._basis_bg is not None:
            rows.append(xp.broadcast_to(self._basis_bg, (b,) + self._basis_bg.shape))
        if self.background == "power-law":
            r = bgp[:, 0][:, None]
            with np.errstate(over="ignore", invalid="ignore"):
                u = xp.exp(-r * self._logx[None, :])
            parts["u"] = u
            rows.append(u[:, None, :])
        return xp.concatenate(rows, axis=1), parts

    def jacobian(self, coef, parts):
        """∂m/∂θ (B, n_nl, N) at the linear coefficients ``coef`` (B, L)."""
        xp = self.xp
        df = parts["df"]
        areas = coef[:, : self.k]
        b, k, p, n = df.shape
        d = areas[:, :, None, None] * df
        if self.background == "shirley":
            d = d + parts["s"][:, None, None, None] * areas[:, :, None, None] * parts["dS"]
        d = d.reshape(b, k * p, n)
        if self.background == "shirley":
            ds = xp.sum(areas[:, :, None] * parts["S"], axis=1)
            d = xp.concatenate([d, ds[:, None, :]], axis=1)
        elif self.background == "power-law":
            a = coef[:, -1][:, None]
            d = xp.concatenate([d, (-a * self._logx[None, :] * parts["u"])[:, None, :]], axis=1)
        return d

    def theta_from_saem(self, peaks: np.ndarray, background: dict[str, Any] | None) -> np.ndarray:
        """θ (n_nl,) from SAEM peak parameters (K, P) and its background description."""
        out = list(np.asarray(peaks, float).reshape(-1))
        if self.background == "shirley":
            out.append(float((background or {}).get("k", 0.0)))
        elif self.background == "power-law":
            out.append(float((background or {}).get("r", 3.0)))
        return np.array(out)
