"""DRT building blocks: RBF kernels, penalty matrices, NNLS solver, λ search, peak areas."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import nnls

from iondyn.eis.drt_basis import (
    gaussian_rbf,
    kernel_matrices,
    make_grid,
    penalty_matrix,
    smoothed_gamma_scale,
    weighted_penalty_matrix,
)
from iondyn.eis.drt_lambda import TikhonovProblem, search_lambda, selection_scores
from iondyn.eis.drt_nnls import nnls_gram
from iondyn.eis.drt_peaks import find_drt_peaks, group_arcs, interval_areas
from iondyn.errors import InputError

OMEGA = 2 * np.pi * np.logspace(5, -1, 49)


def _kernel_by_quad(w: float, y0: float, s: float) -> complex:
    """∫ φ(y)/(1 + iω e^y) dy for φ(y) = exp(−(y − y0)²/(2s²)), adaptive quadrature."""

    def phi(y):
        return np.exp(-0.5 * ((y - y0) / s) ** 2)

    def real(y):
        return phi(y) / (1 + (w * np.exp(y)) ** 2)

    def imag(y):
        return -phi(y) * w * np.exp(y) / (1 + (w * np.exp(y)) ** 2)

    lim = (y0 - 12 * s, y0 + 12 * s)
    kw = {"epsabs": 1e-14, "epsrel": 1e-12, "limit": 200}
    return quad(real, *lim, **kw)[0] + 1j * quad(imag, *lim, **kw)[0]


@pytest.mark.parametrize("width_factor", [0.5, 1.0, 4.0])
def test_kernels_match_adaptive_quadrature(width_factor):
    grid = make_grid(OMEGA, per_decade=8, width_factor=width_factor)
    a_re, a_im = kernel_matrices(OMEGA, grid)
    area = grid.s * np.sqrt(2 * np.pi)
    for i in (0, 17, 48):
        for m in (0, grid.n // 2, grid.n - 1):
            ref = _kernel_by_quad(OMEGA[i], grid.ln_tau[m], grid.s)
            assert abs(a_re[i, m] - ref.real) < 1e-12 * area
            assert abs(a_im[i, m] - ref.imag) < 1e-12 * area


def test_kernels_are_cached_and_read_only():
    grid = make_grid(OMEGA)
    a1, _ = kernel_matrices(OMEGA, grid)
    a2, _ = kernel_matrices(OMEGA.copy(), grid)
    assert a1 is a2
    assert not a1.flags.writeable


def test_grid_covers_data_plus_a_decade():
    grid = make_grid(OMEGA)
    assert grid.tau[0] == pytest.approx(0.1 / OMEGA.max(), rel=1e-12)
    assert grid.tau[-1] >= 10 / OMEGA.min() * (1 - 1e-12)
    assert grid.s == pytest.approx(grid.spacing)
    # data density 8 points/decade → 8 basis functions per decade
    assert grid.spacing == pytest.approx(np.log(10) / 8, rel=0.05)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_penalty_matrix_matches_numerical_derivatives(order):
    grid = make_grid(OMEGA, per_decade=5)
    y = np.linspace(grid.ln_tau[0] - 8, grid.ln_tau[-1] + 8, 40001)
    basis = gaussian_rbf(y, grid)
    d = basis
    for _ in range(order):
        d = np.gradient(d, y, axis=0)
    numeric = d.T @ d * (y[1] - y[0])
    exact = penalty_matrix(grid, order)
    assert np.abs(numeric - exact).max() < 1e-5 * np.abs(exact).max()
    x = np.random.default_rng(0).random(grid.n)
    assert x @ exact @ x > 0
    with pytest.raises(InputError):
        penalty_matrix(grid, 3)


def test_nnls_matches_scipy_with_and_without_warm_start():
    rng = np.random.default_rng(7)
    for trial in range(40):
        m, n = rng.integers(10, 120), rng.integers(2, 60)
        a = rng.standard_normal((m + n, n))
        b = rng.standard_normal(m + n)
        ref, _ = nnls(a, b)
        start = rng.random(n) < 0.5 if trial % 2 else None
        sol = nnls_gram(a.T @ a, a.T @ b, start)
        assert sol.converged
        assert np.all(sol.x >= 0)
        f_ref = np.sum((a @ ref - b) ** 2)
        assert np.sum((a @ sol.x - b) ** 2) <= f_ref * (1 + 1e-10) + 1e-12


def test_selection_scores_closed_form():
    rss, tr = np.array([2.0, 1.0]), np.array([3.0, 10.0])
    assert selection_scores(rss, tr, 20, "gcv") == pytest.approx(20 * rss / (20 - tr) ** 2)
    assert selection_scores(rss, tr, 20, "mgcv") == pytest.approx(20 * rss / (20 - 1.3 * tr) ** 2)
    assert selection_scores(rss, tr, 100, "mgcv") == pytest.approx(100 * rss / (100 - 2 * tr) ** 2)
    assert np.isinf(selection_scores(np.array([1.0]), np.array([25.0]), 20, "gcv")[0])


def _smoothing_problem(noise, seed=0):
    """Deblurring a smooth non-negative signal: a classic Tikhonov test problem."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, 60)
    kernel = np.exp(-((t[:, None] - t[None, :]) ** 2) / (2 * 0.03**2))
    truth = np.exp(-((t - 0.35) ** 2) / 0.005) + 0.6 * np.exp(-((t - 0.7) ** 2) / 0.01)
    clean = kernel @ truth
    b = clean + noise * clean.max() * rng.standard_normal(t.size)
    d = np.diff(np.eye(t.size), axis=0)
    return kernel, b, d.T @ d, truth


