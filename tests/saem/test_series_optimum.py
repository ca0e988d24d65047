"""Issue 13 item 4: the series mode reaches the optimum.

A C 1s-like series of 80 Poisson spectra (280–292 eV, 0.05 eV steps): peaks at 284.8 eV
(FWHM 0.9 eV, 4000 counts high), one drifting from 285.2 to 286.0 eV (0.4–1.2 eV above the
first; FWHM 1.1 eV, 2500 counts) and 288.8 eV (FWHM 1.0 eV, 1500 counts) on 200 counts of
background. Before the fix, warm starts carried a whole chunk from one distant neighbour: 3
spectra ended up to 8 deviance units above their independent fit, all flagged converged,
and the drifting centre had an RMSE of 0.051 eV against 0.040 eV (rms z 1.84 against 1.03).

Also the regression for NumPy's "overflow encountered in divide" from the EM area of a
component lying outside the window (seen with ``iondyn peaks fit`` on impedance columns).
"""

import warnings

import numpy as np
import pytest

from iondyn.peaks import PeakFitter
from iondyn.saem import SAEM
from iondyn.saem.seeding import window_areas

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
WIDTHS = np.array([0.9, 1.1, 1.0])
HEIGHTS = np.array([4000.0, 2500.0, 1500.0])


def _c1s_series(n=80, seed=0, widths=WIDTHS, heights=HEIGHTS, background=200.0):
    x = np.arange(280.0, 292.0 + 1e-9, 0.05)
    centers = np.column_stack(
        [np.full(n, 284.8), 284.8 + np.linspace(0.4, 1.2, n), np.full(n, 288.8)]
    )
    s = np.asarray(widths) / FWHM_PER_SIGMA
    clean = background + np.sum(
        np.asarray(heights)[:, None] * np.exp(-0.5 * ((x - centers[:, :, None]) / s[:, None]) ** 2),
        axis=1,
    )
    y = np.random.default_rng(seed).poisson(clean).astype(float)
    return x, y, centers


@pytest.fixture(scope="module")
def fits():
    x, y, centers = _c1s_series()
    engine = SAEM("gaussian", 3, background="constant", likelihood="poisson")
    return engine.fit((x, y)), engine.fit_series((x, y)), centers


def test_series_is_never_worse_than_the_independent_fit(fits):
    independent, series, _ = fits
    d_ind = np.array([f.quality["deviance"] for f in independent])
    d_ser = np.array([f.quality["deviance"] for f in series])
    assert np.all(np.isfinite(d_ser))
    assert np.all(d_ser <= d_ind * (1.0 + 1e-3)), np.nonzero(d_ser > d_ind * (1.0 + 1e-3))
    assert all(f.converged for f in series)


def test_peak_ids_follow_the_truth_in_every_spectrum(fits):
    _, series, centers = fits
    assert all(list(f.peak_ids) == [1, 2, 3] for f in series)
    fitted = series.array("center")
    nearest_true = np.abs(fitted[:, :, None] - centers[:, None, :]).argmin(axis=2)
    assert np.all(nearest_true == np.arange(3))


def test_an_ambiguous_start_does_not_swap_identities_for_the_rest_of_the_series():
    """A weak drifting peak 0.4 eV from a strong one: in a few of the first spectra the best
    decomposition has no peak near the truth at all (the big peak split oddly). Before the
    fix, tracking by position and width alone then swapped ids 1 and 2 for the remaining 77
    spectra; the areas keep them apart."""
    x, y, centers = _c1s_series(widths=[1.0, 0.9, 0.9], heights=[5000, 2000, 3000], background=1e3)
    series = SAEM("gaussian", 3, background="constant", likelihood="poisson").fit_series((x, y))
    fitted = series.array("center")
    nearest_true = np.abs(fitted[:, :, None] - centers[:, None, :]).argmin(axis=2)
    follows = np.all(nearest_true == np.arange(3), axis=1)
    assert np.all(follows[8:]), np.nonzero(~follows)


def test_errors_of_the_series_cover_the_truth(fits):
    """rms of z = (estimate − truth)/σ: ≤ 1.2 for the drifting centre, and for every centre,
    FWHM and area."""
    _, series, centers = fits
    s = WIDTHS / FWHM_PER_SIGMA
    truth = {
        "center": centers,
        "fwhm": WIDTHS[None, :],
        "area": (HEIGHTS * s * np.sqrt(2.0 * np.pi))[None, :],
    }
    for name, true in truth.items():
        z = (series.array(name) - true) / series.array(f"{name}_err")
        rms = np.sqrt(np.mean(z**2, axis=0))
        assert np.all(rms <= 1.2), (name, rms)


def test_drifting_centre_is_as_accurate_as_independent_fits(fits):
    independent, series, centers = fits
    ind = np.sort(independent.array("center"), axis=1)[:, 1]
    rmse_ind = np.sqrt(np.mean((ind - centers[:, 1]) ** 2))
    rmse_ser = np.sqrt(np.mean((series.array("center")[:, 1] - centers[:, 1]) ** 2))
    assert rmse_ser <= rmse_ind + 0.002, (rmse_ser, rmse_ind)


def test_a_degenerate_em_start_is_dropped():
    """A component with (almost) nothing inside the window has an undetermined area: that
    candidate is replaced by the spectrum's regular one, or its window mass is floored."""
    pi = np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    mass = np.array([[1.0, 1e-310], [0.9, 0.8], [1e-320, 1.0], [0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        areas, src = window_areas(pi, np.full(4, 100.0), mass, n_spectra=2, n_candidates=2)
    assert list(src) == [1, 1, 2, 3]  # spectrum 0 keeps its regular start; spectrum 1 has none
    assert np.all(np.isfinite(areas))
    assert areas[3, 0] == pytest.approx(50.0 / 1e-6)


@pytest.mark.parametrize(
    "path",
    [
        "tests/data/eis/exampleDataPowersuite.txt",
        "tests/data/eis/PEIS_LPSCl_IonBlocking_-25C_RelaxIS.txt",
    ],
)
def test_no_numpy_warning_on_impedance_columns_read_as_spectra(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = PeakFitter().fit_files([path])
    assert len(result.fits) >= 1


def test_an_ambiguous_split_says_its_errors_may_be_too_small():
    """Noise draw 1 of the series: spectra 11 and 13 (0.51 and 0.53 eV apart, half a FWHM) end
    > 5 Wald errors from the true drifting centre although their deviance is below the
    deviance at the truth (an ambiguous split, |r| > 0.99): the warning says that their errors
    may be too small. The last two spectra (1.2 eV apart) are resolved and carry no warning
    about the split."""
    x, y, centers = _c1s_series(seed=1)
    engine = SAEM("gaussian", 3, background="constant", likelihood="poisson")
    res = engine.fit((x, y[[11, 13, 78, 79]]))
    for f, c in zip(res.fits[:2], centers[[11, 13]]):
        z = abs(f.peaks["center"][1] - c[1]) / f.peaks["center_err"][1]
        assert z > 3  # the case the warning is for
        assert any("may be several times too small" in w for w in f.warnings), f.warnings
    for f in res.fits[2:]:
        assert not any("not well resolved" in w for w in f.warnings), f.warnings
