"""Impedance fits without initial guesses: ``iondyn eis fit --auto``.

1. The loss spectrum −Z″(ln ω) is decomposed by SAEM into ``max_arcs`` ZARC loss peaks
   p(u) = sin(a)/(π(cosh(n(u − u₀)) + cos a)), a = nπ/2, u = ln ω, weight πR/2, plus the
   electrode CPE power-law tail (:mod:`iondyn.eis.decompose`; no guesses). Its arcs (R, τ, n)
   seed the candidate scan: the K largest for the K-arc candidates. (The number of arcs is
   chosen in step 3 on the complex data, not by the decomposition's own BIC; a spectrum with
   too few points for ``max_arcs`` peaks is decomposed with SAEM's own choice of K.)
2. Candidate circuits ``R0-p(R1,CPE1)-…-p(RK,CPEK)[-CPE(K+1)]`` for K = 0 … ``max_arcs``, with
   and without the electrode CPE, are fitted by the batched variable-projection CNLS of
   :mod:`iondyn.eis.varpro` — all candidates and starts as one batch per stage — from the
   decomposition's arcs, from arcs spread over the window, and from split / merge /
   electrode-conversion moves between neighbouring candidates (:mod:`iondyn.eis.autoscan`).
   The amplitudes (R₀, R_k, 1/Q_e) are solved exactly at every step.
3. The candidate with the lowest BIC on the complex residuals,
   BIC = 2N ln(χ²/2N) + k ln 2N (N frequencies, k free parameters; Schwarz, Ann. Stat. 6, 461
   (1978)), wins among the *well-determined* ones (converged, no arc amplitude clamped at
   zero, every arc resistance and the electrode Q at least 3 standard errors from zero);
   candidates within :data:`BIC_TIE` of the lowest BIC are ties, won by the fewest
   parameters. The table of all candidates is reported.
4. The winner is refined by :class:`iondyn.eis.fit.CircuitFitter` for the reported values,
   errors and correlations.

``seed_from_decomposition=False`` skips step 1: the scan starts from spread arcs only and the
decomposition runs afterwards at the winner's number of arcs (the report's independent view).
It gave the same answers on the random test pellets; the default keeps the design's seeding
(docs/decisions.md). :meth:`AutoFitter.fit_many` runs all of it for many spectra as batches.

:func:`seed_circuit` gives any user circuit its start values from the decomposition.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.arcfit import ArcChainFit
from iondyn.eis.autofit_result import AutoFitResult
from iondyn.eis.autoscan import scan_candidates, scan_candidates_many, to_arc_fit
from iondyn.eis.circuit import Circuit, Element, Series, parse_circuit
from iondyn.eis.decompose import LossDecomposition, decompose_loss, decompose_losses
from iondyn.eis.fit import CircuitFitter
from iondyn.eis.guess import _assign, initial_guess
from iondyn.errors import FitError, InputError, IondynError

#: Candidates within this BIC of the lowest are ties, won by the fewest parameters.
BIC_TIE = 2.0

# SAEM's effort for the decomposition in its seeding role, where the scan refines every start
# anyway: 5 EM iterations (default 30), 2 EM starts (5), 1 kept (2), no LM refinement (200
# iterations) — the same share of random pellets and of close arcs recovered as at full
# effort, a quarter of its time (docs/decisions.md, automatic fits 17 and 20)
_SEED_EFFORT = {"lm_max_iter": 0, "n_starts": 2, "n_refine": 1, "em_max_iter": 5}
_REPORT_EFFORT = {"lm_max_iter": 200, "n_starts": 5, "n_refine": 2, "em_max_iter": 30}

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
    # arcs whose τ lies more than two decades outside the measured window are phantoms of
    # the decomposition (a tail, not an arc): they would take the place of a real arc
    lo, hi = 0.01 / spectrum.omega.max(), 100.0 / spectrum.omega.min()
    dec_arcs = [a for a in dec.arcs if lo <= a["tau_s"] <= hi]
    series_r = [n for n in top if isinstance(n, Element) and n.symbol == "R"]
    if series_r:  # R∞ from the highest-frequency point, less what the arcs contribute there
        guess[series_r[0].name] = _series_resistance(spectrum, dec_arcs[: len(arcs_nodes)])
    for node, arc in zip(arcs_nodes, dec_arcs):
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


def _series_resistance(spectrum: ImpedanceSpectrum, arcs: list[dict[str, Any]]) -> float:
    """R∞ ≈ Z′(ω_max) − Σ_k Re[R_k / (1 + (iω_max τ_k)^{n_k})] (the arcs' share of the real
    part at the highest frequency), floored at 10⁻⁶ max|Z|."""
    i = int(np.argmax(spectrum.frequency))
    w = float(spectrum.omega[i])
    share = sum(a["R_ohm"] / (1.0 + (1j * w * a["tau_s"]) ** a["n"]) for a in arcs)
    r = float(spectrum.z.real[i] - np.real(share))
    return max(r, 1e-6 * float(np.max(np.abs(spectrum.z))))


def _decomposition_warnings(dec: LossDecomposition, seed: bool = False) -> list[str]:
    """The decomposition's warnings for the automatic fit's result. In the seeding role (a
    deliberately short SAEM run, ``_SEED_EFFORT``, whose arcs only start the scan) the SAEM
    fit's own warnings — not converged in its few iterations, peaks not resolved — say
    nothing about the result and are left out; those about the data are kept. The
    decomposition's own misfit verdict (on the ln ω loss axis) is never the result's: the
    circuit fit carries its own."""
    own = set(dec.fit.warnings) if seed else set()
    warnings = [w for w in dec.warnings if w not in own and not w.startswith("misfit:")]
    if dec.dropped_inductive:
        warnings.append(
            f"{dec.dropped_inductive} inductive high-frequency point(s) (Z″ > 0) left out "
            "of the decomposition; add an L element to model them"
        )
    return warnings


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


class AutoFitter:
    """Automatic equivalent-circuit fitting (see the module docstring).

    ``max_arcs``: the largest number of R‖CPE arcs tried; ``electrode``: ``"auto"`` (with and
    without a blocking CPE), ``"none"`` or ``"cpe"``; ``weight``: CNLS weighting;
    ``thickness_cm``/``area_cm2``: pellet geometry for the solid-electrolyte interpretation;
    ``seed_from_decomposition``: seed the scan from the SAEM decomposition (default);
    ``False``: decompose at the chosen number of arcs afterwards, for the report only.
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
        seed_from_decomposition: bool = True,
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
        self.seed_from_decomposition = bool(seed_from_decomposition)

    # ------------------------------------------------------------------ helpers
    def _fit(self, circuit: str, spectrum, starts: list[dict[str, float]], rescue: bool = True):
        fitter = CircuitFitter(
            circuit, weight=self.weight, fmin=self.fmin, fmax=self.fmax, rescue=rescue
        )
        best = None
        for start in starts:
            try:
                res = fitter.fit(spectrum, start)
            except FitError:
                continue
            if best is None or res.chi2 < best.chi2:
                best = res
        return best

    # ------------------------------------------------------------------ public
    def _decompose(self, spectrum, n_arcs="auto", electrode=None):
        """The SAEM loss decomposition and the warnings it raises."""
        if electrode is None:  # one decomposition: a rising low-frequency tail or not
            electrode = self.electrode
            if electrode == "auto":
                electrode = "cpe" if _rising_tail(spectrum) else "none"
        dec = decompose_loss(spectrum, n_arcs, max_arcs=self.max_arcs, electrode=electrode)
        return dec, _decomposition_warnings(dec)

    def _chain_start(self, circuit, spectrum, dec: LossDecomposition) -> list[dict[str, float]]:
        """When the user's circuit is an arc chain ``R0-p(R1,CPE1)-…[-CPE]`` (any length), the
        candidate scan's solution for that chain is one more start: the decomposition's seeds
        alone can miss an arc half buried under an electrode tail."""
        string = parse_circuit(circuit).string
        for k in range(0, 7):
            for electrode in (False, True):
                if arc_circuit(k, electrode) != string:
                    continue
                arcs = [(a["R_ohm"], a["tau_s"], a["n"]) for a in dec.arcs]
                ne0 = dec.electrode["n"] if dec.electrode else _electrode_guess(spectrum)[1]
                data = _crop(spectrum, self.fmin, self.fmax)
                best = scan_candidates(data, arcs, (electrode,), k, ne0)
                if (k, electrode) in best:
                    return [_tau_ordered(to_arc_fit([best[(k, electrode)]], data)[0])]
        return []

    def fit(self, spectrum: ImpedanceSpectrum, circuit: str | None = None) -> AutoFitResult:
        """Fit ``spectrum`` automatically; with ``circuit`` only seed that circuit."""
        if circuit is not None:
            dec, warnings = self._decompose(spectrum)
            starts = [seed_circuit(circuit, spectrum, dec), initial_guess(circuit, spectrum)]
            starts += self._chain_start(circuit, spectrum, dec)
            res = self._fit(str(circuit), spectrum, starts)
            if res is None:
                raise FitError(f"{spectrum.source}: the circuit {circuit} could not be fitted")
            return self._finish(res, [], dec, warnings)
        out = self.fit_many([spectrum])[0]
        if isinstance(out, Exception):
            raise out
        return out

    def fit_many(self, spectra: Iterable[ImpedanceSpectrum]) -> list[AutoFitResult | IondynError]:
        """Fit many spectra automatically, batched: the decompositions run as one SAEM batch
        and every stage of the candidate scans as one variable-projection batch, so NumPy's
        per-call overhead is shared (for a hundred spectra about half the time per spectrum
        of fitting them one by one; ``benchmarks/bench_autofit.py``). Each spectrum gets the
        fit it gets alone: the scan's rows are independent and SAEM seeds its random starts
        per spectrum.

        Returns one entry per spectrum, in order: its :class:`AutoFitResult`, or the
        :class:`~iondyn.errors.IondynError` that spectrum raised (the others go on).
        """
        spectra = list(spectra)
        for s in spectra:
            if not isinstance(s, ImpedanceSpectrum):
                raise InputError(f"expected an ImpedanceSpectrum, got {type(s).__name__}")
        out: list[Any] = [None] * len(spectra)
        datas: dict[int, ImpedanceSpectrum] = {}
        for i, s in enumerate(spectra):
            try:
                datas[i] = _crop(s, self.fmin, self.fmax)
            except IondynError as exc:
                out[i] = exc
        decs: dict[int, tuple[LossDecomposition, list[str]]] = {}
        if self.seed_from_decomposition:
            # one decomposition with `max_arcs` components seeds every candidate (the K largest
            # arcs for K arcs); where too few points carry that many, SAEM chooses K itself
            live = list(datas)
            first = self._decompose_many([spectra[i] for i in live], self.max_arcs)
            again = [i for i, r in zip(live, first) if isinstance(r, Exception)]
            retry = {}
            if again:
                retry = dict(zip(again, self._decompose_many([spectra[i] for i in again])))
            for i, r in zip(live, first):
                r = retry.get(i, r)
                if isinstance(r, Exception):
                    out[i] = r
                else:
                    decs[i] = r
        live = [i for i in datas if out[i] is None]
        families = {"auto": (False, True), "none": (False,), "cpe": (True,)}[self.electrode]
        ne0 = []
        for i in live:
            dec = decs[i][0] if i in decs else None
            if dec is not None and dec.electrode is not None:
                ne0.append(dec.electrode["n"])
            else:
                ne0.append(_electrode_guess(spectra[i])[1])
        dec_arcs = [
            [(a["R_ohm"], a["tau_s"], a["n"]) for a in decs[i][0].arcs] if i in decs else []
            for i in live
        ]
        bests = scan_candidates_many(
            [datas[i] for i in live], dec_arcs, families, self.max_arcs, ne0
        )
        chosen: dict[int, tuple[ArcChainFit, list[dict[str, Any]], list[str]]] = {}
        for i, best in zip(live, bests):
            try:
                chosen[i] = self._choose(best, datas[i], families)
            except FitError as exc:
                out[i] = exc
        if not self.seed_from_decomposition:  # the decomposition at the chosen number of arcs
            live = list(chosen)
            report = self._decompose_many(
                [spectra[i] for i in live],
                [chosen[i][0].n_arcs or "auto" for i in live],
                ["cpe" if chosen[i][0].electrode else "none" for i in live],
                _REPORT_EFFORT,  # the report's independent view, full effort
            )
            for i, r in zip(live, report):
                if isinstance(r, Exception):  # e.g. nothing left above the electrode tail
                    try:
                        r = self._decompose(spectra[i])
                    except IondynError as exc:
                        out[i] = exc
                        continue
                decs[i] = r
        for i, (fit, candidates, scan_warnings) in chosen.items():
            if out[i] is not None:
                continue
            circ = arc_circuit(fit.n_arcs, fit.electrode)
            final = self._fit(circ, spectra[i], [_tau_ordered(fit)], rescue=False)
            if final is None:
                out[i] = FitError(
                    f"{spectra[i].source}: the chosen circuit {circ} could not be refined"
                )
                continue
            for c in candidates:
                c["chosen"] = c["circuit"] == circ
            dec, warnings = decs[i]
            out[i] = self._finish(final, candidates, dec, warnings + scan_warnings)
        return out

    def _decompose_many(self, spectra, n_arcs="auto", electrode=None, effort=None):
        """:meth:`_decompose` for many spectra as one batch: (decomposition, warnings) or the
        error, per spectrum."""
        if electrode is None:
            electrode = [
                ("cpe" if _rising_tail(s) else "none")
                if self.electrode == "auto"
                else self.electrode
                for s in spectra
            ]
        decs = decompose_losses(
            spectra, n_arcs, max_arcs=self.max_arcs, electrode=electrode, **(effort or _SEED_EFFORT)
        )
        seed = effort is None  # the seeding role
        return [
            d if isinstance(d, Exception) else (d, _decomposition_warnings(d, seed)) for d in decs
        ]

    def _choose(self, best, data, families):
        """The well-determined candidate with the lowest BIC, the candidate table and the
        scan's warnings."""
        keys = [(k, e) for e in families for k in range(self.max_arcs + 1) if (k, e) in best]
        if not keys:
            raise FitError(f"{data.source}: no candidate circuit could be fitted")
        fits = to_arc_fit([best[key] for key in keys], data)
        candidates = [
            {
                "circuit": arc_circuit(f.n_arcs, f.electrode),
                "bic": f.bic,
                "chi2": f.chi2,
                "n_free": f.n_free,
                "converged": f.converged,
                "well_determined": f.well_determined(),
            }
            for f in fits
        ]
        eligible = [f for f in fits if f.well_determined()] or fits
        warnings: list[str] = []
        if not any(f.well_determined() for f in fits):
            warnings.append("no candidate circuit has all its arcs well determined")
        # parsimony within BIC's resolution: the fewest parameters among the candidates within
        # BIC_TIE of the lowest BIC (a difference below 2 is "not worth more than a bare
        # mention", Kass & Raftery, J. Am. Stat. Assoc. 90, 773 (1995))
        best = min(f.bic for f in eligible)
        close = [f for f in eligible if f.bic <= best + BIC_TIE]
        return min(close, key=lambda f: (f.n_free, f.bic)), candidates, warnings

    def _finish(self, res, candidates, dec, warnings) -> AutoFitResult:
        processes = None
        if self.thickness_cm is not None or self.area_cm2 is not None:
            from iondyn.eis.solid import interpret

            processes = interpret(res, self.thickness_cm, self.area_cm2)
        elif any(k.startswith("CPE") for k in res.parameters):
            from iondyn.eis.solid import interpret

            processes = interpret(res, None, None)
        return AutoFitResult(res, candidates, dec, processes, warnings)
