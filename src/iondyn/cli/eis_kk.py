"""``iondyn eis kk FILE [FILE...] [--json] [--plot OUT.png]``: Lin-KK validity test.

One result per spectrum in each file (multi-spectrum files give several). ``--json`` prints
``{"results": [KKResult.to_dict(), …], "errors": [...]}``. A file or spectrum that cannot be
analysed is reported on stderr (and in ``errors``) and the others go on; the exit code is then
2. ``--fail-invalid`` makes the exit code 1 when a spectrum fails the test.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from iondyn.cli.common import emit_json, format_table, positive_float, positive_int


def read_spectra(paths: list[str], errors: list[dict[str, Any]]) -> list[Any]:
    """Every spectrum of every file; unreadable files go to ``errors`` (and stderr)."""
    from iondyn.errors import IondynError
    from iondyn.io.impedance import read_impedance

    spectra = []
    for path in paths:
        try:
            spectra += read_impedance(path)
        except IondynError as exc:
            errors.append({"source": path, "type": type(exc).__name__, "message": str(exc)})
            print(f"iondyn: error: {exc}", file=sys.stderr)
    return spectra


def analyse_each(
    spectra: list[Any], analyse: Callable[[Any], Any], errors: list[dict[str, Any]]
) -> list[Any]:
    """``analyse(spectrum)`` for each spectrum; analysis errors go to ``errors`` (and stderr)."""
    from iondyn.errors import IondynError

    results = []
    for spec in spectra:
        try:
            results.append(analyse(spec))
        except IondynError as exc:
            where = f"{spec.source}[{spec.index}]"
            message = str(exc) if str(exc).startswith(str(spec.source)) else f"{where}: {exc}"
            errors.append(
                {
                    "source": spec.source,
                    "spectrum": spec.index,
                    "type": type(exc).__name__,
                    "message": message,
                }
            )
            print(f"iondyn: error: {message}", file=sys.stderr)
    return results


def extension(text: str) -> float | str:
    """``auto`` or a number of decades ≥ 0."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or 'auto': {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0: {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "kk",
        help="Kramers–Kronig (Lin-KK) validity test of impedance spectra",
        description=(
            "Lin-KK test (Schönleber et al. 2014): fit a chain of RC elements with log-spaced "
            "time constants, choose their number M by the μ criterion, and judge the residuals "
            "(relative to |Z|) against the noise: valid when they look like white noise (not "
            "many values beyond 3σ, no excess at the low-frequency end, no clustered signs); "
            "points beyond the Bonferroni bound are reported as outliers, and a few isolated "
            "ones do not invalidate a spectrum. Use --series-capacitance for blocking "
            "electrodes."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="impedance files")
    parser.add_argument(
        "--series-capacitance",
        action="store_true",
        help="add a series capacitance (blocking electrodes: capacitive low-frequency tail)",
    )
    parser.add_argument(
        "--no-inductance", action="store_true", help="leave out the series inductance"
    )
    parser.add_argument(
        "--c", type=positive_float, default=0.85, help="μ threshold that fixes M (default 0.85)"
    )
    parser.add_argument("--n-rc", type=positive_int, help="fixed number of RC elements M")
    parser.add_argument("--max-rc", type=positive_int, help="largest M tried")
    parser.add_argument(
        "--extend",
        type=extension,
        default="auto",
        metavar="DECADES",
        help="widen the τ range by this many decades each side, or 'auto' (0 or 0.25)",
    )
    parser.add_argument(
        "--noise",
        type=positive_float,
        help="known noise σ as a fraction of |Z| (default: estimated from the residuals)",
    )
    parser.add_argument(
        "--alpha",
        type=positive_float,
        default=1e-3,
        help="false-alarm probability of each validity check (default 1e-3)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=5e-3,
        help="residuals below this fraction of |Z| never invalidate (default 0.005)",
    )
    parser.add_argument("--plot", metavar="OUT.png", help="write the residual plot(s)")
    parser.add_argument(
        "--fail-invalid", action="store_true", help="exit with code 1 if a spectrum fails"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from iondyn.eis.kk import LinKK

    tester = LinKK(
        c=args.c,
        n_rc=args.n_rc,
        max_rc=args.max_rc,
        series_capacitance=args.series_capacitance,
        inductance=not args.no_inductance,
        extend_decades=args.extend,
        noise=args.noise,
        alpha=args.alpha,
        tolerance=args.tolerance,
    )
    errors: list[dict[str, Any]] = []
    spectra = read_spectra(args.files, errors)
    results = analyse_each(spectra, tester.fit, errors)
    plots = []
    if args.plot and results:
        from iondyn.eis.drt_plots import save_kk_plots

        plots = [str(p) for p in save_kk_plots(results, args.plot)]
    if args.json:
        doc: dict[str, Any] = {"results": [r.to_dict() for r in results], "errors": errors}
        if plots:
            doc["plots"] = plots
        emit_json(doc)
    else:
        rows = []
        for r in results:
            failed = [c.name for c in r.checks if not c.passed]
            rows.append(
                (
                    r.source,
                    r.index,
                    r.frequency_Hz.size,
                    r.n_rc,
                    f"{r.mu:.3f}",
                    f"{100 * r.residual_real_max:.3g}",
                    f"{100 * r.residual_imag_max:.3g}",
                    f"{100 * r.noise_estimate:.3g}",
                    "valid" if r.valid else "INVALID (" + ", ".join(failed) + ")",
                )
            )
        if rows:
            header = ["source", "spectrum", "points", "M", "μ", "max|Δre| %"]
            header += ["max|Δim| %", "σ %", "verdict"]
            print(format_table(rows, header))
        for r in results:
            for w in r.warnings:
                print(f"warning: {r.source}[{r.index}]: {w}")
        for p in plots:
            print(f"plot written to {p}")
    if errors:
        return 2
    if args.fail_invalid and any(not r.valid for r in results):
        return 1
    return 0
