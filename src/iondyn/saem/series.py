"""Series mode: a sequence of spectra (time, temperature, depth, map pixels) fitted with warm
starts from the neighbours and stable peak identity, never worse than independent fits.

A warm start (continuation along the series) is cheap, but where two peaks overlap so much
that the split of intensity between them is ambiguous, the likelihood has several basins of
nearly equal depth (e.g. "big narrow + small broad" against "small narrow + big broad"),
and a warm start stays in the basin of the spectrum it comes from (hysteresis), which need
not be the best one of the new spectrum. Starting a whole chunk of spectra from one distant
neighbour, as this mode first did, made it worse: the drifting peak had moved meanwhile, and
each start landed in whichever basin was nearest. The series is therefore fitted so:

1. **Anchors**: every ``anchor_every``-th spectrum (and the last) is fitted independently,
   exactly as :meth:`~iondyn.saem.engine.SAEM.fit` fits it (EM from many starts, same seeds).
2. **Continuation**: every spectrum between two anchors is refined from the solution of the
   nearer anchor, and each anchor from the solution of the other anchor of the gap (the
   "arrivals"); all gaps in one batched refinement.
3. **Audit**: a gap whose arrival lands in a different optimum than the anchor's independent
   fit, or holds a failed solution, gets the candidates from the farther anchor too; where
   the two candidates then disagree, every spectrum of the gap is fitted independently.
   Independent fits are also made of every spectrum whose solution failed (no convergence,
   a collapsed, dead or insignificant component, a centre outside the window, a cost per
   point above ``refit_factor`` × the anchors' median) or whose split between two peaks is
   ambiguous (area correlation beyond :data:`AMBIGUOUS`), and of whole gaps next to an
   ambiguous anchor, without continuation. Each spectrum keeps the lowest cost among its
   candidates: wherever a warm start cannot be trusted, the result is at least as good as
   the independent fit.
4. **Identity**: the peaks of the first spectrum, ordered by centre, get the ids 1..K; each
   later spectrum's peaks are assigned by optimal assignment
   (:func:`scipy.optimize.linear_sum_assignment`) to every peak's predicted position, width
   and area (:func:`match_peaks`). A peak's drift, width and area are learnt while it is
   resolved and remembered while it overlaps another one, so identities survive peaks
   crossing and ambiguous decompositions.

Two optima count as different when their costs differ by more than 0.01 noise-variance units
(deviance units for Poisson counts), far below a statistically meaningful Δcost ≈ 1.
The decomposition itself is SAEM (Matsumura et al., Sci. Technol. Adv. Mater. 20, 733
(2019)); checking a continued solution against independent solutions guards against
path-following jumping branches or staying on a dying one (Allgower & Georg, *Introduction to
Numerical Continuation Methods*, SIAM (2003), ch. 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from iondyn.saem.batch import Batch, make_batch
from iondyn.saem.components.base import window_bounds
from iondyn.saem.report import _permute, assemble_fits
from iondyn.saem.result import SAEMResult

if TYPE_CHECKING:  # pragma: no cover
    from iondyn.saem.engine import SAEM, RawFit
    from iondyn.saem.model import MixtureModel

__all__ = ["fit_series", "match_peaks"]

_FIELDS = ("params", "cov", "cost", "model", "iterations", "converged", "rank_deficient")
#: two optima are different when their costs differ by more than this (noise-variance units)
SAME_COST = 1e-2
#: area correlation beyond which the split between two peaks counts as ambiguous
AMBIGUOUS = 0.99


def match_peaks(
    center_prev: np.ndarray,
    fwhm_prev: np.ndarray,
    center: np.ndarray,
    fwhm: np.ndarray,
    area_prev: np.ndarray | None = None,
    area: np.ndarray | None = None,
) -> np.ndarray:
    """Permutation ``perm`` such that peak ``perm[j]`` of the new spectrum is the same physical
    peak as peak ``j`` of the previous one: the assignment (Hungarian algorithm) minimising
    Σ |Δcenter|/FWHM_prev + |ln(FWHM/FWHM_prev)| [+ |ln(|area|/|area_prev|)|]. ``center_prev``
    may be the positions predicted from each peak's drift rather than the last measured ones;
    with the areas, a small peak is not taken for a big one that moved."""
    scale = np.maximum(fwhm_prev[:, None], 1e-300)
    cost = np.abs(center[None, :] - center_prev[:, None]) / scale
    cost += np.abs(np.log(np.maximum(fwhm[None, :], 1e-300) / scale))
    if area_prev is not None and area is not None:
        a_prev = np.maximum(np.abs(area_prev[:, None]), 1e-300)
        cost += np.abs(np.log(np.maximum(np.abs(area[None, :]), 1e-300) / a_prev))
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(rows), dtype=int)
    perm[rows] = cols
    return perm


def fit_series(
    engine: SAEM,
    data: Any,
    sigma: Any = None,
    anchor_every: int = 8,
    refit_factor: float = 1.5,
    chunk_size: int | None = None,
) -> SAEMResult:
    """Fit an ordered series with warm starts and keep peak identity (module docstring).

    ``anchor_every``: spacing of the independently fitted anchors (``chunk_size`` is its
    former name). ``refit_factor``: a kept solution whose cost per point exceeds this multiple
    of the anchors' median sends its gap to the independent audit.
    """
    if chunk_size is not None:
        anchor_every = chunk_size
    batch = make_batch(data, sigma)
    engine._validate(batch)
    n = batch.size
    bic_table: list = []
    if engine.n_peaks == "auto":  # K from the first spectrum, by BIC
        first_fit = engine.fit(_as_data(batch, 0))
        k = first_fit[0].n_peaks
        bic_table = first_fit[0].bic_table
    else:
        k = int(engine.n_peaks)
    model = engine.model(k)
    window = window_bounds(batch.x)
    _, _, ctx = engine.background.init(batch.x, batch.y, batch.mask)

    def empty() -> RawFit:
        return _empty(k, n, model.n_params, batch.y.shape[1], ctx)

    step = max(int(anchor_every), 1)
    anchors = np.unique(np.r_[np.arange(0, n, step), n - 1])
    best, indep = empty(), empty()
    _put(indep, anchors, _fit_rows(engine, batch, anchors, k))
    _keep_better(best, indep)
    lo, hi = anchors[:-1], anchors[1:]
    fwd, bwd = empty(), empty()
    # a gap next to an anchor whose split between two peaks is ambiguous is fitted
    # independently (its likelihood has several basins); the others are continued
    amb = _ambiguous(best, model.block, AMBIGUOUS)
    direct = amb[lo] | amb[hi]
    _continue(engine, batch, k, best, fwd, bwd, lo, hi, ~direct, "near")
    _keep_better(best, fwd)
    _keep_better(best, bwd)
    check = _Checks(engine, batch, model, window, anchors, indep, refit_factor)
    # a gap whose arrivals miss the anchors' optima or that failed gets both candidates
    far = ~direct & check.ends(best, fwd, bwd)
    _continue(engine, batch, k, best, fwd, bwd, lo, hi, far, "far")
    _keep_better(best, fwd)
    _keep_better(best, bwd)
    # the audit: independent fits where the two candidates disagree (whole gap), next to
    # ambiguous anchors, and of every spectrum whose solution failed or is ambiguous
    gaps = far & check.disagree(best, fwd, bwd)
    audit = check.failed(best) | _ambiguous(best, model.block, AMBIGUOUS)
    audit[_interior(lo[gaps | direct], hi[gaps | direct])] = True
    audit[anchors] = False
    rows = np.nonzero(audit)[0]
    if rows.size:
        _put(indep, rows, _fit_rows(engine, batch, rows, k))
        _keep_better(best, indep)
    ids = _assign_identity(engine, model, best, window)
    fits = assemble_fits(engine, batch, {k: best}, peak_ids=ids)
    if bic_table:
        fits[0].bic_table = bic_table
    settings = engine.settings() | {
        "series": True,
        "anchor_every": step,
        "audited_spectra": int(rows.size),
    }
    return SAEMResult(fits, settings)


# ---------------------------------------------------------------------- row bookkeeping
def _empty(k: int, n: int, n_params: int, n_points: int, ctx: dict) -> RawFit:
    """A RawFit of ``n`` rows holding no solution yet (infinite cost)."""
    from iondyn.saem.engine import RawFit

    nan, false = np.full((n, n_params), np.nan), np.zeros(n, dtype=bool)
    cov = np.full((n, n_params, n_params), np.nan)
    zeros = np.zeros(n, dtype=int)
    inf, curves = np.full(n, np.inf), np.zeros((n, n_points))
    return RawFit(k, nan, cov, inf, curves, zeros, false, false.copy(), 0, ctx, ~false)


def _put(dst: RawFit, rows: np.ndarray, src: RawFit) -> None:
    """Store the solutions of ``src`` (one per entry of ``rows``) at ``dst[rows]``."""
    for name in _FIELDS:
        getattr(dst, name)[rows] = getattr(src, name)
    dst.em_iterations = max(dst.em_iterations, src.em_iterations)


def _keep_better(dst: RawFit, cand: RawFit) -> None:
    """Replace the rows of ``dst`` where ``cand`` (same rows) has a lower cost."""
    take = np.nonzero(cand.cost < dst.cost)[0]
    for name in _FIELDS:
        getattr(dst, name)[take] = getattr(cand, name)[take]
    dst.em_iterations = max(dst.em_iterations, cand.em_iterations)


def _rows_of(raw: RawFit, idx: np.ndarray) -> RawFit:
    from iondyn.saem.engine import RawFit

    fields: dict[str, Any] = {"n_peaks": raw.n_peaks, "em_iterations": raw.em_iterations}
    for name in _FIELDS:
        fields[name] = getattr(raw, name)[idx]
    fields["feasible"] = raw.feasible[idx]
    fields["ctx"] = {key: v[idx] for key, v in raw.ctx.items()}
    return RawFit(**fields)


def _fit_rows(
    engine: SAEM, batch: Batch, rows: np.ndarray, k: int, starts: np.ndarray | None = None
) -> RawFit:
    """Fit the spectra ``rows`` with K components: independently (``starts`` None; the seeds
    of :meth:`SAEM.fit`, so the same fit) or refined from ``starts``; in chunks of
    ``engine.chunk_size`` rows so that memory stays bounded."""
    from iondyn.saem.engine import RawFit

    parts = []
    for s in range(0, rows.size, engine.chunk_size):
        sel = np.arange(s, min(s + engine.chunk_size, rows.size))
        sub = batch.rows(rows[sel])
        if starts is None:
            parts.append(engine.fit_fixed_k(sub, k, engine._row_rngs(sub, k)))
        else:
            parts.append(engine.fit_fixed_k(sub, k, None, start=starts[sel]))
    if len(parts) == 1:
        return parts[0]
    fields: dict[str, Any] = {"n_peaks": k, "em_iterations": parts[0].em_iterations}
    for name in (*_FIELDS, "feasible"):
        fields[name] = np.concatenate([getattr(p, name) for p in parts], axis=0)
    fields["ctx"] = {key: np.concatenate([p.ctx[key] for p in parts]) for key in parts[0].ctx}
    return RawFit(**fields)


# ---------------------------------------------------------------------- continuation, audit
def _interior(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The spectra strictly between the anchors of every given gap."""
    parts = [np.arange(a + 1, b) for a, b in zip(lo, hi)]
    return np.concatenate(parts).astype(int) if parts else np.zeros(0, dtype=int)


