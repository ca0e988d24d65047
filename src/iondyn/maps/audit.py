"""The audit of a map fit: doubtful pixels re-refined from other starts and independently.

See step 6 of :mod:`iondyn.maps.fit` ("never at the cost of the optimum").
"""

from __future__ import annotations

import numpy as np

from iondyn.maps.templates import saem_theta
from iondyn.maps.varpro import VPResult

__all__ = ["audit", "keep_best", "noise_units"]


def audit(fitter, model, engine, yb, offset, res, labels, flat, nx, starts, stats):
    """Re-refine doubtful pixels from other starts and independently (module docstring)."""
    k, p = model.k, model.shape.n_params
    b = yb.shape[0]
    x = model.x_host
    dx = float(np.median(np.diff(x)))
    span = float(x[-1] - x[0])
    sigma2 = noise_units(fitter, res)
    per_dof = res.cost / res.dof
    if fitter.likelihood == "gaussian":
        # in units of each pixel's own noise (second differences, Rice 1984), so that
        # brighter pixels (larger χ² for the same fit) are not taken for outliers
        d2 = yb[:, :-2] - 2 * yb[:, 1:-1] + yb[:, 2:]
        per_dof = per_dof / np.maximum(np.mean(d2 * d2, axis=1) / 6.0, 1e-300)
    med = np.median(per_dof[np.isfinite(per_dof)]) if np.isfinite(per_dof).any() else np.inf
    peaks = res.theta[:, : k * p].reshape(b, k, p)
    d = model.shape.describe(peaks)
    bounds_bad = np.any(
        (d["center"] < x[0]) | (d["center"] > x[-1]) | (d["fwhm"] < 1.5 * dx) | (d["fwhm"] > span),
        axis=1,
    )
    hard = ~res.converged | bounds_bad | ~(per_dof <= 1.5 * med) | ~np.isfinite(res.cost)
    soft = res.clamped[:, :k].any(axis=1)
    flagged = hard | soft
    iy, ix = np.divmod(flat, nx)
    a = fitter.anchor_every
    anchors = (iy % a == a // 2) & (ix % a == a // 2) if a else np.zeros(b, dtype=bool)
    stats["flagged"] += int(flagged.sum())
    stats["anchors"] += int(anchors.sum())
    audited = flagged.copy()
    best = res
    # 1. other starts for flagged pixels: every cluster's start and the neighbours
    rows = np.nonzero(flagged)[0]
    if rows.size:
        cands = [starts[c] for c in range(starts.shape[0])]
        pos = {int(f): i for i, f in enumerate(flat)}
        theta_c, row_c = [], []
        for r in rows:
            for t in cands:
                theta_c.append(t)
                row_c.append(r)
            for dy, dxp in ((0, -1), (0, 1), (-1, 0), (1, 0)):
                j = pos.get(int(flat[r] + dy * nx + dxp))
                if j is not None and not flagged[j]:
                    theta_c.append(best.theta[j])
                    row_c.append(r)
        best = keep_best(fitter, model, yb, offset, best, np.array(row_c), np.array(theta_c))
    # 2. independent SAEM fits: hard cases and anchors
    ind = np.nonzero(hard | anchors)[0]
    if ind.size:
        stats["independent"] += int(ind.size)
        before = best.cost[ind].copy()
        fits = engine.fit((x, yb[ind])).fits
        theta_i = np.stack([saem_theta(model, f) for f in fits])
        best = keep_best(fitter, model, yb, offset, best, ind, theta_i)
        gain = (before - best.cost[ind]) / sigma2[ind]
        stats["improved"] += int(np.sum(gain > 1e-3))
        audited[ind[gain > 1e-3]] = True
        # 3. an anchor in another optimum: its cluster's pixels of the block try its solution
        moved = ind[anchors[ind] & (gain > 1.0)]
        stats["anchor_improved"] += int(moved.size)
        for r in moved:
            same = np.nonzero((labels == labels[r]) & (np.arange(b) != r))[0]
            if same.size:
                tt = np.repeat(best.theta[r][None], same.size, axis=0)
                old = best.cost[same].copy()
                best = keep_best(fitter, model, yb, offset, best, same, tt)
                audited[same[best.cost[same] < old]] = True
    return best, audited


def noise_units(fitter, res: VPResult) -> np.ndarray:
    if fitter.likelihood == "poisson":
        return np.ones(res.cost.size)
    return np.maximum(res.cost / res.dof, 1e-300)


def keep_best(fitter, model, yb, offset, res, rows, thetas) -> VPResult:
    """Refine ``thetas`` for ``rows`` (repeats allowed) and keep, per row, the lowest cost."""
    if rows.size == 0:
        return res
    cand = fitter._refine(model, yb[rows], thetas, None if offset is None else offset[rows])
    out = VPResult(*(getattr(res, f).copy() for f in VPResult.__dataclass_fields__))
    cost = np.where(np.isfinite(cand.cost), cand.cost, np.inf)
    conv = cand.converged
    for i in np.argsort(cost):  # the best candidate of a row first
        r = rows[i]
        if cost[i] < out.cost[r] - 1e-9 * abs(out.cost[r]) or (
            conv[i] and not out.converged[r] and cost[i] <= out.cost[r] + 1e-6
        ):
            for f in VPResult.__dataclass_fields__:
                getattr(out, f)[r] = getattr(cand, f)[i]
    return out
