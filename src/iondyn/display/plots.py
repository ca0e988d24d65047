"""One-axes matplotlib pictures behind every ``.plot(ax=None)`` of iondyn's data and results.

Each function draws on the axes it is given and returns them; :func:`axes` makes a new figure
(through ``pyplot``, so that notebooks show it) when none is given. Nothing here selects a
matplotlib backend: the notebook's (or the user's) stays in force. The command line draws the
same pictures on ``matplotlib.figure.Figure`` objects (:mod:`iondyn.cli.common`).

* impedance: :func:`nyquist` (equal axes; an inset zoomed to the arcs when a blocking-electrode
  spike dwarfs them, :func:`iondyn.display.arc_zoom`), :func:`bode` (|Z| and −phase on a twin
  axis), :func:`impedance_residuals`, :func:`drt`;
* curves: :func:`xy` (spectra, TSDC curves, simulated profiles), :func:`decomposition` (a peak
  or TSDC fit: data, each component on the background, the model);
* Arrhenius: :func:`arrhenius` (σ on a log axis against 1000/T, the fitted law as a line, the
  legend of :func:`iondyn.display.arrhenius_legend` — the same picture as ``eis series --plot``
  and the report).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from iondyn.constants import K_B_EV
from iondyn.display.numbers import arc_zoom, arrhenius_legend

__all__ = [
    "arrhenius",
    "axes",
    "bode",
    "decomposition",
    "drt",
    "impedance_residuals",
    "nyquist",
    "xy",
]

_DATA = {"marker": "o", "ls": "none", "ms": 3.5, "mfc": "none", "color": "0.3"}
_FIT = {"color": "C3", "lw": 1.4}


def axes(ax: Any = None, figsize: tuple[float, float] = (6.0, 4.5)) -> Any:
    """``ax``, or the axes of a new pyplot figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _dense(frequency: np.ndarray, per_decade: int = 40) -> np.ndarray:
    f = np.asarray(frequency, dtype=float)
    lo, hi = np.log10(f.min()), np.log10(f.max())
    return np.logspace(hi, lo, max(int((hi - lo) * per_decade) + 1, 50))


