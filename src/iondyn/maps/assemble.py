"""Assembling a map fit block by block: peak identity permutations and the result maps."""

from __future__ import annotations

import numpy as np

from iondyn.maps.model import MapModel
from iondyn.maps.result import QUALITY_CODES
from iondyn.maps.varpro import VPResult

__all__ = ["Collector", "permute_result"]


def permute_result(model: MapModel, res: VPResult, perm: np.ndarray) -> VPResult:
    """Reorder the peaks of every row (θ blocks, areas, covariance rows and columns)."""
    k, p, lc = model.k, model.shape.n_params, model.n_lin
    if np.all(perm == np.arange(k)):
        return res
    b = perm.shape[0]
    th_idx = (perm[:, :, None] * p + np.arange(p)[None, None, :]).reshape(b, -1)
    th_idx = np.concatenate(
        [th_idx, np.broadcast_to(np.arange(k * p, model.n_nl), (b, model.n_nl - k * p))], axis=1
    )
    lin_idx = np.concatenate([perm, np.broadcast_to(np.arange(k, lc), (b, lc - k))], axis=1)
    full = np.concatenate([lin_idx, lc + th_idx], axis=1)
    rows = np.arange(b)[:, None]
    return VPResult(
        res.theta[rows, th_idx],
        res.coef[rows, lin_idx],
        res.cost,
        res.model,
        res.converged,
        res.iterations,
        res.clamped[rows, lin_idx],
        res.cov[rows[:, :, None], full[:, :, None], full[:, None, :]],
        res.dof,
    )


class Collector:
    """Result maps filled block by block."""

    def __init__(self, ny: int, nx: int, k: int):
        self.ny, self.nx, self.k = ny, nx, k
        self.arrays: dict[str, np.ndarray] = {}
        n = ny * nx
        self.scalar = {
            "cost_per_dof": np.full(n, np.nan),
            "converged": np.zeros(n, dtype=bool),
            "iterations": np.zeros(n, dtype=np.int32),
            "cluster": np.full(n, -1, dtype=np.int16),
            "audited": np.zeros(n, dtype=bool),
            "quality": np.full(n, -1, dtype=np.int8),
            "rms_relative": np.full(n, np.nan),
        }

    def _arr(self, name: str, width: int | None) -> np.ndarray:
        if name not in self.arrays:
            shape = (self.ny * self.nx,) if width is None else (self.ny * self.nx, width)
            self.arrays[name] = np.full(shape, np.nan)
        return self.arrays[name]

    def store(self, flat, values, res: VPResult, labels, audited) -> None:
        for name, v in values.items():
            self._arr(name, v.shape[1] if v.ndim == 2 else None)[flat] = v
        s = self.scalar
        s["cost_per_dof"][flat] = res.cost / res.dof
        s["converged"][flat] = res.converged
        s["iterations"][flat] = res.iterations
        s["cluster"][flat] = labels
        s["audited"][flat] = audited

    def store_quality(self, flat, x, y, model, poisson: bool) -> None:
        from iondyn.misfit import curve_fit_quality

        for i, f in enumerate(flat):
            with np.errstate(all="ignore"):
                q = curve_fit_quality(x, y[i], model[i], poisson=poisson)
            self.scalar["quality"][f] = QUALITY_CODES.get(q.verdict, -1)
            self.scalar["rms_relative"][f] = np.nan if q.rms_relative is None else q.rms_relative

    def finish(self, valid: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        for name, a in {**self.arrays, **self.scalar}.items():
            out[name] = a.reshape((self.ny, self.nx) + a.shape[1:])
        return out
