"""Equilibrium space-charge solver against the closed forms (iondyn.physics.analytic)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from iondyn.constants import E_CHARGE, EPS0, K_B, thermal_voltage
from iondyn.physics import Contact, Device, Phase, SpaceChargeSolver, Species
from iondyn.physics import analytic as an

T = 298.15
VT = thermal_voltage(T)
C = 1e24
EPS = 10.0


def symmetric_electrolyte(phi0_V: float, d: float | None = None) -> Device:
    ph = Phase(
        "A",
        EPS,
        (
            Species("M", 1, C, diffusivity_m2_s=d),
            Species("X", -1, C, diffusivity_m2_s=d),
        ),
    )
    return Device((ph,), T, Contact("blocking", phi0_V), Contact("bulk"))


def carrier_with_background(phi0_V: float, c_max: float | None = None, c=C) -> Device:
    ph = Phase(
        "A",
        EPS,
        (Species("V", 1, c, c_max_m3=c_max), Species("B", -1, c, mobile=False)),
    )
    return Device((ph,), T, Contact("blocking", phi0_V), Contact("bulk"))


def test_gouy_chapman_profile_and_grahame_charge():
    res = SpaceChargeSolver().solve(symmetric_electrolyte(4 * VT))
    ld = an.debye_length(EPS, T, [C, C], [1, -1])
    assert res.debye_length_m == pytest.approx(ld, rel=1e-12)
    exact = an.gouy_chapman_potential(res.x_m, 4 * VT, ld, T)
    assert np.max(np.abs(res.phi_V - exact)) / VT < 1e-3  # every node, in kT/e
    at = res.potential_at(np.array([1.0, 2.0, 3.0]) * ld) / VT
    np.testing.assert_allclose(at, [1.15149, 0.41375, 0.15174], atol=1e-3)
    q = an.grahame_charge(4 * VT, EPS, T, C)
    assert res.charge_C_per_m2 == pytest.approx(q, rel=1e-3)
    # reduced units: Q / sqrt(ε kT c∞) = 10.25831
    assert res.charge_C_per_m2 / np.sqrt(EPS0 * EPS * K_B * T * C) == pytest.approx(
        10.25831, rel=1e-3
    )
    cap = an.gouy_chapman_capacitance(4 * VT, EPS, T, C)
    assert res.capacitance_F_per_m2 == pytest.approx(cap, rel=2e-3)
    # Boltzmann concentrations follow the potential
    np.testing.assert_allclose(res.conc_m3["M"], C * np.exp(-res.phi_V / VT), rtol=1e-9)
    assert res.converged and res.residual < 1e-8 and not res.warnings


@pytest.mark.parametrize("u0", [5.0, 10.0, 20.0, 40.0])
def test_mott_schottky_charge(u0):
    res = SpaceChargeSolver().solve(carrier_with_background(u0 * VT))
    q = an.mott_schottky_charge(u0 * VT, EPS, T, C)
    assert res.charge_C_per_m2 == pytest.approx(q, rel=1e-3)
    reduced = res.charge_C_per_m2 / np.sqrt(EPS0 * EPS * K_B * T * C)
    assert reduced == pytest.approx(np.sqrt(2 * (np.exp(-u0) + u0 - 1)), rel=1e-3)


@pytest.mark.parametrize(("u0", "reference"), [(-5, 6.7176), (-20, 17.7186), (-40, 25.9605)])
def test_site_saturated_accumulation_charge(u0, reference):
    cmax = 10 * C  # θ∞ = 0.1
    res = SpaceChargeSolver().solve(carrier_with_background(u0 * VT, c_max=cmax))
    q = an.saturated_accumulation_charge(u0 * VT, EPS, T, cmax, 0.1)
    assert res.charge_C_per_m2 == pytest.approx(q, rel=1e-3)
    # lattice-gas charges, in units of sqrt(ε kT c∞)
    reduced = -res.charge_C_per_m2 / np.sqrt(EPS0 * EPS * K_B * T * C)
    assert reduced == pytest.approx(reference, rel=1e-3)
    assert np.max(res.conc_m3["V"]) <= cmax  # never above the site density


def test_heterojunction_partition():
    pa = Phase("A", EPS, (Species("M", 1, C), Species("XA", -1, C)))
    pb = Phase("B", 3 * EPS, (Species("M", 1, 0.1 * C, mu0_eV=6 * VT), Species("XB", -1, 0.1 * C)))
    res = SpaceChargeSolver().solve(Device((pa, pb), T, Contact("bulk"), Contact("bulk")))
    total = an.builtin_potential(C, 0.1 * C, 6 * VT, T)
    exp_a, exp_b = an.heterojunction_partition(total, EPS, 3 * EPS, C, 0.1 * C, T)
    drop_a, drop_b = res.interfaces[0]["potential_drops_V"]
    assert abs(drop_a - exp_a) / VT < 2e-3
    assert abs(drop_b - exp_b) / VT < 2e-3
    assert drop_a / VT == pytest.approx(-1.4167, abs=2e-3)
    assert drop_b / VT == pytest.approx(-2.2808, abs=2e-3)
    assert res.bulk_potentials_V["B"] == pytest.approx(total, rel=1e-9)
    # charge neutrality across the junction and the Gouy–Chapman charge of side A
    q_a = an.grahame_charge(-exp_a, EPS, T, C)
    assert res.interfaces[0]["charge_C_per_m2"] == pytest.approx(q_a, rel=2e-3)


def test_single_carrier_between_blocking_electrodes_splits_voltage():
    ld = an.debye_length(EPS, T, [C], [1])
    ph = Phase("A", EPS, (Species("V", 1, C), Species("B", -1, C, mobile=False)), length_m=200 * ld)
    dev = Device((ph,), T, Contact("blocking", 20 * VT), Contact("blocking", 0.0))
    res = SpaceChargeSolver().solve(dev)
    assert res.ensemble == "canonical"
    left, right = res.interfaces
    assert left["potential_drops_V"][0] / VT == pytest.approx(17.004, abs=5e-3)
    assert right["potential_drops_V"][0] / VT == pytest.approx(2.996, abs=5e-3)
    # the amount of carriers is conserved and the electrode charges cancel
    assert np.trapezoid(res.conc_m3["V"], res.x_m) == pytest.approx(C * 200 * ld, rel=1e-6)
    assert left["charge_C_per_m2"] == pytest.approx(-right["charge_C_per_m2"], rel=1e-3)


def test_layer_resistance_and_conductance_of_gouy_chapman_layer():
    d = 1e-12
    u0 = 3.0
    res = SpaceChargeSolver().solve(symmetric_electrolyte(u0 * VT, d=d))
    ld = res.debye_length_m
    s_inf = 2 * E_CHARGE**2 * d * C / (K_B * T)

    def sigma(x):
        u = 4 * np.arctanh(np.tanh(u0 / 4) * np.exp(-x / ld))
        return s_inf * np.cosh(u)

    r_exact = quad(lambda x: 1 / sigma(x) - 1 / s_inf, 0, 60 * ld, limit=200)[0]
    g_exact = quad(lambda x: sigma(x) - s_inf, 0, 60 * ld, limit=200)[0]
    assert res.layer_resistance_ohm_m2 == pytest.approx(r_exact, rel=5e-3)
    assert res.layer_conductance_S == pytest.approx(g_exact, rel=5e-3)
    assert res.layer_conductance_S > 0 and res.layer_resistance_ohm_m2 < 0


def test_result_containers():
    res = SpaceChargeSolver().solve(symmetric_electrolyte(0.05))
    d = res.to_dict()
    for key in ("x_m", "phi_V", "conc_m3", "charge_C_per_m2", "capacitance_F_per_m2"):
        assert key in d
    assert set(d["conc_m3"]) == {"M", "X"}
    df = res.to_dataframe()
    assert list(df.columns) == ["x_m", "phi_V", "phase", "c_M_m3", "c_X_m3"]
    assert len(df) == res.mesh["n_nodes"]
