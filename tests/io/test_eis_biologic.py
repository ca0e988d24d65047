"""BioLogic .mpt multi-spectrum files and column-name quirks, built from the real file.

The .mpr reader is tested in test_eis_biologic_mpr.py.
"""

from __future__ import annotations

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


# --- a column-name line with one name more than the data have columns ----------------------


def _spectrum_equals_real(s) -> None:
    (ref,) = read_impedance(REAL)
    assert s.n_points == ref.n_points == 43
    assert np.array_equal(s.frequency, ref.frequency) and np.array_equal(s.z, ref.z)
    _, _, rows = _parts()
    f, z = _oracle(rows)
    np.testing.assert_allclose(s.frequency, f, rtol=1e-12)
    np.testing.assert_allclose(s.z, z, rtol=1e-12)
    assert s.metadata["z_imag_sign"] == ref.metadata["z_imag_sign"] == "flipped"


def _with_names(tmp_path, name: str, columns: str) -> Path:
    header, _, rows = _parts()
    return _write(tmp_path / name, header, columns, rows)


def test_extra_empty_name_at_the_end_is_ignored_with_warning(tmp_path):
    _, columns, _ = _parts()
    assert columns.endswith("Phase(Y)/deg\t")  # EC-Lab's own trailing tab: no warning
    (plain,) = read_impedance(_with_names(tmp_path, "plain.mpt", columns))
    assert plain.metadata["warnings"] == []
    (s,) = read_impedance(_with_names(tmp_path, "empty_extra.mpt", columns + "\t"))
    _spectrum_equals_real(s)
    assert s.metadata["warnings"] == [
        "the column-name line (line 61) ends with 1 empty name(s) more than the data rows have "
        "columns (extra tabs); ignored"
    ]


def test_extra_empty_name_inside_the_line_is_dropped_with_warning(tmp_path):
    _, columns, _ = _parts()
    doubled = columns.replace("freq/Hz\tRe(Z)/Ohm", "freq/Hz\t\tRe(Z)/Ohm")
    (s,) = read_impedance(_with_names(tmp_path, "empty_inside.mpt", doubled))
    _spectrum_equals_real(s)
    assert s.metadata["warnings"] == [
        "the column-name line (line 61) names 19 columns but the data rows have 18; "
        "the empty name in field 2 was dropped"
    ]


def test_extra_trailing_name_is_ignored_with_warning(tmp_path):
    _, columns, _ = _parts()
    extra = columns.rstrip("\t") + "\tQ-Qo/mA.h\t"
    (s,) = read_impedance(_with_names(tmp_path, "named_extra.mpt", extra))
    _spectrum_equals_real(s)
    assert s.metadata["warnings"] == [
        "the column-name line (line 61) names 19 columns but the data rows have 18; "
        "the last name 'Q-Qo/mA.h' has no data column and was ignored "
        "(the frequency and impedance columns come before it)"
    ]


def test_extra_name_in_the_middle_is_caught_by_the_modulus_check(tmp_path):
    _, columns, _ = _parts()
    shifted = columns.replace("freq/Hz\t", "freq/Hz\tQ-Qo/mA.h\t")  # names after it shift
    with pytest.raises(FileFormatError, match="differs from hypot") as info:
        read_impedance(_with_names(tmp_path, "shifted.mpt", shifted))
    assert str(info.value).startswith(str(tmp_path / "shifted.mpt"))


def test_extra_name_that_is_needed_stays_an_error(tmp_path):
    _, columns, _ = _parts()
    names = columns.rstrip("\t").split("\t")
    moved = "\t".join([n for n in names if n != "-Im(Z)/Ohm"] + ["Q-Qo/mA.h", "-Im(Z)/Ohm"])
    with pytest.raises(FileFormatError, match="a column name is extra"):
        read_impedance(_with_names(tmp_path, "needed_last.mpt", moved))


def test_missing_name_is_still_an_error():
    path = DATA / "exampleDataBioLogic_MissingFreq.mpt"
    with pytest.raises(FileFormatError) as info:
        read_impedance(path)
    assert str(info.value) == (
        f"{path}:62: the column-name line (line 61) names 17 columns but the data rows have "
        "18; a column name is missing and the columns cannot be matched to their names"
    )
