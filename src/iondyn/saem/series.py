"""Series mode: a sequence of spectra (time, temperature, depth, map pixels) fitted with warm
starts from the neighbour and stable peak identity.

The first spectrum is decomposed from scratch (EM from many starts, then refinement) and its
peaks, ordered by center, define the identities 1..K. The rest of the series is processed in
chunks: every spectrum of a chunk starts from the last fitted neighbour, extrapolated linearly
along the series (in unconstrained coordinates) to follow drifting peaks, and all spectra of
the chunk are refined together. A spectrum whose warm-started fit is clearly worse than its
neighbours' (cost per point above ``refit_factor`` × the running median, non-convergence or a
collapsed component) is refitted from scratch and the better solution kept. Identities are then
carried from each spectrum to the next by optimal assignment
(:func:`scipy.optimize.linear_sum_assignment`) on the distance
|Δcenter|/FWHM + |ln(FWHM ratio)|, so peak 2 stays the same physical peak even when peaks
cross or a component is refitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from iondyn.saem.batch import make_batch
from iondyn.saem.components.base import window_bounds
from iondyn.saem.report import _permute, assemble_fits
from iondyn.saem.result import SAEMResult
from iondyn.saem.transforms import from_z, to_z

if TYPE_CHECKING:  # pragma: no cover
    from iondyn.saem.engine import SAEM, RawFit

__all__ = ["fit_series", "match_peaks"]


def match_peaks(
    center_prev: np.ndarray, fwhm_prev: np.ndarray, center: np.ndarray, fwhm: np.ndarray
) -> np.ndarray:
    """Permutation ``perm`` such that peak ``perm[j]`` of the new spectrum is the same physical
    peak as peak ``j`` of the previous one (Hungarian assignment). ``center_prev`` may be the
    positions predicted from each peak's drift rather than the last measured ones."""
    scale = np.maximum(fwhm_prev[:, None], 1e-300)
    cost = np.abs(center[None, :] - center_prev[:, None]) / scale
    cost += np.abs(np.log(np.maximum(fwhm[None, :], 1e-300) / scale))
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(rows), dtype=int)
    perm[rows] = cols
    return perm


def _concat(raws: list[RawFit]) -> RawFit:
    from iondyn.saem.engine import RawFit

    first = raws[0]
    fields: dict[str, Any] = {"n_peaks": first.n_peaks, "em_iterations": first.em_iterations}
    for name in ("params", "cov", "cost", "model", "iterations", "converged", "rank_deficient"):
        fields[name] = np.concatenate([getattr(r, name) for r in raws], axis=0)
    fields["feasible"] = np.concatenate([r.feasible for r in raws])
    keys = first.ctx.keys()
    fields["ctx"] = {k: np.concatenate([r.ctx[k] for r in raws], axis=0) for k in keys}
    return RawFit(**fields)


def _rows_of(raw: RawFit, idx: np.ndarray) -> RawFit:
    from iondyn.saem.engine import RawFit

    fields: dict[str, Any] = {"n_peaks": raw.n_peaks, "em_iterations": raw.em_iterations}
    for name in ("params", "cov", "cost", "model", "iterations", "converged", "rank_deficient"):
        fields[name] = getattr(raw, name)[idx]
    fields["feasible"] = raw.feasible[idx]
    fields["ctx"] = {k: v[idx] for k, v in raw.ctx.items()}
    return RawFit(**fields)


def _replace_rows(raw: RawFit, idx: np.ndarray, new: RawFit, take: np.ndarray) -> None:
    for name in ("params", "cov", "cost", "model", "iterations", "converged", "rank_deficient"):
        getattr(raw, name)[idx[take]] = getattr(new, name)[take]


def _resolved(raw: RawFit, row: int, k: int, block: int, limit: float = 0.95) -> np.ndarray:
    """Per peak: False when its area correlates with another peak's beyond ``limit``."""
    cov = raw.cov[row]
    d = np.sqrt(np.clip(np.diag(cov), 0, None))
    idx = np.arange(k) * block
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov[np.ix_(idx, idx)] / np.outer(d[idx], d[idx])
    corr = np.where(np.isfinite(corr), np.abs(corr), 1.0)
    np.fill_diagonal(corr, 0.0)
    return corr.max(axis=1) < limit if k > 1 else np.ones(1, dtype=bool)


