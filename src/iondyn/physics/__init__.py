"""Physics of solid–solid interfaces: space-charge layers and Poisson–Nernst–Planck transport.

* :mod:`iondyn.physics.analytic` — closed forms (Debye length, Gouy–Chapman, Grahame,
  Mott–Schottky, saturated layers, heterojunctions, blocking-cell and Jamnik–Maier impedance,
  Shockley law, space-charge TSDC peak).
* :mod:`iondyn.physics.species` — :class:`Species`, :class:`Phase`, :class:`Contact`,
  :class:`Reaction`, :class:`Device`.
* :mod:`iondyn.physics.scl` — :class:`SpaceChargeSolver` (equilibrium profiles).
* :mod:`iondyn.physics.pnp` — :class:`PNPModel` (steady states, I–V, impedance, transients,
  space-charge TSDC).
* :mod:`iondyn.physics.config` — TOML device files (:func:`load_config`).
"""

from iondyn.physics.config import SimulationConfig, config_from_dict, load_config
from iondyn.physics.pnp import IVResult, PNPModel
from iondyn.physics.pnp_smallsignal import PNPImpedanceResult
from iondyn.physics.pnp_transient import TransientResult
from iondyn.physics.pnp_tsdc import SpaceChargeTSDC, TSDCSimulationResult
from iondyn.physics.scl import SCLResult, SpaceChargeSolver, solve_scl
from iondyn.physics.species import Contact, Device, Phase, Reaction, Species

__all__ = [
    "Contact",
    "Device",
    "IVResult",
    "PNPImpedanceResult",
    "PNPModel",
    "Phase",
    "Reaction",
    "SCLResult",
    "SimulationConfig",
    "SpaceChargeSolver",
    "SpaceChargeTSDC",
    "Species",
    "TSDCSimulationResult",
    "TransientResult",
    "config_from_dict",
    "load_config",
    "solve_scl",
]
