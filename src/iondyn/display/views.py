"""The summaries and pictures of iondyn's data objects (:mod:`iondyn.data`) and of a few
small results (initial rise, Bucci–Fieschi, I–V), kept here so that their modules stay short;
the classes' ``_summary``/``plot`` methods call these functions."""

from __future__ import annotations

from typing import Any

import numpy as np

from iondyn.constants import K_B_EV
from iondyn.display.numbers import format_number, format_value
from iondyn.display.summary import Param, Summary
from iondyn.errors import InputError


def _name(source: str | None, index: int) -> str:
    return (
        f"{source.replace(chr(92), '/').rsplit('/', 1)[-1]} [{index}]" if source else f"[{index}]"
    )


def _span(values: np.ndarray, unit: str = "") -> str:
    u = f" {unit}" if unit else ""
    return f"{format_number(np.min(values), 4)} … {format_number(np.max(values), 4)}{u}"


def _warned(metadata: dict[str, Any]) -> list[str]:
    return [str(w) for w in metadata.get("warnings", []) or []]


def spectrum_summary(obj) -> Summary:
    label = obj.metadata.get("label")
    title = _name(obj.source, obj.index) + (f" {label}" if label else "")
    facts = [f"{obj.n_points} points", f"x {_span(obj.x, obj.x_unit)}"]
    return Summary("Spectrum", title, facts, warnings=_warned(obj.metadata))


def spectrum_plot(obj, ax: Any = None) -> Any:
    from iondyn.display import plots as dp
    from iondyn.peaks.axes import axis_label

    x_name = str(obj.metadata.get("x_name") or "")
    ax = dp.xy(
        dp.axes(ax),
        obj.x,
        obj.y,
        style=".",
        xlabel=axis_label(x_name, obj.x_unit, "x"),
        ylabel=axis_label(str(obj.metadata.get("y_name") or ""), obj.y_unit, "intensity"),
        title=obj._summary().title,
    )
    if x_name == "binding energy" and not ax.xaxis_inverted():
        ax.invert_xaxis()
    return ax


def spectrum_set_summary(obj) -> Summary:
    rows = [[str(i), s._summary().title, str(s.n_points)] for i, s in enumerate(obj.spectra)]
    return Summary(
        "SpectrumSet",
        f"{len(obj.spectra)} spectra",
        tables=[("spectra", ["#", "spectrum", "points"], rows)],
    )


