"""The result of a CNLS equivalent-circuit fit (:class:`CircuitFitResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iondyn.display import Displayable, Param, Summary, format_value
from iondyn.eis.circuit import Circuit
from iondyn.errors import InputError

__all__ = ["CircuitFitResult"]


@dataclass(repr=False)
class CircuitFitResult(Displayable):
    """Fitted parameters with standard errors, covariance, fit quality and warnings.

    ``parameters`` and ``errors`` hold every parameter of the circuit in linear units (errors of
    fixed parameters are 0; an undetermined parameter has an infinite error). ``covariance`` and
    ``correlation`` are over the free parameters (``free_names``), linear units. ``chi2`` is the
    weighted sum of squares Σ r² over real and imaginary residuals, ``chi2_reduced`` = χ²/dof
    with dof = 2·n_points − n_free. ``residuals`` are (Z_data − Z_fit)/|Z_data| (complex, the
    usual relative residual plot); ``weighted_residuals`` the stacked real/imaginary residuals
    the solver minimised.
    """

    circuit: Circuit
    parameters: dict[str, float]
    errors: dict[str, float]
    fixed: dict[str, bool]
    units: dict[str, str]
    free_names: list[str]
    covariance: np.ndarray
    correlation: np.ndarray
    chi2: float
    chi2_reduced: float
    dof: int
    converged: bool
    message: str
    nfev: int
    weight: str
    frequency: np.ndarray
    z: np.ndarray
    z_fit: np.ndarray
    weighted_residuals: np.ndarray
    poorly_determined: list[str] = field(default_factory=list)
    strong_correlations: list[tuple[str, str, float]] = field(default_factory=list)
    at_bounds: list[str] = field(default_factory=list)
    initial: dict[str, float] = field(default_factory=dict)
    start_chi2: list[float] = field(default_factory=list)
    source: str | None = None
    index: int = 0
    warnings: list[str] = field(default_factory=list)
    misfit: dict[str, Any] | None = None  # iondyn.misfit.FitQuality.to_dict() of the residuals

    # --- derived quantities -------------------------------------------------------------------

    @property
    def n_points(self) -> int:
        return int(self.frequency.size)

    @property
    def n_free(self) -> int:
        return len(self.free_names)

    @property
    def well_determined(self) -> bool:
        """True when no free parameter is poorly determined (see :mod:`iondyn.eis.fit`)."""
        return not self.poorly_determined

    @property
    def residuals(self) -> np.ndarray:
        """(Z_data − Z_fit)/|Z_data|, complex."""
        return (self.z - self.z_fit) / np.abs(self.z)

    @property
    def values(self) -> np.ndarray:
        """All parameter values as an array in circuit order."""
        return np.array([self.parameters[k] for k in self.circuit.param_names])

    def relative_error(self, name: str) -> float:
        value = self.parameters[name]
        return abs(self.errors[name] / value) if value != 0 else float("inf")

    def impedance(self, frequency: Any) -> np.ndarray:
        """The fitted model Z at ``frequency`` (Hz), e.g. on a finer grid for plots."""
        return self.circuit.impedance_at(np.asarray(frequency, dtype=float), self.parameters)

    # --- export ---------------------------------------------------------------------------------

    def correlations_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.free_names),
            "matrix": [[_finite_or_none(v) for v in row] for row in self.correlation],
        }

    def to_dict(self) -> dict[str, Any]:
        """One ``results`` entry of ``iondyn eis fit --json``."""
        params = {
            name: {
                "value": self.parameters[name],
                "err": None if self.fixed[name] else _finite_or_none(self.errors[name]),
                "unit": self.units[name],
                "fixed": self.fixed[name],
            }
            for name in self.circuit.param_names
        }
        return {
            "source": self.source,
            "spectrum": self.index,
            "circuit": self.circuit.string,
            "parameters": params,
            "correlations": self.correlations_dict(),
            "strong_correlations": [
                {"a": a, "b": b, "r": r} for a, b, r in self.strong_correlations
            ],
            "quality": {
                "chi2": self.chi2,
                "chi2_reduced": self.chi2_reduced,
                "converged": self.converged,
                "n_points": self.n_points,
                "n_free": self.n_free,
                "dof": self.dof,
                "weight": self.weight,
                "well_determined": self.well_determined,
                "nfev": self.nfev,
                "message": self.message,
                "misfit": self.misfit,
            },
            "poorly_determined": list(self.poorly_determined),
            "at_bounds": list(self.at_bounds),
            "initial": dict(self.initial),
            "warnings": list(self.warnings),
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per parameter: name, value, err, rel_err, unit, fixed."""
        rows = []
        for name in self.circuit.param_names:
            err = self.errors[name]
            rows.append(
                {
                    "name": name,
                    "value": self.parameters[name],
                    "err": np.nan if self.fixed[name] else err,
                    "rel_err": np.nan if self.fixed[name] else self.relative_error(name),
                    "unit": self.units[name],
                    "fixed": self.fixed[name],
                }
            )
        return pd.DataFrame(rows)

    # --- display ------------------------------------------------------------------------------

    def _summary(self) -> Summary:
        params = [
            Param(
                name,
                self.parameters[name],
                0.0 if self.fixed[name] else self.errors[name],
                self.units[name],
            )
            for name in self.circuit.param_names
        ]
        facts = [
            f"{self.n_points} points",
            f"{self.weight} weight",
            f"χ²_red = {self.chi2_reduced:.3g}",
            "converged" if self.converged else "NOT converged",
        ]
        where = f"{Path(self.source).name} [{self.index}]: " if self.source else ""
        return Summary(
            "CircuitFitResult",
            f"{where}{self.circuit.string}",
            facts,
            params,
            misfit=self.misfit,
            warnings=list(self.warnings),
        )

    def plot(self, ax: Any = None, kind: str = "nyquist") -> Any:
        """Data and fitted model on matplotlib axes (a new figure when ``ax`` is None):
        ``kind`` ``nyquist`` (equal axes, an inset on the arcs beside an electrode spike),
        ``bode`` (|Z| and −phase) or ``residuals``. Returns the axes."""
        from iondyn.display import plots as dp

        ax = dp.axes(ax)
        if kind == "nyquist":
            return dp.nyquist(ax, self, self, fit_label=f"fit {self.circuit.string}")
        if kind == "bode":
            return dp.bode(ax, self, self)
        if kind == "residuals":
            r = self.residuals
            return dp.impedance_residuals(ax, self.frequency, r.real, r.imag)
        raise InputError(f"kind must be nyquist, bode or residuals, not {kind!r}")

    def fit_dataframe(self) -> pd.DataFrame:
        """Data, model and relative residuals per frequency."""
        r = self.residuals
        return pd.DataFrame(
            {
                "frequency_Hz": self.frequency,
                "z_real_ohm": self.z.real,
                "z_imag_ohm": self.z.imag,
                "z_fit_real_ohm": self.z_fit.real,
                "z_fit_imag_ohm": self.z_fit.imag,
                "residual_real": r.real,
                "residual_imag": r.imag,
            }
        )


