"""Starts of the candidate scan (:mod:`iondyn.eis.autoscan`): seeds and moves.

Only τ and n of a start matter — the variable projection of :mod:`iondyn.eis.varpro` solves
the amplitudes (R₀, R_k, 1/Q_e) exactly at every step — so no move needs resistance guesses.

* **Seeds**: the SAEM loss decomposition's K largest arcs for the K-arc candidates, and K arcs
  spread evenly in ln ω over the window.
* **Split** (K → K + 1, :func:`grow`): the K-arc solution plus one arc, placed at each of the
  ``n_splits`` largest local maxima of the relative loss residual |ΔZ″|/|Z| *and* at the
  middle (in ln τ) of every gap between neighbouring arcs, the window's ends 1/ω_max and
  1/ω_min counting as neighbours. The gap starts matter where an arc is small beside a much
  larger one: the K-arc solution then hides the missing arc by bending its neighbours (an
  exponent at its bound n = 1, a flatter electrode CPE), so the residual of ~1 % noise has
  no clear maximum at the missing arc, while a start anywhere in its gap converges to it.
  For a solution with a blocking electrode every split is also tried with the electrode's
  exponent raised to at least ``N_ELECTRODE`` (0.9): a CPE with a low exponent spreads its
  loss over decades and takes the place of the missing arc, and the new arc, started
  beside it, has a negative least-squares amplitude and dies at once (an amplitude clamped
  at zero has no gradient in its τ and n). This is the greedy nested step of SAEM's K scan
  (:meth:`iondyn.saem.engine.SAEM` grows K + 1 peaks from the K-peak solution plus one at
  the largest residual), widened to the gaps.
* **Merge** (K → K − 1): the solution less one arc, each in turn.
* **Electrode conversions**: a blocking CPE is the R → ∞ limit of the slowest arc p(R, CPE):
  the (K + 1)-arc solution's slowest arc becomes the electrode and back (R = 10 |Z(ω_min)|),
  and the same arcs with the electrode added or removed.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from iondyn.data import ImpedanceSpectrum

if TYPE_CHECKING:
    from iondyn.eis.autoscan import Solution

__all__ = ["N_ELECTRODE", "N_NEW", "Start", "distinct", "grow", "moves", "seeds"]

N_NEW = 0.9  # exponent of an arc added by a move
N_ELECTRODE = 0.9  # the electrode exponent a split also starts from (at least)


class Start(NamedTuple):
    """A start of one candidate: arcs' τ and n, the electrode's n, and the LM iterations
    already run by the solution it resumes and the damping it ended with."""

    n_arcs: int
    electrode: bool
    taus: tuple
    ns: tuple
    ne: float
    iterations: int = 0
    lam: float = 1e-3


def solution_impedance(sol: Solution, omega: np.ndarray) -> np.ndarray:
    """Z(ω) = R₀ + Σ R_k/(1 + (iωτ_k)^{n_k}) [+ Y_e (iω)^{−n_e}] of a solution."""
    s = 1j * omega
    z = np.full(omega.shape, sol.r0, dtype=complex)
    for r, tau, n in sol.arcs:
        z += r / (1.0 + (s * tau) ** n)
    if sol.elec is not None:
        z += sol.elec[0] * s ** (-sol.elec[1])
    return z


def _gap_middles(taus: list[float], omega: np.ndarray) -> list[float]:
    """exp of the middle of every gap in ln τ between neighbouring arcs, the window's ends
    1/ω_max and 1/ω_min included (arcs outside the window make no gap beyond it)."""
    lo, hi = math.log(1.0 / float(omega.max())), math.log(1.0 / float(omega.min()))
    edges = sorted({lo, hi, *(min(max(math.log(t), lo), hi) for t in taus)})
    return [math.exp(0.5 * (a + b)) for a, b in pairwise(edges) if b - a > 1e-9]


def grow(sol: Solution, data: ImpedanceSpectrum, n_splits: int) -> list[Start]:
    """The split move (module docstring): an arc at the ``n_splits`` largest local maxima
    of |ΔZ″|/|Z| and in the middle of every gap, with the solution's electrode exponent and,
    for an electrode solution, with max(n_e, ``N_ELECTRODE``)."""
    dz = data.z - solution_impedance(sol, data.omega)
    rel = np.abs(dz.imag) / np.abs(data.z)
    inner = [i for i in range(1, rel.size - 1) if rel[i] >= rel[i - 1] and rel[i] >= rel[i + 1]]
    order = sorted(set(inner + [0, rel.size - 1]), key=lambda i: -rel[i])[:n_splits]
    taus = [a[1] for a in sol.arcs]
    ns = [a[2] for a in sol.arcs]
    new = [float(1.0 / data.omega[i]) for i in order] + _gap_middles(taus, data.omega)
    nes = [sol.elec[1], max(sol.elec[1], N_ELECTRODE)] if sol.elec else [N_NEW]
    return [
        Start(sol.n_arcs + 1, sol.electrode, (*taus, t), (*ns, N_NEW), ne)
        for t in new
        for ne in dict.fromkeys(nes)
    ]


def moves(
    sol: Solution, data: ImpedanceSpectrum, max_arcs: int, families, ne0: float, n_splits: int
) -> list[Start]:
    """Starts for the neighbouring candidates from one solution (module docstring)."""
    k, e = sol.n_arcs, sol.electrode
    taus = tuple(a[1] for a in sol.arcs)
    ns = tuple(a[2] for a in sol.arcs)
    ne = sol.elec[1] if sol.elec else ne0
    out = []
    if k < max_arcs:
        out += grow(sol, data, n_splits)
    for j in range(k):  # merge: drop arc j
        out.append(Start(k - 1, e, taus[:j] + taus[j + 1 :], ns[:j] + ns[j + 1 :], ne))
    if e and False in families:
        out.append(Start(k, False, taus, ns, ne))  # electrode removed
        if k < max_arcs:  # electrode → slowest arc, R = 10 |Z(ω_min)|
            r_big = 10.0 * float(np.abs(data.z[np.argmin(data.omega)]))
            y_e, n_e = sol.elec
            tau_new = float(np.exp(np.clip(np.log(r_big / max(y_e, 1e-300)) / n_e, -300, 300)))
            out.append(Start(k + 1, False, (*taus, tau_new), (*ns, n_e), ne))
    if not e and True in families:
        out.append(Start(k, True, taus, ns, ne0))  # electrode added
        if k >= 1:  # slowest arc → electrode
            out.append(Start(k - 1, True, taus[:-1], ns[:-1], ns[-1]))
    return [s for s in out if s.electrode in families and 0 <= s.n_arcs <= max_arcs]


def _spread(k: int, omega: np.ndarray) -> tuple:
    lo, hi = np.log(omega.min()), np.log(omega.max())
    return tuple(float(np.exp(-(lo + (hi - lo) * (j + 0.5) / k))) for j in range(k))


def distinct(starts: list[Start]) -> list[Start]:
    """The starts less near-duplicates: same candidate, every ln τ within 0.1 and n within
    0.02 of an earlier start (moves from different neighbours often land on one point).
    Plain Python: a few short tuples, where NumPy's per-call cost would dominate."""
    out: list[Start] = []
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


def seeds(data, dec_arcs, families, max_arcs, ne0) -> list[Start]:
    """The decomposition's K largest arcs and K spread arcs for every candidate."""
    starts = []
    by_r = sorted(dec_arcs, key=lambda a: -a[0])
    for e in families:
        for k in range(0, max_arcs + 1):
            if k <= len(by_r):
                chosen = sorted(by_r[:k], key=lambda a: a[1])
                starts.append(
                    Start(k, e, tuple(a[1] for a in chosen), tuple(a[2] for a in chosen), ne0)
                )
            if k >= 1:
                starts.append(Start(k, e, _spread(k, data.omega), (N_NEW,) * k, ne0))
    return starts
