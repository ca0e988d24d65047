"""Plots of TSDC analyses: the decomposition with its residual, and the Bucci–Fieschi plot.

Left: data, each relaxation on top of the background (filled), background, model and, below,
the residual. Right: ln τ against 1000/T from Bucci–Fieschi for every peak (on the curve
cleaned of the other peaks) with the fitted τ(T) = τ0 exp(Ea/kT) of each relaxation as a line —
for a single Debye process both coincide, a distribution bends the points away from the line.
"""

from __future__ import annotations

from pathlib import Path

# Figures are drawn on matplotlib.figure.Figure objects: importing this module never
# selects a backend (a notebook keeps its own), and saving needs none.
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from iondyn.tsdc.model import K_B_EV
from iondyn.tsdc.result import TSDCFit

__all__ = ["plot_tsdc_fit", "save_tsdc_plots"]


def plot_tsdc_fit(fit: TSDCFit, fig=None):
    """Draw one TSDC analysis into a new (or given) figure and return the figure."""
    s = fit.saem
    if s is None:
        raise ValueError("the fit carries no curves to plot")
    if fig is None:
        fig = Figure(figsize=(12.0, 5.5))
    gs = fig.add_gridspec(2, 2, height_ratios=(3, 1), width_ratios=(1.5, 1), hspace=0.05)
    ax = fig.add_subplot(gs[0, 0])
    axr = fig.add_subplot(gs[1, 0], sharex=ax)
    axb = fig.add_subplot(gs[:, 1])
    T, y, bg = s.x, s.y, s.background_curve
    sign = "−" if fit.sign < 0 else ""
    ax.plot(T, y, ".", ms=3, color="0.35", label=f"data{' (sign flipped)' if sign else ''}")
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, (comp, p) in enumerate(zip(s.components, fit.peaks)):
        c = colors[j % len(colors)]
        ax.fill_between(T, bg, bg + comp, color=c, alpha=0.3, lw=0)
        label = f"{p['id']}: Tm {p['Tm_K']:.1f} K, Ea {p['Ea_eV']:.3f} eV"
        if "sigma_E_eV" in p:
            label += f" (σ {p['sigma_E_eV']:.3f})"
        ax.plot(T, bg + comp, color=c, lw=1, label=label)
        bf = (p.get("methods") or {}).get("bucci_fieschi")
        if bf:
            _bf_points(axb, fit, j, c)
        # the fitted τ(T) where this relaxation carries current (above 2 % of its maximum)
        live = T[comp >= 0.02 * comp.max()] if comp.max() > 0 else T
        tt = np.linspace(live[0], live[-1], 100)
        axb.plot(
            1000.0 / tt,
            p["ln_tau0"] + p["Ea_eV"] / (K_B_EV * tt),
            color=c,
            lw=1,
            label=f"fit {p['id']}",
        )
    ax.plot(T, bg, "--", color="0.2", lw=1, label=f"background ({fit.background.get('kind')})")
    ax.plot(T, s.model, color="k", lw=1.2, label="model")
    ax.set_ylabel(f"current ({fit.current_unit})")
    title = Path(fit.source).name if fit.source else "TSDC curve"
    ax.set_title(
        f"{title}: {fit.n_peaks} × {fit.kinetics}-order, β = {fit.beta_K_per_s:.4g} K/s, "
        f"R² = {fit.quality['r2']:.4f}"
        if fit.kinetics != "gaussian"
        else f"{title}: {fit.n_peaks} × distributed Ea, β = {fit.beta_K_per_s:.4g} K/s, "
        f"R² = {fit.quality['r2']:.4f}",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="best")
    ax.tick_params(labelbottom=False)
    axr.axhline(0, color="0.5", lw=0.8)
    axr.plot(T, y - s.model, ".", ms=2, color="C3")
    axr.set_xlabel("temperature (K)")
    axr.set_ylabel("residual")
    axb.set_xlabel("1000 / T (1/K)")
    axb.set_ylabel("ln(τ / s)")
    axb.set_title("Bucci–Fieschi (points) and fitted τ(T) (lines)", fontsize=9)
    axb.legend(fontsize=7, loc="best")
    return fig


def _bf_points(ax, fit: TSDCFit, j: int, color) -> None:
    curve = fit.bucci_fieschi_curves.get(fit.peaks[j]["id"])
    if curve is not None:
        ax.plot(1000.0 / curve[0], np.log(curve[1]), ".", ms=2, color=color)


def save_tsdc_plots(fits: list[TSDCFit], out: str | Path) -> list[Path]:
    """Write one PNG per fit: ``out`` itself for a single fit, else ``stem_<n>.png``."""
    out = Path(out)
    paths = []
    for n, fit in enumerate(fits):
        path = out if len(fits) == 1 else out.with_name(f"{out.stem}_{n + 1}{out.suffix or '.png'}")
        fig = plot_tsdc_fit(fit)
        fig.savefig(path, dpi=110, bbox_inches="tight")
        fig.clear()
        paths.append(path)
    return paths
