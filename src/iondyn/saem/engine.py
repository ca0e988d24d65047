"""The SAEM estimator: EM initialisation from many starts, then refinement, for a batch.

>>> from iondyn.saem import SAEM
>>> result = SAEM("gaussian", n_peaks=3, background="linear").fit((x, Y))   # doctest: +SKIP
>>> result[0].peaks["center"], result[0].peaks["center_err"]                 # doctest: +SKIP

``fit`` treats every spectrum independently (vectorised over the batch); ``fit_series``
(see :mod:`iondyn.saem.series`) warm-starts each spectrum from its neighbour and keeps peak
identity along the series.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from iondyn.errors import DataError, InputError
from iondyn.saem.background import Background, get_background
from iondyn.saem.batch import Batch, bin_for_em, grid_steps, make_batch
from iondyn.saem.components import Component, get_component
from iondyn.saem.components.base import bin_widths, window_bounds
from iondyn.saem.components.lineshapes import Gaussian
from iondyn.saem.em import run_em
from iondyn.saem.likelihood import Likelihood, get_likelihood
from iondyn.saem.model import MixtureModel, take_rows
from iondyn.saem.refine import LMResult, levenberg_marquardt
from iondyn.saem.report import assemble_fits, bic_values
from iondyn.saem.result import SAEMResult
from iondyn.saem.seeding import seed_starts, smooth_rows, window_areas

__all__ = ["SAEM", "RawFit", "em_signal"]


def em_signal(resid: np.ndarray, mask: np.ndarray, n_valid: np.ndarray) -> np.ndarray:
    """The non-negative "histogram" EM decomposes: max(y − baseline − noise floor, 0).

    Clipping raw noisy data at zero turns zero-mean noise into a positive pedestal (0.4 σ per
    point) that EM explains with a broad spurious component. The residual is therefore
    smoothed (Savitzky–Golay, ~1 % of the points) and its own noise level — estimated from
    the median absolute deviation of the first differences, σ√2 for white noise, reduced by
    the smoothing — is subtracted before clipping; points where the smoothed residual stays
    below five such noise units (2–3.5σ of the raw data) are set to zero, so noise in the
    tails — also the positive pedestal of data clipped at zero — is not read as signal (fatal
    to shapes whose tails decay fast, e.g. the double-exponential high-T side of a TSDC
    peak). The refinement stage fits the raw data.
    """
    smooth = smooth_rows(resid, n_valid, 100, 2)
    n = resid.shape[-1]
    valid_d = (np.arange(n - 1)[None, :] < (n_valid - 1)[:, None]) if n > 1 else mask[:, :0]
    d = np.where(valid_d, np.diff(resid, axis=-1), np.nan)
    med = _row_median(d)
    noise = 1.4826 * _row_median(np.abs(d - med))[:, 0] / np.sqrt(2.0)
    win = np.maximum(5, (n_valid // 100) | 1)
    floor = noise / np.sqrt(np.maximum(win / 2.2, 1.0))  # SG(order 2) noise reduction
    fl = np.nan_to_num(floor)[:, None]
    cand = np.where(smooth > 5.0 * fl, np.maximum(smooth - fl, 0.0), 0.0)
    # rows too short to smooth, or with nothing left above the floor: plain clipping
    plain = (n_valid < 9) | ~np.any(cand > 0, axis=-1)
    out = np.where(plain[:, None], np.maximum(resid, 0.0), cand)
    return np.where(mask, out, 0.0)


def _row_median(d: np.ndarray) -> np.ndarray:
    """Median of every row (B, 1) ignoring NaN (np.median, much cheaper than np.nanmedian,
    where nothing is NaN)."""
    if np.isnan(d).any():
        return np.nanmedian(d, axis=-1, keepdims=True)
    return np.median(d, axis=-1, keepdims=True)


@dataclass
class RawFit:
    """Arrays of one fixed-K fit of a batch (before assembly into result objects)."""

    n_peaks: int
    params: np.ndarray
    cov: np.ndarray
    cost: np.ndarray
    model: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    rank_deficient: np.ndarray
    em_iterations: int
    ctx: dict
    feasible: np.ndarray


class SAEM:
    """Spectrum-adapted EM decomposition of spectra into K components plus a background.

    Parameters
    ----------
    component:
        Peak shape: a name (``gaussian``, ``lorentzian``, ``pseudo-voigt``, ``voigt``,
        ``doniach-sunjic``, or one registered by another area) or a :class:`Component`.
    n_peaks:
        A fixed K, or ``"auto"`` to choose K in 1..``max_peaks`` by BIC.
    background:
        ``none``, ``constant``, ``linear``, ``quadratic``, ``shirley`` (or a registered name,
        or a :class:`Background`).
    likelihood:
        ``gaussian`` (weighted least squares; data may be negative) or ``poisson`` (counts).
    n_starts:
        EM starts per spectrum: peak picking, quantiles and ``n_starts − 2`` seeded random
        restarts.
    n_refine:
        How many of the best distinct EM solutions are refined; the lowest cost wins.
    random_state:
        Seed of the random restarts (results are deterministic for a given seed).
    absolute_sigma:
        With per-point σ given, do not rescale the covariance by the reduced χ².
    center_margin:
        With ``n_peaks="auto"``, how far (in units of its FWHM) a component's centre may lie
        outside the measured window for the decomposition to count as plausible (0: inside;
        impedance arcs often peak just beyond the measured range).
    positive_areas:
        Keep every component's area positive (log-parameterised; the default, since peaks,
        TSDC relaxations and loss peaks are positive). ``False`` allows signed areas.
    """

    def __init__(
        self,
        component: str | Component = "gaussian",
        n_peaks: int | str = 1,
        *,
        max_peaks: int = 6,
        background: str | Background = "linear",
        likelihood: str | Likelihood = "gaussian",
        n_starts: int = 5,
        n_refine: int = 2,
        random_state: int | None = 0,
        absolute_sigma: bool = False,
        em_max_iter: int = 30,
        lm_max_iter: int = 200,
        max_em_points: int = 128,
        chunk_size: int = 256,
        positive_areas: bool = True,
        center_margin: float = 0.0,
        component_options: dict[str, Any] | None = None,
        background_options: dict[str, Any] | None = None,
    ):
        self.component = get_component(component, **(component_options or {}))
        self.background = get_background(background, **(background_options or {}))
        if isinstance(likelihood, str) and likelihood.lower() == "gaussian":
            self.likelihood = get_likelihood("gaussian", absolute_sigma=absolute_sigma)
        else:
            self.likelihood = get_likelihood(likelihood)
        if isinstance(n_peaks, str):
            if n_peaks.strip().lower() != "auto":
                raise InputError(f"n_peaks must be a positive integer or 'auto', not {n_peaks!r}")
            self.n_peaks: int | str = "auto"
        else:
            if int(n_peaks) < 1:
                raise InputError("n_peaks must be at least 1")
            self.n_peaks = int(n_peaks)
        if int(max_peaks) < 1:
            raise InputError("max_peaks must be at least 1")
        self.max_peaks = int(max_peaks)
        self.n_starts = max(int(n_starts), 1)
        self.n_refine = max(int(n_refine), 1)
        self.random_state = random_state
        self.em_max_iter = em_max_iter
        self.lm_max_iter = lm_max_iter
        self.max_em_points = max(int(max_em_points), 16)
        self.chunk_size = max(int(chunk_size), 1)
        self.positive_areas = bool(positive_areas)
        self.center_margin = float(center_margin)

    # ------------------------------------------------------------------ public API
    def settings(self) -> dict[str, Any]:
        return {
            "shape": self.component.name,
            "n_peaks": self.n_peaks,
            "max_peaks": self.max_peaks,
            "background": self.background.name,
            "likelihood": self.likelihood.name,
            "n_starts": self.n_starts,
            "n_refine": self.n_refine,
            "random_state": self.random_state,
        }

    def fit(self, data: Any, sigma: Any = None) -> SAEMResult:
        """Decompose every spectrum of ``data`` independently.

        ``data``: (x, Y) with x (N,) or (B, N) and Y (N,) or (B, N); a list of (x, y) pairs of
        different grids; :class:`~iondyn.data.Spectrum` objects or a SpectrumSet. ``sigma``
        (same shape as Y) gives per-point standard deviations for the Gaussian likelihood.
        """
        batch = make_batch(data, sigma)
        self._validate(batch)
        fits = []
        for start in range(0, batch.size, self.chunk_size):
            rows = np.arange(start, min(start + self.chunk_size, batch.size))
            fits += self._fit_chunk(batch.rows(rows))
        return SAEMResult(fits, self.settings())

    def fit_series(self, data: Any, sigma: Any = None, **options: Any) -> SAEMResult:
        """Fit an ordered series with warm starts and stable peak identity
        (see :func:`iondyn.saem.series.fit_series`)."""
        from iondyn.saem.series import fit_series

        return fit_series(self, data, sigma, **options)

    # ------------------------------------------------------------------ internals
    def _validate(self, batch: Batch) -> None:
        for i in range(batch.size):
            src = batch.sources[i]
            m = batch.mask[i]
            yv = batch.y[i, m]
            label = "" if src else f"spectrum {batch.indices[i]}: "
            if not np.any(yv != 0):
                raise DataError(f"{label}the spectrum is all zeros", path=src)
            if self.likelihood.name == "poisson" and np.any(yv < 0):
                raise DataError(
                    f"{label}negative values cannot be Poisson counts "
                    "(use the gaussian likelihood)",
                    path=src,
                )
            k_min = 1 if self.n_peaks == "auto" else int(self.n_peaks)
            need = self.model(k_min).n_params + 1
            if batch.n_valid[i] < need:
                raise DataError(
                    f"{label}{k_min} peak(s) with a {self.background.name} background need at "
                    f"least {need} points, the spectrum has {int(batch.n_valid[i])}",
                    path=src,
                )

    def model(self, k: int) -> MixtureModel:
        return MixtureModel(self.component, k, self.background, self.positive_areas)

    def _rng(self, offset: int) -> np.random.Generator:
        seed = None if self.random_state is None else (int(self.random_state), offset)
        return np.random.default_rng(seed)

    def _row_rngs(self, batch: Batch, k: int) -> list[np.random.Generator]:
        """One generator per spectrum, seeded by (random_state, K, a digest of its data): a
        spectrum's random starts, and so its fit, do not depend on the batch it is in."""
        if self.random_state is None:
            return [np.random.default_rng() for _ in range(batch.size)]
        out = []
        for i in range(batch.size):
            m = batch.mask[i]
            h = hashlib.blake2b(digest_size=8)
            h.update(np.ascontiguousarray(batch.x[i, m]).tobytes())
            h.update(np.ascontiguousarray(batch.y[i, m]).tobytes())
            key = int.from_bytes(h.digest(), "little")
            out.append(np.random.default_rng((int(self.random_state), k, key)))
        return out

    def _fit_chunk(self, batch: Batch) -> list:
        if self.n_peaks == "auto":
            candidates = list(range(1, self.max_peaks + 1))
        else:
            candidates = [int(self.n_peaks)]
        raws: dict[int, RawFit] = {}
        best = np.full(batch.size, np.inf)
        worse = np.zeros(batch.size, dtype=int)
        for k in candidates:
            need = self.model(k).n_params + 1
            feasible = batch.n_valid >= need
            if not feasible.any():
                break
            extra = None
            if k - 1 in raws:
                extra = self._grown_start(batch, raws[k - 1])
            raws[k] = self.fit_fixed_k(
                batch, k, self._row_rngs(batch, k), feasible, extra_start=extra
            )
            if len(candidates) > 1:
                # stop the scan once BIC has worsened twice in a row for every spectrum
                bic = bic_values(self, batch, raws[k])
                worse = np.where(bic < best, 0, worse + 1)
                best = np.minimum(best, bic)
                if np.all(worse >= 2):
                    break
        return assemble_fits(self, batch, raws)

    def fit_fixed_k(
        self,
        batch: Batch,
        k: int,
        rng: np.random.Generator | list[np.random.Generator] | None,
        feasible: np.ndarray | None = None,
        start: np.ndarray | None = None,
        repair: bool = True,
        extra_start: np.ndarray | None = None,
    ) -> RawFit:
        """EM from many starts and LM refinement with K components for every row of ``batch``.

        ``start`` (B, n_params) skips EM and refines from the given parameters (warm start);
        ``extra_start`` (B, n_params) is refined as one more candidate besides the EM ones.
        """
        model = self.model(k)
        bsz = batch.size
        feasible = np.ones(bsz, dtype=bool) if feasible is None else feasible
        beta0, baseline, ctx = self.background.init(batch.x, batch.y, batch.mask)
        window = window_bounds(batch.x)
        em_iters = 0
        if start is None:
            p_init, em_iters = self._em_initial(batch, k, rng, model, beta0, baseline, ctx, window)
            if self.component.em_proxy and not isinstance(self.component, Gaussian):
                # location–scale shapes start from the Gaussian optimum of each EM candidate
                p_init = self._proxy_refined(batch, k, p_init, ctx, window)
        else:
            p_init = np.asarray(start, dtype=float)[:, None, :]
        if extra_start is not None:
            p_init = np.concatenate([p_init, np.asarray(extra_start, float)[:, None, :]], axis=1)
        m_count = p_init.shape[1]
        # refine all candidates of all spectra as one batch of rows
        rep = np.repeat(np.arange(bsz), m_count)
        x_r = batch.x[rep]
        ctx_r = take_rows(ctx, rep)
        win_r = (window[0][rep], window[1][rep])

        def fn(rows, p, jac):
            return model.evaluate(x_r[rows], p, take_rows(ctx_r, rows), take_rows(win_r, rows), jac)

        lm = levenberg_marquardt(
            fn,
            batch.y[rep],
            batch.weights[rep],
            batch.mask[rep],
            p_init.reshape(bsz * m_count, -1),
            model.transforms,
            self.likelihood,
            max_iter=self.lm_max_iter,
        )
        best = self._pick_best(lm, bsz, m_count)
        raw = RawFit(
            k,
            lm.params[best],
            lm.cov[best],
            lm.cost[best],
            lm.model[best],
            lm.iterations[best],
            lm.converged[best],
            lm.rank_deficient[best],
            em_iters,
            ctx,
            feasible,
        )
        return self._repair(batch, raw, model, window) if repair else raw

    def _grown_start(self, batch: Batch, prev: RawFit) -> np.ndarray:
        """Start for K + 1 components: the K-component solution plus a new component at the
        largest smoothed positive residual (a greedy split; makes the K scan nested)."""
        k = prev.n_peaks
        model_k = self.model(k)
        areas, theta, beta = model_k.unpack(prev.params)
        # the largest residual in units of its noise (relative for proportional weights)
        resid = em_signal(
            (batch.y - prev.model) * np.sqrt(batch.weights), batch.mask, batch.n_valid
        ) / np.sqrt(np.maximum(batch.weights, 1e-300))
        _, sig = self.component.location_scale(theta)
        new_theta = np.empty((batch.size, 1, self.component.n_params))
        new_area = np.empty((batch.size, 1))
        raw_resid = np.where(batch.mask, batch.y - prev.model, 0.0)
        window = window_bounds(batch.x)
        for i in range(batch.size):
            j = int(np.argmax(resid[i] * np.sqrt(batch.weights[i])))
            s_new = float(np.median(sig[i]))
            new_theta[i, 0] = self.component.from_location_scale(
                np.array([batch.x[i, j]]), np.array([s_new])
            )[0]
            # the area that best explains the residual (linear least squares), so the grown
            # start is never worse than the K-component solution
            f = self.component.pdf(
                batch.x[i : i + 1],
                new_theta[i : i + 1],
                (window[0][i : i + 1], window[1][i : i + 1]),
            )[0, 0]
            w = batch.weights[i] * batch.mask[i]
            a = float(np.sum(w * raw_resid[i] * f) / max(np.sum(w * f * f), 1e-300))
            new_area[i, 0] = max(a, 1e-6 * max(float(np.abs(areas[i]).max()), 1e-300))
        # line search on the new area under the actual cost (likelihood, coupled background):
        # the smallest candidate reproduces the K solution, so the start is never worse
        model = self.model(k + 1)
        _, _, ctx = self.background.init(batch.x, batch.y, batch.mask)
        scales = np.array([1.0, 0.5, 0.25, 0.1, 0.03, 0.01, 1e-4])
        best_p = None
        best_cost = np.full(batch.size, np.inf)
        for sc in scales:
            p = model.pack(
                np.concatenate([areas, new_area * sc], axis=1),
                np.concatenate([theta, new_theta], axis=1),
                beta,
            )
            with np.errstate(all="ignore"):
                m, _ = model.evaluate(batch.x, p, ctx, window, jacobian=False)
                cost = self.likelihood.cost(batch.y, m, batch.weights, batch.mask)
            better = cost < best_cost
            best_cost = np.where(better, cost, best_cost)
            best_p = p if best_p is None else np.where(better[:, None], p, best_p)
        return best_p

    def _degenerate(self, batch: Batch, raw: RawFit, model: MixtureModel, window) -> np.ndarray:
        """(B, K) mask of components that collapsed below the grid step or died."""
        areas, theta, _ = model.unpack(raw.params)
        desc = self.component.describe(theta, window)
        dx = grid_steps(batch.x, batch.n_valid)
        total = np.maximum(np.sum(np.abs(areas), axis=1, keepdims=True), 1e-300)
        return (desc["fwhm"] < 1.5 * dx[:, None]) | (np.abs(areas) < 1e-3 * total)

    def _repair(self, batch: Batch, raw: RawFit, model: MixtureModel, window) -> RawFit:
        """Re-seed collapsed or dead components at the largest smoothed residual and refine
        once more; keep the new solution where its cost is lower (a split move)."""
        if raw.n_peaks < 2:
            return raw
        bad = self._degenerate(batch, raw, model, window)
        rows = np.nonzero(bad.any(axis=1) & np.isfinite(raw.cost))[0]
        if rows.size == 0:
            return raw
        sub = batch.rows(rows)
        areas, theta, beta = model.unpack(raw.params[rows])
        areas = areas.copy()
        theta = theta.copy()
        resid = em_signal(sub.y - raw.model[rows], sub.mask, sub.n_valid)
        for n in range(rows.size):
            _, sig = self.component.location_scale(theta[n])
            good = ~bad[rows[n]]
            s_new = float(np.median(sig[good])) if good.any() else float(np.median(sig))
            for j in np.nonzero(bad[rows[n]])[0]:
                i = int(np.argmax(resid[n]))
                center = sub.x[n, i]
                theta[n, j] = self.component.from_location_scale(
                    np.array([center]), np.array([s_new])
                )[0]
                areas[n, j] = max(resid[n, i], 1e-12) * s_new * np.sqrt(2 * np.pi)
                resid[n, max(i - 5, 0) : i + 6] = 0.0
        start = model.pack(areas, theta, beta)
        again = self.fit_fixed_k(sub, raw.n_peaks, None, start=start, repair=False)
        better = again.cost < raw.cost[rows]
        out = RawFit(**{f: getattr(raw, f) for f in raw.__dataclass_fields__})
        for name in ("params", "cov", "cost", "model", "iterations", "converged", "rank_deficient"):
            arr = getattr(out, name).copy()
            arr[rows[better]] = getattr(again, name)[better]
            setattr(out, name, arr)
        return out

    def _proxy_refined(self, batch, k, p_init, ctx, window) -> np.ndarray:
        """Candidates obtained by refining the EM starts as Gaussians first (a smooth, robust
        problem with an analytic Jacobian) and converting them to the requested shape."""
        comp = self.component
        gauss = Gaussian()
        target = self.model(k)
        proxy = MixtureModel(gauss, k, self.background, self.positive_areas)
        bsz, m_count, _ = p_init.shape
        areas, theta, beta = target.unpack(p_init.reshape(bsz * m_count, -1))
        c, sg = comp.location_scale(theta)
        p_g = proxy.pack(areas, gauss.from_location_scale(c, sg), beta)
        rep = np.repeat(np.arange(bsz), m_count)
        x_r = batch.x[rep]
        ctx_r = take_rows(ctx, rep)
        win_r = (window[0][rep], window[1][rep])

        def fn(rows, p, jac):
            return proxy.evaluate(x_r[rows], p, take_rows(ctx_r, rows), take_rows(win_r, rows), jac)

        lm = levenberg_marquardt(
            fn,
            batch.y[rep],
            batch.weights[rep],
            batch.mask[rep],
            p_g,
            proxy.transforms,
            self.likelihood,
            max_iter=self.lm_max_iter,
        )
        a2, t2, b2 = proxy.unpack(lm.params)
        c2, s2 = gauss.location_scale(t2)
        theta_new = comp.from_location_scale(c2, s2)
        # keep the shape's areas consistent with the window (window-normalised shapes)
        mass_g = gauss.window_mass(x_r, t2, win_r)
        mass_c = comp.window_mass(x_r, theta_new, win_r)
        out = target.pack(a2 * mass_g / mass_c, theta_new, b2).reshape(bsz, m_count, -1)
        near = comp.near_gaussian(c2, s2)
        if near is None:
            return out
        # one more candidate per spectrum: its best Gaussian solution, converted close to the
        # Gaussian limit of the shape (the default split of the width can lead LM into a
        # worse basin, e.g. Voigt on the real XPS C 1s spectrum: R² 0.983 against 0.998)
        cost = lm.cost.reshape(bsz, m_count)
        best = np.argmin(np.where(np.isfinite(cost), cost, np.inf), axis=1)
        idx = np.arange(bsz) * m_count + best
        mass_n = comp.window_mass(x_r[idx], near[idx], (win_r[0][idx], win_r[1][idx]))
        extra = target.pack(a2[idx] * mass_g[idx] / mass_n, near[idx], b2[idx])
        return np.concatenate([out, extra[:, None, :]], axis=1)

    @staticmethod
    def _pick_best(lm: LMResult, bsz: int, m_count: int) -> np.ndarray:
        cost = lm.cost.reshape(bsz, m_count)
        ok = np.isfinite(cost)
        # prefer converged candidates when their cost is (nearly) as good
        score = np.where(ok, cost, np.inf) * np.where(
            lm.converged.reshape(bsz, m_count), 1.0, 1.0 + 1e-9
        )
        return np.arange(bsz) * m_count + np.argmin(score, axis=1)

    def _em_initial(self, batch, k, rng, model, beta0, baseline, ctx, window):
        """(B, M, n_params) starting points from the best distinct EM solutions."""
        comp = self.component
        bsz, _ = batch.x.shape
        signal = em_signal(batch.y - baseline, batch.mask, batch.n_valid)
        widths = bin_widths(batch.x)
        total = np.sum(signal * widths, axis=-1)
        for i in np.nonzero(~(total > 0))[0]:
            raise DataError("no signal above the background to decompose", path=batch.sources[i])
        xb, wb, densb, nvb = bin_for_em(batch.x, signal, widths, batch.n_valid, self.max_em_points)
        dx = grid_steps(batch.x, batch.n_valid)
        dxb = grid_steps(xb, nvb)
        sigma_floor = np.maximum(0.5 * dx, 0.3 * dxb)
        n_random = max(self.n_starts - 2, 0)
        centers, sigmas, pis = seed_starts(xb, wb, nvb, k, n_random, rng, sigma_floor, densb)
        s_count = centers.shape[1]
        theta0 = comp.from_location_scale(centers, sigmas)
        rows = np.repeat(np.arange(bsz), s_count)
        em = run_em(
            comp,
            xb[rows],
            wb[rows],
            theta0.reshape(bsz * s_count, k, comp.n_params),
            pis.reshape(bsz * s_count, k),
            (window[0][rows], window[1][rows]),
            sigma_floor[rows],
            max_iter=self.em_max_iter,
        )
        ll = em.loglik.reshape(bsz, s_count)
        theta = em.theta.reshape(bsz, s_count, k, comp.n_params)
        pi = em.pi.reshape(bsz, s_count, k)
        m_max = min(self.n_refine, s_count)
        all_picks: list[list[int]] = []
        for b in range(bsz):
            order = np.argsort(-np.where(np.isfinite(ll[b]), ll[b], -np.inf))
            picks: list[int] = []
            for s in order:
                c, sg = comp.location_scale(theta[b, s])
                cs = np.sort(c)
                if all(
                    np.max(np.abs(cs - np.sort(comp.location_scale(theta[b, t])[0])))
                    > 0.1 * np.min(sg)
                    for t in picks
                ):
                    picks.append(int(s))
                if len(picks) == m_max:
                    break
            all_picks.append(picks)
        # as many candidates as the most diverse spectrum has (the others repeat their best)
        m_count = max(len(p) for p in all_picks)
        chosen = np.array([p + [p[0]] * (m_count - len(p)) for p in all_picks], dtype=int)
        th = np.take_along_axis(theta, chosen[:, :, None, None], axis=1)
        pc = np.take_along_axis(pi, chosen[:, :, None], axis=1)
        # areas: the EM mass of each component, corrected for the part outside the window
        rep = np.repeat(np.arange(bsz), m_count)
        win_r = (window[0][rep], window[1][rep])
        theta_r = th.reshape(bsz * m_count, k, -1)
        mass = comp.window_mass(batch.x[rep], theta_r, win_r)
        # a start with a component essentially outside the window is degenerate: dropped
        areas, src = window_areas(pc.reshape(bsz * m_count, k), total[rep], mass, bsz, m_count)
        areas, theta_r = areas[src], theta_r[src]
        beta_r = beta0[rep]
        peaks = np.sum(areas[..., None] * comp.pdf(batch.x[rep], theta_r, win_r), axis=1)
        beta_r = self.background.refine_init(
            batch.x[rep], batch.y[rep], batch.mask[rep], beta_r, peaks, take_rows(ctx, rep)
        )
        p = model.pack(areas, theta_r, beta_r)
        return p.reshape(bsz, m_count, -1), em.iterations
