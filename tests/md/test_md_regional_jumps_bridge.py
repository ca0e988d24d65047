"""D_∥(z) and occupancy across a slow, low-energy slab; jump statistics; the seed of the
interface models."""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.constants import K_B_EV
from iondyn.md.bridge import physics_seed
from iondyn.md.jumps import SiteAnalyzer
from iondyn.md.regional import RegionalFitter
from iondyn.md.simulate import interface_walk, lattice_walk
from iondyn.md.trajectory import Trajectory


@pytest.fixture(scope="module")
def interface():
    pos, cell = interface_walk(300, 1500, seed=2)  # GB: z sites 15–24 of 40 (30–50 Å)
    return Trajectory.from_arrays(pos, cell, 1.0, ["Li"] * 300, "Li", temperature_K=600.0)


def test_regional_d_and_occupancy(interface):
    r = RegionalFitter(n_slabs=8).fit(interface)
    d_bulk, d_gb = 0.4 * 4.0 / 6.0 * 1e-4, 0.1 * 4.0 / 6.0 * 1e-4  # p a²/(6 Δt)
    inner_gb = (r.center_A > 30) & (r.center_A < 50)
    far = (r.center_A < 20) | (r.center_A > 60)
    assert np.allclose(r.D_parallel_cm2_per_s[inner_gb], d_gb, rtol=0.1)
    assert np.allclose(r.D_parallel_cm2_per_s[far], d_bulk, rtol=0.1)
    assert np.all(r.D_parallel_cm2_per_s_err < 0.1 * r.D_parallel_cm2_per_s)
    ratio = r.density_m3[inner_gb].mean() / r.density_m3[far].mean()
    assert ratio == pytest.approx(np.exp(0.03 / (K_B_EV * 600.0)), rel=0.15)
    assert r.free_energy_eV[inner_gb].mean() - r.free_energy_eV[far].mean() == pytest.approx(
        -0.03, abs=0.008
    )
    assert abs(r.occupancy.sum() - 300) < 1e-9


def test_seed_builds_a_device_with_space_charge(interface):
    from iondyn.physics import SpaceChargeSolver, config_from_dict

    r = RegionalFitter(n_slabs=16).fit(interface)
    seed = physics_seed(r, [("bulk", 0, 30), ("gb", 30, 50), ("bulk2", 50, 80)], charge=1,
                        eps_r=10.0)  # fmt: skip
    gb = seed["phase"][1]["species"][0]
    assert gb["mu0_eV"] == pytest.approx(-0.03, abs=0.01)
    assert gb["diffusivity_m2_s"] < 0.4 * seed["phase"][0]["species"][0]["diffusivity_m2_s"]
    result = SpaceChargeSolver().solve(config_from_dict(seed).device)
    left = result.interfaces[0]
    # Li⁺ gathers in the low-energy slab: negative space charge on the bulk side
    assert left["charge_C_per_m2"] < 0
    assert 0 < left["potential_V"] < 0.03


def test_jump_statistics_on_a_known_lattice():
    pos, cell = lattice_walk(40, 1500, 0.1, box_sites=8, spacing_A=2.0, seed=3)
    pos = pos + np.random.default_rng(0).normal(scale=0.1, size=pos.shape)  # vibrations
    traj = Trajectory.from_arrays(pos, cell, 1.0, ["Li"] * 40, "Li")
    g = np.arange(8) / 8
    sites = np.array(np.meshgrid(g, g, g, indexing="ij")).reshape(3, -1).T
    r = SiteAnalyzer(sites).fit(traj)
    # Poisson hops of mean 0.1 per frame: a site change in 1 − e^−0.1 − P(back) of frames
    assert 0.08 < r.jumps_per_ion_per_ps < 0.1
    assert r.D_jump_cm2_per_s == pytest.approx(0.1 * 4 / 6 * 1e-4, rel=0.08)
    assert r.unassigned_fraction == 0.0
    assert r.site_occupation.sum() == pytest.approx(40, abs=2)
