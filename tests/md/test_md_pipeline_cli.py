"""``iondyn analyze`` on MD trajectories (kind, store, series table) and ``iondyn md``."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from md_files import write_xdatcar

from iondyn.cli import main
from iondyn.constants import K_B_EV
from iondyn.md.simulate import lattice_walk

EA = 0.25  # eV: hops per frame ν(T) = ν0 exp(−Ea/kT), so D(T) is Arrhenius with Ea
TEMPS = (500.0, 650.0, 800.0)


def _series_folder(folder):
    folder.mkdir()
    rows = ["file,temperature_K"]
    for k, t in enumerate(TEMPS):
        nu = 40.0 * np.exp(-EA / (K_B_EV * t))
        pos, cell = lattice_walk(48, 800, nu, box_sites=8, spacing_A=2.0, seed=10 + k)
        fw = np.broadcast_to(np.array([[1.0, 1.0, 1.0], [9.0, 9.0, 9.0]]), (800, 2, 3))
        pos = np.concatenate([pos, fw], axis=1)
        cells = np.broadcast_to(cell, (800, 3, 3))
        write_xdatcar(folder / f"XDATCAR_{int(t)}K", pos, cells, ["Li"] * 48 + ["P"] * 2)
        rows.append(f"XDATCAR_{int(t)}K,{t}")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")


def test_analyze_md_series(tmp_path, capsys):
    data = tmp_path / "llzo_md"
    _series_folder(data)
    config = tmp_path / "md.toml"
    config.write_text(
        '[md]\nspecies = "Li"\nframe_interval_fs = 1000.0\n\n[[rule]]\npattern = "XDATCAR_*"\n'
        f'temperature_manifest = "{data / "manifest.csv"}"\n'
    )
    run = tmp_path / "run"
    code = main(["analyze", str(data), "--out", str(run), "--workers", "0", "--config",
                 str(config), "--exclude", "*.csv", "--json"])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["ok"] == 3 and doc["by_kind"]["md"]["ok"] == 3
    db = sqlite3.connect(run / "results.sqlite")
    rows = db.execute(
        "SELECT series, item, quantity, convention, n_points, Ea_eV, Ea_eV_err FROM series"
    ).fetchall()
    by = {(r[1], r[2]): r for r in rows}
    d = by[("Li tracer (MD)", "D_cm2_per_s")]
    assert d[0] == "llzo_md · D(T)" and d[3] == "D" and d[4] == 3
    assert abs(d[5] - EA) < 3 * d[6] + 0.01
    s = by[("Li tracer (MD)", "sigma_S_per_cm")]
    assert s[0] == "llzo_md" and s[3] == "sigma_T"
    assert s[5] == pytest.approx(d[5], abs=1e-9)  # σT = n z²e² D/k_B: the same Ea as D
    params = dict(db.execute(
        "SELECT name, value FROM parameter_table WHERE item = 'Li tracer' AND file LIKE '%800K'"
    ).fetchall())  # fmt: skip
    nu = 40.0 * np.exp(-EA / (K_B_EV * 800.0))
    assert params["D_cm2_per_s"] == pytest.approx(nu * 4.0 / 6.0 * 1e-4, rel=0.1)


def test_analyze_md_without_species_is_recorded_as_error(tmp_path, capsys):
    data = tmp_path / "d"
    _series_folder(data)
    main(["analyze", str(data / "XDATCAR_500K"), "--out", str(tmp_path / "r"),
                 "--workers", "0", "--json"])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"] == 1 and doc["by_kind"]["md"]["error"] == 1
    assert "no species" in doc["top_errors"][0]["example"]


def test_cli_md_diffusion_regional_and_errors(tmp_path, capsys):
    data = tmp_path / "d"
    _series_folder(data)
    files = [str(data / f"XDATCAR_{int(t)}K") for t in TEMPS]
    code = main(["md", "diffusion", *files, "--species", "Li", "--frame-interval-fs", "1000",
                 "--temperatures-K", ",".join(map(str, TEMPS)), "--json"])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and len(doc["results"]) == 3
    ea = {(f["item"], f["quantity"]): f for f in doc["arrhenius"]}
    fit = ea[("tracer", "D_cm2_per_s")]
    assert abs(fit["Ea_eV"] - EA) < 3 * fit["Ea_eV_err"] + 0.01
    seed = tmp_path / "seed.toml"
    code = main(["md", "regional", files[2], "--species", "Li", "--frame-interval-fs", "1000",
                 "--temperature-K", "800", "--slabs", "4", "--seed-out", str(seed),
                 "--regions", "a:0:8,b:8:16", "--json"])  # fmt: skip
    assert code == 0 and json.loads(capsys.readouterr().out)["seed"]["phase"][1]["name"] == "b"
    from iondyn.physics import load_config

    assert len(load_config(seed).device.phases) == 2
    # bad input: exit 2 and one line naming the file
    assert main(["md", "diffusion", files[0], "--species", "Na", "--frame-interval-fs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "XDATCAR_500K: no 'Na' atoms" in err[0]
    assert main(["md", "diffusion", files[0], "--species", "Li"]) == 2
    assert "time between frames is unknown" in capsys.readouterr().err
