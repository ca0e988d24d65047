"""The ``map`` analyzer: spectrum images (``.npy``, ``.npz``, HDF5/``.hspy``/``.emd``,
DM3/DM4, Raman map text) in ``iondyn analyze``.

Default analysis (``analysis = "decompose"``): NMF with automatic relevance determination
(:class:`iondyn.maps.decompose.MapDecomposer`: β = 1, the number of components chosen by
ARD) — it needs no knowledge of the spectra. ``analysis = "fit"`` fits every pixel with K
peaks (:class:`iondyn.maps.fit.MapFitter`: K once per map by BIC unless ``n_peaks`` is set;
``shape``, ``background``, ``likelihood``, ``xmin``/``xmax``), ``"both"`` does both.

The store gets **summary rows, never per-pixel rows**: item ``map`` (``n_pixels``,
``n_channels``), ``decomposition`` (``n_components``, ``relative_error``), ``component <k>``
(``peak_at`` in axis units, ``mean_fraction``, ``phase_share``), and for a fit ``fit``
(``n_peaks``, ``misfit_fraction``, ``converged_fraction``, ``n_fitted``) and ``peak <k>``
(``center``, ``fwhm``, ``area``, ``height``: the median over the pixels with the median
standard error, ``center_p5``/``center_p95``). The curves hold the component spectra and
fraction maps, the phase map and the centre maps, reduced to at most 64 × 64 pixels for the
report's heatmaps.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from iondyn.pipeline.analyzer import AnalysisOutcome, Analyzer, ParameterRow, Setting
from iondyn.pipeline.kinds import sniffed_score

__all__ = ["ANALYZER", "analyze_map"]

SETTINGS = {
    "analysis": Setting(
        "str", "decompose", "what to do with a map", choices=("decompose", "fit", "both")
    ),
    "max_components": Setting("int", 8, "NMF-ARD: largest number of components", positive=True),
    "beta": Setting("float", 1.0, "NMF β-divergence (1: Poisson)", minimum=0.0, maximum=2.0),
    "orthogonality": Setting("float", 0.0, "NMF soft spatial orthogonality", minimum=0.0),
    "pca_denoise": Setting("bool", False, "denoise by weighted PCA before NMF"),
    "shape": Setting(
        "str",
        "gaussian",
        "fit: line shape",
        choices=("gaussian", "lorentzian", "pseudo-voigt", "voigt"),
    ),
    "n_peaks": Setting("int_or_auto", "auto", "fit: K, or auto (BIC once per map)", positive=True),
    "max_peaks": Setting("int", 6, "fit: largest K tried by auto", positive=True),
    "background": Setting(
        "str",
        "linear",
        "fit: background",
        choices=("none", "constant", "linear", "quadratic", "shirley", "power-law", "als"),
    ),
    "likelihood": Setting("str", "gaussian", "fit: noise model", choices=("gaussian", "poisson")),
    "xmin": Setting("float", None, "lowest spectral-axis value analysed"),
    "xmax": Setting("float", None, "highest spectral-axis value analysed"),
    "random_state": Setting("int", 0, "seed", minimum=0),
}

_REPORT_PIXELS = 64


def sniff_map(path: Path) -> float:
    """The ``map`` score of :func:`iondyn.io.sniff.kind_evidence`."""
    return sniffed_score(path, "map")


def _small(a: np.ndarray) -> list:
    """A 2-D map reduced to at most 64 × 64 (block means), NaN → None."""
    ny, nx = a.shape[:2]
    fy, fx = max(1, -(-ny // _REPORT_PIXELS)), max(1, -(-nx // _REPORT_PIXELS))
    a = np.asarray(a, dtype=float)
    if fy > 1 or fx > 1:
        py, px = (-ny) % fy, (-nx) % fx
        a = np.pad(a, ((0, py), (0, px)), constant_values=np.nan)
        with np.errstate(all="ignore"):
            a = np.nanmean(a.reshape(a.shape[0] // fy, fy, a.shape[1] // fx, fx), axis=(1, 3))
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in a]


def analyze_map(path: Path, settings: Mapping[str, Any]) -> AnalysisOutcome:
    """Analyse one spectrum image (see the module docstring)."""
    from iondyn.maps.readers import read_map

    s = {k: settings.get(k, v.default) for k, v in SETTINGS.items()}
    m = read_map(path)
    ny, nx, n = m.shape
    unit = m.axis_unit
    rows = [ParameterRow("map", "n_pixels", ny * nx), ParameterRow("map", "n_channels", n)]
    doc: dict[str, Any] = {"map": m.describe(), "settings": s}
    curves: dict[str, Any] = {"axis_name": m.axis_name, "axis_unit": unit}
    warnings: list[str] = []
    if s["analysis"] in ("decompose", "both"):
        from iondyn.maps.decompose import MapDecomposer

        dec = MapDecomposer(
            s["max_components"],
            beta=s["beta"],
            orthogonality=s["orthogonality"],
            pca_denoise=s["pca_denoise"],
            xmin=s["xmin"],
            xmax=s["xmax"],
            random_state=s["random_state"],
        ).fit(m)
        dd = dec.to_dict()
        doc["decomposition"] = dd
        rows += [
            ParameterRow("decomposition", "n_components", dec.n_components),
            ParameterRow("decomposition", "relative_error", dd["relative_error"]),
        ]
        for c in dd["components"]:
            item = f"component {c['id']}"
            rows += [
                ParameterRow(item, "peak_at", c["peak_at"], None, unit),
                ParameterRow(item, "mean_fraction", c["mean_fraction"]),
                ParameterRow(item, "phase_share", c["phase_share"]),
            ]
        curves["axis"] = dec.axis.tolist()
        curves["spectra"] = dec.spectra.tolist()
        curves["fractions"] = [
            _small(dec.maps["fraction"][..., k]) for k in range(dec.n_components)
        ]
        ph = dec.maps["phase"].astype(float)
        ph[ph < 0] = np.nan
        curves["phase"] = _small(ph)
        warnings += dec.warnings
    if s["analysis"] in ("fit", "both"):
        from iondyn.maps.fit import MapFitter

        fit = MapFitter(
            s["shape"],
            s["n_peaks"],
            max_peaks=s["max_peaks"],
            background=s["background"],
            likelihood=s["likelihood"],
            xmin=s["xmin"],
            xmax=s["xmax"],
            random_state=s["random_state"],
        ).fit(m)
        fd = fit.to_dict()
        doc["fit"] = fd
        nf = max(fit.stats["n_fitted"], 1)
        rows += [
            ParameterRow("fit", "n_peaks", fit.n_peaks),
            ParameterRow("fit", "n_fitted", fit.stats["n_fitted"]),
            ParameterRow("fit", "misfit_fraction", fd["quality"]["misfit"] / nf),
            ParameterRow("fit", "converged_fraction", float(np.sum(fit.maps["converged"])) / nf),
        ]
        for p in fd["peaks"]:
            item = f"peak {p['id']}"
            for q in ("center", "fwhm", "area", "height"):
                st = p.get(q, {})
                u = unit if q in ("center", "fwhm") else ""
                rows.append(ParameterRow(item, q, st.get("median"), st.get("median_err"), u))
            rows += [
                ParameterRow(item, "center_p5", p["center"].get("p5"), None, unit),
                ParameterRow(item, "center_p95", p["center"].get("p95"), None, unit),
            ]
        curves["centers"] = [_small(fit.maps["center"][..., k]) for k in range(fit.n_peaks)]
        warnings += fit.warnings
    return AnalysisOutcome("map", doc, rows, curves, warnings, n_spectra=1)


def _heatmap(z: list, title: str) -> dict[str, Any]:
    return {
        "data": [{"type": "heatmap", "z": z, "colorscale": "Viridis"}],
        "layout": {
            "title": {"text": title, "font": {"size": 13}, "x": 0.01, "xanchor": "left"},
            "height": 360,
            "margin": {"l": 40, "r": 20, "t": 40, "b": 30},
            "yaxis": {"autorange": "reversed", "scaleanchor": "x"},
        },
    }


def map_figures(outcome: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Plotly figure dicts: component spectra, fraction and phase maps, centre maps."""
    curves = outcome.get("curves") or {}
    name = outcome.get("name", "")
    figs: list[dict[str, Any]] = []
    axis_title = curves.get("axis_name") or "x"
    if curves.get("axis_unit"):
        axis_title += f" ({curves['axis_unit']})"
    if curves.get("spectra"):
        data = [
            {
                "type": "scatter",
                "mode": "lines",
                "x": curves["axis"],
                "y": s,
                "name": f"component {i + 1}",
            }
            for i, s in enumerate(curves["spectra"])
        ]
        figs.append(
            {
                "data": data,
                "layout": {
                    "title": {"text": f"{name}: NMF-ARD components", "font": {"size": 13}},
                    "height": 360,
                    "xaxis": {"title": {"text": axis_title}},
                    "yaxis": {"title": {"text": "spectrum (unit maximum)"}},
                },
            }
        )
        for i, z in enumerate(curves.get("fractions", [])[:6]):
            figs.append(_heatmap(z, f"{name}: component {i + 1} fraction"))
        if curves.get("phase"):
            figs.append(_heatmap(curves["phase"], f"{name}: phase (largest fraction)"))
    for i, z in enumerate(curves.get("centers", [])[:6]):
        figs.append(_heatmap(z, f"{name}: peak {i + 1} centre"))
    return figs


def describe_map(outcome: Mapping[str, Any]) -> str:
    parts = []
    dec = outcome.get("decomposition")
    if dec:
        parts.append(f"{dec.get('n_components')} NMF-ARD component(s)")
    fit = outcome.get("fit")
    if fit:
        parts.append(f"{fit.get('n_peaks')} peak(s) in every pixel")
    return "; ".join(parts)


ANALYZER = Analyzer(
    kind="map",
    description="spectrum images: NMF-ARD components and per-pixel peak fits",
    version="1",
    sniff=sniff_map,
    analyze=analyze_map,
    figures=map_figures,
    settings=SETTINGS,
    describe=describe_map,
)
