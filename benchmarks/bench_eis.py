"""Impedance benchmark: iondyn vs impedance.py 1.7.1 (and pyimpspec 5.2 where present).

Run with the peers' virtual environment (``bash benchmarks/setup_peers.sh`` installs the peers and
iondyn there)::

    benchmarks/.peers-venv/bin/python benchmarks/bench_eis.py [--quick]

With the project's ``.venv`` the peers are not importable and iondyn is measured alone. This
script installs nothing. pyimpspec (GPL-3, Python ≥ 3.12) is only driven through a subprocess
in ``benchmarks/.peers312-venv`` when that exists. Same data for every tool, in one run:

1. parse coverage of the real files in ``tests/data/eis/`` (iondyn ``read_impedance`` vs
   impedance.py ``preprocessing.readFile`` with the instrument a user would pick, vs pyimpspec
   ``parse_data``);
2. one model evaluation of the pellet circuit at 71 frequencies;
3. CNLS fits of the pellet R0-p(R1,CPE1)-p(R2,CPE2)-CPE3 (tests/eis/test_fit_pellet.py:
   10 MHz–0.1 Hz, 10 points/decade, 1 % proportional noise, 100 seeds) from starts a factor 3
   off every parameter: success = χ² of the returned parameters, evaluated by one common
   function with the tool's weighting, within 10⁻⁴ (relative) of iondyn's fit started at the
   truth; time per fit (impedance.py ``CustomCircuit.fit``; pyimpspec ``fit_circuit`` with
   method ``least_squares`` and its name for the same weight, timed inside its subprocess);
4. time per DRT of the same pellet spectra, iondyn vs pyDRTtools (accuracy: ``bench_drt.py``).

A compact table is printed and the same figures are written to
``benchmarks/results/bench_eis.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from iondyn.cli.common import format_table
from iondyn.eis.circuit import Circuit
from iondyn.eis.fit import CircuitFitter
from iondyn.eis.simulate import log_frequencies, simulate_spectrum

try:  # the peer, only in benchmarks/.peers-venv
    import impedance
    from impedance import preprocessing as imp_pre
    from impedance.models.circuits import CustomCircuit

    HAVE_IMPEDANCE = True
except Exception:  # any import failure means "peer not available"
    HAVE_IMPEDANCE = False

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT / "tests" / "data" / "eis"
PY312 = HERE / ".peers312-venv" / "bin" / "python"
RESULTS = HERE / "results" / "bench_eis.json"

PELLET = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
TRUE = {
    "R0": 100.0,
    "R1": 1e4,
    "CPE1_Q": 1e-11,
    "CPE1_n": 0.95,
    "R2": 5e4,
    "CPE2_Q": 1e-9,
    "CPE2_n": 0.85,
    "CPE3_Q": 1e-6,
    "CPE3_n": 0.8,
}
SUCCESS_RTOL = 1e-4

# the instrument a user of impedance.py would name for each test file (None = readCSV)
IMPEDANCE_PY_INSTRUMENT = {
    ".dta": "gamry",
    ".mpt": "biologic",
    ".z": "zplot",
    ".par": "versastudio",
    ".csv": None,
}
IMPEDANCE_PY_BY_NAME = {
    "Autolab": "autolab",
    "CHInstruments": "chinstruments",
    "Parstat": "parstat",
    "Powersuite": "powersuite",
    "PDAC": "gamry",
}


def perturbed_start(first_up: bool = True) -> dict[str, float]:
    """Positive parameters alternately ×3 and ÷3, exponents alternately ×0.85 and ×1.1 (≤ 1)."""
    start, i, j = {}, 0, 0
    for name, value in TRUE.items():
        if name.endswith("_n"):
            start[name] = value * 0.85 if (j % 2 == 0) == first_up else min(value * 1.1, 1.0)
            j += 1
        else:
            start[name] = value * 3.0 if (i % 2 == 0) == first_up else value / 3.0
            i += 1
    return start


# --- 1. parse coverage ------------------------------------------------------------------------


def real_files() -> list[Path]:
    return sorted(p for p in DATA.iterdir() if p.is_file() and p.suffix.lower() != ".md")


def parse_iondyn(files: list[Path]) -> dict[str, dict]:
    from iondyn.io.impedance import read_impedance

    out = {}
    for path in files:
        try:
            spectra = read_impedance(path)
            out[path.name] = {
                "ok": True,
                "spectra": len(spectra),
                "points": sum(s.n_points for s in spectra),
            }
        except Exception as exc:  # report, do not stop
            out[path.name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:160]}
    return out


def _impedance_py_instrument(path: Path) -> str | None:
    for key, inst in IMPEDANCE_PY_BY_NAME.items():
        if key in path.name:
            return inst
    return IMPEDANCE_PY_INSTRUMENT.get(path.suffix.lower())


def parse_impedance_py(files: list[Path]) -> dict[str, dict]:
    out = {}
    for path in files:
        inst = _impedance_py_instrument(path)
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                f, z = imp_pre.readFile(str(path), instrument=inst)
            f, z = np.asarray(f, dtype=float), np.asarray(z, dtype=complex)
            ok = f.size > 0 and bool(np.all(np.isfinite(f)) and np.all(np.isfinite(z)))
            out[path.name] = {"ok": ok, "spectra": 1, "points": int(f.size), "instrument": inst}
            if not ok:
                out[path.name]["error"] = "empty or non-finite values"
        except Exception as exc:
            out[path.name] = {
                "ok": False,
                "instrument": inst,
                "error": f"{type(exc).__name__}: {exc}"[:160],
            }
    return out


_PYIMPSPEC_SCRIPT = r"""
import json, sys
import pyimpspec
out = {}
for path in sys.argv[1:]:
    name = path.rsplit("/", 1)[-1]
    try:
        data = pyimpspec.parse_data(path)
        out[name] = {"ok": True, "spectra": len(data),
                     "points": int(sum(len(d.get_frequencies()) for d in data))}
    except Exception as exc:
        out[name] = {"ok": False, "error": (type(exc).__name__ + ": " + str(exc))[:160]}
