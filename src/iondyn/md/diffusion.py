r"""Diffusion coefficients, Haven ratio and conductivity of one species from one trajectory.

:class:`DiffusionFitter` (configured in ``__init__``; ``fit(trajectory)`` returns a
:class:`DiffusionResult`):

* tracer MSD (mean over ions) and its GLS line (:func:`iondyn.md.fit.fit_msd_line`):
  D* = slope / (2d);
* collective MSD ⟨|Σ_i Δr_i|²⟩/N and its line: D_σ (the "jump" or charge diffusion
  coefficient, one walker: larger error);
* Haven ratio H_R = D*/D_σ (Murch, Solid State Ionics 7, 177 (1982));
* conductivity by Nernst–Einstein from D*, σ_NE = N z² e² D* / (V k_B T), and from the
  collective MSD, σ = N z² e² D_σ / (V k_B T) = σ_NE / H_R (the Green–Kubo/Einstein
  conductivity when only this species moves and cross-species correlations are left out).

Units: Å, ps internally; D in cm²/s, σ in S/cm, V the mean cell volume. d is the number of
components analysed (``dims = "xy"`` gives the in-plane D and σ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from iondyn.constants import E_CHARGE, K_B
from iondyn.display.summary import Displayable
from iondyn.errors import InputError
from iondyn.md.analysis import axes_of, choose_window, collective_msd, fit_lags, tracer_msd
from iondyn.md.fit import METHODS, LineFit, fit_msd_line
from iondyn.md.trajectory import Trajectory

__all__ = ["ION_CHARGES", "DiffusionFitter", "DiffusionResult", "nernst_einstein"]

#: Charge numbers used when none is given.
ION_CHARGES = {
    "H": 1, "Li": 1, "Na": 1, "K": 1, "Rb": 1, "Cs": 1, "Ag": 1, "Cu": 1,
    "Mg": 2, "Ca": 2, "Zn": 2, "F": -1, "Cl": -1, "Br": -1, "I": -1, "O": -2,
}  # fmt: skip


def nernst_einstein(
    d_cm2_per_s: float, n_ions: int, volume_A3: float, charge: float, temperature_K: float
) -> float:
    """σ = N z² e² D / (V k_B T) in S/cm (D in cm²/s, V in Å³)."""
    n_per_cm3 = n_ions / (volume_A3 * 1e-24)
    return n_per_cm3 * charge**2 * E_CHARGE**2 * d_cm2_per_s / (K_B * temperature_K)


@dataclass(repr=False)
class DiffusionResult(Displayable):
    """Result of :meth:`DiffusionFitter.fit`."""

    species: str
    dims: str
    temperature_K: float | None
    charge: float | None
    n_ions: int
    volume_A3: float
    frame_interval_ps: float
    times_ps: np.ndarray
    msd: np.ndarray
    msd_err: np.ndarray
    msd_collective: np.ndarray
    tracer: LineFit
    collective: LineFit | None
    trajectory: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def D_cm2_per_s(self) -> float:
        return self.tracer.D_cm2_per_s

    @property
    def D_cm2_per_s_err(self) -> float:
        return self.tracer.D_cm2_per_s_err

    @property
    def D_sigma_cm2_per_s(self) -> float | None:
        return None if self.collective is None else self.collective.D_cm2_per_s

    @property
    def haven_ratio(self) -> tuple[float | None, float | None]:
        """H_R = D*/D_σ and its error (first-order propagation of both errors)."""
        if self.collective is None or self.collective.slope <= 0:
            return None, None
        h = self.tracer.slope / self.collective.slope
        rel = math.hypot(
            self.tracer.slope_err / self.tracer.slope,
            self.collective.slope_err / self.collective.slope,
        )
        return h, h * rel

    def sigma(self, which: str = "tracer") -> tuple[float | None, float | None]:
        """σ (S/cm) and its error, by Nernst–Einstein (``tracer``) or from the collective
        MSD (``collective``); ``(None, None)`` without temperature or charge."""
        fit = self.tracer if which == "tracer" else self.collective
        if fit is None or self.temperature_K is None or self.charge is None:
            return None, None
        args = (self.n_ions, self.volume_A3, self.charge, self.temperature_K)
        return (
            nernst_einstein(fit.D_cm2_per_s, *args),
            nernst_einstein(fit.D_cm2_per_s_err, *args),
        )

    def to_dict(self, include_curves: bool = False) -> dict[str, Any]:
        h, h_err = self.haven_ratio
        s, s_err = self.sigma("tracer")
        sc, sc_err = self.sigma("collective")
        doc: dict[str, Any] = {
            "species": self.species,
            "dims": self.dims,
            "temperature_K": self.temperature_K,
            "charge": self.charge,
            "n_ions": self.n_ions,
            "volume_A3": self.volume_A3,
            "D_cm2_per_s": self.D_cm2_per_s,
            "D_cm2_per_s_err": self.D_cm2_per_s_err,
            "D_sigma_cm2_per_s": self.D_sigma_cm2_per_s,
            "D_sigma_cm2_per_s_err": None
            if self.collective is None
            else self.collective.D_cm2_per_s_err,
            "haven_ratio": h,
            "haven_ratio_err": h_err,
            "sigma_S_per_cm": s,
            "sigma_S_per_cm_err": s_err,
            "sigma_collective_S_per_cm": sc,
            "sigma_collective_S_per_cm_err": sc_err,
            "tracer": self.tracer.to_dict(),
            "collective": None if self.collective is None else self.collective.to_dict(),
            "trajectory": dict(self.trajectory),
            "warnings": list(self.warnings),
        }
        if include_curves:
            idx = _plot_index(self.times_ps.size)
            doc["curves"] = {
                "time_ps": self.times_ps[idx].tolist(),
                "msd_A2": self.msd[idx].tolist(),
                "msd_err_A2": self.msd_err[idx].tolist(),
                "msd_collective_A2": self.msd_collective[idx].tolist(),
            }
        return doc

    def to_dataframe(self) -> pd.DataFrame:
        """The MSD table: time, tracer MSD and its standard error, collective MSD."""
        return pd.DataFrame(
            {
                "time_ps": self.times_ps,
                "msd_A2": self.msd,
                "msd_err_A2": self.msd_err,
                "msd_collective_A2": self.msd_collective,
            }
        )

    def _summary(self) -> Any:
        from iondyn.display.views_results import diffusion_summary

        return diffusion_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """Tracer MSD with its error band, collective MSD and the fitted line. Returns the
        axes."""
        from iondyn.display.views_results import diffusion_plot

        return diffusion_plot(self, ax)


def _plot_index(n: int, points: int = 400) -> np.ndarray:
    if n <= points:
        return np.arange(n)
    return np.unique(np.concatenate([[0], np.geomspace(1, n - 1, points).astype(int)]))


class DiffusionFitter:
    """D*, D_σ, Haven ratio and σ of a :class:`~iondyn.md.trajectory.Trajectory`.

    ``dims``: components analysed (``xyz``, ``xy``, ``z``, …); ``fit_start_ps`` /
    ``fit_end_ps``: the fitting window (default: the diffusive regime found from the MSD, up
    to ``end_fraction`` of the trajectory); ``method``: ``gls`` (default) or ``ols``;
    ``max_points``: most MSD points in the fit (spread evenly over the window);
    ``charge``: z (default from :data:`ION_CHARGES`); ``collective``: also the collective MSD;
    ``chunk_mb``: memory budget of one FFT chunk.
    """

    def __init__(
        self,
        dims: str = "xyz",
        fit_start_ps: float | None = None,
        fit_end_ps: float | None = None,
        end_fraction: float = 0.5,
        method: str = "gls",
        max_points: int = 200,
        charge: float | None = None,
        collective: bool = True,
        chunk_mb: float = 256.0,
    ):
        axes_of(dims)
        if method not in METHODS:
            raise InputError(f"unknown fit method {method!r} ({', '.join(METHODS)})")
        if not 0 < end_fraction <= 1:
            raise InputError("end_fraction must be in (0, 1]")
        if max_points < 3:
            raise InputError("max_points must be at least 3")
        self.dims = dims
        self.fit_start_ps = fit_start_ps
        self.fit_end_ps = fit_end_ps
        self.end_fraction = end_fraction
        self.method = method
        self.max_points = int(max_points)
        self.charge = charge
        self.collective = collective
        self.chunk_mb = chunk_mb

    def fit(self, trajectory: Trajectory) -> DiffusionResult:
        tr = trajectory
        where = tr.source
        msd, var = tracer_msd(tr.positions, self.dims, self.chunk_mb)
        first, last, warnings = choose_window(
            msd, tr.frame_interval_ps, self.fit_start_ps, self.fit_end_ps, self.end_fraction, where
        )
        lags = fit_lags(first, last, self.max_points)
        d = len(self.dims)
        tracer = fit_msd_line(
            lags,
            msd[lags],
            tr.frame_interval_ps,
            tr.n_frames,
            d,
            tr.n_ions,
            method=self.method,
            empirical_variance=var[lags] if tr.n_ions > 1 else None,
            where=where,
        )
        coll_msd = np.full_like(msd, np.nan)
        coll = None
        if self.collective:
            coll_msd = collective_msd(tr.positions, self.dims)
            try:
                coll = fit_msd_line(
                    lags, coll_msd[lags], tr.frame_interval_ps, tr.n_frames, d, 1.0,
                    method=self.method, where=where,
                )  # fmt: skip
            except InputError as exc:  # no growth of the collective MSD: say so, keep D*
                warnings.append(f"collective MSD: {exc.problem}")
        charge = self.charge if self.charge is not None else ION_CHARGES.get(tr.species)
        if charge is None:
            warnings.append(f"no charge known for {tr.species!r}: give one for σ")
        if tr.temperature_K is None:
            warnings.append("no temperature: σ needs one (temperature_K)")
        return DiffusionResult(
            species=tr.species,
            dims=self.dims,
            temperature_K=tr.temperature_K,
            charge=charge,
            n_ions=tr.n_ions,
            volume_A3=tr.mean_volume_A3,
            frame_interval_ps=tr.frame_interval_ps,
            times_ps=np.arange(tr.n_frames) * tr.frame_interval_ps,
            msd=msd,
            msd_err=np.sqrt(var),
            msd_collective=coll_msd,
            tracer=tracer,
            collective=coll,
            trajectory=tr.to_dict(),
            warnings=[*tr.warnings, *warnings, *tracer.warnings],
        )
