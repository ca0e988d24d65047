"""The TSDC analyzer's τ0 settings (``tau0_s``, ``frequency_factor_per_s``, ``shared_tau0``)
from the TOML config to the stored parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from iondyn.errors import ConfigError, InputError
from iondyn.pipeline import PipelineConfig, get_analyzer
from iondyn.pipeline.analyzers_tsdc import analyze_tsdc
from iondyn.tsdc import TSDCPeak, simulate


@pytest.fixture(scope="module")
def curve_file(tmp_path_factory) -> Path:
    c = simulate(
        [TSDCPeak(0.6, 1e-13), TSDCPeak(0.9, 1e-13)], 0.1, 150.0, 400.0, noise=0.01, seed=2
    )
    path = tmp_path_factory.mktemp("tsdc_cfg") / "two.csv"
    with path.open("w") as fh:
        fh.write("T [K],J [A]\n")
        fh.writelines(f"{t:.4f},{j:.8e}\n" for t, j in zip(c.temperature_K, c.current))
    return path


def _settings(tmp_path: Path, text: str, target: Path) -> dict:
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text(text)
    cfg = PipelineConfig.from_file(cfg_file)
    return cfg.settings_for(str(target), get_analyzer("tsdc"))


def test_config_fixes_tau0_for_every_relaxation(tmp_path, curve_file):
    text = "[tsdc]\nbeta_K_per_min = 6.0\nn_peaks = 2\nmethods = false\ntau0_s = 1e-13\n"
    s = _settings(tmp_path, text, curve_file)
    assert s["tau0_s"] == 1e-13 and s["shared_tau0"] is False
    out = analyze_tsdc(curve_file, s)
    peaks = out.result["peaks"]
    assert [p["tau0_status"] for p in peaks] == ["fixed", "fixed"]
    assert [round(p["Ea_eV"], 2) for p in peaks] == [0.6, 0.9]
    assert out.result["tau0"]["mode"] == "fixed"
    rows = {(r.item, r.name): r for r in out.parameters}
    assert rows[("peak 1", "frequency_factor_per_s")].value == pytest.approx(1e13)
    assert rows[("peak 1", "frequency_factor_per_s")].unit == "1/s"
    assert rows[("peak 1", "tau0_s")].error == 0.0


def test_config_shares_tau0_from_a_rule(tmp_path, curve_file):
    text = (
        "[[rule]]\npattern = '*.csv'\nkind = 'tsdc'\nbeta_K_per_min = 6.0\nn_peaks = 2\n"
        "methods = false\nshared_tau0 = true\n"
    )
    s = _settings(tmp_path, text, curve_file)
    assert s["shared_tau0"] is True
    out = analyze_tsdc(curve_file, s)
    assert out.result["tau0"]["mode"] == "shared"
    rows = {(r.item, r.name): r for r in out.parameters}
    tau = rows[("curve", "tau0_s")]
    assert tau.unit == "s" and tau.error > 0
    assert abs(tau.value / 1e-13 - 1.0) < 3 * tau.error / tau.value + 0.05


def test_frequency_factor_setting_equals_tau0(tmp_path, curve_file):
    base = "[tsdc]\nbeta_K_per_min = 6.0\nn_peaks = 2\nmethods = false\n"
    a = analyze_tsdc(curve_file, _settings(tmp_path, base + "tau0_s = 1e-13\n", curve_file))
    b = analyze_tsdc(
        curve_file, _settings(tmp_path, base + "frequency_factor_per_s = 1e13\n", curve_file)
    )
    assert a.result["peaks"][1]["Ea_eV"] == pytest.approx(b.result["peaks"][1]["Ea_eV"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tsdc]\ntau0_s = -1e-13\n", "tau0_s must be > 0"),
        ("[tsdc]\ntau0_s = '1e-13 s'\n", "tau0_s must be a number"),
        ("[tsdc]\nshared_tau0 = 'yes'\n", "shared_tau0 must be true or false"),
        ("[tsdc]\ntau0 = 1e-13\n", "did you mean 'tau0_s'"),
    ],
)
def test_bad_tau0_settings(tmp_path, curve_file, text, message):
    with pytest.raises(ConfigError, match=message):
        _settings(tmp_path, text, curve_file)


def test_exclusive_settings_are_an_error_of_the_file(tmp_path, curve_file):
    text = "[tsdc]\nbeta_K_per_min = 6.0\ntau0_s = 1e-13\nshared_tau0 = true\n"
    with pytest.raises(InputError, match="exclude each other"):
        analyze_tsdc(curve_file, _settings(tmp_path, text, curve_file))
