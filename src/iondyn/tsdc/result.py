"""Result objects of TSDC fits and the physical quantities derived from the SAEM parameters.

Each component's fitted block (A, Tm, Ea[, order | σ_E]) becomes Tm, Ea, τ0, ln τ0, P0 and
their standard errors by the delta method on the full covariance (J Σ Jᵀ with J the Jacobian
of the derived quantities, by central differences), so the strong Ea–ln τ0 correlation of TSDC
peaks is reported, not hidden: ln τ0 = ln(kTm²/(βEa)) − Ea/kTm and P0 = A/β (the area A of the
density f = J/(βP0) is β P0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iondyn.display import (
    Displayable,
    Summary,
    collection_summary,
    format_factor,
    format_value,
    is_undetermined,
)
from iondyn.errors import InputError
from iondyn.saem.result import SpectrumFit
from iondyn.serialize import to_jsonable
from iondyn.tsdc.model import K_B_EV, general_order_ln_beta_tau0, ln_beta_tau0_from_peak

__all__ = ["TSDCFit", "TSDCResult", "charge_unit", "derive_peaks"]

_CURRENT = re.compile(r"^(?P<prefix>[fpnumk]?)A(?P<rest>(/.*)?)$")


def charge_unit(current_unit: str) -> str:
    """The unit of ∫J dt for a current unit: ``A`` → ``C``, ``nA/cm2`` → ``nC/cm2``; other
    units get ``·s`` appended."""
    m = _CURRENT.match(current_unit.strip())
    if m:
        return f"{m['prefix']}C{m['rest']}"
    return f"{current_unit}·s" if current_unit else "s"


def _quantities(kinetics: str, block: np.ndarray, beta: float, t0: float, describe) -> np.ndarray:
    """[Tm, Ea, ln τ0, P0, extra] of one component block (A, θ…)."""
    area, theta = block[0], block[1:]
    ea = float(theta[1])
    extra = float(theta[2]) if theta.size > 2 else 0.0
    if kinetics == "first":
        tm = float(theta[0])
        l_bt = float(ln_beta_tau0_from_peak(theta[0], theta[1]))
    elif kinetics == "general":
        tm = float(theta[0])
        l_bt = float(general_order_ln_beta_tau0(theta[0], theta[1], theta[2], t0))
    else:  # Gaussian distribution: the maximum of the whole peak, τ0 of the mean energy
        tm = float(describe(theta[None, None, :])["center"][0, 0])
        l_bt = float(ln_beta_tau0_from_peak(theta[0], theta[1]))
    return np.array([tm, ea, l_bt - np.log(beta), area / beta, extra])


def derive_peaks(
    fit: SpectrumFit, component, kinetics: str, beta: float, window, t0: float
) -> list[dict[str, Any]]:
    """Per-peak physical quantities with delta-method errors (see the module docstring)."""
    blk = 1 + component.n_params
    k = fit.n_peaks
    ids = fit.peak_ids if fit.peak_ids is not None else np.arange(1, k + 1)

    def describe(theta):
        return component.describe(theta, window)

    rows = []
    for j in range(k):
        sl = slice(j * blk, (j + 1) * blk)
        p = fit.params[sl].astype(float)
        cov = fit.cov[sl, sl]
        q0 = _quantities(kinetics, p, beta, t0, describe)
        jac = np.empty((q0.size, p.size))
        for i in range(p.size):
            h = 1e-5 * max(abs(p[i]), 1e-12)
            pp, pm = p.copy(), p.copy()
            pp[i] += h
            pm[i] -= h
            jac[:, i] = (
                _quantities(kinetics, pp, beta, t0, describe)
                - _quantities(kinetics, pm, beta, t0, describe)
            ) / (2 * h)
        qc = jac @ cov @ jac.T
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.clip(np.diag(qc), 0, None))
            corr = qc[1, 2] / (se[1] * se[2]) if se[1] > 0 and se[2] > 0 else float("nan")
        tm, ea, ln_tau0, p0, extra = q0
        tau0 = float(np.exp(ln_tau0))
        row: dict[str, Any] = {
            "id": int(ids[j]),
            "Ea_eV": float(ea),
            "Ea_eV_err": float(se[1]),
            "tau0_s": tau0,
            "tau0_s_err": float(tau0 * se[2]),
            "Tm_K": float(tm),
            "Tm_K_err": float(se[0]),
            "P0": float(p0),
            "P0_err": float(se[3]),
            "ln_tau0": float(ln_tau0),
            "ln_tau0_err": float(se[2]),
            "corr_Ea_ln_tau0": float(corr),
            "tau_at_Tm_s": float(np.exp(min(ln_tau0 + ea / (K_B_EV * tm), 700.0))),
            "fwhm_K": float(fit.peaks["fwhm"][j]),
            "fwhm_K_err": float(fit.peaks["fwhm_err"][j]),
            "height": float(fit.peaks["height"][j]),
            "height_err": float(fit.peaks["height_err"][j]),
            "area": float(fit.peaks["area"][j]),
            "area_err": float(fit.peaks["area_err"][j]),
        }
        if kinetics == "general":
            row["order"] = float(extra)
            row["order_err"] = float(se[4])
        if kinetics == "gaussian":
            row["sigma_E_eV"] = float(extra)
            row["sigma_E_eV_err"] = float(se[4])
            row["Tm0_K"] = float(p[1])
        rows.append(row)
    return rows


@dataclass(repr=False)
class TSDCFit(Displayable):
    """The analysis of one TSDC curve: decomposition, physical parameters, classical methods.

    ``peaks`` holds one dict per relaxation (``Ea_eV``, ``tau0_s``, ``Tm_K``, ``P0`` with
    ``_err`` standard errors, ``corr_Ea_ln_tau0``, widths, heights, areas, and under
    ``methods`` the initial-rise and Bucci–Fieschi results of that peak; ``tau0_status`` free |
    fixed | shared and the frequency factor ``frequency_factor_per_s`` = 1/τ0). ``P0`` is the
    polarisation at ``T0_K`` in ``charge_unit``. ``saem`` is the underlying engine fit.
    """

    source: str | None
    index: int
    kinetics: str
    beta_K_per_s: float
    current_unit: str
    T0_K: float
    sign: int
    peaks: list[dict[str, Any]]
    background: dict[str, Any]
    quality: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    bic_table: list[dict[str, Any]] = field(default_factory=list)
    saem: SpectrumFit | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    #: Bucci–Fieschi points (T, τ) per peak id, for plots (not serialised)
    bucci_fieschi_curves: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: how τ0 was fitted: ``mode`` free | fixed | shared, the fixed values or the shared τ0
    #: with its error (:func:`iondyn.tsdc.constraints.apply_to_peaks`)
    tau0: dict[str, Any] = field(default_factory=lambda: {"mode": "free"})

    @property
    def n_peaks(self) -> int:
        return len(self.peaks)

    @property
    def charge_unit(self) -> str:
        return charge_unit(self.current_unit)

    def to_dict(self, include_curves: bool = False) -> dict[str, Any]:
        """The JSON layout of one entry of ``iondyn tsdc fit --json``."""
        d: dict[str, Any] = {
            "source": self.source,
            "index": self.index,
            "n_peaks": self.n_peaks,
            "kinetics": self.kinetics,
            "beta_K_per_s": self.beta_K_per_s,
            "current_unit": self.current_unit,
            "charge_unit": self.charge_unit,
            "T0_K": self.T0_K,
            "sign": self.sign,
            "peaks": self.peaks,
            "background": self.background,
            "quality": self.quality,
            "warnings": list(self.warnings),
            "tau0": self.tau0,
        }
        if self.bic_table:
            d["bic_table"] = self.bic_table
        if include_curves and self.saem is not None:
            s = self.saem
            d["curves"] = {
                "temperature_K": s.x,
                "current": s.y,
                "model": s.model,
                "background": s.background_curve,
                "components": s.components,
            }
        return to_jsonable(d)

    def _title(self) -> str:
        name = Path(self.source).name if self.source else "TSDC curve"
        kinetics = "distributed-Ea" if self.kinetics == "gaussian" else f"{self.kinetics}-order"
        return f"{name}: {self.n_peaks} × {kinetics} relaxation(s)"

    def _summary(self) -> Summary:
        extra = [k for k in ("sigma_E_eV", "order") if any(k in p for p in self.peaks)]
        header = ["peak", "Tm (K)", "Ea (eV)", "τ0 (s)", f"P0 ({self.charge_unit})"]
        header += (
            {"sigma_E_eV": ["σ_E (eV)"], "order": ["order b"]}.get(extra[0], []) if extra else []
        )
        header += ["Ea initial rise (eV)", "Ea Bucci–Fieschi (eV)"]
        rows = []
        for p in self.peaks:
            methods = p.get("methods") or {}
            fixed = p.get("tau0_status") == "fixed"
            ea_known = not is_undetermined(p["Ea_eV"], p["Ea_eV_err"])
            tau0 = (
                f"{p['tau0_s']:.3g} (fixed)"
                if fixed
                else format_factor(p["tau0_s"], p["ln_tau0_err"], determined=ea_known)
            )
            row = [
                str(p["id"]),
                format_value(p["Tm_K"], p["Tm_K_err"], ratio=False),
                format_value(p["Ea_eV"], p["Ea_eV_err"]),
                tau0,
                format_value(p["P0"], p["P0_err"]),
            ]
            for k in extra[:1]:
                row.append(format_value(p.get(k), p.get(f"{k}_err")))
            for name in ("initial_rise", "bucci_fieschi"):
                m = methods.get(name) or {}
                row.append(format_value(m.get("Ea_eV"), m.get("Ea_eV_err")))
            rows.append(row)
        q = self.quality
        facts = [f"β = {self.beta_K_per_s:.4g} K/s"]
        if q.get("r2") is not None:
            facts.append(f"R² = {q['r2']:.4f}")
        facts.append(f"background {self.background.get('kind', '?')}")
        return Summary(
            "TSDCFit",
            self._title(),
            facts,
            tables=[("relaxations", header, rows)],
            misfit=q.get("misfit"),
            warnings=list(self.warnings),
        )

    def plot(self, ax: Any = None) -> Any:
        """The curve, every relaxation on top of the background, and the model; returns the
        axes (a new figure when ``ax`` is None)."""
        from iondyn.display import plots as dp

        s = self.saem
        if s is None or s.x is None:
            raise InputError("this fit keeps no curves to plot")
        labels = [f"{p['id']}: Tm {p['Tm_K']:.1f} K, Ea {p['Ea_eV']:.3g} eV" for p in self.peaks]
        flipped = " (sign flipped)" if self.sign < 0 else ""
        return dp.decomposition(
            dp.axes(ax),
            s.x,
            s.y,
            s.model,
            s.background_curve,
            list(s.components),
            labels,
            xlabel="temperature (K)",
            ylabel=f"current ({self.current_unit}){flipped}",
            title=self._title(),
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One row per peak (method results flattened as ``initial_rise_Ea_eV`` etc.)."""
        rows = []
        for p in self.peaks:
            row = {"source": self.source, "index": self.index}
            row.update({k: v for k, v in p.items() if k != "methods"})
            for name, m in (p.get("methods") or {}).items():
                if isinstance(m, dict):  # a failed method leaves None and "<name>_error": str
                    row[f"{name}_Ea_eV"] = m.get("Ea_eV")
            rows.append(row)
        return pd.DataFrame(rows)


