"""Discrete Poisson–Nernst–Planck equations M du/dt + F(u) = 0 with an analytic Jacobian.

Unknowns per node i: ψ_i and the concentrations c_ik of the K mobile species (reduced units of
:mod:`iondyn.physics.discretization`), interleaved [ψ_0, c_00 … c_0K−1, ψ_1, …] so that the
Jacobian is block-tridiagonal.

* Poisson (node i): F = −(ε̃ψ′)_{i+1/2} + (ε̃ψ′)_{i−1/2} − V_i (Σ_k z_k c_ik + ρ̃_fix).
* Continuity: F = Γ_{i+1/2} − Γ_{i−1/2} − V_i G_i, mass V_i.
* Scharfetter–Gummel flux, generalised to lattice-gas statistics with activities a = c (dilute)
  or θ/(1 − θ) (site-saturated):
  Γ = (D/h) [B(Δ) w_i c_i v_j − B(−Δ) w_j c_j v_i], B(x) = x/(eˣ − 1),
  Δ = (T_ref/T)(z Δψ + Δμ0/kT_ref) + Δμ_conf, w = 1, v = 1 (dilute) or w = c_max^{−1/2},
  v = (c_max − c) c_max^{−1/2} (saturated: the mean-field hopping flux
  −D[∇c + c(1 − θ)∇(zψ + μ0/kT)]). It vanishes exactly for equilibrium profiles, including
  steps of μ0 across an interface face. (Scharfetter & Gummel, IEEE Trans. Electron Devices
  16, 64 (1969); Koprucki & Gärtner, Opt. Quantum Electron. 45, 791 (2013) for generalised
  statistics.)
* Generation–recombination ∅ ⇌ A + B (see :class:`~iondyn.physics.species.Reaction`).
* Contacts: Dirichlet ψ = V/(kT/e) + ψ∞ (blocking, ohmic, Butler–Volmer without Stern layer),
  a Stern layer (Robin: the metal charge C_S (V − ψ_s) closes Gauss' law), ohmic species held
  at their bulk concentration, Frumkin–Butler–Volmer fluxes.

The total current density through face 0 (positive along +x) is
j = Σ_k z_k Γ_0k − ε̃_0 d(ψ_1 − ψ_0)/dt / h_0; in 1D it is the same on every face.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from iondyn.constants import E_CHARGE, K_B
from iondyn.physics.discretization import Discretization
from iondyn.physics.species import Contact

__all__ = ["PNPSystem", "bernoulli"]

K_B_EV = K_B / E_CHARGE


def bernoulli(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """B(x) = x/(eˣ − 1) and B′(x) = B(1 − B − x)/x, series near 0, overflow-safe."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-3
    xs = np.where(small, 1.0, x)
    with np.errstate(over="ignore"):
        b = np.where(small, 1.0 - 0.5 * x + x * x / 12.0, xs / np.expm1(xs))
    db = np.where(small, -0.5 + x / 6.0, b * (1.0 - b - xs) / xs)
    return b, db


@dataclass
class _ContactModel:
    """One contact in reduced units."""

    node: int
    phase: int
    dirichlet: bool  # ψ fixed at the node (no Stern layer)
    stern: float  # reduced Stern capacitance (0: none)
    ohmic: np.ndarray  # (K,) species held at their bulk concentration
    bv: np.ndarray  # (K,) species with a Butler–Volmer exchange flux
    k0: np.ndarray  # (K,) reduced exchange flux j0/(|z_k| e)
    alpha: float
    c_bulk: np.ndarray  # (K,) bulk concentrations of the adjacent phase


