"""Turning user input into the padded batch arrays the SAEM kernels work on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from iondyn.data import Spectrum, SpectrumSet
from iondyn.errors import DataError

__all__ = ["Batch", "bin_for_em", "grid_steps", "make_batch"]


@dataclass
class Batch:
    """Spectra as padded (B, N) arrays with x increasing.

    ``mask`` marks real points (padding repeats the last x with zero weight); ``weights`` are
    1/σ² (ones without σ); ``order`` maps each row's points back to the input order.
    """

    x: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    mask: np.ndarray
    n_valid: np.ndarray
    sources: list[str | None]
    indices: list[int]
    has_sigma: bool

    @property
    def size(self) -> int:
        return self.x.shape[0]

    def rows(self, idx: np.ndarray) -> Batch:
        return Batch(
            self.x[idx],
            self.y[idx],
            self.weights[idx],
            self.mask[idx],
            self.n_valid[idx],
            [self.sources[i] for i in idx],
            [self.indices[i] for i in idx],
            self.has_sigma,
        )


def _spectra_from(data: Any, sigma: Any) -> list[Spectrum]:
    if isinstance(data, Spectrum):
        return [data]
    if isinstance(data, SpectrumSet):
        return list(data)
    if isinstance(data, Sequence) and data and isinstance(data[0], Spectrum):
        return list(data)
    if isinstance(data, tuple) and len(data) == 2:
        x, y = (np.asarray(a, dtype=float) for a in data)
        y2 = np.atleast_2d(y)
        s2 = None if sigma is None else np.atleast_2d(np.asarray(sigma, dtype=float))
        if x.ndim == 1:
            x2 = np.broadcast_to(x, y2.shape)
        else:
            x2 = np.atleast_2d(x)
        if x2.shape != y2.shape:
            raise DataError(f"x and y shapes differ: {x.shape} vs {y.shape}")
        return [
            Spectrum(x2[i], y2[i], None if s2 is None else s2[i], None, i)
            for i in range(y2.shape[0])
        ]
    if isinstance(data, Sequence) and data and isinstance(data[0], tuple | list):
        return [
            Spectrum(np.asarray(a), np.asarray(b), None, None, i) for i, (a, b) in enumerate(data)
        ]
    raise DataError(
        "spectra must be given as (x, y) arrays, a list of (x, y) pairs, Spectrum objects or a "
        "SpectrumSet"
    )


def make_batch(data: Any, sigma: Any = None) -> Batch:
    """Build a :class:`Batch` from (x, Y), a list of (x, y), Spectrum objects or a SpectrumSet.

    Every spectrum is validated (finite, monotonic, no duplicate x) by :class:`Spectrum`.
    """
    spectra = [s.sorted() for s in _spectra_from(data, sigma)]
    if not spectra:
        raise DataError("no spectra to fit")
    n = max(s.n_points for s in spectra)
    b = len(spectra)
    x = np.empty((b, n))
    y = np.zeros((b, n))
    w = np.zeros((b, n))
    mask = np.zeros((b, n), dtype=bool)
    for i, s in enumerate(spectra):
        m = s.n_points
        x[i, :m] = s.x
        x[i, m:] = s.x[-1]
        y[i, :m] = s.y
        w[i, :m] = 1.0 if s.sigma is None else 1.0 / s.sigma**2
        mask[i, :m] = True
    return Batch(
        x,
        y,
        w,
        mask,
        mask.sum(axis=1),
        [s.source for s in spectra],
        [s.index for s in spectra],
        any(s.sigma is not None for s in spectra),
    )


def bin_for_em(
    x: np.ndarray, signal: np.ndarray, widths: np.ndarray, n_valid: np.ndarray, max_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge neighbouring points into at most ``max_points`` bins for the EM stage.

    EM reads the spectrum as a histogram, so merging bins keeps its meaning: bin weight = Σ
    signal·Δx, bin position = Δx-weighted mean x. Returns (x_b, weight_b, density_b, n_valid_b).
    """
    b, n = x.shape
    g = int(np.ceil(n / max_points)) if n > max_points else 1
    mass = signal * widths
    if g == 1:
        dens = signal
        return x, mass, dens, n_valid
    nb = int(np.ceil(n / g))
    pad = nb * g - n
    xp = np.pad(x, ((0, 0), (0, pad)), mode="edge").reshape(b, nb, g)
    wp = np.pad(widths, ((0, 0), (0, pad))).reshape(b, nb, g)
    mp = np.pad(mass, ((0, 0), (0, pad))).reshape(b, nb, g)
    wsum = wp.sum(-1)
    xb = np.where(wsum > 0, (xp * wp).sum(-1) / np.where(wsum > 0, wsum, 1.0), xp[..., -1])
    # keep the grid strictly increasing where empty padded bins repeat the last x
    mb = mp.sum(-1)
    dens = np.where(wsum > 0, mb / np.where(wsum > 0, wsum, 1.0), 0.0)
    nvb = np.ceil(n_valid / g).astype(int)
    return xb, mb, dens, nvb


def grid_steps(x: np.ndarray, n_valid: np.ndarray) -> np.ndarray:
    """Median grid step Δx of every row (B,) over its valid points (the first two where a row
    has fewer), vectorised: one call instead of a median per spectrum."""
    d = np.diff(x, axis=-1)
    if d.shape[-1] == 0:
        return np.zeros(x.shape[0])
    valid = np.arange(d.shape[-1])[None, :] < np.maximum(np.asarray(n_valid) - 1, 1)[:, None]
    if valid.all():
        return np.median(d, axis=-1)
    return np.nanmedian(np.where(valid, d, np.nan), axis=-1)
