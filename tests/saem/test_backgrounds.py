"""Backgrounds: recovery of Shirley and linear backgrounds fitted together with the peaks."""

import numpy as np
import pytest
from scipy.integrate import cumulative_trapezoid

from conftest import gaussian_peak
from iondyn.saem import SAEM
from iondyn.saem.background import Shirley, get_background

X = np.linspace(280.0, 300.0, 700)


def _shirley_spectrum(high_side, seed, c0=200.0, k=0.02):
    peaks = gaussian_peak(X, 288.0, 1.4, 4000.0) + gaussian_peak(X, 290.5, 1.2, 1500.0)
    left = cumulative_trapezoid(peaks, X, initial=0.0)  # ∫_{x0}^{x}
    step = left if high_side == "high" else left[-1] - left  # rises towards the high side
    clean = peaks + c0 + k * step
    rng = np.random.default_rng(seed)
    return clean + rng.normal(0.0, 5.0, X.size)


@pytest.mark.parametrize("high_side", ["low", "high"])
def test_active_shirley_background_is_recovered(high_side):
    y = _shirley_spectrum(high_side, 4)
    fit = SAEM("gaussian", 2, background="shirley").fit((X, y))[0]
    bg = fit.background
    assert bg["kind"] == "shirley"
    assert bg["high_side"] == ("low-x" if high_side == "low" else "high-x")
    assert abs(bg["c0"] - 200.0) < 4 * bg["c0_err"]
    assert abs(bg["k"] - 0.02) < 4 * bg["k_err"]
    assert np.all(np.abs(fit.peaks["area"] - [4000.0, 1500.0]) < 4 * fit.peaks["area_err"])
    assert np.all(np.abs(fit.peaks["center"] - [288.0, 290.5]) < 4 * fit.peaks["center_err"])


def test_iterative_shirley_initialisation_of_a_clean_step():
    y = _shirley_spectrum("low", 5) - np.random.default_rng(5).normal(0.0, 5.0, X.size)
    _, base, ctx = Shirley().init(X[None], y[None], np.ones((1, X.size), bool))
    assert bool(ctx["from_right"][0])
    # the classical Shirley of noise-free data ends at the edge levels
    assert base[0, -1] == pytest.approx(y[-5:].mean(), rel=0.05)
    assert base[0, 0] == pytest.approx(y[:20].mean(), rel=0.05)


def test_linear_background_is_recovered():
    rng = np.random.default_rng(6)
    clean = gaussian_peak(X, 290.0, 2.0, 500.0) + 40.0 + 1.5 * (X - 290.0)
    y = clean + rng.normal(0, 2.0, X.size)
    fit = SAEM("gaussian", 1, background="linear").fit((X, y))[0]
    bg = fit.background
    assert bg["x_ref"] == pytest.approx(290.0)
    assert abs(bg["offset"] - 40.0) < 4 * bg["offset_err"]
    assert abs(bg["slope_per_x"] - 1.5) < 4 * bg["slope_per_x_err"]


def test_unknown_background_is_a_clear_error():
    from iondyn.errors import InputError

    with pytest.raises(InputError, match="unknown background 'tougaard'"):
        get_background("tougaard")