def _finite_or_none(v: float) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def auto_summary(result: Any) -> Summary:
    """The summary of an :class:`~iondyn.eis.autofit.AutoFitResult`: the chosen fit, the
    processes (labels, R, C, σ, ε_r) and the candidate circuits."""
    s = result.fit._summary()
    s.kind = "AutoFitResult"
    s.warnings = list(dict.fromkeys(list(result.fit.warnings) + list(result.warnings)))
    if result.processes:
        rows = [
            [
                str(p.get("label")),
                str(p.get("element", "")),
                format_value(p.get("R_ohm"), p.get("R_ohm_err"), "Ω"),
                format_value(p.get("C_F"), p.get("C_F_err"), "F"),
                format_value(p.get("sigma_S_per_cm"), p.get("sigma_S_per_cm_err"), "S/cm"),
                format_value(p.get("eps_r")),
            ]
            for p in result.processes
        ]
        s.tables.append(("processes", ["process", "element", "R", "C", "σ", "ε_r"], rows))
    if result.candidates:
        rows = [
            [
                c["circuit"],
                str(c.get("n_free")),
                f"{c['bic']:.1f}" if c.get("bic") is not None else "–",
                "yes" if c.get("well_determined") else "no",
                "chosen" if c.get("chosen") else "",
            ]
            for c in result.candidates
        ]
        s.tables.append(("candidates", ["circuit", "k", "BIC", "well determined", ""], rows))
    return s
