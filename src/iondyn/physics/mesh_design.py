"""A-priori mesh design: where space-charge layers can form and how thin they can get.

For every electrode and interface the smallest local screening length
λ(ψ) = sqrt(ε kT / (e² Σ_k z_k² c_k(ψ)(1 − θ_k(ψ)))) is evaluated over the range of potentials the
layer may take (bulk ↔ electrode potential, widened by ``extra_span`` for a floating bulk or an
applied bias); the mesh starts at ``resolution × λ_min``, holds cells of ``resolution × L_D``
across the expected layer thickness L_D (4 + 1.5 √(2Δψ)) (+ a compact saturated layer) and then
grows geometrically into the bulk (:class:`~iondyn.physics.mesh.Refinement`).
"""

from __future__ import annotations

import numpy as np

from iondyn.errors import InputError
from iondyn.physics.discretization import Discretization, local_concentrations
from iondyn.physics.mesh import Mesh, Refinement, graded_mesh
from iondyn.physics.species import Device

__all__ = ["MeshPlan", "build_mesh", "design_mesh", "probe_discretization"]

#: Auto length of a phase without ``length_m`` (half-space): this many Debye lengths plus room
#: for a depletion layer.
AUTO_DEBYE_LENGTHS = 40.0

MeshPlan = dict  # {"ratio": r, "left"/"right": Refinement, "interfaces": [Refinement]}


def probe_discretization(device: Device) -> Discretization:
    """A throw-away discretisation (2 nodes per phase) for bulk data and reduced units."""
    n = len(device.phases)
    x = np.repeat(np.arange(n, dtype=float), 2) + np.tile([0.0, 0.5], n)
    mesh = Mesh(x * 1e-9, np.repeat(np.arange(n), 2), np.arange(1, n) * 1e-9, 1.1)
    return Discretization(device, mesh)


def min_screening_length(
    probe: Discretization, p: int, lo: float, hi: float, bulk_psi: np.ndarray
) -> float:
    """Smallest local screening length (reduced) in phase p for ψ between lo and hi."""
    node = int(np.flatnonzero(probe.phase == p)[0])
    m = probe.bulk_electrochemical_potentials(bulk_psi)
    psi = np.linspace(min(lo, hi) - 0.5, max(lo, hi) + 0.5, 401)
    m_node = np.repeat(probe.node_m(m)[node][None, :], psi.size, axis=0)
    la = m_node - probe.z * psi[:, None] - probe.mu0[node]
    _, dc = local_concentrations(la, np.repeat(probe.c_max[node][None, :], psi.size, axis=0))
    s = np.where(probe.present[node], dc, 0.0) @ probe.z**2
    lam = np.sqrt(probe.eps_node[node] / np.maximum(s, 1e-300))
    return float(np.min(lam))


def design_mesh(
    device: Device,
    probe: Discretization,
    bulk_psi: np.ndarray,
    electrode: dict[str, float],
    *,
    resolution: float,
    ratio: float,
    extra_span: float = 0.0,
    h_min_m: float | None = None,
    require_lengths: bool = False,
    ranges: dict[str, tuple[float, float]] | None = None,
) -> tuple[np.ndarray, MeshPlan]:
    """Phase lengths and refinements (reduced units) for ``device``.

    ``electrode`` maps "left"/"right" to reduced electrode potentials; ``extra_span`` widens
    every potential range (kT/e); ``ranges`` gives the potential range of an electrode's
    adjacent bulk-to-surface region directly (overrides the two).
    """
    L = probe.scales.length_m
    n = len(device.phases)
    span = np.zeros(n)
    given = dict(ranges or {})
    ranges = {}
    for side, p in (("left", 0), ("right", n - 1)):
        if side in electrode:
            if side not in given:
                ends = [electrode[side], bulk_psi[p]]
                ranges[side] = (min(ends) - extra_span, max(ends) + extra_span)
            else:
                ranges[side] = given[side]
            span[p] = max(span[p], ranges[side][1] - ranges[side][0])
    for p in range(n - 1):
        step = abs(bulk_psi[p + 1] - bulk_psi[p]) + extra_span
        span[p] = max(span[p], step)
        span[p + 1] = max(span[p + 1], step)
    # thickness of a compact (saturated) layer holding the charge of the largest step and the
    # screening length of a half-filled lattice, sqrt(ε/(Σ z² c_max/4))
    compact = np.zeros(n)
    lam_sat = np.full(n, np.inf)
    for p in range(n):
        node = int(np.flatnonzero(probe.phase == p)[0])
        cmax = probe.c_max[node]
        sat = probe.present[node] & np.isfinite(cmax)
        if np.any(sat):
            compact[p] = np.sqrt(2 * span[p] / np.min(cmax[sat]))
            lam_sat[p] = np.sqrt(probe.eps_node[node] / (np.sum(probe.z[sat] ** 2 * cmax[sat]) / 4))
    lds = [ph.debye_length_m(device.temperature_K) / L for ph in device.phases]
    lengths = []
    for p, phase in enumerate(device.phases):
        if phase.length_m is not None:
            lengths.append(phase.length_m / L)
        elif require_lengths:
            raise InputError(
                f"phase {phase.name!r}: length_m is required (a cell between two electrodes)"
            )
        else:
            lengths.append(lds[p] * (AUTO_DEBYE_LENGTHS + 6.0 * np.sqrt(span[p])) + 2 * compact[p])

    def refinement(p: int, lam_min: float) -> Refinement:
        layer = lds[p] * (4.0 + 1.5 * np.sqrt(2.0 * span[p])) + 2.0 * compact[p]
        h_min = resolution * lam_min if h_min_m is None else h_min_m / L
        return Refinement(h_min, max(h_min, resolution * min(lds[p], lam_sat[p])), layer)

    plan: MeshPlan = {"ratio": ratio, "interfaces": []}
    for side, p in (("left", 0), ("right", n - 1)):
        if side in electrode:
            plan[side] = refinement(p, min_screening_length(probe, p, *ranges[side], bulk_psi))
    for p in range(n - 1):
        lo = min(bulk_psi[p], bulk_psi[p + 1]) - extra_span
        hi = max(bulk_psi[p], bulk_psi[p + 1]) + extra_span
        lam = min(min_screening_length(probe, q, lo, hi, bulk_psi) for q in (p, p + 1))
        plan["interfaces"].append(refinement(p, lam))
    return np.asarray(lengths), plan


def _si(ref: Refinement | None, length_m: float) -> Refinement | None:
    if ref is None:
        return None
    return Refinement(ref.h_min_m * length_m, ref.h_layer_m * length_m, ref.layer_m * length_m)


def build_mesh(lengths: np.ndarray, plan: MeshPlan, length_unit_m: float) -> Mesh:
    """The graded mesh (SI) of a plan in reduced units."""
    L = length_unit_m
    return graded_mesh(
        lengths * L,
        _si(plan.get("left"), L),
        _si(plan.get("right"), L),
        [_si(r, L) for r in plan["interfaces"]],
        ratio=plan["ratio"],
    )
