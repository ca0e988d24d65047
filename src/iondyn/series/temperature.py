"""Temperature series of impedance spectra: one circuit, process tracking, Arrhenius laws.

For spectra measured at temperatures T₁ < T₂ < … (``iondyn eis series``):

1. Every spectrum is fitted by :class:`iondyn.eis.autofit.AutoFitter` (no initial guesses),
   which also fits every candidate circuit and reports its BIC.
2. **One circuit for the series** (``model="series"``, the default;
   :mod:`iondyn.series.selection`): the candidate with the lowest BIC summed over the
   temperatures among those well determined at most of them; without its series resistance
   when R∞ is undetermined at most temperatures and that lowers the summed BIC. It is then
   fitted at every temperature, in temperature order, from the better (lower χ²) of

   * the SAEM decomposition of this spectrum (``AutoFitter.fit(spectrum, circuit=…)``), and
   * the neighbour's parameters moved by a thermal shift s: a thermally activated R‖C arc obeys
     Z_T(ω) ≈ s · Z_prev(s ω) (R → sR at constant C, τ → sτ), so s is the value on a
     logarithmic grid that minimises Σ |ln Z(ω) − ln(s Z_prev(s ω))|² and the start has
     R_k → s R_k, Q_k → Q_k s^(n_k − 1) (constant C = (R^(1−n) Q)^(1/n)).

   ``model="per-spectrum"`` keeps each spectrum's own BIC choice (with the same warm start,
   kept only when it lowers the BIC).
3. **Processes are followed by continuity** of τ(T) along an Arrhenius line and of C
   (:mod:`iondyn.series.tracking`), and labelled on the series by their capacitance ratio
   (bulk = smallest capacitance, grain boundary = the next; Irvine, Sinclair & West, Adv.
   Mater. 2, 132 (1990)). The leads' R∞ and blocking electrodes carry no conductivity and are
   not tracked, except R∞ as "bulk (high-frequency intercept)" when no arc is the bulk.
4. Per process with at least :data:`MIN_TEMPERATURES` temperatures,
   σT = A exp(−Ea/k_B T) is fitted by :func:`iondyn.series.fit_arrhenius` with the σ standard
   errors as weights (σ = L/(R A)); points that do not lie on one Arrhenius line (χ² test)
   are a warning naming them; σ at the requested temperatures comes from the fit with its
   error from the full covariance of (ln A, Ea), and an extrapolation beyond the measured
   range says so, with its distance in decades of 1/T.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from iondyn.data import ImpedanceSpectrum
from iondyn.display import Displayable, Param, Summary, format_value
from iondyn.eis.autofit import AutoFitResult, AutoFitter
from iondyn.errors import DataError, FitError, InputError, IondynError
from iondyn.series.arrhenius import ArrheniusFit, fit_arrhenius
from iondyn.series.point_fits import SeriesPoint, fit_bic, per_spectrum_fits
from iondyn.series.selection import (
    choose_series_circuit,
    fit_series_circuit,
)
from iondyn.series.tracking import label_tracks, track_arcs

__all__ = [
    "MIN_TEMPERATURES",
    "MODELS",
    "UNTRACKED_LABELS",
    "SeriesPoint",
    "TemperatureSeriesResult",
    "TrackedProcess",
    "check_temperatures",
    "extrapolation_decades",
    "fit_bic",
    "fit_temperature_series",
]

MIN_TEMPERATURES = 3

#: How the circuit is chosen: once for the series, or spectrum by spectrum.
MODELS = ("series", "per-spectrum")


#: Labels with no conductivity of the material: not tracked.
UNTRACKED_LABELS = ("series resistance (R∞)", "electrode (blocking)")


@dataclass(repr=False)
class TrackedProcess(Displayable):
    """One process followed across the temperatures and its Arrhenius fit (None when it has
    fewer than :data:`MIN_TEMPERATURES` temperatures or the fit failed)."""

    label: str
    points: list[dict[str, Any]]
    arrhenius: ArrheniusFit | None
    sigma_at: dict[float, tuple[float, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        a = self.arrhenius
        return {
            "label": self.label,
            "n_temperatures": len({p["T_K"] for p in self.points}),
            "Ea_eV": None if a is None else a.Ea_eV,
            "Ea_eV_err": None if a is None else a.Ea_eV_err,
            "prefactor_S_K_per_cm": None if a is None else a.prefactor,
            "prefactor_S_K_per_cm_err": None if a is None else a.prefactor_err,
            "ln_prefactor": None if a is None else a.ln_prefactor,
            "ln_prefactor_err": None if a is None else a.ln_prefactor_err,
            "chi2_reduced": None if a is None else a.chi2_reduced,
            "r2": None if a is None else a.r2,
            "sigma_S_per_cm_at": {f"{t:g}": v for t, (v, _) in self.sigma_at.items()},
            "sigma_S_per_cm_at_err": {f"{t:g}": e for t, (_, e) in self.sigma_at.items()},
            "points": [dict(p) for p in self.points],
            "warnings": list(self.warnings),
        }

    def _summary(self) -> Summary:
        from iondyn.display.views_results import tracked_summary

        return tracked_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """σ against 1000/T with the fitted Arrhenius law. Returns the axes."""
        from iondyn.display.views_results import tracked_plot

        return tracked_plot(self, ax)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per temperature point of the process."""
        rows = [{k: v for k, v in p.items() if not k.startswith("_")} for p in self.points]
        return pd.DataFrame(rows)


