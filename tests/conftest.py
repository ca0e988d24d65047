"""Shared test helpers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def gaussian_peak(x, center, fwhm, area):
    """Area-normalised Gaussian line (test oracle, independent of iondyn)."""
    s = fwhm / FWHM_PER_SIGMA
    return area * np.exp(-0.5 * ((x - center) / s) ** 2) / (s * np.sqrt(2 * np.pi))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
