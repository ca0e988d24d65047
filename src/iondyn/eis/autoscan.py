"""The candidate scan behind :class:`iondyn.eis.autofit.AutoFitter`.

Every candidate ``R0-p(R1,CPE1)-…-p(RK,CPEK)[-CPE(K+1)]`` (K = 0 … ``max_arcs``, with and
without the electrode CPE) is fitted by the batched variable projection of
:mod:`iondyn.eis.varpro`, all candidates and all their starts as one batch per stage:

1. *Seeds*: the SAEM loss decomposition's arcs (the K largest, with their τ and n) and arcs
   spread evenly in ln ω over the window.
2. *Moves* (:mod:`iondyn.eis.autoscan_moves`), from the current best solution of the
   neighbouring candidates — a greedy **split** (the (K − 1)-arc solution plus an arc at each
   of the ``n_splits`` (2) largest local maxima of the relative imaginary residual |ΔZ″|/|Z|
   and in the middle of every gap between neighbouring arcs and the window's ends; with an
   electrode also with its exponent raised to ≥ 0.9), a **merge** (the (K + 1)-arc solution
   less one arc, each in turn), and the **electrode conversions** (a blocking CPE is the
   R → ∞ limit of the slowest arc p(R, CPE): the (K + 1)-arc solution's slowest arc becomes
   the electrode and back, with R = 10 |Z(ω_min)|; the same arcs with the electrode added or
   removed). A stage runs the moves of the solutions the previous stage improved by at least
   ``min_gain`` noise units of χ² (σ² = χ²/(2N − k); a smaller gain leaves the moves' starts
   where they were), and only of the ``move_from`` (3) candidates with the lowest BIC; a row
   stops after ``max_iter`` (6) iterations per stage and, still moving, resumes in the next
   stage — a candidate's best solution always (after the last stage it gets one run to
   convergence), another row until it has run ``patience`` (30) iterations unless its
   candidate's best is a converged optimum below it; the scan stops when a stage has nothing
   left to run (at most ``max_stages``). A converged solution is displaced by an unconverged
   one only for a gain above ``min_gain`` noise units.
   :func:`scan_candidates_many` runs the scans of many spectra together, every stage as one
   batch.

Only τ and n of a start matter (the amplitudes are solved exactly at every step), so the
moves need no resistance guesses. The best row per candidate becomes an
:class:`~iondyn.eis.arcfit.ArcChainFit` with the covariance (JᵀWJ)⁻¹ χ²/(2N − k) of the
parameters (R₀, R_k, Q_k = τ_k^{n_k}/R_k, n_k, Q_e = 1/Y_e, n_e) for the BIC and
well-determinedness tests; a candidate whose arc or electrode amplitude is clamped at zero
(an arc that died) is marked not converged.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.arcfit import ArcChainFit, arc_model, pack_arc_params
from iondyn.eis.autoscan_moves import N_NEW, Start, distinct, moves, seeds
from iondyn.eis.varpro import varpro_fit
from iondyn.eis.varpro_model import Z_MAX, n_of
from iondyn.saem.refine import normal_matrix_covariance

__all__ = ["Solution", "scan_candidates", "scan_candidates_many", "to_arc_fit"]


class Solution(NamedTuple):
    """One candidate's solution: arcs [(R, τ, n)] by increasing τ, electrode (Y_e, n_e);
    ``capped``: still moving when the stage's iteration limit stopped it; ``iterations``: LM
    iterations since its start, over all stages; ``lam``: its damping at the end (a resumed
    row starts there)."""

    n_arcs: int
    electrode: bool
    r0: float
    arcs: tuple
    elec: tuple | None
    cost: float
    converged: bool
    capped: bool = False
    iterations: int = 0
    lam: float = 1e-3


def _padded(datas: list[ImpedanceSpectrum]) -> tuple[np.ndarray, np.ndarray]:
    """ω and Z of the spectra as (M, N) arrays, NaN-padded to the longest."""
    n = max(d.n_points for d in datas)
    omega = np.full((len(datas), n), np.nan)
    z = np.full((len(datas), n), np.nan, dtype=complex)
    for i, d in enumerate(datas):
        omega[i, : d.n_points] = d.omega
        z[i, : d.n_points] = d.z
    return omega, z


def _run(omega, z, starts: list[tuple[int, Start]], slots: int, max_iter: int) -> list[Solution]:
    """Fit the starts [(spectrum, start)] as one batch."""
    b = len(starts)
    tau = np.ones((b, max(slots, 1)))
    n = np.full((b, max(slots, 1)), N_NEW)
    for i, (_, s) in enumerate(starts):
        tau[i, : s.n_arcs] = s.taus
        n[i, : s.n_arcs] = s.ns
    res = varpro_fit(
        omega,
        z,
        np.array([s.n_arcs for _, s in starts]),
        np.array([s.electrode for _, s in starts]),
        tau,
        n,
        np.array([s.ne for _, s in starts]),
        spectrum=np.array([j for j, _ in starts]),
        max_iter=max_iter,
        lam0=np.array([s.lam for _, s in starts]),
    )
    out = []
    for i, (_, s) in enumerate(starts):
        k = s.n_arcs
        c = res.c[i]
        dead = bool(np.any(c[1 : k + 1] <= 0) or (s.electrode and c[-1] <= 0))
        arcs = sorted(zip(c[1 : k + 1], res.tau[i, :k], res.n[i, :k]), key=lambda a: a[1])
        elec = (float(c[-1]), float(res.ne[i])) if s.electrode else None
        cost = float(res.cost[i]) if np.isfinite(res.cost[i]) else np.inf
        arcs_t = tuple((float(r), float(t), float(m)) for r, t, m in arcs)
        capped = bool(
            not res.converged[i]
            and res.iterations[i] >= max_iter
            and np.isfinite(cost)
            and not dead
        )
        converged = bool(res.converged[i]) and not dead
        its = s.iterations + int(res.iterations[i])
        lam = float(res.lam[i])
        out.append(
            Solution(k, s.electrode, float(c[0]), arcs_t, elec, cost, converged, capped, its, lam)
        )
    return out


def scan_candidates(
    data: ImpedanceSpectrum,
    dec_arcs: list[tuple[float, float, float]],
    families: tuple[bool, ...],
    max_arcs: int,
    ne0: float,
    max_stages: int = 6,
    min_gain: float = 0.5,
) -> dict[tuple[int, bool], Solution]:
    """Best solution of every candidate (n_arcs, electrode); ``dec_arcs`` [(R, τ, n)]."""
    return scan_candidates_many(
        [data], [dec_arcs], families, max_arcs, [ne0], max_stages, min_gain
    )[0]


def scan_candidates_many(
    datas: list[ImpedanceSpectrum],
    dec_arcs: list[list[tuple[float, float, float]]],
    families: tuple[bool, ...],
    max_arcs: int,
    ne0: list[float],
    max_stages: int = 6,
    min_gain: float = 0.5,
    n_splits: int = 2,
    move_from: int | None = 3,
    max_iter: int = 6,
    patience: int = 30,
    max_rows: int = 4096,
) -> list[dict[tuple[int, bool], Solution]]:
    """:func:`scan_candidates` for many spectra at once: every stage fits the starts of all
    spectra as one batch (at most ``max_rows`` rows per call), so NumPy's per-call overhead is
    shared; each spectrum's scan is the same as alone.

    A stage stops every row after ``max_iter`` (6) iterations; a row still moving goes on
    from where it stopped in the next stage, beside the new moves — a candidate's best
    solution always, any other row until it has run ``patience`` (30) iterations (a start
    that is behind after six iterations can still end best: two arcs 0.7 decades apart were
    lost when only the leader went on). Slow rows thus never hold up a stage: the loops of
    the stages are short, and the rows that need more iterations share the next ones.
    """
    if not datas:
        return []
    omega, z = _padded(datas)
    starts = [seeds(d, a, families, max_arcs, e) for d, a, e in zip(datas, dec_arcs, ne0)]
    best: list[dict[tuple[int, bool], Solution]] = [{} for _ in datas]
    for _ in range(max_stages):
        flat = [(j, s) for j, st in enumerate(starts) for s in distinct(st)]
        if not flat:
            break
        sols: list[Solution] = []
        for lo in range(0, len(flat), max_rows):
            sols += _run(omega, z, flat[lo : lo + max_rows], max_arcs, max_iter)
        changed: list[list[tuple[int, bool]]] = [[] for _ in datas]
        for (j, _), sol in zip(flat, sols):
            key = (sol.n_arcs, sol.electrode)
            if _better(sol, best[j].get(key), datas[j].n_points, min_gain):
                # only a gain of ≥ `min_gain` noise units makes new moves worth running
                if _gain(sol, best[j].get(key), datas[j].n_points) > min_gain and (
                    key not in changed[j]
                ):
                    changed[j].append(key)
                best[j][key] = sol
        # a row stopped by the iteration limit that is not its candidate's best goes on too
        # (until its patience is spent) unless that best is a converged optimum below it
        behind: list[list[Solution]] = [[] for _ in datas]
        for (j, _), sol in zip(flat, sols):
            lead = best[j].get((sol.n_arcs, sol.electrode))
            if (
                sol.capped
                and sol.iterations < patience
                and lead is not sol
                and (lead is None or not lead.converged or sol.cost < lead.cost)
            ):
                behind[j].append(sol)
        if move_from is not None:  # moves only from the `move_from` lowest-BIC candidates
            for j, d in enumerate(datas):
                top = sorted(best[j], key=lambda key: _bic(best[j][key], d.n_points))
                changed[j] = [key for key in changed[j] if key in top[:move_from]]
        starts = [
            [
                s
                for key in changed[j]
                for s in moves(best[j][key], d, max_arcs, families, e, n_splits)
            ]
            for j, (d, e) in enumerate(zip(datas, ne0))
        ]
        for j in range(len(datas)):  # solutions stopped by the iteration limit go on
            starts[j][:0] = [_resume(sol) for sol in best[j].values() if sol.capped] + [
                _resume(sol) for sol in behind[j]
            ]
    # solutions still moving after the last stage get one run to convergence
    rest = [(j, _resume(sol)) for j in range(len(datas)) for sol in best[j].values() if sol.capped]
    for lo in range(0, len(rest), max_rows):
        chunk = rest[lo : lo + max_rows]
        for (j, _), sol in zip(chunk, _run(omega, z, chunk, max_arcs, 200)):
            if _better(sol, best[j][(sol.n_arcs, sol.electrode)], datas[j].n_points, min_gain):
                best[j][(sol.n_arcs, sol.electrode)] = sol
    return best


def _gain(sol: Solution, old: Solution | None, n_points: int) -> float:
    """χ² gain of ``sol`` over ``old`` in noise units σ² = χ²/(2N − k)."""
    if old is None:
        return np.inf
    dof = max(2 * n_points - (1 + 3 * sol.n_arcs + 2 * sol.electrode), 1)
    return (old.cost - sol.cost) / max(sol.cost / dof, 1e-300)


def _better(sol: Solution, old: Solution | None, n_points: int, min_gain: float) -> bool:
    """Whether ``sol`` replaces ``old`` as its candidate's best: the lower χ², except between a
    converged and an unconverged solution (still moving at the iteration limit, or dead),
    where the unconverged one must be better by more than ``min_gain`` noise units. Without
    that margin a capped row that ended a rounding error below the converged optimum marked
    the candidate unconverged (so not eligible) and lost a right answer."""
    if not np.isfinite(sol.cost):
        return False
    if old is None:
        return True
    if old.converged != sol.converged:
        gain = _gain(sol, old, n_points)
        return gain > -min_gain if sol.converged else gain > min_gain
    return sol.cost < old.cost


def _resume(sol: Solution) -> Start:
    taus = tuple(a[1] for a in sol.arcs)
    ns = tuple(a[2] for a in sol.arcs)
    ne = sol.elec[1] if sol.elec else N_NEW
    return Start(sol.n_arcs, sol.electrode, taus, ns, ne, sol.iterations, sol.lam)


def _bic(sol: Solution, n_points: int) -> float:
    """2N ln(χ²/2N) + k ln 2N of a solution (as :attr:`ArcChainFit.bic`)."""
    m = 2 * n_points
    k = 1 + 3 * sol.n_arcs + 2 * sol.electrode
    return m * np.log(max(sol.cost, 1e-300) / m) + k * np.log(m)


#: Exponents this close to the upper bound of their logit count as held at the bound.
N_AT_BOUND = float(n_of(np.array(Z_MAX))[0]) - 1e-9


def to_arc_fit(sols: list[Solution], data: ImpedanceSpectrum) -> list[ArcChainFit]:
    """:class:`ArcChainFit` objects with covariances for the solutions."""
    out = []
    floor = 1e-12 * float(np.max(np.abs(data.z)))
    w2 = 1.0 / np.concatenate([np.abs(data.z), np.abs(data.z)]) ** 2
    for sol in sols:
        k, e = sol.n_arcs, sol.electrode
        p = {"R0": max(sol.r0, 1e-8 * float(np.min(np.abs(data.z))))}
        for j, (r, tau, n) in enumerate(sol.arcs, start=1):
            r = max(r, floor)
            p[f"R{j}"], p[f"CPE{j}_Q"], p[f"CPE{j}_n"] = r, tau**n / r, n
        if e:
            p[f"CPE{k + 1}_Q"] = 1.0 / max(sol.elec[0], 1e-300)
            p[f"CPE{k + 1}_n"] = sol.elec[1]
        v = pack_arc_params(p, k, e)[None, :]
        # an exponent held at the bound of its logit (an ideal capacitor, n → 1) is not a free
        # parameter at the optimum: the covariance is that of the others (its variance 0), as
        # for any parameter at a bound — otherwise its flat direction inflates every error
        n_idx = [3 * j + 3 for j in range(k)] + ([3 * k + 2] if e else [])
        at_bound = [i for i in n_idx if v[0, i] >= N_AT_BOUND]
        free = np.array([i for i in range(v.shape[1]) if i not in at_bound])
        with np.errstate(all="ignore"):
            _, jac = arc_model(data.omega, v, k, e, True)
            jf = jac[:, free, :]
            a = np.matmul(jf * w2, jf.transpose(0, 2, 1))
            cov_f, _ = normal_matrix_covariance(a)
            dof = max(2 * data.n_points - free.size, 1)
            cov = np.zeros((v.shape[1], v.shape[1]))
            cov[np.ix_(free, free)] = cov_f[0] * sol.cost / dof
        out.append(
            ArcChainFit(k, e, p, sol.cost, sol.converged, data.n_points, cov, data.omega, data.z)
        )
    return out
