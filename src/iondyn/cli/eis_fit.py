"""``iondyn eis fit FILE (--circuit STR | --auto)``: CNLS fit of an equivalent circuit.

    iondyn eis fit FILE [FILE ...] (--circuit STR [--initial NAME=VALUE ...] | --auto)
        [--max-arcs N] [--electrode auto|none|cpe] [--thickness-cm L --area-cm2 A]
        [--fixed NAME=VALUE ...] [--bound NAME=LO:HI ...] [--weight unit|modulus|proportional]
        [--fmin HZ] [--fmax HZ] [--starts N] [--format NAME] [--json] [--plot OUT.png]

One result per spectrum (a multi-spectrum file gives several). ``--json`` prints
``{"results": [CircuitFitResult.to_dict(), ...], "errors": [...]}``. Three modes:

* ``--auto``: :class:`iondyn.eis.autofit.AutoFitter` chooses the circuit (BIC over
  ``R0-p(R1,CPE1)-…[-CPE]`` with up to ``--max-arcs`` arcs) and its start values (SAEM
  decomposition of the loss spectrum); each result adds ``candidates``, ``decomposition`` and
  ``processes`` (solid-electrolyte interpretation; σ and ε_r only with ``--thickness-cm`` and
  ``--area-cm2``, null otherwise);
* ``--circuit STR`` without ``--initial``: start values from the decomposition
  (``AutoFitter.fit(spectrum, circuit=STR)``); ``--fixed``/``--bound``/``--starts`` are then
  applied in a refit from that optimum;
* ``--circuit STR --initial …``: the given start values, the others from
  :func:`iondyn.eis.guess.initial_guess`.

A file that cannot be read or a spectrum that cannot be fitted is reported on stderr (and in
``errors``), the others are still fitted, and the exit code is 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from iondyn.cli.common import CommandError, emit_json, format_table, positive_float, positive_int

WEIGHT_CHOICES = ("unit", "modulus", "proportional")
PROCESS_KEYS = ("label", "R_ohm", "C_F", "sigma_S_per_cm", "sigma_S_per_cm_err", "eps_r")


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
    parser.add_argument(
        "--circuit", metavar="STR", help="circuit string (or --auto to choose it automatically)"
    )
    parser.add_argument(
        "--auto",
        action="store_true",
        help="choose the circuit and its start values automatically (SAEM decomposition, BIC)",
    )
    parser.add_argument(
        "--max-arcs",
        type=positive_int,
        default=3,
        metavar="N",
        help="largest number of R||CPE arcs tried by --auto (default 3)",
    )
    parser.add_argument(
        "--electrode",
        choices=("auto", "none", "cpe"),
        default="auto",
        help="blocking-electrode CPE in --auto: tried both ways (auto), never, always",
    )
    parser.add_argument(
        "--thickness-cm", type=positive_float, metavar="L", help="sample thickness (cm)"
    )
    parser.add_argument("--area-cm2", type=positive_float, metavar="A", help="electrode area (cm²)")
    parser.add_argument(
        "--initial",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=VALUE",
        help="start values (others: a heuristic start read off the data); without --initial "
        "the start comes from the SAEM decomposition",
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

    if not args.auto and not args.circuit:
        raise CommandError("give --circuit STR or --auto (automatic circuit and start values)")
    if args.auto and args.initial:
        raise CommandError("--initial needs --circuit STR without --auto")
    if (args.thickness_cm is None) != (args.area_cm2 is None):
        raise CommandError("give both --thickness-cm and --area-cm2, or neither")
    circuit = Circuit(args.circuit) if args.circuit else None
    initial = _numbers(args.initial, "--initial")
    for name in initial:
        circuit.index(name)
    fitter = None
    if circuit is not None:  # built here so that bad options fail before any file is read
        fitter = CircuitFitter(
            circuit,
            weight=args.weight,
            bounds=_bounds(args.bound),
            fixed=_numbers(args.fixed, "--fixed"),
            fmin=args.fmin,
            fmax=args.fmax,
            n_starts=args.starts,
        )
    elif args.fixed or args.bound:
        raise CommandError("--fixed and --bound need --circuit STR")
    mode = "manual" if initial else ("seeded" if circuit is not None else "auto")
    results = []
    errors: list[dict[str, Any]] = []
    items = []  # (path, spectrum) of every readable file
    for path in args.files:
        try:
            spectra = read_impedance(path, format=args.format)
        except IondynError as exc:
            if args.format and "unknown impedance format" in str(exc):
                raise
            errors.append({"source": path, "type": type(exc).__name__, "message": str(exc)})
            print(f"iondyn: error: {exc}", file=sys.stderr)
            continue
        items += [(path, spectrum) for spectrum in spectra]
    if mode == "auto" and items:  # all spectra as one batch (shared NumPy calls)
        outcomes = _auto_fitter(args).fit_many([s for _, s in items])
        outcomes = [o if isinstance(o, IondynError) else _with_processes(o, args) for o in outcomes]
    else:
        outcomes = []
        for _, spectrum in items:
            try:
                outcomes.append(_fit_one(args, mode, fitter, spectrum, initial))
            except IondynError as exc:
                outcomes.append(exc)
    for (path, spectrum), result in zip(items, outcomes):
        if isinstance(result, IondynError):
            where = f"{path} [spectrum {spectrum.index}]"
            errors.append(
                {
                    "source": path,
                    "spectrum": spectrum.index,
                    "type": type(result).__name__,
                    "message": str(result),
                }
            )
            print(f"iondyn: error: {where}: {result}", file=sys.stderr)
            continue
        reader = [f"reader: {w}" for w in spectrum.metadata.get("warnings", []) or []]
        result.warnings[:0] = reader
        results.append(result)
    if mode == "auto":
        _flag_model_switches(results)
    plots: list[str] = []
    if args.plot and results:
        from iondyn.eis.plots import save_fit_plots

        fits = [getattr(r, "fit", r) for r in results]
        plots = [str(p) for p in save_fit_plots(fits, args.plot, components=mode != "manual")]
    if args.json:
        doc: dict[str, Any] = {"results": [_result_dict(r, args) for r in results]}
        doc["errors"] = errors
        if plots:
            doc["plots"] = plots
        emit_json(doc)
    else:
        for r in results:
            if hasattr(r, "fit"):
                _print_auto(r)
            else:
                _print_result(r)
        for p in plots:
            print(f"plot written to {p}")
    return 2 if errors else 0


def _fit_one(args: argparse.Namespace, mode: str, fitter, spectrum, initial) -> Any:
    """A CircuitFitResult (``manual``) or an AutoFitResult (``auto``, ``seeded``)."""

    from iondyn.eis.autofit import AutoFitResult

    if mode == "manual":
        return fitter.fit(spectrum, initial)
    auto = _auto_fitter(args)
    if mode == "auto":
        return _with_processes(auto.fit(spectrum), args)
    res = auto.fit(spectrum, circuit=args.circuit)
    if args.fixed or args.bound or args.starts > 1:  # constraints: refit from the optimum
        refit = fitter.fit(spectrum, res.fit.parameters)
        res = AutoFitResult(refit, [], res.decomposition, None, res.warnings)
    return _with_processes(res, args)


def _flag_model_switches(results: list[Any]) -> None:
    """Along the spectra of one file (cycles), a parameter that collapses or jumps where the
    chosen circuit switches is a warning on that spectrum (:func:`iondyn.misfit.model_switches`)."""
    from iondyn.misfit import model_switches

    by_source: dict[Any, list[Any]] = {}
    for r in results:
        by_source.setdefault(r.fit.source, []).append(r)
    for group in by_source.values():
        fits = [(r.fit.circuit.string, dict(r.fit.parameters)) for r in group]
        for k, message in model_switches(fits):
            group[k].warnings.append(message)


def _auto_fitter(args: argparse.Namespace) -> Any:
    from iondyn.eis.autofit import AutoFitter

    return AutoFitter(
        max_arcs=args.max_arcs,
        electrode=args.electrode,
        weight=args.weight,
        thickness_cm=args.thickness_cm,
        area_cm2=args.area_cm2,
        fmin=args.fmin,
        fmax=args.fmax,
    )


def _with_processes(res: Any, args: argparse.Namespace) -> Any:
    """Make sure ``processes`` is there (None geometry: σ and ε_r null)."""
    from iondyn.eis.solid import interpret

    if res.processes is None:
        res.processes = interpret(res.fit, args.thickness_cm, args.area_cm2)
    for p in res.processes:  # every entry carries the keys of the JSON contract
        for key in PROCESS_KEYS:
            p.setdefault(key, None)
    return res


def _result_dict(r: Any, args: argparse.Namespace) -> dict[str, Any]:
    if hasattr(r, "fit"):
        return r.to_dict()
    d = r.to_dict()
    if args.thickness_cm is not None:
        from iondyn.eis.solid import interpret

        d["processes"] = interpret(r, args.thickness_cm, args.area_cm2)
    return d


def _print_auto(r: Any) -> None:
    """Text summary of an automatic (or decomposition-seeded) fit."""
    from iondyn.cli.common import value_with_error

    fit = r.fit
    fit_warnings = list(fit.warnings)
    fit.warnings = []
    _print_result(fit)
    fit.warnings = fit_warnings
    if r.candidates:
        rows = [
            [
                c["circuit"],
                c.get("n_free"),
                c.get("chi2"),
                c.get("bic"),
                "yes" if c.get("well_determined") else "no",
                "<-" if c.get("chosen") else "",
            ]
            for c in r.candidates
        ]
        header = ["candidate circuit", "k", "χ²", "BIC", "well determined", "chosen"]
        print("  " + format_table(rows, header).replace("\n", "\n  "))
        print()
    if r.processes:
        rows = []
        for p in r.processes:
            sigma = p.get("sigma_S_per_cm")
            rows.append(
                [
                    p.get("label"),
                    p.get("element"),
                    value_with_error(p.get("R_ohm"), p.get("R_ohm_err")),
                    value_with_error(p.get("C_F"), p.get("C_F_err")),
                    p.get("f_peak_Hz"),
                    value_with_error(sigma, p.get("sigma_S_per_cm_err")),
                    p.get("eps_r"),
                ]
            )
        header = ["process", "element", "R (Ω)", "C (F)", "f_peak (Hz)", "σ (S/cm)", "ε_r"]
        print("  " + format_table(rows, header).replace("\n", "\n  "))
        if any("note" in p for p in r.processes):
            print(f"  note: {r.processes[0]['note']}")
        print()
    for w in dict.fromkeys(fit_warnings + list(r.warnings)):
        print(f"  warning: {w}")
    if fit_warnings or r.warnings:
        print()


def _print_result(r: Any) -> None:
    from iondyn.cli.common import relative_error, value_with_error

    print(f"{r.source} [spectrum {r.index}]: {r.circuit}, {r.n_points} points, {r.weight} weight")
    rows = []
    for name in r.circuit.param_names:
        err = None if r.fixed[name] else r.errors[name]
        rel = "fixed" if r.fixed[name] else relative_error(r.parameters[name], err)
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
