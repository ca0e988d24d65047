"""Map fits on simulated maps with known truth: K once per map, every pixel right, honest
errors, peak identity, and the chunked (memory-mapped) path."""

from __future__ import annotations

import numpy as np
import pytest
from map_simulate import three_peak_map

from iondyn.maps import MapFitter, SpectrumMap, read_map


@pytest.fixture(scope="module")
def three_peaks():
    x, data, truth = three_peak_map(20, 20, 300, seed=1)
    fit = MapFitter("gaussian", "auto", likelihood="poisson", background="linear").fit(
        SpectrumMap(data, x, source="sim")
    )
    return x, data, truth, fit


def test_k_chosen_once_and_every_pixel_right(three_peaks):
    _, _, truth, fit = three_peaks
    assert fit.n_peaks == 3
    chosen = [t for t in fit.bic_table if t["chosen"]]
    assert [t["n_peaks"] for t in chosen] == [3] and chosen[0]["delta_bic"] == 0
    assert all(t["delta_bic"] > 10 for t in fit.bic_table if t["n_peaks"] != 3)
    err = np.abs(fit.maps["center"] - truth["center"]) / truth["fwhm"]
    assert np.mean(err.max(axis=-1) < 0.05) >= 0.99
    # the pixels' own standard errors are honest (Poisson): rms z ≈ 1
    for q in ("center", "area"):
        z = (fit.maps[q] - truth[q]) / fit.maps[f"{q}_err"]
        assert 0.8 < np.sqrt(np.mean(z**2)) < 1.25, q
    assert fit.quality_counts()["misfit"] <= 2
    assert fit.maps["converged"].all()


def test_peak_identity_is_kept_across_the_map(three_peaks):
    _, _, truth, fit = three_peaks
    c = fit.maps["center"]
    # the drifting peaks keep their ids everywhere: each id follows its own true peak
    assert np.all(np.abs(c - truth["center"]) < 0.3 * truth["fwhm"])
    assert np.all(c[..., 0] < c[..., 1]) and np.all(c[..., 1] < c[..., 2])
    ratio = fit.maps["ratio_2_1"]
    assert np.allclose(ratio, fit.maps["area"][..., 1] / fit.maps["area"][..., 0])
    assert np.all(fit.maps["ratio_2_1_err"] > 0)


def test_chunked_memory_mapped_path_gives_the_same_fit(tmp_path):
    x, data, truth = three_peak_map(16, 12, 200, seed=4)
    path = tmp_path / "map.npy"
    np.save(path, data.astype(np.float32))
    m = read_map(path, axis=(x[0], x[1] - x[0]))
    assert m.lazy and m.n_pixels > 64  # read in blocks smaller than the map
    whole = MapFitter(n_peaks=3, likelihood="poisson", block_pixels=4096).fit(
        SpectrumMap(data.astype(np.float32).astype(float), x)
    )
    chunked = MapFitter(n_peaks=3, likelihood="poisson", block_pixels=64).fit(m)
    assert np.allclose(chunked.maps["center"], whole.maps["center"], atol=1e-3 * 7.0)
    err = np.abs(chunked.maps["center"] - truth["center"]) / truth["fwhm"]
    assert np.mean(err.max(axis=-1) < 0.05) >= 0.99


def test_nan_pixels_are_masked_and_counted():
    x, data, truth = three_peak_map(8, 8, 200, seed=5)
    data[2, 3, 10] = np.nan
    data[5, 5, :] = np.nan
    fit = MapFitter(n_peaks=3, likelihood="poisson").fit(SpectrumMap(data, x))
    assert fit.stats["n_masked"] == 2 and any("2 pixel(s) hold NaN" in w for w in fit.warnings)
    assert np.isnan(fit.maps["center"][2, 3]).all() and fit.maps["quality"][5, 5] == -1
    ok = np.isfinite(fit.maps["center"][..., 0])
    assert ok.sum() == 62
    err = np.abs(fit.maps["center"][ok] - truth["center"][ok]) / 7.0
    assert err.max() < 0.1


def test_one_pixel_map_is_fitted_like_a_spectrum():
    x, data, truth = three_peak_map(1, 1, 300, seed=6)
    fit = MapFitter("gaussian", "auto", likelihood="poisson").fit(SpectrumMap(data, x))
    assert fit.n_peaks == 3 and fit.maps["center"].shape == (1, 1, 3)
    assert np.all(np.abs(fit.maps["center"] - truth["center"]) < 0.1 * truth["fwhm"])
