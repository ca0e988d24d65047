"""Automatic impedance fits: iondyn ``AutoFitter`` (no user input) vs impedance.py 1.7.1.

Run with the peers' virtual environment (made by ``bash benchmarks/setup_peers.sh``)::

    benchmarks/.peers-venv/bin/python benchmarks/bench_autofit.py [--quick]

With the project's ``.venv`` impedance.py is not importable and iondyn is measured alone. This
script installs nothing. Same data for both tools, in one run:

1. random pellets from ``tests/eis/autofit_pellets.py`` (2–3 arcs ≥ 1.5 decades apart, R
   1e2–1e8 Ω, C 1e-12–1e-6 F, n 0.7–1, with or without an electrode CPE, 1 % modulus noise,
   every R determinable to ≤ 1.5 % by its Cramér–Rao bound; 100 pellets, 20 with ``--quick``):

   * iondyn ``AutoFitter().fit(spectrum)`` — it chooses the circuit itself;
   * impedance.py ``CustomCircuit`` given the TRUE circuit string and generic starting values
     (every R = 1e4 Ω, arc Q = 1e-9, n = 0.9, electrode Q = 1e-6), fitted with its defaults
     and with ``weight_by_modulus=True`` (for reference also started at the true values);

   success = (iondyn: the right circuit and) every arc R within 5 %; time per spectrum, for
   iondyn both one spectrum at a time (``fit``: the latency of one automatic fit) and the
   same pellets as one batch (``fit_many``: the time per spectrum of a batch);
2. 1,000 such spectra fitted by ``AutoFitter.fit_many`` in one go (100 with ``--quick``):
   total time in one process, and in ``--processes`` (default 2, the machine's cores)
   processes that each fit an equal share.

BLAS is pinned to one thread per process (set before NumPy is imported).

A compact table is printed and the figures are written to
``benchmarks/results/bench_autofit.json``. Timings are wall-clock on whatever else the machine
is running; the JSON records the load average.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from iondyn.cli.common import format_table  # noqa: E402
from iondyn.eis.autofit import AutoFitter  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "eis"))
from autofit_pellets import pellet_cases, recovered  # noqa: E402

try:  # the peer, only in benchmarks/.peers-venv
    import impedance
    from impedance.models.circuits import CustomCircuit

    HAVE_IMPEDANCE = True
except Exception:  # any import failure means "peer not available"
    HAVE_IMPEDANCE = False

RESULTS = HERE / "results" / "bench_autofit.json"


def pellets(n: int, seed: int):
    return pellet_cases(n, seed)


def generic_start(circuit: str, p: dict[str, float]) -> list[float]:
    """impedance.py's parameter order (R0, R1, CPE1_0, CPE1_1, …): R = 1e4, arc Q = 1e-9,
    n = 0.9, electrode Q = 1e-6."""
    k = circuit.count("p(")
    guess = [1e4]
    for _ in range(k):
        guess += [1e4, 1e-9, 0.9]
    if circuit.count("CPE") > k:
        guess += [1e-6, 0.9]
    return guess


def bench_iondyn(cases) -> dict:
    """One spectrum at a time: the latency of one automatic fit."""
    fitter = AutoFitter()
    fitter.fit(cases[0][2])  # warm-up (imports, caches)
    ok, times, wrong_circuit = 0, [], 0
    for circuit, p, spectrum in cases:
        t0 = time.perf_counter()
        res = fitter.fit(spectrum)
        times.append(time.perf_counter() - t0)
        ok += recovered(res, circuit, p, rtol=0.05)
        wrong_circuit += res.circuit != circuit
    return {
        "success": ok,
        "n": len(cases),
        "wrong_circuit": wrong_circuit,
        "seconds_per_fit_mean": float(np.mean(times)),
        "seconds_per_fit_median": float(np.median(times)),
    }


def bench_iondyn_batch(cases) -> dict:
    """The same pellets as one batch: time per spectrum of ``fit_many``."""
    t0 = time.perf_counter()
    out = AutoFitter().fit_many([s for _, _, s in cases])
    per = (time.perf_counter() - t0) / len(cases)
    ok = sum(recovered(r, c, p, rtol=0.05) for (c, p, _), r in zip(cases, out))
    return {
        "success": ok,
        "n": len(cases),
        "seconds_per_fit_mean": per,
        "seconds_per_fit_median": per,
        "note": "batch total / n (one fit_many call)",
    }


def bench_impedance_py(cases, weight_by_modulus: bool, from_truth: bool = False) -> dict:
    ok, times, failures = 0, [], 0
    for circuit, p, spectrum in cases:
        start = list(p.values()) if from_truth else generic_start(circuit, p)
        cc = CustomCircuit(circuit, initial_guess=start)
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                cc.fit(spectrum.frequency, spectrum.z, weight_by_modulus=weight_by_modulus)
            values = np.asarray(cc.parameters_, dtype=float)
        except Exception:
            failures += 1
            values = None
        times.append(time.perf_counter() - t0)
        if values is None:
            continue
        # R0, then (R_k, Q_k, n_k) per arc: the arc resistances are at 1, 4, 7, …
        k = circuit.count("p(")
        got = {f"R{j}": values[1 + 3 * (j - 1)] for j in range(1, k + 1)}
        ok += all(abs(got[name] / p[name] - 1) < 0.05 for name in got)
    return {
        "success": ok,
        "n": len(cases),
        "exceptions": failures,
        "seconds_per_fit_mean": float(np.mean(times)),
        "seconds_per_fit_median": float(np.median(times)),
        "weight_by_modulus": weight_by_modulus,
        "started_at_the_truth": from_truth,
    }


def _fit_share(cases) -> int:
    """Worker: fit its share of the pellets with one ``fit_many``; how many succeeded."""
    out = AutoFitter().fit_many([s for _, _, s in cases])
    return sum(recovered(r, c, p, rtol=0.05) for (c, p, _), r in zip(cases, out))


def bench_many(n: int, processes: int) -> dict:
    cases = pellets(n, seed=7)
    points = float(np.mean([c[2].n_points for c in cases]))
    t0 = time.perf_counter()
    out = AutoFitter().fit_many([s for _, _, s in cases])
    one = time.perf_counter() - t0
    ok = sum(recovered(r, c, p, rtol=0.05) for (c, p, _), r in zip(cases, out))
    doc = {"n": n, "seconds_total": one, "success": ok, "mean_points": points}
    if processes > 1:
        shares = [cases[i::processes] for i in range(processes)]
        with ProcessPoolExecutor(processes) as pool:
            list(pool.map(_fit_share, [cases[:2]] * processes))  # start the workers
            t0 = time.perf_counter()
            got = list(pool.map(_fit_share, shares))
            wall = time.perf_counter() - t0
        doc["processes"] = processes
        doc["seconds_total_processes"] = wall
        doc["success_processes"] = sum(got)
    return doc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 pellets and 100 in one go")
    ap.add_argument("--pellets", type=int, default=None, help="number of pellets compared")
    ap.add_argument("--many", type=int, default=None, help="spectra fitted in one go")
    ap.add_argument(
        "--processes", type=int, default=2, help="processes for the second 1,000-spectra run"
    )
    args = ap.parse_args()
    n = args.pellets or (20 if args.quick else 100)
    n_many = args.many or (100 if args.quick else 1000)

    doc: dict = {
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
        },
        "peers": {
            "impedance.py": getattr(impedance, "__version__", "?") if HAVE_IMPEDANCE else None
        },
    }
    if not HAVE_IMPEDANCE:
        print(
            "note: impedance.py is not importable here; measuring iondyn alone "
            "(run with benchmarks/.peers-venv/bin/python for the comparison)"
        )
    cases = pellets(n, seed=1)
    mean_points = float(np.mean([c[2].n_points for c in cases]))
    res = {
        "iondyn AutoFitter.fit (no input, one at a time)": bench_iondyn(cases),
        "iondyn AutoFitter.fit_many (no input, one batch)": bench_iondyn_batch(cases),
    }
    if HAVE_IMPEDANCE:
        res["impedance.py (true circuit, generic start)"] = bench_impedance_py(cases, False)
        res["impedance.py (same, weight_by_modulus)"] = bench_impedance_py(cases, True)
        # reference, not a contender: what its CNLS does from the true values
        res["impedance.py (started AT the truth, modulus)"] = bench_impedance_py(cases, True, True)
    doc["pellets"] = {"n": n, "mean_points": mean_points, "results": res}
    print(f"\n1. Random pellets ({n}, {mean_points:.0f} points on average, 1 % noise)")
    rows = [
        [
            tool,
            f"{r['success']}/{r['n']}",
            f"{1000 * r['seconds_per_fit_mean']:.0f} ms",
            f"{1000 * r['seconds_per_fit_median']:.0f} ms",
        ]
        for tool, r in res.items()
    ]
    print(format_table(rows, ["tool", "every R within 5 %", "mean time", "median time"]))
    ion = res["iondyn AutoFitter.fit (no input, one at a time)"]
    for tool, r in res.items():
        if tool.startswith("impedance.py"):
            ratio = ion["seconds_per_fit_mean"] / r["seconds_per_fit_mean"]
            print(f"   time ratio iondyn / {tool}: {ratio:.1f}")

    many = bench_many(n_many, args.processes)
    doc["many"] = many
    print(
        f"\n2. {n_many} spectra ({many['mean_points']:.0f} points on average), fit_many: "
        f"{many['seconds_total']:.1f} s in one process "
        f"({1000 * many['seconds_total'] / n_many:.0f} ms each), "
        f"success {many['success']}/{n_many}"
    )
    if "processes" in many:
        print(
            f"   {many['processes']} processes: {many['seconds_total_processes']:.1f} s wall, "
            f"success {many['success_processes']}/{n_many} "
            f"(speed-up {many['seconds_total'] / many['seconds_total_processes']:.2f})"
        )
    doc["load_average_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2))
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
