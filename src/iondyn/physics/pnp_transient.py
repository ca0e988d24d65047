"""Implicit time integration of the PNP equations with adaptive steps.

M du/dt + F(u, t) = 0 is integrated by the variable-step BDF2 formula
M (a₀u_{n+1} + a₁u_n + a₂u_{n−1})/h + F(u_{n+1}) = 0, a₀ = (1+2ω)/(1+ω), a₁ = −(1+ω),
a₂ = ω²/(1+ω), ω = h_n/h_{n−1}; the first step after a start or a breakpoint is backward Euler.
Each step is solved by Newton's method (LU reused while it contracts, positivity-preserving
damping). The local error is estimated from the difference between the corrector and a quadratic
extrapolation, err ≈ (2/7)‖u_corr − u_pred‖ (constant-step error constants of BDF2, −2/9, and of
the predictor, 1), in a weighted RMS norm with ``rtol`` and absolute tolerances per variable; the
step changes by 0.9 err^{−1/3} within [0.2, 2.5]. (Hairer & Wanner, *Solving Ordinary
Differential Equations II*, 2nd ed. (1996), §III.5; Gresho & Sani, *Incompressible Flow and the
Finite Element Method* (1998), §3.16.)

The current density through face 0 uses the same BDF formula for the displacement term, so it is
conserved across faces exactly as the discrete equations are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from iondyn.display import Displayable, Param, Summary
from iondyn.errors import InputError, SolverError
from iondyn.physics.banded import BandedLU
from iondyn.serialize import to_jsonable

__all__ = ["TransientResult", "integrate"]


@dataclass(repr=False)
class TransientResult(Displayable):
    """Time series of one transient run (SI units; j positive along +x)."""

    time_s: np.ndarray
    current_A_per_m2: np.ndarray
    temperature_K: np.ndarray
    voltage_V: np.ndarray
    saved_times_s: np.ndarray
    saved_states: list[np.ndarray]
    final_state: np.ndarray
    n_steps: int
    n_rejected: int
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "time_s": self.time_s,
                "current_A_per_m2": self.current_A_per_m2,
                "temperature_K": self.temperature_K,
                "voltage_V": self.voltage_V,
                "n_steps": self.n_steps,
                "n_rejected": self.n_rejected,
                "warnings": self.warnings,
            }
        )

    def _summary(self) -> Summary:
        t = self.time_s
        facts = [f"{t.size} times, {t.min():.3g}–{t.max():.3g} s", f"{self.n_steps} steps"]
        params = [Param("final current", self.current_A_per_m2[-1], None, "A/m²")]
        return Summary("TransientResult", "PNP transient", facts, params, warnings=self.warnings)

    def plot(self, ax: Any = None) -> Any:
        """j against time; returns the axes (a new figure when ``ax`` is None)."""
        from iondyn.display import plots as dp

        return dp.xy(
            dp.axes(ax), self.time_s, self.current_A_per_m2, xlabel="t (s)", ylabel="j (A/m²)"
        )

    def to_dataframe(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "time_s": self.time_s,
                "temperature_K": self.temperature_K,
                "voltage_V": self.voltage_V,
                "current_A_per_m2": self.current_A_per_m2,
            }
        )


def _as_function(value: float | Callable[[float], float] | None, default: float):
    if value is None:
        return lambda t: default
    if callable(value):
        return value
    v = float(value)
    return lambda t: v


def integrate(
    model,
    t_end_s: float,
    *,
    u0: np.ndarray | None = None,
    voltage_V: float | Callable[[float], float] = 0.0,
    temperature_K: float | Callable[[float], float] | None = None,
    rtol: float = 1e-4,
    atol_potential: float = 1e-5,
    atol_concentration: float = 1e-8,
    first_step_s: float | None = None,
    max_step_s: float | None = None,
    save_at_s: Sequence[float] = (),
    max_steps: int = 50000,
) -> TransientResult:
    """Integrate ``model`` from t = 0 (state ``u0``, default equilibrium) to ``t_end_s``.

    ``voltage_V`` (applied V_left − V_right) and ``temperature_K`` may be functions of time (s);
    a step change of either should be placed at t = 0 (the first step is backward Euler).
    ``atol_concentration`` is relative to the largest bulk concentration; ``max_step_s`` caps
    the step (a smooth record); ``save_at_s`` lists times at which the state is stored (the
    steps land on them exactly).
    """
    if not (np.isfinite(t_end_s) and t_end_s > 0):
        raise InputError("t_end_s must be positive")
    s = model.system
    ts = model.scales.time_s
    volt = _as_function(voltage_V, 0.0)
    temp = _as_function(temperature_K, model.device.temperature_K)
    u = model.equilibrium() if u0 is None else np.asarray(u0, dtype=float).copy()
    if u.shape != (s.n,):
        raise InputError(f"u0 must have {s.n} entries")
    t_end = t_end_s / ts
    saves = sorted(float(x) / ts for x in save_at_s if 0 < x <= t_end_s)
    cmax = float(np.max(model.disc.c_bulk))
    atol = np.full(s.n, atol_concentration * cmax)
    atol[s.ip] = atol_potential
    present = model.disc.present

    def conditions(t: float) -> tuple[float, float, float]:
        vl, vr = model._contacts(volt(t * ts))
        return vl, vr, temp(t * ts)

    def displacement(v: np.ndarray) -> float:
        return s.g[0] * (v[s.ip[0]] - v[s.ip[1]])

    # a first step well below the fastest (dielectric) relaxation
    h = (first_step_s / ts) if first_step_s else min(1e-6 * t_end, 1e-3)
    h_max = np.inf if max_step_s is None else max_step_s / ts
    t = 0.0
    hist: list[tuple[float, np.ndarray]] = [(t, u)]
    times, currents, temps, volts = [], [], [], []
    saved_t, saved_u = [], []
    n_rej = 0
    for _ in range(max_steps):
        if t >= t_end * (1 - 1e-12):
            break
        h = min(h, t_end - t, h_max)
        nxt = [x for x in saves if x > t * (1 + 1e-12)]
        if nxt and t + h > nxt[0]:
            h = nxt[0] - t
        order = 2 if len(hist) >= 2 else 1
        if order == 2:
            (t1, u1), (t0, u0_) = hist[-1], hist[-2]
            w = h / (t1 - t0)
            a0, a1, a2 = (1 + 2 * w) / (1 + w), -(1 + w), w * w / (1 + w)
            rest = a1 * u1 + a2 * u0_
        else:
            a0, rest = 1.0, -hist[-1][1]
        vl, vr, tk = conditions(t + h)
        pred = _predict(hist, t + h)
        try:
            u_new = _newton_step(s, pred, rest, a0, h, vl, vr, tk, atol, rtol, present)
        except SolverError:
            n_rej += 1
            h *= 0.25
            if h < 1e-14 * max(t_end, 1.0):
                raise SolverError(f"transient: step size underflow at t = {t * ts:.4g} s") from None
            continue
        err = 0.0
        if len(hist) >= 3:  # a quadratic predictor is available
            weights = atol + rtol * np.abs(u_new)
            err = (2.0 / 7.0) * float(np.sqrt(np.mean(((u_new - pred) / weights) ** 2)))
        if err > 1.0:
            n_rej += 1
            h *= max(0.2, 0.9 * err ** (-1.0 / 3.0))
            continue
        # accepted
        if order == 2:
            dq = (a0 * displacement(u_new) + a1 * displacement(hist[-1][1])) / h
            dq += a2 * displacement(hist[-2][1]) / h
        else:
            dq = (displacement(u_new) - displacement(hist[-1][1])) / h
        j = s.conduction_current(u_new, tk) + dq
        t += h
        # the initial state may be inconsistent (a step of V or T at t = 0 moves ψ at once):
        # never let the BDF2 formula reach back to it
        hist = [(t, u_new)] if len(times) == 0 else [*hist[-2:], (t, u_new)]
        times.append(t * ts)
        currents.append(j * model.scales.current_A_m2)
        temps.append(tk)
        volts.append(vl - vr)
        if saves and abs(t - saves[0]) <= 1e-12 * max(t, 1.0):
            saved_t.append(t * ts)
            saved_u.append(u_new.copy())
            saves.pop(0)
        grow = 2.5 if err == 0.0 else min(2.5, max(0.2, 0.9 * err ** (-1.0 / 3.0)))
        h *= grow
    else:
        raise SolverError(f"transient: {max_steps} steps were not enough to reach t_end")
    return TransientResult(
        np.asarray(times),
        np.asarray(currents),
        np.asarray(temps),
        np.asarray(volts),
        np.asarray(saved_t),
        saved_u,
        hist[-1][1].copy(),
        len(times),
        n_rej,
    )


def _predict(hist: list[tuple[float, np.ndarray]], t: float) -> np.ndarray:
    """Polynomial extrapolation through the last (up to three) accepted points."""
    pts = hist[-3:]
    if len(pts) == 1:
        return pts[0][1].copy()
    out = np.zeros_like(pts[-1][1])
    for i, (ti, ui) in enumerate(pts):
        li = 1.0
        for k, (tk, _) in enumerate(pts):
            if k != i:
                li *= (t - tk) / (ti - tk)
        out += li * ui
    return out


def _newton_step(s, guess, rest, a0, h, vl, vr, tk, atol, rtol, present):
    """Solve M(a0 u + rest)/h + F(u) = 0 by Newton with LU reuse and positivity damping."""
    u = guess.copy()
    psi0, c0 = s.split(u)
    if np.any(c0[present] < 0):
        u = s.join(psi0, np.where(present, np.maximum(c0, 0.0), c0))
    lu = None
    last = np.inf
    for it in range(12):
        f, jac = s.evaluate(u, vl, vr, tk)
        g = f + s.mass * (a0 * u + rest) / h
        if lu is None:
            lu = BandedLU(s.band(jac.data, (a0 / h) * s.mass), s.kl, s.ku)
        step = -lu.solve(g)
        c = s.split(u)[1]
        dc = s.split(step)[1]
        lam = 1.0
        neg = (dc < 0) & present & (c > 0)
        if np.any(neg):
            lam = min(1.0, 0.95 * float(np.min(c[neg] / -dc[neg])))
        u = u + lam * step
        norm = float(np.sqrt(np.mean((step / (atol + rtol * np.abs(u))) ** 2)))
        if norm < 1e-3 and lam == 1.0:
            return u
        if norm > 0.5 * last or it == 3:
            lu = None  # contraction too slow: refresh the Jacobian
        last = norm
    raise SolverError("transient Newton did not converge")
