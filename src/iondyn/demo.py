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


STEPS = (xps_step,)


def run_demo(out_dir: str | Path = "demo_run") -> DemoResult:
    """Run every demonstration step, writing results below ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return DemoResult(str(out), [step(out) for step in STEPS])
