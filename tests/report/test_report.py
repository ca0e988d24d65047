"""The HTML report: self-contained, every figure present, text escaped, figures faithful."""

from __future__ import annotations

import json
import math
import re
import sqlite3

import numpy as np
import pytest
from report_data import N_PEAK_FILES

from iondyn.cli import main
from iondyn.display import arrhenius_legend
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
    divs = re.findall(r'<div class="iondyn-plot(?: wide)?" id="(fig-\d+)">', page)
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
    assert "empty file" in page  # the errors table
    # every table scrolls in its own box: a wide one never widens the page
    assert page.count("<table") == page.count('<div class="table-wrap"><table')
    # headers are words with units, not stored names
    headers = re.findall(r"<th>([^<]*)</th>", page)
    for words in ("R (Ω)", "C (F)", "τ (s)", "σ (S/cm)", "ε_r", "Ea (eV)", "Tm (K)", "τ0 (s)"):
        assert words in headers
    assert "centre" in headers and "Ea, initial rise (eV)" in headers
    assert not [h for h in headers if re.search(r"_(ohm|F|s|K|eV|Hz|S_per_cm)\b", h)]
    assert "sigma_S_per_cm" not in "".join(headers)
    # numbers rounded by their errors: the error has two significant digits
    cells = re.findall(r'data-v="[-0-9.e+]+">([-0-9.e+]+) ± ([0-9.e+-]+)</td>', page)
    assert cells
    for _, err in cells:
        mantissa = err.split("e")[0]
        digits = mantissa.replace(".", "").lstrip("0")
        if "." not in mantissa:
            digits = digits.rstrip("0")  # 1100: two significant digits
        assert 1 <= len(digits) <= 2, err
    # τ0 of a relaxation with its multiplicative error
    assert re.search(r'data-v="[0-9.e+-]+">[0-9.e+-]+ ×/÷ [0-9.e+]+</td>', page)


def test_undetermined_values_are_marked_not_listed():
    from iondyn.report.tables import cell as _num
    from iondyn.report.tables import parameter_cell as _parameter_cell
    from iondyn.report.tables import table as _table

    cell = _num(1e-9, 2.6)
    assert cell.text == "undetermined" and cell.value is None
    html = _table(["R (Ω)"], [[cell], [_num(4113.0, 69.0)]])
    assert (
        '<td class="num undetermined" data-v="" title="1e-09 ± 2.6: the data do not fix it">'
        in html
    )
    assert "undetermined</td>" in html and ">4113 ± 69</td>" in html
    assert "1e-09" not in html.split("title=")[0]
    # τ0 follows Ea: undetermined with it
    values = {"Ea_eV": (0.9, 3.5), "ln_tau0": (-20.0, 90.0)}
    assert _parameter_cell("tau0_s", 1e-9, 1e-7, values).text == "undetermined"
    # a peak position near zero is a result, whatever its error
    assert _parameter_cell("center", 0.1, 0.5, {}) == ("0.10 ± 0.50", 0.1)


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
    # the pellet's electrode spike dwarfs its arcs: a second panel shows them, equal axes kept
    layout = figs[0]["layout"]
    assert figs[0]["wide"] is True
    assert layout["yaxis2"]["scaleanchor"] == "x2" and layout["yaxis2"]["scaleratio"] == 1
    x0, x1 = layout["xaxis2"]["range"]
    assert x1 - x0 < 0.5 * (max(c["z_real"]) - min(c["z_real"]))
    assert layout["yaxis2"]["range"][1] < 0.5 * max(-v for v in c["z_imag"])
    zoomed = [tr for tr in figs[0]["data"] if tr.get("xaxis") == "x2"]
    assert len(zoomed) == len(figs[0]["data"]) // 2 and zoomed[0]["x"] == c["z_real"]
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
    assert arr["data"][0]["y"] == [1e-4, 1e-4] and arr["data"][0]["error_y"]["array"] == [1e-6] * 2
    line = arr["data"][1]  # σ = (A/T) exp(−Ea/k_B T), drawn on a log axis
    assert line["y"][0] == pytest.approx(math.exp(12.0 - 1.0 / (8.617333262e-5 * 500.0)) / 500)
    assert arr["layout"]["yaxis"] == {
        "title": {"text": "σ (S/cm)"},
        "type": "log",
        "exponentformat": "e",
    }


def test_the_cli_and_the_report_draw_the_same_arrhenius_plot():
    """`eis series --plot` (matplotlib) and the report (Plotly): σ against 1000/T, the same
    points and legend entries."""
    from types import SimpleNamespace

    import matplotlib

    matplotlib.use("Agg")
    from iondyn.series import fit_arrhenius
    from iondyn.series.plots import plot_arrhenius

    t = [500.0, 550.0, 600.0]
    sigma = [1e-5, 4e-5, 1.2e-4]
    a = fit_arrhenius(np.array(t), np.array(sigma), np.array([1e-7] * 3))
    points = [{"T_K": x, "sigma_S_per_cm": s, "sigma_S_per_cm_err": 1e-7} for x, s in zip(t, sigma)]
    result = SimpleNamespace(processes=[SimpleNamespace(label="bulk", points=points, arrhenius=a)])
    fig, ax = matplotlib.pyplot.subplots()
    plot_arrhenius(ax, result)
    cli_labels = [text.get_text() for text in ax.get_legend().get_texts()]
    stored = {
        "item": "bulk",
        "Ea_eV": a.Ea_eV,
        "Ea_eV_err": a.Ea_eV_err,
        "ln_prefactor": a.ln_prefactor,
        "quantity": "sigma_S_per_cm",
        "points": [{"T_K": x, "value": s, "error": 1e-7, "file": "f"} for x, s in zip(t, sigma)],
    }
    report = arrhenius_figure("s", [stored])
    assert (
        cli_labels
        == [report["data"][0]["name"]]
        == [arrhenius_legend("bulk", a.Ea_eV, a.Ea_eV_err)]
    )
    assert ax.get_yscale() == "log" and report["layout"]["yaxis"]["type"] == "log"
    assert list(ax.lines[0].get_ydata()) == report["data"][0]["y"] == sigma
    line = report["data"][1]
    assert line["y"] == pytest.approx(list(a.predict(np.array(line["x"]) ** -1 * 1000)[0]))
    matplotlib.pyplot.close(fig)


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
