"""Reduced units and the per-node arrays both solvers share (equilibrium and PNP).

Reduced units (Maier 2004, §5.8): potential ψ = eφ/kT_ref, concentration c̃ = c/c_ref with
c_ref = Σ z² c∞ over the mobile species of the first phase, length x̃ = x/L_ref with
L_ref = sqrt(ε_ref kT_ref/(e² c_ref)) (the Debye length of the first phase), time
t̃ = t D_ref/L_ref². Poisson reads −(ε̃ ψ′)′ = Σ_k z_k c̃_k + ρ̃_fix with ε̃ = ε/ε_ref.

Each mobile species k at node i has a reduced electrochemical potential
m = ln a + (T_ref/T) z ψ + μ̂0, with the activity a = c̃ (dilute) or θ/(1 − θ) (site-saturated)
and μ̂0 = μ0/kT (+ ln(c_ref/1 m⁻³) for dilute species, so that both statistics share the SI
standard states of :mod:`iondyn.physics.species`). At equilibrium m is constant over each
*group*: the adjacent phases through which a species of one name can move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from iondyn.constants import E_CHARGE, EPS0, K_B
from iondyn.errors import InputError
from iondyn.physics.mesh import Mesh
from iondyn.physics.species import Device

__all__ = ["Discretization", "Scales", "local_concentrations"]

#: Concentrations are computed from log-activities clipped to this bound (exp(700) ~ 1e304).
LOG_CLIP = 700.0


@dataclass(frozen=True)
class Scales:
    """Conversion factors between reduced and SI units."""

    temperature_K: float
    c_ref_m3: float
    eps_ref_F_m: float
    diffusivity_m2_s: float

    @property
    def thermal_voltage_V(self) -> float:
        return K_B * self.temperature_K / E_CHARGE

    @property
    def length_m(self) -> float:
        return float(
            np.sqrt(self.eps_ref_F_m * K_B * self.temperature_K / (E_CHARGE**2 * self.c_ref_m3))
        )

    @property
    def time_s(self) -> float:
        return self.length_m**2 / self.diffusivity_m2_s

    @property
    def charge_C_m2(self) -> float:
        return E_CHARGE * self.c_ref_m3 * self.length_m

    @property
    def capacitance_F_m2(self) -> float:
        return self.eps_ref_F_m / self.length_m

    @property
    def current_A_m2(self) -> float:
        return E_CHARGE * self.c_ref_m3 * self.diffusivity_m2_s / self.length_m

    @property
    def flux_m2_s(self) -> float:
        return self.c_ref_m3 * self.diffusivity_m2_s / self.length_m

    @property
    def impedance_ohm_m2(self) -> float:
        return self.thermal_voltage_V / self.current_A_m2

    @property
    def conductivity_S_m(self) -> float:
        return E_CHARGE**2 * self.c_ref_m3 * self.diffusivity_m2_s / (K_B * self.temperature_K)


def scales_for(device: Device) -> Scales:
    """Reduced units of ``device`` (see the module docstring)."""
    first = device.phases[0]
    c_ref = sum(s.charge**2 * s.c_bulk_m3 for s in first.mobile_species)
    diffs = [
        s.diffusivity_m2_s
        for p in device.phases
        for s in p.mobile_species
        if s.diffusivity_m2_s is not None
    ]
    d_ref = max(diffs) if diffs else 1e-12
    return Scales(device.temperature_K, float(c_ref), EPS0 * first.eps_r, float(d_ref))


def local_concentrations(
    log_activity: np.ndarray, c_max: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """c̃ and its derivative with respect to ln a, c(1 − θ), for each (node, species).

    Dilute (c_max = inf): c = a. Site-saturated: c = c_max a/(1 + a) (Fermi–Dirac-like).
    """
    la = np.minimum(log_activity, LOG_CLIP)
    dilute = np.isinf(c_max)
    cmax_safe = np.where(dilute, 1.0, c_max)
    c = np.where(dilute, np.exp(la), cmax_safe * expit(la))
    theta = np.where(dilute, 0.0, c / cmax_safe)
    return c, c * (1.0 - theta)


class Discretization:
    """Mesh, reduced units and per-node species data of a :class:`Device`.

    Arrays have shape (N,) for nodes, (N−1,) for faces and (N, K) for the K mobile species
    (named in ``names``). Absent species have ``present`` False and zero bulk concentration.
    """

    def __init__(self, device: Device, mesh: Mesh, scales: Scales | None = None):
        self.device = device
        self.mesh = mesh
        self.scales = scales or scales_for(device)
        sc = self.scales
        L = sc.length_m
        self.x = mesh.x_m / L
        self.h = np.diff(self.x)
        self.vol = mesh.volumes_m / L
        ph = mesh.phase_index
        self.phase = ph
        phases = device.phases
        eps_ph = np.array([p.eps_r * EPS0 / sc.eps_ref_F_m for p in phases])
        self.eps_node = eps_ph[ph]
        ea, eb = self.eps_node[:-1], self.eps_node[1:]
        self.eps_face = 2.0 * ea * eb / (ea + eb)
        names = [
            n
            for n in device.species_names
            if any((s := p.species_named(n)) is not None and s.mobile for p in phases)
        ]
        self.names = tuple(names)
        K, P = len(names), len(phases)
        self.z = np.array([device.charge_of(n) for n in names], dtype=float)
        present_ph = np.zeros((P, K), dtype=bool)
        cb_ph = np.zeros((P, K))
        cmax_ph = np.full((P, K), np.inf)
        mu0_ph = np.zeros((P, K))
        conf_ph = np.zeros((P, K))
        d_ph = np.zeros((P, K))
        ea_ph = np.zeros((P, K))
        rho_fix_ph = np.zeros(P)
        ln_cref = np.log(sc.c_ref_m3)
        vt_ev = sc.thermal_voltage_V  # kT/e in V = kT in eV
        for p, phase in enumerate(phases):
            for s in phase.species:
                if not s.mobile:
                    rho_fix_ph[p] += s.charge * s.c_bulk_m3 / sc.c_ref_m3
                    continue
                k = names.index(s.name)
                present_ph[p, k] = True
                cb_ph[p, k] = s.c_bulk_m3 / sc.c_ref_m3
                mu0_ph[p, k] = s.mu0_eV / vt_ev
                if s.c_max_m3 is not None:
                    cmax_ph[p, k] = s.c_max_m3 / sc.c_ref_m3
                else:
                    conf_ph[p, k] = ln_cref
                if s.diffusivity_m2_s is not None:
                    d_ph[p, k] = s.diffusivity_m2_s / sc.diffusivity_m2_s
                ea_ph[p, k] = s.activation_energy_eV or 0.0
        self.present_phase = present_ph
        self.present = present_ph[ph]
        self.c_bulk = cb_ph[ph]
        self.c_max = cmax_ph[ph]
        # μ̂0 = (T_ref/T) μ0_energy + μ0_conf; at the reference temperature mu0 = their sum
        self.mu0_energy = mu0_ph[ph]
        self.mu0_conf = conf_ph[ph]
        self.mu0 = self.mu0_energy + self.mu0_conf
        self.d_node = d_ph[ph]
        self.ea_node = ea_ph[ph]
        self.rho_fix = rho_fix_ph[ph]
        self.has_diffusivity = d_ph > 0
        # log-activity of the bulk of each phase
        with np.errstate(divide="ignore"):
            la_bulk = np.where(
                np.isinf(cmax_ph),
                np.log(np.where(present_ph, cb_ph, 1.0)),
                np.log(np.where(present_ph, cb_ph, 1.0))
                - np.log(np.where(np.isinf(cmax_ph), 1.0, cmax_ph - cb_ph)),
            )
        self.log_activity_bulk_phase = np.where(present_ph, la_bulk, 0.0)
        self._build_groups()
        self.phase_bulk_psi = self.bulk_potentials(1.0)

    # ------------------------------------------------------------------ groups
    def _build_groups(self) -> None:
        """Group = one species name over a run of adjacent phases where it is mobile."""
        P, K = self.present_phase.shape
        gid = -np.ones((P, K), dtype=int)
        species_of, n = [], 0
        for k in range(K):
            for p in range(P):
                if not self.present_phase[p, k]:
                    continue
                if p > 0 and self.present_phase[p - 1, k]:
                    gid[p, k] = gid[p - 1, k]
                else:
                    gid[p, k] = n
                    species_of.append(k)
                    n += 1
        self.group_phase = gid
        self.group = gid[self.phase]
        self.group_species = np.array(species_of, dtype=int)
        self.n_groups = n

    def bulk_potentials(self, thermal: float = 1.0) -> np.ndarray | None:
        """ψ∞ of each phase from equal electrochemical potentials of shared species.

        ``thermal`` = T_ref/T. None when two adjacent phases share no mobile species (no
        equilibrium couples them). Raises InputError when shared species imply different steps.
        """
        P = len(self.device.phases)
        psi = np.zeros(P)
        chem = self.log_activity_bulk_phase + self._phase_values(self.mu0_conf)
        chem = chem + thermal * self._phase_values(self.mu0_energy)
        for p in range(P - 1):
            shared = np.flatnonzero(self.present_phase[p] & self.present_phase[p + 1])
            if shared.size == 0:
                return None
            steps = (chem[p, shared] - chem[p + 1, shared]) / (thermal * self.z[shared])
            if np.ptp(steps) > 1e-6 * max(1.0, float(np.max(np.abs(steps)))):
                a, b = self.device.phases[p].name, self.device.phases[p + 1].name
                detail = ", ".join(
                    f"{self.names[k]}: {s * self.scales.thermal_voltage_V:.6g} V"
                    for k, s in zip(shared, steps)
                )
                raise InputError(
                    f"junction {a}|{b}: the bulk concentrations and mu0_eV of the shared species "
                    f"imply different built-in potentials ({detail}); they cannot all be in "
                    "equilibrium"
                )
            psi[p + 1] = psi[p] + steps[0]
        return psi

    def _phase_values(self, node_values: np.ndarray) -> np.ndarray:
        """(P, K) value of a per-node species array in each phase."""
        first = [int(np.flatnonzero(self.phase == p)[0]) for p in range(len(self.device.phases))]
        return node_values[first]

    def bulk_electrochemical_potentials(
        self, phase_psi: np.ndarray, thermal: float = 1.0
    ) -> np.ndarray:
        """m of every group from the bulk of its first phase at potentials ``phase_psi``."""
        m = np.zeros(self.n_groups)
        e0 = self._phase_values(self.mu0_energy)
        c0 = self._phase_values(self.mu0_conf)
        P = self.present_phase.shape[0]
        for p in range(P):
            for k in np.flatnonzero(self.present_phase[p]):
                g = self.group_phase[p, k]
                if p == 0 or self.group_phase[p - 1, k] != g:
                    m[g] = (
                        self.log_activity_bulk_phase[p, k]
                        + thermal * (self.z[k] * phase_psi[p] + e0[p, k])
                        + c0[p, k]
                    )
        return m

    def closure(self, all_closed: bool = False) -> np.ndarray:
        """Conservation laws of the groups as the columns of a (G, F) matrix P.

        A group is *open* when the device end it touches is a bulk boundary or a contact that
        exchanges its species; otherwise its amount is conserved (column e_g). Two closed groups
        linked by generation–recombination conserve only N_A − N_B (column e_A − e_B); a group
        linked to an open one is open. ``all_closed`` ignores the contacts (a closed cell).
        """
        dev = self.device
        G = self.n_groups
        open_ = np.zeros(G, dtype=bool)
        if not all_closed:
            ends = ((dev.left, 0, dev.phases[0]), (dev.right, self.x.size - 1, dev.phases[-1]))
            for contact, node, phase in ends:
                for k in np.flatnonzero(self.present[node]):
                    if contact.kind == "bulk" or contact.exchanges(self.names[k], phase):
                        open_[self.group[node, k]] = True
        links: dict[int, int] = {}
        for r in dev.reactions:
            if r.species[0] not in self.names or r.species[1] not in self.names:
                continue
            ka, kb = (self.names.index(n) for n in r.species)
            both = np.flatnonzero(self.present[:, ka] & self.present[:, kb])
            for node in both:
                ga, gb = int(self.group[node, ka]), int(self.group[node, kb])
                links[ga], links[gb] = gb, ga
        changed = True
        while changed:  # openness spreads through reactions
            changed = False
            for a, b in links.items():
                if open_[b] and not open_[a]:
                    open_[a] = changed = True
        cols, done = [], set()
        for g in range(G):
            if open_[g] or g in done:
                continue
            col = np.zeros(G)
            col[g] = 1.0
            if g in links:
                col[links[g]] = -1.0
                done.add(links[g])
            cols.append(col)
        return np.array(cols).T if cols else np.zeros((G, 0))

    def group_amounts(self, c: np.ndarray) -> np.ndarray:
        """Σ_i V_i c_ik over the nodes of each group (G,)."""
        out = np.zeros(self.n_groups)
        for g in range(self.n_groups):
            out[g] = np.sum((self.vol[:, None] * c)[self.group == g])
        return out

    # --------------------------------------------------------------- kernels
    def node_m(self, m_groups: np.ndarray) -> np.ndarray:
        """(N, K) electrochemical potential of each node's group (0 where absent)."""
        return np.where(self.group >= 0, np.asarray(m_groups)[np.maximum(self.group, 0)], 0.0)

    def equilibrium_concentrations(
        self, psi: np.ndarray, m_node: np.ndarray, thermal: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """c̃ (N, K) and ∂c̃/∂m = c(1 − θ) at potential ψ for fixed electrochemical potentials."""
        la = m_node - thermal * (self.z * psi[:, None] + self.mu0_energy) - self.mu0_conf
        c, dc = local_concentrations(la, self.c_max)
        return np.where(self.present, c, 0.0), np.where(self.present, dc, 0.0)

    def occupancy(self, c: np.ndarray) -> np.ndarray:
        """Site fraction θ = c/c_max (0 for dilute species)."""
        return c / np.where(np.isinf(self.c_max), np.inf, self.c_max)

    def charge_density(self, c: np.ndarray) -> np.ndarray:
        """ρ̃ = Σ z c̃ + ρ̃_fix at every node."""
        return c @ self.z + self.rho_fix

    def conductivity(self, c: np.ndarray, thermal: float = 1.0) -> np.ndarray:
        """Reduced σ̃ = (T_ref/T) Σ z² D̃ c̃ (1 − θ) at each node (lattice-gas hopping mobility)."""
        return thermal * np.sum(self.z**2 * self.d_node * c * (1.0 - self.occupancy(c)), axis=1)

    def screening_length(self, c: np.ndarray, thermal: float = 1.0) -> np.ndarray:
        """Local screening length sqrt(ε̃ / (θ_T Σ z² c (1 − θ))) at each node (reduced)."""
        s = thermal * np.sum(self.z**2 * c * (1.0 - self.occupancy(c)), axis=1)
        with np.errstate(divide="ignore"):
            return np.sqrt(self.eps_node / s)

    def debye_lengths_m(self) -> list[float]:
        return [p.debye_length_m(self.device.temperature_K) for p in self.device.phases]

    def check_reaction_support(self) -> None:
        for r in self.device.reactions:
            for n in r.species:
                if n not in self.names:
                    raise InputError(f"reaction: species {n!r} is not mobile")
