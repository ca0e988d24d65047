"""The candidate scan behind :class:`iondyn.eis.autofit.AutoFitter`.

Every candidate ``R0-p(R1,CPE1)-…-p(RK,CPEK)[-CPE(K+1)]`` (K = 0 … ``max_arcs``, with and
without the electrode CPE) is fitted by the batched variable projection of
:mod:`iondyn.eis.varpro`, all candidates and all their starts as one batch per stage:

1. *Seeds*: the SAEM loss decomposition's arcs (the K largest, with their τ and n) and arcs
   spread evenly in ln ω over the window.
2. *Moves*, from the current best solution of the neighbouring candidates — a greedy **split**
   (the (K − 1)-arc solution plus an arc at each of the ``n_splits`` (2) largest local maxima
   of the relative imaginary residual |ΔZ″|/|Z|), a **merge** (the (K + 1)-arc solution less
   one arc, each in turn), and the **electrode conversions** (a blocking CPE is the R → ∞
   limit of the slowest arc p(R, CPE): the (K + 1)-arc solution's slowest arc becomes the
   electrode and back, with R = 10 |Z(ω_min)|; the same arcs with the electrode added or
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

import math
from typing import NamedTuple

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.arcfit import ArcChainFit, arc_model, pack_arc_params
from iondyn.eis.varpro import varpro_fit
from iondyn.saem.refine import normal_matrix_covariance

__all__ = ["Solution", "scan_candidates", "scan_candidates_many", "to_arc_fit"]

_N_NEW = 0.9  # exponent of an arc added by a move


class Solution(NamedTuple):
    """One candidate's solution: arcs [(R, τ, n)] by increasing τ, electrode (Y_e, n_e);
    ``capped``: still moving when the stage's iteration limit stopped it; ``iterations``: LM
    iterations since its start, over all stages."""

    n_arcs: int
    electrode: bool
    r0: float
    arcs: tuple
    elec: tuple | None
    cost: float
    converged: bool
    capped: bool = False
    iterations: int = 0


class _Start(NamedTuple):
    n_arcs: int
    electrode: bool
    taus: tuple
    ns: tuple
    ne: float
    iterations: int = 0  # already run by the solution this start resumes


def _padded(datas: list[ImpedanceSpectrum]) -> tuple[np.ndarray, np.ndarray]:
    """ω and Z of the spectra as (M, N) arrays, NaN-padded to the longest."""
    n = max(d.n_points for d in datas)
    omega = np.full((len(datas), n), np.nan)
    z = np.full((len(datas), n), np.nan, dtype=complex)
    for i, d in enumerate(datas):
        omega[i, : d.n_points] = d.omega
        z[i, : d.n_points] = d.z
    return omega, z


def _run(omega, z, starts: list[tuple[int, _Start]], slots: int, max_iter: int) -> list[Solution]:
    """Fit the starts [(spectrum, start)] as one batch."""
    b = len(starts)
    tau = np.ones((b, max(slots, 1)))
    n = np.full((b, max(slots, 1)), _N_NEW)
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
        out.append(
            Solution(k, s.electrode, float(c[0]), arcs_t, elec, cost, converged, capped, its)
        )
    return out


def _grow(sol: Solution, data: ImpedanceSpectrum, n_splits: int) -> list[_Start]:
    """The split move: an arc at each of the ``n_splits`` largest local maxima of |ΔZ″|/|Z|."""
    dz = data.z - solution_impedance(sol, data.omega)
    rel = np.abs(dz.imag) / np.abs(data.z)
    inner = [i for i in range(1, rel.size - 1) if rel[i] >= rel[i - 1] and rel[i] >= rel[i + 1]]
    order = sorted(set(inner + [0, rel.size - 1]), key=lambda i: -rel[i])[:n_splits]
    taus = [a[1] for a in sol.arcs]
    ns = [a[2] for a in sol.arcs]
    ne = sol.elec[1] if sol.elec else _N_NEW
    return [
        _Start(sol.n_arcs + 1, sol.electrode, (*taus, 1.0 / data.omega[i]), (*ns, _N_NEW), ne)
        for i in order
    ]


def solution_impedance(sol: Solution, omega: np.ndarray) -> np.ndarray:
    s = 1j * omega
    z = np.full(omega.shape, sol.r0, dtype=complex)
    for r, tau, n in sol.arcs:
        z += r / (1.0 + (s * tau) ** n)
    if sol.elec is not None:
        z += sol.elec[0] * s ** (-sol.elec[1])
    return z


def _moves(
    sol: Solution, data: ImpedanceSpectrum, max_arcs: int, families, ne0: float, n_splits: int
):
    """Starts for the neighbouring candidates from one solution (see the module docstring)."""
    k, e = sol.n_arcs, sol.electrode
    taus = tuple(a[1] for a in sol.arcs)
    ns = tuple(a[2] for a in sol.arcs)
    ne = sol.elec[1] if sol.elec else ne0
    out = []
    if k < max_arcs:
        out += _grow(sol, data, n_splits)
    for j in range(k):  # merge: drop arc j
        out.append(_Start(k - 1, e, taus[:j] + taus[j + 1 :], ns[:j] + ns[j + 1 :], ne))
    if e and False in families:
        out.append(_Start(k, False, taus, ns, ne))  # electrode removed
        if k < max_arcs:  # electrode → slowest arc, R = 10 |Z(ω_min)|
            r_big = 10.0 * float(np.abs(data.z[np.argmin(data.omega)]))
            y_e, n_e = sol.elec
            tau_new = float(np.exp(np.clip(np.log(r_big / max(y_e, 1e-300)) / n_e, -300, 300)))
            out.append(_Start(k + 1, False, (*taus, tau_new), (*ns, n_e), ne))
    if not e and True in families:
        out.append(_Start(k, True, taus, ns, ne0))  # electrode added
        if k >= 1:  # slowest arc → electrode
            out.append(_Start(k - 1, True, taus[:-1], ns[:-1], ns[-1]))
    return [s for s in out if s.electrode in families and 0 <= s.n_arcs <= max_arcs]


def _spread(k: int, omega: np.ndarray) -> tuple:
    lo, hi = np.log(omega.min()), np.log(omega.max())
    return tuple(float(np.exp(-(lo + (hi - lo) * (j + 0.5) / k))) for j in range(k))


def _distinct(starts: list[_Start]) -> list[_Start]:
    """The starts less near-duplicates: same candidate, every ln τ within 0.1 and n within
    0.02 of an earlier start (moves from different neighbours often land on one point).
    Plain Python: a few short tuples, where NumPy's per-call cost would dominate."""
    out: list[_Start] = []
    seen: dict[tuple[int, bool], list[list[float]]] = {}
    for s in starts:
        order = sorted(range(s.n_arcs), key=s.taus.__getitem__)
        v = [math.log(max(s.taus[i], 1e-300)) for i in order] + [5.0 * s.ns[i] for i in order]
        v.append(5.0 * s.ne if s.electrode else 0.0)
        earlier = seen.setdefault((s.n_arcs, s.electrode), [])
        if any(max(abs(a - b) for a, b in zip(v, u)) < 0.1 for u in earlier):
            continue
        earlier.append(v)
        out.append(s)
    return out


