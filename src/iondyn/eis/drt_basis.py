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

Reference: T. H. Wan, M. Saccoccio, C. Chen, F. Ciucci, Electrochim. Acta 184, 483 (2015)
(RBF discretisation of the DRT, derivative penalties).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from iondyn.errors import InputError

__all__ = [
    "RBFGrid",
    "gaussian_rbf",
    "kernel_matrices",
    "make_grid",
    "penalty_matrix",
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
