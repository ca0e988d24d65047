"""The Python API a notebook user meets: `iondyn.read` for every kind, the names the packages
export, and results that show themselves (short repr, an HTML table, `.plot()`,
`.to_dataframe()`) instead of dataclass dumps."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from shows import assert_shows_itself

import iondyn
from iondyn.errors import FileFormatError, InputError
from iondyn.examples import example_path

DATA = Path(__file__).resolve().parents[1] / "data"
ROOT = Path(__file__).resolve().parents[2]


def test_import_iondyn_exposes_no_stray_names():
    code = (
        "import json, types, iondyn; print(json.dumps([n for n, v in vars(iondyn).items() "
        "if not n.startswith('_') and not isinstance(v, types.ModuleType)]))"
    )
    names = json.loads(subprocess.check_output([sys.executable, "-c", code], text=True))
    assert set(names) <= set(iondyn.__all__)
    for stray in ("annotations", "version", "PackageNotFoundError", "importlib"):
        assert stray not in names
    assert {"read", "DataList", "ImpedanceSpectrum", "__version__"} <= set(iondyn.__all__)


@pytest.mark.parametrize("package", ["eis", "io"])
def test_subpackages_export_what_their_docs_show(package):
    module = getattr(iondyn, package)  # reachable from `import iondyn` alone
    assert isinstance(module, types.ModuleType) and len(module.__doc__) > 500
    for name in module.__all__:
        assert getattr(module, name) is not None
        assert name in dir(module)
    with pytest.raises(AttributeError):
        _ = module.no_such_name
    shown = {"eis": ("AutoFitter", "CircuitFitter", "LinKK", "DRT"), "io": ("read_tsdc",)}
    for name in shown[package]:
        assert name in module.__doc__ and name in module.__all__
    for sub in iondyn.SUBPACKAGES:
        assert isinstance(getattr(iondyn, sub), types.ModuleType)


@pytest.mark.parametrize(
    ("path", "kind", "cls", "n"),
    [
        (example_path("eis/exampleDataGamry.DTA"), "impedance", "ImpedanceSpectrum", 1),
        (DATA / "eis" / "PEIS_LPSCl_IonBlocking_-25C.mpr", "impedance", "ImpedanceSpectrum", 1),
        (example_path("tsdc/OHA_1.csv"), "tsdc", "TSDCCurve", 1),
        (example_path("xps/GFET0126_25V_C1s.txt"), "peaks", "Spectrum", 1),
        (DATA / "xps" / "0-150W.vms", "peaks", "Spectrum", 5),
        (DATA / "maps" / "SI_data.npz", "map", "SpectrumMap", 1),
        (DATA / "md" / "kinisi_example_XDATCAR.gz", "md", "Trajectory", 1),
    ],
)
def test_read_any_kind_gives_one_shape(path, kind, cls, n):
    options = {"species": "Li", "frame_interval_fs": 100.0} if kind == "md" else {}
    data = iondyn.read(path, **options)
    assert isinstance(data, list) and isinstance(data, iondyn.DataList)
    assert data.kind == kind and data.source == str(path) and len(data) == n
    assert all(type(item).__name__ == cls for item in data)
    text = repr(data)
    assert text.startswith("<DataList: ") and "array(" not in text
    assert "<table" in data._repr_html_()
    df = data.to_dataframe()
    assert isinstance(df, pd.DataFrame) and set(df["item"]) == set(range(n))
    ax = data.plot()
    assert ax.has_data()
    plt.close("all")


def test_read_passes_options_and_refuses_what_it_cannot_settle(tmp_path):
    curve = iondyn.read(example_path("tsdc/OHA_1.csv"), beta=5 / 60)[0]
    assert curve.beta_K_per_s == pytest.approx(5 / 60)
    with pytest.raises(InputError, match=r"no option beta_per_min \(they take: beta,"):
        iondyn.read(example_path("tsdc/OHA_1.csv"), beta_per_min=5)
    both = tmp_path / "both.csv"
    both.write_text("T (eV),counts\n" + "\n".join(f"{i},{i * i}" for i in range(1, 30)))
    with pytest.raises(FileFormatError, match=r"could be .*tsdc.*peaks.*give kind="):
        iondyn.read(both)
    assert iondyn.read(both, kind="peaks").kind == "peaks"
    with pytest.raises(InputError, match="no reader for kind 'nonsense'"):
        iondyn.read(both, kind="nonsense")
    with pytest.raises(FileFormatError, match="not recognised"):
        iondyn.read(ROOT / "README.md")
    xdatcar = DATA / "md" / "kinisi_example_XDATCAR.gz"
    with pytest.raises(InputError, match=r"needs species= .*holds Li, Cl, S, P"):
        iondyn.read(xdatcar)
    with pytest.raises(InputError, match="no option beta"):
        iondyn.read(xdatcar, species="Li", beta=1.0)
    traj = iondyn.read(xdatcar, species="Li", frame_interval_fs=100.0, temperature_K=600.0)[0]
    assert (traj.n_frames, traj.n_ions, traj.temperature_K) == (140, 192, 600.0)
    image = iondyn.read(DATA / "maps" / "SI_data.npz")[0]
    total = image.to_dataframe()["total"].sum()
    assert total == pytest.approx(np.load(DATA / "maps" / "SI_data.npz")["X"].sum())


# ------------------------------------------------------------------------------- results
@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """One real result of every class the issue names, and the data objects."""
    from iondyn.demo import simulate_pellet_series
    from iondyn.eis import DRT, AutoFitter, LinKK
    from iondyn.peaks import PeakFitter
    from iondyn.physics import SpaceChargeSolver, load_config
    from iondyn.physics.pnp import PNPModel
    from iondyn.series import fit_arrhenius, fit_temperature_series
    from iondyn.tsdc import (
        TSDCFitter,
        bucci_fieschi,
        ea_distribution,
        heating_rate_method,
        initial_rise,
    )

    spectrum = iondyn.read(example_path("eis/exampleDataGamry.DTA"))[0]
    curve = iondyn.read(example_path("tsdc/OHA_1.csv"), beta=5 / 60)[0]
    xps = iondyn.read(example_path("xps/GFET0126_25V_C1s.txt"))
    auto = AutoFitter().fit(spectrum)
    peaks = PeakFitter(background="shirley", max_peaks=3).fit(xps)
    tsdc = TSDCFitter(n_peaks=2).fit([curve])
    T, J = curve.temperature_K, curve.current
    folder = tmp_path_factory.mktemp("pellets")
    paths, _ = simulate_pellet_series(folder, temperatures_C=(275.0, 325.0, 375.0))
    pellets = [iondyn.read(p)[0] for p in paths]
    series = fit_temperature_series(pellets, [548.15, 598.15, 648.15], 0.1, 0.785)
    cell = load_config(ROOT / "examples" / "physics" / "blocking_cell.toml").device
    model = PNPModel(cell, max_bias_V=0.01)
    return {
        "AutoFitResult": auto,
        "CircuitFitResult": auto.fit,
        "KKResult": LinKK().fit(spectrum),
        "DRTResult": DRT().fit(spectrum),
        "SAEMResult": peaks,
        "SpectrumFit": peaks[0],
        "TSDCResult": tsdc,
        "TSDCFit": tsdc[0],
        "TemperatureSeriesResult": series,
        "ArrheniusFit": fit_arrhenius(
            np.array([500.0, 550, 600, 650]),
            np.array([1e-5, 5e-5, 2e-4, 6e-4]),
            np.array([1e-6, 5e-6, 2e-5, 6e-5]),
        ),
        "SCLResult": SpaceChargeSolver().solve(cell),
        "IVResult": model.iv_curve(np.linspace(-0.01, 0.01, 3)),
        "PNPImpedanceResult": model.impedance(np.logspace(5, -1, 7)),
        "InitialRiseResult": initial_rise(T, J),
        "BucciFieschiResult": bucci_fieschi(T, J, curve.beta_K_per_s),
        "EaDistribution": ea_distribution(T, J, curve.beta_K_per_s),
        "HeatingRateResult": heating_rate_method([370.0, 380.0, 390.0], [0.05, 0.1, 0.2]),
        "ImpedanceSpectrum": spectrum,
        "TSDCCurve": curve,
        "Spectrum": xps[0],
        "_curve": (T, J),
    }


CLASSES = [
    "AutoFitResult",
    "CircuitFitResult",
    "KKResult",
    "DRTResult",
    "SAEMResult",
    "SpectrumFit",
    "TSDCResult",
    "TSDCFit",
    "TemperatureSeriesResult",
    "ArrheniusFit",
    "SCLResult",
    "IVResult",
    "PNPImpedanceResult",
    "InitialRiseResult",
    "BucciFieschiResult",
    "EaDistribution",
    "HeatingRateResult",
    "ImpedanceSpectrum",
    "TSDCCurve",
    "Spectrum",
]


@pytest.mark.parametrize("name", CLASSES)
def test_every_result_shows_itself_plots_and_tabulates(results, name):
    curve = results["_curve"] if name == "InitialRiseResult" else ()
    assert_shows_itself(results[name], name, *curve)


def test_fit_results_show_parameters_errors_and_the_misfit_verdict(results):
    fit = results["CircuitFitResult"]
    text, page = repr(fit), fit._repr_html_()
    assert "R1 = 4113 ± 69 Ω" in text and "R0 = undetermined (± 40 Ω)" in text
    assert fit.misfit["verdict"] == "misfit"
    assert "residuals: MISFIT" in text and "residuals: MISFIT" in page
    assert "<table" in page and "4113 ± 69" in page and "⚠ undetermined" in page
    auto = results["AutoFitResult"]
    assert "processes" in repr(auto) and "candidates" in auto._repr_html_()
    from iondyn.eis.plots import plot_fit

    plt.close(plot_fit(auto))  # the figure of `eis fit --plot` takes the automatic result too
    peak = results["SpectrumFit"]
    verdict = peak.quality["misfit"]["verdict"]
    assert f"residuals: {'MISFIT' if verdict == 'misfit' else verdict}" in repr(peak)
    tsdc = results["TSDCFit"]
    assert "Ea (eV)" in repr(tsdc) and "residuals:" in repr(tsdc)
