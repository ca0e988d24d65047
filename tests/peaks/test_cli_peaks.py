"""``iondyn peaks fit`` end to end, on the real XPS spectrum and synthetic files."""

import json

import numpy as np
import pytest

from conftest import gaussian_peak
from iondyn.cli import main

XPS = "tests/data/xps/GFET0126_25V_C1s.txt"


def test_real_xps_with_shirley_background(capsys, tmp_path):
    png = tmp_path / "fit.png"
    code = main(
        [
            "peaks",
            "fit",
            XPS,
            "--background",
            "shirley",
            "--max-peaks",
            "4",
            "--json",
            "--plot",
            str(png),
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    (r,) = doc["results"]
    assert r["source"] == XPS and r["spectrum"] == 0
    assert r["background"]["kind"] == "shirley" and r["background"]["high_side"] == "low-x"
    q = r["quality"]
    assert q["r2"] > 0.995 and q["converged"] is True and q["iterations"] > 0
    assert 2 <= r["n_peaks"] <= 4 and len(r["peaks"]) == r["n_peaks"]
    centers = [p["center"] for p in r["peaks"]]
    assert centers == sorted(centers)
    main_peak = max(r["peaks"], key=lambda p: p["height"])
    assert 712.5 < main_peak["center"] < 713.3  # the C 1s maximum of the file
    for p in r["peaks"]:
        for key in ("id", "center", "center_err", "fwhm", "fwhm_err", "area", "area_err", "height"):
            assert key in p
    assert png.exists() and png.stat().st_size > 10_000


def test_text_output_and_series(capsys, tmp_path):
    x = np.linspace(0, 20, 400)
    rng = np.random.default_rng(0)
    cols = [x]
    for c in np.linspace(8, 10, 5):
        cols.append(
            gaussian_peak(x, c, 1.5, 10)
            + gaussian_peak(x, 14, 1.0, 5)
            + rng.normal(0, 0.02, x.size)
        )
    p = tmp_path / "series.csv"
    np.savetxt(p, np.column_stack(cols), delimiter=",", header="x,t1,t2,t3,t4,t5", comments="")
    assert main(["peaks", "fit", str(p), "--n-peaks", "2", "--series", "--background", "none"]) == 0
    out = capsys.readouterr().out
    assert out.count("[spectrum") == 5 and "center" in out and "R²" in out
    assert main(["peaks", "fit", str(p), "--n-peaks", "2", "--series", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    first = [r["peaks"][0]["center"] for r in doc["results"]]
    assert np.allclose(first, np.linspace(8, 10, 5), atol=0.02)
    assert [r["label"] for r in doc["results"]] == ["t1", "t2", "t3", "t4", "t5"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [("", "empty"), ("1\n2\n3\n", "only one column"), ("1 2\n2 x\n", "text in a numeric column")],
)
def test_unreadable_file_gives_one_line_and_exit_code_2(capsys, tmp_path, content, needle):
    p = tmp_path / "bad.txt"
    p.write_text(content)
    assert main(["peaks", "fit", str(p)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and str(p) in lines[0] and needle in lines[0]
    assert captured.out == ""


def test_error_in_json_mode_is_one_json_document(capsys, tmp_path):
    p = tmp_path / "zeros.txt"
    p.write_text("1 0\n2 0\n3 0\n4 0\n5 0\n6 0\n7 0\n")
    assert main(["peaks", "fit", str(p), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert "all zeros" in doc["error"]["message"]


def test_missing_file(capsys):
    assert main(["peaks", "fit", "does/not/exist.txt"]) == 2
    assert "does/not/exist.txt: no such file" in capsys.readouterr().err
