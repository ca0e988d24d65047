"""Impedance plots (matplotlib): Nyquist with equal axes, Bode |Z| and phase, fit residuals.

Every ``plot_*`` function draws on the axes it is given and is independent of the others, so
reports can compose them freely. ``data`` is anything with ``frequency`` (Hz) and ``z`` (complex
Ω) attributes — an :class:`~iondyn.data.ImpedanceSpectrum` or a
:class:`~iondyn.eis.fit_result.CircuitFitResult` (which carries its fitted data); ``fit`` is a
``CircuitFitResult`` whose model is drawn as a smooth curve on a dense frequency grid.
:func:`plot_fit` combines them into one figure; :func:`save_fit_plots` writes PNG files.
With ``components=True`` (``iondyn eis fit --auto --plot``) each top-level element of the
fitted series chain — every R‖CPE arc, the blocking-electrode CPE — is also drawn on its own
(:func:`fit_components`): in the Nyquist plane shifted by the resistances in series before it,
as |Z_k| in the Bode plot, and as its share −Z″_k of the loss spectrum (the quantity the SAEM
decomposition splits into peaks).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Figures are drawn on matplotlib.figure.Figure objects: importing this module never
# selects a backend (a notebook keeps its own), and saving needs none.
import numpy as np
from matplotlib.figure import Figure

from iondyn.errors import InputError

__all__ = [
    "fit_components",
    "plot_bode",
    "plot_components",
    "plot_drt",
    "plot_fit",
    "plot_nyquist",
    "plot_residuals",
    "save_fit_plots",
]

_DATA_STYLE = {"marker": "o", "ls": "none", "ms": 3.5, "mfc": "none", "color": "0.25"}
_FIT_STYLE = {"color": "C3", "lw": 1.4}


def _dense_frequency(frequency: np.ndarray, per_decade: int = 40) -> np.ndarray:
    f = np.asarray(frequency, dtype=float)
    lo, hi = np.log10(f.min()), np.log10(f.max())
    n = max(int((hi - lo) * per_decade) + 1, 50)
    return np.logspace(hi, lo, n)


def _model_curve(fit: Any, frequency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = _dense_frequency(frequency)
    return f, fit.impedance(f)


def plot_nyquist(ax, data: Any = None, fit: Any = None, *, label: str = "data", mark_decades=True):
    """−Z″ against Z′ with equal scales on both axes (a semicircle looks like one).

    Data as open circles, the fitted model as a line; with ``mark_decades`` the data points
    nearest to each whole decade of frequency are labelled.
    """
    if data is not None:
        z = np.asarray(data.z)
        ax.plot(z.real, -z.imag, label=label, **_DATA_STYLE)
        if mark_decades:
            f = np.asarray(data.frequency)
            for d in range(int(np.ceil(np.log10(f.min()))), int(np.floor(np.log10(f.max()))) + 1):
                i = int(np.argmin(np.abs(np.log10(f) - d)))
                if abs(np.log10(f[i]) - d) < 0.05:
                    ax.annotate(
                        f"1e{d} Hz" if abs(d) > 2 else f"{10.0**d:g} Hz",
                        (z.real[i], -z.imag[i]),
                        textcoords="offset points",
                        xytext=(4, 4),
                        fontsize=6,
                        color="0.4",
                    )
    if fit is not None:
        _, zf = _model_curve(fit, fit.frequency)
        ax.plot(zf.real, -zf.imag, label=f"fit {fit.circuit}", **_FIT_STYLE)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("Z′ (Ω)")
    ax.set_ylabel("−Z″ (Ω)")
    ax.axhline(0, color="0.7", lw=0.6)
    ax.legend(fontsize=7, loc="best")
    return ax


def plot_bode(ax_modulus, ax_phase, data: Any = None, fit: Any = None, *, label: str = "data"):
    """|Z| (log–log) and the phase −φ = −arg Z in degrees against frequency."""
    for d, is_fit in ((data, False), (fit, True)):
        if d is None:
            continue
        if is_fit:
            f, z = _model_curve(d, d.frequency)
            style, lab = _FIT_STYLE, "fit"
        else:
            f, z = np.asarray(d.frequency), np.asarray(d.z)
            style, lab = _DATA_STYLE, label
        ax_modulus.loglog(f, np.abs(z), label=lab, **style)
        ax_phase.semilogx(f, -np.degrees(np.angle(z)), label=lab, **style)
    ax_modulus.set_ylabel("|Z| (Ω)")
    ax_phase.set_ylabel("−phase (°)")
    ax_phase.set_xlabel("f (Hz)")
    ax_modulus.legend(fontsize=7, loc="best")
    return ax_modulus, ax_phase


def plot_residuals(ax, fit: Any):
    """Relative residuals (Z_data − Z_fit)/|Z_data| in %, real and imaginary, against frequency."""
    f = np.asarray(fit.frequency)
    r = np.asarray(fit.residuals) * 100.0
    ax.semilogx(f, r.real, "o-", ms=3, lw=0.6, color="C0", label="Δ′/|Z|")
    ax.semilogx(f, r.imag, "s-", ms=3, lw=0.6, color="C1", label="Δ″/|Z|")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("f (Hz)")
    ax.set_ylabel("residual (%)")
    ax.legend(fontsize=7, loc="best")
    return ax


def plot_drt(ax, drt: Any, gamma: Any = None, *, label: str = "γ(τ)"):
    """γ(τ) against τ (log axis) on ``ax``: a slot for the DRT module.

    ``drt`` is an object with ``tau_s`` and ``gamma_ohm`` (a DRT result), or the τ array itself
    with ``gamma`` given. :mod:`iondyn.eis.drt_plots` draws the full DRT figure.
    """
    if gamma is None:
        tau, gamma = np.asarray(drt.tau_s), np.asarray(drt.gamma_ohm)
    else:
        tau, gamma = np.asarray(drt), np.asarray(gamma)
    ax.semilogx(tau, gamma, color="k", lw=1.3, label=label)
    ax.set_xlabel("τ (s)")
    ax.set_ylabel("γ (Ω)")
    ax.set_ylim(bottom=min(0.0, float(np.min(gamma))))
    return ax


def fit_components(fit: Any, frequency: Any) -> list[tuple[str, np.ndarray]]:
    """(string, Z_k(f)) of every top-level element of the fitted series chain, in circuit
    order: Z = Σ_k Z_k for a circuit ``a-b-c``; a circuit that is not a series gives itself."""
    from iondyn.eis.circuit import Circuit, Series

    root = fit.circuit.root
    nodes = list(root.children) if isinstance(root, Series) else [root]
    f = np.asarray(frequency, dtype=float)
    out = []
    for node in nodes:
        sub = Circuit(str(node))
        params = {name: fit.parameters[name] for name in sub.param_names}
        out.append((sub.string, sub.impedance_at(f, params)))
    return out


def plot_components(ax_nyquist, ax_modulus, ax_loss, fit: Any):
    """Each element of the fitted chain drawn on its own (module docstring); the loss panel
    also shows the data's and the model's −Z″."""
    f = _dense_frequency(fit.frequency)
    parts = fit_components(fit, f)
    offset = 0.0
    for k, (name, z) in enumerate(parts):
        style = {"color": f"C{k % 10}", "lw": 1.0, "ls": "--"}
        if np.any(z.imag != 0):
            if ax_nyquist is not None:
                ax_nyquist.plot(z.real + offset, -z.imag, label=name, **style)
            if ax_modulus is not None:
                ax_modulus.loglog(f, np.abs(z), label=name, **style)
            if ax_loss is not None:
                ax_loss.loglog(f, np.clip(-z.imag, 1e-300, None), label=name, **style)
        offset += float(z.real[-1])  # the element's resistance (lowest frequency of the grid)
    if ax_loss is not None:
        ax_loss.loglog(fit.frequency, np.clip(-np.asarray(fit.z).imag, 1e-300, None), **_DATA_STYLE)
        zf = fit.impedance(f)
        ax_loss.loglog(f, np.clip(-zf.imag, 1e-300, None), **_FIT_STYLE)
        lo = max(float(np.min(np.abs(zf))) * 1e-3, 1e-300)
        ax_loss.set_ylim(bottom=lo)
        ax_loss.set_ylabel("−Z″ (Ω)")
        ax_loss.legend(fontsize=6, loc="best")
    if ax_nyquist is not None:
        ax_nyquist.legend(fontsize=6, loc="best")


def plot_fit(fit: Any, fig=None, components: bool = False):
    """One figure: Nyquist (left), Bode |Z| and phase and the residuals (right); with
    ``components`` also the loss spectrum and each element of the chain. Returns it. ``fit``
    is a :class:`~iondyn.eis.fit_result.CircuitFitResult` or an ``AutoFitResult`` (its fit)."""
    fit = getattr(fit, "fit", fit)
    if fig is None:
        fig = Figure(figsize=(11.0, 8.0 if components else 6.5))
    rows = 4 if components else 3
    gs = fig.add_gridspec(rows, 2, width_ratios=(1.15, 1.0), hspace=0.12, wspace=0.28)
    ax_n = fig.add_subplot(gs[:, 0])
    ax_m = fig.add_subplot(gs[0, 1])
    ax_p = fig.add_subplot(gs[1, 1], sharex=ax_m)
    ax_l = fig.add_subplot(gs[2, 1], sharex=ax_m) if components else None
    ax_r = fig.add_subplot(gs[rows - 1, 1], sharex=ax_m)
    plot_nyquist(ax_n, fit, fit)
    plot_bode(ax_m, ax_p, fit, fit)
    if components:
        plot_components(ax_n, ax_m, ax_l, fit)
        ax_l.tick_params(labelbottom=False)
    plot_residuals(ax_r, fit)
    ax_m.tick_params(labelbottom=False)
    ax_p.tick_params(labelbottom=False)
    ax_p.set_xlabel("")
    name = Path(fit.source).name if fit.source else "spectrum"
    lines = [f"{name} [{fit.index}]: {fit.circuit}"]
    state = f"χ²_red = {fit.chi2_reduced:.3g} ({fit.weight} weight)"
    if not fit.converged:
        state += ", NOT converged"
    if fit.poorly_determined:
        state += f", poorly determined: {', '.join(fit.poorly_determined)}"
    lines.append(state)
    fig.suptitle("\n".join(lines), fontsize=9)
    return fig


def save_fit_plots(fits: Sequence[Any], out: str | Path, components: bool = False) -> list[Path]:
    """Write one PNG per fit: ``out`` itself for one fit, else ``<stem>_<n><suffix>``; with
    ``components`` each element of the chain is drawn too (:func:`plot_components`)."""
    out = Path(out)
    paths = []
    for n, fit in enumerate(fits):
        path = out if len(fits) == 1 else out.with_name(f"{out.stem}_{n + 1}{out.suffix or '.png'}")
        fig = plot_fit(fit, components=components)
        try:
            fig.savefig(path, dpi=120)
        except OSError as exc:
            raise InputError(f"cannot write the plot ({exc.strerror or exc})", path=path) from None
        finally:
            fig.clear()
        paths.append(path)
    return paths
