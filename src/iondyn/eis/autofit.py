"""Impedance fits without initial guesses: ``iondyn eis fit --auto``.

1. The loss spectrum −Z″(ln ω) is decomposed by SAEM into ZARC loss peaks and an electrode
   CPE tail (:mod:`iondyn.eis.decompose`): number of arcs, their R, τ, n — no guesses.
2. Candidate circuits ``R0-p(R1,CPE1)-…-p(RK,CPEK)[-CPE(K+1)]`` for K = 0 … ``max_arcs``, with
   and without the electrode CPE, are fitted by CNLS (:class:`iondyn.eis.fit.CircuitFitter`),
   each from the decomposition (when it found K arcs) and from the K − 1 solution grown by one
   arc at the frequency of the largest residual (a greedy split, so larger K never fits worse).
3. The candidate with the lowest BIC on the complex residuals,
   BIC = 2N ln(χ²/2N) + k ln 2N (N frequencies, k free parameters), wins among the
   *well-determined* ones (every arc resistance and electrode Q known to better than 50 %, no
   two arc resistances correlated beyond |r| = 0.99); the table of all candidates is reported.

:func:`seed_circuit` gives any user circuit its start values from the decomposition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.arcfit import ArcChainFit, fit_arc_chain, pack_names
from iondyn.eis.circuit import Circuit, Element, Series, parse_circuit
from iondyn.eis.decompose import LossDecomposition, decompose_loss
from iondyn.eis.fit import CircuitFitter
from iondyn.eis.fit_result import CircuitFitResult
from iondyn.eis.guess import _assign, initial_guess
from iondyn.errors import FitError, InputError

__all__ = ["AutoFitResult", "AutoFitter", "arc_circuit", "seed_circuit"]


def arc_circuit(n_arcs: int, electrode: bool) -> str:
    """``R0-p(R1,CPE1)-…-p(RK,CPEK)`` plus ``-CPE(K+1)`` for a blocking electrode."""
    parts = ["R0"] + [f"p(R{k},CPE{k})" for k in range(1, n_arcs + 1)]
    if electrode:
        parts.append(f"CPE{n_arcs + 1}")
    return "-".join(parts)


def _arc_params(n_arcs: int, electrode: bool, r0: float, arcs, elec) -> dict[str, float]:
    """Parameters of :func:`arc_circuit` from R0, arcs [(R, τ, n)] (sorted here by τ) and the
    electrode (Q, n)."""
    p = {"R0": float(r0)}
    for k, (r, tau, n) in enumerate(sorted(arcs, key=lambda a: a[1])[:n_arcs], start=1):
        p[f"R{k}"] = float(r)
        p[f"CPE{k}_Q"] = float(tau**n / r)
        p[f"CPE{k}_n"] = float(n)
    if electrode:
        q, n = elec
        p[f"CPE{n_arcs + 1}_Q"] = float(q)
        p[f"CPE{n_arcs + 1}_n"] = float(n)
    return p


def _drop_arc(fit: ArcChainFit, j: int) -> dict[str, float]:
    """Parameters of ``fit`` without its arc ``j`` (1-based), renumbered."""
    p = fit.params
    arcs = []
    for k in range(1, fit.n_arcs + 1):
        if k == j:
            continue
        r, q, n = p[f"R{k}"], p[f"CPE{k}_Q"], p[f"CPE{k}_n"]
        arcs.append((r, (r * q) ** (1.0 / n), n))
    elec = None
    if fit.electrode:
        m = fit.n_arcs + 1
        elec = (p[f"CPE{m}_Q"], p[f"CPE{m}_n"])
    return _arc_params(fit.n_arcs - 1, fit.electrode, p["R0"], arcs, elec)


def _electrode_to_arc(fit: ArcChainFit, data: ImpedanceSpectrum) -> dict[str, float]:
    """Parameters of an (n + 1)-arc circuit without electrode from an n-arc + CPE fit: the
    electrode CPE becomes the slowest arc, its resistance 10 × |Z| at the lowest frequency."""
    p = fit.params
    arcs = []
    for k in range(1, fit.n_arcs + 1):
        r, q, n = p[f"R{k}"], p[f"CPE{k}_Q"], p[f"CPE{k}_n"]
        arcs.append((r, (r * q) ** (1.0 / n), n))
    m = fit.n_arcs + 1
    q, n = p[f"CPE{m}_Q"], p[f"CPE{m}_n"]
    r_big = 10.0 * float(np.abs(data.z[np.argmin(data.frequency)]))
    arcs.append((r_big, (r_big * q) ** (1.0 / n), n))
    return _arc_params(fit.n_arcs + 1, False, p["R0"], arcs, None)


def _tau_ordered(fit: ArcChainFit) -> dict[str, float]:
    """The fit's parameters with the arcs renumbered by increasing τ (R1 = fastest arc)."""
    p = fit.params
    arcs = []
    for k in range(1, fit.n_arcs + 1):
        r, q, n = p[f"R{k}"], p[f"CPE{k}_Q"], p[f"CPE{k}_n"]
        arcs.append((r, (r * q) ** (1.0 / n), min(n, 1.0)))
    elec = None
    if fit.electrode:
        m = fit.n_arcs + 1
        elec = (p[f"CPE{m}_Q"], min(p[f"CPE{m}_n"], 1.0))
    return _arc_params(fit.n_arcs, fit.electrode, p["R0"], arcs, elec)


