"""Choosing the number of peaks by BIC."""

import itertools

import numpy as np
import pytest

from conftest import gaussian_peak
from iondyn.saem import SAEM

X = np.linspace(0.0, 100.0, 800)


@pytest.mark.slow
def test_auto_picks_true_k_for_separated_peaks_at_snr_50():
    rng = np.random.default_rng(3)
    n = 40
    k_true = rng.integers(1, 5, n)
    spectra = []
    for k in k_true:
        slots = rng.choice(np.arange(12, 90, 14), k, replace=False) + rng.uniform(-2, 2, k)
        clean = sum(gaussian_peak(X, c, rng.uniform(4, 7), rng.uniform(0.6, 1.2)) for c in slots)
        clean = clean / clean.max()
        spectra.append(clean + rng.normal(0.0, 1.0 / 50.0, X.size))
    res = SAEM("gaussian", "auto", max_peaks=6, background="linear").fit((X, np.array(spectra)))
    got = np.array([f.n_peaks for f in res])
    assert np.mean(got == k_true) >= 0.95
    table = res[0].bic_table
    assert [row["n_peaks"] for row in table][:3] == [1, 2, 3]
    assert min(r["bic"] for r in table if r["eligible"]) == res[0].quality["bic"]


def test_bic_scan_is_nested():
    """Each K+1 candidate starts from the K solution plus one component, so its χ² is never
    worse: with BIC = n ln(χ²/n) + p ln n, BIC(K+1) − BIC(K) ≤ 3 ln n (three more parameters)."""
    rng = np.random.default_rng(9)
    clean = gaussian_peak(X, 30, 6, 1) + gaussian_peak(X, 55, 5, 0.6) + gaussian_peak(X, 70, 8, 0.8)
    y = clean + rng.normal(0, 0.003, X.size)
    fit = SAEM("gaussian", "auto", max_peaks=6, background="linear").fit((X, y))[0]
    assert fit.n_peaks == 3
    bic = [row["bic"] for row in fit.bic_table]
    assert len(bic) >= 4
    penalty = 3 * np.log(X.size)
    assert all(b - a <= penalty * (1 + 1e-9) for a, b in itertools.pairwise(bic))


def test_max_peaks_limits_the_scan():
    rng = np.random.default_rng(10)
    y = gaussian_peak(X, 30, 6, 1) + gaussian_peak(X, 60, 6, 1) + rng.normal(0, 0.002, X.size)
    fit = SAEM("gaussian", "auto", max_peaks=1, background="none").fit((X, y))[0]
    assert fit.n_peaks == 1