@dataclass(repr=False)
class TSDCResult(Displayable):
    """Fits of several curves, in input order."""

    fits: list[TSDCFit]
    settings: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.fits)

    def __getitem__(self, i: int) -> TSDCFit:
        return self.fits[i]

    def __iter__(self):
        return iter(self.fits)

    def to_dict(self, include_curves: bool = False) -> dict[str, Any]:
        return {
            "results": [f.to_dict(include_curves) for f in self.fits],
            "settings": to_jsonable(self.settings),
        }

    def to_dataframe(self) -> pd.DataFrame:
        frames = [f.to_dataframe() for f in self.fits]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def _summary(self) -> Summary:
        return collection_summary("TSDCResult", self.fits, "curves")

    def plot(self, ax: Any = None, index: int | None = None) -> Any:
        """One fit (``index``; the only one by default) as :meth:`TSDCFit.plot`, or with several
        curves the data and model of each on the same axes. Returns the axes."""
        from iondyn.display import plots as dp

        if index is not None or len(self.fits) == 1:
            return self.fits[index or 0].plot(ax)
        ax = dp.axes(ax)
        for k, f in enumerate(self.fits):
            if f.saem is not None and f.saem.x is not None:
                ax.plot(f.saem.x, f.saem.y, ".", ms=2, color=f"C{k % 10}")
                ax.plot(f.saem.x, f.saem.model, color=f"C{k % 10}", lw=1, label=f._title())
        ax.set_xlabel("temperature (K)")
        ax.legend(fontsize=6)
        return ax

    def array(self, name: str) -> np.ndarray:
        """A per-peak quantity as an (n_curves, K_max) array (NaN where a curve has fewer)."""
        k = max((f.n_peaks for f in self.fits), default=0)
        out = np.full((len(self.fits), k), np.nan)
        for i, f in enumerate(self.fits):
            for j, p in enumerate(f.peaks):
                out[i, j] = p.get(name, np.nan)
        return out
