"""Fixed or shared pre-exponential factors τ0 (frequency factor s = 1/τ0) in TSDC fits.

Glow-curve and TSDC analysis often holds τ0 at a value known from elsewhere (fixed-s
deconvolution: Kitis, Gomez-Ros & Tuyn, J. Phys. D 31, 2636 (1998)) or fits one τ0 common to
all peaks (first-order Randall–Wilkins kinetics with one frequency factor; Chen & McKeever,
*Theory of Thermoluminescence and Related Phenomena*, World Scientific (1997), ch. 3). Ea and
ln τ0 of one free peak are correlated by ≈ −0.999 (the compensation of the peak condition), so
fixing τ0 sharpens Ea by an order of magnitude.

With L = ln(βτ0) given, the peak condition τ(Tm) = kTm²/(βEa) fixes Ea from Tm in closed form,

    Ea = k Tm W0(Tm e^{−L})      (:func:`iondyn.tsdc.model.peak_energy`),

so a fixed-τ0 peak keeps one shape parameter (Tm; plus σ_E for a Gaussian distribution of Ea,
whose mean energy and Tm0 obey the same condition), and K peaks with one shared τ0 have K + 1
(Tm_1…Tm_K and L). The constrained parameters p_c are mapped to the free layout
p = g(p_c) = (A_k, Tm_k, Ea_k[, σ_k], background) and refined by Levenberg–Marquardt on the
model m(g(p_c)) with the Jacobian J·G, G = ∂g/∂p_c (:func:`iondyn.saem.refine.levenberg_marquardt`,
starting from the free fit projected onto the constraint). The covariance C_c = s²(GᵀJᵀWJG)⁻¹
is carried to the free layout as C = G C_c Gᵀ, so every derived quantity (τ0, P0, FWHM,
heights) gets its error by the delta method: a fixed τ0 has zero variance, a shared τ0 the
error of L from the joint covariance, and the Ea errors include its correlations. BIC and
χ²_red count the constrained parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from iondyn.data import Spectrum
from iondyn.errors import InputError
from iondyn.saem import SAEM
from iondyn.saem.batch import make_batch
from iondyn.saem.components.base import window_bounds
from iondyn.saem.engine import RawFit
from iondyn.saem.model import take_rows
from iondyn.saem.refine import levenberg_marquardt
from iondyn.saem.report import assemble_fits
from iondyn.saem.result import SpectrumFit
from iondyn.saem.transforms import IDENTITY, LOG, Transform
from iondyn.tsdc.model import ln_beta_tau0_from_peak, peak_energy

__all__ = ["Tau0Constraint", "apply_to_peaks", "constrained_refit"]

MODES = ("free", "fixed", "shared")


def _positive(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a positive number, not {value!r}") from None
    if not (np.isfinite(v) and v > 0):
        raise InputError(f"{name} must be a positive number, not {value!r}")
    return v


@dataclass(frozen=True)
class Tau0Constraint:
    """How τ0 enters a fit: ``free`` (every peak its own), ``fixed`` (``values``: one τ0 in s
    for every peak when ``broadcast``, else one per peak in order of Tm, ``None`` = free) or
    ``shared`` (one free τ0 for all peaks of a curve)."""

    mode: str = "free"
    values: tuple[float | None, ...] = ()
    broadcast: bool = True

    @classmethod
    def from_options(
        cls,
        tau0_s: float | Sequence[float | None] | None = None,
        frequency_factor_per_s: float | Sequence[float | None] | None = None,
        shared_tau0: bool = False,
    ) -> Tau0Constraint:
        """Validate the fitter's options (``tau0_s``, ``frequency_factor_per_s`` = 1/τ0 and
        ``shared_tau0`` exclude each other)."""
        options = (("tau0_s", tau0_s), ("frequency_factor_per_s", frequency_factor_per_s))
        given = [name for name, value in options if value is not None]
        if shared_tau0:
            given.append("shared_tau0")
        if len(given) > 1:
            raise InputError(f"{' and '.join(given)} exclude each other: give one of them")
        if not given or given == ["shared_tau0"]:
            return cls("shared" if shared_tau0 else "free")
        name = given[0]
        raw = tau0_s if tau0_s is not None else frequency_factor_per_s
        invert = name == "frequency_factor_per_s"
        broadcast = isinstance(raw, str) or np.ndim(raw) == 0
        items = [raw] if broadcast else list(raw)  # type: ignore[arg-type]
        if not items:
            raise InputError(f"{name} is an empty list")
        values: list[float | None] = []
        for item in items:
            if item is None or (isinstance(item, str) and item.strip().lower() == "free"):
                if broadcast:
                    raise InputError(f"{name} must be a positive number, not {item!r}")
                values.append(None)
                continue
            v = _positive(item, name)
            values.append(1.0 / v if invert else v)
        if all(v is None for v in values):
            raise InputError(f"{name} fixes no peak: every value is free")
        return cls("fixed", tuple(values), broadcast)

    @property
    def active(self) -> bool:
        return self.mode != "free"

    @property
    def n_listed(self) -> int | None:
        """The number of peaks a per-peak list implies (None for one value for all)."""
        return None if self.mode != "fixed" or self.broadcast else len(self.values)

    def tau0_per_peak(self, k: int) -> np.ndarray:
        """Fixed τ0 of each of K peaks (NaN where free or shared)."""
        if self.mode != "fixed":
            return np.full(k, np.nan)
        if self.broadcast:
            return np.full(k, float(self.values[0]))
        if len(self.values) != k:
            raise InputError(f"{len(self.values)} τ0 values given for {k} peaks")
        return np.array([np.nan if v is None else v for v in self.values], dtype=float)


class _Layout:
    """Indices of the constrained parameter vector for K peaks of a P-parameter component:
    per peak A, Tm[, Ea when free], the other shape parameters; then ln βτ0 when shared; then
    the background."""

    def __init__(self, n_peaks: int, n_shape: int, status: list[str], n_bg: int):
        self.n_peaks, self.n_shape, self.status, self.n_bg = n_peaks, n_shape, status, n_bg
        self.area: list[int] = []
        self.tm: list[int] = []
        self.ea: list[int | None] = []
        self.extra: list[list[int]] = []
        i = 0
        for s in status:
            self.area.append(i)
            self.tm.append(i + 1)
            i += 2
            self.ea.append(i if s == "free" else None)
            i += s == "free"
            self.extra.append(list(range(i, i + n_shape - 2)))
            i += n_shape - 2
        self.shared: int | None = i if "shared" in status else None
        i += self.shared is not None
        self.bg = list(range(i, i + n_bg))
        self.size = i + n_bg

    @property
    def block(self) -> int:
        return 1 + self.n_shape

    def transforms(self, shape_t: Sequence[Transform], bg_t: Sequence[Transform]) -> tuple:
        t: list[Transform] = [IDENTITY] * self.size
        for j in range(self.n_peaks):
            t[self.area[j]] = LOG
            t[self.tm[j]] = LOG
            if self.ea[j] is not None:
                t[self.ea[j]] = shape_t[1]
            for q, ix in enumerate(self.extra[j]):
                t[ix] = shape_t[2 + q]
        for q, ix in enumerate(self.bg):
            t[ix] = bg_t[q]
        return tuple(t)

    def compress(self, p: np.ndarray, shared_l: np.ndarray | None) -> np.ndarray:
        """Free layout (R, Pf) → constrained (R, Pc) (Ea of constrained peaks dropped)."""
        out = np.empty((p.shape[0], self.size))
        blk = self.block
        for j in range(self.n_peaks):
            out[:, self.area[j]] = p[:, j * blk]
            out[:, self.tm[j]] = p[:, j * blk + 1]
            if self.ea[j] is not None:
                out[:, self.ea[j]] = p[:, j * blk + 2]
            for q, ix in enumerate(self.extra[j]):
                out[:, ix] = p[:, j * blk + 3 + q]
        if self.shared is not None:
            out[:, self.shared] = shared_l
        out[:, self.bg] = p[:, self.n_peaks * blk :]
        return out

    def expand(self, pc: np.ndarray, l_fixed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """p = g(p_c) (R, Pf) and G = ∂p/∂p_c (R, Pf, Pc); ``l_fixed`` (R, K) ln βτ0 of the
        fixed peaks."""
        r = pc.shape[0]
        blk = self.block
        pf = np.empty((r, self.n_peaks * blk + self.n_bg))
        g = np.zeros((r, pf.shape[1], self.size))
        for j in range(self.n_peaks):
            b = j * blk
            for dst, src in ((b, self.area[j]), (b + 1, self.tm[j])):
                pf[:, dst] = pc[:, src]
                g[:, dst, src] = 1.0
            if self.ea[j] is not None:
                pf[:, b + 2] = pc[:, self.ea[j]]
                g[:, b + 2, self.ea[j]] = 1.0
            else:
                shared = self.status[j] == "shared"
                ln_bt = pc[:, self.shared] if shared else l_fixed[:, j]
                ea, d_t, d_l = peak_energy(pc[:, self.tm[j]], ln_bt, derivatives=True)
                pf[:, b + 2] = ea
                g[:, b + 2, self.tm[j]] = d_t
                if shared:
                    g[:, b + 2, self.shared] = d_l
            for q, ix in enumerate(self.extra[j]):
                pf[:, b + 3 + q] = pc[:, ix]
                g[:, b + 3 + q, ix] = 1.0
        for q, ix in enumerate(self.bg):
            pf[:, self.n_peaks * blk + q] = pc[:, ix]
            g[:, self.n_peaks * blk + q, ix] = 1.0
        return pf, g


def constrained_refit(
    first: SAEM,
    fits: Sequence[SpectrumFit],
    spectra: Sequence[Spectrum],
    component,
    betas: Sequence[float],
    constraint: Tau0Constraint,
) -> tuple[list[SpectrumFit], list[dict[str, Any]]]:
    """Refit free decompositions (first-order or Gaussian-Ea ``component``) under the τ0
    ``constraint`` (see the module docstring). Returns the fits, in the free parameter layout
    with the covariance G C_c Gᵀ, and per curve a dict with ``status`` (per peak), ``tau0_s``
    (fixed values, NaN where not fixed) and, when shared, ``ln_beta_tau0`` with its error."""
    out: list[SpectrumFit | None] = [None] * len(fits)
    info: list[dict[str, Any]] = [{} for _ in fits]
    for k in sorted({f.n_peaks for f in fits}):
        rows = [i for i, f in enumerate(fits) if f.n_peaks == k]
        tau_fix = constraint.tau0_per_peak(k)
        status = ["shared" if constraint.mode == "shared" else "free"] * k
        if constraint.mode == "fixed":
            status = ["free" if np.isnan(t) else "fixed" for t in tau_fix]
        engine = SAEM(
            component,
            k,
            background=first.background,
            likelihood=first.likelihood,
            lm_max_iter=first.lm_max_iter,
        )
        model = engine.model(k)
        lay = _Layout(k, component.n_params, status, engine.background.n_params)
        beta = np.array([betas[i] for i in rows], dtype=float)
        l_fix = np.log(beta[:, None] * tau_fix[None, :])  # NaN where not fixed
        params = np.stack([fits[i].params for i in rows])
        _, theta, _ = model.unpack(params)
        l_free = ln_beta_tau0_from_peak(theta[..., 0], theta[..., 1])  # (n, K)
        # starts: the free fit projected onto the constraint; a shared τ0 from every peak's
        # own value and from their mean (the lowest final cost wins)
        starts = [l_free.mean(axis=1)] + [l_free[:, j] for j in range(k)]
        if lay.shared is None:
            starts = starts[:1]
        p0 = np.stack([lay.compress(params, s) for s in starts])  # (M, n, Pc)
        m_count, n = p0.shape[0], len(rows)
        batch = make_batch([spectra[i] for i in rows])
        rep = np.tile(np.arange(n), m_count)
        x_r = batch.x[rep]
        _, _, ctx = engine.background.init(x_r, batch.y[rep], batch.mask[rep])
        win = window_bounds(x_r)
        l_r = l_fix[rep]

        def fn(idx, pc, jac, x_r=x_r, ctx=ctx, win=win, l_r=l_r, lay=lay, model=model):
            pf, g = lay.expand(pc, l_r[idx])
            m, jf = model.evaluate(x_r[idx], pf, take_rows(ctx, idx), take_rows(win, idx), jac)
            return m, (None if jf is None else np.einsum("bfn,bfc->bcn", jf, g))

        transforms = lay.transforms(component.transforms, engine.background.transforms)
        lm = levenberg_marquardt(
            fn,
            batch.y[rep],
            batch.weights[rep],
            batch.mask[rep],
            p0.reshape(m_count * n, -1),
            transforms,
            engine.likelihood,
            max_iter=first.lm_max_iter,
        )
        cost = np.where(np.isfinite(lm.cost), lm.cost, np.inf).reshape(m_count, n)
        pick = np.argmin(cost, axis=0) * n + np.arange(n)
        pf, g = lay.expand(lm.params[pick], l_r[pick])
        cov_c = lm.cov[pick]
        cov = np.einsum("bfc,bcd,bgd->bfg", g, cov_c, g)
        raw = RawFit(
            k,
            pf,
            cov,
            lm.cost[pick],
            lm.model[pick],
            lm.iterations[pick],
            lm.converged[pick],
            lm.rank_deficient[pick],
            0,
            take_rows(ctx, pick),
            np.ones(n, dtype=bool),
        )
        ids = np.tile(np.arange(1, k + 1), (n, 1))  # keep the peaks' identity (τ0 per peak)
        for r, (i, f) in enumerate(zip(rows, assemble_fits(engine, batch, {k: raw}, ids))):
            _recount(engine, f, lay.size)
            f.bic_table = fits[i].bic_table  # K was chosen on the free decompositions
            d: dict[str, Any] = {"mode": constraint.mode, "status": status, "tau0_s": tau_fix}
            if lay.shared is not None:
                d["ln_beta_tau0"] = float(lm.params[pick[r], lay.shared])
                d["ln_beta_tau0_err"] = float(np.sqrt(max(cov_c[r, lay.shared, lay.shared], 0)))
            out[i], info[i] = f, d
    return [f for f in out if f is not None], info


def _recount(engine: SAEM, fit: SpectrumFit, n_params: int) -> None:
    """χ²_red and BIC with the number of constrained parameters."""
    q = fit.quality
    n = float(q["n_points"])
    q["chi2_reduced"] = q["chi2"] / max(n - n_params, 1.0)
    q["bic"] = q["bic"] + (n_params - q["n_params"]) * float(np.log(n))
    q["n_params"] = int(n_params)


def apply_to_peaks(peaks: list[dict[str, Any]], info: dict[str, Any], beta: float) -> dict:
    """Mark each peak's τ0 as ``free``, ``fixed`` (errors 0, no Ea–ln τ0 correlation) or
    ``shared`` (the shared error from the joint covariance) and add the frequency factor
    s = 1/τ0 with its error; returns the curve-level summary (``"tau0"`` in JSON)."""
    status = info.get("status") or ["free"] * len(peaks)
    for j, (p, s) in enumerate(zip(peaks, status)):
        p["tau0_status"] = s
        if s == "fixed":  # exactly the given value (the peak condition returns it to 1e-15)
            p["tau0_s"] = float(info["tau0_s"][j])
            p["ln_tau0"] = float(np.log(p["tau0_s"]))
            p["ln_tau0_err"] = 0.0
            p["tau0_s_err"] = 0.0
            p["corr_Ea_ln_tau0"] = float("nan")
        elif s == "shared":
            p["ln_tau0"] = info["ln_beta_tau0"] - float(np.log(beta))
            p["tau0_s"] = float(np.exp(p["ln_tau0"]))
            p["ln_tau0_err"] = info["ln_beta_tau0_err"]
            p["tau0_s_err"] = p["tau0_s"] * info["ln_beta_tau0_err"]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            p["frequency_factor_per_s"] = float(np.float64(1.0) / p["tau0_s"])
            p["frequency_factor_per_s_err"] = float(p["ln_tau0_err"] / np.float64(p["tau0_s"]))
    mode = info.get("mode", "free")
    summary: dict[str, Any] = {"mode": mode}
    if mode == "fixed":
        summary["tau0_s"] = [float(v) for v in info["tau0_s"]]
        summary["fixed_peaks"] = [p["id"] for p, s in zip(peaks, status) if s == "fixed"]
    elif mode == "shared":
        ln_tau0 = info["ln_beta_tau0"] - float(np.log(beta))
        err = info["ln_beta_tau0_err"]
        tau0 = float(np.exp(ln_tau0))
        summary.update(
            {
                "tau0_s": tau0,
                "tau0_s_err": tau0 * err,
                "ln_tau0": ln_tau0,
                "ln_tau0_err": err,
                "frequency_factor_per_s": 1.0 / tau0,
                "frequency_factor_per_s_err": err / tau0,
                "shared_peaks": [p["id"] for p in peaks],
            }
        )
    return summary
