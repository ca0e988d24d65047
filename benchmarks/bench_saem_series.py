"""SAEM series mode against independent fits on the same spectra, in one run.

Run with the project's environment (no peer is involved)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_saem_series.py [--quick]

Case: the C 1s-like series of ``tests/saem/test_series_optimum.py`` (issue 13 item 4) —
80 spectra on 280–292 eV in 0.05 eV steps, Poisson counts, three Gaussians (284.8 eV,
FWHM 0.9, height 4000; a peak drifting from 285.2 to 286.0 eV, FWHM 1.1, height 2500;
288.8 eV, FWHM 1.0, height 1500) on a constant background of 200 counts; 3 peaks, constant
background, Poisson likelihood. ``--n`` gives a longer series (same drift range, finer steps);
``--seeds`` repeats the accuracy figures for several noise draws.

Printed per mode (``fit``: every spectrum independently; ``fit_series``): time per spectrum
(best of ``--repeat`` runs), the ratio of the two, how many series fits end with a deviance
above the independent fit's × (1 + 10⁻³), the RMSE of the drifting centre and the rms of
z = (estimate − truth)/σ for every peak's centre, FWHM and area. Written to
``benchmarks/results/bench_saem_series.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from iondyn.saem import SAEM

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
WIDTHS = np.array([0.9, 1.1, 1.0])
HEIGHTS = np.array([4000.0, 2500.0, 1500.0])
BACKGROUND = 200.0


def c1s_series(n: int = 80, seed: int = 0, separation=(0.4, 1.2)):
    """(x, counts (n, N), true centres (n, 3), true FWHMs (3,), true areas (3,))."""
    x = np.arange(280.0, 292.0 + 1e-9, 0.05)
    centers = np.column_stack(
        [np.full(n, 284.8), 284.8 + np.linspace(*separation, n), np.full(n, 288.8)]
    )
    s = WIDTHS / FWHM_PER_SIGMA
    clean = BACKGROUND + np.sum(
        HEIGHTS[:, None] * np.exp(-0.5 * ((x - centers[:, :, None]) / s[:, None]) ** 2), axis=1
    )
    y = np.random.default_rng(seed).poisson(clean).astype(float)
    areas = HEIGHTS * s * np.sqrt(2.0 * np.pi)
    return x, y, centers, WIDTHS.copy(), areas


def engine() -> SAEM:
    return SAEM("gaussian", 3, background="constant", likelihood="poisson")


def _sorted(res, name):
    """Per-spectrum values ordered by centre (independent fits order peaks by centre)."""
    c = res.array("center")
    order = np.argsort(c, axis=1)
    return np.take_along_axis(res.array(name), order, 1)


def accuracy(res, truth, by_center: bool) -> dict:
    centers, widths, areas = truth
    out = {}
    for name, true in (("center", centers), ("fwhm", widths), ("area", areas)):
        est = _sorted(res, name) if by_center else res.array(name)
        err = _sorted(res, f"{name}_err") if by_center else res.array(f"{name}_err")
        z = (est - true) / err
        out[f"rms_z_{name}"] = [float(v) for v in np.sqrt(np.mean(z**2, axis=0))]
        out[f"rmse_{name}"] = [float(v) for v in np.sqrt(np.mean((est - true) ** 2, axis=0))]
    return out


def timed(fn, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def run(n: int, seed: int, repeat: int, separation=(0.4, 1.2)) -> dict:
    x, y, centers, widths, areas = c1s_series(n, seed, separation)
    truth = (centers, widths[None, :], areas[None, :])
    ind, t_ind = timed(lambda: engine().fit((x, y)), repeat)
    ser, t_ser = timed(lambda: engine().fit_series((x, y)), repeat)
    d_ind = np.array([f.quality["deviance"] for f in ind])
    d_ser = np.array([f.quality["deviance"] for f in ser])
    worse = d_ser > d_ind * (1.0 + 1e-3)
    near = np.abs(ser.array("center")[:, :, None] - centers[:, None, :]).argmin(axis=2)
    return {
        "n": n,
        "seed": seed,
        "separation_eV": list(separation),
        "ms_per_spectrum_independent": 1e3 * t_ind / n,
        "ms_per_spectrum_series": 1e3 * t_ser / n,
        "speedup_series_vs_independent": t_ind / t_ser,
        "series_worse_than_independent": int(worse.sum()),
        "max_deviance_excess": float(np.max(d_ser - d_ind)),
        "series_better_than_independent": int(np.sum(d_ind > d_ser * (1.0 + 1e-3))),
        "all_converged_series": bool(all(f.converged for f in ser)),
        "identity_follows_truth": int(np.sum(np.all(near == np.arange(3), axis=1))),
        "audited_spectra": ser.settings.get("audited_spectra"),
        "independent": accuracy(ind, truth, by_center=True),
        "series": accuracy(ser, truth, by_center=False),
    }


def report(r: dict) -> None:
    print(
        f"\n{r['n']} spectra, drifting peak {r['separation_eV'][0]}–{r['separation_eV'][1]} eV "
        f"above the first, noise seed {r['seed']}: "
        f"independent {r['ms_per_spectrum_independent']:.2f} ms/spectrum, "
        f"series {r['ms_per_spectrum_series']:.2f} ms/spectrum "
        f"(series {r['speedup_series_vs_independent']:.2f}× faster)"
    )
    print(
        f"  series deviance > independent × (1 + 1e-3): {r['series_worse_than_independent']}"
        f"/{r['n']} (max excess {r['max_deviance_excess']:.3g}); better: "
        f"{r['series_better_than_independent']}; all converged: {r['all_converged_series']}; "
        f"ids follow the truth: {r['identity_follows_truth']}/{r['n']}; "
        f"independently audited: {r['audited_spectra']}"
    )
    for mode in ("independent", "series"):
        a = r[mode]
        z = "  ".join(
            f"{q} " + "/".join(f"{v:.2f}" for v in a[f"rms_z_{q}"])
            for q in ("center", "fwhm", "area")
        )
        print(
            f"  {mode:12s} drifting centre RMSE {a['rmse_center'][1]:.4f} eV, "
            f"rms z (peaks 1/2/3): {z}"
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one repeat, one seed")
    ap.add_argument("--n", type=int, default=80, help="spectra in the series")
    ap.add_argument("--seeds", type=int, default=3, help="noise draws (accuracy figures)")
    ap.add_argument("--repeat", type=int, default=3, help="timing: best of this many runs")
    args = ap.parse_args()
    seeds = 1 if args.quick else args.seeds
    repeat = 1 if args.quick else args.repeat
    engine().fit_series(c1s_series(8)[:2])  # warm-up (imports, caches)
    results = {"machine": platform.platform(), "python": sys.version.split()[0], "runs": []}
    for separation in ((0.4, 1.2), (1.2, 2.0)):  # the case; a resolved one
        for seed in range(seeds if separation[0] < 1.0 else 1):
            r = run(args.n, seed, repeat, separation)
            results["runs"].append(r)
            report(r)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_saem_series.json").write_text(json.dumps(results, indent=1))
    print(f"\nwritten {out / 'bench_saem_series.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
