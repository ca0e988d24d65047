"""Fitting the spectra of a temperature series: one point per temperature, warm starts.

:class:`SeriesPoint` is one spectrum's fit. :func:`series_fits` fits one circuit at every
temperature, :func:`per_spectrum_fits` keeps each spectrum's automatic choice; both start each
spectrum also from its lower-temperature neighbour moved by a thermal shift s (a thermally
activated R‖C arc obeys Z_T(ω) ≈ s · Z_prev(s ω): R → sR at constant C, τ → sτ), so a warm
start can only lower χ² (see :mod:`iondyn.series.temperature`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.autofit import AutoFitResult, AutoFitter
from iondyn.eis.circuit import Circuit
from iondyn.eis.fit import CircuitFitter
from iondyn.eis.fit_result import CircuitFitResult
from iondyn.errors import IondynError

__all__ = ["SeriesPoint", "fit_bic", "per_spectrum_fits", "series_fits"]


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


def _better(a: AutoFitResult | None, b: AutoFitResult | None) -> AutoFitResult | None:
    if a is None or (b is not None and b.fit.converged and b.fit.chi2 < a.fit.chi2):
        return b
    return a


def _fit_circuit(
    auto: AutoFitter,
    spectrum: ImpedanceSpectrum,
    circuit: str,
    fresh: AutoFitResult,
    prev: CircuitFitResult | None,
) -> AutoFitResult | None:
    """``circuit`` fitted to ``spectrum``: the fresh automatic fit when it chose this circuit,
    the decomposition-seeded fit, and the thermally shifted neighbour; the lowest χ²."""
    best = fresh if fresh.fit.circuit.string == circuit else None
    try:
        best = _better(best, auto.fit(spectrum, circuit=circuit))
    except IondynError:
        pass
    if prev is not None and prev.circuit.string == circuit:
        best = _better(best, _warm_fit(auto, spectrum, prev, best or fresh))
    if best is not None:
        best.candidates = fresh.candidates
    return best


def series_fits(auto, spectra, temps, fresh_points, circuit, warnings) -> list[SeriesPoint]:
    fits: list[SeriesPoint] = []
    prev: CircuitFitResult | None = None
    for i, fresh in fresh_points:
        res = _fit_circuit(auto, spectra[i], circuit, fresh, prev)
        if res is None:
            where = spectra[i].source or f"spectrum {i + 1}"
            warnings.append(f"{where} at {temps[i]:g} K: the series circuit {circuit} failed")
            continue
        point = SeriesPoint(
            temps[i], spectra[i].source, spectra[i].index, res, "series", fit_bic(fresh.fit)
        )
        point.bic_warm = fit_bic(res.fit)
        fits.append(point)
        prev = res.fit
    return fits


def per_spectrum_fits(auto, spectra, temps, fresh_points, warm_start) -> list[SeriesPoint]:
    fits: list[SeriesPoint] = []
    prev: CircuitFitResult | None = None
    for i, fresh in fresh_points:
        spectrum = spectra[i]
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
    return fits
