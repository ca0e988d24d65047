"""``MapDecomposer``: NMF-ARD components and abundance maps of a spectrum image.

The number of components is chosen by automatic relevance determination
(:mod:`iondyn.maps.nmf`); the divergence is β = 1 (Poisson, the default) or any β; the
abundance maps may be kept nearly orthogonal (``orthogonality``, Shiga et al. 2016); the map
may first be denoised by weighted PCA (:mod:`iondyn.maps.pca`; the reconstruction's negative
values are clipped to zero for the factorisation). The factorisation is learnt on
at most ``max_fit_pixels`` pixels and the abundances of all pixels are solved block by block
with the spectra fixed, so memory stays bounded.

Outputs (:class:`DecompositionResult`): component ``spectra`` (K, C) scaled to unit maximum;
``abundance`` maps (ny, nx, K); ``fraction`` maps (each component's share of the pixel's
intensity, A_pk Σ_c S_kc / Σ_j A_pj Σ_c S_jc); the ``phase`` map (the component with the
largest fraction, −1 for masked pixels); ``residual`` (relative rms residual per pixel).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from iondyn.display.summary import Displayable
from iondyn.errors import DataError
from iondyn.maps.data import pixel_validity
from iondyn.maps.nmf import NMFARD, NMFResult
from iondyn.maps.result import save_arrays

__all__ = ["DecompositionResult", "MapDecomposer"]


@dataclass(repr=False)
class DecompositionResult(Displayable):
    """See the module docstring."""

    source: str | None
    spectra: np.ndarray
    maps: dict[str, np.ndarray]
    axis: np.ndarray
    x: np.ndarray
    y: np.ndarray
    nmf: NMFResult
    axis_name: str = ""
    axis_unit: str = ""
    pca: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n_components(self) -> int:
        return int(self.spectra.shape[0])

    def components_summary(self) -> list[dict[str, Any]]:
        out = []
        phase = self.maps["phase"]
        n_valid = max(int(np.sum(phase >= 0)), 1)
        for k in range(self.n_components):
            s = self.spectra[k]
            frac = self.maps["fraction"][..., k]
            out.append(
                {
                    "id": k + 1,
                    "peak_at": float(self.axis[int(np.argmax(s))]),
                    "mean_fraction": float(np.nanmean(frac)),
                    "phase_pixels": int(np.sum(phase == k)),
                    "phase_share": float(np.sum(phase == k) / n_valid),
                    "relevance": float(self.nmf.relevance[k]),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        ny, nx = self.maps["phase"].shape
        return {
            "source": self.source,
            "map_shape": [int(ny), int(nx), int(self.axis.size)],
            "axis": {
                "name": self.axis_name,
                "unit": self.axis_unit,
                "first": float(self.axis[0]),
                "last": float(self.axis[-1]),
            },
            "n_components": self.n_components,
            "components": self.components_summary(),
            "nonnegative": bool(
                np.all(self.spectra >= 0) and np.all(np.nan_to_num(self.maps["abundance"]) >= 0)
            ),
            "nmf": self.nmf.to_dict(),
            "relative_error": self.nmf.relative_error,
            "median_pixel_residual": float(np.nanmedian(self.maps["residual"])),
            "pca": self.pca,
            "warnings": list(self.warnings),
            "settings": self.settings,
        }

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(self.maps) | {
            "spectra": self.spectra,
            "axis": self.axis,
            "x": self.x,
            "y": self.y,
        }

    def save(self, path: str | Path) -> list[str]:
        return save_arrays(path, self.arrays(), self.to_dict())

    def _summary(self) -> Any:
        from iondyn.display.views_results import decomposition_summary

        return decomposition_summary(self)

    def plot(self, ax: Any = None, what: str = "spectra") -> Any:
        """``spectra`` (the components), ``phase`` (the phase map) or ``fraction<k>`` (the
        fraction map of component k, 1-based). Returns the axes."""
        from iondyn.display.views_results import decomposition_plot

        return decomposition_plot(self, ax, what)

    def to_dataframe(self) -> Any:
        """One row per component (maximum, mean fraction, phase share, relevance)."""
        import pandas as pd

        return pd.DataFrame(self.components_summary())


class MapDecomposer:
    """NMF-ARD of a map (module docstring)."""

    def __init__(
        self,
        max_components: int = 8,
        *,
        beta: float = 1.0,
        prior: str = "l1",
        orthogonality: float = 0.0,
        pca_denoise: bool = False,
        xmin: float | None = None,
        xmax: float | None = None,
        max_fit_pixels: int = 4096,
        max_iter: int = 5000,
        block_pixels: int = 4096,
        random_state: int | None = 0,
    ):
        self.nmf = NMFARD(
            max_components,
            beta=beta,
            prior=prior,
            orthogonality=orthogonality,
            max_iter=max_iter,
            max_fit_pixels=max_fit_pixels,
            random_state=random_state,
        )
        self.pca_denoise = bool(pca_denoise)
        self.xmin, self.xmax = xmin, xmax
        self.max_fit_pixels = int(max_fit_pixels)
        self.block_pixels = int(block_pixels)
        self.random_state = random_state

    def settings(self) -> dict[str, Any]:
        return self.nmf.settings() | {
            "pca_denoise": self.pca_denoise,
            "xmin": self.xmin,
            "xmax": self.xmax,
            "max_fit_pixels": self.max_fit_pixels,
        }

    def fit(self, data: Any, workdir: str | Path | None = None) -> DecompositionResult:
        """Decompose ``data`` (a :class:`SpectrumMap` or a path)."""
        from iondyn.maps.fit import _as_map

        m = _as_map(data).window(self.xmin, self.xmax)
        ny, nx, _ = m.shape
        if ny * nx < 2:
            raise DataError("a map with one pixel has nothing to decompose", path=m.source)
        pca_doc = None
        raw = m
        if self.pca_denoise:
            from iondyn.maps.pca import PCADenoise

            out = None if workdir is None else Path(workdir) / "denoised.npy"
            pr = PCADenoise(block_pixels=self.block_pixels).fit(m, out)
            m, pca_doc = pr.denoised, pr.to_dict()
        rng = np.random.default_rng(self.random_state)
        valid = np.zeros(ny * nx, dtype=bool)
        for flat, block in m.blocks(self.block_pixels):
            valid[flat] = pixel_validity(block, flat, nx, m.source)
        idx = np.nonzero(valid)[0]
        if idx.size < 2:
            raise DataError("fewer than 2 finite pixels to decompose", path=m.source)
        whole = idx.size <= self.max_fit_pixels
        pick = idx if whole else np.sort(rng.choice(idx, self.max_fit_pixels, replace=False))
        train = m.pixels(pick)
        if self.pca_denoise and self.nmf.dispersion == "auto":
            # the dispersion of the data, not of their (much smoother) reconstruction
            from iondyn.maps.nmf import estimate_dispersion

            self.nmf.dispersion = estimate_dispersion(raw.pixels(pick))
            try:
                res = self.nmf.fit(train, source=m.source, allow_negative=True)
            finally:
                self.nmf.dispersion = "auto"
        else:
            res = self.nmf.fit(train, source=m.source, allow_negative=self.pca_denoise)
        k = res.n_components
        abund = np.full((ny * nx, k), np.nan)
        resid = np.full(ny * nx, np.nan)
        ssum = res.spectra.sum(axis=1)
        if whole:
            abund[pick] = res.abundances
        for flat, block in m.blocks(self.block_pixels):
            ok = valid[flat]
            if not ok.any():
                continue
            a = abund[flat[ok]] if whole else self.nmf.abundances(block[ok], res)
            abund[flat[ok]] = a
            rec = a @ res.spectra
            scale = np.maximum(np.abs(block[ok]).max(axis=1), 1e-300)
            resid[flat[ok]] = np.sqrt(np.mean((block[ok] - rec) ** 2, axis=1)) / scale
        contrib = abund * ssum[None, :]
        with np.errstate(all="ignore"):
            frac = contrib / contrib.sum(axis=1, keepdims=True)
        phase = np.where(valid, np.argmax(np.nan_to_num(frac, nan=-1.0), axis=1), -1)
        maps = {
            "abundance": abund.reshape(ny, nx, k),
            "fraction": frac.reshape(ny, nx, k),
            "phase": phase.reshape(ny, nx).astype(np.int16),
            "residual": resid.reshape(ny, nx),
            "valid": valid.reshape(ny, nx),
        }
        warnings = []
        if (~valid).any():
            warnings.append(f"{int((~valid).sum())} pixel(s) hold NaN values and were left out")
        if not res.converged:
            warnings.append(f"NMF stopped after {res.iterations} iterations without converging")
        if k == self.nmf.max_components:
            warnings.append(f"every one of the {k} components is relevant: raise --max-components")
        return DecompositionResult(
            m.source,
            res.spectra,
            maps,
            m.axis,
            m.x,
            m.y,
            res,
            m.axis_name,
            m.axis_unit,
            pca_doc,
            warnings,
            self.settings(),
        )