def _seeds(data, dec_arcs, families, max_arcs, ne0) -> list[_Start]:
    starts = []
    by_r = sorted(dec_arcs, key=lambda a: -a[0])
    for e in families:
        for k in range(0, max_arcs + 1):
            if k <= len(by_r):
                chosen = sorted(by_r[:k], key=lambda a: a[1])
                starts.append(
                    _Start(k, e, tuple(a[1] for a in chosen), tuple(a[2] for a in chosen), ne0)
                )
            if k >= 1:
                starts.append(_Start(k, e, _spread(k, data.omega), (_N_NEW,) * k, ne0))
    return starts


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
    starts = [_seeds(d, a, families, max_arcs, e) for d, a, e in zip(datas, dec_arcs, ne0)]
    best: list[dict[tuple[int, bool], Solution]] = [{} for _ in datas]
    for _ in range(max_stages):
        flat = [(j, s) for j, st in enumerate(starts) for s in _distinct(st)]
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
                for s in _moves(best[j][key], d, max_arcs, families, e, n_splits)
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


def _resume(sol: Solution) -> _Start:
    taus = tuple(a[1] for a in sol.arcs)
    ns = tuple(a[2] for a in sol.arcs)
    ne = sol.elec[1] if sol.elec else _N_NEW
    return _Start(sol.n_arcs, sol.electrode, taus, ns, ne, sol.iterations)


def _bic(sol: Solution, n_points: int) -> float:
    """2N ln(χ²/2N) + k ln 2N of a solution (as :attr:`ArcChainFit.bic`)."""
    m = 2 * n_points
    k = 1 + 3 * sol.n_arcs + 2 * sol.electrode
    return m * np.log(max(sol.cost, 1e-300) / m) + k * np.log(m)


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
        with np.errstate(all="ignore"):
            _, jac = arc_model(data.omega, v, k, e, True)
            a = np.matmul(jac * w2, jac.transpose(0, 2, 1))
            cov, _ = normal_matrix_covariance(a)
            dof = max(2 * data.n_points - v.shape[1], 1)
            cov = cov[0] * sol.cost / dof
        out.append(
            ArcChainFit(k, e, p, sol.cost, sol.converged, data.n_points, cov, data.omega, data.z)
        )
    return out
