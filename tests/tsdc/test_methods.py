"""Classical TSDC methods and the g(Ea) inversion on cases T1, T2 (docs/tsdc.md)."""

import numpy as np
import pytest

from iondyn.errors import FitError, InputError
from iondyn.tsdc import TSDCPeak, bucci_fieschi, ea_distribution, heating_rate_method, initial_rise
from iondyn.tsdc.methods import peak_maximum
from iondyn.tsdc.model import K_B_EV, peak_temperature
from iondyn.tsdc.simulate import simulate, simulate_current

BETA = 5.0 / 60.0
T1 = TSDCPeak(0.5, 1e-13)


@pytest.fixture(scope="module")
def t1_curve():
    return simulate([T1], BETA, 100.0, 260.0, step=0.1)


def test_initial_rise_reproduces_reference_values(t1_curve):
    T, J = t1_curve.temperature_K, t1_curve.current
    ir10 = initial_rise(T, J, frac=0.10)
    ir05 = initial_rise(T, J, frac=0.05)
    # T1: 0.4985 eV (J < 10 % Jmax), 0.4992 eV (J < 5 %)
    assert ir10.Ea_eV == pytest.approx(0.4985, abs=3e-4)
    assert ir05.Ea_eV == pytest.approx(0.4992, abs=3e-4)
    assert ir10.T_range_K[1] < 170.5 and ir10.n_points > 100
    assert ir10.lower == pytest.approx(1e-4)


def test_bucci_fieschi_reproduces_reference_values(t1_curve):
    bf = bucci_fieschi(t1_curve.temperature_K, t1_curve.current, BETA)
    assert bf.Ea_eV == pytest.approx(0.500, abs=0.001)
    assert bf.tau0_s == pytest.approx(1.00e-13, rel=0.01)
    assert not bf.curved
    lo, hi = bf.T_range_K
    assert lo < 160.0 < 170.5 < hi  # the automatic range spans the peak


def test_heating_rate_method_reproduces_reference_values():
    rates = np.array([1.0, 2.0, 5.0, 10.0, 20.0]) / 60.0
    # from the closed-form peak temperatures …
    hr = heating_rate_method(peak_temperature(0.5, 1e-13, rates), rates)
    assert hr.Ea_eV == pytest.approx(0.5000, abs=1e-4)
    assert hr.tau0_s == pytest.approx(1e-13, rel=1e-3)
    # … and from the maxima of simulated curves (0.1 K grid, parabolic refinement)
    tms = []
    for b in rates:
        T = np.arange(120.0, 220.0, 0.1)
        tms.append(peak_maximum(T, simulate_current(T, [T1], b, 100.0))[0])
    hr = heating_rate_method(tms, rates)
    assert hr.Ea_eV == pytest.approx(0.500, abs=0.001)
    assert np.allclose(tms, [163.21, 166.27, 170.50, 173.85, 177.32], atol=0.02)


def test_distributed_ea_flattens_initial_rise_and_bends_bucci_fieschi():
    c = simulate([TSDCPeak(0.5, 1e-13, sigma_eV=0.05)], BETA, 100.0, 300.0, step=0.2)
    ir = initial_rise(c.temperature_K, c.current, frac=0.10)
    # T2: initial rise returns ~0.21 eV, E_IR ≈ Ē − σ²/kT on the flank
    t_mid = np.mean(ir.T_range_K)
    assert ir.Ea_eV == pytest.approx(0.21, abs=0.03)
    assert ir.Ea_eV < 0.5 - 0.05**2 / (K_B_EV * t_mid) + 0.1
    bf = bucci_fieschi(c.temperature_K, c.current, BETA)
    assert bf.curved and any("curved" in w for w in bf.warnings)


def test_ea_distribution_recovers_gaussian_g():
    c = simulate([TSDCPeak(0.5, 1e-13, P0=2.0, sigma_eV=0.05)], BETA, 100.0, 300.0, step=0.5)
    d = ea_distribution(c.temperature_K, c.current, BETA, tau0=1e-13)
    assert d.mean_eV == pytest.approx(0.5, abs=0.005)
    assert d.std_eV == pytest.approx(0.05, rel=0.1)
    assert d.total == pytest.approx(2.0, rel=0.02)
    assert d.r2 > 0.9999 and np.all(d.g >= 0)


def test_method_errors_are_clear():
    T = np.linspace(300.0, 400.0, 201)
    J = simulate_current(T, [TSDCPeak(0.5, 1e-13)], BETA, 300.0)  # starts on the peak's tail
    with pytest.raises(FitError, match="initial rise"):
        initial_rise(T, J)
    with pytest.raises(InputError, match="two or more heating rates"):
        heating_rate_method([170.0, 171.0], [0.1, 0.1])
    with pytest.raises(InputError, match="positive"):
        bucci_fieschi(T, J + 1.0, -0.1)
