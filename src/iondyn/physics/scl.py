"""Equilibrium space-charge layers at electrodes and heterojunctions.

:class:`SpaceChargeSolver` solves the Poisson equation −(εφ′)′ = Σ_k z_k e c_k + ρ_fix with every
mobile species in electrochemical equilibrium (μ̃_k = μ_k⁰ + kT ln a_k + z_k eφ constant; dilute
or site-saturated statistics, :mod:`iondyn.physics.species`) on a graded mesh
(:mod:`iondyn.physics.mesh`) with a damped Newton method (:mod:`iondyn.physics.equilibrium`).
(Maier, Prog. Solid State Chem. 23, 171 (1995); Maier, *Physical Chemistry of Ionic Materials*
(2004), §5.8.)

Geometry follows from the contacts of the :class:`~iondyn.physics.species.Device`:

* one electrode and one ``bulk`` end: a half-space in contact with its own bulk (grand canonical;
  the bulk of the first phase is at 0 V, ``potential_V`` is the electrode potential against it);
* phases in a row with ``bulk`` ends: a heterojunction; the bulk-to-bulk step follows from the
  species the phases share (their electrochemical potentials are equal);
* electrodes at both ends: a closed cell; species that no contact exchanges keep their amount
  (canonical) and the bulk potential floats; species an ohmic or Butler–Volmer contact exchanges
  are in equilibrium with that reservoir.

The mesh is checked against the local screening length sqrt(ε/Σ z²e²c(1 − θ)/kT) wherever there
is space charge and refined automatically (reported in ``warnings``); Newton failures raise
:class:`~iondyn.errors.SolverError` with the residual.
"""

from __future__ import annotations

import numpy as np

from iondyn.errors import InputError, SolverError
from iondyn.physics.discretization import Discretization
from iondyn.physics.equilibrium import Closure, EquilibriumState, PoissonBoltzmann
from iondyn.physics.mesh import Refinement
from iondyn.physics.mesh_design import build_mesh, design_mesh, probe_discretization
from iondyn.physics.scl_result import SCLResult, build_result
from iondyn.physics.species import Device

__all__ = ["SCLResult", "SpaceChargeSolver", "solve_scl"]

ENSEMBLES = ("auto", "grand-canonical", "canonical")

#: Nodes whose space charge is below this fraction of the largest one are not checked for
#: resolution (the exponential tail of a layer holds little charge and a smooth profile).
CHARGE_FRACTION = 1e-2

#: ... nor nodes whose net charge is below this fraction of their own carrier charge Σ|z|c:
#: an electroneutral profile (round-off charge, |ρ| ~ 1e-15 of the carriers) has no layer to
#: resolve, and the relative rule alone would flag every node of it.
NEUTRAL_FRACTION = 1e-9


