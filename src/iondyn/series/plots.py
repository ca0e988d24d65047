"""Arrhenius plots of temperature series (matplotlib, Agg).

:func:`plot_arrhenius` draws log₁₀ σ against 1000/T: the measured conductivities with their
standard errors as error bars and, per process, the fitted law σ = (A/T) exp(−Ea/k_BT) as a
line, one colour per process; :func:`save_arrhenius_plot` writes it as a PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Figures are drawn on matplotlib.figure.Figure objects: importing this module never
# selects a backend (a notebook keeps its own), and saving needs none.
import numpy as np
from matplotlib.figure import Figure

from iondyn.display import arrhenius_legend
from iondyn.errors import InputError

__all__ = ["plot_arrhenius", "save_arrhenius_plot"]


def plot_arrhenius(ax, result: Any):
    """log σ vs 1000/T of every tracked process of a
    :class:`~iondyn.series.temperature.TemperatureSeriesResult` on ``ax``."""
    for k, proc in enumerate(result.processes):
        color = f"C{k % 10}"
        t = np.array([p["T_K"] for p in proc.points])
        s = np.array([p["sigma_S_per_cm"] for p in proc.points])
        e = np.array([p["sigma_S_per_cm_err"] or 0.0 for p in proc.points])
        a = proc.arrhenius
        label = arrhenius_legend(proc.label, *((a.Ea_eV, a.Ea_eV_err) if a else (None, None)))
        ax.errorbar(
            1000.0 / t,
            s,
            yerr=np.minimum(e, 0.999 * s),
            fmt="o",
            ms=4,
            mfc="none",
            color=color,
            capsize=2,
            label=label,
        )
        if a is not None:
            tt = np.linspace(t.min(), t.max(), 100)
            fit, _ = a.predict(tt)
            ax.plot(1000.0 / tt, fit, color=color, lw=1.2)
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("σ / (S/cm)")
    top = ax.secondary_xaxis("top", functions=(_inv, _inv))
    top.set_xlabel("T (K)")
    ax.legend(fontsize=7, loc="best")
    return ax


def _inv(x):
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x != 0, 1000.0 / np.where(x != 0, x, 1.0), np.inf)


def save_arrhenius_plot(result: Any, out: str | Path) -> Path:
    """Write the Arrhenius plot of ``result`` to ``out`` (PNG)."""
    out = Path(out)
    fig = Figure(figsize=(6.5, 4.8))
    ax = fig.subplots()
    try:
        plot_arrhenius(ax, result)
        fig.suptitle("Arrhenius plot, σT = A exp(−Ea/kT)", fontsize=9)
        fig.tight_layout()
        fig.savefig(out, dpi=120)
    except OSError as exc:
        raise InputError(f"cannot write the plot ({exc.strerror or exc})", path=out) from None
    finally:
        fig.clear()
    return out