def _continue(
    engine: SAEM,
    batch: Batch,
    k: int,
    best: RawFit,
    fwd: RawFit,
    bwd: RawFit,
    lo: np.ndarray,
    hi: np.ndarray,
    on: np.ndarray,
    part: str,
) -> None:
    """Continuation candidates for the gaps ``on`` (module doc, step 2), in one batched
    refinement: a forward candidate starts from the solution of the anchor before the
    spectrum, a backward one from the anchor after it. ``part``: ``"near"`` (every spectrum
    from its nearer anchor, and each anchor from the other) or ``"far"`` (the rest)."""
    f_rows, f_from, b_rows, b_from = [], [], [], []
    for a, b in zip(lo[on], hi[on]):
        mid = (a + b) // 2
        if part == "near":
            fr, br = np.r_[a + 1 : mid + 1, b], np.r_[a, mid + 1 : b]
        else:
            fr, br = np.r_[mid + 1 : b], np.r_[a + 1 : mid + 1]
        f_rows.append(fr)
        f_from.append(np.full(fr.size, a))
        b_rows.append(br)
        b_from.append(np.full(br.size, b))
    if not f_rows:
        return
    fr, br = np.concatenate(f_rows).astype(int), np.concatenate(b_rows).astype(int)
    rows = np.concatenate([fr, br])
    if rows.size == 0:
        return
    starts = best.params[np.concatenate([*f_from, *b_from]).astype(int)]
    raw = _fit_rows(engine, batch, rows, k, starts)
    _put(fwd, fr, _rows_of(raw, np.arange(fr.size)))
    _put(bwd, br, _rows_of(raw, np.arange(fr.size, rows.size)))


