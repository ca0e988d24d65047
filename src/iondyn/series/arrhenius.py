"""Arrhenius analysis of any temperature-dependent result.

Three conventions, all linear in 1/(k_B T) after taking logarithms:

* ``"sigma_T"`` (default for ionic conductors): σT = A exp(−Ea/k_BT), A in S·K/cm;
* ``"sigma"``: σ = σ₀ exp(−Ea/k_BT) (fitting ln σ instead of ln σT lowers Ea by k_B T̄ over
  the measured range, about −0.023 to −0.03 eV over 250–400 K, since d ln T/d(1/k_BT) =
  −k_BT — the result always states its convention);
* ``"tau"``: τ = τ₀ exp(+Ea/k_BT) (relaxation times from TSDC, DRT peaks, arcs);
* ``"D"``: D = D₀ exp(−Ea/k_BT) (diffusion coefficients, e.g. from molecular dynamics).

Weighted least squares on y = ln(value) against x = 1/(k_B T) with weights 1/δy², δy = δv/v
(relative errors of the values); without errors all points weigh the same and the covariance is
scaled by the residual variance. With errors, the covariance is scaled by χ²/dof only when the
scatter exceeds the errors (χ²/dof > 1), so reported errors never shrink below the data's;
points that do not lie on one line within their errors (χ² test, p < 0.01) are a warning that
names the furthest ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2 as chi2_dist

from iondyn.constants import K_B_EV
from iondyn.display import Displayable, Param, Summary
from iondyn.errors import DataError

__all__ = ["ArrheniusFit", "fit_arrhenius"]

_SIGN = {"sigma_T": -1.0, "sigma": -1.0, "tau": 1.0, "D": -1.0}  # D: the algebra of "sigma"


@dataclass(repr=False)
class ArrheniusFit(Displayable):
    """Ea (eV) and prefactor with errors; ``ln_prefactor`` and its covariance with Ea."""

    convention: str
    Ea_eV: float
    Ea_eV_err: float
    ln_prefactor: float
    ln_prefactor_err: float
    cov: np.ndarray
    T_K: np.ndarray
    values: np.ndarray
    errors: np.ndarray | None
    chi2_reduced: float
    r2: float
    warnings: list[str] = field(default_factory=list)

    @property
    def prefactor(self) -> float:
        """A (σT convention), σ₀ or τ₀ in the units of the values (× K for σT)."""
        return float(np.exp(self.ln_prefactor))

    @property
    def prefactor_err(self) -> float:
        return float(self.prefactor * self.ln_prefactor_err)

    @property
    def correlation(self) -> float:
        """Correlation of ln(prefactor) and Ea."""
        d = np.sqrt(np.diag(self.cov))
        return float(self.cov[0, 1] / (d[0] * d[1])) if np.all(d > 0) else float("nan")

    def predict(self, T_K: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The quantity itself (σ, not σT, for the σT convention) at ``T_K`` and its standard
        error from the full covariance."""
        T = np.asarray(T_K, dtype=float)
        x = 1.0 / (K_B_EV * T)
        sign = _SIGN[self.convention]
        ln_v = self.ln_prefactor + sign * self.Ea_eV * x
        g = np.stack([np.ones_like(x), sign * x], axis=-1)
        var = np.einsum("...i,ij,...j->...", g, self.cov, g)
        if self.convention == "sigma_T":
            ln_v = ln_v - np.log(T)
        v = np.exp(ln_v)
        return v, v * np.sqrt(np.maximum(var, 0.0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "convention": self.convention,
            "Ea_eV": self.Ea_eV,
            "Ea_eV_err": self.Ea_eV_err,
            "prefactor": self.prefactor,
            "prefactor_err": self.prefactor_err,
            "ln_prefactor": self.ln_prefactor,
            "ln_prefactor_err": self.ln_prefactor_err,
            "correlation_lnA_Ea": self.correlation,
            "chi2_reduced": self.chi2_reduced,
            "r2": self.r2,
            "n_points": int(self.T_K.size),
            "warnings": list(self.warnings),
        }

    def _summary(self) -> Summary:
        law = {
            "sigma_T": "σT = A exp(−Ea/k_B T)",
            "sigma": "σ = σ₀ exp(−Ea/k_B T)",
            "tau": "τ = τ₀ exp(Ea/k_B T)",
            "D": "D = D₀ exp(−Ea/k_B T)",
        }[self.convention]
        facts = [
            f"{self.T_K.size} points, {self.T_K.min():.1f}–{self.T_K.max():.1f} K",
            f"R² = {self.r2:.5f}",
            f"χ²_red = {self.chi2_reduced:.3g}",
        ]
        params = [
            Param("Ea", self.Ea_eV, self.Ea_eV_err, "eV"),
            Param("ln prefactor", self.ln_prefactor, self.ln_prefactor_err, ratio=False),
        ]
        return Summary("ArrheniusFit", law, facts, params, warnings=list(self.warnings))

    def plot(self, ax: Any = None, label: str = "data") -> Any:
        """The values (log axis) against 1000/T and the fitted law; returns the axes."""
        from iondyn.display import plots as dp

        ylabel = {"sigma_T": "σ (S/cm)", "sigma": "σ (S/cm)", "tau": "τ (s)", "D": "D (cm²/s)"}[
            self.convention
        ]
        points = [(label, self.T_K, self.values, self.errors, self)]
        return dp.arrhenius(dp.axes(ax), points, ylabel=ylabel)

    def to_dataframe(self) -> pd.DataFrame:
        fit, _ = self.predict(self.T_K)
        df = pd.DataFrame({"T_K": self.T_K, "value": self.values, "fit": fit})
        if self.errors is not None:
            df["error"] = self.errors
        return df


#: p-value of the χ² test below which the points are not on one Arrhenius line.
OFF_LINE_P = 0.01


def fit_arrhenius(
    T_K: np.ndarray,
    values: np.ndarray,
    errors: np.ndarray | None = None,
    convention: str = "sigma_T",
) -> ArrheniusFit:
    r"""Fit an Arrhenius law (see the module docstring for the conventions).

    .. math:: \ln y = \ln A \mp \frac{E_a}{k_B T}, \qquad y = \sigma T,\ \sigma\ \text{or}\ \tau

    ``values`` are σ (S/cm) for ``sigma_T`` and ``sigma`` (σT is formed here), τ (s) for
    ``tau``; ``errors`` their standard errors.
    """
    if convention not in _SIGN:
        raise DataError(f"unknown Arrhenius convention {convention!r} (sigma_T, sigma or tau)")
    T = np.asarray(T_K, dtype=float)
    v = np.asarray(values, dtype=float)
    if T.shape != v.shape or T.ndim != 1:
        raise DataError("temperatures and values must be 1-D arrays of the same length")
    if T.size < 2:
        raise DataError("an Arrhenius fit needs at least two temperatures")
    if np.any(~np.isfinite(T)) or np.any(T <= 0):
        raise DataError("temperatures must be finite and above 0 K")
    if np.any(~np.isfinite(v)) or np.any(v <= 0):
        raise DataError("Arrhenius values must be finite and positive")
    if np.unique(T).size < 2:
        raise DataError("an Arrhenius fit needs at least two different temperatures")
    err = None if errors is None else np.asarray(errors, dtype=float)
    y = np.log(v * T) if convention == "sigma_T" else np.log(v)
    x = 1.0 / (K_B_EV * T)
    if err is not None:
        if err.shape != v.shape or np.any(~(err > 0)):
            err = None  # unusable errors: fall back to equal weights
    w = np.ones_like(y) if err is None else (v / err) ** 2  # 1/δ(ln v)²
    a = np.stack([np.ones_like(x), x], axis=1)
    aw = a * w[:, None]
    normal = a.T @ aw
    coef = np.linalg.solve(normal, aw.T @ y)
    cov = np.linalg.inv(normal)
    resid = y - a @ coef
    dof = T.size - 2
    chi2 = float(np.sum(w * resid**2))
    chi2_red = chi2 / dof if dof > 0 else float("nan")
    warnings: list[str] = []
    if err is None:
        if dof > 0:
            cov = cov * chi2_red
        else:
            warnings.append("two points and no errors: the Ea error cannot be estimated")
            cov = cov * np.nan
    elif dof > 0 and chi2_red > 1.0:
        cov = cov * chi2_red
        p_value = float(chi2_dist.sf(chi2, dof))
        if p_value < OFF_LINE_P:
            z = np.sqrt(w) * resid
            worst = np.argsort(-np.abs(z))[: min(3, T.size)]
            named = ", ".join(f"{T[i]:.5g} K (z = {z[i]:+.1f})" for i in worst if abs(z[i]) > 2)
            warnings.append(
                f"the points do not lie on one Arrhenius line within their errors (χ²/dof = "
                f"{chi2_red:.1f}, p = {p_value:.1g}"
                + (f"; furthest: {named}" if named else "")
                + "): curvature, a change of mechanism or a process mixed up with another? "
                "errors scaled up"
            )
    sign = _SIGN[convention]
    ea = sign * coef[1]
    # covariance of (ln A, Ea): Ea = sign·slope
    j = np.array([[1.0, 0.0], [0.0, sign]])
    cov_p = j @ cov @ j.T
    tss = float(np.sum(w * (y - np.average(y, weights=w)) ** 2))
    r2 = 1.0 - chi2 / tss if tss > 0 else float("nan")
    return ArrheniusFit(
        convention,
        float(ea),
        float(np.sqrt(cov_p[1, 1])),
        float(coef[0]),
        float(np.sqrt(cov_p[0, 0])),
        cov_p,
        T,
        v,
        err,
        chi2_red,
        r2,
        warnings,
    )
