"""The map, molecular-dynamics, loss-decomposition and tracked-process results show
themselves like every other result (issue 15: ``repr``, ``_repr_html_``, ``.plot(ax=None)``,
``.to_dataframe()``), on real files where the repository has them."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from shows import assert_shows_itself

import iondyn

DATA = Path(__file__).parents[1] / "data"
MD_DATA = Path(__file__).parents[1] / "md" / "data"


@pytest.fixture(scope="module")
def results():
    from iondyn.demo import simulate_pellet_series
    from iondyn.eis.decompose import decompose_loss
    from iondyn.maps import MapDecomposer, MapFitter, SpectrumMap, read_map
    from iondyn.maps.profile import profile_across
    from iondyn.md.diffusion import DiffusionFitter
    from iondyn.md.jumps import SiteAnalyzer
    from iondyn.md.readers import open_trajectory
    from iondyn.md.regional import RegionalFitter
    from iondyn.md.simulate import interface_walk, lattice_walk
    from iondyn.md.trajectory import Trajectory, build_trajectory
    from iondyn.series import fit_temperature_series

    sys_path = Path(__file__).parents[1] / "maps"
    import sys

    sys.path.insert(0, str(sys_path))
    from map_simulate import three_peak_map

    x, data, _ = three_peak_map(10, 12, 300, seed=1)
    fit = MapFitter("gaussian", 3, likelihood="poisson").fit(SpectrumMap(data, x))
    si = read_map(DATA / "maps" / "SI_data.npz")  # a real EELS spectrum image
    decomposition = MapDecomposer(8).fit(si)
    # a Ti-edge-like shift across a straight interface (x = 15 px), logistic step of scale 2 px
    rng = np.random.default_rng(0)
    cols = np.indices((20, 30))[1]
    shift = 455.0 + 1.2 * 0.5 * (1 + np.tanh(0.5 * (cols - 15.0) / 2.0))
    profile = profile_across(shift + rng.normal(0, 0.05, shift.shape), np.full(shift.shape, 0.05),
                             (15.0, 0.0, 15.0, 19.0), quantity="edge onset (eV)",
                             pixel_size=0.2, spatial_unit="nm")  # fmt: skip

    traj = build_trajectory(open_trajectory(DATA / "md" / "kinisi_example_XDATCAR.gz"), "Li",
                            frame_interval_fs=100.0, temperature_K=600.0)  # fmt: skip
    diffusion = DiffusionFitter(dims="xy", fit_start_ps=2.0, end_fraction=1.0).fit(traj)
    pos, cell = interface_walk(60, 300, seed=2)
    regional = RegionalFitter(n_slabs=4).fit(
        Trajectory.from_arrays(pos, cell, 1.0, ["Li"] * 60, "Li", temperature_K=600.0)
    )
    pos, cell = lattice_walk(10, 300, 0.1, box_sites=4, spacing_A=2.0, seed=3)
    g = np.arange(4) / 4
    sites = np.array(np.meshgrid(g, g, g, indexing="ij")).reshape(3, -1).T
    jumps = SiteAnalyzer(sites).fit(Trajectory.from_arrays(pos, cell, 1.0, ["Li"] * 10, "Li"))

    gamry = iondyn.read(DATA / "eis" / "exampleDataGamry.DTA")[0]
    loss = decompose_loss(gamry)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        paths, _ = simulate_pellet_series(tmp, temperatures_C=(275.0, 325.0, 375.0))
        pellets = [iondyn.read(p)[0] for p in paths]
    series = fit_temperature_series(pellets, [548.15, 598.15, 648.15], 0.1, 0.785)
    return {
        "MapFitResult": fit,
        "DecompositionResult": decomposition,
        "NMFResult": decomposition.nmf,
        "InterfaceProfile": profile,
        "DiffusionResult": diffusion,
        "RegionalResult": regional,
        "JumpResult": jumps,
        "LossDecomposition": loss,
        "TrackedProcess": series.processes[0],
    }


NAMES = [
    "MapFitResult",
    "DecompositionResult",
    "NMFResult",
    "InterfaceProfile",
    "DiffusionResult",
    "RegionalResult",
    "JumpResult",
    "LossDecomposition",
    "TrackedProcess",
]


@pytest.mark.parametrize("name", NAMES)
def test_result_shows_itself_plots_and_tabulates(results, name):
    assert_shows_itself(results[name], name, max_lines=40, rows=True)


def test_the_summaries_carry_the_numbers(results):
    d = results["DiffusionResult"]
    text = repr(d)
    assert "D* (tracer)" in text and "cm²/s" in text
    mantissa = f"{d.D_cm2_per_s:.3e}"[:3]  # the value is shown, rounded by its error
    assert mantissa in text
    fit = results["MapFitResult"]
    page = fit._repr_html_()
    assert "peaks over the pixels" in page and "quality map" in page
    med = np.nanmedian(fit.maps["center"][..., 1])
    assert f"{med:.4g}"[:4] in repr(fit)
    loss = results["LossDecomposition"]
    assert f"arc {loss.n_arcs} R" in repr(loss)
    prof = results["InterfaceProfile"]
    assert prof.fit["width"] == pytest.approx(2.0, rel=0.1)
    shown = f"width = {0.2 * prof.fit['width']:.2f}"  # pixels × 0.2 nm, rounded by its error
    assert shown in repr(prof) and "nm" in repr(prof)
    tracked = results["TrackedProcess"]
    assert "Ea" in repr(tracked) and tracked.label in repr(tracked)


def test_map_views_refuse_what_does_not_exist(results):
    from iondyn.errors import InputError

    with pytest.raises(InputError, match="no map 'nonsense'"):
        results["MapFitResult"].plot(quantity="nonsense")
    with pytest.raises(InputError, match="peak must be 1"):
        results["MapFitResult"].plot(peak=9)
    with pytest.raises(InputError, match="what must be"):
        results["DecompositionResult"].plot(what="histogram")
    ax = results["DecompositionResult"].plot(what="phase")
    assert ax.images and ax.get_title().startswith("phase")
    ax = results["MapFitResult"].plot(quantity="quality")
    assert ax.images
    plt.close("all")
