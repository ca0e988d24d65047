"""``iondyn map``: fit, decompose, profile, info — one JSON document, files written."""

from __future__ import annotations

import json

import numpy as np
from map_simulate import interface_map

from iondyn.cli import main


def test_map_fit_profile_and_decompose(tmp_path, capsys):
    x, data, line, _center, _fw, _d = interface_map(ny=24, nx=24, n=120)
    np.savez(tmp_path / "iface.npz", data=data, energy=x)
    out = tmp_path / "out"
    assert (
        main(
            [
                "map",
                "fit",
                str(tmp_path / "iface.npz"),
                "--n-peaks",
                "1",
                "--background",
                "constant",
                "--likelihood",
                "poisson",
                "--out",
                str(out),
                "--plot",
                "--format",
                "svg",
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["result"]["n_peaks"] == 1 and doc["result"]["quality"]["good"] > 500
    files = doc["files"]
    assert str(out / "fit.npz") in files and any(f.endswith("center.svg") for f in files)
    with np.load(out / "fit.npz") as z:
        assert z["center"].shape == (24, 24, 1) and z["center_err"].shape == (24, 24, 1)
    line_arg = ",".join(f"{v:g}" for v in line)
    assert (
        main(
            [
                "map",
                "profile",
                str(out / "fit.npz"),
                "--quantity",
                "center",
                "--line",
                line_arg,
                "--plot",
                str(tmp_path / "p.png"),
                "--json",
            ]
        )
        == 0
    )
    prof = json.loads(capsys.readouterr().out)
    assert abs(prof["fit"]["width"] - 3.0) < 0.6 and (tmp_path / "p.png").stat().st_size > 0
    assert (
        main(
            ["map", "decompose", str(tmp_path / "iface.npz"), "--out", str(out), "--plot", "--json"]
        )
        == 0
    )
    dec = json.loads(capsys.readouterr().out)
    assert dec["result"]["n_components"] >= 1 and (out / "components.png").exists()
    assert main(["map", "info", str(tmp_path / "iface.npz")]) == 0
    assert "24 × 24 pixels × 120 channels" in capsys.readouterr().out
    assert (
        main(["map", "fit", str(tmp_path / "iface.npz"), "--n-peaks", "1", "--out", str(out)]) == 0
    )
    text = capsys.readouterr().out
    assert "medians over the pixels" in text and "wrote" in text