class PNPSystem:
    """The discrete PNP system of a :class:`Discretization` (all contact and reaction data)."""

    def __init__(self, disc: Discretization):
        self.d = d = disc
        dev = d.device
        self.K = K = len(d.names)
        self.N = N = d.x.size
        self.nv = nv = K + 1
        self.n = N * nv
        self.t_ref = dev.temperature_K
        self.ip = np.arange(N) * nv
        self.ic = self.ip[:, None] + 1 + np.arange(K)[None, :]
        i, j = np.arange(N - 1), np.arange(1, N)
        self.fi, self.fj = i, j
        self.g = d.eps_face / d.h
        self.fmask = d.present[i] & d.present[j]
        self.dmu_e = np.where(self.fmask, d.mu0_energy[j] - d.mu0_energy[i], 0.0)
        self.dmu_c = np.where(self.fmask, d.mu0_conf[j] - d.mu0_conf[i], 0.0)
        self.sat = np.isfinite(d.c_max)
        self.w = np.where(self.sat, 1.0 / np.sqrt(np.where(self.sat, d.c_max, 1.0)), 1.0)
        self.contacts = {
            "left": self._contact(dev.left, 0, 0),
            "right": self._contact(dev.right, N - 1, len(dev.phases) - 1),
        }
        self.has_electrode = dev.left.is_electrode or dev.right.is_electrode
        self._reactions()
        self._replaced_rows()
        self._pattern()

    # ------------------------------------------------------------------ setup
    def _contact(self, c: Contact, node: int, phase: int) -> _ContactModel:
        d, sc = self.d, self.d.scales
        ph = self.d.device.phases[phase]
        ohmic = np.array([c.kind == "ohmic" and c.exchanges(n, ph) for n in d.names])
        bv = np.array([c.kind == "butler-volmer" and c.exchanges(n, ph) for n in d.names])
        stern = 0.0
        if c.kind == "butler-volmer" and c.stern_capacitance_F_m2 is not None:
            stern = c.stern_capacitance_F_m2 / sc.capacitance_F_m2
        k0 = np.zeros(len(d.names))
        if c.kind == "butler-volmer":
            k0 = np.where(bv, c.exchange_current_A_m2 / (np.abs(d.z) * E_CHARGE), 0.0)
            k0 = k0 / sc.flux_m2_s
        return _ContactModel(
            node=node,
            phase=phase,
            dirichlet=c.is_electrode and stern == 0.0,
            stern=stern,
            ohmic=ohmic,
            bv=bv,
            k0=k0,
            alpha=c.transfer_coefficient,
            c_bulk=d.c_bulk[node].copy(),
        )

    def _reactions(self) -> None:
        d = self.d
        self.reactions = []
        for r in d.device.reactions:
            ka, kb = (d.names.index(n) for n in r.species)
            both = d.present[:, ka] & d.present[:, kb]
            fa = 1.0 - d.occupancy(d.c_bulk)[:, ka]
            fb = 1.0 - d.occupancy(d.c_bulk)[:, kb]
            gen = np.where(both, d.c_bulk[:, ka] * d.c_bulk[:, kb] / (fa * fb), 0.0)
            k = r.k_rec_m3_s * d.scales.c_ref_m3 * d.scales.time_s
            self.reactions.append((ka, kb, k, gen, both))

    def _replaced_rows(self) -> None:
        """Rows whose equation is an identity: Dirichlet ψ, absent species, ohmic species."""
        rep = np.zeros(self.n, dtype=bool)
        rep[self.ic[~self.d.present]] = True
        for cm in self.contacts.values():
            if cm.dirichlet:
                rep[self.ip[cm.node]] = True
            rep[self.ic[cm.node, cm.ohmic]] = True
        self.replaced = rep
        mass = np.zeros(self.n)
        mass[self.ic] = self.d.vol[:, None]
        mass[rep] = 0.0
        self.mass = mass

    def _pattern(self) -> None:
        """Fixed sparsity pattern and the map from value blocks to CSC storage."""
        ip, ic = self.ip, self.ic
        fi, fj = self.fi, self.fj
        pi, pj = ip[fi], ip[fj]
        rows, cols = [], []
        # A: Poisson face couplings (F, 4)
        rows.append(np.stack([pi, pi, pj, pj], 1))
        cols.append(np.stack([pi, pj, pj, pi], 1))
        # B: Poisson ← concentrations (N, K)
        rows.append(np.repeat(ip[:, None], self.K, 1))
        cols.append(ic)
        # C: SG fluxes (F, K, 8)
        ci, cj = ic[fi], ic[fj]
        pik = np.repeat(pi[:, None], self.K, 1)
        pjk = np.repeat(pj[:, None], self.K, 1)
        rows.append(np.stack([ci, ci, ci, ci, cj, cj, cj, cj], 2))
        cols.append(np.stack([ci, cj, pik, pjk, ci, cj, pik, pjk], 2))
        # D: reactions (N, 4) each
        for ka, kb, *_ in self.reactions:
            a, b = ic[:, ka], ic[:, kb]
            rows.append(np.stack([a, a, b, b], 1))
            cols.append(np.stack([a, b, a, b], 1))
        # E: contact fluxes (K, 2) per contact
        for cm in self.contacts.values():
            cc = ic[cm.node]
            rows.append(np.stack([cc, cc], 1))
            cols.append(np.stack([cc, np.full(self.K, ip[cm.node])], 1))
        # F: diagonal
        rows.append(np.arange(self.n))
        cols.append(np.arange(self.n))
        self._sizes = [r.size for r in rows]
        r = np.concatenate([x.ravel() for x in rows])
        c = np.concatenate([x.ravel() for x in cols])
        key = c.astype(np.int64) * self.n + r
        uniq, inv = np.unique(key, return_inverse=True)
        self._inv = inv
        self._keep = ~self.replaced[r]
        self.indices = (uniq % self.n).astype(np.int32)
        ucol = uniq // self.n
        self.indptr = np.searchsorted(ucol, np.arange(self.n + 1)).astype(np.int32)
        self.nnz = uniq.size
        # LAPACK band storage of the same pattern
        diff = self.indices.astype(np.int64) - ucol
        self.kl, self.ku = int(max(diff.max(), 0)), int(max(-diff.min(), 0))
        self._band_row = self.kl + self.ku + diff
        self._band_col = ucol
        self.data_rows = self.indices  # row of every stored entry (CSC order)

    def band(self, data: np.ndarray, diagonal: np.ndarray | None = None) -> np.ndarray:
        """LAPACK band storage of the matrix with CSC ``data`` (+ ``diagonal`` on the diagonal)."""
        dtype = np.result_type(data, 0.0 if diagonal is None else diagonal)
        ab = np.zeros((2 * self.kl + self.ku + 1, self.n), dtype=dtype)
        ab[self._band_row, self._band_col] = data
        if diagonal is not None:
            ab[self.kl + self.ku] += diagonal
        return ab

    # ------------------------------------------------------------ conditions
    def thermal(self, temperature_K: float) -> float:
        return self.t_ref / temperature_K

    def diffusivity(self, temperature_K: float) -> np.ndarray:
        """(N, K) reduced D(T) = D(T_ref) exp[−Ea/k (1/T − 1/T_ref)]."""
        d = self.d
        return d.d_node * np.exp(-d.ea_node / K_B_EV * (1.0 / temperature_K - 1.0 / self.t_ref))

    def metal_potentials(self, v_left: float, v_right: float, temperature_K: float):
        """Reduced metal potentials ψ = V/(kT_ref/e) + ψ∞ of the adjacent bulk at T."""
        vt = self.d.scales.thermal_voltage_V
        bulk = self.d.bulk_potentials(self.thermal(temperature_K))
        if bulk is None:
            bulk = np.zeros(len(self.d.device.phases))
        return v_left / vt + bulk[0], v_right / vt + bulk[-1]

    # -------------------------------------------------------------- evaluate
    def split(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return u[self.ip], u[self.ic]

    def join(self, psi: np.ndarray, c: np.ndarray) -> np.ndarray:
        u = np.empty(self.n)
        u[self.ip] = psi
        u[self.ic] = c
        return u

    def fluxes(self, u: np.ndarray, temperature_K: float, derivatives: bool = False):
        """SG fluxes Γ (F, K) and, if asked, ∂Γ/∂(c_i, c_j, ψ_i, ψ_j)."""
        d = self.d
        psi, c = self.split(u)
        th = self.thermal(temperature_K)
        D = self.diffusivity(temperature_K)
        fi, fj = self.fi, self.fj
        with np.errstate(divide="ignore", invalid="ignore"):
            dface = np.where(self.fmask, 2.0 * D[fi] * D[fj] / (D[fi] + D[fj]), 0.0)
        kf = dface / d.h[:, None]
        delta = th * (d.z * (psi[fj] - psi[fi])[:, None] + self.dmu_e) + self.dmu_c
        b, db = bernoulli(delta)
        bm, dbm = bernoulli(-delta)
        w, sat, cmax = self.w, self.sat, np.where(self.sat, d.c_max, 0.0)
        ci, cj = c[fi], c[fj]
        vi = np.where(sat[fi], (cmax[fi] - ci) * w[fi], 1.0)
        vj = np.where(sat[fj], (cmax[fj] - cj) * w[fj], 1.0)
        flux = kf * (b * w[fi] * ci * vj - bm * w[fj] * cj * vi)
        if not derivatives:
            return flux
        dvi = np.where(sat[fi], -w[fi], 0.0)
        dvj = np.where(sat[fj], -w[fj], 0.0)
        d_ci = kf * (b * w[fi] * vj - bm * w[fj] * cj * dvi)
        d_cj = kf * (b * w[fi] * ci * dvj - bm * w[fj] * vi)
        d_delta = kf * (db * w[fi] * ci * vj + dbm * w[fj] * cj * vi)
        d_psi = th * d.z * d_delta
        return flux, d_ci, d_cj, -d_psi, d_psi

    def contact_flux(self, cm: _ContactModel, u: np.ndarray, psi_metal: float, th: float):
        """Butler–Volmer inflow (K,) and its derivatives with respect to c_s, ψ_s and V."""
        psi, c = self.split(u)
        z = self.d.z
        eta = th * (psi_metal - psi[cm.node])
        cs = c[cm.node]
        cb = np.where(cm.bv, cm.c_bulk, 1.0)
        ea = np.exp(np.clip((1.0 - cm.alpha) * z * eta, -700, 700))
        ec = np.exp(np.clip(-cm.alpha * z * eta, -700, 700))
        fin = np.where(cm.bv, cm.k0 * (ea - cs / cb * ec), 0.0)
        d_cs = np.where(cm.bv, -cm.k0 * ec / cb, 0.0)
        d_eta = np.where(
            cm.bv, cm.k0 * ((1 - cm.alpha) * z * ea + cm.alpha * z * cs / cb * ec), 0.0
        )
        return fin, d_cs, -th * d_eta, th * d_eta

    def evaluate(
        self, u: np.ndarray, v_left: float, v_right: float, temperature_K: float
    ) -> tuple[np.ndarray, sp.csc_matrix]:
        """Residual F(u) and Jacobian ∂F/∂u (CSC) at the given contact voltages and T."""
        d = self.d
        psi, c = self.split(u)
        th = self.thermal(temperature_K)
        metal = dict(zip(("left", "right"), self.metal_potentials(v_left, v_right, temperature_K)))
        fi, fj = self.fi, self.fj
        # Poisson
        e_flux = self.g * (psi[fj] - psi[fi])
        fpsi = -d.vol * d.charge_density(c)
        fpsi[:-1] -= e_flux
        fpsi[1:] += e_flux
        diag = np.zeros(self.n)
        # continuity
        flux, d_ci, d_cj, d_pi, d_pj = self.fluxes(u, temperature_K, derivatives=True)
        fc = np.zeros_like(c)
        fc[:-1] += flux
        fc[1:] -= flux
        blocks = [
            np.stack([self.g, -self.g, self.g, -self.g], 1),
            np.repeat((-d.vol)[:, None], self.K, 1) * d.z,
            np.stack([d_ci, d_cj, d_pi, d_pj, -d_ci, -d_cj, -d_pi, -d_pj], 2),
        ]
        for ka, kb, k, gen, both in self.reactions:
            occ = d.occupancy(c)
            fa, fb = 1.0 - occ[:, ka], 1.0 - occ[:, kb]
            dfa = np.where(self.sat[:, ka], -1.0 / np.where(self.sat[:, ka], d.c_max[:, ka], 1), 0)
            dfb = np.where(self.sat[:, kb], -1.0 / np.where(self.sat[:, kb], d.c_max[:, kb], 1), 0)
            rate = np.where(both, k * (gen * fa * fb - c[:, ka] * c[:, kb]), 0.0)
            ga = np.where(both, k * (gen * dfa * fb - c[:, kb]), 0.0) * d.vol
            gb = np.where(both, k * (gen * fa * dfb - c[:, ka]), 0.0) * d.vol
            fc[:, ka] -= d.vol * rate
            fc[:, kb] -= d.vol * rate
            blocks.append(np.stack([-ga, -gb, -ga, -gb], 1))
        for side, cm in self.contacts.items():
            fin, d_cs, d_ps, _ = self.contact_flux(cm, u, metal[side], th)
            fc[cm.node] -= fin
            blocks.append(np.stack([-d_cs, -d_ps], 1))
            if cm.stern:
                fpsi[cm.node] -= cm.stern * (metal[side] - psi[cm.node])
                diag[self.ip[cm.node]] += cm.stern
        f = self.join(fpsi, fc)
        # identity rows
        for side, cm in self.contacts.items():
            if cm.dirichlet:
                f[self.ip[cm.node]] = psi[cm.node] - metal[side]
            rows = self.ic[cm.node, cm.ohmic]
            f[rows] = c[cm.node, cm.ohmic] - cm.c_bulk[cm.ohmic]
        absent = self.ic[~d.present]
        f[absent] = u[absent]
        diag[self.replaced] = 1.0
        blocks.append(diag)
        vals = np.concatenate([b.ravel() for b in blocks])
        vals = np.where(self._keep, vals, 0.0)
        vals[-self.n :] = diag  # the diagonal block is never masked
        data = np.bincount(self._inv, weights=vals, minlength=self.nnz)
        jac = sp.csc_matrix((data, self.indices, self.indptr), shape=(self.n, self.n))
        return f, jac

    def voltage_derivative(
        self, u: np.ndarray, v_left: float, v_right: float, temperature_K: float, side: str
    ) -> np.ndarray:
        """∂F/∂V of one contact's voltage (per kT_ref/e of V)."""
        cm = self.contacts[side]
        th = self.thermal(temperature_K)
        metal = dict(zip(("left", "right"), self.metal_potentials(v_left, v_right, temperature_K)))
        out = np.zeros(self.n)
        if cm.dirichlet:
            out[self.ip[cm.node]] = -1.0
        elif cm.stern:
            out[self.ip[cm.node]] = -cm.stern
        if np.any(cm.bv):
            _, _, _, d_v = self.contact_flux(cm, u, metal[side], th)
            out[self.ic[cm.node]] -= d_v
            if cm.dirichlet:
                out[self.ic[cm.node]] = np.where(
                    self.replaced[self.ic[cm.node]], 0.0, out[self.ic[cm.node]]
                )
        return out

    # ---------------------------------------------------------------- current
    def conduction_current(self, u: np.ndarray, temperature_K: float) -> float:
        """Σ z Γ through face 0 (reduced)."""
        return float(self.fluxes(u, temperature_K)[0] @ self.d.z)

    def current_functional(
        self, u: np.ndarray, temperature_K: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Vectors a, b with δj = a·δu + (d/dt) b·δu at face 0 (conduction and displacement)."""
        _, d_ci, d_cj, d_pi, d_pj = self.fluxes(u, temperature_K, derivatives=True)
        z = self.d.z
        a = np.zeros(self.n)
        a[self.ic[0]] += z * d_ci[0]
        a[self.ic[1]] += z * d_cj[0]
        a[self.ip[0]] += z @ d_pi[0]
        a[self.ip[1]] += z @ d_pj[0]
        b = np.zeros(self.n)
        b[self.ip[0]] = self.g[0]
        b[self.ip[1]] = -self.g[0]
        return a, b
