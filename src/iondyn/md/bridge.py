r"""From MD to the interface models: regional D and occupancy seed a multi-phase device.

:func:`physics_seed` turns a :class:`~iondyn.md.regional.RegionalResult` and a division of
the slab axis into regions (bulk, grain boundary, …) into a device document for
:func:`iondyn.physics.config_from_dict` (the TOML schema of docs/physics.md): one ``[[phase]]``
per region, with

* ``length_m`` — the region's thickness;
* the mobile species with ``diffusivity_m2_s`` = the region's mean D_∥ (weighted by
  occupancy; the mobility profile), ``mu0_eV`` = its site energy from the potential of mean
  force, μ⁰_r = −k_B T ln(ρ_r/ρ_ref) (ρ_ref: the first region), and ``c_bulk_m3``;
* an immobile background of opposite charge that keeps each phase neutral.

``background``:

* ``"uniform"`` (default) — the framework charge of the reference region everywhere: every
  phase holds c_bulk = ρ_ref and the site-energy steps drive the ions into (or out of) the
  low-energy region, building the space-charge layers that
  :class:`~iondyn.physics.SpaceChargeSolver` computes (the picture of Maier, Prog. Solid
  State Chem. 23, 171 (1995), for a grain boundary with its own site energy);
* ``"occupancy"`` — each region neutral at its own MD density: no built-in potential, only
  the D and length profile (for transport, e.g. impedance of a layered cell).

The MD occupancy already includes whatever space charge the simulated cell holds, so the PMF
is the site energy only when the cell is small compared with the Debye length (little
screening inside the cell); the seed is a starting point for the model, not a fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iondyn.constants import K_B_EV
from iondyn.errors import InputError
from iondyn.md.regional import RegionalResult

__all__ = ["physics_seed"]


def physics_seed(
    regional: RegionalResult,
    regions: list[tuple[str, float, float]],
    *,
    charge: float,
    eps_r: float,
    background: str = "uniform",
    species_name: str | None = None,
) -> dict[str, Any]:
    """A device document (``config_from_dict``) seeded from ``regional``.

    ``regions``: (name, start_A, end_A) along the slab axis, in order, covering the slabs to
    use (slab centres decide membership)."""
    if background not in ("uniform", "occupancy"):
        raise InputError("background must be 'uniform' or 'occupancy'")
    if regional.temperature_K is None:
        raise InputError("the regional analysis has no temperature: site energies need one")
    if not regions:
        raise InputError("give at least one region (name, start_A, end_A)")
    kt = K_B_EV * regional.temperature_K
    name = species_name or regional.species
    rows = []
    for region, lo, hi in regions:
        inside = (regional.center_A >= lo) & (regional.center_A < hi)
        if not np.any(inside):
            raise InputError(f"region {region!r} ({lo:g}–{hi:g} Å) holds no slab centre")
        occ = regional.occupancy[inside]
        d = regional.D_parallel_cm2_per_s[inside]
        ok = np.isfinite(d) & (occ > 0)
        if not np.any(ok):
            raise InputError(f"region {region!r}: no slab with a D_∥")
        rho = float(np.sum(regional.density_m3[inside] * occ) / np.sum(occ))
        d_mean = float(np.sum(d[ok] * occ[ok]) / np.sum(occ[ok])) * 1e-4  # m²/s
        rows.append((region, (hi - lo) * 1e-10, rho, d_mean))
    rho_ref = rows[0][2]
    phases = []
    for region, length, rho, d_mean in rows:
        c = rho_ref if background == "uniform" else rho
        mu0 = -kt * np.log(rho / rho_ref) + 0.0  # no "-0.0"
        phases.append(
            {
                "name": region,
                "eps_r": float(eps_r),
                "length_m": float(length),
                "species": [
                    {
                        "name": name,
                        "charge": charge,
                        "c_bulk_m3": float(c),
                        "diffusivity_m2_s": d_mean,
                        "mu0_eV": float(mu0),
                    },
                    {
                        "name": f"background_{region}",
                        "charge": -charge,
                        "c_bulk_m3": float(c),
                        "mobile": False,
                    },
                ],
            }
        )
    return {
        "temperature_K": float(regional.temperature_K),
        "phase": phases,
        "boundary": {"left": {"type": "bulk"}, "right": {"type": "bulk"}},
    }
