"""``iondyn tsdc fit | methods | simulate`` end to end, and the real curve OHA_1."""

import json

import numpy as np
import pytest

from iondyn.cli import main
from iondyn.demo import tsdc_step
from iondyn.io.tsdc import read_tsdc
from iondyn.tsdc import TSDCFitter

OHA = "tests/data/tsdc/OHA_1.csv"


def _json(capsys):
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def t1_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("tsdc") / "t1.csv"
    code = main(
        [
            "tsdc",
            "simulate",
            "--peak",
            "0.5:1e-13:2.5",
            "--beta-per-min",
            "5",
            "--tmin",
            "100",
            "--tmax",
            "260",
            "--step",
            "0.2",
            "--current-unit",
            "nA",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out


def test_simulate_then_fit_json_contract(t1_file, capsys, tmp_path):
    capsys.readouterr()
    png = tmp_path / "fit.png"
    code = main(["tsdc", "fit", str(t1_file), "--json", "--plot", str(png)])
    assert code == 0
    doc = _json(capsys)
    (r,) = doc["results"]
    assert r["source"] == str(t1_file) and r["n_peaks"] == 1
    (p,) = r["peaks"]
    for key in ("id", "Ea_eV", "Ea_eV_err", "tau0_s", "tau0_s_err", "Tm_K", "P0", "P0_err"):
        assert key in p
    assert p["Ea_eV"] == pytest.approx(0.5, abs=1e-4)
    assert p["tau0_s"] == pytest.approx(1e-13, rel=1e-2)
    assert p["Tm_K"] == pytest.approx(170.50, abs=0.02)
    assert p["P0"] == pytest.approx(2.5, rel=1e-4)  # nA × s = nC
    assert r["charge_unit"] == "nC" and r["beta_K_per_s"] == pytest.approx(5 / 60)
    q = r["quality"]
    assert set(q) >= {"r2", "chi2_reduced", "bic", "converged"} and q["converged"] is True
    assert isinstance(r["warnings"], list) and isinstance(r["background"], dict)
    assert png.stat().st_size > 10_000 and doc["plots"] == [str(png)]


def test_methods_json_contract(t1_file, capsys):
    capsys.readouterr()
    assert main(["tsdc", "methods", str(t1_file), "--beta-per-min", "5", "--json"]) == 0
    doc = _json(capsys)
    ir, bf = doc["initial_rise"], doc["bucci_fieschi"]
    assert ir["Ea_eV"] == pytest.approx(0.4985, abs=5e-4)
    assert bf["Ea_eV"] == pytest.approx(0.500, abs=0.001)
    assert bf["tau0_s"] == pytest.approx(1e-13, rel=0.02)
    assert len(ir["T_range_K"]) == 2 and len(bf["T_range_K"]) == 2


def test_methods_heating_rate_and_distribution(tmp_path, capsys):
    files = []
    for rate in ("2", "5", "10"):
        out = tmp_path / f"r{rate}.csv"
        args = ["tsdc", "simulate", "--peak", "0.5:1e-13:1:0.03", "--beta-per-min", rate]
        assert main([*args, "--tmin", "100", "--tmax", "280", "--out", str(out)]) == 0
        files.append(str(out))
    capsys.readouterr()
    code = main(["tsdc", "methods", *files, "--beta-per-min", "2,5,10", "--json"])
    assert code == 0
    doc = _json(capsys)
    assert len(doc["results"]) == 3 and doc["heating_rate"]["Ea_eV"] > 0.3
    assert main(["tsdc", "fit", *files, "--n-peaks", "1", "--json"]) == 0
    fit_doc = _json(capsys)
    (hr,) = fit_doc["heating_rate"]
    assert hr["peak_id"] == 1 and len(hr["Tm_K"]) == 3
    assert main(["tsdc", "methods", files[1], "--beta-per-min", "5", "--distribution"]) == 0
    text = capsys.readouterr().out
    assert "g(Ea):" in text and "mean 0.50" in text


def test_text_output_shows_methods_side_by_side(t1_file, capsys):
    capsys.readouterr()
    assert main(["tsdc", "fit", str(t1_file), "--n-peaks", "1"]) == 0
    out = capsys.readouterr().out
    assert "Ea IR" in out and "Ea BF" in out and "0.5000" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--beta", "-0.1"], "heating rate must be positive"),
        (["--beta", "0"], "heating rate must be positive"),
        (["--n-peaks", "9", "--beta", "0.1"], "need at least"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(tmp_path, capsys, args, message):
    f = tmp_path / "short.csv"
    f.write_text(
        "T [K],I [A]\n"
        + "".join(f"{300 + i},{np.exp(-((i - 9) ** 2) / 8):.5f}\n" for i in range(20))
    )
    code = main(["tsdc", "fit", str(f), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_file_without_heating_rate_is_refused(capsys):
    assert main(["tsdc", "fit", OHA]) == 2
    assert "no heating rate" in capsys.readouterr().err


def test_real_curve_auto_decomposition_is_good_and_deterministic(tmp_path):
    curve = read_tsdc(OHA, beta=5.0 / 60.0)
    # first order (the default): deterministic, and the main peak flagged as too broad
    a = TSDCFitter().fit(curve)[0]
    b = TSDCFitter().fit(curve)[0]
    assert a.to_dict() == b.to_dict()
    assert any("wider than first-order" in w for w in a.warnings)
    # the demo's distributed-Ea decomposition reaches R² ≥ 0.995
    step = tsdc_step(tmp_path)
    assert step.data["r2"] >= 0.995 and step.data["n_peaks"] >= 2
    assert step.data["r2"] > step.data["r2_authors"]  # the file's own 4-component fit: 0.982
    doc = json.loads((tmp_path / "tsdc_OHA_1_fit.json").read_text())
    main_peak = doc["results"][0]["peaks"][0]
    assert 370.0 < main_peak["Tm_K"] < 390.0  # the authors' model_1 peaks at 107 °C = 380 K
    assert (tmp_path / "tsdc_OHA_1_fit.png").stat().st_size > 10_000