@dataclass(repr=False)
class TemperatureSeriesResult(Displayable):
    """Per-spectrum fits (in temperature order), tracked processes and warnings."""

    fits: list[SeriesPoint]
    processes: list[TrackedProcess]
    thickness_cm: float
    area_cm2: float
    warnings: list[str] = field(default_factory=list)
    model: str = "series"
    circuit: str | None = None  # the series circuit (model "series")
    circuit_table: list[dict[str, Any]] = field(default_factory=list)

    def process(self, label: str) -> TrackedProcess:
        for p in self.processes:
            if p.label == label:
                return p
        raise KeyError(label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "thickness_cm": self.thickness_cm,
            "area_cm2": self.area_cm2,
            "convention": "sigma_T",
            "model": self.model,
            "circuit": self.circuit,
            "circuit_table": [dict(r) for r in self.circuit_table],
            "processes": [p.to_dict() for p in self.processes],
            "fits": [f.to_dict() for f in self.fits],
            "warnings": list(self.warnings),
        }

    def _summary(self) -> Summary:
        temps = sorted({f.T_K for f in self.fits})
        facts = [
            f"{len(self.fits)} spectra, {temps[0]:.1f}–{temps[-1]:.1f} K"
            if temps
            else "no spectra",
            f"circuit {self.circuit}" if self.circuit else f"model {self.model}",
            f"L = {self.thickness_cm:g} cm, A = {self.area_cm2:g} cm²",
        ]
        params = []
        for p in self.processes:
            a = p.arrhenius
            if a is not None:
                params.append(Param(f"Ea {p.label}", a.Ea_eV, a.Ea_eV_err, "eV"))
                for temp, (v, e) in p.sigma_at.items():
                    params.append(Param(f"σ {p.label} at {temp:g} K", v, e, "S/cm"))
        rows = [
            [
                p.label,
                str(len({pt["T_K"] for pt in p.points})),
                "–"
                if p.arrhenius is None
                else format_value(p.arrhenius.Ea_eV, p.arrhenius.Ea_eV_err, "eV"),
                "–" if p.arrhenius is None else f"{p.arrhenius.r2:.5f}",
            ]
            for p in self.processes
        ]
        return Summary(
            "TemperatureSeriesResult",
            "temperature series (σT = A exp(−Ea/k_B T))",
            facts,
            params,
            tables=[("processes", ["process", "temperatures", "Ea", "R²"], rows)],
            warnings=list(self.warnings),
        )

    def plot(self, ax: Any = None) -> Any:
        """The Arrhenius plot: σ of every tracked process against 1000/T with its fitted law
        (the picture of ``iondyn eis series --plot`` and of the report); returns the axes."""
        from iondyn.display import plots as dp

        procs = [
            (
                p.label,
                [pt["T_K"] for pt in p.points],
                [pt["sigma_S_per_cm"] for pt in p.points],
                [pt["sigma_S_per_cm_err"] or 0.0 for pt in p.points],
                p.arrhenius,
            )
            for p in self.processes
        ]
        return dp.arrhenius(dp.axes(ax), procs)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per (process, temperature) point, with the process's Ea."""
        rows = []
        for p in self.processes:
            for pt in p.points:
                rows.append(
                    {
                        "label": p.label,
                        **pt,
                        "Ea_eV": None if p.arrhenius is None else p.arrhenius.Ea_eV,
                        "Ea_eV_err": None if p.arrhenius is None else p.arrhenius.Ea_eV_err,
                    }
                )
        return pd.DataFrame(rows)


