"""Classical TSDC analyses: initial rise, Bucci–Fieschi and the heating-rate method.

They need no peak model and are reported side by side with the fit:

* **Initial rise** (Garlick & Gibson, Proc. Phys. Soc. 60, 574 (1948)): on the low-temperature
  flank the polarisation is still ≈ P0, so J ∝ exp(−Ea/kT) and ln J against 1/T has slope
  −Ea/k. Points between ``lower`` and ``frac`` of the peak current on the flank of the first
  peak are used (on one first-order peak with Ea = 0.5 eV, τ0 = 1e-13 s at β = 5 K/min,
  Tm = 170.50 K: 0.4985 eV with J < 10 % Jmax, 0.4992 eV with J < 5 % — the flank is not
  quite the pure exponential, since P has already fallen a little).
* **Bucci–Fieschi** (Bucci, Fieschi & Guidi, Phys. Rev. 148, 816 (1966)): the relaxation time
  at every temperature from the remaining charge, τ(T) = ∫_T^∞ J dT′ / (β J(T)); ln τ against
  1/T is a line of slope Ea/k and intercept ln τ0 for a single Debye process (curved for a
  distribution). The linear range is found automatically.
* the heating-rate method over several curves is in :mod:`iondyn.tsdc.heating_rate`.

Arrays are 1-D (one curve); results are dataclasses with ``to_dict``/``to_dataframe``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.integrate import cumulative_simpson
from scipy.signal import savgol_filter

from iondyn.display import Displayable, Summary, views
from iondyn.errors import DataError, FitError, InputError
from iondyn.tsdc.heating_rate import straight_line as _line
from iondyn.tsdc.model import K_B_EV

__all__ = [
    "BucciFieschiResult",
    "InitialRiseResult",
    "bucci_fieschi",
    "initial_rise",
    "noise_level",
    "peak_maximum",
]


def _clean(T: Any, J: Any, baseline: Any = None) -> tuple[np.ndarray, np.ndarray]:
    T = np.asarray(T, dtype=float)
    J = np.asarray(J, dtype=float)
    if T.ndim != 1 or T.shape != J.shape or T.size < 5:
        raise DataError("a TSDC curve needs matching 1-D temperature and current arrays (≥ 5)")
    if np.any(np.diff(T) <= 0):
        raise DataError("temperatures must increase strictly")
    if baseline is not None:
        J = J - np.asarray(baseline, dtype=float)
    if not np.any(J > 0):
        raise DataError("the current has no positive values")
    return T, J


def noise_level(J: Any) -> float:
    """Robust noise σ of a smooth curve: 1.4826·MAD of second differences / √6."""
    d2 = np.diff(np.asarray(J, dtype=float), 2)
    if d2.size < 3:
        return 0.0
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


def _smooth(J: np.ndarray) -> np.ndarray:
    win = max(5, (J.size // 50) | 1)
    if win >= J.size:
        return J
    return savgol_filter(J, win, 2, mode="nearest")


def peak_maximum(T: Any, J: Any) -> tuple[float, float]:
    """(Tm, Jm) of the highest point refined by a parabola through its neighbours."""
    T, J = np.asarray(T, float), np.asarray(J, float)
    i = int(np.clip(np.argmax(J), 1, J.size - 2))
    x, y = T[i - 1 : i + 2], J[i - 1 : i + 2]
    c = np.polyfit(x - x[1], y, 2)
    if c[0] >= 0:
        return float(T[i]), float(J[i])
    t = float(np.clip(-c[1] / (2 * c[0]), x[0] - x[1], x[2] - x[1]))
    return float(x[1] + t), float(np.polyval(c, t))


def _first_peak(s: np.ndarray, rel: float = 0.2) -> int:
    """Index of the first local maximum of the smoothed curve ``s`` above ``rel`` of the
    highest."""
    top = s.max()
    inner = np.arange(1, s.size - 1)
    is_max = (s[inner] >= s[inner - 1]) & (s[inner] > s[inner + 1]) & (s[inner] >= rel * top)
    idx = inner[is_max]
    return int(idx[0]) if idx.size else int(np.argmax(s))


@dataclass(repr=False)
class InitialRiseResult(Displayable):
    """Initial-rise activation energy and the flank it came from."""

    Ea_eV: float
    Ea_eV_err: float
    T_range_K: tuple[float, float]
    n_points: int
    frac: float
    lower: float
    r2: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "Ea_eV": self.Ea_eV,
            "Ea_eV_err": self.Ea_eV_err,
            "T_range_K": list(self.T_range_K),
            "n_points": self.n_points,
            "frac": self.frac,
            "lower": self.lower,
            "r2": self.r2,
            "warnings": list(self.warnings),
        }

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])

    def _summary(self) -> Summary:
        return views.initial_rise_summary(self)

    def plot(self, T: Any, J: Any, ax: Any = None) -> Any:
        """ln J against 1/(k_B T) over the flank used, with the fitted line of slope −Ea; the
        result keeps no curve, so the curve's ``T`` and ``J`` are given. Returns the axes."""
        return views.initial_rise_plot(self, T, J, ax)


