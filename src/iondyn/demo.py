"""The demonstration run behind ``make demo`` / ``iondyn demo``.

It analyses the example data bundled with the package and writes what it produced into an
output folder. Each analysis area adds a step here; the library returns a :class:`DemoResult`
and the CLI prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DemoResult", "DemoStep", "run_demo"]


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
            f"  peak {p['id']}: center {p['center']:.3f} ± {p['center_err']:.3f} eV, "
            f"FWHM {p['fwhm']:.3f} ± {p['fwhm_err']:.3f} eV, area {p['area']:.4g}"
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
        vague = " (poorly determined)" if p["Ea_eV_err"] > 0.25 * p["Ea_eV"] else ""
        lines.append(
            f"  peak {p['id']}: Tm {p['Tm_K']:.1f} K, Ea {p['Ea_eV']:.3f} ± {p['Ea_eV_err']:.3f} "
            f"eV{vague}, σ_E {p['sigma_E_eV']:.3f} eV, τ0 {p['tau0_s']:.2g} s, "
            f"P0 {p['P0']:.4g} {fit.charge_unit}"
        )
    lines += [f"  warning: {w}" for w in fit.warnings]
    return DemoStep(
        "tsdc",
        lines,
        [str(png), str(js)],
        {"n_peaks": fit.n_peaks, "r2": fit.quality["r2"], "r2_authors": r2_authors},
    )


STEPS = (xps_step, tsdc_step)


def run_demo(out_dir: str | Path = "demo_run") -> DemoResult:
    """Run every demonstration step, writing results below ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return DemoResult(str(out), [step(out) for step in STEPS])
