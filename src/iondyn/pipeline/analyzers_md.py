"""The ``md`` analyzer: ion dynamics from molecular-dynamics trajectories.

A trajectory (VASP XDATCAR or vasprun.xml, LAMMPS text dump, extended XYZ; recognised by
:func:`iondyn.io.sniff.kind_evidence` from its first kilobytes) is read in blocks
(:func:`iondyn.md.readers.open_trajectory`), unwrapped and drift-corrected
(:func:`iondyn.md.trajectory.build_trajectory`), and the chosen ``species`` is analysed by
:class:`iondyn.md.diffusion.DiffusionFitter`: tracer and collective MSDs, D* and D_σ by
generalised least squares with the random-walk covariance of the MSD points, the Haven ratio,
and σ by Nernst–Einstein and from the collective MSD. With ``regional_axis`` set,
:class:`iondyn.md.regional.RegionalFitter` adds D_∥ and the occupancy of slabs along it.

Parameter rows: item ``<species> tracer`` and ``<species> collective`` with ``D_cm2_per_s``
and ``sigma_S_per_cm`` (± standard errors); item ``<species>`` with ``haven_ratio``; item
``trajectory`` with ``n_frames``, ``n_ions``, ``duration_ps``, ``frame_interval_ps``,
``temperature_K``, ``volume_A3``; item ``fit`` with the window and the fit diagnostics;
items ``slab <k>`` with ``D_parallel_cm2_per_s``, ``occupancy``, ``free_energy_eV``.

Temperature series: :func:`series_rows` fits D(T) (convention ``D``) and σ(T) (``sigma_T``)
of every MD series with ≥ 3 temperatures for :func:`iondyn.pipeline.series.update_series`;
σ rows carry the series name (so they share the Arrhenius plot of measured σ of the same
series), D rows the series name followed by ``· D(T)``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iondyn.errors import InputError
from iondyn.pipeline.analyzer import AnalysisOutcome, Analyzer, ParameterRow, Setting
from iondyn.pipeline.kinds import sniffed_score

__all__ = ["ANALYZER", "analyze_md", "series_rows"]

_FORMATS = ("auto", "xdatcar", "vasprun", "lammps-dump", "extxyz")

SETTINGS = {
    "species": Setting("str", None, "the mobile species analysed (element, or LAMMPS type)"),
    "charge": Setting("float", None, "charge number z of the species (default: Li/Na +1, …)"),
    "temperature_K": Setting("float", None, "MD temperature", unit="K", positive=True),
    "frame_interval_fs": Setting(
        "float", None, "time between stored frames", unit="fs", positive=True
    ),
    "timestep_fs": Setting(
        "float",
        None,
        "MD time step (times from the file's step numbers)",
        unit="fs",
        positive=True,
    ),
    "format": Setting("str", "auto", "trajectory format", choices=_FORMATS),
    "backend": Setting("str", "auto", "reader", choices=("auto", "native", "ase")),
    "coordinates": Setting(
        "str", "auto", "wrapped/unwrapped input", choices=("auto", "wrapped", "unwrapped")
    ),
    "drift_correction": Setting("bool", True, "remove the framework's centre-of-mass drift"),
    "dims": Setting("str", "xyz", "components analysed (xyz, xy, z, …)"),
    "fit_start_ps": Setting("float", None, "start of the fitted window", unit="ps", minimum=0),
    "fit_end_ps": Setting("float", None, "end of the fitted window", unit="ps", positive=True),
    "end_fraction": Setting(
        "float", 0.5, "default end of the window (fraction of the run)", positive=True, maximum=1
    ),
    "method": Setting("str", "gls", "line fit of the MSD", choices=("gls", "ols")),
    "collective": Setting("bool", True, "also the collective MSD (D_σ, Haven ratio)"),
    "regional_axis": Setting(
        "str", "none", "slab axis for D_∥(z) and occupancy", choices=("none", "x", "y", "z")
    ),
    "n_slabs": Setting("int", 10, "number of slabs along regional_axis", positive=True),
    "memory_limit_mb": Setting(
        "float",
        1024.0,
        "positions kept in memory up to this, then in a temp file",
        unit="MB",
        positive=True,
    ),
    "series_name": Setting("str", None, "series name for Arrhenius plots (default: the folder)"),
}

_UNITS = {
    "D_cm2_per_s": "cm²/s",
    "sigma_S_per_cm": "S/cm",
    "duration_ps": "ps",
    "frame_interval_ps": "ps",
    "temperature_K": "K",
    "volume_A3": "Å³",
    "fit_start_ps": "ps",
    "fit_end_ps": "ps",
}


def sniff_md(path: Path) -> float:
    """The trajectory score of :func:`iondyn.io.sniff.kind_evidence`."""
    return sniffed_score(path, "md")


def analyze_md(path: Path, settings: Mapping[str, Any]) -> AnalysisOutcome:
    """Read one trajectory and analyse its species (see the module docstring)."""
    from iondyn.md.diffusion import DiffusionFitter
    from iondyn.md.readers import open_trajectory
    from iondyn.md.regional import RegionalFitter
    from iondyn.md.trajectory import build_trajectory

    species = settings.get("species")
    if not species:
        raise InputError(
            'no species: set species for MD trajectories in the config ([md] species = "Li")',
            str(path),
        )
    source = open_trajectory(path, settings.get("format", "auto"), settings.get("backend", "auto"))
    traj = build_trajectory(
        source,
        species,
        frame_interval_fs=settings.get("frame_interval_fs"),
        timestep_fs=settings.get("timestep_fs"),
        coordinates=settings.get("coordinates", "auto"),
        drift_correction=settings.get("drift_correction", True),
        temperature_K=settings.get("temperature_K"),
        memory_limit_mb=settings.get("memory_limit_mb", 1024.0),
    )
    fitter = DiffusionFitter(
        dims=settings.get("dims", "xyz"),
        fit_start_ps=settings.get("fit_start_ps"),
        fit_end_ps=settings.get("fit_end_ps"),
        end_fraction=settings.get("end_fraction", 0.5),
        method=settings.get("method", "gls"),
        charge=settings.get("charge"),
        collective=settings.get("collective", True),
    )
    result = fitter.fit(traj)
    doc = result.to_dict(include_curves=True)
    curves = doc.pop("curves")
    doc["series"] = settings.get("series_name") or Path(path).resolve().parent.name
    rows = _rows(doc)
    axis = settings.get("regional_axis", "none")
    if axis != "none":
        regional = RegionalFitter(axis=axis, n_slabs=settings.get("n_slabs", 10)).fit(traj)
        doc["regional"] = regional.to_dict()
        for k, slab in enumerate(doc["regional"]["slabs"]):
            for name, unit in (
                ("D_parallel_cm2_per_s", "cm²/s"),
                ("occupancy", ""),
                ("free_energy_eV", "eV"),
                ("center_A", "Å"),
            ):
                err = slab.get(f"{name}_err")
                rows.append(ParameterRow(f"slab {k}", name, slab.get(name), err, unit))
    return AnalysisOutcome("md", doc, rows, curves, list(result.warnings), n_spectra=1)


def _rows(doc: dict[str, Any]) -> list[ParameterRow]:
    sp = doc["species"]
    rows = []
    for item, d_key, s_key in (
        (f"{sp} tracer", "D_cm2_per_s", "sigma_S_per_cm"),
        (f"{sp} collective", "D_sigma_cm2_per_s", "sigma_collective_S_per_cm"),
    ):
        rows.append(ParameterRow(item, "D_cm2_per_s", doc[d_key], doc[f"{d_key}_err"], "cm²/s"))
        rows.append(ParameterRow(item, "sigma_S_per_cm", doc[s_key], doc[f"{s_key}_err"], "S/cm"))
    rows.append(ParameterRow(sp, "haven_ratio", doc["haven_ratio"], doc["haven_ratio_err"]))
    t = doc["trajectory"]
    for name in ("n_frames", "n_ions", "duration_ps", "frame_interval_ps", "temperature_K"):
        rows.append(ParameterRow("trajectory", name, t.get(name), None, _UNITS.get(name, "")))
    rows.append(ParameterRow("trajectory", "volume_A3", doc["volume_A3"], None, "Å³"))
    fit = doc["tracer"]
    for name in ("fit_start_ps", "fit_end_ps", "chi2_reduced", "variance_ratio", "jump_excess"):
        rows.append(ParameterRow("fit", name, fit.get(name), None, _UNITS.get(name, "")))
    return rows


def describe_md(result: Mapping[str, Any]) -> str:
    """One line: D*, σ and the Haven ratio."""
    d, t = result.get("D_cm2_per_s"), result.get("temperature_K")
    parts = [f"{result.get('species')}: D* = {d:.3g} cm²/s" if isinstance(d, float) else ""]
    s = result.get("sigma_S_per_cm")
    if isinstance(s, float):
        parts.append(f"σ = {s:.3g} S/cm")
    h = result.get("haven_ratio")
    if isinstance(h, float):
        parts.append(f"H_R = {h:.2f}")
    if isinstance(t, int | float):
        parts.append(f"{t:g} K")
    return ", ".join(p for p in parts if p)


def md_figures(outcome: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tracer MSD with its error band and fitted line, and the collective MSD."""
    curves = outcome.get("curves") or {}
    result = outcome.get("result") or {}
    t = curves.get("time_ps") or []
    if not t:
        return []
    msd, err = curves.get("msd_A2") or [], curves.get("msd_err_A2") or []
    data = [
        {
            "type": "scatter", "mode": "lines", "name": "tracer MSD", "x": t, "y": msd,
            "error_y": {"type": "data", "array": err, "visible": True, "thickness": 0.5},
        },
        {
            "type": "scatter", "mode": "lines", "name": "collective MSD",
            "x": t, "y": curves.get("msd_collective_A2") or [],
        },
    ]  # fmt: skip
    fit = result.get("tracer") or {}
    if isinstance(fit.get("slope_A2_per_ps"), float):
        x = [fit["fit_start_ps"], fit["fit_end_ps"]]
        y = [fit["intercept_A2"] + fit["slope_A2_per_ps"] * v for v in x]
        data.append({"type": "scatter", "mode": "lines", "name": "GLS fit", "x": x, "y": y,
                     "line": {"dash": "dash"}})  # fmt: skip
    layout = {
        "title": {"text": describe_md(result)},
        "xaxis": {"title": {"text": "time lag (ps)"}},
        "yaxis": {"title": {"text": "MSD (Å²)"}},
        "height": 360,
    }
    return [{"data": data, "layout": layout}]


