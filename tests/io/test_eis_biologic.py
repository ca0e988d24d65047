"""BioLogic .mpt multi-spectrum files (built from the real file) and the optional .mpr reader."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from iondyn.errors import FileFormatError
from iondyn.io.detect import detect_impedance_format
from iondyn.io.impedance import read_impedance

DATA = Path(__file__).parents[1] / "data" / "eis"
REAL = DATA / "exampleDataBioLogic.mpt"


def _parts() -> tuple[list[str], str, list[list[str]]]:
    """Header lines, the column-name line and the data rows (as fields) of the real file."""
    lines = REAL.read_bytes().decode("latin-1").split("\n")
    header = [ln.rstrip("\r") for ln in lines[:60]]
    columns = lines[60].rstrip("\r")
    rows = [ln.split("\t") for ln in lines[61:] if ln.strip()]
    return header, columns, rows


def _write(path: Path, header, columns, rows) -> Path:
    n = len(header) + 1
    header = [header[0], f"Nb header lines : {n}"] + header[2:]
    text = "\n".join(header + [columns] + ["\t".join(r) for r in rows])
    path.write_bytes(text.encode("latin-1"))
    return path


def _oracle(rows):
    f = np.array([float(r[0]) for r in rows])
    z = np.array([float(r[1]) - 1j * float(r[2]) for r in rows])
    return f, z


def test_two_cycles_become_two_spectra(tmp_path):
    header, columns, rows = _parts()
    cycle = columns.split("\t").index("cycle number")
    second = [list(r) for r in rows]
    for r in second:
        r[1] = repr(2 * float(r[1]))  # a different second spectrum
        r[cycle] = "2.000000000000000E+000"
    path = _write(tmp_path / "two.mpt", header, columns, rows + second)
    spectra = read_impedance(path)
    assert [s.n_points for s in spectra] == [43, 43]
    assert [s.index for s in spectra] == [0, 1]
    assert "cycle number" in spectra[0].metadata["split_by"]
    assert [s.metadata["cycle"] for s in spectra] == [1.0, 2.0]
    for s, block in zip(spectra, (rows, second)):
        f, z = _oracle(block)
        np.testing.assert_allclose(s.frequency, f, rtol=1e-12)
        np.testing.assert_allclose(s.z, z, rtol=1e-12)
    assert spectra[1].metadata["lines"] == [62 + 43, 62 + 85]


def test_restart_without_cycle_change_splits_too(tmp_path):
    header, columns, rows = _parts()
    path = _write(tmp_path / "same_cycle.mpt", header, columns, rows + rows)
    spectra = read_impedance(path)
    assert len(spectra) == 2
    assert spectra[1].metadata["split_by"] == "frequency restart"


def test_z_cycle_column_preferred_and_dc_rows_skipped(tmp_path):
    header, columns, rows = _parts()
    columns = columns.rstrip("\t") + "\tz cycle"
    rows = [[*r, "1"] for r in rows] + [[*r, "2"] for r in rows]
    dc = list(rows[0])
    dc[0] = "0.0000000E+000"  # a row of another technique in the same file
    path = _write(tmp_path / "zcycle.mpt", header, columns, [dc, *rows])
    spectra = read_impedance(path)
    assert len(spectra) == 2 and "z cycle" in spectra[0].metadata["split_by"]
    assert spectra[0].metadata["n_rows_skipped_dc"] == 1


def test_decimal_commas_and_no_header(tmp_path):
    _, columns, rows = _parts()
    text = "\n".join([columns] + ["\t".join(f.replace(".", ",") for f in r) for r in rows])
    path = tmp_path / "export_no_header.mpt"
    path.write_text(text, encoding="utf-8")
    assert detect_impedance_format(path) == "biologic-mpt"
    (s,) = read_impedance(path)
    f, z = _oracle(rows)
    np.testing.assert_allclose(s.frequency, f, rtol=1e-12)
    np.testing.assert_allclose(s.z, z, rtol=1e-12)


def test_wrong_header_count_is_recovered_with_warning(tmp_path):
    header, columns, rows = _parts()
    path = tmp_path / "badcount.mpt"
    lines = (
        [header[0], "Nb header lines : 40"] + header[2:] + [columns] + ["\t".join(r) for r in rows]
    )
    path.write_bytes("\n".join(lines).encode("latin-1"))
    (s,) = read_impedance(path)
    assert s.n_points == 43
    assert any("Nb header lines : 40" in w for w in s.metadata["warnings"])


# --- .mpr (binary) -------------------------------------------------------------------------


def _mpr_file(tmp_path) -> Path:
    path = tmp_path / "run.mpr"
    path.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a                         \x00\x01\x02\x03")
    return path


def test_mpr_without_galvani_names_file_and_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "galvani", None)  # import galvani -> ImportError
    path = _mpr_file(tmp_path)
    assert detect_impedance_format(path) == "biologic-mpr"
    with pytest.raises(FileFormatError) as info:
        read_impedance(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "galvani" in message and "pip install" in message
    assert ".mpt" in message and "\n" not in message


def _fake_galvani(data: np.ndarray | Exception) -> types.ModuleType:
    class MPRfile:
        def __init__(self, path):
            if isinstance(data, Exception):
                raise data
            self.data = data
            self.startdate = "2018-04-02"
            self.version = 3

    module = types.ModuleType("galvani")
    module.BioLogic = types.SimpleNamespace(MPRfile=MPRfile)
    return module


def test_mpr_through_galvani_api(tmp_path, monkeypatch):
    _, _, rows = _parts()
    f, z = _oracle(rows)
    n = f.size
    dtype = [("freq/Hz", "<f4"), ("Re(Z)/Ohm", "<f4"), ("-Im(Z)/Ohm", "<f4"), ("z cycle", "<u4")]
    data = np.zeros(2 * n, dtype=dtype)
    data["freq/Hz"] = np.r_[f, f]
    data["Re(Z)/Ohm"] = np.r_[z.real, 2 * z.real]
    data["-Im(Z)/Ohm"] = np.r_[-z.imag, -z.imag]
    data["z cycle"] = np.r_[np.ones(n), 2 * np.ones(n)]
    monkeypatch.setitem(sys.modules, "galvani", _fake_galvani(data))
    spectra = read_impedance(_mpr_file(tmp_path))
    assert len(spectra) == 2 and spectra[0].metadata["format"] == "biologic-mpr"
    np.testing.assert_allclose(spectra[1].z.real, 2 * z.real, rtol=1e-6)  # float32 storage
    np.testing.assert_allclose(spectra[0].z.imag, z.imag, rtol=1e-6)
    assert spectra[0].metadata["acquisition_start"] == "2018-04-02"


def test_mpr_parser_failure_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "galvani", _fake_galvani(ValueError("Unrecognised\nmodule")))
    with pytest.raises(FileFormatError, match="galvani could not read") as info:
        read_impedance(_mpr_file(tmp_path))
    assert "\n" not in str(info.value)


def test_mpr_extension_without_signature(tmp_path):
    path = tmp_path / "fake.mpr"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(FileFormatError, match="BIO-LOGIC MODULAR FILE"):
        read_impedance(path)
