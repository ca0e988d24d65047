"""Small-signal PNP impedance against the blocking-cell and Jamnik–Maier closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.constants import EPS0, thermal_voltage
from iondyn.data import ImpedanceSpectrum
from iondyn.physics import Contact, Device, Phase, PNPModel, Species
from iondyn.physics import analytic as an

T = 298.15
VT = thermal_voltage(T)
C, EPS, D = 1e24, 10.0, 1e-12


def blocking_cell(length_debye: float = 100.0):
    ld = an.debye_length(EPS, T, [C], [1])
    ph = Phase(
        "A",
        EPS,
        (Species("V", 1, C, diffusivity_m2_s=D), Species("B", -1, C, mobile=False)),
        length_m=length_debye * ld,
    )
    return Device((ph,), T, Contact("blocking"), Contact("blocking")), ld


def test_blocking_cell_impedance_over_six_decades():
    dev, ld = blocking_cell(100.0)
    length = dev.phases[0].length_m
    sigma = an.nernst_einstein_conductivity(D, C, T)
    tau = EPS0 * EPS / sigma
    f = np.logspace(-5, 1, 61) / (2 * np.pi * tau)  # six decades around the electrode arc
    res = PNPModel(dev).impedance(f)
    exact = an.blocking_cell_impedance(f, length, EPS, sigma, ld)
    assert np.max(np.abs(res.z_ohm_m2 / exact - 1)) < 1e-3
    assert np.all(res.z_ohm_m2.imag < 0)
    # low-frequency limit: resistance (L − 3 L_D)/σ (the closed form's ω → 0 expansion; → L/σ
    # for L ≫ L_D) in series with the layer capacitance ε/(2 L_D)
    w = 2 * np.pi * f[0]
    assert res.z_ohm_m2[0].real == pytest.approx((length - 3 * ld) / sigma, rel=2e-3)
    assert -1 / (w * res.z_ohm_m2[0].imag) == pytest.approx(EPS0 * EPS / (2 * ld), rel=2e-3)
    assert not res.warnings


def test_impedance_result_to_spectrum_and_containers():
    dev, _ = blocking_cell(50.0)
    res = PNPModel(dev).impedance(np.logspace(2, 6, 9))
    spec = res.to_spectrum(area_m2=1e-4)
    assert isinstance(spec, ImpedanceSpectrum)
    np.testing.assert_allclose(spec.z, res.z_ohm_m2 / 1e-4)
    assert spec.area_cm2 == pytest.approx(1.0)
    assert spec.thickness_cm == pytest.approx(dev.phases[0].length_m * 100)
    d = res.to_dict()
    assert d["z_real_ohm_m2"] == pytest.approx(res.z_ohm_m2.real.tolist())
    assert list(res.to_dataframe().columns) == ["frequency_Hz", "z_real_ohm_m2", "z_imag_ohm_m2"]


def test_mixed_conductor_matches_jamnik_maier():
    d_ion, d_eon = 1e-12, 1e-11
    ld = an.debye_length(EPS, T, [C, C], [1, 1])
    length = 4000 * ld
    ph = Phase(
        "MIEC",
        EPS,
        (Species("ion", 1, C, diffusivity_m2_s=d_ion), Species("e", -1, C, diffusivity_m2_s=d_eon)),
        length_m=length,
    )
    contact = Contact("ohmic", species=("e",))
    si = an.nernst_einstein_conductivity(d_ion, C, T)
    se = an.nernst_einstein_conductivity(d_eon, C, T)
    dch = an.chemical_diffusivity(si, se, d_ion, d_eon)
    tau_d = length**2 / (4 * dch)
    f = np.logspace(-2, 4, 25) / (2 * np.pi * tau_d)  # diffusion arc, well below ε/σ
    res = PNPModel(Device((ph,), T, contact, contact)).impedance(f)
    exact = an.jamnik_maier_impedance(f, length, si, se, dch)
    assert np.max(np.abs(res.z_ohm_m2 / exact - 1)) < 1e-2
    assert res.z_ohm_m2[0].real == pytest.approx(length / se, rel=1e-2)


def test_butler_volmer_contacts_add_charge_transfer_resistance():
    ld = an.debye_length(EPS, T, [C], [1])
    length = 200 * ld
    sigma = an.nernst_einstein_conductivity(D, C, T)
    for stern in (None, 0.5):
        for j0 in (1e-3, 10.0):
            ct = Contact(
                "butler-volmer",
                species=("V",),
                exchange_current_A_m2=j0,
                stern_capacitance_F_m2=stern,
            )
            ph = Phase(
                "A",
                EPS,
                (Species("V", 1, C, diffusivity_m2_s=D), Species("B", -1, C, mobile=False)),
                length_m=length,
            )
            model = PNPModel(Device((ph,), T, ct, ct))
            r_dc = length / sigma + 2 * VT / j0  # bulk + 2 R_ct, R_ct = kT/(e j0)
            iv = model.iv_curve(np.array([-0.01, 0.01]) * VT)
            r_iv = 0.02 * VT / np.diff(iv.current_A_per_m2)[0]
            assert r_iv == pytest.approx(r_dc, rel=1e-3)
            z = model.impedance(np.array([1e-6]))
            assert z.z_ohm_m2[0].real == pytest.approx(r_dc, rel=1e-3)
