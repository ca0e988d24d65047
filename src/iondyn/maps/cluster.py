r"""Pixel clusters of a spectrum image: PCA scores of the spectral shapes, then k-means.

Each spectrum is normalised to unit sum (clusters group *shapes* — phases —, not intensities
such as thickness) and square-rooted (the variance-stabilising transform of counts,
Anscombe, Biometrika 35, 246 (1948)), centred, and projected on its first q principal
components (computed from a subsample of pixels). k-means (Lloyd, IEEE Trans. Inf. Theory 28,
129 (1982)) with k-means++ seeding (Arthur & Vassilvitskii, SODA 2007, 1027) and several
seeded restarts groups the scores; every pixel is then assigned to the nearest centroid,
block by block. The map fit uses the clusters for its starting points and to choose K; the
cluster map is one of its outputs (a phase map by spectral shape).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ShapeClusters", "fit_clusters", "kmeans"]


def _shape_features(spectra: np.ndarray) -> np.ndarray:
    s = np.clip(spectra, 0.0, None)
    tot = s.sum(axis=1, keepdims=True)
    return np.sqrt(s / np.where(tot > 0, tot, 1.0))


def kmeans(
    points: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 4, max_iter: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """(centroids (k, q), labels (m,)) of the best of ``n_init`` seeded k-means runs."""
    m = points.shape[0]
    k = max(1, min(int(k), m))
    best = (np.inf, None, None)
    for _ in range(n_init):
        cent = points[[int(rng.integers(m))]]
        for _j in range(1, k):
            d2 = np.min(((points[:, None, :] - cent[None]) ** 2).sum(-1), axis=1)
            p = d2 / d2.sum() if d2.sum() > 0 else np.full(m, 1.0 / m)
            cent = np.vstack([cent, points[int(rng.choice(m, p=p))]])
        labels = np.zeros(m, dtype=int)
        for _it in range(max_iter):
            d2 = ((points[:, None, :] - cent[None]) ** 2).sum(-1)
            new = np.argmin(d2, axis=1)
            if _it and np.array_equal(new, labels):
                break
            labels = new
            for j in range(k):
                if np.any(labels == j):
                    cent[j] = points[labels == j].mean(axis=0)
        inertia = float(np.min(((points[:, None, :] - cent[None]) ** 2).sum(-1), axis=1).sum())
        if inertia < best[0]:
            best = (inertia, cent.copy(), labels.copy())
    return best[1], best[2]


@dataclass
class ShapeClusters:
    """PCA basis and k-means centroids; :meth:`assign` labels any spectra."""

    mean: np.ndarray
    components: np.ndarray
    centroids: np.ndarray

    @property
    def n_clusters(self) -> int:
        return int(self.centroids.shape[0])

    def scores(self, spectra: np.ndarray) -> np.ndarray:
        return (_shape_features(spectra) - self.mean) @ self.components.T

    def assign(self, spectra: np.ndarray) -> np.ndarray:
        s = self.scores(spectra)
        return np.argmin(((s[:, None, :] - self.centroids[None]) ** 2).sum(-1), axis=1)


def fit_clusters(
    spectra: np.ndarray, n_clusters: int, n_components: int = 4, random_state: int | None = 0
) -> ShapeClusters:
    """Clusters of the (subsampled) ``spectra`` (m, n) (see the module docstring). Clusters
    that would hold fewer than 2 % of the subsample are merged into their neighbours."""
    feats = _shape_features(spectra)
    mean = feats.mean(axis=0)
    centred = feats - mean
    q = max(1, min(int(n_components), min(centred.shape) - 1 if min(centred.shape) > 1 else 1))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    comps = vt[:q]
    scores = centred @ comps.T
    rng = np.random.default_rng(random_state)
    cent, labels = kmeans(scores, n_clusters, rng)
    counts = np.bincount(labels, minlength=cent.shape[0])
    keep = counts >= max(2, int(0.02 * labels.size))
    if not keep.any():
        keep[np.argmax(counts)] = True
    return ShapeClusters(mean, comps, cent[keep])
