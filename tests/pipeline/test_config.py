"""The TOML config: resolution order, manifests, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from iondyn.constants import ZERO_CELSIUS_K
from iondyn.errors import ConfigError
from iondyn.pipeline import PipelineConfig, get_analyzer
from iondyn.pipeline.config import settings_hash

GOOD = """
[defaults]
kind = "auto"
exclude = ["*.png"]

[peaks]
shape = "lorentzian"
background = "shirley"

[impedance]
max_arcs = 2

[[rule]]
pattern = "tsdc/*.csv"
kind = "tsdc"
beta_K_per_min = 5.0

[[rule]]
pattern = "pellet_*.txt"
thickness_cm = 0.1
area_cm2 = 0.785
temperature_manifest = "manifest.csv"

[[rule]]
pattern = ["pellet_3*.txt", "other/*.txt"]
area_cm2 = 0.5
shape = "voigt"
"""


def write(tmp_path: Path, text: str, manifest: str | None = None) -> Path:
    if manifest is not None:
        (tmp_path / "manifest.csv").write_text(manifest)
    p = tmp_path / "config.toml"
    p.write_text(text)
    return p


def test_resolution_order_rules_and_manifest(tmp_path):
    cfg = PipelineConfig.from_file(
        write(tmp_path, GOOD, "file,temperature_C\npellet_300.txt,300\npellet_1.txt,25.5\n")
    )
    eis, peaks, tsdc = (get_analyzer(k) for k in ("impedance", "peaks", "tsdc"))
    s = cfg.settings_for("/data/run1/pellet_300.txt", eis)
    assert s["max_arcs"] == 2  # section
    assert s["thickness_cm"] == 0.1  # first rule
    assert s["area_cm2"] == 0.5  # the later rule wins
    assert s["temperature_K"] == pytest.approx(300.0 + ZERO_CELSIUS_K)
    assert s["electrode"] == get_analyzer("impedance").settings["electrode"].default
    s1 = cfg.settings_for("/data/run1/pellet_1.txt", eis)
    assert s1["area_cm2"] == 0.785 and s1["temperature_K"] == pytest.approx(298.65)
    # a rule without kind gives the peaks keys to peaks files only
    assert cfg.settings_for("/x/pellet_300.txt", peaks)["shape"] == "voigt"
    assert cfg.settings_for("/x/pellet_1.txt", peaks)["shape"] == "lorentzian"
    assert "thickness_cm" not in cfg.settings_for("/x/pellet_300.txt", peaks)
    # kinds: from a rule (right-anchored pattern), else the default
    assert cfg.requested_kind("/lab/tsdc/a.csv") == "tsdc"
    assert cfg.requested_kind("/lab/a.csv") == "auto"
    assert cfg.settings_for("/lab/tsdc/a.csv", tsdc)["beta_K_per_min"] == 5.0
    assert cfg.is_excluded("/lab/plot.png") and not cfg.is_excluded("/lab/plot.csv")
    assert str((tmp_path / "manifest.csv").resolve()) in cfg.own_files


def test_settings_hash_is_stable_and_sensitive(tmp_path):
    cfg = PipelineConfig.from_file(write(tmp_path, GOOD, "file,T (K)\na.txt,300\n"))
    eis = get_analyzer("impedance")
    a = cfg.settings_for("/d/pellet_9.txt", eis)
    b = dict(reversed(list(a.items())))  # key order must not matter
    assert settings_hash("impedance", a, "1") == settings_hash("impedance", b, "1")
    assert settings_hash("impedance", a, "1") != settings_hash("impedance", a, "2")
    changed = dict(a, thickness_cm=0.2)
    assert settings_hash("impedance", a, "1") != settings_hash("impedance", changed, "1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[peaks]\nshpe = 'gaussian'\n", "unknown key 'shpe' in [peaks]"),
        ("[peaks]\nshpe = 'gaussian'\n", "did you mean 'shape'"),
        ("[peaks]\nthickness_cm = 0.1\n", "belongs in [impedance], not [peaks]"),
        ("[impedance]\nthickness_cm = -0.1\n", "thickness_cm must be > 0"),
        ("[impedance]\nthickness_cm = '1 mm'\n", "thickness_cm must be a number (cm)"),
        ("[tsdc]\nbeta = 5\n", "did you mean 'beta_K_per_min'"),
        ("[[rule]]\npattern = 'a*'\nbeta_K_per_min = 0\n", "beta_K_per_min must be > 0"),
        ("[[rule]]\nkind = 'tsdc'\n", "[[rule]] 1 has no pattern"),
        ("[[rule]]\npattern = 'x'\nkind = 'peaks'\narea_cm2 = 1\n", "is a impedance setting"),
        ("[[rule]]\npattern = 'x'\nkind = 'xps'\n", "kind must be one of"),
        ("[[rule]]\npattern = 'x'\nfoo = 1\n", "unknown key 'foo'"),
        ("[eis]\nmax_arcs = 2\n", "unknown section [eis]"),
        ("[defaults]\nworkers = 2\n", "unknown key 'workers' in [defaults]"),
        ("[peaks]\nn_peaks = 'many'\n", "n_peaks must be a positive integer or 'auto'"),
        ("[peaks]\nshape = 'triangle'\n", "shape must be one of"),
        ("[impedance]\nkk = 'yes'\n", "kk must be true or false"),
        ("[peaks\nshape = 1\n", "invalid TOML"),
    ],
)
def test_bad_configs_name_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        PipelineConfig.from_file(path)
    message = str(info.value)
    assert expected in message
    assert message.startswith(str(path))
    assert "\n" not in message


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ("file,temperature\na.txt,300\n", "temperature column with its unit"),
        ("name,temperature_K\na.txt,hot\n", "manifest.csv:2: not a temperature"),
        ("file,temperature_C\na.txt,-300\n", "is not above 0 K"),
        ("sample,temperature_K\na.txt,300\n", "no 'file' column"),
    ],
)
def test_bad_manifests(tmp_path, manifest, expected):
    text = "[[rule]]\npattern = '*.txt'\ntemperature_manifest = 'manifest.csv'\n"
    with pytest.raises(ConfigError, match="manifest") as info:
        PipelineConfig.from_file(write(tmp_path, text, manifest))
    assert expected in str(info.value)


def test_missing_config_and_manifest_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file"):
        PipelineConfig.from_file(tmp_path / "nope.toml")
    text = "[[rule]]\npattern = '*.txt'\ntemperature_manifest = 'missing.csv'\n"
    with pytest.raises(ConfigError, match=r"temperature_manifest: cannot read .*missing\.csv"):
        PipelineConfig.from_file(write(tmp_path, text))
