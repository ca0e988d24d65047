"""The summaries and pictures of the map, molecular-dynamics, loss-decomposition and
tracked-process results, kept here so that their modules stay about their analyses; the
classes' ``_summary``/``plot`` methods call these functions (see :mod:`iondyn.display`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from iondyn.display.numbers import MISSING, format_number, format_value
from iondyn.display.summary import Param, Summary
from iondyn.errors import InputError


def _file(source: str | None) -> str:
    return source.replace(chr(92), "/").rsplit("/", 1)[-1] if source else "map"


def _unit(unit: str) -> str:
    return f" ({unit})" if unit else ""


def _axis(name: str, unit: str, fallback: str = "x") -> str:
    return f"{name or fallback}{_unit(unit)}"


def _stat_text(stat: dict[str, Any] | None) -> str:
    """``median [p25 … p75]`` of a :func:`iondyn.maps.result._stats` row."""
    if not stat or stat.get("median") is None:
        return MISSING
    text = format_number(stat["median"], 4)
    if stat.get("p25") is not None and stat.get("p75") is not None:
        text += f" [{format_number(stat['p25'], 4)} … {format_number(stat['p75'], 4)}]"
    return text


# ----------------------------------------------------------------------------------- maps
def map_fit_summary(r: Any) -> Summary:
    ny, nx = r.spatial_shape
    facts = [
        f"{ny} × {nx} pixels × {r.axis.size} channels",
        f"K = {r.n_peaks} {r.shape} peak(s) on a {r.background} background",
        f"{r.stats.get('n_fitted', MISSING)} pixels fitted ({r.likelihood} likelihood)",
    ]
    unit = r.axis_unit
    rows = []
    for peak in r.peak_summary():
        centre = peak.get("center", {})
        rows.append(
            [
                str(peak["id"]),
                _stat_text(centre),
                format_number(centre.get("median_err"), 2)
                if centre.get("median_err") is not None
                else MISSING,
                _stat_text(peak.get("fwhm")),
                _stat_text(peak.get("area")),
            ]
        )
    header = [
        "peak",
        f"centre{_unit(unit)} median [quartiles]",
        "median error",
        f"FWHM{_unit(unit)}",
        "area",
    ]
    tables = [("peaks over the pixels", header, rows)]
    counts = r.quality_counts()
    tables.append(
        ("quality map", ["verdict", "pixels"], [[k, str(v)] for k, v in counts.items() if v])
    )
    if r.bic_table:
        bic_rows = [
            [str(row.get("n_peaks", row.get("k", MISSING))), format_number(row.get("bic"), 6)]
            for row in r.bic_table
        ]
        tables.append(("K chosen once for the map (BIC)", ["K", "BIC"], bic_rows))
    return Summary("MapFitResult", _file(r.source), facts, tables=tables, warnings=r.warnings)


def _image(ax: Any, values: np.ndarray, title: str, discrete: bool = False) -> Any:
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if discrete:
        im = ax.imshow(np.where(values >= 0, values, np.nan), cmap="tab10", vmin=-0.5, vmax=9.5)
    else:
        lo, hi = np.percentile(values[finite], [1, 99]) if finite.any() else (0.0, 1.0)
        im = ax.imshow(values, cmap="viridis", vmin=lo, vmax=hi if hi > lo else lo + 1)
    ax.figure.colorbar(im, ax=ax, shrink=0.85)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    return ax


def map_fit_plot(r: Any, ax: Any = None, quantity: str = "center", peak: int = 1) -> Any:
    from iondyn.display import plots as dp

    if quantity not in r.maps:
        raise InputError(f"no map {quantity!r}; the result has {', '.join(sorted(r.maps))}")
    values = r.maps[quantity]
    title = quantity
    if values.ndim == 3:
        if not 1 <= peak <= values.shape[2]:
            raise InputError(f"peak must be 1 … {values.shape[2]}, not {peak}")
        values = values[..., peak - 1]
        unit = r.axis_unit if quantity.split("_")[0] in ("center", "fwhm") else ""
        title = f"peak {peak} {quantity}{_unit(unit)}"
    discrete = quantity in ("cluster", "quality")
    return _image(dp.axes(ax), values, title, discrete=discrete)


def decomposition_summary(r: Any) -> Summary:
    ny, nx = r.maps["phase"].shape
    facts = [
        f"{ny} × {nx} pixels × {r.axis.size} channels",
        f"{r.n_components} component(s) found from {r.nmf.max_components}",
        f"relative error {format_number(r.nmf.relative_error, 3)}",
    ]
    rows = [
        [
            str(c["id"]),
            format_number(c["peak_at"], 5),
            f"{100 * c['mean_fraction']:.3g} %",
            f"{100 * c['phase_share']:.3g} %",
            format_number(c["relevance"], 3),
        ]
        for c in r.components_summary()
    ]
    header = [
        "component",
        f"maximum at{_unit(r.axis_unit)}",
        "mean fraction",
        "phase share",
        "relevance λ",
    ]
    return Summary(
        "DecompositionResult",
        _file(r.source),
        facts,
        tables=[("components", header, rows)],
        warnings=r.warnings,
    )


def decomposition_plot(r: Any, ax: Any = None, what: str = "spectra") -> Any:
    from iondyn.display import plots as dp

    ax = dp.axes(ax)
    if what == "spectra":
        for k, s in enumerate(r.spectra):
            ax.plot(r.axis, s, lw=1.2, label=f"component {k + 1}")
        ax.set_xlabel(_axis(r.axis_name, r.axis_unit))
        ax.set_ylabel("intensity (scaled to 1)")
        ax.legend(fontsize=7)
        return ax
    if what == "phase":
        return _image(ax, r.maps["phase"], "phase (largest fraction)", discrete=True)
    if what.startswith("fraction"):
        k = int(what.removeprefix("fraction") or 1)
        if not 1 <= k <= r.n_components:
            raise InputError(f"component must be 1 … {r.n_components}, not {k}")
        return _image(ax, r.maps["fraction"][..., k - 1], f"fraction of component {k}")
    raise InputError(f"what must be 'spectra', 'phase' or 'fraction<k>', not {what!r}")


def nmf_summary(r: Any) -> Summary:
    facts = [
        f"{r.n_components} relevant component(s) of {r.max_components}",
        f"β = {r.beta:g}",
        f"{r.iterations} iterations" + ("" if r.converged else " (not converged)"),
        f"relative error {format_number(r.relative_error, 3)}",
    ]
    rows = [[str(k + 1), format_number(v, 3)] for k, v in enumerate(r.relevance)]
    warnings = [] if r.converged else [f"NMF stopped after {r.iterations} iterations"]
    return Summary(
        "NMFResult",
        "NMF with automatic relevance determination",
        facts,
        tables=[("relevance", ["component", "λ"], rows)],
        warnings=warnings,
    )


def nmf_plot(r: Any, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    ax = dp.axes(ax)
    for k, s in enumerate(r.spectra):
        ax.plot(s, lw=1.2, label=f"component {k + 1}")
    ax.set_xlabel("channel")
    ax.set_ylabel("intensity (scaled to 1)")
    ax.legend(fontsize=7)
    return ax


def profile_summary(p: Any) -> Summary:
    unit = p.spatial_unit or "pixels"
    facts = [f"{p.distance.size} bins", f"quantity {p.quantity or 'value'}"]
    params = []
    if p.fit is not None:
        f = p.fit
        size = p.pixel_size
        params = [
            Param("width", f["width"] * size, f["width_err"] * size, unit),
            Param("width 10–90 %", f["width_10_90"] * size, f["width_10_90_err"] * size, unit),
            Param("centre", f["center"] * size, f["center_err"] * size, unit, ratio=False),
            Param("level before", f["low"], f["low_err"], ratio=False),
            Param("level after", f["high"], f["high_err"], ratio=False),
        ]
        facts.append(f"χ²_red = {format_number(f['chi2_reduced'], 3)}")
    return Summary("InterfaceProfile", "profile across a line", facts, params, warnings=p.warnings)


def profile_plot(p: Any, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    ax = dp.axes(ax)
    d = p.distance * p.pixel_size
    ax.errorbar(d, p.value, yerr=p.error, fmt="o", ms=3, lw=1, label="profile")
    if p.fit is not None:
        f = p.fit
        dd = np.linspace(p.distance.min(), p.distance.max(), 400)
        t = (dd - f["center"]) / max(f["width"], 1e-300)
        v = f["low"] + (f["high"] - f["low"]) * 0.5 * (1 + np.tanh(0.5 * t))
        w = format_value(f["width"] * p.pixel_size, f["width_err"] * p.pixel_size)
        ax.plot(dd * p.pixel_size, v, "r-", lw=1.2, label=f"logistic step, width {w}")
    ax.set_xlabel(f"distance across the interface ({p.spatial_unit or 'pixels'})")
    ax.set_ylabel(p.quantity or "value")
    ax.legend(fontsize=7)
    return ax


# ------------------------------------------------------------------------------------ MD
def diffusion_summary(r: Any) -> Summary:
    t = r.tracer
    facts = [
        f"{r.species}, {r.n_ions} ions, {r.dims}",
        f"T = {r.temperature_K:g} K" if r.temperature_K else "no temperature",
        f"fit {format_number(t.times_ps[0], 3)}–{format_number(t.times_ps[-1], 3)} ps ({t.method})",
    ]
    params = [Param("D* (tracer)", r.D_cm2_per_s, r.D_cm2_per_s_err, "cm²/s")]
    if r.collective is not None:
        params.append(
            Param("D_σ (collective)", r.D_sigma_cm2_per_s, r.collective.D_cm2_per_s_err, "cm²/s")
        )
    h, h_err = r.haven_ratio
    if h is not None:
        params.append(Param("Haven ratio H_R", h, h_err))
    s, s_err = r.sigma("tracer")
    if s is not None:
        params.append(Param("σ (Nernst–Einstein)", s, s_err, "S/cm"))
    sc, sc_err = r.sigma("collective")
    if sc is not None:
        params.append(Param("σ (collective MSD)", sc, sc_err, "S/cm"))
    warnings = list(r.warnings) + [w for w in t.warnings if w not in r.warnings]
    return Summary("DiffusionResult", f"{r.species} diffusion", facts, params, warnings=warnings)


def diffusion_plot(r: Any, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    ax = dp.axes(ax)
    line = ax.plot(r.times_ps, r.msd, lw=1.3, label="tracer MSD")[0]
    ax.fill_between(
        r.times_ps, r.msd - r.msd_err, r.msd + r.msd_err, color=line.get_color(), alpha=0.25, lw=0
    )
    if np.any(np.isfinite(r.msd_collective)):
        ax.plot(r.times_ps, r.msd_collective, ":", color="C1", lw=1.2, label="collective MSD")
    t = r.tracer.times_ps
    ax.plot(t, r.tracer.intercept + r.tracer.slope * t, "k--", lw=1, label="fit (tracer)")
    ax.set_xlabel("time lag (ps)")
    ax.set_ylabel("MSD (Å²)")
    ax.legend(fontsize=7)
    return ax


def regional_summary(r: Any) -> Summary:
    facts = [
        f"{r.species}, {r.center_A.size} slabs along {r.axis}",
        f"slab thickness {format_number(r.thickness_A, 3)} Å",
    ]
    rows = [
        [
            format_number(c, 4),
            format_value(d, e, ratio=True),
            format_number(o, 3),
            MISSING if r.free_energy_eV is None else format_number(r.free_energy_eV[i], 3),
        ]
        for i, (c, d, e, o) in enumerate(
            zip(r.center_A, r.D_parallel_cm2_per_s, r.D_parallel_cm2_per_s_err, r.occupancy)
        )
    ]
    header = ["centre (Å)", "D∥ (cm²/s)", "ions", "free energy (eV)"]
    return Summary(
        "RegionalResult",
        f"{r.species} diffusion in slabs",
        facts,
        tables=[("slabs", header, rows)],
        warnings=r.warnings,
    )


def regional_plot(r: Any, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    ax = dp.axes(ax)
    ok = np.isfinite(r.D_parallel_cm2_per_s) & (r.D_parallel_cm2_per_s > 0)
    ax.errorbar(
        r.center_A[ok],
        r.D_parallel_cm2_per_s[ok],
        yerr=r.D_parallel_cm2_per_s_err[ok],
        fmt="o-",
        ms=4,
        lw=1,
    )
    if ok.any():
        ax.set_yscale("log")
    ax.set_xlabel(f"position along {r.axis} (Å)")
    ax.set_ylabel("D∥ (cm²/s)")
    ax.set_title(f"{r.species} diffusion in slabs", fontsize=9)
    return ax


def jump_summary(r: Any) -> Summary:
    facts = [
        f"{r.n_ions} ions over {format_number(r.duration_ps, 4)} ps",
        f"{r.site_occupation.size} sites",
        f"{100 * r.unassigned_fraction:.2g} % of positions unassigned",
    ]
    params = [
        Param("jumps", r.n_jumps),
        Param("jump rate", r.jumps_per_ion_per_ps, None, "1/(ion ps)"),
        Param("mean residence", r.mean_residence_ps, None, "ps"),
        Param("D_jump", r.D_jump_cm2_per_s, None, "cm²/s"),
    ]
    return Summary("JumpResult", "site-to-site jumps", facts, params, warnings=r.warnings)


def jump_plot(r: Any, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    ax = dp.axes(ax)
    ax.bar(np.arange(r.site_occupation.size), r.site_occupation, width=0.8)
    ax.set_xlabel("site")
    ax.set_ylabel("mean occupation")
    ax.set_title(f"{r.n_jumps} jumps", fontsize=9)
    return ax


# ---------------------------------------------------------------------- impedance, series
def loss_summary(r: Any) -> Summary:
    name = _file(r.source) if r.source else "spectrum"
    facts = [f"{r.n_arcs} arc(s)", f"R² = {format_number(r.fit.quality.get('r2'), 4)}"]
    if r.dropped_inductive:
        facts.append(f"{r.dropped_inductive} inductive point(s) left out")
    params = []
    for i, a in enumerate(r.arcs, 1):
        params += [
            Param(f"arc {i} R", a["R_ohm"], a["R_ohm_err"], "Ω"),
            Param(f"arc {i} τ", a["tau_s"], a["tau_s_err"], "s"),
            Param(f"arc {i} n", a["n"], a["n_err"]),
        ]
    if r.electrode is not None:
        e = r.electrode
        params += [
            Param("electrode Q", e["Q"], e.get("Q_err"), "F s^(n−1)"),
            Param("electrode n", e["n"], e.get("n_err")),
        ]
    return Summary(
        "LossDecomposition",
        f"loss spectrum −Z″(ln ω) of {name} [{r.index}]",
        facts,
        params,
        misfit=r.fit.quality.get("misfit"),
        warnings=r.warnings,
    )


def tracked_summary(p: Any) -> Summary:
    temps = sorted({pt["T_K"] for pt in p.points})
    facts = [
        f"{len(temps)} temperature(s)" + (f", {temps[0]:.1f}–{temps[-1]:.1f} K" if temps else ""),
    ]
    params = []
    a = p.arrhenius
    if a is not None:
        params.append(Param("Ea", a.Ea_eV, a.Ea_eV_err, "eV"))
        params.append(Param("ln prefactor", a.ln_prefactor, a.ln_prefactor_err, ratio=False))
        facts.append(f"R² = {a.r2:.5f}")
    for temp, (v, e) in p.sigma_at.items():
        params.append(Param(f"σ at {temp:g} K", v, e, "S/cm"))
    return Summary("TrackedProcess", p.label, facts, params, warnings=p.warnings)


def tracked_plot(p: Any, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    points = [
        (
            p.label,
            [pt["T_K"] for pt in p.points],
            [pt["sigma_S_per_cm"] for pt in p.points],
            [pt.get("sigma_S_per_cm_err") or 0.0 for pt in p.points],
            p.arrhenius,
        )
    ]
    return dp.arrhenius(dp.axes(ax), points)


# ---------------------------------------------------------------------------- data objects
def spectrum_map_overview(m: Any) -> tuple[np.ndarray, np.ndarray]:
    """(the image of the summed intensity (ny, nx), the summed spectrum (n,)), read block by
    block (the map is never held whole); NaN pixels count as missing."""
    ny, nx, n = m.shape
    image = np.full(ny * nx, np.nan)
    total = np.zeros(n)
    for flat, block in m.blocks():
        ok = np.all(np.isfinite(block), axis=1)
        image[flat[ok]] = block[ok].sum(axis=1)
        total += block[ok].sum(axis=0)
    return image.reshape(ny, nx), total


def spectrum_map_summary(m: Any) -> Summary:
    ny, nx, n = m.shape
    axis = f"{format_number(m.axis[0], 5)} … {format_number(m.axis[-1], 5)}"
    facts = [
        f"{ny} × {nx} pixels × {n} channels",
        f"{m.axis_name or 'axis'} {axis}{' ' + m.axis_unit if m.axis_unit else ''}",
        f"{getattr(m.data, 'dtype', '?')}",
    ]
    if m.intensity_unit:
        facts.append(f"intensity in {m.intensity_unit}")
    warnings = [str(w) for w in m.metadata.get("warnings", []) or []]
    return Summary("SpectrumMap", _file(m.source), facts, warnings=warnings)


def spectrum_map_plot(m: Any, ax: Any = None, what: str = "image") -> Any:
    from iondyn.display import plots as dp

    if what not in ("image", "spectrum"):
        raise InputError(f"what must be 'image' or 'spectrum', not {what!r}")
    image, total = spectrum_map_overview(m)
    ax = dp.axes(ax)
    if what == "image":
        return _image(ax, image, "intensity summed over the spectral axis")
    ax.plot(m.axis, total, lw=1.2)
    ax.set_xlabel(_axis(m.axis_name, m.axis_unit))
    ax.set_ylabel("intensity summed over the pixels" + _unit(m.intensity_unit))
    if m.axis_name == "binding energy" and not ax.xaxis_inverted():
        ax.invert_xaxis()
    return ax


def displacement_from_start(t: Any, block_frames: int = 1024) -> np.ndarray:
    """⟨|r(t) − r(0)|²⟩ over the ions for every frame (Å²), block by block (a quick look at
    the trajectory, not the windowed MSD of :mod:`iondyn.md.msd`)."""
    first = np.asarray(t.positions[0], dtype=float)
    out = np.empty(t.n_frames)
    for f0 in range(0, t.n_frames, block_frames):
        block = np.asarray(t.positions[f0 : f0 + block_frames], dtype=float)
        out[f0 : f0 + block.shape[0]] = np.mean(np.sum((block - first) ** 2, axis=-1), axis=1)
    return out


def trajectory_summary(t: Any) -> Summary:
    facts = [
        f"{t.n_ions} {t.species} of {t.n_atoms_total} atoms",
        f"{t.n_frames} frames × {format_number(t.frame_interval_ps, 4)} ps "
        f"= {format_number(t.duration_ps, 4)} ps",
        f"V = {format_number(t.mean_volume_A3, 5)} Å³",
        f"T = {t.temperature_K:g} K" if t.temperature_K else "no temperature",
        t.format,
    ]
    return Summary("Trajectory", _file(t.source), facts, warnings=t.warnings)


def trajectory_plot(t: Any, ax: Any = None) -> Any:
    from iondyn.display import plots as dp

    ax = dp.axes(ax)
    times = np.arange(t.n_frames) * t.frame_interval_ps
    ax.plot(times, displacement_from_start(t), lw=1.2)
    ax.set_xlabel("time (ps)")
    ax.set_ylabel(f"⟨|r(t) − r(0)|²⟩ of {t.species} (Å²)")
    return ax
