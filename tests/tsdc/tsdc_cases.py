"""Shared TSDC test curves (cases T1–T3, docs/tsdc.md), imported by the tests here."""

import numpy as np

from iondyn.data import TSDCCurve
from iondyn.tsdc import TSDCPeak
from iondyn.tsdc.model import tau0_from_peak
from iondyn.tsdc.simulate import noisy_replicas, simulate_current

BETA_T3 = 0.1  # K/s


def t3_peaks(p0: float = 1.0) -> list[TSDCPeak]:
    """Case T3: Ea = 0.6 / 0.9 eV with Tm = 280 / 390 K at β = 0.1 K/s."""
    return [
        TSDCPeak(0.6, float(tau0_from_peak(280.0, 0.6, BETA_T3)), p0),
        TSDCPeak(0.9, float(tau0_from_peak(390.0, 0.9, BETA_T3)), p0),
    ]


def replicas(T, peaks, n, seed, noise=0.01):
    """Curves with Gaussian noise σ = noise × max J (the "1 % noise" of the tests)."""
    clean = simulate_current(T, peaks, BETA_T3)
    Y = noisy_replicas(clean, noise, n, seed)
    return [TSDCCurve(T, y, "A", BETA_T3, None, i) for i, y in enumerate(Y)]


#: 200–500 K every 0.25 K (1201 points)
T3_GRID = np.arange(200.0, 500.0 + 1e-9, 0.25)
