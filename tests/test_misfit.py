"""Misfit verdicts from the residuals (issue 13, item 2): no false alarms on ≥ 95 % of 200
correct-model fits, wrong models called misfits, and collapsing parameters along a series of
fits flagged."""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.eis.fit import CircuitFitter
from iondyn.eis.fit_quality import circuit_fit_quality
from iondyn.eis.simulate import simulate_spectrum
from iondyn.misfit import assess_residuals, curve_fit_quality, difference_noise, model_switches

TRUE = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
PARAMS = {
    "R0": 50.0,
    "R1": 1e4,
    "CPE1_Q": 1e-10,
    "CPE1_n": 0.9,
    "R2": 5e4,
    "CPE2_Q": 1e-8,
    "CPE2_n": 0.85,
    "CPE3_Q": 1e-6,
    "CPE3_n": 0.8,
}


def _spectrum(seed: int, noise: float = 0.01):
    return simulate_spectrum(
        TRUE,
        PARAMS,
        fmin=0.1,
        fmax=1e7,
        points_per_decade=8,
        noise=noise,
        noise_model="modulus",
        seed=seed,
    )


@pytest.mark.slow
def test_correct_models_are_not_called_misfits():
    fitter = CircuitFitter(TRUE)
    verdicts = [circuit_fit_quality(fitter.fit(_spectrum(s), PARAMS)) for s in range(200)]
    alarms = sum(v.is_misfit for v in verdicts)
    assert alarms <= 10, f"{alarms} false alarms in 200 correct-model fits"
    assert all(v.verdict in ("good", "misfit") for v in verdicts)


def test_wrong_models_are_misfits():
    one_arc = {"R0": 50.0, "R1": 6e4, "CPE1_Q": 1e-9, "CPE1_n": 0.8, "CPE2_Q": 1e-6, "CPE2_n": 0.8}
    for seed in range(10):
        res = CircuitFitter("R0-p(R1,CPE1)-CPE2").fit(_spectrum(seed), one_arc)
        q = circuit_fit_quality(res)
        assert q.is_misfit, q
        warning = q.warning()
        assert (
            warning.startswith("misfit:")
            and "rms" in warning
            and "Hz" in warning
            and "at f = " in warning
        )
    # R0 alone on the whole spectrum: the grossest misfit
    res = CircuitFitter("R0").fit(_spectrum(0), {"R0": 1e4})
    assert circuit_fit_quality(res).is_misfit


def test_noise_level_decides_between_structure_and_misfit():
    x = np.linspace(0, 1, 200)
    rng = np.random.default_rng(1)
    structured = 0.01 * np.sin(6 * np.pi * x) + rng.normal(0, 0.01, x.size)
    q = assess_residuals(structured, x=x, axis="E", unit="eV")
    assert q.is_misfit and q.runs_z < -3
    # the same residuals against a noise estimate 4× larger: structured, but within noise
    assert assess_residuals(structured, noise=0.05).verdict == "structured"
    assert assess_residuals(structured, noise=0.005).verdict == "misfit"
    white = rng.normal(0, 1, 500)
    assert assess_residuals(white).verdict == "good"
    assert assess_residuals(white[:5]).verdict == "too few points"


def test_peak_fit_with_a_missing_component_is_a_misfit():
    from iondyn.saem import SAEM

    x = np.linspace(280.0, 292.0, 400)
    rng = np.random.default_rng(3)
    truth = (
        3000 * np.exp(-0.5 * ((x - 284.8) / 0.45) ** 2)
        + 1500 * np.exp(-0.5 * ((x - 286.3) / 0.5) ** 2)
        + 800 * np.exp(-0.5 * ((x - 288.8) / 0.5) ** 2)
        + 100
    )
    y = rng.poisson(truth).astype(float)
    for k, expect in ((3, False), (2, True)):
        fit = SAEM(n_peaks=k, background="constant", likelihood="poisson").fit((x, y))[0]
        q = curve_fit_quality(x, y, fit.model, poisson=True, axis="E", unit="eV")
        assert q.is_misfit is expect, (k, q)
        # without counting statistics: the noise from the data's second differences
        assert curve_fit_quality(x, y, fit.model).is_misfit is expect


