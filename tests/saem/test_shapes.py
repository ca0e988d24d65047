"""Recovery of the parameters of every line shape on synthetic data."""

import numpy as np
import pytest

from iondyn.saem import SAEM
from iondyn.saem.components import get_component
from iondyn.saem.components.base import window_bounds

X = np.linspace(0.0, 100.0, 1000)

CASES = {
    "lorentzian": [[30.0, 6.0], [60.0, 10.0]],
    "pseudo-voigt": [[30.0, 6.0, 0.5], [60.0, 10.0, 0.3]],
    "voigt": [[30.0, 2.0, 2.0], [60.0, 3.0, 1.5]],
    "doniach-sunjic": [[30.0, 1.5, 0.15], [60.0, 2.0, 0.1]],
}
AREAS = np.array([1000.0, 1500.0])


def _synthetic(name, seed):
    comp = get_component(name)
    theta = np.array([CASES[name]])
    win = window_bounds(X[None])
    clean = (AREAS[None, :, None] * comp.pdf(X[None], theta, win)).sum(axis=1)[0] + 3.0
    rng = np.random.default_rng(seed)
    return comp, theta, win, clean + rng.normal(0.0, 0.01 * clean.max(), X.size)


@pytest.mark.parametrize("name", list(CASES))
def test_shape_parameters_recovered(name):
    comp, theta, win, y = _synthetic(name, 7)
    fit = SAEM(name, 2, background="constant").fit((X, y))[0]
    assert fit.converged
    truth = comp.describe(theta, win)
    for key in ("center", "fwhm", *comp.extra_names):
        got, err = fit.peaks[key], fit.peaks[f"{key}_err"]
        want = truth[key][0]
        # within 4 reported standard errors, and the errors are small
        assert np.all(np.abs(got - want) < 4 * err + 1e-9), (key, got, want, err)
    assert np.all(np.abs(fit.peaks["area"] - AREAS) < 4 * fit.peaks["area_err"])
    assert fit.quality["r2"] > 0.99


@pytest.mark.parametrize("name", ["voigt", "doniach-sunjic"])
def test_batched_fit_equals_individual_fits(name):
    """The batch axis is only an acceleration: each spectrum's result is its own."""
    ys = np.stack([_synthetic(name, 20 + i)[3] for i in range(3)])
    batch = SAEM(name, 2, background="constant").fit((X, ys))
    for i in range(3):
        single = SAEM(name, 2, background="constant").fit((X, ys[i]))[0]
        assert np.allclose(batch[i].peaks["center"], single.peaks["center"], atol=1e-6)
        assert np.allclose(batch[i].peaks["area"], single.peaks["area"], rtol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_shape_recovery_over_seeds(name):
    ok = 0
    for seed in range(8):
        comp, theta, win, y = _synthetic(name, 100 + seed)
        fit = SAEM(name, 2, background="constant").fit((X, y))[0]
        want = comp.describe(theta, win)
        ok += np.all(np.abs(fit.peaks["center"] - want["center"][0]) < 0.02 * want["fwhm"][0])
    assert ok == 8
