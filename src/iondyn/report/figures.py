"""Plotly figure builders for the report, one family per result kind.

Every builder takes a stored outcome — ``{"path", "name", "kind", "result", "curves"}``, the
result and curves as the analyzers stored them — and returns plain Plotly figure dicts
(``{"data": [...], "layout": {...}}``), rendered in the page by ``Plotly.newPlot``. They are
plain dicts rather than ``plotly.graph_objects`` so that building hundreds of them stays cheap.

* peaks: data, model, background and components; residuals underneath; axes named with the
  names and units stored with each spectrum (``x_name``/``x_unit``/``y_name``/``y_unit``,
  ``x`` and ``intensity`` when the file gave none; a binding-energy axis decreases to the
  right);
* impedance: Nyquist (equal axes; beside it a panel zoomed to the arcs when a
  blocking-electrode spike dwarfs them), Bode (|Z| and −phase), DRT γ(τ), Lin-KK residuals;
* TSDC: current vs temperature with model, background and components; residuals underneath;
* Arrhenius: σ (log axis) vs 1000/T per process with error bars and the fitted law
  σ = (A/T) exp(−Ea/k_B T), the legend ``bulk: Ea = 0.597 ± 0.025 eV`` — the same picture as
  ``iondyn eis series --plot``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from iondyn.constants import K_B_EV
from iondyn.display import arc_zoom, arrhenius_legend

__all__ = ["arrhenius_figure", "impedance_figures", "peak_figures", "tsdc_figures"]

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
_MARGIN = {"l": 60, "r": 20, "t": 40, "b": 50}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout = {
        "title": {"text": title, "font": {"size": 13}, "x": 0.01, "xanchor": "left"},
        "hovermode": "closest",
        "height": 380,
        "margin": _MARGIN,
        "legend": {"font": {"size": 10}},
    }
    layout.update(extra)
    return layout


def _line(x, y, name: str, color: str, dash: str | None = None, width: float = 1.5) -> dict:
    line = {"color": color, "width": width}
    if dash:
        line["dash"] = dash
    return {"type": "scatter", "mode": "lines", "x": x, "y": y, "name": name, "line": line}


def _markers(x, y, name: str, color: str = "#444", size: int = 4, **extra: Any) -> dict:
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": x,
        "y": y,
        "name": name,
        "marker": {"color": color, "size": size},
    }
    trace.update(extra)
    return trace


def _sub(values: Sequence[Any], other: Sequence[Any]) -> list[float | None]:
    return [None if a is None or b is None else a - b for a, b in zip(values, other)]


def _add(values: Sequence[Any], other: Sequence[Any]) -> list[float | None]:
    return [None if a is None or b is None else a + b for a, b in zip(values, other)]


def _stacked(title: str, x_title: str, y_title: str, res_title: str) -> dict[str, Any]:
    """A layout with a main panel above a residual panel sharing x."""
    return _layout(
        title,
        height=440,
        xaxis={"title": {"text": x_title}, "anchor": "y2"},
        yaxis={"title": {"text": y_title}, "domain": [0.3, 1.0]},
        yaxis2={"title": {"text": res_title}, "domain": [0.0, 0.22], "zeroline": True},
    )


def peak_figures(outcome: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One figure per spectrum: data, model, background, components and residuals."""
    from iondyn.peaks.axes import axis_label, axis_labels

    curves = (outcome.get("curves") or {}).get("spectra") or []
    results = (outcome.get("result") or {}).get("spectra") or []
    figures = []
    for i, c in enumerate(curves):
        if not c:
            continue
        info = results[i] if i < len(results) else {}
        x, y, model, bg = c["x"], c["y"], c["model"], c["background"]
        data = [_markers(x, y, "data")]
        peaks = info.get("peaks") or []
        for k, comp in enumerate(c.get("components") or []):
            peak = peaks[k] if k < len(peaks) else {}
            label = f"peak {peak.get('id', k + 1)}"
            data.append(_line(x, _add(comp, bg), label, COLORS[(k + 2) % len(COLORS)]))
        data.append(_line(x, bg, "background", "#7f7f7f", dash="dot"))
        data.append(_line(x, model, "model", COLORS[1], width=2))
        res = _markers(x, _sub(y, model), "residual", size=3, yaxis="y2", showlegend=False)
        data.append(res)
        r2 = (info.get("quality") or {}).get("r2")
        r2_text = f", R² = {r2:.4f}" if isinstance(r2, float) else ""
        label = f" {info['label']}" if info.get("label") else ""
        title = (
            f"{outcome.get('name', '')} · spectrum {i}{label}: {info.get('n_peaks', '?')} peaks"
            f"{r2_text}"
        )
        x_title, y_title = axis_labels(info)
        res_title = axis_label("data − model", info.get("y_unit"), "")
        layout = _stacked(title, x_title, y_title, res_title)
        if info.get("x_name") == "binding energy":
            layout["xaxis"]["autorange"] = "reversed"
        figures.append({"data": data, "layout": layout})
    return figures


