"""DRT and Lin-KK benchmark: iondyn vs pyDRTtools 0.2 (and impedance.py 1.7.1 Lin-KK), one run.

Run with the peers' virtual environment (``bash benchmarks/setup_peers.sh``)::

    benchmarks/.peers-venv/bin/python benchmarks/bench_drt.py [--quick] [--threads N]

With the project's ``.venv`` the peers are not importable and only iondyn is measured. The
script installs nothing. pyDRTtools imports a Qt GUI (and switches matplotlib to Qt5Agg) in its
package ``__init__``; the script loads only its computational modules (``runs``, ``basics``,
``parameter_selection``) by registering an empty package, with ``QT_QPA_PLATFORM=offscreen``.

Both tools run in this process on the same spectra. BLAS threads default to 1 (``--threads``):
on this shared 2-core machine multi-threaded OpenBLAS makes 100-point problems up to 100×
slower for both tools alike. Results also go to ``benchmarks/results/bench_drt.json``.

Cases (noise: σ = rel·|Z| on Z' and Z'' independently)
  A  speed: R∞ + two ZARCs (n = 0.9) + C_s, 81 points 1 MHz – 10 mHz, 0.2 % noise, 20 seeds:
     iondyn (automatic λ, fixed λ) vs pyDRTtools simple_run (GCV, fixed λ = 1e-3).
  B  accuracy on the same spectra, without peak picking for either tool: ∫γ d ln τ in windows
     split at the geometric mean of the true τ's (R of each ZARC) and above 10^1.5 τ2 (the
     phantom electrode; the true DRT holds 22 Ω there); plus iondyn's own peak list.
  C  the test pellet R0-p(R1,CPE1)-p(R2,CPE2)-CPE3 (tests/eis/test_fit_pellet.py),
     10 MHz – 10 mHz, 1 % noise: the same window areas for bulk (10 kΩ), grain boundary
     (50 kΩ) and the electrode side.
  D  Lin-KK on the pellet: iondyn (with / without series C) vs impedance.py ``linKK``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path


def _set_threads(argv: list[str]) -> str:
    threads = "1"
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            threads = argv[i + 1]
        elif a.startswith("--threads="):
            threads = a.split("=", 1)[1]
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = threads
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("MPLBACKEND", "Agg")
    return threads


THREADS = _set_threads(sys.argv[1:])  # before NumPy is imported

import numpy as np  # noqa: E402

from iondyn.eis.drt import DRT  # noqa: E402
from iondyn.eis.kk import LinKK  # noqa: E402


def _load_pydrttools():
    """pyDRTtools' computational modules without its GUI package __init__."""
    import importlib.util
    import types

    spec = importlib.util.find_spec("pyDRTtools")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("pyDRTtools not installed")
    pkg = types.ModuleType("pyDRTtools")
    pkg.__path__ = list(spec.submodule_search_locations)
    sys.modules["pyDRTtools"] = pkg
    with contextlib.redirect_stdout(io.StringIO()):  # it prints sys.path at import
        import pyDRTtools.runs as runs
    return runs


try:
    PYDRT = _load_pydrttools()
    PYDRT_ERR = ""
except Exception as exc:  # any failure means "peer not available"
    PYDRT, PYDRT_ERR = None, f"{type(exc).__name__}: {exc}"
try:
    with contextlib.redirect_stdout(io.StringIO()):
        from impedance.validation import linKK as IMPEDANCE_LINKK
    IMP_ERR = ""
except Exception as exc:
    IMPEDANCE_LINKK, IMP_ERR = None, f"{type(exc).__name__}: {exc}"


def zarc(w, r, tau, n):
    return r / (1 + (1j * w * tau) ** n)


def r_cpe(w, r, q, n):
    return r / (1 + r * q * (1j * w) ** n)


def noisy(z, rel, seed):
    rng = np.random.default_rng(seed)
    return z + rel * np.abs(z) * (rng.standard_normal(z.size) + 1j * rng.standard_normal(z.size))


