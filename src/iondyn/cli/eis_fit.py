"""``iondyn eis fit FILE --circuit STR``: CNLS fit of an equivalent circuit.

    iondyn eis fit FILE [FILE ...] --circuit STR [--initial NAME=VALUE ...]
        [--fixed NAME=VALUE ...] [--bound NAME=LO:HI ...] [--weight unit|modulus|proportional]
        [--fmin HZ] [--fmax HZ] [--starts N] [--format NAME] [--json] [--plot OUT.png]

One result per spectrum (a multi-spectrum file gives several). ``--json`` prints
``{"results": [CircuitFitResult.to_dict(), ...], "errors": [...]}``. Without ``--initial`` the
start comes from :func:`iondyn.eis.guess.initial_guess`. A file that cannot be read or a
spectrum that cannot be fitted is reported on stderr (and in ``errors``), the others are still
fitted, and the exit code is 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from iondyn.cli.common import CommandError, emit_json, format_table, positive_float, positive_int

WEIGHT_CHOICES = ("unit", "modulus", "proportional")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit",
        help="fit an equivalent circuit (CNLS) to impedance spectra",
        description=(
            "Complex non-linear least-squares fit of an equivalent circuit such as "
            "'R0-p(R1,CPE1)-p(R2,CPE2)-CPE3' ('-' series, p(a,b,...) parallel; elements R, C, L, "
            "CPE, W, Wo, Ws, G, HN, ZARC, TLM). Parameters are named like R0, CPE1_Q, CPE1_n, "
            "ZARC1_tau. Reports values with standard errors, correlations, χ² and warnings "
            "about parameters the data do not determine."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="impedance files")
    parser.add_argument("--circuit", required=True, metavar="STR", help="circuit string")
    parser.add_argument(
        "--initial",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=VALUE",
        help="start values (others: a heuristic start read off the data)",
    )
    parser.add_argument(
        "--fixed",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=VALUE",
        help="hold parameters at these values",
    )
    parser.add_argument(
        "--bound",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=LO:HI",
        help="bounds in linear units; leave a side empty for none (e.g. CPE1_n=0.5:1)",
    )
    parser.add_argument(
        "--weight",
        choices=WEIGHT_CHOICES,
        default="modulus",
        help="unit: 1; modulus: 1/|Z| (default); proportional: 1/|Z'| and 1/|Z''|",
    )
    parser.add_argument("--fmin", type=positive_float, metavar="HZ", help="lowest frequency used")
    parser.add_argument("--fmax", type=positive_float, metavar="HZ", help="highest frequency used")
    parser.add_argument(
        "--starts",
        type=positive_int,
        default=1,
        metavar="N",
        help="number of starts (extra ones perturbed in log space; best χ² kept)",
    )
    parser.add_argument("--format", metavar="NAME", help="force a file reader (see eis read)")
    parser.add_argument("--plot", metavar="OUT.png", help="write Nyquist, Bode and residuals")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(func=run)


def _pairs(items: list[str], option: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise CommandError(f"{option}: expected NAME=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def _numbers(items: list[str], option: str) -> dict[str, float]:
    out = {}
    for name, text in _pairs(items, option).items():
        try:
            value = float(text)
        except ValueError:
            raise CommandError(f"{option} {name}: not a number: {text!r}") from None
        if not math.isfinite(value):
            raise CommandError(f"{option} {name}: not a finite number: {text!r}")
        out[name] = value
    return out


def _bounds(items: list[str]) -> dict[str, tuple[float | None, float | None]]:
    out: dict[str, tuple[float | None, float | None]] = {}
    for name, text in _pairs(items, "--bound").items():
        lo_text, sep, hi_text = text.partition(":")
        if not sep:
            raise CommandError(f"--bound {name}: expected LO:HI, got {text!r}")
        try:
            lo = float(lo_text) if lo_text.strip() else None
            hi = float(hi_text) if hi_text.strip() else None
        except ValueError:
            raise CommandError(f"--bound {name}: not numbers: {text!r}") from None
        out[name] = (lo, hi)
    return out


def run(args: argparse.Namespace) -> int:
    from iondyn.eis.circuit import Circuit
    from iondyn.eis.fit import CircuitFitter
    from iondyn.errors import IondynError
    from iondyn.io.impedance import read_impedance

    circuit = Circuit(args.circuit)
    initial = _numbers(args.initial, "--initial")
    for name in initial:
        circuit.index(name)
    fitter = CircuitFitter(
        circuit,
        weight=args.weight,
        bounds=_bounds(args.bound),
        fixed=_numbers(args.fixed, "--fixed"),
        fmin=args.fmin,
        fmax=args.fmax,
        n_starts=args.starts,
    )
    results = []
    errors: list[dict[str, Any]] = []
    for path in args.files:
        try:
            spectra = read_impedance(path, format=args.format)
        except IondynError as exc:
            if args.format and "unknown impedance format" in str(exc):
                raise
            errors.append({"source": path, "type": type(exc).__name__, "message": str(exc)})
            print(f"iondyn: error: {exc}", file=sys.stderr)
            continue
        for spectrum in spectra:
            try:
                result = fitter.fit(spectrum, initial)
            except IondynError as exc:
                where = f"{path} [spectrum {spectrum.index}]"
                errors.append(
                    {
                        "source": path,
                        "spectrum": spectrum.index,
                        "type": type(exc).__name__,
                        "message": str(exc),
                    }
                )
                print(f"iondyn: error: {where}: {exc}", file=sys.stderr)
                continue
            result.warnings[:0] = [
                f"reader: {w}" for w in spectrum.metadata.get("warnings", []) or []
            ]
            results.append(result)
    plots: list[str] = []
    if args.plot and results:
        from iondyn.eis.plots import save_fit_plots

        plots = [str(p) for p in save_fit_plots(results, args.plot)]
    if args.json:
        doc: dict[str, Any] = {"results": [r.to_dict() for r in results], "errors": errors}
        if plots:
            doc["plots"] = plots
        emit_json(doc)
    else:
        for r in results:
            _print_result(r)
        for p in plots:
            print(f"plot written to {p}")
    return 2 if errors else 0


def _print_result(r: Any) -> None:
    from iondyn.cli.common import value_with_error

    print(f"{r.source} [spectrum {r.index}]: {r.circuit}, {r.n_points} points, {r.weight} weight")
    rows = []
    for name in r.circuit.param_names:
        err = None if r.fixed[name] else r.errors[name]
        rel = "fixed" if r.fixed[name] else _rel(r.relative_error(name))
        rows.append([name, value_with_error(r.parameters[name], err), r.units[name], rel])
    table = format_table(rows, ["parameter", "value", "unit", "rel. error"])
    print("  " + table.replace("\n", "\n  "))
    print(
        f"  χ² = {r.chi2:.5g}  χ²_red = {r.chi2_reduced:.4g}  dof = {r.dof}  "
        f"converged = {r.converged} ({r.nfev} evaluations)"
    )
    for a, b, c in r.strong_correlations[:5]:
        print(f"  correlation {a} / {b}: {c:+.4f}")
    for w in r.warnings:
        print(f"  warning: {w}")
    print()


def _rel(x: float) -> str:
    return "inf" if not math.isfinite(x) else f"{100 * x:.3g} %"