ANALYZER = Analyzer(
    kind="md",
    description="ion dynamics from MD trajectories: D*, D_σ, Haven ratio, σ (GLS errors)",
    version="1",
    sniff=sniff_md,
    analyze=analyze_md,
    figures=md_figures,
    settings=SETTINGS,
    describe=describe_md,
)

#: Fewest distinct temperatures for an Arrhenius fit (as for impedance series).
MIN_TEMPERATURES = 3

_SERIES = (  # item suffix, result key, quantity, convention, prefactor unit, series suffix
    ("tracer", "D_cm2_per_s", "D_cm2_per_s", "D", "cm²/s", " · D(T)"),
    ("collective", "D_sigma_cm2_per_s", "D_cm2_per_s", "D", "cm²/s", " · D(T)"),
    ("tracer", "sigma_S_per_cm", "sigma_S_per_cm", "sigma_T", "S·K/cm", ""),
    ("collective", "sigma_collective_S_per_cm", "sigma_S_per_cm", "sigma_T", "S·K/cm", ""),
)


def series_rows(store: Any) -> list[tuple]:
    """Rows of the ``series`` table for the MD results of ``store`` (see the module
    docstring): one Arrhenius fit per series, species, tracer/collective and quantity."""
    import numpy as np

    from iondyn.errors import IondynError
    from iondyn.pipeline.store import now_iso
    from iondyn.series import fit_arrhenius

    groups: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for row in store.query(
        "SELECT path, result_json FROM current_files WHERE kind = 'md' AND status = 'ok'"
    ):
        doc = json.loads(row["result_json"])
        t = doc.get("temperature_K")
        if isinstance(t, int | float) and t > 0:
            groups[(doc.get("series") or "", doc.get("species") or "")].append((row["path"], doc))
    rows = []
    for (series, species), members in sorted(groups.items()):
        if len({d["temperature_K"] for _, d in members}) < MIN_TEMPERATURES:
            continue
        for which, key, quantity, convention, unit, suffix in _SERIES:
            points = []
            for path, d in sorted(members, key=lambda m: m[1]["temperature_K"]):
                v, e = d.get(key), d.get(f"{key}_err")
                if isinstance(v, int | float) and v > 0 and math.isfinite(v):
                    err = e if isinstance(e, int | float) and e > 0 else None
                    points.append(
                        {"T_K": d["temperature_K"], "value": v, "error": err, "file": path,
                         "spectrum": 0}
                    )  # fmt: skip
            if len({p["T_K"] for p in points}) < MIN_TEMPERATURES:
                continue
            errs = [p["error"] for p in points]
            e = None if any(x is None for x in errs) else np.array(errs, dtype=float)
            warnings = ["molecular dynamics: D and σ from GLS fits of the MSD"]
            try:
                fit = fit_arrhenius(
                    np.array([p["T_K"] for p in points]),
                    np.array([p["value"] for p in points]),
                    e,
                    convention=convention,
                )
            except IondynError as exc:
                fit, warnings = None, [*warnings, str(exc)]
            else:
                warnings += list(fit.warnings)
            rows.append(
                (
                    series + suffix, f"{species} {which} (MD)", quantity, convention, len(points),
                    None if fit is None else fit.Ea_eV,
                    None if fit is None else fit.Ea_eV_err,
                    None if fit is None else fit.ln_prefactor,
                    None if fit is None else fit.ln_prefactor_err,
                    unit,
                    None if fit is None else fit.r2,
                    None if fit is None else fit.chi2_reduced,
                    json.dumps(points), json.dumps(warnings), now_iso(),
                )
            )  # fmt: skip
    return rows
