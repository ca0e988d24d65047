"""iondyn's own BioLogic .mpr reader, against EC-Lab's text export of the same measurement."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from iondyn.cli import main
from iondyn.errors import FileFormatError
from iondyn.io.detect import detect_impedance_format
from iondyn.io.eis_biologic_mpr import parse_mpr
from iondyn.io.impedance import list_impedance_formats, read_impedance

DATA = Path(__file__).parents[1] / "data" / "eis"
MPR = DATA / "PEIS_LPSCl_IonBlocking_-25C.mpr"
TXT = DATA / "PEIS_LPSCl_IonBlocking_-25C.txt"
# Byte offsets of the modules of the real file ("MODULE" markers), found with a hex viewer.
SET_AT, DATA_AT, LOG_AT = 52, 6864, 13624
HEADER = 65  # "MODULE" + names + 4 u4 + date (EC-Lab >= 11.50 layout)


def _txt_columns() -> dict[str, np.ndarray]:
    """The columns of the .txt export, parsed here without iondyn ('Nb header lines : 65')."""
    lines = TXT.read_bytes().decode("latin-1").splitlines()
    assert lines[1].split(":")[1].strip() == "65"
    names = [n for n in lines[64].split("\t") if n]
    rows = [[float(x) for x in ln.split("\t")] for ln in lines[65:] if ln.strip()]
    return dict(zip(names, np.array(rows).T, strict=True))


def _copy(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_mpr_equals_txt_export():
    (mpr,) = read_impedance(MPR)
    (txt,) = read_impedance(TXT)
    assert mpr.n_points == txt.n_points == 79
    np.testing.assert_allclose(mpr.frequency, txt.frequency, rtol=1e-6, atol=0)
    np.testing.assert_allclose(mpr.z.real, txt.z.real, rtol=1e-6, atol=0)
    np.testing.assert_allclose(mpr.z.imag, txt.z.imag, rtol=1e-6, atol=0)
    # same sign convention: -Im(Z) negated, so a blocking electrode has Z'' < 0 at low frequency
    assert np.array_equal(np.sign(mpr.z.imag), np.sign(txt.z.imag)) and mpr.z.imag[-1] < 0
    meta = mpr.metadata
    assert meta["format"] == "biologic-mpr" and meta["reader"] == "iondyn"
    assert meta["z_imag_sign"] == "flipped" and meta["split_by"] == "none"
    # the export's header says "Acquisition started on : 05/15/2025 01:18:45.867",
    # "EC-LAB for windows v11.61", "Run on channel : 1 (SN 15255)", "Device : SP-300 (SN 1787)"
    assert txt.metadata["acquisition_start"] == "05/15/2025 01:18:45.867"
    assert meta["acquisition_start"] == "2025-05-15T01:18:45.867"
    assert meta["software"] == "EC-Lab v11.61" and txt.metadata["software"].endswith("v11.61")
    assert meta["channel"] == txt.metadata["channel"] == "1 (SN 15255)"
    assert mpr.instrument == "BioLogic (SN 1787)" and "(SN 1787)" in txt.instrument
    assert meta["mpr_modules"] == ["VMP Set", "VMP data", "VMP LOG"]
    assert meta["time_s"] == pytest.approx(txt.metadata["time_s"], rel=1e-12)
    assert detect_impedance_format(MPR) == "biologic-mpr"


def test_every_exported_column_matches():
    mpr = parse_mpr(MPR.read_bytes(), str(MPR)).columns
    txt = _txt_columns()
    assert len(txt) == 10 and set(txt) <= set(mpr)
    for name, values in txt.items():
        np.testing.assert_allclose(mpr[name], values, rtol=1e-6, atol=1e-12, err_msg=name)
    # columns the export left out, checked through physics: Cs = 1/(ω·(−Im Z)), |Z| = |E|/|I|
    f, im = mpr["freq/Hz"].astype(float), mpr["-Im(Z)/Ohm"].astype(float)
    np.testing.assert_allclose(mpr["Cs/µF"], 1e6 / (2 * np.pi * f * im), rtol=1e-5)
    np.testing.assert_allclose(mpr["|Ewe|/V"] / mpr["|I|/A"], mpr["|Z|/Ohm"], rtol=1e-6)
    assert list(mpr)[:3] == ["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm"]


def test_format_entry_needs_no_optional_package():
    entry = next(f for f in list_impedance_formats() if f.name == "biologic-mpr")
    assert entry.requires is None and entry.binary
    assert "galvani" not in entry.description and "GPL" not in entry.description


@pytest.mark.parametrize(
    "cut",
    [
        SET_AT + 3,  # inside the first "MODULE" marker
        DATA_AT + 30,  # inside the data module's header
        DATA_AT + HEADER + 3000,  # inside the records
        LOG_AT + HEADER + 100,  # inside the last module
        len(MPR.read_bytes()) - 1,  # one byte short
    ],
)
def test_truncated_copy_is_one_line_error(tmp_path, cut):
    path = _copy(tmp_path, "truncated.mpr", MPR.read_bytes()[:cut])
    with pytest.raises(FileFormatError) as info:
        read_impedance(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert info.value.path == str(path) and "truncated" in message


def test_copy_cut_at_a_module_boundary_still_reads(tmp_path):
    path = _copy(tmp_path, "no_log.mpr", MPR.read_bytes()[:LOG_AT])
    (s,) = read_impedance(path)
    assert s.n_points == 79 and s.metadata["mpr_modules"] == ["VMP Set", "VMP data"]
    assert s.metadata["acquisition_start"] == "2025-05-15"  # from the module dates ("05.15.25")


def _patched(offset: int, new: bytes) -> bytes:
    data = bytearray(MPR.read_bytes())
    data[offset : offset + len(new)] = new
    return bytes(data)


IDS_AT = DATA_AT + HEADER + 5  # u4 points, u1 columns, then big-endian u2 ids


@pytest.mark.parametrize(
    ("new", "offset", "expected"),
    [
        (b"XXXXXX", DATA_AT, f"expected 'MODULE' at byte {DATA_AT}"),
        (struct.pack(">H", 999), IDS_AT + 2, "column id 999 (after column id 32) is unknown"),
        (struct.pack(">H", 4), IDS_AT + 2, "need"),  # Re(Z) (f4) turned into time (f8)
        (struct.pack("<I", 80), DATA_AT + HEADER, "80 points"),
        (struct.pack("<I", 10**6), DATA_AT + 39 + 6, "truncated"),  # module length
        (struct.pack("<I", 7), DATA_AT + 43 + 6, "unsupported .mpr data module version 7"),
        (b"\x00" * 4, DATA_AT + HEADER, "no data points"),
    ],
)
def test_corrupted_copy_is_one_line_error(tmp_path, new, offset, expected):
    path = _copy(tmp_path, "corrupt.mpr", _patched(offset, new))
    with pytest.raises(FileFormatError) as info:
        read_impedance(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert expected in message


def test_not_an_mpr_file(tmp_path):
    path = _copy(tmp_path, "fake.mpr", bytes(range(256)) * 4)
    with pytest.raises(FileFormatError, match="BIO-LOGIC MODULAR FILE"):
        read_impedance(path)


# --- the other data-module layouts, written here from the real spectrum -------------------


def _module(short: bytes, body: bytes, version: int) -> bytes:
    """A module in the pre-11.50 header layout: names, length, version, date."""
    head = short.ljust(10) + short.ljust(25) + struct.pack("<2I", len(body), version)
    return b"MODULE" + head + b"04/02/18" + body


def _synthetic_mpr(version: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    (txt,) = read_impedance(TXT)
    f, z = txt.frequency, txt.z
    n = f.size
    ids = [1, 3, 32, 37, 38, 469]  # flags (mode, error) share one byte, then f, Z', -Z'', z cycle
    rec = np.dtype([("flags", "u1"), ("f", "<f4"), ("re", "<f4"), ("mim", "<f4"), ("zc", "<u4")])
    records = np.zeros(2 * n, rec)
    records["flags"] = np.r_[np.full(n, 0x01), np.full(n, 0x0A)]  # mode 1 / mode 2 + error
    records["f"] = np.r_[f, f]
    records["re"] = np.r_[z.real, 2 * z.real]
    records["mim"] = np.r_[-z.imag, -z.imag]
    records["zc"] = np.r_[np.zeros(n), np.ones(n)]
    first = 405 if version == 2 else 406
    head = struct.pack("<IB", 2 * n, len(ids)) + struct.pack(f"<{len(ids)}H", *ids)
    body = head.ljust(first, b"\x00") + records.tobytes()
    magic = b"BIO-LOGIC MODULAR FILE\x1a".ljust(48) + b"\x00" * 4
    data = magic + _module(b"VMP Set", b"\x00" * 16, 0) + _module(b"VMP data", body, version)
    return data, f, z


@pytest.mark.parametrize("version", [2, 3])
def test_older_layouts_flags_and_z_cycle(tmp_path, version):
    data, f, z = _synthetic_mpr(version)
    columns = parse_mpr(data, "synthetic.mpr").columns
    assert list(columns) == ["mode", "error", "freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "z cycle"]
    assert set(columns["mode"][:79]) == {1} and set(columns["mode"][79:]) == {2}
    assert set(columns["error"][:79]) == {0} and set(columns["error"][79:]) == {1}
    spectra = read_impedance(_copy(tmp_path, f"v{version}.mpr", data))
    assert len(spectra) == 2 and "z cycle" in spectra[0].metadata["split_by"]
    np.testing.assert_allclose(spectra[0].frequency, f, rtol=1e-6)
    np.testing.assert_allclose(spectra[1].z.real, 2 * z.real, rtol=1e-6)
    np.testing.assert_allclose(spectra[1].z.imag, z.imag, rtol=1e-6)
    assert spectra[0].metadata["acquisition_start"] == "2018-04-02"
    assert spectra[0].instrument == "BioLogic (EC-Lab .mpr)"  # no LOG module to name it


def test_cli_json(capsys):
    assert main(["eis", "read", str(MPR), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["errors"] == []
    (spectrum,) = doc["spectra"]
    assert spectrum["n_points"] == 79 and spectrum["metadata"]["format"] == "biologic-mpr"
    txt = _txt_columns()
    np.testing.assert_allclose(spectrum["frequency_Hz"], txt["freq/Hz"], rtol=1e-6)
    np.testing.assert_allclose(spectrum["z_real_ohm"], txt["Re(Z)/Ohm"], rtol=1e-6)
    np.testing.assert_allclose(spectrum["z_imag_ohm"], -txt["-Im(Z)/Ohm"], rtol=1e-6)


def test_cli_corrupt_file_exit_code_2(capsys, tmp_path):
    path = _copy(tmp_path, "cut.mpr", MPR.read_bytes()[: DATA_AT + 500])
    assert main(["eis", "read", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"iondyn: error: {path}: truncated")
