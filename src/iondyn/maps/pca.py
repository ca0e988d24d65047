r"""PCA denoising of a spectrum image with Poisson weighting, in bounded memory.

Counts are first scaled so that their noise is homoscedastic (Keenan & Kotula, Surf.
Interface Anal. 36, 203 (2004)): D̃ = D / (√g ⊗ √h) with g the mean image and h the mean
spectrum, whose noise variance is then ≈ 1 everywhere (φ for scaled counts, the dispersion of
:func:`iondyn.maps.nmf.estimate_dispersion`; the edge below is multiplied by it). The
principal components are the eigenvectors of the C × C cross-product D̃ᵀD̃, accumulated block
by block (the map is never held whole), and the number kept is automatic: the components
whose eigenvalue exceeds the largest eigenvalue a P × C matrix of unit-variance noise can
produce, (√P + √C)² (Marchenko & Pastur, Math. USSR-Sb. 1, 457 (1967)), with a margin of
10 %. The denoised spectra (the reconstruction from the kept components, scaled back) are
written block by block to a ``.npy`` file (or returned in memory for a small map).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from iondyn.errors import DataError
from iondyn.maps.data import SpectrumMap, pixel_validity

__all__ = ["PCADenoise", "PCAResult"]


@dataclass
class PCAResult:
    """``components`` (q, C) in the scaled space, ``eigenvalues`` (all, descending),
    ``n_kept``, the noise edge, and the denoised map (a :class:`SpectrumMap`)."""

    components: np.ndarray
    eigenvalues: np.ndarray
    n_kept: int
    noise_edge: float
    denoised: SpectrumMap

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_kept": self.n_kept,
            "noise_edge": self.noise_edge,
            "eigenvalues": [float(v) for v in self.eigenvalues[: max(self.n_kept + 5, 10)]],
        }


class PCADenoise:
    """Poisson-weighted PCA reconstruction (module docstring); ``n_components`` fixes q."""

    def __init__(self, n_components: int | None = None, block_pixels: int = 4096):
        self.n_components = n_components
        self.block_pixels = int(block_pixels)

    def _dispersion(self, m: SpectrumMap, valid: np.ndarray) -> float:
        """φ of the first block (1 for counts; see :func:`iondyn.maps.nmf.estimate_dispersion`):
        the noise variance of the scaled data is φ, not 1, for scaled counts."""
        from iondyn.maps.nmf import estimate_dispersion

        flat, block = next(iter(m.blocks(self.block_pixels)))
        ok = valid[flat]
        return estimate_dispersion(block[ok]) if ok.sum() and block.shape[1] > 4 else 1.0

    def fit(self, m: SpectrumMap, out: str | Path | None = None) -> PCAResult:
        """Denoise ``m`` (into the ``.npy`` file ``out`` when given)."""
        ny, nx, n = m.shape
        h = np.zeros(n)
        g = np.zeros(ny * nx)
        valid = np.zeros(ny * nx, dtype=bool)
        for flat, block in m.blocks(self.block_pixels):
            ok = pixel_validity(block, flat, nx, m.source)
            valid[flat] = ok
            h += np.where(ok[:, None], block, 0.0).sum(axis=0)
            g[flat] = np.where(ok, np.nan_to_num(block).mean(axis=1), 0.0)
        if valid.sum() < 2:
            raise DataError("PCA needs at least 2 finite pixels", path=m.source)
        h /= valid.sum()
        sh = np.sqrt(np.maximum(h, 1e-12 * max(h.max(), 1e-300)))
        gmean = g[valid].mean()
        sg = np.sqrt(np.maximum(g / max(gmean, 1e-300), 1e-12))
        cross = np.zeros((n, n))
        for flat, block in m.blocks(self.block_pixels):
            ok = valid[flat]
            d = block[ok] / (sg[flat[ok], None] * sh[None, :])
            cross += d.T @ d
        evals, evecs = np.linalg.eigh(cross)
        order = np.argsort(evals)[::-1]
        evals, evecs = evals[order], evecs[:, order]
        p = int(valid.sum())
        phi = self._dispersion(m, valid)
        edge = 1.1 * phi * (np.sqrt(p) + np.sqrt(n)) ** 2
        q = self.n_components or max(1, int(np.sum(evals > edge)))
        comps = evecs[:, :q].T
        target = (
            np.lib.format.open_memmap(str(out), mode="w+", dtype=np.float64, shape=(ny, nx, n))
            if out is not None
            else np.empty((ny, nx, n))
        )
        flat_view = target.reshape(ny * nx, n)
        for flat, block in m.blocks(self.block_pixels):
            ok = valid[flat]
            d = np.nan_to_num(block) / (sg[flat, None] * sh[None, :])
            rec = (d @ comps.T) @ comps * (sg[flat, None] * sh[None, :])
            flat_view[flat] = np.where(ok[:, None], rec, np.nan)
        if out is not None:
            target.flush()
        den = SpectrumMap(
            target,
            m.axis,
            m.x,
            m.y,
            m.axis_name,
            m.axis_unit,
            m.spatial_unit,
            m.intensity_unit,
            m.source,
            dict(m.metadata) | {"pca_denoised": q},
        )
        return PCAResult(comps, evals, q, float(edge), den)