def _phase_deg(re: Sequence[float], im: Sequence[float]) -> list[float]:
    return [-math.degrees(math.atan2(b, a)) for a, b in zip(re, im)]


def _modulus(re: Sequence[float], im: Sequence[float]) -> list[float]:
    return [math.hypot(a, b) for a, b in zip(re, im)]


def _nyquist_figure(title: str, traces: list[dict], f, zr, zi) -> dict[str, Any]:
    """Nyquist with equal axes; when a blocking-electrode spike dwarfs the arcs
    (:func:`iondyn.display.arc_zoom`) a second panel beside it shows the arcs, also with equal
    axes, and the figure spans the page's width."""
    equal = {"title": {"text": "−Z″ (Ω)"}, "scaleanchor": "x", "scaleratio": 1}
    window = arc_zoom(f, zr, zi)
    if window is None:
        layout = _layout(title, xaxis={"title": {"text": "Z′ (Ω)"}}, yaxis=equal)
        return {"data": traces, "layout": layout}
    x0, x1, top = window
    zoom = [dict(tr, xaxis="x2", yaxis="y2", showlegend=False) for tr in traces]
    layout = _layout(
        title,
        height=420,
        xaxis={"title": {"text": "Z′ (Ω)"}, "domain": [0.0, 0.46]},
        yaxis=equal | {"anchor": "x"},
        xaxis2={"title": {"text": "Z′ (Ω), the arcs"}, "domain": [0.54, 1.0], "range": [x0, x1]},
        yaxis2={
            "title": {"text": "−Z″ (Ω)"},
            "anchor": "x2",
            "scaleanchor": "x2",
            "scaleratio": 1,
            "range": [-0.05 * (x1 - x0), max(top, 0.45 * (x1 - x0))],
        },
        legend={"font": {"size": 10}, "orientation": "h", "y": -0.2},
    )
    return {"data": traces + zoom, "layout": layout, "wide": True}