print(json.dumps({"version": pyimpspec.__version__ if hasattr(pyimpspec, "__version__") else "?",
                  "files": out}))
"""


def parse_pyimpspec(files: list[Path]) -> dict | None:
    if not PY312.exists():
        return None
    try:
        proc = subprocess.run(
            [str(PY312), "-c", _PYIMPSPEC_SCRIPT, *map(str, files)],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "MPLBACKEND": "Agg"},
        )
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}


# pyimpspec CNLS from the same start on the same spectra (stdin: JSON), one fit at a time:
# method "least_squares" with the tool's own name for the same weighting
_PYIMPSPEC_FIT_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np
import pyimpspec
doc = json.loads(sys.stdin.read())
fits = []
for sp in doc["spectra"]:
    data = pyimpspec.DataSet(np.asarray(sp["f"]), np.asarray(sp["zr"]) + 1j * np.asarray(sp["zi"]))
    circuit = pyimpspec.parse_cdc(doc["cdc"])
    values = list(doc["start"])
    for el in circuit.get_elements():
        el.set_values(**{k: values.pop(0) for k in list(el.get_values())})
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pyimpspec.fit_circuit(circuit, data, method=doc["method"],
                                        weight=doc["weight"], num_procs=1)
        params = [float(v) for el in fit.circuit.get_elements() for v in el.get_values().values()]
        fits.append({"params": params, "seconds": time.perf_counter() - t0})
    except Exception as exc:
        fits.append({"params": None, "seconds": time.perf_counter() - t0,
                     "error": (type(exc).__name__ + ": " + str(exc))[:160]})
print(json.dumps({"fits": fits}))
"""
PYIMPSPEC_CDC = "R(RQ)(RQ)Q"  # the pellet, parameters in iondyn's order (R0, R1, Q1 Y n, ...)
PYIMPSPEC_WEIGHT = {"modulus": "modulus", "unit": "unity"}


