"""The demonstration run behind ``make demo`` / ``iondyn demo``: the project's main job.

:func:`run_demo` runs the batch pipeline (``iondyn analyze``) on the example data bundled with
the package — an XPS spectrum, a TSDC curve and real impedance files (see
``examples/data/NOTICE.md``; one of them has a broken header on purpose, to show how bad files
are reported) — plus a simulated pellet temperature series written at demo time, then writes
the interactive report (``iondyn report``). The library returns a :class:`DemoResult`; the CLI
prints it. ``walkthroughs=True`` adds the per-area steps (:func:`xps_step`,
:func:`tsdc_step`), which fit single files directly and save matplotlib figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iondyn.display import format_value

__all__ = ["DemoResult", "DemoStep", "pipeline_step", "run_demo", "simulate_pellet_series"]


@dataclass
class DemoStep:
    name: str
    summary: list[str]
    files: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "summary": self.summary, "files": self.files, "data": self.data}


@dataclass
class DemoResult:
    out_dir: str
    steps: list[DemoStep]

    def to_dict(self) -> dict[str, Any]:
        return {"out_dir": self.out_dir, "steps": [s.to_dict() for s in self.steps]}


#: The simulated pellet: geometry, temperatures and the Arrhenius laws of its two processes.
PELLET: dict[str, Any] = {
    "thickness_cm": 0.1,
    "area_cm2": 0.785,
    "temperatures_C": (250.0, 275.0, 300.0, 325.0, 350.0, 375.0),
    "bulk": {"Ea_eV": 0.90, "sigma_573K_S_per_cm": 1.0e-5, "eps_r": 30.0, "n": 0.95},
    "grain boundary": {"Ea_eV": 1.05, "sigma_573K_S_per_cm": 3.3e-6, "C_F": 2.0e-9, "n": 0.85},
    "electrode": {"Q": 1.0e-6, "n": 0.85},
    # leads and contacts: large enough for the data to determine it (with 1 Ω every fit said
    # "R0 poorly determined", an artefact of the construction, not of the analysis)
    "R0_ohm": 50.0,
    "noise": 0.005,
}


def simulate_pellet_series(
    folder: str | Path, seed: int = 0, temperatures_C: Sequence[float] | None = None
) -> tuple[list[Path], Path]:
    r"""Write the impedance spectra of a simulated ceramic pellet at ``temperatures_C``
    (default: :data:`PELLET`'s; CSV ``freq/Hz, Re(Z)/Ohm, -Im(Z)/Ohm``, one file
    ``pellet_NN.csv`` per temperature) and a temperature manifest ``manifest.csv`` (°C).

    Bulk and grain boundary are R‖CPE arcs in series with a blocking-electrode CPE, circuit
    ``R0-p(R1,CPE1)-p(R2,CPE2)-CPE3`` with Z_CPE = 1/(Q (iω)^n). Each conductivity follows
    σ(T) T = σ(T_ref) T_ref exp[−(Ea/k_B)(1/T − 1/T_ref)], T_ref = 573.15 K, and
    R = L/(σ A); the capacitances are C_bulk = ε0 ε_r A/L and C_gb as given, turned into CPE
    parameters through Brug's relation C = (R^{1−n} Q)^{1/n}, i.e. Q = C^n R^{n−1}
    (Brug et al., J. Electroanal. Chem. 176, 275 (1984)). R0 = 50 Ω (leads and contacts: the
    data determine it to ≈ 10 %; 1 Ω would be undetermined under the bulk arc). Noise: 0.5 % of
    |Z| on each part (``modulus`` model). Frequencies 10 MHz → 0.1 Hz, 8 per decade.
    """
    import numpy as np

    from iondyn.constants import EPS0, K_B_EV, ZERO_CELSIUS_K
    from iondyn.eis.simulate import simulate_spectrum

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    length, area = PELLET["thickness_cm"], PELLET["area_cm2"]
    t_ref = 573.15
    paths, manifest = [], ["file,temperature_C"]
    temps = PELLET["temperatures_C"] if temperatures_C is None else temperatures_C
    for i, t_c in enumerate(temps):
        t = t_c + ZERO_CELSIUS_K
        params: dict[str, float] = {"R0": PELLET["R0_ohm"]}
        for k, name in enumerate(("bulk", "grain boundary"), start=1):
            proc = PELLET[name]
            sigma = (
                proc["sigma_573K_S_per_cm"]
                * t_ref
                / t
                * np.exp(-proc["Ea_eV"] / K_B_EV * (1.0 / t - 1.0 / t_ref))
            )
            r = length / (sigma * area)
            c = proc["C_F"] if "C_F" in proc else EPS0 / 100.0 * proc["eps_r"] * area / length
            params[f"R{k}"] = float(r)
            params[f"CPE{k}_Q"] = float(c ** proc["n"] * r ** (proc["n"] - 1.0))
            params[f"CPE{k}_n"] = proc["n"]
        params["CPE3_Q"] = PELLET["electrode"]["Q"]
        params["CPE3_n"] = PELLET["electrode"]["n"]
        spec = simulate_spectrum(
            "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3",
            params,
            fmin=0.1,
            fmax=1e7,
            points_per_decade=8,
            noise=PELLET["noise"],
            noise_model="modulus",
            seed=seed + i,
        )
        path = out / f"pellet_{i + 1:02d}.csv"
        rows = np.column_stack([spec.frequency, spec.z.real, -spec.z.imag])
        np.savetxt(
            path,
            rows,
            delimiter=",",
            header="freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm",
            comments="",
            fmt="%.8g",
        )
        paths.append(path)
        manifest.append(f"{path.name},{t_c:g}")
    manifest_path = out / "manifest.csv"
    manifest_path.write_text("\n".join(manifest) + "\n")
    return paths, manifest_path


DEMO_CONFIG = """# settings of the iondyn demo run (see docs/pipeline.md)
[[rule]]
pattern = "xps/*.txt"
kind = "peaks"
shape = "gaussian"
max_peaks = 4
background = "shirley"

