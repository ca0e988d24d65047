"""Distribution of activation energies g(Ea) by non-negative regularised inversion.

A TSDC curve from relaxations with a common τ0 and a distribution of activation energies is

    J(T) = ∫ g(E) J1(T; E, τ0, P0 = 1) dE,

J1 the first-order current (:func:`iondyn.tsdc.model.first_order_current`), g(E) the
polarisation per unit energy. On an energy grid this is J ≈ K g; iondyn solves

    min_g ‖K g − J‖² + λ² ‖D2 g‖²   subject to g ≥ 0

(D2 the second difference: a smooth g) as a non-negative least-squares problem on the augmented
system [K; λ D2] (Lawson & Hanson, *Solving Least Squares Problems* (1974), ch. 23; the
classical TSDC inversion: Müller, Appl. Phys. 17, 265 (1978); Sauer & Avakian, Polymer 33,
5128 (1992)). λ minimises generalised cross-validation of the unconstrained problem (Golub,
Heath & Wahba, Technometrics 21, 215 (1979)). With ``tau0="auto"`` the common τ0 is the one
whose kernel gives the lowest GCV score (grid in ln τ0, then golden-section refinement).

:func:`gaussian_from_peak` turns the position and width of a peak into the mean and width of a
Gaussian g(Ea) for plausible (vibrational) τ0, the values the width warning of the fitter
proposes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize_scalar, nnls

from iondyn.display import Displayable, Param, Summary
from iondyn.errors import DataError, InputError
from iondyn.tsdc.model import K_B_EV, first_order_current, peak_energy
from iondyn.tsdc.shape import relative_width

__all__ = [
    "EA_PLAUSIBLE_EV",
    "TAU0_PLAUSIBLE_S",
    "TAU0_REFERENCE_S",
    "EaDistribution",
    "ea_distribution",
    "energy_at_peak",
    "gaussian_from_peak",
]

#: vibrational pre-exponential factors (s): inverse lattice/phonon frequencies 1e11–1e14 Hz
TAU0_PLAUSIBLE_S = (1e-14, 1e-11)
#: the τ0 a proposal refers to (also the default of the g(Ea) inversion)
TAU0_REFERENCE_S = 1e-13
#: activation energies (eV) a proposal may contain: dipolar and ionic relaxations and traps
EA_PLAUSIBLE_EV = (0.05, 3.0)

_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def energy_at_peak(Tm: np.ndarray, tau0: float, beta: float) -> np.ndarray:
    """Ea of the first-order peak at Tm for given τ0 and β: the peak equation
    Ea = kTm·ln(kTm²/(β Ea τ0)) solved in closed form (:func:`iondyn.tsdc.model.peak_energy`)."""
    return peak_energy(np.asarray(Tm, float), np.log(float(beta) * float(tau0)))


def gaussian_from_peak(
    Tm: float,
    fwhm: float,
    beta: float,
    tau0_range: tuple[float, float] = TAU0_PLAUSIBLE_S,
    tau0_ref: float = TAU0_REFERENCE_S,
    ea_bounds: tuple[float, float] = EA_PLAUSIBLE_EV,
    n_tau0: int = 31,
) -> dict[str, Any] | None:
    r"""Mean Ē and width σ_E of a Gaussian g(Ea) with a common τ0 that puts a distributed
    peak at ``Tm`` (K) with full width ``fwhm`` (K), for τ0 in ``tau0_range`` (β in K/s).

    Ē follows from the peak condition τ(Tm) = kTm²/(βĒ) at the maximum,
    Ē = kTm W0(Tm/(βτ0)); σ_E from the excess of the width over the first-order width
    W1 = Tm·w(Ē/kTm) (:func:`iondyn.tsdc.shape.relative_width`), the spread of Tm along the
    distribution being dTm/dE = (Tm/Ē)(kTm + Ē)/(2kTm + Ē) (the peak condition at fixed τ0):

    .. math:: W^2 = W_1^2 + \left[2.355\,\sigma_E\,\frac{T_m}{\bar E}
              \frac{kT_m + \bar E}{2kT_m + \bar E}\right]^2

    (van Turnhout, *Thermally Stimulated Discharge of Polymer Electrets* (1975), ch. 3; for
    the distribution Ē = 0.5 eV, σ = 0.05 eV, τ0 = 1e−13 s at β = 5 K/min, this gives
    0.493 eV and 0.050 eV). τ0 on a log grid over the range are kept where Ē lies within
    ``ea_bounds``, W > W1 and σ_E ≤ Ē/2 (g negligible at E ≤ 0). Returns ``Ea_eV``,
    ``sigma_E_eV`` at ``tau0_ref`` (or the kept τ0 nearest to it, ``tau0_s``) and the ranges
    ``Ea_eV_range``, ``sigma_E_eV_range``, ``tau0_range_s`` over the kept τ0; ``None`` when no
    τ0 of the range gives physical values.
    """
    if not (np.isfinite(Tm) and np.isfinite(fwhm) and Tm > 0 and fwhm > 0 and beta > 0):
        return None
    ln_tau = np.linspace(np.log(tau0_range[0]), np.log(tau0_range[1]), int(n_tau0))
    ln_tau = np.union1d(ln_tau, [np.log(tau0_ref)])
    ea = peak_energy(np.full(ln_tau.size, float(Tm)), np.log(beta) + ln_tau)
    kt = K_B_EV * Tm
    w1 = Tm * relative_width(ea / kt)
    spread = np.sqrt(np.maximum(fwhm * fwhm - w1 * w1, 0.0))
    dtm_de = (Tm / ea) * (kt + ea) / (2.0 * kt + ea)
    sigma = spread / (_FWHM_PER_SIGMA * dtm_de)
    ok = (ea >= ea_bounds[0]) & (ea <= ea_bounds[1]) & (fwhm > w1) & (sigma <= 0.5 * ea)
    if not np.any(ok):
        return None
    i = int(np.argmin(np.where(ok, np.abs(ln_tau - np.log(tau0_ref)), np.inf)))
    return {
        "Ea_eV": float(ea[i]),
        "sigma_E_eV": float(sigma[i]),
        "tau0_s": float(np.exp(ln_tau[i])),
        "Ea_eV_range": [float(ea[ok].min()), float(ea[ok].max())],
        "sigma_E_eV_range": [float(sigma[ok].min()), float(sigma[ok].max())],
        "tau0_range_s": [float(np.exp(ln_tau[ok].min())), float(np.exp(ln_tau[ok].max()))],
    }


@dataclass(repr=False)
class EaDistribution(Displayable):
    """g(Ea) on an energy grid (polarisation per eV, in the curve's charge unit per eV)."""

    energies_eV: np.ndarray
    g: np.ndarray
    tau0_s: float
    lam: float
    mean_eV: float
    std_eV: float
    total: float
    temperature_K: np.ndarray
    model: np.ndarray
    r2: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self, include_curve: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "tau0_s": self.tau0_s,
            "lambda": self.lam,
            "mean_eV": self.mean_eV,
            "std_eV": self.std_eV,
            "P0_total": self.total,
            "r2": self.r2,
            "warnings": list(self.warnings),
        }
        if include_curve:
            d["energies_eV"] = self.energies_eV.tolist()
            d["g"] = self.g.tolist()
        return d

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame({"Ea_eV": self.energies_eV, "g": self.g})

    def _summary(self) -> Summary:
        facts = [f"τ0 = {self.tau0_s:.3g} s", f"λ = {self.lam:.3g}", f"R² = {self.r2:.5f}"]
        params = [
            Param("mean Ea", self.mean_eV, None, "eV"),
            Param("std Ea", self.std_eV, None, "eV"),
            Param("P0 total", self.total, None),
        ]
        return Summary("EaDistribution", "g(Ea)", facts, params, warnings=self.warnings)

    def plot(self, ax: Any = None) -> Any:
        """g(Ea) against Ea; returns the axes (a new figure when ``ax`` is None)."""
        from iondyn.display import plots as dp

        title = f"g(Ea), τ0 = {self.tau0_s:.3g} s: mean {self.mean_eV:.3f} eV"
        return dp.xy(
            dp.axes(ax),
            self.energies_eV,
            self.g,
            xlabel="Ea (eV)",
            ylabel="g (per eV)",
            title=title,
        )


