"""The kill test: a 300-file run SIGKILLed three times at random moments, then resumed, holds
exactly 300 results, none duplicated, all equal to an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
from pipeline_data import FAST_CONFIG, parameter_table, write_spectra

from iondyn.pipeline import run_batch

N_FILES = 300


def stored(run: Path) -> int:
    """Files committed so far (read-only, concurrent with the writer thanks to WAL)."""
    path = run / "results.sqlite"
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # the schema is being created
        return 0


def test_sigkill_three_times_then_resume(tmp_path):
    data = tmp_path / "data"
    write_spectra(data, N_FILES, seed=11)
    config = tmp_path / "fast.toml"
    config.write_text(FAST_CONFIG)

    # in this process: the pool stores the same numbers (test_analyze.py checks it)
    reference = run_batch([data], tmp_path / "reference", workers=0, config=config)
    assert reference.ok == N_FILES

    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "iondyn",
        "analyze",
        str(data),
        "--out",
        str(run),
        "--workers",
        "2",
        "--config",
        str(config),
        "--json",
    ]
    rng = np.random.default_rng(2024)
    # random moments: after a random number of committed files, plus a random 0-50 ms
    targets = np.sort(rng.integers(20, N_FILES - 20, size=3))
    counts = []
    for target in targets:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while stored(run) < target:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.05))
        workers = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        # orphaned pool workers notice the coordinator is gone and exit by themselves
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive
        counts.append(stored(run))
    assert all(0 < c < N_FILES for c in counts) and counts == sorted(counts)

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["error"] == 0
    assert summary["ok"] + summary["skipped"] == N_FILES
    assert summary["skipped"] >= counts[-1]  # nothing committed was analysed again

    db = sqlite3.connect(run / "results.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n, distinct = db.execute("SELECT COUNT(*), COUNT(DISTINCT path) FROM files").fetchone()
    assert n == distinct == N_FILES
    statuses = [s for (s,) in db.execute("SELECT status FROM runs ORDER BY id")]
    assert statuses == ["interrupted"] * 3 + ["finished"]
    ref_db = sqlite3.connect(tmp_path / "reference" / "results.sqlite")
    n_params = db.execute("SELECT COUNT(*) FROM parameters").fetchone()[0]
    assert n_params == ref_db.execute("SELECT COUNT(*) FROM parameters").fetchone()[0]
    assert parameter_table(run) == parameter_table(tmp_path / "reference")
