"""Synthetic inputs and test analyzers shared by the pipeline and report tests.

The analyzers here are module-level functions of an importable module, so that worker
processes (spawned with this folder on ``sys.path``) can run them.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import numpy as np

from iondyn.pipeline import AnalysisOutcome, Analyzer, ParameterRow

#: Truth of the synthetic two-peak spectra: centre of peak 1 moves with the file index.
CENTER_2 = 6.0
FWHM = (1.18, 1.65)
AREA = (125.0, 88.0)
X = np.linspace(0.0, 10.0, 120)


def center_1(i: int) -> float:
    return 3.5 + 0.002 * i


def gaussian(x, center, fwhm, area):
    s = fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    return area * np.exp(-0.5 * ((x - center) / s) ** 2) / (s * np.sqrt(2.0 * np.pi))


def write_spectra(folder: Path, n: int, seed: int = 0, noise: float = 0.5) -> list[Path]:
    """``n`` two-column files ``s0000.txt`` … with two Gaussian peaks on a constant 5."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        y = (
            gaussian(X, center_1(i), FWHM[0], AREA[0])
            + gaussian(X, CENTER_2, FWHM[1], AREA[1])
            + 5.0
            + rng.normal(0.0, noise, X.size)
        )
        p = folder / f"s{i:04d}.txt"
        np.savetxt(p, np.column_stack([X, y]), fmt="%.6f")
        paths.append(p)
    return paths


#: A fast, fixed configuration for the synthetic spectra.
FAST_CONFIG = """
[peaks]
n_peaks = 2
background = "constant"
n_starts = 2
"""


def write_bad_files(folder: Path) -> dict[str, str]:
    """Corrupt inputs of every sort; returns {file name: what is wrong}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.bin").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (folder / "notes.txt").write_text("measurement notes\nsample A, 300 K\nnothing numeric here\n")
    lines = [f"{x:.4f} {np.exp(-((x - 5) ** 2)):.6f}" for x in X[:60]]
    (folder / "truncated.txt").write_text("\n".join(lines) + "\n7.0")
    (folder / "one_column.txt").write_text("\n".join(f"{v:.3f}" for v in X[:30]) + "\n")
    return {
        "empty.txt": "empty",
        "junk.bin": "binary junk",
        "notes.txt": "no data",
        "truncated.txt": "truncated last line",
        "one_column.txt": "a single column",
    }


def parameter_table(run_dir: Path) -> dict[tuple, tuple]:
    """{(file name, spectrum, item, name): (value, error)} of the current files."""
    db = sqlite3.connect(run_dir / "results.sqlite")
    try:
        rows = db.execute(
            "SELECT file, spectrum, item, name, value, error FROM parameter_table"
        ).fetchall()
    finally:
        db.close()
    return {r[:4]: r[4:] for r in rows}


# --------------------------------------------------------------------------- test analyzers
def _sniff_never(path: Path) -> float:
    return 0.0


def _no_figures(outcome) -> list:
    return []


def crash_analyze(path: Path, settings) -> AnalysisOutcome:
    """Kills its own process for files whose name contains "poison" (a segfault stand-in)."""
    if "poison" in path.name:
        os.kill(os.getpid(), signal.SIGKILL)
    size = path.stat().st_size
    return AnalysisOutcome("crashy", {"size": size}, [ParameterRow("file", "size", size)])


def slow_analyze(path: Path, settings) -> AnalysisOutcome:
    """Sleeps for files whose name contains "slow"."""
    if "slow" in path.name:
        time.sleep(30.0)
    return AnalysisOutcome("sleepy", {}, [ParameterRow("file", "ok", 1.0)])


CRASHY = Analyzer(
    "crashy", "test: crashes on poison", "1", _sniff_never, crash_analyze, _no_figures
)
SLEEPY = Analyzer("sleepy", "test: sleeps on slow", "1", _sniff_never, slow_analyze, _no_figures)