class SpaceChargeSolver:
    """Equilibrium space-charge solver (configure here, then :meth:`solve`).

    Parameters
    ----------
    ensemble : "auto" | "grand-canonical" | "canonical"
        auto: a species keeps its amount when no contact or bulk boundary can exchange it
        (a closed cell between blocking electrodes is canonical, a half-space or a reversible
        contact grand canonical, mixtures are "mixed"); "canonical" closes every species,
        "grand-canonical" opens every one to its bulk.
    resolution : float
        Largest cell size as a fraction of the local screening length inside a space charge.
    ratio : float or None
        Growth factor of neighbouring cells of the graded mesh; None: 1 + 0.6 × resolution, so
        that the cells of an accumulation layer (screening length growing as x/√2) stay
        resolved.
    h_min_m : float or None
        Smallest cell; None estimates it from the screening length at the boundary potentials.
    max_refinements, max_nodes : int
        Automatic refinement budget: after ``max_refinements`` refinements a still unresolved
        layer is a warning in the result (never silent); a mesh that would need more than
        ``max_nodes`` nodes raises :class:`~iondyn.errors.SolverError` naming the limit (the
        ``[solver]`` keys ``max_refinements`` / ``max_nodes`` of a configuration file).
    tol, max_iter : float, int
        Newton stops when the potential update is below ``tol`` kT/e; more than ``max_iter``
        iterations raise :class:`~iondyn.errors.SolverError` with the residual.
    max_step, continuation_step : float
        Newton step limit and continuation step of the boundary potentials, in kT/e.
    """

    def __init__(
        self,
        *,
        ensemble: str = "auto",
        resolution: float = 0.05,
        ratio: float | None = None,
        h_min_m: float | None = None,
        max_refinements: int = 5,
        max_nodes: int = 20000,
        tol: float = 1e-10,
        max_iter: int = 200,
        max_step: float = 3.0,
        continuation_step: float = 4.0,
    ):
        if ensemble not in ENSEMBLES:
            raise InputError(f"ensemble must be one of {', '.join(ENSEMBLES)}, got {ensemble!r}")
        if not 0 < resolution <= 1:
            raise InputError("resolution must lie in (0, 1]")
        if h_min_m is not None and not h_min_m > 0:
            raise InputError("h_min_m must be positive")
        self.ensemble = ensemble
        self.resolution = resolution
        self.ratio = 1.0 + 0.6 * resolution if ratio is None else ratio
        self.h_min_m = h_min_m
        self.max_refinements = max_refinements
        self.max_nodes = max_nodes
        self.tol = tol
        self.max_iter = max_iter
        self.max_step = max_step
        self.continuation_step = continuation_step

    # ---------------------------------------------------------------- setup
    def _closure_matrix(self, device: Device, probe: Discretization) -> np.ndarray:
        """Columns of conservation laws (see :meth:`Discretization.closure`)."""
        if self.ensemble == "grand-canonical":
            return np.zeros((probe.n_groups, 0))
        if self.ensemble == "canonical":
            if not (device.left.is_electrode and device.right.is_electrode):
                raise InputError("the canonical ensemble needs electrodes at both ends")
            return probe.closure(all_closed=True)
        return probe.closure()

    @staticmethod
    def _electrode_values(device: Device, bulk_psi: np.ndarray, vt: float) -> dict[str, float]:
        out = {}
        if device.left.is_electrode:
            out["left"] = device.left.potential_V / vt + bulk_psi[0]
        if device.right.is_electrode:
            out["right"] = device.right.potential_V / vt + bulk_psi[-1]
        return out

    # ---------------------------------------------------------------- solve
    def solve(self, device: Device) -> SCLResult:
        """Equilibrium profile of ``device`` (see the module docstring for the geometry)."""
        probe = probe_discretization(device)
        p = self._closure_matrix(device, probe)
        closed = p.shape[1] > 0
        if not closed:
            ensemble = "grand-canonical"
        elif p.shape[1] == probe.n_groups:
            ensemble = "canonical"
        else:
            ensemble = "mixed"
        vt = probe.scales.thermal_voltage_V
        bulk_psi = probe.phase_bulk_psi
        if bulk_psi is None:
            if ensemble != "canonical":
                raise InputError(
                    "adjacent phases share no mobile species, so no equilibrium fixes the "
                    "junction potential; close the device with blocking electrodes at both "
                    "ends or share a species"
                )
            bulk_psi = np.zeros(len(device.phases))
        electrode = self._electrode_values(device, bulk_psi, vt)
        # a closed cell's bulk floats: the layer that accumulates is found and refined a
        # posteriori (designing both electrodes for the full voltage would put needlessly tiny
        # cells, and round-off, at the depleted one)
        lengths, h = design_mesh(
            device,
            probe,
            bulk_psi,
            electrode,
            resolution=self.resolution,
            ratio=self.ratio,
            h_min_m=self.h_min_m,
            require_lengths=closed,
        )
        L = probe.scales.length_m
        warnings: list[str] = []
        guess = None
        refinements = 0
        for attempt in range(self.max_refinements + 1):
            mesh = build_mesh(lengths, h, L)
            if mesh.n_nodes > self.max_nodes:
                raise SolverError(
                    f"resolving the space charge needs {mesh.n_nodes} nodes, more than "
                    f"max_nodes = {self.max_nodes} (smallest cell {mesh.h_min_m:.3g} m); raise "
                    "[solver] max_nodes or coarsen [solver] resolution"
                )
            disc = Discretization(device, mesh, probe.scales)
            closure = Closure(p, p.T @ disc.group_amounts(disc.c_bulk)) if closed else None
            state, solver = self._solve_on(disc, bulk_psi, electrode, closure, guess)
            flagged = self._unresolved(disc, state)
            if flagged is None:
                break
            if attempt == self.max_refinements:
                i, ratio_h = flagged
                warnings.append(
                    f"mesh does not resolve the local screening length at x = "
                    f"{disc.x[i] * L:.4g} m (cell/length = {ratio_h:.3g} after {refinements} "
                    "refinements); results may be inaccurate"
                )
                break
            h = self._refine(disc, state, h, electrode)
            refinements += 1
            guess = (disc.x, state.psi, state.m)
        if refinements:
            warnings.insert(
                0,
                f"mesh refined automatically {refinements} time(s) to resolve the local "
                f"screening length: {mesh.n_nodes} nodes, smallest cell {mesh.h_min_m:.3g} m",
            )
        return build_result(
            disc, solver, state, bulk_psi, electrode, ensemble, closure, refinements, warnings
        )

    def _solve_on(self, disc, bulk_psi, electrode, closure, guess):
        n = disc.x.size
        fixed, values = [], []
        if "left" in electrode:
            fixed.append(0)
            values.append(electrode["left"])
        if "right" in electrode:
            fixed.append(n - 1)
            values.append(electrode["right"])
        solver = PoissonBoltzmann(
            disc,
            np.asarray(fixed, dtype=int),
            np.asarray(values, dtype=float),
            tol=self.tol,
            max_iter=self.max_iter,
            max_step=self.max_step,
            continuation_step=self.continuation_step,
        )
        m_bulk = disc.bulk_electrochemical_potentials(bulk_psi)
        if guess is None:
            psi0 = bulk_psi[disc.phase].astype(float)
            m0 = m_bulk
        else:
            x_old, psi_old, m0 = guess
            psi0 = np.interp(disc.x, x_old, psi_old)
            # continuation starts from the previous solution: its Dirichlet values are exact
            psi0[solver.fixed] = solver.target[solver.fixed]
        try:
            state = solver.solve(psi0, m0, closure)
        except SolverError as exc:
            raise SolverError(f"space-charge equilibrium: {exc}") from None
        return state, solver

    def _unresolved(self, disc: Discretization, state: EquilibriumState):
        """(node, h/λ) of the worst unresolved node inside a space charge, or None."""
        return unresolved_node(disc, state.c, 1.5 * self.resolution)

    def _refine(self, disc, state, h, electrode):
        lam = disc.screening_length(state.c)
        hl = np.zeros(disc.x.size)
        hl[:-1] = disc.h
        hl[1:] = np.maximum(hl[1:], disc.h)
        charged = charged_nodes(disc, state.c)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(charged & np.isfinite(lam), self.resolution * lam / hl, np.inf)
        points = {"left": disc.x[0], "right": disc.x[-1]}
        x_int = [0.5 * (disc.x[f] + disc.x[f + 1]) for f in disc.mesh.interface_faces]
        new = {
            "left": h.get("left"),
            "right": h.get("right"),
            "interfaces": list(h["interfaces"]),
            "ratio": max(1.02, 1.0 + 0.8 * (h["ratio"] - 1.0)),
        }
        g = h["ratio"] - 1.0
        for i in np.flatnonzero(factor < 1.0):
            dist = {k: abs(disc.x[i] - v) for k, v in points.items() if k in electrode}
            for j, xi in enumerate(x_int):
                dist[j] = abs(disc.x[i] - xi)
            key = min(dist, key=dist.get)
            d = dist[key]
            need = 0.8 * self.resolution * lam[i]  # the cell size wanted at node i
            old = h[key] if key in ("left", "right") else h["interfaces"][key]
            cur = new[key] if key in ("left", "right") else new["interfaces"][key]
            h_min, h_layer, layer = cur.h_min_m, cur.h_layer_m, cur.layer_m
            if d <= (old.h_layer_m - old.h_min_m) / g:  # geometric part next to the interface
                # λ at a Dirichlet node is exact on any mesh, so jump straight to the need there
                h_min = min(h_min, max(need - g * d, 1e-3 * need))
            elif d <= old.layer_m:  # plateau
                h_layer = min(h_layer, max(need, 0.1 * old.h_layer_m))
            else:  # beyond the plateau: extend it
                layer = max(layer, 1.5 * d)
                h_layer = min(h_layer, max(need, 0.1 * old.h_layer_m))
            ref = Refinement(min(h_min, h_layer), h_layer, layer)
            if key in ("left", "right"):
                new[key] = ref
            else:
                new["interfaces"][key] = ref
        return new


