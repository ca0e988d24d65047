"""The spectrum image: a spectrum at every pixel of a 2-D scan (next to
:class:`~iondyn.data.Spectrum`).

A :class:`SpectrumMap` holds ``data`` with shape (ny, nx, n) — two spatial axes, then the
spectral axis — as a NumPy array, a read-only memory map (``.npy``) or a Dask array (HDF5),
never copied whole: :meth:`SpectrumMap.blocks` yields rows of pixels as (b, n) float64 arrays,
one block at a time, so the memory a map analysis needs is bounded by the block size (plus the
per-pixel result maps), not by the size of the file.

Validation (a one-line :class:`~iondyn.errors.DataError` naming the source):

* the spectral axis must be finite, one-dimensional, as long as the last axis of ``data``, and
  strictly monotonic; a decreasing axis (binding energies) is reversed, with the data, lazily;
* spatial axes, when given, must be as long as the spatial dimensions of ``data``;
* a 2-D array (n_pixels, n) is read as one line of pixels (ny = 1).

Non-finite pixels are *not* an error here: a NaN pixel (a dead detector pixel, a masked region)
is left out of every analysis and counted; an infinite value is an error when the analysis
reads it (:func:`pixel_validity`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iondyn.display.summary import Displayable
from iondyn.errors import DataError

__all__ = ["SpectrumMap", "pixel_validity"]

#: Pixels per block read at once by default (× n channels × 8 bytes: 16 MiB for n = 500).
DEFAULT_BLOCK_PIXELS = 4096


class _RowSource:
    """An array-like view of a NumPy array or memory map for ``dask.array.from_array``: shape,
    dtype and slicing, but no ``copy`` (see :meth:`SpectrumMap.to_dask`)."""

    def __init__(self, array: np.ndarray):
        self._array = array
        self.shape = array.shape
        self.dtype = array.dtype
        self.ndim = array.ndim

    def __getitem__(self, index: Any) -> np.ndarray:
        return np.asarray(self._array[index])


def _is_dask(a: Any) -> bool:
    return type(a).__module__.startswith("dask")


@dataclass(repr=False)
class SpectrumMap(Displayable):
    """A spectrum image ``data`` (ny, nx, n) on the spectral ``axis`` (n,).

    ``x`` (nx,) and ``y`` (ny,) are the spatial coordinates (pixel indices when not given) in
    ``spatial_unit``; ``axis_name``/``axis_unit`` name the spectral axis (``energy loss``,
    ``eV``), ``intensity_unit`` the values (``counts``). ``metadata`` keeps what the file said.
    """

    data: Any
    axis: np.ndarray
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    axis_name: str = ""
    axis_unit: str = ""
    spatial_unit: str = ""
    intensity_unit: str = ""
    source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    _reversed: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        src = self.source
        shape = tuple(int(s) for s in getattr(self.data, "shape", ()))
        if getattr(self.data, "dtype", None) is None or len(shape) not in (2, 3):
            raise DataError(
                f"a spectrum image must be a 3-D array (ny, nx, channels) or 2-D "
                f"(pixels, channels), got shape {shape}",
                path=src,
            )
        if not np.issubdtype(self.data.dtype, np.number) or np.issubdtype(
            self.data.dtype, np.complexfloating
        ):
            raise DataError(
                f"the spectrum image holds {self.data.dtype} values, not real numbers (a ragged "
                "or object array?)",
                path=src,
            )
        if len(shape) == 2:
            self.data = self.data.reshape((1,) + shape)
            shape = (1,) + shape
        try:
            axis = np.asarray(self.axis, dtype=float)
        except (TypeError, ValueError):
            raise DataError("the spectral axis is not numeric (ragged?)", path=src) from None
        if axis.ndim != 1:
            raise DataError(f"the spectral axis must be 1-D, got shape {axis.shape}", path=src)
        if axis.size != shape[-1]:
            raise DataError(
                f"the spectral axis has {axis.size} values but the spectra have {shape[-1]} "
                "channels (mismatched axes)",
                path=src,
            )
        if axis.size < 2:
            raise DataError("the spectra have fewer than 2 channels", path=src)
        if not np.all(np.isfinite(axis)):
            raise DataError("the spectral axis contains NaN or infinite values", path=src)
        d = np.diff(axis)
        if np.any(d == 0):
            raise DataError("the spectral axis has duplicate values", path=src)
        if not (np.all(d > 0) or np.all(d < 0)):
            i = int(np.nonzero(np.sign(d) != np.sign(d[0]))[0][0]) + 1
            raise DataError(
                f"the spectral axis is not monotonic (it turns at channel {i}, "
                f"value {axis[i]:.6g})",
                path=src,
            )
        if d[0] < 0 and not self._reversed:
            self.data = self.data[..., ::-1]
            axis = axis[::-1].copy()
            self._reversed = True
        self.axis = axis
        for name, n in (("x", shape[1]), ("y", shape[0])):
            v = getattr(self, name)
            if v is None:
                setattr(self, name, np.arange(n, dtype=float))
                continue
            arr = np.asarray(v, dtype=float)
            if arr.ndim != 1 or arr.size != n:
                raise DataError(
                    f"the spatial axis {name} has {arr.size} values but the map has {n} pixels "
                    f"along it (mismatched axes)",
                    path=src,
                )
            setattr(self, name, arr)

    # ------------------------------------------------------------------ shape
    @property
    def shape(self) -> tuple[int, int, int]:
        """(ny, nx, n)."""
        return tuple(int(s) for s in self.data.shape)  # type: ignore[return-value]

    @property
    def spatial_shape(self) -> tuple[int, int]:
        return self.shape[0], self.shape[1]

    @property
    def n_pixels(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def n_channels(self) -> int:
        return self.shape[2]

    @property
    def nbytes(self) -> int:
        """Bytes of the data as float64 (what reading it whole would take)."""
        return self.n_pixels * self.n_channels * 8

    @property
    def lazy(self) -> bool:
        """True when the data stay on disk (memory map or Dask array)."""
        return isinstance(self.data, np.memmap) or _is_dask(self.data)

    # ------------------------------------------------------------------ access
    def window(self, xmin: float | None = None, xmax: float | None = None) -> SpectrumMap:
        """The map restricted to xmin ≤ axis ≤ xmax (a view: nothing is read)."""
        if xmin is None and xmax is None:
            return self
        lo = -np.inf if xmin is None else float(xmin)
        hi = np.inf if xmax is None else float(xmax)
        keep = np.nonzero((self.axis >= lo) & (self.axis <= hi))[0]
        if keep.size < 2:
            raise DataError(
                f"fewer than 2 channels between {lo:g} and {hi:g} {self.axis_unit}".rstrip(),
                path=self.source,
            )
        sl = slice(int(keep[0]), int(keep[-1]) + 1)
        return SpectrumMap(
            self.data[..., sl],
            self.axis[sl],
            self.x,
            self.y,
            self.axis_name,
            self.axis_unit,
            self.spatial_unit,
            self.intensity_unit,
            self.source,
            dict(self.metadata) | {"window": [float(self.axis[sl][0]), float(self.axis[sl][-1])]},
            _reversed=self._reversed,
        )

    def to_dask(self, block_pixels: int = DEFAULT_BLOCK_PIXELS):
        """The data as a Dask array chunked by whole image rows (about ``block_pixels`` each),
        reading the file chunk by chunk.

        A NumPy array or memory map is handed to Dask behind :class:`_RowSource`: recent
        ``dask.array.from_array`` (2026.8 here) copies any array that has a ``copy`` method,
        which would read a memory-mapped map whole into memory."""
        import dask.array as da

        _, nx, n = self.shape
        rows = self._rows(block_pixels)
        if _is_dask(self.data):
            return self.data.rechunk((rows, nx, n))
        return da.from_array(_RowSource(self.data), chunks=(rows, nx, n), asarray=False, name=False)

    def _rows(self, block_pixels: int) -> int:
        ny, nx, _ = self.shape
        return max(1, min(ny, block_pixels // max(nx, 1)))

    def blocks(
        self, block_pixels: int = DEFAULT_BLOCK_PIXELS
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(flat pixel indices (b,), spectra (b, n) float64), block after block, in row-major
        pixel order. Only one block is in memory at a time: a memory map is sliced row block
        by row block, a Dask array computes each chunk alone."""
        ny, nx, n = self.shape
        if not _is_dask(self.data):
            rows = self._rows(block_pixels)
            for r0 in range(0, ny, rows):
                r1 = min(ny, r0 + rows)
                block = np.array(self.data[r0:r1], dtype=float)
                yield np.arange(r0 * nx, r1 * nx), block.reshape(-1, n)
            return
        darr = self.to_dask(block_pixels)
        offsets = np.cumsum((0,) + darr.chunks[0])
        for i in range(darr.numblocks[0]):
            block = np.asarray(darr.blocks[i, 0, 0].compute(scheduler="synchronous"), float)
            r0, r1 = int(offsets[i]), int(offsets[i + 1])
            yield np.arange(r0 * nx, r1 * nx), block.reshape(-1, n)

    def pixels(self, flat: np.ndarray) -> np.ndarray:
        """Spectra (m, n) float64 of the given flat pixel indices (sorted reads)."""
        flat = np.asarray(flat, dtype=int)
        _, nx, n = self.shape
        order = np.argsort(flat)
        out = np.empty((flat.size, n))
        iy, ix = np.divmod(flat[order], nx)
        if _is_dask(self.data):
            # one image row at a time (a Dask row is computed, its pixels taken, released)
            vals = np.empty((flat.size, n))
            for r in np.unique(iy):
                sel = iy == r
                row = np.asarray(self.data[int(r)].compute(scheduler="synchronous"), float)
                vals[sel] = row[ix[sel]]
        else:
            vals = np.asarray(self.data[iy, ix], dtype=float)
        out[order] = vals
        return out

    def mean_spectrum(self, block_pixels: int = DEFAULT_BLOCK_PIXELS) -> np.ndarray:
        """The mean spectrum over the finite pixels (read block by block)."""
        total = np.zeros(self.n_channels)
        count = 0
        for _, block in self.blocks(block_pixels):
            ok = np.all(np.isfinite(block), axis=1)
            total += block[ok].sum(axis=0)
            count += int(ok.sum())
        if count == 0:
            raise DataError("every pixel of the map holds NaN values", path=self.source)
        return total / count

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary (no arrays)."""
        ny, nx, n = self.shape
        return {
            "source": self.source,
            "shape": [ny, nx, n],
            "n_pixels": ny * nx,
            "axis": {
                "name": self.axis_name,
                "unit": self.axis_unit,
                "first": float(self.axis[0]),
                "last": float(self.axis[-1]),
                "reversed": bool(self._reversed),
            },
            "spatial_unit": self.spatial_unit,
            "intensity_unit": self.intensity_unit,
            "lazy": self.lazy,
        }

    def to_dict(self) -> dict[str, Any]:
        return self.describe() | {"metadata": _plain(self.metadata)}

    def _summary(self) -> Any:
        from iondyn.display.views_results import spectrum_map_summary

        return spectrum_map_summary(self)

    def plot(self, ax: Any = None, what: str = "image") -> Any:
        """``image``: the intensity summed over the spectral axis; ``spectrum``: the spectrum
        summed over the pixels (both read block by block). Returns the axes."""
        from iondyn.display.views_results import spectrum_map_plot

        return spectrum_map_plot(self, ax, what)

    def to_dataframe(self) -> Any:
        """The spectrum summed over the (finite) pixels: ``axis``, ``total``."""
        import pandas as pd

        from iondyn.display.views_results import spectrum_map_overview

        return pd.DataFrame({"axis": self.axis, "total": spectrum_map_overview(self)[1]})


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist()) if value.size <= 64 else f"array{value.shape}"
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def pixel_validity(block: np.ndarray, flat: np.ndarray, nx: int, source: str | None) -> np.ndarray:
    """(b,) True for pixels whose spectrum is finite everywhere; a pixel holding ±inf is a
    :class:`DataError` naming it (NaN pixels are masked, not refused)."""
    finite = np.isfinite(block)
    inf = np.isinf(block)
    if inf.any():
        i = int(np.nonzero(inf.any(axis=1))[0][0])
        iy, ix = divmod(int(flat[i]), nx)
        raise DataError(
            f"pixel (row {iy}, column {ix}) holds an infinite value (NaN pixels are masked, "
            "infinite ones refused)",
            path=source,
        )
    return finite.all(axis=1)
