"""``iondyn simulate …`` through iondyn.cli.main (JSON contract, CSV files, errors)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from iondyn.cli import main
from iondyn.constants import EPS0, thermal_voltage
from iondyn.io.tsdc import read_tsdc
from iondyn.physics import analytic as an
from iondyn.physics import load_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "physics"
T = 298.15
VT = thermal_voltage(T)


def run_json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_scl_json_contract(capsys):
    doc = run_json(capsys, ["simulate", "scl", str(EXAMPLES / "gouy_chapman.toml"), "--json"])
    for key in ("x_m", "phi_V", "conc_m3", "charge_C_per_m2", "capacitance_F_per_m2"):
        assert key in doc
    assert set(doc["conc_m3"]) == {"cation", "anion"}
    assert len(doc["x_m"]) == len(doc["phi_V"]) == len(doc["conc_m3"]["cation"])
    assert doc["phi_V"][0] == pytest.approx(0.1)
    assert doc["charge_C_per_m2"] == pytest.approx(an.grahame_charge(0.1, 10.0, T, 1e24), rel=1e-3)
    assert doc["debye_length_m"] == pytest.approx(an.debye_length(10.0, T, [1e24, 1e24], [1, -1]))


def test_scl_text_and_profile_csv(capsys, tmp_path):
    out = tmp_path / "profile.csv"
    assert main(["simulate", "scl", str(EXAMPLES / "heterojunction.toml"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "A|B" in text and "kT/e" in text
    df = pd.read_csv(out, comment="#")
    assert list(df.columns) == ["x_m", "phi_V", "c_M_m3", "c_X_A_m3", "c_X_B_m3"]
    assert np.all(np.diff(df["x_m"]) > 0)


def test_impedance_json_and_csv_for_the_analysis_readers(capsys, tmp_path):
    out = tmp_path / "z.csv"
    doc = run_json(
        capsys,
        [
            "simulate",
            "impedance",
            str(EXAMPLES / "blocking_cell.toml"),
            "--fmin",
            "1e3",
            "--fmax",
            "1e9",
            "--points-per-decade",
            "10",
            "--area-m2",
            "1e-4",
            "--out",
            str(out),
            "--json",
        ],
    )
    f = np.asarray(doc["frequency_Hz"])
    z = np.asarray(doc["z_real_ohm_m2"]) + 1j * np.asarray(doc["z_imag_ohm_m2"])
    assert f.size == 61 and f[0] == pytest.approx(1e9) and f[-1] == pytest.approx(1e3)
    # the closed form of the same cell (one carrier 1e24 m⁻³, D = 1e-12 m²/s, ε_r = 10)
    length = load_config(EXAMPLES / "blocking_cell.toml").device.phases[0].length_m
    sigma = an.nernst_einstein_conductivity(1e-12, 1e24, T)
    ld = an.debye_length(10.0, T, [1e24], [1])
    exact = an.blocking_cell_impedance(f, length, 10.0, sigma, ld)
    assert np.max(np.abs(z / exact - 1)) < 1e-3
    df = pd.read_csv(out, comment="#")
    assert list(df.columns) == ["frequency_Hz", "z_real_ohm", "z_imag_ohm"]
    np.testing.assert_allclose(df["z_real_ohm"], z.real / 1e-4, rtol=1e-8)
    assert np.all(df["z_imag_ohm"] < 0)  # physics convention
    assert out.read_text().startswith("# iondyn simulate impedance")
    assert doc["area_m2"] == 1e-4 and EPS0 > 0


def test_iv_json(capsys):
    doc = run_json(
        capsys,
        [
            "simulate",
            "iv",
            str(EXAMPLES / "bipolar_junction.toml"),
            "--vmin",
            str(-3 * VT),
            "--vmax",
            str(3 * VT),
            "--points",
            "3",
            "--json",
        ],
    )
    j = doc["current_A_per_m2"]
    assert doc["voltage_V"] == pytest.approx([-3 * VT, 0.0, 3 * VT])
    assert j[1] == pytest.approx(0.0, abs=1e-6 * abs(j[2]))
    assert abs(j[2] / j[0]) == pytest.approx(np.exp(3.0), rel=3e-2)


def test_tsdc_json_csv_and_round_trip_through_tsdc_fit(capsys, tmp_path):
    """An LLZO-like pellet (Ea = 0.40 eV, closed-form peak ≈ 181 K at 5 K/min): the simulated
    curve peaks near the prediction, the file written by --out states its heating rate so
    `iondyn tsdc fit` needs no --beta, and the fitted Ea equals the conduction Ea within
    0.03 eV (issue 6, round trips)."""
    out = tmp_path / "tsdc.csv"
    doc = run_json(
        capsys,
        [
            "simulate",
            "tsdc",
            str(EXAMPLES / "llzo_tsdc.toml"),
            "--pole-V",
            "0.001",
            "--pole-T-K",
            "250",
            "--beta-per-min",
            "5",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert doc["peak_temperature_K"] == pytest.approx(doc["predicted_peak_temperature_K"], abs=0.3)
    assert doc["beta_K_per_s"] == pytest.approx(5 / 60)
    df = pd.read_csv(out, comment="#")
    assert list(df.columns) == ["temperature_K", "current_A_per_m2"]
    assert df["temperature_K"].is_monotonic_increasing
    tm = df["temperature_K"][df["current_A_per_m2"].idxmax()]
    assert tm == pytest.approx(doc["peak_temperature_K"], abs=0.5)
    assert doc["peak_temperature_K"] == pytest.approx(181.0, abs=2.0)
    # round trip: the analysis reader and `tsdc fit` take the file as it is
    curve = read_tsdc(out)
    assert curve.beta_K_per_s == pytest.approx(5 / 60, rel=1e-9)
    assert curve.current_unit == "A/m2"  # from the column name current_A_per_m2
    assert not any("not stated" in w for w in curve.metadata["warnings"])
    fit = run_json(capsys, ["tsdc", "fit", str(out), "--n-peaks", "auto", "--json"])
    (res,) = fit["results"]
    assert res["beta_K_per_s"] == pytest.approx(5 / 60, rel=1e-9)
    assert res["current_unit"] == "A/m2" and res["charge_unit"] == "C/m2"
    assert res["quality"]["r2"] > 0.999
    main_peak = max(res["peaks"], key=lambda p: p["P0"])
    assert main_peak["Ea_eV"] == pytest.approx(0.40, abs=0.03)
    assert main_peak["Tm_K"] == pytest.approx(doc["peak_temperature_K"], abs=0.5)


def test_errors_give_exit_code_2_and_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("temperature_K = 300\n[material]\neps_r = -1\n", encoding="utf-8")
    assert main(["simulate", "scl", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("iondyn: error:") and str(bad) in err and len(err.splitlines()) == 1
    # impedance of a half-space has no return electrode
    code = main(
        [
            "simulate",
            "impedance",
            str(EXAMPLES / "gouy_chapman.toml"),
            "--fmin",
            "1",
            "--fmax",
            "10",
        ]
    )
    assert code == 2
    assert "electrodes at both ends" in capsys.readouterr().err
    assert main(["simulate", "scl", str(tmp_path / "missing.toml"), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert "no such file" in doc["error"]["message"]