def test_lambda_search_really_searches():
    lams = {}
    for noise in (1e-3, 3e-2):
        a, b, p, _ = _smoothing_problem(noise)
        s = search_lambda(TikhonovProblem(a, b, p), "gcv")
        lams[noise] = s.lam
        assert not s.at_edge
        assert s.evaluations > s.log10_grid.size  # grid scan plus refinement
        # the chosen λ is a minimum of the GCV curve on the scanned grid
        best = np.argmin(s.scores)
        assert s.scores[best] >= selection_scores(
            np.array([s.fit.rss]), np.array([s.fit.trace]), b.size, "gcv"
        )[0] * (1 - 1e-12)
    assert lams[3e-2] > 10 * lams[1e-3]  # more noise → stronger regularisation


def test_discrepancy_principle_hits_the_noise_level():
    a, b, p, _ = _smoothing_problem(1e-2, seed=3)
    sigma = 1e-2 * (a @ _smoothing_problem(0.0)[3]).max()
    s = search_lambda(TikhonovProblem(a, b, p), "discrepancy", noise_variance=sigma**2)
    assert s.fit.rss == pytest.approx(b.size * sigma**2, rel=0.05)
    s_gcv_noise = search_lambda(TikhonovProblem(a, b, p), "discrepancy")
    assert s_gcv_noise.noise_variance == pytest.approx(sigma**2, rel=0.4)


def test_lambda_search_rejects_bad_arguments():
    a, b, p, _ = _smoothing_problem(1e-2)
    with pytest.raises(InputError):
        search_lambda(TikhonovProblem(a, b, p), "aic")
    with pytest.raises(InputError):
        search_lambda(TikhonovProblem(a, b, p), "gcv", lam_range=(1.0, 0.1))


def test_peak_areas_partition_the_total():
    grid = make_grid(OMEGA, per_decade=10)
    x = np.zeros(grid.n)
    x[20], x[21], x[45] = 5.0, 4.0, 8.0
    y = np.linspace(grid.ln_tau[0], grid.ln_tau[-1], 4 * (grid.n - 1) + 1)
    gamma = gaussian_rbf(y, grid) @ x
    measured = (float(-np.log(OMEGA.max())), float(-np.log(OMEGA.min())))
    peaks = find_drt_peaks(y, gamma, x, grid, measured)
    assert len(peaks) == 2
    total = x.sum() * grid.s * np.sqrt(2 * np.pi)
    assert sum(p.R_ohm for p in peaks) == pytest.approx(total, rel=1e-12)
    assert peaks[0].R_ohm == pytest.approx(9.0 * grid.s * np.sqrt(2 * np.pi), rel=1e-6)
    assert peaks[1].tau_s == pytest.approx(grid.tau[45], rel=1e-3)
    assert interval_areas(x, grid, np.array([-np.inf, np.inf]))[0] == pytest.approx(total)
    # a small shoulder on the flank of the first peak is merged unless min_fraction = 0
    x[24], x[25] = 0.25, 0.5
    gamma = gaussian_rbf(y, grid) @ x
    merged = find_drt_peaks(y, gamma, x, grid, measured)
    assert len(merged) == 2
    assert merged[0].R_ohm == pytest.approx(9.75 * grid.s * np.sqrt(2 * np.pi), rel=1e-3)
    assert len(find_drt_peaks(y, gamma, x, grid, measured, min_fraction=0.0)) == 3
    # a peak separated by deep valleys is kept however small (bulk beside a huge electrode)
    x[24] = x[25] = 0.0
    x[33] = 0.05
    gamma = gaussian_rbf(y, grid) @ x
    assert len(find_drt_peaks(y, gamma, x, grid, measured)) == 3


