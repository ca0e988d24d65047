"""``iondyn eis kk`` and ``iondyn eis drt`` through ``iondyn.cli.main``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from iondyn.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "eis"
F = np.logspace(6, -2, 81)
W = 2 * np.pi * F


def write_spectrum(path: Path, z: np.ndarray) -> Path:
    """Headerless three-column CSV: f / Hz, Z' / Ω, Z'' / Ω (Z'' < 0 capacitive)."""
    np.savetxt(path, np.column_stack([F, z.real, z.imag]), delimiter=",", fmt="%.10g")
    return path


def blocking_cell(seed: int = 0) -> np.ndarray:
    z = 10 + 1000 / (1 + (1j * W * 1e-5) ** 0.9) + 3000 / (1 + (1j * W * 1e-2) ** 0.9)
    z = z + 1 / (1j * W * 1e-5)
    rng = np.random.default_rng(seed)
    return z + 0.002 * np.abs(z) * (rng.standard_normal(F.size) + 1j * rng.standard_normal(F.size))


def run_json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_kk_json_contract(tmp_path, capsys):
    path = write_spectrum(tmp_path / "cell.csv", blocking_cell())
    code, doc = run_json(capsys, ["eis", "kk", str(path), "--series-capacitance", "--json"])
    assert code == 0
    assert doc["errors"] == []
    (res,) = doc["results"]
    for key in ("source", "spectrum", "n_rc", "mu", "residual_real_max", "residual_imag_max"):
        assert key in res
    assert res["valid"] is True
    assert res["source"] == str(path) and res["spectrum"] == 0
    assert 0.0005 < res["noise_estimate"] < 0.005  # 0.2 % noise was added
    assert res["residual_real_max"] < 0.02


def test_kk_flags_missing_series_capacitance_and_can_fail_the_exit_code(tmp_path, capsys):
    path = write_spectrum(tmp_path / "cell.csv", blocking_cell())
    code, doc = run_json(capsys, ["eis", "kk", str(path), "--json"])
    assert code == 0 and doc["results"][0]["valid"] is False
    assert main(["eis", "kk", str(path), "--fail-invalid"]) == 1
    text = capsys.readouterr().out
    assert "INVALID" in text and "warning:" in text


