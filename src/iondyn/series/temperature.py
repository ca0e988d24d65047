"""Temperature series of impedance spectra: automatic fits, process tracking, Arrhenius laws.

For spectra measured at temperatures T₁ < T₂ < … (``iondyn eis series``):

1. Every spectrum is fitted in temperature order (lowest first) by
   :class:`iondyn.eis.autofit.AutoFitter` (no initial guesses). From the second one on, the
   previous spectrum's circuit is also fitted (a *warm* start), from the better (lower χ²) of

   * the SAEM decomposition of this spectrum (``AutoFitter.fit(spectrum, circuit=prev)``), and
   * the neighbour's parameters moved by a thermal shift s: a thermally activated R‖C arc obeys
     Z_T(ω) ≈ s · Z_prev(s ω) (R → sR at constant C, τ → sτ), so s is the value on a
     logarithmic grid that minimises Σ |ln Z(ω) − ln(s Z_prev(s ω))|² and the start has
     R_k → s R_k, Q_k → Q_k s^(n_k − 1) (constant C = (R^(1−n) Q)^(1/n)).

   The fresh and the warm fit are compared by BIC = 2N ln(χ²/2N) + k ln 2N (N frequencies,
   k free parameters); the lower one is kept (the same circuit: the lower χ²).
2. Processes are labelled by :func:`iondyn.eis.solid.interpret` (capacitance ranges after
   Irvine, Sinclair & West, Adv. Mater. 2, 132 (1990)). A process is tracked across the
   temperatures by its label; when one spectrum has several arcs with the same label they are
   told apart by their τ order ("grain boundary", "grain boundary 2", … from the fastest). The
   leads' resistance ("series resistance (R∞)") and blocking electrodes carry no conductivity
   and are not tracked.
3. Per process with at least :data:`MIN_TEMPERATURES` temperatures,
   σT = A exp(−Ea/k_B T) is fitted by :func:`iondyn.series.fit_arrhenius` with the σ standard
   errors as weights (σ = L/(R A)); σ at the requested temperatures comes from the fit with its
   error from the full covariance of (ln A, Ea).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.autofit import AutoFitResult, AutoFitter
from iondyn.eis.circuit import Circuit
from iondyn.eis.fit import CircuitFitter
from iondyn.eis.fit_result import CircuitFitResult
from iondyn.errors import DataError, FitError, InputError, IondynError
from iondyn.series.arrhenius import ArrheniusFit, fit_arrhenius

__all__ = [
    "MIN_TEMPERATURES",
    "UNTRACKED_LABELS",
    "SeriesPoint",
    "TemperatureSeriesResult",
    "TrackedProcess",
    "check_temperatures",
    "fit_bic",
    "fit_temperature_series",
]

MIN_TEMPERATURES = 3

#: Labels with no conductivity of the material: not tracked.
UNTRACKED_LABELS = ("series resistance (R∞)", "electrode (blocking)")


def fit_bic(res: CircuitFitResult) -> float:
    """BIC = 2N ln(χ²/2N) + k ln 2N of a circuit fit (N points, k free parameters); the
    criterion of :mod:`iondyn.eis.autofit` (Schwarz, Ann. Stat. 6, 461 (1978))."""
    m = 2 * res.n_points
    return float(m * math.log(max(res.chi2, 1e-300) / m) + res.n_free * math.log(m))


@dataclass
class SeriesPoint:
    """The fit of one spectrum of the series."""

    T_K: float
    source: str | None
    index: int
    auto: AutoFitResult
    start: str  # "fresh" (automatic fit) or "warm" (the neighbour's circuit)
    bic_fresh: float
    bic_warm: float | None = None

    @property
    def processes(self) -> list[dict[str, Any]]:
        return list(self.auto.processes or [])

    def to_dict(self) -> dict[str, Any]:
        d = self.auto.to_dict()
        d.pop("correlations", None)
        d["T_K"] = self.T_K
        d["start"] = self.start
        d["bic_fresh"] = self.bic_fresh
        d["bic_warm"] = self.bic_warm
        return d


@dataclass
class TrackedProcess:
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


@dataclass
class TemperatureSeriesResult:
    """Per-spectrum fits (in temperature order), tracked processes and warnings."""

    fits: list[SeriesPoint]
    processes: list[TrackedProcess]
    thickness_cm: float
    area_cm2: float
    warnings: list[str] = field(default_factory=list)

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
            "processes": [p.to_dict() for p in self.processes],
            "fits": [f.to_dict() for f in self.fits],
            "warnings": list(self.warnings),
        }

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


def _thermal_shift(spectrum: ImpedanceSpectrum, prev: CircuitFitResult) -> float:
    """s minimising Σ |ln Z(ω) − ln(s Z_prev(s ω))|² on a grid of 10^(−4 … 4) (module doc)."""
    grid = np.logspace(-4, 4, 161)
    f = spectrum.frequency
    lz = np.log(spectrum.z.astype(complex))
    best, best_cost = 1.0, np.inf
    for s in grid:
        with np.errstate(all="ignore"):
            zp = s * prev.impedance(f * s)
            cost = float(np.sum(np.abs(lz - np.log(zp.astype(complex))) ** 2))
        if np.isfinite(cost) and cost < best_cost:
            best, best_cost = float(s), cost
    return best


def _shifted_start(prev: CircuitFitResult, s: float) -> dict[str, float]:
    """The neighbour's parameters with R → sR and Q → Q s^(n−1) inside arcs (constant C)."""
    p = dict(prev.parameters)
    elec = _series_cpes(prev.circuit)
    out = {}
    for name, v in p.items():
        owner, _, kind = name.partition("_")
        if name.startswith("R") and not kind:
            out[name] = v * s
        elif kind == "Q" and owner not in elec:
            out[name] = v * s ** (p[f"{owner}_n"] - 1.0)
        else:
            out[name] = v
    return out


