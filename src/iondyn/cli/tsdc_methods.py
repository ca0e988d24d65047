"""``iondyn tsdc methods``: initial rise, Bucci–Fieschi, the heating-rate method and g(Ea)
without a peak model (registered by :mod:`iondyn.cli.tsdc`).

One document per curve (``--json``), the heating-rate method when the curves were measured at
two or more heating rates, and with ``--plot OUT.png`` the initial-rise, Bucci–Fieschi (and
g(Ea)) plots of each curve side by side (``OUT_1.png``, … for several files).
"""

from __future__ import annotations

import argparse
from typing import Any

from iondyn.cli.common import emit_json, value_with_error
from iondyn.cli.tsdc import _ea, _read, require_beta

__all__ = ["run_methods"]


def _methods_of(curve, frac: float, distribution: bool, tau0: str):
    """The JSON document of one curve and the result objects behind it (for ``--plot``)."""
    from iondyn.errors import DataError, FitError
    from iondyn.tsdc.distribution import ea_distribution
    from iondyn.tsdc.methods import bucci_fieschi, initial_rise, peak_maximum

    T, J = curve.temperature_K, curve.current
    warnings = list(curve.metadata.get("warnings", []))
    if -J.min() > J.max():
        J = -J
        warnings.append("the current is negative-going: its sign was flipped for the analysis")
    doc: dict[str, Any] = {"source": curve.source, "beta_K_per_s": curve.beta_K_per_s}
    tm, jm = peak_maximum(T, J)
    doc["Tm_K"] = tm
    doc["Jm"] = jm
    doc["current_unit"] = curve.current_unit
    found: dict[str, Any] = {"T": T, "J": J}
    for name, call in (
        ("initial_rise", lambda: initial_rise(T, J, frac=frac)),
        ("bucci_fieschi", lambda: bucci_fieschi(T, J, curve.beta_K_per_s)),
    ):
        try:
            found[name] = call()
            doc[name] = found[name].to_dict()
        except (FitError, DataError) as exc:
            doc[name] = None
            warnings.append(f"{name.replace('_', ' ')}: {exc}")
    if distribution:
        t = tau0 if tau0 == "auto" else float(tau0)
        found["distribution"] = ea_distribution(T, J, curve.beta_K_per_s, tau0=t)
        doc["distribution"] = found["distribution"].to_dict()
    doc["warnings"] = warnings
    return doc, found


def _methods_plot(found: dict[str, Any], path) -> str:
    """Initial rise, Bucci–Fieschi and g(Ea) (those computed) side by side."""
    from iondyn.cli.common import save_figure

    parts = [k for k in ("initial_rise", "bucci_fieschi", "distribution") if k in found]
    if not parts:
        return ""

    def draw(axes):
        axes = list(axes) if len(parts) > 1 else [axes]
        for ax, name in zip(axes, parts):
            if name == "initial_rise":
                found[name].plot(found["T"], found["J"], ax=ax)
                ax.set_title("initial rise", fontsize=9)
            else:
                found[name].plot(ax=ax)

    return str(save_figure(draw, path, panels=len(parts), size=(5.0, 4.0)))


def run_methods(args: argparse.Namespace) -> int:
    from iondyn.errors import InputError

    if args.tau0 != "auto":
        try:
            if not float(args.tau0) > 0:
                raise ValueError
        except ValueError:
            raise InputError(
                f"--tau0 must be a positive number or 'auto', not {args.tau0!r}"
            ) from None
    curves = _read(args)
    require_beta(curves)
    outcomes = [_methods_of(c, args.frac, args.distribution, args.tau0) for c in curves]
    docs = [doc for doc, _ in outcomes]
    heating = None
    if len(curves) >= 2:
        from iondyn.tsdc.heating_rate import heating_rate_method

        betas = [d["beta_K_per_s"] for d in docs]
        if len(set(betas)) >= 2:
            heating = heating_rate_method([d["Tm_K"] for d in docs], betas).to_dict()
    plots: list[str] = []
    if args.plot:
        from iondyn.cli.common import plot_paths

        for (_, found), path in zip(outcomes, plot_paths(args.plot, len(outcomes))):
            written = _methods_plot(found, path)
            if written:
                plots.append(written)
    if args.json:
        if len(docs) == 1:
            emit_json({**docs[0], "plots": plots} if plots else docs[0])
        else:
            extra = {"plots": plots} if plots else {}
            emit_json({"results": docs, "heating_rate": heating, **extra})
        return 0
    for d in docs:
        print(f"{d['source']}  (β = {d['beta_K_per_s']:.5g} K/s, Tm = {d['Tm_K']:.2f} K)")
        ir, bf = d["initial_rise"], d["bucci_fieschi"]
        if ir:
            print(
                f"  initial rise:   Ea = {_ea(ir)} eV from {ir['T_range_K'][0]:.1f}–"
                f"{ir['T_range_K'][1]:.1f} K ({ir['n_points']} points, J < {ir['frac']:.0%} Jmax)"
            )
        if bf:
            print(
                f"  Bucci–Fieschi:  Ea = {_ea(bf)} eV, τ0 = {bf['tau0_s']:.3e} s from "
                f"{bf['T_range_K'][0]:.1f}–{bf['T_range_K'][1]:.1f} K ({bf['n_points']} points)"
            )
        if "distribution" in d:
            g = d["distribution"]
            print(
                f"  g(Ea):          mean {g['mean_eV']:.4f} eV, std {g['std_eV']:.4f} eV "
                f"(τ0 = {g['tau0_s']:.3g} s, R² = {g['r2']:.5f})"
            )
        for w in d["warnings"]:
            print(f"  warning: {w}")
        for name in ("initial_rise", "bucci_fieschi"):
            for w in (d[name] or {}).get("warnings", []):
                print(f"  warning ({name.replace('_', ' ')}): {w}")
    if heating:
        print(
            f"heating-rate method over {len(docs)} curves: Ea = "
            f"{value_with_error(heating['Ea_eV'], heating['Ea_eV_err'])} eV, "
            f"τ0 = {heating['tau0_s']:.3e} s"
        )
        for w in heating["warnings"]:
            print(f"  warning: {w}")
    for p in plots:
        print(f"plot written to {p}")
    return 0
