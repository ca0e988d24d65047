"""Every real impedance file in tests/data/eis: counts, values and metadata.

The expected first/last points are read in each test straight from the file text with plain
string operations (independent of iondyn's parsers), then compared with what
``read_impedance`` returns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iondyn.errors import FileFormatError
from iondyn.io.detect import detect_impedance_format, sniff_kind
from iondyn.io.impedance import read_impedance

DATA = Path(__file__).parents[1] / "data" / "eis"


def _text(name: str) -> list[str]:
    raw = (DATA / name).read_bytes()
    text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("latin-1")
    return [ln for ln in text.replace("\r", "").split("\n") if ln.strip()]


def _gamry_rows(name: str) -> list[list[str]]:
    lines = _text(name)
    start = next(i for i, ln in enumerate(lines) if ln.startswith("ZCURVE")) + 3
    rows = []
    for ln in lines[start:]:
        if not ln.startswith("\t"):
            break
        rows.append(ln.split("\t")[1:])
    return [[r[2], r[3], r[4]] for r in rows]  # Freq, Zreal, Zimag


def _biologic_rows(name: str) -> list[list[str]]:
    lines = _text(name)
    header = next(i for i, ln in enumerate(lines) if ln.startswith("freq/Hz"))
    rows = [ln.split("\t") for ln in lines[header + 1 :]]
    return [[r[0], r[1], str(-float(r[2]))] for r in rows]  # -Im(Z) → Z''


def _after(name: str, marker: str, sep: str, cols: tuple[int, int, int]) -> list[list[str]]:
    lines = _text(name)
    start = next(i for i, ln in enumerate(lines) if ln.strip().startswith(marker)) + 1
    out = []
    for ln in lines[start:]:
        fields = ln.split(sep)
        out.append([fields[c].strip() for c in cols])
    return out


def _parstat_rows(name: str) -> list[list[str]]:
    rows = [ln.split("\t") for ln in _text(name)[1:]]
    return [[r[3], r[4], r[5]] for r in rows if float(r[3]) > 0]


def _versa_rows(name: str) -> list[list[str]]:
    lines = _text(name)
    start = next(i for i, ln in enumerate(lines) if ln.startswith("Definition=")) + 1
    end = next(i for i, ln in enumerate(lines) if ln.startswith("</Segment1>"))
    return [[r.split(",")[9], r.split(",")[14], r.split(",")[15]] for r in lines[start:end]]


def _powersuite_rows(name: str) -> list[list[str]]:
    raw = (DATA / name).read_bytes().decode("ascii")
    assert "\r\r\n" in raw  # the quirk this file stands for
    rows = [ln.split("\t") for ln in raw.split("\r\r\n")[1:] if ln.strip()]
    return [[r[0], r[1], r[2]] for r in rows]


# file, format, number of spectra, number of points, oracle rows, z_imag_sign, instrument part
CASES = [
    ("exampleDataBioLogic.mpt", "biologic-mpt", 1, 43, _biologic_rows, "flipped", "SP-150"),
    ("exampleDataGamry.DTA", "gamry", 1, 72, _gamry_rows, "as-read", "REF3000"),
    ("exampleDataGamryABORT.DTA", "gamry", 1, 72, _gamry_rows, "as-read", "REF600P"),
    (
        "exampleDataAutolab.txt",
        "autolab",
        1,
        41,
        lambda n: _after(n, '"  Freq (Hz)', ",", (0, 4, 5)),
        "as-read",
        None,
    ),
    (
        "exampleDataCHInstruments.txt",
        "chi",
        1,
        73,
        lambda n: _after(n, "Freq/Hz", ",", (0, 1, 2)),
        "as-read",
        "CHI660E",
    ),
    ("exampleDataParstat.txt", "parstat", 1, 31, _parstat_rows, "as-read", None),
    ("exampleDataVersaStudio.par", "versastudio", 1, 61, _versa_rows, "as-read", "VersaSTAT4"),
    ("exampleDataPowersuite.txt", "powersuite", 1, 30, _powersuite_rows, "as-read", None),
    (
        "exampleDataZPlot.z",
        "zview",
        1,
        21,
        lambda n: _after(n, "End Comments", "\t", (0, 4, 5)),
        "as-read",
        None,
    ),
    (
        "exampleDataZPlot_noComments.z",
        "zview",
        1,
        31,
        lambda n: _after(n, '"  Freq(Hz)', ",", (0, 4, 5)),
        "as-read",
        None,
    ),
    (
        "exampleData.csv",
        "generic",
        1,
        66,
        lambda n: [ln.split(",") for ln in _text(n)],
        "as-read",
        None,
    ),
    ("PDAC_COM3_02210_Contact111_2072C_350C.txt", "gamry", 1, 106, _gamry_rows, "as-read", None),
]


@pytest.mark.parametrize(("name", "fmt", "n_spectra", "n_points", "oracle", "sign", "inst"), CASES)
def test_real_file(name, fmt, n_spectra, n_points, oracle, sign, inst):
    spectra = read_impedance(DATA / name)
    assert len(spectra) == n_spectra
    s = spectra[0]
    assert s.n_points == n_points
    assert s.index == 0 and s.source == str(DATA / name)
    assert s.metadata["format"] == fmt
    assert detect_impedance_format(DATA / name) == fmt
    assert sniff_kind(DATA / name) == "impedance"
    rows = oracle(name)
    assert len(rows) == n_points
    expected = np.array([[float(v) for v in rows[i]] for i in (0, n_points // 2, -1)])
    got = np.array(
        [[s.frequency[i], s.z[i].real, s.z[i].imag] for i in (0, n_points // 2, n_points - 1)]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    # physics convention: capacitive Z'' < 0 at the lowest frequency of every one of these cells
    assert s.z.imag[np.argmin(s.frequency)] < 0
    assert s.metadata["z_imag_sign"] == sign
    assert s.metadata["z_imag_sign_reason"]
    if inst is None:
        assert s.instrument is None or isinstance(s.instrument, str)
    else:
        assert inst in s.instrument
    assert np.all(s.frequency > 0) and np.unique(s.frequency).size == s.n_points


def test_biologic_header_metadata():
    s = read_impedance(DATA / "exampleDataBioLogic.mpt")[0]
    assert s.metadata["electrode_area_cm2"] == pytest.approx(0.001)
    assert s.metadata["frequency_initial_Hz"] == pytest.approx(1000.0)
    assert s.metadata["frequency_final_Hz"] == pytest.approx(0.01)
    assert s.metadata["ac_amplitude_mV"] == pytest.approx(20.0)
    assert "v11.18" in s.metadata["software"]
    assert s.metadata["lines"] == [62, 104]
    assert s.temperature_K is None


def test_gamry_metadata_and_ocv_table_skipped():
    s = read_impedance(DATA / "exampleDataGamry.DTA")[0]
    m = s.metadata
    assert m["table"] == "ZCURVE" and m["drift_corrected"] is False
    assert m["dc_potential_V"] == pytest.approx(-0.05)
    assert m["ac_amplitude_mV_rms"] == pytest.approx(10.0)
    assert m["open_circuit_potential_V"] == pytest.approx(-0.2919803)
    assert m["units"]["Zphz"] == "°"  # Windows-1252 degree sign decoded
    assert m["warnings"] == []


def test_gamry_aborted_run_reports_it():
    s = read_impedance(DATA / "exampleDataGamryABORT.DTA")[0]
    assert s.metadata["aborted"] is True
    assert any("aborted" in w for w in s.metadata["warnings"])
    assert s.instrument == "Gamry REF600P-36072"
    # U+FFFD in the units row is kept as it is, the data are unaffected
    assert s.metadata["units"]["Zphz"] == "\ufffd"


def test_pdac_temperature_from_file_name():
    s = read_impedance(DATA / "PDAC_COM3_02210_Contact111_2072C_350C.txt")[0]
    assert s.temperature_K == pytest.approx(350 + 273.15)
    assert "file name" in s.metadata["temperature_source"]
    assert "2072C" in s.metadata["temperature_source"]  # the other token is reported
    assert s.metadata["header"]["Substrate Temp (C)"] == "2071.976333"
    off = read_impedance(
        DATA / "PDAC_COM3_02210_Contact111_2072C_350C.txt", temperature_from_name=False
    )[0]
    assert off.temperature_K is None


def test_zview_header_counts_disagree_rows_trusted():
    z = read_impedance(DATA / "exampleDataZPlot.z")[0]
    assert z.metadata["declared_points"] == 56 and z.n_points == 21
    assert any("56" in w and "21" in w for w in z.metadata["warnings"])
    q = read_impedance(DATA / "exampleDataZPlot_noComments.z")[0]
    assert q.metadata["declared_points"] == 79 and q.n_points == 31
    assert q.temperature_K == pytest.approx(800 + 273.15)  # "…, 800 C" comment line
    assert "800 C" in q.metadata["temperature_source"]


def test_parstat_dc_rows_skipped():
    s = read_impedance(DATA / "exampleDataParstat.txt")[0]
    assert s.metadata["n_rows_skipped_dc"] == 781
    assert s.frequency.max() == pytest.approx(1e4) and s.frequency.min() == pytest.approx(10.0)


def test_versastudio_action_metadata():
    s = read_impedance(DATA / "exampleDataVersaStudio.par")[0]
    assert s.metadata["action"] == "Potentiostatic EIS"
    assert s.metadata["segment"] == 1
    assert s.metadata["ac_amplitude_mV_rms"] == pytest.approx(20.0)


def test_missing_frequency_name_is_a_clear_error():
    path = DATA / "exampleDataBioLogic_MissingFreq.mpt"
    with pytest.raises(FileFormatError) as info:
        read_impedance(path)
    message = str(info.value)
    assert str(path) in message and "missing" in message and "\n" not in message
    assert info.value.line == 62


def test_content_not_extension_decides(tmp_path):
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes((DATA / "exampleDataGamry.DTA").read_bytes())
    assert detect_impedance_format(renamed) == "gamry"
    assert read_impedance(renamed)[0].n_points == 72
    text = (DATA / "exampleDataCHInstruments.txt").read_text()
    assert detect_impedance_format(text) == "chi"  # content passed as text