def initial_rise(
    T: Any,
    J: Any,
    frac: float = 0.10,
    lower: float | None = None,
    peak: int | str = "first",
    baseline: Any = None,
) -> InitialRiseResult:
    """Initial-rise analysis on the low-temperature flank of a peak.

    ln J = const − Ea/kT for points with lower·Jp ≤ J ≤ frac·Jp below the peak (Jp its
    maximum): the contiguous run of such points just below the peak. ``peak``: ``"first"``
    (the first maximum above 20 % of the highest), ``"main"`` (the highest) or an index.
    ``lower`` defaults to max(1e−4, 3σ/Jp) with σ the noise level of the curve. With too few
    points (< 5) ``frac`` is raised up to 0.2 and a warning says so; fewer than 3 is an error.
    """
    T, J = _clean(T, J, baseline)
    if not 0 < frac < 1:
        raise InputError(f"frac must lie between 0 and 1, got {frac}")
    smooth = _smooth(J)
    if peak == "first":
        ip = _first_peak(smooth)
    elif peak == "main":
        ip = int(np.argmax(smooth))
    else:
        ip = int(peak)
    jp = float(max(smooth[ip], J[ip]))
    sigma = noise_level(J)
    low = max(1e-4, 3.0 * sigma / jp) if lower is None else float(lower)
    warnings: list[str] = []
    for f in (frac, 0.15, 0.2):
        if f < frac:
            continue
        below = np.nonzero(J[:ip] <= f * jp)[0]
        if below.size == 0:
            continue
        end = int(below[-1])
        start = end
        while start - 1 >= 0 and low * jp <= J[start - 1] <= f * jp:
            start -= 1
        sel = np.arange(start, end + 1)
        sel = sel[J[sel] >= low * jp]
        if sel.size >= 5:
            if f != frac:
                warnings.append(f"only few points below {frac:.0%} of the peak: used {f:.0%}")
            break
    else:
        sel = np.array([], dtype=int)
        f = frac
    if sel.size < 3:
        raise FitError(
            f"initial rise: fewer than 3 points between {low:.1e} and {frac:.0%} of the peak "
            "on its low-temperature flank (the curve starts too close to the peak or is too noisy)"
        )
    _, b, _, se_b, r2 = _line(1.0 / T[sel], np.log(J[sel]))
    ea = -b * K_B_EV
    if sel.size < 8:
        warnings.append(f"initial rise from only {sel.size} points")
    return InitialRiseResult(
        float(ea),
        float(se_b * K_B_EV),
        (float(T[sel[0]]), float(T[sel[-1]])),
        int(sel.size),
        float(f),
        float(low),
        r2,
        warnings,
    )


@dataclass(repr=False)
class BucciFieschiResult(Displayable):
    """Bucci–Fieschi analysis: Ea, τ0 and the linear range of ln τ(1/T)."""

    Ea_eV: float
    Ea_eV_err: float
    tau0_s: float
    ln_tau0: float
    ln_tau0_err: float
    T_range_K: tuple[float, float]
    n_points: int
    r2: float
    curved: bool
    temperature_K: np.ndarray
    tau_s: np.ndarray
    warnings: list[str] = field(default_factory=list)

    def to_dict(self, include_curve: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "Ea_eV": self.Ea_eV,
            "Ea_eV_err": self.Ea_eV_err,
            "tau0_s": self.tau0_s,
            "ln_tau0": self.ln_tau0,
            "ln_tau0_err": self.ln_tau0_err,
            "T_range_K": list(self.T_range_K),
            "n_points": self.n_points,
            "r2": self.r2,
            "curved": self.curved,
            "warnings": list(self.warnings),
        }
        if include_curve:
            d["curve"] = {"temperature_K": self.temperature_K, "tau_s": self.tau_s}
        return d

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame({"temperature_K": self.temperature_K, "tau_s": self.tau_s})

    def _summary(self) -> Summary:
        return views.bucci_fieschi_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """ln τ against 1000/T with the straight line of the linear range; returns the axes."""
        return views.bucci_fieschi_plot(self, ax)


def _best_linear_window(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, tol: float, min_len: int
) -> tuple[int, int]:
    """The contiguous [i, j] carrying the largest total weight ``w`` (the current: the most
    charge, which favours the dominant peak over a long flat tail) whose straight-line fit has
    an RMS residual ≤ tol; every window at once with prefix sums, ties to the smaller RMS."""
    n = x.size
    c = [np.concatenate([[0.0], np.cumsum(v)]) for v in (np.ones(n), x, y, x * x, x * y, y * y, w)]
    i, j = np.triu_indices(n, min_len - 1)
    s0, sx, sy, sxx, sxy, syy, sw = (cc[j + 1] - cc[i] for cc in c)
    with np.errstate(divide="ignore", invalid="ignore"):
        vx = sxx - sx * sx / s0
        cxy = sxy - sx * sy / s0
        vy = syy - sy * sy / s0
        rss = np.maximum(vy - cxy * cxy / vx, 0.0)
        rms = np.sqrt(rss / np.maximum(s0 - 2, 1))
    ok = np.isfinite(rms) & (rms <= tol)
    if not ok.any():
        k = int(np.nanargmin(np.where(np.isfinite(rms), rms / np.sqrt(s0), np.inf)))
        return int(i[k]), int(j[k])
    weight = np.where(ok, sw, -np.inf)
    cand = np.nonzero(weight >= weight.max() * (1.0 - 1e-12))[0]
    k = cand[np.argmin(rms[cand])]
    return int(i[k]), int(j[k])


