"""Solid-electrolyte interpretation of a circuit fit: capacitances, process labels,
conductivities and permittivities.

For every top-level arc R‖CPE (also R‖C and ZARC) of the fitted circuit:

* capacitance C = (R^{1−n} Q)^{1/n} (Brug et al., J. Electroanal. Chem. 176, 275 (1984); for a
  ZARC Q = τⁿ/R); a series (blocking-electrode) CPE gets C = Q^{1/n} R_s^{(1−n)/n} with R_s the
  total electrolyte resistance (R∞ + Σ R_arcs);
* a process label from the capacitance scaled to a cell constant of 1 cm⁻¹,
  C* = C · L/A (Irvine, Sinclair & West, Adv. Mater. 2, 132 (1990)):

  ========================  =================
  C* (F)                    process
  ========================  =================
  < 1e-11                   bulk
  1e-11 … 1e-8              grain boundary
  1e-8 … 1e-7               surface layer
  1e-7 … 1e-5               electrode interface
  ≥ 1e-5                    electrochemical reaction
  ========================  =================

  (without a geometry the cell constant is taken as 1 cm⁻¹ and the result says so);
* conductivity σ = L/(R A) (S/cm) with its error from R, and for the bulk the relative
  permittivity ε_r = C L/(ε₀ A).

The series resistance R∞ (R0) is listed as its own entry: when the bulk arc lies above the
measured frequencies, R∞ is the bulk resistance (leads assumed negligible) — the temperature
series uses it as such (``label: "bulk (high-frequency intercept)"`` only when no arc is bulk).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iondyn.constants import EPS0
from iondyn.eis.circuit import Element, Parallel, Series
from iondyn.eis.fit_result import CircuitFitResult
from iondyn.errors import InputError

__all__ = ["PROCESS_RANGES", "classify_capacitance", "interpret"]

EPS0_F_PER_CM = EPS0 / 100.0

#: Upper limits of the scaled capacitance C·(L/A) (F, cell constant 1 cm⁻¹) per process.
PROCESS_RANGES: tuple[tuple[float, str], ...] = (
    (1e-11, "bulk"),
    (1e-8, "grain boundary"),
    (1e-7, "surface layer"),
    (1e-5, "electrode interface"),
    (np.inf, "electrochemical reaction"),
)


def classify_capacitance(c_scaled: float) -> str:
    """Process label of a capacitance scaled to a cell constant of 1 cm⁻¹ (module table)."""
    for limit, label in PROCESS_RANGES:
        if c_scaled < limit:
            return label
    return PROCESS_RANGES[-1][1]


def _blocking_capacitance(q: float, n: float, rs: float) -> float:
    """C = Q^{1/n} R_s^{(1−n)/n} in logarithms (inf or 0 where it leaves the float range; a
    fit with n → 0 does not raise an OverflowError)."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        return float(np.exp((np.log(q) + (1.0 - n) * np.log(rs)) / n))


def _cap(r: float, q: float, n: float) -> float:
    """C = (R^{1−n} Q)^{1/n}."""
    return float(np.exp(((1.0 - n) * np.log(r) + np.log(q)) / n))


def _err_of(f, values: dict[str, float], res: CircuitFitResult) -> float:
    """Standard error of f(values) by central differences over the free parameters."""
    names = [n for n in values if n in res.free_names]
    if not names:
        return 0.0
    idx = [res.free_names.index(n) for n in names]
    cov = res.covariance[np.ix_(idx, idx)]
    g = np.empty(len(names))
    for j, name in enumerate(names):
        h = 1e-6 * abs(values[name]) + 1e-300
        up = dict(values)
        dn = dict(values)
        up[name] += h
        dn[name] -= h
        g[j] = (f(up) - f(dn)) / (2 * h)
    with np.errstate(over="ignore", invalid="ignore"):
        var = float(g @ cov @ g)
    return float(np.sqrt(var)) if np.isfinite(var) and var >= 0 else float("nan")


