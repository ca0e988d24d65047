"""Damped Newton solver of the equilibrium Poisson–Boltzmann problem on a 1D mesh.

Grand canonical (electrochemical potentials m fixed by a bulk reservoir): the discrete problem
R(ψ) = 0 with

    R_i = −(ε̃ψ′)_{i+1/2} + (ε̃ψ′)_{i−1/2} − V_i ρ̃_i(ψ_i)

is the gradient of the strictly convex energy
E(ψ) = Σ_f ε̃_f (Δψ_f)²/(2h_f) + Σ_i V_i [Σ_k G_k(ψ_i) − ρ̃_fix ψ_i] (G′ = −z c), so Newton's
direction is a descent direction; steps are limited to ``max_step`` kT/e and backtracked on E
(Armijo), which converges from any start. The Jacobian is tridiagonal (LAPACK banded solve).

Closed groups (species that no contact or bulk reservoir can exchange) keep their amounts:
Pᵀ N(m) = targets with m = m₀ + Pμ (:meth:`Discretization.closure`); an outer Newton iteration
on μ uses the exact sensitivity dN/dm = ∂N/∂m + ∂N/∂ψ · dψ/dm (one banded solve per group).

Large boundary potentials are reached by continuation: the Dirichlet values are ramped in steps
of at most ``continuation_step`` kT/e, each step warm-started from the previous solution, with
the step halved on failure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_banded

from iondyn.errors import SolverError
from iondyn.physics.discretization import LOG_CLIP, Discretization

__all__ = ["Closure", "EquilibriumState", "PoissonBoltzmann"]


@dataclass(frozen=True)
class Closure:
    """Conservation laws Pᵀ N = targets of closed groups (P: (G, F))."""

    p: np.ndarray
    targets: np.ndarray


@dataclass
class EquilibriumState:
    """A converged equilibrium: potential ψ̃ (N), group potentials m (G), concentrations (N, K)."""

    psi: np.ndarray
    m: np.ndarray
    c: np.ndarray
    dcdm: np.ndarray
    iterations: int
    residual: float


class PoissonBoltzmann:
    """The discrete equilibrium problem of a :class:`Discretization` with Dirichlet nodes."""

    def __init__(
        self,
        disc: Discretization,
        fixed_nodes: np.ndarray,
        fixed_values: np.ndarray,
        thermal: float = 1.0,
        tol: float = 1e-10,
        max_iter: int = 200,
        max_step: float = 3.0,
        continuation_step: float = 4.0,
    ):
        self.d = disc
        self.fixed = np.zeros(disc.x.size, dtype=bool)
        self.fixed[np.asarray(fixed_nodes, dtype=int)] = True
        self.target = np.zeros(disc.x.size)
        self.target[np.asarray(fixed_nodes, dtype=int)] = fixed_values
        self.thermal = thermal
        self.tol = tol
        self.max_iter = max_iter
        self.max_step = max_step
        self.continuation_step = continuation_step
        self.iterations = 0

    # ----------------------------------------------------------- evaluation
    def _fields(self, psi: np.ndarray, m_node: np.ndarray):
        d = self.d
        c, dcdm = d.equilibrium_concentrations(psi, m_node, self.thermal)
        rho = d.charge_density(c)
        flux = d.eps_face * np.diff(psi) / d.h
        r = -d.vol * rho
        r[:-1] -= flux
        r[1:] += flux
        return c, dcdm, rho, r

    def residual(self, psi: np.ndarray, m_node: np.ndarray, values: np.ndarray) -> np.ndarray:
        r = self._fields(psi, m_node)[3]
        return np.where(self.fixed, psi - values, r)

    def _matrix(self, dcdm: np.ndarray) -> np.ndarray:
        """Banded (1, 1) storage of ∂R/∂ψ with identity rows at Dirichlet nodes."""
        d = self.d
        g = d.eps_face / d.h
        diag = d.vol * self.thermal * (dcdm @ d.z**2)
        diag[:-1] += g
        diag[1:] += g
        ab = np.zeros((3, diag.size))
        ab[1] = np.where(self.fixed, 1.0, diag)
        ab[0, 1:] = np.where(self.fixed[:-1], 0.0, -g)  # J[i, i+1]
        ab[2, :-1] = np.where(self.fixed[1:], 0.0, -g)  # J[i+1, i]
        return ab

    def energy(self, psi: np.ndarray, m_node: np.ndarray) -> float:
        d = self.d
        la = m_node - self.thermal * (d.z * psi[:, None] + d.mu0_energy) - d.mu0_conf
        la = np.minimum(la, LOG_CLIP)
        dilute = np.isinf(d.c_max)
        g = np.where(dilute, np.exp(la), np.where(dilute, 1.0, d.c_max) * np.logaddexp(0.0, la))
        g = np.where(d.present, g, 0.0).sum(axis=1) / self.thermal
        return float(
            np.sum(d.eps_face * np.diff(psi) ** 2 / (2 * d.h))
            + np.sum(d.vol * (g - d.rho_fix * psi))
        )

    def residual_norm(self, psi: np.ndarray, m_node: np.ndarray, values: np.ndarray) -> float:
        """max |R_i| over free nodes relative to the largest charge or flux term.

        Each flux term ε(ψ_j − ψ_i)/h carries a round-off of about ε(|ψ_i| + |ψ_j|)/h · 2⁻⁵²
        (neighbouring potentials agree to many digits on fine cells); residuals below that
        floor are not counted.
        """
        c, _, _, r = self._fields(psi, m_node)
        d = self.d
        flux = np.abs(d.eps_face * np.diff(psi) / d.h)
        scale = np.abs(d.vol * (np.abs(c) @ np.abs(d.z) + np.abs(d.rho_fix)))
        scale[:-1] += flux
        scale[1:] += flux
        noise = d.eps_face * (np.abs(psi[1:]) + np.abs(psi[:-1])) / d.h
        floor = np.zeros(psi.size)
        floor[:-1] += noise
        floor[1:] += noise
        floor *= 16 * np.finfo(float).eps
        free = ~self.fixed
        excess = np.maximum(np.abs(r[free]) - floor[free], 0.0)
        rel = excess / max(float(np.max(scale[free], initial=0.0)), 1e-300)
        bc = np.max(np.abs(psi[self.fixed] - values[self.fixed]), initial=0.0)
        return float(max(np.max(rel, initial=0.0), bc))

    # ------------------------------------------------------- grand canonical
    def solve_fixed_m(self, psi: np.ndarray, m_node: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Newton for ψ at fixed m; ``psi`` must already hold ``values`` at Dirichlet nodes."""
        psi = np.where(self.fixed, values, psi).astype(float)
        e0 = self.energy(psi, m_node)
        for _ in range(self.max_iter):
            self.iterations += 1
            _, dcdm, _, r = self._fields(psi, m_node)
            r = np.where(self.fixed, 0.0, r)
            step = -solve_banded((1, 1), self._matrix(dcdm), r, check_finite=False)
            step[self.fixed] = 0.0  # exact: pivoting may leak round-off into identity rows
            size = float(np.max(np.abs(step)))
            if not np.isfinite(size):
                break
            lam = min(1.0, self.max_step / size) if size > 0 else 1.0
            slope = float(r @ step)
            if size * lam < 1e-4:
                psi = psi + lam * step
                e0 = self.energy(psi, m_node)
            else:
                while True:
                    trial = psi + lam * step
                    e1 = self.energy(trial, m_node)
                    if e1 <= e0 + 1e-4 * lam * slope + 1e-13 * abs(e0):
                        psi, e0 = trial, e1
                        break
                    lam *= 0.5
                    if lam < 1e-12:
                        raise SolverError(
                            "equilibrium Newton: line search failed (relative residual "
                            f"{self.residual_norm(psi, m_node, values):.3g})"
                        )
            if (size * lam <= self.tol and lam == 1.0) or size <= self.tol:
                return psi
        raise SolverError(
            f"equilibrium Newton did not converge in {self.max_iter} iterations (relative "
            f"residual {self.residual_norm(psi, m_node, values):.3g})"
        )

    # -------------------------------------------------------------- canonical
    def _group_sensitivity(self, psi, dcdm) -> tuple[np.ndarray, np.ndarray]:
        """A = dN/dm (G, G) and X = dψ/dm (N, G) at fixed Dirichlet values."""
        d = self.d
        G = d.n_groups
        ab = self._matrix(dcdm)
        rhs = np.zeros((d.x.size, G))
        direct = np.zeros(G)
        for g in range(G):
            mask = d.group == g
            drho = np.sum(np.where(mask, d.z * dcdm, 0.0), axis=1)
            rhs[:, g] = np.where(self.fixed, 0.0, d.vol * drho)  # −∂R/∂m_g
            direct[g] = np.sum(np.where(mask, d.vol[:, None] * dcdm, 0.0))
        x = solve_banded((1, 1), ab, rhs, check_finite=False)
        dcdpsi = -self.thermal * d.z * dcdm  # (N, K)
        a = np.diag(direct)
        for g in range(G):
            mask = d.group == g
            w = np.sum(np.where(mask, d.vol[:, None] * dcdpsi, 0.0), axis=1)
            a[g] += w @ x
        return a, x

    def solve_closed(
        self, psi: np.ndarray, m: np.ndarray, values: np.ndarray, closure: Closure
    ) -> tuple[np.ndarray, np.ndarray]:
        """Equilibrium with the conservation laws Pᵀ N(m) = targets, m = m₀ + P μ."""
        d, p = self.d, closure.p
        psi = self.solve_fixed_m(psi, d.node_m(m), values)
        norm1 = np.inf
        for _ in range(100):
            c, dcdm, _, _ = self._fields(psi, d.node_m(m))
            amounts = d.group_amounts(c)
            scale = np.maximum(np.abs(p).T @ amounts, 1e-300)
            res = p.T @ amounts - closure.targets
            a, _ = self._group_sensitivity(psi, dcdm)
            dm = p @ -np.linalg.solve(p.T @ a @ p, res)
            size = float(np.max(np.abs(dm)))
            lam = min(1.0, 2.0 / size) if size > 0 else 1.0
            norm0 = float(np.max(np.abs(res) / scale))
            while True:
                m_try = m + lam * dm
                psi_try = self.solve_fixed_m(psi, d.node_m(m_try), values)
                c_try = self._fields(psi_try, d.node_m(m_try))[0]
                amounts = d.group_amounts(c_try)
                norm1 = float(np.max(np.abs(p.T @ amounts - closure.targets) / scale))
                if norm1 < norm0 or lam * size < 1e-12 or norm1 < 1e-14:
                    m, psi = m_try, psi_try
                    break
                lam *= 0.5
            if lam * size <= self.tol or norm1 < 1e-14:
                return psi, m
        raise SolverError(
            f"closed-cell equilibrium: amounts not conserved after 100 iterations (relative "
            f"error {norm1:.3g})"
        )

    # ----------------------------------------------------------- continuation
    def solve(
        self,
        psi0: np.ndarray,
        m0: np.ndarray,
        closure: Closure | None = None,
    ) -> EquilibriumState:
        """Continuation from ``psi0`` (its Dirichlet values) to this problem's Dirichlet values.

        ``closure`` holds the conservation laws of closed groups (None or no laws: grand
        canonical, every m fixed by its bulk).
        """
        if closure is not None and closure.p.shape[1] == 0:
            closure = None
        start = np.asarray(psi0, dtype=float).copy()
        end = self.target
        span = float(np.max(np.abs(end - start)[self.fixed], initial=0.0))
        lam, dlam = 0.0, min(1.0, self.continuation_step / span) if span > 0 else 1.0
        psi, m = start, np.asarray(m0, dtype=float).copy()
        self.iterations = 0
        halvings = 0
        while True:
            lam_new = min(1.0, lam + dlam)
            values = start + lam_new * (end - start)
            try:
                if closure is None:
                    psi_new = self.solve_fixed_m(psi, self.d.node_m(m), values)
                    m_new = m
                else:
                    psi_new, m_new = self.solve_closed(psi, m, values, closure)
            except SolverError:
                halvings += 1
                if halvings > 12:
                    raise
                dlam *= 0.5
                continue
            psi, m, lam = psi_new, m_new, lam_new
            if lam >= 1.0:
                break
            dlam = min(2.0 * dlam, self.continuation_step / span if span > 0 else 1.0)
        m_node = self.d.node_m(m)
        c, dcdm, _, _ = self._fields(psi, m_node)
        res = self.residual_norm(psi, m_node, end)
        if not res < 1e-7:
            raise SolverError(f"equilibrium solution rejected: relative residual {res:.3g}")
        return EquilibriumState(psi, m, c, dcdm, self.iterations, res)

    # ------------------------------------------------------------ sensitivity
    def sensitivity(
        self, state: EquilibriumState, drdp: np.ndarray, closure: Closure | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """dψ/dp and dm/dp for a parameter p with ∂R/∂p = ``drdp`` (closed amounts fixed)."""
        ab = self._matrix(state.dcdm)
        xp = -solve_banded((1, 1), ab, drdp, check_finite=False)
        if closure is None or closure.p.shape[1] == 0:
            return xp, np.zeros(self.d.n_groups)
        a, x = self._group_sensitivity(state.psi, state.dcdm)
        d, p = self.d, closure.p
        dcdpsi = -self.thermal * d.z * state.dcdm
        rhs = np.zeros(d.n_groups)
        for g in range(d.n_groups):
            mask = d.group == g
            rhs[g] = np.sum(np.where(mask, d.vol[:, None] * dcdpsi, 0.0), axis=1) @ xp
        dm = p @ -np.linalg.solve(p.T @ a @ p, p.T @ rhs)
        return xp + x @ dm, dm
