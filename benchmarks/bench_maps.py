"""Spectrum images: iondyn's map fit and NMF-ARD against HyperSpy 2.x and scikit-learn.

    benchmarks/.peers-venv/bin/python benchmarks/bench_maps.py            # 256 × 256 × 500
    .venv/bin/python benchmarks/bench_maps.py --size 64                    # iondyn alone, smaller

1. **Map fit** (issue 14): a 256 × 256 × 500 map of 3 Gaussian peaks (centres drifting by up
   to ±0.5 FWHM across the map, areas ±40 %) on a linear background, Poisson counts, written
   to a memory-mapped ``.npy`` and fitted by ``MapFitter("gaussian", "auto",
   likelihood="poisson")`` with **no start** and K chosen once for the map. Success: every
   centre of a pixel within 0.05 FWHM of the truth. Goal: ≤ 5 min, ≥ 99 % of the pixels.
2. **HyperSpy 2.x ``multifit``** (3 Gaussians + a degree-1 polynomial) on the first 32 × 32
   pixels, **started at the truth of the first pixel** (multifit carries each pixel's result
   to the next), side by side with iondyn on the same 32 × 32 pixels (K fixed and auto).
3. **NMF**: iondyn's NMF-ARD (KL, K found automatically from 8) against scikit-learn's
   ``NMF(beta_loss="kullback-leibler", solver="mu")`` **given the true K = 3**, on a
   64 × 64 × 500 map of three phases; times, K, relative error.

Times are wall-clock seconds on this machine (one BLAS thread). Results also go to
``benchmarks/results/bench_maps.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from iondyn.maps import NMFARD, MapFitter, SpectrumMap, read_map

FPS = 2.0 * np.sqrt(2.0 * np.log(2.0))
BASE_C = np.array([130.0, 150.0, 172.0])
FWHM = np.array([7.0, 9.0, 6.0])
AREAS = np.array([6000.0, 5000.0, 3500.0])


def truth(ny: int, nx: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.meshgrid(np.linspace(-1, 1, ny), np.linspace(-1, 1, nx), indexing="ij")
    centers = BASE_C + np.stack([0.5 * xx, 0.5 * yy, 0.4 * xx * yy], -1) * FWHM
    amp = AREAS * (1 + 0.4 * np.stack([np.sin(2 * xx), np.cos(1.5 * yy), xx * yy], -1))
    return centers, amp


def write_map(path: Path, ny: int, nx: int, n: int, seed: int = 0) -> np.ndarray:
    """The benchmark map as a .npy written row block by row block; returns the axis."""
    rng = np.random.default_rng(seed)
    x = np.linspace(100.0, 200.0, n)
    centers, amp = truth(ny, nx)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(ny, nx, n))
    s = FWHM / FPS
    bg = 20.0 + 10.0 * (x - 100.0) / 100.0
    for r in range(0, ny, 16):
        c = centers[r : r + 16, ..., None]
        a = amp[r : r + 16, ..., None]
        mean = np.sum(
            a * np.exp(-0.5 * ((x - c) / s[:, None]) ** 2) / (s[:, None] * np.sqrt(2 * np.pi)),
            axis=-2,
        )
        out[r : r + 16] = rng.poisson(mean + bg)
    out.flush()
    del out
    return x


def success(fit_centers: np.ndarray, true_centers: np.ndarray) -> float:
    err = np.abs(fit_centers - true_centers) / FWHM
    return float(np.mean(np.nan_to_num(err, nan=np.inf).max(axis=-1) < 0.05))


def bench_iondyn(path: Path, x: np.ndarray, ny: int, nx: int) -> dict:
    m = read_map(path, axis=x)
    t = time.perf_counter()
    fit = MapFitter("gaussian", "auto", likelihood="poisson", background="linear").fit(m)
    wall = time.perf_counter() - t
    centers, _ = truth(ny, nx)
    return {
        "pixels": ny * nx,
        "seconds": wall,
        "spectra_per_s": ny * nx / wall,
        "k": fit.n_peaks,
        "success": success(fit.maps["center"], centers),
        "bic_table": fit.bic_table,
        "quality": fit.quality_counts(),
        "converged": float(np.mean(fit.maps["converged"])),
        "audit": fit.stats["audit"],
        "timings": fit.stats["timings"],
    }


def bench_hyperspy(data: np.ndarray, x: np.ndarray, centers: np.ndarray, amp: np.ndarray):
    try:
        import hyperspy.api as hs
    except Exception as exc:
        return {"skipped": f"HyperSpy not importable ({type(exc).__name__}: {exc})"}
    sig = hs.signals.Signal1D(data.astype(float))
    sig.axes_manager.signal_axes[0].scale = float(x[1] - x[0])
    sig.axes_manager.signal_axes[0].offset = float(x[0])
    model = sig.create_model()
    comps = []
    for k in range(3):
        g = hs.model.components1D.Gaussian()
        g.centre.value = float(centers[0, 0, k])
        g.sigma.value = float(FWHM[k] / FPS)
        g.A.value = float(amp[0, 0, k])
        comps.append(g)
    bg = hs.model.components1D.Polynomial(order=1)
    bg.a0.value, bg.a1.value = 10.0, 0.1
    model.extend(comps + [bg])
    for c in comps + [bg]:
        for p in c.parameters:
            p.assign_current_value_to_all()
    t = time.perf_counter()
    model.multifit(show_progressbar=False, optimizer="lm")
    wall = time.perf_counter() - t
    fitted = np.stack([c.centre.map["values"] for c in comps], axis=-1)
    return {
        "version": hs.__version__,
        "pixels": int(data.shape[0] * data.shape[1]),
        "seconds": wall,
        "spectra_per_s": data.shape[0] * data.shape[1] / wall,
        "success": success(fitted, centers),
    }


def bench_nmf(size: int, n: int, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, n)
    spectra = np.stack(
        [
            np.exp(-0.5 * ((x - c) / 0.04) ** 2)
            + 0.4 * np.exp(-0.5 * ((x - c - 0.2) / 0.05) ** 2)
            + 0.05
            for c in (0.2, 0.4, 0.6)
        ]
    )
    yy, xx = np.indices((size, size)) / size
    ab = np.stack(
        [
            np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.05)
            for cy, cx in ((0.25, 0.25), (0.7, 0.4), (0.4, 0.8))
        ],
        -1,
    ).reshape(-1, 3)
    ab /= ab.sum(1, keepdims=True)
    v = rng.poisson(50.0 * ab @ spectra).astype(float)
    out: dict = {"pixels": size * size, "channels": n, "true_k": 3}
    t = time.perf_counter()
    res = NMFARD(8, max_fit_pixels=size * size).fit(v)
    out["iondyn"] = {
        "seconds": time.perf_counter() - t,
        "k": res.n_components,
        "relative_error": res.relative_error,
        "iterations": res.iterations,
    }
    try:
        from sklearn.decomposition import NMF
    except ImportError:
        out["sklearn"] = {"skipped": "scikit-learn not importable"}
        return out
    t = time.perf_counter()
    model = NMF(
        3,
        beta_loss="kullback-leibler",
        solver="mu",
        init="nndsvda",
        max_iter=2000,
        tol=1e-5,
        random_state=0,
    )
    w = model.fit_transform(v)
    rel = float(np.linalg.norm(v - w @ model.components_) / np.linalg.norm(v))
    out["sklearn"] = {
        "seconds": time.perf_counter() - t,
        "k": 3,
        "given_k": True,
        "relative_error": rel,
        "iterations": int(model.n_iter_),
    }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256, help="map side (pixels)")
    ap.add_argument("--channels", type=int, default=500)
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args()
    ny = nx = args.size
    n = args.channels
    results: dict = {"python": sys.version.split()[0], "numpy": np.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "map.npy"
        t = time.perf_counter()
        x = write_map(path, ny, nx, n)
        print(f"map {ny} × {nx} × {n} written in {time.perf_counter() - t:.1f} s")
        r = bench_iondyn(path, x, ny, nx)
        results["iondyn_full"] = r
        print(
            f"iondyn, {ny}×{nx}: {r['seconds']:.1f} s ({r['spectra_per_s']:.0f} spectra/s), "
            f"K = {r['k']}, success {100 * r['success']:.2f} %, quality {r['quality']}, "
            f"audit {r['audit']}, stages {r['timings']}"
        )
        sub = np.asarray(np.load(path, mmap_mode="r")[:32, :32], dtype=float)
    centers, amp = truth(ny, nx)
    c_sub, a_sub = centers[:32, :32], amp[:32, :32]
    sm = SpectrumMap(sub, x)
    for label, k in (("iondyn_32_fixed_k", 3), ("iondyn_32_auto", "auto")):
        t = time.perf_counter()
        fit = MapFitter("gaussian", k, likelihood="poisson").fit(sm)
        wall = time.perf_counter() - t
        results[label] = {
            "seconds": wall,
            "spectra_per_s": 1024 / wall,
            "success": success(fit.maps["center"], c_sub),
        }
        print(
            f"{label}: {wall:.2f} s ({1024 / wall:.0f} spectra/s), "
            f"success {100 * results[label]['success']:.1f} %"
        )
    if not args.no_peers:
        hs_res = bench_hyperspy(sub, x, c_sub, a_sub)
        results["hyperspy_32_true_start"] = hs_res
        if "skipped" in hs_res:
            print(f"HyperSpy: {hs_res['skipped']}")
        else:
            hs_rate = hs_res["spectra_per_s"]
            fixed = results["iondyn_32_fixed_k"]["spectra_per_s"] / hs_rate
            auto = results["iondyn_32_auto"]["spectra_per_s"] / hs_rate
            full = results["iondyn_full"]["spectra_per_s"] / hs_rate
            print(
                f"HyperSpy {hs_res['version']} multifit (true start), 32×32: "
                f"{hs_res['seconds']:.1f} s ({hs_rate:.0f} spectra/s), success "
                f"{100 * hs_res['success']:.1f} %; extrapolated to {ny}×{nx}: "
                f"{ny * nx / hs_rate / 60:.1f} min"
            )
            print(
                f"throughput ratio iondyn / HyperSpy: {fixed:.1f}× (32×32, K fixed), "
                f"{auto:.2f}× (32×32, K auto: the K choice is a fixed cost), "
                f"{full:.1f}× ({ny}×{nx}, K auto, no start)"
            )
    nmf = bench_nmf(64, n)
    results["nmf_64"] = nmf
    io, sk = nmf["iondyn"], nmf["sklearn"]
    line = (
        f"NMF 64×64×{n}: iondyn NMF-ARD {io['seconds']:.1f} s, K = {io['k']} (true 3), "
        f"rel. error {io['relative_error']:.4f}"
    )
    if "skipped" not in sk:
        line += (
            f"; scikit-learn NMF (given K = 3) {sk['seconds']:.1f} s, rel. error "
            f"{sk['relative_error']:.4f}; time ratio sklearn/iondyn "
            f"{sk['seconds'] / io['seconds']:.2f}"
        )
    print(line)
    out = Path(__file__).parent / "results" / "bench_maps.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
