"""Reading spectrum images: .npy (memory-mapped), .npz (memory-mapped or whole), the real
EELS file, HDF5 layouts (.hspy, Berkeley .emd, plain), RosettaSciIO signals, Raman text."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from iondyn.errors import FileFormatError
from iondyn.maps import read_map
from iondyn.maps.readers_hdf5 import from_rsciio_signal, read_with_rosettasciio

DATA = Path(__file__).parents[1] / "data" / "maps"


def test_real_eels_spectrum_image():
    m = read_map(DATA / "SI_data.npz")
    assert m.shape == (24, 22, 138) and m.axis_name == "energy loss" and m.axis_unit == "eV"
    assert m.axis[0] == 10.0 and m.axis[-1] == 200.0
    total = sum(b.sum() for _, b in m.blocks(100))
    assert total == pytest.approx(np.load(DATA / "SI_data.npz")["X"].sum())


def test_npy_is_memory_mapped_with_a_given_axis(tmp_path):
    data = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    np.save(tmp_path / "m.npy", data)
    m = read_map(tmp_path / "m.npy", axis=(100.0, 0.5))
    assert m.lazy and np.allclose(m.axis, 100 + 0.5 * np.arange(6))
    _flat, block = next(m.blocks(10))
    assert block.shape == (10, 6) and np.allclose(block, data.reshape(20, 6)[:10])
    assert np.allclose(m.pixels(np.array([19, 3])), data.reshape(20, 6)[[19, 3]])
    m2 = read_map(tmp_path / "m.npy")  # no axis: channel indices, said so
    assert m2.axis_name == "channel" and "channel index" in m2.metadata["axis"]


def test_memory_mapped_maps_are_read_from_the_file_not_copied(tmp_path):
    """Blocks and the Dask view read the file chunk by chunk: a value changed on disk after
    the map was opened shows in both (a whole copy in memory, which ``dask.array.from_array``
    makes of any array with a ``copy`` method, would not see it)."""
    data = np.ones((8, 4, 16), dtype=np.float32)
    np.save(tmp_path / "m.npy", data)
    m = read_map(tmp_path / "m.npy", axis=np.arange(16.0))
    view = m.to_dask(8)
    first = [b.copy() for _, b in m.blocks(8)]
    assert len(first) == 4 and float(view.sum().compute()) == data.size
    disk = np.load(tmp_path / "m.npy", mmap_mode="r+")
    disk[7, 3, 15] = 5.0
    disk.flush()
    del disk
    last = list(m.blocks(8))[-1][1]
    assert last[-1, -1] == 5.0 and first[-1][-1, -1] == 1.0
    assert float(view.sum().compute()) == data.size + 4.0
    assert float(view[7, 3, 15].compute()) == 5.0


def test_npz_uncompressed_is_memory_mapped_compressed_read_whole(tmp_path):
    data = np.random.default_rng(0).poisson(5, (3, 4, 8)).astype(float)
    ev = np.linspace(1, 8, 8)
    np.savez(tmp_path / "a.npz", data=data, energy=ev)
    a = read_map(tmp_path / "a.npz")
    assert a.lazy and np.array_equal(np.asarray(a.data), data) and np.array_equal(a.axis, ev)
    np.savez_compressed(tmp_path / "b.npz", X=data, ev=ev)
    b = read_map(tmp_path / "b.npz")
    assert not b.lazy and np.array_equal(b.data, data)


def test_decreasing_axis_is_reversed_with_the_data(tmp_path):
    data = np.arange(2 * 2 * 5, dtype=float).reshape(2, 2, 5)
    np.savez(tmp_path / "be.npz", data=data, energy=np.array([5.0, 4, 3, 2, 1]))
    m = read_map(tmp_path / "be.npz")
    assert np.array_equal(m.axis, [1, 2, 3, 4, 5])
    assert np.array_equal(np.asarray(m.data)[0, 0], data[0, 0, ::-1])


def _raman_text(path, shifts, nx=3, ny=2, header="#X\t#Y\t#Wave\t#Intensity"):
    rng = np.random.default_rng(1)
    lines = [header] if header else []
    for iy in range(ny):
        for ix in range(nx):
            for s in shifts:
                lines.append(f"{ix * 0.5:.2f}\t{iy * 0.5:.2f}\t{s:.3f}\t{rng.poisson(100)}")
    path.write_text("\n".join(lines) + "\n")


def test_raman_map_text(tmp_path):
    shifts = np.linspace(1800, 200, 50)  # WiRE writes decreasing shifts per pixel
    _raman_text(tmp_path / "r.txt", shifts)
    m = read_map(tmp_path / "r.txt")
    assert m.shape == (2, 3, 50) and m.axis[0] == pytest.approx(200) and m.axis_unit == "cm⁻¹"
    assert np.allclose(m.x, [0, 0.5, 1.0]) and np.allclose(m.y, [0, 0.5])
    _raman_text(tmp_path / "bare.csv", shifts, header=None)
    assert read_map(tmp_path / "bare.csv").shape == (2, 3, 50)


def test_hdf5_layouts(tmp_path):
    import h5py  # a test dependency (the maps extra for users)

    data = np.random.default_rng(2).poisson(20, (4, 3, 16)).astype(np.float32)
    with h5py.File(tmp_path / "s.hspy", "w") as f:
        f.attrs["file_format"] = "HyperSpy"
        g = f.create_group("Experiments/si")
        g.create_dataset("data", data=data)
        for i, (name, units, scale, off, nav) in enumerate(
            [
                ("y", "nm", 0.5, 0, True),
                ("x", "nm", 0.5, 0, True),
                ("Energy loss", "eV", 0.25, 450, False),
            ]
        ):
            a = g.create_group(f"axis-{i}")
            a.attrs.update(
                name=name, units=units, scale=scale, offset=off, navigate=nav, size=data.shape[i]
            )
    m = read_map(tmp_path / "s.hspy")
    assert m.shape == (4, 3, 16) and m.axis_unit == "eV" and m.axis[0] == 450.0
    assert m.lazy and m.spatial_unit == "nm" and np.allclose(m.x, [0, 0.5, 1.0])
    assert np.allclose(np.concatenate([b for _, b in m.blocks(5)]), data.reshape(12, 16))
    assert np.allclose(m.pixels(np.array([11, 0, 4])), data.reshape(12, 16)[[11, 0, 4]])
    with h5py.File(tmp_path / "b.emd", "w") as f:
        f.attrs["version_major"] = 0
        g = f.create_group("data/si")
        g.attrs["emd_group_type"] = 1
        g.create_dataset("data", data=data)
        for i, (v, name, unit) in enumerate(
            [
                (np.arange(4.0), "y", "nm"),
                (np.arange(3.0), "x", "nm"),
                (np.linspace(10, 25, 16), "energy", "eV"),
            ]
        ):
            d = g.create_dataset(f"dim{i + 1}", data=v)
            d.attrs.update(name=name, units=unit)
    e = read_map(tmp_path / "b.emd")
    assert e.shape == (4, 3, 16) and e.axis[-1] == 25 and e.axis_name == "energy"
    with h5py.File(tmp_path / "p.h5", "w") as f:
        f.create_dataset("maps/counts", data=data)
        f.create_dataset("maps/energy", data=np.linspace(1, 16, 16))
    p = read_map(tmp_path / "p.h5")
    assert p.shape == (4, 3, 16) and p.axis[0] == 1.0


def test_hdf5_without_h5py_is_a_clear_error(tmp_path, monkeypatch):
    f = tmp_path / "x.h5"
    f.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(FileFormatError, match=r"x\.h5: reading HDF5 .* needs h5py"):
        read_map(f)


def test_dm_files_need_rosettasciio(tmp_path, monkeypatch):
    f = tmp_path / "si.dm4"
    f.write_bytes((4).to_bytes(4, "big") + b"\x00" * 60)
    monkeypatch.setitem(sys.modules, "rsciio", None)
    monkeypatch.setitem(sys.modules, "rsciio.digitalmicrograph", None)
    with pytest.raises(FileFormatError, match=r"si\.dm4: reading \.dm4 files needs RosettaSciIO"):
        read_with_rosettasciio(f)


def test_rosettasciio_signal_becomes_a_map():
    data = np.ones((3, 4, 10))
    sig = {
        "data": data,
        "axes": [
            {"name": "y", "units": "nm", "scale": 2.0, "offset": 0.0, "navigate": True},
            {"name": "x", "units": "nm", "scale": 2.0, "offset": 1.0, "navigate": True},
            {
                "name": "Energy loss",
                "units": "eV",
                "scale": 0.5,
                "offset": 400.0,
                "navigate": False,
            },
        ],
        "metadata": {"General": {"title": "Ti L"}},
    }
    m = from_rsciio_signal(sig, "si.dm3")
    assert m.shape == (3, 4, 10) and m.axis[1] == 400.5 and m.axis_unit == "eV"
    assert np.allclose(m.x, [1, 3, 5, 7]) and m.metadata["title"] == "Ti L"


def test_unknown_file_is_a_one_line_error(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello\n")
    with pytest.raises(FileFormatError, match=r"notes\.txt: not a spectrum image"):
        read_map(f)
