"""Synthetic trajectories with known answers, for tests, benchmarks and worked examples.

* :func:`lattice_walk_blocks` — ions hopping on a simple cubic lattice (spacing ``a``), each
  frame a Poisson number of hops (mean ``hops_per_frame``) along ±x, ±y, ±z, inside a
  periodic cubic box, wrapped into the box as an MD code writes them. The tracer diffusion
  coefficient is exactly D = ν a² / (2 d Δt) = hops_per_frame · a² / (6 Δt) and, the ions being
  independent, the Haven ratio is 1. A generator of blocks, so 10⁵ frames × 10³ ions never
  exist in memory at once.
* :func:`interface_walk` — a slab geometry along z: ions hop faster in the "bulk" and slower
  in a "grain-boundary" slab where the site energy is lower (so they gather there), with
  Metropolis acceptance of hops across the boundary (detailed balance: occupancy ratio
  exp(ΔE/kT)). Known D_∥ per region and occupancy profile.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from iondyn.constants import K_B_EV
from iondyn.md.frames import FrameBlock, TrajectorySource

__all__ = ["interface_walk", "lattice_walk", "lattice_walk_blocks", "lattice_walk_source"]

_DIRECTIONS = np.array(
    [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=float
)


def lattice_walk_blocks(
    n_ions: int,
    n_frames: int,
    hops_per_frame: float,
    *,
    spacing_A: float = 1.0,
    box_sites: int = 20,
    block_frames: int = 1024,
    seed: int | None = 0,
) -> Iterator[FrameBlock]:
    """Blocks of wrapped positions of independent lattice walkers (see the module docstring).

    Each block is (B, n_ions, 3) Å in a cubic box of ``box_sites`` sites per edge."""
    rng = np.random.default_rng(seed)
    length = box_sites * spacing_A
    cell = np.eye(3) * length
    pos = rng.integers(0, box_sites, size=(n_ions, 3)).astype(float) * spacing_A
    done = 0
    while done < n_frames:
        b = min(block_frames, n_frames - done)
        steps = np.zeros((b, n_ions, 3))
        hops = rng.poisson(hops_per_frame, size=(b, n_ions))
        if done == 0:
            hops[0] = 0  # the first frame is the origin
        for k in range(1, int(hops.max(initial=0)) + 1):
            mask = hops >= k
            steps[mask] += _DIRECTIONS[rng.integers(0, 6, size=int(mask.sum()))]
        path = pos[None] + np.cumsum(steps * spacing_A, axis=0)
        pos = path[-1]
        yield FrameBlock(np.mod(path, length), np.broadcast_to(cell, (b, 3, 3)).copy())
        done += b


def lattice_walk_source(
    n_ions: int, n_frames: int, hops_per_frame: float, *, species: str = "Li", **kwargs
) -> TrajectorySource:
    """A :class:`~iondyn.md.frames.TrajectorySource` of :func:`lattice_walk_blocks` (a
    framework-free cell of one species; the blocks are generated when read)."""

    def blocks(block_frames: int) -> Iterator[FrameBlock]:
        return lattice_walk_blocks(
            n_ions, n_frames, hops_per_frame, block_frames=block_frames, **kwargs
        )

    return TrajectorySource(None, "simulated", (species,) * n_ions, blocks, "wrapped")


def lattice_walk(
    n_ions: int, n_frames: int, hops_per_frame: float, **kwargs
) -> tuple[np.ndarray, np.ndarray]:
    """(positions (F, N, 3), cell (3, 3)) of :func:`lattice_walk_blocks`, in memory."""
    blocks = list(lattice_walk_blocks(n_ions, n_frames, hops_per_frame, **kwargs))
    return np.concatenate([b.positions for b in blocks]), blocks[0].cells[0]


def interface_walk(
    n_ions: int,
    n_frames: int,
    *,
    hops_bulk: float = 0.4,
    hops_gb: float = 0.1,
    site_energy_gb_eV: float = -0.03,
    temperature_K: float = 600.0,
    sites_xy: int = 10,
    sites_z: int = 40,
    gb_sites: tuple[int, int] = (15, 25),
    spacing_A: float = 2.0,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(wrapped positions (F, N, 3) Å, cell (3, 3)) of walkers on a lattice with a slab of
    lower site energy and slower hopping (z sites ``gb_sites[0]`` ≤ k < ``gb_sites[1]``).

    Each frame an ion attempts a hop with probability ``hops_bulk`` (or ``hops_gb`` inside the
    slab) in a random direction; a hop across the boundary is accepted with probability
    min(p_i, p_j)/p_i · min(1, exp(−ΔE/kT)), so the attempt rate of a pair of sites is
    symmetric and detailed balance holds: the occupancy ratio GB/bulk is exp(−ΔE/kT) and, away
    from the boundaries, D_∥ = p a² / (6 Δt) in each region. The ions start on sites drawn
    from that equilibrium (Boltzmann-weighted along z).
    """
    rng = np.random.default_rng(seed)
    kt = K_B_EV * temperature_K
    dims = np.array([sites_xy, sites_xy, sites_z])
    lo, hi = gb_sites

    def energy(z: np.ndarray) -> np.ndarray:
        return np.where((z >= lo) & (z < hi), site_energy_gb_eV, 0.0)

    weight = np.exp(-energy(np.arange(sites_z)) / kt)  # start in equilibrium (Boltzmann)
    site = rng.integers(0, dims, size=(n_ions, 3))
    site[:, 2] = rng.choice(sites_z, size=n_ions, p=weight / weight.sum())

    unwrapped = site.astype(float).copy()
    out = np.empty((n_frames, n_ions, 3))
    out[0] = site * spacing_A
    for f in range(1, n_frames):
        inside = (site[:, 2] >= lo) & (site[:, 2] < hi)
        p = np.where(inside, hops_gb, hops_bulk)
        move = rng.random(n_ions) < p
        step = _DIRECTIONS[rng.integers(0, 6, size=n_ions)].astype(int)
        new = np.mod(site + step, dims)
        d_e = energy(new[:, 2]) - energy(site[:, 2])
        new_inside = (new[:, 2] >= lo) & (new[:, 2] < hi)
        p_new = np.where(new_inside, hops_gb, hops_bulk)
        # symmetric attempt rate min(p_i, p_j) for a hop across the boundary: detailed balance
        chance = np.minimum(p, p_new) / p * np.exp(-np.maximum(d_e, 0.0) / kt)
        accept = move & (rng.random(n_ions) < chance)
        site = np.where(accept[:, None], new, site)
        unwrapped += np.where(accept[:, None], step, 0)
        out[f] = site * spacing_A
    cell = np.diag(dims * spacing_A).astype(float)
    return out, cell
