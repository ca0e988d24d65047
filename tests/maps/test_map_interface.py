"""Interface profiles: two phases meeting at a straight interface with a sigmoidal transition
of known width; the automatically found boundary between two components."""

from __future__ import annotations

import numpy as np
import pytest
from map_simulate import interface_map, logistic

from iondyn.errors import DataError
from iondyn.maps import MapFitter, SpectrumMap, find_boundary, profile_across


@pytest.fixture(scope="module")
def interface_fit():
    x, data, line, center, fw, d = interface_map()
    fit = MapFitter(n_peaks=1, background="constant", likelihood="poisson").fit(
        SpectrumMap(data, x)
    )
    return fit, line, center, fw, d


def test_width_of_the_transition_within_10_percent(interface_fit):
    fit, line, _center, fw, _d = interface_fit
    prof = profile_across(
        fit.maps["center"][..., 0], fit.maps["center_err"][..., 0], line, quantity="center"
    )
    assert prof.fit is not None
    assert abs(prof.fit["width"] - 3.0) / 3.0 < 0.10
    # the fitted width's own error covers the truth
    assert abs(prof.fit["width"] - 3.0) < 3 * prof.fit["width_err"]
    assert abs(prof.fit["high"] - prof.fit["low"] - 0.6 * fw) < 4 * np.hypot(
        prof.fit["high_err"], prof.fit["low_err"]
    )
    assert prof.fit["width_10_90"] == pytest.approx(2 * np.log(9) * prof.fit["width"])


def test_peak_shift_profile_within_its_errors(interface_fit):
    fit, line, center, _fw, d = interface_fit
    prof = profile_across(fit.maps["center"][..., 0], fit.maps["center_err"][..., 0], line)
    # the truth of each bin: the mean true centre of the pixels that fall in it
    sel = np.isfinite(fit.maps["center"][..., 0])
    x0, y0, x1, y1 = line
    rows, cols = np.indices(center.shape)
    t = ((cols - x0) * (x1 - x0) + (rows - y0) * (y1 - y0)) / ((x1 - x0) ** 2 + (y1 - y0) ** 2)
    inside = sel & (t >= 0) & (t <= 1)
    bins = np.round(d[inside]).astype(int)
    truth = {b: center[inside][bins == b].mean() for b in np.unique(bins)}
    z = np.array(
        [(v - truth[round(dd)]) / e for dd, v, e in zip(prof.distance, prof.value, prof.error)]
    )
    assert np.sqrt(np.mean(z**2)) < 1.5 and np.max(np.abs(z)) < 4
    assert np.all(prof.count > 0) and prof.distance.size > 30


def test_boundary_found_between_two_components():
    rng = np.random.default_rng(0)
    ny, nx = 36, 44
    rows, cols = np.indices((ny, nx))
    phi, rho, w = np.radians(35.0), 25.0, 2.5
    share = logistic((cols * np.cos(phi) + rows * np.sin(phi) - rho) / w)
    a = share + rng.normal(0, 0.03, share.shape)
    b = (1 - share) + rng.normal(0, 0.03, share.shape)
    bd = find_boundary(np.clip(a, 1e-3, None), np.clip(b, 1e-3, None))
    assert abs(np.degrees(bd.angle) - 35.0) < 1.0
    assert abs(bd.width - w) / w < 0.1 and bd.high > 0.9 and bd.low < 0.1
    # the profile of the share across the line found gives the same width
    prof = profile_across(a / (a + b), None, bd.line)
    assert abs(prof.fit["width"] - w) / w < 0.1
    assert prof.value[0] < 0.2 and prof.value[-1] > 0.8  # the normal points to component a


def test_profile_bad_input():
    with pytest.raises(DataError, match="zero length"):
        profile_across(np.ones((5, 5)), None, (1, 1, 1, 1))
    with pytest.raises(DataError, match="2-D"):
        profile_across(np.ones(5), None, (0, 0, 1, 1))
