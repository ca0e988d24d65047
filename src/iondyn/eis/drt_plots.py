"""Plots of DRT results (γ vs τ with peaks, and the fit) and of Lin-KK residuals (matplotlib)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Figures are drawn on matplotlib.figure.Figure objects: importing this module never
# selects a backend (a notebook keeps its own), and saving needs none.
import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from iondyn.eis.drt_result import DRTResult
from iondyn.eis.kk import KKResult

__all__ = ["plot_drt", "plot_kk_residuals", "save_drt_plots", "save_kk_plots"]


def _title(source: str | None, index: int) -> str:
    return f"{Path(source).name if source else 'spectrum'} [{index}]"


def plot_drt(result: DRTResult, fig: Figure | None = None) -> Figure:
    """γ(τ) with the peaks marked (upper panel) and the relative fit residuals (lower panel).

    The measured τ range [1/ω_max, 1/ω_min] is unshaded; the extrapolated ends are grey. When
    the peaks differ by more than 100× in height (a bulk arc beside a blocking electrode) the
    γ axis is logarithmic, so that every peak is visible. Returns the figure.
    """
    if fig is None:
        fig = Figure(figsize=(7.5, 6.0))
    gs = fig.add_gridspec(2, 1, height_ratios=(3, 1.2), hspace=0.35)
    ax = fig.add_subplot(gs[0])
    axr = fig.add_subplot(gs[1])
    tau, gamma = result.tau_s, result.gamma_ohm
    omega = 2.0 * np.pi * result.frequency_Hz
    lo, hi = 1.0 / omega.max(), 1.0 / omega.min()
    ax.axvspan(tau[0], lo, color="0.92", lw=0)
    ax.axvspan(hi, tau[-1], color="0.92", lw=0)
    heights = [p.gamma_max_ohm for p in result.peaks if p.gamma_max_ohm > 0]
    floor = 0.0
    if heights and max(heights) > 100 * min(heights):
        floor = 1e-2 * min(heights)
        ax.set_yscale("log")
        ax.set_ylim(floor, 2 * max(heights))
    ax.plot(tau, np.maximum(gamma, floor), color="k", lw=1.4, label="γ(τ)")
    for k, p in enumerate(result.peaks):
        color = f"C{k % 10}"
        mask = (tau >= p.tau_low_s) & (tau <= p.tau_high_s)
        upper = np.maximum(gamma[mask], floor)
        ax.fill_between(tau[mask], floor, upper, color=color, alpha=0.25, lw=0)
        style = "" if p.significant else " (not significant)"
        ax.plot(
            [p.tau_s],
            [p.gamma_max_ohm],
            "v",
            color=color,
            ms=7,
            label=f"τ = {p.tau_s:.3g} s, R = {p.R_ohm:.4g} Ω{style}",
        )
    ax.set_xscale("log")
    ax.set_xlim(tau[0], tau[-1])
    if not floor:
        ax.set_ylim(bottom=0)
    ax.set_xlabel("τ (s)")
    ax.set_ylabel("γ (Ω)")
    series = []
    if result.R_inf_ohm is not None:
        series.append(f"R∞ = {result.R_inf_ohm:.4g} Ω")
    if result.C_series_F is not None:
        series.append(f"C_s = {result.C_series_F:.4g} F")
    if result.L_H is not None:
        series.append(f"L = {result.L_H:.3g} H")
    ax.set_title(
        f"{_title(result.source, result.index)}: DRT, λ = {result.lam:.2g} "
        f"({result.lambda_method})\n" + ", ".join(series),
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="best")
    f = result.frequency_Hz
    axr.axhline(0, color="0.5", lw=0.8)
    axr.plot(f, 100 * result.residual_real, "o", ms=3, label="Δ re")
    axr.plot(f, 100 * result.residual_imag, "s", ms=3, label="Δ im")
    axr.set_xscale("log")
    axr.set_xlabel("f (Hz)")
    axr.set_ylabel("residual (% of |Z|)")
    axr.legend(fontsize=7, loc="best")
    return fig


def plot_kk_residuals(result: KKResult, fig: Figure | None = None) -> Figure:
    """Lin-KK residuals Δre, Δim (% of |Z|) vs frequency with the ±z_B σ band of the outlier
    bound (Bonferroni) and the outliers circled."""
    if fig is None:
        fig = Figure(figsize=(7.5, 4.0))
    ax = fig.add_subplot(1, 1, 1)
    f = result.frequency_Hz
    order = np.argsort(f)
    z_bound = float(stats.norm.isf(result.settings.get("alpha", 1e-3) / (4.0 * f.size)))
    band = 100 * z_bound * result.noise_estimate
    ax.axhspan(-band, band, color="0.9", lw=0, label=f"±{z_bound:.2f} σ")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.plot(f[order], 100 * result.residual_real[order], "o-", ms=3, lw=0.8, label="Δ re")
    ax.plot(f[order], 100 * result.residual_imag[order], "s-", ms=3, lw=0.8, label="Δ im")
    for k, o in enumerate(result.outliers):
        worst = max(o["residual_real"], o["residual_imag"], key=abs)
        ax.plot(
            [o["frequency_Hz"]],
            [100 * worst],
            "o",
            ms=11,
            mfc="none",
            color="C3",
            label="outlier" if k == 0 else None,
        )
    ax.set_xscale("log")
    ax.set_xlabel("f (Hz)")
    ax.set_ylabel("residual (% of |Z|)")
    verdict = "valid" if result.valid else "INVALID"
    failed = [c.name for c in result.checks if not c.passed]
    ax.set_title(
        f"{_title(result.source, result.index)}: Lin-KK, M = {result.n_rc}, μ = {result.mu:.3f}, "
        f"σ = {100 * result.noise_estimate:.3g} %: {verdict}"
        + (f" ({', '.join(failed)})" if failed else ""),
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="best")
    return fig


def _save(results: Sequence[Any], out: str | Path, draw: Callable) -> list[Path]:
    out = Path(out)
    paths = []
    for n, res in enumerate(results):
        path = (
            out if len(results) == 1 else out.with_name(f"{out.stem}_{n + 1}{out.suffix or '.png'}")
        )
        fig = draw(res)
        fig.savefig(path, dpi=120, bbox_inches="tight")
        fig.clear()
        paths.append(path)
    return paths


def save_drt_plots(results: Sequence[DRTResult], out: str | Path) -> list[Path]:
    """Write one PNG per DRT: ``out`` itself for one result, else ``stem_<n>.png``."""
    return _save(results, out, plot_drt)


def save_kk_plots(results: Sequence[KKResult], out: str | Path) -> list[Path]:
    """Write one PNG per Lin-KK result: ``out`` itself for one result, else ``stem_<n>.png``."""
    return _save(results, out, plot_kk_residuals)
