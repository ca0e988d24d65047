"""The result of an equilibrium space-charge calculation and the quantities derived from it.

Definitions (SI, per unit area of interface):

* ``charge_C_per_m2`` — charge of the first interface of the device: the metal surface charge of
  an electrode (Grahame sign: positive when the electrode is positive against the bulk), or for
  a junction the space charge on its left side ∫ρ dx over the left phase.
* ``capacitance_F_per_m2`` — differential capacitance dQ/dV of that interface (electrode: V its
  potential, amounts conserved in a closed cell; junction: V a bias between the two bulks).
  Computed exactly from the discrete Jacobian (one extra linear solve).
* ``layer_resistance_ohm_m2`` — excess resistance perpendicular to the layers,
  ∫ (1/σ(x) − 1/σ∞) dx; ``layer_conductance_S`` — excess sheet conductance parallel to them,
  ∫ (σ(x) − σ∞) dx, with σ = Σ z²e²D c(1 − θ)/kT (Nernst–Einstein, lattice-gas mobility);
  (Maier, Prog. Solid State Chem. 23, 171 (1995), §4). Summed over phases, each against its own
  bulk conductivity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline
from scipy.optimize import brentq

from iondyn.display import Displayable, Param, Summary, clean_zero
from iondyn.errors import InputError
from iondyn.physics.discretization import Discretization, local_concentrations
from iondyn.physics.equilibrium import Closure, EquilibriumState, PoissonBoltzmann
from iondyn.serialize import to_jsonable

__all__ = ["SCLResult", "build_result"]


@dataclass(repr=False)
class SCLResult(Displayable):
    """Equilibrium profile and derived interface quantities (SI units, per m² of interface)."""

    x_m: np.ndarray
    phi_V: np.ndarray
    conc_m3: dict[str, np.ndarray]
    phase: np.ndarray
    phase_names: list[str]
    charge_C_per_m2: float
    capacitance_F_per_m2: float
    debye_length_m: float
    debye_lengths_m: dict[str, float]
    bulk_potentials_V: dict[str, float]
    interfaces: list[dict[str, Any]]
    layer_resistance_ohm_m2: float | None
    layer_conductance_S: float | None
    layer_by_phase: dict[str, dict[str, float | None]]
    temperature_K: float
    ensemble: str
    mesh: dict[str, Any]
    iterations: int
    residual: float
    converged: bool = True
    warnings: list[str] = field(default_factory=list)

    @property
    def thermal_voltage_V(self) -> float:
        from iondyn.constants import thermal_voltage

        return thermal_voltage(self.temperature_K)

    def potential_at(self, x_m) -> np.ndarray:
        """φ at arbitrary positions (cubic spline through the nodes of each phase)."""
        x = np.asarray(x_m, dtype=float)
        out = np.full(x.shape, np.nan)
        for p in range(len(self.phase_names)):
            sel = self.phase == p
            xs, ys = self.x_m[sel], self.phi_V[sel]
            inside = (x >= xs[0]) & (x <= xs[-1])
            out[inside] = CubicSpline(xs, ys)(x[inside])
        if np.any(np.isnan(out)):
            raise InputError("potential_at: position outside the nodes of the phases")
        return out

    @property
    def interface_potential_V(self) -> float:
        return float(self.interfaces[0]["potential_V"]) if self.interfaces else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "x_m": self.x_m,
                "phi_V": self.phi_V,
                "conc_m3": self.conc_m3,
                "phase": [self.phase_names[i] for i in self.phase],
                "charge_C_per_m2": self.charge_C_per_m2,
                "capacitance_F_per_m2": self.capacitance_F_per_m2,
                "debye_length_m": self.debye_length_m,
                "debye_lengths_m": self.debye_lengths_m,
                "bulk_potentials_V": self.bulk_potentials_V,
                "interfaces": self.interfaces,
                "layer_resistance_ohm_m2": self.layer_resistance_ohm_m2,
                "layer_conductance_S": self.layer_conductance_S,
                "layer_by_phase": self.layer_by_phase,
                "temperature_K": self.temperature_K,
                "ensemble": self.ensemble,
                "mesh": self.mesh,
                "iterations": self.iterations,
                "residual": self.residual,
                "converged": self.converged,
                "warnings": self.warnings,
            }
        )

    def _summary(self) -> Summary:
        vt = self.thermal_voltage_V
        q_scale = abs(self.capacitance_F_per_m2) * vt
        params = [
            Param(f"Debye length of {name}", ld, None, "m")
            for name, ld in self.debye_lengths_m.items()
        ]
        for k, itf in enumerate(self.interfaces):
            label = itf["kind"] if itf["kind"] == "electrode" else "|".join(itf["phases"])
            params.append(
                Param(f"φ at {label} {k + 1}", clean_zero(itf["potential_V"], vt), None, "V")
            )
            params.append(
                Param(
                    f"Q at {label} {k + 1}",
                    clean_zero(itf["charge_C_per_m2"], q_scale),
                    None,
                    "C/m²",
                )
            )
        params.append(Param("differential capacitance", self.capacitance_F_per_m2, None, "F/m²"))
        if self.layer_resistance_ohm_m2 is not None:
            r = clean_zero(self.layer_resistance_ohm_m2)
            params.append(Param("layer resistance (⊥, excess)", r, None, "Ω m²"))
        if self.layer_conductance_S is not None:
            params.append(
                Param(
                    "layer conductance (∥, excess)", clean_zero(self.layer_conductance_S), None, "S"
                )
            )
        facts = [
            f"T = {self.temperature_K:g} K",
            self.ensemble,
            f"{self.mesh.get('n_nodes', '?')} nodes",
        ]
        if not self.converged:
            facts.append("NOT converged")
        return Summary(
            "SCLResult", "equilibrium space charge", facts, params, warnings=self.warnings
        )

    def plot(self, ax: Any = None, kind: str = "potential") -> Any:
        """The profile against position (nm): ``kind`` ``potential`` (φ in V) or
        ``concentration`` (every species, log axis). Returns the axes."""
        from iondyn.display import plots as dp

        ax = dp.axes(ax)
        x_nm = self.x_m * 1e9
        if kind == "potential":
            return dp.xy(ax, x_nm, self.phi_V, xlabel="x (nm)", ylabel="φ (V)")
        if kind == "concentration":
            for name, c in self.conc_m3.items():
                dp.xy(
                    ax,
                    x_nm,
                    np.where(c > 0, c, np.nan),
                    xlabel="x (nm)",
                    ylabel="c (1/m³)",
                    label=name,
                    logy=True,
                )
            return ax
        raise InputError(f"kind must be potential or concentration, not {kind!r}")

    def to_dataframe(self) -> pd.DataFrame:
        df = pd.DataFrame({"x_m": self.x_m, "phi_V": self.phi_V})
        df["phase"] = [self.phase_names[i] for i in self.phase]
        for name, c in self.conc_m3.items():
            df[f"c_{name}_m3"] = c
        return df


def _neutral_potential(disc: Discretization, p: int, m: np.ndarray, lo: float, hi: float) -> float:
    """Potential at which the bulk of phase p is neutral, given group potentials m."""
    node = int(np.flatnonzero(disc.phase == p)[0])
    m_node = disc.node_m(m)[node]

    def rho(psi: float) -> float:
        la = m_node - disc.z * psi - disc.mu0[node]
        c, _ = local_concentrations(la, disc.c_max[node])
        return float(np.where(disc.present[node], c, 0.0) @ disc.z + disc.rho_fix[node])

    a, b = lo - 60.0, hi + 60.0
    if rho(a) * rho(b) > 0:
        return float("nan")
    return float(brentq(rho, a, b, xtol=1e-13))


def _charge_left_electrode(disc, psi, rho) -> float:
    """Metal charge D(0) = D(h/2) − ∫_0^{h/2} ρ dx (trapezoid on the half cell, O(h³))."""
    h = disc.h[0]
    return float(-disc.eps_face[0] * (psi[1] - psi[0]) / h - h * (3 * rho[0] + rho[1]) / 8)


def _charge_right_electrode(disc, psi, rho) -> float:
    """Metal charge −D(L) of the right electrode (same half-cell quadrature)."""
    h = disc.h[-1]
    return float(disc.eps_face[-1] * (psi[-1] - psi[-2]) / h - h * (3 * rho[-1] + rho[-2]) / 8)


def _drho(disc, state, dpsi, dm) -> np.ndarray:
    """Change of ρ̃ at every node for changes dψ (N) and dm (G)."""
    dc = state.dcdm * (disc.node_m(dm)[:, :] - disc.z * dpsi[:, None])
    return np.where(disc.present, dc, 0.0) @ disc.z


def build_result(
    disc: Discretization,
    solver: PoissonBoltzmann,
    state: EquilibriumState,
    bulk_psi: np.ndarray,
    electrode: dict[str, float],
    ensemble: str,
    closure: Closure | None,
    refinements: int,
    warnings: list[str],
) -> SCLResult:
    """Assemble an :class:`SCLResult` (SI) from a converged state."""
    dev = disc.device
    sc = disc.scales
    vt, L, qs = sc.thermal_voltage_V, sc.length_m, sc.charge_C_m2
    psi, c = state.psi, state.c
    rho = disc.charge_density(c)
    n_ph = len(dev.phases)
    if closure is not None:
        lo, hi = float(np.min(psi)), float(np.max(psi))
        bulk = np.array([_neutral_potential(disc, p, state.m, lo, hi) for p in range(n_ph)])
    else:
        bulk = np.asarray(bulk_psi, dtype=float)
    names = [p.name for p in dev.phases]

    # concentrations of every species (immobile ones: their bulk value in their phases)
    conc: dict[str, np.ndarray] = {}
    for name in dev.species_names:
        if name in disc.names:
            conc[name] = c[:, disc.names.index(name)] * sc.c_ref_m3
        else:
            vals = np.array(
                [
                    (s.c_bulk_m3 if (s := ph.species_named(name)) is not None else 0.0)
                    for ph in dev.phases
                ]
            )
            conc[name] = vals[disc.phase]

    # interfaces, charges and the capacitance of the first one
    interfaces: list[dict[str, Any]] = []
    n = psi.size
    cap = float("nan")
    if "left" in electrode:
        q = _charge_left_electrode(disc, psi, rho)
        interfaces.append(
            {
                "kind": "electrode",
                "side": "left",
                "position_m": 0.0,
                "potential_V": psi[0] * vt,
                "potential_drops_V": [(psi[0] - bulk[0]) * vt],
                "charge_C_per_m2": q * qs,
            }
        )
        drdp = np.zeros(n)
        drdp[0] = -1.0
        dpsi, dm = solver.sensitivity(state, drdp, closure)
        dq = _charge_left_electrode(disc, dpsi, _drho(disc, state, dpsi, dm))
        cap = float(dq) * sc.capacitance_F_m2
    for j, f in enumerate(disc.mesh.interface_faces):
        p = int(disc.phase[f])
        ea, eb = disc.eps_node[f], disc.eps_node[f + 1]
        psi_int = (ea * psi[f] + eb * psi[f + 1]) / (ea + eb)
        sel = np.flatnonzero(disc.phase == p)
        near = sel[disc.x[sel] >= 0.5 * (disc.x[sel[0]] + disc.x[sel[-1]])]
        if p == 0 and "left" not in electrode:
            near = sel
        q = float(np.sum(disc.vol[near] * rho[near]))
        interfaces.append(
            {
                "kind": "junction",
                "phases": [names[p], names[p + 1]],
                "position_m": float(disc.mesh.interface_positions_m[j]),
                "potential_V": psi_int * vt,
                "potential_drops_V": [(psi_int - bulk[p]) * vt, (bulk[p + 1] - psi_int) * vt],
                "charge_C_per_m2": q * qs,
            }
        )
        if np.isnan(cap) and closure is None:
            right = disc.phase > p
            drho_dpsi = -(state.dcdm * disc.z) @ disc.z
            drdp = np.where(right, disc.vol * drho_dpsi, 0.0)
            drdp = np.where(solver.fixed & right, -1.0, np.where(solver.fixed, 0.0, drdp))
            dpsi, _ = solver.sensitivity(state, drdp, None)
            dq = np.sum(disc.vol[near] * (drho_dpsi * dpsi)[near])
            cap = -float(dq) * sc.capacitance_F_m2
    if "right" in electrode:
        q = _charge_right_electrode(disc, psi, rho)
        interfaces.append(
            {
                "kind": "electrode",
                "side": "right",
                "position_m": float(disc.x[-1] * L),
                "potential_V": psi[-1] * vt,
                "potential_drops_V": [(bulk[-1] - psi[-1]) * vt],
                "charge_C_per_m2": q * qs,
            }
        )
        if np.isnan(cap):
            drdp = np.zeros(n)
            drdp[-1] = -1.0
            dpsi, dm = solver.sensitivity(state, drdp, closure)
            dq = _charge_right_electrode(disc, dpsi, _drho(disc, state, dpsi, dm))
            cap = float(dq) * sc.capacitance_F_m2

    # layer resistance / conductance against the bulk of each phase
    sigma = disc.conductivity(c) * sc.conductivity_S_m
    sigma_bulk = disc.conductivity(disc.c_bulk) * sc.conductivity_S_m
    by_phase: dict[str, dict[str, float | None]] = {}
    r_tot, g_tot, have = 0.0, 0.0, False
    for p, ph in enumerate(dev.phases):
        sel = disc.phase == p
        missing = [s.name for s in ph.mobile_species if s.diffusivity_m2_s is None]
        if np.all(sigma_bulk[sel] == 0):
            by_phase[ph.name] = {"resistance_ohm_m2": None, "conductance_S": None}
            continue
        if missing:
            warnings.append(
                f"phase {ph.name!r}: no diffusivity_m2_s for {', '.join(missing)}; left out of "
                "the layer resistance and conductance"
            )
        v = disc.vol[sel] * L
        with np.errstate(divide="ignore"):
            r = float(np.sum(v * (1.0 / sigma[sel] - 1.0 / sigma_bulk[sel])))
        g = float(np.sum(v * (sigma[sel] - sigma_bulk[sel])))
        by_phase[ph.name] = {
            "resistance_ohm_m2": r,
            "conductance_S": g,
            "bulk_conductivity_S_m": float(sigma_bulk[sel][0]),
        }
        r_tot += r
        g_tot += g
        have = True

    lds = disc.debye_lengths_m()
    return SCLResult(
        x_m=disc.x * L,
        phi_V=psi * vt,
        conc_m3=conc,
        phase=disc.phase.copy(),
        phase_names=names,
        charge_C_per_m2=float(interfaces[0]["charge_C_per_m2"]) if interfaces else float("nan"),
        capacitance_F_per_m2=cap,
        debye_length_m=lds[0],
        debye_lengths_m=dict(zip(names, lds)),
        bulk_potentials_V={nm: float(b * vt) for nm, b in zip(names, bulk)},
        interfaces=interfaces,
        layer_resistance_ohm_m2=r_tot if have else None,
        layer_conductance_S=g_tot if have else None,
        layer_by_phase=by_phase,
        temperature_K=dev.temperature_K,
        ensemble=ensemble,
        mesh={**disc.mesh.to_dict(), "refinements": refinements},
        iterations=state.iterations,
        residual=state.residual,
        warnings=warnings,
    )