def _series_cpes(circuit: Circuit) -> set[str]:
    from iondyn.eis.circuit import Element, Series

    root = circuit.root
    top = list(root.children) if isinstance(root, Series) else [root]
    return {n.name for n in top if isinstance(n, Element) and n.symbol == "CPE"}


def _warm_fit(
    auto: AutoFitter, spectrum, prev: CircuitFitResult, fresh: AutoFitResult
) -> AutoFitResult | None:
    """The neighbour's circuit fitted from the decomposition and from the shifted neighbour."""
    from iondyn.eis.solid import interpret

    circuit = prev.circuit.string
    try:
        seeded = auto.fit(spectrum, circuit=circuit)
    except IondynError:
        seeded = None
    fitter = CircuitFitter(circuit, weight=auto.weight, fmin=auto.fmin, fmax=auto.fmax)
    try:
        shifted = fitter.fit(spectrum, _shifted_start(prev, _thermal_shift(spectrum, prev)))
    except IondynError:
        shifted = None
    if shifted is not None and (seeded is None or shifted.chi2 < seeded.fit.chi2):
        base = seeded or fresh
        processes = interpret(shifted, auto.thickness_cm, auto.area_cm2)
        return AutoFitResult(shifted, [], base.decomposition, processes, list(base.warnings))
    return seeded


