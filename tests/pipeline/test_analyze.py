"""``iondyn analyze``: accuracy on synthetic spectra, bad files, resume, executors, refusals."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from pipeline_data import (
    AREA,
    CENTER_2,
    CRASHY,
    FAST_CONFIG,
    FWHM,
    SLEEPY,
    center_1,
    parameter_table,
    write_bad_files,
    write_spectra,
)

from iondyn.cli import main
from iondyn.pipeline import register, run_batch
from iondyn.pipeline.kinds import unregister


def analyze(capsys, *args) -> tuple[int, dict]:
    code = main(["analyze", *map(str, args), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


@pytest.fixture
def fast_config(tmp_path):
    p = tmp_path / "fast.toml"
    p.write_text(FAST_CONFIG)
    return p


def test_mixed_folder_good_analysed_bad_recorded(tmp_path, capsys, fast_config):
    data = tmp_path / "data"
    write_spectra(data, 8)
    bad = write_bad_files(data / "bad")
    run = tmp_path / "run"
    code, doc = analyze(capsys, data, "--out", run, "--workers", "0", "--config", fast_config)
    assert code == 0
    assert (doc["files"], doc["ok"], doc["error"], doc["skipped"]) == (13, 8, 5, 0)
    assert doc["seconds"] > 0 and doc["store_counts"] == {"ok": 8, "error": 5}
    db = sqlite3.connect(run / "results.sqlite")
    rows = dict(db.execute("SELECT name, message FROM files WHERE status = 'error'").fetchall())
    assert set(rows) == set(bad)
    for name, message in rows.items():
        assert "\n" not in message and message.startswith(str(data / "bad" / name))
    assert "empty file" in rows["empty.txt"]
    assert "not a data file" in rows["junk.bin"]
    assert "line 61" in rows["truncated.txt"] or ":61:" in rows["truncated.txt"]
    assert sum(e["count"] for e in doc["top_errors"]) == 5
    # the good files: recovered parameters against the truth (noise 0.5 on peaks of height ~100)
    table = parameter_table(run)
    for i in range(8):
        name = f"s{i:04d}.txt"
        c1, c1_err = table[(name, 0, "peak 1", "center")]
        assert abs(c1 - center_1(i)) < 0.02 and 0 < c1_err < 0.01
        assert abs(table[(name, 0, "peak 2", "center")][0] - CENTER_2) < 0.03
        assert abs(table[(name, 0, "peak 1", "fwhm")][0] - FWHM[0]) < 0.05
        assert abs(table[(name, 0, "peak 2", "area")][0] - AREA[1]) / AREA[1] < 0.03


def test_every_file_failing_gives_exit_code_1(tmp_path, capsys):
    write_bad_files(tmp_path / "bad")
    code, doc = analyze(capsys, tmp_path / "bad", "--out", tmp_path / "run", "--workers", "0")
    assert code == 1 and doc["ok"] == 0 and doc["error"] == 5


def test_rerun_skips_and_retry_errors(tmp_path, capsys, fast_config):
    write_spectra(tmp_path / "d", 3)
    (tmp_path / "d" / "empty.txt").write_bytes(b"")
    args = [tmp_path / "d", "--out", tmp_path / "run", "--workers", "0", "--config", fast_config]
    analyze(capsys, *args)
    before = parameter_table(tmp_path / "run")
    _, again = analyze(capsys, *args)
    assert (again["ok"], again["error"], again["skipped"], again["skipped_ok"]) == (0, 0, 4, 3)
    _, retry = analyze(capsys, *args, "--retry-errors")
    assert (retry["ok"], retry["error"], retry["skipped"]) == (0, 1, 3)
    db = sqlite3.connect(tmp_path / "run" / "results.sqlite")
    assert db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 4
    assert parameter_table(tmp_path / "run") == before
    # a changed setting re-analyses: new rows, the current ones use it
    cfg = tmp_path / "k3.toml"
    cfg.write_text(FAST_CONFIG.replace("n_peaks = 2", "n_peaks = 3"))
    _, changed = analyze(capsys, *args[:-1], cfg)
    assert changed["ok"] == 3 and changed["skipped"] == 1
    assert db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 7
    table = parameter_table(tmp_path / "run")
    assert ("s0000.txt", 0, "peak 3", "center") in table


def test_rules_force_kind_and_settings(tmp_path, capsys):
    write_spectra(tmp_path / "d" / "xps", 2)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[rule]]\npattern = "xps/*.txt"\nkind = "peaks"\nn_peaks = 1\nbackground = "none"\n'
    )
    code, doc = analyze(
        capsys, tmp_path / "d", "--out", tmp_path / "r", "--workers", "0", "--config", cfg
    )
    assert code == 0 and doc["by_kind"] == {"peaks": {"ok": 2, "error": 0}}
    db = sqlite3.connect(tmp_path / "r" / "results.sqlite")
    settings = [json.loads(s) for (s,) in db.execute("SELECT settings_json FROM files")]
    assert all(s["n_peaks"] == 1 and s["background"] == "none" for s in settings)
    # background "none": only the peak and the fit quality
    assert {k[2] for k in parameter_table(tmp_path / "r")} == {"peak 1", "fit"}


def test_pool_and_local_cluster_store_identical_parameters(tmp_path, fast_config):
    write_spectra(tmp_path / "d", 6, seed=3)
    tables = []
    for name, kwargs in (
        ("serial", {"workers": 0}),
        ("pool", {"workers": 2}),
        ("dask", {"workers": 2, "cluster": "local"}),
    ):
        summary = run_batch([tmp_path / "d"], tmp_path / name, config=fast_config, **kwargs)
        assert summary.ok == 6 and summary.error == 0
        tables.append(parameter_table(tmp_path / name))
    assert summary.executor == "dask-local-cluster"
    assert len(tables[0]) == 6 * len(tables[0]) // 6 > 0
    assert tables[0] == tables[1] == tables[2]


def test_bad_inputs_fail_fast_with_clear_messages(tmp_path, capsys, fast_config):
    run = tmp_path / "run"
    assert main(["analyze", str(tmp_path / "nothing_here"), "--out", str(run)]) == 2
    assert "nothing_here: no such file or folder" in capsys.readouterr().err
    assert not run.exists()
    assert main(["analyze", str(tmp_path / "*.xyz"), "--out", str(run)]) == 2
    assert "no file matches this pattern" in capsys.readouterr().err
    write_spectra(tmp_path / "d", 1)
    bad_cfg = tmp_path / "bad.toml"
    bad_cfg.write_text("[impedance]\nthickness_cm = -1\n")
    assert main(["analyze", str(tmp_path / "d"), "--out", str(run), "--config", str(bad_cfg)]) == 2
    err = capsys.readouterr().err
    assert str(bad_cfg) in err and "thickness_cm must be > 0" in err
    (tmp_path / "blocker").write_text("x")
    assert main(["analyze", str(tmp_path / "d"), "--out", str(tmp_path / "blocker" / "r")]) == 2
    assert "cannot create the run folder" in capsys.readouterr().err
    start = time.perf_counter()
    code = main(
        [
            "analyze",
            str(tmp_path / "d"),
            "--out",
            str(run),
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--connect-timeout",
            "1",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 2 and time.perf_counter() - start < 20
    assert "no Dask scheduler answers at tcp://127.0.0.1:9" in captured.err
    assert json.loads(captured.out)["error"]["type"] == "InputError"


def test_second_analyze_on_the_same_folder_refuses(tmp_path, capsys, fast_config):
    write_spectra(tmp_path / "d", 40)
    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "iondyn",
        "analyze",
        str(tmp_path / "d"),
        "--out",
        str(run),
        "--workers",
        "1",
        "--config",
        str(fast_config),
        "--json",
    ]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lock = run / ".lock"
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text().startswith("pid")):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        code = main(["analyze", str(tmp_path / "d"), "--out", str(run), "--workers", "0"])
        assert code == 2
        assert "in use by another iondyn analyze" in capsys.readouterr().err
        out, _ = first.communicate(timeout=120)
    finally:
        first.kill()
    assert first.returncode == 0 and json.loads(out)["ok"] == 40
    db = sqlite3.connect(run / "results.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT path) FROM files").fetchone() == (40, 40)


def test_a_file_that_kills_its_worker_is_isolated(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    for i in range(7):
        (d / f"f{i}.dat").write_text("x" * (i + 1))
    (d / "poison.dat").write_text("boom")
    register(CRASHY)
    try:
        summary = run_batch([d], tmp_path / "run", workers=2, kind="crashy")
    finally:
        unregister("crashy")
    assert (summary.ok, summary.error) == (7, 1)
    db = sqlite3.connect(tmp_path / "run" / "results.sqlite")
    errors = db.execute("SELECT name, error_type, message FROM files WHERE status = 'error'")
    ((name, kind, message),) = errors.fetchall()
    assert name == "poison.dat" and kind == "WorkerCrash" and "worker process died" in message
    sizes = dict(db.execute("SELECT file, value FROM parameter_table").fetchall())
    assert sizes == {f"f{i}.dat": float(i + 1) for i in range(7)}


def test_timeout_stops_one_file(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "fast.dat").write_text("1")
    (d / "slow.dat").write_text("2")
    register(SLEEPY)
    try:
        start = time.perf_counter()
        summary = run_batch([d], tmp_path / "run", workers=0, kind="sleepy", timeout=0.5)
    finally:
        unregister("sleepy")
    assert time.perf_counter() - start < 10
    assert (summary.ok, summary.error) == (1, 1)
    assert "time limit of 0.5 s" in summary.top_errors[0]["example"]


def test_text_summary_and_progress_free_json(tmp_path, capsys, fast_config):
    write_spectra(tmp_path / "d", 2)
    (tmp_path / "d" / "junk.bin").write_bytes(np.arange(300, dtype=np.uint8).tobytes())
    args = [
        "analyze",
        str(tmp_path / "d"),
        "--out",
        str(tmp_path / "r"),
        "--workers",
        "0",
        "--config",
        str(fast_config),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "3 file(s): 2 ok, 1 error, 0 skipped" in out
    assert "most common errors" in out and "junk.bin" in out
    assert main([*args, "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # exactly one JSON document
    assert {"files", "ok", "error", "skipped", "seconds"} <= set(doc)


def test_blocking_pellet_gets_series_capacitance_kk_and_drt(tmp_path, capsys):
    """LPSCl pellet between blocking electrodes (real EC-Lab file): the automatic fit models the
    electrode as a huge R‖CPE arc, not a series CPE, so the analyzer recognises the capacitive
    low-frequency end from the data; with the series capacitance the Lin-KK test passes (one
    outlier at 5.55 MHz reported) and the DRT lists the ion-transport arc and R∞ > 0."""
    import shutil
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "data" / "eis" / "PEIS_LPSCl_IonBlocking_-25C.txt"
    data = tmp_path / "lpscl"
    data.mkdir()
    shutil.copy(src, data / src.name)
    run = tmp_path / "run"
    code, doc = analyze(capsys, data, "--out", run, "--workers", "0")
    assert code == 0 and doc["ok"] == 1
    table = parameter_table(run)
    assert table[(src.name, 0, "kk", "valid")][0] == 1.0
    assert table[(src.name, 0, "kk", "series_capacitance")][0] == 1.0
    assert table[(src.name, 0, "drt", "R_inf_ohm")][0] > 50
    assert table[(src.name, 0, "drt", "C_series_F")][0] == pytest.approx(2.8e-7, rel=0.2)
    arcs = [
        (table[key][0], table[(*key[:3], "R_ohm")][0])
        for key in table
        if key[0] == src.name and key[2].startswith("drt arc") and key[3] == "tau_s"
    ]
    ion = [(t, r) for t, r in arcs if 1e-8 < t < 1e-6]
    assert len(ion) == 1 and 1100 < ion[0][1] < 1500 and 1e-7 < ion[0][0] < 2e-7
    peaks = [
        table[key][0]
        for key in table
        if key[0] == src.name and key[2].startswith("drt peak") and key[3] == "tau_s"
    ]
    assert any(1e-7 < t < 3e-7 for t in peaks)
