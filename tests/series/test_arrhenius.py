"""Arrhenius fits: recovery, honest errors, conventions."""

import numpy as np
import pytest

from iondyn.constants import K_B_EV
from iondyn.errors import DataError
from iondyn.series import fit_arrhenius

T = np.linspace(250.0, 400.0, 8)


def sigma(T, A=5e4, Ea=0.35):
    return A / T * np.exp(-Ea / (K_B_EV * T))


def test_exact_data_recovered():
    fit = fit_arrhenius(T, sigma(T))
    assert fit.Ea_eV == pytest.approx(0.35, abs=1e-10)
    assert fit.prefactor == pytest.approx(5e4, rel=1e-8)
    s298, _ = fit.predict(298.15)
    assert s298 == pytest.approx(sigma(298.15), rel=1e-10)


def test_errors_are_honest_over_replicas():
    rng = np.random.default_rng(0)
    rel = 0.03
    eas, errs, s298, s298_err = [], [], [], []
    for _ in range(400):
        v = sigma(T) * (1 + rel * rng.standard_normal(T.size))
        fit = fit_arrhenius(T, v, errors=rel * v)
        eas.append(fit.Ea_eV)
        errs.append(fit.Ea_eV_err)
        p, pe = fit.predict(298.15)
        s298.append(p)
        s298_err.append(pe)
    assert np.std(eas) == pytest.approx(np.mean(errs), rel=0.15)
    assert np.mean(eas) == pytest.approx(0.35, abs=3 * np.std(eas) / 20)
    assert np.std(s298) == pytest.approx(np.mean(s298_err), rel=0.15)


def test_sigma_convention_differs_from_sigma_T():
    """Fitting ln σ instead of ln σT lowers Ea by about k_B·T̄ (d ln T/d(1/k_BT) = −k_BT):
    −0.027 eV over 250–400 K (−k_B T̄: about −0.023 eV for a lower range)."""
    a = fit_arrhenius(T, sigma(T), convention="sigma_T")
    b = fit_arrhenius(T, sigma(T), convention="sigma")
    t_eff = 1.0 / np.mean(1.0 / T)
    assert b.Ea_eV - a.Ea_eV == pytest.approx(-K_B_EV * t_eff, abs=1e-3)


def test_tau_convention():
    tau = 1e-13 * np.exp(0.5 / (K_B_EV * T))
    fit = fit_arrhenius(T, tau, convention="tau")
    assert fit.Ea_eV == pytest.approx(0.5, abs=1e-10)
    assert fit.prefactor == pytest.approx(1e-13, rel=1e-8)


@pytest.mark.parametrize(
    ("t", "v", "msg"),
    [
        ([300.0], [1.0], "at least two"),
        ([300.0, 300.0], [1.0, 2.0], "two different"),
        ([300.0, 350.0], [1.0, -2.0], "positive"),
        ([-3.0, 350.0], [1.0, 2.0], "above 0 K"),
    ],
)
def test_bad_input(t, v, msg):
    with pytest.raises(DataError, match=msg):
        fit_arrhenius(np.array(t), np.array(v))
