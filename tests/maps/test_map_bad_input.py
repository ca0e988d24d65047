"""Bad input: ragged or mismatched axes, NaN pixels, one pixel, a non-monotonic axis, a file
too large to read whole — each a one-line error naming the file (CLI exit 2) or documented
behaviour."""

from __future__ import annotations

import json

import numpy as np
import pytest

from iondyn.cli import main
from iondyn.errors import DataError
from iondyn.maps import MapDecomposer, MapFitter, SpectrumMap, read_map


def test_ragged_raman_map(tmp_path):
    lines = ["x\ty\tshift\tintensity"]
    for ix in range(3):
        for s in range(10 if ix != 1 else 9):  # pixel x=1 misses a point
            lines.append(f"{ix}\t0\t{100 + s}\t{s}")
    f = tmp_path / "ragged.txt"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"ragged\.txt: ragged map: pixel \(x=1, y=0\) has 9"):
        read_map(f)
    assert main(["map", "info", str(f)]) == 2


def test_mismatched_axes(tmp_path):
    np.savez(
        tmp_path / "m.npz", data=np.ones((2, 2, 10)), energy=np.arange(10.0), axis=np.arange(11.0)
    )
    with pytest.raises(DataError, match="mismatched axes"):
        read_map(tmp_path / "m.npz", axis=np.arange(9.0))
    with pytest.raises(DataError, match="spatial axis x has 3 values"):
        SpectrumMap(np.ones((2, 2, 10)), np.arange(10.0), x=np.arange(3.0))
    lines = ["x,y,shift,intensity"] + [
        f"{ix},0,{100 + s + (0.5 if ix == 2 else 0)},1" for ix in range(3) for s in range(8)
    ]
    (tmp_path / "shifted.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="other shift values"):
        read_map(tmp_path / "shifted.csv")


def test_non_monotonic_axis(tmp_path):
    np.savez(tmp_path / "nm.npz", data=np.ones((2, 2, 5)), energy=np.array([1.0, 2, 4, 3, 5]))
    with pytest.raises(DataError, match=r"nm\.npz: the spectral axis is not monotonic"):
        read_map(tmp_path / "nm.npz")


def test_infinite_pixel_is_refused_nan_pixels_masked():
    x = np.linspace(0, 10, 50)
    data = np.ones((3, 3, 50))
    data[1, 2, 7] = np.inf
    with pytest.raises(DataError, match=r"pixel \(row 1, column 2\) holds an infinite value"):
        MapFitter(n_peaks=1).fit(SpectrumMap(data, x, source="inf.npy"))
    with pytest.raises(DataError, match="every pixel of the map holds NaN"):
        MapFitter(n_peaks=1).fit(SpectrumMap(np.full((2, 2, 50), np.nan), x))


def test_one_pixel_map_cannot_be_decomposed():
    with pytest.raises(DataError, match="one pixel has nothing to decompose"):
        MapDecomposer().fit(SpectrumMap(np.ones((1, 1, 20)), np.arange(20.0)))


def test_negative_counts_under_poisson():
    data = np.ones((2, 2, 30))
    data[0, 1, 3] = -1
    with pytest.raises(DataError, match=r"pixel \(row 0, column 1\) has negative values"):
        MapFitter(n_peaks=1, likelihood="poisson").fit(SpectrumMap(data, np.arange(30.0)))


def test_too_large_to_read_whole(tmp_path, capsys):
    np.savez_compressed(tmp_path / "big.npz", X=np.ones((10, 10, 100)), ev=np.arange(100.0))
    with pytest.raises(DataError, match=r"big\.npz: the compressed array 'X' .* needs .* GiB"):
        read_map(tmp_path / "big.npz", max_bytes=10_000)
    # uncompressed, the same array is memory-mapped whatever its size
    np.savez(tmp_path / "big2.npz", X=np.ones((10, 10, 100)), ev=np.arange(100.0))
    assert read_map(tmp_path / "big2.npz", max_bytes=10_000).lazy


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    np.savez(tmp_path / "nm.npz", data=np.ones((2, 2, 5)), energy=np.array([1.0, 2, 4, 3, 5]))
    assert main(["map", "fit", str(tmp_path / "nm.npz"), "--json"]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "nm.npz: the spectral axis is not monotonic" in err
    assert json.loads(out)["error"]["type"] == "DataError"
    np.save(tmp_path / "ok.npy", np.ones((2, 2, 40)))
    assert main(["map", "fit", str(tmp_path / "ok.npy"), "--device", "gpu"]) == 2
    assert "CuPy is not installed" in capsys.readouterr().err