def _kernel(T, energies, tau0, beta, t0):
    de = energies[1] - energies[0]
    return first_order_current(T[:, None], energies[None, :], tau0, de, beta, t0)


def _gcv(k: np.ndarray, d2: np.ndarray, y: np.ndarray, lams: np.ndarray) -> tuple[float, float]:
    """(best λ, its GCV score) of the unconstrained Tikhonov problem over ``lams``."""
    n = y.size
    ktk, kty, dtd = k.T @ k, k.T @ y, d2.T @ d2
    best = (np.inf, float(lams[0]))
    for lam in lams:
        try:
            cf = cho_factor(ktk + lam * lam * dtd + 1e-14 * np.trace(ktk) * np.eye(ktk.shape[0]))
        except np.linalg.LinAlgError:
            continue
        g = cho_solve(cf, kty)
        resid = y - k @ g
        trace = np.trace(cho_solve(cf, ktk))
        score = n * float(resid @ resid) / max(n - trace, 1.0) ** 2
        if score < best[0]:
            best = (score, float(lam))
    return best[1], best[0]


def ea_distribution(
    T: Any,
    J: Any,
    beta: float,
    tau0: float | str = "auto",
    e_min: float | None = None,
    e_max: float | None = None,
    n_energies: int = 120,
    lam: float | None = None,
    baseline: Any = None,
    t0: float | None = None,
) -> EaDistribution:
    """Invert a TSDC curve for g(Ea) (see the module docstring).

    ``tau0``: the common pre-exponential factor in s, or ``"auto"``; ``e_min``/``e_max``: the
    energy grid (default: energies whose peaks fall 10 % of the span outside the measured
    window); ``lam``: the regularisation strength (default: GCV); ``baseline``: a background
    current to subtract first; ``t0``: start of heating (default: first temperature).
    """
    T = np.asarray(T, float)
    J = np.asarray(J, float) - (0.0 if baseline is None else np.asarray(baseline, float))
    if T.ndim != 1 or T.shape != J.shape or T.size < 10:
        raise DataError("g(Ea) inversion needs matching 1-D arrays of at least 10 points")
    if not beta > 0:
        raise InputError(f"the heating rate must be positive, got {beta} K/s")
    if not np.any(J > 0):
        raise DataError("the current has no positive values")
    t0 = float(T[0]) if t0 is None else float(t0)
    span = T[-1] - T[0]
    scale = float(np.max(np.abs(J)))
    y = J / scale
    lams = np.logspace(-6, 1, 36)

    def setup(tau: float):
        lo_e = e_min if e_min is not None else float(energy_at_peak(T[0] - 0.1 * span, tau, beta))
        hi_e = e_max if e_max is not None else float(energy_at_peak(T[-1] + 0.1 * span, tau, beta))
        energies = np.linspace(max(lo_e, 0.01), hi_e, int(n_energies))
        k = _kernel(T, energies, tau, beta, t0)
        kn = np.linalg.norm(k, 2)
        d2 = np.diff(np.eye(energies.size), 2, axis=0)
        return energies, k / kn, kn, d2 * (1.0 / np.linalg.norm(d2, 2))

    def score(ln_tau: float) -> float:
        _, k, _, d2 = setup(float(np.exp(ln_tau)))
        return _gcv(k, d2, y, lams if lam is None else np.array([float(lam)]))[1]

    warnings: list[str] = []
    if isinstance(tau0, str):
        if tau0 != "auto":
            raise InputError(f"tau0 must be a number in s or 'auto', not {tau0!r}")
        grid = np.log(np.logspace(-20, -4, 17))
        scores = np.array([score(v) for v in grid])
        i = int(np.argmin(scores))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        res = minimize_scalar(score, bounds=(lo, hi), method="bounded", options={"xatol": 0.05})
        tau = float(np.exp(res.x))
        if i in (0, grid.size - 1):
            warnings.append(f"the best τ0 lies at the edge of the searched range ({tau:.1e} s)")
    else:
        tau = float(tau0)
        if not tau > 0:
            raise InputError(f"tau0 must be positive, got {tau}")
    energies, k, kn, d2 = setup(tau)
    lam_used = _gcv(k, d2, y, lams)[0] if lam is None else float(lam)
    a = np.vstack([k, lam_used * d2])
    b = np.concatenate([y, np.zeros(d2.shape[0])])
    g_scaled, _ = nnls(a, b, maxiter=50 * energies.size)
    g = g_scaled * scale / kn
    model = (k @ g_scaled) * scale
    de = energies[1] - energies[0]
    total = float(np.sum(g) * de)
    mean = float(np.sum(g * energies) * de / total) if total > 0 else float("nan")
    std = float(np.sqrt(np.sum(g * (energies - mean) ** 2) * de / total)) if total > 0 else np.nan
    resid = J - model
    r2 = 1.0 - float(resid @ resid) / float(np.sum((J - J.mean()) ** 2))
    if g[0] > 0.05 * g.max() or g[-1] > 0.05 * g.max():
        warnings.append("g(Ea) does not vanish at the end of the energy grid: widen it")
    return EaDistribution(energies, g, tau, lam_used, mean, std, total, T, model, r2, warnings)
