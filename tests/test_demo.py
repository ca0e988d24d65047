"""`iondyn demo` end to end, as `make demo` runs it: every bundled file analysed, the report
written, and the simulated pellet's activation energies recovered."""

from __future__ import annotations

import json
from pathlib import Path

from iondyn.cli import main
from iondyn.demo import PELLET


def test_demo_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--workers", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (step,) = doc["steps"]
    summary = step["data"]["summary"]
    # only the file bundled broken on purpose fails, and it fails with the reason named
    assert summary["error"] == 1 and summary["ok"] == summary["files"] - 1 >= 10
    (err,) = summary["top_errors"]
    assert "MissingFreq" in err["example"] and "column name is missing" in err["pattern"]
    assert set(summary["by_kind"]) == {"impedance", "peaks", "tsdc"}
    report = Path(step["data"]["report"]["report"])
    assert report.is_file() and report.stat().st_size > 100_000
    assert step["data"]["report"]["plots"] >= 30
    assert (out / "run" / "results.sqlite").is_file()
    ea = step["data"]["series_Ea_eV"]
    for process in ("bulk", "grain boundary"):
        assert abs(ea[process] - PELLET[process]["Ea_eV"]) < 0.01
