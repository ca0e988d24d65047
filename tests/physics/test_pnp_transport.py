"""PNP steady states, transients and TSDC: Shockley law, relaxation, G–R kinetics, TSDC peak."""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.constants import E_CHARGE, EPS0, K_B, thermal_voltage
from iondyn.data import TSDCCurve
from iondyn.physics import Contact, Device, Phase, PNPModel, Reaction, SpaceChargeSolver, Species
from iondyn.physics import analytic as an

T = 298.15
VT = thermal_voltage(T)
EPS, D = 10.0, 1e-12


@pytest.fixture(scope="module")
def junction():
    """Cation conductor | anion conductor, N = 1e24 m⁻³ on both sides, n_i = 1e21 m⁻³."""
    n, ni = 1e24, 1e21
    maj = n / 2 + np.sqrt(n**2 / 4 + ni**2)
    mino = ni**2 / maj
    ld = an.debye_length(EPS, T, [n], [1])
    length = 500 * ld

    def phase(name, cm, cx, frame):
        return Phase(
            name,
            EPS,
            (
                Species("M", 1, cm, diffusivity_m2_s=D),
                Species("X", -1, cx, diffusivity_m2_s=D),
                frame,
            ),
            length_m=length,
        )

    pa = phase("A", maj, mino, Species("Am", -1, n, mobile=False))
    pb = phase("B", mino, maj, Species("Dp", 1, n, mobile=False))
    dev = Device((pa, pb), T, Contact("ohmic"), Contact("ohmic"))
    volts = np.array([-8, -5, -3, -0.5, -0.25, 0.25, 0.5, 3, 5, 8]) * VT
    iv = PNPModel(dev, max_bias_V=8 * VT).iv_curve(volts)
    return {"iv": iv, "n": n, "ni": ni, "ld": ld, "length": length, "vbi": np.log(maj / mino)}


def test_bipolar_junction_follows_shockley_at_small_bias(junction):
    iv, ld = junction["iv"], junction["ld"]
    for v, j in zip(iv.voltage_V, iv.current_A_per_m2):
        if abs(v) > 0.5 * VT + 1e-12:
            continue
        # neutral width: phase length minus the depletion width on that side (symmetric junction)
        x_dep = 0.5 * np.sqrt(4 * (junction["vbi"] - v / VT - 2)) * ld
        w = junction["length"] - x_dep
        n, ni = junction["n"], junction["ni"]
        js = an.shockley_current_density(v, ni, D, n, w, D, n, w, T)
        assert j == pytest.approx(js, rel=1e-2)
    assert not iv.warnings


def test_bipolar_junction_rectifies(junction):
    iv = junction["iv"]
    for u in (3.0, 5.0, 8.0):
        ratio = iv.rectification_ratio(u * VT)
        assert ratio == pytest.approx(np.exp(u), rel=2e-2)  # ideal diode: (e^V − 1)/(1 − e^−V)
    # the textbook e^V − 1 (reverse current fully saturated) holds at 5 and 8 kT/e
    assert iv.rectification_ratio(5 * VT) == pytest.approx(np.expm1(5.0), rel=2e-2)
    assert iv.rectification_ratio(8 * VT) == pytest.approx(np.expm1(8.0), rel=2e-2)


