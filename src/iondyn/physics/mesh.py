"""Graded 1D meshes for vertex-centred finite volumes, finest at electrodes and interfaces.

The local cell size grows linearly with the distance d from each refinement point,
h(d) = h_min + (r − 1) d, capped at ``h_max`` (a geometric progression with ratio r), so a layer
of any thickness between h_min and the phase length is resolved by a few dozen nodes; the number
of nodes grows only logarithmically with L/h_min.

Layout: nodes are the unknowns; node i owns the control volume between the midpoints of its two
faces (half a cell at the two ends of the device). An electrode or a bulk boundary sits on the end
node. A phase interface sits at the *midpoint* of the face that joins the last node of one phase
to the first node of the next, so every node belongs to exactly one phase and a step in
permittivity or site energy is a property of that face (harmonic-mean permittivity, exact for
the charge-free half cells).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iondyn.errors import InputError

__all__ = ["Mesh", "Refinement", "graded_mesh"]

#: Hard limit on the nodes of one phase (a guard against absurd cell sizes).
MAX_NODES = 1_000_000


@dataclass(frozen=True)
class Refinement:
    """Cell sizes near one refinement point (electrode or interface).

    Cells grow geometrically from ``h_min_m`` up to ``h_layer_m``, stay at that size up to a
    distance ``layer_m`` (the expected thickness of the space-charge layer) and then grow
    geometrically again into the bulk:
    h(d) = min(h_min + (r−1)d, h_layer) + (r−1) max(d − layer, 0).
    """

    h_min_m: float
    h_layer_m: float | None = None
    layer_m: float = 0.0

    def size(self, d: np.ndarray, g: float) -> np.ndarray:
        grow = self.h_min_m + g * d
        if self.h_layer_m is None:
            return grow
        h_layer = max(self.h_layer_m, self.h_min_m)
        return np.minimum(grow, h_layer) + g * np.maximum(d - self.layer_m, 0.0)


def _as_refinement(r: Refinement | float | None) -> Refinement | None:
    if r is None or isinstance(r, Refinement):
        return r
    return Refinement(float(r))


@dataclass(frozen=True)
class Mesh:
    """Node positions (m, leftmost node at 0), the phase of each node and the interface faces."""

    x_m: np.ndarray
    phase_index: np.ndarray
    interface_positions_m: np.ndarray
    ratio: float

    @property
    def n_nodes(self) -> int:
        return int(self.x_m.size)

    @property
    def h_m(self) -> np.ndarray:
        """Face (cell) lengths, one fewer than nodes."""
        return np.diff(self.x_m)

    @property
    def volumes_m(self) -> np.ndarray:
        """Control-volume lengths of the nodes (half cells at the two ends)."""
        h = self.h_m
        v = np.zeros(self.n_nodes)
        v[:-1] += 0.5 * h
        v[1:] += 0.5 * h
        return v

    @property
    def h_min_m(self) -> float:
        return float(np.min(self.h_m))

    @property
    def interface_faces(self) -> np.ndarray:
        """Indices f of the faces (x_f, x_f+1) that cross a phase interface."""
        return np.flatnonzero(np.diff(self.phase_index) != 0)

    def to_dict(self) -> dict:
        return {
            "n_nodes": self.n_nodes,
            "h_min_m": self.h_min_m,
            "h_max_m": float(np.max(self.h_m)),
            "ratio": self.ratio,
            "interfaces_m": self.interface_positions_m.tolist(),
        }


def _segment(
    length: float,
    left: Refinement | None,
    right: Refinement | None,
    ratio: float,
    h_max: float,
) -> np.ndarray:
    """Points 0 … length with the cell size of each refined end (≤ h_max)."""
    g = ratio - 1.0
    # Auxiliary grid much finer than the mesh, geometric towards both ends.
    pieces = [np.linspace(0.0, length, 4001)]
    for ref, mirror in ((left, False), (right, True)):
        if ref is not None:
            d = np.geomspace(min(ref.h_min_m, length) * 1e-2, length, 4000)
            pieces.append(length - d if mirror else d)
            if ref.h_layer_m:
                d = np.linspace(0.0, min(ref.layer_m, length), 2001)
                pieces.append(length - d if mirror else d)
    aux = np.unique(np.clip(np.concatenate(pieces), 0.0, length))
    size = np.full(aux.shape, h_max)
    if left is not None:
        size = np.minimum(size, left.size(aux, g))
    if right is not None:
        size = np.minimum(size, right.size(length - aux, g))
    dens = 1.0 / size
    n_of_x = np.concatenate(([0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(aux))))
    if n_of_x[-1] > MAX_NODES:
        raise InputError(f"mesh: the requested cell sizes need more than {MAX_NODES} nodes")
    n_cells = max(int(np.ceil(n_of_x[-1])), 2)
    targets = np.linspace(0.0, n_of_x[-1], n_cells + 1)
    pts = np.interp(targets, n_of_x, aux)
    pts[0], pts[-1] = 0.0, length
    return pts


def graded_mesh(
    lengths_m: list[float] | np.ndarray,
    left: Refinement | float | None,
    right: Refinement | float | None,
    interfaces: list[Refinement | float] | tuple = (),
    ratio: float = 1.08,
    min_cells_per_phase: int = 40,
) -> Mesh:
    """Mesh of phases of ``lengths_m`` in a row.

    ``left`` / ``right``: refinement at the two ends of the device (a :class:`Refinement`, or
    just the smallest cell in m; None: no refinement there, e.g. a bulk boundary).
    ``interfaces[j]``: refinement at interface j (between phase j and j+1); its ``h_min_m`` is
    the length of the face that straddles the interface. ``ratio``: growth factor of
    neighbouring cells (1 < r ≤ 1.5). Cells never exceed 1/``min_cells_per_phase`` of their
    phase.
    """
    lengths = np.asarray(lengths_m, dtype=float)
    n_ph = lengths.size
    if n_ph == 0 or np.any(~(lengths > 0)):
        raise InputError("mesh: phase lengths must be positive")
    if not 1.0 < ratio <= 1.5:
        raise InputError(f"mesh: growth ratio must lie in (1, 1.5], got {ratio:g}")
    refs = [_as_refinement(r) for r in interfaces]
    if len(refs) != n_ph - 1 or any(r is None for r in refs):
        raise InputError("mesh: one refinement per interface is required")
    h_int = [r.h_min_m for r in refs]
    left, right = _as_refinement(left), _as_refinement(right)
    xs, idx, interfaces = [], [], []
    start = 0.0
    for p, length in enumerate(lengths):
        a_off = 0.0 if p == 0 else 0.5 * h_int[p - 1]
        b_off = 0.0 if p == n_ph - 1 else 0.5 * h_int[p]
        inner = length - a_off - b_off
        if inner <= 0:
            raise InputError(f"mesh: phase {p} is thinner than its interface cells")
        r_a = left if p == 0 else refs[p - 1]
        r_b = right if p == n_ph - 1 else refs[p]
        h_max = length / min_cells_per_phase
        pts = _segment(inner, r_a, r_b, ratio, h_max)
        xs.append(start + a_off + pts)
        idx.append(np.full(pts.size, p))
        start += length
        if p < n_ph - 1:
            interfaces.append(start)
    x = np.concatenate(xs)
    if np.any(np.diff(x) <= 0):
        raise InputError("mesh: could not build a monotonic mesh (cells too large)")
    return Mesh(x, np.concatenate(idx), np.asarray(interfaces, dtype=float), float(ratio))