def test_difference_noise_estimate():
    rng = np.random.default_rng(5)
    x = np.linspace(0, 10, 2000)
    y = 100 * np.exp(-0.5 * ((x - 5) / 0.8) ** 2) + rng.normal(0, 2.0, x.size)
    assert difference_noise(y) == pytest.approx(2.0, rel=0.1)


def test_parameters_that_collapse_when_the_model_switches():
    fits = [
        ("R0-p(R1,CPE1)-CPE2", {"R0": 17.0, "R1": 1e3}),
        ("R0-p(R1,CPE1)-CPE2", {"R0": 17.5, "R1": 1.1e3}),
        ("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3", {"R0": 1e-8, "R1": 1.05e3}),
    ]
    (flag,) = model_switches(fits)
    assert flag[0] == 2 and "R0 went from 17.5 to 1e-08" in flag[1]


def test_real_gamry_fit_missing_the_low_frequency_tail_is_called_a_misfit(capsys):
    # the automatic fit of this Gamry file misses the lowest frequencies by up to ≈ 10 %
    import json
    from pathlib import Path

    from iondyn.cli import main

    path = Path(__file__).parent / "data" / "eis" / "exampleDataGamry.DTA"
    assert main(["eis", "fit", str(path), "--auto", "--json"]) == 0
    (res,) = json.loads(capsys.readouterr().out)["results"]
    misfit = res["quality"]["misfit"]
    assert misfit["is_misfit"] and misfit["max_relative"] > 0.05
    assert misfit["worst_at"] < 1.0  # at the low-frequency end (Hz)
    assert any(w.startswith("misfit:") for w in res["warnings"])


def test_pipeline_stores_the_verdict_against_the_kk_noise(tmp_path):
    import shutil
    from pathlib import Path

    from iondyn.pipeline import run_batch
    from iondyn.pipeline.store import ResultStore

    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(Path(__file__).parent / "data" / "eis" / "exampleDataGamry.DTA", data)
    run = tmp_path / "run"
    assert run_batch([data], run, workers=0).ok == 1
    with ResultStore(run) as store:
        (row,) = store.query("SELECT value FROM parameter_table WHERE item='fit' AND name='misfit'")
        (doc,) = store.query("SELECT result_json FROM current_files")
    assert row["value"] == 1.0
    import json

    (spec,) = json.loads(doc["result_json"])["spectra"]
    misfit = spec["quality"]["misfit"]
    assert misfit["noise"] == spec["kk"]["noise_estimate"] and misfit["noise_ratio"] > 2


def test_model_switch_flag_on_the_spectra_of_one_file():
    from types import SimpleNamespace

    from iondyn.cli.eis_fit import _flag_model_switches

    def result(circuit, params):
        fit = SimpleNamespace(source="cycles.mpt", circuit=SimpleNamespace(string=circuit))
        fit.parameters = params
        return SimpleNamespace(fit=fit, warnings=[])

    results = [
        result("R0-p(R1,CPE1)-CPE2", {"R0": 17.0}),
        result("R0-p(R1,CPE1)-CPE2", {"R0": 17.2}),
        result("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3", {"R0": 1e-8}),
    ]
    _flag_model_switches(results)
    assert results[0].warnings == results[1].warnings == []
    (w,) = results[2].warnings
    assert "R0 went from 17.2 to 1e-08" in w and "--circuit R0-p(R1,CPE1)-CPE2" in w


@pytest.mark.slow
def test_correct_peak_models_are_not_called_misfits():
    from iondyn.saem import SAEM

    x = np.linspace(280.0, 292.0, 300)
    rng = np.random.default_rng(11)
    truth = (
        2000 * np.exp(-0.5 * ((x - 284.8) / 0.45) ** 2)
        + 800 * np.exp(-0.5 * ((x - 287.0) / 0.5) ** 2)
        + 50
    )
    spectra = [(x, rng.poisson(truth).astype(float)) for _ in range(200)]
    for likelihood in ("poisson", "gaussian"):
        fits = SAEM(n_peaks=2, background="constant", likelihood=likelihood).fit(spectra)
        alarms = sum(bool(f.quality["misfit"]["is_misfit"]) for f in fits)
        assert alarms <= 10, (likelihood, alarms)