def test_transient_relaxes_to_the_equilibrium_profile():
    c = 1e24
    ld = an.debye_length(EPS, T, [c], [1])
    ph = Phase(
        "A",
        EPS,
        (Species("V", 1, c, diffusivity_m2_s=D), Species("B", -1, c, mobile=False)),
        length_m=50 * ld,
    )
    model = PNPModel(Device((ph,), T, Contact("blocking"), Contact("blocking")), max_bias_V=4 * VT)
    sigma = an.nernst_einstein_conductivity(D, c, T)
    tau_rc = EPS0 * EPS / sigma * 50 / 2
    # voltage step 4 kT/e at t = 0 from the uniform state
    run = model.transient(40 * tau_rc, voltage_V=4 * VT)
    eq = SpaceChargeSolver().solve(
        Device((ph,), T, Contact("blocking", 4 * VT), Contact("blocking"))
    )
    prof = model.state_profiles(run.final_state)
    # the equilibrium solver on its own (adaptively refined) mesh: agreement to the
    # discretisation accuracy of either mesh
    assert np.max(np.abs(prof["phi_V"] - eq.potential_at(prof["x_m"]))) / VT < 1e-3
    # the same equilibrium on the same mesh (Boltzmann profile with conserved amount): tight
    steady = model.state_profiles(model.steady_state(4 * VT))
    assert np.max(np.abs(prof["phi_V"] - steady["phi_V"])) / VT < 1e-6
    assert np.max(np.abs(prof["c_V_m3"] / steady["c_V_m3"] - 1)) < 1e-5
    boltzmann = np.exp(-(prof["phi_V"] - prof["phi_V"][prof["x_m"].size // 2]) / VT)
    c_mid = prof["c_V_m3"][prof["x_m"].size // 2]
    np.testing.assert_allclose(prof["c_V_m3"], c_mid * boltzmann, rtol=1e-5)
    # the current has decayed and the electrode charge equals the equilibrium one
    assert abs(run.current_A_per_m2[-1]) < 1e-6 * abs(run.current_A_per_m2[1])
    assert model.electrode_charge(run.final_state) == pytest.approx(eq.charge_C_per_m2, rel=1e-3)


def test_generation_recombination_relaxes_with_pair_kinetics():
    c, k = 1e24, 1e-30
    ld = an.debye_length(EPS, T, [c, c], [1, 1])
    ph = Phase(
        "A",
        EPS,
        (Species("V", 1, c, diffusivity_m2_s=D), Species("I", -1, c, diffusivity_m2_s=D)),
        length_m=100 * ld,
    )
    dev = Device((ph,), T, Contact("blocking"), Contact("blocking"), (Reaction(("V", "I"), k),))
    model = PNPModel(dev)
    u = model.equilibrium()
    u[model.system.ic] *= 1.01  # 1 % excess of pairs everywhere
    tau = 1.0 / (2 * k * c)
    run = model.transient(2 * tau, u0=u, save_at_s=[tau, 2 * tau], rtol=1e-7)
    for t, state in zip(run.saved_times_s, run.saved_states):
        cc = model.system.split(state)[1] * model.scales.c_ref_m3
        mid = cc.shape[0] // 2
        e = np.exp(-t / tau)
        exact = 0.01 * e / (1 + 0.005 * (1 - e))  # dδ/dt = −k(2cδ + δ²)
        assert cc[mid, 0] / c - 1 == pytest.approx(exact, rel=2e-3)
        assert cc[mid, 1] == pytest.approx(cc[mid, 0], rel=1e-9)


def test_space_charge_tsdc_peak_of_llzo_pellet():
    # LLZO: ε_r 60, σ(298 K) = 5e-4 S/cm, Ea = 0.40 eV, 1 mm → peak ≈ 181 K at 5 K/min
    # (tsdc_peak_temperature with λ = 1 nm).
    # Model: one mobile Li species of density c with an activated diffusivity (σT Arrhenius)
    # and an immobile background; c sets L_D = 1 nm at 181 K (the λ of τ_sc = εL/(2σλ)).
    eps, length, t_lambda = 60.0, 1e-3, 181.0
    c = EPS0 * eps * K_B * t_lambda / (E_CHARGE**2 * 1e-18)
    d = 5e-2 * K_B * 298.15 / (E_CHARGE**2 * c)
    ph = Phase(
        "LLZO",
        eps,
        (
            Species("Li", 1, c, diffusivity_m2_s=d, activation_energy_eV=0.40),
            Species("B", -1, c, mobile=False),
        ),
        length_m=length,
    )
    dev = Device((ph,), 298.15, Contact("blocking"), Contact("blocking"))
    res = PNPModel(dev, max_bias_V=1e-3).tsdc(1e-3, 250.0, 5 / 60)
    # the linear theory with this model's τ_sc(T) = εL/(2σ(T)L_D(T)): a first-order peak
    assert res.peak_temperature_K == pytest.approx(res.predicted_peak_temperature_K, abs=0.3)
    # the closed form keeps λ = 1 nm fixed; here L_D ∝ √T, so allow 2 K
    assert res.peak_temperature_K == pytest.approx(181.0, abs=2.0)
    assert res.released_charge_C_per_m2 == pytest.approx(res.poled_charge_C_per_m2, rel=1e-2)
    curve = res.to_curve()
    assert isinstance(curve, TSDCCurve)
    assert curve.current_unit == "A/m2" and curve.beta_K_per_s == pytest.approx(5 / 60)
    assert np.all(np.diff(curve.temperature_K) > 0)
    assert np.max(curve.current) > 0
    assert not res.warnings


def test_heterojunction_equilibrium_is_a_pnp_steady_state():
    # permittivity step, dilute statistics in A, lattice gas in B; with the standard states of
    # iondyn.physics.species (1 m⁻³ for dilute, θ/(1 − θ) for lattice gas) this μ0 makes the
    # bulk-to-bulk step 3 kT/e: ln(c_A/1 m⁻³) − ln(θ_B/(1 − θ_B)) − μ0_B/kT = 3
    c, theta = 1e24, 0.1
    mu0_b = VT * (np.log(c) - np.log(theta / (1 - theta)) - 3.0)
    ld = an.debye_length(EPS, T, [c, c], [1, 1])
    pa = Phase(
        "A",
        EPS,
        (Species("M", 1, c, diffusivity_m2_s=D), Species("XA", -1, c, diffusivity_m2_s=D)),
        length_m=100 * ld,
    )
    pb = Phase(
        "B",
        3 * EPS,
        (
            Species("M", 1, theta * c, c_max_m3=c, mu0_eV=mu0_b, diffusivity_m2_s=D),
            Species("XB", -1, theta * c, diffusivity_m2_s=D),
        ),
        length_m=100 * ld,
    )
    dev = Device((pa, pb), T, Contact("ohmic"), Contact("ohmic"))
    model = PNPModel(dev)
    assert model.disc.phase_bulk_psi[1] == pytest.approx(3.0, rel=1e-9)
    u = model.equilibrium()
    # the SG fluxes vanish on the equilibrium profile: a transient started there stays there
    tau = EPS0 * EPS / an.nernst_einstein_conductivity(D, 2 * c, T)
    run = model.transient(1e3 * tau, u0=u)
    p0, p1 = model.state_profiles(u), model.state_profiles(run.final_state)
    assert np.max(np.abs(p1["phi_V"] - p0["phi_V"])) / VT < 1e-8
    for name in ("M", "XA", "XB"):
        col = f"c_{name}_m3"
        assert np.max(np.abs(p1[col] - p0[col])) < 1e-8 * c
    # current: round-off only (the natural scale is e c_ref D / L_D ≈ 60 A/m²)
    assert np.max(np.abs(run.current_A_per_m2)) < 1e-10 * model.scales.current_A_m2
    # the equilibrium solver gives the same junction
    eq = SpaceChargeSolver().solve(dev)
    assert np.max(np.abs(p0["phi_V"] - eq.potential_at(p0["x_m"]))) / VT < 1e-3
    iv = model.iv_curve(np.array([-0.5, 0.5]) * VT)
    assert iv.current_A_per_m2[1] > 0 > iv.current_A_per_m2[0]
