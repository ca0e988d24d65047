r"""Regional diffusion across an interface: D_∥(z) and occupancy in slabs along an axis.

The cell is cut into slabs along one cell axis (fractional coordinate, so the slabs follow a
changing cell). For every slab, the in-plane MSD (displacement components perpendicular to
the slab normal) is averaged over the time windows that *start in the slab and stay in it*
for the whole lag — the conditional MSD of Liu, Harder & Berne, J. Phys. Chem. B 108, 6595
(2004) — and D_∥ = slope/4 over lags where enough windows survive. Occupancy: the mean number
of ions per slab, the number density, and the potential of mean force
F(z) = −k_B T ln(ρ(z)/ρ̄), the site-energy profile that seeds the interface models
(:mod:`iondyn.md.bridge`).

The conditional MSD is biased low for lags comparable with the residence time in a slab (fast
ions leave first), so the default longest lag is where half the windows still survive, and
the surviving fraction at the longest lag is reported per slab. Errors use the random-walk
covariance (:mod:`iondyn.md.covariance`) with the mean number of surviving ions as walkers —
an approximation (overlapping survival windows are not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from iondyn.constants import K_B_EV
from iondyn.display.summary import Displayable
from iondyn.errors import DataError, InputError
from iondyn.md.analysis import AXES
from iondyn.md.fit import A2_PER_PS_TO_CM2_PER_S, fit_msd_line
from iondyn.md.trajectory import Trajectory

__all__ = ["RegionalFitter", "RegionalResult", "slab_index"]


def slab_index(positions: np.ndarray, cells: np.ndarray, axis: int, edges: np.ndarray):
    """Slab of every (frame, ion) from the wrapped fractional coordinate along ``axis``
    (``edges``: increasing fractional edges from 0 to 1), as int16 (F, N)."""
    inv = np.linalg.inv(cells)
    frac = np.einsum("fnk,fk->fn", positions, inv[:, :, axis]) % 1.0
    return (np.searchsorted(edges, frac, side="right") - 1).clip(0, edges.size - 2).astype(np.int16)


@dataclass(repr=False)
class RegionalResult(Displayable):
    """Per slab: ``edges_frac``, ``center_A`` (along the slab normal), ``D_parallel`` (cm²/s)
    and its error, ``occupancy`` (mean ions), ``density_m3``, ``free_energy_eV`` (PMF, needs
    T), ``survival`` (fraction of windows still in the slab at the longest lag)."""

    axis: str
    edges_frac: np.ndarray
    center_A: np.ndarray
    thickness_A: float
    D_parallel_cm2_per_s: np.ndarray
    D_parallel_cm2_per_s_err: np.ndarray
    occupancy: np.ndarray
    density_m3: np.ndarray
    free_energy_eV: np.ndarray | None
    survival: np.ndarray
    lags_ps: np.ndarray
    temperature_K: float | None
    species: str
    warnings: list[str] = field(default_factory=list)

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "center_A": self.center_A,
                "frac_lo": self.edges_frac[:-1],
                "frac_hi": self.edges_frac[1:],
                "D_parallel_cm2_per_s": self.D_parallel_cm2_per_s,
                "D_parallel_cm2_per_s_err": self.D_parallel_cm2_per_s_err,
                "occupancy": self.occupancy,
                "density_m3": self.density_m3,
                "free_energy_eV": np.full(self.center_A.size, np.nan)
                if self.free_energy_eV is None
                else self.free_energy_eV,
                "survival": self.survival,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "axis": self.axis,
            "species": self.species,
            "temperature_K": self.temperature_K,
            "slab_thickness_A": self.thickness_A,
            "fit_lags_ps": [float(self.lags_ps[0]), float(self.lags_ps[-1])],
            "slabs": self.to_dataframe().to_dict(orient="records"),
            "warnings": list(self.warnings),
        }

    def _summary(self) -> Any:
        from iondyn.display.views_results import regional_summary

        return regional_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """D∥ of each slab against its position, with errors. Returns the axes."""
        from iondyn.display.views_results import regional_plot

        return regional_plot(self, ax)


class RegionalFitter:
    """D_∥ and occupancy in slabs (see the module docstring).

    ``axis``: the cell axis normal to the interface (``x``, ``y``, ``z`` = cell vectors a,
    b, c); ``n_slabs`` equal slabs, or ``edges`` (fractional, increasing, 0 … 1);
    ``max_lag_ps``: longest lag (default: half the windows survive, at most a quarter of the
    trajectory); ``min_lag_ps``: first lag of the fit (default 2 frames).
    """

    def __init__(
        self,
        axis: str = "z",
        n_slabs: int = 10,
        edges: list[float] | None = None,
        max_lag_ps: float | None = None,
        min_lag_ps: float | None = None,
        chunk_mb: float = 128.0,
    ):
        if axis not in AXES:
            raise InputError(f"axis must be x, y or z, not {axis!r}")
        if edges is not None:
            e = np.asarray(edges, dtype=float)
            if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0) or e[0] != 0 or e[-1] != 1:
                raise InputError("slab edges must increase from 0 to 1 (fractional)")
            self.edges = e
        else:
            if n_slabs < 1:
                raise InputError("n_slabs must be at least 1")
            self.edges = np.linspace(0.0, 1.0, int(n_slabs) + 1)
        self.axis = axis
        self.max_lag_ps = max_lag_ps
        self.min_lag_ps = min_lag_ps
        self.chunk_mb = chunk_mb

    def fit(self, trajectory: Trajectory) -> RegionalResult:
        tr = trajectory
        f, n = tr.n_frames, tr.n_ions
        k = AXES[self.axis]
        ns = self.edges.size - 1
        cells = np.asarray(tr.cells)
        normal = np.linalg.inv(cells)[:, :, k]  # reciprocal vector (rows of H⁻ᵀ)
        normal = normal / np.linalg.norm(normal, axis=1, keepdims=True)
        slabs = np.empty((f, n), dtype=np.int16)
        for s in range(0, f, 4096):
            pos = np.asarray(tr.positions[s : s + 4096])
            slabs[s : s + 4096] = slab_index(pos, cells[s : s + 4096], k, self.edges)
        occupancy = np.bincount(slabs.ravel(), minlength=ns) / f
        widths = 1.0 / np.linalg.norm(np.linalg.inv(cells)[:, :, k], axis=1)  # width along normal
        volume = tr.mean_volume_A3 * np.diff(self.edges)
        density = occupancy / volume * 1e30
        free = None
        if tr.temperature_K is not None:
            with np.errstate(divide="ignore"):
                mean = occupancy.sum() / tr.mean_volume_A3 * 1e30
                free = -K_B_EV * tr.temperature_K * np.log(density / mean)
        last = self._max_lag(slabs, tr.frame_interval_ps, f)
        first = (
            2 if self.min_lag_ps is None else max(round(self.min_lag_ps / tr.frame_interval_ps), 1)
        )
        if last - first + 1 < 3:
            raise DataError(
                "fewer than 3 lags for the regional fit: a longer trajectory is needed", tr.source
            )
        lags = np.arange(1, last + 1)
        sums = np.zeros((lags.size, ns))
        counts = np.zeros((lags.size, ns))
        per = max(1, int(self.chunk_mb * 2**20 / (f * 8 * 6)))
        for a in range(0, n, per):
            pos = np.asarray(tr.positions[:, a : a + per, :])
            sl = slabs[:, a : a + per]
            stay = np.ones(sl.shape, dtype=bool)
            for li, lag in enumerate(lags):
                stay = stay[:-1] & (sl[lag:] == sl[:-lag])
                d = pos[lag:] - pos[:-lag]
                d_par = (
                    d
                    - np.einsum("fnk,fk->fn", d, normal[:-lag])[..., None] * normal[:-lag, None, :]
                )
                d2 = np.einsum("fnk,fnk->fn", d_par, d_par)
                idx = sl[:-lag][stay]
                sums[li] += np.bincount(idx, weights=d2[stay], minlength=ns)
                counts[li] += np.bincount(idx, minlength=ns)
        fit_sel = lags >= first
        windows = (f - lags)[:, None] * occupancy[None, :]
        survival = np.where(windows[-1] > 0, counts[-1] / np.maximum(windows[-1], 1e-300), 0.0)
        d_par = np.full(ns, np.nan)
        d_err = np.full(ns, np.nan)
        warnings = list(tr.warnings)
        for s in range(ns):
            c = counts[fit_sel, s]
            if np.any(c < 10):
                warnings.append(f"slab {s}: too few windows stay in it for a D_∥")
                continue
            msd = sums[fit_sel, s] / c
            walkers = float(np.mean(c / (f - lags[fit_sel])))
            try:
                fit = fit_msd_line(
                    lags[fit_sel],
                    msd,
                    tr.frame_interval_ps,
                    f,
                    2,
                    max(walkers, 1.0),
                    where=tr.source,
                )
            except DataError as exc:
                warnings.append(f"slab {s}: {exc.problem}")
                continue
            d_par[s] = fit.slope / 4.0 * A2_PER_PS_TO_CM2_PER_S
            d_err[s] = fit.slope_err / 4.0 * A2_PER_PS_TO_CM2_PER_S
        mean_width = float(np.mean(widths))
        centers = 0.5 * (self.edges[:-1] + self.edges[1:]) * mean_width
        return RegionalResult(
            self.axis, self.edges, centers, float(np.mean(np.diff(self.edges))) * mean_width,
            d_par, d_err, occupancy, density, free, survival,
            lags[fit_sel] * tr.frame_interval_ps, tr.temperature_K, tr.species, warnings,
        )  # fmt: skip

    def _max_lag(self, slabs: np.ndarray, dt: float, f: int) -> int:
        if self.max_lag_ps is not None:
            return min(max(round(self.max_lag_ps / dt), 1), f - 1)
        cap = max((f - 1) // 4, 3)
        stay = np.ones(slabs.shape, dtype=bool)
        for lag in range(1, cap + 1):
            stay = stay[:-1] & (slabs[lag:] == slabs[:-lag])
            if stay.mean() < 0.5:
                return max(lag - 1, 3)
        return cap
