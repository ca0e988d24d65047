"""``iondyn simulate …``: space-charge layers, impedance, I–V and TSDC from a TOML device file."""

from __future__ import annotations

import argparse
import csv
import functools
import math
from pathlib import Path

import numpy as np

from iondyn.cli.common import CommandError, emit_json, format_table, positive_float, positive_int
from iondyn.display import clean_zero, format_number


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite: {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="simulate interfaces: space-charge layers, impedance, I–V, TSDC (TOML device file)",
        description=(
            "Simulate a device described by a TOML file (schema: docs/physics.md): equilibrium "
            "space-charge layers, small-signal impedance, current–voltage curves and "
            "space-charge TSDC from the Poisson–Nernst–Planck equations."
        ),
    )
    sub = parser.add_subparsers(dest="simulate_command", metavar="SIMULATE_COMMAND")
    sub.required = True

    p = sub.add_parser("scl", help="equilibrium space-charge layer profile")
    p.add_argument("config", metavar="CONFIG.toml")
    p.add_argument("--out", metavar="FILE.csv", help="write the profile (x, φ, c) as CSV")
    p.add_argument("--plot", metavar="OUT.png", help="write the profiles φ(x) and c(x)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_naming_config(run_scl))

    p = sub.add_parser("impedance", help="small-signal impedance spectrum (PNP)")
    p.add_argument("config", metavar="CONFIG.toml")
    p.add_argument("--fmin", type=positive_float, required=True, metavar="HZ")
    p.add_argument("--fmax", type=positive_float, required=True, metavar="HZ")
    p.add_argument("--points-per-decade", type=positive_int, default=10, metavar="N")
    p.add_argument("--bias-V", type=_float, default=0.0, help="DC bias V_left − V_right")
    p.add_argument(
        "--area-m2",
        type=positive_float,
        default=1.0,
        help="electrode area for the Ω columns of --out and the JSON (default 1 m²)",
    )
    p.add_argument("--out", metavar="FILE.csv", help="write frequency_Hz,z_real_ohm,z_imag_ohm")
    p.add_argument("--plot", metavar="OUT.png", help="write Nyquist and Bode plots")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_naming_config(run_impedance))

    p = sub.add_parser("iv", help="steady-state current–voltage curve (PNP)")
    p.add_argument("config", metavar="CONFIG.toml")
    p.add_argument("--vmin", type=_float, required=True, metavar="V")
    p.add_argument("--vmax", type=_float, required=True, metavar="V")
    p.add_argument("--points", type=positive_int, default=21, metavar="N")
    p.add_argument("--out", metavar="FILE.csv", help="write voltage_V,current_A_per_m2")
    p.add_argument("--plot", metavar="OUT.png", help="write the I–V curve")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_naming_config(run_iv))

    p = sub.add_parser("tsdc", help="space-charge TSDC: pole, quench, heat (PNP)")
    p.add_argument("config", metavar="CONFIG.toml")
    p.add_argument("--pole-V", type=_float, required=True, metavar="V")
    p.add_argument("--pole-T-K", type=positive_float, required=True, metavar="T")
    rate = p.add_mutually_exclusive_group(required=True)
    rate.add_argument("--beta", type=positive_float, metavar="B", help="heating rate in K/s")
    rate.add_argument("--beta-per-min", type=positive_float, metavar="B", help="in K/min")
    p.add_argument("--pole-time-s", type=positive_float, help="poling time (default: full)")
    p.add_argument("--T-start-K", type=positive_float, help="start of heating (default: auto)")
    p.add_argument("--T-end-K", type=positive_float, help="end of heating (default: auto)")
    p.add_argument("--out", metavar="FILE.csv", help="write temperature_K,current_A_per_m2")
    p.add_argument("--plot", metavar="OUT.png", help="write the TSDC curve")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_naming_config(run_tsdc))


def _load(path: str):
    from iondyn.physics.config import load_config

    return load_config(path)


def _naming_config(run):
    """Run a ``simulate`` command so that every error names the configuration file."""

    @functools.wraps(run)
    def wrapped(args: argparse.Namespace) -> int:
        from iondyn.errors import IondynError

        try:
            return run(args)
        except (IondynError, CommandError) as exc:
            if not str(exc).startswith(str(args.config)):
                exc.args = (f"{args.config}: {exc}", *exc.args[1:])
                if hasattr(exc, "path") and getattr(exc, "path", None) is None:
                    exc.path = str(args.config)
            raise

    return wrapped


def _plot(args: argparse.Namespace, draw, panels: int = 1) -> str | None:
    """``--plot``: the picture drawn by ``draw(axes)`` written to the file given."""
    if not args.plot:
        return None
    from iondyn.cli.common import save_figure

    return str(save_figure(draw, args.plot, panels=panels))


