"""Backgrounds of map fits (EELS power law, ALS for Raman, Shirley for XPS) and the
variable-projection kernel against the SAEM engine."""

from __future__ import annotations

import numpy as np
from map_simulate import gaussians

from iondyn.maps import MapFitter, SpectrumMap
from iondyn.maps.lineshapes import get_map_shape
from iondyn.maps.model import MapModel
from iondyn.maps.templates import saem_for_map, saem_theta
from iondyn.maps.varpro import vp_refine
from iondyn.saem.background_als import _d2_bands, als_baseline, pentadiagonal_solve


def _map(x, centers, fwhm, areas, bg, shape=(5, 6), seed=0):
    rng = np.random.default_rng(seed)
    c = np.broadcast_to(centers, shape + (len(centers),))
    mean = gaussians(x, c, np.broadcast_to(fwhm, c.shape), np.broadcast_to(areas, c.shape)) + bg
    return rng.poisson(mean).astype(float)


def test_power_law_before_an_edge():
    x = np.linspace(400.0, 700.0, 300)
    bg = 4000.0 * (x / 400.0) ** -3.0
    data = _map(x, [530.0], [12.0], [40000.0], bg)
    fit = MapFitter(n_peaks=1, background="power-law", likelihood="poisson").fit(
        SpectrumMap(data, x)
    )
    r, r_err = fit.maps["bg_r"], fit.maps["bg_r_err"]
    assert np.all(np.abs(r - 3.0) < 4 * r_err) and np.all(r_err < 0.1)
    assert np.all(np.abs(fit.maps["center"] - 530.0) < 0.05 * 12.0)


def test_als_baseline_under_raman_peaks():
    x = np.linspace(100.0, 1800.0, 500)
    bg = 300 + 200 * np.sin((x - 100) / 700) + 0.05 * (x - 100)
    data = _map(x, [520.0, 1350.0, 1580.0], [25.0, 40.0, 30.0], [4e5, 3e5, 5e5], bg)
    fit = MapFitter(n_peaks=3, background="als", likelihood="poisson").fit(SpectrumMap(data, x))
    err = np.abs(fit.maps["center"] - np.array([520.0, 1350.0, 1580.0])) / np.array([25, 40, 30])
    assert err.max() < 0.05
    assert np.all(np.abs(fit.maps["area"] / np.array([4e5, 3e5, 5e5]) - 1) < 0.1)


def test_shirley_step_of_an_xps_map():
    x = np.linspace(280.0, 295.0, 300)
    c, w, a = np.array([284.8, 286.5]), np.array([1.0, 1.2]), np.array([5e4, 2e4])
    peaks = gaussians(x, c, w, a)
    # step rising towards high binding energy: ∝ the peak area above x
    step = 0.02 * np.cumsum(peaks[::-1])[::-1] * (x[1] - x[0])
    data = _map(x, c, w, a, 200 + step)
    fit = MapFitter(n_peaks=2, background="shirley", likelihood="poisson").fit(SpectrumMap(data, x))
    assert np.all(np.abs(fit.maps["center"] - c) < 0.05 * w)
    assert np.all(np.abs(fit.maps["bg_k"] - 0.02) < 4 * fit.maps["bg_k_err"])


def test_variable_projection_reaches_the_saem_optimum():
    rng = np.random.default_rng(7)
    x = np.linspace(0.0, 60.0, 400)
    y = rng.poisson(
        gaussians(x, np.array([22.0, 30.0]), np.array([5.0, 6.0]), np.array([2e4, 1.2e4]))
        + 80.0
        + 0.5 * x
    ).astype(float)
    shape = get_map_shape("gaussian")
    engine = saem_for_map(shape, 2, "linear", "poisson")
    sfit = engine.fit((x, y[None])).fits[0]
    model = MapModel(shape, 2, "linear", x)
    start = saem_theta(model, sfit) * np.array([1.01, 0.95, 0.99, 1.05])  # moved off
    res = vp_refine(model, y[None], start[None], likelihood="poisson")
    assert res.converged[0]
    assert abs(res.cost[0] - sfit.quality["deviance"]) < 1e-4 * sfit.quality["deviance"]
    assert np.allclose(res.theta[0], saem_theta(model, sfit), atol=2e-3)
    # same errors as the SAEM refinement (both: inverse Fisher information)
    err_c = np.sqrt(res.cov[0, model.n_lin, model.n_lin])
    assert abs(err_c / sfit.peaks["center_err"][0] - 1) < 0.05
    assert abs(res.coef[0, 0] / sfit.peaks["area"][0] - 1) < 1e-3


def test_batched_pentadiagonal_solver_and_als():
    rng = np.random.default_rng(1)
    n = 40
    main, o1, o2 = _d2_bands(n)
    w = rng.uniform(0.1, 1.0, (3, n))
    lam = 30.0
    rhs = rng.normal(size=(3, n))
    z = pentadiagonal_solve(w + lam * main, lam * o1, lam * o2, rhs)
    for b in range(3):
        a = np.diag(w[b] + lam * main) + lam * (np.diag(o1, 1) + np.diag(o1, -1))
        a += lam * (np.diag(o2, 2) + np.diag(o2, -2))
        assert np.allclose(a @ z[b], rhs[b])
    x = np.linspace(0, 1, 500)
    y = 100 + 50 * x + 1000 * np.exp(-0.5 * ((x - 0.5) / 0.01) ** 2)
    assert np.abs(als_baseline(y[None])[0] - (100 + 50 * x)).max() < 5.0