def test_kk_text_and_plot(tmp_path, capsys):
    path = write_spectrum(tmp_path / "cell.csv", blocking_cell())
    png = tmp_path / "kk.png"
    assert main(["eis", "kk", str(path), "--series-capacitance", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "plot written" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_drt_json_contract_and_peaks(tmp_path, capsys):
    path = write_spectrum(tmp_path / "cell.csv", blocking_cell())
    code, doc = run_json(
        capsys, ["eis", "drt", str(path), "--series-capacitance", "--inductance", "--json"]
    )
    assert code == 0
    (res,) = doc["results"]
    for key in ("source", "spectrum", "tau_s", "gamma_ohm", "R_inf_ohm", "L_H", "C_series_F"):
        assert key in res
    assert "lambda" in res and res["lambda"] > 0
    assert len(res["tau_s"]) == len(res["gamma_ohm"])
    assert res["C_series_F"] == pytest.approx(1e-5, rel=0.02)
    taus = sorted(p["tau_s"] for p in res["peaks"] if p["R_ohm"] > 200)
    assert taus[0] == pytest.approx(1e-5, rel=0.1) and taus[-1] == pytest.approx(1e-2, rel=0.1)


def test_drt_fixed_lambda_plot_and_csv(tmp_path, capsys):
    path = write_spectrum(tmp_path / "cell.csv", blocking_cell())
    png, csv = tmp_path / "drt.png", tmp_path / "gamma.csv"
    argv = ["eis", "drt", str(path), "--series-capacitance", "--lambda", "1e-3"]
    assert main([*argv, "--plot", str(png), "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "λ = 0.001 (fixed)" in out and "C_s = " in out
    assert png.read_bytes()[:4] == b"\x89PNG"
    table = np.genfromtxt(csv, delimiter=",", names=True, dtype=None, encoding="utf-8")
    assert table["gamma_ohm"].max() > 100 and np.all(table["gamma_ohm"] >= 0)


def test_drt_without_series_capacitance_warns_about_the_phantom(tmp_path, capsys):
    path = write_spectrum(tmp_path / "cell.csv", blocking_cell())
    code, doc = run_json(capsys, ["eis", "drt", str(path), "--json"])
    assert code == 0
    res = doc["results"][0]
    assert max(p["R_ohm"] for p in res["peaks"]) > 1e5  # the electrode as a 'process'
    assert any("--series-capacitance" in w for w in res["warnings"])


@pytest.mark.parametrize("value", ["0", "-1e-3", "abc"])
def test_drt_rejects_bad_lambda(tmp_path, capsys, value):
    path = write_spectrum(tmp_path / "cell.csv", blocking_cell())
    with pytest.raises(SystemExit) as exc:
        main(["eis", "drt", str(path), f"--lambda={value}"])
    assert exc.value.code == 2
    assert "--lambda" in capsys.readouterr().err


def test_missing_file_and_too_short_spectrum_are_errors(tmp_path, capsys):
    short = tmp_path / "short.csv"
    np.savetxt(short, np.column_stack([F[:4], 10 + 0 * F[:4], -F[:4]]), delimiter=",")
    good = write_spectrum(tmp_path / "cell.csv", blocking_cell())
    code, doc = run_json(
        capsys, ["eis", "drt", str(tmp_path / "nope.csv"), str(short), str(good), "--json"]
    )
    assert code == 2
    assert len(doc["results"]) == 1  # the good file is still analysed
    messages = [e["message"] for e in doc["errors"]]
    assert any("nope.csv" in m for m in messages)
    assert any("short.csv" in m and "at least 5" in m for m in messages)
    code = main(["eis", "kk", str(short)])
    err = capsys.readouterr().err
    assert code == 2 and "short.csv" in err and "too few points" in err


def test_real_multi_format_files(capsys):
    """Real files (impedance.py examples, MIT; see tests/data/eis/NOTICE.md)."""
    files = [str(DATA / "exampleDataBioLogic.mpt"), str(DATA / "exampleData.csv")]
    code, doc = run_json(capsys, ["eis", "kk", *files, "--json"])
    assert code == 0 and len(doc["results"]) == 2
    code, doc = run_json(capsys, ["eis", "drt", *files, "--inductance", "--json"])
    assert code == 0 and len(doc["results"]) == 2
    for res in doc["results"]:
        assert res["R_pol_ohm"] > 0 and len(res["peaks"]) >= 1


def strict_json(text: str) -> dict:
    """json.loads that refuses NaN and ±Infinity (not JSON)."""

    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def nonsense_files(tmp_path: Path) -> dict[str, Path]:
    """Fuzzed inputs: all-negative Re Z, Z″ written as Z′ (columns swapped), a constant."""
    z = blocking_cell()
    cases = {
        "negative": np.column_stack([F, -np.abs(z.real), z.imag]),
        "swapped": np.column_stack([F, z.imag, z.real]),
        "constant": np.column_stack([F, np.full(F.size, 100.0), np.zeros(F.size)]),
    }
    paths = {}
    for name, table in cases.items():
        paths[name] = tmp_path / f"{name}.csv"
        np.savetxt(paths[name], table, delimiter=",", fmt="%.10g")
    return paths


@pytest.mark.parametrize("case", ["negative", "swapped"])
@pytest.mark.parametrize("command", ["kk", "drt"])
def test_nonsense_data_is_a_clean_data_error(tmp_path, capsys, case, command):
    path = nonsense_files(tmp_path)[case]
    code = main(["eis", command, str(path), "--json"])
    captured = capsys.readouterr()
    doc = strict_json(captured.out)
    assert code == 2 and doc["results"] == []
    (err,) = doc["errors"]
    assert err["type"] == "DataError" and "\n" not in err["message"]
    assert err["message"].startswith(str(path)) and "Re Z ≤ 0 at 81 of 81" in err["message"]
    assert "swapped" in err["message"]
    assert captured.err.count("iondyn: error:") == 1


def test_constant_curve_gives_numbers_and_a_warning(tmp_path, capsys):
    path = nonsense_files(tmp_path)["constant"]
    code = main(["eis", "kk", str(path), "--json"])
    doc = strict_json(capsys.readouterr().out)
    assert code == 0 and doc["errors"] == []
    (res,) = doc["results"]
    for key in ("mu", "noise_estimate", "residual_real_max", "residual_imag_max", "R0_ohm"):
        assert isinstance(res[key], float), key
    assert -1e6 < res["mu"] <= 1.0
    assert res["valid"] is True and res["R0_ohm"] == pytest.approx(100.0)
    assert all(isinstance(c["statistic"], float) for c in res["checks"])
    assert any("same at every frequency" in w for w in res["warnings"])
    assert res["outliers"] == []


def test_drt_text_lists_the_arc_of_overlapping_peaks(capsys):
    path = DATA / "PEIS_LPSCl_IonBlocking_-25C.txt"
    assert main(["eis", "drt", str(path), "--series-capacitance"]) == 0
    out = capsys.readouterr().out
    assert "overlapping peaks form one arc" in out and "τ_arc (s)" in out
    code, doc = run_json(capsys, ["eis", "drt", str(path), "--series-capacitance", "--json"])
    (res,) = doc["results"]
    assert res["settings"]["penalty_scale"] == "local"
    arcs = [a for a in res["arcs"] if a["tau_s"] < 1e-5]
    assert max(a["R_ohm"] for a in arcs) > 1100 and res["R_inf_ohm"] > 50
    code, doc = run_json(capsys, ["eis", "kk", str(path), "--series-capacitance", "--json"])
    assert code == 0
    (kk,) = doc["results"]
    assert kk["valid"] is True and len(kk["outliers"]) == 1
    assert {"index", "frequency_Hz", "residual_real", "residual_imag", "z_score"} <= set(
        kk["outliers"][0]
    )
