"""Poisson–Nernst–Planck model of a device: steady states, I–V, impedance, transients, TSDC.

:class:`PNPModel` discretises a :class:`~iondyn.physics.species.Device` (graded mesh finest at the
electrodes and interfaces, :mod:`iondyn.physics.mesh_design`) into the system
M du/dt + F(u) = 0 of :mod:`iondyn.physics.pnp_assembly` and offers

* :meth:`PNPModel.equilibrium` — the zero-bias state (the equilibrium solver on the same mesh,
  an exact steady state of the discrete PNP equations);
* :meth:`PNPModel.steady_state` / :meth:`PNPModel.iv_curve` — fully coupled damped Newton with
  continuation in the applied voltage; species that cannot leave the device keep their amount
  (one continuity equation per closed species is replaced by its conservation law);
* :meth:`PNPModel.impedance` — small signal, (J + iωM) δu = b
  (:mod:`iondyn.physics.pnp_smallsignal`);
* :meth:`PNPModel.transient` — implicit adaptive BDF2 (:mod:`iondyn.physics.pnp_transient`);
* :meth:`PNPModel.tsdc` — poling, quench and heating (:mod:`iondyn.physics.pnp_tsdc`).

The applied voltage is V = V_left − V_right (right contact grounded); the current density j is
positive when positive charge flows from the left contact through the device to the right one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from iondyn.display import Displayable, Summary, views
from iondyn.errors import InputError, SolverError
from iondyn.physics.banded import BandedLU
from iondyn.physics.discretization import Discretization
from iondyn.physics.equilibrium import Closure, PoissonBoltzmann
from iondyn.physics.mesh_design import build_mesh, design_mesh, probe_discretization
from iondyn.physics.pnp_assembly import PNPSystem
from iondyn.physics.species import Device
from iondyn.serialize import to_jsonable

__all__ = ["IVResult", "PNPModel"]


@dataclass(repr=False)
class IVResult(Displayable):
    """Steady-state current–voltage curve (V = V_left − V_right; j along +x, A/m²)."""

    voltage_V: np.ndarray
    current_A_per_m2: np.ndarray
    temperature_K: float
    warnings: list[str] = field(default_factory=list)

    def rectification_ratio(self, voltage_V: float) -> float:
        """|j(+V)/j(−V)| interpolated on the curve."""
        jp = np.interp(voltage_V, self.voltage_V, self.current_A_per_m2)
        jm = np.interp(-voltage_V, self.voltage_V, self.current_A_per_m2)
        return float(abs(jp / jm))

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "voltage_V": self.voltage_V,
                "current_A_per_m2": self.current_A_per_m2,
                "temperature_K": self.temperature_K,
                "warnings": self.warnings,
            }
        )

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"voltage_V": self.voltage_V, "current_A_per_m2": self.current_A_per_m2}
        )

    def _summary(self) -> Summary:
        return views.iv_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """j against V; returns the axes (a new figure when ``ax`` is None)."""
        return views.iv_plot(self, ax)


class PNPModel:
    """The discretised PNP equations of a device.

    Parameters
    ----------
    device : Device
        Every phase needs ``length_m`` and every mobile species ``diffusivity_m2_s``; at least
        one contact must be an electrode.
    resolution : float
        Cell size as a fraction of the local screening length at the interfaces (and of L_D in
        the layers).
    ratio : float or None
        Growth factor of the graded mesh (None: 1 + 0.6 × resolution).
    max_bias_V : float
        Largest |voltage| the model will be driven to; the mesh is designed to resolve the layers
        it creates.
    """

    def __init__(
        self,
        device: Device,
        *,
        resolution: float = 0.05,
        ratio: float | None = None,
        max_bias_V: float = 0.0,
    ):
        if not (device.left.is_electrode or device.right.is_electrode):
            raise InputError("a PNP model needs at least one electrode (contact other than bulk)")
        for p in device.phases:
            if p.length_m is None:
                raise InputError(f"phase {p.name!r}: length_m is required for transport")
            for s in p.mobile_species:
                if s.diffusivity_m2_s is None:
                    raise InputError(
                        f"phase {p.name!r}: species {s.name!r} needs diffusivity_m2_s for transport"
                    )
        if not 0 < resolution <= 1:
            raise InputError("resolution must lie in (0, 1]")
        self.device = device
        probe = probe_discretization(device)
        bulk = probe.phase_bulk_psi
        self.bulk_psi = np.zeros(len(device.phases)) if bulk is None else bulk
        vt = probe.scales.thermal_voltage_V
        electrode = {}
        if device.left.is_electrode:
            electrode["left"] = device.left.potential_V / vt + self.bulk_psi[0]
        if device.right.is_electrode:
            electrode["right"] = device.right.potential_V / vt + self.bulk_psi[-1]
        ranges = None
        if max_bias_V and probe.closure().shape[1] == probe.n_groups:
            ranges = self._closed_cell_ranges(device, abs(max_bias_V), vt)
        lengths, plan = design_mesh(
            device,
            probe,
            self.bulk_psi,
            electrode,
            resolution=resolution,
            ratio=1.0 + 0.6 * resolution if ratio is None else ratio,
            extra_span=abs(max_bias_V) / vt,
            require_lengths=True,
            ranges=ranges,
        )
        self.mesh = build_mesh(lengths, plan, probe.scales.length_m)
        self.disc = Discretization(device, self.mesh, probe.scales)
        self.system = PNPSystem(self.disc)
        self.scales = self.disc.scales
        self._equilibrium: np.ndarray | None = None
        self.resolution = resolution
        self.v_offset = (device.left.potential_V, device.right.potential_V)

    def _closed_cell_ranges(self, device: Device, v_max: float, vt: float):
        """Electrode-to-bulk potential ranges of a closed cell driven to ±v_max.

        In a cell that no species can leave, a bias does not pile up its full value at each
        electrode: the canonical equilibrium (:class:`~iondyn.physics.scl.SpaceChargeSolver`)
        at ±v_max gives the actual extremes, so the mesh is not refined (into round-off) for
        layers that never form.
        """
        from dataclasses import replace

        from iondyn.physics.scl import SpaceChargeSolver

        lo = {"left": 0.0, "right": 0.0}
        hi = {"left": 0.0, "right": 0.0}
        for sign in (1.0, -1.0):
            left = replace(device.left, potential_V=device.left.potential_V + sign * v_max)
            res = SpaceChargeSolver(ensemble="canonical").solve(replace(device, left=left))
            for itf in res.interfaces:
                if itf["kind"] != "electrode":
                    continue
                side = itf["side"]
                drop = itf["potential_drops_V"][0] / vt
                drop = drop if side == "left" else -drop  # φ_surface − φ_bulk
                lo[side] = min(lo[side], drop)
                hi[side] = max(hi[side], drop)
        return {
            side: (self.bulk_psi[p] + lo[side], self.bulk_psi[p] + hi[side])
            for side, p in (("left", 0), ("right", -1))
        }

    # ------------------------------------------------------------- helpers
    @property
    def thermal_voltage_V(self) -> float:
        return self.scales.thermal_voltage_V

    def _contacts(self, voltage_V: float) -> tuple[float, float]:
        """(V_left, V_right) for an applied voltage on top of the configured potentials."""
        return self.v_offset[0] + voltage_V, self.v_offset[1]

    def closed_groups(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """Conservation laws of the steady state: (row to replace, columns, weights) per law.

        From :meth:`Discretization.closure`: the amount of a closed group (or N_A − N_B of a
        closed generation–recombination pair) replaces the continuity equation of the group's
        last node, which the other equations make redundant in a steady state.
        """
        d, s = self.disc, self.system
        p = d.closure()
        laws = []
        for col in p.T:
            cols, weights = [], []
            for g in np.flatnonzero(col):
                mask = d.group == g
                cols.append(s.ic[mask])
                weights.append(col[g] * np.broadcast_to(d.vol[:, None], mask.shape)[mask])
            g0 = int(np.flatnonzero(col)[0])
            k = int(d.group_species[g0])
            last = int(np.flatnonzero(d.group[:, k] == g0)[-1])
            laws.append((int(s.ic[last, k]), np.concatenate(cols), np.concatenate(weights)))
        return laws

    # ---------------------------------------------------------- equilibrium
    def equilibrium(self, temperature_K: float | None = None) -> np.ndarray:
        """Zero-bias state u (reduced) at ``temperature_K`` (default: the device's)."""
        t = self.device.temperature_K if temperature_K is None else temperature_K
        if temperature_K is None and self._equilibrium is not None:
            return self._equilibrium.copy()
        d, s = self.disc, self.system
        th = s.thermal(t)
        bulk = d.bulk_potentials(th)
        if bulk is None:
            bulk = np.zeros(len(self.device.phases))
        metal = s.metal_potentials(*self.v_offset, t)
        # electrodes are Dirichlet at zero bias (a Stern layer carries no charge at the pzc)
        contacts = {"left": self.device.left, "right": self.device.right}
        fixed, values = [], []
        for (side, cm), v in zip(s.contacts.items(), metal):
            if contacts[side].is_electrode:
                fixed.append(cm.node)
                values.append(v)
        pb = PoissonBoltzmann(d, np.asarray(fixed), np.asarray(values), thermal=th)
        m = d.bulk_electrochemical_potentials(bulk, th)
        p = d.closure()
        closure = Closure(p, p.T @ d.group_amounts(d.c_bulk)) if p.shape[1] else None
        psi0 = bulk[d.phase].astype(float)
        try:
            state = pb.solve(psi0, m, closure)
        except SolverError as exc:
            raise SolverError(f"PNP initial equilibrium: {exc}") from None
        u = s.join(state.psi, np.where(d.present, state.c, 0.0))
        if temperature_K is None:
            self._equilibrium = u.copy()
        return u

    # --------------------------------------------------------- steady state
    def _solve_with_laws(self, jac, f, laws, amounts, u) -> np.ndarray:
        """Newton step −A⁻¹f where A is J with the law rows replaced (Woodbury on a banded LU).

        B = J with the law rows turned into identity rows (banded); A = B + U Vᵀ with U the unit
        vectors of those rows and Vᵀ the law rows minus the identity rows, so
        A⁻¹ = B⁻¹ − B⁻¹U (I + VᵀB⁻¹U)⁻¹ VᵀB⁻¹ (k = number of laws extra banded solves).
        """
        s = self.system
        rhs = -f.copy()
        if not laws:
            return BandedLU(s.band(jac.data), s.kl, s.ku).solve(rhs)
        rows = np.array([law[0] for law in laws])
        data = jac.data.copy()
        data[np.isin(s.data_rows, rows)] = 0.0
        diag = np.zeros(s.n)
        diag[rows] = 1.0
        lu = BandedLU(s.band(data, diag), s.kl, s.ku)
        k = len(laws)
        vt = np.zeros((k, s.n))
        for i, (row, cols, w) in enumerate(laws):
            norm = max(abs(amounts[i]), 1e-300)
            rhs[row] = -(w @ u[cols] - amounts[i]) / norm
            vt[i, cols] = w / norm
            vt[i, row] -= 1.0
        unit = np.zeros((s.n, k))
        unit[rows, np.arange(k)] = 1.0
        y = lu.solve(rhs)
        zmat = lu.solve(unit)
        small = np.eye(k) + vt @ zmat
        return y - zmat @ np.linalg.solve(small, vt @ y)

    def _newton(self, u, v_left, v_right, temperature_K, laws, amounts, max_iter=25):
        s = self.system
        pres = self.disc.present
        for it in range(max_iter):
            f, jac = s.evaluate(u, v_left, v_right, temperature_K)
            try:
                step = self._solve_with_laws(jac, f, laws, amounts, u)
            except (SolverError, np.linalg.LinAlgError):
                raise SolverError(
                    "PNP steady state: singular Jacobian (is the potential fixed anywhere?)"
                ) from None
            c = s.split(u)[1]
            dpsi, dc = s.split(step)
            lam = 1.0
            big = np.max(np.abs(dpsi))
            if big > 2.0:
                lam = 2.0 / big
            neg = (dc < 0) & pres
            if np.any(neg):
                lam = min(lam, 0.9 * float(np.min(c[neg] / -dc[neg])))
            sat = np.isfinite(self.disc.c_max) & (dc > 0) & pres
            if np.any(sat):
                room = (self.disc.c_max[sat] - c[sat]) / dc[sat]
                lam = min(lam, 0.9 * float(np.min(room)))
            u = u + lam * step
            rel_c = np.abs(dc[pres]) / (np.abs(c[pres]) + 1e-30 * self.disc.c_bulk[pres].max())
            if lam == 1.0 and big < 1e-9 and float(np.max(rel_c, initial=0.0)) < 1e-9:
                return u, it + 1
        raise SolverError(
            f"PNP steady state did not converge at V = {(v_left - v_right):.4g} V "
            f"(last update {big:.3g} kT/e, residual {np.max(np.abs(f)):.3g})"
        )

    def steady_state(
        self,
        voltage_V: float,
        temperature_K: float | None = None,
        start: tuple[float, np.ndarray] | None = None,
        max_step_V: float | None = None,
    ) -> np.ndarray:
        """Steady state at applied voltage V, by continuation from ``start`` = (V0, u0).

        Voltage steps start at kT/e and double (up to ``max_step_V``, default 4 kT/e) while
        Newton converges in a few iterations; a failed step is halved.
        """
        t = self.device.temperature_K if temperature_K is None else temperature_K
        v0, u = (0.0, self.equilibrium(temperature_K)) if start is None else start
        vt = self.thermal_voltage_V
        step_max = max_step_V or 4.0 * vt
        laws = self.closed_groups()
        amounts = np.array([w @ u[cols] for _, cols, w in laws])
        v, dv = v0, float(np.clip(voltage_V - v0, -vt, vt))
        failures = 0
        while v != voltage_V:
            target = v + dv if abs(voltage_V - v) > abs(dv) else voltage_V
            try:
                u_new, its = self._newton(u, *self._contacts(target), t, laws, amounts)
            except SolverError:
                failures += 1
                if failures > 12:  # consecutive failures: the step is below 1e-4 kT/e
                    raise
                dv *= 0.5
                continue
            u, v = u_new, target
            if its <= 6 and failures == 0:  # easy step: lengthen the next one
                dv = float(np.clip(2 * dv, -step_max, step_max))
            failures = 0
        if start is None and voltage_V == 0.0:
            u, _ = self._newton(u, *self._contacts(0.0), t, laws, amounts)
        return u

    def current(self, u: np.ndarray, temperature_K: float | None = None) -> float:
        """Steady-state current density (A/m²) of state u."""
        t = self.device.temperature_K if temperature_K is None else temperature_K
        return self.system.conduction_current(u, t) * self.scales.current_A_m2

    def iv_curve(self, voltages_V, temperature_K: float | None = None) -> IVResult:
        """Steady-state j(V); each point continued from its neighbour towards 0 V."""
        v = np.asarray(voltages_V, dtype=float)
        if v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v)):
            raise InputError("voltages must be a non-empty 1D array of finite values")
        order = np.argsort(v)
        vs = v[order]
        j = np.zeros(vs.size)
        t = self.device.temperature_K if temperature_K is None else temperature_K
        u0 = self.equilibrium(temperature_K)
        warnings: list[str] = []
        for sign_sel in (vs >= 0, vs < 0):
            idx = np.flatnonzero(sign_sel)
            idx = idx[np.argsort(np.abs(vs[idx]))]
            start = (0.0, u0)
            for i in idx:
                u = self.steady_state(vs[i], t, start=start)
                j[i] = self.current(u, t)
                start = (vs[i], u)
                for w in self.resolution_warnings(u, t):
                    if w not in warnings:
                        warnings.append(w)
        out = np.empty_like(j)
        out[order] = j
        if all(not (np.any(cm.ohmic) or np.any(cm.bv)) for cm in self.system.contacts.values()):
            warnings.append("all contacts block every species: the steady-state current is zero")
        return IVResult(v, out, t, warnings)

    # ----------------------------------------------------- other analyses
    def impedance(self, frequency_Hz, voltage_V: float = 0.0, temperature_K: float | None = None):
        """Small-signal impedance at a DC bias (see :mod:`iondyn.physics.pnp_smallsignal`)."""
        from iondyn.physics.pnp_smallsignal import impedance

        return impedance(self, frequency_Hz, voltage_V, temperature_K)

    def transient(self, *args, **kwargs):
        """Time integration (see :func:`iondyn.physics.pnp_transient.integrate`)."""
        from iondyn.physics.pnp_transient import integrate

        return integrate(self, *args, **kwargs)

    def tsdc(self, pole_V: float, pole_T_K: float, beta_K_per_s: float, **options):
        """Space-charge TSDC (see :class:`iondyn.physics.pnp_tsdc.SpaceChargeTSDC`)."""
        from iondyn.physics.pnp_tsdc import SpaceChargeTSDC

        return SpaceChargeTSDC(pole_V, pole_T_K, beta_K_per_s, **options).simulate(self)

    def electrode_charge(self, u: np.ndarray) -> float:
        """Metal charge of the left contact (C/m²): D(0) = D(h/2) − ∫_0^{h/2} ρ dx.

        With a Stern layer it is C_S (V − ψ_s) by construction; the half-cell quadrature is the
        trapezoid rule, as in :class:`~iondyn.physics.scl.SCLResult`.
        """
        s, d = self.system, self.disc
        psi, c = s.split(u)
        rho = d.charge_density(c)
        h = d.h[0]
        q = -d.eps_face[0] * (psi[1] - psi[0]) / h - h * (3 * rho[0] + rho[1]) / 8
        return float(q * self.scales.charge_C_m2)

    def resolution_warnings(self, u: np.ndarray, temperature_K: float | None = None) -> list[str]:
        """A warning when state u has space charge the mesh does not resolve (else [])."""
        from iondyn.physics.scl import unresolved_node

        t = self.device.temperature_K if temperature_K is None else temperature_K
        c = self.system.split(u)[1]
        bad = unresolved_node(self.disc, c, 3.0 * self.resolution, self.system.thermal(t))
        if bad is None:
            return []
        i, ratio = bad
        return [
            f"the mesh does not resolve the space charge at x = "
            f"{self.mesh.x_m[i]:.4g} m (cell/screening length {ratio:.3g}); build the model "
            "with a larger max_bias_V or a smaller resolution"
        ]

    def state_profiles(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """SI profiles of state u: x_m, phi_V and c_<name>_m3."""
        psi, c = self.system.split(u)
        out = {"x_m": self.disc.x * self.scales.length_m, "phi_V": psi * self.thermal_voltage_V}
        for k, name in enumerate(self.disc.names):
            out[f"c_{name}_m3"] = c[:, k] * self.scales.c_ref_m3
        return out