[[rule]]
pattern = "tsdc/*.csv"
kind = "tsdc"
beta_K_per_min = 5.0      # the file states no heating rate: assumed
kinetics = "gaussian"     # distributed activation energies

[[rule]]
pattern = "pellet_*.csv"
kind = "impedance"
thickness_cm = {thickness}
area_cm2 = {area}
series_name = "simulated pellet"
temperature_manifest = "pellet_series/manifest.csv"
"""


def pipeline_step(out: Path, workers: int | None = None) -> DemoStep:
    """``iondyn analyze`` on the bundled examples and the simulated pellet series, then
    ``iondyn report``; the summary compares the series' activation energies with the
    simulated ones."""
    import json

    from iondyn.examples import example_path, list_examples
    from iondyn.pipeline import ResultStore, run_batch
    from iondyn.report.html import write_report

    out.mkdir(parents=True, exist_ok=True)
    simulate_pellet_series(out / "pellet_series")
    config = out / "demo.toml"
    config.write_text(DEMO_CONFIG.format(thickness=PELLET["thickness_cm"], area=PELLET["area_cm2"]))
    inputs = [example_path(name) for name in list_examples()] + [out / "pellet_series"]
    run_dir = out / "run"
    summary = run_batch(inputs, run_dir, workers=workers, config=config, command="iondyn demo")
    report = write_report(run_dir)
    d = summary.to_dict()
    lines = [
        f"analysed {d['files']} files ({len(inputs) - 1} bundled examples + "
        f"{len(PELLET['temperatures_C'])} simulated pellet spectra): {d['ok']} ok, "
        f"{d['error']} error, {d['skipped']} already stored, in {d['seconds']:.1f} s on "
        f"{d['executor']} ({d['workers']} workers)"
    ]
    with ResultStore(run_dir) as store:
        for r in store.query("SELECT name, kind, status, message FROM current_files ORDER BY kind"):
            text = r["message"] if r["status"] == "ok" else f"ERROR {r['message']}"
            lines.append(f"  {r['kind']:9s} {r['name']}: {text}")
        series = store.query("SELECT * FROM series WHERE series = 'simulated pellet'")
    found = {}
    for s in series:
        truth = PELLET.get(s["item"], {}).get("Ea_eV")
        found[s["item"]] = s["Ea_eV"]
        if s["Ea_eV"] is None:
            continue
        tail = f" (simulated {truth:.2f} eV)" if truth is not None else ""
        lines.append(
            f"  Arrhenius, simulated pellet, {s['item']}: Ea = "
            f"{format_value(s['Ea_eV'], s['Ea_eV_err'], 'eV')} from {s['n_points']} "
            f"temperatures{tail}"
        )
    if any("MissingFreq" in (e.get("example_file") or "") for e in d["top_errors"]):
        lines.append(
            "  (exampleDataBioLogic_MissingFreq.mpt is bundled broken on purpose: its header "
            "names one column fewer than its rows hold)"
        )
    lines.append(f"report: {report.path} ({report.plots} interactive plots)")
    data = {"summary": d, "report": report.to_dict(), "series_Ea_eV": found}
    files = [str(run_dir / "results.sqlite"), report.path]
    return DemoStep("analyze+report", lines, files, json.loads(json.dumps(data)))


def xps_step(out: Path) -> DemoStep:
    """Decompose the bundled XPS C 1s spectrum with a Shirley background (K by BIC)."""
    import json

    from iondyn.examples import example_path
    from iondyn.peaks import PeakFitter
    from iondyn.peaks.plot import save_peak_plots
    from iondyn.serialize import to_jsonable

    path = example_path("xps/GFET0126_25V_C1s.txt")
    fitter = PeakFitter(shape="gaussian", n_peaks="auto", max_peaks=4, background="shirley")
    result = fitter.fit_files([path])
    fit = result[0]
    png = save_peak_plots([fit], out / "xps_C1s_fit.png")[0]
    js = out / "xps_C1s_fit.json"
    js.write_text(json.dumps(to_jsonable(result.to_dict()), indent=1, allow_nan=False))
    lines = [
        f"XPS C 1s ({path.name}): {fit.n_peaks} Gaussian peaks + Shirley background, "
        f"R² = {fit.quality['r2']:.4f}, K chosen by BIC"
    ]
    for p in fit.peak_table():
        lines.append(
            f"  peak {p['id']}: center {format_value(p['center'], p['center_err'], ratio=False)} "
            f"eV, FWHM {format_value(p['fwhm'], p['fwhm_err'], 'eV')}, "
            f"area {format_value(p['area'], p['area_err'])}"
        )
    return DemoStep("xps", lines, [str(png), str(js)], {"n_peaks": fit.n_peaks})


def tsdc_step(out: Path) -> DemoStep:
    """Decompose the bundled TSDC curve (OHA_1) into relaxations with distributed Ea, K by BIC.

    The file states no heating rate; 5 K/min is assumed (Ea and σ_E do not depend on β, τ0 and
    P0 scale as 1/β).
    """
    import json

    import numpy as np

    from iondyn.examples import example_path
    from iondyn.io.tsdc import read_tsdc
    from iondyn.serialize import to_jsonable
    from iondyn.tsdc import TSDCFitter
    from iondyn.tsdc.plots import save_tsdc_plots

    path = example_path("tsdc/OHA_1.csv")
    curve = read_tsdc(path, beta=5.0 / 60.0)
    result = TSDCFitter(n_peaks="auto", kinetics="gaussian", background="none").fit(curve)
    fit = result[0]
    png = save_tsdc_plots([fit], out / "tsdc_OHA_1_fit.png")[0]
    js = out / "tsdc_OHA_1_fit.json"
    js.write_text(json.dumps(to_jsonable(result.to_dict()), indent=1, allow_nan=False))
    ref = curve.metadata["reference_curves"]
    y = curve.current
    authors = sum(ref.values())
    r2_authors = 1.0 - float(np.sum((y - authors) ** 2) / np.sum((y - y.mean()) ** 2))
    lines = [
        f"TSDC ({path.name}, β = 5 K/min assumed): {fit.n_peaks} relaxations with Gaussian "
        f"distributions of Ea, K chosen by BIC, R² = {fit.quality['r2']:.4f} (the authors' "
        f"{len(ref)} first-order components in the file: R² = {r2_authors:.4f})"
    ]
    for p in fit.peaks:
        ea = format_value(p["Ea_eV"], p["Ea_eV_err"], "eV")
        poor = 0.25 * p["Ea_eV"] < p["Ea_eV_err"] < p["Ea_eV"]
        vague = " (poorly determined)" if poor else ""
        lines.append(
            f"  peak {p['id']}: Tm {p['Tm_K']:.1f} K, Ea {ea}{vague}, "
            f"σ_E {format_value(p['sigma_E_eV'], p['sigma_E_eV_err'], 'eV')}, "
            f"τ0 {p['tau0_s']:.2g} s, P0 {format_value(p['P0'], p['P0_err'], fit.charge_unit)}"
        )
    lines += [f"  warning: {w}" for w in fit.warnings]
    return DemoStep(
        "tsdc",
        lines,
        [str(png), str(js)],
        {"n_peaks": fit.n_peaks, "r2": fit.quality["r2"], "r2_authors": r2_authors},
    )


#: Per-area walkthroughs (single-file fits with matplotlib figures), run with ``walkthroughs``.
STEPS = (xps_step, tsdc_step)


def run_demo(
    out_dir: str | Path = "demo_run", workers: int | None = None, walkthroughs: bool = False
) -> DemoResult:
    """Analyse the bundled examples with the batch pipeline and write the report below
    ``out_dir``; with ``walkthroughs`` also run every per-area step."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps = [pipeline_step(out, workers)]
    if walkthroughs:
        (out / "walkthroughs").mkdir(exist_ok=True)
        steps += [step(out / "walkthroughs") for step in STEPS]
    return DemoResult(str(out), steps)
