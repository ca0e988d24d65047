"""TSDC decomposition: SAEM with TSDC components, physical parameters, classical methods.

:class:`TSDCFitter` runs, for a batch of curves at once,

1. the SAEM engine with first-order TSDC components (:mod:`iondyn.tsdc.components`): EM on the
   window-truncated likelihood from many starts, then weighted least squares
   (Levenberg–Marquardt) on all peaks and the background together; K fixed or chosen by BIC;
2. optionally a refit with general-order or Gaussian-distributed-Ea components
   (:mod:`iondyn.tsdc.kinetics`);
3. optionally a refit with τ0 (s = 1/τ0) held fixed or shared by all peaks
   (:mod:`iondyn.tsdc.constraints`);
4. the width test (first-order fits), the physical parameters with delta-method errors
   (:mod:`iondyn.tsdc.result`) and, per peak, initial rise and Bucci–Fieschi on the curve
   cleaned of the other peaks and of the background (:mod:`iondyn.tsdc.methods`).

Negative-going curves (depolarisation current of the opposite polarity) are analysed with
their sign flipped, and the result says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from iondyn.data import Spectrum, TSDCCurve
from iondyn.errors import DataError, FitError, InputError
from iondyn.misfit import rename_axis
from iondyn.saem import SAEM
from iondyn.saem.components.base import window_bounds
from iondyn.tsdc.components import TSDCFirstOrder, TSDCGaussianEa, TSDCGeneralOrder
from iondyn.tsdc.constraints import Tau0Constraint, apply_to_peaks, constrained_refit
from iondyn.tsdc.heating_rate import heating_rate_from_fits
from iondyn.tsdc.kinetics import (
    gaussian_starts,
    general_starts,
    plausible,
    refit,
    width_test,
    width_warning,
)
from iondyn.tsdc.methods import bucci_fieschi, initial_rise
from iondyn.tsdc.prepare import Prepared, heating_rates, prepare_curve
from iondyn.tsdc.result import TSDCFit, TSDCResult, derive_peaks

__all__ = ["BACKGROUNDS", "KINETICS", "TSDCFitter", "heating_rate_from_fits"]

KINETICS = ("first", "general", "gaussian")
BACKGROUNDS = ("none", "constant", "linear", "exponential", "exponential-offset")
#: τ0 above this (s) is far from vibrational time scales for a single Debye relaxation
TAU0_IMPLAUSIBLE = 1e-6


@dataclass
class TSDCFitter:
    """Decompose TSDC curves into relaxations (see the module docstring).

    ``beta``: heating rate in K/s (one for all curves, one per curve, or ``None`` to use each
    curve's own); ``n_peaks``: an integer or ``"auto"`` (BIC over 1..``max_peaks``);
    ``background``: none | constant | linear | exponential | exponential-offset;
    ``kinetics``: first | general | gaussian; ``t0``: start of heating in K (default: the
    first measured temperature; P0 is the polarisation at T0); ``tmin``/``tmax`` crop
    the analysed range; ``sign``: auto | positive | negative; ``width_test``: warn when a
    first-order peak is broader than one relaxation allows; ``methods``: initial rise and
    Bucci–Fieschi per peak. ``n_starts``, ``n_refine``, ``em_max_iter`` and ``random_state``
    go to the SAEM engine (defaults chosen as the cheapest that kept 40/40 successes on seven
    synthetic test sets, up to four overlapping peaks; see docs/tsdc.md).

    τ0 (first-order and Gaussian-Ea kinetics; :mod:`iondyn.tsdc.constraints`): ``tau0_s``
    holds it fixed, one value in s for every peak or a list with one per peak in order of Tm
    (``None`` leaves that peak free; a list fixes K = its length); ``frequency_factor_per_s``
    gives s = 1/τ0 instead; ``shared_tau0`` fits one τ0 common to all peaks of a curve. The
    three exclude each other. K and the width test use the free decomposition.
    """

    beta: float | Sequence[float] | None = None
    n_peaks: int | str = "auto"
    max_peaks: int = 5
    background: str = "none"
    kinetics: str = "first"
    t0: float | None = None
    tmin: float | None = None
    tmax: float | None = None
    sign: str = "auto"
    width_test: bool = True
    methods: bool = True
    n_starts: int = 3
    n_refine: int = 1
    em_max_iter: int = 20
    random_state: int = 0
    tau0_s: float | Sequence[float | None] | None = None
    frequency_factor_per_s: float | Sequence[float | None] | None = None
    shared_tau0: bool = False

    def __post_init__(self) -> None:
        if self.kinetics not in KINETICS:
            raise InputError(
                f"kinetics must be one of {', '.join(KINETICS)}, not {self.kinetics!r}"
            )
        if self.background not in BACKGROUNDS:
            raise InputError(
                f"background must be one of {', '.join(BACKGROUNDS)}, not {self.background!r}"
            )
        if self.sign not in ("auto", "positive", "negative"):
            raise InputError("sign must be 'auto', 'positive' or 'negative'")
        if self.t0 is not None and not self.t0 > 0:
            raise InputError(f"t0 must be a positive temperature in K, got {self.t0}")
        self._tau0 = Tau0Constraint.from_options(
            self.tau0_s, self.frequency_factor_per_s, bool(self.shared_tau0)
        )
        if self._tau0.active and self.kinetics == "general":
            raise InputError("a fixed or shared τ0 needs kinetics 'first' or 'gaussian'")
        listed = self._tau0.n_listed
        if listed is not None:
            if self.n_peaks == "auto":
                self.n_peaks = listed
            elif self.n_peaks != listed:
                raise InputError(f"{listed} τ0 values given for n_peaks = {self.n_peaks}")

    # ------------------------------------------------------------------ preparation
    def _betas(self, curves: Sequence[TSDCCurve]) -> list[float]:
        return heating_rates(self.beta, curves)

    def _prepare(self, curve: TSDCCurve, beta: float) -> Prepared:
        return prepare_curve(curve, beta, self.tmin, self.tmax, self.t0, self.sign)

    def _engine(self, t0: float, n_peaks: int | str) -> SAEM:
        return SAEM(
            TSDCFirstOrder(t0),
            n_peaks,
            max_peaks=self.max_peaks,
            background=self.background,
            n_starts=self.n_starts,
            n_refine=self.n_refine,
            em_max_iter=self.em_max_iter,
            random_state=self.random_state,
        )

    # ------------------------------------------------------------------ fitting
    def fit(self, curves: TSDCCurve | Sequence[TSDCCurve]) -> TSDCResult:
        """Analyse curves (already read); one :class:`TSDCFit` per curve, in order.

        Curves that start at the same temperature are fitted together as one batch (T0, the
        start of heating, is their first temperature unless ``t0`` is given)."""
        if isinstance(curves, TSDCCurve):
            curves = [curves]
        curves = list(curves)
        if not curves:
            raise InputError("no TSDC curves given")
        betas = self._betas(curves)
        prep = [self._prepare(c, b) for c, b in zip(curves, betas)]
        starts = [self.t0 if self.t0 is not None else float(p.spectrum.x[0]) for p in prep]
        out: list[TSDCFit | None] = [None] * len(prep)
        for t0 in dict.fromkeys(starts):
            rows = [i for i, s in enumerate(starts) if s == t0]
            for i, f in zip(rows, self._fit_group([prep[i] for i in rows], t0)):
                out[i] = f
        return TSDCResult([f for f in out if f is not None], self.settings())

    def _decompose(self, spectra: list[Spectrum], t0: float, n_peaks: int | str):
        """First-order SAEM fits, refitted with the requested kinetics: (engine, component,
        fits)."""
        engine = self._engine(t0, n_peaks)
        fits = list(engine.fit(spectra).fits)
        component: Any = engine.component
        if self.kinetics == "general":
            component = TSDCGeneralOrder(t0)
            fits = refit(engine, fits, spectra, component, general_starts())
        elif self.kinetics == "gaussian":
            component = TSDCGaussianEa(t0)
            fits = refit(engine, fits, spectra, component, gaussian_starts())
        return engine, component, fits

    def _scan_k(self, spectra: list[Spectrum], t0: float):
        """K by BIC for general-order or distributed-Ea kinetics: every K is decomposed and
        refitted with the final shape; the lowest BIC among plausible decompositions wins
        (the scan stops once BIC has worsened twice in a row for every curve)."""
        n = len(spectra)
        best_bic = np.full(n, np.inf)
        worse = np.zeros(n, dtype=int)
        chosen: list[Any] = [None] * n
        tables: list[list[dict]] = [[] for _ in range(n)]
        component = None
        for k in range(1, self.max_peaks + 1):
            try:
                _, component, fits = self._decompose(spectra, t0, k)
            except DataError:  # too few points for K peaks in some curve: stop the scan
                if k == 1:
                    raise
                break
            for i, f in enumerate(fits):
                bic = f.quality["bic"]
                ok = plausible(f)
                tables[i].append(
                    {"n_peaks": k, "bic": bic, "converged": f.converged, "eligible": ok}
                )
                if ok and bic < best_bic[i]:
                    best_bic[i], chosen[i], worse[i] = bic, f, 0
                else:
                    worse[i] += 1
                if chosen[i] is None:
                    chosen[i] = f  # nothing plausible yet: keep the first
            if np.all(worse >= 2):
                break
        for f, t in zip(chosen, tables):
            f.bic_table = t
        return component, chosen

    def _fit_group(self, prep: list[Prepared], t0: float) -> list[TSDCFit]:
        spectra = [p.spectrum for p in prep]
        if self.kinetics != "first" and self.n_peaks == "auto":
            component, fits = self._scan_k(spectra, t0)
            engine = self._engine(t0, 1)  # (the width test runs for first order only)
        else:
            engine, component, fits = self._decompose(spectra, t0, self.n_peaks)
        free = fits
        tau0: list[dict] = [{} for _ in fits]
        if self._tau0.active:
            betas = [p.beta for p in prep]
            fits, tau0 = constrained_refit(engine, fits, spectra, component, betas, self._tau0)
        windows = [window_bounds(f.x[None]) for f in fits]
        methods = [
            [self._methods(f, j, component, p.beta, w, t0) for j in range(f.n_peaks)]
            if self.methods
            else [{} for _ in range(f.n_peaks)]
            for f, p, w in zip(fits, prep, windows)
        ]
        broad: list[list[dict]] = [[] for _ in fits]
        if self.kinetics == "first" and self.width_test:  # on the free decomposition
            suspects = [
                i for i, (f, p) in enumerate(zip(free, prep)) if self._suspect(f, p, methods[i])
            ]
            if suspects:
                found = width_test(
                    engine,
                    [free[i] for i in suspects],
                    [spectra[i] for i in suspects],
                    t0,
                    betas=[prep[i].beta for i in suspects],
                )
                for i, w in zip(suspects, found):
                    broad[i] = w
        return [
            self._assemble(*args, t0)
            for args in zip(fits, prep, windows, methods, [component] * len(fits), broad, tau0)
        ]

    def fit_files(self, paths: Iterable[str | Path], **reader_options: Any) -> TSDCResult:
        """Read every file with :func:`iondyn.io.tsdc.read_tsdc` and fit the curves."""
        from iondyn.io.tsdc import read_tsdc

        curves = [read_tsdc(p, **reader_options) for p in paths]
        return self.fit(curves)

    def settings(self) -> dict[str, Any]:
        return {
            "n_peaks": self.n_peaks,
            "max_peaks": self.max_peaks,
            "background": self.background,
            "kinetics": self.kinetics,
            "t0": self.t0,
            "tmin": self.tmin,
            "tmax": self.tmax,
            "sign": self.sign,
            "width_test": self.width_test,
            "n_starts": self.n_starts,
            "n_refine": self.n_refine,
            "em_max_iter": self.em_max_iter,
            "random_state": self.random_state,
            "tau0_s": self.tau0_s,
            "frequency_factor_per_s": self.frequency_factor_per_s,
            "shared_tau0": bool(self.shared_tau0),
        }

    # ------------------------------------------------------------------ per curve
    def _suspect(self, fit, prep: Prepared, methods: list[dict]) -> bool:
        """Cheap screen before the (costlier) width test: an implausibly long τ0 or an
        initial-rise energy well above the fitted one on a peak's own flank."""
        from iondyn.tsdc.model import ln_beta_tau0_from_peak

        tm, ea = fit.peaks["center"], fit.peaks["Ea"]
        tau0 = np.exp(ln_beta_tau0_from_peak(tm, ea)) / prep.beta
        if np.any(tau0 > TAU0_IMPLAUSIBLE):
            return True
        for j in range(fit.n_peaks):
            ir = methods[j].get("initial_rise") if j < len(methods) else None
            if ir is None and not self.methods:
                try:
                    ir = initial_rise(fit.x, self._cleaned(fit, j), peak="main").to_dict()
                except (FitError, DataError):
                    ir = None
            if ir and ir["Ea_eV"] - ea[j] > max(3.0 * ir["Ea_eV_err"], 0.05 * ea[j]):
                return True
        return False

    @staticmethod
    def _cleaned(fit, j: int) -> np.ndarray:
        """The data minus the background and every component but ``j``."""
        others = fit.components.sum(axis=0) - fit.components[j]
        return fit.y - fit.background_curve - others

    def _methods(self, fit, j: int, component, beta: float, window, t0: float) -> dict:
        y = self._cleaned(fit, j)
        out: dict[str, Any] = {}
        try:
            ir = initial_rise(fit.x, y, peak=int(np.argmax(fit.components[j])))
            out["initial_rise"] = ir.to_dict()
        except (FitError, DataError) as exc:
            out["initial_rise"] = None
            out["initial_rise_error"] = str(exc)
        # the charge of this component beyond the window end, from the fit
        blk = 1 + component.n_params
        theta = fit.params[j * blk + 1 : (j + 1) * blk][None, None, :]
        mass = component.window_mass(fit.x[None], theta, (np.array([t0]), window[1]))[0, 0]
        tail = float(fit.peaks["area"][j] * max(1.0 - mass, 0.0))
        try:
            bf = bucci_fieschi(fit.x, y, beta, tail=tail)
            out["bucci_fieschi"] = bf.to_dict()
            out["_curve"] = (bf.temperature_K, bf.tau_s)
        except (FitError, DataError) as exc:
            out["bucci_fieschi"] = None
            out["bucci_fieschi_error"] = str(exc)
        return out

    def _assemble(
        self,
        fit,
        prep: Prepared,
        window,
        methods,
        component,
        broad: list[dict],
        tau0: dict,
        t0: float,
    ) -> TSDCFit:
        peaks = derive_peaks(fit, component, self.kinetics, prep.beta, window, t0)
        tau0_summary = apply_to_peaks(peaks, tau0, prep.beta)
        warnings = list(prep.notes) + list(fit.warnings)
        misfit = rename_axis(fit.quality.get("misfit"), warnings, "T", "K")
        bf_curves = {}
        for p, m in zip(peaks, methods):
            if self.methods:
                curve = m.pop("_curve", None)
                if curve is not None:
                    bf_curves[p["id"]] = curve
                p["methods"] = m
            free_tau0 = p["tau0_status"] != "fixed"
            if self.kinetics == "first" and free_tau0 and p["tau0_s"] > TAU0_IMPLAUSIBLE:
                warnings.append(
                    f"peak {p['id']} (Tm = {p['Tm_K']:.1f} K): τ0 = {p['tau0_s']:.2g} s is far "
                    "longer than vibrational times (1e-14–1e-11 s) for one Debye relaxation; "
                    "the peak is probably broadened (distributed Ea or τ0, or space charge)"
                )
        for b in broad:
            p = peaks[b["id"] - 1]
            p["width_test"] = b
            warnings.append(width_warning(b["id"], p["Tm_K"], b))
        q = fit.quality
        quality = {
            "r2": q["r2"],
            "chi2_reduced": q["chi2_reduced"],
            "bic": q["bic"],
            "converged": q["converged"],
            "iterations": q["iterations"],
            "em_iterations": q.get("em_iterations", 0),
            "n_points": q["n_points"],
            "n_params": q["n_params"],
            "misfit": misfit,
        }
        return TSDCFit(
            source=fit.source,
            index=fit.index,
            kinetics=self.kinetics,
            beta_K_per_s=prep.beta,
            current_unit=prep.unit,
            T0_K=float(t0),
            sign=prep.sign,
            peaks=peaks,
            background=fit.background,
            quality=quality,
            warnings=warnings,
            bic_table=fit.bic_table,
            saem=fit,
            settings=self.settings(),
            bucci_fieschi_curves=bf_curves,
            tau0=tau0_summary,
        )
