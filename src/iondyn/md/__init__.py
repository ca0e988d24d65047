"""Ion dynamics from molecular-dynamics trajectories (docs/md.md).

* :mod:`iondyn.md.readers` — :func:`open_trajectory`: VASP XDATCAR, extended XYZ and LAMMPS
  dumps in NumPy, vasprun.xml (and anything else) through ASE, streamed in blocks;
  :mod:`iondyn.md.formats` recognises them from their head.
* :mod:`iondyn.md.trajectory` — :func:`build_trajectory` / :meth:`Trajectory.from_arrays`:
  unwrapped (TOR scheme, :mod:`iondyn.md.unwrap`), drift-corrected positions of one species
  in bounded memory.
* :mod:`iondyn.md.msd` (FFT kernels), :mod:`iondyn.md.covariance` (the MSD covariance of a
  random walk), :mod:`iondyn.md.fit` (GLS / OLS lines), :mod:`iondyn.md.analysis` (chunked
  MSDs, fitting window).
* :mod:`iondyn.md.diffusion` — :class:`DiffusionFitter`: D*, D_σ, Haven ratio, σ.
* :mod:`iondyn.md.regional` — :class:`RegionalFitter`: D_∥ and occupancy in slabs.
* :mod:`iondyn.md.jumps` — :class:`SiteAnalyzer`: jump statistics between given sites.
* :mod:`iondyn.md.bridge` — :func:`physics_seed`: a device for :mod:`iondyn.physics`.
* :mod:`iondyn.md.simulate` — lattice random walks and a slab interface with known answers.
"""

from iondyn.md.bridge import physics_seed
from iondyn.md.diffusion import DiffusionFitter, DiffusionResult
from iondyn.md.fit import LineFit, fit_msd_line
from iondyn.md.frames import FrameBlock, TrajectorySource, array_source
from iondyn.md.jumps import JumpResult, SiteAnalyzer
from iondyn.md.readers import open_trajectory
from iondyn.md.regional import RegionalFitter, RegionalResult
from iondyn.md.trajectory import Trajectory, build_trajectory

__all__ = [
    "DiffusionFitter",
    "DiffusionResult",
    "FrameBlock",
    "JumpResult",
    "LineFit",
    "RegionalFitter",
    "RegionalResult",
    "SiteAnalyzer",
    "Trajectory",
    "TrajectorySource",
    "array_source",
    "build_trajectory",
    "fit_msd_line",
    "open_trajectory",
    "physics_seed",
]
