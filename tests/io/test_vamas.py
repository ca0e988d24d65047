"""VAMAS (ISO 14976) reader, checked against numbers read from the file text independently.

The Kratos AXIS Supra file writes, in each block comment, lines such as
``C 1s : 1186.690-1216.690eV, Sweeps 10``, ``Start : 1186.690eV``, ``Step size : 0.100eV``:
the tests parse those with plain string operations and compare them with what the reader
builds from the VAMAS header fields.
"""

import re

import numpy as np
import pytest

from iondyn.errors import FileFormatError, InputError
from iondyn.io.vamas import is_vamas_file, read_vamas, sniff_vamas

VMS = "tests/data/xps/0-150W.vms"


def text_lines() -> list[str]:
    with open(VMS, newline="") as fh:
        return fh.read().split("\r\n")


def comment_regions() -> list[dict]:
    """Region name, start, end, step (kinetic energy, eV) and sweeps from the block comments."""
    lines = text_lines()
    out = []
    for i, line in enumerate(lines):
        m = re.fullmatch(r"(.+) : ([\d.]+)-([\d.]+)eV, Sweeps (\d+)", line)
        if m:
            step = next(ln for ln in lines[i:] if ln.startswith("Step size : "))
            out.append(
                {
                    "name": m.group(1),
                    "start": float(m.group(2)),
                    "end": float(m.group(3)),
                    "sweeps": int(m.group(4)),
                    "step": float(step.split(":")[1].strip().removesuffix("eV")),
                }
            )
    return out


def photon_energy() -> float:
    lines = text_lines()
    return float(lines[lines.index("Al (mono)") + 1])


def test_blocks_names_and_header_count():
    spectra = read_vamas(VMS)
    lines = [ln for ln in text_lines() if ln.strip()]
    # after REGULAR: regions, number of exp. variables, 4 label/unit pairs, inclusion list,
    # manual items, future experiment and block entries, then the number of blocks
    n_blocks = int(lines[lines.index("REGULAR") + 2 + 2 * 4 + 4 + 1])
    regions = comment_regions()
    assert len(spectra) == n_blocks == len(regions) == 5
    assert [s.metadata["label"] for s in spectra] == [r["name"] for r in regions]
    assert [s.metadata["label"] for s in spectra] == ["wide", "Ni 2p", "O 1s", "C 1s", "W 4f"]
    c1s = spectra[3].metadata
    assert (c1s["species"], c1s["transition"], c1s["region"]) == ("C", "1s", "C 1s")
    assert c1s["sample_id"] == "Ni-W" and c1s["technique"] == "XPS"
    assert spectra[0].metadata["transition"] == ""  # an empty line in the file is a value
    assert [s.metadata["n_scans"] for s in spectra] == [r["sweeps"] for r in regions]


def test_energy_axes_match_the_comment_lines():
    hv = photon_energy()
    assert hv == 1486.69
    for s, r in zip(read_vamas(VMS), comment_regions()):
        m = s.metadata
        assert m["abscissa"]["label"] == "Kinetic energy" and m["abscissa"]["units"] == "eV"
        assert m["abscissa"]["start"] == pytest.approx(r["start"])
        assert m["abscissa"]["increment"] == pytest.approx(r["step"])
        n = round((r["end"] - r["start"]) / r["step"]) + 1
        assert s.n_points == n
        # binding energy = hν − KE, decreasing along the file's points
        assert s.x[0] == pytest.approx(hv - r["start"]) and s.x[-1] == pytest.approx(hv - r["end"])
        np.testing.assert_allclose(np.diff(s.x), -r["step"], atol=1e-9)
        assert m["energy_axis"] == "binding" and m["x_name"] == "binding energy"
        assert s.x_unit == "eV" and "hν − KE" in m["binding_energy_conversion"]
        assert m["source_energy_eV"] == hv and m["work_function_eV"] == -4.5


def test_binding_energy_windows_are_the_round_ones_the_operator_chose():
    """hν − KE gives 300 … 270 eV for C 1s; subtracting the stored φ = −4.5 eV would not."""
    windows = [(s.x[0], s.x[-1]) for s in read_vamas(VMS)]
    expected = [(1200, -5), (900, 840), (545, 520), (300, 270), (50, 25)]
    np.testing.assert_allclose(windows, expected, atol=1e-9)


def test_stored_axis_is_kinetic_energy():
    regions = comment_regions()
    for s, r in zip(read_vamas(VMS, energy="stored"), regions):
        assert s.x[0] == pytest.approx(r["start"]) and s.x[-1] == pytest.approx(r["end"])
        assert s.metadata["energy_axis"] == "kinetic"
        assert s.metadata["x_name"] == "kinetic energy"
        assert "binding_energy_conversion" not in s.metadata
    with pytest.raises(InputError, match="energy must be"):
        read_vamas(VMS, energy="kinetic")


