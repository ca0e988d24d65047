"""Closed forms of iondyn.physics.analytic against published and independently computed
numbers."""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.constants import E_CHARGE, EPS0, K_B, thermal_voltage
from iondyn.errors import InputError
from iondyn.physics import analytic as an

T = 298.15
VT = thermal_voltage(T)


def test_debye_length_table_llzo():
    # L_D = √(εkT/e²c) at ε_r = 60 for c∞ = 1e20 … 1e28 m⁻³ (one monovalent carrier)
    c = np.array([1e20, 1e22, 1e24, 1e26, 1e28])
    ld = np.array([an.debye_length(60.0, T, [ci], [1]) for ci in c])
    np.testing.assert_allclose(ld, [923e-9, 92.3e-9, 9.23e-9, 0.923e-9, 0.0923e-9], rtol=2e-3)
    # the definition, independently
    assert ld[2] == pytest.approx(np.sqrt(EPS0 * 60 * K_B * T / (E_CHARGE**2 * 1e24)), rel=1e-12)


def test_gouy_chapman_reference_values():
    c, eps = 1e24, 10.0
    ld = an.debye_length(eps, T, [c, c], [1, -1])
    phi = an.gouy_chapman_potential(np.array([1.0, 2.0, 3.0]) * ld, 4 * VT, ld, T) / VT
    np.testing.assert_allclose(phi, [1.15149, 0.41375, 0.15174], atol=1e-5)
    q = an.grahame_charge(4 * VT, eps, T, c) / np.sqrt(EPS0 * eps * K_B * T * c)
    assert q == pytest.approx(10.25831, abs=1e-5)
    # C = dQ/dφ0 (central difference of the Grahame charge)
    h = 1e-6
    dq = (an.grahame_charge(4 * VT + h, eps, T, c) - an.grahame_charge(4 * VT - h, eps, T, c)) / (
        2 * h
    )
    assert an.gouy_chapman_capacitance(4 * VT, eps, T, c) == pytest.approx(dq, rel=1e-6)


def test_saturated_first_integral_reference_values():
    # lattice-gas charges in units of sqrt(ε kT c∞) (c∞ = θ∞ c_max), docs/physics.md §6
    cmax, th, eps = 1e25, 0.1, 10.0
    unit = np.sqrt(EPS0 * eps * K_B * T * th * cmax)
    q = [-an.saturated_accumulation_charge(u * VT, eps, T, cmax, th) / unit for u in (-5, -20, -40)]
    np.testing.assert_allclose(q, [6.7176, 17.7186, 25.9605], atol=1e-4)
    dilute = [-an.mott_schottky_charge(u * VT, eps, T, th * cmax) / unit for u in (-5, -20, -40)]
    np.testing.assert_allclose(dilute, [16.9, 3.1e4, 6.9e8], rtol=1e-2)
    # θ∞ → 0 recovers the dilute (Mott–Schottky) first integral
    small = an.saturated_accumulation_charge(-3 * VT, eps, T, 1e30, 1e24 / 1e30)
    assert small == pytest.approx(an.mott_schottky_charge(-3 * VT, eps, T, 1e24), rel=1e-5)


def test_mott_schottky_and_depletion_width():
    c, eps = 1e24, 10.0
    ld = an.debye_length(eps, T, [c], [1])
    u0 = 20.0
    q = an.mott_schottky_charge(u0 * VT, eps, T, c)
    assert q == pytest.approx(np.sqrt(2 * (np.exp(-u0) + u0 - 1)) * EPS0 * eps * VT / ld, rel=1e-12)
    w = an.depletion_width(u0 * VT, eps, T, c)
    assert w == pytest.approx(np.sqrt(2 * (u0 - 1)) * ld, rel=1e-12)


def test_heterojunction_partition_reference():
    # ε_B = 3 ε_A, c_B = 0.1 c_A, Δμ0 = 6 kT → Δφ_A = −1.4167, Δφ_B = −2.2808 kT/e
    total = an.builtin_potential(1.0, 0.1, 6 * VT, T)
    a, b = an.heterojunction_partition(total, 10.0, 30.0, 1e24, 1e23, T)
    assert a / VT == pytest.approx(-1.4167, abs=1e-4)
    assert b / VT == pytest.approx(-2.2808, abs=1e-4)
    lhs = np.sqrt(10.0 * 1e24) * np.sinh(0.5 * a / VT)
    assert lhs == pytest.approx(np.sqrt(30.0 * 1e23) * np.sinh(0.5 * b / VT), rel=1e-10)