def _model(cfg, max_bias_V: float = 0.0):
    from iondyn.errors import ConfigError
    from iondyn.physics.pnp import PNPModel

    dev = cfg.device
    if not (dev.left.is_electrode and dev.right.is_electrode):
        raise ConfigError(
            "transport needs electrodes at both ends: set [boundary.left] and [boundary.right]",
            path=cfg.source,
        )
    opts = {k: cfg.solver[k] for k in ("resolution", "ratio") if k in cfg.solver}
    return PNPModel(dev, max_bias_V=max_bias_V, **opts)


def _write_csv(path: str, header: list[str], columns: list[np.ndarray], comments: list[str]):
    try:
        with Path(path).open("w", newline="", encoding="utf-8") as fh:
            for line in comments:
                fh.write(f"# {line}\n")
            w = csv.writer(fh)
            w.writerow(header)
            for row in zip(*columns):
                w.writerow([f"{v:.10g}" for v in row])
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def _drop(volts: float, vt: float) -> str:
    """A potential drop in V and kT/e; round-off (below 1e-9 kT/e) is 0."""
    d = clean_zero(volts, vt)
    return f"{format_number(d)} V ({format_number(d / vt, 4)} kT/e)"


def run_scl(args: argparse.Namespace) -> int:
    from iondyn.physics.scl import SpaceChargeSolver

    cfg = _load(args.config)
    keys = ("resolution", "ratio", "ensemble", "max_refinements", "max_nodes")
    opts = {k: cfg.solver[k] for k in keys if k in cfg.solver}
    result = SpaceChargeSolver(**opts).solve(cfg.device)
    if args.out:
        df = result.to_dataframe()
        cols = [c for c in df.columns if c != "phase"]
        _write_csv(
            args.out,
            cols,
            [df[c].to_numpy() for c in cols],
            [f"iondyn simulate scl {args.config}", f"temperature_K = {result.temperature_K:g}"],
        )
    plot = _plot(
        args, lambda axes: (result.plot(axes[0]), result.plot(axes[1], kind="concentration")), 2
    )
    if args.json:
        doc = result.to_dict()
        doc["source"] = args.config
        if args.out:
            doc["out"] = args.out
        if plot:
            doc["plot"] = plot
        emit_json(doc)
        return 0
    vt = result.thermal_voltage_V
    q_scale = abs(result.capacitance_F_per_m2) * vt  # charges below 1e-9 of C·kT/e: round-off
    print(
        f"{args.config}: equilibrium space charge ({result.ensemble}), "
        f"T = {result.temperature_K:g} K"
    )
    for name, ld in result.debye_lengths_m.items():
        print(f"  Debye length of {name}: {ld:.4g} m")
    rows = []
    for itf in result.interfaces:
        label = itf["kind"] if itf["kind"] == "electrode" else "|".join(itf["phases"])
        drops = ", ".join(_drop(d, vt) for d in itf["potential_drops_V"])
        rows.append(
            [
                label,
                itf["position_m"],
                clean_zero(itf["potential_V"], vt),
                drops,
                clean_zero(itf["charge_C_per_m2"], q_scale),
            ]
        )
    table = format_table(rows, ["interface", "x (m)", "φ (V)", "potential drops", "Q (C/m²)"])
    print("  " + table.replace("\n", "\n  "))
    print(f"  differential capacitance: {result.capacitance_F_per_m2:.5g} F/m²")
    if result.layer_resistance_ohm_m2 is not None:
        r = format_number(result.layer_resistance_ohm_m2)
        print(f"  layer resistance (⊥, excess): {r} Ω m²")
        print(f"  layer conductance (∥, excess): {format_number(result.layer_conductance_S)} S")
    print(f"  mesh: {result.mesh['n_nodes']} nodes, Newton residual {result.residual:.2g}")
    for w in result.warnings:
        print(f"  warning: {w}")
    if args.out:
        print(f"profile written to {args.out}")
    if plot:
        print(f"plot written to {plot}")
    return 0