def _point_entry(sp: SeriesPoint, proc: dict[str, Any]) -> dict[str, Any]:
    err = proc.get("sigma_S_per_cm_err")
    return {
        "T_K": sp.T_K,
        "sigma_S_per_cm": float(proc["sigma_S_per_cm"]),
        "sigma_S_per_cm_err": err if err is not None and math.isfinite(err) else None,
        "R_ohm": proc.get("R_ohm"),
        "C_F": proc.get("C_F"),
        "tau_s": proc.get("tau_s"),
        "element": proc.get("element"),
        "source": sp.source,
        "spectrum": sp.index,
    }


def _has_sigma(proc: dict[str, Any]) -> bool:
    s = proc.get("sigma_S_per_cm")
    return isinstance(s, int | float) and math.isfinite(s) and s > 0


def _track(fits: list[SeriesPoint], thickness_cm, area_cm2) -> dict[str, list[dict[str, Any]]]:
    """Processes followed across the series (:mod:`iondyn.series.tracking`) and labelled on
    it; every fit's process entries get the series label (``label_spectrum`` keeps the
    spectrum's own)."""
    spectra = []
    for k, sp in enumerate(fits):
        arcs = [
            {**proc, "_fit": k, "_entry": j}
            for j, proc in enumerate(sp.processes)
            if proc.get("tau_s") and proc.get("label") not in UNTRACKED_LABELS
        ]
        spectra.append((sp.T_K, arcs))
    tracks = track_arcs(spectra)
    has_bulk = label_tracks(tracks, thickness_cm, area_cm2)
    out: dict[str, list[dict[str, Any]]] = {}
    for tr in tracks:
        for pt in tr.points:
            sp = fits[pt["_fit"]]
            proc = sp.processes[pt["_entry"]]
            entry = sp.auto.processes[pt["_entry"]] if sp.auto.processes else proc
            entry.setdefault("label_spectrum", entry.get("label"))
            entry["label"] = tr.label
            if _has_sigma(proc):
                out.setdefault(tr.label, []).append(_point_entry(sp, proc))
    if not has_bulk:  # the bulk arc is above the window: R∞ stands for the bulk
        for sp in fits:
            for proc in sp.processes:
                if proc.get("tau_s") is None and proc.get("R_ohm") and _has_sigma(proc):
                    out.setdefault("bulk (high-frequency intercept)", []).append(
                        _point_entry(sp, proc)
                    )
    return out


def _arrhenius(label: str, points, at_K: Sequence[float]) -> TrackedProcess:
    t = np.array([p["T_K"] for p in points])
    if np.unique(t).size < MIN_TEMPERATURES:
        msg = f"{label}: only {np.unique(t).size} temperature(s), no Arrhenius fit"
        return TrackedProcess(label, points, None, {}, [msg])
    v = np.array([p["sigma_S_per_cm"] for p in points])
    errs = [p["sigma_S_per_cm_err"] for p in points]
    e = None if any(x is None or not x > 0 for x in errs) else np.array(errs, dtype=float)
    try:
        fit = fit_arrhenius(t, v, e, convention="sigma_T")
    except IondynError as exc:
        return TrackedProcess(label, points, None, {}, [f"{label}: {exc}"])
    at = {}
    warnings = [f"{label}: {w}" for w in fit.warnings]
    for temp in at_K:
        value, err = fit.predict(float(temp))
        at[float(temp)] = (float(value), float(err))
        beyond = extrapolation_decades(t, float(temp))
        if beyond > 0:
            warnings.append(
                f"{label}: σ at {temp:g} K is extrapolated from {t.min():g}–{t.max():g} K, "
                f"{beyond:.2g} decade(s) of 1/T beyond the measured range"
            )
    return TrackedProcess(label, points, fit, at, warnings)


def extrapolation_decades(measured_K: np.ndarray, at_K: float) -> float:
    """How far ``at_K`` lies outside the measured range, in decades of 1/T (0 inside):
    log10(T_min/T) below it, log10(T/T_max) above it."""
    lo, hi = float(np.min(measured_K)), float(np.max(measured_K))
    if at_K < lo:
        return math.log10(lo / at_K)
    if at_K > hi:
        return math.log10(at_K / hi)
    return 0.0


