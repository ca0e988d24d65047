"""A misfit verdict from the residuals themselves, for every kind of fit.

A fit can be converged, with small standard errors and a fine χ², and still miss a feature of
the data: a missing arc, a wrong line shape, an unmodelled tail. Such a fit leaves residuals
that are *structured* — long runs of one sign, neighbours that resemble each other — where a
correct model leaves noise. Two classical tests on the residuals ordered along the
measurement axis (frequency, energy, temperature) detect it, without knowing the noise:

* the **runs test** (Wald & Wolfowitz, Ann. Math. Stat. 11, 147 (1940)): with n₊ positive and
  n₋ negative residuals, the number of runs R has mean μ = 1 + 2n₊n₋/n and variance
  σ² = 2n₊n₋(2n₊n₋ − n)/(n²(n − 1)) for independent residuals; too few runs,
  z = (R − μ)/σ < −:data:`Z_CRITICAL`, is structure. Several sequences (the real and the
  imaginary part of an impedance) add their R, μ and σ².
* the **lag-1 autocorrelation** r₁ = Σ rᵢrᵢ₊₁ / Σ rᵢ² (Durbin & Watson, Biometrika 37, 409
  (1950): d ≈ 2(1 − r₁)), ≈ N(0, 1/n) for independent residuals; r₁√n > :data:`Z_CRITICAL` is
  structure.

Each test alone raises a false alarm on a correct model with probability 0.13 % (one-sided
z = 3), so fewer than 1 % of good fits are called misfits. Where an independent estimate of
the noise exists (the Lin-KK residuals of an impedance spectrum, Poisson counting statistics,
the scatter about a smoothing fit), the residual level is compared with it: a fit is a
**misfit** when its residuals are structured and, if the noise is known, at least
:data:`NOISE_FACTOR` times above it (a structure below the noise is reported, not warned).
The verdict says how large the misfit is (rms and largest residual relative to the data's
scale, and where), so a user can judge whether it matters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "NOISE_FACTOR",
    "Z_CRITICAL",
    "FitQuality",
    "assess_residuals",
    "curve_fit_quality",
    "difference_noise",
    "model_switches",
    "rename_axis",
]

#: One-sided z of the runs and autocorrelation tests above which residuals are structured.
Z_CRITICAL = 3.0

#: Residuals of a misfit are at least this many times the independent noise estimate.
NOISE_FACTOR = 2.0


@dataclass
class FitQuality:
    """The verdict on one fit's residuals (see the module docstring).

    ``verdict``: ``"good"``, ``"misfit"`` (structured and above the noise), ``"structured"``
    (structured but within :data:`NOISE_FACTOR` of the noise) or ``"too few points"``.
    """

    verdict: str
    n: int
    runs_z: float | None
    lag1_autocorrelation: float | None
    lag1_z: float | None
    rms: float
    noise: float | None = None
    noise_ratio: float | None = None
    rms_relative: float | None = None
    max_relative: float | None = None
    worst_at: float | None = None
    axis: str = ""
    unit: str = ""
    reasons: list[str] = field(default_factory=list)

    @property
    def is_misfit(self) -> bool:
        return self.verdict == "misfit"

    def warning(self) -> str | None:
        """The one-line warning of a misfit (None otherwise)."""
        if not self.is_misfit:
            return None
        size = []
        if self.rms_relative is not None:
            size.append(f"rms {100 * self.rms_relative:.2g} %")
        if self.max_relative is not None:
            where = ""
            if self.worst_at is not None:
                unit = f" {self.unit}" if self.unit else ""
                where = f" at {self.axis} = {self.worst_at:.4g}{unit}" if self.axis else ""
            size.append(f"largest {100 * self.max_relative:.2g} %{where}")
        if self.noise_ratio is not None:
            size.append(f"{self.noise_ratio:.2g}× the noise")
        detail = f" ({', '.join(size)})" if size else ""
        return (
            f"misfit: the residuals are structured ({'; '.join(self.reasons)}){detail}: the "
            "model misses a feature of the data"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["is_misfit"] = self.is_misfit
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()
        }


def rename_axis(
    misfit: dict[str, Any] | None, warnings: list[str], axis: str, unit: str = ""
) -> dict[str, Any] | None:
    """The stored verdict (``FitQuality.to_dict()`` plus ``warning``) with the axis named
    ``axis`` in ``unit``; its warning in ``warnings`` is replaced in place."""
    if not misfit:
        return misfit
    fields = {k: v for k, v in misfit.items() if k in FitQuality.__dataclass_fields__}
    q = FitQuality(**fields)
    q.axis, q.unit = axis, unit
    new = q.to_dict() | {"warning": q.warning()}
    old = misfit.get("warning")
    if old and old in warnings:
        warnings[warnings.index(old)] = new["warning"]
    return new


def _runs(seq: np.ndarray) -> tuple[float, float, float] | None:
    s = np.sign(seq[seq != 0])
    n = s.size
    n_pos = int(np.sum(s > 0))
    n_neg = n - n_pos
    if n < 2 or n_pos == 0 or n_neg == 0:
        return None
    runs = 1.0 + float(np.sum(s[1:] != s[:-1]))
    prod = 2.0 * n_pos * n_neg
    mean = 1.0 + prod / n
    var = prod * (prod - n) / (n * n * (n - 1.0))
    return runs, mean, var


def assess_residuals(
    residuals: Sequence[np.ndarray] | np.ndarray,
    *,
    noise: float | None = None,
    scale: float | None = None,
    x: Sequence[np.ndarray] | np.ndarray | None = None,
    axis: str = "",
    unit: str = "",
    min_points: int = 8,
) -> FitQuality:
    """The :class:`FitQuality` of residuals ordered along the measurement axis.

    ``residuals``: one array, or several (e.g. the real and imaginary parts), each in axis
    order; ``noise``: an independent estimate of the residuals' standard deviation in the same
    units (None: unknown); ``scale``: the data's scale for the relative sizes (e.g. max|y|;
    None when the residuals are already relative, as modulus-weighted impedance residuals);
    ``x``: the axis values of each array, to say where the largest residual lies (``axis`` and
    ``unit`` name them).
    """
    seqs = [
        np.asarray(r, dtype=float)
        for r in (residuals if isinstance(residuals, list | tuple) else [residuals])
    ]
    xs = (
        None
        if x is None
        else [np.asarray(v, dtype=float) for v in (x if isinstance(x, list | tuple) else [x])]
    )
    keep = [np.isfinite(s) for s in seqs]
    flat = np.concatenate([s[k] for s, k in zip(seqs, keep)]) if seqs else np.zeros(0)
    n = int(flat.size)
    rms = float(np.sqrt(np.mean(flat**2))) if n else math.nan
    q = FitQuality("too few points", n, None, None, None, rms, axis=axis, unit=unit)
    if noise is not None and noise > 0 and math.isfinite(noise):
        q.noise, q.noise_ratio = float(noise), rms / float(noise)
    ref = 1.0 if scale is None else float(scale)
    if ref > 0 and n:
        q.rms_relative = rms / ref
        j = int(np.argmax(np.abs(flat)))
        q.max_relative = float(abs(flat[j])) / ref
        if xs is not None:
            xflat = np.concatenate([v[k] for v, k in zip(xs, keep)])
            q.worst_at = float(xflat[j])
    if n < min_points:
        return q
    totals = [r for r in (_runs(s[k]) for s, k in zip(seqs, keep)) if r is not None]
    if totals:
        runs, mean, var = (sum(t[i] for t in totals) for i in range(3))
        q.runs_z = (runs - mean) / math.sqrt(var) if var > 0 else None
    num = sum(float(np.sum(s[k][1:] * s[k][:-1])) for s, k in zip(seqs, keep))
    den = float(np.sum(flat**2))
    if den > 0:
        q.lag1_autocorrelation = num / den
        q.lag1_z = q.lag1_autocorrelation * math.sqrt(n)
    if q.runs_z is not None and q.runs_z < -Z_CRITICAL:
        q.reasons.append(f"runs test z = {q.runs_z:.1f}")
    if q.lag1_z is not None and q.lag1_z > Z_CRITICAL:
        q.reasons.append(f"lag-1 autocorrelation {q.lag1_autocorrelation:.2f}")
    if not q.reasons:
        q.verdict = "good"
    elif q.noise_ratio is not None and q.noise_ratio < NOISE_FACTOR:
        q.verdict = "structured"
    else:
        q.verdict = "misfit"
    return q


def difference_noise(y: np.ndarray) -> float:
    """Noise standard deviation of a densely sampled curve from its second differences,
    dᵢ = yᵢ₋₁ − 2yᵢ + yᵢ₊₁ (var d = 6σ² for white noise), robustly:
    σ̂ = 1.4826 · median|d − median d| / √6 (Rice, Ann. Stat. 12, 1215 (1984); the MAD makes
    the few points of strong curvature at peak tops count little; the remaining curvature can
    only raise σ̂, so the estimate errs towards fewer misfit verdicts)."""
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    if y.size < 5:
        return math.nan
    d = y[:-2] - 2.0 * y[1:-1] + y[2:]
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(6.0))


def curve_fit_quality(
    x: np.ndarray,
    y: np.ndarray,
    model: np.ndarray,
    *,
    poisson: bool = False,
    sigma: np.ndarray | None = None,
    axis: str = "",
    unit: str = "",
) -> FitQuality:
    """:class:`FitQuality` of a fitted curve (a peak spectrum, a TSDC curve): counts are
    compared with Poisson statistics (residuals (y − m)/√m against noise 1), data with known
    per-point σ with σ, other data with :func:`difference_noise`; sizes relative to max |y|."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    m = np.asarray(model, dtype=float)
    order = np.argsort(x)
    x, y, m = x[order], y[order], m[order]
    scale = float(np.max(np.abs(y))) if y.size else None
    if poisson:
        r = (y - m) / np.sqrt(np.maximum(m, 1.0))
        q = assess_residuals(r, noise=1.0, x=x, axis=axis, unit=unit)
        raw = y - m  # sizes in data units
        if scale:
            q.rms_relative = float(np.sqrt(np.mean(raw**2))) / scale
            q.max_relative = float(np.max(np.abs(raw))) / scale
        return q
    if sigma is not None:
        s = np.asarray(sigma, dtype=float)[order]
        q = assess_residuals((y - m) / s, noise=1.0, x=x, axis=axis, unit=unit)
        if scale:
            q.rms_relative = float(np.sqrt(np.mean((y - m) ** 2))) / scale
            q.max_relative = float(np.max(np.abs(y - m))) / scale
        return q
    return assess_residuals(
        y - m, noise=difference_noise(y), scale=scale, x=x, axis=axis, unit=unit
    )


def model_switches(
    fits: Sequence[tuple[str, dict[str, float]]], factor: float = 100.0
) -> list[tuple[int, str]]:
    """Parameters that collapse or jump when the chosen model switches along a series of fits
    of one sample (cycles of a file): ``fits`` = [(circuit, {parameter: value}), …] in order;
    returns [(index, message), …] for every fit whose circuit differs from the previous one and
    that shares a parameter with it whose value changed by more than ``factor`` (either way)."""
    out: list[tuple[int, str]] = []
    for i in range(1, len(fits)):
        (c0, p0), (c1, p1) = fits[i - 1], fits[i]
        if c0 == c1:
            continue
        for name in sorted(set(p0) & set(p1)):
            a, b = p0[name], p1[name]
            if not (a > 0 and b > 0):
                continue
            ratio = b / a
            if ratio > factor or ratio < 1.0 / factor:
                out.append(
                    (
                        i,
                        f"{name} went from {a:.3g} to {b:.3g} when the chosen circuit switched "
                        f"from {c0} to {c1}: compare both circuits on these spectra "
                        f"(--circuit {c0})",
                    )
                )
    return out