def spectrum_set_plot(obj, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    ax = dp.axes(ax)
    for s in obj.spectra:
        s.plot(ax)
    ax.set_title(f"{len(obj.spectra)} spectra", fontsize=9)
    return ax


def impedance_spectrum_summary(obj) -> Summary:
    facts = [f"{obj.n_points} points", f"f {_span(obj.frequency, 'Hz')}"]
    facts.append(f"Z′ {_span(obj.z.real, 'Ω')}")
    if obj.temperature_K is not None:
        facts.append(f"T = {obj.temperature_K:.2f} K")
    if obj.metadata.get("format"):
        facts.append(f"format {obj.metadata['format']}")
    title = _name(obj.source, obj.index)
    return Summary("ImpedanceSpectrum", title, facts, warnings=_warned(obj.metadata))


def impedance_spectrum_plot(obj, ax: Any = None, kind: str = "nyquist", zoom: bool = True) -> Any:
    from iondyn.display import plots as dp

    if kind == "bode":
        return dp.bode(dp.axes(ax), obj)
    if kind != "nyquist":
        raise InputError(f"kind must be nyquist or bode, not {kind!r}")
    return dp.nyquist(dp.axes(ax), obj, label=obj._summary().title, zoom=zoom)


def tsdc_curve_summary(obj) -> Summary:
    beta = "β unknown" if obj.beta_K_per_s is None else f"β = {obj.beta_K_per_s:.4g} K/s"
    facts = [f"{obj.n_points} points", f"T {_span(obj.temperature_K, 'K')}", beta]
    facts.append(f"current in {obj.current_unit}")
    title = _name(obj.source, obj.index)
    return Summary("TSDCCurve", title, facts, warnings=_warned(obj.metadata))


def tsdc_curve_plot(obj, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    return dp.xy(
        dp.axes(ax),
        obj.temperature_K,
        obj.current,
        style=".",
        xlabel="temperature (K)",
        ylabel=f"current ({obj.current_unit})",
        title=obj._summary().title,
    )


def initial_rise_summary(obj) -> Summary:
    lo, hi = obj.T_range_K
    facts = [f"{obj.n_points} points, {lo:.1f}–{hi:.1f} K", f"J < {obj.frac:.0%} of the peak"]
    params = [Param("Ea", obj.Ea_eV, obj.Ea_eV_err, "eV")]
    return Summary("InitialRiseResult", "initial rise", facts, params, warnings=obj.warnings)


def initial_rise_plot(obj, T: Any, J: Any, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    T, J = np.asarray(T, dtype=float), np.asarray(J, dtype=float)
    sel = (T >= obj.T_range_K[0]) & (T <= obj.T_range_K[1]) & (J > 0)
    if sel.sum() < 2:
        raise InputError("the curve given does not hold the initial-rise flank")
    x, y = dp.inverse_kT(T[sel]), np.log(J[sel])
    intercept = float(np.mean(y + obj.Ea_eV * x))
    label = f"Ea = {format_value(obj.Ea_eV, obj.Ea_eV_err, 'eV')}"
    return dp.straight_line(
        dp.axes(ax),
        x,
        y,
        -obj.Ea_eV,
        intercept,
        xlabel="1/(k_B T) (1/eV)",
        ylabel="ln J",
        label=label,
    )


def bucci_fieschi_summary(obj) -> Summary:
    lo, hi = obj.T_range_K
    facts = [f"linear over {obj.n_points} points, {lo:.1f}–{hi:.1f} K", f"R² = {obj.r2:.4f}"]
    if obj.curved:
        facts.append("curved")
    params = [
        Param("Ea", obj.Ea_eV, obj.Ea_eV_err, "eV"),
        Param("ln τ0", obj.ln_tau0, obj.ln_tau0_err, ratio=False),
    ]
    return Summary("BucciFieschiResult", "Bucci–Fieschi", facts, params, warnings=obj.warnings)


def bucci_fieschi_plot(obj, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    ax = dp.axes(ax)
    ok = obj.tau_s > 0
    ax.plot(1000 / obj.temperature_K[ok], np.log(obj.tau_s[ok]), ".", ms=3, color="0.4")
    lo, hi = obj.T_range_K
    tt = np.linspace(lo, hi, 50)
    label = f"Ea = {format_value(obj.Ea_eV, obj.Ea_eV_err, 'eV')}, τ0 = {obj.tau0_s:.3g} s"
    ax.plot(1000 / tt, obj.ln_tau0 + obj.Ea_eV / (K_B_EV * tt), color="C3", label=label)
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("ln(τ / s)")
    ax.set_title("Bucci–Fieschi", fontsize=9)
    ax.legend(fontsize=7)
    return ax


def iv_summary(obj) -> Summary:
    v, j = obj.voltage_V, obj.current_A_per_m2
    facts = [f"T = {obj.temperature_K:g} K", f"{v.size} voltages, {v.min():g} … {v.max():g} V"]
    params = [Param(f"j at {v[i]:g} V", j[i], None, "A/m²") for i in sorted({0, v.size - 1})]
    return Summary("IVResult", "steady-state I–V", facts, params, warnings=obj.warnings)


def iv_plot(obj, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    ax = dp.xy(
        dp.axes(ax),
        obj.voltage_V,
        obj.current_A_per_m2,
        xlabel="V = V_left − V_right (V)",
        ylabel="j (A/m²)",
        style="o-",
    )
    ax.axhline(0, color="0.7", lw=0.6)
    return ax
