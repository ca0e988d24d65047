"""Synthetic TSDC curves: chosen relaxations, heating rate, background and noise.

:func:`simulate` returns an ordinary :class:`~iondyn.data.TSDCCurve` (the analysis must
recover the simulated parameters from it); :func:`simulate_current` is the noise-free kernel
on any temperature grid and :func:`noisy_replicas` draws many noisy copies at once for
statistical tests.

Noise model ("1 % noise"): independent Gaussian noise of standard deviation
``noise × max|J|`` at every point (an electrometer's constant noise floor), not clipped at
zero unless ``clip=True`` (the convention of EMPeaks' TSDC examples, github.com/yasunobu-ando/
EMPeaks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from iondyn.data import TSDCCurve
from iondyn.errors import InputError
from iondyn.tsdc.model import (
    K_B_EV,
    first_order_current,
    gaussian_ea_current,
    general_order_current,
    peak_temperature,
)

__all__ = ["TSDCPeak", "noisy_replicas", "simulate", "simulate_current"]


@dataclass(frozen=True)
class TSDCPeak:
    """One relaxation: activation energy ``Ea_eV``, pre-exponential factor ``tau0_s``,
    released polarisation ``P0`` (current unit × s), kinetic ``order`` (1 = Debye) and the
    standard deviation ``sigma_eV`` of a Gaussian distribution of Ea (0 = a single energy)."""

    Ea_eV: float
    tau0_s: float
    P0: float = 1.0
    order: float = 1.0
    sigma_eV: float = 0.0

    def __post_init__(self) -> None:
        if not (self.Ea_eV > 0 and self.tau0_s > 0 and self.P0 > 0):
            raise InputError(f"a TSDC peak needs Ea > 0, tau0 > 0 and P0 > 0, got {self}")
        if not 1.0 <= self.order <= 3.0:
            raise InputError(f"the kinetic order must lie in [1, 3], got {self.order}")
        if self.sigma_eV < 0:
            raise InputError(f"sigma_eV must not be negative, got {self.sigma_eV}")
        if self.order != 1.0 and self.sigma_eV > 0:
            raise InputError("a distribution of Ea is only available for first-order peaks")

    def peak_temperature(self, beta: float) -> float:
        """Tm of the (mean-energy) first-order relaxation at heating rate ``beta`` (K/s)."""
        return float(peak_temperature(self.Ea_eV, self.tau0_s, beta))


def simulate_current(
    T: np.ndarray, peaks: Sequence[TSDCPeak], beta: float, t0: float | None = None
) -> np.ndarray:
    """Noise-free current Σ_k J_k(T) on the grid ``T`` (K), heating from ``t0`` (default:
    the first temperature) at ``beta`` K/s. Formulas in :mod:`iondyn.tsdc.model`."""
    T = np.asarray(T, dtype=float)
    if not beta > 0:
        raise InputError(f"the heating rate must be positive, got {beta} K/s")
    t0 = float(T.min()) if t0 is None else float(t0)
    out = np.zeros_like(T)
    for p in peaks:
        if p.sigma_eV > 0:
            out += gaussian_ea_current(T, p.Ea_eV, p.sigma_eV, p.tau0_s, p.P0, beta, t0)
        elif p.order != 1.0:
            out += general_order_current(T, p.Ea_eV, p.tau0_s, p.P0, beta, p.order, t0)
        else:
            out += first_order_current(T, p.Ea_eV, p.tau0_s, p.P0, beta, t0)
    return out


def _grid(tmin: float, tmax: float, step: float | None, n_points: int | None) -> np.ndarray:
    if not (tmin > 0 and tmax > tmin):
        raise InputError(f"need 0 < tmin < tmax, got tmin = {tmin} K, tmax = {tmax} K")
    if n_points is not None:
        if n_points < 3:
            raise InputError("n_points must be at least 3")
        return np.linspace(tmin, tmax, int(n_points))
    step = 0.5 if step is None else float(step)
    if not step > 0:
        raise InputError(f"the temperature step must be positive, got {step}")
    n = int(np.floor((tmax - tmin) / step + 1e-9)) + 1
    return tmin + step * np.arange(n)


def noisy_replicas(
    clean: np.ndarray,
    noise: float,
    n: int,
    seed: int | np.random.Generator | None = None,
    clip: bool = False,
) -> np.ndarray:
    """(n, N) copies of ``clean`` plus Gaussian noise of σ = noise × max|clean|."""
    rng = np.random.default_rng(seed)
    sigma = float(noise) * float(np.max(np.abs(clean)))
    y = clean[None, :] + rng.normal(0.0, sigma, size=(int(n), clean.size))
    return np.maximum(y, 0.0) if clip else y


def simulate(
    peaks: Sequence[TSDCPeak],
    beta: float,
    tmin: float,
    tmax: float,
    *,
    step: float | None = None,
    n_points: int | None = None,
    noise: float = 0.0,
    seed: int | None = None,
    t0: float | None = None,
    background: tuple[float, float] | None = None,
    offset: float = 0.0,
    clip: bool = False,
    current_unit: str = "A",
) -> TSDCCurve:
    """A synthetic TSDC curve.

    ``peaks``: the relaxations; ``beta`` K/s; temperatures from ``tmin`` to ``tmax`` (K)
    every ``step`` K (default 0.5) or on ``n_points`` points; ``noise``: relative Gaussian
    noise (σ = noise × max|J|); ``t0``: start of heating (default ``tmin``);
    ``background``: a conduction current (b_hi, Ec_eV) as in
    :class:`~iondyn.tsdc.background.ArrheniusBackground`; ``offset``: a constant current.
    The truth is kept in ``metadata["simulated"]``.
    """
    if not peaks:
        raise InputError("simulate needs at least one peak")
    T = _grid(tmin, tmax, step, n_points)
    if t0 is not None and t0 > T[0]:
        raise InputError(f"t0 = {t0} K lies above tmin = {T[0]} K")
    J = simulate_current(T, peaks, beta, t0)
    if background is not None:
        b_hi, ec = background
        J = J + b_hi * np.exp(-(ec / K_B_EV) * (1.0 / T - 1.0 / T[-1]))
    J = J + offset
    if noise > 0:
        J = noisy_replicas(J, noise, 1, seed, clip)[0]
    elif clip:
        J = np.maximum(J, 0.0)
    meta = {
        "simulated": {
            "peaks": [asdict(p) | {"Tm_K": p.peak_temperature(beta)} for p in peaks],
            "beta_K_per_s": float(beta),
            "t0_K": float(T[0] if t0 is None else t0),
            "noise": float(noise),
            "seed": seed,
            "background": None if background is None else list(background),
            "offset": float(offset),
        }
    }
    return TSDCCurve(T, J, current_unit, float(beta), None, 0, meta)
