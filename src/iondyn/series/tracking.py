"""Process identity across a temperature series, and labels given on the whole series.

**Identity by continuity.** A thermally activated arc keeps its capacitance while its
relaxation time τ = (RQ)^{1/n} moves along an Arrhenius line, ln τ = ln τ₀ + Ea/(k_B T)
(Irvine, Sinclair & West, Adv. Mater. 2, 132 (1990); Macdonald & Barsoukov, *Impedance
Spectroscopy*, 2nd ed. (2005), §4.1). Temperatures are visited in increasing order; every
track predicts its ln τ at the next temperature from its Arrhenius line through its last two
points (its last ln τ when it has one point), and the arcs of the next spectrum are assigned to
the tracks by the minimum-cost matching (Hungarian algorithm, :func:`scipy.optimize.
linear_sum_assignment`) with the cost

    c = |ln τ − ln τ_pred| + 2 |ln C − ln C_track|

(C the track's median capacitance so far). A pair whose cost exceeds :data:`MAX_COST`
(≈ a factor 20 in τ or 4 in C) starts a new track: a process appears or leaves the window.

**Labels on the series, by capacitance ratio** (not one spectrum's absolute threshold): the
tracks whose scaled capacitance C* = C·L/A (cell constant 1 cm⁻¹) lies below 1e-8 F are
dielectric processes of the pellet. Ordered by their median C, the smallest is the **bulk**
when its permittivity ε_r = C*/ε₀ is at most :data:`BULK_EPS_MAX` (no bulk has more; a larger
one means the bulk arc lies above the measured frequencies and R∞ is the bulk), the next is the
**grain boundary**, further ones "grain boundary 2", …; tracks at C* ≥ 1e-8 F keep the
absolute ranges of :data:`iondyn.eis.solid.PROCESS_RANGES` (surface layer, electrode
interface, electrochemical reaction).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iondyn.constants import EPS0
from iondyn.eis.solid import classify_capacitance

__all__ = ["BULK_EPS_MAX", "MAX_COST", "Track", "label_tracks", "track_arcs"]

#: Cost above which an arc is not the continuation of a track (see the module docstring).
MAX_COST = 3.0

#: Largest relative permittivity accepted for a bulk process (C* = ε_r ε₀ for 1 cm⁻¹).
BULK_EPS_MAX = 1000.0

#: Scaled capacitance (F, cell constant 1 cm⁻¹) below which a process is dielectric.
DIELECTRIC_LIMIT = 1e-8


@dataclass
class Track:
    """One process followed across the temperatures: its points (the arc entries of
    :func:`iondyn.eis.solid.interpret`, each with ``T_K``, ``source``, ``spectrum``)."""

    points: list[dict[str, Any]] = field(default_factory=list)
    label: str = ""

    @property
    def capacitance(self) -> float:
        c = [p["C_F"] for p in self.points if _positive(p.get("C_F"))]
        return float(np.median(c)) if c else math.nan

    def predict_ln_tau(self, t_k: float) -> float:
        pts = [p for p in self.points if _positive(p.get("tau_s"))]
        if not pts:
            return math.nan
        if len(pts) == 1 or pts[-1]["T_K"] == pts[-2]["T_K"]:
            return math.log(pts[-1]["tau_s"])
        (t1, tau1), (t2, tau2) = ((p["T_K"], p["tau_s"]) for p in pts[-2:])
        slope = (math.log(tau2) - math.log(tau1)) / (1.0 / t2 - 1.0 / t1)
        return math.log(tau2) + slope * (1.0 / t_k - 1.0 / t2)


def _positive(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v) and v > 0


def _cost(track: Track, arc: dict[str, Any], t_k: float) -> float:
    ln_tau = track.predict_ln_tau(t_k)
    c = track.capacitance
    if not (math.isfinite(ln_tau) and math.isfinite(c)):
        return math.inf
    return abs(math.log(arc["tau_s"]) - ln_tau) + 2.0 * abs(math.log(arc["C_F"]) - math.log(c))


def track_arcs(spectra: Sequence[tuple[float, list[dict[str, Any]]]]) -> list[Track]:
    """Tracks of the arcs of ``spectra`` = [(T_K, arc entries), …] (any order; visited by
    increasing T). Arc entries need ``tau_s`` and ``C_F``; others are ignored."""
    from scipy.optimize import linear_sum_assignment

    tracks: list[Track] = []
    for t_k, arcs in sorted(spectra, key=lambda s: s[0]):
        arcs = [a for a in arcs if _positive(a.get("tau_s")) and _positive(a.get("C_F"))]
        arcs = sorted(arcs, key=lambda a: a["tau_s"])
        if not arcs:
            continue
        open_tracks = [tr for tr in tracks if tr.points and tr.points[-1]["T_K"] < t_k]
        assigned: set[int] = set()
        if open_tracks:
            cost = np.array([[_cost(tr, a, t_k) for a in arcs] for tr in open_tracks])
            finite = np.where(np.isfinite(cost), cost, 1e9)
            rows, cols = linear_sum_assignment(finite)
            for r, c in zip(rows, cols):
                if finite[r, c] <= MAX_COST:
                    open_tracks[r].points.append({**arcs[c], "T_K": t_k})
                    assigned.add(int(c))
        for c, arc in enumerate(arcs):
            if c not in assigned:
                tracks.append(Track([{**arc, "T_K": t_k}]))
    return tracks


def label_tracks(tracks: list[Track], thickness_cm: float | None, area_cm2: float | None) -> bool:
    """Give every track its label (module docstring); returns True when a track is the bulk
    (False: the bulk arc is above the measured frequencies and R∞ stands for it)."""
    cell = thickness_cm / area_cm2 if thickness_cm and area_cm2 else 1.0
    eps0_f_per_cm = EPS0 / 100.0
    dielectric = [tr for tr in tracks if tr.capacitance * cell < DIELECTRIC_LIMIT]
    dielectric.sort(key=lambda tr: tr.capacitance)
    has_bulk = bool(dielectric) and dielectric[0].capacitance * cell / eps0_f_per_cm <= BULK_EPS_MAX
    gb_rank = 0
    for i, tr in enumerate(dielectric):
        if i == 0 and has_bulk:
            tr.label = "bulk"
            continue
        gb_rank += 1
        tr.label = "grain boundary" if gb_rank == 1 else f"grain boundary {gb_rank}"
    used: dict[str, int] = {}
    for tr in tracks:
        if tr in dielectric:
            continue
        base = classify_capacitance(tr.capacitance * cell)
        used[base] = used.get(base, 0) + 1
        tr.label = base if used[base] == 1 else f"{base} {used[base]}"
    return has_bulk
