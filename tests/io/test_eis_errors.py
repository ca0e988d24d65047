"""Bad input gives one-line FileFormatError/DataError naming the file (and line where useful)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iondyn.errors import DataError, FileFormatError, InputError
from iondyn.io.detect import detect_impedance_format, sniff_kind
from iondyn.io.impedance import list_impedance_formats, read_impedance

DATA = Path(__file__).parents[1] / "data" / "eis"
GAMRY = DATA / "exampleDataGamry.DTA"


def _one_line(exc: BaseException, path) -> str:
    message = str(exc)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (b"", "empty"),
        (b"  \n\n\t\n", "empty"),
        (bytes(range(256)) * 20, "binary"),
        (b"hello world\nthis is a note, not data\n", "unrecognised impedance format"),
        (b"x,y\n1,2\n2,3\n3,4\n", "unrecognised impedance format"),
    ],
)
def test_unreadable_content(tmp_path, content, text):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(FileFormatError) as info:
        read_impedance(path)
    assert text in _one_line(info.value, path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        read_impedance(tmp_path / "nope.DTA")
    with pytest.raises(FileFormatError, match="directory"):
        read_impedance(tmp_path)


def test_table_without_impedance_columns(tmp_path):
    path = tmp_path / "iv.csv"
    path.write_text("Potential (V),Current (A),Time (s)\n0.1,1e-6,0\n0.2,2e-6,1\n0.3,4e-6,2\n")
    with pytest.raises(FileFormatError) as info:
        read_impedance(path)
    assert "no frequency column" in _one_line(info.value, path)


def test_gamry_without_zcurve(tmp_path):
    lines = GAMRY.read_bytes().split(b"\n")
    cut = next(i for i, ln in enumerate(lines) if ln.startswith(b"ZCURVE"))
    path = tmp_path / "ocv_only.DTA"
    path.write_bytes(b"\n".join(lines[:cut]))
    with pytest.raises(FileFormatError) as info:
        read_impedance(path)
    message = _one_line(info.value, path)
    assert "without an impedance table" in message and "OCVCURVE" in message


def test_gamry_truncated_in_a_row(tmp_path):
    data = GAMRY.read_bytes()
    path = tmp_path / "truncated.DTA"
    path.write_bytes(data[: len(data) - 40])  # the last row loses its last fields
    n_lines = data[: len(data) - 40].count(b"\n") + 1
    with pytest.raises(FileFormatError) as info:
        read_impedance(path)
    assert "truncated" in _one_line(info.value, path)
    assert info.value.line == n_lines


def test_gamry_truncated_in_the_header(tmp_path):
    path = tmp_path / "head.DTA"
    path.write_bytes(GAMRY.read_bytes()[:300])
    with pytest.raises(FileFormatError):
        read_impedance(path)


def test_gamry_drift_corrected_columns_are_preferred(tmp_path):
    lines = GAMRY.read_bytes().decode("cp1252").split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("ZCURVE"))
    lines[start + 1] = lines[start + 1].rstrip("\r") + "\tZrealDriftCor\tZimagDriftCor"
    lines[start + 2] = lines[start + 2].rstrip("\r") + "\tohm\tohm"
    expected = []
    for i in range(start + 3, start + 3 + 72):
        fields = lines[i].rstrip("\r").split("\t")
        zr, zi = float(fields[4]) * 1.01, float(fields[5]) * 0.99
        expected.append(complex(zr, zi))
        lines[i] = lines[i].rstrip("\r") + f"\t{zr!r}\t{zi!r}"
    path = tmp_path / "drift.DTA"
    path.write_bytes("\n".join(lines).encode("cp1252"))
    (s,) = read_impedance(path)
    assert s.metadata["drift_corrected"] is True
    assert s.metadata["z_columns_drift_corrected"] == ["ZrealDriftCor", "ZimagDriftCor"]
    np.testing.assert_allclose(s.z, expected, rtol=1e-12)


def test_gamry_declared_count_disagrees(tmp_path):
    text = GAMRY.read_bytes().replace(b"ZCURVE\tTABLE", b"ZCURVE\tTABLE\t80")
    path = tmp_path / "count.DTA"
    path.write_bytes(text)
    (s,) = read_impedance(path)
    assert s.metadata["declared_rows"] == 80 and s.n_points == 72
    assert any("80" in w for w in s.metadata["warnings"])


def test_gamry_duplicate_frequency(tmp_path):
    lines = GAMRY.read_bytes().split(b"\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith(b"ZCURVE")) + 3
    lines.insert(start + 5, lines[start + 4])
    path = tmp_path / "dup.DTA"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataError) as info:
        read_impedance(path)
    assert "appears twice" in _one_line(info.value, path)
    assert info.value.line == start + 6


def test_unknown_format_name():
    with pytest.raises(InputError, match="unknown impedance format 'foo'"):
        read_impedance(GAMRY, format="foo")


def test_forced_format_alias_and_mismatch():
    assert read_impedance(GAMRY, format="DTA")[0].n_points == 72
    with pytest.raises(FileFormatError):
        read_impedance(DATA / "exampleData.csv", format="gamry")


def test_list_formats():
    names = [f.name for f in list_impedance_formats()]
    assert names[-1] == "generic" and len(names) == len(set(names)) == 11
    mpr = next(f for f in list_impedance_formats() if f.name == "biologic-mpr")
    assert mpr.requires is None and mpr.binary


def test_sniff_kind_hooks(tmp_path):
    tsdc = tmp_path / "tsdc.csv"
    tsdc.write_text("Temperature [C],nA/cm2\n33,0.0074\n35,0.0090\n37,0.011\n")
    peaks = tmp_path / "xps.txt"
    peaks.write_text("695.50 5612\n695.54 5784\n695.57 5801\n")
    bare = tmp_path / "bare.txt"
    bare.write_text("1e4 10 -1\n1e3 12 -5\n1e2 20 -9\n1e1 25 -4\n")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 4)
    assert sniff_kind(tsdc) == "tsdc"
    assert sniff_kind(peaks) == "peaks"
    assert sniff_kind(bare) == "impedance"
    assert sniff_kind(junk) is None
    assert detect_impedance_format(junk) is None
    assert detect_impedance_format(peaks) is None


def test_parstat_two_eis_blocks_between_dc_rows(tmp_path):
    lines = (DATA / "exampleDataParstat.txt").read_text().split("\n")
    header, body = lines[0], [ln for ln in lines[1:] if ln.strip()]
    dc = [ln for ln in body if ln.split("\t")[3] == "0"]
    eis = [ln for ln in body if ln.split("\t")[3] != "0"]
    path = tmp_path / "two_blocks.txt"
    path.write_text("\n".join([header, *dc[:5], *eis, *dc[5:9], *eis]) + "\n")
    spectra = read_impedance(path)
    assert [s.n_points for s in spectra] == [31, 31] and [s.index for s in spectra] == [0, 1]
    assert spectra[1].metadata["n_rows_skipped_dc"] == 9
    np.testing.assert_array_equal(spectra[0].z, spectra[1].z)
