"""``iondyn eis read`` through iondyn.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

from iondyn.cli import main

DATA = Path(__file__).parents[1] / "data" / "eis"


def test_json_document(capsys):
    files = [str(DATA / "exampleDataGamry.DTA"), str(DATA / "exampleDataBioLogic.mpt")]
    assert main(["eis", "read", *files, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["errors"] == []
    gamry, biologic = doc["spectra"]
    for key in ("source", "index", "n_points", "frequency_Hz", "z_real_ohm", "z_imag_ohm"):
        assert key in gamry
    assert gamry["n_points"] == len(gamry["frequency_Hz"]) == 72
    assert gamry["frequency_Hz"][0] == 200015.6 and gamry["z_imag_ohm"][0] == -1367.239
    assert biologic["metadata"]["format"] == "biologic-mpt"
    assert biologic["metadata"]["z_imag_sign"] == "flipped"
    assert biologic["z_imag_ohm"][0] == -0.38998979  # -Im(Z) 3.8998979E-001 in the file
    assert biologic["metadata"]["instrument"].startswith("BioLogic SP-150")


def test_text_mode_one_line_per_spectrum(capsys):
    assert (
        main(["eis", "read", str(DATA / "exampleDataZPlot.z"), str(DATA / "exampleData.csv")]) == 0
    )
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 2 + 2  # header, rule, two spectra
    assert "zview" in lines[2] and " 21 " in lines[2]
    assert "generic" in lines[3] and " 66 " in lines[3]
    assert "56 data points" in err  # the ZPlot header-count warning goes to stderr


def test_unreadable_file_exit_code_2(capsys, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    good = str(DATA / "exampleData.csv")
    assert main(["eis", "read", good, str(bad)]) == 2
    out, err = capsys.readouterr()
    assert err.strip().splitlines() == [f"iondyn: error: {bad}: the file is empty"]
    assert "generic" in out  # the good file is still reported
    assert main(["eis", "read", str(bad), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["spectra"] == [] and doc["errors"][0]["source"] == str(bad)


def test_missing_freq_file(capsys):
    path = DATA / "exampleDataBioLogic_MissingFreq.mpt"
    assert main(["eis", "read", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0]


def test_format_option_and_list(capsys):
    assert main(["eis", "read", str(DATA / "exampleDataGamry.DTA"), "--format", "gamry"]) == 0
    capsys.readouterr()
    assert main(["eis", "read", str(DATA / "exampleDataGamry.DTA"), "--format", "nope"]) == 2
    assert "unknown impedance format" in capsys.readouterr().err
    assert main(["eis", "read", "--list-formats", "--json"]) == 0
    names = [f["name"] for f in json.loads(capsys.readouterr().out)["formats"]]
    assert "gamry" in names and "biologic-mpr" in names
    assert main(["eis", "read"]) == 2
