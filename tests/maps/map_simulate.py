"""Simulated spectrum images with known truth, shared by the map tests and the benchmark."""

from __future__ import annotations

import numpy as np

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def gaussians(x: np.ndarray, centers: np.ndarray, fwhm: np.ndarray, areas: np.ndarray):
    """Σ_k A_k G(x; c_k, Γ_k) for every pixel: centers/fwhm/areas (..., K) → (..., N)."""
    s = fwhm[..., None] / FWHM_PER_SIGMA
    t = x - centers[..., None]
    return np.sum(areas[..., None] * np.exp(-0.5 * (t / s) ** 2) / (s * np.sqrt(2 * np.pi)), -2)


def three_peak_map(
    ny: int, nx: int, n: int, seed: int = 0, counts: float = 1.0
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """A map of 3 Gaussian peaks on a linear background, Poisson counts; the centres drift
    smoothly across the map (up to ±0.5 FWHM), the areas vary by ±40 %.
    Returns (x (n,), data (ny, nx, n), truth {center, fwhm, area} (ny, nx, 3))."""
    rng = np.random.default_rng(seed)
    x = np.linspace(100.0, 200.0, n)
    yy, xx = np.meshgrid(np.linspace(-1, 1, ny), np.linspace(-1, 1, nx), indexing="ij")
    base_c = np.array([130.0, 150.0, 172.0])
    fwhm = np.array([7.0, 9.0, 6.0])
    shift = np.stack([0.5 * xx, 0.5 * yy, 0.4 * xx * yy], axis=-1) * fwhm
    centers = base_c + shift
    areas = np.array([6000.0, 5000.0, 3500.0]) * counts
    amp = areas * (1 + 0.4 * np.stack([np.sin(2 * xx), np.cos(1.5 * yy), xx * yy], -1))
    fw = np.broadcast_to(fwhm, centers.shape).copy()
    bg = counts * (20.0 + 10.0 * (x - 100.0) / 100.0)
    mean = gaussians(x, centers, fw, amp) + bg
    data = rng.poisson(mean).astype(float)
    return x, data, {"center": centers, "fwhm": fw, "area": amp}


def logistic(t: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def interface_map(
    ny: int = 40,
    nx: int = 40,
    n: int = 160,
    width: float = 3.0,
    shift_fwhm: float = 0.6,
    area: float = 20000.0,
    seed: int = 3,
):
    """Two phases meeting at a straight, tilted interface: one Gaussian peak whose centre
    moves by ``shift_fwhm`` FWHM across it along the logistic step of scale ``width`` (pixels);
    Poisson counts on a constant background. Returns (x, data, line, true centre map, fwhm,
    signed distance map)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 40.0, n)
    fw = 4.0
    line = (6.0, 0.0, 30.0, ny - 1.0)
    x0, y0, x1, y1 = line
    length = np.hypot(x1 - x0, y1 - y0)
    u = np.array([x1 - x0, y1 - y0]) / length
    nrm = np.array([-u[1], u[0]])
    rows, cols = np.indices((ny, nx))
    d = (cols - x0) * nrm[0] + (rows - y0) * nrm[1]
    center = 18.0 + shift_fwhm * fw * logistic(d / width)
    mean = (
        gaussians(x, center[..., None], np.full((ny, nx, 1), fw), np.full((ny, nx, 1), area)) + 30.0
    )
    return x, rng.poisson(mean).astype(float), line, center, fw, d


def nmf_map(seed: int, ny: int = 12, nx: int = 12, n: int = 48, counts: float = 200.0):
    """A random map of 2–4 phases (Gaussian blobs of abundance, spread over the map) with
    distinct spectra (one main peak each at distinct places, a weak shared-range peak, a
    flat floor), Poisson counts. Returns (true K, V (pixels, channels))."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 5))
    x = np.linspace(0, 1, n)
    centres = np.sort(rng.permutation(np.linspace(0.12, 0.88, 6))[:k])
    spectra = []
    for j in range(k):
        w = rng.uniform(0.03, 0.06)
        s = np.exp(-0.5 * ((x - centres[j]) / w) ** 2)
        s += 0.3 * np.exp(-0.5 * ((x - rng.uniform(0.1, 0.9)) / 0.05) ** 2) + 0.05
        spectra.append(s)
    spectra = np.array(spectra)
    yy, xx = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    pts = [rng.uniform(0, ny, 2)]
    while len(pts) < k:
        c = rng.uniform(0, ny, (50, 2))
        dist = np.min(np.linalg.norm(c[:, None] - np.array(pts)[None], axis=-1), axis=1)
        pts.append(c[np.argmax(dist)])
    ab = np.array([np.exp(-((yy - c[0]) ** 2 + (xx - c[1]) ** 2) / (2 * 4.0**2)) for c in pts])
    ab = ab.reshape(k, -1).T
    ab = ab / ab.sum(1, keepdims=True)
    return k, rng.poisson(counts * ab @ spectra).astype(float)