def _track(fits: list[SeriesPoint]) -> dict[str, list[dict[str, Any]]]:
    tracks: dict[str, list[dict[str, Any]]] = {}
    for sp in fits:
        seen: dict[str, int] = {}
        procs = [
            p
            for p in sp.processes
            if p.get("label") not in UNTRACKED_LABELS
            and isinstance(p.get("sigma_S_per_cm"), int | float)
            and p["sigma_S_per_cm"] > 0
        ]
        # R∞ (no τ) first, then the arcs from the fastest
        procs.sort(key=lambda p: p.get("tau_s") or 0.0)
        for p in procs:
            rank = seen.get(p["label"], 0)
            seen[p["label"]] = rank + 1
            name = p["label"] if rank == 0 else f"{p['label']} {rank + 1}"
            err = p.get("sigma_S_per_cm_err")
            tracks.setdefault(name, []).append(
                {
                    "T_K": sp.T_K,
                    "sigma_S_per_cm": float(p["sigma_S_per_cm"]),
                    "sigma_S_per_cm_err": err if err is not None and math.isfinite(err) else None,
                    "R_ohm": p.get("R_ohm"),
                    "C_F": p.get("C_F"),
                    "tau_s": p.get("tau_s"),
                    "element": p.get("element"),
                    "source": sp.source,
                    "spectrum": sp.index,
                }
            )
    return tracks


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
    for temp in at_K:
        value, err = fit.predict(float(temp))
        at[float(temp)] = (float(value), float(err))
    return TrackedProcess(label, points, fit, at, [f"{label}: {w}" for w in fit.warnings])


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
) -> TemperatureSeriesResult:
    r"""Fit a temperature series of impedance spectra (module docstring).

    .. math:: \sigma T = A \exp(-E_a / k_B T), \qquad \sigma = L / (R A_{el})

    (Arrhenius σT law of hopping conductors, e.g. West, *Solid State Chemistry and its
    Applications*, 2nd ed. (2014), ch. 8; process labels after Irvine, Sinclair & West, Adv.
    Mater. 2, 132 (1990).) ``spectra[i]`` was measured at ``temperatures_K[i]``;
    ``thickness_cm`` L and ``area_cm2`` A_el are the pellet geometry. Raises
    :class:`~iondyn.errors.InputError` when the numbers of spectra and temperatures differ or
    a temperature is not positive.
    """
    spectra = list(spectra)
    temps = [float(t) for t in temperatures_K]
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
    fits: list[SeriesPoint] = []
    warnings: list[str] = []
    prev: CircuitFitResult | None = None
    for i in order:
        spectrum = spectra[i]
        where = spectrum.source or f"spectrum {i + 1}"
        try:
            fresh = auto.fit(spectrum)
        except IondynError as exc:
            warnings.append(f"{where} at {temps[i]:g} K not fitted: {exc}")
            continue
        point = SeriesPoint(
            temps[i], spectrum.source, spectrum.index, fresh, "fresh", fit_bic(fresh.fit)
        )
        if warm_start and prev is not None:
            warm = _warm_fit(auto, spectrum, prev, fresh)
            if warm is not None:
                point.bic_warm = fit_bic(warm.fit)
                same = warm.fit.circuit == fresh.fit.circuit
                if same:  # a strict improvement, not a tie at the same optimum
                    better = warm.fit.chi2 < fresh.fit.chi2 * (1 - 1e-9)
                else:
                    better = point.bic_warm < point.bic_fresh - 1e-9
                if better and warm.fit.converged:
                    warm.candidates = fresh.candidates
                    point.auto, point.start = warm, "warm"
        fits.append(point)
        prev = point.auto.fit
    if not fits:
        raise FitError("no spectrum of the temperature series could be fitted")
    tracks = _track(fits)
    processes = [_arrhenius(label, pts, at_K) for label, pts in tracks.items()]
    for p in processes:
        warnings += p.warnings
    if not any(p.arrhenius is not None for p in processes):
        warnings.append("no process was found at enough temperatures for an Arrhenius fit")
    return TemperatureSeriesResult(fits, processes, float(thickness_cm), float(area_cm2), warnings)


def check_temperatures(values: Sequence[float], unit: str) -> list[float]:
    """Temperatures in K from values in ``unit`` (``K`` or ``C``: T = θ + 273.15)."""
    if unit not in ("K", "C"):
        raise InputError(f"temperature unit must be K or C, not {unit!r}")
    out = [float(v) + (273.15 if unit == "C" else 0.0) for v in values]
    for v, t in zip(values, out):
        if not (math.isfinite(t) and t > 0):
            raise DataError(f"temperature {v} {unit} is not above 0 K")
    return out
