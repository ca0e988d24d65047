"""``iondyn eis drt FILE [FILE...] [--series-capacitance] [--inductance] [--lambda VALUE]
[--json] [--plot OUT.png]``: distribution of relaxation times.

One result per spectrum. ``--json`` prints ``{"results": [DRTResult.to_dict(), …],
"errors": [...]}``; ``--csv OUT.csv`` writes γ(τ) of every spectrum in long format. Files or
spectra that cannot be analysed are reported on stderr and in ``errors``; the exit code is
then 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from iondyn.cli.common import emit_json, format_table, positive_float
from iondyn.cli.eis_kk import analyse_each, read_spectra


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "drt",
        help="distribution of relaxation times (non-negative Tikhonov, RBF basis)",
        description=(
            "Distribution of relaxation times γ(τ) by non-negative Tikhonov regularisation on "
            "Gaussian basis functions, with R∞, optional L and an optional series "
            "capacitance C_s (blocking electrodes: without it their capacitive tail shows up "
            "as a phantom long-τ peak). λ is chosen by the discrepancy principle with the noise "
            "level from GCV unless --lambda fixes it. Reports the peaks of γ with their τ, "
            "resistance (area between minima) and significance."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="impedance files")
    parser.add_argument(
        "--series-capacitance",
        action="store_true",
        help="fit a series capacitance C_s ≥ 0 (blocking electrodes)",
    )
    parser.add_argument("--inductance", action="store_true", help="fit a series inductance L ≥ 0")
    parser.add_argument("--no-r-inf", action="store_true", help="leave out the series R∞")
    parser.add_argument(
        "--lambda",
        dest="lam",
        type=positive_float,
        metavar="VALUE",
        help="fixed regularisation parameter λ > 0 (default: chosen automatically)",
    )
    parser.add_argument(
        "--lambda-method",
        choices=("discrepancy", "gcv", "mgcv", "lcurve"),
        default="discrepancy",
        help="automatic choice of λ (default: discrepancy principle with GCV noise level)",
    )
    parser.add_argument(
        "--noise",
        type=positive_float,
        help="known noise σ as a fraction of |Z| (used by the discrepancy principle)",
    )
    parser.add_argument(
        "--penalty-order", type=int, choices=(1, 2), default=1, help="derivative penalised"
    )
    parser.add_argument(
        "--ridge", type=float, default=0.0, help="weight κ of an added ‖γ‖² penalty (default 0)"
    )
    parser.add_argument(
        "--weighting",
        choices=("modulus", "unit"),
        default="modulus",
        help="residual weights 1/|Z| (default) or uniform",
    )
    parser.add_argument(
        "--per-decade", type=positive_float, help="basis functions per decade of τ (default: auto)"
    )
    parser.add_argument(
        "--penalty-scale",
        choices=("local", "global"),
        default="local",
        help="penalty relative to a pilot γ (local, default) or to the mean |Z| (global)",
    )
    parser.add_argument(
        "--min-peak-fraction",
        type=float,
        default=0.1,
        help="merge shoulders smaller than this fraction of their neighbour (default 0.1)",
    )
    parser.add_argument("--plot", metavar="OUT.png", help="write the DRT plot(s)")
    parser.add_argument("--csv", metavar="OUT.csv", help="write γ(τ) of every spectrum")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from iondyn.eis.drt import DRT

    estimator = DRT(
        lam=args.lam,
        lambda_method=args.lambda_method,
        noise=args.noise,
        penalty_order=args.penalty_order,
        ridge=args.ridge,
        series_capacitance=args.series_capacitance,
        inductance=args.inductance,
        r_inf=not args.no_r_inf,
        weighting=args.weighting,
        per_decade=args.per_decade,
        penalty_scale=args.penalty_scale,
        min_peak_fraction=args.min_peak_fraction,
    )
    errors: list[dict[str, Any]] = []
    spectra = read_spectra(args.files, errors)
    results = analyse_each(spectra, estimator.fit, errors)
    plots = []
    if args.plot and results:
        from iondyn.eis.drt_plots import save_drt_plots

        plots = [str(p) for p in save_drt_plots(results, args.plot)]
    if args.csv and results:
        _write_csv(results, args.csv)
    if args.json:
        doc: dict[str, Any] = {"results": [r.to_dict() for r in results], "errors": errors}
        if plots:
            doc["plots"] = plots
        emit_json(doc)
        return 2 if errors else 0
    for r in results:
        _print_result(r)
    for p in plots:
        print(f"plot written to {p}")
    if args.csv and results:
        print(f"γ(τ) written to {args.csv}")
    return 2 if errors else 0


def _write_csv(results: list[Any], path: str) -> None:
    import pandas as pd

    frames = []
    for r in results:
        df = r.to_dataframe()
        df.insert(0, "spectrum", r.index)
        df.insert(0, "source", r.source)
        frames.append(df)
    pd.concat(frames, ignore_index=True).to_csv(Path(path), index=False)


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return "∞" if value == float("inf") else f"{value:.4g} {unit}"


def _print_result(r: Any) -> None:
    import math

    print(f"{r.source} [spectrum {r.index}]")
    print(
        f"  λ = {r.lam:.3g} ({r.lambda_method}), R∞ = {_fmt(r.R_inf_ohm, 'Ω')}, "
        f"C_s = {_fmt(r.C_series_F, 'F')}, L = {_fmt(r.L_H, 'H')}, "
        f"R_pol = {r.R_pol_ohm:.4g} Ω, rms residual {100 * r.rms_residual:.3g} %"
    )
    rows = []
    for k, p in enumerate(r.peaks, start=1):
        rows.append(
            (
                k,
                f"{p.tau_s:.4g}",
                f"{1.0 / (2.0 * math.pi * p.tau_s):.4g}",
                f"{p.R_ohm:.4g}",
                f"{p.C_F:.3g}",
                f"{100 * p.fraction:.3g}",
                f"{p.significance:.3g}",
                ("" if p.in_measured_range else "outside range ")
                + ("" if p.significant else "not significant"),
            )
        )
    if rows:
        header = ["peak", "τ (s)", "f (Hz)", "R (Ω)", "C (F)", "% R_pol", "ΔJ/σ²", "note"]
        print("  " + format_table(rows, header).replace("\n", "\n  "))
    else:
        print("  no peaks")
    joined = [a for a in r.arcs if len(a.peaks) > 1]
    if joined:
        rows = [
            (
                "+".join(str(k + 1) for k in a.peaks),
                f"{a.tau_s:.4g}",
                f"{1.0 / (2.0 * math.pi * a.tau_s):.4g}",
                f"{a.R_ohm:.4g}",
                f"{a.C_F:.3g}",
            )
            for a in joined
        ]
        print("  overlapping peaks form one arc (compare these with circuit arcs):")
        header = ["peaks", "τ_arc (s)", "f (Hz)", "R (Ω)", "C (F)"]
        print("  " + format_table(rows, header).replace("\n", "\n  "))
    for w in r.warnings:
        print(f"  warning: {w}")
    print()