def run_impedance(args: argparse.Namespace) -> int:
    if args.fmax <= args.fmin:
        raise CommandError("--fmax must be larger than --fmin")
    cfg = _load(args.config)
    decades = math.log10(args.fmax / args.fmin)
    n = max(round(decades * args.points_per_decade) + 1, 2)
    freq = np.logspace(math.log10(args.fmax), math.log10(args.fmin), n)
    model = _model(cfg, abs(args.bias_V))
    result = model.impedance(freq, voltage_V=args.bias_V)
    z_area = result.z_ohm_m2 / args.area_m2
    spectrum = result.to_spectrum(args.area_m2, source=args.config)

    def draw(axes):
        from iondyn.display import plots

        plots.nyquist(axes[0], spectrum, label="simulated")
        plots.bode(axes[1], spectrum)

    plot = _plot(args, draw, 2)
    if args.out:
        _write_csv(
            args.out,
            ["frequency_Hz", "z_real_ohm", "z_imag_ohm"],
            [result.frequency_Hz, z_area.real, z_area.imag],
            [
                f"iondyn simulate impedance {args.config} (PNP small signal)",
                f"area_m2 = {args.area_m2:g}; impedance in ohm for that area "
                f"(ohm m2 / area); Z'' < 0 capacitive",
                f"temperature_K = {result.temperature_K:g}; bias_V = {args.bias_V:g}",
            ],
        )
    if args.json:
        doc = result.to_dict()
        doc.update(
            source=args.config,
            area_m2=args.area_m2,
            z_real_ohm=z_area.real.tolist(),
            z_imag_ohm=z_area.imag.tolist(),
        )
        if args.out:
            doc["out"] = args.out
        if plot:
            doc["plot"] = plot
        emit_json(doc)
        return 0
    print(
        f"{args.config}: PNP impedance, {n} frequencies, T = {result.temperature_K:g} K, "
        f"bias {args.bias_V:g} V, area {args.area_m2:g} m²"
    )
    idx = np.unique(np.linspace(0, n - 1, min(n, 13)).round().astype(int))
    rows = [[result.frequency_Hz[i], z_area[i].real, z_area[i].imag] for i in idx]
    print("  " + format_table(rows, ["f (Hz)", "Z' (Ω)", "Z'' (Ω)"]).replace("\n", "\n  "))
    if args.out:
        print(f"spectrum written to {args.out}")
    if plot:
        print(f"plot written to {plot}")
    return 0


def run_iv(args: argparse.Namespace) -> int:
    if args.vmax <= args.vmin:
        raise CommandError("--vmax must be larger than --vmin")
    cfg = _load(args.config)
    volts = np.linspace(args.vmin, args.vmax, args.points)
    model = _model(cfg, max(abs(args.vmin), abs(args.vmax)))
    result = model.iv_curve(volts)
    if args.out:
        _write_csv(
            args.out,
            ["voltage_V", "current_A_per_m2"],
            [result.voltage_V, result.current_A_per_m2],
            [f"iondyn simulate iv {args.config}", f"temperature_K = {result.temperature_K:g}"],
        )
    plot = _plot(args, result.plot)
    if args.json:
        doc = result.to_dict()
        doc["source"] = args.config
        if plot:
            doc["plot"] = plot
        emit_json(doc)
        return 0
    print(f"{args.config}: steady-state I–V at T = {result.temperature_K:g} K")
    rows = list(zip(result.voltage_V, result.current_A_per_m2))
    print("  " + format_table(rows, ["V (V)", "j (A/m²)"]).replace("\n", "\n  "))
    for w in result.warnings:
        print(f"  warning: {w}")
    if plot:
        print(f"plot written to {plot}")
    return 0


def run_tsdc(args: argparse.Namespace) -> int:
    cfg = _load(args.config)
    beta = args.beta if args.beta is not None else args.beta_per_min / 60.0
    model = _model(cfg, abs(args.pole_V))
    result = model.tsdc(
        args.pole_V,
        args.pole_T_K,
        beta,
        pole_time_s=args.pole_time_s,
        t_start_K=args.T_start_K,
        t_end_K=args.T_end_K,
    )
    if args.out:
        _write_csv(
            args.out,
            ["temperature_K", "current_A_per_m2"],
            [result.temperature_K, result.current_A_per_m2],
            [
                f"iondyn simulate tsdc {args.config} (space-charge TSDC, PNP)",
                # "heating rate: B K/s" is what the TSDC reader picks up, so that
                # `iondyn tsdc fit FILE` needs no --beta
                f"heating rate: {beta:.12g} K/s; pole_V = {args.pole_V:g}; "
                f"pole_T_K = {args.pole_T_K:g}",
                "current density in A/m2, positive for the depolarisation",
            ],
        )
    plot = _plot(args, result.plot)
    if args.json:
        doc = result.to_dict()
        doc["source"] = args.config
        if args.out:
            doc["out"] = args.out
        if plot:
            doc["plot"] = plot
        emit_json(doc)
        return 0
    print(
        f"{args.config}: space-charge TSDC, β = {beta:.4g} K/s, "
        f"poled {args.pole_V:g} V at {args.pole_T_K:g} K"
    )
    print(f"  simulated peak: {result.peak_temperature_K:.2f} K")
    if result.predicted_peak_temperature_K is not None:
        print(
            f"  first-order prediction (τ = εL/2σL_D): {result.predicted_peak_temperature_K:.2f} K"
        )
    print(
        f"  released charge {result.released_charge_C_per_m2:.4g} C/m² "
        f"(poled {result.poled_charge_C_per_m2:.4g} C/m²), {result.n_steps} steps"
    )
    for w in result.warnings:
        print(f"  warning: {w}")
    if args.out:
        print(f"curve written to {args.out}")
    if plot:
        print(f"plot written to {plot}")
    return 0
