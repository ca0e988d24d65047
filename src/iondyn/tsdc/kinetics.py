"""Beyond first order: refits with general-order or distributed-Ea components, and the width
test that warns when a peak is broader than a single Debye relaxation allows.

Both start from the first-order SAEM decomposition (whose EM initialisation needs no guesses)
and refine with Levenberg–Marquardt from several converted starts per curve, keeping the
lowest cost:

* general order b: Ea scaled as Chen's width constant, C(b) ≈ 2.52 + 1.02 (b − 1)
  (Chen, J. Appl. Phys. 40, 570 (1969)), for b = 1.1, 1.5, 2;
* Gaussian distribution of Ea: a first-order peak of FWHM W at Tm is split into an intrinsic
  width qW (a mean energy Ē with that first-order width) and a spread
  √(1 − q²)·W = 2.355 σ_E (Tm/Ē)·(kTm + Ē)/(2kTm + Ē) (Tm shifts by dTm/dE along the
  distribution, from the peak equation), for several q.

The width test compares BIC of the first-order and the distributed-Ea fit on the same points
(at most ``max_points``, evenly subsampled); a peak whose σ_E is significant (> 3 standard
errors) in a decomposition that lowers BIC by more than 10 triggers the warning. The free
distributed fit pins down the shape of the peak (maximum, width), not Ē: Ē and τ0 compensate
almost exactly, and Ē of 2–5 eV with τ0 of 1e−30 s fit as well as the physical solution. The
mean and width the warning proposes are therefore derived from the peak's maximum and width
for vibrational τ0 (1e−14–1e−11 s) by the peak condition
(:func:`iondyn.tsdc.distribution.gaussian_from_peak`) and bounded to 0.05–3 eV; when no such
value exists the warning proposes none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from iondyn.data import Spectrum
from iondyn.saem import SAEM
from iondyn.saem.batch import make_batch
from iondyn.saem.components.base import window_bounds
from iondyn.saem.engine import RawFit
from iondyn.saem.model import take_rows
from iondyn.saem.report import assemble_fits
from iondyn.saem.result import SpectrumFit
from iondyn.tsdc.components import TSDCFirstOrder, TSDCGaussianEa
from iondyn.tsdc.distribution import EA_PLAUSIBLE_EV, TAU0_PLAUSIBLE_S, gaussian_from_peak
from iondyn.tsdc.model import K_B_EV
from iondyn.tsdc.shape import gamma_from_width, relative_width

__all__ = [
    "gaussian_starts",
    "general_starts",
    "plausible",
    "refit",
    "width_test",
    "width_warning",
]

_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))

Converter = Callable[[np.ndarray], np.ndarray]


def gaussian_starts(q_values: Sequence[float] = (0.9, 0.6, 0.4, 0.28, 0.2)) -> list[Converter]:
    """Converters first-order θ (…, K, 2) → distributed-Ea θ (…, K, 3), one per q."""

    def make(q: float) -> Converter:
        def convert(theta: np.ndarray) -> np.ndarray:
            tm, ea = theta[..., 0], theta[..., 1]
            w = tm * relative_width(ea / (K_B_EV * tm))
            e_mean = gamma_from_width(q * w / tm) * K_B_EV * tm
            c = (K_B_EV * tm + e_mean) / (2.0 * K_B_EV * tm + e_mean)
            sigma = np.sqrt(max(1.0 - q * q, 0.0)) * w * e_mean / (_FWHM_PER_SIGMA * tm * c)
            return np.stack([tm, e_mean, np.maximum(sigma, 0.005 * e_mean)], axis=-1)

        return convert

    return [make(q) for q in q_values]


def general_starts(orders: Sequence[float] = (1.1, 1.5, 2.0)) -> list[Converter]:
    """Converters first-order θ → general-order θ (Tm, Ea·C(b)/2.52, b)."""

    def make(b: float) -> Converter:
        def convert(theta: np.ndarray) -> np.ndarray:
            scale = (2.52 + 1.02 * (b - 1.0)) / 2.52
            return np.stack(
                [theta[..., 0], theta[..., 1] * scale, np.full(theta.shape[:-1], b)], axis=-1
            )

        return convert

    return [make(b) for b in orders]


def refit(
    first: SAEM,
    fits: Sequence[SpectrumFit],
    spectra: Sequence[Spectrum],
    component,
    converters: Sequence[Converter],
    keep: int = 2,
) -> list[SpectrumFit]:
    """Refine every first-order fit as ``component`` from the ``keep`` converted starts of
    lowest cost; per curve the lowest final cost wins. Curves are grouped by their number of
    peaks."""
    out: list[SpectrumFit | None] = [None] * len(fits)
    ks = sorted({f.n_peaks for f in fits})
    for k in ks:
        rows = [i for i, f in enumerate(fits) if f.n_peaks == k]
        batch = make_batch([spectra[i] for i in rows])
        n = len(rows)
        model1 = first.model(k)
        params = np.stack([fits[i].params for i in rows])
        areas, theta, bg = model1.unpack(params)
        engine = SAEM(
            component,
            k,
            background=first.background,
            likelihood=first.likelihood,
            lm_max_iter=first.lm_max_iter,
        )
        model2 = engine.model(k)
        starts = np.stack([model2.pack(areas, conv(theta), bg) for conv in converters])
        if len(converters) > keep:
            # refine only the `keep` starts of lowest cost
            _, _, ctx = engine.background.init(batch.x, batch.y, batch.mask)
            window = window_bounds(batch.x)
            cost0 = np.empty((len(converters), n))
            for c in range(len(converters)):
                with np.errstate(all="ignore"):
                    m, _ = model2.evaluate(batch.x, starts[c], ctx, window, jacobian=False)
                    cost0[c] = engine.likelihood.cost(batch.y, m, batch.weights, batch.mask)
            best = np.argsort(np.where(np.isfinite(cost0), cost0, np.inf), axis=0)[:keep]
            starts = np.take_along_axis(starts, best[:, :, None], axis=0)
        m_count = starts.shape[0]
        rep = np.tile(np.arange(n), m_count)
        raw = engine.fit_fixed_k(
            batch.rows(rep), k, None, start=starts.reshape(m_count * n, -1), repair=False
        )
        cost = np.where(np.isfinite(raw.cost), raw.cost, np.inf).reshape(m_count, n)
        pick = np.argmin(cost, axis=0) * n + np.arange(n)
        chosen = RawFit(
            k,
            raw.params[pick],
            raw.cov[pick],
            raw.cost[pick],
            raw.model[pick],
            raw.iterations[pick],
            raw.converged[pick],
            raw.rank_deficient[pick],
            0,
            take_rows(raw.ctx, pick),
            np.ones(n, dtype=bool),
        )
        for i, f in zip(rows, assemble_fits(engine, batch, {k: chosen})):
            out[i] = f
    return [f for f in out if f is not None]


def _subsample(s: Spectrum, max_points: int) -> Spectrum:
    step = int(np.ceil(s.n_points / max_points))
    if step <= 1:
        return s
    sl = slice(0, None, step)
    sig = None if s.sigma is None else s.sigma[sl]
    return Spectrum(s.x[sl], s.y[sl], sig, s.source, s.index, s.x_unit, s.y_unit)


def width_test(
    first: SAEM,
    fits: Sequence[SpectrumFit],
    spectra: Sequence[Spectrum],
    t0: float | None,
    max_points: int = 400,
    n_nodes: int = 32,
    betas: Sequence[float] | None = None,
) -> list[list[dict]]:
    """For every curve, the peaks that a Gaussian distribution of Ea explains significantly
    better than one first-order relaxation: dicts with ``id``, ``delta_bic``, the maximum
    ``Tm_K`` and ``fwhm_K`` of the distributed peak, ``sigma_E_significance`` (σ_E over its
    error in the free fit) and, with the heating rates ``betas`` (K/s), the proposal of
    :func:`iondyn.tsdc.distribution.gaussian_from_peak` (``Ea_eV``, ``sigma_E_eV`` with
    ``sigma_E_eV_err`` = σ_E times the free fit's relative error, ranges, ``tau0_s``; ``None``
    values when no physical proposal exists). Empty lists when no peak is flagged."""
    if not fits:
        return []
    small = [_subsample(s, max_points) for s in spectra]
    first_order = refit(first, fits, small, TSDCFirstOrder(t0), [lambda th: th])
    dist = refit(
        first,
        fits,
        small,
        TSDCGaussianEa(t0, n_nodes=n_nodes),
        gaussian_starts((0.6, 0.35, 0.2)),
    )
    out = []
    for i, (f1, fg) in enumerate(zip(first_order, dist)):
        gain = f1.quality["bic"] - fg.quality["bic"]
        found = []
        if np.isfinite(gain) and gain > 10.0:
            for j in range(fg.n_peaks):
                sg, err = fg.peaks["sigma_E"][j], fg.peaks["sigma_E_err"][j]
                if np.isfinite(err) and sg > 3.0 * err and sg > 0.01 * fg.peaks["Ea"][j]:
                    tm, fwhm = float(fg.peaks["center"][j]), float(fg.peaks["fwhm"][j])
                    row = {
                        "id": int(j + 1),
                        "delta_bic": float(gain),
                        "Tm_K": tm,
                        "fwhm_K": fwhm,
                        "sigma_E_significance": float(sg / err),
                        "Ea_eV": None,
                        "sigma_E_eV": None,
                        "sigma_E_eV_err": None,
                        "tau0_s": None,
                        "Ea_eV_range": None,
                        "sigma_E_eV_range": None,
                        "tau0_range_s": None,
                    }
                    prop = None if betas is None else gaussian_from_peak(tm, fwhm, betas[i])
                    if prop is not None:
                        row.update(prop)
                        row["sigma_E_eV_err"] = prop["sigma_E_eV"] * float(err / sg)
                    found.append(row)
        out.append(found)
    return out


def width_warning(peak_id: int, tm: float, b: dict) -> str:
    """The warning of a peak flagged by :func:`width_test`, with the proposed Gaussian g(Ea)
    when a physical one exists."""
    head = (
        f"peak {peak_id} (Tm = {tm:.1f} K) is wider than first-order kinetics allows "
        f"(a Gaussian distribution of Ea lowers BIC by {b['delta_bic']:.0f}, σ_E at "
        f"{b['sigma_E_significance']:.0f} standard errors)"
    )
    lo, hi = TAU0_PLAUSIBLE_S
    if b.get("Ea_eV") is None:
        return (
            f"{head}: too broad for first-order kinetics, and no Gaussian g(Ea) with a "
            f"vibrational τ0 ({lo:.0e}–{hi:.0e} s) and Ea within {EA_PLAUSIBLE_EV[0]:g}–"
            f"{EA_PLAUSIBLE_EV[1]:g} eV matches its position and width"
        )
    e_lo, e_hi = b["Ea_eV_range"]
    t_lo, t_hi = b["tau0_range_s"]
    return (
        f"{head}: distributed Ea suspected; the peak condition gives a mean Ea of "
        f"{b['Ea_eV']:.3f} eV and σ_E = {b['sigma_E_eV']:.3f} ± {b['sigma_E_eV_err']:.3f} eV "
        f"for τ0 = {b['tau0_s']:.0e} s ({e_lo:.3f}–{e_hi:.3f} eV for τ0 = {t_lo:.0e}–"
        f"{t_hi:.0e} s); fit with kinetics='gaussian' and τ0 fixed (tau0_s)"
    )


def plausible(fit) -> bool:
    """Every component is a peak of the curve: area above two standard errors, maximum inside
    the measured range, narrower than the range and wider than 1.5 grid steps (the engine's
    rule for K by BIC, applied to refitted shapes)."""
    p = fit.peaks
    span = fit.x[-1] - fit.x[0]
    dx = float(np.median(np.diff(fit.x)))
    err = np.where(np.isfinite(p["area_err"]), p["area_err"], np.inf)
    ok = (p["area"] > 2.0 * err) & (p["center"] >= fit.x[0]) & (p["center"] <= fit.x[-1])
    ok &= (p["fwhm"] < span) & (p["fwhm"] > 1.5 * dx)
    return bool(np.all(ok))
