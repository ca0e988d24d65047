"""Pipeline benchmark: ``iondyn analyze`` throughput vs workers, and local pool vs Dask.

    .venv/bin/python benchmarks/bench_pipeline.py [--files 1000] [--quick] [--kind impedance]

There is no peer for this part (no other tool analyses a folder of mixed instrument files), so
iondyn is measured against its own ideal: the single-file time. The script

1. writes ``--files`` simulated impedance spectra (random ceramic pellets: two R‖CPE arcs,
   bulk τ 1e-7–1e-6 s and grain boundary τ 1e-5–1e-3 s, R 1e3–1e6 Ω, n 0.8–0.95, a blocking
   electrode CPE, 0.5 % noise, 10 MHz–0.1 Hz at 8 points/decade; or, with ``--kind peaks``,
   two-Gaussian spectra of 500 points) into a temporary folder;
2. measures the single-file time t₁ in this process (``workers=0``, the mean over the first
   ``--baseline`` files after one warm-up file);
3. runs ``run_batch`` on all files with a local process pool of 1 and 2 workers and on a Dask
   ``LocalCluster`` of 2 workers (``--cluster local``), each into a fresh run folder, and
   prints files per second and the efficiency t₁·N/w ÷ wall time (1.0 = perfect scaling;
   the issue's goal is ≥ 0.8 with 2 workers);
4. checks that the three runs stored identical parameter tables (every value and error equal).

Results are printed and written to ``benchmarks/results/bench_pipeline.json``. The script
installs nothing.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from iondyn.eis.simulate import simulate_spectrum
from iondyn.pipeline import run_batch

CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"


def write_impedance_files(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` random simulated pellets (see the module docstring) as 3-column CSV files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        r1, r2 = 10 ** rng.uniform(3, 6, size=2)
        tau1, tau2 = 10 ** rng.uniform(-7, -6), 10 ** rng.uniform(-5, -3)
        n1, n2 = rng.uniform(0.85, 0.95), rng.uniform(0.8, 0.9)
        # τ = (R Q)^(1/n)  →  Q = τⁿ / R
        params = {
            "R0": 10 ** rng.uniform(0, 2),
            "R1": r1,
            "CPE1_Q": tau1**n1 / r1,
            "CPE1_n": n1,
            "R2": r2,
            "CPE2_Q": tau2**n2 / r2,
            "CPE2_n": n2,
            "CPE3_Q": 10 ** rng.uniform(-7, -5),
            "CPE3_n": rng.uniform(0.8, 0.9),
        }
        spec = simulate_spectrum(
            CIRCUIT,
            params,
            fmin=0.1,
            fmax=1e7,
            points_per_decade=8,
            noise=0.005,
            noise_model="modulus",
            seed=seed + i,
        )
        path = folder / f"pellet_{i:05d}.csv"
        rows = np.column_stack([spec.frequency, spec.z.real, -spec.z.imag])
        np.savetxt(path, rows, delimiter=",", header="freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm", comments="")
        paths.append(path)
    return paths


def write_peak_files(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` two-Gaussian spectra of 500 points on a constant background."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    x = np.linspace(0.0, 10.0, 500)
    paths = []
    for i in range(n):
        c1 = rng.uniform(3.0, 4.0)
        y = 100 * np.exp(-0.5 * ((x - c1) / 0.5) ** 2) + 60 * np.exp(-0.5 * ((x - 6.5) / 0.7) ** 2)
        y = y + 5 + rng.normal(0, 1.0, x.size)
        path = folder / f"spectrum_{i:05d}.txt"
        np.savetxt(path, np.column_stack([x, y]), fmt="%.6f")
        paths.append(path)
    return paths


PEAK_CONFIG = '[peaks]\nn_peaks = 2\nbackground = "constant"\n'


def parameter_table(run_dir: Path) -> dict[tuple, tuple]:
    db = sqlite3.connect(run_dir / "results.sqlite")
    try:
        rows = db.execute(
            "SELECT file, spectrum, item, name, value, error FROM parameter_table"
        ).fetchall()
    finally:
        db.close()
    return {r[:4]: r[4:] for r in rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=1000, help="number of files (default 1000)")
    ap.add_argument("--quick", action="store_true", help="100 files")
    ap.add_argument("--kind", choices=("impedance", "peaks"), default="impedance")
    ap.add_argument("--baseline", type=int, default=20, help="files timed one by one (20)")
    ap.add_argument("--no-dask", action="store_true", help="skip the LocalCluster run")
    ap.add_argument(
        "--pool-workers", default="1,2", help="local-pool sizes to run, comma-separated (1,2)"
    )
    args = ap.parse_args()
    n = 100 if args.quick else args.files

    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as tmp:
        root = Path(tmp)
        data = root / "data"
        config = None
        if args.kind == "impedance":
            write_impedance_files(data, n)
        else:
            write_peak_files(data, n)
            config = root / "peaks.toml"
            config.write_text(PEAK_CONFIG)

        # single-file time in this process, after one warm-up file (imports, caches)
        files = sorted(data.iterdir())
        run_batch([files[0]], root / "warmup", workers=0, config=config)
        k = min(args.baseline, n)
        t = time.perf_counter()
        base = run_batch(files[:k], root / "baseline", workers=0, config=config)
        t1 = (time.perf_counter() - t) / k
        assert base.ok == k, f"baseline: {base.error} of {k} files failed"

        sizes = [int(w) for w in args.pool_workers.split(",") if w.strip()]
        runs = [(f"pool, {w} worker{'s' * (w > 1)}", {"workers": w}) for w in sizes]
        if not args.no_dask:
            runs.append(("Dask LocalCluster, 2 workers", {"workers": 2, "cluster": "local"}))
        rows, tables = [], {}
        for name, kwargs in runs:
            out = root / name.replace(" ", "_").replace(",", "")
            t = time.perf_counter()
            summary = run_batch([data], out, config=config, **kwargs)
            wall = time.perf_counter() - t
            workers = kwargs["workers"]
            ideal = t1 * n / workers
            rows.append(
                {
                    "executor": name,
                    "workers": workers,
                    "files": n,
                    "ok": summary.ok,
                    "error": summary.error,
                    "wall_s": wall,
                    "files_per_s": n / wall,
                    "ideal_s": ideal,
                    "efficiency": ideal / wall,
                }
            )
            tables[name] = parameter_table(out)

    names = list(tables)
    identical = all(tables[a] == tables[names[0]] for a in names[1:])
    n_params = len(tables[names[0]])
    print(f"iondyn analyze, {n} simulated {args.kind} files; single-file time {1e3 * t1:.0f} ms")
    print(f"{'executor':32s} {'wall (s)':>9s} {'files/s':>8s} {'ideal (s)':>10s} {'effic.':>7s}")
    for r in rows:
        print(
            f"{r['executor']:32s} {r['wall_s']:9.1f} {r['files_per_s']:8.2f} "
            f"{r['ideal_s']:10.1f} {r['efficiency']:7.2f}"
        )
    one = next((r for r in rows if r["executor"] == "pool, 1 worker"), None)
    two = next((r for r in rows if r["executor"] == "pool, 2 workers"), None)
    if one and two:
        print(f"speed-up 2 workers / 1 worker: {one['wall_s'] / two['wall_s']:.2f}×")
    print(f"stored parameter tables identical across executors: {identical} ({n_params} rows)")

    doc = {
        "benchmark": "pipeline",
        "kind": args.kind,
        "files": n,
        "single_file_s": t1,
        "runs": rows,
        "identical_parameters": identical,
        "parameter_rows": n_params,
        "python": sys.version.split()[0],
        "machine": platform.platform(),
    }
    out_dir = Path(__file__).resolve().parent / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "bench_pipeline.json").write_text(json.dumps(doc, indent=2))
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
