"""TOML device files and the refusal of bad input (clear errors, never a silent wrong profile)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iondyn.constants import thermal_voltage
from iondyn.errors import ConfigError, InputError, SolverError
from iondyn.physics import (
    Contact,
    Device,
    Phase,
    PNPModel,
    SpaceChargeSolver,
    Species,
    load_config,
)

T = 298.15
VT = thermal_voltage(T)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "physics"

GOOD = """
temperature_K = 298.15
[material]
name = "LLZO"
eps_r = 60.0
length_m = 1e-6
[[species]]
name = "Li"
charge = 1
c_bulk_m3 = 1e24
c_max_m3 = 1e28
diffusivity_m2_s = 1e-12
activation_energy_eV = 0.4
[[species]]
name = "B"
charge = -1
c_bulk_m3 = 1e24
mobile = false
[boundary.left]
type = "blocking"
potential_V = 0.05
[boundary.right]
type = "blocking"
[solver]
resolution = 0.08
"""


def write(tmp_path: Path, text: str, name: str = "dev.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_config_round_trip(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    dev = cfg.device
    assert dev.temperature_K == 298.15
    (ph,) = dev.phases
    assert ph.eps_r == 60.0 and ph.length_m == 1e-6
    li = ph.species_named("Li")
    assert li.c_max_m3 == 1e28 and li.saturated and li.activation_energy_eV == 0.4
    assert not ph.species_named("B").mobile
    assert dev.left.kind == "blocking" and dev.left.potential_V == 0.05
    assert dev.right.kind == "blocking"
    assert cfg.solver == {"resolution": 0.08}


def test_flat_boundary_is_a_half_space(tmp_path):
    text = GOOD.split("[boundary.left]")[0] + '[boundary]\ntype = "blocking"\npotential_V = 0.1\n'
    dev = load_config(write(tmp_path, text)).device
    assert dev.left.potential_V == 0.1 and dev.right.kind == "bulk"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.stem)
def test_example_configs_solve(path):
    cfg = load_config(path)
    res = SpaceChargeSolver().solve(cfg.device)
    assert res.converged and np.all(np.isfinite(res.phi_V))


def test_flat_profile_needs_no_refinement():
    # the mixed conductor between electron-reversible contacts is electroneutral at equilibrium
    # (|ρ| is round-off): no node is "charged", so the first mesh is kept
    res = SpaceChargeSolver().solve(load_config(EXAMPLES / "mixed_conductor.toml").device)
    assert res.mesh["refinements"] == 0
    assert res.mesh["n_nodes"] < 2000
    assert not any("refined" in w for w in res.warnings)
    assert np.max(np.abs(res.phi_V)) < 1e-9


def test_max_nodes_error_names_the_file_and_the_key(tmp_path, capsys):
    from iondyn.cli import main

    text = GOOD.replace("resolution = 0.08", "resolution = 0.08\nmax_nodes = 50")
    path = write(tmp_path, text.replace("potential_V = 0.05", "potential_V = 1.0"))
    assert load_config(path).solver["max_nodes"] == 50
    assert main(["simulate", "scl", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(path) in err and "max_nodes = 50" in err and "[solver] max_nodes" in err


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("c_bulk_m3 = 1e24\nmobile = false", "c_bulk_m3 = 2e24\nmobile = false"), "not electro"),
        (("c_bulk_m3 = 1e24\nc_max", "c_bulk_m3 = -1e24\nc_max"), "negative"),
        (("c_max_m3 = 1e28", "c_max_m3 = 1e24"), "below the site density"),
        (("eps_r = 60.0", "eps_r = 0.0"), "eps_r must be positive"),
        (("eps_r = 60.0", "eps_r = 60.0\ncolour = 1"), "unknown key 'colour'"),
        (("length_m = 1e-6", "length_um = 1.0"), "unknown key 'length_um'"),
        (('type = "blocking"\npotential_V', 'type = "sticky"\npotential_V'), "sticky"),
        (("charge = 1\n", 'charge = "one"\n'), "expected a number"),
        (("temperature_K = 298.15", ""), "temperature_K is required"),
        (('[[species]]\nname = "Li"', '[[species]]\nnom = "Li"'), "unknown key 'nom'"),
    ],
)
def test_bad_configs_are_refused_with_the_file_name(tmp_path, edit, message):
    old, new = edit
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert message in str(exc.value)
    assert str(path) in str(exc.value)


def test_unreadable_and_invalid_toml(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[material\neps_r = 1"))


def test_species_and_phase_validation():
    with pytest.raises(InputError, match="negative"):
        Species("V", 1, -1.0)
    with pytest.raises(InputError, match="below the site density"):
        Species("V", 1, 2e24, c_max_m3=1e24)
    with pytest.raises(InputError, match="not electroneutral"):
        Phase("A", 10.0, (Species("V", 1, 1e24), Species("X", -1, 0.5e24)))
    with pytest.raises(InputError, match="eps_r"):
        Phase("A", 0.0, (Species("V", 1, 1e24), Species("X", -1, 1e24)))
    with pytest.raises(InputError, match="charges 1 and 1 do not cancel"):
        from iondyn.physics import Reaction

        ph = Phase(
            "A", 10.0, (Species("V", 1, 1e24), Species("W", 1, 1e24), Species("X", -2, 1e24))
        )
        Device((ph,), T, reactions=(Reaction(("V", "W"), 1e-20),))


def _carrier(phi0: float) -> Device:
    ph = Phase("A", 10.0, (Species("V", 1, 1e24), Species("B", -1, 1e24, mobile=False)))
    return Device((ph,), T, Contact("blocking", phi0), Contact("bulk"))


def test_coarse_mesh_is_refined_automatically_and_reported():
    res = SpaceChargeSolver(h_min_m=1e-9).solve(_carrier(-10 * VT))  # L_D ≈ 3.8 nm
    assert res.mesh["refinements"] >= 1
    assert any("refined automatically" in w for w in res.warnings)
    exact = __import__("iondyn.physics.analytic", fromlist=["x"]).mott_schottky_charge(
        -10 * VT, 10.0, T, 1e24
    )
    assert res.charge_C_per_m2 == pytest.approx(exact, rel=2e-3)


def test_unresolvable_mesh_says_so():
    res = SpaceChargeSolver(h_min_m=1e-9, max_refinements=0).solve(_carrier(-10 * VT))
    assert any("does not resolve" in w for w in res.warnings)
    with pytest.raises(SolverError, match="nodes"):
        SpaceChargeSolver(max_nodes=50).solve(_carrier(-10 * VT))


def test_newton_failure_raises_with_residual():
    with pytest.raises(SolverError, match="residual"):
        SpaceChargeSolver(max_iter=2, continuation_step=40.0).solve(_carrier(30 * VT))


def test_transport_needs_lengths_diffusivities_and_an_electrode():
    ph = Phase("A", 10.0, (Species("V", 1, 1e24), Species("B", -1, 1e24, mobile=False)))
    with pytest.raises(InputError, match="length_m"):
        PNPModel(Device((ph,), T, Contact("blocking"), Contact("blocking")))
    ph = Phase(
        "A", 10.0, (Species("V", 1, 1e24), Species("B", -1, 1e24, mobile=False)), length_m=1e-7
    )
    with pytest.raises(InputError, match="diffusivity"):
        PNPModel(Device((ph,), T, Contact("blocking"), Contact("blocking")))
    with pytest.raises(InputError, match="electrode"):
        PNPModel(Device((ph,), T, Contact("bulk"), Contact("bulk")))


def test_inconsistent_junction_is_refused():
    pa = Phase("A", 10.0, (Species("M", 1, 1e24), Species("X", -1, 1e24)))
    pb = Phase("B", 10.0, (Species("M", 1, 1e23), Species("X", -1, 1e23)))
    dev = Device((pa, pb), T, Contact("bulk"), Contact("bulk"))
    with pytest.raises(InputError, match="different built-in potentials"):
        SpaceChargeSolver().solve(dev)
