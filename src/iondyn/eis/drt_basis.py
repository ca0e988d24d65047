"""Discretisation of the distribution of relaxation times on Gaussian radial basis functions.

γ(ln τ) is written as a sum of Gaussians of equal width in y = ln τ,

    γ(y) = Σ_m x_m φ_m(y),   φ_m(y) = exp(−(y − y_m)² / (2 s²)),

with centres y_m equally spaced (step Δ) and width s = ``width_factor`` · Δ (default 1, i.e. a
FWHM of 2.355 Δ; with s = Δ a sum of equal coefficients is flat to 1e-8, so a smooth γ costs
no ripple). The impedance of one basis function is

    Z_m(ω) = ∫ φ_m(y) / (1 + iω e^y) dy = A_re[ω, m] + i A_im[ω, m],

    A_re = ∫ φ_m(y) / (1 + ω² e^{2y}) dy,   A_im = −∫ φ_m(y) ω e^y / (1 + ω² e^{2y}) dy
         = −∫ φ_m(y) / (2 cosh(ln ω + y)) dy,

which depend only on x = ln ω + y_m. With t = y − y_m they are A = ∫ e^{−t²/(2s²)} h(x + t) dt,
h_re(x) = (1 − tanh x)/2, h_im(x) = −1/(2 cosh x), evaluated by the trapezoidal rule on
|t| ≤ 9s with step h = min(s/2, 1/4). The integrand is analytic in a strip of half-width π/2
(the poles of h), so the rule converges geometrically: errors ~exp(−π²/h) + exp(−2π²s²/h²)
< 1e-15 relative (checked in the tests against adaptive quadrature).

The derivative penalties ∫ (d^k γ/dy^k)² dy = xᵀ M_k x have closed forms from the Gaussian
overlap G(d) = ∫ φ(y) φ(y − d) dy = s√π exp(−d²/(4s²)):
M_1[m, n] = −G''(d_mn), M_2[m, n] = G''''(d_mn), d_mn = y_m − y_n.

With a weight w(y) > 0 the penalty becomes ∫ w(y) (d^k γ/dy^k)² dy (:func:`weighted_penalty_matrix`,
trapezoidal rule on a step of s/4 over the basis support, where the Gaussian products converge
geometrically; ln w piecewise linear between knots). The DRT's local penalty scale uses
w(y) = 1/u(y)² with u the smoothed γ of a pilot solution plus a floor
(:func:`smoothed_gamma_scale`; Effat & Ciucci, Electrochim. Acta 247, 1117 (2017) for
locally adapted regularisation of the DRT).

Reference: T. H. Wan, M. Saccoccio, C. Chen, F. Ciucci, Electrochim. Acta 184, 483 (2015)
(RBF discretisation of the DRT, derivative penalties).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from iondyn.errors import DataError, InputError

__all__ = [
    "DesignedProblem",
    "RBFGrid",
    "gaussian_rbf",
    "kernel_matrices",
    "make_grid",
    "penalty_matrix",
    "smoothed_gamma_scale",
    "weighted_penalty_matrix",
]

_LN10 = float(np.log(10.0))


@dataclass(frozen=True)
class RBFGrid:
    """Centres ``ln_tau`` (ln of τ in s, increasing) and width ``s`` of the Gaussian basis."""

    ln_tau: np.ndarray
    s: float

    @property
    def tau(self) -> np.ndarray:
        return np.exp(self.ln_tau)

    @property
    def spacing(self) -> float:
        return float(self.ln_tau[1] - self.ln_tau[0]) if self.ln_tau.size > 1 else 1.0

    @property
    def n(self) -> int:
        return int(self.ln_tau.size)


def make_grid(
    omega: np.ndarray,
    per_decade: float | None = None,
    extend_decades: float = 1.0,
    width_factor: float = 1.0,
) -> RBFGrid:
    """Basis centres covering [1/ω_max, 1/ω_min] widened by ``extend_decades`` on each side.

    ``per_decade`` centres per decade of τ; ``None`` takes the data density (points per decade
    of frequency) rounded and clipped to 5–20. ``width_factor`` sets s = width_factor · Δ.
    """
    omega = np.asarray(omega, dtype=float)
    if omega.size < 2:
        raise InputError("a DRT needs at least two frequencies")
    lo = -np.log(omega.max()) - extend_decades * _LN10
    hi = -np.log(omega.min()) + extend_decades * _LN10
    if per_decade is None:
        data_decades = max(np.log10(omega.max() / omega.min()), 1e-12)
        per_decade = float(np.clip(np.round((omega.size - 1) / data_decades), 5, 20))
    if not (per_decade > 0 and np.isfinite(per_decade)):
        raise InputError(f"basis functions per decade must be positive, got {per_decade}")
    if not (width_factor > 0 and np.isfinite(width_factor)):
        raise InputError(f"RBF width factor must be positive, got {width_factor}")
    n = int(np.ceil((hi - lo) / _LN10 * per_decade)) + 1
    ln_tau = np.linspace(lo, hi, n)
    return RBFGrid(ln_tau, float(width_factor * (ln_tau[1] - ln_tau[0])))


def gaussian_rbf(ln_tau: np.ndarray, grid: RBFGrid) -> np.ndarray:
    """Basis matrix Φ[j, m] = φ_m(ln_tau_j) = exp(−(ln τ_j − y_m)² / (2 s²))."""
    d = np.asarray(ln_tau, dtype=float)[:, None] - grid.ln_tau[None, :]
    return np.exp(-0.5 * (d / grid.s) ** 2)


def _h_re(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 - np.tanh(x))


def _h_im(x: np.ndarray) -> np.ndarray:
    return -0.5 / np.cosh(np.clip(x, -700.0, 700.0))


@lru_cache(maxsize=64)
def _kernels_cached(
    ln_omega_bytes: bytes, ln_tau_bytes: bytes, s: float
) -> tuple[np.ndarray, np.ndarray]:
    ln_omega = np.frombuffer(ln_omega_bytes, dtype=float)
    ln_tau = np.frombuffer(ln_tau_bytes, dtype=float)
    h = min(0.5 * s, 0.25)
    half = int(np.ceil(9.0 * s / h))
    t = h * np.arange(-half, half + 1)
    w = h * np.exp(-0.5 * (t / s) ** 2)
    x = ln_omega[:, None] + ln_tau[None, :]
    xq = x[:, :, None] + t[None, None, :]
    a_re = _h_re(xq) @ w
    a_im = _h_im(xq) @ w
    a_re.setflags(write=False)
    a_im.setflags(write=False)
    return a_re, a_im


def kernel_matrices(omega: np.ndarray, grid: RBFGrid) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary kernel matrices A_re, A_im of shape (n_ω, n_basis).

    Z_rbf(ω_i) = Σ_m x_m (A_re[i, m] + i A_im[i, m]); see the module docstring for the formula.
    Results are cached per (frequency grid, basis) and returned read-only.
    """
    ln_omega = np.ascontiguousarray(np.log(np.asarray(omega, dtype=float)))
    ln_tau = np.ascontiguousarray(grid.ln_tau, dtype=float)
    return _kernels_cached(ln_omega.tobytes(), ln_tau.tobytes(), float(grid.s))