F_A = np.logspace(6, -2, 81)
W_A = 2 * np.pi * F_A
ZARCS = [(1000.0, 1e-5, 0.9), (3000.0, 1e-2, 0.9)]
Z_A = 10 + sum(zarc(W_A, *p) for p in ZARCS) + 1 / (1j * W_A * 1e-5)
F_P = np.logspace(7, -2, 91)
W_P = 2 * np.pi * F_P
Z_P = 100 + r_cpe(W_P, 1e4, 1e-11, 0.95) + r_cpe(W_P, 5e4, 1e-9, 0.85)
Z_P = Z_P + 1 / (1e-6 * (1j * W_P) ** 0.8)


def window_areas(tau, gamma, centres):
    """∫ γ d ln τ in windows split at the geometric means of neighbouring true τ's, plus
    what lies beyond 10^1.5 × the last one: a peak-picking-free measure for both tools."""
    y = np.log(tau)
    edges = [np.sqrt(a * b) for a, b in itertools.pairwise(centres)]
    bounds = [tau[0], *edges, centres[-1] * 10**1.5, tau[-1] * 1.0001]
    out = []
    for lo, hi in itertools.pairwise(bounds):
        m = (tau >= lo) & (tau < hi)
        g_m, y_m = gamma[m], y[m]
        out.append(float(np.sum(0.5 * (g_m[1:] + g_m[:-1]) * np.diff(y_m))))
    return out[:-1], out[-1]


def score_windows(tau, gamma):
    """Worst relative R error of the two ZARCs (window areas) and the area beyond them."""
    areas, beyond = window_areas(tau, gamma, [t for _, t, _ in ZARCS])
    return max(abs(a / r - 1) for a, (r, _, _) in zip(areas, ZARCS)), beyond


def score(peaks):
    """Worst relative τ and R errors of the two ZARCs, and the largest peak beyond them."""
    err_tau, err_r, used = 0.0, 0.0, set()
    for r, t, _ in ZARCS:
        j = min(range(len(peaks)), key=lambda k: abs(np.log(peaks[k][0] / t)))
        used.add(j)
        err_tau = max(err_tau, abs(peaks[j][0] / t - 1))
        err_r = max(err_r, abs(peaks[j][1] / r - 1))
    beyond = [p[1] for k, p in enumerate(peaks) if k not in used and p[0] > 3e-2]
    return err_tau, err_r, max(beyond, default=0.0)


def run_pydrt(f, z, cv_type, lam=1e-3):
    entry = PYDRT.EIS_object(f, z.real, z.imag)
    with contextlib.redirect_stdout(io.StringIO()):
        PYDRT.simple_run(
            entry,
            rbf_type="Gaussian",
            data_used="Combined Re-Im Data",
            induct_used=1,
            der_used="1st order",
            cv_type=cv_type,
            reg_param=lam,
        )
    return entry


def timed(fn, *args, repeat=1):
    best = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        best.append(time.perf_counter() - t0)
    return out, float(np.median(best))