def test_counts_of_the_c1s_block_equal_the_file_numbers():
    lines = text_lines()
    start = next(i for i in range(len(lines) - 1) if lines[i : i + 2] == ["C 1s", "Ni-W"])
    stop = next(i for i in range(start + 2, len(lines)) if lines[i : i + 2] == ["W 4f", "Ni-W"])
    block = lines[start:stop]
    n_values = 301 * 2  # two corresponding variables, interleaved point by point
    assert block[-n_values - 5] == str(n_values)  # count, then min/max of each variable
    values = [float(v) for v in block[-n_values:]]
    s = read_vamas(VMS)[3]
    np.testing.assert_array_equal(s.y, values[0::2])
    assert s.y[0] == 1906 and s.y[-1] == float(block[-2])  # line 4522 of the file: 1906
    # the block's minimum and maximum ordinate of the intensity precede the values
    assert (s.y.min(), s.y.max()) == (float(block[-n_values - 4]), float(block[-n_values - 3]))
    (extra,) = s.metadata["corresponding_variables"]
    assert extra["label"] == "Transmission"
    np.testing.assert_array_equal(extra["values"], values[1::2])
    assert s.metadata["y_label"] == "Intensity" and s.metadata["y_name"] == "intensity"
    assert s.y_unit == ""  # VAMAS unit code "d": no unit
    assert s.metadata["dwell_time_s"] == pytest.approx(0.199336)


def test_sniffing():
    assert sniff_vamas(text_lines())
    assert sniff_vamas(["", "  ", "VAMAS Surface Chemical Analysis Standard Data Transfer Format"])
    assert not sniff_vamas(["BE/eV,InPET_C1s", "299.3,324.3"])
    assert not sniff_vamas(["", "x y", "VAMAS Surface Chemical Analysis Standard"])
    assert not sniff_vamas([])
    assert is_vamas_file(VMS) and not is_vamas_file("tests/data/xps/PET_C1s.csv")
    with pytest.raises(FileFormatError, match="no such file"):
        is_vamas_file("tests/data/xps/missing.vms")


def write(tmp_path, lines: list[str], name: str = "cut.vms"):
    p = tmp_path / name
    p.write_text("\r\n".join(lines), newline="")
    return p


@pytest.mark.parametrize(
    ("keep", "needle"),
    [
        (12, "ends early"),  # inside the header
        (90, "ends early"),  # inside the first block's parameters
        (3000, "ends early"),  # inside the ordinate values of block 'Ni 2p'
        (-2, "without 'end of experiment'"),  # every block, no terminator
    ],
)
def test_truncated_copy_is_one_line_error_naming_the_file(tmp_path, keep, needle):
    lines = text_lines()
    p = write(tmp_path, lines[:keep])
    with pytest.raises(FileFormatError, match=needle) as info:
        read_vamas(p)
    message = str(info.value)
    assert message.startswith(f"{p}:") and "\n" not in message


def test_truncation_inside_values_names_the_block_and_counts(tmp_path):
    p = write(tmp_path, text_lines()[:3000])
    with pytest.raises(FileFormatError, match=r"block 'Ni 2p' declares 1202 ordinate values"):
        read_vamas(p)


def test_malformed_number_names_the_line(tmp_path):
    lines = text_lines()
    i = lines.index("1486.69")  # source energy of the first block
    lines[i] = "fourteen"
    with pytest.raises(FileFormatError, match=rf":{i + 1}: expected a number") as info:
        read_vamas(write(tmp_path, lines))
    assert "block 'wide'" in str(info.value)


def test_unsupported_scan_modes_and_unknown_experiment_mode(tmp_path):
    lines = text_lines()
    irregular = [("IRREGULAR" if ln == "REGULAR" else ln) for ln in lines]
    with pytest.raises(FileFormatError, match="IRREGULAR' is not supported"):
        read_vamas(write(tmp_path, irregular))
    odd = [("NORMAL" if ln == "NORM" else ln) for ln in lines]
    with pytest.raises(FileFormatError, match="unknown experiment mode 'NORMAL'"):
        read_vamas(write(tmp_path, odd))
    p = tmp_path / "plain.vms"
    p.write_text("x y\n1 2\n")
    with pytest.raises(FileFormatError, match="not a VAMAS file"):
        read_vamas(p)


def test_exclusion_list_keeps_the_first_block_value(tmp_path):
    """With parameter 8 (block comment) excluded, blocks 2… carry no comment lines and take the
    first block's comment; their data are unchanged."""
    lines = text_lines()
    d = lines.index("REGULAR") + 2 + 2 * 4 + 1  # regions, n exp. variables, 4 pairs
    assert lines[d] == "0"
    out = [*lines[:d], "-1", "8", *lines[d + 1 :]]
    starts = [i for i in range(len(out) - 1) if out[i + 1] == "Ni-W"]  # block id, sample id
    for s in reversed(starts[1:]):
        c = s + 2 + 7  # block id, sample id, 7 date/time lines, then the comment count
        del out[c : c + 1 + int(out[c])]
    reference = read_vamas(VMS)
    spectra = read_vamas(write(tmp_path, out))
    assert [s.metadata["label"] for s in spectra] == [s.metadata["label"] for s in reference]
    for s, ref in zip(spectra[1:], reference[1:]):
        assert s.metadata["comment"] == reference[0].metadata["comment"]
        np.testing.assert_array_equal(s.y, ref.y)
        np.testing.assert_array_equal(s.x, ref.x)


def test_byte_order_mark_and_a_non_integer_count(tmp_path):
    lines = text_lines()
    p = tmp_path / "bom.vms"
    p.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode())
    assert is_vamas_file(p) and len(read_vamas(p)) == 5
    i = lines.index("wide") - 1  # the number of blocks
    assert lines[i] == "5"
    lines[i] = "nan"
    with pytest.raises(FileFormatError, match=rf":{i + 1}: expected an integer \(number of blocks"):
        read_vamas(write(tmp_path, lines))