def charged_nodes(disc: Discretization, c: np.ndarray) -> np.ndarray:
    """Nodes inside a space charge: |ρ| ≥ :data:`CHARGE_FRACTION` × max |ρ| and
    |ρ| ≥ :data:`NEUTRAL_FRACTION` × Σ_k |z_k| c_k at the node (so a flat, electroneutral
    profile has none)."""
    rho = np.abs(disc.charge_density(c))
    carriers = np.abs(c) @ np.abs(disc.z)
    return (rho >= CHARGE_FRACTION * np.max(rho)) & (rho >= NEUTRAL_FRACTION * carriers) & (rho > 0)


def unresolved_node(disc: Discretization, c: np.ndarray, limit: float, thermal: float = 1.0):
    """(node, h/λ) of the worst node whose cells exceed ``limit`` × the local screening length.

    Only nodes inside a space charge count (:func:`charged_nodes`). Returns None when every
    such node is resolved.
    """
    lam = disc.screening_length(c, thermal)
    hl = np.zeros(disc.x.size)
    hl[:-1] = disc.h
    hl[1:] = np.maximum(hl[1:], disc.h)
    charged = charged_nodes(disc, c)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(charged, hl / lam, 0.0)
    if not np.any(ratio > limit):
        return None
    i = int(np.argmax(ratio))
    return i, float(ratio[i])


def solve_scl(device: Device, **options) -> SCLResult:
    """Shortcut: ``SpaceChargeSolver(**options).solve(device)``."""
    return SpaceChargeSolver(**options).solve(device)