def _ambiguous(raw: RawFit, block: int, limit: float) -> np.ndarray:
    """Rows where two peaks' areas correlate beyond ``limit`` (their split is ambiguous and
    the likelihood may have several basins), or whose covariance is unknown."""
    k = raw.n_peaks
    if k < 2:
        return ~np.all(np.isfinite(raw.cov.reshape(raw.cov.shape[0], -1)), axis=1)
    idx = np.arange(k) * block
    c = raw.cov[:, idx[:, None], idx[None, :]]
    d = np.sqrt(np.clip(np.diagonal(c, axis1=1, axis2=2), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.abs(c / (d[:, :, None] * d[:, None, :]))
    r[:, np.arange(k), np.arange(k)] = 0.0
    return ~np.all(r <= limit, axis=(1, 2))


class _Checks:
    """The audit's tests on the candidates between consecutive anchors (module doc, step 3)."""

    def __init__(self, engine, batch, model, window, anchors, indep, refit_factor) -> None:
        self.engine, self.batch, self.model, self.window = engine, batch, model, window
        self.lo, self.hi = anchors[:-1], anchors[1:]
        self.indep = indep
        per_point = indep.cost[anchors] / batch.n_valid[anchors]
        self.max_per_point = refit_factor * float(np.median(per_point))

    def _apart(self, a: np.ndarray, b: np.ndarray, best: RawFit) -> np.ndarray:
        """Different optima: costs further apart than SAME_COST noise-variance units (1 for
        Poisson counts or known σ, else χ²/dof); a path that broke down (infinite cost)
        counts as different."""
        tol = np.full(self.batch.size, SAME_COST)
        with np.errstate(invalid="ignore"):
            if self.engine.likelihood.scale_covariance:
                dof = np.maximum(self.batch.n_valid - self.model.n_params, 1)
                tol = tol * np.where(np.isfinite(best.cost), best.cost / dof, np.inf)
            return ~(np.abs(a - b) <= tol)

    def _count(self, mask: np.ndarray, inclusive: bool) -> np.ndarray:
        """Per gap: how many spectra of ``mask`` lie in it (with its anchors or without)."""
        cs = np.r_[0, np.cumsum(mask)]
        if inclusive:
            return cs[self.hi + 1] - cs[self.lo]
        return cs[self.hi] - cs[self.lo + 1]

    def failed(self, raw: RawFit) -> np.ndarray:
        """Per spectrum (see :func:`_failed`)."""
        return _failed(self.engine, self.batch, self.model, self.window, raw, self.max_per_point)

    def ends(self, best: RawFit, fwd: RawFit, bwd: RawFit) -> np.ndarray:
        """Per gap: a path reached the far anchor elsewhere than its independent fit, or a
        kept solution of the gap failed."""
        f_apart = self._apart(fwd.cost, self.indep.cost, best)[self.hi]
        b_apart = self._apart(bwd.cost, self.indep.cost, best)[self.lo]
        return f_apart | b_apart | (self._count(self.failed(best), inclusive=True) > 0)

    def disagree(self, best: RawFit, fwd: RawFit, bwd: RawFit) -> np.ndarray:
        """Per gap: the two paths end in different optima somewhere, or bad ends."""
        apart = self._apart(fwd.cost, bwd.cost, best)
        return self.ends(best, fwd, bwd) | (self._count(apart, inclusive=False) > 0)


def _failed(
    engine: SAEM, batch: Batch, model: MixtureModel, window, raw: RawFit, max_per_point: float
) -> np.ndarray:
    """Rows that did not converge, have a collapsed, dead or insignificant component (area
    within two standard errors of zero: its position is not determined by the data) or a
    centre outside the window, or a cost per point above ``max_per_point``."""
    bad = ~raw.converged | ~(raw.cost / batch.n_valid <= max_per_point)
    bad |= ~np.all(np.isfinite(raw.params), axis=1)
    idx = np.arange(raw.n_peaks) * model.block
    with np.errstate(invalid="ignore"):
        area_se = np.sqrt(np.clip(raw.cov[:, idx, idx], 0, None))
        bad |= np.any(~(np.abs(raw.params[:, idx]) > 2.0 * area_se), axis=1)
    ok = np.nonzero(~bad)[0]
    if ok.size:
        part = _rows_of(raw, ok)
        win = (window[0][ok], window[1][ok])
        bad[ok] |= engine._degenerate(batch.rows(ok), part, model, win).any(axis=1)
        _, theta, _ = model.unpack(part.params.copy())
        cen = engine.component.describe(theta, win)["center"]
        bad[ok] |= np.any((cen < win[0][:, None]) | (cen > win[1][:, None]), axis=1)
    return bad


# ---------------------------------------------------------------------- identity
def _assign_identity(engine: SAEM, model: MixtureModel, raw: RawFit, window) -> np.ndarray:
    """Permute every row's peaks in place so that column j is the peak with id j + 1
    (module doc, step 4); returns the ids (B, K)."""
    n, k = raw.params.shape[0], raw.n_peaks
    areas, theta, _ = model.unpack(raw.params.copy())
    desc = engine.component.describe(theta, window)
    center, fwhm = desc["center"], desc["fwhm"]
    order = np.argsort(center[0], kind="stable")
    _permute_row(engine, raw, 0, k, order)
    track_c, track_w, track_a = center[0][order], fwhm[0][order], areas[0][order]
    track_v = np.zeros(k)
    for j in range(1, n):
        if not np.all(np.isfinite([center[j], fwhm[j], areas[j]])):
            continue
        perm = match_peaks(track_c + track_v, track_w, center[j], fwhm[j], track_a, areas[j])
        _permute_row(engine, raw, j, k, perm)
        new_c = center[j][perm]
        ok = _resolved(raw.cov[j], k, model.block)
        # positions follow the fit; drift, width and area are learnt only while a peak is
        # resolved and remembered while it overlaps another one (where the split between
        # the two is ambiguous), so that identities survive a crossing
        step = np.clip(new_c - track_c, -0.25 * track_w, 0.25 * track_w)
        track_v = np.where(ok, 0.7 * track_v + 0.3 * step, track_v)
        track_c = new_c
        track_w = np.where(ok, fwhm[j][perm], track_w)
        track_a = np.where(ok, areas[j][perm], track_a)
    return np.tile(np.arange(1, k + 1), (n, 1))


def _resolved(cov: np.ndarray, k: int, block: int, limit: float = 0.95) -> np.ndarray:
    """Per peak: False when its area correlates with another peak's beyond ``limit``."""
    if k < 2:
        return np.ones(1, dtype=bool)
    d = np.sqrt(np.clip(np.diag(cov), 0, None))
    idx = np.arange(k) * block
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov[np.ix_(idx, idx)] / np.outer(d[idx], d[idx])
    corr = np.where(np.isfinite(corr), np.abs(corr), 1.0)
    np.fill_diagonal(corr, 0.0)
    return corr.max(axis=1) < limit


def _permute_row(engine: SAEM, raw: RawFit, row: int, k: int, order: np.ndarray) -> None:
    """Apply a peak permutation to one row of a RawFit in place."""
    p, c, _ = _permute(engine, raw.params[row], raw.cov[row], k, order)
    raw.params[row] = p
    raw.cov[row] = c


def _as_data(batch: Batch, i: int) -> list:
    from iondyn.data import Spectrum

    m = batch.mask[i]
    sigma = None
    if batch.has_sigma:
        sigma = 1.0 / np.sqrt(batch.weights[i, m])
    return [Spectrum(batch.x[i, m], batch.y[i, m], sigma, batch.sources[i], batch.indices[i])]