def bucci_fieschi(
    T: Any,
    J: Any,
    beta: float,
    baseline: Any = None,
    tail: float = 0.0,
    min_current: float = 0.02,
    min_remaining: float = 0.02,
    tol: float | None = None,
) -> BucciFieschiResult:
    """Bucci–Fieschi analysis of a curve (one dominant peak, or a peak cleaned of the others).

    τ(T_i) = (∫_{T_i}^{T_end} J dT + ``tail``)/(β J_i), the integral by cumulative Simpson
    from the high-temperature end; ``tail`` is the charge × β beyond the window (0 when the
    curve has decayed). Candidate points are the contiguous run around the maximum with
    J ≥ max(``min_current``·Jmax, 3σ) (σ the noise level) and a remaining charge
    ≥ ``min_remaining`` of the total. Among them the contiguous range carrying the most charge
    in which ln τ is linear in 1/T within ``tol`` (RMS, default max(0.01, 2× the median noise
    of ln τ)) is fitted: slope Ea/k, intercept ln τ0. ``curved`` flags a range shorter than
    60 % of the candidates (a distribution of Ea or overlapping processes).
    """
    T, J = _clean(T, J, baseline)
    if not beta > 0:
        raise InputError(f"the heating rate must be positive, got {beta} K/s")
    cum = cumulative_simpson(J, x=T, initial=0.0)
    remaining = cum[-1] - cum + tail
    total = remaining[0]
    jmax = float(J.max())
    warnings: list[str] = []
    if not total > 0:
        raise FitError("Bucci–Fieschi: the curve carries no positive charge")
    if J[-1] > 0.02 * jmax and tail == 0.0:
        warnings.append(
            f"the curve ends at {J[-1] / jmax:.0%} of its maximum: the missing high-temperature "
            "charge biases τ (and Ea) near the end"
        )
    sigma = noise_level(J)
    floor = max(min_current, 3.0 * sigma / jmax) * jmax
    usable = (J >= floor) & (remaining >= min_remaining * total) & (remaining > 0)
    # the contiguous run of usable points around the maximum (isolated noise spikes excluded)
    im = int(np.argmax(np.where(usable, J, -np.inf)))
    lo = im
    while lo > 0 and usable[lo - 1]:
        lo -= 1
    hi = im
    while hi + 1 < J.size and usable[hi + 1]:
        hi += 1
    cand = np.arange(lo, hi + 1) if usable[im] else np.array([], dtype=int)
    if cand.size < 5:
        raise FitError("Bucci–Fieschi: fewer than 5 points with enough current and charge left")
    tau = remaining / (beta * np.where(J > 0, J, np.nan))
    x = 1.0 / T[cand]
    y = np.log(tau[cand])
    if tol is None:
        tol = max(0.01, 2.0 * float(np.median(sigma / J[cand])))
    # a coarser candidate set for the window search keeps it O(150²)
    step = max(1, -(-cand.size // 150))
    sub = np.arange(0, cand.size, step)
    min_len = max(5, sub.size // 10)
    i, j = _best_linear_window(x[sub], y[sub], J[cand][sub], tol, min(min_len, sub.size))
    lo, hi = sub[i], min(sub[j] + step - 1, cand.size - 1)
    sel = np.arange(lo, hi + 1)
    a, b, se_a, se_b, r2 = _line(x[sel], y[sel])
    # charge of other (later) processes in τ: the range's peak should have decayed to 20 %
    top = cand[sel][np.argmax(J[cand[sel]])]
    after = np.nonzero((np.arange(J.size) > top) & (J < 0.2 * J[top]))[0]
    if after.size and remaining[after[0]] > 0.1 * total:
        warnings.append(
            f"{remaining[after[0]] / total:.0%} of the charge lies beyond this peak (other "
            "processes): τ and Ea are biased — fit the curve and use the per-peak "
            "Bucci–Fieschi on the cleaned peak"
        )
    curved = sel.size < 0.6 * cand.size
    if curved:
        warnings.append(
            f"ln τ is linear in 1/T over only {sel.size}/{cand.size} usable points: curved "
            "Bucci–Fieschi plot (distribution of Ea, or overlapping peaks)"
        )
    return BucciFieschiResult(
        float(b * K_B_EV),
        float(se_b * K_B_EV),
        float(np.exp(a)),
        float(a),
        float(se_a),
        (float(T[cand[sel[0]]]), float(T[cand[sel[-1]]])),
        int(sel.size),
        r2,
        bool(curved),
        T[cand].copy(),
        tau[cand].copy(),
        warnings,
    )
