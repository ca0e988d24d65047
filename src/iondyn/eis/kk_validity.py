"""The pass/fail rule of the Kramers–Kronig (Lin-KK) test, from the residuals themselves, and
the screening of data that cannot be an impedance at all.

Inputs: relative residuals Δre_i = (Z'_i − Ẑ'_i)/|Z_i| and Δim_i = (Z''_i − Ẑ''_i)/|Z_i| of the
Lin-KK fit, ordered by decreasing frequency, n = 2N values, p fitted parameters. A spectrum that
obeys Kramers–Kronig leaves residuals that look like white noise (Boukamp, J. Electrochem. Soc.
142, 1885 (1995): KK residuals of a valid spectrum scatter randomly about zero at the noise
level; Schönleber, Klotz & Ivers-Tiffée, Electrochim. Acta 131, 20 (2014): drift and
non-stationarity show up as systematic, frequency-correlated residuals, mostly at the
low-frequency end where a sweep spends most of its time). A single bad point (a range switch, a
glitch) is a defect of that point, not of the spectrum: it is reported, not held against it.

Noise level σ: given by the user (``noise``, as a fraction of |Z|), or estimated robustly
from the residuals: σ̂ = 1.4826 · median |Δ| · √(n/(n − p)) (the median absolute residual of a
normal sample, rescaled for the p fitted parameters). The median ignores a minority of bad
points, so neither outliers nor a drifting tail can hide by inflating the estimate.

*Outliers*: frequencies whose larger residual max(|Δre_i|, |Δim_i|) exceeds the Bonferroni
bound z_{1−α/(2n)} σ (the largest of n normal values exceeds it with probability α) and the
``tolerance``. An outlier is *isolated* when neither neighbour in frequency is an outlier (a
glitch pulls the fit, so its neighbours' residuals may grow, but not beyond the bound); runs
of adjacent outliers are structure.

The spectrum is valid when all of these hold (α = ``alpha``, default 1e-3 per test; isolated
outliers are left out of checks 2, 3 and 5):

1. *outliers*: at most max(1, ⌊N/20⌋) isolated outliers (a few glitches are tolerated; a
   spectrum that is mostly glitches is not);
2. *excess*: the number of residual values beyond max(3σ, tolerance) is at most the (1 − α)
   quantile of Binomial(n', 2Φ(−3)) — many points beyond 3σ mean the residuals are not noise;
3. *tail*: over the k = max(5, ⌈N/8⌉) lowest frequencies, Σ (Δre² + Δim²)/σ² ≤ χ²_{2k}(1 − α)
   (the low-frequency end is as noisy as the rest, not more);
4. *runs*: the signs of Δre and of Δim along frequency are not clustered: the Wald–Wolfowitz
   run counts, as z-scores, combined z = (z_re + z_im)/√2 ≥ −z_{1−α} (one-sided: systematic
   trends give long runs; the fit itself only ever adds sign changes);
5. *chi2* (only with a user-given ``noise``): Σ Δ²/σ² ≤ χ²_{n'−p}(1 − α).

A test can only fail when the deviation it sees is also larger than ``tolerance`` (default
0.005 = 0.5 % of |Z|, the order of the accuracy of commercial impedance analysers: the rms over
the tail for *tail*, the rms of all residuals for *runs* and *chi2*; *outliers* and *excess*
count only values beyond it). Without it every low-noise measurement would fail: real
instruments leave structured residuals at the 0.1 % level (calibration, cable corrections), and
an almost noise-free simulated spectrum leaves tiny approximation residuals that are not white.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import DataError, InputError

__all__ = [
    "KKCheck",
    "as_impedance_spectrum",
    "capacitive_tail",
    "classify_outliers",
    "kk_validity",
    "runs_zscore",
    "screen_spectrum",
]

#: Residuals beyond this many σ count in the *excess* check.
EXCESS_SIGMA = 3.0
#: Isolated outliers tolerated: at most max(1, ⌊N · OUTLIER_FRACTION⌋).
OUTLIER_FRACTION = 0.05


@dataclass
class KKCheck:
    """One criterion: its statistic, the threshold, and whether it passed."""

    name: str
    statistic: float
    threshold: float
    passed: bool
    description: str

    def to_dict(self) -> dict:
        return asdict(self)


def runs_zscore(values: np.ndarray) -> float:
    """Wald–Wolfowitz runs test z-score of the signs of ``values`` (zeros dropped).

    With n₊ positive and n₋ negative values and R runs: E[R] = 2n₊n₋/n + 1,
    Var[R] = 2n₊n₋(2n₊n₋ − n)/(n²(n − 1)); z = (R − E[R])/√Var[R] (Wald & Wolfowitz,
    Ann. Math. Stat. 11, 147 (1940)). Returns 0 when a sign is missing.
    """
    s = np.sign(np.asarray(values, dtype=float))
    s = s[s != 0]
    n_pos = int(np.sum(s > 0))
    n_neg = int(np.sum(s < 0))
    n = n_pos + n_neg
    if n_pos == 0 or n_neg == 0 or n < 3:
        return 0.0
    runs = 1 + int(np.sum(s[1:] != s[:-1]))
    mean = 2.0 * n_pos * n_neg / n + 1.0
    var = 2.0 * n_pos * n_neg * (2.0 * n_pos * n_neg - n) / (n**2 * (n - 1.0))
    return float((runs - mean) / np.sqrt(var)) if var > 0 else 0.0


def classify_outliers(
    res_re: np.ndarray, res_im: np.ndarray, sigma: float, alpha: float, tolerance: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """(outlier mask, isolated-outlier mask, Bonferroni bound z_B) for residuals ordered
    along frequency (see the module docstring)."""
    worst = np.maximum(np.abs(res_re), np.abs(res_im))
    z_bound = float(stats.norm.isf(alpha / (4.0 * worst.size)))
    outlier = (worst > z_bound * sigma) & (worst > tolerance)
    left = np.concatenate(([False], outlier[:-1]))
    right = np.concatenate((outlier[1:], [False]))
    return outlier, outlier & ~left & ~right, z_bound


def kk_validity(
    res_re: np.ndarray,
    res_im: np.ndarray,
    n_params: int,
    noise: float | None = None,
    alpha: float = 1e-3,
    tolerance: float = 5e-3,
) -> tuple[bool, float, list[KKCheck], np.ndarray]:
    """Apply the rule of the module docstring.

    ``res_re``, ``res_im``: relative residuals ordered by *decreasing* frequency.
    Returns (valid, σ used, list of checks, boolean mask of the outliers).
    """
    res_re = np.asarray(res_re, dtype=float)
    res_im = np.asarray(res_im, dtype=float)
    n_freq = res_re.size
    r = np.concatenate([res_re, res_im])
    n = r.size
    dof = max(n - n_params, 1)
    if noise is None:
        sigma = 1.4826 * float(np.median(np.abs(r))) * np.sqrt(n / dof)
    else:
        sigma = float(noise)
    sigma = max(sigma, 1e-300)
    outlier, isolated, _ = classify_outliers(res_re, res_im, sigma, alpha, tolerance)
    keep = ~isolated
    checks: list[KKCheck] = []

    n_isolated = int(np.sum(isolated))
    allowed = max(1, int(OUTLIER_FRACTION * n_freq))
    checks.append(
        KKCheck(
            "outliers",
            float(n_isolated),
            float(allowed),
            n_isolated <= allowed,
            "isolated points beyond the Bonferroni bound (glitches; a few are tolerated)",
        )
    )

    kept = np.concatenate([res_re[keep], res_im[keep]])
    beyond = int(np.sum(np.abs(kept) > max(EXCESS_SIGMA * sigma, tolerance)))
    # σ̂ from the median is itself uncertain (relative standard error ≈ 1.17/√n): the
    # binomial rate is taken one standard error below the threshold (none with a given noise)
    slack = 0.0 if noise is not None else 1.17 / np.sqrt(n)
    p_beyond = 2.0 * float(stats.norm.sf(EXCESS_SIGMA * (1.0 - slack)))
    limit = float(stats.binom.isf(alpha, kept.size, p_beyond))
    checks.append(
        KKCheck(
            "excess",
            float(beyond),
            limit,
            beyond <= limit,
            f"residual values beyond {EXCESS_SIGMA:g}σ (binomial (1 − α) quantile)",
        )
    )

    low = np.flatnonzero(keep)[-min(max(5, int(np.ceil(n_freq / 8))), n_freq) :]
    k = low.size
    tail = np.concatenate([res_re[low], res_im[low]])
    t_stat = float(np.sum(tail**2) / sigma**2)
    t_crit = float(stats.chi2.isf(alpha, 2 * k))
    tail_rms = float(np.sqrt(np.mean(tail**2))) if k else 0.0
    checks.append(
        KKCheck(
            "tail",
            t_stat,
            t_crit,
            bool(t_stat <= t_crit or tail_rms <= tolerance),
            f"Σ residual²/σ² over the {k} lowest frequencies (χ² with {2 * k} dof)",
        )
    )

    rms = float(np.sqrt(np.mean(r**2)))
    z_runs = (runs_zscore(res_re) + runs_zscore(res_im)) / np.sqrt(2.0)
    z_crit = float(stats.norm.isf(alpha))
    checks.append(
        KKCheck(
            "runs",
            z_runs,
            -z_crit,
            bool(z_runs >= -z_crit or rms <= tolerance),
            "runs-test z-score of the residual signs along frequency (low = clustered)",
        )
    )

    if noise is not None:
        dof_kept = max(kept.size - n_params, 1)
        chi2 = float(np.sum(kept**2) / sigma**2)
        c_crit = float(stats.chi2.isf(alpha, dof_kept))
        kept_rms = float(np.sqrt(np.mean(kept**2)))
        checks.append(
            KKCheck(
                "chi2",
                chi2,
                c_crit,
                bool(chi2 <= c_crit or kept_rms <= tolerance),
                f"Σ residual²/σ² over all points (χ² with {dof_kept} dof)",
            )
        )
    valid = all(c.passed for c in checks)
    return valid, sigma, checks, outlier


def as_impedance_spectrum(data: Any) -> ImpedanceSpectrum:
    """An :class:`ImpedanceSpectrum` from itself or from a (frequency_Hz, complex Z) pair."""
    if isinstance(data, ImpedanceSpectrum):
        return data
    try:
        frequency, z = data
    except (TypeError, ValueError):
        raise InputError(
            "expected an ImpedanceSpectrum or a (frequency_Hz, complex Z) pair"
        ) from None
    return ImpedanceSpectrum(np.asarray(frequency, dtype=float), np.asarray(z, dtype=complex))


def screen_spectrum(spec: ImpedanceSpectrum) -> None:
    """Raise a one-line :class:`DataError` for data that cannot be the impedance of a passive
    sample: Re Z ≤ 0 at more than half of the frequencies (a passive, causal system has
    Re Z(ω) ≥ 0 at every ω; a few points slightly below zero after a lead correction are
    tolerated). The usual causes are swapped Z′/Z″ columns or an inverted sign."""
    n = spec.n_points
    negative = int(np.sum(spec.z.real <= 0))
    if 2 * negative > n:
        raise DataError(
            f"Re Z ≤ 0 at {negative} of {n} frequencies: not the impedance of a passive "
            "sample (are the Z′ and Z″ columns swapped, or the sign of Z′ inverted?)",
            path=spec.source,
        )


def capacitive_tail(spec: ImpedanceSpectrum) -> tuple[float, float, float] | None:
    """(exponent n, phase in degrees, lowest frequency in Hz) when the low-frequency end of the
    spectrum is capacitive, else ``None``.

    Over the lowest decade of frequency (at least 4 points): −Z″ > 0 everywhere and rising
    towards low frequency as f^−n with n ≥ 0.6 (least squares in log–log), and the phase at
    the lowest frequency at least 50° (−Z″/Z′ ≥ tan 50°). That is a blocking electrode
    (capacitor or CPE; or an arc far beyond the lowest frequency, which looks the same), the
    case for a series capacitance in the Lin-KK test and the DRT.
    """
    f = spec.frequency
    order = np.argsort(f)
    f_sorted, z_sorted = f[order], spec.z[order]
    sel = f_sorted <= f_sorted[0] * 10.0
    if np.count_nonzero(sel) < 4:
        sel = np.zeros(f.size, dtype=bool)
        sel[: min(4, f.size)] = True
    if np.count_nonzero(sel) < 4 or np.ptp(np.log(f_sorted[sel])) <= 0:
        return None
    minus_im = -z_sorted.imag[sel]
    if np.any(minus_im <= 0):
        return None
    slope = float(np.polyfit(np.log(f_sorted[sel]), np.log(minus_im), 1)[0])
    z0 = z_sorted[0]
    phase = float(np.degrees(np.arctan2(-z0.imag, z0.real)))
    if -slope >= 0.6 and phase >= 50.0:
        return -slope, phase, float(f_sorted[0])
    return None
