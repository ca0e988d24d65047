"""The result object of a DRT analysis (:class:`iondyn.eis.drt.DRT`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iondyn.display import Displayable, Param, Summary, format_number
from iondyn.eis.drt_basis import RBFGrid, gaussian_rbf
from iondyn.eis.drt_peaks import DRTArc, DRTPeak

__all__ = ["DRTResult"]


@dataclass(repr=False)
class DRTResult(Displayable):
    """A DRT: γ on a fine τ grid, the series terms, λ, the peaks and the fit.

    ``tau_s``/``gamma_ohm``: γ(ln τ) in Ω on the output grid (4 points per basis function).
    ``R_inf_ohm``, ``L_H``, ``C_series_F``: series terms, ``None`` when not in the model;
    ``C_series_F`` is ``inf`` when the term was fitted but came out as no capacitance
    (1/C_s = 0). ``R_pol_ohm`` = ∫ γ d ln τ. ``arcs``: runs of overlapping peaks that the
    impedance shows as one arc (:func:`iondyn.eis.drt_peaks.group_arcs`). ``noise_estimate``:
    σ̂, the standard deviation of one weighted data value (relative to |Z| under modulus
    weighting), estimated as RSS/(n − tr H) at the chosen λ. ``residual_real``,
    ``residual_imag``: (Z − Ẑ)/|Z|.
    """

    source: str | None
    index: int
    tau_s: np.ndarray
    gamma_ohm: np.ndarray
    R_inf_ohm: float | None
    L_H: float | None
    C_series_F: float | None
    R_pol_ohm: float
    lam: float
    lambda_method: str
    peaks: list[DRTPeak]
    frequency_Hz: np.ndarray
    z: np.ndarray
    z_fit: np.ndarray
    coefficients_ohm: np.ndarray
    tau_basis_s: np.ndarray
    basis_width: float
    noise_estimate: float
    effective_parameters: float
    arcs: list[DRTArc] = field(default_factory=list)
    lambda_grid: np.ndarray | None = None
    lambda_scores: np.ndarray | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def residual_real(self) -> np.ndarray:
        return (self.z.real - self.z_fit.real) / np.abs(self.z)

    @property
    def residual_imag(self) -> np.ndarray:
        return (self.z.imag - self.z_fit.imag) / np.abs(self.z)

    @property
    def rms_residual(self) -> float:
        """Root mean square of the relative residuals (real and imaginary together)."""
        r = np.concatenate([self.residual_real, self.residual_imag])
        return float(np.sqrt(np.mean(r**2)))

    def gamma_at(self, tau_s: Any) -> np.ndarray:
        """γ (Ω) at any τ (s), evaluated from the basis expansion."""
        ln_tau = np.log(np.atleast_1d(np.asarray(tau_s, dtype=float)))
        grid = RBFGrid(np.log(self.tau_basis_s), self.basis_width)
        return gaussian_rbf(ln_tau, grid) @ self.coefficients_ohm

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of ``iondyn eis drt --json`` (one element of ``results``)."""
        return {
            "source": self.source,
            "spectrum": self.index,
            "tau_s": self.tau_s.tolist(),
            "gamma_ohm": self.gamma_ohm.tolist(),
            "R_inf_ohm": self.R_inf_ohm,
            "L_H": self.L_H,
            "C_series_F": self.C_series_F,
            "R_pol_ohm": self.R_pol_ohm,
            "lambda": self.lam,
            "lambda_method": self.lambda_method,
            "peaks": [p.to_dict() for p in self.peaks],
            "arcs": [a.to_dict() for a in self.arcs],
            "noise_estimate": self.noise_estimate,
            "effective_parameters": self.effective_parameters,
            "rms_residual": self.rms_residual,
            "fit": {
                "frequency_Hz": self.frequency_Hz.tolist(),
                "z_real_ohm": self.z_fit.real.tolist(),
                "z_imag_ohm": self.z_fit.imag.tolist(),
                "residual_real": self.residual_real.tolist(),
                "residual_imag": self.residual_imag.tolist(),
            },
            "lambda_search": None
            if self.lambda_grid is None
            else {
                "lambda": self.lambda_grid.tolist(),
                "score": None if self.lambda_scores is None else self.lambda_scores.tolist(),
            },
            "settings": dict(self.settings),
            "warnings": list(self.warnings),
        }

    def _summary(self) -> Summary:
        where = f"{Path(self.source).name} [{self.index}]: " if self.source else ""
        params = [Param("R_pol", self.R_pol_ohm, None, "Ω")]
        for name, value, unit in (
            ("R∞", self.R_inf_ohm, "Ω"),
            ("L", self.L_H, "H"),
            ("C_s", self.C_series_F, "F"),
        ):
            if value is not None:
                params.append(Param(name, value, None, unit))
        rows = [
            [
                str(k + 1),
                format_number(p.tau_s, 3),
                format_number(p.R_ohm, 3),
                format_number(p.C_F, 3),
                "yes" if p.significant else "no",
            ]
            for k, p in enumerate(self.peaks)
        ]
        facts = [
            f"λ = {self.lam:.3g} ({self.lambda_method})",
            f"{len(self.peaks)} peak(s)",
            f"rms residual {100 * self.rms_residual:.2g} %",
        ]
        return Summary(
            "DRTResult",
            f"{where}DRT",
            facts,
            params,
            tables=[("peaks", ["peak", "τ (s)", "R (Ω)", "C (F)", "significant"], rows)],
            warnings=list(self.warnings),
        )

    def plot(self, ax: Any = None) -> Any:
        """γ(τ) with its peaks marked; returns the axes (a new figure when ``ax`` is None)."""
        from iondyn.display import plots as dp

        return dp.drt(dp.axes(ax), self)

    def to_dataframe(self) -> pd.DataFrame:
        """γ on the output grid: columns ``tau_s``, ``gamma_ohm``."""
        return pd.DataFrame({"tau_s": self.tau_s, "gamma_ohm": self.gamma_ohm})

    def peaks_dataframe(self) -> pd.DataFrame:
        """One row per peak (columns as :class:`~iondyn.eis.drt_peaks.DRTPeak`)."""
        cols = list(DRTPeak.__dataclass_fields__)
        return pd.DataFrame([p.to_dict() for p in self.peaks], columns=cols)

    def fit_dataframe(self) -> pd.DataFrame:
        """Data, fitted impedance and relative residuals per frequency."""
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
