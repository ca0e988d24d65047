"""``peaks fit`` on VAMAS blocks, and axis names/units carried from the file to tables, JSON,
the matplotlib figure, the pipeline store and the report's figures."""

import json
import shutil
import sqlite3

import matplotlib.pyplot as plt
import numpy as np
import pytest

from iondyn.cli import main
from iondyn.errors import InputError
from iondyn.peaks import PeakFitter, load_spectra, select_blocks
from iondyn.peaks.plot import plot_peak_fit
from iondyn.pipeline import run_batch
from iondyn.pipeline.store import decompress_json
from iondyn.report.figures import peak_figures

VMS = "tests/data/xps/0-150W.vms"
PET = "tests/data/xps/PET_C1s.csv"
GFET = "tests/data/xps/GFET0126_25V_C1s.txt"
BLOCKS = ["wide", "Ni 2p", "O 1s", "C 1s", "W 4f"]


def c1s_maximum_from_text() -> float:
    """Binding energy of the highest C 1s count, from the file text: hν − (start + i·step)."""
    with open(VMS, newline="") as fh:
        lines = fh.read().split("\r\n")
    start = next(i for i in range(len(lines) - 1) if lines[i : i + 2] == ["C 1s", "Ni-W"])
    stop = next(i for i in range(start + 2, len(lines)) if lines[i : i + 2] == ["W 4f", "Ni-W"])
    counts = [float(v) for v in lines[start:stop][-602:][0::2]]
    return 1486.69 - (1186.69 + 0.1 * int(np.argmax(counts)))


