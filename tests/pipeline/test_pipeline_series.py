"""Arrhenius series across files: the simulated pellet's activation energies come back."""

from __future__ import annotations

import json
import math
import sqlite3

import pytest

from iondyn.constants import K_B_EV
from iondyn.demo import PELLET, simulate_pellet_series
from iondyn.pipeline import run_batch

CONFIG = """
[[rule]]
pattern = "pellet_*.csv"
kind = "impedance"
thickness_cm = {thickness}
area_cm2 = {area}
kk = false
drt = false
series_name = "pellet"
temperature_manifest = "series/manifest.csv"
"""


def test_pellet_series_activation_energies(tmp_path):
    paths, manifest = simulate_pellet_series(tmp_path / "series", seed=5)
    assert manifest.read_text().count("\n") == len(PELLET["temperatures_C"]) + 1
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(thickness=PELLET["thickness_cm"], area=PELLET["area_cm2"]))
    summary = run_batch([tmp_path / "series"], tmp_path / "run", workers=0, config=cfg)
    # the manifest is the config's, not a data file
    assert summary.files == len(paths) and summary.ok == len(paths)
    assert summary.series >= 2
    db = sqlite3.connect(tmp_path / "run" / "results.sqlite")
    db.row_factory = sqlite3.Row
    fits = {r["item"]: r for r in db.execute("SELECT * FROM series WHERE series = 'pellet'")}
    for item in ("bulk", "grain boundary"):
        fit = fits[item]
        truth = PELLET[item]["Ea_eV"]
        assert fit["n_points"] == len(paths) and fit["quantity"] == "sigma_S_per_cm"
        assert 0 < fit["Ea_eV_err"] < 0.01
        assert fit["Ea_eV"] == pytest.approx(truth, abs=0.01)
        # the prefactor reproduces σ(573 K)·573 K of the simulation within 5 %
        sigma_t = PELLET[item]["sigma_573K_S_per_cm"] * 573.15
        predicted = fit["ln_prefactor"] - fit["Ea_eV"] / (K_B_EV * 573.15)
        assert predicted == pytest.approx(math.log(sigma_t), abs=0.05)
        points = json.loads(fit["points_json"])
        assert sorted(p["T_K"] for p in points) == pytest.approx(
            [t + 273.15 for t in PELLET["temperatures_C"]]
        )
    assert "series resistance (R∞)" not in fits
