"""Issue 6 bullets the earlier tests left open: the round trips through the analysis commands
(`iondyn eis fit --auto` on a simulated blocking cell, `iondyn tsdc fit` on a simulated
space-charge TSDC) and files written by `--out` read back by the analysis readers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from iondyn.cli import main
from iondyn.constants import EPS0, thermal_voltage
from iondyn.io.impedance import read_impedance
from iondyn.physics import analytic as an
from iondyn.physics import load_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "physics"
T = 298.15
VT = thermal_voltage(T)


def _json(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def blocking_csv(tmp_path_factory):
    out = tmp_path_factory.mktemp("blocking") / "z.csv"
    argv = ["simulate", "impedance", str(EXAMPLES / "blocking_cell.toml"), "--fmin", "1e3"]
    assert main([*argv, "--fmax", "1e9", "--points-per-decade", "10", "--out", str(out)]) == 0
    return out


def test_simulated_impedance_file_is_read_by_the_eis_reader(blocking_csv):
    (spec,) = read_impedance(blocking_csv)
    assert spec.n_points == 61
    length = load_config(EXAMPLES / "blocking_cell.toml").device.phases[0].length_m
    sigma = an.nernst_einstein_conductivity(1e-12, 1e24, T)
    ld = an.debye_length(10.0, T, [1e24], [1])
    exact = an.blocking_cell_impedance(spec.frequency, length, 10.0, sigma, ld)  # area 1 m²
    assert np.max(np.abs(spec.z / exact - 1)) < 1e-3
    assert np.all(spec.z.imag < 0)


def test_blocking_cell_round_trip_through_eis_fit_auto(blocking_csv, capsys):
    """`iondyn eis fit --auto` returns the bulk resistance L/σ and the layer capacitance
    ε/(2 L_D) within 2 % (issue 6, round trips)."""
    doc = _json(capsys, ["eis", "fit", str(blocking_csv), "--auto", "--json"])
    (res,) = doc["results"]
    assert res["quality"]["converged"] is True
    length = load_config(EXAMPLES / "blocking_cell.toml").device.phases[0].length_m
    sigma = an.nernst_einstein_conductivity(1e-12, 1e24, T)
    ld = an.debye_length(10.0, T, [1e24], [1])
    processes = res["processes"]
    electrode = [p for p in processes if "electrode" in (p.get("label") or "")]
    assert len(electrode) == 1
    # the resistances of everything but the electrode add up to the bulk resistance
    r_bulk = sum(p["R_ohm"] or 0.0 for p in processes if p is not electrode[0])
    assert r_bulk == pytest.approx(length / sigma, rel=0.02)
    assert electrode[0]["C_F"] == pytest.approx(EPS0 * 10.0 / (2 * ld), rel=0.02)


def test_space_charge_tsdc_needs_no_numpy_2_function(monkeypatch):
    """pyproject.toml allows NumPy ≥ 1.26, which has no ``np.trapezoid``: the space-charge TSDC
    once called it and failed there (found by running bench_physics.py with NumPy 1.26)."""
    from iondyn.physics import PNPModel

    monkeypatch.delattr(np, "trapezoid", raising=False)
    cfg = load_config(EXAMPLES / "llzo_tsdc.toml")
    res = PNPModel(cfg.device, max_bias_V=1e-3).tsdc(1e-3, 250.0, 5 / 60)
    assert res.released_charge_C_per_m2 == pytest.approx(res.poled_charge_C_per_m2, rel=1e-2)


def _devices():
    from iondyn.physics import Contact, Device, Phase, Reaction, Species

    c, d, eps = 1e24, 1e-12, 10.0
    ld = an.debye_length(eps, T, [c], [1])
    li = Species("V", 1, c, diffusivity_m2_s=d, activation_energy_eV=0.4)
    ph = Phase("A", eps, (li, Species("B", -1, c, mobile=False)), length_m=50 * ld)
    bv = Contact("butler-volmer", species=("V",), exchange_current_A_m2=1.0)
    bv_stern = Contact(
        "butler-volmer", species=("V",), exchange_current_A_m2=1.0, stern_capacitance_F_m2=0.5
    )
    sat = Species("V", 1, c, diffusivity_m2_s=d, c_max_m3=4 * c)
    ph2 = Phase("A", eps, (sat, Species("I", -1, c, diffusivity_m2_s=d)), length_m=100 * ld)
    pa = Phase(
        "A",
        eps,
        (Species("M", 1, c, diffusivity_m2_s=d), Species("X", -1, c, mobile=False)),
        length_m=50 * ld,
    )
    pb = Phase(
        "B",
        3 * eps,
        (
            Species("M", 1, 0.1 * c, diffusivity_m2_s=d, mu0_eV=3 * VT),
            Species("X", -1, 0.1 * c, mobile=False),
        ),
        length_m=50 * ld,
    )
    return {
        "blocking, activated D": Device((ph,), T, Contact("blocking"), Contact("blocking")),
        "butler-volmer, stern": Device((ph,), T, bv, bv_stern),
        "generation-recombination, saturated": Device(
            (ph2,), T, Contact("blocking"), Contact("blocking"), (Reaction(("V", "I"), 1e-30),)
        ),
        "heterojunction, ohmic": Device((pa, pb), T, Contact("ohmic"), Contact("ohmic")),
    }


@pytest.mark.parametrize("name", list(_devices()))
def test_pnp_analytic_jacobian_matches_finite_differences(name):
    """The fully coupled Newton uses an analytic Jacobian (issue 6): checked column by column
    against central differences of the residual, away from equilibrium, under bias and (for the
    activated diffusivity) away from the reference temperature."""
    from iondyn.physics import PNPModel

    model = PNPModel(_devices()[name], max_bias_V=4 * VT)
    system = model.system
    rng = np.random.default_rng(0)
    u = model.equilibrium()
    u = u * (1 + 1e-2 * rng.standard_normal(u.size)) + 1e-3 * rng.standard_normal(u.size)
    args = (0.03, -0.01, 320.0)
    _, jac = system.evaluate(u, *args)
    jac = jac.toarray()
    for j in rng.choice(u.size, 60, replace=False):
        h = 1e-6 * max(abs(u[j]), 1e-3)
        up, um = u.copy(), u.copy()
        up[j] += h
        um[j] -= h
        fd = (system.evaluate(up, *args)[0] - system.evaluate(um, *args)[0]) / (2 * h)
        scale = np.max(np.abs(fd)) + np.max(np.abs(jac[:, j]))
        assert np.max(np.abs(fd - jac[:, j])) <= 1e-6 * scale, (name, j)


def test_transient_steps_adapt_to_the_relaxation():
    """Implicit time stepping with adaptive steps (issue 6): after a 4 kT/e step the first steps
    resolve the fast transient, later ones grow by orders of magnitude towards equilibrium."""
    from iondyn.physics import Contact, Device, Phase, PNPModel, Species

    c, d, eps = 1e24, 1e-12, 10.0
    ld = an.debye_length(eps, T, [c], [1])
    ph = Phase(
        "A",
        eps,
        (Species("V", 1, c, diffusivity_m2_s=d), Species("B", -1, c, mobile=False)),
        length_m=50 * ld,
    )
    model = PNPModel(Device((ph,), T, Contact("blocking"), Contact("blocking")), max_bias_V=4 * VT)
    tau_rc = EPS0 * eps / an.nernst_einstein_conductivity(d, c, T) * 50 / 2
    run = model.transient(40 * tau_rc, voltage_V=4 * VT)
    dt = np.diff(run.time_s)
    assert run.time_s[-1] == pytest.approx(40 * tau_rc, rel=1e-9)
    assert dt.min() < 1e-3 * tau_rc and dt.max() > 0.3 * tau_rc
    assert run.n_steps < 200  # a fixed step of dt.min() would need > 10⁴
    assert abs(run.current_A_per_m2[-1]) < 1e-6 * abs(run.current_A_per_m2[1])
