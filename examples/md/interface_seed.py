"""Worked example (docs/md.md): from a simulated grain-boundary slab to a space-charge model.

A lattice-gas "MD" of 300 Li ions at 600 K in a 20 × 20 × 80 Å cell: a slab 30–50 Å along z
where the site energy is 0.03 eV lower and hopping 4× slower (iondyn.md.simulate). The
regional analysis gives D_∥(z) and the occupancy; the seed turns them into a three-phase
device (bulk | GB | bulk) whose equilibrium space charge the physics solver computes.

    .venv/bin/python examples/md/interface_seed.py
"""

from __future__ import annotations

from iondyn.md.bridge import physics_seed
from iondyn.md.regional import RegionalFitter
from iondyn.md.simulate import interface_walk
from iondyn.md.trajectory import Trajectory
from iondyn.physics import SpaceChargeSolver, config_from_dict

positions, cell = interface_walk(300, 1500, seed=2)  # 1 ps between frames
traj = Trajectory.from_arrays(positions, cell, 1.0, ["Li"] * 300, "Li", temperature_K=600.0)
regional = RegionalFitter(axis="z", n_slabs=8).fit(traj)
print(regional.to_dataframe()[["center_A", "D_parallel_cm2_per_s", "D_parallel_cm2_per_s_err",
                               "occupancy", "free_energy_eV"]].to_string(index=False))  # fmt: skip

seed = physics_seed(
    RegionalFitter(axis="z", n_slabs=16).fit(traj),
    [("bulk", 0.0, 30.0), ("gb", 30.0, 50.0), ("bulk2", 50.0, 80.0)],
    charge=1,
    eps_r=10.0,
)
for phase in seed["phase"]:
    li = phase["species"][0]
    print(f"{phase['name']:6s} D = {li['diffusivity_m2_s']:.3e} m²/s, "
          f"mu0 = {li['mu0_eV']:+.4f} eV, c = {li['c_bulk_m3']:.3e} m⁻³")  # fmt: skip
result = SpaceChargeSolver().solve(config_from_dict(seed).device)
for junction in result.interfaces:
    print(f"junction {'|'.join(junction['phases'])}: φ = {1e3 * junction['potential_V']:.2f} mV, "
          f"space charge {junction['charge_C_per_m2']:+.4f} C/m²")  # fmt: skip