def _model(fit: Any, frequency: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A smooth model curve of a fit: its ``impedance(f)`` on a dense grid, else its points."""
    if fit is None:
        return None
    if hasattr(fit, "impedance"):
        f = _dense(frequency)
        return f, np.asarray(fit.impedance(f))
    return np.asarray(fit.frequency), np.asarray(fit.z_fit)


def nyquist(
    ax: Any,
    data: Any,
    fit: Any = None,
    *,
    label: str = "data",
    fit_label: str | None = None,
    zoom: bool = True,
    unit: str = "Ω",
) -> Any:
    """−Z″ against Z′, equal scales; ``data`` has ``frequency`` and ``z``, ``fit`` an
    ``impedance(f)`` method or ``z_fit`` points. With ``zoom`` an inset shows the arcs when
    the electrode spike dwarfs them."""
    f, z = np.asarray(data.frequency), np.asarray(data.z)
    model = _model(fit, f)
    ax.plot(z.real, -z.imag, label=label, **_DATA)
    if model is not None:
        ax.plot(model[1].real, -model[1].imag, label=fit_label or "fit", **_FIT)
    ax.set_aspect("equal", adjustable="datalim")
    ax.axhline(0, color="0.75", lw=0.6)
    ax.set_xlabel(f"Z′ ({unit})")
    ax.set_ylabel(f"−Z″ ({unit})")
    ax.legend(fontsize=7, loc="lower right")
    window = arc_zoom(f, z.real, z.imag) if zoom else None
    if window is not None:
        x0, x1, top = window
        inset = ax.inset_axes((0.06, 0.5, 0.42, 0.45))
        inset.plot(z.real, -z.imag, **(_DATA | {"ms": 2.5}))
        if model is not None:
            inset.plot(model[1].real, -model[1].imag, **_FIT)
        inset.set_xlim(x0, x1)
        inset.set_ylim(-0.05 * (x1 - x0), max(top, 0.5 * (x1 - x0)))
        inset.set_aspect("equal", adjustable="box")
        inset.set_title("arcs", fontsize=7)
        inset.tick_params(labelsize=6)
    return ax


def bode(ax: Any, data: Any, fit: Any = None, *, unit: str = "Ω") -> Any:
    """|Z| (log–log, left axis) and −phase in degrees (right axis) against frequency."""
    f, z = np.asarray(data.frequency), np.asarray(data.z)
    ax.loglog(f, np.abs(z), label="|Z|", **_DATA)
    twin = ax.twinx()
    twin.semilogx(f, -np.degrees(np.angle(z)), **(_DATA | {"marker": "s", "color": "C0"}))
    model = _model(fit, f)
    if model is not None:
        ax.loglog(model[0], np.abs(model[1]), label="fit", **_FIT)
        twin.semilogx(model[0], -np.degrees(np.angle(model[1])), color="C0", lw=1.2)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel(f"|Z| ({unit}), circles")
    twin.set_ylabel("−phase (°), squares", color="C0")
    return ax


def impedance_residuals(ax: Any, frequency: Any, real: Any, imag: Any, title: str = "") -> Any:
    """Relative residuals (fractions of |Z|) in %, real and imaginary, against frequency."""
    f = np.asarray(frequency)
    ax.semilogx(f, 100 * np.asarray(real), "o-", ms=3, lw=0.6, label="Δ′/|Z|")
    ax.semilogx(f, 100 * np.asarray(imag), "s-", ms=3, lw=0.6, label="Δ″/|Z|")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("residual (% of |Z|)")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return ax


def drt(ax: Any, result: Any) -> Any:
    """γ(τ) of a DRT result with its peaks marked (▼, hollow when not significant)."""
    ax.semilogx(result.tau_s, result.gamma_ohm, color="k", lw=1.3, label="γ(τ)")
    for k, p in enumerate(getattr(result, "peaks", []) or []):
        ax.plot(
            [p.tau_s],
            [p.gamma_max_ohm],
            "v",
            color=f"C{k % 10}",
            mfc=f"C{k % 10}" if p.significant else "none",
            label=f"τ = {p.tau_s:.3g} s, R = {p.R_ohm:.3g} Ω",
        )
    ax.set_xlabel("τ (s)")
    ax.set_ylabel("γ (Ω)")
    ax.legend(fontsize=7)
    return ax


def xy(
    ax: Any,
    x: Any,
    y: Any,
    *,
    xlabel: str,
    ylabel: str,
    label: str | None = None,
    style: str = "-",
    logy: bool = False,
    title: str = "",
) -> Any:
    """A plain curve (``style`` ``-`` line, ``.`` points)."""
    kwargs = {"ms": 3} if style != "-" else {"lw": 1.3}
    ax.plot(np.asarray(x), np.asarray(y), style, label=label, **kwargs)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    if label:
        ax.legend(fontsize=7)
    return ax


def decomposition(
    ax: Any,
    x: Any,
    y: Any,
    model: Any,
    background: Any,
    components: Sequence[Any],
    labels: Sequence[str],
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    reverse_x: bool = False,
) -> Any:
    """Data points, each component filled on top of the background, background and model."""
    x, y = np.asarray(x), np.asarray(y)
    bg = np.zeros_like(x) if background is None else np.asarray(background)
    ax.plot(x, y, ".", ms=3, color="0.35", label="data")
    for k, (comp, lab) in enumerate(zip(components, labels)):
        c = f"C{k % 10}"
        ax.fill_between(x, bg, bg + np.asarray(comp), color=c, alpha=0.3, lw=0)
        ax.plot(x, bg + np.asarray(comp), color=c, lw=1, label=lab)
    if np.any(bg != 0):
        ax.plot(x, bg, "--", color="0.2", lw=1, label="background")
    ax.plot(x, np.asarray(model), color="k", lw=1.2, label="model")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    if reverse_x and not ax.xaxis_inverted():
        ax.invert_xaxis()
    ax.legend(fontsize=7)
    return ax


def arrhenius(
    ax: Any,
    processes: Sequence[tuple[str, Any, Any, Any, Any]],
    *,
    ylabel: str = "σ (S/cm)",
) -> Any:
    """σ (log axis) against 1000/T for processes ``(label, T_K, values, errors, fit)``;
    ``fit`` is an :class:`~iondyn.series.arrhenius.ArrheniusFit` (or None) drawn as its law
    over the measured range."""
    for k, (label, t, v, e, fit) in enumerate(processes):
        color = f"C{k % 10}"
        t, v = np.asarray(t, dtype=float), np.asarray(v, dtype=float)
        err = (
            None if e is None else np.minimum(np.nan_to_num(np.asarray(e, dtype=float)), 0.999 * v)
        )
        legend = arrhenius_legend(
            label, getattr(fit, "Ea_eV", None), getattr(fit, "Ea_eV_err", None)
        )
        ax.errorbar(
            1000 / t, v, yerr=err, fmt="o", ms=4, mfc="none", color=color, capsize=2, label=legend
        )
        if fit is not None:
            tt = np.linspace(t.min(), t.max(), 100)
            ax.plot(1000 / tt, fit.predict(tt)[0], color=color, lw=1.2)
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    return ax


def straight_line(
    ax: Any, x: Any, y: Any, slope: float, intercept: float, *, xlabel: str, ylabel: str, label: str
) -> Any:
    """Points and the fitted straight line y = intercept + slope·x over them."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ax.plot(x, y, "o", ms=3.5, mfc="none", color="0.3", label="data")
    xx = np.array([x.min(), x.max()])
    ax.plot(xx, intercept + slope * xx, color="C3", lw=1.3, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    return ax


def inverse_kT(T: Any) -> np.ndarray:
    """1/(k_B T) in 1/eV."""
    return 1.0 / (K_B_EV * np.asarray(T, dtype=float))
