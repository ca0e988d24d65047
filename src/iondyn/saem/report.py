"""Turning raw batched fits into :class:`~iondyn.saem.result.SpectrumFit` objects.

Here K is chosen by BIC (when asked), peaks are put in order of their centers, derived
quantities get their standard errors by the delta method from the full covariance, quality
measures are computed and every suspicious outcome becomes a warning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from iondyn.saem.batch import Batch, grid_steps
from iondyn.saem.components.base import window_bounds
from iondyn.saem.model import take_rows
from iondyn.saem.result import SpectrumFit

if TYPE_CHECKING:  # pragma: no cover
    from iondyn.saem.engine import SAEM, RawFit

__all__ = ["assemble_fits", "bic_values", "peak_order"]


def bic_values(engine: SAEM, batch: Batch, raw: RawFit) -> np.ndarray:
    """BIC = likelihood term + p ln n, with n the number of measured points (not Σy)."""
    n = batch.n_valid.astype(float)
    p = engine.model(raw.n_peaks).n_params
    bic = engine.likelihood.bic_term(raw.cost, n) + p * np.log(n)
    return np.where(raw.feasible & np.isfinite(raw.cost), bic, np.inf)


def plausible(engine: SAEM, batch: Batch, raw: RawFit) -> np.ndarray:
    """Rows whose every component is a peak of the spectrum: an area significantly above zero
    (more than two standard errors), the center inside the window, narrower than the window
    and wider than 1.5 grid steps. Only such solutions are
    eligible when K is chosen automatically (otherwise extra "peaks" soak up background)."""
    model = engine.model(raw.n_peaks)
    areas, theta, _ = model.unpack(raw.params)
    window = window_bounds(batch.x)
    desc = engine.component.describe(theta, window)
    lo, hi = window
    span = (hi - lo)[:, None]
    dx = grid_steps(batch.x, batch.n_valid)[:, None]
    c = desc["center"]
    blk = model.block
    idx = np.arange(raw.n_peaks) * blk
    area_se = np.sqrt(np.clip(raw.cov[:, idx, idx], 0, None))
    significant = areas > 2.0 * np.where(np.isfinite(area_se), area_se, np.inf)
    margin = engine.center_margin * desc["fwhm"]
    ok = significant & (c >= lo[:, None] - margin) & (c <= hi[:, None] + margin)
    ok &= (desc["fwhm"] < span) & (desc["fwhm"] > 1.5 * dx)
    return ok.all(axis=1)


def peak_order(engine: SAEM, raw: RawFit, window) -> np.ndarray:
    """Permutation (B, K) putting the peaks of every row in order of their centers."""
    _, theta, _ = engine.model(raw.n_peaks).unpack(raw.params)
    center = engine.component.describe(theta, window)["center"]
    return np.argsort(center, axis=-1, kind="stable")


def _permute(engine: SAEM, raw_params, raw_cov, k, order):
    """Reorder the peak blocks of parameters (P,) and covariance (P, P)."""
    model = engine.model(k)
    blk = model.block
    idx = np.concatenate(
        [np.arange(o * blk, (o + 1) * blk) for o in order] + [np.arange(k * blk, model.n_params)]
    ).astype(int)
    return raw_params[idx], raw_cov[np.ix_(idx, idx)], idx


def assemble_fits(
    engine: SAEM, batch: Batch, raws: dict[int, RawFit], peak_ids: np.ndarray | None = None
) -> list[SpectrumFit]:
    """One :class:`SpectrumFit` per row; with several K in ``raws``, the lowest BIC wins.

    ``peak_ids`` (B, K) keeps the identity assigned by series tracking: then peaks are not
    re-sorted by center but ordered as given.
    """
    ks = sorted(raws)
    bics = np.stack([bic_values(engine, batch, raws[k]) for k in ks], axis=1)
    eligible = np.stack([plausible(engine, batch, raws[k]) for k in ks], axis=1)
    eligible |= ~eligible.any(axis=1, keepdims=True)  # none plausible: plain BIC
    choice = np.argmin(np.where(eligible, bics, np.inf), axis=1)
    window = window_bounds(batch.x)
    fits = []
    for i in range(batch.size):
        k = ks[int(choice[i])]
        raw = raws[k]
        table = []
        if len(ks) > 1:
            table = [
                {
                    "n_peaks": kk,
                    "bic": float(bics[i, j]) if np.isfinite(bics[i, j]) else None,
                    "converged": bool(raws[kk].converged[i]),
                    "eligible": bool(eligible[i, j]),
                }
                for j, kk in enumerate(ks)
            ]
        fits.append(
            _one_fit(
                engine, batch, raw, i, window, table, None if peak_ids is None else peak_ids[i]
            )
        )
    return fits


def _one_fit(engine, batch, raw, i, window, bic_table, ids) -> SpectrumFit:
    comp = engine.component
    k = raw.n_peaks
    model = engine.model(k)
    win_i = (window[0][i : i + 1], window[1][i : i + 1])
    params = raw.params[i]
    cov = raw.cov[i]
    _, theta, _ = model.unpack(params[None])
    if ids is None:
        order = np.argsort(comp.describe(theta, win_i)["center"][0], kind="stable")
        ids = np.arange(1, k + 1)
    else:
        order = np.arange(k)
    params, cov, _ = _permute(engine, params, cov, k, order)
    areas, theta, beta = model.unpack(params[None])
    desc = comp.describe(theta, win_i)
    djac = comp.describe_jacobian(theta, win_i)

    blk = model.block
    peaks: dict[str, np.ndarray] = {}
    names = ("center", "fwhm", *comp.extra_names)
    for name in names:
        peaks[name] = desc[name][0].astype(float)
        peaks[f"{name}_err"] = np.empty(k)
    peaks["area"] = areas[0].astype(float)
    peaks["area_err"] = np.empty(k)
    peaks["height"] = areas[0] * desc["height_per_area"][0]
    peaks["height_err"] = np.empty(k)
    for j in range(k):
        sl = slice(j * blk, (j + 1) * blk)
        c = cov[sl, sl]
        for name in names:
            g = np.concatenate([[0.0], djac[name][0, j]])
            peaks[f"{name}_err"][j] = np.sqrt(max(g @ c @ g, 0.0))
        peaks["area_err"][j] = np.sqrt(max(c[0, 0], 0.0))
        g = np.concatenate(
            [[desc["height_per_area"][0, j]], areas[0, j] * djac["height_per_area"][0, j]]
        )
        peaks["height_err"][j] = np.sqrt(max(g @ c @ g, 0.0))

    # curves
    m = batch.mask[i]
    nv = int(batch.n_valid[i])
    x = batch.x[i : i + 1]
    ctx_i = take_rows(raw.ctx, np.array([i]))
    comps = model.components(x, params[None], win_i)[0]
    model_curve, _ = model.evaluate(x, params[None], ctx_i, win_i, jacobian=False)
    bg_curve = model_curve[0] - comps.sum(axis=0)

    # quality
    y = batch.y[i]
    n = float(nv)
    p = model.n_params
    lik = engine.likelihood
    # a failed fit (infinite cost, flagged by its warnings) may overflow here: no NumPy
    # warning is printed beside a result
    with np.errstate(over="ignore", invalid="ignore"):
        resid = np.where(m, y - model_curve[0], 0.0)
        rss = float(np.sum(resid**2))
        tss = float(np.sum(np.where(m, y - y[m].mean(), 0.0) ** 2))
        chi2 = float(lik.pearson_chi2(y[None], model_curve, batch.weights[i : i + 1], m[None])[0])
    dof = max(n - p, 1.0)
    bic = float(lik.bic_term(np.array([raw.cost[i]]), np.array([n]))[0] + p * np.log(n))
    quality: dict[str, Any] = {
        "r2": 1.0 - rss / tss if tss > 0 else float("nan"),
        "chi2": chi2,
        "chi2_reduced": chi2 / dof,
        "bic": bic,
        "converged": bool(raw.converged[i]),
        "iterations": int(raw.iterations[i]),
        "em_iterations": int(raw.em_iterations),
        "n_points": nv,
        "n_params": p,
        "likelihood": lik.name,
    }
    if lik.name == "poisson":
        quality["deviance"] = float(raw.cost[i])
    quality["misfit"] = _misfit(lik, x[0, :nv], y[:nv], model_curve[0, :nv], batch.weights[i, :nv])

    bg_cov = cov[k * blk :, k * blk :]
    background = engine.background.describe(x, beta, bg_cov[None], m[None], ctx_i)[0]

    warnings = _warnings(engine, batch, i, raw, peaks, cov, k, blk, quality, ids)
    return SpectrumFit(
        source=batch.sources[i],
        index=batch.indices[i],
        shape=comp.name,
        n_peaks=k,
        peaks=peaks,
        background=background,
        quality=quality,
        params=params,
        param_names=model.names,
        cov=cov,
        warnings=warnings,
        bic_table=bic_table,
        x=batch.x[i, :nv].copy(),
        y=batch.y[i, :nv].copy(),
        model=model_curve[0, :nv].copy(),
        components=comps[:, :nv].copy(),
        background_curve=bg_curve[:nv].copy(),
        peak_ids=np.asarray(ids),
    )


def _misfit(lik, x, y, model, weights) -> dict[str, Any]:
    """The residuals' verdict (:func:`iondyn.misfit.curve_fit_quality`): Poisson counts against
    counting statistics, a given absolute σ against σ, other data against the noise of their
    second differences. The axis is named ``x`` here; the peak and TSDC layers rename it."""
    from iondyn.misfit import curve_fit_quality

    sigma = None
    if lik.name != "poisson" and getattr(lik, "absolute_sigma", False):
        with np.errstate(divide="ignore"):
            sigma = 1.0 / np.sqrt(weights)
    with np.errstate(all="ignore"):
        q = curve_fit_quality(x, y, model, poisson=lik.name == "poisson", sigma=sigma, axis="x")
    return q.to_dict() | {"warning": q.warning()}


def _warnings(engine, batch, i, raw, peaks, cov, k, blk, quality, ids) -> list[str]:
    out = []
    if not raw.converged[i]:
        out.append(f"the refinement did not converge in {int(raw.iterations[i])} iterations")
    if raw.rank_deficient[i]:
        out.append("the information matrix is singular: some parameters are not identifiable")
    nv = int(batch.n_valid[i])
    xs = batch.x[i, :nv]
    dx = float(np.median(np.diff(xs))) if nv > 1 else 0.0
    span = float(xs[-1] - xs[0])
    for j in range(k):
        label = f"peak {int(ids[j])}"
        if peaks["area"][j] <= 0:
            out.append(f"{label} has a non-positive area ({peaks['area'][j]:.4g})")
        if peaks["fwhm"][j] < 1.5 * dx:
            out.append(f"{label} is narrower than 1.5 grid steps (collapsed component?)")
        if peaks["fwhm"][j] > span:
            out.append(f"{label} is wider than the measured window")
        if not (xs[0] <= peaks["center"][j] <= xs[-1]):
            out.append(f"{label} has its center outside the measured window")
    d = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(d, d)
    for a in range(k):
        for b in range(a + 1, k):
            # area–area correlation of two peaks: the split of intensity between them
            r = corr[a * blk, b * blk]
            if np.isfinite(r) and abs(r) > 0.95:
                # beyond |r| = 0.99 the likelihood of the split is far from quadratic: the Wald
                # errors of these peaks' centres and widths can be several times too small
                ambiguous = (
                    "; the split between them is ambiguous and their standard errors may be "
                    "several times too small"
                    if abs(r) > 0.99
                    else ""
                )
                out.append(
                    f"peaks {int(ids[a])} and {int(ids[b])} are not well resolved "
                    f"(area correlation {r:+.3f}){ambiguous}"
                )
    if quality.get("misfit", {}).get("warning"):
        out.append(quality["misfit"]["warning"])
    if engine.likelihood.name == "poisson" and quality["chi2_reduced"] > 2.0:
        out.append(
            f"the counts are overdispersed (Pearson χ²/dof = {quality['chi2_reduced']:.2f}); "
            "errors from Poisson statistics are too small"
        )
    return out
