"""MD benchmark: iondyn.md against kinisi and aimd on their own example data, the coverage
of the error bars on lattice random walks, MSD speed and a long trajectory in bounded memory.

Run with the peers' virtual environment (``bash benchmarks/setup_peers.sh`` installs kinisi
1.1.1 and ASE there, next to iondyn)::

    benchmarks/.peers-venv/bin/python benchmarks/bench_md.py [--quick] [--skip-long]

With the project's ``.venv`` kinisi and ASE are not importable: kinisi's figures are then
taken from its recorded run (below) and the ASE reader is not compared. Results are printed
and written to ``benchmarks/results/bench_md.json``.

1. kinisi's example trajectory (``tests/data/md/kinisi_example_XDATCAR.gz``, Li₆PS₅Cl,
   140 frames × 100 fs): kinisi's ``vasp_d`` notebook settings (Li, 2 fs × 50, in-plane
   ``xy``, diffusive regime from 2 ps, 100 linearly spaced lags, emcee sampling); iondyn with
   the same window, all lags. Also iondyn's GLS on kinisi's own MSD points (same inputs).
2. aimd's LATP data (``tests/md/data/aimd_latp_*``): the Arrhenius fit of D(T) (aimd's test
   expects Ea = 0.258128 ± 0.016832 eV) and D at 1500 K from the MSD table (7.60175e-5 cm²/s).
3. Coverage: N walks of 64 independent ions × 1000 frames hopping 0.3 times per frame on a
   cubic lattice (true D known exactly); fraction whose ±1σ interval holds the truth, for
   iondyn's GLS and for OLS with the usual regression error.
4. Speed: tracer + collective MSD of 1,000 ions × 10,000 frames in memory (atom-frames/s).
5. Long run: 100,000 frames × 1,000 ions generated block by block, read, unwrapped, spilled
   to a temporary file beyond 512 MB, and analysed (D*, D_σ); peak anonymous memory of that
   run alone (a fresh process; sampled RssAnon — the memory map's file pages, which the
   kernel drops under pressure, are counted in the RSS but not there).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

from iondyn.md.analysis import collective_msd, tracer_msd
from iondyn.md.diffusion import DiffusionFitter
from iondyn.md.fit import fit_msd_line
from iondyn.md.readers import open_trajectory
from iondyn.md.simulate import lattice_walk, lattice_walk_source
from iondyn.md.trajectory import Trajectory, build_trajectory
from iondyn.series.arrhenius import fit_arrhenius

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "md"
TABLES = Path(__file__).resolve().parents[1] / "tests" / "md" / "data"
KINISI_RECORDED = {"D": 1.3312122961098132e-05, "D_std": 1.0202104578148922e-06,
                   "ci95": [1.12563679e-05, 1.53138853e-05]}  # fmt: skip

try:  # peers, only in benchmarks/.peers-venv
    import kinisi
    from kinisi.analyze import DiffusionAnalyzer

    HAVE_KINISI = True
except Exception:
    HAVE_KINISI = False
try:
    import ase.io

    HAVE_ASE = True
except Exception:
    HAVE_ASE = False


def kinisi_case() -> dict:
    xd = DATA / "kinisi_example_XDATCAR.gz"
    out: dict = {}
    t0 = time.perf_counter()
    traj = build_trajectory(open_trajectory(xd), "Li", frame_interval_fs=100.0, temperature_K=600)
    r = DiffusionFitter(dims="xy", fit_start_ps=2.0, end_fraction=1.0).fit(traj)
    out["iondyn"] = {"D": r.D_cm2_per_s, "D_err": r.D_cm2_per_s_err,
                     "seconds": time.perf_counter() - t0, "jump_excess": r.tracer.jump_excess,
                     "chi2_reduced": r.tracer.chi2_reduced}  # fmt: skip
    if HAVE_ASE:
        ase_traj = build_trajectory(
            open_trajectory(xd, backend="ase"), "Li", frame_interval_fs=100.0
        )
        out["ase_vs_native_max_dev_A"] = float(np.max(np.abs(ase_traj.positions - traj.positions)))
    if HAVE_KINISI:
        atoms = ase.io.read(xd, format="vasp-xdatcar", index=":")
        np.random.seed(42)  # noqa: NPY002 (kinisi's emcee sampler draws from the global state)
        t0 = time.perf_counter()
        d = DiffusionAnalyzer.from_ase(
            atoms, parser_params={"specie": "Li", "time_step": 2.0e-3, "step_skip": 50,
                                  "progress": False},
            uncertainty_params={"dimension": "xy", "progress": False},
        )  # fmt: skip
        d.diffusion(2, diffusion_params={"random_state": np.random.RandomState(42),
                                         "progress": False})  # fmt: skip
        k = {"D": float(d.D.n), "D_std": float(np.std(d.D.samples)),
             "ci95": [float(x) for x in d.D.ci()], "seconds": time.perf_counter() - t0,
             "version": kinisi.__version__}  # fmt: skip
        sel = d.dt >= 2
        lags = np.minimum(np.round(d.dt[sel] / 0.1).astype(int), traj.n_frames - 1)
        same = fit_msd_line(lags, d.msd[sel], 0.1, traj.n_frames, 2, traj.n_ions)
        out["iondyn_on_kinisi_msd"] = {"D": same.D_cm2_per_s, "D_err": same.D_cm2_per_s_err}
    else:
        k = dict(KINISI_RECORDED, version="1.1.1 (recorded)")
    out["kinisi"] = k
    out["ratio"] = out["iondyn"]["D"] / k["D"]
    return out


def aimd_case() -> dict:
    t, d, e = np.loadtxt(TABLES / "aimd_latp_D_T.csv", delimiter=",", skiprows=1).T
    fit = fit_arrhenius(t, d, e, convention="D")
    dt, msd = np.loadtxt(
        TABLES / "aimd_latp_msd-t.csv", delimiter=",", skiprows=1, usecols=(0, 1)
    ).T
    lo, hi = int(np.sum(msd < 0.5 * 3.2**2)), int(len(msd) * 0.5) - 1
    lags = np.round(dt[lo : hi + 1] / 20.0).astype(int)
    ols = fit_msd_line(lags, msd[lo : hi + 1], 0.02, len(msd) + 1, 3, 1.0, method="ols")
    return {"Ea_eV": fit.Ea_eV, "Ea_eV_err": fit.Ea_eV_err,
            "aimd_Ea": [0.258128283041, 0.0168320198494], "D_1500K": ols.D_cm2_per_s,
            "aimd_D_1500K": 7.60175023036e-05}  # fmt: skip


def coverage_case(n: int) -> dict:
    truth = 0.3 / 6.0 * 1e-4
    fitters = {"gls": DiffusionFitter(collective=False),
               "ols": DiffusionFitter(collective=False, method="ols")}  # fmt: skip
    z = {k: [] for k in fitters}
    t0 = time.perf_counter()
    for k in range(n):
        pos, cell = lattice_walk(64, 1000, 0.3, box_sites=10, seed=20000 + k)
        traj = Trajectory.from_arrays(pos, cell, 1.0, ["Li"] * 64, "Li")
        for name, f in fitters.items():
            r = f.fit(traj)
            z[name].append((r.D_cm2_per_s - truth) / r.D_cm2_per_s_err)
    out = {"walks": n, "seconds": time.perf_counter() - t0}
    for name, v in z.items():
        v = np.array(v)
        out[name] = {"coverage_68": float(np.mean(np.abs(v) < 1)),
                     "coverage_95": float(np.mean(np.abs(v) < 1.96)),
                     "rms_z": float(np.sqrt(np.mean(v**2)))}  # fmt: skip
    return out


def speed_case() -> dict:
    pos, cell = lattice_walk(1000, 10000, 0.3, box_sites=20, seed=1, block_frames=2048)
    traj = Trajectory.from_arrays(pos, cell, 1.0, ["Li"] * 1000, "Li")
    del pos
    best = {}
    for name, fn in (("tracer", lambda: tracer_msd(traj.positions)),
                     ("collective", lambda: collective_msd(traj.positions))):  # fmt: skip
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        best[name] = min(times)
    af = 1000 * 10000
    return {"atom_frames": af, "tracer_s": best["tracer"], "collective_s": best["collective"],
            "tracer_atom_frames_per_s": af / best["tracer"]}  # fmt: skip


def _anon_mb() -> float:
    """Anonymous resident memory (MB) of this process: RssAnon of /proc/self/status (file
    pages of a memory map, which the kernel can drop, are not in it)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def long_case(frames: int, ions: int) -> dict:
    import threading

    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _anon_mb())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    src = lattice_walk_source(ions, frames, 0.3, box_sites=20, seed=3)
    traj = build_trajectory(src, "Li", frame_interval_fs=1000.0, memory_limit_mb=512,
                            block_frames=1024)  # fmt: skip
    t1 = time.perf_counter()
    r = DiffusionFitter(chunk_mb=256).fit(traj)
    t2 = time.perf_counter()
    stop.set()
    sampler.join()
    return {"frames": frames, "ions": ions, "on_disk": traj.on_disk,
            "positions_GB": frames * ions * 24 / 1e9, "read_unwrap_s": t1 - t0,
            "analysis_s": t2 - t1, "D_over_truth": r.D_cm2_per_s / (0.3 / 6 * 1e-4),
            "D_rel_err": r.D_cm2_per_s_err / r.D_cm2_per_s,
            "peak_anon_GB": peak[0] / 1024.0,
            "peak_rss_GB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100 walks, 10,000-frame long run")
    ap.add_argument("--skip-long", action="store_true")
    ap.add_argument("--long-only", type=int, metavar="FRAMES", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.long_only:  # run in a fresh process so that its peak memory is its own
        print(json.dumps(long_case(args.long_only, 1000)))
        return
    res = {"python": platform.python_version(), "numpy": np.__version__}
    res["kinisi_example"] = kinisi_case()
    k = res["kinisi_example"]
    print(f"kinisi example: iondyn D = {k['iondyn']['D']:.4e} ± {k['iondyn']['D_err']:.2e}, "
          f"kinisi {k['kinisi']['D']:.4e} ± {k['kinisi']['D_std']:.2e} "
          f"({k['kinisi']['version']}); ratio {k['ratio']:.4f}")  # fmt: skip
    if "iondyn_on_kinisi_msd" in k:
        print(f"  iondyn GLS on kinisi's MSD points: {k['iondyn_on_kinisi_msd']['D']:.4e}")
    if "ase_vs_native_max_dev_A" in k:
        print(f"  ASE reader vs native reader: max deviation {k['ase_vs_native_max_dev_A']:.2e} Å")
    res["aimd_latp"] = a = aimd_case()
    print(f"aimd LATP: Ea = {a['Ea_eV']:.6f} ± {a['Ea_eV_err']:.6f} eV (aimd 0.258128 ± "
          f"0.016832); D(1500 K) = {a['D_1500K']:.6e} (aimd 7.601750e-05)")  # fmt: skip
    res["coverage"] = c = coverage_case(100 if args.quick else 500)
    print(f"coverage over {c['walks']} walks: GLS {c['gls']['coverage_68']:.3f} (95 %: "
          f"{c['gls']['coverage_95']:.3f}, rms z {c['gls']['rms_z']:.2f}); OLS "
          f"{c['ols']['coverage_68']:.3f} (rms z {c['ols']['rms_z']:.1f}); "
          f"{c['seconds']:.0f} s")  # fmt: skip
    res["speed"] = s = speed_case()
    print(f"MSD speed: tracer {s['tracer_atom_frames_per_s']:.3g} atom-frames/s "
          f"({s['tracer_s']:.2f} s for 1e7), collective {s['collective_s']:.2f} s")  # fmt: skip
    if not args.skip_long:
        import subprocess

        frames = 10000 if args.quick else 100000
        cmd = [sys.executable, __file__, "--long-only", str(frames)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        res["long"] = g = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"long run {g['frames']} × {g['ions']}: read+unwrap {g['read_unwrap_s']:.0f} s, "
              f"analysis {g['analysis_s']:.0f} s, positions {g['positions_GB']:.1f} GB on disk="
              f"{g['on_disk']}, peak anonymous memory {g['peak_anon_GB']:.2f} GB (RSS with "
              f"mapped file pages {g['peak_rss_GB']:.2f} GB), D/truth "
              f"{g['D_over_truth']:.4f} ± {g['D_rel_err']:.4f}")  # fmt: skip
    out = Path(__file__).parent / "results" / "bench_md.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1, default=float))
    print(f"written {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