def case_a_b(n_seeds):
    rows = {}
    spectra = [noisy(Z_A, 0.002, s) for s in range(n_seeds)]
    DRT(series_capacitance=True).fit((F_A, spectra[0]))  # warm the kernel cache (reported)
    tools = {
        "iondyn auto λ, C_s": lambda z: DRT(series_capacitance=True).fit((F_A, z)),
        "iondyn λ = 1e-3, C_s": lambda z: DRT(lam=1e-3, series_capacitance=True).fit((F_A, z)),
        "iondyn auto λ, no C_s": lambda z: DRT().fit((F_A, z)),
    }
    if PYDRT is not None:
        tools["pyDRTtools GCV"] = lambda z: run_pydrt(F_A, z, "GCV")
        tools["pyDRTtools λ = 1e-3"] = lambda z: run_pydrt(F_A, z, "custom")
    for name, fn in tools.items():
        times, win, own, lams = [], [], [], []
        for z in spectra:
            res, dt = timed(fn, z)
            times.append(dt)
            if name.startswith("iondyn"):
                tau, gamma, lam = res.tau_s, res.gamma_ohm, res.lam
                own.append(score([(p.tau_s, p.R_ohm) for p in res.peaks]))
            else:
                tau, gamma = res.out_tau_vec, res.gamma
                lam = float(np.ravel(res.lambda_value)[0])
            win.append(score_windows(tau, gamma))
            lams.append(lam)
        w = np.array(win)
        rows[name] = {
            "median_ms": 1e3 * float(np.median(times)),
            "worst_R_err_windows": float(w[:, 0].max()),
            "largest_area_beyond_ohm": float(w[:, 1].max()),
            "lambda_median": float(np.median(lams)),
            "lambda_range": [float(min(lams)), float(max(lams))],
        }
        if own:
            o = np.array(own)
            rows[name]["own_peaks"] = {
                "worst_tau_err": float(o[:, 0].max()),
                "worst_R_err": float(o[:, 1].max()),
                "largest_beyond_ohm": float(o[:, 2].max()),
            }
    # cold start: a new frequency grid each time (kernel matrices not cached)
    cold = []
    for k in range(min(n_seeds, 5)):
        f = F_A * (1 + 1e-6 * (k + 1))
        _, dt = timed(lambda z, f=f: DRT(series_capacitance=True).fit((f, z)), spectra[k])
        cold.append(dt)
    rows["iondyn auto λ, C_s"]["cold_grid_median_ms"] = 1e3 * float(np.median(cold))
    return rows


def case_c():
    """Bulk (τ ≈ 4.4e-8 s, 10 kΩ), grain boundary (τ ≈ 8.8e-6 s, 50 kΩ) and the electrode."""
    truth = {"bulk": (1e4, (1e4 * 1e-11) ** (1 / 0.95)), "gb": (5e4, (5e4 * 1e-9) ** (1 / 0.85))}
    centres = [t for _, t in truth.values()]
    z = noisy(Z_P, 0.01, 7)
    curves = {}
    for name, kw in {"iondyn, no C_s": {}, "iondyn, C_s": {"series_capacitance": True}}.items():
        res = DRT(**kw).fit((F_P, z))
        curves[name] = (res.tau_s, res.gamma_ohm, res.lam)
    if PYDRT is not None:
        entry = run_pydrt(F_P, z, "GCV")
        curves["pyDRTtools GCV"] = (
            entry.out_tau_vec,
            entry.gamma,
            float(np.ravel(entry.lambda_value)[0]),
        )
    out = {}
    for name, (tau, gamma, lam) in curves.items():
        (bulk, gb), beyond = window_areas(tau, gamma, centres)
        out[name] = {"lambda": lam, "bulk_R_ohm": bulk, "gb_R_ohm": gb, "beyond_ohm": beyond}
    return out, truth


