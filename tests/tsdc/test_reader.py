"""Reading TSDC files: units from headers, extra columns, heating rates, bad input."""

import numpy as np
import pytest

from iondyn.errors import DataError, FileFormatError, InputError
from iondyn.io.tsdc import read_tsdc, temperature_unit_of

OHA = "tests/data/tsdc/OHA_1.csv"


def _write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_real_file_celsius_header_current_density_and_reference_columns():
    c = read_tsdc(OHA, beta=5.0 / 60.0)
    assert c.n_points == 135
    assert c.temperature_K[0] == pytest.approx(33.0 + 273.15)
    assert c.temperature_K[-1] == pytest.approx(301.0 + 273.15)
    assert c.current_unit == "nA/cm2"
    assert c.current[0] == pytest.approx(0.007452302)
    assert c.beta_K_per_s == pytest.approx(5.0 / 60.0)
    refs = c.metadata["reference_curves"]
    assert sorted(refs) == ["model_1", "model_2", "model_3", "model_4"]
    assert refs["model_1"][0] == pytest.approx(0.009995872)
    assert c.metadata["warnings"] == []


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("Temperature [C]", "C"),
        ("T (°C)", "C"),
        ("T ℃", "C"),
        ("Temp_degC", "C"),
        ("T/K", "K"),
        ("Temperature (K)", "K"),
        ("temperature", None),
    ],
)
def test_temperature_units_from_headers(name, unit):
    assert temperature_unit_of(name) == unit


def test_degree_sign_header_in_windows_1252_and_pico_amperes(tmp_path):
    p = _write(
        tmp_path, "a.txt", "T (°C)\tI (pA)\n-50\t1,5\n-49\t2,5\n-48\t3\n-47\t2\n-46\t1\n", "cp1252"
    )
    c = read_tsdc(p, beta=0.1)
    assert c.temperature_K[0] == pytest.approx(223.15)
    assert c.current_unit == "pA" and c.current[0] == pytest.approx(1.5)


def test_celsius_symbol_header_and_rate_in_a_comment(tmp_path):
    p = _write(
        tmp_path,
        "b.csv",
        "# sample X, heating rate: 3 K/min\nT ℃;J [µA/cm²];extra\n"
        + "".join(f"{20 + i};{i * 0.1:.2f};9\n" for i in range(10)),
    )
    c = read_tsdc(p)
    assert c.beta_K_per_s == pytest.approx(0.05)
    assert c.temperature_K[0] == pytest.approx(293.15)
    assert c.current_unit == "uA/cm2"
    assert "extra" in c.metadata["reference_curves"]


def test_headerless_file_and_explicit_units(tmp_path):
    p = _write(tmp_path, "c.txt", "".join(f"{100 + i} {i * 1e-12:.3e}\n" for i in range(10)))
    c = read_tsdc(p, beta=0.1)
    assert c.temperature_K[0] == 100.0 and c.current_unit == "A"
    assert any("not stated" in w for w in c.metadata["warnings"])
    c2 = read_tsdc(p, beta=0.1, temperature_unit="C", current_unit="nA")
    assert c2.temperature_K[0] == pytest.approx(373.15) and c2.current_unit == "nA"


def test_cooling_segment_and_repeated_temperatures(tmp_path):
    rows = [100, 101, 102, 103, 102, 101, 102, 103, 104, 104, 105, 106, 107, 108]
    text = "T [K],I [A]\n" + "".join(f"{t},{i + 1}\n" for i, t in enumerate(rows))
    p = _write(tmp_path, "d.csv", text)
    with pytest.raises(DataError, match=r"d\.csv:6: the temperature decreases"):
        read_tsdc(p, beta=0.1)
    c = read_tsdc(p, beta=0.1, heating_segment=True)
    assert np.all(np.diff(c.temperature_K) > 0)
    assert c.temperature_K[0] == 101.0 and c.temperature_K[-1] == 108.0
    assert c.current[3] == pytest.approx(9.5)  # the two readings at 104 K averaged
    assert any("longest heating run" in w for w in c.metadata["warnings"])
    p2 = _write(tmp_path, "e.csv", "T [K],I [A]\n1,1\n2,1\n2,2\n3,1\n4,1\n5,1\n")
    with pytest.raises(DataError, match="repeats"):
        read_tsdc(p2, beta=0.1)


def test_bad_files(tmp_path):
    with pytest.raises(DataError, match="below 0 K"):
        read_tsdc(_write(tmp_path, "f.csv", "T [C],I\n-300,1\n-299,2\n"), beta=0.1)
    zero = "T [K],I [A]\n" + "".join(f"{100 + i},0\n" for i in range(8))
    with pytest.raises(DataError, match="zero everywhere"):
        read_tsdc(_write(tmp_path, "g.csv", zero), beta=0.1)
    with pytest.raises(FileFormatError, match=r"h\.csv:4: text in the numeric block"):
        read_tsdc(_write(tmp_path, "h.csv", "T,I\n1,2\n2,3\nabc,4\n"), beta=0.1)
    with pytest.raises(FileFormatError, match="one column"):
        read_tsdc(_write(tmp_path, "i.csv", "1\n2\n3\n"), beta=0.1)
    with pytest.raises(InputError, match="heating rate must be positive"):
        read_tsdc(OHA, beta=-1.0)
    with pytest.raises(FileFormatError, match="no such file"):
        read_tsdc(tmp_path / "missing.csv")
