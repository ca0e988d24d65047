"""``iondyn tsdc``: fit, classical methods and simulation of TSDC curves."""

from __future__ import annotations

import argparse
import math
from typing import Any

from iondyn.cli.common import emit_json, format_table, n_or_auto, positive_int, value_with_error

BACKGROUNDS = ("none", "constant", "linear", "exponential", "exponential-offset")


def _float_list(text: str) -> list[float]:
    """``0.1`` or ``0.05,0.1,0.2`` (one heating rate per file)."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a number or comma-separated numbers: {text!r}"
        ) from None


def _add_reading(p: argparse.ArgumentParser) -> None:
    rate = p.add_mutually_exclusive_group()
    rate.add_argument(
        "--beta",
        type=_float_list,
        metavar="B[,B...]",
        help="heating rate in K/s: one for all files, or one per file separated by commas",
    )
    rate.add_argument(
        "--beta-per-min",
        type=_float_list,
        metavar="B[,B...]",
        help="heating rate in K/min (one, or one per file separated by commas)",
    )
    p.add_argument(
        "--temperature-unit",
        choices=("auto", "K", "C"),
        default="auto",
        help="unit of the temperature column (auto: from the header; °C and ℃ recognised)",
    )
    p.add_argument("--current-unit", help="unit of the current column (default: from the header)")
    p.add_argument(
        "--heating-segment",
        action="store_true",
        help="keep the longest heating run (average repeated temperatures) instead of failing",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tsdc", help="thermally stimulated depolarization currents: fit, methods, simulate"
    )
    sub = parser.add_subparsers(dest="tsdc_command", metavar="TSDC_COMMAND")
    sub.required = True

    fit = sub.add_parser(
        "fit",
        help="decompose TSDC curves into relaxations (Ea, τ0, Tm, P0)",
        description=(
            "Decompose TSDC curves into first-order (or general-order, or distributed-Ea) "
            "relaxations with the SAEM engine, report Ea, τ0, Tm, P0 with errors and, per peak, "
            "initial rise and Bucci–Fieschi side by side."
        ),
    )
    fit.add_argument("files", nargs="+", metavar="FILE", help="CSV/TXT files (T, current)")
    _add_reading(fit)
    fit.add_argument("--n-peaks", type=n_or_auto, default="auto", help="K, or 'auto' (BIC)")
    fit.add_argument("--max-peaks", type=positive_int, default=5, help="largest K for auto")
    fit.add_argument("--background", choices=BACKGROUNDS, default="none")
    fit.add_argument(
        "--kinetics",
        choices=("first", "general", "gaussian"),
        default="first",
        help="first-order (Debye), general-order, or a Gaussian distribution of Ea per peak",
    )
    tau = fit.add_mutually_exclusive_group()
    tau.add_argument(
        "--tau0",
        metavar="S[,S...]",
        help="hold τ0 fixed (s): one value for every peak, or one per peak in order of Tm "
        "('free' leaves a peak free; a list sets K); first or gaussian kinetics",
    )
    tau.add_argument(
        "--frequency-factor",
        metavar="PER_S[,...]",
        help="hold the frequency factor s = 1/τ0 fixed (1/s), like --tau0",
    )
    tau.add_argument(
        "--shared-tau0", action="store_true", help="fit one τ0 shared by all peaks of a curve"
    )
    fit.add_argument("--t0", type=float, help="start of heating in K (default: first point)")
    fit.add_argument("--tmin", type=float, help="lowest temperature analysed (K)")
    fit.add_argument("--tmax", type=float, help="highest temperature analysed (K)")
    fit.add_argument("--sign", choices=("auto", "positive", "negative"), default="auto")
    fit.add_argument(
        "--no-width-test", action="store_true", help="skip the distributed-Ea width test"
    )
    fit.add_argument("--seed", type=int, default=0, help="seed of the random EM restarts")
    fit.add_argument("--plot", metavar="OUT.png", help="write decomposition and BF plots")
    fit.add_argument("--json", action="store_true", help="print one JSON document")
    fit.set_defaults(func=run_fit)

    methods = sub.add_parser(
        "methods",
        help="initial rise, Bucci–Fieschi (and heating-rate over several files, g(Ea))",
        description=(
            "Classical analyses without a peak model: initial rise on the low-temperature "
            "flank of the first peak, Bucci–Fieschi with an automatic linear range; with "
            "several files at different heating rates also the heating-rate method; with "
            "--distribution the distribution of activation energies g(Ea)."
        ),
    )
    methods.add_argument("files", nargs="+", metavar="FILE")
    _add_reading(methods)
    methods.add_argument(
        "--frac", type=float, default=0.10, help="initial rise: upper current fraction"
    )
    methods.add_argument(
        "--distribution", action="store_true", help="also invert for g(Ea) (NNLS, GCV)"
    )
    methods.add_argument(
        "--tau0",
        default="1e-13",
        help="common τ0 (s) of the g(Ea) inversion, or 'auto' (default 1e-13)",
    )
    methods.add_argument(
        "--plot",
        metavar="OUT.png",
        help="write the initial-rise, Bucci–Fieschi (and g(Ea)) plots, one PNG per file",
    )
    methods.add_argument("--json", action="store_true", help="print one JSON document")
    methods.set_defaults(func=_run_methods)

    sim = sub.add_parser(
        "simulate",
        help="write a synthetic TSDC curve",
        description=(
            "Simulate a TSDC curve from first-order peaks (EA_EV:TAU0_S:P0, optionally "
            ":SIGMA_EV for a Gaussian distribution of Ea) and write it as CSV (T in K)."
        ),
    )
    sim.add_argument(
        "--peak",
        action="append",
        required=True,
        metavar="EA_EV:TAU0_S:P0[:SIGMA_EV]",
        help="one relaxation (repeat for several)",
    )
    rate = sim.add_mutually_exclusive_group(required=True)
    rate.add_argument("--beta", type=float, help="heating rate in K/s")
    rate.add_argument("--beta-per-min", type=float, help="heating rate in K/min")
    sim.add_argument("--tmin", type=float, required=True, help="first temperature (K)")
    sim.add_argument("--tmax", type=float, required=True, help="last temperature (K)")
    sim.add_argument("--step", type=float, default=0.5, help="temperature step (K)")
    sim.add_argument("--noise", type=float, default=0.0, help="noise σ relative to max|J|")
    sim.add_argument("--seed", type=int, default=None, help="seed of the noise")
    sim.add_argument("--current-unit", default="A", help="unit written in the header")
    sim.add_argument("--out", required=True, metavar="FILE.csv", help="output file")
    sim.add_argument("--plot", metavar="OUT.png", help="write the simulated curve")
    sim.add_argument("--json", action="store_true", help="print one JSON document")
    sim.set_defaults(func=run_simulate)


# ---------------------------------------------------------------------- helpers
def _betas(args: argparse.Namespace, n_files: int) -> list[float | None]:
    from iondyn.errors import InputError

    if args.beta is not None:
        values = [float(b) for b in args.beta]
    elif args.beta_per_min is not None:
        values = [float(b) / 60.0 for b in args.beta_per_min]
    else:
        return [None] * n_files
    for v in values:
        if not (math.isfinite(v) and v > 0):
            raise InputError(f"the heating rate must be positive, got {v:g} K/s")
    if len(values) == 1:
        return values * n_files
    if len(values) != n_files:
        raise InputError(f"{len(values)} heating rates given for {n_files} files")
    return values


def _read(args: argparse.Namespace):
    from iondyn.io.tsdc import read_tsdc

    curves = []
    for path, beta in zip(args.files, _betas(args, len(args.files))):
        curves.append(
            read_tsdc(
                path,
                beta=beta,
                temperature_unit=args.temperature_unit,
                current_unit=args.current_unit,
                heating_segment=args.heating_segment,
            )
        )
    return curves


def _ea(m: dict[str, Any] | None) -> str:
    if not m:
        return "-"
    return value_with_error(m.get("Ea_eV"), m.get("Ea_eV_err"))


NO_HEATING_RATE = "no heating rate: give --beta K/s or --beta-per-min K/min (the file states none)"


def require_beta(curves) -> None:
    """Every curve needs a heating rate: the option that gives it is named, with the file."""
    from iondyn.errors import InputError

    for curve in curves:
        if curve.beta_K_per_s is None:
            raise InputError(NO_HEATING_RATE, path=curve.source)


# ---------------------------------------------------------------------- fit
def _fixed_values(text: str | None, option: str) -> float | list[float | None] | None:
    """``--tau0``/``--frequency-factor``: one positive number, or a comma-separated list of
    positive numbers and ``free`` (one per peak)."""
    from iondyn.errors import InputError

    if text is None:
        return None
    values: list[float | None] = []
    for item in text.split(","):
        item = item.strip()
        if item.lower() == "free":
            values.append(None)
            continue
        try:
            v = float(item)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and v > 0):
            raise InputError(f"{option} takes positive numbers or 'free', not {item!r}")
        values.append(v)
    if len(values) == 1:
        if values[0] is None:
            raise InputError(f"{option} free leaves nothing fixed: omit {option}")
        return values[0]
    return values


def _tau0_cell(p: dict[str, Any]) -> str:
    """τ0 with its multiplicative error (×/÷, from the error of ln τ0); undetermined with an
    undetermined Ea (:func:`iondyn.display.format_factor`)."""
    from iondyn.display import format_factor, is_undetermined

    status = p.get("tau0_status", "free")
    if status == "fixed":
        return f"{p['tau0_s']:.3e} (fixed)"
    known = not is_undetermined(p["Ea_eV"], p["Ea_eV_err"])
    text = format_factor(p["tau0_s"], p["ln_tau0_err"], determined=known)
    return text + (" (shared)" if status == "shared" else "")


def _tau0_line(fit) -> str | None:
    t = fit.tau0
    if t.get("mode") == "fixed":
        ids = ", ".join(str(i) for i in t["fixed_peaks"])
        return f"  τ0 held fixed for peak(s) {ids}: their errors assume it exact"
    if t.get("mode") == "shared":
        err = value_with_error(t["ln_tau0"], t["ln_tau0_err"], ratio=False)
        return (
            f"  one τ0 shared by all peaks: τ0 = {t['tau0_s']:.4e} s (ln τ0 = {err}), "
            f"s = 1/τ0 = {t['frequency_factor_per_s']:.4e} /s"
        )
    return None


def run_fit(args: argparse.Namespace) -> int:
    from iondyn.tsdc import TSDCFitter

    tau0 = _fixed_values(args.tau0, "--tau0")
    freq = _fixed_values(args.frequency_factor, "--frequency-factor")
    curves = _read(args)
    require_beta(curves)
    fitter = TSDCFitter(
        n_peaks=args.n_peaks,
        max_peaks=args.max_peaks,
        background=args.background,
        kinetics=args.kinetics,
        t0=args.t0,
        tmin=args.tmin,
        tmax=args.tmax,
        sign=args.sign,
        width_test=not args.no_width_test,
        random_state=args.seed,
        tau0_s=tau0,
        frequency_factor_per_s=freq,
        shared_tau0=args.shared_tau0,
    )
    result = fitter.fit(curves)
    heating = _heating_rate_over_fits(result)
    plots = []
    if args.plot:
        from iondyn.tsdc.plots import save_tsdc_plots

        plots = [str(p) for p in save_tsdc_plots(result.fits, args.plot)]
    if args.json:
        doc = result.to_dict()
        if heating:
            doc["heating_rate"] = heating
        if plots:
            doc["plots"] = plots
        emit_json(doc)
        return 0
    for fit in result.fits:
        print(f"{fit.source}")
        print(
            f"  β = {fit.beta_K_per_s:.5g} K/s, {fit.n_peaks} × {fit.kinetics} kinetics + "
            f"{fit.background.get('kind')} background; P0 in {fit.charge_unit} at "
            f"T0 = {fit.T0_K:.2f} K"
        )
        rows = []
        for p in fit.peaks:
            m = p.get("methods") or {}
            rows.append(
                [
                    p["id"],
                    value_with_error(p["Tm_K"], p["Tm_K_err"]),
                    value_with_error(p["Ea_eV"], p["Ea_eV_err"]),
                    _tau0_cell(p),
                    "-" if p.get("tau0_status") == "fixed" else f"{p['corr_Ea_ln_tau0']:+.4f}",
                    value_with_error(p["P0"], p["P0_err"]),
                    _ea(m.get("initial_rise")),
                    _ea(m.get("bucci_fieschi")),
                ]
            )
        header = ["peak", "Tm (K)", "Ea (eV)", "τ0 (s)", "r(Ea,lnτ0)", "P0", "Ea IR", "Ea BF"]
        print("  " + format_table(rows, header).replace("\n", "\n  "))
        line = _tau0_line(fit)
        if line:
            print(line)
        extra = [p for p in fit.peaks if "sigma_E_eV" in p or "order" in p]
        for p in extra:
            if "sigma_E_eV" in p:
                s = value_with_error(p["sigma_E_eV"], p["sigma_E_eV_err"])
                print(f"  peak {p['id']}: σ_E = {s} eV (Gaussian distribution of Ea)")
            if "order" in p:
                b = value_with_error(p["order"], p["order_err"])
                print(f"  peak {p['id']}: kinetic order b = {b}")
        q = fit.quality
        print(
            f"  R² = {q['r2']:.5f}  χ²_red = {q['chi2_reduced']:.4g}  BIC = {q['bic']:.1f}  "
            f"converged = {q['converged']}"
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
    for h in heating:
        print(
            f"heating-rate method on the fitted Tm of peak {h['peak_id']} over "
            f"{len(h['Tm_K'])} curves: Ea = {value_with_error(h['Ea_eV'], h['Ea_eV_err'])} eV, "
            f"τ0 = {h['tau0_s']:.3e} s"
        )
    for p in plots:
        print(f"plot written to {p}")
    return 0


def _heating_rate_over_fits(result) -> list[dict[str, Any]]:
    """Heating-rate method on each peak id present in every curve, when the curves were
    measured at two or more heating rates."""
    from iondyn.tsdc import heating_rate_from_fits

    fits = result.fits
    if len(fits) < 2 or len({f.beta_K_per_s for f in fits}) < 2:
        return []
    out = []
    for pid in range(1, min(f.n_peaks for f in fits) + 1):
        d = heating_rate_from_fits(result, pid).to_dict()
        d["peak_id"] = pid
        out.append(d)
    return out


def _run_methods(args: argparse.Namespace) -> int:
    from iondyn.cli.tsdc_methods import run_methods

    return run_methods(args)


# ---------------------------------------------------------------------- simulate
def _parse_peak(text: str):
    from iondyn.errors import InputError
    from iondyn.tsdc.simulate import TSDCPeak

    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise InputError(f"--peak must be EA_EV:TAU0_S:P0[:SIGMA_EV], got {text!r}")
    try:
        values = [float(v) for v in parts]
    except ValueError:
        raise InputError(f"--peak values must be numbers, got {text!r}") from None
    sigma = values[3] if len(values) == 4 else 0.0
    return TSDCPeak(values[0], values[1], values[2], sigma_eV=sigma)


def run_simulate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from iondyn.errors import InputError
    from iondyn.tsdc.simulate import simulate

    beta = args.beta if args.beta is not None else args.beta_per_min / 60.0
    if not (math.isfinite(beta) and beta > 0):
        raise InputError(f"the heating rate must be positive, got {beta:g} K/s")
    if args.noise < 0:
        raise InputError(f"--noise must not be negative, got {args.noise}")
    peaks = [_parse_peak(p) for p in args.peak]
    curve = simulate(
        peaks,
        beta,
        args.tmin,
        args.tmax,
        step=args.step,
        noise=args.noise,
        seed=args.seed,
        current_unit=args.current_unit,
    )
    out = Path(args.out)
    try:
        with out.open("w", encoding="utf-8") as fh:
            fh.write(f"# simulated TSDC curve, heating rate: {beta:.10g} K/s\n")
            fh.write(f"T [K],J [{curve.current_unit}]\n")
            for t, j in zip(curve.temperature_K, curve.current):
                fh.write(f"{t:.6f},{j:.10e}\n")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
    truth = curve.metadata["simulated"]
    plot = None
    if args.plot:
        from iondyn.cli.common import save_figure

        plot = str(save_figure(curve.plot, args.plot))
    if args.json:
        extra = {"plot": plot} if plot else {}
        emit_json({"out": str(out), "n_points": curve.n_points, **truth, **extra})
        return 0
    print(f"wrote {curve.n_points} points to {out} (β = {beta:.5g} K/s)")
    for p in truth["peaks"]:
        print(
            f"  Ea = {p['Ea_eV']:.4g} eV, τ0 = {p['tau0_s']:.4g} s, P0 = {p['P0']:.4g}, "
            f"Tm = {p['Tm_K']:.2f} K" + (f", σ_E = {p['sigma_eV']:.4g} eV" if p["sigma_eV"] else "")
        )
    if plot:
        print(f"plot written to {plot}")
    return 0
