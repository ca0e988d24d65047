"""Plots of peak decompositions: data, components, background, model and residual.

Axis labels come from the fit, i.e. from the names and units its file gave
(:func:`iondyn.peaks.axes.axis_labels`: ``binding energy / eV``, ``intensity``), falling back
to ``x`` and ``intensity`` when the file said nothing; a binding-energy axis is drawn
decreasing to the right, as XPS spectra are.
"""

from __future__ import annotations

from pathlib import Path

# Figures are drawn on matplotlib.figure.Figure objects: importing this module never
# selects a backend (a notebook keeps its own), and saving needs none.
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from iondyn.peaks.axes import axis_label, axis_labels
from iondyn.saem.result import SpectrumFit

__all__ = ["plot_peak_fit", "save_peak_plots"]


def plot_peak_fit(
    fit: SpectrumFit, fig=None, x_label: str | None = None, y_label: str | None = None
):
    """Draw one decomposition into a new (or given) figure and return the figure.

    Upper panel: data points, each component on top of the background (filled), the
    background and the total model; lower panel: the residual y − model. ``x_label`` and
    ``y_label`` default to :func:`axis_labels`.
    """
    auto_x, auto_y = axis_labels(fit)
    x_label = auto_x if x_label is None else x_label
    y_label = auto_y if y_label is None else y_label
    if fig is None:
        fig = Figure(figsize=(7.5, 5.5))
    gs = fig.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.05)
    ax = fig.add_subplot(gs[0])
    axr = fig.add_subplot(gs[1], sharex=ax)
    x, y = fit.x, fit.y
    bg = fit.background_curve
    ax.plot(x, y, ".", ms=3, color="0.35", label="data")
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    ids = fit.peak_ids if fit.peak_ids is not None else np.arange(1, fit.n_peaks + 1)
    for j, comp in enumerate(fit.components):
        c = colors[j % len(colors)]
        ax.fill_between(x, bg, bg + comp, color=c, alpha=0.3, lw=0)
        center = fit.peaks["center"][j]
        ax.plot(x, bg + comp, color=c, lw=1, label=f"peak {int(ids[j])} @ {center:.4g}")
    ax.plot(x, bg, "--", color="0.2", lw=1, label=f"background ({fit.background.get('kind')})")
    ax.plot(x, fit.model, color="k", lw=1.2, label="model")
    ax.set_ylabel(y_label)
    title = Path(fit.source).name if fit.source else "spectrum"
    title += f" [{fit.index}]" + (f" {fit.label}" if fit.label else "")
    ax.set_title(f"{title}: {fit.n_peaks} × {fit.shape}, R² = {fit.quality['r2']:.4f}")
    ax.legend(fontsize=7, loc="best")
    ax.tick_params(labelbottom=False)
    axr.axhline(0, color="0.5", lw=0.8)
    axr.plot(x, y - fit.model, ".", ms=2, color="C3")
    axr.set_xlabel(x_label)
    axr.set_ylabel(axis_label("residual", fit.y_unit, "residual"))
    if fit.x_name == "binding energy" and not ax.xaxis_inverted():
        ax.invert_xaxis()  # shared with the residual panel
    return fig


def save_peak_plots(fits: list[SpectrumFit], out: str | Path) -> list[Path]:
    """Write one PNG per fit: ``out`` itself for a single fit, else ``stem_<n>.png``."""
    out = Path(out)
    paths = []
    for n, fit in enumerate(fits):
        path = out if len(fits) == 1 else out.with_name(f"{out.stem}_{n + 1}{out.suffix or '.png'}")
        fig = plot_peak_fit(fit)
        fig.savefig(path, dpi=120, bbox_inches="tight")
        fig.clear()
        paths.append(path)
    return paths