def penalty_matrix(grid: RBFGrid, order: int) -> np.ndarray:
    """Gram matrix of the ``order``-th derivative: xᵀ M x = ∫ (d^k γ / dy^k)² dy (y = ln τ).

    With a = 1/(4s²) and G(d) = s√π e^{−a d²} (overlap of two basis functions d apart):
    order 0: G; order 1: −G'' = G (2a − 4a²d²); order 2: G'''' = G (16a⁴d⁴ − 48a³d² + 12a²).
    """
    d = grid.ln_tau[:, None] - grid.ln_tau[None, :]
    a = 1.0 / (4.0 * grid.s**2)
    g = grid.s * np.sqrt(np.pi) * np.exp(-a * d**2)
    if order == 0:
        return g
    if order == 1:
        return g * (2.0 * a - 4.0 * a**2 * d**2)
    if order == 2:
        return g * (16.0 * a**4 * d**4 - 48.0 * a**3 * d**2 + 12.0 * a**2)
    raise InputError(f"penalty order must be 0, 1 or 2, got {order}")


def _rbf_derivative(y: np.ndarray, grid: RBFGrid, order: int) -> np.ndarray:
    """d^k φ_m / dy^k at the points y (rows) for every basis function m (columns)."""
    d = (np.asarray(y, dtype=float)[:, None] - grid.ln_tau[None, :]) / grid.s
    phi = np.exp(-0.5 * d**2)
    if order == 0:
        return phi
    if order == 1:
        return -d / grid.s * phi
    if order == 2:
        return (d**2 - 1.0) / grid.s**2 * phi
    raise InputError(f"penalty order must be 0, 1 or 2, got {order}")


def weighted_penalty_matrix(
    grid: RBFGrid, order: int, knots_ln_tau: np.ndarray, log_weight: np.ndarray
) -> np.ndarray:
    """xᵀ M x = ∫ w(y) (d^k γ/dy^k)² dy with ln w piecewise linear between the knots
    (increasing ``knots_ln_tau``) and constant beyond them.

    Trapezoidal rule with step s/4 on [y_1 − 9s, y_m + 9s]; for w ≡ 1 it reproduces
    :func:`penalty_matrix` to ~1e-12 relative.
    """
    step = 0.25 * grid.s
    y = np.arange(grid.ln_tau[0] - 9.0 * grid.s, grid.ln_tau[-1] + 9.0 * grid.s + step, step)
    w = np.exp(np.interp(y, np.asarray(knots_ln_tau, float), np.asarray(log_weight, float)))
    der = _rbf_derivative(y, grid, order)
    return der.T @ (der * (w * step)[:, None])


