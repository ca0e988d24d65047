"""``iondyn peaks fit``: decompose peak spectra (XPS, Raman, EELS, …)."""

from __future__ import annotations

import argparse
from typing import Any

from iondyn.cli.common import emit_json, format_table, n_or_auto, positive_int, value_with_error

SHAPES = ("gaussian", "lorentzian", "pseudo-voigt", "voigt", "doniach-sunjic")
BACKGROUNDS = ("none", "constant", "linear", "shirley", "power-law", "als")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "peaks", help="peak spectra (XPS, Raman, EELS): SAEM decomposition"
    )
    sub = parser.add_subparsers(dest="peaks_command", metavar="PEAKS_COMMAND")
    sub.required = True
    fit = sub.add_parser(
        "fit",
        help="decompose spectra into peaks plus a background",
        description=(
            "Decompose two-column (x, y), matrix (x, y1, y2, …) or VAMAS (.vms) spectra into "
            "peaks with the SAEM engine: EM initialisation from many starts, no initial "
            "guesses, then refinement under the chosen likelihood with standard errors."
        ),
    )
    fit.add_argument("files", nargs="+", metavar="FILE", help="spectrum files")
    fit.add_argument("--shape", choices=SHAPES, default="gaussian", help="peak shape")
    fit.add_argument(
        "--n-peaks", type=n_or_auto, default="auto", help="number of peaks, or 'auto' (BIC)"
    )
    fit.add_argument(
        "--max-peaks", type=positive_int, default=6, help="largest K tried by --n-peaks auto"
    )
    fit.add_argument(
        "--background",
        choices=BACKGROUNDS,
        default="linear",
        help="power-law: A·E^-r (EELS edges); als: asymmetric least squares (Raman)",
    )
    fit.add_argument(
        "--likelihood",
        choices=("gaussian", "poisson"),
        default="gaussian",
        help="gaussian: weighted least squares (data may be negative); poisson: counts",
    )
    fit.add_argument(
        "--series",
        action="store_true",
        help="fit the spectra in order with warm starts and stable peak identity",
    )
    fit.add_argument("--xmin", type=float, default=None, help="lower end of the fitted region")
    fit.add_argument("--xmax", type=float, default=None, help="upper end of the fitted region")
    fit.add_argument(
        "--tail",
        choices=("auto", "low", "high"),
        default="auto",
        help="side of the Doniach–Šunjić tail (auto: the side of the higher background)",
    )
    fit.add_argument(
        "--block",
        action="append",
        metavar="NAME",
        help=(
            "VAMAS block to fit, by identifier or species + transition ('C 1s'); repeat for "
            "several, 'all' for every block (required when a VAMAS file has several blocks)"
        ),
    )
    fit.add_argument(
        "--energy-axis",
        choices=("binding", "stored"),
        default="binding",
        help="VAMAS: convert kinetic-energy XPS/UPS blocks to binding energy (hν − KE), "
        "or keep the axis as stored",
    )
    fit.add_argument("--seed", type=int, default=0, help="seed of the random EM restarts")
    fit.add_argument("--plot", metavar="OUT.png", help="write data, components and residual")
    fit.add_argument("--json", action="store_true", help="print one JSON document")
    fit.set_defaults(func=run_fit)


def _headers(fit: Any) -> list[str]:
    """Table headers with the units of the file: center and fwhm in x units, height in y
    units, area in y·x units (shown only when both are known)."""
    xu, yu = fit.x_unit, fit.y_unit
    area = f"{yu}·{xu}" if xu and yu else ""

    def head(name: str, unit: str) -> str:
        return f"{name} ({unit})" if unit else name

    return ["peak", head("center", xu), head("fwhm", xu), head("area", area), head("height", yu)]


def run_fit(args: argparse.Namespace) -> int:
    from iondyn.peaks import PeakFitter
    from iondyn.peaks.axes import axis_labels

    fitter = PeakFitter(
        shape=args.shape,
        n_peaks=args.n_peaks,
        max_peaks=args.max_peaks,
        background=args.background,
        likelihood=args.likelihood,
        series=args.series,
        xmin=args.xmin,
        xmax=args.xmax,
        tail=args.tail,
        random_state=args.seed,
        block=args.block,
        energy_axis=args.energy_axis,
    )
    result = fitter.fit_files(args.files)
    plots = []
    if args.plot:
        from iondyn.peaks.plot import save_peak_plots

        plots = [str(p) for p in save_peak_plots(result.fits, args.plot)]
    if args.json:
        doc = result.to_dict()
        doc["settings"] = result.settings
        if plots:
            doc["plots"] = plots
        emit_json(doc)
        return 0
    for fit in result.fits:
        head = f"{fit.source} [spectrum {fit.index}]"
        if fit.label:
            head += f" {fit.label}"
        print(head)
        print(
            f"  {fit.n_peaks} × {fit.shape} + {fit.background.get('kind')} background, "
            f"{fit.quality['likelihood']} likelihood"
        )
        if fit.x_name or fit.x_unit or fit.y_name or fit.y_unit:
            x_label, y_label = axis_labels(fit)
            print(f"  x: {x_label}, y: {y_label}")
        rows = []
        for p in fit.peak_table():
            rows.append(
                [
                    p["id"],
                    value_with_error(p["center"], p["center_err"], ratio=False),
                    value_with_error(p["fwhm"], p["fwhm_err"]),
                    value_with_error(p["area"], p["area_err"]),
                    value_with_error(p["height"], p["height_err"]),
                ]
            )
        table = format_table(rows, _headers(fit))
        print("  " + table.replace("\n", "\n  "))
        q = fit.quality
        print(
            f"  R² = {q['r2']:.5f}  χ²_red = {q['chi2_reduced']:.4g}  BIC = {q['bic']:.1f}  "
            f"converged = {q['converged']} ({q['iterations']} iterations)"
        )
        if fit.bic_table:
            cands = ", ".join(
                f"K={c['n_peaks']}: {c['bic']:.1f}" + ("" if c.get("eligible", True) else "*")
                for c in fit.bic_table
                if c["bic"] is not None
            )
            print(f"  BIC by K: {cands}  (* not a plausible decomposition)")
        for w in fit.warnings:
            print(f"  warning: {w}")
        print()
    for p in plots:
        print(f"plot written to {p}")
    return 0
