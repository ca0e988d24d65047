"""Peak-spectrum benchmark: iondyn's SAEM vs EMPeaks 3.0.0 on the same spectra, in one run.

Run with the peers' virtual environment (``bash benchmarks/setup_peers.sh`` installs EMPeaks and
iondyn there)::

    benchmarks/.peers-venv/bin/python benchmarks/bench_peaks.py [--quick]

With the project's ``.venv`` EMPeaks is not importable and only iondyn is measured. This script
installs nothing. It prints, per case, success rate, center error and time per spectrum for
iondyn (batched) and EMPeaks (one random start; 10 starts), and the throughput ratio; the same
figures go to ``benchmarks/results/bench_peaks.json``.

Cases
  A  three overlapping Gaussians, 1000 points, Poisson counts (~2e5 in total)
  B  the same with zero-mean Gaussian noise leaving negative values
  C  one Voigt and one Doniach–Šunjić fit (two peaks, 1000 points)
  D  a series of 10,000 spectra (1000 points, 3 peaks, one drifting by several FWHM)
Success = every fitted center within 0.02 × FWHM of the truth.
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

from iondyn.saem import SAEM
from iondyn.saem.components import get_component
from iondyn.saem.components.base import window_bounds

try:  # the peer, only in benchmarks/.peers-venv
    from EMPeaks.GaussianMixture import GaussianMixtureModel

    HAVE_EMPEAKS = True
except Exception:  # any import failure means "peer not available"
    HAVE_EMPEAKS = False

X = np.linspace(0.0, 100.0, 1000)
TRUE = np.array([(40.0, 8.0, 1.0), (50.0, 10.0, 0.7), (62.0, 8.0, 0.5)])
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def gaussian(x, c, f, a):
    s = f / FWHM_PER_SIGMA
    return a * np.exp(-0.5 * ((x - c) / s) ** 2) / (s * np.sqrt(2 * np.pi))


def case_a(n, seed=1):
    shape = sum(gaussian(X, *t) for t in TRUE)
    shape = shape / shape.sum()
    return np.random.default_rng(seed).poisson(shape * 2e5, size=(n, X.size)).astype(float)


def case_b(n, seed=2):
    shape = sum(gaussian(X, *t) for t in TRUE)
    clean = shape / shape.sum() * 2e5
    rng = np.random.default_rng(seed)
    return clean + rng.normal(0.0, 0.5 * np.sqrt(clean.max()), size=(n, X.size))


def success(centers: np.ndarray) -> np.ndarray:
    err = np.abs(np.sort(centers, axis=-1) - TRUE[:, 0]) / TRUE[:, 1]
    return np.all(err < 0.02, axis=-1)


def run_iondyn(y, likelihood, background="none"):
    t0 = time.perf_counter()
    res = SAEM("gaussian", 3, background=background, likelihood=likelihood).fit((X, y))
    dt = time.perf_counter() - t0
    c = res.array("center")
    return {
        "success": int(success(c).sum()),
        "n": len(y),
        "seconds_per_spectrum": dt / len(y),
        "median_center_error_fwhm": float(np.median(np.abs(c - TRUE[:, 0]) / TRUE[:, 1])),
    }


def _empeaks_fit(y, trials, seed):
    np.random.seed(seed)  # noqa: NPY002 - EMPeaks draws its starts from the global state
    model = GaussianMixtureModel(K=3, x_min=X[0], x_max=X[-1], sigma_min=0.05, sigma_max=50)
    with contextlib.redirect_stdout(io.StringIO()):
        if trials == 1:
            model.init_param_uniform()
            model.fit(X, y, method="adapted_em", stdout=False)
        else:
            model.sampling(X, y, method="adapted_em", trial=trials, stdout=False)
    return np.array([model.model[k].mu for k in range(3)], dtype=float)


def run_empeaks(y, trials):
    ok = 0
    errs = []
    t0 = time.perf_counter()
    for i, row in enumerate(y):
        try:
            c = _empeaks_fit(row, trials, seed=i)
        except (Exception, SystemExit) as exc:  # a crash counts as a failure
            errs.append(np.inf)
            last_error = f"{type(exc).__name__}: {exc}"[:120]
            continue
        s = bool(success(c[None])[0])
        ok += s
        errs.append(float(np.max(np.abs(np.sort(c) - TRUE[:, 0]) / TRUE[:, 1])))
    dt = time.perf_counter() - t0
    out = {
        "success": ok,
        "n": len(y),
        "seconds_per_spectrum": dt / len(y),
        "median_center_error_fwhm": float(np.median(errs)),
    }
    if "last_error" in locals():
        out["last_error"] = last_error
    return out


def _empeaks_shape_fit(name, y, seed):
    """One EMPeaks fit (one random start, uniform background) → centers, seconds."""
    from EMPeaks.DoniachSunjicMixture import DoniachSunjicMixtureModel
    from EMPeaks.VoigtMixture import VoigtMixtureModel

    np.random.seed(seed)  # noqa: NPY002 - EMPeaks draws its starts from the global state
    if name == "voigt":
        model = VoigtMixtureModel(K=2, x_min=X[0], x_max=X[-1], background="uniform")
    else:
        model = DoniachSunjicMixtureModel(K=2, x_min=X[0], x_max=X[-1], background="uniform")
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        model.init_param_uniform()
        model.fit(X, y, method="adapted_em", stdout=False)
    dt = time.perf_counter() - t0
    return np.sort([float(model.model[k].x0) for k in range(2)]), dt


def run_shapes(n_peer):
    out = {}
    for name, theta in (
        ("voigt", [[30.0, 2.0, 2.0], [60.0, 3.0, 1.5]]),
        ("doniach-sunjic", [[30.0, 1.5, 0.15], [60.0, 2.0, 0.1]]),
    ):
        comp = get_component(name)
        th = np.array([theta])
        win = window_bounds(X[None])
        truth = comp.describe(th, win)
        want_c = truth["center"][0]
        fwhm = truth["fwhm"][0]
        clean = (np.array([[1000.0, 1500.0]])[..., None] * comp.pdf(X[None], th, win)).sum(1)[0]
        rng = np.random.default_rng(3)
        times, ok = [], 0
        ys = [clean + 3.0 + rng.normal(0, 0.01 * clean.max(), X.size) for _ in range(10)]
        for y in ys:
            t0 = time.perf_counter()
            fit = SAEM(name, 2, background="constant").fit((X, y))[0]
            times.append(time.perf_counter() - t0)
            ok += bool(np.all(np.abs(fit.peaks["center"] - want_c) < 0.02 * fwhm))
        row = {
            "iondyn": {
                "median_seconds_per_fit": float(np.median(times)),
                "success": ok,
                "n": len(ys),
            }
        }
        if HAVE_EMPEAKS:
            ptimes, pok = [], 0
            for i, y in enumerate(ys[:n_peer]):
                try:
                    c, dt = _empeaks_shape_fit(name, y, i)
                except (Exception, SystemExit):  # a crash counts as a failure
                    continue
                ptimes.append(dt)
                pok += bool(np.all(np.abs(c - want_c) < 0.02 * fwhm))
            row["empeaks_1_start"] = {
                "median_seconds_per_fit": float(np.median(ptimes)) if ptimes else float("nan"),
                "success": pok,
                "n": n_peer,
            }
        out[name] = row
    return out


def run_series(n):
    x = np.linspace(280.0, 295.0, 1000)
    rng = np.random.default_rng(4)
    c2 = np.linspace(284.0, 289.0, n)
    base = gaussian(x, 282.0, 1.0, 100) + gaussian(x, 290.5, 1.0, 80) + 5.0
    y = base + gaussian(x[None, :], c2[:, None], 1.2, 60)
    y = y + rng.normal(0.0, 0.01 * y.max(), y.shape)
    t0 = time.perf_counter()
    res = SAEM("gaussian", 3, background="constant").fit_series((x, y))
    dt = time.perf_counter() - t0
    c = res.array("center")
    return {
        "n": n,
        "seconds": dt,
        "seconds_per_spectrum": dt / n,
        "identity_kept": bool(np.max(np.abs(c[:, 1] - c2)) < 0.05),
        "max_center_error": float(
            np.max(np.abs(c - np.column_stack([np.full(n, 282.0), c2, np.full(n, 290.5)])))
        ),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer spectra (a smoke run)")
    ap.add_argument("--series", type=int, default=10_000, help="spectra in case D")
    args = ap.parse_args()
    n_peer = 5 if args.quick else 20
    n_ours = 20 if args.quick else 100
    results = {
        "machine": platform.platform(),
        "python": sys.version.split()[0],
        "empeaks_available": HAVE_EMPEAKS,
    }
    print(f"EMPeaks importable: {HAVE_EMPEAKS}")
    for label, make, lik in (
        ("A_poisson", case_a, "poisson"),
        ("B_gaussian_negative", case_b, "gaussian"),
    ):
        y = make(n_ours)
        row = {"iondyn": run_iondyn(y, lik), "iondyn_same_as_peer": run_iondyn(y[:n_peer], lik)}
        if HAVE_EMPEAKS:
            row["empeaks_1_start"] = run_empeaks(y[:n_peer], 1)
            row["empeaks_10_starts"] = run_empeaks(y[:n_peer], 10)
            ratio = (
                row["empeaks_10_starts"]["seconds_per_spectrum"]
                / row["iondyn"]["seconds_per_spectrum"]
            )
            row["throughput_ratio_vs_empeaks_10_starts"] = ratio
        results[label] = row
        print(f"\ncase {label}")
        for who, r in row.items():
            if isinstance(r, dict):
                print(
                    f"  {who:22s} success {r['success']:3d}/{r['n']:<3d}  "
                    f"median |Δc|/FWHM {r['median_center_error_fwhm']:.4f}  "
                    f"{1000 * r['seconds_per_spectrum']:9.2f} ms/spectrum"
                )
        if "throughput_ratio_vs_empeaks_10_starts" in row:
            ratio = row["throughput_ratio_vs_empeaks_10_starts"]
            print(f"  iondyn throughput / EMPeaks 10-start: {ratio:.1f}×")
    shapes = run_shapes(1 if args.quick else 3)
    results["C_shapes"] = shapes
    print("\ncase C (two peaks, 1000 points; success = centers within 0.02 FWHM)")
    for name, row in shapes.items():
        for who, r in row.items():
            ms = 1000 * r["median_seconds_per_fit"]
            print(f"  {name:16s} {who:16s} {ms:9.1f} ms per fit, success {r['success']}/{r['n']}")
    series = run_series(500 if args.quick else args.series)
    results["D_series"] = series
    print(
        f"\ncase D series: {series['n']} spectra in {series['seconds']:.1f} s "
        f"({1000 * series['seconds_per_spectrum']:.2f} ms/spectrum), "
        f"identity kept: {series['identity_kept']}"
    )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_peaks.json").write_text(json.dumps(results, indent=1))
    print(f"\nwritten {out / 'bench_peaks.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
