"""A small run folder with every kind of result and some errors, for the report tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from iondyn.demo import simulate_pellet_series
from iondyn.pipeline import run_batch

DATA = Path(__file__).resolve().parents[1] / "data"

CONFIG = """
[peaks]
n_peaks = 2
background = "linear"

[[rule]]
pattern = "tsdc/*.csv"
kind = "tsdc"
beta_K_per_min = 5.0
n_peaks = 2

[[rule]]
pattern = "pellet_*.csv"
thickness_cm = 0.1
area_cm2 = 0.785
series_name = "pellet <script>alert(1)</script>"
temperature_manifest = "pellets/manifest.csv"
"""

N_PEAK_FILES = 2


def make_run(root: Path) -> Path:
    """Analyse 2 peak spectra, a TSDC curve, 3 simulated pellet spectra and 2 bad files."""
    data = root / "data"
    (data / "tsdc").mkdir(parents=True)
    shutil.copy(DATA / "tsdc" / "OHA_1.csv", data / "tsdc")
    x = np.linspace(0, 10, 150)
    rng = np.random.default_rng(1)
    for i in range(N_PEAK_FILES):
        y = 80 * np.exp(-0.5 * ((x - 4) / 0.6) ** 2) + 40 * np.exp(-0.5 * ((x - 6.5) / 0.5) ** 2)
        np.savetxt(data / f"raman_{i}.txt", np.c_[x, y + 2 + rng.normal(0, 0.5, x.size)])
    (data / "broken <b>.txt").write_text("<b>not</b> numbers\nat all\n")
    (data / "empty.csv").write_bytes(b"")
    simulate_pellet_series(data / "pellets", temperatures_C=(275.0, 325.0, 375.0))
    cfg = root / "c.toml"
    cfg.write_text(CONFIG.replace("pellets/manifest.csv", str(data / "pellets" / "manifest.csv")))
    run_batch([data], root / "run", workers=0, config=cfg)
    return root / "run"