def fit_pyimpspec(spectra, start: list[float], weight: str) -> dict | None:
    if not PY312.exists():
        return None
    doc = {
        "cdc": PYIMPSPEC_CDC,
        "start": start,
        "method": "least_squares",
        "weight": PYIMPSPEC_WEIGHT[weight],
        "spectra": [
            {"f": s.frequency.tolist(), "zr": s.z.real.tolist(), "zi": s.z.imag.tolist()}
            for s in spectra
        ],
    }
    try:
        proc = subprocess.run(
            [str(PY312), "-c", _PYIMPSPEC_FIT_SCRIPT],
            input=json.dumps(doc),
            capture_output=True,
            text=True,
            timeout=1800,
            env={**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1"},
        )
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}


# --- 2. model evaluation ----------------------------------------------------------------------


def _best_time(fn, number: int, repeat: int = 5) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def bench_evaluation() -> dict:
    f = log_frequencies(1e6, 0.1, 10)  # 71 points
    omega = 2 * np.pi * f
    c = Circuit(PELLET)
    P = c.params_to_array(TRUE)
    ev = c.evaluator(omega)
    out = {
        "n_points": int(f.size),
        "iondyn_compiled_us": _best_time(lambda: ev(P), 2000) * 1e6,
        "iondyn_impedance_us": _best_time(lambda: c.impedance(omega, P[0]), 1000) * 1e6,
    }
    P1000 = np.repeat(P, 1000, axis=0)
    out["iondyn_batch_1000_sets_us_per_set"] = _best_time(lambda: ev(P1000), 5) * 1e6 / 1000
    if HAVE_IMPEDANCE:
        cc = CustomCircuit(PELLET, initial_guess=list(TRUE.values()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Simulating circuit based on initial parameters"
            out["impedance_py_us"] = _best_time(lambda: cc.predict(f, use_initial=True), 200) * 1e6
    return out


# --- 3. fits from perturbed starts ------------------------------------------------------------


def _chi2(circuit: Circuit, spectrum, params: np.ndarray, weight: str) -> float:
    z = circuit.impedance_at(spectrum.frequency, np.asarray(params, dtype=float))
    d = z - spectrum.z
    w = 1.0 / np.abs(spectrum.z) if weight == "modulus" else np.ones(spectrum.n_points)
    return float(np.sum((d.real * w) ** 2 + (d.imag * w) ** 2))


def bench_fits(n_seeds: int, weight: str, peers: bool) -> dict:
    circuit = Circuit(PELLET)
    spectra = [
        simulate_spectrum(PELLET, TRUE, fmax=1e7, fmin=0.1, noise=0.01, seed=s)
        for s in range(n_seeds)
    ]
    fitter = CircuitFitter(PELLET, weight=weight)
    optimum = [fitter.fit(s, TRUE).chi2 for s in spectra]
    start = perturbed_start()
    rows = {}

    ok, t_total, errors = 0, 0.0, []
    for s, best in zip(spectra, optimum):
        t0 = time.perf_counter()
        r = fitter.fit(s, start)
        t_total += time.perf_counter() - t0
        chi2 = _chi2(circuit, s, r.values, weight)
        ok += chi2 <= best * (1 + SUCCESS_RTOL)
        errors.append(r.relative_error("R2"))
    rows["iondyn"] = {
        "success": ok,
        "n": n_seeds,
        "seconds_per_fit": t_total / n_seeds,
        "median_rel_err_R2": float(np.median(errors)),
    }
    if peers and HAVE_IMPEDANCE:
        ok, t_total, failures, unchanged = 0, 0.0, 0, 0
        guess = list(start.values())
        for s, best in zip(spectra, optimum):
            cc = CustomCircuit(PELLET, initial_guess=guess)
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    cc.fit(s.frequency, s.z, weight_by_modulus=(weight == "modulus"))
                params = np.asarray(cc.parameters_, dtype=float)
            except Exception:
                failures += 1
                params = None
            t_total += time.perf_counter() - t0
            if params is None:
                continue
            unchanged += bool(np.allclose(params, guess, rtol=1e-6))
            ok += _chi2(circuit, s, params, weight) <= best * (1 + SUCCESS_RTOL)
        rows["impedance.py"] = {
            "success": ok,
            "n": n_seeds,
            "seconds_per_fit": t_total / n_seeds,
            "exceptions": failures,
            "returned_the_start_unchanged": unchanged,
        }
    if peers:
        res = fit_pyimpspec(spectra, list(start.values()), weight)
        if res is not None and "fits" in res:
            ok, failures, unchanged, t_total = 0, 0, 0, 0.0
            guess = list(start.values())
            for s, best, f in zip(spectra, optimum, res["fits"]):
                t_total += f["seconds"]
                if f["params"] is None:
                    failures += 1
                    continue
                params = np.asarray(f["params"], dtype=float)
                unchanged += bool(np.allclose(params, guess, rtol=1e-6))
                ok += _chi2(circuit, s, params, weight) <= best * (1 + SUCCESS_RTOL)
            rows["pyimpspec"] = {
                "success": ok,
                "n": n_seeds,
                "seconds_per_fit": t_total / n_seeds,
                "exceptions": failures,
                "returned_the_start_unchanged": unchanged,
                "method": "least_squares",
            }
        elif res is not None:
            rows["pyimpspec"] = {"error": res.get("error")}
    return rows


# --- 4. DRT (slot for the DRT module) ------------------------------------------------------------


def bench_drt(quick: bool, n_seeds: int) -> dict:
    """Time per DRT on the pellet spectra of section 3 (10 MHz–0.1 Hz, 1 % noise): iondyn
    (automatic λ, series capacitance for the CPE electrode) on every spectrum, pyDRTtools 0.2
    ``simple_run`` (GCV) on the first 20 (5 with ``--quick``), loaded as in ``bench_drt.py``
    (whose accuracy cases this section does not repeat)."""
    from iondyn.eis.drt import DRT

    spectra = [
        simulate_spectrum(PELLET, TRUE, fmax=1e7, fmin=0.1, noise=0.01, seed=s)
        for s in range(n_seeds)
    ]
    DRT(series_capacitance=True).fit(spectra[0])  # kernels cached per frequency grid
    t0 = time.perf_counter()
    for s in spectra:
        DRT(series_capacitance=True).fit(s)
    out = {"iondyn": {"n": n_seeds, "seconds_per_spectrum": (time.perf_counter() - t0) / n_seeds}}
    try:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from bench_drt import PYDRT, run_pydrt
    except Exception as exc:  # peer missing: report, do not fail
        out["pyDRTtools"] = {"error": f"{type(exc).__name__}: {exc}"[:160]}
        return out
    if PYDRT is None:
        out["pyDRTtools"] = {"error": "pyDRTtools not importable"}
        return out
    n_peer = min(n_seeds, 5 if quick else 20)
    t0 = time.perf_counter()
    for s in spectra[:n_peer]:
        run_pydrt(s.frequency, s.z, "GCV")
    out["pyDRTtools"] = {"n": n_peer, "seconds_per_spectrum": (time.perf_counter() - t0) / n_peer}
    out["speed_ratio_pyDRTtools_over_iondyn"] = (
        out["pyDRTtools"]["seconds_per_spectrum"] / out["iondyn"]["seconds_per_spectrum"]
    )
    return out


# --- report ---------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 seeds instead of 100")
    ap.add_argument("--seeds", type=int, default=None, help="number of noise seeds")
    args = ap.parse_args()
    n_seeds = args.seeds or (20 if args.quick else 100)

    doc: dict = {
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "peers": {
            "impedance.py": getattr(impedance, "__version__", "?") if HAVE_IMPEDANCE else None,
            "pyimpspec_subprocess": str(PY312) if PY312.exists() else None,
        },
    }
    if not HAVE_IMPEDANCE:
        print(
            "note: impedance.py is not importable here; measuring iondyn alone "
            "(run with benchmarks/.peers-venv/bin/python for the comparison)"
        )
    if not PY312.exists():
        print("note: benchmarks/.peers312-venv not found; pyimpspec skipped")

    files = real_files()
    coverage = {"iondyn": parse_iondyn(files)}
    if HAVE_IMPEDANCE:
        coverage["impedance.py"] = parse_impedance_py(files)
    pyimp = parse_pyimpspec(files)
    if pyimp is not None and "files" in pyimp:
        coverage["pyimpspec"] = pyimp["files"]
    elif pyimp is not None:
        doc["pyimpspec_error"] = pyimp.get("error")
    doc["parse_coverage"] = coverage
    tools = list(coverage)
    rows = []
    for f in files:
        row = [f.name]
        for tool in tools:
            r = coverage[tool].get(f.name, {})
            row.append(
                f"{r.get('spectra', 0)} sp / {r.get('points', 0)} pts" if r.get("ok") else "FAIL"
            )
        rows.append(row)
    rows.append(
        ["files read"]
        + [f"{sum(r['ok'] for r in coverage[t].values())}/{len(files)}" for t in tools]
    )
    print("\n1. Parse coverage of tests/data/eis (spectra / points read)")
    print(format_table(rows, ["file", *tools]))

    ev = bench_evaluation()
    doc["evaluation"] = ev
    print(f"\n2. One model evaluation, pellet circuit, {ev['n_points']} frequencies")
    erows = [
        ["iondyn (compiled evaluator)", f"{ev['iondyn_compiled_us']:.1f} µs"],
        ["iondyn Circuit.impedance()", f"{ev['iondyn_impedance_us']:.1f} µs"],
        ["iondyn, batch of 1000 sets", f"{ev['iondyn_batch_1000_sets_us_per_set']:.2f} µs per set"],
    ]
    if "impedance_py_us" in ev:
        erows.append(["impedance.py CustomCircuit.predict", f"{ev['impedance_py_us']:.1f} µs"])
    print(format_table(erows, ["tool", "time"]))

    doc["fits"] = {}
    print(f"\n3. Pellet fits from starts a factor 3 off ({n_seeds} noise seeds, 1 % noise)")
    frows = []
    for weight in ("modulus", "unit"):
        res = bench_fits(n_seeds, weight, peers=True)
        doc["fits"][weight] = res
        for tool, r in res.items():
            if "success" not in r:
                frows.append([weight, tool, "error", "", str(r.get("error"))[:40]])
                continue
            extra = ""
            if "returned_the_start_unchanged" in r:
                extra = (
                    f"start returned unchanged {r['returned_the_start_unchanged']}, "
                    f"exceptions {r['exceptions']}"
                )
            frows.append(
                [
                    weight,
                    tool,
                    f"{r['success']}/{r['n']}",
                    f"{r['seconds_per_fit'] * 1e3:.1f} ms",
                    extra,
                ]
            )
        if "impedance.py" in res:
            ratio = res["impedance.py"]["seconds_per_fit"] / res["iondyn"]["seconds_per_fit"]
            res["speed_ratio_impedance_py_over_iondyn"] = ratio
            frows.append([weight, "speed ratio", "", f"{ratio:.1f}× (impedance.py / iondyn)", ""])
        if "seconds_per_fit" in res.get("pyimpspec", {}):
            ratio = res["pyimpspec"]["seconds_per_fit"] / res["iondyn"]["seconds_per_fit"]
            res["speed_ratio_pyimpspec_over_iondyn"] = ratio
            frows.append([weight, "speed ratio", "", f"{ratio:.1f}× (pyimpspec / iondyn)", ""])
    print(format_table(frows, ["weight", "tool", "reached optimum", "time per fit", "notes"]))

    doc["drt"] = bench_drt(args.quick, n_seeds)
    print("\n4. DRT of the same pellet spectra (time per spectrum)")
    drows = []
    for tool in ("iondyn", "pyDRTtools"):
        r = doc["drt"].get(tool, {})
        if "seconds_per_spectrum" in r:
            drows.append([tool, f"{r['n']}", f"{r['seconds_per_spectrum'] * 1e3:.1f} ms"])
        else:
            drows.append([tool, "-", str(r.get("error"))[:60]])
    if "speed_ratio_pyDRTtools_over_iondyn" in doc["drt"]:
        ratio = doc["drt"]["speed_ratio_pyDRTtools_over_iondyn"]
        drows.append(["speed ratio", "", f"{ratio:.1f}× (pyDRTtools / iondyn)"])
    print(format_table(drows, ["tool", "spectra", "time per DRT"]))

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2, default=float))
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