def impedance_figures(outcome: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per spectrum: Nyquist, Bode, DRT and Lin-KK residuals (when computed)."""
    curves = (outcome.get("curves") or {}).get("spectra") or []
    figures = []
    for c in curves:
        t = c.get("temperature_K")
        at = f"{t:.1f} K · " if isinstance(t, int | float) else ""
        head = (f"spectrum {c.get('index', 0)} · " if len(curves) > 1 else "") + at
        f, zr, zi = c["frequency_Hz"], c["z_real"], c["z_imag"]
        fit = c.get("fit") or {}
        hover = [f"{v:.4g} Hz" for v in f]
        nyq = [_markers(zr, [-v for v in zi], "data", text=hover)]
        bode_mod = [_markers(f, _modulus(zr, zi), "|Z| data")]
        bode_ph = [_markers(f, _phase_deg(zr, zi), "−phase data", yaxis="y2", showlegend=False)]
        if fit:
            ff, fr, fi = fit["frequency_Hz"], fit["z_real"], fit["z_imag"]
            circuit = c.get("circuit", "fit")
            nyq.append(_line(fr, [-v for v in fi], circuit, COLORS[1], width=2))
            bode_mod.append(_line(ff, _modulus(fr, fi), "|Z| fit", COLORS[1], width=2))
            bode_ph.append(
                _line(ff, _phase_deg(fr, fi), "−phase fit", COLORS[0], width=2) | {"yaxis": "y2"}
            )
        figures.append(_nyquist_figure(f"{head}Nyquist · {c.get('circuit', '')}", nyq, f, zr, zi))
        bode = _layout(
            f"{head}Bode",
            height=440,
            xaxis={"title": {"text": "frequency (Hz)"}, "type": "log", "anchor": "y2"},
            yaxis={"title": {"text": "|Z| (Ω)"}, "type": "log", "domain": [0.45, 1.0]},
            yaxis2={"title": {"text": "−phase (°)"}, "domain": [0.0, 0.4]},
        )
        figures.append({"data": bode_mod + bode_ph, "layout": bode})
        drt = c.get("drt")
        if drt:
            figures.append(
                {
                    "data": [_line(drt["tau_s"], drt["gamma_ohm"], "γ", COLORS[2], width=2)],
                    "layout": _layout(
                        f"{head}DRT",
                        xaxis={"title": {"text": "τ (s)"}, "type": "log"},
                        yaxis={"title": {"text": "γ (Ω)"}},
                    ),
                }
            )
        kk = c.get("kk")
        if kk:
            pct_r = [100 * v for v in kk["real"]]
            pct_i = [100 * v for v in kk["imag"]]
            figures.append(
                {
                    "data": [
                        _line(kk["frequency_Hz"], pct_r, "Δ real", COLORS[0])
                        | {"mode": "lines+markers"},
                        _line(kk["frequency_Hz"], pct_i, "Δ imag", COLORS[1])
                        | {"mode": "lines+markers"},
                    ],
                    "layout": _layout(
                        f"{head}Lin-KK residuals",
                        xaxis={"title": {"text": "frequency (Hz)"}, "type": "log"},
                        yaxis={"title": {"text": "residual (% of |Z|)"}},
                    ),
                }
            )
    return figures


def tsdc_figures(outcome: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The curve with model, background and components; residuals underneath."""
    c = outcome.get("curves") or {}
    result = outcome.get("result") or {}
    if not c:
        return []
    t, j, model = c["temperature_K"], c["current"], c["model"]
    bg = c.get("background") or [0.0] * len(t)
    unit = result.get("current_unit", "")
    data = [_markers(t, j, "data")]
    peaks = result.get("peaks") or []
    for k, comp in enumerate(c.get("components") or []):
        p = peaks[k] if k < len(peaks) else {}
        ea = p.get("Ea_eV")
        label = f"peak {p.get('id', k + 1)}" + (
            f" (Ea {ea:.2f} eV)" if isinstance(ea, float) else ""
        )
        data.append(_line(t, _add(comp, bg), label, COLORS[(k + 2) % len(COLORS)]))
    if any(v for v in bg):
        data.append(_line(t, bg, "background", "#7f7f7f", dash="dot"))
    data.append(_line(t, model, "model", COLORS[1], width=2))
    data.append(_markers(t, _sub(j, model), "residual", size=3, yaxis="y2", showlegend=False))
    r2 = (result.get("quality") or {}).get("r2")
    r2_text = f", R² = {r2:.4f}" if isinstance(r2, float) else ""
    kinetics = result.get("kinetics", "")
    title = f"{len(peaks)} relaxation(s), {kinetics} kinetics{r2_text}"
    layout = _stacked(title, "temperature (K)", f"current ({unit})", "data − model")
    return [{"data": data, "layout": layout}]


def arrhenius_figure(series: str, fits: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """σ (log axis) against 1000/T of every process of one series with the fitted law
    σ = (A/T) exp(−Ea/k_B T) as a line — the picture and legend of ``iondyn eis series --plot``
    (:func:`iondyn.display.arrhenius_legend`); without a geometry the conductance G = 1/R."""
    data = []
    conductance = any(fit.get("quantity") == "conductance_S" for fit in fits)
    for k, fit in enumerate(fits):
        color = COLORS[k % len(COLORS)]
        pts = fit["points"]
        x = [1000.0 / p["T_K"] for p in pts]
        y = [p["value"] for p in pts]
        err = [p.get("error") for p in pts]
        ea = fit.get("Ea_eV")
        label = arrhenius_legend(fit["item"], ea, fit.get("Ea_eV_err"))
        trace = _markers(x, y, label, color, size=7)
        trace["text"] = [f"{p['file'].rsplit('/', 1)[-1]}, {p['T_K']:.1f} K" for p in pts]
        if all(e is not None for e in err):
            trace["error_y"] = {"type": "data", "array": err, "visible": True}
        data.append(trace)
        if isinstance(ea, float) and isinstance(fit.get("ln_prefactor"), float):
            t_lo, t_hi = min(p["T_K"] for p in pts), max(p["T_K"] for p in pts)
            ts = [t_lo + (t_hi - t_lo) * i / 20 for i in range(21)]
            per_t = fit.get("convention", "sigma_T") == "sigma_T"  # σT law: σ = (A/T) e^(−Ea/kT)
            line_y = [
                math.exp(fit["ln_prefactor"] - ea / (K_B_EV * tt)) / (tt if per_t else 1.0)
                for tt in ts
            ]
            line = _line([1000.0 / tt for tt in ts], line_y, f"{fit['item']} fit", color, "dash")
            line["showlegend"] = False
            data.append(line)
    diffusion = bool(fits) and all(fit.get("convention") == "D" for fit in fits)
    y_title = "D (cm²/s)" if diffusion else ("G = 1/R (S)" if conductance else "σ (S/cm)")
    law = "D = D₀ exp(−Ea/kT)" if diffusion else "σT = A exp(−Ea/kT)"
    return {
        "data": data,
        "layout": _layout(
            f"Arrhenius plot, {law}: {series}",
            xaxis={"title": {"text": "1000 / T (1/K)"}},
            yaxis={"title": {"text": y_title}, "type": "log", "exponentformat": "e"},
            legend={"font": {"size": 10}, "orientation": "h", "y": -0.25},
        ),
    }