def fit_series(
    engine: SAEM,
    data: Any,
    sigma: Any = None,
    chunk_size: int = 16,
    refit_factor: float = 1.5,
) -> SAEMResult:
    """Fit an ordered series with warm starts and keep peak identity (module docstring)."""
    batch = make_batch(data, sigma)
    engine._validate(batch)
    n = batch.size
    # K from the first spectrum (by BIC when auto)
    bic_table: list = []
    if engine.n_peaks == "auto":
        first_fit = engine.fit(_as_data(batch, 0))
        k = first_fit[0].n_peaks
        bic_table = first_fit[0].bic_table
    else:
        k = int(engine.n_peaks)
    model = engine.model(k)
    tr = model.transforms
    window = window_bounds(batch.x)
    first = engine.fit_fixed_k(batch.rows(np.array([0])), k, engine._rng(0))
    order = _center_order(engine, model, first.params, (window[0][:1], window[1][:1]))[0]
    _permute_raw(engine, first, 0, k, order)
    raws = [first]
    cost_pp = [float(first.cost[0] / batch.n_valid[0])]
    z_prev = to_z(first.params, tr)[0]
    v_z = np.zeros_like(z_prev)
    d0 = engine.component.describe(model.unpack(first.params)[1], (window[0][:1], window[1][:1]))
    track_c = d0["center"][0].copy()
    track_w = d0["fwhm"][0].copy()
    track_v = np.zeros_like(track_c)
    size = max(int(chunk_size), 1)
    i = 1
    while i < n:
        idx = np.arange(i, min(i + size, n))
        sub = batch.rows(idx)
        win_sub = (window[0][idx], window[1][idx])
        steps = (idx - (i - 1))[:, None].astype(float)
        start = from_z(z_prev[None, :] + steps * v_z[None, :], tr)
        raw = engine.fit_fixed_k(sub, k, None, start=start)
        # spectra whose warm start failed are refitted from scratch
        ref = float(np.median(cost_pp[-32:]))
        per_point = raw.cost / sub.n_valid
        bad = ~raw.converged | ~(per_point <= refit_factor * ref)
        bad |= engine._degenerate(sub, raw, model, win_sub).any(1)
        _, th, _ = model.unpack(raw.params.copy())
        cen = engine.component.describe(th, win_sub)["center"]
        bad |= np.any((cen < win_sub[0][:, None]) | (cen > win_sub[1][:, None]), axis=1)
        if bad.any():
            bidx = np.nonzero(bad)[0]
            cold = engine.fit_fixed_k(sub.rows(bidx), k, engine._rng(int(idx[0])))
            take = ~np.isfinite(raw.cost[bidx]) | (cold.cost < raw.cost[bidx])
            _replace_rows(raw, bidx, cold, take)
        # carry identities along the chunk, assigning against each peak's predicted position
        for j in range(idx.size):
            _, t_new, _ = model.unpack(raw.params[j : j + 1].copy())
            w_new = (window[0][idx[j] : idx[j] + 1], window[1][idx[j] : idx[j] + 1])
            d_new = engine.component.describe(t_new, w_new)
            perm = match_peaks(track_c + track_v, track_w, d_new["center"][0], d_new["fwhm"][0])
            _permute_raw(engine, raw, j, k, perm)
            new_c = d_new["center"][0][perm]
            ok = _resolved(raw, j, k, model.block)
            # positions follow the fit; the drift is learnt only while a peak is resolved and
            # remembered while it overlaps another one, so that identities survive a crossing
            step = np.clip(new_c - track_c, -0.25 * track_w, 0.25 * track_w)
            track_v = np.where(ok, 0.7 * track_v + 0.3 * step, track_v)
            track_c = new_c
            track_w = np.where(ok, d_new["fwhm"][0][perm], track_w)
            z_new = to_z(raw.params[j : j + 1], tr)[0]
            if bad[j] or not ok.all():
                v_z = np.zeros_like(v_z)
            else:
                v_z = 0.7 * v_z + 0.3 * (z_new - z_prev)
            z_prev = z_new
        raws.append(raw)
        cost_pp += list(raw.cost / sub.n_valid)
        # adapt the chunk: smaller after trouble, larger while warm starts succeed
        size = max(1, size // 2) if bad.any() else min(2 * size, max(int(chunk_size), 1) * 4)
        i = int(idx[-1]) + 1
    combined = _concat(raws)
    ids = np.tile(np.arange(1, k + 1), (n, 1))
    fits = assemble_fits(engine, batch, {k: combined}, peak_ids=ids)
    if bic_table:
        fits[0].bic_table = bic_table
    settings = engine.settings() | {"series": True, "chunk_size": chunk_size}
    return SAEMResult(fits, settings)


def _as_data(batch, i):
    from iondyn.data import Spectrum

    m = batch.mask[i]
    sigma = None
    if batch.has_sigma:
        sigma = 1.0 / np.sqrt(batch.weights[i, m])
    return [Spectrum(batch.x[i, m], batch.y[i, m], sigma, batch.sources[i], batch.indices[i])]


def _center_order(engine, model, params, window) -> np.ndarray:
    _, theta, _ = model.unpack(params)
    return np.argsort(engine.component.describe(theta, window)["center"], axis=-1)


def _permute_raw(engine, raw, row: int, k: int, order: np.ndarray) -> None:
    """Apply a peak permutation to one row of a RawFit in place."""
    p, c, _ = _permute(engine, raw.params[row], raw.cov[row], k, order)
    raw.params[row] = p
    raw.cov[row] = c
