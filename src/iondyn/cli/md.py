"""``iondyn md``: ion dynamics from molecular-dynamics trajectories.

    iondyn md diffusion FILE... --species LI [--temperatures-K T1,...] [--frame-interval-fs F]
        [--timestep-fs DT] [--dims xyz] [--fit-start-ps T] [--fit-end-ps T] [--method gls|ols]
        [--charge Z] [--format F] [--backend auto|native|ase] [--coordinates auto|...]
        [--no-drift-correction] [--msd-out CSV] [--plot OUT.png] [--json]
    iondyn md regional FILE --species LI --axis z [--slabs N] [--temperature-K T] [...]
        [--out CSV] [--seed-out DEVICE.toml --regions NAME:LO:HI,... --eps-r E] [--json]
    iondyn md jumps FILE --species LI --sites SITES.csv [--r-cut-A R] [...] [--json]
    iondyn md arrhenius TABLE.csv [--convention D|sigma_T|sigma] [--json]

``diffusion`` gives D*, D_σ, the Haven ratio and σ (Nernst–Einstein and collective) per file
with GLS errors and, with three or more temperatures, the Arrhenius fits of D and σT;
``regional`` D_∥ and the occupancy in slabs, and a device file for ``iondyn simulate`` seeded
from them; ``jumps`` site statistics; ``arrhenius`` fits a table of T, value[, error].
Library: :mod:`iondyn.md`.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path
from typing import Any

from iondyn.cli.common import (
    CommandError,
    emit_json,
    format_table,
    positive_float,
    positive_int,
    value_with_error,
)


def _common(p: argparse.ArgumentParser, many: bool = False) -> None:
    p.add_argument("files", nargs="+" if many else 1, metavar="FILE", help="trajectory file(s)")
    p.add_argument("--species", required=True, help="species analysed (element, or LAMMPS type)")
    p.add_argument(
        "--frame-interval-fs", type=positive_float, metavar="F", help="time between frames"
    )
    p.add_argument(
        "--timestep-fs",
        type=positive_float,
        metavar="DT",
        help="MD time step (files with step numbers)",
    )
    p.add_argument(
        "--format", default="auto", choices=("auto", "xdatcar", "vasprun", "lammps-dump", "extxyz")
    )
    p.add_argument("--backend", default="auto", choices=("auto", "native", "ase"))
    p.add_argument("--coordinates", default="auto", choices=("auto", "wrapped", "unwrapped"))
    p.add_argument("--no-drift-correction", action="store_true", help="keep the framework drift")
    p.add_argument("--memory-limit-mb", type=positive_float, default=1024.0, metavar="MB")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "md", help="ion dynamics from MD trajectories: D, Haven ratio, σ, D(z), jumps",
        description="Diffusion, conductivity and activation energies from molecular dynamics, "
        "with errors from the correlation of the MSD points (GLS).",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="md_command", metavar="MD_COMMAND")
    sub.required = True

    d = sub.add_parser("diffusion", help="D*, D_σ, Haven ratio, σ; Arrhenius over files")
    _common(d, many=True)
    d.add_argument("--temperatures-K", metavar="T1,...", help="one temperature per file (K)")
    d.add_argument("--dims", default="xyz", help="components analysed (xyz, xy, z, …)")
    d.add_argument("--fit-start-ps", type=float, metavar="T", help="start of the fitted window")
    d.add_argument("--fit-end-ps", type=positive_float, metavar="T", help="end of the window")
    d.add_argument("--end-fraction", type=positive_float, default=0.5, metavar="X",
                   help="default end of the window as a fraction of the run (0.5)")  # fmt: skip
    d.add_argument("--method", choices=("gls", "ols"), default="gls")
    d.add_argument("--charge", type=float, metavar="Z", help="charge number (default by element)")
    d.add_argument("--msd-out", metavar="CSV", help="write the MSD table (one file only)")
    d.add_argument("--plot", metavar="OUT.png", help="plot the MSDs and the fit")
    d.set_defaults(func=run_diffusion)

    r = sub.add_parser("regional", help="D_∥ and occupancy in slabs; a device seed for simulate")
    _common(r)
    r.add_argument("--temperature-K", type=positive_float, metavar="T")
    r.add_argument("--axis", choices=("x", "y", "z"), default="z")
    r.add_argument("--slabs", type=positive_int, default=10, metavar="N")
    r.add_argument("--max-lag-ps", type=positive_float, metavar="T")
    r.add_argument("--out", metavar="CSV", help="write the slab table")
    r.add_argument("--seed-out", metavar="DEVICE.toml", help="write a device file seeded from MD")
    r.add_argument("--regions", metavar="NAME:LO:HI,...", help="regions along the axis (Å)")
    r.add_argument("--eps-r", type=positive_float, default=10.0, help="permittivity of the seed")
    r.add_argument("--charge", type=float, default=None, metavar="Z")
    r.set_defaults(func=run_regional)

    j = sub.add_parser("jumps", help="site-to-site jump statistics")
    _common(j)
    j.add_argument("--sites", required=True, metavar="CSV", help="fractional x,y,z per line")
    j.add_argument("--r-cut-A", type=positive_float, metavar="R")
    j.set_defaults(func=run_jumps)

    a = sub.add_parser("arrhenius", help="Arrhenius fit of a T, value[, error] table")
    a.add_argument("files", nargs=1, metavar="TABLE", help="CSV with columns T, value[, error]")
    a.add_argument("--convention", choices=("D", "sigma_T", "sigma", "tau"), default="D")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=run_arrhenius)


def _trajectory(args: argparse.Namespace, path: str, temperature: float | None):
    from iondyn.md.readers import open_trajectory
    from iondyn.md.trajectory import build_trajectory

    return build_trajectory(
        open_trajectory(path, args.format, args.backend),
        args.species,
        frame_interval_fs=args.frame_interval_fs,
        timestep_fs=args.timestep_fs,
        coordinates=args.coordinates,
        drift_correction=not args.no_drift_correction,
        temperature_K=temperature,
        memory_limit_mb=args.memory_limit_mb,
    )


def _temperatures(text: str | None, n: int) -> list[float | None]:
    if text is None:
        return [None] * n
    values = []
    for item in text.split(","):
        try:
            v = float(item)
        except ValueError:
            raise CommandError(f"--temperatures-K: not a number: {item.strip()!r}") from None
        if not (math.isfinite(v) and v > 0):
            raise CommandError(f"--temperatures-K: not a temperature: {item.strip()!r}")
        values.append(v)
    if len(values) != n:
        raise CommandError(f"--temperatures-K gives {len(values)} values for {n} files")
    return values


def run_diffusion(args: argparse.Namespace) -> int:
    from iondyn.md.diffusion import DiffusionFitter

    if args.msd_out and len(args.files) > 1:
        raise CommandError("--msd-out needs exactly one FILE")
    temps = _temperatures(args.temperatures_K, len(args.files))
    fitter = DiffusionFitter(
        dims=args.dims, fit_start_ps=args.fit_start_ps, fit_end_ps=args.fit_end_ps,
        end_fraction=min(args.end_fraction, 1.0), method=args.method, charge=args.charge,
    )  # fmt: skip
    results = [fitter.fit(_trajectory(args, f, t)) for f, t in zip(args.files, temps)]
    fits = _arrhenius(results, args.files)
    if args.msd_out:
        results[0].to_dataframe().to_csv(args.msd_out, index=False)
    if args.plot:
        _plot(results, args.files, args.plot)
    if args.json:
        emit_json({"results": [r.to_dict() for r in results], "arrhenius": fits})
        return 0
    rows = []
    for f, r in zip(args.files, results):
        s, s_err = r.sigma("tracer")
        h, h_err = r.haven_ratio
        d_sigma_err = None if r.collective is None else r.collective.D_cm2_per_s_err
        rows.append(
            [
                Path(f).name,
                "-" if r.temperature_K is None else f"{r.temperature_K:g}",
                value_with_error(r.D_cm2_per_s, r.D_cm2_per_s_err),
                value_with_error(r.D_sigma_cm2_per_s, d_sigma_err),
                value_with_error(h, h_err),
                value_with_error(s, s_err),
            ]
        )
    header = ["file", "T (K)", "D* (cm²/s)", "D_σ (cm²/s)", "H_R", "σ_NE (S/cm)"]
    print(format_table(rows, header))
    for r in results:
        for w in r.warnings:
            print(f"  warning: {w}")
    for fit in fits:
        print(f"Arrhenius {fit['item']} {fit['quantity']}: Ea = {fit['Ea_eV']:.4f} ± "
              f"{fit['Ea_eV_err']:.4f} eV ({fit['n_points']} temperatures)")  # fmt: skip
    return 0


def _arrhenius(results: list[Any], files: list[str]) -> list[dict[str, Any]]:
    import numpy as np

    from iondyn.series import fit_arrhenius

    temps = [r.temperature_K for r in results]
    if any(t is None for t in temps) or len(set(temps)) < 3:
        return []
    out = []
    for item, quantity, convention, get in (
        ("tracer", "D_cm2_per_s", "D", lambda r: (r.D_cm2_per_s, r.D_cm2_per_s_err)),
        ("tracer", "sigma_S_per_cm", "sigma_T", lambda r: r.sigma("tracer")),
        ("collective", "sigma_S_per_cm", "sigma_T", lambda r: r.sigma("collective")),
    ):
        values = [get(r) for r in results]
        if any(v is None or v[0] is None or not v[0] > 0 for v in values):
            continue
        fit = fit_arrhenius(
            np.array(temps), np.array([v[0] for v in values]),
            np.array([v[1] for v in values]), convention=convention,
        )  # fmt: skip
        out.append({"item": item, "quantity": quantity, **fit.to_dict()})
    return out


def _plot(results: list[Any], files: list[str], out: str) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for f, r in zip(files, results):
        line = ax.plot(r.times_ps, r.msd, label=f"{Path(f).name} tracer")[0]
        ax.plot(r.times_ps, r.msd_collective, ls=":", color=line.get_color())
        t = r.tracer.times_ps
        ax.plot(t, r.tracer.intercept + r.tracer.slope * t, ls="--", color="k", lw=0.8)
    ax.set_xlabel("time lag (ps)")
    ax.set_ylabel("MSD (Å²)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def _regions(text: str | None) -> list[tuple[str, float, float]]:
    if not text:
        raise CommandError("--seed-out needs --regions NAME:LO:HI,...")
    out = []
    for part in text.split(","):
        bits = part.split(":")
        try:
            out.append((bits[0].strip(), float(bits[1]), float(bits[2])))
        except (IndexError, ValueError):
            raise CommandError(f"--regions: expected NAME:LO:HI, got {part!r}") from None
    return out


def run_regional(args: argparse.Namespace) -> int:
    from iondyn.md.bridge import physics_seed
    from iondyn.md.diffusion import ION_CHARGES
    from iondyn.md.regional import RegionalFitter

    regions = _regions(args.regions) if args.seed_out else None
    traj = _trajectory(args, args.files[0], args.temperature_K)
    result = RegionalFitter(args.axis, args.slabs, max_lag_ps=args.max_lag_ps).fit(traj)
    doc = result.to_dict()
    if args.out:
        result.to_dataframe().to_csv(args.out, index=False)
    if args.seed_out:
        charge = args.charge if args.charge is not None else ION_CHARGES.get(args.species)
        if charge is None:
            raise CommandError("--seed-out needs --charge for this species")
        seed = physics_seed(result, regions, charge=charge, eps_r=args.eps_r)
        Path(args.seed_out).write_text(to_toml(seed), encoding="utf-8")
        doc["seed"] = seed
    if args.json:
        emit_json(doc)
        return 0
    df = result.to_dataframe()
    rows = [
        [
            f"{r.center_A:.4g}",
            value_with_error(r.D_parallel_cm2_per_s, r.D_parallel_cm2_per_s_err),
            f"{r.occupancy:.4g}",
            f"{r.free_energy_eV:.4g}",
            f"{r.survival:.3g}",
        ]
        for r in df.itertuples()
    ]
    print(format_table(rows, ["z (Å)", "D_∥ (cm²/s)", "ions", "F (eV)", "stay"]))
    for w in result.warnings:
        print(f"  warning: {w}")
    return 0


def run_jumps(args: argparse.Namespace) -> int:
    import numpy as np

    from iondyn.errors import FileFormatError
    from iondyn.md.jumps import SiteAnalyzer

    try:
        sites = np.loadtxt(args.sites, delimiter=",", ndmin=2, comments="#")
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"cannot read the sites ({exc})", path=args.sites) from None
    traj = _trajectory(args, args.files[0], None)
    result = SiteAnalyzer(sites, args.r_cut_A).fit(traj)
    doc = result.to_dict()
    if args.json:
        emit_json(doc)
        return 0
    for key in ("n_jumps", "jumps_per_ion_per_ps", "mean_residence_ps", "D_jump_cm2_per_s",
                "unassigned_fraction"):  # fmt: skip
        print(f"{key:24s} {doc[key]:.6g}")
    for w in result.warnings:
        print(f"  warning: {w}")
    return 0


def run_arrhenius(args: argparse.Namespace) -> int:
    import numpy as np

    from iondyn.errors import FileFormatError
    from iondyn.series import fit_arrhenius

    path = args.files[0]
    try:
        with open(path, encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if r and not r[0].startswith("#")]
        data = np.array([[float(x) for x in r] for r in rows[1:]], dtype=float)
    except (OSError, ValueError, IndexError) as exc:
        raise FileFormatError(
            f"expected a CSV of T, value[, error] with a header ({exc})", path=path
        ) from None
    if data.ndim != 2 or data.shape[1] < 2:
        raise FileFormatError("expected the columns T, value[, error]", path=path)
    err = data[:, 2] if data.shape[1] > 2 else None
    fit = fit_arrhenius(data[:, 0], data[:, 1], err, convention=args.convention)
    if args.json:
        emit_json(fit.to_dict())
        return 0
    print(f"Ea = {fit.Ea_eV:.4f} ± {fit.Ea_eV_err:.4f} eV, ln prefactor = {fit.ln_prefactor:.4f} "
          f"± {fit.ln_prefactor_err:.4f} ({args.convention}, {fit.T_K.size} points)")  # fmt: skip
    for w in fit.warnings:
        print(f"  warning: {w}")
    return 0


def to_toml(doc: dict[str, Any]) -> str:
    """The device document of :func:`iondyn.md.bridge.physics_seed` as TOML."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return repr(float(v)) if isinstance(v, float) else str(v)

    lines = [
        "# device seeded from MD by iondyn md regional",
        f"temperature_K = {value(doc['temperature_K'])}",
        "",
    ]
    for phase in doc["phase"]:
        lines.append("[[phase]]")
        lines += [f"{k} = {value(v)}" for k, v in phase.items() if k != "species"]
        for sp in phase["species"]:
            lines.append("[[phase.species]]")
            lines += [f"{k} = {value(v)}" for k, v in sp.items()]
        lines.append("")
    for side, contact in doc["boundary"].items():
        lines.append(f"[boundary.{side}]")
        lines += [f"{k} = {value(v)}" for k, v in contact.items()]
    return "\n".join(lines) + "\n"
