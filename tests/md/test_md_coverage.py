"""Honest errors: the 68 % interval of the GLS fit covers the true D in 68 % of simulated
lattice random walks; OLS-style errors do not (benchmarks/bench_md.py runs 500 walks)."""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.md.diffusion import DiffusionFitter
from iondyn.md.simulate import lattice_walk
from iondyn.md.trajectory import Trajectory


@pytest.mark.slow
def test_gls_interval_covers_the_truth_ols_does_not():
    """120 walks of 32 ions × 500 frames, 0.3 hops per frame (D = 0.05 Å²/ps). Tolerance
    ±0.12 around 0.68: 2.8 binomial standard deviations for 120 draws."""
    truth = 0.3 / 6.0 * 1e-4
    gls, ols = DiffusionFitter(collective=False), DiffusionFitter(collective=False, method="ols")
    hits_gls, hits_ols = [], []
    for k in range(120):
        pos, cell = lattice_walk(32, 500, 0.3, box_sites=10, seed=5000 + k)
        traj = Trajectory.from_arrays(pos, cell, 1.0, ["Li"] * 32, "Li")
        for fitter, hits in ((gls, hits_gls), (ols, hits_ols)):
            r = fitter.fit(traj)
            hits.append(abs(r.D_cm2_per_s - truth) < r.D_cm2_per_s_err)
    assert abs(np.mean(hits_gls) - 0.68) < 0.12
    assert np.mean(hits_ols) < 0.3
