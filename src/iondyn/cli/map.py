"""``iondyn map``: spectrum images — fit every pixel, decompose, profile across interfaces."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from iondyn.cli.common import CommandError, emit_json, format_table, positive_int, value_with_error

SHAPES = ("gaussian", "lorentzian", "pseudo-voigt", "voigt", "doniach-sunjic")


def _axis_arg(text: str | None) -> Any:
    """``START,STEP`` or a ``.npy``/text file holding the axis."""
    if text is None:
        return None
    if Path(text).is_file():
        if text.endswith(".npy"):
            return np.load(text, allow_pickle=False)
        return np.loadtxt(text, ndmin=1)
    try:
        start, step = (float(v) for v in text.split(","))
    except ValueError:
        raise CommandError(f"--axis must be START,STEP or a file, not {text!r}") from None
    return (start, step)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "files",
        nargs=1,
        metavar="MAP",
        help="spectrum image (.npy, .npz, HDF5, .hspy, .emd, .dm3/.dm4, Raman map text)",
    )
    p.add_argument("--axis", help="spectral axis for files without one: START,STEP or a file")
    p.add_argument("--xmin", type=float, help="lower end of the analysed spectral window")
    p.add_argument("--xmax", type=float, help="upper end of the analysed spectral window")
    p.add_argument(
        "--out", metavar="DIR", help="folder for arrays and figures (default: ./<map name>_map)"
    )
    p.add_argument("--plot", action="store_true", help="write figures")
    p.add_argument("--format", choices=("png", "svg"), default="png", help="figure format")
    p.add_argument("--seed", type=int, default=0, help="seed of the random choices")
    p.add_argument("--json", action="store_true", help="print one JSON document (no arrays)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "map",
        help="spectrum images (EELS/EDS/Raman/XPS maps): "
        "fit every pixel, NMF decomposition, interface profiles",
    )
    sub = parser.add_subparsers(dest="map_command", metavar="MAP_COMMAND")
    sub.required = True
    fit = sub.add_parser("fit", help="fit every pixel with the same K peaks (K once per map)")
    _common(fit)
    fit.add_argument("--shape", choices=SHAPES, default="gaussian")
    fit.add_argument("--n-peaks", default="auto", help="K, or 'auto' (BIC, once per map)")
    fit.add_argument("--max-peaks", type=positive_int, default=6)
    fit.add_argument(
        "--background",
        default="linear",
        choices=(
            "none",
            "constant",
            "linear",
            "quadratic",
            "polynomial",
            "shirley",
            "power-law",
            "als",
        ),
    )
    fit.add_argument("--degree", type=positive_int, default=2, help="polynomial degree")
    fit.add_argument("--likelihood", choices=("gaussian", "poisson"), default="gaussian")
    fit.add_argument(
        "--clusters",
        type=positive_int,
        default=4,
        help="clusters by spectral shape (starts, K subsample, cluster map)",
    )
    fit.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    fit.add_argument("--block-pixels", type=positive_int, default=4096)
    fit.set_defaults(func=run_fit)
    dec = sub.add_parser("decompose", help="NMF with automatic relevance determination")
    _common(dec)
    dec.add_argument("--max-components", type=positive_int, default=8)
    dec.add_argument("--beta", type=float, default=1.0, help="β-divergence (1: Poisson/KL)")
    dec.add_argument("--prior", choices=("l1", "l2"), default="l1")
    dec.add_argument(
        "--orthogonality",
        type=float,
        default=0.0,
        help="soft spatial orthogonality of the abundance maps (e.g. 0.05)",
    )
    dec.add_argument("--pca-denoise", action="store_true", help="denoise by weighted PCA first")
    dec.add_argument(
        "--boundary",
        metavar="I,J",
        help="find the straight boundary between "
        "components I and J and profile their share across it",
    )
    dec.set_defaults(func=run_decompose)
    prof = sub.add_parser("profile", help="profile of a parameter map across an interface")
    prof.add_argument("files", nargs=1, metavar="RESULT.npz", help="a map fit's .npz")
    prof.add_argument(
        "--quantity",
        default="center",
        help="map name (center, fwhm, area, height, eta, ratio_2_1, …)",
    )
    prof.add_argument("--peak", type=positive_int, default=1)
    prof.add_argument("--line", help="x0,y0,x1,y1 in pixels (column, row)")
    prof.add_argument(
        "--boundary",
        metavar="DECOMPOSE.npz",
        help="use the boundary between two components of a decomposition",
    )
    prof.add_argument("--components", default="1,2", help="the two components (I,J)")
    prof.add_argument("--bin-width", type=float, default=1.0)
    prof.add_argument("--max-distance", type=float)
    prof.add_argument("--plot", metavar="OUT.png")
    prof.add_argument("--json", action="store_true")
    prof.set_defaults(func=run_profile)
    info = sub.add_parser("info", help="read a map and describe it")
    info.add_argument("files", nargs=1, metavar="MAP")
    info.add_argument("--axis")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=run_info)


def _read(args) -> Any:
    from iondyn.maps.readers import read_map

    return read_map(args.files[0], _axis_arg(getattr(args, "axis", None)))


def _outdir(args, m) -> Path:
    return Path(args.out) if args.out else Path.cwd() / f"{Path(m.source).stem}_map"


def run_info(args: argparse.Namespace) -> int:
    m = _read(args)
    doc = m.to_dict()
    if args.json:
        emit_json(doc)
        return 0
    ny, nx, n = m.shape
    print(
        f"{m.source}: {ny} × {nx} pixels × {n} channels, {doc['axis']['name']} "
        f"{m.axis[0]:.6g} … {m.axis[-1]:.6g} {m.axis_unit}".rstrip()
    )
    print(
        f"  read {'lazily (in chunks)' if m.lazy else 'whole'}; format {m.metadata.get('format')}"
    )
    return 0


def run_fit(args: argparse.Namespace) -> int:
    from iondyn.maps.fit import MapFitter

    n_peaks = args.n_peaks if args.n_peaks == "auto" else positive_int(args.n_peaks)
    fitter = MapFitter(
        args.shape,
        n_peaks,
        max_peaks=args.max_peaks,
        background=args.background,
        likelihood=args.likelihood,
        degree=args.degree,
        xmin=args.xmin,
        xmax=args.xmax,
        n_clusters=args.clusters,
        block_pixels=args.block_pixels,
        device=args.device,
        random_state=args.seed,
    )
    m = _read(args)
    result = fitter.fit(m)
    out = _outdir(args, m)
    files = result.save(out / "fit.npz")
    if args.plot:
        from iondyn.maps.plot import save_fit_figures

        files += save_fit_figures(result, out, args.format)
    if args.json:
        emit_json({"result": result.to_dict(), "files": files})
        return 0
    ny, nx = result.spatial_shape
    print(
        f"{result.source}: {ny} × {nx} pixels, {result.n_peaks} × {result.shape} + "
        f"{result.background} background, {result.likelihood} likelihood"
    )
    if result.bic_table:
        print("  K chosen once for the map (BIC summed over a subsample of pixels):")
        rows = [
            [
                t["n_peaks"],
                t["bic"],
                t.get("delta_bic"),
                t["eligible_fraction"],
                "*" if t.get("chosen") else "",
            ]
            for t in result.bic_table
        ]
        print(
            "  " + format_table(rows, ["K", "BIC", "ΔBIC", "plausible", ""]).replace("\n", "\n  ")
        )
    unit = f" ({result.axis_unit})" if result.axis_unit else ""
    rows = []
    for p in result.peak_summary():
        c, w, a = p["center"], p["fwhm"], p["area"]
        rows.append(
            [
                p["id"],
                value_with_error(c.get("median"), c.get("median_err")),
                f"{c.get('p5', float('nan')):.5g} … {c.get('p95', float('nan')):.5g}",
                value_with_error(w.get("median"), w.get("median_err")),
                value_with_error(a.get("median"), a.get("median_err")),
            ]
        )
    print("  medians over the pixels (± median error), centre 5–95 %:")
    print(
        "  "
        + format_table(
            rows, ["peak", f"center{unit}", "center range", f"fwhm{unit}", "area"]
        ).replace("\n", "\n  ")
    )
    qc = result.quality_counts()
    print(
        f"  quality: {qc['good']} good, {qc['structured']} structured, {qc['misfit']} misfit, "
        f"{qc['not fitted']} not fitted; audit {result.stats['audit']}"
    )
    print(f"  time: {result.stats['timings']['total_s']:.1f} s")
    for w in result.warnings:
        print(f"  warning: {w}")
    for f in files:
        print(f"wrote {f}")
    return 0


def _pair(text: str, k: int) -> tuple[int, int]:
    try:
        i, j = (int(v) for v in text.split(","))
    except ValueError:
        raise CommandError(f"components must be given as I,J, not {text!r}") from None
    if not (1 <= i <= k and 1 <= j <= k and i != j):
        raise CommandError(f"components {text} not among the {k} found")
    return i - 1, j - 1


def run_decompose(args: argparse.Namespace) -> int:
    from iondyn.maps.decompose import MapDecomposer

    dec = MapDecomposer(
        args.max_components,
        beta=args.beta,
        prior=args.prior,
        orthogonality=args.orthogonality,
        pca_denoise=args.pca_denoise,
        xmin=args.xmin,
        xmax=args.xmax,
        random_state=args.seed,
    )
    m = _read(args)
    out = _outdir(args, m)
    out.mkdir(parents=True, exist_ok=True)
    result = dec.fit(m, workdir=out)
    files = result.save(out / "decompose.npz")
    doc = result.to_dict()
    if args.boundary:
        from iondyn.maps.profile import find_boundary, profile_across

        i, j = _pair(args.boundary, result.n_components)
        fr = result.maps["fraction"]
        b = find_boundary(fr[..., i], fr[..., j])
        share = fr[..., i] / (fr[..., i] + fr[..., j])
        prof = profile_across(share, None, b.line, quantity=f"share of component {i + 1}")
        doc["boundary"] = b.to_dict() | {"profile": prof.to_dict()}
        if args.plot:
            from iondyn.maps.plot import save_profile_figure

            files.append(save_profile_figure(prof, out / f"boundary_profile.{args.format}"))
    if args.plot:
        from iondyn.maps.plot import save_decomposition_figures

        files += save_decomposition_figures(result, out, args.format)
    if args.json:
        emit_json({"result": doc, "files": files})
        return 0
    print(
        f"{result.source}: {result.n_components} component(s) found by ARD "
        f"(of {args.max_components}); relative error {doc['relative_error']:.3g}"
    )
    rows = [
        [c["id"], f"{c['peak_at']:.5g}", f"{c['mean_fraction']:.3f}", f"{c['phase_share']:.3f}"]
        for c in doc["components"]
    ]
    print(
        "  "
        + format_table(rows, ["component", "maximum at", "mean fraction", "phase share"]).replace(
            "\n", "\n  "
        )
    )
    if "boundary" in doc:
        bd = doc["boundary"]
        print(
            f"  boundary: line {np.round(bd['line'], 2).tolist()}, width "
            f"{bd['width']:.3g} ± {bd['width_err']:.2g} px"
        )
    for w in result.warnings:
        print(f"  warning: {w}")
    for f in files:
        print(f"wrote {f}")
    return 0


def run_profile(args: argparse.Namespace) -> int:
    from iondyn.errors import DataError
    from iondyn.maps.profile import find_boundary, profile_across

    if bool(args.line) == bool(args.boundary):
        raise CommandError("give either --line x0,y0,x1,y1 or --boundary DECOMPOSE.npz")
    path = args.files[0]
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"not a map result .npz ({exc})", path=path) from None
    with z:
        if args.quantity not in z.files:
            raise DataError(
                f"no map named {args.quantity!r} (the file holds "
                f"{', '.join(sorted(f for f in z.files if not f.endswith('_err')))})",
                path=path,
            )
        values = np.asarray(z[args.quantity], float)
        err = z[f"{args.quantity}_err"] if f"{args.quantity}_err" in z.files else None
        xs = z["x"] if "x" in z.files else None
    if values.ndim == 3:
        if args.peak > values.shape[2]:
            raise CommandError(f"--peak {args.peak}: the fit has {values.shape[2]} peaks")
        values = values[..., args.peak - 1]
        err = None if err is None else np.asarray(err, float)[..., args.peak - 1]
    if args.line:
        try:
            line = tuple(float(v) for v in args.line.split(","))
            assert len(line) == 4
        except (ValueError, AssertionError):
            raise CommandError(f"--line must be x0,y0,x1,y1, not {args.line!r}") from None
        boundary = None
    else:
        with np.load(args.boundary, allow_pickle=False) as d:
            fr = np.asarray(d["fraction"], float)
        i, j = _pair(args.components, fr.shape[2])
        b = find_boundary(fr[..., i], fr[..., j])
        line, boundary = b.line, b.to_dict()
    px = float(abs(xs[1] - xs[0])) if xs is not None and len(xs) > 1 else 1.0
    prof = profile_across(
        values,
        err,
        line,
        quantity=args.quantity,
        bin_width=args.bin_width,
        max_distance=args.max_distance,
        pixel_size=px,
    )
    doc = prof.to_dict() | {"boundary": boundary}
    doc["bins"] = [
        {"distance": float(d), "value": float(v), "error": float(e), "n": int(n)}
        for d, v, e, n in zip(prof.distance, prof.value, prof.error, prof.count)
    ]
    if args.plot:
        from iondyn.maps.plot import save_profile_figure

        doc["plot"] = save_profile_figure(prof, args.plot)
    if args.json:
        emit_json(doc)
        return 0
    rows = [
        [f"{b['distance']:.3g}", value_with_error(b["value"], b["error"]), b["n"]]
        for b in doc["bins"]
    ]
    print(format_table(rows, ["distance (px)", args.quantity, "pixels"]))
    if prof.fit:
        f = prof.fit
        print(
            f"sigmoid width w = {f['width']:.4g} ± {f['width_err']:.2g} px (10–90 %: "
            f"{f['width_10_90']:.4g} px), centre {f['center']:.4g} ± {f['center_err']:.2g} px, "
            f"χ²/dof {f['chi2_reduced']:.3g}"
        )
    for w in prof.warnings:
        print(f"warning: {w}")
    return 0
