"""The numerical problem behind one CNLS fit: weights, coordinates, residuals and Jacobians.

* Weights (w′, w″ per point, computed from the *data*): ``unit`` w = 1; ``modulus``
  w′ = w″ = 1/|Z|; ``proportional`` w′ = 1/|Z′|, w″ = 1/|Z″| (each floored at 10⁻³·|Z| so a
  point where Z″ crosses zero cannot take all the weight). Residuals r = [w′(Z′_model − Z′),
  w″(Z″_model − Z″)], real parts then imaginary parts.
* Coordinates x = u − u_start over the free parameters, with u = ln θ for positive quantities
  and u = θ for exponents: every start is x = 0, so the trust region's first radius does not
  depend on units, and pF and GΩ move by relative steps alike.
* Bounds in x: the user's where given; otherwise an automatic box of ±10 decades around the
  start for log-fitted quantities (a quantity whose best value is zero, such as an unresolved
  series resistance, stops there instead of sliding towards 10⁻³⁰⁰ with a vanishing gradient),
  and (0, 1] for exponents.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.circuit import Circuit
from iondyn.errors import DataError, InputError

__all__ = [
    "BOX_DECADES",
    "EXPONENT_BOUNDS",
    "WEIGHTS",
    "FitProblem",
    "crop_spectrum",
    "residual_weights",
    "user_bounds_u",
]

WEIGHTS = ("unit", "modulus", "proportional")
PROPORTIONAL_FLOOR = 1e-3
EXPONENT_BOUNDS = (0.0, 1.0)
BOX_DECADES = 10
_FD_STEP = 1e-6
_U_CLIP = 700.0


def residual_weights(z: np.ndarray, weight: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(w′, w″, n_floored) for the data ``z`` under ``weight`` (see the module docstring)."""
    z = np.asarray(z, dtype=complex)
    if weight == "unit":
        one = np.ones(z.shape)
        return one, one, 0
    modulus = np.abs(z)
    if np.any(modulus == 0):
        raise DataError(f"the {weight} weight needs |Z| > 0 at every point")
    if weight == "modulus":
        return 1.0 / modulus, 1.0 / modulus, 0
    if weight == "proportional":
        floor = PROPORTIONAL_FLOOR * modulus
        n_floored = int(np.sum(np.abs(z.real) < floor) + np.sum(np.abs(z.imag) < floor))
        re = np.maximum(np.abs(z.real), floor)
        im = np.maximum(np.abs(z.imag), floor)
        return 1.0 / re, 1.0 / im, n_floored
    raise InputError(f"unknown weight {weight!r} (use one of {', '.join(WEIGHTS)})")


