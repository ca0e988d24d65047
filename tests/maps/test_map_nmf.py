"""NMF-ARD: the number of components found automatically; the real EELS spectrum image
decomposed and fitted on one edge region; orthogonality; PCA denoising; the dispersion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from map_simulate import nmf_map

from iondyn.maps import NMFARD, MapDecomposer, MapFitter, PCADenoise, SpectrumMap, read_map
from iondyn.maps.nmf import estimate_dispersion

DATA = Path(__file__).parents[1] / "data" / "maps"


@pytest.mark.slow
def test_ard_recovers_the_number_of_components_in_40_random_maps():
    right = 0
    for seed in range(40):
        k, v = nmf_map(seed)
        res = NMFARD(8).fit(v)
        right += res.n_components == k
        assert np.all(res.spectra >= 0) and np.all(res.abundances >= 0)
    assert right >= 38  # ≥ 95 %


@pytest.fixture(scope="module")
def si():
    return read_map(DATA / "SI_data.npz")


def test_real_eels_map_decomposed(si):
    res = MapDecomposer(8).fit(si)
    doc = res.to_dict()
    assert res.n_components == 2 and doc["nonnegative"]
    assert np.all(res.spectra >= 0) and np.all(res.maps["abundance"] >= 0)
    assert 0.2 < doc["relative_error"] < 0.3  # a noisy map: the residual is the noise
    peaks = sorted(c["peak_at"] for c in doc["components"])
    assert 80 < peaks[0] < 84 < peaks[1] < 88  # the edge onset moves between the phases
    assert np.allclose(res.maps["fraction"].sum(axis=-1), 1.0)
    assert set(np.unique(res.maps["phase"])) == {0, 1}


def test_real_eels_map_fitted_on_one_edge_region(si):
    fit = MapFitter("gaussian", "auto", max_peaks=4, background="constant", xmin=60, xmax=105).fit(
        si
    )
    assert fit.n_peaks == 1 and fit.maps["converged"].all()
    c = fit.maps["center"][..., 0]
    assert 81 < np.percentile(c, 5) and np.percentile(c, 95) < 88
    assert fit.quality_counts()["misfit"] <= 0.02 * c.size
    # the centre map follows the phases of the decomposition
    dec = MapDecomposer(8).fit(si)
    low = int(np.argmin([s.argmax() for s in dec.spectra]))
    frac = dec.maps["fraction"][..., low]
    assert np.corrcoef(frac.ravel(), c.ravel())[0, 1] < -0.5


def test_orthogonality_keeps_the_components_and_separates_the_maps(si):
    plain = MapDecomposer(8).fit(si)
    ortho = MapDecomposer(8, orthogonality=0.05).fit(si)
    assert ortho.n_components == plain.n_components == 2

    def overlap(r):
        a = r.maps["abundance"].reshape(-1, 2)
        a = a / np.linalg.norm(a, axis=0)
        return float(a[:, 0] @ a[:, 1])

    assert overlap(ortho) < overlap(plain)


def test_pca_denoising_keeps_the_signal_and_removes_noise():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, 120)
    spectra = np.stack([np.exp(-0.5 * ((x - c) / 0.05) ** 2) + 0.1 for c in (0.3, 0.5, 0.7)])
    ab = rng.dirichlet(np.ones(3), size=20 * 20)
    mean = (200.0 * ab @ spectra).reshape(20, 20, 120)
    noisy = rng.poisson(mean).astype(float)
    res = PCADenoise().fit(SpectrumMap(noisy, x))
    assert res.n_kept == 3  # the rank of the signal, found above the Marchenko–Pastur edge
    den = np.asarray(res.denoised.data)
    assert np.sqrt(np.mean((den - mean) ** 2)) < 0.4 * np.sqrt(np.mean((noisy - mean) ** 2))


def test_dispersion_of_scaled_counts():
    rng = np.random.default_rng(3)
    v = rng.poisson(50.0, (200, 80)).astype(float)
    assert estimate_dispersion(v) == 1.0
    assert estimate_dispersion(v * 0.01) == pytest.approx(0.01, rel=0.2)
