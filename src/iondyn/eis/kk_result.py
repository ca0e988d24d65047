"""The result object of a Lin-KK test (:class:`iondyn.eis.kk.LinKK`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iondyn.display import Displayable, Param, Summary, format_number
from iondyn.eis.kk_validity import KKCheck, classify_outliers

__all__ = ["KKResult", "kk_warnings", "outlier_table"]


@dataclass(repr=False)
class KKResult(Displayable):
    """Outcome of a Lin-KK test on one spectrum.

    ``valid`` follows the rule in :mod:`iondyn.eis.kk_validity`; ``checks`` lists each
    criterion; ``noise_estimate`` is the σ (fraction of |Z|) it used; ``flagged_Hz`` the
    frequencies of the outliers (residual beyond the Bonferroni bound and the tolerance),
    ``outliers`` one entry per outlier (``index`` in the spectrum's point order,
    ``frequency_Hz``, ``residual_real``, ``residual_imag``, ``z_score`` = larger |residual|/σ,
    ``isolated``); ``mu_history`` the μ of every M tried; ``extend_decades`` the τ-range
    extension used. ``mu`` is always a finite number (1 for a frequency-independent spectrum).
    """

    source: str | None
    index: int
    n_rc: int
    mu: float
    c: float
    tau_s: np.ndarray
    R_k_ohm: np.ndarray
    R0_ohm: float
    L_H: float | None
    C_F: float | None
    frequency_Hz: np.ndarray
    z: np.ndarray
    z_fit: np.ndarray
    valid: bool
    noise_estimate: float
    checks: list[KKCheck]
    mu_history: np.ndarray
    extend_decades: float = 0.0
    flagged_Hz: np.ndarray = field(default_factory=lambda: np.zeros(0))
    outliers: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def residual_real(self) -> np.ndarray:
        return (self.z.real - self.z_fit.real) / np.abs(self.z)

    @property
    def residual_imag(self) -> np.ndarray:
        return (self.z.imag - self.z_fit.imag) / np.abs(self.z)

    @property
    def residual_real_max(self) -> float:
        return float(np.max(np.abs(self.residual_real)))

    @property
    def residual_imag_max(self) -> float:
        return float(np.max(np.abs(self.residual_imag)))

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of ``iondyn eis kk --json`` (one element of ``results``)."""
        return {
            "source": self.source,
            "spectrum": self.index,
            "n_rc": self.n_rc,
            "mu": self.mu,
            "c": self.c,
            "residual_real_max": self.residual_real_max,
            "residual_imag_max": self.residual_imag_max,
            "valid": self.valid,
            "noise_estimate": self.noise_estimate,
            "extend_decades": self.extend_decades,
            "flagged_Hz": self.flagged_Hz.tolist(),
            "outliers": [dict(o) for o in self.outliers],
            "checks": [c.to_dict() for c in self.checks],
            "R0_ohm": self.R0_ohm,
            "L_H": self.L_H,
            "C_F": self.C_F,
            "tau_s": self.tau_s.tolist(),
            "R_k_ohm": self.R_k_ohm.tolist(),
            "residuals": {
                "frequency_Hz": self.frequency_Hz.tolist(),
                "real": self.residual_real.tolist(),
                "imag": self.residual_imag.tolist(),
            },
            "settings": dict(self.settings),
            "warnings": list(self.warnings),
        }

    def _summary(self) -> Summary:
        where = f"{Path(self.source).name} [{self.index}]: " if self.source else ""
        facts = [
            f"M = {self.n_rc} RC elements",
            f"μ = {self.mu:.3g}",
            f"noise ≈ {100 * self.noise_estimate:.2g} % of |Z|",
            f"{len(self.outliers)} outlier(s)",
        ]
        params = [
            Param("largest |Δ′|/|Z|", 100 * self.residual_real_max, None, "%"),
            Param("largest |Δ″|/|Z|", 100 * self.residual_imag_max, None, "%"),
        ]
        rows = [
            [
                c.name,
                "passed" if c.passed else "FAILED",
                format_number(c.statistic, 3),
                format_number(c.threshold, 3),
            ]
            for c in self.checks
        ]
        verdict = "Kramers–Kronig valid" if self.valid else "Kramers–Kronig INVALID"
        return Summary(
            "KKResult",
            f"{where}{verdict}",
            facts,
            params,
            tables=[("checks", ["check", "result", "statistic", "threshold"], rows)],
            warnings=list(self.warnings),
        )

    def plot(self, ax: Any = None) -> Any:
        """The relative residuals of the Lin-KK fit (% of |Z|) against frequency; returns the
        axes (a new figure when ``ax`` is None)."""
        from iondyn.display import plots as dp

        title = "Lin-KK residuals: " + ("valid" if self.valid else "INVALID")
        return dp.impedance_residuals(
            dp.axes(ax), self.frequency_Hz, self.residual_real, self.residual_imag, title
        )

    def to_dataframe(self) -> pd.DataFrame:
        """Per frequency: data, Lin-KK fit and relative residuals."""
        return pd.DataFrame(
            {
                "frequency_Hz": self.frequency_Hz,
                "z_real_ohm": self.z.real,
                "z_imag_ohm": self.z.imag,
                "z_fit_real_ohm": self.z_fit.real,
                "z_fit_imag_ohm": self.z_fit.imag,
                "residual_real": self.residual_real,
                "residual_imag": self.residual_imag,
            }
        )


