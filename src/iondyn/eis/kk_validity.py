"""The pass/fail rule of the Kramers–Kronig (Lin-KK) test, from the residuals themselves.

Inputs: relative residuals Δre_i = (Z'_i − Ẑ'_i)/|Z_i| and Δim_i = (Z''_i − Ẑ''_i)/|Z_i| of the
Lin-KK fit, ordered by decreasing frequency, n = 2N values, p fitted parameters. A spectrum that
obeys Kramers–Kronig leaves residuals that look like white noise; a spectrum that does not
(drift, non-linearity, instrument artefacts) leaves a systematic pattern, most often at the
low-frequency end where a sweep spends most of its time.

Noise level σ: given by the user (``noise``, as a fraction of |Z|), or estimated robustly
from the residuals: σ̂ = 1.4826 · median |Δ| · √(n/(n − p)) (the median absolute residual of a
normal sample, rescaled for the p fitted parameters). The median ignores a minority of bad
points, so a drifting tail cannot hide by inflating the estimate.

The spectrum is valid when all of these hold (α = ``alpha``, default 1e-3 per test):

1. *max*: max |Δ| ≤ z_{1−α/(2n)} σ (Bonferroni bound on the largest of n normal values);
2. *tail*: over the k = max(5, ⌈N/8⌉) lowest frequencies, Σ (Δre² + Δim²)/σ² ≤ χ²_{2k}(1 − α)
   (the low-frequency end is as noisy as the rest, not more);
3. *runs*: the signs of Δre and of Δim along frequency are not clustered: the Wald–Wolfowitz
   run counts, as z-scores, combined z = (z_re + z_im)/√2 ≥ −z_{1−α} (one-sided: systematic
   trends give long runs; the fit itself only ever adds sign changes);
4. *chi2* (only with a user-given ``noise``): Σ Δ²/σ² ≤ χ²_{n−p}(1 − α).

A test can only fail when the deviation it sees is also larger than ``tolerance`` (default
0.005 = 0.5 % of |Z|, the order of the accuracy of commercial impedance analysers: the largest
residual for *max*, the rms over the tail for *tail*, the rms of all residuals for *runs* and
*chi2*). Without it every low-noise measurement would fail: real instruments leave structured
residuals at the 0.1 % level (calibration, cable corrections), and an almost noise-free
simulated spectrum leaves tiny approximation residuals that are not white. Points whose
residual breaks the *max* bound (and the tolerance) are listed as ``flagged``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

__all__ = ["KKCheck", "kk_validity", "runs_zscore"]


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
    Returns (valid, σ used, list of checks, boolean mask of the flagged points).
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
    checks: list[KKCheck] = []

    z_max = float(stats.norm.isf(alpha / (2.0 * n)))
    worst = float(np.max(np.abs(r)))
    checks.append(
        KKCheck(
            "max",
            worst / sigma,
            z_max,
            bool(worst / sigma <= z_max or worst <= tolerance),
            "largest |residual| in units of the noise σ",
        )
    )

    k = min(max(5, int(np.ceil(n_freq / 8))), n_freq)
    tail = np.concatenate([res_re[-k:], res_im[-k:]])
    t_stat = float(np.sum(tail**2) / sigma**2)
    t_crit = float(stats.chi2.isf(alpha, 2 * k))
    tail_rms = float(np.sqrt(np.mean(tail**2)))
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
        chi2 = float(np.sum(r**2) / sigma**2)
        c_crit = float(stats.chi2.isf(alpha, dof))
        checks.append(
            KKCheck(
                "chi2",
                chi2,
                c_crit,
                bool(chi2 <= c_crit or rms <= tolerance),
                f"Σ residual²/σ² over all points (χ² with {dof} dof)",
            )
        )
    valid = all(c.passed for c in checks)
    worst_each = np.maximum(np.abs(res_re), np.abs(res_im))
    flagged = (worst_each > z_max * sigma) & (worst_each > tolerance)
    return valid, sigma, checks, flagged
