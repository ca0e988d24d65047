"""Peaks of a distribution of relaxation times γ(ln τ) and the resistance under each.

Definition used by iondyn (documented in docs/eis-kk-drt.md):

* A peak is a local maximum of γ on the output grid (4 points per basis function) whose
  prominence (scipy.signal.find_peaks, with γ taken as 0 beyond the grid so that a maximum on
  the edge of the τ grid counts too) is at least ``min_prominence`` × its *own* height: each
  maximum is judged against its own neighbourhood, never against the largest peak (a bulk arc
  of 1 kΩ beside a blocking electrode of 10 MΩ is a peak of its own). Maxima below 1e-9 of
  the largest γ are rounding and ignored. Whether the data require a peak is decided by its
  significance (below), which measures it against the noise.
* Neighbouring peaks are separated at the lowest point of γ between them; the first peak
  extends to ln τ = −∞ and the last to +∞.
* A *shoulder* — a peak whose shallower valley (the higher of the two separating minima) lies
  less than half its height below its top — holding less than ``min_fraction`` (default 10 %)
  of the resistance of the neighbour across that valley is merged into it, smallest first:
  noise and the non-negativity constraint put small wiggles on the flanks of broad peaks, and
  their area belongs to the parent process. The merged peak keeps the position of the higher
  maximum; ``min_fraction=0`` lists every maximum. Peaks separated by deep valleys are never
  merged, however small: in a pellet with a blocking CPE electrode the electrode's γ holds
  99 % of R_pol and the bulk 0.2 %, and the bulk must stay a peak of its own.
* Known limitation: the heavy tails of a broad peak (a ZARC of n ≈ 0.9, γ ∝ e^{−n|ln τ/τ0|})
  are rebuilt by the non-negative regularised solution as side lobes of a few % each about
  0.8 decade from the maximum, with deep valleys: they are reported as separate small peaks
  and the main peak's R comes out ~8 % low (R_pol stays exact). Processes sharper than the
  basis (ZARC n = 0.95 at 10 basis functions per decade) ring into side maxima of ~4 % at
  ±0.4 decade when the data are almost noise-free.
* The resistance of a peak is the area of γ over its interval,
  R_k = ∫ γ(y) dy = Σ_m x_m s√(2π) [Φ((b − y_m)/s) − Φ((a − y_m)/s)], exact for the Gaussian
  basis (Φ the standard normal CDF), so the peak resistances add up to the total
  R_pol = Σ_m x_m s√(2π) = ∫ γ d ln τ.
* The peak's τ is the maximum, refined by a parabola through the three highest grid points in
  ln τ; its capacitance is C_k = τ_k / R_k (the R‖C with the same τ and R).
* Significance (filled in by :class:`iondyn.eis.drt.DRT`): ΔJ/σ̂², the rise of the Tikhonov
  objective J = ‖r‖² + λ xᵀPx when the basis functions centred inside the peak's interval are
  removed and the rest refitted (x ≥ 0) at the same λ, in units of the noise variance σ̂² of
  one weighted data value (above 4 × the threshold a cheaper lower bound is reported). A
  peak below ``significance_threshold`` (default 25) is one the data do not require. If it
  also holds less than ``min_fraction`` of its neighbour across the
  shallower valley, it is merged into that neighbour (least significant first, significance
  recomputed after each merge): these are the few-% satellites that noise and the
  non-negativity constraint carve out of the tails of broad peaks. Larger non-significant
  peaks stay, flagged: typically a broad hump where |Z| is dominated by a blocking
  capacitance and the proportional noise hides kΩ-sized features.

For a ZARC R/(1 + (iωτ0)^n) the area between minima is R only when the neighbours are well
separated; overlapping processes share their tails and the split at the minimum biases both.

*Arcs* (:func:`group_arcs`): neighbouring peaks whose separating minimum lies above
``ARC_VALLEY`` (½) of the lower maximum overlap so much that the impedance shows them as one
arc — bulk and grain boundary of a pellet, for instance. An arc is such a run of peaks: its
resistance is the sum of theirs, its τ the time constant of its own impedance,
τ_arc = 1/ω* with ω* the maximum of −Im ∫_arc γ(y)/(1 + iωe^y) dy, which is τ0 for a ZARC
(any symmetric γ) and what an R‖CPE fit to that arc reports; C = τ_arc/R. Compare arcs, not
peaks, with equivalent-circuit arcs.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
from scipy.integrate import trapezoid
from scipy.signal import find_peaks
from scipy.special import ndtr

from iondyn.eis.drt_basis import RBFGrid

__all__ = [
    "DRTArc",
    "DRTPeak",
    "find_drt_peaks",
    "group_arcs",
    "interval_areas",
    "merge_peaks",
    "peak_warnings",
]

#: A shoulder: its shallower valley lies less than this fraction of its height below its top.
SHOULDER_DEPTH = 0.5
#: Peaks joined into one arc: their separating minimum is above this fraction of the lower top.
ARC_VALLEY = 0.5
#: Maxima lower than this fraction of the largest γ are rounding, not peaks.
NUMERICAL_ZERO = 1e-9


@dataclass
class DRTPeak:
    """One peak of γ: position, resistance (area), height and its interval in τ."""

    tau_s: float
    R_ohm: float
    gamma_max_ohm: float
    C_F: float
    fraction: float
    tau_low_s: float
    tau_high_s: float
    in_measured_range: bool
    at_grid_edge: bool
    significance: float = float("nan")
    significant: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DRTArc:
    """A run of overlapping peaks (see the module docstring): ``peaks`` are their indices."""

    tau_s: float
    R_ohm: float
    C_F: float
    tau_low_s: float
    tau_high_s: float
    peaks: list[int]
    in_measured_range: bool

    def to_dict(self) -> dict:
        return asdict(self)


def interval_areas(x: np.ndarray, grid: RBFGrid, bounds: np.ndarray) -> np.ndarray:
    """∫ γ dy over consecutive intervals [bounds[k], bounds[k+1]] (bounds may be ±inf)."""
    z = (np.asarray(bounds, dtype=float)[:, None] - grid.ln_tau[None, :]) / grid.s
    cdf = ndtr(z)
    mass = np.asarray(x, dtype=float) * grid.s * np.sqrt(2.0 * np.pi)
    return np.diff(cdf, axis=0) @ mass


def find_drt_peaks(
    ln_tau: np.ndarray,
    gamma: np.ndarray,
    x: np.ndarray,
    grid: RBFGrid,
    measured_ln_tau: tuple[float, float],
    min_prominence: float = 0.05,
    min_fraction: float = 0.1,
) -> list[DRTPeak]:
    """Peaks of γ sampled at ``ln_tau`` (increasing) with basis coefficients ``x`` (Ω).

    ``measured_ln_tau`` = (ln(1/ω_max), ln(1/ω_min)) marks the τ range the data cover.
    """
    gamma = np.asarray(gamma, dtype=float)
    # strictly inside (by half a grid step): a maximum on the boundary leans outwards
    margin = 0.5 * float(ln_tau[1] - ln_tau[0]) if ln_tau.size > 1 else 0.0
    lo_meas, hi_meas = measured_ln_tau[0] + margin, measured_ln_tau[1] - margin
    gmax = float(gamma.max(initial=0.0))
    if not gmax > 0:
        return []
    padded = np.concatenate(([0.0], gamma, [0.0]))
    idx, props = find_peaks(padded, height=NUMERICAL_ZERO * gmax, prominence=0.0)
    keep = props["prominences"] >= min_prominence * props["peak_heights"]
    idx = idx[keep] - 1
    if idx.size == 0:
        return []
    # split between neighbouring peaks at the lowest γ in between
    idx = list(idx)
    cut_idx = [a + int(np.argmin(gamma[a : b + 1])) for a, b in itertools.pairwise(idx)]
    total = float(np.sum(x) * grid.s * np.sqrt(2.0 * np.pi))

    def bounds() -> np.ndarray:
        return np.array([-np.inf, *(ln_tau[j] for j in cut_idx), np.inf])

    last = gamma.size - 1

    def valleys(k: int) -> tuple[float, float]:
        left = gamma[cut_idx[k - 1]] if k > 0 else -np.inf
        right = gamma[cut_idx[k]] if k < len(idx) - 1 else -np.inf
        return left, right

    def merge_candidate(areas: np.ndarray) -> tuple[int, int] | None:
        """(peak, neighbour) for the smallest shoulder of a much larger neighbour."""
        for k in (int(i) for i in np.argsort(areas)):
            left, right = valleys(k)
            other = k - 1 if left >= right else k + 1
            shoulder = max(left, right) > (1.0 - SHOULDER_DEPTH) * gamma[idx[k]]
            if shoulder and areas[k] < min_fraction * areas[other]:
                return k, other
        return None

    areas = interval_areas(x, grid, bounds())
    while len(idx) > 1 and (pair := merge_candidate(areas)) is not None:
        k, other = pair
        keep = idx[k] if gamma[idx[k]] > gamma[idx[other]] else idx[other]
        lo_k = min(k, other)
        idx[lo_k : lo_k + 2] = [keep]
        del cut_idx[lo_k]
        areas = interval_areas(x, grid, bounds())
    cuts = bounds()
    peaks = []
    for k, j in enumerate(idx):
        y_peak = float(ln_tau[j])
        if 0 < j < last:
            g0, g1, g2 = gamma[j - 1], gamma[j], gamma[j + 1]
            curv = g0 - 2.0 * g1 + g2
            if curv < 0:
                h = ln_tau[j + 1] - ln_tau[j]
                y_peak += float(np.clip(0.5 * (g0 - g2) / curv, -1.0, 1.0) * h)
        tau = float(np.exp(y_peak))
        r = float(areas[k])
        peaks.append(
            DRTPeak(
                tau_s=tau,
                R_ohm=r,
                gamma_max_ohm=float(gamma[j]),
                C_F=tau / r if r > 0 else float("inf"),
                fraction=r / total if total > 0 else float("nan"),
                tau_low_s=float(np.exp(max(cuts[k], ln_tau[0]))),
                tau_high_s=float(np.exp(min(cuts[k + 1], ln_tau[-1]))),
                in_measured_range=bool(lo_meas < y_peak < hi_meas),
                at_grid_edge=bool(j in (0, last)),
            )
        )
    return peaks


def merge_peaks(a: DRTPeak, b: DRTPeak) -> DRTPeak:
    """Two neighbouring peaks as one: intervals joined, resistances added, the position,
    height and flags of the higher maximum kept (significance to be recomputed)."""
    top = a if a.gamma_max_ohm >= b.gamma_max_ohm else b
    r = a.R_ohm + b.R_ohm
    return DRTPeak(
        tau_s=top.tau_s,
        R_ohm=r,
        gamma_max_ohm=top.gamma_max_ohm,
        C_F=top.tau_s / r if r > 0 else float("inf"),
        fraction=a.fraction + b.fraction,
        tau_low_s=min(a.tau_low_s, b.tau_low_s),
        tau_high_s=max(a.tau_high_s, b.tau_high_s),
        in_measured_range=top.in_measured_range,
        at_grid_edge=top.at_grid_edge,
    )


def _arc_time_constant(ln_tau: np.ndarray, gamma: np.ndarray) -> float:
    """1/ω at the maximum of −Im ∫ γ/(1 + iωτ) d ln τ (trapezoidal in ln τ, 40 points per
    decade of ω, refined by a parabola in ln ω)."""
    ln_w = np.linspace(-ln_tau[-1] - 2.0, -ln_tau[0] + 2.0, 2 + int(17.4 * np.ptp(ln_tau) + 70))
    x = np.exp(ln_w[:, None] + ln_tau[None, :])
    minus_im = trapezoid(gamma[None, :] * x / (1.0 + x**2), ln_tau, axis=1)  # NumPy < 2 too
    j = int(np.argmax(minus_im))
    y = float(ln_w[j])
    if 0 < j < ln_w.size - 1:
        g0, g1, g2 = minus_im[j - 1 : j + 2]
        curv = g0 - 2.0 * g1 + g2
        if curv < 0:
            y += float(np.clip(0.5 * (g0 - g2) / curv, -1.0, 1.0) * (ln_w[1] - ln_w[0]))
    return float(np.exp(-y))


def group_arcs(
    ln_tau: np.ndarray,
    gamma: np.ndarray,
    peaks: list[DRTPeak],
    measured_ln_tau: tuple[float, float],
) -> list[DRTArc]:
    """The arcs formed by ``peaks`` (ordered by τ) on γ sampled at ``ln_tau``."""
    if not peaks:
        return []
    runs: list[list[int]] = [[0]]
    for k in range(1, len(peaks)):
        cut = np.log(peaks[k].tau_low_s)
        valley = float(np.interp(cut, ln_tau, gamma))
        lower = min(peaks[k - 1].gamma_max_ohm, peaks[k].gamma_max_ohm)
        if valley >= ARC_VALLEY * lower:
            runs[-1].append(k)
        else:
            runs.append([k])
    arcs = []
    for run in runs:
        lo, hi = peaks[run[0]].tau_low_s, peaks[run[-1]].tau_high_s
        inside = (ln_tau >= np.log(lo)) & (ln_tau <= np.log(hi))
        tau = _arc_time_constant(ln_tau[inside], gamma[inside])
        r = float(sum(peaks[k].R_ohm for k in run))
        arcs.append(
            DRTArc(
                tau_s=tau,
                R_ohm=r,
                C_F=tau / r if r > 0 else float("inf"),
                tau_low_s=lo,
                tau_high_s=hi,
                peaks=list(run),
                in_measured_range=bool(measured_ln_tau[0] <= np.log(tau) <= measured_ln_tau[1]),
            )
        )
    return arcs


def peak_warnings(
    peaks: list[DRTPeak], capacitance_handled: bool, ln_tau_max_measured: float
) -> list[str]:
    """Warnings about non-significant peaks and large peaks outside the measured τ range (with
    the series-capacitance hint unless ``capacitance_handled``)."""
    out = []
    for p in peaks:
        where = f"peak at τ = {p.tau_s:.3g} s (R = {p.R_ohm:.4g} Ω)"
        if not p.significant:
            out.append(
                f"{where} is not required by the data (ΔJ = {p.significance:.3g} σ̂² when "
                "removed); it may be noise"
            )
        if p.in_measured_range or p.fraction < 0.05:
            continue
        hint = ""
        if not capacitance_handled and np.log(p.tau_s) > ln_tau_max_measured:
            hint = (
                "; a capacitive low-frequency tail (blocking electrode) looks like this: "
                "try series_capacitance=True (--series-capacitance)"
            )
        out.append(
            f"{where}, {100 * p.fraction:.0f} % of R_pol, lies outside the measured τ range "
            f"and is an extrapolation{hint}"
        )
    return out
