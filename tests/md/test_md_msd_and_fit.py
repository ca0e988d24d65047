"""MSD kernels, the MSD covariance model and the GLS fit against known answers."""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.errors import DataError
from iondyn.md.covariance import overlap_sums, random_walk_covariance
from iondyn.md.msd import msd_direct, msd_fft


def test_fft_msd_equals_direct_sum():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=(5, 300, 3)), axis=1) + 1e4  # far from the origin
    lags = np.array([0, 1, 2, 7, 50, 299])
    assert np.allclose(msd_fft(x)[:, lags], msd_direct(x, lags), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("power", [1, 2])
def test_overlap_sums_closed_form_equals_brute_force(power):
    def brute(i, j, n):
        return sum(
            max(0, min(t + i, u + j) - max(t, u)) ** power
            for t in range(n - i + 1)
            for u in range(n - j + 1)
        )

    for n in (1, 4, 11, 17):
        for i in range(1, n + 1):
            for j in range(1, n + 1):
                assert overlap_sums(i, j, n, power) == pytest.approx(brute(i, j, n), rel=1e-12)


def test_covariance_model_matches_simulated_walks():
    """Gaussian walkers: the model Σ against the sample covariance of 3000 walks (±10 %)."""
    rng = np.random.default_rng(1)
    n_steps, lags = 60, np.array([1, 5, 20, 40, 60])
    x = np.cumsum(rng.normal(size=(3000, n_steps + 1, 3)), axis=1)
    sample = np.cov(msd_fft(x)[:, lags].T)
    model = random_walk_covariance(lags, n_steps, 1.0, 3, 1.0)
    assert np.allclose(sample / model, 1.0, atol=0.12)


def test_jump_term_matches_hopping_walkers():
    """Lattice hops at 0.2 per frame: Var(MSD) at short lags is several times the Gaussian
    model's; with κ/(2ds⁴) = 3/(2ν) the model matches the simulation (±12 %)."""
    from iondyn.md.simulate import lattice_walk_blocks

    nu, n_steps = 0.2, 80
    from iondyn.md.unwrap import unwrap_block

    blocks = list(lattice_walk_blocks(2000, n_steps + 1, nu, box_sites=50, seed=2))
    pos, _ = unwrap_block(blocks[0].positions, blocks[0].cells, None, None)
    m = msd_fft(np.transpose(pos, (1, 0, 2)))
    lags = np.array([1, 3, 10, 30])
    var = m[:, lags].var(axis=0, ddof=1)
    s2 = nu / 3.0
    gauss = np.diag(random_walk_covariance(lags, n_steps, s2, 3, 1.0))
    full = np.diag(random_walk_covariance(lags, n_steps, s2, 3, 1.0, jump_excess=1.5 / nu))
    assert var[0] / gauss[0] > 3.0
    assert np.allclose(var / full, 1.0, atol=0.12)


def test_gls_recovers_known_d_and_ols_errors_are_too_small():
    from iondyn.md.diffusion import DiffusionFitter
    from iondyn.md.simulate import lattice_walk
    from iondyn.md.trajectory import Trajectory

    pos, cell = lattice_walk(64, 1500, 0.3, box_sites=12, seed=4)
    traj = Trajectory.from_arrays(pos, cell, 1.0, ["Li"] * 64, "Li", temperature_K=500.0)
    truth = 0.3 / 6.0 * 1e-4  # ν a²/(6 Δt) in cm²/s (Å²/ps × 1e-4)
    gls = DiffusionFitter().fit(traj)
    ols = DiffusionFitter(method="ols").fit(traj)
    assert abs(gls.D_cm2_per_s - truth) < 3 * gls.D_cm2_per_s_err
    assert gls.D_cm2_per_s_err / truth < 0.05
    assert ols.D_cm2_per_s_err < gls.D_cm2_per_s_err / 3  # the correlation is ignored
    h, h_err = gls.haven_ratio  # independent walkers: H_R = 1
    assert abs(h - 1.0) < 3 * h_err
    assert gls.tracer.jump_excess > 1.0  # hops: not Gaussian
    sigma, _ = gls.sigma("tracer")
    n_per_cm3 = 64 / (np.linalg.det(cell) * 1e-24)
    expected = n_per_cm3 * 1.602176634e-19**2 * gls.D_cm2_per_s / (1.380649e-23 * 500.0)
    assert sigma == pytest.approx(expected, rel=1e-9)


def test_no_diffusion_is_an_error():
    from iondyn.md.diffusion import DiffusionFitter
    from iondyn.md.trajectory import Trajectory

    rng = np.random.default_rng(0)
    pos = 5.0 + 0.1 * rng.normal(size=(200, 8, 3))  # vibrating in place
    traj = Trajectory.from_arrays(pos, np.eye(3) * 10, 0.01, ["Li"] * 8, "Li")
    with pytest.raises(DataError, match=r"no diffusion|does not grow"):
        DiffusionFitter(fit_start_ps=0.5, fit_end_ps=1.5).fit(traj)