def user_bounds_u(circuit: Circuit, bounds: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """User bounds {name: (lo, hi)} (linear units, None = open) in u; ±inf where not given,
    (0, 1] for exponents unless given."""
    kinds = [circuit.param_kinds[n] for n in circuit.param_names]
    lo = np.array([-np.inf if k == "positive" else EXPONENT_BOUNDS[0] for k in kinds])
    hi = np.array([np.inf if k == "positive" else EXPONENT_BOUNDS[1] for k in kinds])
    for name, pair in bounds.items():
        j = circuit.index(name)
        try:
            b_lo, b_hi = pair
            b_lo = -np.inf if b_lo is None else float(b_lo)
            b_hi = np.inf if b_hi is None else float(b_hi)
        except (TypeError, ValueError):
            raise InputError(f"bounds of {name} must be a pair (lo, hi), got {pair!r}") from None
        if np.isnan(b_lo) or np.isnan(b_hi) or not b_lo < b_hi:
            raise InputError(f"bounds of {name}: lower {b_lo} is not below upper {b_hi}")
        if circuit.param_kinds[name] == "positive":
            if b_hi <= 0:
                raise InputError(f"{name} is positive: its upper bound must be > 0")
            lo[j] = np.log(b_lo) if b_lo > 0 else -np.inf
            hi[j] = np.log(b_hi) if np.isfinite(b_hi) else np.inf
        else:
            lo[j], hi[j] = b_lo, b_hi
    return lo, hi


def crop_spectrum(
    spectrum: ImpedanceSpectrum, fmin: float | None = None, fmax: float | None = None
) -> ImpedanceSpectrum:
    """The points with fmin ≤ f ≤ fmax (order kept); DataError if none remain."""
    keep = np.ones(spectrum.n_points, dtype=bool)
    if fmin is not None:
        keep &= spectrum.frequency >= fmin
    if fmax is not None:
        keep &= spectrum.frequency <= fmax
    if not keep.any():
        f = spectrum.frequency
        raise DataError(
            f"no points between fmin={fmin} Hz and fmax={fmax} Hz "
            f"(the spectrum spans {f.min():.4g}–{f.max():.4g} Hz)",
            path=spectrum.source,
        )
    if keep.all():
        return spectrum
    return spectrum._replace(spectrum.frequency[keep], spectrum.z[keep])


class FitProblem:
    """Residuals and Jacobians of one spectrum for one circuit, start and set of free parameters.

    ``log`` marks the log-fitted parameters, ``free`` the free ones (both over all parameters);
    ``lo_u``/``hi_u`` are the user bounds in u (see :func:`user_bounds_u`).
    """

    def __init__(
        self,
        circuit: Circuit,
        data: ImpedanceSpectrum,
        theta_start: np.ndarray,
        log: np.ndarray,
        free: np.ndarray,
        lo_u: np.ndarray,
        hi_u: np.ndarray,
        weight: str,
    ):
        self.circuit = circuit
        self.data = data
        self.log = log
        self.free_idx = np.flatnonzero(free)
        self.fixed_idx = np.flatnonzero(~free)
        self.theta_given = np.array(theta_start, dtype=float)
        self.k = self.free_idx.size
        self.names = [circuit.param_names[i] for i in self.free_idx]
        self.log_free = log[free]
        u_start = np.where(log, np.log(np.where(log, theta_start, 1.0)), theta_start)
        lo_f, hi_f = lo_u[free], hi_u[free]
        u0 = u_start[free]
        self.clipped = [n for n, u, a, b in zip(self.names, u0, lo_f, hi_f) if not a <= u <= b]
        u_start[free] = np.clip(u0, lo_f, hi_f)
        self.u_start = u_start
        self.theta_start = np.where(log, np.exp(u_start), u_start)
        box = BOX_DECADES * np.log(10.0)
        self.auto_lo = self.log_free & ~np.isfinite(lo_f)
        self.auto_hi = self.log_free & ~np.isfinite(hi_f)
        self.lo = np.where(self.auto_lo, -box, lo_f - u_start[free])
        self.hi = np.where(self.auto_hi, box, hi_f - u_start[free])
        self.w_re, self.w_im, self.n_floored = residual_weights(data.z, weight)
        self.evaluate = circuit.evaluator(data.omega)
        self._eye = np.eye(self.k) * _FD_STEP

    def theta(self, X: np.ndarray) -> np.ndarray:
        """Parameter sets (m, n_params) in linear units for coordinates X (m, k)."""
        U = np.repeat(self.u_start[None, :], X.shape[0], axis=0)
        U[:, self.free_idx] += X
        T = np.where(self.log, np.exp(np.clip(U, -_U_CLIP, _U_CLIP)), U)
        T[:, self.fixed_idx] = self.theta_given[self.fixed_idx]  # exactly as given
        return T

    def _weighted(self, dZ: np.ndarray) -> np.ndarray:
        """Stack (m, n_omega) complex differences into (m, 2·n_omega) weighted residuals."""
        return np.concatenate([dZ.real * self.w_re, dZ.imag * self.w_im], axis=-1)

    def residuals(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            d = self.evaluate(self.theta(x[None, :]))[0] - self.data.z
        return self._weighted(d)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """∂r/∂x (2N, k) by central differences, all 2k shifted sets in one batched call."""
        k = self.k
        with np.errstate(all="ignore"):
            Z = self.evaluate(self.theta(np.concatenate([x + self._eye, x - self._eye])))
        return self._weighted((Z[:k] - Z[k:]) / (2.0 * _FD_STEP)).T

    def scaled_jacobian(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(J_s, s): J_s = (∂r/∂θ_j)·s_j in *linear* units, column-scaled by s_j.

        s_j = max(θ_j, 10⁻³·θ_start,j) for positive quantities and 1 for exponents. In the
        interior this is ∂r/∂ln θ, so the covariance equals the delta-method one; for a quantity
        pushed to ~0 (at its automatic floor) the linear derivative stays meaningful where the
        logarithmic one vanishes, so its error (and the errors of the parameters correlated with
        it) are those of the unconstrained linearised problem, not a falsely small conditional
        one. Central differences with step 10⁻⁶·s_j, forward where θ_j − step ≤ 0.
        """
        k = self.k
        th = theta[self.free_idx]
        scale = np.where(self.log_free, np.maximum(th, 1e-3 * self.theta_start[self.free_idx]), 1.0)
        h = _FD_STEP * scale
        central = ~self.log_free | (th - h > 0)
        base = np.repeat(theta[None, :], 2 * k, axis=0)
        idx = np.arange(k)
        base[idx, self.free_idx] += h
        base[k + idx, self.free_idx] -= np.where(central, h, 0.0)
        with np.errstate(all="ignore"):
            Z = self.evaluate(base)
        denom = np.where(central, 2.0 * h, h)
        dZ = (Z[:k] - Z[k:]) / denom[:, None]
        return self._weighted(dZ * scale[:, None]).T, scale
