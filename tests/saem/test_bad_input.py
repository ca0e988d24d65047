"""Bad input to the engine: clear one-line errors, never a silent garbage fit."""

import numpy as np
import pytest

from iondyn.data import Spectrum
from iondyn.errors import DataError, InputError
from iondyn.saem import SAEM

X = np.linspace(0, 10, 50)


def test_all_zero_spectrum():
    with pytest.raises(DataError, match="all zeros"):
        SAEM("gaussian", 1).fit((X, np.zeros_like(X)))


def test_more_peaks_than_the_points_allow():
    y = np.exp(-((X - 5) ** 2))
    with pytest.raises(DataError, match=r"16 peak\(s\) .* need at least 51 points.* has 50"):
        SAEM("gaussian", 16, background="linear").fit((X, y))


def test_negative_counts_with_poisson_likelihood():
    y = np.exp(-((X - 5) ** 2)) - 0.1
    with pytest.raises(DataError, match="negative values cannot be Poisson counts"):
        SAEM("gaussian", 1, likelihood="poisson").fit((X, y))


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([0, 1, 1, 2], [1, 2, 3, 4], "duplicate"),
        ([0, 2, 1, 3], [1, 2, 3, 4], "not monotonic"),
        ([0, 1, 2, 3], [1, np.nan, 3, 4], "NaN"),
        ([0, 1, 2, 3], [1, np.inf, 3, 4], "NaN or infinite"),
    ],
)
def test_invalid_spectra_are_rejected(x, y, message):
    with pytest.raises(DataError, match=message):
        Spectrum(np.array(x, float), np.array(y, float), source="s.txt")


def test_error_names_the_file():
    s = Spectrum(X, np.zeros_like(X), source="empty_signal.txt")
    with pytest.raises(DataError) as info:
        SAEM("gaussian", 1).fit(s)
    assert str(info.value).startswith("empty_signal.txt: ")
    assert "\n" not in str(info.value)


def test_bad_options():
    with pytest.raises(InputError):
        SAEM("gaussian", 0)
    with pytest.raises(InputError):
        SAEM("gaussian", "many")
    with pytest.raises(InputError):
        SAEM("gaussian", 1, likelihood="cauchy")


def test_spectra_of_different_grids_in_one_batch():
    rng = np.random.default_rng(1)
    data = []
    for n, c in ((300, 4.0), (500, 6.0), (200, 5.0)):
        x = np.linspace(0, 10, n)
        data.append((x, 100 * np.exp(-0.5 * ((x - c) / 0.5) ** 2) + rng.normal(0, 1, n)))
    res = SAEM("gaussian", 1, background="none").fit(data)
    assert [f.quality["n_points"] for f in res] == [300, 500, 200]
    assert np.allclose([f.peaks["center"][0] for f in res], [4.0, 6.0, 5.0], atol=0.01)


def test_decreasing_x_axis_is_handled():
    x = np.linspace(10, 0, 400)  # binding-energy style, decreasing
    y = 50 * np.exp(-0.5 * ((x - 3.0) / 0.4) ** 2) + 1.0
    fit = SAEM("gaussian", 1, background="constant").fit((x, y))[0]
    assert fit.peaks["center"][0] == pytest.approx(3.0, abs=1e-6)