def smoothed_gamma_scale(
    grid: RBFGrid, x: np.ndarray, floor: float, width_decades: float
) -> tuple[np.ndarray, np.ndarray]:
    """Knots y_j (covering the basis support) and u_j = γ̄(y_j) + ``floor``: γ of the
    coefficients ``x`` smoothed by a Gaussian of standard deviation ``width_decades`` in
    log10 τ (the local scale of the hierarchical penalty, see :mod:`iondyn.eis.drt`)."""
    y = np.linspace(grid.ln_tau[0] - 9.0 * grid.s, grid.ln_tau[-1] + 9.0 * grid.s, 8 * grid.n)
    gamma = gaussian_rbf(y, grid) @ np.asarray(x, dtype=float)
    sd = width_decades * _LN10
    kernel = np.exp(-0.5 * ((y[:, None] - y[None, :]) / sd) ** 2)
    smooth = (kernel @ gamma) / kernel.sum(axis=1)
    return y, np.maximum(smooth, 0.0) + floor


class DesignedProblem:
    """The weighted, scaled linear DRT model: design a (2n × p), data b, penalty P and the
    maps between the dimensionless unknowns θ and physical values.

    Unknowns θ ≥ 0: [R∞/S, L·ω_max/S, (1/C_s)/(S·ω_min), x_1/u_1, …, x_m/u_m] (series terms
    only when fitted); S is the geometric mean of |Z|, u_m = S with the global penalty scale,
    u(y_m) with a local one (``local`` = (knots, u) as from :func:`smoothed_gamma_scale`), so
    every column is O(1). Penalty: λ ∫ (d^k γ/dy^k)² / u(y)² dy (u ≡ S: the global form
    λ ‖d^k(γ/S)‖²), plus κ ∫ γ²/u² dy with a ridge κ.
    """

    def __init__(
        self,
        omega: np.ndarray,
        z: np.ndarray,
        settings: Any,
        local: tuple[np.ndarray, np.ndarray] | None = None,
        source: str | None = None,
    ):
        modulus = np.abs(z)
        if np.any(modulus == 0):
            raise DataError("the spectrum has points with |Z| = 0", path=source)
        scale = float(np.exp(np.mean(np.log(modulus))))
        w = 1.0 / modulus if settings.weighting == "modulus" else np.full(z.size, 1.0 / scale)
        grid = make_grid(omega, settings.per_decade, settings.extend_decades, settings.width_factor)
        a_re, a_im = kernel_matrices(omega, grid)
        if local is None:
            unit = np.full(grid.n, scale)
        else:
            knots, u = local
            unit = np.exp(np.interp(grid.ln_tau, knots, np.log(u)))
        zero = np.zeros_like(omega)
        series: list[tuple[str, np.ndarray, np.ndarray, float]] = []
        if settings.r_inf:
            series.append(("R", np.ones_like(omega), zero, scale))
        if settings.inductance:
            w_max = float(omega.max())
            series.append(("L", zero, omega / w_max, scale / w_max))
        if settings.series_capacitance:
            w_min = float(omega.min())
            series.append(("D", zero, -w_min / omega, scale * w_min))
        design_re = np.column_stack([*(c[1] * scale for c in series), a_re * unit])
        design_im = np.column_stack([*(c[2] * scale for c in series), a_im * unit])
        self.design = design_re + 1j * design_im
        self.a = np.vstack([design_re * w[:, None], design_im * w[:, None]])
        self.b = np.concatenate([z.real * w, z.imag * w])
        n_s = len(series)
        p = self.a.shape[1]
        self.penalty = np.zeros((p, p))
        order, ridge = settings.penalty_order, settings.ridge
        if local is None:
            block = penalty_matrix(grid, order)
            if ridge > 0:
                block = block + ridge * penalty_matrix(grid, 0)
        else:
            log_w = -2.0 * np.log(u)
            block = weighted_penalty_matrix(grid, order, knots, log_w)
            if ridge > 0:
                block = block + ridge * weighted_penalty_matrix(grid, 0, knots, log_w)
            block = block * np.outer(unit, unit)
        self.penalty[n_s:, n_s:] = block
        self.grid = grid
        self.scale = scale
        self.unit = unit
        self.series = series
        self.n_series = n_s

    def unpack(self, theta: np.ndarray) -> dict[str, Any]:
        """Physical values: R (Ω), L (H), D = 1/C_s (1/F) and ``gamma`` coefficients (Ω)."""
        out: dict[str, Any] = {
            name: float(theta[k] * unit) for k, (name, _, _, unit) in enumerate(self.series)
        }
        out["gamma"] = theta[self.n_series :] * self.unit
        return out

    def impedance(self, theta: np.ndarray) -> np.ndarray:
        """The model impedance Ẑ(ω) (Ω) for the unknowns θ."""
        return self.design @ theta