@pytest.mark.parametrize("order", [0, 1, 2])
def test_weighted_penalty_matrix(order):
    grid = make_grid(OMEGA, per_decade=6)
    knots = np.array([grid.ln_tau[0], grid.ln_tau[-1]])
    flat = weighted_penalty_matrix(grid, order, knots, np.zeros(2))
    exact = penalty_matrix(grid, order)
    assert np.abs(flat - exact).max() < 1e-10 * np.abs(exact).max()
    # a weight of 4 on the right half: the right-hand basis functions cost 4 times as much
    mid = 0.5 * (grid.ln_tau[0] + grid.ln_tau[-1])
    knots = np.array([mid - 1e-3, mid + 1e-3])
    stepped = weighted_penalty_matrix(grid, order, knots, np.log([1.0, 4.0]))
    assert stepped[-1, -1] == pytest.approx(4 * exact[-1, -1], rel=1e-6)
    assert stepped[0, 0] == pytest.approx(exact[0, 0], rel=1e-6)


def test_smoothed_gamma_scale_follows_gamma_with_a_floor():
    grid = make_grid(OMEGA, per_decade=8)
    x = np.zeros(grid.n)
    x[30] = 1000.0
    y, u = smoothed_gamma_scale(grid, x, floor=5.0, width_decades=0.5)
    assert np.all(u >= 5.0) and u.min() == pytest.approx(5.0, rel=1e-6)
    peak = y[np.argmax(u)]
    assert peak == pytest.approx(grid.ln_tau[30], abs=0.05)  # symmetric: no shift
    assert u.max() < 1000.0  # smoothed


def test_small_isolated_peak_beside_a_huge_one_is_kept():
    """Prominence is judged against each peak's own height (the old rule, 0.5 % of the
    largest γ, dropped a bulk arc 10⁴ times smaller than the electrode)."""
    grid = make_grid(OMEGA, per_decade=10)
    x = np.zeros(grid.n)
    x[20], x[50] = 1e-3, 10.0
    y = np.linspace(grid.ln_tau[0], grid.ln_tau[-1], 4 * (grid.n - 1) + 1)
    gamma = gaussian_rbf(y, grid) @ x
    measured = (float(-np.log(OMEGA.max())), float(-np.log(OMEGA.min())))
    for fraction in (0.0, 0.1):
        peaks = find_drt_peaks(y, gamma, x, grid, measured, min_fraction=fraction)
        assert len(peaks) == 2
        assert peaks[0].tau_s == pytest.approx(grid.tau[20], rel=1e-3)
        assert peaks[0].R_ohm == pytest.approx(1e-3 * grid.s * np.sqrt(2 * np.pi), rel=1e-3)
    # a wiggle 1 % deep on a flank is not a peak of its own
    x2 = np.zeros(grid.n)
    x2[30:34] = [1.0, 1.0, 0.97, 0.99]
    gamma2 = gaussian_rbf(y, grid) @ x2
    assert len(find_drt_peaks(y, gamma2, x2, grid, measured, min_fraction=0.0)) == 1


def test_overlapping_peaks_form_one_arc():
    grid = make_grid(OMEGA, per_decade=10)
    x = np.zeros(grid.n)
    x[24], x[27], x[50] = 6.0, 10.0, 8.0  # 24/27: shallow valley; 50: far away
    y = np.linspace(grid.ln_tau[0], grid.ln_tau[-1], 4 * (grid.n - 1) + 1)
    gamma = gaussian_rbf(y, grid) @ x
    measured = (float(-np.log(OMEGA.max())), float(-np.log(OMEGA.min())))
    peaks = find_drt_peaks(y, gamma, x, grid, measured, min_fraction=0.0)
    assert len(peaks) == 3
    arcs = group_arcs(y, gamma, peaks, measured)
    assert [a.peaks for a in arcs] == [[0, 1], [2]]
    assert arcs[0].R_ohm == pytest.approx(peaks[0].R_ohm + peaks[1].R_ohm)
    assert grid.tau[24] < arcs[0].tau_s < grid.tau[27]
    # a single symmetric peak: τ of its arc = the position of its maximum
    assert arcs[1].tau_s == pytest.approx(grid.tau[50], rel=0.01)


def test_lambda_near_the_end_of_the_range_is_a_warning():
    a, b, p, _ = _smoothing_problem(1e-2)
    free = search_lambda(TikhonovProblem(a, b, p), "discrepancy")
    assert not free.at_edge and not any("end of the search" in w for w in free.warnings)
    opt = np.log10(free.lam)
    # the optimum above the range: the strongest λ offered, at the upper end
    top = search_lambda(TikhonovProblem(a, b, p), "discrepancy", lam_range=(1e-10, 10 ** (opt - 1)))
    assert top.at_edge and any("upper end" in w for w in top.warnings)
    # the optimum below the range: refined inside the lowest grid step, still the lower end
    low = search_lambda(TikhonovProblem(a, b, p), "gcv", lam_range=(10 ** (opt + 1.2), 1e2))
    assert low.lam < 10 ** (opt + 1.2 + 0.5)
    assert low.at_edge and any("lower end" in w for w in low.warnings)
