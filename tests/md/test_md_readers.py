"""Trajectory readers on files the tests write: positions come back, unwrapped, for every
format and coordinate style; truncated and damaged files; sniffing; ASE missing."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from md_files import walk_with_framework, write_extxyz, write_lammps_dump, write_xdatcar

from iondyn.errors import DataError, FileFormatError, InputError
from iondyn.io.sniff import kind_evidence
from iondyn.md.readers import open_trajectory
from iondyn.md.trajectory import build_trajectory


def _tilted(cell: np.ndarray) -> np.ndarray:
    c = cell.copy()
    c[1, 0] = 0.3 * c[0, 0]  # b tilted towards a (LAMMPS-shaped triclinic cell)
    c[2, 0], c[2, 1] = -0.2 * c[0, 0], 0.1 * c[1, 1]
    return c


def _expected(pos, n_li=16):
    li = pos[:, :n_li]
    return li - li[:1]


def _got(traj):
    return np.asarray(traj.positions) - np.asarray(traj.positions)[:1]


@pytest.mark.parametrize("gz", [False, True])
def test_xdatcar_round_trip_npt_triclinic(tmp_path, gz):
    pos, cell, symbols = walk_with_framework()
    n = pos.shape[0]
    scale = 1.0 + 0.02 * np.sin(np.arange(n) / 5.0)  # an NPT cell breathing by ±2 %
    cells = _tilted(cell)[None] * scale[:, None, None]
    # the same fractional path in the changing cell (what an NPT run stores)
    frac = pos @ np.linalg.inv(_tilted(cell))
    cart = np.einsum("fnk,fkl->fnl", frac, cells)
    path = write_xdatcar(tmp_path / ("XDATCAR.gz" if gz else "XDATCAR"), cart, cells, symbols,
                         npt=True, gz=gz)  # fmt: skip
    traj = build_trajectory(open_trajectory(path), "Li", frame_interval_fs=10.0,
                            drift_correction=False)  # fmt: skip
    assert traj.n_frames == n and traj.n_ions == 16
    assert np.allclose(traj.cells, cells, atol=1e-5)
    # the file holds the wrapped positions (up to whole cell vectors at the boundary)
    w = np.concatenate([b.positions for b in open_trajectory(path).blocks(7)])[:, :16]
    shift = np.einsum("fnk,fkl->fnl", w - cart[:, :16], np.linalg.inv(cells))
    assert np.allclose(shift, np.round(shift), atol=1e-6)
    # TOR unwrapping (a per-frame loop here): every step reduced in the new frame's cell
    ref = np.zeros_like(w)
    for t in range(1, n):
        step = w[t] - w[t - 1]
        ref[t] = ref[t - 1] + step - np.round(step @ np.linalg.inv(cells[t])) @ cells[t]
    assert np.allclose(_got(traj), ref, atol=1e-4)
    # ... which differs from rescaling the unwrapped fractional path by far less than a hop
    assert np.max(np.abs(_got(traj) - _expected(cart))) < 1.0
    ev = kind_evidence(path)
    assert ev[0].kind == "md" and ev[0].score == 1.0 and "XDATCAR" in ev[0].reason


def test_extxyz_round_trip_and_temperature(tmp_path):
    pos, cell, symbols = walk_with_framework(seed=3)
    cells = np.broadcast_to(cell, (pos.shape[0], 3, 3))
    wrapped = (pos @ np.linalg.inv(cell)) % 1.0 @ cell
    path = write_extxyz(tmp_path / "run.xyz", wrapped, cells, symbols, temperature=650)
    traj = build_trajectory(open_trajectory(path), "Li", frame_interval_fs=5.0,
                            drift_correction=False)  # fmt: skip
    assert traj.temperature_K == 650
    assert np.allclose(_got(traj), _expected(pos), atol=1e-6)
    assert kind_evidence(path)[0].kind == "md"


@pytest.mark.parametrize("style", ["x", "xu", "xs", "image"])
def test_lammps_dump_styles_triclinic_unsorted(tmp_path, style):
    pos, cell, _ = walk_with_framework(seed=5)
    cell = _tilted(cell)
    pos = pos @ np.linalg.inv(np.diag(np.diag(cell))) @ cell  # same walk in the tilted cell
    types = [1] * 16 + [2] * 4
    cells = np.broadcast_to(cell, (pos.shape[0], 3, 3))
    path = write_lammps_dump(tmp_path / f"dump.{style}", pos, cells, types, style=style)
    src = open_trajectory(path)
    assert src.coordinates == ("wrapped" if style in ("x", "xs") else "unwrapped")
    traj = build_trajectory(src, "1", timestep_fs=2.0, drift_correction=False)
    assert traj.frame_interval_ps == pytest.approx(0.02)  # 10 steps × 2 fs
    assert np.allclose(traj.cells[0], cell, atol=1e-6)
    assert np.allclose(_got(traj), _expected(pos), atol=1e-5)
    assert kind_evidence(path)[0].kind == "md"


def test_truncated_files_keep_complete_frames_with_warning(tmp_path):
    pos, cell, symbols = walk_with_framework()
    cells = np.broadcast_to(cell, (pos.shape[0], 3, 3))
    for path in (
        write_xdatcar(tmp_path / "XDATCAR", pos, cells, symbols, cut_last=5),
        write_xdatcar(tmp_path / "XDATCAR.gz", pos, cells, symbols, cut_last=5, gz=True),
        write_extxyz(tmp_path / "t.xyz", pos, cells, symbols, cut_last=3),
        write_lammps_dump(tmp_path / "dump", pos, cells, [1] * 16 + [2] * 4, cut_last=2),
    ):
        species = "1" if path.name == "dump" else "Li"
        traj = build_trajectory(open_trajectory(path), species, frame_interval_fs=10.0,
                                timestep_fs=1.0)  # fmt: skip
        assert traj.n_frames == pos.shape[0] - 1, path.name
        assert any("truncated" in w for w in traj.warnings), path.name


def test_gzip_cut_mid_stream(tmp_path):
    pos, cell, symbols = walk_with_framework(n_frames=200)
    cells = np.broadcast_to(cell, (pos.shape[0], 3, 3))
    full = write_xdatcar(tmp_path / "full.gz", pos, cells, symbols, gz=True)
    data = full.read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    traj = build_trajectory(open_trajectory(cut), "Li", frame_interval_fs=10.0)
    assert 2 <= traj.n_frames < 200
    assert any("ends early" in w or "truncated" in w for w in traj.warnings)


def test_damaged_line_is_an_error_naming_the_line(tmp_path):
    pos, cell, symbols = walk_with_framework()
    cells = np.broadcast_to(cell, (pos.shape[0], 3, 3))
    path = write_xdatcar(tmp_path / "XDATCAR", pos, cells, symbols)
    lines = path.read_text().splitlines()
    lines[30] = "0.1 zero 0.3"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match=r"XDATCAR:31: expected 3 numbers"):
        build_trajectory(open_trajectory(path), "Li", frame_interval_fs=10.0)


def test_species_missing_single_frame_and_unknown_time(tmp_path):
    pos, cell, symbols = walk_with_framework()
    cells = np.broadcast_to(cell, (pos.shape[0], 3, 3))
    path = write_xdatcar(tmp_path / "XDATCAR", pos, cells, symbols)
    with pytest.raises(InputError, match=r"no 'Na' atoms in the trajectory \(it holds Li, P\)"):
        build_trajectory(open_trajectory(path), "Na", frame_interval_fs=10.0)
    with pytest.raises(InputError, match="time between frames is unknown"):
        build_trajectory(open_trajectory(path), "Li")
    one = write_xdatcar(tmp_path / "ONE", pos[:1], cells[:1], symbols)
    with pytest.raises(DataError, match="a single frame"):
        build_trajectory(open_trajectory(one), "Li", frame_interval_fs=10.0)


def test_not_a_trajectory(tmp_path):
    p = tmp_path / "table.csv"
    p.write_text("T,I\n1,2\n3,4\n")
    with pytest.raises(FileFormatError, match="not a trajectory"):
        open_trajectory(p)
    assert all(e.kind != "md" for e in kind_evidence(p))


def test_vasprun_without_ase_is_a_clear_error(tmp_path, monkeypatch):
    """ASE is an optional extra: without it a vasprun.xml is a one-line error saying how to
    install it (this test hides ASE even where it is installed)."""
    head = '<?xml version="1.0"?>\n<modeling>\n<incar>\n<i type="int" name="IBRION">     0</i>\n'
    p = tmp_path / "vasprun.xml"
    p.write_text(head + "</incar>\n</modeling>\n")
    assert kind_evidence(p)[0].kind == "md" and kind_evidence(p)[0].score == 0.95
    monkeypatch.setitem(sys.modules, "ase", None)
    monkeypatch.setitem(sys.modules, "ase.io", None)
    with pytest.raises(FileFormatError, match=r"vasprun.xml: reading this trajectory needs ASE"):
        open_trajectory(p)
    with pytest.raises(FileFormatError, match="needs ASE"):
        open_trajectory(p, format="xdatcar", backend="ase")
