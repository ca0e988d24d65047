"""Series mode: warm starts and stable peak identity."""

import numpy as np
import pytest

from conftest import gaussian_peak
from iondyn.saem import SAEM
from iondyn.saem.series import match_peaks

X = np.linspace(280.0, 295.0, 1000)


def _series(centers_2, seed, third=290.5):
    rng = np.random.default_rng(seed)
    ys = []
    for c2 in centers_2:
        clean = (
            gaussian_peak(X, 282.0, 1.0, 100)
            + gaussian_peak(X, c2, 1.2, 60)
            + gaussian_peak(X, third, 1.0, 80)
            + 5.0
        )
        ys.append(clean + rng.normal(0.0, 0.01 * clean.max(), X.size))
    return np.array(ys)


def test_identity_kept_while_a_peak_shifts_by_several_fwhm():
    c2 = np.linspace(284.0, 289.0, 300)  # 5 FWHM, between two fixed neighbours
    res = SAEM("gaussian", 3, background="constant").fit_series((X, _series(c2, 1)))
    centers = res.array("center")
    assert np.max(np.abs(centers[:, 0] - 282.0)) < 0.05
    assert np.max(np.abs(centers[:, 1] - c2)) < 0.05
    assert np.max(np.abs(centers[:, 2] - 290.5)) < 0.05
    assert all(f.converged for f in res)
    assert [int(i) for i in res[-1].peak_ids] == [1, 2, 3]


@pytest.mark.slow
def test_identity_survives_two_peaks_crossing():
    """Peak 2 moves through peak 3: while they overlap the split is ambiguous (and flagged),
    but after the crossing peak 2 is still the moving peak."""
    c2 = np.linspace(285.0, 292.0, 200)
    res = SAEM("gaussian", 3, background="constant").fit_series((X, _series(c2, 2, 288.5)))
    centers = res.array("center")
    resolved = np.abs(c2 - 288.5) > 1.5
    assert np.max(np.abs(centers[resolved, 1] - c2[resolved])) < 0.05
    assert np.max(np.abs(centers[resolved, 2] - 288.5)) < 0.05
    overlapping = ~resolved & (np.abs(c2 - 288.5) < 0.3)
    assert any(
        "not well resolved" in w for i in np.nonzero(overlapping)[0] for w in res[i].warnings
    )


def test_series_agrees_with_independent_fits():
    c2 = np.linspace(285.0, 286.0, 12)
    ys = _series(c2, 3)
    series = SAEM("gaussian", 3, background="constant").fit_series((X, ys))
    independent = SAEM("gaussian", 3, background="constant").fit((X, ys))
    assert np.allclose(series.array("center"), independent.array("center"), atol=1e-4)


def test_match_peaks_is_an_assignment():
    perm = match_peaks(
        np.array([1.0, 5.0, 9.0]), np.ones(3), np.array([9.1, 1.05, 4.9]), np.ones(3)
    )
    assert list(perm) == [1, 2, 0]