def interpret(
    res: CircuitFitResult, thickness_cm: float | None, area_cm2: float | None
) -> list[dict[str, Any]]:
    """Processes of a fitted circuit (module docstring), highest frequency first."""
    if (thickness_cm is None) != (area_cm2 is None):
        raise InputError("give both the thickness (cm) and the area (cm²), or neither")
    if thickness_cm is not None and not (thickness_cm > 0 and area_cm2 > 0):
        raise InputError("thickness and area must be positive")
    geometry = thickness_cm is not None
    cell = thickness_cm / area_cm2 if geometry else 1.0  # cm⁻¹
    p = res.parameters
    root = res.circuit.root
    top = list(root.children) if isinstance(root, Series) else [root]
    arcs: list[dict[str, Any]] = []
    series_r: list[str] = []
    series_cpe: list[str] = []
    for node in top:
        if isinstance(node, Element) and node.symbol == "R":
            series_r.append(node.name)
        elif isinstance(node, Element) and node.symbol == "CPE":
            series_cpe.append(node.name)
        elif isinstance(node, Parallel):
            leaves = [c for c in node.children if isinstance(c, Element)]
            rs = [c.name for c in leaves if c.symbol == "R"]
            cs = [c for c in leaves if c.symbol in ("CPE", "C")]
            if len(rs) == 1 and len(cs) == 1 and len(leaves) == 2:
                arcs.append(_arc_entry(res, rs[0], cs[0]))
        elif isinstance(node, Element) and node.symbol == "ZARC":
            arcs.append(_zarc_entry(res, node.name))

    out: list[dict[str, Any]] = []
    r_total = sum(p[r] for r in series_r) + sum(a["R_ohm"] for a in arcs)
    for a in sorted(arcs, key=lambda a: a["tau_s"]):
        c_scaled = a["C_F"] * cell
        a["label"] = classify_capacitance(c_scaled)
        a["C_scaled_F"] = c_scaled
        _add_conductivity(a, thickness_cm, area_cm2)
        if a["label"] == "bulk" and geometry:
            a["eps_r"] = a["C_F"] * thickness_cm / (EPS0_F_PER_CM * area_cm2)
            a["eps_r_err"] = a["eps_r"] * a["C_F_err"] / a["C_F"]
        else:
            a["eps_r"] = None
        out.append(a)
    for name in series_r:
        entry = {
            "element": name,
            "label": "series resistance (R∞)",
            "R_ohm": p[name],
            "R_ohm_err": res.errors[name],
            "C_F": None,
            "eps_r": None,
        }
        if not any(a["label"] == "bulk" for a in out) and geometry:
            entry["label"] = "bulk (high-frequency intercept)"
            _add_conductivity(entry, thickness_cm, area_cm2)
        else:  # leads and contacts, not a property of the material: no conductivity
            entry["sigma_S_per_cm"] = entry["sigma_S_per_cm_err"] = None
        out.insert(0, entry)
    for name in series_cpe:
        q, n = p[f"{name}_Q"], p[f"{name}_n"]
        rs = max(r_total, 1e-300)
        c = _blocking_capacitance(q, n, rs)
        vals = {f"{name}_Q": q, f"{name}_n": n}

        def f(v, name=name, rs=rs):
            return _blocking_capacitance(v[f"{name}_Q"], v[f"{name}_n"], rs)

        c_err = _err_of(f, vals, res)
        out.append(
            {
                "element": name,
                "label": "electrode (blocking)",
                "Q": q,
                "n": n,
                "C_F": c,
                "C_F_err": c_err,
                "C_scaled_F": c * cell,
                "R_ohm": None,
                "sigma_S_per_cm": None,
                "eps_r": None,
            }
        )
    if not geometry:
        for e in out:
            e["note"] = "no geometry given: labels assume a cell constant of 1 cm⁻¹, σ not given"
    return out


def _add_conductivity(entry: dict[str, Any], thickness_cm, area_cm2) -> None:
    r = entry.get("R_ohm")
    if thickness_cm is None or r is None or not r > 0:
        entry["sigma_S_per_cm"] = None
        entry["sigma_S_per_cm_err"] = None
        return
    sigma = thickness_cm / (r * area_cm2)
    entry["sigma_S_per_cm"] = sigma
    err = entry.get("R_ohm_err")
    entry["sigma_S_per_cm_err"] = sigma * err / r if err is not None and np.isfinite(err) else None


def _f_peak(tau: float) -> float | None:
    """f = 1/(2πτ), the loss-peak frequency of an arc; None for a degenerate τ (0 or ∞)."""
    if not (np.isfinite(tau) and tau > 0):
        return None
    f = 1.0 / (2 * np.pi * tau)
    return float(f) if np.isfinite(f) else None


def _arc_entry(res: CircuitFitResult, r_name: str, cap) -> dict[str, Any]:
    p = res.parameters
    r = p[r_name]
    if cap.symbol == "C":
        c = p[cap.name]
        vals = {r_name: r, cap.name: c}
        c_err = res.errors[cap.name]
        n = 1.0
        tau = r * c
    else:
        q, n = p[f"{cap.name}_Q"], p[f"{cap.name}_n"]
        vals = {r_name: r, f"{cap.name}_Q": q, f"{cap.name}_n": n}
        c = _cap(r, q, n)
        c_err = _err_of(
            lambda v: _cap(v[r_name], v[f"{cap.name}_Q"], v[f"{cap.name}_n"]), vals, res
        )
        tau = (r * q) ** (1.0 / n)
    return {
        "element": f"p({r_name},{cap.name})",
        "R_ohm": r,
        "R_ohm_err": res.errors[r_name],
        "C_F": c,
        "C_F_err": c_err,
        "n": n,
        "tau_s": tau,
        "f_peak_Hz": _f_peak(tau),
    }


def _zarc_entry(res: CircuitFitResult, name: str) -> dict[str, Any]:
    p = res.parameters
    r, tau, n = p[f"{name}_R"], p[f"{name}_tau"], p[f"{name}_n"]
    q = tau**n / r
    vals = {f"{name}_R": r, f"{name}_tau": tau, f"{name}_n": n}
    c_err = _err_of(
        lambda v: _cap(
            v[f"{name}_R"], v[f"{name}_tau"] ** v[f"{name}_n"] / v[f"{name}_R"], v[f"{name}_n"]
        ),
        vals,
        res,
    )
    return {
        "element": name,
        "R_ohm": r,
        "R_ohm_err": res.errors[f"{name}_R"],
        "C_F": _cap(r, q, n),
        "C_F_err": c_err,
        "n": n,
        "tau_s": tau,
        "f_peak_Hz": _f_peak(tau),
    }
