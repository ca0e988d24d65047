"""Two-column and matrix spectrum readers."""

import numpy as np
import pytest

from iondyn.errors import DataError, FileFormatError
from iondyn.io.spectra import read_spectra

XPS = "tests/data/xps/GFET0126_25V_C1s.txt"


def test_real_xps_file():
    (s,) = read_spectra(XPS)
    assert s.n_points == 687
    # first and last rows read independently from the text
    with open(XPS) as fh:
        rows = [ln.split() for ln in fh if ln.strip()]
    assert s.x[0] == float(rows[0][0]) and s.y[0] == float(rows[0][1])
    assert s.x[-1] == float(rows[-1][0]) and s.y[-1] == float(rows[-1][1])
    assert s.y.min() == 233.0 and s.y.max() == 62930.0


@pytest.mark.parametrize(
    "text",
    [
        "x y\n1 10\n2 20\n3 30\n",
        "# comment\nenergy,intensity\n1,10\n2,20\n3,30\n",
        "1;10\n2;20\n3;30\n",
        "E (eV);counts\n1,0;10,0\n2,0;20,0\n3,0;30,0\n",
        "1,0 10,0\n2,0 20,0\n3,0 30,0\n",
        "1\t10\r\n2\t20\r\n3\t30\r\n",
    ],
    ids=[
        "ws-header",
        "comma-header",
        "semicolon",
        "semicolon-decimal-comma",
        "ws-decimal-comma",
        "tab-crlf",
    ],
)
def test_two_column_layouts(tmp_path, text):
    p = tmp_path / "s.txt"
    p.write_text(text)
    (s,) = read_spectra(p)
    assert np.allclose(s.x, [1, 2, 3]) and np.allclose(s.y, [10, 20, 30])


def test_matrix_file(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("x,a,b,c\n1,1,4,7\n2,2,5,8\n3,3,6,9\n")
    spectra = read_spectra(p)
    assert len(spectra) == 3
    assert [s.metadata["label"] for s in spectra] == ["a", "b", "c"]
    assert np.allclose(spectra[2].y, [7, 8, 9])
    assert spectra.common_grid


def test_nan_rows_are_dropped_with_a_warning(tmp_path):
    p = tmp_path / "n.txt"
    p.write_text("1 10\n2 nan\n3 30\n4 40\n")
    (s,) = read_spectra(p)
    assert np.allclose(s.x, [1, 3, 4])
    assert "dropped 1 row" in s.metadata["warnings"][0]


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("", FileFormatError, "empty"),
        ("# only a comment\n", FileFormatError, "no data"),
        ("1\n2\n3\n", FileFormatError, "only one column"),
        ("1 10\n2 abc\n3 30\n", FileFormatError, r":2: text in a numeric column"),
        ("1 10\n2 20 5\n", FileFormatError, r":2: expected 2 columns"),
        ("1 10\n2 inf\n", DataError, "infinite"),
        ("1 10\n3 20\n2 30\n", DataError, "not monotonic"),
        ("1 10\n2 20\n2 30\n", DataError, "duplicate"),
    ],
)
def test_bad_files(tmp_path, text, error, message):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(error, match=message) as info:
        read_spectra(p)
    assert str(p) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        read_spectra(tmp_path / "nope.txt")
    p = tmp_path / "junk.bin"
    p.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(FileFormatError, match="binary"):
        read_spectra(p)


PET = "tests/data/xps/PET_C1s.csv"


def test_units_and_axis_name_from_the_header_of_a_real_file():
    (s,) = read_spectra(PET)
    with open(PET) as fh:
        header, first = fh.readline().strip(), fh.readline().strip()
    assert header == "BE/eV,InPET_C1s"
    assert s.x_unit == "eV" and s.metadata["x_name"] == "binding energy"
    assert s.metadata["x_header"] == "BE/eV"
    assert s.metadata["label"] == "InPET_C1s" and "y_name" not in s.metadata  # a sample name
    assert s.y_unit == ""
    assert s.x[0] == float(first.split(",")[0]) and s.y[0] == float(first.split(",")[1])


def test_headerless_file_says_nothing_about_its_axes():
    (s,) = read_spectra(XPS)
    assert s.x_unit == "" and s.y_unit == ""
    assert "x_name" not in s.metadata and "y_name" not in s.metadata


@pytest.mark.parametrize(
    ("header", "x_name", "x_unit", "y_name", "y_unit"),
    [
        ("Binding Energy (eV),Intensity (counts)", "binding energy", "eV", "intensity", "counts"),
        ("KE / eV,CPS", "kinetic energy", "eV", "counts/s", ""),
        ("E [eV],counts", "E", "eV", "counts", ""),
        ("Raman shift (cm-1),sample A", "Raman shift", "cm-1", None, ""),
        ("x,y", "x", "", None, ""),
        ("BE/eV,Ar/O2", "binding energy", "eV", None, ""),
        ("BE/eV,sample (annealed)", "binding energy", "eV", None, ""),
        ("BE/eV,Intensity/cps", "binding energy", "eV", "intensity", "cps"),
        ("energy,intensity", "energy", "", "intensity", ""),
    ],
)
def test_axis_names_and_units_from_headers(tmp_path, header, x_name, x_unit, y_name, y_unit):
    p = tmp_path / "s.csv"
    p.write_text(f"{header}\n1,10\n2,20\n3,30\n")
    (s,) = read_spectra(p)
    assert (s.metadata["x_name"], s.x_unit) == (x_name, x_unit)
    assert s.metadata.get("y_name") == y_name and s.y_unit == y_unit


def test_units_given_by_the_caller_win(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("BE/eV,Intensity (counts)\n1,10\n2,20\n3,30\n")
    (s,) = read_spectra(p, x_unit="keV", y_unit="counts/s")
    assert (s.x_unit, s.y_unit) == ("keV", "counts/s")


def test_matrix_labels_are_not_mistaken_for_units(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("BE (eV),t1,t2\n1,1,4\n2,2,5\n3,3,6\n")
    spectra = read_spectra(p)
    assert [s.metadata["label"] for s in spectra] == ["t1", "t2"]
    assert all(s.x_unit == "eV" and "y_name" not in s.metadata for s in spectra)
