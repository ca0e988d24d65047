"""Command-line pictures and printed numbers: `--plot` on `eis read`, `tsdc methods`,
`tsdc simulate` and every `simulate` command; numbers rounded by their errors, undetermined
values said, round-off printed as 0; errors that name the option and the file; a progress
rate that is not absurd."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iondyn.cli import main
from iondyn.cli.common import Progress
from iondyn.examples import example_path

ROOT = Path(__file__).resolve().parents[2]
PHYSICS = ROOT / "examples" / "physics"
DATA = ROOT / "tests" / "data"
PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path) -> bool:
    return Path(path).read_bytes()[:8] == PNG


def run(capsys, argv, code=0):
    assert main(argv) == code
    return capsys.readouterr()


def test_eis_read_plots_nyquist_and_bode_of_every_spectrum(capsys, tmp_path):
    files = [str(example_path("eis/exampleDataGamry.DTA")), str(DATA / "eis" / "exampleData.csv")]
    out = run(capsys, ["eis", "read", *files, "--plot", str(tmp_path / "raw.png"), "--json"]).out
    doc = json.loads(out)
    assert len(doc["spectra"]) == 2 and doc["errors"] == []
    assert doc["plots"] == [str(tmp_path / "raw_1.png"), str(tmp_path / "raw_2.png")]
    assert all(is_png(p) for p in doc["plots"])
    text = run(capsys, ["eis", "read", files[0], "--plot", str(tmp_path / "one.png")]).out
    assert f"plot written to {tmp_path / 'one.png'}" in text and is_png(tmp_path / "one.png")


def test_tsdc_methods_plots_and_names_the_missing_heating_rate(capsys, tmp_path):
    curve = str(example_path("tsdc/OHA_1.csv"))
    err = run(capsys, ["tsdc", "methods", curve], code=2).err
    assert err.strip() == (
        f"iondyn: error: {curve}: no heating rate: give --beta K/s or --beta-per-min K/min "
        "(the file states none)"
    )
    err = run(capsys, ["tsdc", "fit", curve], code=2).err
    assert "--beta K/s or --beta-per-min" in err and curve in err
    png = tmp_path / "methods.png"
    argv = ["tsdc", "methods", curve, "--beta-per-min", "5", "--distribution", "--json"]
    doc = json.loads(run(capsys, [*argv, "--plot", str(png)]).out)
    assert doc["plots"] == [str(png)] and is_png(png)
    assert {"initial_rise", "bucci_fieschi", "distribution", "Tm_K"} <= set(doc)  # keys kept


def test_tsdc_simulate_plots_the_curve(capsys, tmp_path):
    argv = ["tsdc", "simulate", "--peak", "0.5:1e-13:1", "--beta-per-min", "5"]
    argv += ["--tmin", "120", "--tmax", "220", "--out", str(tmp_path / "c.csv")]
    text = run(capsys, [*argv, "--plot", str(tmp_path / "c.png")]).out
    assert "plot written to" in text and is_png(tmp_path / "c.png")


@pytest.mark.parametrize(
    ("command", "config", "options"),
    [
        ("scl", "heterojunction.toml", []),
        ("impedance", "blocking_cell.toml", ["--fmin", "1", "--fmax", "1e5"]),
        ("iv", "blocking_cell.toml", ["--vmin", "-0.01", "--vmax", "0.01", "--points", "3"]),
        ("tsdc", "llzo_tsdc.toml", ["--pole-V", "0.001", "--pole-T-K", "250", "--beta", "0.1"]),
    ],
)
def test_every_simulate_command_plots(capsys, tmp_path, command, config, options):
    png = tmp_path / f"{command}.png"
    argv = ["simulate", command, str(PHYSICS / config), *options, "--plot", str(png)]
    doc = json.loads(run(capsys, [*argv, "--json"]).out)
    assert doc["plot"] == str(png) and is_png(png)
    png.unlink()
    assert f"plot written to {png}" in run(capsys, argv).out and is_png(png)


def test_simulate_errors_name_the_file_and_the_option(capsys, tmp_path):
    config = str(PHYSICS / "blocking_cell.toml")
    err = run(capsys, ["simulate", "iv", config, "--vmin", "1", "--vmax", "0"], code=2).err
    assert err.strip() == f"iondyn: error: {config}: --vmax must be larger than --vmin"
    err = run(capsys, ["simulate", "scl", config, "--plot", str(tmp_path / "no" / "x.png")], 2).err
    assert config in err and "x.png" in err and "cannot write" in err


def test_round_off_is_printed_as_zero(capsys):
    out = run(capsys, ["simulate", "scl", str(PHYSICS / "blocking_cell.toml")]).out
    table = out.split("interface", 1)[1].split("differential", 1)[0]
    assert "e-16" not in table and "e-14" not in table and " -0 " not in table + " "
    assert "0 V (0 kT/e)" in table


def test_undetermined_parameters_are_said_not_listed(capsys):
    gamry = str(example_path("eis/exampleDataGamry.DTA"))
    out = run(capsys, ["eis", "fit", gamry, "--auto"]).out
    r0 = next(line for line in out.splitlines() if line.strip().startswith("R0 "))
    assert "undetermined (± 40)" in r0 and "> 100 %" in r0
    r1 = next(line for line in out.splitlines() if line.strip().startswith("R1 "))
    assert "4113 ± 69" in r1 and "1.7 %" in r1
    assert "e+10 %" not in out and "e+01" not in r0


def test_the_first_progress_rate_is_not_absurd():
    bar = Progress(100, "analyze", enabled=False, start=1000.0)
    bar.done = 1
    assert "?/s" in bar.line(1000.00001)  # one file a moment after the start: no rate yet
    bar.done = 4
    line = bar.line(1002.0)
    assert " 2.00/s " in line and "ETA    48s" in line
