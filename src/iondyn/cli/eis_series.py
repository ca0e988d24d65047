"""``iondyn eis series FILE...``: automatic fits of a temperature series and Arrhenius laws.

    iondyn eis series FILE [FILE ...] (--temperatures-K T1,T2,... | --manifest CSV)
        [--temperature-unit K|C] --thickness-cm L --area-cm2 A [--max-arcs N]
        [--electrode auto|none|cpe] [--weight ...] [--fmin HZ] [--fmax HZ] [--at-K T,...]
        [--format NAME] [--json] [--plot OUT.png]

Every spectrum is fitted without initial guesses (warm-started from its neighbour, see
:mod:`iondyn.series.temperature`), each process is followed across the temperatures and
σT = A exp(−Ea/k_BT) is fitted per process. ``--json`` prints
``{"processes": [...], "fits": [...], "warnings": [...], "errors": []}``.

Temperatures: ``--temperatures-K`` lists one value per file, in the order of the files; a
``--manifest`` CSV has the columns ``file`` and ``temperature`` (or ``temperature_K`` /
``temperature_C``), file paths relative to the manifest's folder. Values are in K unless
``--temperature-unit C`` (or a ``temperature_C`` column). Each file must hold one spectrum.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path
from typing import Any

from iondyn.cli.common import CommandError, emit_json, format_table, positive_float, positive_int

WEIGHT_CHOICES = ("unit", "modulus", "proportional")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "series",
        help="temperature series: automatic fits, process tracking, Arrhenius σT",
        description=(
            "Fit impedance spectra measured at several temperatures without initial guesses, "
            "follow each process (bulk, grain boundary, ...) across the temperatures and fit "
            "σT = A exp(−Ea/kT) per process, with standard errors."
        ),
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="impedance files (one each)")
    parser.add_argument(
        "--temperatures-K",
        dest="temperatures",
        metavar="T1,T2,...",
        help="one temperature per file, comma separated (unit: --temperature-unit, default K)",
    )
    parser.add_argument(
        "--manifest", metavar="CSV", help="CSV with columns file,temperature (instead of FILEs)"
    )
    parser.add_argument(
        "--temperature-unit",
        choices=("K", "C"),
        default=None,
        help="unit of the temperatures given (default K; a temperature_C column means C)",
    )
    parser.add_argument(
        "--thickness-cm", type=positive_float, required=True, metavar="L", help="thickness (cm)"
    )
    parser.add_argument(
        "--area-cm2", type=positive_float, required=True, metavar="A", help="electrode area (cm²)"
    )
    parser.add_argument(
        "--max-arcs", type=positive_int, default=3, metavar="N", help="most R||CPE arcs tried"
    )
    parser.add_argument(
        "--electrode",
        choices=("auto", "none", "cpe"),
        default="auto",
        help="blocking-electrode CPE: tried both ways (auto), never, always",
    )
    parser.add_argument("--weight", choices=WEIGHT_CHOICES, default="modulus", help="CNLS weight")
    parser.add_argument("--fmin", type=positive_float, metavar="HZ", help="lowest frequency used")
    parser.add_argument("--fmax", type=positive_float, metavar="HZ", help="highest frequency used")
    parser.add_argument(
        "--at-K",
        default="298.15",
        metavar="T,...",
        help="temperatures (K) at which σ is reported from the Arrhenius fits (default 298.15)",
    )
    parser.add_argument(
        "--model",
        choices=("series", "per-spectrum"),
        default="series",
        help="one circuit for the whole series, chosen by the summed BIC (default), or each "
        "spectrum's own",
    )
    parser.add_argument("--format", metavar="NAME", help="force a file reader (see eis read)")
    parser.add_argument("--plot", metavar="OUT.png", help="write the Arrhenius plot")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(func=run)


def _numbers(text: str, option: str) -> list[float]:
    out = []
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            raise CommandError(f"{option}: not a number: {item.strip()!r}") from None
        if not math.isfinite(value):
            raise CommandError(f"{option}: not a finite number: {item.strip()!r}")
        out.append(value)
    return out


def read_manifest(path: str | Path) -> tuple[list[str], list[float], str | None]:
    """(files resolved against the manifest's folder, temperatures, unit from the header or
    None) from a CSV with columns ``file`` and ``temperature``/``temperature_K``/
    ``temperature_C``."""
    from iondyn.errors import FileFormatError
    from iondyn.io.text import check_input_file

    path = Path(path)
    try:
        check_input_file(path, 16 << 20)  # a regular file (no FIFO, device)
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FileFormatError("the manifest is not UTF-8 text", path=path) from None
    except OSError as exc:
        msg = f"cannot read the manifest ({exc.strerror or exc})"
        raise FileFormatError(msg, path=path) from None
    rows = list(csv.reader(line for line in text.splitlines() if line.strip()))
    if not rows:
        raise FileFormatError("the manifest is empty", path=path)
    header = [h.strip().lower() for h in rows[0]]
    columns = {"temperature": None, "temperature_k": "K", "temperature_c": "C"}
    t_col = next((c for c in header if c in columns), None)
    if "file" not in header or t_col is None:
        raise FileFormatError(
            "the manifest needs the columns file and temperature (or temperature_K, "
            f"temperature_C), found {', '.join(header)}",
            path=path,
        )
    i_file, i_t = header.index("file"), header.index(t_col)
    files, temps = [], []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) <= max(i_file, i_t):
            raise FileFormatError("missing file or temperature", path=path, line=n)
        name, value = row[i_file].strip(), row[i_t].strip()
        try:
            t = float(value)
        except ValueError:
            raise FileFormatError(f"not a temperature: {value!r}", path=path, line=n) from None
        target = Path(name)
        files.append(str(target if target.is_absolute() else path.parent / target))
        temps.append(t)
    if not files:
        raise FileFormatError("the manifest lists no files", path=path)
    return files, temps, columns[t_col]


def run(args: argparse.Namespace) -> int:
    from iondyn.errors import DataError
    from iondyn.io.impedance import read_impedance
    from iondyn.series.temperature import check_temperatures, fit_temperature_series

    if (args.manifest is None) == (args.temperatures is None):
        raise CommandError("give the temperatures with --temperatures-K or --manifest (one)")
    if args.manifest is not None:
        if args.files:
            raise CommandError("give the files either on the command line or in the manifest")
        files, values, header_unit = read_manifest(args.manifest)
        if header_unit and args.temperature_unit and header_unit != args.temperature_unit:
            raise CommandError(
                f"--temperature-unit {args.temperature_unit} contradicts the manifest's "
                f"temperature_{header_unit} column"
            )
        unit = args.temperature_unit or header_unit or "K"
    else:
        files, values = list(args.files), _numbers(args.temperatures, "--temperatures-K")
        unit = args.temperature_unit or "K"
        if not files:
            raise CommandError("no impedance files given")
    if len(values) != len(files):
        raise CommandError(f"{len(values)} temperature(s) given for {len(files)} file(s)")
    temps = check_temperatures(values, unit)
    at_k = _numbers(args.at_K, "--at-K")
    spectra = []
    for path in files:
        found = read_impedance(path, format=args.format)
        if len(found) != 1:
            raise DataError(
                f"holds {len(found)} spectra; a temperature series needs one per file", path=path
            )
        spectra.append(found[0])
    result = fit_temperature_series(
        spectra,
        temps,
        args.thickness_cm,
        args.area_cm2,
        max_arcs=args.max_arcs,
        electrode=args.electrode,
        weight=args.weight,
        fmin=args.fmin,
        fmax=args.fmax,
        at_K=at_k,
        model=args.model,
    )
    plots: list[str] = []
    if args.plot:
        from iondyn.series.plots import save_arrhenius_plot

        plots = [str(save_arrhenius_plot(result, args.plot))]
    if args.json:
        doc: dict[str, Any] = result.to_dict()
        doc["errors"] = []
        if plots:
            doc["plots"] = plots
        emit_json(doc)
    else:
        _print(result)
        for p in plots:
            print(f"plot written to {p}")
    return 0


def _print(result: Any) -> None:
    from iondyn.cli.common import value_with_error

    rows = [
        [f"{f.T_K:.2f}", f.source, f.auto.circuit, f.start, f.auto.fit.chi2_reduced]
        for f in result.fits
    ]
    print(format_table(rows, ["T (K)", "file", "circuit", "start", "χ²_red"]))
    print()
    if result.circuit_table:
        rows = [
            [
                r["circuit"],
                r.get("n_temperatures", "-"),
                r.get("n_well_determined", "-"),
                f"{r['bic_sum']:.1f}",
                "yes" if r.get("eligible") else "no",
                "<-" if r.get("chosen") else "",
                r.get("note", ""),
            ]
            for r in result.circuit_table
        ]
        header = ["series circuit", "temperatures", "well determined", "Σ BIC", "eligible", ""]
        header.append("note")
        print(format_table(rows, header))
        print()
    rows = []
    for p in result.processes:
        a = p.arrhenius
        at = ", ".join(
            f"{t:g} K: {value_with_error(v, e)}" for t, (v, e) in sorted(p.sigma_at.items())
        )
        rows.append(
            [
                p.label,
                len({pt["T_K"] for pt in p.points}),
                "-" if a is None else value_with_error(a.Ea_eV, a.Ea_eV_err),
                "-" if a is None else value_with_error(a.prefactor, a.prefactor_err),
                at or "-",
            ]
        )
    header = ["process", "temperatures", "Ea (eV)", "A (S K/cm)", "σ (S/cm)"]
    print(format_table(rows, header))
    for w in result.warnings:
        print(f"warning: {w}")
