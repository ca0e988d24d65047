"""Generic CSV/TXT impedance tables, written in tmp_path from a known R–(R‖C) model.

Truth: Z(f) = R0 + R1 / (1 + i 2πf R1 C1), evaluated here in closed form; files are written with
10 significant digits, so values must come back to a relative 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.errors import DataError, FileFormatError
from iondyn.io.detect import detect_impedance_format
from iondyn.io.impedance import read_impedance

R0, R1, C1 = 50.0, 1.0e3, 1.0e-6
F = np.logspace(5, -1, 25)  # high to low, as instruments sweep
Z = R0 + R1 / (1 + 1j * 2 * np.pi * F * R1 * C1)


def _fmt(x: float, comma: bool = False) -> str:
    s = f"{x:.10e}"
    return s.replace(".", ",") if comma else s


def _write(tmp_path, name: str, lines: list[str]) -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _check(spectrum, f=F, z=Z):
    np.testing.assert_allclose(spectrum.frequency, f, rtol=1e-9)
    np.testing.assert_allclose(spectrum.z.real, z.real, rtol=1e-9)
    np.testing.assert_allclose(spectrum.z.imag, z.imag, rtol=1e-9)
    assert np.all(spectrum.z.imag < 0)  # an R-(RC) is capacitive everywhere


def test_columns_in_any_order_with_units(tmp_path):
    lines = ["Z_imag [kOhm],time/s,Frequency (kHz),Z_real [kOhm]"]
    for k, (f, z) in enumerate(zip(F, Z)):
        lines.append(f"{_fmt(z.imag / 1e3)},{k},{_fmt(f / 1e3)},{_fmt(z.real / 1e3)}")
    path = _write(tmp_path, "any_order.csv", lines)
    (s,) = read_impedance(path)
    _check(s)
    assert s.metadata["format"] == "generic"
    assert s.metadata["z_imag_sign"] == "as-read"
    assert s.metadata["time_s"] == [0.0, float(len(F) - 1)]


def test_decimal_comma_and_semicolon(tmp_path):
    lines = ["Freq (Hz);Zre (Ohm);Zim (Ohm)"]
    lines += [f"{_fmt(f, True)};{_fmt(z.real, True)};{_fmt(z.imag, True)}" for f, z in zip(F, Z)]
    (s,) = read_impedance(_write(tmp_path, "comma.csv", lines))
    _check(s)
    assert s.metadata["delimiter"] == ";"


def test_quoted_decimal_comma_with_comma_delimiter(tmp_path):
    lines = ['"f / Hz","Re(Z) / Ohm","Im(Z) / Ohm"']
    lines += [
        f'"{_fmt(f, True)}","{_fmt(z.real, True)}","{_fmt(z.imag, True)}"' for f, z in zip(F, Z)
    ]
    (s,) = read_impedance(_write(tmp_path, "quoted.csv", lines))
    _check(s)


def test_minus_z_imag_header_is_negated(tmp_path):
    lines = ["frequency\tZ'\t-Z''"]
    lines += [f"{_fmt(f)}\t{_fmt(z.real)}\t{_fmt(-z.imag)}" for f, z in zip(F, Z)]
    (s,) = read_impedance(_write(tmp_path, "minus.txt", lines))
    _check(s)
    assert s.metadata["z_imag_sign"] == "flipped"
    assert "-Z''" in s.metadata["z_imag_sign_reason"]


def test_modulus_and_phase(tmp_path):
    lines = ["# modulus and phase, written by numpy.savetxt", "# f (Hz), |Z| (Ohm), Phase (deg)"]
    lines += [f"{_fmt(f)}, {_fmt(abs(z))}, {_fmt(np.degrees(np.angle(z)))}" for f, z in zip(F, Z)]
    (s,) = read_impedance(_write(tmp_path, "bode.csv", lines))
    _check(s)
    assert "phase" in s.metadata["z_from"]


def test_nova_style_minus_phase_in_radians_and_megahertz(tmp_path):
    lines = ["Frequency (MHz)\tZ (Ω)\t-Phase (rad)"]
    lines += [f"{_fmt(f / 1e6)}\t{_fmt(abs(z))}\t{_fmt(-np.angle(z))}" for f, z in zip(F, Z)]
    (s,) = read_impedance(_write(tmp_path, "mhz.txt", lines))
    _check(s)


def test_autolab_nova_export(tmp_path):
    lines = ["Index;Frequency (Hz);Z' (Ω);-Z'' (Ω);Z (Ω);-Phase (°);Time (s)"]
    for k, (f, z) in enumerate(zip(F, Z)):
        fields = [str(k + 1), _fmt(f, True), _fmt(z.real, True), _fmt(-z.imag, True)]
        fields += [_fmt(abs(z), True), _fmt(-np.degrees(np.angle(z)), True), f"{k},5"]
        lines.append(";".join(fields))
    path = _write(tmp_path, "nova.txt", lines)
    assert detect_impedance_format(path) == "autolab"
    (s,) = read_impedance(path)
    _check(s)
    assert s.instrument == "Metrohm Autolab (NOVA)"
    assert s.metadata["z_imag_sign"] == "flipped"


@pytest.mark.parametrize("negated", [False, True])
def test_headerless_three_columns_sign_detected(tmp_path, negated):
    sign = -1.0 if negated else 1.0
    lines = [f"{_fmt(f)} {_fmt(z.real)} {_fmt(sign * z.imag)}" for f, z in zip(F, Z)]
    (s,) = read_impedance(_write(tmp_path, "bare.txt", lines))
    _check(s)
    assert s.metadata["z_imag_sign"] == ("flipped" if negated else "as-read")
    assert "lower-frequency half" in s.metadata["z_imag_sign_reason"]


def test_headerless_inductive_high_frequency_keeps_sign(tmp_path):
    # an inductance makes the high-frequency Z'' positive; the low end decides, not the majority
    z = Z + 1j * 2 * np.pi * F * 2e-3
    assert np.mean(z.imag > 0) > 0.2
    lines = [f"{_fmt(f)},{_fmt(v.real)},{_fmt(v.imag)}" for f, v in zip(F, z)]
    (s,) = read_impedance(_write(tmp_path, "ind.csv", lines))
    np.testing.assert_allclose(s.z.imag, z.imag, rtol=1e-9)
    assert s.metadata["z_imag_sign"] == "as-read"


def test_headerless_five_columns_like_chi(tmp_path):
    lines = [
        ", ".join(_fmt(v) for v in (f, z.real, z.imag, abs(z), np.degrees(np.angle(z))))
        for f, z in zip(F, Z)
    ]
    (s,) = read_impedance(_write(tmp_path, "five.csv", lines))
    _check(s)
    with pytest.raises(FileFormatError, match="3 columns"):
        bad = [f"{_fmt(f)}, {_fmt(z.real)}, {_fmt(z.imag)}, 1.0" for f, z in zip(F, Z)]
        read_impedance(_write(tmp_path, "four.csv", bad))


def test_plain_z_imag_header_that_looks_negated_warns(tmp_path):
    lines = ["f,Zre,Zim"] + [f"{_fmt(f)},{_fmt(z.real)},{_fmt(-z.imag)}" for f, z in zip(F, Z)]
    (s,) = read_impedance(_write(tmp_path, "suspect.csv", lines))
    np.testing.assert_allclose(s.z.imag, -Z.imag, rtol=1e-9)  # read as written …
    assert any("-Z''" in w for w in s.metadata["warnings"])  # … with a warning


def test_units_line_below_names(tmp_path):
    lines = ["Freq, Zreal, Zimag", "kHz, kOhm, kOhm"]
    lines += [f"{_fmt(f / 1e3)}, {_fmt(z.real / 1e3)}, {_fmt(z.imag / 1e3)}" for f, z in zip(F, Z)]
    (s,) = read_impedance(_write(tmp_path, "units.csv", lines))
    _check(s)


def test_several_blocks_and_restarts_give_several_spectra(tmp_path):
    z2 = 2 * Z
    block = [f"{_fmt(f)},{_fmt(z.real)},{_fmt(z.imag)}" for f, z in zip(F, Z)]
    block2 = [f"{_fmt(f)},{_fmt(z.real)},{_fmt(z.imag)}" for f, z in zip(F, z2)]
    # two blocks separated by a blank line and a header
    path = _write(tmp_path, "blocks.csv", ["f,Z',Z''", *block, "", "f,Z',Z''", *block2])
    spectra = read_impedance(path)
    assert [s.index for s in spectra] == [0, 1]
    _check(spectra[0])
    _check(spectra[1], z=z2)
    # one block where the sweep restarts
    spectra = read_impedance(_write(tmp_path, "restart.csv", ["f,Z',Z''", *block, *block2]))
    assert len(spectra) == 2 and spectra[1].metadata["split_by"] == "frequency restart"
    _check(spectra[1], z=z2)


def test_nan_rows_dropped_with_warning(tmp_path):
    lines = ["f,Z',Z''"] + [f"{_fmt(f)},{_fmt(z.real)},{_fmt(z.imag)}" for f, z in zip(F, Z)]
    lines[5] = f"{_fmt(F[4])},,{_fmt(Z[4].imag)}"
    lines[9] = f"{_fmt(F[8])},nan,{_fmt(Z[8].imag)}"
    (s,) = read_impedance(_write(tmp_path, "nan.csv", lines))
    keep = np.ones(F.size, bool)
    keep[[4, 8]] = False
    _check(s, F[keep], Z[keep])
    assert any("dropped 2 row(s)" in w and "6, 10" in w for w in s.metadata["warnings"])


@pytest.mark.parametrize(
    ("row", "error", "text"),
    [
        ("0,1,-1", DataError, "not positive"),
        ("-5,1,-1", DataError, "not positive"),
        ("inf,1,-1", DataError, "infinite"),
        ("10,1,-1,4", FileFormatError, "fields"),
        ("10,abc,-1", FileFormatError, "not a number"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, row, error, text):
    lines = ["f,Z',Z''", "1000,1,-1", "100,2,-3", row, "1,3,-5"]
    path = _write(tmp_path, "bad.csv", lines)
    with pytest.raises(error) as info:
        read_impedance(path)
    assert text in str(info.value)
    assert str(info.value).startswith(f"{path}:4:")


def test_duplicate_frequency_is_an_error(tmp_path):
    lines = ["f,Z',Z''", "1000,1,-1", "100,2,-3", "100,2,-3", "10,3,-5"]
    path = _write(tmp_path, "dup.csv", lines)
    with pytest.raises(DataError, match=r"100 Hz appears twice .*lines 3 and 4"):
        read_impedance(path)


def test_ambiguous_unit_is_an_error(tmp_path):
    path = _write(tmp_path, "mhz.csv", ["f (mhz),Z',Z''", "1,2,-3", "2,3,-4"])
    with pytest.raises(FileFormatError, match="ambiguous frequency unit 'mhz'"):
        read_impedance(path)


def test_header_width_mismatch(tmp_path):
    path = _write(tmp_path, "w.csv", ["f,Z',Z'',|Z|", "1,2,-3", "2,3,-4"])
    with pytest.raises(FileFormatError, match="names 4 columns but the data rows have 3"):
        read_impedance(path)


def test_area_specific_impedance_is_flagged(tmp_path):
    lines = ["f (Hz),Z' (Ohm cm2),Z'' (Ohm cm2)"]
    lines += [f"{_fmt(f)},{_fmt(z.real)},{_fmt(z.imag)}" for f, z in zip(F, Z)]
    (s,) = read_impedance(_write(tmp_path, "asr.csv", lines))
    _check(s)
    assert s.metadata["z_unit_in_file"] == "Ohm cm2"
    assert any("area-specific" in w for w in s.metadata["warnings"])


def test_temperature_from_name_and_comment(tmp_path):
    body = [f"{_fmt(f)},{_fmt(z.real)},{_fmt(z.imag)}" for f, z in zip(F, Z)]
    (s,) = read_impedance(_write(tmp_path, "LLZO_pellet_25C.csv", body))
    assert s.temperature_K == pytest.approx(298.15)
    (s,) = read_impedance(_write(tmp_path, "pellet.csv", ["# LLZO, 400 K, dry air", *body]))
    assert s.temperature_K == pytest.approx(400.0)
    assert "400 K" in s.metadata["temperature_source"]


def test_temperature_column_gives_mean_temperature(tmp_path):
    lines = ["Freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\tTemperature/°C"]
    lines += [
        f"{_fmt(f)}\t{_fmt(z.real)}\t{_fmt(-z.imag)}\t{25 + 0.1 * k}"
        for k, (f, z) in enumerate(zip(F, Z))
    ]
    (s,) = read_impedance(_write(tmp_path, "tcol.txt", lines))
    _check(s)
    assert s.temperature_K == pytest.approx(273.15 + 25 + 0.1 * (F.size - 1) / 2)
    assert "Temperature/°C" in s.metadata["temperature_source"]
