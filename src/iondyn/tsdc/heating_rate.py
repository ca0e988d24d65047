"""The heating-rate method: Ea and τ0 from the shift of Tm with the heating rate.

Booth, Can. J. Chem. 32, 214 (1954); Hoogenstraaten, Philips Res. Rep. 13, 515 (1958): for a
first-order peak τ0 exp(Ea/kTm) = kTm²/(β Ea) at every β, so ln(Tm²/β) is linear in 1/Tm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from iondyn.display import Displayable, Param, Summary, format_factor, format_value
from iondyn.errors import InputError
from iondyn.tsdc.model import K_B_EV

if TYPE_CHECKING:  # pragma: no cover
    from iondyn.tsdc.result import TSDCResult

__all__ = ["HeatingRateResult", "heating_rate_from_fits", "heating_rate_method", "straight_line"]


def straight_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float, float]:
    """Least-squares line y = a + b x: (a, b, se_a, se_b, r²) with standard errors."""
    n = x.size
    xm, ym = x.mean(), y.mean()
    sxx = np.sum((x - xm) ** 2)
    b = np.sum((x - xm) * (y - ym)) / sxx
    a = ym - b * xm
    resid = y - a - b * x
    s2 = np.sum(resid**2) / max(n - 2, 1)
    se_b = np.sqrt(s2 / sxx)
    se_a = np.sqrt(s2 * (1.0 / n + xm * xm / sxx))
    tss = np.sum((y - ym) ** 2)
    r2 = 1.0 - np.sum(resid**2) / tss if tss > 0 else 1.0
    return float(a), float(b), float(se_a), float(se_b), float(r2)


@dataclass(repr=False)
class HeatingRateResult(Displayable):
    """Heating-rate method over several curves."""

    Ea_eV: float
    Ea_eV_err: float
    tau0_s: float
    ln_tau0_err: float
    Tm_K: np.ndarray
    beta_K_per_s: np.ndarray
    r2: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "Ea_eV": self.Ea_eV,
            "Ea_eV_err": self.Ea_eV_err,
            "tau0_s": self.tau0_s,
            "ln_tau0_err": self.ln_tau0_err,
            "Tm_K": self.Tm_K.tolist(),
            "beta_K_per_s": self.beta_K_per_s.tolist(),
            "r2": self.r2,
            "warnings": list(self.warnings),
        }

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame({"beta_K_per_s": self.beta_K_per_s, "Tm_K": self.Tm_K})

    def _summary(self) -> Summary:
        facts = [f"{self.Tm_K.size} heating rates", f"R² = {self.r2:.5f}"]
        params = [Param("Ea", self.Ea_eV, self.Ea_eV_err, "eV")]
        title = f"heating-rate method, τ0 = {format_factor(self.tau0_s, self.ln_tau0_err, 's')}"
        return Summary("HeatingRateResult", title, facts, params, warnings=self.warnings)

    def plot(self, ax: Any = None) -> Any:
        """ln(Tm²/β) against 1/(k_B Tm) with the line of slope Ea; returns the axes."""
        from iondyn.display import plots as dp

        x = dp.inverse_kT(self.Tm_K)
        y = np.log(self.Tm_K**2 / self.beta_K_per_s)
        intercept = float(np.mean(y - self.Ea_eV * x))
        label = f"Ea = {format_value(self.Ea_eV, self.Ea_eV_err, 'eV')}"
        return dp.straight_line(
            dp.axes(ax),
            x,
            y,
            self.Ea_eV,
            intercept,
            xlabel="1/(k_B Tm) (1/eV)",
            ylabel="ln(Tm² / β)",
            label=label,
        )


def heating_rate_method(Tm: Any, beta: Any) -> HeatingRateResult:
    r"""Activation energy from the shift of Tm with the heating rate.

    .. math:: \ln\frac{T_m^2}{\beta} = \frac{E_a}{kT_m} + \ln\frac{E_a\tau_0}{k}

    (peak equation τ0 e^{Ea/kTm} = kTm²/(βEa); Booth 1954, Hoogenstraaten 1958). Needs at least
    two distinct heating rates; standard errors from the residuals with three or more.
    """
    Tm = np.asarray(Tm, dtype=float)
    beta = np.asarray(beta, dtype=float)
    if Tm.shape != beta.shape or Tm.ndim != 1:
        raise InputError("Tm and beta must be 1-D arrays of the same length")
    if np.any(~(beta > 0)) or np.any(~(Tm > 0)):
        raise InputError("heating rates and peak temperatures must be positive")
    if np.unique(beta).size < 2:
        raise InputError("the heating-rate method needs curves at two or more heating rates")
    order = np.argsort(beta)
    Tm, beta = Tm[order], beta[order]
    x, y = 1.0 / Tm, np.log(Tm * Tm / beta)
    if x.size == 2:
        b = (y[1] - y[0]) / (x[1] - x[0])
        a, se_a, se_b, r2 = y[0] - b * x[0], float("nan"), float("nan"), 1.0
    else:
        a, b, se_a, se_b, r2 = straight_line(x, y)
    ea = b * K_B_EV
    tau0 = K_B_EV * np.exp(a) / ea
    warnings = []
    if not ea > 0:
        warnings.append(
            "Tm does not rise with the heating rate: the curves do not show one relaxation"
        )
    return HeatingRateResult(
        float(ea), float(se_b * K_B_EV), float(tau0), float(se_a), Tm, beta, float(r2), warnings
    )


def heating_rate_from_fits(result: TSDCResult, peak_id: int = 1) -> HeatingRateResult:
    """The heating-rate method on the fitted Tm of peak ``peak_id`` in every curve
    (:func:`heating_rate_method`)."""
    tm, beta = [], []
    for f in result.fits:
        if f.n_peaks >= peak_id:
            tm.append(f.peaks[peak_id - 1]["Tm_K"])
            beta.append(f.beta_K_per_s)
    return heating_rate_method(np.array(tm), np.array(beta))