def test_several_blocks_without_block_is_one_line_listing_them(capsys):
    assert main(["peaks", "fit", VMS]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and VMS in err[0] and "--block" in err[0]
    assert "(" + ", ".join(BLOCKS) + ")" in err[0]


def test_fit_one_block_by_name(capsys, tmp_path):
    png = tmp_path / "c1s.png"
    args = ["peaks", "fit", VMS, "--block", "c 1s", "--background", "shirley", "--max-peaks", "3"]
    assert main([*args, "--json", "--plot", str(png)]) == 0
    doc = json.loads(capsys.readouterr().out)
    (r,) = doc["results"]
    assert r["label"] == "C 1s" and r["spectrum"] == 3
    assert (r["x_name"], r["x_unit"], r["y_name"], r["y_unit"]) == (
        "binding energy",
        "eV",
        "intensity",
        "",
    )
    main_peak = max(r["peaks"], key=lambda p: p["height"])
    assert abs(main_peak["center"] - c1s_maximum_from_text()) < 0.4
    assert (
        270 <= min(p["center"] for p in r["peaks"]) and max(p["center"] for p in r["peaks"]) <= 300
    )
    assert doc["settings"]["block"] == ["c 1s"] and doc["settings"]["energy_axis"] == "binding"
    assert png.exists() and png.stat().st_size > 10_000


def test_text_output_names_the_block_and_units(capsys):
    assert main(["peaks", "fit", VMS, "--block", "O 1s", "--n-peaks", "2"]) == 0
    out = capsys.readouterr().out
    assert f"{VMS} [spectrum 2] O 1s" in out
    assert "x: binding energy (eV), y: intensity" in out
    assert "center (eV)" in out and "fwhm (eV)" in out


def test_stored_axis_and_several_blocks(capsys):
    args = ["peaks", "fit", VMS, "--block", "W 4f", "--block", "O 1s", "--n-peaks", "1"]
    assert main([*args, "--energy-axis", "stored", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert [r["label"] for r in results] == ["O 1s", "W 4f"]  # file order
    assert all(r["x_name"] == "kinetic energy" for r in results)
    assert 941.69 < results[0]["peaks"][0]["center"] < 966.69  # the O 1s window in KE


def test_block_all_and_errors():
    spectra = load_spectra([VMS], block="all")
    assert [s.metadata["label"] for s in spectra] == BLOCKS
    assert [s.metadata["label"] for s in select_blocks(spectra, ["W 4F", "wide"])] == [
        "wide",
        "W 4f",
    ]
    with pytest.raises(InputError, match=r"no block named 'N 1s'; the blocks are: wide, Ni 2p"):
        select_blocks(spectra, "N 1s")
    with pytest.raises(InputError, match="5 VAMAS blocks"):
        load_spectra([VMS])
    with pytest.raises(InputError, match=f"{PET}: is not a VAMAS file"):
        load_spectra([PET], block="C 1s")
    assert len(load_spectra([PET], block="all")) == 1


def test_block_option_on_a_table_is_an_error(capsys):
    assert main(["peaks", "fit", PET, "--block", "C 1s"]) == 2
    assert "is not a VAMAS file" in capsys.readouterr().err


def test_two_column_units_reach_json_table_and_figure(capsys, tmp_path):
    png = tmp_path / "pet.png"
    assert main(["peaks", "fit", PET, "--n-peaks", "3", "--json", "--plot", str(png)]) == 0
    (r,) = json.loads(capsys.readouterr().out)["results"]
    assert (r["x_name"], r["x_unit"], r["y_name"], r["y_unit"]) == ("binding energy", "eV", "", "")
    assert r["label"] == "InPET_C1s"
    centers = sorted(p["center"] for p in r["peaks"])  # C–C, C–O, O–C=O of PET
    assert centers[0] == pytest.approx(284.7, abs=0.4) and centers[2] == pytest.approx(
        288.7, abs=0.4
    )
    assert png.exists() and png.stat().st_size > 10_000

    (fit,) = PeakFitter(n_peaks=3).fit_files([PET])
    fig = plot_peak_fit(fit)
    try:
        ax, axr = fig.axes
        assert axr.get_xlabel() == "binding energy (eV)"
        assert ax.get_ylabel() == "intensity" and axr.get_ylabel() == "residual"
        assert ax.xaxis_inverted()  # binding energy decreases to the right
    finally:
        plt.close(fig)


def test_headerless_file_keeps_the_fallback_labels():
    (fit,) = PeakFitter(n_peaks=2).fit_files([GFET])
    assert (fit.x_name, fit.x_unit, fit.y_name, fit.y_unit) == ("", "", "", "")
    fig = plot_peak_fit(fit)
    try:
        ax, axr = fig.axes
        assert axr.get_xlabel() == "x" and ax.get_ylabel() == "intensity"
        assert not ax.xaxis_inverted()
    finally:
        plt.close(fig)
    d = fit.to_dict()
    assert d["x_unit"] == "" and "peaks" in d and "quality" in d


def test_units_with_a_y_unit_in_the_table_and_plot(tmp_path, capsys):
    x = np.linspace(280, 292, 200)
    y = 1000 * np.exp(-0.5 * ((x - 285) / 0.7) ** 2) + 50
    p = tmp_path / "c1s.csv"
    header = "Binding Energy (eV),Intensity (counts)"
    np.savetxt(p, np.c_[x, y], delimiter=",", header=header, comments="")
    assert main(["peaks", "fit", str(p), "--n-peaks", "1", "--background", "constant"]) == 0
    out = capsys.readouterr().out
    assert "area (counts·eV)" in out and "height (counts)" in out
    (fit,) = PeakFitter(n_peaks=1, background="constant").fit_files([p])
    fig = plot_peak_fit(fit)
    try:
        ax, axr = fig.axes
        assert ax.get_ylabel() == "intensity (counts)"
        assert axr.get_ylabel() == "residual (counts)"
    finally:
        plt.close(fig)


CONFIG = """
[peaks]
n_peaks = 2

[[rule]]
pattern = "*.vms"
block = "C 1s"
"""


def test_pipeline_stores_units_and_the_report_uses_them(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(VMS, data)
    shutil.copy(PET, data)
    shutil.copy(GFET, data)
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    run_batch([data], tmp_path / "run", workers=0, config=cfg)
    db = sqlite3.connect(tmp_path / "run" / "results.sqlite")
    rows = db.execute(
        "SELECT name, kind, status, result_json, curves FROM current_files ORDER BY name"
    ).fetchall()
    assert [(n, k, s) for n, k, s, _, _ in rows] == [
        ("0-150W.vms", "peaks", "ok"),
        ("GFET0126_25V_C1s.txt", "peaks", "ok"),
        ("PET_C1s.csv", "peaks", "ok"),
    ]
    units = dict(
        db.execute(
            "SELECT file || ':' || name, unit FROM parameter_table "
            "WHERE item = 'peak 1' AND name IN ('center', 'height')"
        ).fetchall()
    )
    assert units == {
        "0-150W.vms:center": "eV",
        "0-150W.vms:height": "",
        "GFET0126_25V_C1s.txt:center": "",
        "GFET0126_25V_C1s.txt:height": "",
        "PET_C1s.csv:center": "eV",
        "PET_C1s.csv:height": "",
    }
    titles = {}
    for name, kind, _, result, curves in rows:
        outcome = {"name": name, "kind": kind, "result": json.loads(result)}
        outcome["curves"] = decompress_json(curves)
        (fig,) = peak_figures(outcome)
        layout = fig["layout"]
        titles[name] = (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"])
        reversed_x = layout["xaxis"].get("autorange") == "reversed"
        assert reversed_x == (name != "GFET0126_25V_C1s.txt")
    assert titles == {
        "0-150W.vms": ("binding energy (eV)", "intensity"),
        "GFET0126_25V_C1s.txt": ("x", "intensity"),
        "PET_C1s.csv": ("binding energy (eV)", "intensity"),
    }
    (spectrum,) = json.loads(rows[0][3])["spectra"]
    assert spectrum["label"] == "C 1s" and spectrum["x_unit"] == "eV"


def test_report_figure_of_an_old_stored_result_falls_back():
    outcome = {
        "name": "old.txt",
        "result": {"spectra": [{"n_peaks": 1, "peaks": [{"id": 1}], "quality": {"r2": 0.9}}]},
        "curves": {
            "spectra": [
                {
                    "x": [1.0, 2.0, 3.0],
                    "y": [1.0, 3.0, 1.0],
                    "model": [1.0, 3.0, 1.0],
                    "background": [0.0, 0.0, 0.0],
                    "components": [[1.0, 3.0, 1.0]],
                }
            ]
        },
    }
    (fig,) = peak_figures(outcome)
    assert fig["layout"]["xaxis"]["title"]["text"] == "x"
    assert fig["layout"]["yaxis"]["title"]["text"] == "intensity"
    assert fig["layout"]["yaxis2"]["title"]["text"] == "data − model"
    assert "autorange" not in fig["layout"]["xaxis"]
