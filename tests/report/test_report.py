"""The HTML report: self-contained, every figure present, text escaped, figures faithful."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from report_data import N_PEAK_FILES

from iondyn.cli import main
from iondyn.errors import StoreError
from iondyn.pipeline.store import decompress_json
from iondyn.report.figures import arrhenius_figure, impedance_figures, peak_figures
from iondyn.report.html import write_report

#: peaks: 1 per file; TSDC: 1; impedance: Nyquist, Bode, DRT, KK per file; Arrhenius: 1
EXPECTED_PLOTS = N_PEAK_FILES + 1 + 3 * 4 + 1


@pytest.fixture(scope="module")
def report(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = write_report(run_dir, out)
    return result, out.read_text(encoding="utf-8")


def figures_of(page: str) -> dict:
    blob = re.search(
        r'<script type="application/json" id="iondyn-figures">(.*?)</script>', page, re.S
    )
    return json.loads(blob.group(1))


def test_self_contained_and_every_figure_has_a_div(report):
    result, page = report
    assert result.plots == EXPECTED_PLOTS and result.errors == 2
    assert "Plotly" in page and result.bytes > 1_000_000  # plotly.js is embedded
    assert not re.search(r"<script[^>]+src=", page)
    assert "<link" not in page and "@import" not in page
    figures = figures_of(page)
    divs = re.findall(r'<div class="iondyn-plot" id="(fig-\d+)">', page)
    assert sorted(divs) == sorted(figures) and len(divs) == EXPECTED_PLOTS
    for fig in figures.values():
        assert fig["data"] and "layout" in fig


def test_text_is_escaped(report):
    _, page = report
    assert "broken <b>.txt" not in page
    assert "broken &lt;b&gt;.txt" in page
    assert "<script>alert(1)</script>" not in page
    assert "pellet &lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_tables_and_sections(report):
    _, page = report
    for anchor in ("summary", "series", "parameters", "files", "errors"):
        assert f'id="{anchor}"' in page
    assert page.count('class="sortable"') >= 5
    assert "Ea (eV)" in page and "center" in page and "sigma_S_per_cm" in page
    assert re.search(r'data-v="[-0-9.e+]+">[-0-9.e+]+ ± [0-9.e+-]+</td>', page)
    assert "empty file" in page  # the errors table


def stored(run_dir, kind):
    db = sqlite3.connect(run_dir / "results.sqlite")
    path, name, result, curves = db.execute(
        "SELECT path, name, result_json, curves FROM current_files WHERE kind = ? AND status = 'ok'"
        " ORDER BY path LIMIT 1",
        (kind,),
    ).fetchone()
    return {
        "path": path,
        "name": name,
        "kind": kind,
        "result": json.loads(result),
        "curves": decompress_json(curves),
    }


def test_peak_figure_is_faithful_to_the_stored_curves(run_dir):
    outcome = stored(run_dir, "peaks")
    (fig,) = peak_figures(outcome)
    c = outcome["curves"]["spectra"][0]
    traces = {t["name"]: t for t in fig["data"]}
    assert traces["data"]["y"] == c["y"] and traces["model"]["y"] == c["model"]
    assert {"peak 1", "peak 2", "background"} <= set(traces)
    residual = traces["residual"]["y"]
    assert residual == pytest.approx([a - b for a, b in zip(c["y"], c["model"])])
    # component traces are drawn on top of the background
    comp = c["components"][0]
    assert traces["peak 1"]["y"] == pytest.approx([a + b for a, b in zip(comp, c["background"])])


def test_impedance_and_arrhenius_figures(run_dir):
    outcome = stored(run_dir, "impedance")
    figs = impedance_figures(outcome)
    assert len(figs) == 4
    c = outcome["curves"]["spectra"][0]
    nyquist = figs[0]["data"][0]
    assert nyquist["x"] == c["z_real"] and nyquist["y"] == [-v for v in c["z_imag"]]
    assert figs[0]["layout"]["yaxis"]["scaleanchor"] == "x"
    assert figs[1]["layout"]["xaxis"]["type"] == "log"
    fit = {
        "item": "bulk",
        "Ea_eV": 1.0,
        "Ea_eV_err": 0.01,
        "ln_prefactor": 12.0,
        "quantity": "sigma_S_per_cm",
        "points": [
            {"T_K": t, "value": 1e-4, "error": 1e-6, "file": "/a/b.csv"} for t in (500.0, 600.0)
        ],
    }
    arr = arrhenius_figure("s", [fit])
    assert arr["data"][0]["x"] == pytest.approx([2.0, 1000 / 600])
    line = arr["data"][1]
    assert line["y"][0] == pytest.approx((12.0 - 1.0 / (8.617333262e-5 * 500.0)) / 2.302585093)


def test_report_cli(run_dir, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(run_dir), "--out", str(out), "--max-files", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["report"] == str(out) and doc["files_with_plots"] == 1
    assert doc["plots"] == 4 + 1  # the first file by path (a pellet) and the Arrhenius plot
    assert main(["report", str(tmp_path / "no_run")]) == 2
    assert "no results.sqlite here" in capsys.readouterr().err
    with pytest.raises(StoreError):
        write_report(tmp_path / "no_run")
