r"""``MapFitter``: every pixel of a spectrum image decomposed into the same K peaks.

1. **One pass for statistics** (block by block): finite pixels (NaN pixels are masked, ±inf
   is an error), negative counts refused under the Poisson likelihood, the sum spectrum, and
   a random subsample of at most ``n_subsample`` pixels.
2. **Clusters by spectral shape** on the subsample (:mod:`iondyn.maps.cluster`).
3. **K once per map** (``n_peaks="auto"``): SAEM on pixels drawn from every cluster, the
   pixels' BIC summed per K (:func:`iondyn.maps.templates.choose_k`); the table is reported.
4. **Starting points** without hand-made guesses: SAEM (EM from many starts, then the
   likelihood refinement) on the sum spectrum and on each cluster's summed subsample; peak
   identity = the order of the sum spectrum's peaks by centre, each cluster's peaks matched to
   it.
5. **Every pixel as one batch**: variable-projection Levenberg–Marquardt
   (:mod:`iondyn.maps.varpro`) from its cluster's start — areas and linear background
   coefficients solved exactly at every step.
6. **Never at the cost of the optimum** (the audit): a pixel that did not converge, has an
   area at zero, a centre outside the window, a width outside [1.5 grid steps, window], or a
   cost per degree of freedom above 1.5 × the block's median is refined again from every
   other start (each cluster's, its four neighbours' solutions) and — unless only an area
   is at zero — independently by SAEM (under the Gaussian likelihood the cost is measured in
   each pixel's own noise variance, from its second differences); the lowest cost wins.
   Besides, one pixel in every ``anchor_every`` × ``anchor_every`` square is fitted
   independently by SAEM; where that finds a lower optimum (by more than one unit of χ²/σ²
   or deviance), every pixel of the block that is in the anchor's cluster is also refined
   from the anchor's solution, and keeps it where its cost drops.
7. **Identity** kept by matching each pixel's peaks to its start (centre in FWHM units and
   log width ratio), **errors** from the full covariance (:mod:`iondyn.maps.derived`), and a
   **misfit verdict** per pixel (:func:`iondyn.misfit.curve_fit_quality`: runs test and
   lag-1 autocorrelation of the residuals against counting statistics or the noise of the
   second differences).

Memory: one block of ``block_pixels`` spectra plus the result maps (ny × nx × K per
quantity), whatever the size of the file.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from iondyn.errors import DataError, InputError
from iondyn.maps.assemble import Collector, permute_result
from iondyn.maps.audit import audit
from iondyn.maps.cluster import fit_clusters
from iondyn.maps.data import SpectrumMap, pixel_validity
from iondyn.maps.derived import derive
from iondyn.maps.device import array_module
from iondyn.maps.lineshapes import get_map_shape
from iondyn.maps.model import MAP_BACKGROUNDS, MapModel
from iondyn.maps.result import QUALITY_CODES, MapFitResult
from iondyn.maps.templates import choose_k, match_identity, saem_for_map, saem_theta
from iondyn.maps.varpro import VPResult, vp_refine

__all__ = ["MapFitter"]


def _as_map(data: Any) -> SpectrumMap:
    if isinstance(data, SpectrumMap):
        return data
    if isinstance(data, str | Path):
        from iondyn.maps.readers import read_map

        return read_map(data)
    raise InputError("a map fit needs a SpectrumMap or the path of a map file")


class MapFitter:
    """Fit every pixel of a map with K peaks of ``shape`` on a ``background``.

    Parameters
    ----------
    shape: ``gaussian``, ``lorentzian``, ``pseudo-voigt`` (native kernels), or any other SAEM
        shape (``voigt``, ``doniach-sunjic``; CPU only).
    n_peaks: K, or ``"auto"`` (chosen once per map by BIC, up to ``max_peaks``).
    background: one of :data:`iondyn.maps.model.MAP_BACKGROUNDS`.
    likelihood: ``gaussian`` (least squares, σ unknown) or ``poisson`` (counts).
    xmin, xmax: the fitted window of the spectral axis.
    n_clusters: clusters by spectral shape (starting points, K subsample, cluster map).
    n_subsample: pixels read for the clusters and the starts; ``k_pixels`` of them choose K.
    anchor_every: one independently fitted pixel per anchor_every² (0: none).
    device: ``cpu`` or ``gpu`` (CuPy).
    """

    def __init__(
        self,
        shape: str = "gaussian",
        n_peaks: int | str = "auto",
        *,
        max_peaks: int = 6,
        background: str = "linear",
        likelihood: str = "gaussian",
        degree: int = 2,
        shirley_side: str = "auto",
        xmin: float | None = None,
        xmax: float | None = None,
        n_clusters: int = 4,
        n_subsample: int = 2048,
        k_pixels: int = 48,
        anchor_every: int = 8,
        block_pixels: int = 4096,
        device: str = "cpu",
        random_state: int | None = 0,
        quality: bool = True,
    ):
        self.shape = get_map_shape(shape)
        if isinstance(n_peaks, str):
            if n_peaks.strip().lower() != "auto":
                raise InputError(f"n_peaks must be a positive integer or 'auto', not {n_peaks!r}")
            self.n_peaks: int | str = "auto"
        elif int(n_peaks) < 1:
            raise InputError("n_peaks must be at least 1")
        else:
            self.n_peaks = int(n_peaks)
        self.max_peaks = int(max_peaks)
        bg = str(background).strip().lower().replace("powerlaw", "power-law")
        if bg not in MAP_BACKGROUNDS:
            raise InputError(
                f"unknown map background {background!r}; choose one of {', '.join(MAP_BACKGROUNDS)}"
            )
        self.background = bg
        if likelihood not in ("gaussian", "poisson"):
            raise InputError(f"unknown likelihood {likelihood!r}; choose 'gaussian' or 'poisson'")
        self.likelihood = likelihood
        self.degree = int(degree)
        if shirley_side not in ("auto", "low", "high"):
            raise InputError("shirley_side must be 'auto', 'low' or 'high'")
        self.shirley_side = shirley_side
        self.xmin, self.xmax = xmin, xmax
        self.n_clusters = max(1, int(n_clusters))
        self.n_subsample = max(16, int(n_subsample))
        self.k_pixels = max(1, int(k_pixels))
        self.anchor_every = max(0, int(anchor_every))
        self.block_pixels = max(64, int(block_pixels))
        self.device = device
        self.xp = array_module(device)
        if self.xp is not np and not self.shape.native:
            raise InputError(f"the {self.shape.name} shape runs on the CPU only (--device cpu)")
        self.random_state = random_state
        self.quality = bool(quality)

    def settings(self) -> dict[str, Any]:
        return {
            "shape": self.shape.name,
            "n_peaks": self.n_peaks,
            "max_peaks": self.max_peaks,
            "background": self.background,
            "likelihood": self.likelihood,
            "xmin": self.xmin,
            "xmax": self.xmax,
            "n_clusters": self.n_clusters,
            "n_subsample": self.n_subsample,
            "k_pixels": self.k_pixels,
            "anchor_every": self.anchor_every,
            "block_pixels": self.block_pixels,
            "device": str(self.device),
            "random_state": self.random_state,
        }

    # ------------------------------------------------------------------ passes
    def _statistics(self, m: SpectrumMap, rng: np.random.Generator):
        ny, nx, n = m.shape
        valid = np.zeros(ny * nx, dtype=bool)
        total = np.zeros(n)
        pick = np.sort(rng.choice(ny * nx, size=min(self.n_subsample, ny * nx), replace=False))
        sub = []
        for flat, block in m.blocks(self.block_pixels):
            ok = pixel_validity(block, flat, nx, m.source)
            if self.likelihood == "poisson":
                neg = ok & np.any(block < 0, axis=1)
                if neg.any():
                    iy, ix = divmod(int(flat[np.argmax(neg)]), nx)
                    raise DataError(
                        f"pixel (row {iy}, column {ix}) has negative values, which cannot be "
                        "Poisson counts (use the gaussian likelihood)",
                        path=m.source,
                    )
            valid[flat] = ok
            total += block[ok].sum(axis=0)
            sel = np.isin(flat, pick) & ok
            sub.append(block[sel])
        if not valid.any():
            raise DataError("every pixel of the map holds NaN values", path=m.source)
        return valid, total, np.concatenate(sub, axis=0)

    def _from_right(self, total: np.ndarray) -> bool:
        if self.shirley_side != "auto":
            return self.shirley_side == "low"
        k = max(2, total.size // 25)
        return bool(total[:k].mean() > total[-k:].mean())

    # ------------------------------------------------------------------ main
    def fit(self, data: Any) -> MapFitResult:
        """Fit every finite pixel of ``data`` (a :class:`SpectrumMap` or a path)."""
        t0 = time.perf_counter()
        m = _as_map(data).window(self.xmin, self.xmax)
        ny, nx, n = m.shape
        x = m.axis
        rng = np.random.default_rng(self.random_state)
        valid, total, sub = self._statistics(m, rng)
        if sub.shape[0] == 0:
            sub = total[None, :]
        from_right = self._from_right(total)
        clusters = fit_clusters(sub, self.n_clusters, random_state=self.random_state)
        sub_labels = clusters.assign(sub)
        timings = {"statistics_s": time.perf_counter() - t0}

        # K once per map
        t1 = time.perf_counter()
        bic_table: list[dict[str, Any]] = []
        if self.n_peaks == "auto":
            rows = self._stratified(sub_labels, clusters.n_clusters, rng)
            engine = self._saem("auto", from_right)
            k, bic_table, _ = choose_k(engine, x, sub[rows])
        else:
            k = int(self.n_peaks)
        model = MapModel(
            self.shape,
            k,
            self.background,
            x,
            self.xp,
            degree=self.degree,
            shirley_from_right=from_right,
        )
        need = model.n_lin + model.n_nl + 1
        if n < need:
            raise DataError(
                f"{k} peak(s) with a {self.background} background need at least {need} "
                f"channels, the window has {n}",
                path=m.source,
            )
        timings["choose_k_s"] = time.perf_counter() - t1

        # starts: SAEM on the sum spectrum and on each cluster's summed subsample
        t2 = time.perf_counter()
        sums = [total] + [sub[sub_labels == c].sum(axis=0) for c in range(clusters.n_clusters)]
        engine_k = self._saem(k, from_right)
        fits = [engine_k.fit((x, s_[None])).fits[0] for s_ in sums]
        theta_all = np.stack([saem_theta(model, f) for f in fits])
        # a start whose SAEM fit failed (R² < 0.5, a width beyond the window) is replaced by
        # the best other one: it would only cost its pixels an audit
        span = float(x[-1] - x[0])
        r2 = np.array([f.quality.get("r2") or -np.inf for f in fits])
        bad = (r2 < 0.5) | np.array([bool(np.any(f.peaks["fwhm"] > span)) for f in fits])
        if bad.all():
            raise DataError(
                f"SAEM found no {k}-peak decomposition of the map's sum spectrum "
                f"(R² {r2[0]:.3g}); check --background and --xmin/--xmax",
                path=m.source,
            )
        theta_all[bad] = theta_all[int(np.argmax(np.where(bad, -np.inf, r2)))]
        p = self.shape.n_params
        ref = theta_all[0, : k * p].reshape(k, p)
        perm = match_identity(self.shape, theta_all[:, : k * p].reshape(-1, k, p), ref)
        starts = np.array([self._permute_theta(model, t, pm) for t, pm in zip(theta_all, perm)])
        templates = self._template_docs(model, starts, fits, sub_labels)
        timings["starts_s"] = time.perf_counter() - t2

        # every pixel
        t3 = time.perf_counter()
        out = Collector(ny, nx, k)
        engine_ind = self._saem(k, from_right)
        audit_stats = {
            "flagged": 0,
            "independent": 0,
            "improved": 0,
            "anchors": 0,
            "anchor_improved": 0,
        }
        for flat, block in m.blocks(self.block_pixels):
            ok = valid[flat]
            if not ok.any():
                continue
            f_ok = flat[ok]
            yb = block[ok]
            labels = clusters.assign(yb)
            offset = self._offset(yb)
            res = self._refine(model, yb, starts[1 + labels], offset)
            res, audited = audit(
                self, model, engine_ind, yb, offset, res, labels, f_ok, nx, starts, audit_stats
            )
            # identity against the pixel's start
            th = res.theta[:, : k * p].reshape(-1, k, p)
            pm = match_identity(self.shape, th, starts[1 + labels][:, : k * p].reshape(-1, k, p))
            res = permute_result(model, res, pm)
            values = derive(model, res.theta, res.coef, res.cov, res.clamped)
            out.store(f_ok, values, res, labels, audited)
            if self.quality:
                out.store_quality(f_ok, x, yb, res.model, self.likelihood == "poisson")
        timings["fit_s"] = time.perf_counter() - t3
        timings["total_s"] = time.perf_counter() - t0
        maps = out.finish(valid)
        warnings = []
        n_masked = int((~valid).sum())
        if n_masked:
            warnings.append(f"{n_masked} pixel(s) hold NaN values and were not fitted")
        nconv = int(np.sum(maps["converged"] & valid.reshape(ny, nx)))
        if nconv < int(valid.sum()):
            warnings.append(f"{int(valid.sum()) - nconv} pixel(s) did not converge")
        nmis = int(np.sum(maps["quality"] == QUALITY_CODES["misfit"]))
        if nmis:
            warnings.append(
                f"{nmis} pixel(s) ({100 * nmis / max(int(valid.sum()), 1):.2g} %) are misfits: "
                "their residuals are structured (see the quality map)"
            )
        stats = {
            "n_pixels": ny * nx,
            "n_fitted": int(valid.sum()),
            "n_masked": n_masked,
            "n_clusters": clusters.n_clusters,
            "audit": audit_stats,
            "timings": {kk: round(v, 3) for kk, v in timings.items()},
        }
        return MapFitResult(
            m.source,
            self.shape.name,
            k,
            self.background,
            self.likelihood,
            maps,
            m.x,
            m.y,
            x,
            m.axis_name,
            m.axis_unit,
            m.intensity_unit,
            bic_table,
            templates,
            stats,
            warnings,
            self.settings(),
        )

    # ------------------------------------------------------------------ helpers
    def _saem(self, k, from_right, n_starts: int = 5):
        return saem_for_map(
            self.shape,
            k,
            self.background,
            self.likelihood,
            max_peaks=self.max_peaks,
            degree=self.degree,
            from_right=from_right,
            random_state=self.random_state,
            n_starts=n_starts,
        )

    def _stratified(self, labels: np.ndarray, n_clusters: int, rng) -> np.ndarray:
        per = max(1, self.k_pixels // max(n_clusters, 1))
        rows = []
        for c in range(n_clusters):
            idx = np.nonzero(labels == c)[0]
            if idx.size:
                rows.append(rng.choice(idx, size=min(per, idx.size), replace=False))
        return np.sort(np.concatenate(rows)) if rows else np.arange(min(labels.size, 1))

    def _offset(self, yb: np.ndarray) -> np.ndarray | None:
        if self.background != "als":
            return None
        from iondyn.saem.background_als import ALS

        _, base, _ = ALS().init(
            np.broadcast_to(np.arange(yb.shape[1], dtype=float), yb.shape),
            yb,
            np.ones(yb.shape, dtype=bool),
        )
        return base

    def _refine(self, model, y, theta0, offset) -> VPResult:
        return vp_refine(model, y, theta0, likelihood=self.likelihood, offset=offset)

    @staticmethod
    def _permute_theta(model: MapModel, theta: np.ndarray, perm: np.ndarray) -> np.ndarray:
        p = model.shape.n_params
        k = model.k
        peaks = theta[: k * p].reshape(k, p)[perm]
        return np.concatenate([peaks.reshape(-1), theta[k * p :]])

    def _template_docs(self, model, starts, fits, sub_labels) -> list[dict[str, Any]]:
        docs = []
        p = model.shape.n_params
        for i, (th, f) in enumerate(zip(starts, fits)):
            peaks = th[: model.k * p].reshape(model.k, p)
            d = model.shape.describe(peaks)
            docs.append(
                {
                    "cluster": None if i == 0 else i - 1,
                    "spectrum": "sum of all pixels" if i == 0 else "sum of the cluster's subsample",
                    "n_subsample_pixels": None if i == 0 else int(np.sum(sub_labels == i - 1)),
                    "centers": [float(v) for v in d["center"]],
                    "fwhm": [float(v) for v in d["fwhm"]],
                    "r2": f.quality.get("r2"),
                }
            )
        return docs
