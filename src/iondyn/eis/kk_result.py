"""The result object of a Lin-KK test (:class:`iondyn.eis.kk.LinKK`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from iondyn.eis.kk_validity import KKCheck

__all__ = ["KKResult"]


@dataclass
class KKResult:
    """Outcome of a Lin-KK test on one spectrum.

    ``valid`` follows the rule in :mod:`iondyn.eis.kk_validity`; ``checks`` lists each
    criterion; ``noise_estimate`` is the σ (fraction of |Z|) it used; ``flagged_Hz`` the
    frequencies whose residual breaks the *max* bound; ``mu_history`` the μ of every M tried;
    ``extend_decades`` the τ-range extension used.
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