def test_blocking_cell_split_reference():
    a, b = an.blocking_cell_split(20 * VT, T)
    assert a / VT == pytest.approx(17.004, abs=1e-3)
    assert b / VT == pytest.approx(2.996, abs=1e-3)


def test_blocking_cell_impedance_limits():
    c, eps, d, length = 1e24, 10.0, 1e-12, 4e-7
    ld = an.debye_length(eps, T, [c], [1])
    sigma = an.nernst_einstein_conductivity(d, c, T)
    tau = EPS0 * eps / sigma
    f_lo, f_hi = 1e-6 / (2 * np.pi * tau), 1e4 / (2 * np.pi * tau)
    z_lo = an.blocking_cell_impedance(f_lo, length, eps, sigma, ld)
    w = 2 * np.pi * f_lo
    assert z_lo == pytest.approx(length / sigma + 2 * ld / (1j * w * EPS0 * eps), rel=1e-4)
    z_hi = an.blocking_cell_impedance(f_hi, length, eps, sigma, ld)
    assert z_hi == pytest.approx(length / (1j * 2 * np.pi * f_hi * EPS0 * eps), rel=1e-3)


def test_jamnik_maier_limits():
    length, si, se, dch = 1e-5, 1e-2, 1e-1, 1e-11
    z = an.jamnik_maier_impedance(np.array([1e-9, 1e9]), length, si, se, dch)
    rinf = (length / si) * (length / se) / (length / si + length / se)
    assert z[0].real == pytest.approx(length / se, rel=1e-6)  # ions blocked: R_e at DC
    assert z[1].real == pytest.approx(rinf, rel=1e-3)
    assert an.chemical_diffusivity(si, se, 1e-12, 1e-11) == pytest.approx(
        (se * 1e-12 + si * 1e-11) / (si + se)
    )


def test_shockley_rectification_is_exponential():
    v = np.array([3.0, 5.0, 8.0]) * VT
    j = [
        an.shockley_current_density(s * v, 1e21, 1e-12, 1e24, 1e-6, 1e-12, 1e24, 1e-6, T)
        for s in (1, -1)
    ]
    ratio = np.abs(j[0] / j[1])
    np.testing.assert_allclose(ratio, np.exp([3.0, 5.0, 8.0]), rtol=1e-12)
    # the textbook e^V − 1 = 19.1, 147, 2980 takes |J(−V)| as the saturation current
    np.testing.assert_allclose(np.expm1([3.0, 5.0, 8.0]), [19.1, 147.4, 2980], rtol=2e-3)


def test_space_charge_tsdc_peak_predictions():
    # LLZO pellet ≈ 181 K, LiPON film ≈ 187 K (λ = 1 nm, β = 5 K/min, σT Arrhenius)
    llzo = an.space_charge_tsdc_peak_temperature(60, 1e-3, 5e-2, 298.15, 0.40, 1e-9, 5 / 60)
    lipon = an.space_charge_tsdc_peak_temperature(15, 1e-6, 2e-4, 298.15, 0.55, 1e-9, 5 / 60)
    assert llzo == pytest.approx(181.0, abs=1.5)
    assert lipon == pytest.approx(187.0, abs=1.5)
    # the peak condition τ(Tm) = k Tm²/(β Ea) for a pure Arrhenius τ
    ea, tau0, beta = 0.5, 1e-13, 5 / 60
    tm = an.tsdc_peak_temperature(lambda t: tau0 * np.exp(ea / (K_B / E_CHARGE * t)), beta)
    assert tm == pytest.approx(170.50, abs=0.01)  # case T1: Ea 0.5 eV, τ0 1e-13 s, 5 K/min


def test_bad_temperature():
    with pytest.raises(InputError):
        an.debye_length(10.0, -1.0, [1e24], [1])
