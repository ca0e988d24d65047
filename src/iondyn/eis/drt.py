"""Distribution of relaxation times (DRT) by non-negative Tikhonov regularisation.

Model (Wan, Saccoccio, Chen & Ciucci, Electrochim. Acta 184, 483 (2015)):

    Z(ω) = R∞ + iωL + 1/(iωC_s) + ∫ γ(ln τ) / (1 + iωτ) d ln τ,

γ(ln τ) ≥ 0 in Ω (∫ γ d ln τ is the polarisation resistance R_pol). γ is expanded on Gaussian
RBFs (:mod:`iondyn.eis.drt_basis`); R∞, L and 1/C_s enter linearly and are non-negative
unknowns. 1/C_s rather than C_s makes a blocking electrode a linear term — the option the
peers lack, whose absence turns the electrode's capacitive spike into phantom long-τ peaks.
The estimate minimises

    Σ_i w_i² |Z_i − Ẑ_i|² + λ ∫ [ (d^k γ/d(ln τ)^k)² + κ γ² ] / u(ln τ)² d ln τ,   unknowns ≥ 0,

w_i = 1/|Z_i| (``weighting="modulus"``, default) or 1/S (``"unit"``), S the geometric mean of
|Z|, k = 1 (default) or 2, κ the optional ridge weight (``ridge``, default 0); λ is
dimensionless and independent of the units of Z.

*Penalty scale* u (``penalty_scale``). ``"global"``: u ≡ S. ``"local"`` (default with modulus
weighting): a hierarchical, two-stage estimate — the global problem is solved first (λ chosen
as below) and u(y) = γ̄_pilot(y) + 0.01 S, its γ smoothed by a Gaussian of 0.5 decade, then the
problem is solved again with that scale. Locally adapted regularisation after Effat & Ciucci,
Electrochim. Acta 247, 1117 (2017). Reason: with one S, a spectrum whose γ spans decades
(a 1 kΩ bulk arc beside a 10 MΩ blocking CPE) needs a tiny λ for the electrode and is left
unregularised where γ is small — the bulk arc broke into spikes and a basis function beyond
1/ω_max, equivalent to R∞ plus a negative inductance, took R∞ to 0 on the LPSCl pellet. With
u following γ the penalty is relative everywhere; being symmetric about a symmetric peak it
moves no maximum (a |Z|-based local scale, also tried, shifted ZARC maxima by 6–13 %), and the
0.01 S floor keeps the regions without γ (a blocking capacitor's range) stiff, so no
long-τ humps grow there. The ZARC's heavy-tail side lobes of the global form also vanish.
λ is fixed by the user or chosen on the exact constrained solutions (:mod:`iondyn.eis.drt_lambda`;
default: discrepancy principle with the noise level from GCV). Peaks, their resistances,
significance and the arcs they form: :mod:`iondyn.eis.drt_peaks`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iondyn.eis.drt_basis import DesignedProblem, gaussian_rbf, smoothed_gamma_scale
from iondyn.eis.drt_lambda import LAMBDA_METHODS, TikhonovFit, TikhonovProblem, search_lambda
from iondyn.eis.drt_peaks import DRTPeak, find_drt_peaks, group_arcs, merge_peaks, peak_warnings
from iondyn.eis.drt_result import DRTResult
from iondyn.eis.kk_validity import as_impedance_spectrum, capacitive_tail, screen_spectrum
from iondyn.errors import DataError, InputError

__all__ = ["DRT", "MIN_POINTS_DRT", "DRTResult"]

#: Fewest frequencies a DRT is attempted on.
MIN_POINTS_DRT = 5
_WEIGHTINGS = ("modulus", "unit")
_PENALTY_SCALES = ("local", "global")
_OUTPUT_OVERSAMPLING = 4
_NOT_CONVERGED = "the non-negative least-squares solver did not converge"
#: Local penalty scale: floor (fraction of S) and smoothing (decades) of the pilot's γ.
PILOT_FLOOR = 0.01
PILOT_SMOOTHING_DECADES = 0.5


def _check_positive(name: str, value: float, allow_zero: bool = False) -> float:
    value = float(value)
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = "≥ 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be a finite number {bound}, got {value}")
    return value


class DRT:
    """Distribution of relaxation times by non-negative Tikhonov regularisation.

    Parameters
    ----------
    lam : fixed regularisation parameter (> 0); ``None`` chooses it by ``lambda_method``.
    lambda_method : ``"discrepancy"`` (default), ``"gcv"``, ``"mgcv"`` or ``"lcurve"``.
    lambda_range : (low, high) of the λ search.
    noise : known relative noise σ of Z (per component, as a fraction of |Z| under modulus
        weighting, of S under unit weighting); used by the discrepancy principle instead of
        the GCV estimate.
    penalty_order : 1 (default; ‖dγ/d ln τ‖²) or 2 (‖d²γ/d ln τ²‖²).
    ridge : κ ≥ 0, weight of an added ‖γ‖² term (default 0: pure derivative penalty).
    series_capacitance : fit 1/C_s ≥ 0 (blocking electrodes).
    inductance : fit L ≥ 0.
    r_inf : fit R∞ ≥ 0 (default True).
    weighting : ``"modulus"`` (w = 1/|Z|, default) or ``"unit"``.
    penalty_scale : ``"local"`` (default: the hierarchical two-stage scale of the module
        docstring; with unit weighting it falls back to ``"global"``) or ``"global"`` (u ≡ S).
    per_decade : basis functions per decade of τ (``None``: the data density, clipped to 5–20).
    extend_decades : how far the τ grid reaches beyond [1/ω_max, 1/ω_min], in decades.
    width_factor : RBF width s in units of the centre spacing (default 1).
    min_prominence, min_peak_fraction, significance_threshold : peak detection (prominence as
        a fraction of each peak's own height, default 0.05), see :mod:`iondyn.eis.drt_peaks`.

    ``fit(spectrum)`` returns a :class:`~iondyn.eis.drt_result.DRTResult`.
    """

    def __init__(
        self,
        lam: float | None = None,
        lambda_method: str = "discrepancy",
        lambda_range: tuple[float, float] = (1e-10, 1e2),
        noise: float | None = None,
        penalty_order: int = 1,
        ridge: float = 0.0,
        series_capacitance: bool = False,
        inductance: bool = False,
        r_inf: bool = True,
        weighting: str = "modulus",
        penalty_scale: str = "local",
        per_decade: float | None = None,
        extend_decades: float = 1.0,
        width_factor: float = 1.0,
        min_prominence: float = 0.05,
        min_peak_fraction: float = 0.1,
        significance_threshold: float = 25.0,
    ):
        self.lam = None if lam is None else _check_positive("λ", lam)
        if lambda_method not in LAMBDA_METHODS:
            raise InputError(
                f"unknown λ method {lambda_method!r}; choose one of {', '.join(LAMBDA_METHODS)}"
            )
        lo, hi = (_check_positive("λ range bound", v) for v in lambda_range)
        if not lo < hi:
            raise InputError(f"λ range must be (low, high) with low < high, got {lambda_range}")
        if penalty_order not in (1, 2):
            raise InputError(f"penalty order must be 1 or 2, got {penalty_order}")
        if weighting not in _WEIGHTINGS:
            raise InputError(f"unknown weighting {weighting!r}; choose modulus or unit")
        if penalty_scale not in _PENALTY_SCALES:
            raise InputError(f"unknown penalty scale {penalty_scale!r}; choose local or global")
        for name, value in (
            ("min_prominence", min_prominence),
            ("min_peak_fraction", min_peak_fraction),
        ):
            if not 0 <= value < 1:
                raise InputError(f"{name} must be in [0, 1), got {value}")
        self.lambda_method = lambda_method
        self.lambda_range = (lo, hi)
        self.noise = None if noise is None else _check_positive("noise", noise)
        self.penalty_order = int(penalty_order)
        self.ridge = _check_positive("ridge", ridge, allow_zero=True)
        self.series_capacitance = bool(series_capacitance)
        self.inductance = bool(inductance)
        self.r_inf = bool(r_inf)
        self.weighting = weighting
        self.penalty_scale = penalty_scale
        self.per_decade = None if per_decade is None else _check_positive("per_decade", per_decade)
        self.extend_decades = _check_positive("extend_decades", extend_decades, allow_zero=True)
        self.width_factor = _check_positive("width_factor", width_factor)
        self.min_prominence = float(min_prominence)
        self.min_peak_fraction = float(min_peak_fraction)
        self.significance_threshold = _check_positive(
            "significance_threshold", significance_threshold, allow_zero=True
        )

    def settings(self) -> dict[str, Any]:
        """The configuration, as stored with every result."""
        return {
            "lambda": self.lam,
            "lambda_method": "fixed" if self.lam is not None else self.lambda_method,
            "lambda_range": list(self.lambda_range),
            "noise": self.noise,
            "penalty_order": self.penalty_order,
            "ridge": self.ridge,
            "series_capacitance": self.series_capacitance,
            "inductance": self.inductance,
            "r_inf": self.r_inf,
            "weighting": self.weighting,
            "penalty_scale": self.penalty_scale,
            "basis": "gaussian",
            "per_decade": self.per_decade,
            "extend_decades": self.extend_decades,
            "width_factor": self.width_factor,
            "min_prominence": self.min_prominence,
            "min_peak_fraction": self.min_peak_fraction,
            "significance_threshold": self.significance_threshold,
        }

    def fit_many(self, spectra: list[Any]) -> list[DRTResult]:
        """One result per spectrum (kernel matrices are cached and shared by equal grids)."""
        return [self.fit(s) for s in spectra]

    def fit(self, data: Any) -> DRTResult:
        """DRT of one spectrum (an :class:`ImpedanceSpectrum` or a (frequency, Z) pair)."""
        spec = as_impedance_spectrum(data)
        if spec.n_points < MIN_POINTS_DRT:
            raise DataError(
                f"a DRT needs at least {MIN_POINTS_DRT} frequencies, got {spec.n_points}",
                path=spec.source,
            )
        screen_spectrum(spec)
        model = DesignedProblem(spec.omega, spec.z, self, source=spec.source)
        tp = TikhonovProblem(model.a, model.b, model.penalty)
        fit, method, lambda_grid, lambda_scores, warnings = self._solve(tp)
        if self.penalty_scale == "local" and self.weighting == "modulus":
            local = smoothed_gamma_scale(
                model.grid,
                model.unpack(fit.sol.x)["gamma"],
                PILOT_FLOOR * model.scale,
                PILOT_SMOOTHING_DECADES,
            )
            model = DesignedProblem(spec.omega, spec.z, self, local, source=spec.source)
            tp = TikhonovProblem(model.a, model.b, model.penalty)
            fit, method, lambda_grid, lambda_scores, warnings = self._solve(tp)
        tail = None if self.series_capacitance else capacitive_tail(spec)
        if tail is not None:
            warnings.append(
                f"the low-frequency end is capacitive (−Z″ ∝ f^−{tail[0]:.2f}, phase "
                f"{tail[1]:.0f}° at {tail[2]:.3g} Hz): a blocking electrode; fit it with "
                "series_capacitance=True (--series-capacitance), or its capacitance becomes "
                "a phantom peak beyond the measured range"
            )
        dof = tp.n - fit.trace
        sigma2 = fit.rss / dof if dof > 0 else fit.rss / tp.n

        values = model.unpack(fit.sol.x)
        x_rbf = values["gamma"]
        grid = model.grid
        ln_out = np.linspace(
            grid.ln_tau[0], grid.ln_tau[-1], (grid.n - 1) * _OUTPUT_OVERSAMPLING + 1
        )
        gamma = gaussian_rbf(ln_out, grid) @ x_rbf
        omega = spec.omega
        measured = (float(-np.log(omega.max())), float(-np.log(omega.min())))
        peaks = find_drt_peaks(
            ln_out, gamma, x_rbf, grid, measured, self.min_prominence, self.min_peak_fraction
        )
        self._significance(peaks, model, tp, fit, sigma2)
        peaks = self._merge_insignificant(peaks, ln_out, gamma, model, tp, fit, sigma2)
        warnings += peak_warnings(peaks, self.series_capacitance or tail is not None, measured[1])
        arcs = group_arcs(ln_out, gamma, peaks, measured)
        d = values.get("D")
        result = DRTResult(
            source=spec.source,
            index=spec.index,
            tau_s=np.exp(ln_out),
            gamma_ohm=gamma,
            R_inf_ohm=values.get("R"),
            L_H=values.get("L"),
            C_series_F=None if d is None else (1.0 / d if d > 0 else float("inf")),
            R_pol_ohm=float(np.sum(x_rbf) * grid.s * np.sqrt(2.0 * np.pi)),
            lam=fit.lam,
            lambda_method=method,
            peaks=peaks,
            arcs=arcs,
            frequency_Hz=spec.frequency.copy(),
            z=spec.z.copy(),
            z_fit=model.impedance(fit.sol.x),
            coefficients_ohm=x_rbf,
            tau_basis_s=grid.tau,
            basis_width=grid.s,
            noise_estimate=float(np.sqrt(sigma2)),
            effective_parameters=float(fit.trace),
            lambda_grid=lambda_grid,
            lambda_scores=lambda_scores,
            settings=self.settings(),
            warnings=warnings,
        )
        if result.rms_residual > 0.05:
            result.warnings.append(
                f"poor fit: rms relative residual {result.rms_residual:.3g}; the model "
                "(series terms, λ) may not describe these data, or they fail the "
                "Kramers–Kronig test"
            )
        return result

    def _solve(
        self, tp: TikhonovProblem
    ) -> tuple[TikhonovFit, str, np.ndarray | None, np.ndarray | None, list[str]]:
        """The solution at the fixed λ or at the λ of the search: (fit, method, λ grid,
        scores, warnings)."""
        if self.lam is not None:
            fit = tp.evaluate(float(np.log10(self.lam)), None)
            warnings = [] if fit.sol.converged else [_NOT_CONVERGED]
            return fit, "fixed", None, None, warnings
        noise_var = None if self.noise is None else self.noise**2
        search = search_lambda(tp, self.lambda_method, self.lambda_range, noise_variance=noise_var)
        return search.fit, search.method, 10.0**search.log10_grid, search.scores, search.warnings

    def _significance(
        self,
        peaks: list[DRTPeak],
        model: DesignedProblem,
        tp: TikhonovProblem,
        fit: TikhonovFit,
        sigma2: float,
    ) -> None:
        """ΔJ/σ̂² of each peak: the rise of the Tikhonov objective when the basis functions
        inside its interval are removed and the rest refitted (x ≥ 0). Above 4 × the
        threshold only a lower bound is computed (the unconstrained refit)."""
        y = model.grid.ln_tau
        for p in peaks:
            drop = np.zeros(tp.atb.size, dtype=bool)
            inside = (y >= np.log(p.tau_low_s)) & (y <= np.log(p.tau_high_s))
            if p.tau_low_s <= np.exp(y[0]):
                inside |= y < np.log(p.tau_high_s)
            if p.tau_high_s >= np.exp(y[-1]):
                inside |= y > np.log(p.tau_low_s)
            drop[model.n_series :] = inside
            if sigma2 <= 0:
                p.significance, p.significant = float("inf"), True
                continue
            # enough: well above the threshold, so a lower bound decides big peaks at once
            enough = 4.0 * max(self.significance_threshold, 1.0) * sigma2
            p.significance = tp.increase_without(drop, fit, enough) / sigma2
            p.significant = bool(p.significance >= self.significance_threshold)

    def _merge_insignificant(
        self,
        peaks: list[DRTPeak],
        ln_tau: np.ndarray,
        gamma: np.ndarray,
        model: DesignedProblem,
        tp: TikhonovProblem,
        fit: TikhonovFit,
        sigma2: float,
    ) -> list[DRTPeak]:
        """Merge small non-significant satellites into their neighbour (see drt_peaks)."""
        peaks = list(peaks)
        while len(peaks) > 1:
            candidates = []
            for k, p in enumerate(peaks):
                if p.significant:
                    continue
                left = np.interp(np.log(p.tau_low_s), ln_tau, gamma) if k > 0 else -np.inf
                right = (
                    np.interp(np.log(p.tau_high_s), ln_tau, gamma)
                    if k < len(peaks) - 1
                    else -np.inf
                )
                other = k - 1 if left >= right else k + 1
                if p.R_ohm < self.min_peak_fraction * peaks[other].R_ohm:
                    candidates.append((p.significance, k, other))
            if not candidates:
                break
            _, k, other = min(candidates)
            lo = min(k, other)
            merged = merge_peaks(peaks[lo], peaks[lo + 1])
            self._significance([merged], model, tp, fit, sigma2)
            peaks[lo : lo + 2] = [merged]
        return peaks
