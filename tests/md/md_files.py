"""Small trajectory files written by the tests themselves (no downloads): XDATCAR, extended
XYZ and LAMMPS text dumps of known positions."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np


def _open(path: Path, gz: bool):
    return gzip.open(path, "wt") if gz else open(path, "w")


def write_xdatcar(path, positions, cells, symbols, *, npt=False, gz=False, cut_last=0):
    """``positions`` (F, N, 3) Cartesian Å, ``cells`` (F, 3, 3); symbols grouped by element
    in order. ``npt`` repeats the header before every frame (VASP ISIF = 3); ``cut_last``
    drops that many lines from the end (a truncated file)."""
    path = Path(path)
    names, counts = [], []
    for s in symbols:
        if names and names[-1] == s:
            counts[-1] += 1
        else:
            names.append(s)
            counts.append(1)
    lines = []

    def header(cell):
        lines.append("test trajectory")
        lines.append("    1.000000")
        lines.extend("  " + " ".join(f"{x:12.6f}" for x in row) for row in cell)
        lines.append("  " + " ".join(names))
        lines.append("  " + " ".join(str(c) for c in counts))

    header(cells[0])
    for f, (pos, cell) in enumerate(zip(positions, cells)):
        if npt and f > 0:
            header(cell)
        lines.append(f"Direct configuration=   {f + 1}")
        frac = (pos @ np.linalg.inv(cell)) % 1.0
        lines.extend(" ".join(f"{x:.8f}" for x in row) for row in frac)
    if cut_last:
        lines = lines[:-cut_last]
    with _open(path, gz) as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def write_extxyz(path, positions, cells, symbols, *, cut_last=0, temperature=None):
    lines = []
    for pos, cell in zip(positions, cells):
        lines.append(str(len(symbols)))
        lat = " ".join(f"{x:.8f}" for x in np.asarray(cell).ravel())
        extra = "" if temperature is None else f" temperature={temperature}"
        lines.append(f'Lattice="{lat}" Properties=species:S:1:pos:R:3:id:I:1 pbc="T T T"{extra}')
        lines.extend(
            f"{s} {x:.8f} {y:.8f} {z:.8f} {k}" for k, (s, (x, y, z)) in enumerate(zip(symbols, pos))
        )
    if cut_last:
        lines = lines[:-cut_last]
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def write_lammps_dump(path, positions, cells, types, *, steps=None, style="x", shuffle=True,
                      cut_last=0, seed=0):  # fmt: skip
    """``style``: x (wrapped), xu (unwrapped), xs (scaled wrapped), image (x + ix iy iz).
    Cells must be LAMMPS-shaped (a along x, b in the xy plane)."""
    rng = np.random.default_rng(seed)
    lines = []
    n = len(types)
    steps = np.arange(len(positions)) * 10 if steps is None else steps
    for step, pos, cell in zip(steps, positions, cells):
        lines += ["ITEM: TIMESTEP", str(int(step)), "ITEM: NUMBER OF ATOMS", str(n)]
        xy, xz, yz = cell[1, 0], cell[2, 0], cell[2, 1]
        lx, ly, lz = cell[0, 0], cell[1, 1], cell[2, 2]
        if xy or xz or yz:
            xlo_b = min(0.0, xy, xz, xy + xz)
            xhi_b = lx + max(0.0, xy, xz, xy + xz)
            lines += ["ITEM: BOX BOUNDS xy xz yz pp pp pp", f"{xlo_b} {xhi_b} {xy}",
                      f"{min(0.0, yz)} {ly + max(0.0, yz)} {xz}", f"0.0 {lz} {yz}"]  # fmt: skip
        else:
            lines += ["ITEM: BOX BOUNDS pp pp pp", f"0.0 {lx}", f"0.0 {ly}", f"0.0 {lz}"]
        frac = pos @ np.linalg.inv(cell)
        image = np.floor(frac)
        wrapped = (frac - image) @ cell
        order = rng.permutation(n) if shuffle else np.arange(n)
        if style == "xu":
            cols, data = "id type xu yu zu", pos
        elif style == "xs":
            cols, data = "id type xs ys zs", frac - image
        elif style == "image":
            cols, data = "id type x y z ix iy iz", np.hstack([wrapped, image])
        else:
            cols, data = "id type x y z", wrapped
        lines.append(f"ITEM: ATOMS {cols}")
        for k in order:
            vals = " ".join(
                str(int(v)) if (style == "image" and j >= 3) else f"{v:.8f}"
                for j, v in enumerate(data[k])
            )
            lines.append(f"{k + 1} {types[k]} {vals}")
    if cut_last:
        lines = lines[:-cut_last]
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def walk_with_framework(n_li=16, n_frames=60, hops=0.2, box_sites=8, spacing=2.0, seed=0,
                        n_framework=4):  # fmt: skip
    """Unwrapped Li lattice walk plus fixed framework atoms 'P' (Cartesian Å), cell (3, 3)."""
    from iondyn.md.simulate import lattice_walk

    wrapped, cell = lattice_walk(
        n_li, n_frames, hops, spacing_A=spacing, box_sites=box_sites, seed=seed
    )
    from iondyn.md.unwrap import unwrap_block

    li, _ = unwrap_block(wrapped, np.broadcast_to(cell, (n_frames, 3, 3)), None, None)
    rng = np.random.default_rng(seed + 1)
    fw = rng.random((n_framework, 3)) @ cell
    pos = np.concatenate([li, np.broadcast_to(fw, (n_frames, n_framework, 3))], axis=1)
    symbols = ["Li"] * n_li + ["P"] * n_framework
    return pos, cell, symbols
