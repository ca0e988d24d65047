"""Complex non-linear least-squares (CNLS) fitting of equivalent circuits.

``CircuitFitter(circuit, weight=..., bounds=..., fixed=...).fit(spectrum, initial=None)`` →
:class:`~iondyn.eis.fit_result.CircuitFitResult`.

Method (J. R. Macdonald, Electrochim. Acta 35, 1483 (1990); B. A. Boukamp, Solid State Ionics 20,
31 (1986)): minimise χ² = Σᵢ [w′ᵢ(Z′_model,i − Z′ᵢ)]² + [w″ᵢ(Z″_model,i − Z″ᵢ)]² over real and
imaginary parts together with ``scipy.optimize.least_squares`` (trust-region reflective), with
the weights, coordinates and bounds of :mod:`iondyn.eis.fit_problem`:

* positive quantities (R, C, L, Q, σ, τ) are fitted as ln θ, so values from pF to GΩ in one
  model move by relative steps and none freezes at a solver floor; exponents (CPE n, ZARC n,
  HN α, β) on their own scale inside (0, 1];
* ``x_scale=1`` in these coordinates: a unit step is a factor e for every positive quantity, so
  the trust region is isotropic in relative terms. (``x_scale="jac"``, which rescales by the
  Jacobian's column norms, was measured worse: with unit weights it let weakly weighted
  high-frequency parameters jump into other basins, 18/30 pellet fits from factor-3 starts
  reaching the optimum against 30/30; equal for the other weights.)
* the Jacobian by central differences, all shifted parameter sets in one batched evaluation.

After the fit:

* **Rescue.** A log-fitted quantity that ran more than 6 decades from its start (it "collapsed":
  its logarithmic gradient vanishes there, so it cannot come back by itself) is reset to its
  start value and the fit repeated from the current solution; the lower χ² is kept.
* **Errors.** Cov(θ) = s²(JᵀJ)⁻¹, s² = χ²/(2N − k) the reduced χ² (weights taken as right up to
  one common factor), J the Jacobian in linear units (:meth:`FitProblem.scaled_jacobian`), by
  SVD (:mod:`iondyn.eis.fit_stats`); numerically null directions give infinite errors.
* **Converged** means that the solver stopped on one of its tolerance tests (relative change of
  χ² < tol, step < tol·(tol + ‖x‖), or scaled gradient < tol) and not on the evaluation limit.
  It says nothing about identifiability, which is reported separately.
* **Identifiability.** Parameters with a relative error above ``max_rel_error`` (100 %) or in a
  pair with |correlation| > ``max_correlation`` (0.99) are listed in ``poorly_determined`` and
  named in a warning: the data do not determine them (e.g. an arc outside the frequency range).
  The Q–n correlation of one CPE is listed in ``strong_correlations`` but not flagged: it mostly
  reflects the 1 rad/s reference of Q.
* **Unit weights** give the low-frequency points almost all the weight, and the pellet then has
  other minima (R0 absorbing the bulk arc): each start is first fitted with modulus weights and
  the unit-weighted fit continues from there (98/100 → 100/100 pellet fits from factor-3 starts,
  no slower on average).
* **Multi-start.** ``n_starts > 1`` adds starts perturbed by N(0, ``start_spread``) in ln θ (and
  N(0, 0.05) for exponents); the lowest χ² is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.circuit import Circuit, parse_circuit
from iondyn.eis.fit_problem import (
    BOX_DECADES,
    PROPORTIONAL_FLOOR,
    WEIGHTS,
    FitProblem,
    crop_spectrum,
    residual_weights,
    user_bounds_u,
)
from iondyn.eis.fit_quality import attach_misfit
from iondyn.eis.fit_result import CircuitFitResult
from iondyn.eis.fit_stats import (
    covariance_from_jacobian,
    identifiability,
    poorly_determined_warning,
)
from iondyn.eis.guess import initial_guess
from iondyn.errors import FitError, InputError

__all__ = [
    "WEIGHTS",
    "CircuitFitResult",
    "CircuitFitter",
    "crop_spectrum",
    "initial_guess",
    "residual_weights",
]

_RESCUE_DECADES = 6
_MAX_RESCUES = 2
_X_SCALE = 1.0  # see the module docstring


class CircuitFitter:
    """CNLS fit of an equivalent circuit to impedance spectra.

    Parameters
    ----------
    circuit : circuit string (``"R0-p(R1,CPE1)-CPE2"``) or :class:`Circuit`.
    weight : ``"unit"``, ``"modulus"`` (default) or ``"proportional"``.
    bounds : {name: (lo, hi)} in linear units, ``None`` for an open side. Positive quantities
        are always > 0 (an open side gets the automatic ±10-decade box around the start);
        exponents default to (0, 1].
    fixed : {name: value} parameters held at the given value.
    fmin, fmax : fit only the points with fmin ≤ f ≤ fmax (Hz).
    n_starts : number of starts (1 = the given start only).
    start_spread : standard deviation of the extra starts in ln θ.
    random_state : seed of the extra starts.
    max_nfev : evaluation limit per start (default 100·(k + 1), k free parameters).
    tol : ``ftol``, ``xtol`` and ``gtol`` of ``least_squares``.
    max_rel_error, max_correlation : identifiability thresholds of the warnings.
    rescue : reset log-fitted quantities that ran more than six decades from their start and
        refit (default; see the module docstring). ``False`` for a start that is already the
        optimum of another solver (the automatic fit's scan), where a quantity that really is
        ≈ 0 (a vanishing series resistance) would only cost a second run.
    """

    def __init__(
        self,
        circuit: str | Circuit,
        weight: str = "modulus",
        bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
        fixed: Mapping[str, float] | None = None,
        *,
        fmin: float | None = None,
        fmax: float | None = None,
        n_starts: int = 1,
        start_spread: float = 1.0,
        random_state: int | None = 0,
        max_nfev: int | None = None,
        tol: float = 1e-10,
        max_rel_error: float = 1.0,
        max_correlation: float = 0.99,
        rescue: bool = True,
    ):
        self.circuit = parse_circuit(circuit)
        if weight not in WEIGHTS:
            raise InputError(f"unknown weight {weight!r} (use one of {', '.join(WEIGHTS)})")
        self.weight = weight
        self.fixed = self._check_fixed(dict(fixed or {}))
        self.bounds = dict(bounds or {})
        self._lo_u, self._hi_u = user_bounds_u(self.circuit, self.bounds)
        if fmin is not None and fmax is not None and not fmin < fmax:
            raise InputError(f"fmin ({fmin} Hz) must be below fmax ({fmax} Hz)")
        self.fmin, self.fmax = fmin, fmax
        if int(n_starts) < 1:
            raise InputError("n_starts must be at least 1")
        self.n_starts = int(n_starts)
        self.rescue = bool(rescue)
        self.start_spread = float(start_spread)
        self.random_state = random_state
        self.max_nfev = max_nfev
        self.tol = float(tol)
        self.max_rel_error = float(max_rel_error)
        self.max_correlation = float(max_correlation)
        c = self.circuit
        self._log = np.array([c.param_kinds[k] == "positive" for k in c.param_names])
        self._free = np.array([k not in self.fixed for k in c.param_names])
        if not self._free.any():
            raise InputError("every parameter is fixed: nothing to fit")

    def _check_fixed(self, fixed: dict[str, Any]) -> dict[str, float]:
        out = {}
        for name, value in fixed.items():
            self.circuit.index(name)
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InputError(f"fixed value of {name} is not a number: {value!r}") from None
            if not np.isfinite(value) or (
                self.circuit.param_kinds[name] == "positive" and value <= 0
            ):
                raise InputError(f"fixed value of {name} must be a positive number, got {value}")
            out[name] = value
        return out

    def _start(
        self, spectrum: ImpedanceSpectrum, initial: Mapping[str, float] | None
    ) -> dict[str, float]:
        c = self.circuit
        initial = dict(initial or {})
        for name in initial:
            c.index(name)
        start: dict[str, float] = {}
        if any(k not in initial and k not in self.fixed for k in c.param_names):
            start.update(initial_guess(c, spectrum))
        for k, v in initial.items():
            try:
                start[k] = float(v)
            except (TypeError, ValueError):
                raise InputError(f"initial value of {k} is not a number: {v!r}") from None
        start.update(self.fixed)
        for k in c.param_names:
            v = start[k]
            if not np.isfinite(v) or (c.param_kinds[k] == "positive" and v <= 0):
                raise InputError(f"initial value of {k} must be a positive number, got {v}")
        return start

    # --- fitting --------------------------------------------------------------------------------

    def fit(
        self, spectrum: ImpedanceSpectrum, initial: Mapping[str, float] | None = None
    ) -> CircuitFitResult:
        """Fit one spectrum. ``initial`` gives start values by name; missing ones come from
        :func:`iondyn.eis.guess.initial_guess`."""
        if not isinstance(spectrum, ImpedanceSpectrum):
            raise InputError(f"expected an ImpedanceSpectrum, got {type(spectrum).__name__}")
        c = self.circuit
        data = crop_spectrum(spectrum, self.fmin, self.fmax)
        k = int(self._free.sum())
        if 2 * data.n_points <= k:
            raise FitError(
                f"{data.source or 'spectrum'}: {data.n_points} points (2 values each) cannot "
                f"determine {k} free parameters of {c.string}"
            )
        start = self._start(data, initial)
        problem = FitProblem(
            c,
            data,
            np.array([start[n] for n in c.param_names]),
            self._log,
            self._free,
            self._lo_u,
            self._hi_u,
            self.weight,
        )
        warnings = []
        if problem.clipped:
            warnings.append(
                f"start value(s) of {', '.join(problem.clipped)} moved inside their bounds"
            )
        x0 = np.zeros(k)
        best, start_chi2 = None, []
        pre = None
        if self.weight == "unit":  # continuation from the better-conditioned modulus fit
            pre = FitProblem(
                c,
                data,
                problem.theta_given,
                self._log,
                self._free,
                self._lo_u,
                self._hi_u,
                "modulus",
            )
        for xs in [x0, *self._extra_starts(x0, problem)]:
            if pre is not None:
                res_pre = self._solve(pre, xs)
                xs = xs if res_pre is None else res_pre.x
            res = self._solve(problem, xs)
            start_chi2.append(float("inf") if res is None else float(2.0 * res.cost))
            if res is not None and (best is None or res.cost < best.cost):
                best = res
        if best is None:
            raise FitError(
                f"{data.source or 'spectrum'}: the model {c.string} is not finite at the start "
                "values; give other initial values"
            )
        if self.rescue:
            best = self._rescue(problem, best)
        return self._result(problem, best, start, start_chi2, warnings)

    def fit_many(
        self,
        spectra: Iterable[ImpedanceSpectrum],
        initial: Mapping[str, float] | None = None,
    ) -> list[CircuitFitResult]:
        """Fit each spectrum with the same settings and start."""
        return [self.fit(s, initial) for s in spectra]

    def _solve(self, problem: FitProblem, x0: np.ndarray) -> Any:
        """One trust-region run from x0, or None when the model, χ² or the Jacobian is not
        finite there (or becomes so on the way)."""
        r0 = problem.residuals(x0)
        with np.errstate(over="ignore", invalid="ignore"):
            finite = np.isfinite(r0 @ r0) and np.all(np.isfinite(problem.jacobian(x0)))
        if not finite:
            return None
        try:
            res = least_squares(
                problem.residuals,
                x0,
                jac=problem.jacobian,
                bounds=(problem.lo, problem.hi),
                method="trf",
                x_scale=_X_SCALE,
                ftol=self.tol,
                xtol=self.tol,
                gtol=self.tol,
                max_nfev=self.max_nfev or 100 * (problem.k + 1),
            )
        except (ValueError, np.linalg.LinAlgError):  # non-finite values met on the way
            return None
        return res if np.isfinite(res.cost) else None

    def _rescue(self, problem: FitProblem, best: Any) -> Any:
        """Reset collapsed log-fitted quantities to their start and refit (see module doc)."""
        limit = _RESCUE_DECADES * np.log(10.0)
        for _ in range(_MAX_RESCUES):
            far = problem.log_free & (
                (problem.auto_lo & (best.x < -limit)) | (problem.auto_hi & (best.x > limit))
            )
            if not far.any():
                break
            res = self._solve(problem, np.where(far, 0.0, best.x))
            if res is None or not res.cost < best.cost * (1.0 - 1e-12):
                break
            best = res
        return best

    def _extra_starts(self, x0: np.ndarray, problem: FitProblem) -> list[np.ndarray]:
        if self.n_starts == 1:
            return []
        rng = np.random.default_rng(self.random_state)
        spread = np.where(problem.log_free, self.start_spread, 0.05)
        out = []
        for _ in range(self.n_starts - 1):
            x = x0 + spread * rng.standard_normal(x0.size)
            out.append(np.clip(x, problem.lo, problem.hi))
        return out

    # --- statistics -----------------------------------------------------------------------------

    def _result(
        self,
        problem: FitProblem,
        res: Any,
        start: dict[str, float],
        start_chi2: list[float],
        warnings: list[str],
    ) -> CircuitFitResult:
        c = self.circuit
        names = list(c.param_names)
        free_names = problem.names
        data, k = problem.data, problem.k
        x = res.x
        theta = problem.theta(x[None, :])[0]
        with np.errstate(all="ignore"):
            z_fit = np.asarray(problem.evaluate(theta[None, :])[0], dtype=complex)
        r = problem.residuals(x)
        chi2 = float(r @ r)
        dof = 2 * data.n_points - k  # ≥ 1, checked in fit()
        s2 = chi2 / dof
        unc = covariance_from_jacobian(*problem.scaled_jacobian(theta), s2)
        theta_free = theta[problem.free_idx]
        poorly, strong, rel = identifiability(
            free_names,
            theta_free,
            unc.errors,
            unc.correlation,
            self.max_rel_error,
            self.max_correlation,
        )
        params = dict(zip(names, theta.tolist()))
        errors = dict.fromkeys(names, 0.0)
        errors.update(zip(free_names, unc.errors.tolist()))

        at_bounds = []
        for i, n in enumerate(free_names):
            for bound, side, auto in (
                (problem.lo[i], "lower", problem.auto_lo[i]),
                (problem.hi[i], "upper", problem.auto_hi[i]),
            ):
                if np.isfinite(bound) and abs(x[i] - bound) <= 1e-6 * max(1.0, abs(bound)):
                    at_bounds.append(n)
                    where = (
                        f"its automatic {side} limit {params[n]:.3g} ({BOX_DECADES} decades from "
                        "its start; its best value is probably "
                        f"{'0' if side == 'lower' else 'infinite'})"
                        if auto
                        else f"its {side} bound {params[n]:.6g}"
                    )
                    warnings.append(
                        f"{n} ran to {where}: its error assumes an interior optimum "
                        "(consider fixing it or removing the element)"
                    )
        converged = bool(res.status > 0 and np.isfinite(chi2))
        if not converged:
            warnings.append(f"the fit did not converge: {res.message}")
        if poorly:
            warnings.append(
                poorly_determined_warning(
                    poorly, strong, params, errors, c.param_units, rel, free_names
                )
            )
        if problem.n_floored:
            warnings.append(
                f"proportional weight: {problem.n_floored} value(s) with |Z′| or |Z″| below "
                f"{PROPORTIONAL_FLOOR:.0e}·|Z| had their weight capped"
            )
        result = CircuitFitResult(
            circuit=c,
            parameters=params,
            errors=errors,
            fixed={n: not f for n, f in zip(names, self._free)},
            units=dict(c.param_units),
            free_names=free_names,
            covariance=unc.covariance,
            correlation=unc.correlation,
            chi2=chi2,
            chi2_reduced=float(s2),
            dof=dof,
            converged=converged,
            message=str(res.message),
            nfev=int(res.nfev),
            weight=self.weight,
            frequency=data.frequency.copy(),
            z=data.z.copy(),
            z_fit=z_fit,
            weighted_residuals=r,
            poorly_determined=poorly,
            strong_correlations=strong,
            at_bounds=at_bounds,
            initial=start,
            start_chi2=start_chi2,
            source=data.source,
            index=data.index,
            warnings=warnings,
        )
        attach_misfit(result)
        return result