def fit_temperature_series(
    spectra: Sequence[ImpedanceSpectrum],
    temperatures_K: Sequence[float],
    thickness_cm: float,
    area_cm2: float,
    *,
    max_arcs: int = 3,
    electrode: str = "auto",
    weight: str = "modulus",
    fmin: float | None = None,
    fmax: float | None = None,
    at_K: Sequence[float] = (298.15,),
    warm_start: bool = True,
    model: str = "series",
) -> TemperatureSeriesResult:
    r"""Fit a temperature series of impedance spectra (module docstring).

    .. math:: \sigma T = A \exp(-E_a / k_B T), \qquad \sigma = L / (R A_{el})

    (Arrhenius σT law of hopping conductors, e.g. West, *Solid State Chemistry and its
    Applications*, 2nd ed. (2014), ch. 8; process labels after Irvine, Sinclair & West, Adv.
    Mater. 2, 132 (1990).) ``spectra[i]`` was measured at ``temperatures_K[i]``;
    ``thickness_cm`` L and ``area_cm2`` A_el are the pellet geometry; ``model`` is
    ``"series"`` (one circuit for all temperatures) or ``"per-spectrum"``. Raises
    :class:`~iondyn.errors.InputError` when the numbers of spectra and temperatures differ or
    a temperature is not positive.
    """
    spectra = list(spectra)
    temps = [float(t) for t in temperatures_K]
    if model not in MODELS:
        raise InputError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    if len(spectra) != len(temps):
        raise InputError(f"{len(temps)} temperature(s) given for {len(spectra)} spectra")
    if not spectra:
        raise InputError("a temperature series needs at least one spectrum")
    if not all(math.isfinite(t) and t > 0 for t in temps):
        raise InputError("temperatures must be finite and above 0 K")
    if thickness_cm is None or area_cm2 is None or not (thickness_cm > 0 and area_cm2 > 0):
        raise InputError("a temperature series needs a positive thickness (cm) and area (cm²)")
    auto = AutoFitter(
        max_arcs=max_arcs,
        electrode=electrode,
        weight=weight,
        thickness_cm=thickness_cm,
        area_cm2=area_cm2,
        fmin=fmin,
        fmax=fmax,
    )
    order = sorted(range(len(spectra)), key=lambda i: temps[i])
    warnings: list[str] = []
    fresh_points: list[tuple[int, AutoFitResult]] = []
    for i in order:
        try:
            fresh_points.append((i, auto.fit(spectra[i])))
        except IondynError as exc:
            where = spectra[i].source or f"spectrum {i + 1}"
            warnings.append(f"{where} at {temps[i]:g} K not fitted: {exc}")
    if not fresh_points:
        raise FitError("no spectrum of the temperature series could be fitted")
    circuit, table = None, []
    if model == "series" and len(fresh_points) > 1:
        _, table = choose_series_circuit([f.candidates for _, f in fresh_points])
        circuit, fits = fit_series_circuit(auto, spectra, temps, fresh_points, table, warnings)
    else:
        fits = per_spectrum_fits(auto, spectra, temps, fresh_points, warm_start)
    if not fits:
        raise FitError("no spectrum of the temperature series could be fitted")
    tracks = _track(fits, thickness_cm, area_cm2)
    processes = [_arrhenius(label, pts, at_K) for label, pts in tracks.items()]
    for p in processes:
        warnings += p.warnings
    if not any(p.arrhenius is not None for p in processes):
        warnings.append("no process was found at enough temperatures for an Arrhenius fit")
    return TemperatureSeriesResult(
        fits,
        processes,
        float(thickness_cm),
        float(area_cm2),
        warnings,
        model if len(fresh_points) > 1 else "per-spectrum",
        circuit,
        table,
    )


def check_temperatures(values: Sequence[float], unit: str) -> list[float]:
    """Temperatures in K from values in ``unit`` (``K`` or ``C``: T = θ + 273.15)."""
    if unit not in ("K", "C"):
        raise InputError(f"temperature unit must be K or C, not {unit!r}")
    out = [float(v) + (273.15 if unit == "C" else 0.0) for v in values]
    for v, t in zip(values, out):
        if not (math.isfinite(t) and t > 0):
            raise DataError(f"temperature {v} {unit} is not above 0 K")
    return out
