"""Spectrum images larger than memory: a map fit in bounded memory (issue 14, "Scale").

    .venv/bin/python benchmarks/bench_maps_scale.py --ny 1024 --nx 1024 --channels 2048
    .venv/bin/python benchmarks/bench_maps_scale.py --ny 128 --nx 128   # a quick run

Writes the map of ``bench_maps.py`` (3 Gaussian peaks drifting across the map on a linear
background, Poisson counts, float32) to a memory-mapped ``.npy`` block by block — 1024 × 1024 ×
2048 is an 8.6 GB file — and fits it with ``MapFitter("gaussian", "auto",
likelihood="poisson")`` (K chosen once, no start). A thread samples the process's anonymous
resident memory (``RssAnon`` in /proc/self/status: what the process holds itself, without the
pages of the memory-mapped file, which belong to the kernel's page cache) and its peak resident
size. Prints the wall times, K, the share of pixels with every centre within 0.05 FWHM of the
truth and the memory figures. Linux only (it reads /proc). The file is deleted afterwards
unless ``--keep``; iondyn alone (no peer fits a map of this size in memory).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from bench_maps import success, truth, write_map
from iondyn.maps import MapFitter, read_map


class MemorySampler:
    """Peak RssAnon and VmHWM of this process, sampled every 0.2 s in a thread."""

    def __init__(self) -> None:
        self.peak_anon_kb = 0
        self.hwm_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> None:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    self.peak_anon_kb = max(self.peak_anon_kb, int(line.split()[1]))
                elif line.startswith("VmHWM:"):
                    self.hwm_kb = int(line.split()[1])

    def _run(self) -> None:
        while not self._stop.is_set():
            self._read()
            time.sleep(0.2)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ny", type=int, default=1024)
    ap.add_argument("--nx", type=int, default=1024)
    ap.add_argument("--channels", type=int, default=2048)
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where the map is written")
    ap.add_argument(
        "--keep", action="store_true", help="keep the map file (and reuse one kept before)"
    )
    args = ap.parse_args()
    path = Path(args.dir) / f"iondyn_scale_{args.ny}x{args.nx}x{args.channels}.npy"
    t0 = time.perf_counter()
    expected = 4 * args.ny * args.nx * args.channels
    if args.keep and path.exists() and path.stat().st_size > expected:  # kept by a --keep run
        x = np.linspace(100.0, 200.0, args.channels)  # write_map's axis (its seed is fixed)
        how = "reused"
    else:
        x = write_map(path, args.ny, args.nx, args.channels)
        how = "written"
    size_gb = path.stat().st_size / 1e9
    print(f"map {args.ny} × {args.nx} × {args.channels} float32: {size_gb:.2f} GB {how} in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
    try:
        m = read_map(path, axis=x)
        with MemorySampler() as mem:
            t = time.perf_counter()
            fit = MapFitter("gaussian", "auto", likelihood="poisson").fit(m)
            wall = time.perf_counter() - t
        centers, _ = truth(args.ny, args.nx)
        n = args.ny * args.nx
        print(f"fit {wall:.0f} s ({n / wall:.0f} spectra/s), K = {fit.n_peaks}, every centre "
              f"within 0.05 FWHM in {100 * success(fit.maps['center'], centers):.2f} % of "
              f"{n} pixels")  # fmt: skip
        print(f"timings {fit.stats['timings']}")
        anon, hwm = mem.peak_anon_kb / 1e6, mem.hwm_kb / 1e6
        print(f"peak anonymous memory {anon:.2f} GB, peak resident size {hwm:.2f} GB "
              f"(file pages included), file {size_gb:.2f} GB")  # fmt: skip
    finally:
        if not args.keep:
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