def _rising_tail(spectrum: ImpedanceSpectrum) -> bool:
    """True when −Z″ still rises towards the lowest frequencies (a blocking-electrode tail):
    over the lowest-frequency tenth (≥ 3 points), ln(−Z″) falls with ln ω."""
    order = np.argsort(spectrum.frequency)[: max(3, spectrum.n_points // 10)]
    loss = -spectrum.z.imag[order]
    if np.any(loss <= 0):
        return False
    slope = np.polyfit(np.log(spectrum.omega[order]), np.log(loss), 1)[0]
    return bool(slope < -0.2)


def _electrode_params(n_arcs: int, elec: tuple[float, float]) -> dict[str, float]:
    return {f"CPE{n_arcs + 1}_Q": float(elec[0]), f"CPE{n_arcs + 1}_n": float(elec[1])}


def _hf_r0(spectrum: ImpedanceSpectrum, arcs) -> float:
    """R∞ estimate: Z′ at the highest frequency minus the arcs' contributions there."""
    i = int(np.argmax(spectrum.frequency))
    w = spectrum.omega[i]
    z_arcs = sum(r / (1 + (1j * w * tau) ** n) for r, tau, n in arcs) if arcs else 0.0
    r0 = float(spectrum.z.real[i] - np.real(z_arcs))
    floor = 1e-3 * float(np.min(np.abs(spectrum.z)))
    return max(r0, floor)


def _electrode_guess(spectrum: ImpedanceSpectrum) -> tuple[float, float]:
    """(Q, n) of a blocking CPE from the lowest-frequency points (slope of ln −Z″)."""
    order = np.argsort(spectrum.frequency)[: max(3, spectrum.n_points // 10)]
    w = spectrum.omega[order]
    x = -spectrum.z.imag[order]
    ok = x > 0
    n = 0.9
    if ok.sum() >= 2:
        slope = np.polyfit(np.log(w[ok]), np.log(x[ok]), 1)[0]
        n = float(np.clip(-slope, 0.4, 1.0))
    x0 = float(x[ok][0]) if ok.any() else float(np.abs(spectrum.z[order[0]]))
    return float(np.sin(n * np.pi / 2) / (x0 * w[0] ** n)), n


def seed_circuit(
    circuit: str | Circuit, spectrum: ImpedanceSpectrum, dec: LossDecomposition
) -> dict[str, float]:
    """Start values for any circuit: the structural heuristic of :func:`initial_guess`, with the
    top-level arcs (in circuit order, highest frequency first) and a top-level blocking CPE
    taken from the SAEM decomposition."""
    circuit = parse_circuit(circuit)
    guess = initial_guess(circuit, spectrum)
    top = list(circuit.root.children) if isinstance(circuit.root, Series) else [circuit.root]
    simple = ("R", "L", "C", "CPE", "W")
    arcs_nodes = [n for n in top if not (isinstance(n, Element) and n.symbol in simple)]
    for node, arc in zip(arcs_nodes, dec.arcs):
        _assign(node, arc["R_ohm"], arc["tau_s"], guess)
        for name in circuit.param_names:  # the decomposition's exponent inside this arc
            owner = name.split("_")[0]
            if name.endswith("_n") and any(owner == leaf for leaf in _leaf_names(node)):
                guess[name] = float(np.clip(arc["n"], 0.3, 1.0))
    if dec.electrode is not None:
        blocking = [n for n in top if isinstance(n, Element) and n.symbol == "CPE"]
        if blocking:
            guess[f"{blocking[-1].name}_Q"] = dec.electrode["Q"]
            guess[f"{blocking[-1].name}_n"] = dec.electrode["n"]
    return guess


def _leaf_names(node) -> list[str]:
    if isinstance(node, Element):
        return [node.name]
    out: list[str] = []
    for child in node.children:
        out += _leaf_names(child)
    return out


def _crop(spectrum: ImpedanceSpectrum, fmin, fmax) -> ImpedanceSpectrum:
    if fmin is None and fmax is None:
        return spectrum
    from iondyn.eis.fit import crop_spectrum

    return crop_spectrum(spectrum, fmin, fmax)


def _arc_to_electrode(res: ArcChainFit, n_arcs: int) -> dict[str, float]:
    """Start for ``n_arcs`` arcs + CPE from an (n_arcs + 1)-arc fit whose slowest arc becomes
    the blocking electrode (its CPE kept, its resistance dropped)."""
    p = res.params
    arcs = []
    for k in range(1, n_arcs + 2):
        r, q, n = p[f"R{k}"], p[f"CPE{k}_Q"], p[f"CPE{k}_n"]
        arcs.append((r, (r * q) ** (1.0 / n), n, q))
    arcs.sort(key=lambda a: a[1])
    slow = arcs.pop()
    return _arc_params(n_arcs, True, p["R0"], [a[:3] for a in arcs], (slow[3], slow[2]))


@dataclass
class AutoFitResult:
    """The chosen circuit fit, the candidate table and the decomposition behind it."""

    fit: CircuitFitResult
    candidates: list[dict[str, Any]]
    decomposition: LossDecomposition
    processes: list[dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def circuit(self) -> str:
        return self.fit.circuit.string

    def to_dict(self) -> dict[str, Any]:
        """The layout of ``iondyn eis fit --json`` plus ``candidates`` (and ``processes``)."""
        d = self.fit.to_dict()
        d["auto"] = True
        d["candidates"] = self.candidates
        d["decomposition"] = {
            "arcs": self.decomposition.arcs,
            "electrode": self.decomposition.electrode,
            "candidates": self.decomposition.candidates,
        }
        if self.processes is not None:
            d["processes"] = self.processes
        d["warnings"] = list(dict.fromkeys(d.get("warnings", []) + self.warnings))
        return d


class AutoFitter:
    """Automatic equivalent-circuit fitting (see the module docstring).

    ``max_arcs``: the largest number of R‖CPE arcs tried; ``electrode``: ``"auto"`` (with and
    without a blocking CPE), ``"none"`` or ``"cpe"``; ``weight``: CNLS weighting;
    ``thickness_cm``/``area_cm2``: pellet geometry for the solid-electrolyte interpretation.
    """

    def __init__(
        self,
        max_arcs: int = 3,
        electrode: str = "auto",
        weight: str = "modulus",
        thickness_cm: float | None = None,
        area_cm2: float | None = None,
        fmin: float | None = None,
        fmax: float | None = None,
    ):
        if electrode not in ("auto", "none", "cpe"):
            raise InputError(f"electrode must be auto, none or cpe, not {electrode!r}")
        if int(max_arcs) < 1:
            raise InputError("max_arcs must be at least 1")
        self.max_arcs = int(max_arcs)
        self.electrode = electrode
        self.weight = weight
        self.thickness_cm = thickness_cm
        self.area_cm2 = area_cm2
        self.fmin, self.fmax = fmin, fmax

    # ------------------------------------------------------------------ helpers
    def _fit(self, circuit: str, spectrum, starts: list[dict[str, float]]):
        fitter = CircuitFitter(circuit, weight=self.weight, fmin=self.fmin, fmax=self.fmax)
        best = None
        for start in starts:
            try:
                res = fitter.fit(spectrum, start)
            except FitError:
                continue
            if best is None or res.chi2 < best.chi2:
                best = res
        return best

    def _prune_backward(self, data, fits: list[ArcChainFit]) -> list[ArcChainFit]:
        """Backward pass (a merge move): each K-arc candidate is refitted from the (K+1)-arc
        fit of the same family with one arc dropped in turn (and, for the electrode family,
        from the (K+1)-arc fit without electrode whose slowest arc becomes the electrode); the
        better solution is kept. Catches K-arc fits the forward (split) pass left in a poor
        basin."""
        by_key = {(f.n_arcs, f.electrode): f for f in fits}
        for electrode in (True, False):
            ks = sorted(k for k, e in by_key if e == electrode)
            for k in reversed(ks):
                bigger = by_key.get((k + 1, electrode))
                if (
                    bigger is None
                    and (electrode or (k - 1, True) not in by_key)
                    and (electrode or (k, True) not in by_key)
                ):
                    continue
                starts = [] if bigger is None else [_drop_arc(bigger, j) for j in range(1, k + 2)]
                if electrode and (k + 1, False) in by_key:
                    starts.append(_arc_to_electrode(by_key[(k + 1, False)], k))
                if not electrode and k >= 1 and (k - 1, True) in by_key:
                    starts.append(_electrode_to_arc(by_key[(k - 1, True)], data))
                if not electrode and (k, True) in by_key:  # the same arcs, electrode removed
                    with_e = by_key[(k, True)].params
                    starts.append(
                        {n: v for n, v in with_e.items() if not n.startswith(f"CPE{k + 1}_")}
                    )
                res = fit_arc_chain(data, k, electrode, starts)
                if res is not None and res.chi2 < by_key[(k, electrode)].chi2 * (1 - 1e-9):
                    by_key[(k, electrode)] = res
        return [by_key[(f.n_arcs, f.electrode)] for f in fits]

    def _trust_region(self, data, k: int, electrode: bool, starts) -> ArcChainFit | None:
        """:class:`CircuitFitter` (trust region, bounded) from each start, as an ArcChainFit."""
        res = self._fit(arc_circuit(k, electrode), data, starts)
        if res is None:
            return None
        names = list(pack_names(k, electrode))
        cov = np.full((len(names), len(names)), np.nan)
        idx = [res.free_names.index(n) if n in res.free_names else -1 for n in names]
        for a, ia in enumerate(idx):
            for b, ib in enumerate(idx):
                if ia >= 0 and ib >= 0:
                    cov[a, b] = res.covariance[ia, ib]
        return ArcChainFit(
            k,
            electrode,
            {n: float(res.parameters[n]) for n in names},
            float(res.chi2),
            bool(res.converged),
            data.n_points,
            cov,
            data.omega,
            data.z,
        )

    def _grow(self, prev: ArcChainFit, n_arcs: int, electrode: bool) -> list[dict[str, float]]:
        """Starts for n_arcs arcs: the (n_arcs − 1)-arc solution plus one arc at each of the
        three largest local maxima of the relative imaginary residual. With τ = 1/ω and n = 0.9
        fixed, the new arc's impedance R/(1 + (iωτ)ⁿ) is linear in R, so R is set by weighted
        least squares against the residual: a start is never worse than the smaller fit."""
        p = prev.params
        arcs = []
        for k in range(1, n_arcs):
            r, q, n = p[f"R{k}"], p[f"CPE{k}_Q"], p[f"CPE{k}_n"]
            arcs.append((r, (r * q) ** (1.0 / n), n))
        elec = (p[f"CPE{n_arcs}_Q"], p[f"CPE{n_arcs}_n"]) if electrode else None
        dz = prev.z - prev.z_fit
        w2 = 1.0 / np.abs(prev.z) ** 2
        rel = np.abs(dz.imag) / np.abs(prev.z)
        inner = [i for i in range(1, rel.size - 1) if rel[i] >= rel[i - 1] and rel[i] >= rel[i + 1]]
        ends = [0, rel.size - 1]
        order = sorted(set(inner + ends), key=lambda i: -rel[i])[:3]
        starts = []
        for i in order:
            tau = 1.0 / prev.omega[i]
            g = 1.0 / (1.0 + (1j * prev.omega * tau) ** 0.9)
            r_new = float(np.sum(w2 * (np.conj(g) * dz).real) / np.sum(w2 * np.abs(g) ** 2))
            r_new = max(r_new, 1e-6 * float(np.min(np.abs(prev.z))))
            starts.append(_arc_params(n_arcs, electrode, p["R0"], [*arcs, (r_new, tau, 0.9)], elec))
        return starts

    # ------------------------------------------------------------------ public
    def fit(self, spectrum: ImpedanceSpectrum, circuit: str | None = None) -> AutoFitResult:
        """Fit ``spectrum`` automatically; with ``circuit`` only seed that circuit."""
        dec_electrode = self.electrode
        if dec_electrode == "auto":  # one decomposition: a rising low-frequency tail or not
            dec_electrode = "cpe" if _rising_tail(spectrum) else "none"
        dec = decompose_loss(spectrum, max_arcs=self.max_arcs, electrode=dec_electrode)
        warnings = list(dec.warnings)
        if dec.dropped_inductive:
            warnings.append(
                f"{dec.dropped_inductive} inductive high-frequency point(s) (Z″ > 0) left out "
                "of the decomposition; add an L element to model them"
            )
        if circuit is not None:
            start = seed_circuit(circuit, spectrum, dec)
            res = self._fit(str(circuit), spectrum, [start, initial_guess(circuit, spectrum)])
            if res is None:
                raise FitError(f"{spectrum.source}: the circuit {circuit} could not be fitted")
            return self._finish(res, [], dec, warnings)

        dec_arcs = [(a["R_ohm"], a["tau_s"], a["n"]) for a in dec.arcs]
        options = {"auto": (False, True), "none": (False,), "cpe": (True,)}[self.electrode]
        candidates: list[dict[str, Any]] = []
        fits: list[ArcChainFit] = []
        no_electrode: dict[int, ArcChainFit] = {}
        elec0 = (
            (dec.electrode["Q"], dec.electrode["n"])
            if dec.electrode is not None
            else _electrode_guess(spectrum)
        )
        data = _crop(spectrum, self.fmin, self.fmax)
        for electrode in options:  # the family without electrode first: it seeds the other
            prev = None
            best_bic, worse = np.inf, 0
            for k in range(0, self.max_arcs + 1):
                starts = []
                if len(dec_arcs) >= k:
                    chosen = sorted(dec_arcs, key=lambda a: -a[0])[:k]
                    starts.append(_arc_params(k, electrode, _hf_r0(data, chosen), chosen, elec0))
                if prev is not None and k >= 1:
                    starts += self._grow(prev, k, electrode)
                if electrode and k + 1 in no_electrode:
                    # a blocking CPE is the R → ∞ limit of the slowest arc p(R, CPE)
                    starts.append(_arc_to_electrode(no_electrode[k + 1], k))
                if electrode and k in no_electrode:
                    # the same arcs plus the electrode
                    starts.append({**no_electrode[k].params, **_electrode_params(k, elec0)})
                if not starts:
                    starts.append(initial_guess(arc_circuit(k, electrode), data))
                res = fit_arc_chain(data, k, electrode, starts)
                if res is None:
                    continue
                if not electrode:
                    no_electrode[k] = res
                ok = res.well_determined()
                candidates.append(
                    {
                        "circuit": arc_circuit(k, electrode),
                        "bic": res.bic,
                        "chi2": res.chi2,
                        "n_free": res.n_free,
                        "converged": res.converged,
                        "well_determined": ok,
                    }
                )
                fits.append(res)
                prev = res
                worse = worse + 1 if res.bic >= best_bic else 0
                best_bic = min(best_bic, res.bic)
                if worse >= 2 and (electrode or k >= len(dec_arcs) + 1):
                    break
        if not fits:
            raise FitError(f"{spectrum.source}: no candidate circuit could be fitted")
        fits = self._prune_backward(data, fits)
        for c in candidates:  # the table reports the final value of every candidate
            f = next(f for f in fits if arc_circuit(f.n_arcs, f.electrode) == c["circuit"])
            c.update(
                bic=f.bic, chi2=f.chi2, converged=f.converged, well_determined=f.well_determined()
            )
        eligible = [f for f in fits if f.well_determined()] or fits
        if not any(f.well_determined() for f in fits):
            warnings.append("no candidate circuit has all its arcs well determined")
        best = min(eligible, key=lambda f: f.bic)
        circ = arc_circuit(best.n_arcs, best.electrode)
        final = self._fit(circ, spectrum, [_tau_ordered(best)])
        if final is None:
            raise FitError(f"{spectrum.source}: the chosen circuit {circ} could not be refined")
        for c in candidates:
            c["chosen"] = c["circuit"] == circ
        return self._finish(final, candidates, dec, warnings)

    def _finish(self, res, candidates, dec, warnings) -> AutoFitResult:
        processes = None
        if self.thickness_cm is not None or self.area_cm2 is not None:
            from iondyn.eis.solid import interpret

            processes = interpret(res, self.thickness_cm, self.area_cm2)
        elif any(k.startswith("CPE") for k in res.parameters):
            from iondyn.eis.solid import interpret

            processes = interpret(res, None, None)
        return AutoFitResult(res, candidates, dec, processes, warnings)
