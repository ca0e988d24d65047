"""TSDC benchmark: iondyn vs EMPeaks 3.0.0 ``TSDCMixtureModel`` on the same curves, in one run.

Run with the peers' virtual environment (``bash benchmarks/setup_peers.sh`` installs EMPeaks and
iondyn there)::

    benchmarks/.peers-venv/bin/python benchmarks/bench_tsdc.py [--quick]

With the project's ``.venv`` EMPeaks is not importable and only iondyn is measured. This script
installs nothing. Results are printed as a table and written to
``benchmarks/results/bench_tsdc.json``.

Curves (test case T3 of tests/tsdc/tsdc_cases.py unless noted): two first-order peaks,
Ea = 0.6 / 0.9 eV at Tm = 280 / 390 K, β = 0.1 K/s, P0 = 1 each, 200–500 K every 0.25 K
(1201 points). "1 % noise" is Gaussian noise of σ = 1 % of the curve maximum, clipped at zero
(EMPeaks' EM needs non-negative data; every tool gets the same clipped curves).

  A  noise-free
  B  1 % noise
  C  cut 5 K after the second maximum (T ≤ 395 K), 1 % noise
  D  overlapping peaks 30 K apart: 0.6 eV at 280 K and 0.9 eV at 310 K (200–420 K), 1 % noise

Tools: iondyn ``TSDCFitter(n_peaks=2)`` with its defaults (fit + width test + initial rise and
Bucci–Fieschi per peak) and the fit alone (``methods=False, width_test=False``), each fitting
all curves of a case as one batch; EMPeaks' adapted EM (``method="adapted_em"``, Rust backend)
and its least-squares mode (``method="leastsq"``), one curve at a time from its own random
initialisation (``init_param_empirical``, seeded). Success: both Ea within 0.005 eV and both Tm
within 0.5 K (A, B), both Ea within 2 % (C), both Ea within 0.02 eV (D).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from iondyn.data import TSDCCurve
from iondyn.tsdc import TSDCFitter, TSDCPeak
from iondyn.tsdc.model import tau0_from_peak
from iondyn.tsdc.simulate import noisy_replicas, simulate_current

try:  # the peer, only in benchmarks/.peers-venv
    from EMPeaks.TSDCMixture import TSDCMixtureModel

    HAVE_EMPEAKS = True
except Exception:  # any import failure means "peer not available"
    HAVE_EMPEAKS = False

BETA = 0.1


def _peaks(tms, eas):
    return [TSDCPeak(e, float(tau0_from_peak(t, e, BETA))) for t, e in zip(tms, eas)]


CASES = {
    "A_noise_free": dict(tm=(280.0, 390.0), ea=(0.6, 0.9), tmax=500.0, noise=0.0, tol="abs"),
    "B_one_percent_noise": dict(
        tm=(280.0, 390.0), ea=(0.6, 0.9), tmax=500.0, noise=0.01, tol="abs"
    ),
    "C_cut_5K_after_peak": dict(
        tm=(280.0, 390.0), ea=(0.6, 0.9), tmax=395.0, noise=0.01, tol="rel"
    ),
    "D_overlap_30K": dict(tm=(280.0, 310.0), ea=(0.6, 0.9), tmax=420.0, noise=0.01, tol="wide"),
}


def make_case(spec: dict, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    T = np.arange(200.0, spec["tmax"] + 1e-9, 0.25)
    clean = simulate_current(T, _peaks(spec["tm"], spec["ea"]), BETA)
    if spec["noise"] == 0:
        return T, np.repeat(clean[None], n, axis=0)
    return T, noisy_replicas(clean, spec["noise"], n, seed, clip=True)


def success(spec: dict, ea: np.ndarray, tm: np.ndarray) -> np.ndarray:
    want_e, want_t = np.array(spec["ea"]), np.array(spec["tm"])
    if spec["tol"] == "abs":
        return np.all(np.abs(ea - want_e) < 0.005, -1) & np.all(np.abs(tm - want_t) < 0.5, -1)
    if spec["tol"] == "rel":
        return np.all(np.abs(ea / want_e - 1.0) < 0.02, -1)
    return np.all(np.abs(ea - want_e) < 0.02, -1)


def summary(spec: dict, ea: np.ndarray, tm: np.ndarray, seconds: float) -> dict:
    err = np.max(np.abs(ea - np.array(spec["ea"])), axis=-1)
    ok = success(spec, ea, tm)
    return {
        "success": int(ok.sum()),
        "n": len(ea),
        "median_max_Ea_error_eV": float(np.nanmedian(err)),
        "worst_Ea_error_eV": float(np.nanmax(err)),
        "median_Ea_eV": np.nanmedian(ea, axis=0).tolist(),
        "seconds_per_curve": seconds / len(ea),
    }


def run_iondyn(spec: dict, T: np.ndarray, Y: np.ndarray, full: bool) -> dict:
    curves = [TSDCCurve(T, y, "A", BETA, None, i) for i, y in enumerate(Y)]
    fitter = (
        TSDCFitter(n_peaks=2) if full else TSDCFitter(n_peaks=2, methods=False, width_test=False)
    )
    t0 = time.perf_counter()
    result = fitter.fit(curves)
    dt = time.perf_counter() - t0
    return summary(spec, result.array("Ea_eV"), result.array("Tm_K"), dt)


def _empeaks_fit(T, y, method, seed, t_max):
    np.random.seed(seed)  # noqa: NPY002 - EMPeaks draws its starts from the global state
    model = TSDCMixtureModel(
        K=2, beta=BETA, T_min=200.0, T_max=t_max, Ea_min=0.05, Ea_max=3.0, background="none"
    )
    with contextlib.redirect_stdout(io.StringIO()):
        model.init_param_empirical(T, y)
        model.fit(T, y, method=method, stdout=False)
    ea = np.array([float(np.squeeze(model.model[k].Ea)) for k in range(2)])
    tm = np.array([float(np.squeeze(model.model[k].Tp)) for k in range(2)])
    order = np.argsort(tm)
    return ea[order], tm[order]


def run_empeaks(spec: dict, T: np.ndarray, Y: np.ndarray, method: str) -> dict:
    eas, tms, crashes = [], [], []
    t0 = time.perf_counter()
    for i, y in enumerate(Y):
        try:
            ea, tm = _empeaks_fit(T, y, method, i, float(T[-1]))
        except (Exception, SystemExit) as exc:  # a crash counts as a failure
            crashes.append(f"{type(exc).__name__}: {exc}"[:120])
            ea = tm = np.full(2, np.nan)
        eas.append(ea)
        tms.append(tm)
    dt = time.perf_counter() - t0
    out = summary(spec, np.array(eas), np.array(tms), dt)
    if crashes:
        out["crashes"] = len(crashes)
        out["last_error"] = crashes[-1]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer curves (a smoke run)")
    args = ap.parse_args()
    n_ours = 20 if args.quick else 100
    n_peer = 3 if args.quick else 20
    results: dict = {
        "machine": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "empeaks_available": HAVE_EMPEAKS,
        "n_iondyn": n_ours,
        "n_peer": n_peer,
    }
    print(f"EMPeaks importable: {HAVE_EMPEAKS}")
    for case_no, (name, spec) in enumerate(CASES.items()):
        T, Y = make_case(spec, n_ours, seed=100 + case_no)
        row = {
            "iondyn": run_iondyn(spec, T, Y, full=True),
            "iondyn_fit_only": run_iondyn(spec, T, Y, full=False),
            "iondyn_same_curves_as_peer": run_iondyn(spec, T, Y[:n_peer], full=True),
        }
        if HAVE_EMPEAKS:
            row["empeaks_em"] = run_empeaks(spec, T, Y[:n_peer], "adapted_em")
            row["empeaks_leastsq"] = run_empeaks(spec, T, Y[:n_peer], "leastsq")
            row["speedup_vs_empeaks_em"] = (
                row["empeaks_em"]["seconds_per_curve"] / row["iondyn"]["seconds_per_curve"]
            )
            row["speedup_vs_empeaks_leastsq"] = (
                row["empeaks_leastsq"]["seconds_per_curve"] / row["iondyn"]["seconds_per_curve"]
            )
        results[name] = row
        print(f"\ncase {name}")
        for who, r in row.items():
            if isinstance(r, dict):
                print(
                    f"  {who:28s} success {r['success']:3d}/{r['n']:<3d}  "
                    f"median max|ΔEa| {r['median_max_Ea_error_eV']:.2e} eV  "
                    f"worst {r['worst_Ea_error_eV']:.2e} eV  "
                    f"{1000 * r['seconds_per_curve']:9.1f} ms/curve"
                    + (f"  ({r['crashes']} crashed)" if "crashes" in r else "")
                )
        if "speedup_vs_empeaks_em" in row:
            print(
                f"  iondyn (defaults) is {row['speedup_vs_empeaks_em']:.0f}× faster than EMPeaks' "
                f"EM and {row['speedup_vs_empeaks_leastsq']:.1f}× than its least squares"
            )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_tsdc.json").write_text(json.dumps(results, indent=1))
    print(f"\nwritten {out / 'bench_tsdc.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