def outlier_table(
    frequency: np.ndarray,
    res: np.ndarray,
    order: np.ndarray,
    sigma: float,
    alpha: float,
    tolerance: float,
) -> list[dict[str, Any]]:
    """One dict per outlier (see :class:`KKResult`), in decreasing frequency; ``res`` are the
    complex relative residuals in the spectrum's point order, ``order`` sorts by decreasing
    frequency."""
    r = res[order]
    outlier, isolated, _ = classify_outliers(r.real, r.imag, sigma, alpha, tolerance)
    rows = []
    for j in np.flatnonzero(outlier):
        i = int(order[j])
        rows.append(
            {
                "index": i,
                "frequency_Hz": float(frequency[i]),
                "residual_real": float(res[i].real),
                "residual_imag": float(res[i].imag),
                "z_score": float(max(abs(res[i].real), abs(res[i].imag)) / sigma),
                "isolated": bool(isolated[j]),
            }
        )
    return rows


def kk_warnings(
    *,
    mu_unsettled: bool,
    m: int,
    m_hi: int,
    c: float,
    cap: float | None,
    checks: list[KKCheck],
    valid: bool,
    outliers: list[dict[str, Any]],
    constant: bool,
) -> list[str]:
    """The warnings of a Lin-KK result (one line each)."""
    warnings = []
    if constant:
        warnings.append(
            "Z is the same at every frequency: there is nothing frequency-dependent to test "
            "(a pure resistance passes trivially, a constant reactance cannot be passive)"
        )
    elif mu_unsettled:
        warnings.append(
            f"the μ criterion found no M ≤ {m_hi} with μ < c = {c} and an adequate "
            f"fit; M = {m} is the smallest adequate chain"
        )
    if cap is not None and cap < 0:
        warnings.append(
            f"the series capacitance came out negative ({cap:.3g} F): the low-frequency "
            "end is not capacitive; consider the test without --series-capacitance"
        )
    if not valid:
        failed = ", ".join(k.name for k in checks if not k.passed)
        warnings.append(f"Kramers–Kronig test failed ({failed})")
    if outliers:
        listed = ", ".join(
            f"{o['frequency_Hz']:.4g} Hz "
            f"({100 * max(abs(o['residual_real']), abs(o['residual_imag'])):.2g} %, "
            f"{o['z_score']:.1f}σ)"
            for o in outliers[:6]
        )
        more = f" and {len(outliers) - 6} more" if len(outliers) > 6 else ""
        n_iso = sum(o["isolated"] for o in outliers)
        warnings.append(
            f"{len(outliers)} outlier{'s' if len(outliers) > 1 else ''} ({n_iso} isolated) "
            f"beyond the Bonferroni bound: {listed}{more}"
        )
    return warnings
