r"""Jump and site statistics, where the sites are given.

Every ion is assigned, frame by frame, to its nearest site (minimum image; sites in
fractional coordinates, so they follow a changing cell). Between sites — farther than
``r_cut_A`` from every site — an ion keeps its last site, so a hop is counted once, when the
ion reaches the next site, not while it is on its way (the "transition-state" assignment used
by site analyses such as Wood et al., Chem. Rev. 121, 5604 (2021)). From the assignments:

* jumps (site changes) in all, per ion and per ps; the mean residence time per site visit;
* the time-averaged occupation of every site (fraction of frames it holds an ion);
* the uncorrelated ("jump") diffusion coefficient D_jump = Σ |Δr_jump|² / (2 d N t_total)
  from the site-to-site distances, and with a tracer D* the correlation factor
  f = D*/D_jump (Compaan & Haven, Trans. Faraday Soc. 52, 786 (1956)).

Nearest sites are found with a k-d tree (SciPy) over the 27 periodic images of the sites.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from iondyn.display.summary import Displayable
from iondyn.errors import InputError
from iondyn.md.fit import A2_PER_PS_TO_CM2_PER_S
from iondyn.md.trajectory import Trajectory

__all__ = ["JumpResult", "SiteAnalyzer"]

_IMAGES = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])


@dataclass(repr=False)
class JumpResult(Displayable):
    """Counts and rates of site-to-site jumps (see the module docstring)."""

    n_jumps: int
    jumps_per_ion_per_ps: float
    mean_residence_ps: float | None
    site_occupation: np.ndarray
    unassigned_fraction: float
    D_jump_cm2_per_s: float
    duration_ps: float
    n_ions: int
    pairs: dict[tuple[int, int], int]
    warnings: list[str] = field(default_factory=list)

    def correlation_factor(self, d_tracer_cm2_per_s: float) -> float | None:
        """f = D*/D_jump."""
        return None if self.D_jump_cm2_per_s <= 0 else d_tracer_cm2_per_s / self.D_jump_cm2_per_s

    def to_dict(self) -> dict[str, Any]:
        top = sorted(self.pairs.items(), key=lambda kv: -kv[1])[:20]
        return {
            "n_jumps": self.n_jumps,
            "jumps_per_ion_per_ps": self.jumps_per_ion_per_ps,
            "mean_residence_ps": self.mean_residence_ps,
            "unassigned_fraction": self.unassigned_fraction,
            "D_jump_cm2_per_s": self.D_jump_cm2_per_s,
            "duration_ps": self.duration_ps,
            "n_ions": self.n_ions,
            "site_occupation": self.site_occupation.tolist(),
            "top_pairs": [{"from": a, "to": b, "count": c} for (a, b), c in top],
            "warnings": list(self.warnings),
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per site: its time-averaged occupation."""
        return pd.DataFrame(
            {"site": np.arange(self.site_occupation.size), "occupation": self.site_occupation}
        )

    def _summary(self) -> Any:
        from iondyn.display.views_results import jump_summary

        return jump_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """The mean occupation of every site. Returns the axes."""
        from iondyn.display.views_results import jump_plot

        return jump_plot(self, ax)


class SiteAnalyzer:
    """Assign ions to ``sites`` (S, 3) fractional coordinates; ``r_cut_A``: largest distance
    at which an ion counts as on a site (default: 0.3 × the shortest site–site distance)."""

    def __init__(self, sites_frac: np.ndarray, r_cut_A: float | None = None):
        s = np.asarray(sites_frac, dtype=float)
        if s.ndim != 2 or s.shape[1] != 3 or s.shape[0] < 2 or not np.all(np.isfinite(s)):
            raise InputError("sites must be an (S, 3) array of fractional coordinates, S ≥ 2")
        self.sites = s % 1.0
        self.r_cut_A = r_cut_A

    def _tree(self, cell: np.ndarray) -> tuple[cKDTree, np.ndarray]:
        images = (self.sites[None, :, :] + _IMAGES[:, None, :]).reshape(-1, 3) @ cell
        return cKDTree(images), images

    def fit(self, trajectory: Trajectory, block_frames: int = 1024) -> JumpResult:
        tr = trajectory
        n_sites = self.sites.shape[0]
        cells = np.asarray(tr.cells)
        fixed = bool(np.allclose(cells, cells[0]))
        tree, images = self._tree(cells[0])
        r_cut = self.r_cut_A
        if r_cut is None:
            d, _ = cKDTree(images).query(self.sites @ cells[0], k=2)
            r_cut = 0.3 * float(np.min(d[:, 1]))
        current = np.full(tr.n_ions, -1)
        occupied = np.zeros(n_sites)
        pairs: dict[tuple[int, int], int] = {}
        sq_sum, n_jumps, unassigned = 0.0, 0, 0
        for start in range(0, tr.n_frames, block_frames):
            pos = np.asarray(tr.positions[start : start + block_frames])
            for k in range(pos.shape[0]):
                cell = cells[start + k]
                if not fixed:
                    tree, images = self._tree(cell)
                frac = (pos[k] @ np.linalg.inv(cell)) % 1.0
                dist, idx = tree.query(frac @ cell)
                site = np.where(dist <= r_cut, idx % n_sites, -1)
                unassigned += int(np.sum(site < 0))
                site = np.where(site < 0, current, site)
                moved = (current >= 0) & (site >= 0) & (site != current)
                if np.any(moved):
                    a, b = current[moved], site[moved]
                    step = (self.sites[b] - self.sites[a] + 0.5) % 1.0 - 0.5
                    sq_sum += float(np.sum((step @ cell) ** 2))
                    n_jumps += int(moved.sum())
                    for x, y in zip(a.tolist(), b.tolist()):
                        pairs[(x, y)] = pairs.get((x, y), 0) + 1
                current = site
                held = np.unique(current[current >= 0])
                occupied[held] += 1
        duration = tr.duration_ps
        total = tr.n_frames * tr.n_ions
        warnings = []
        if unassigned > 0.5 * total:
            warnings.append(
                f"{100 * unassigned / total:.0f} % of the positions are farther than "
                f"{r_cut:.3g} Å from every site: are the sites right?"
            )
        visits = n_jumps + tr.n_ions
        return JumpResult(
            n_jumps=n_jumps,
            jumps_per_ion_per_ps=n_jumps / (tr.n_ions * duration) if duration > 0 else 0.0,
            mean_residence_ps=duration * tr.n_ions / visits if visits else None,
            site_occupation=occupied / tr.n_frames,
            unassigned_fraction=unassigned / total,
            D_jump_cm2_per_s=sq_sum / (6.0 * tr.n_ions * duration) * A2_PER_PS_TO_CM2_PER_S
            if duration > 0
            else 0.0,
            duration_ps=duration,
            n_ions=tr.n_ions,
            pairs=pairs,
            warnings=warnings,
        )
