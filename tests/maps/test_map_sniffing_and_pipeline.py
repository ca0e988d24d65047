"""Spectrum images are recognised as kind ``map`` (NumPy, HDF5, DM3/DM4, Raman map text,
without reading a large array whole) and analysed by ``iondyn analyze``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from iondyn.io.sniff import kind_evidence
from iondyn.pipeline import run_batch
from iondyn.pipeline.analyzers_map import map_figures
from iondyn.pipeline.kinds import detect_kind
from iondyn.pipeline.store import ResultStore

DATA = Path(__file__).parents[1] / "data" / "maps"


def test_map_formats_are_sniffed(tmp_path):
    (tmp_path / "a.dm3").write_bytes(
        (3).to_bytes(4, "big") + (999).to_bytes(4, "big") + (1).to_bytes(4, "big") + b"\x00" * 40
    )
    (tmp_path / "b.dm4").write_bytes(
        (4).to_bytes(4, "big") + (999).to_bytes(8, "big") + (1).to_bytes(4, "big") + b"\x00" * 40
    )
    named = tmp_path / "wire.txt"
    named.write_text(
        "#X\t#Y\t#Wave\t#Intensity\n"
        + "".join(f"0.0\t0.0\t{1800 - i:.1f}\t{100 + i}\n" for i in range(30))
    )
    bare = tmp_path / "bare.txt"
    bare.write_text("".join(f"1.5 -2.0 {200 + 2 * i} {50 + i}\n" for i in range(30)))
    for f, score in (("a.dm3", 0.9), ("b.dm4", 0.9), ("wire.txt", 0.9), ("bare.txt", 0.7)):
        ev = kind_evidence(tmp_path / f)
        assert ev[0].kind == "map" and ev[0].score == score, (f, ev)
        assert detect_kind(tmp_path / f) == "map"


def test_large_array_file_is_sniffed_from_its_first_bytes(tmp_path):
    # a sparse 600 MiB .npy: larger than any text file iondyn reads whole
    big = np.lib.format.open_memmap(
        tmp_path / "big.npy", mode="w+", dtype=np.float32, shape=(400, 400, 1000)
    )
    del big
    assert (tmp_path / "big.npy").stat().st_size > 512 * 2**20
    (e,) = kind_evidence(tmp_path / "big.npy")
    assert e.kind == "map"


def _run(tmp_path, name, config):
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(config)
    summary = run_batch([tmp_path / "SI_data.npz"], tmp_path / name, workers=0, config=cfg)
    assert summary.ok == 1
    with ResultStore(tmp_path / name) as store:
        (row,) = store.query("SELECT * FROM current_files")
        assert row["kind"] == "map" and row["status"] == "ok"
        params = store.query("SELECT item, name, value FROM parameters")
    assert len(params) < 60  # summary rows, not per-pixel rows
    return {(p["item"], p["name"]): p["value"] for p in params}


def test_analyze_files_a_map_with_summary_rows(tmp_path):
    shutil.copy(DATA / "SI_data.npz", tmp_path / "SI_data.npz")
    items = _run(tmp_path, "default", "")
    assert items[("map", "n_pixels")] == 528 and items[("decomposition", "n_components")] == 2
    assert 0 < items[("decomposition", "relative_error")] < 0.3
    items = _run(
        tmp_path,
        "fit",
        '[map]\nanalysis = "fit"\nxmin = 60.0\nxmax = 105.0\nbackground = "constant"\n',
    )
    assert items[("fit", "n_peaks")] == 1 and 80 < items[("peak 1", "center")] < 90
    assert items[("fit", "converged_fraction")] == 1.0


def test_map_figures_are_plotly_dicts():
    curves = {
        "axis": [1, 2, 3],
        "spectra": [[0, 1, 0]],
        "fractions": [[[0.1, 0.9]]],
        "phase": [[0, 1]],
        "centers": [[[1.0, None]]],
        "axis_name": "energy loss",
        "axis_unit": "eV",
    }
    figs = map_figures({"name": "m.npz", "curves": curves})
    assert [f["data"][0]["type"] for f in figs] == ["scatter", "heatmap", "heatmap", "heatmap"]
