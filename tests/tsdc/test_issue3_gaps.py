"""Issue 3 bullets the earlier tests checked only indirectly (through iondyn.demo): the real
curve OHA_1.csv decomposed with K = `auto` reaches R² ≥ 0.995 and gives the same answer on every
run, both through the library and through `iondyn tsdc fit`; the constant and linear backgrounds
(only the exponential one had a test); and current units written in iondyn's own key style
(``current_A_per_m2``) are kept."""

from __future__ import annotations

import json

import numpy as np
import pytest

from iondyn.cli import main
from iondyn.data import TSDCCurve
from iondyn.io.tsdc import read_tsdc
from iondyn.tsdc import TSDCFitter, TSDCPeak
from iondyn.tsdc.simulate import simulate_current

OHA = "tests/data/tsdc/OHA_1.csv"


def test_real_curve_auto_distributed_ea_reaches_r2_0995():
    curve = read_tsdc(OHA, beta=5.0 / 60.0)
    a = TSDCFitter(n_peaks="auto", kinetics="gaussian").fit(curve)[0]
    assert a.quality["r2"] >= 0.995
    assert a.quality["converged"]
    assert a.n_peaks >= 2
    # K was chosen by BIC among the candidates of the table
    eligible = [row for row in a.bic_table if row.get("eligible", True)]
    assert min(row["bic"] for row in eligible) == pytest.approx(a.quality["bic"])


def test_real_curve_through_the_cli_is_deterministic(capsys):
    argv = ["tsdc", "fit", OHA, "--beta-per-min", "5", "--kinetics", "gaussian", "--json"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0
    second = capsys.readouterr().out
    assert first == second  # deterministic, to the last digit
    (res,) = json.loads(first)["results"]
    assert res["quality"]["r2"] >= 0.995 and res["quality"]["converged"] is True
    for p in res["peaks"]:
        for key in ("id", "Ea_eV", "Ea_eV_err", "tau0_s", "tau0_s_err", "Tm_K", "P0", "P0_err"):
            assert key in p


@pytest.mark.parametrize(
    ("name", "unit"),
    [("current_A_per_m2", "A/m2"), ("current_nA_per_cm2", "nA/cm2"), ("J_pA", "pA")],
)
def test_current_unit_in_key_style_headers(tmp_path, name, unit):
    path = tmp_path / "c.csv"
    rows = "".join(f"{100 + i},{1 + i % 3}\n" for i in range(10))
    path.write_text(f"# heating rate: 0.1 K/s\ntemperature_K,{name}\n{rows}")
    curve = read_tsdc(path)
    assert curve.current_unit == unit and curve.beta_K_per_s == pytest.approx(0.1)
    assert not any("not stated" in w for w in curve.metadata["warnings"])


@pytest.mark.parametrize(
    ("kind", "offset", "slope"), [("constant", 0.02, 0.0), ("linear", 0.024, 2e-4)]
)
def test_constant_and_linear_backgrounds_are_recovered(kind, offset, slope, tmp_path, capsys):
    """T1 peak on a constant or sloped leakage current (offset at the window's middle, 190 K;
    slope per K, both relative to the peak maximum), 0.1 % noise, 20 replicas."""
    beta = 5.0 / 60.0
    T = np.arange(120.0, 260.0 + 1e-9, 0.5)
    J = simulate_current(T, [TSDCPeak(0.5, 1e-13)], beta, 120.0)
    jm = J.max()
    bg = jm * (offset + slope * (T - 190.0))
    curves = [
        TSDCCurve(T, J + bg + np.random.default_rng(s).normal(0, 1e-3 * jm, T.size), "A", beta)
        for s in range(20)
    ]
    res = TSDCFitter(n_peaks=1, background=kind, methods=False).fit(curves)
    keys = {"offset": offset * jm} | ({"slope_per_x": slope * jm} if kind == "linear" else {})
    for f in res:
        assert f.background["kind"] == kind
        assert f.peaks[0]["Ea_eV"] == pytest.approx(0.5, abs=0.002)
        assert f.peaks[0]["P0"] == pytest.approx(1.0, rel=0.01)
    for key, want in keys.items():
        z = np.array([(f.background[key] - want) / f.background[f"{key}_err"] for f in res])
        # honest errors: ~1 standard deviation, nearly all inside 3σ (seed 10's noise alone has
        # a mean of −3.7σ/√N, so a single larger |z| is the data's, not the fit's)
        assert np.mean(np.abs(z) < 3.0) >= 0.9, z
        assert 0.6 < np.std(z) < 1.6, z
    # and through the CLI
    path = tmp_path / "bg.csv"
    np.savetxt(path, np.column_stack([T, curves[0].current]), delimiter=",", header="T [K],I [A]")
    code = main(
        ["tsdc", "fit", str(path), "--beta-per-min", "5", "--n-peaks", "1"]
        + ["--background", kind, "--json"]
    )
    assert code == 0
    (r,) = json.loads(capsys.readouterr().out)["results"]
    assert r["background"]["kind"] == kind
    assert r["peaks"][0]["Ea_eV"] == pytest.approx(0.5, abs=0.002)
