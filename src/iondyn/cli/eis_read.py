"""``iondyn eis read FILE [FILE...] [--format NAME] [--json]``: read impedance files.

Text mode prints one line per spectrum (source, index, format, points, frequency range, Z'
range) and the readers' warnings on stderr. ``--json`` prints one document
``{"spectra": [ImpedanceSpectrum.to_dict(), …], "errors": [...]}`` (and ``plots``).
``--plot OUT.png`` draws every spectrum read, Nyquist (equal axes, an inset on the arcs beside
an electrode spike) and Bode side by side (``OUT_1.png``, ``OUT_2.png``, … for several).
Every file is tried; an unreadable one is reported as one line
``iondyn: error: PATH[:LINE]: problem`` on stderr and makes the exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from iondyn.cli.common import emit_json, format_table, plot_paths, save_figure


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "read",
        help="read impedance files of any supported instrument",
        description=(
            "Read impedance spectra (Gamry .DTA, BioLogic .mpt/.mpr, ZView .z, Autolab, "
            "CH Instruments, Parstat, VersaStudio .par, PowerSuite, generic CSV/TXT). The "
            "format is detected from the content. Z'' is reported in the physics convention "
            "(negative for capacitive behaviour)."
        ),
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="impedance files")
    parser.add_argument(
        "--format",
        metavar="NAME",
        help="force a reader instead of detecting the format (see --list-formats)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--plot", metavar="OUT.png", help="write Nyquist and Bode plots of the raw data"
    )
    parser.add_argument(
        "--list-formats", action="store_true", help="list the supported formats and exit"
    )
    parser.add_argument(
        "--no-temperature-from-name",
        action="store_true",
        help="do not take the temperature from a '350C'-style token in the file name",
    )
    parser.set_defaults(func=run)


def _range(values: Any, fmt: str = "{:.4g}") -> str:
    return f"{fmt.format(min(values))} – {fmt.format(max(values))}"


def run(args: argparse.Namespace) -> int:
    from iondyn.cli.common import CommandError
    from iondyn.errors import IondynError
    from iondyn.io.impedance import list_impedance_formats, read_impedance

    if args.list_formats:
        formats = list_impedance_formats()
        if args.json:
            emit_json({"formats": [f.to_dict() for f in formats]})
        else:
            rows = [
                (f.name, " ".join(f.extensions), f.requires or "", f.description) for f in formats
            ]
            print(format_table(rows, ["format", "extensions", "needs", "description"]))
        return 0
    if not args.files:
        raise CommandError("eis read: give at least one FILE (or --list-formats)")
    spectra = []
    errors = []
    for path in args.files:
        try:
            spectra += read_impedance(
                path,
                format=args.format,
                temperature_from_name=not args.no_temperature_from_name,
            )
        except IondynError as exc:
            if args.format and "unknown impedance format" in str(exc):
                raise
            errors.append({"source": path, "type": type(exc).__name__, "message": str(exc)})
            print(f"iondyn: error: {exc}", file=sys.stderr)
    plots = _plots(spectra, args.plot) if args.plot and spectra else []
    if args.json:
        doc: dict[str, Any] = {"spectra": [s.to_dict() for s in spectra], "errors": errors}
        if plots:
            doc["plots"] = plots
        emit_json(doc)
    else:
        rows = []
        for s in spectra:
            rows.append(
                (
                    s.source,
                    s.index,
                    s.metadata.get("format", ""),
                    s.n_points,
                    _range(s.frequency) + " Hz",
                    _range(s.z.real) + " Ω",
                    "-" if s.temperature_K is None else f"{s.temperature_K:.2f}",
                )
            )
            for warning in s.metadata.get("warnings", []):
                print(f"iondyn: warning: {s.source}[{s.index}]: {warning}", file=sys.stderr)
        if rows:
            header = ["source", "index", "format", "points", "frequency", "Z'", "T (K)"]
            print(format_table(rows, header))
        for p in plots:
            print(f"plot written to {p}")
    return 2 if errors else 0


def _plots(spectra: list[Any], out: str) -> list[str]:
    """Nyquist and Bode of each spectrum, one PNG each."""
    from iondyn.display import plots

    written = []
    for s, path in zip(spectra, plot_paths(out, len(spectra))):

        def draw(axes, s=s):
            plots.nyquist(axes[0], s, label=s._summary().title)
            plots.bode(axes[1], s)

        written.append(str(save_figure(draw, path, panels=2)))
    return written