def case_d(n_seeds):
    out = {}
    spectra = [noisy(Z_P, 0.01, 100 + s) for s in range(n_seeds)]
    for cap in (False, True):
        kk = LinKK(series_capacitance=cap)
        res, dt = timed(kk.fit_many, [(F_P, z) for z in spectra])
        out[f"iondyn Lin-KK{' + C' if cap else ''}"] = {
            "ms_per_spectrum": 1e3 * dt / n_seeds,
            "valid": f"{sum(r.valid for r in res)}/{n_seeds}",
            "median_max_residual": float(
                np.median([max(r.residual_real_max, r.residual_imag_max) for r in res])
            ),
        }
    if IMPEDANCE_LINKK is not None:
        for cap in (False, True):
            t0 = time.perf_counter()
            worst = []
            for z in spectra:
                with contextlib.redirect_stdout(io.StringIO()):
                    *_, rr, ri = IMPEDANCE_LINKK(F_P, z, fit_type="complex", add_cap=cap)
                worst.append(max(np.abs(rr).max(), np.abs(ri).max()))
            dt = time.perf_counter() - t0
            out[f"impedance.py linKK{' + C' if cap else ''}"] = {
                "ms_per_spectrum": 1e3 * dt / n_seeds,
                "valid": "no verdict",
                "median_max_residual": float(np.median(worst)),
            }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer replicas")
    ap.add_argument("--threads", default="1", help="BLAS threads (set before NumPy loads)")
    args = ap.parse_args()
    n = 5 if args.quick else 20
    print(f"iondyn DRT / Lin-KK benchmark — Python {platform.python_version()}, NumPy "
          f"{np.__version__}, BLAS threads {THREADS}")  # fmt: skip
    if PYDRT is None:
        print(f"pyDRTtools: not available ({PYDRT_ERR}); measuring iondyn alone")
    if IMPEDANCE_LINKK is None:
        print(f"impedance.py: not available ({IMP_ERR})")
    doc = {"threads": THREADS, "n_seeds": n}

    ab = case_a_b(n)
    doc["A_B_two_zarcs_blocking"] = ab
    print(f"\nA/B  R∞ + 2 ZARC + C_s, 81 points, 0.2 % noise, {n} spectra")
    print("     window R error: ∫γ between the geometric means of the true τ's; beyond: ∫γ above")
    print("     10^1.5 × τ2 (true: 22 Ω); peaks: the tool's own peak list (iondyn only)")
    print(f"{'tool':24s} {'ms/spec':>8s} {'λ (med.)':>9s} {'window R err':>12s} {'beyond/Ω':>10s}"
          f" {'peak τ err':>10s} {'peak R err':>10s}")  # fmt: skip
    for name, r in ab.items():
        o = r.get("own_peaks")
        peaks = (f"{100 * o['worst_tau_err']:9.1f}% {100 * o['worst_R_err']:9.1f}%"
                 if o else f"{'-':>10s} {'-':>10s}")  # fmt: skip
        print(f"{name:24s} {r['median_ms']:8.1f} {r['lambda_median']:9.1e} "
              f"{100 * r['worst_R_err_windows']:11.1f}% {r['largest_area_beyond_ohm']:10.4g} "
              f"{peaks}")  # fmt: skip
    print(f"iondyn on a new frequency grid (kernels not cached): "
          f"{ab['iondyn auto λ, C_s']['cold_grid_median_ms']:.1f} ms")  # fmt: skip
    if "pyDRTtools GCV" in ab:
        for mine, theirs in (("iondyn auto λ, C_s", "pyDRTtools GCV"),
                             ("iondyn λ = 1e-3, C_s", "pyDRTtools λ = 1e-3")):  # fmt: skip
            ratio = ab[theirs]["median_ms"] / ab[mine]["median_ms"]
            print(f"speed ratio {theirs} / {mine}: {ratio:.1f}×")
            doc[f"ratio {theirs} / {mine}"] = ratio

    c, truth = case_c()
    doc["C_pellet"] = c
    print("\nC  test pellet (CPE3 electrode), 91 points, 1 % noise: window areas around")
    print(
        f"   bulk τ = {truth['bulk'][1]:.2g} s (R 10 kΩ), gb τ = {truth['gb'][1]:.2g} s (R 50 kΩ)"
    )
    for name, r in c.items():
        print(f"{name:26s} λ {r['lambda']:8.1e}  bulk {r['bulk_R_ohm']:9.4g} Ω  "
              f"gb {r['gb_R_ohm']:9.4g} Ω  electrode side {r['beyond_ohm']:9.3g} Ω")  # fmt: skip

    d = case_d(n)
    doc["D_linkk_pellet"] = d
    print(f"\nD  Lin-KK on the pellet, 1 % noise, {n} spectra")
    for name, r in d.items():
        print(f"{name:26s} {r['ms_per_spectrum']:8.2f} ms  valid {r['valid']:>10s}  "
              f"median max|residual| {100 * r['median_max_residual']:.2f} %")  # fmt: skip

    out = Path(__file__).resolve().parent / "results" / "bench_drt.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, default=float))
    print(f"\nresults written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
