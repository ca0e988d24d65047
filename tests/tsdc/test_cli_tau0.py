"""``iondyn tsdc fit --tau0 | --frequency-factor | --shared-tau0`` and their usage errors."""

import json

import pytest

from iondyn.cli import main

SIM = [
    "tsdc",
    "simulate",
    "--peak",
    "0.6:1e-13:1",
    "--peak",
    "0.9:1e-13:1",
    "--beta",
    "0.1",
    "--tmin",
    "150",
    "--tmax",
    "400",
    "--noise",
    "0.01",
    "--seed",
    "4",
]


@pytest.fixture(scope="module")
def two_peaks(tmp_path_factory):
    out = tmp_path_factory.mktemp("tsdc_tau0") / "two.csv"
    assert main([*SIM, "--out", str(out)]) == 0
    return str(out)


def _fit_json(capsys, path, *options):
    capsys.readouterr()
    assert main(["tsdc", "fit", path, "--n-peaks", "2", "--no-width-test", "--json", *options]) == 0
    (r,) = json.loads(capsys.readouterr().out)["results"]
    return r


def test_tau0_option_fixes_every_peak(two_peaks, capsys):
    r = _fit_json(capsys, two_peaks, "--tau0", "1e-13")
    assert r["tau0"] == {"mode": "fixed", "tau0_s": [1e-13, 1e-13], "fixed_peaks": [1, 2]}
    for p, ea in zip(r["peaks"], (0.6, 0.9)):
        assert p["tau0_status"] == "fixed" and p["tau0_s_err"] == 0.0
        assert p["Ea_eV"] == pytest.approx(ea, abs=0.005)
        # the existing keys are all still there
        for key in ("Ea_eV_err", "tau0_s", "Tm_K", "P0", "ln_tau0", "corr_Ea_ln_tau0", "methods"):
            assert key in p
    assert r["quality"]["n_params"] == 4


def test_frequency_factor_per_peak_with_a_free_one(two_peaks, capsys):
    r = _fit_json(capsys, two_peaks, "--frequency-factor", "1e13,free")
    assert [p["tau0_status"] for p in r["peaks"]] == ["fixed", "free"]
    assert r["peaks"][0]["frequency_factor_per_s"] == pytest.approx(1e13)
    assert r["peaks"][1]["ln_tau0_err"] > 0


def test_shared_tau0_json_and_text(two_peaks, capsys):
    r = _fit_json(capsys, two_peaks, "--shared-tau0")
    t = r["tau0"]
    assert t["mode"] == "shared" and t["shared_peaks"] == [1, 2]
    assert abs(t["ln_tau0"] - (-29.933606)) < 3 * t["ln_tau0_err"]  # ln 1e-13
    assert {p["tau0_s"] for p in r["peaks"]} == {t["tau0_s"]}
    capsys.readouterr()
    assert main(["tsdc", "fit", two_peaks, "--n-peaks", "2", "--shared-tau0"]) == 0
    out = capsys.readouterr().out
    assert "shared" in out and "one τ0 shared by all peaks" in out
    assert main(["tsdc", "fit", two_peaks, "--n-peaks", "2", "--tau0", "1e-13"]) == 0
    assert "(fixed)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "options",
    [
        ["--tau0", "1e-13", "--shared-tau0"],
        ["--tau0", "1e-13", "--frequency-factor", "1e13"],
        ["--frequency-factor", "1e13", "--shared-tau0"],
    ],
)
def test_options_exclude_each_other(two_peaks, capsys, options):
    with pytest.raises(SystemExit) as exc:
        main(["tsdc", "fit", two_peaks, *options])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--tau0", "-1"], "--tau0 takes positive numbers or 'free', not '-1'"),
        (["--tau0", "abc"], "--tau0 takes positive numbers or 'free'"),
        (["--frequency-factor", "0"], "--frequency-factor takes positive numbers"),
        (["--tau0", "free"], "leaves nothing fixed"),
        (["--tau0", "1e-13", "--kinetics", "general"], "kinetics 'first' or 'gaussian'"),
        (["--tau0", "1e-13,1e-13", "--n-peaks", "3"], "2 τ0 values given for n_peaks = 3"),
    ],
)
def test_bad_values_give_one_line_and_exit_2(two_peaks, capsys, options, message):
    capsys.readouterr()
    code = main(["tsdc", "fit", two_peaks, *options])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
