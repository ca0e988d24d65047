"""Issue 4 "Bad input" through every impedance command: `iondyn eis read | fit | kk | drt` give
one line `iondyn: error: FILE…` (or the position in the circuit string) and exit code 2."""

from __future__ import annotations

import json

import pytest

from iondyn.cli import main

GOOD_ROWS = ["1e5,10,-1", "1e4,12,-5", "1e3,20,-9", "100,30,-8", "10,35,-4", "1,37,-2"]
BAD_FILES = {
    "zero_f.csv": (["f,Z',Z''", "1e5,10,-1", "0,12,-5", "1e3,20,-9"], "not positive"),
    "neg_f.csv": (["f,Z',Z''", "1e5,10,-1", "-10,12,-5", "1e3,20,-9"], "not positive"),
    "dup_f.csv": (["f,Z',Z''", "1e5,10,-1", "1e3,12,-5", "1e3,20,-9"], "appears twice"),
    "no_z.csv": (["Potential (V),Current (A)", "0.1,1e-6", "0.2,2e-6"], "unrecognised"),
}
COMMANDS = [
    ["eis", "read"],
    ["eis", "fit", "--circuit", "R0-p(R1,C1)"],
    ["eis", "kk"],
    ["eis", "drt"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[1])
@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_give_one_line_naming_the_file(tmp_path, capsys, command, name):
    lines, needle = BAD_FILES[name]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    assert main([*command, str(path)]) == 2
    out, err = capsys.readouterr()
    err_lines = err.strip().splitlines()
    assert len(err_lines) == 1, err
    assert err_lines[0].startswith(f"iondyn: error: {path}") and needle in err_lines[0]
    assert "Traceback" not in out + err


@pytest.mark.parametrize("command", COMMANDS[1:], ids=lambda c: c[1])
def test_nan_rows_are_dropped_with_a_warning_by_every_command(tmp_path, capsys, command):
    path = tmp_path / "nan.csv"
    rows = ["f,Z',Z''", *GOOD_ROWS[:3], "50,nan,nan", *GOOD_ROWS[3:]]
    path.write_text("\n".join(rows) + "\n")
    assert main(["eis", "read", str(path), "--json"]) == 0
    (spec,) = json.loads(capsys.readouterr().out)["spectra"]
    assert spec["n_points"] == len(GOOD_ROWS)
    assert any("dropped 1 row" in w for w in spec["metadata"]["warnings"])
    code = main([*command, str(path), "--json"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err  # kk may fail the spectrum, never crash
    assert "Traceback" not in err
    json.loads(out)


@pytest.mark.parametrize(
    ("circuit", "fragment"),
    [
        ("R0-p(R1,C1", "unbalanced parentheses"),
        ("R0-X1", "unknown element type 'X'"),
        ("R1-p(R1,C1)", "used twice"),
        ("__import__('os').system('touch pwned')", "unexpected character"),
    ],
)
def test_circuit_errors_name_the_position(tmp_path, capsys, monkeypatch, circuit, fragment):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ok.csv"
    path.write_text("\n".join(["f,Z',Z''", *GOOD_ROWS]) + "\n")
    assert main(["eis", "fit", str(path), "--circuit", circuit]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0] and "at position" in err[0]
    assert not (tmp_path / "pwned").exists()
