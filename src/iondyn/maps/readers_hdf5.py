"""HDF5 spectrum images (``h5py``, optional) and the electron-microscopy formats of
RosettaSciIO (optional, GPL-3.0), both imported only when such a file is read.

* **HyperSpy ``.hspy``** (HDF5, root attribute ``file_format = "HyperSpy"``): the dataset
  ``Experiments/<name>/data`` and its axes ``axis-0 …`` (attributes ``name``, ``units``,
  ``scale``, ``offset``, ``size``, ``navigate``); the signal axis (``navigate`` false) must be
  the last one.
* **Berkeley EMD** (``.emd``, root attributes ``version_major``/``version_minor``): the group
  with ``emd_group_type = 1`` holds ``data`` and ``dim1 … dimN`` (attributes ``name``,
  ``units``); the last dimension is the spectrum.
* **Plain HDF5**: the largest numeric dataset of 2 or 3 dimensions; the spectral axis is a
  1-D dataset as long as its last dimension (named like ``energy``, ``ev``, ``axis``, ``shift``
  when there are several).
* **Velox ``.emd``, DM3/DM4, Bruker ``.bcf``, Ripple ``.rpl``**: through RosettaSciIO
  (``rsciio``), lazily (Dask arrays): its signal dicts (``data``, ``axes`` with ``navigate``,
  ``name``, ``units``, ``scale``, ``offset``) become a :class:`SpectrumMap`.

Data are wrapped as Dask arrays over the HDF5 datasets, never read whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from iondyn.errors import DataError, FileFormatError
from iondyn.maps.data import SpectrumMap

__all__ = ["from_rsciio_signal", "read_hdf5", "read_with_rosettasciio"]

_AXIS_HINTS = ("energy", "ev", "axis", "shift", "wavenumber", "loss", "dim3")


def _h5py():
    try:
        import h5py  # type: ignore[import-not-found]
    except ImportError:
        return None
    return h5py


def _text(v: Any) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.size == 1:
        return _text(v.reshape(-1)[0])
    return "" if v is None else str(v)


def _lazy(ds) -> Any:
    import dask.array as da

    return da.from_array(ds, chunks=(max(1, min(ds.shape[0], 64)),) + tuple(ds.shape[1:]))


def _hspy(f, p: str) -> SpectrumMap | None:
    if _text(f.attrs.get("file_format", "")) != "HyperSpy" or "Experiments" not in f:
        return None
    exps = list(f["Experiments"].values())
    if not exps:
        raise FileFormatError("the HyperSpy file holds no experiment", path=p)
    g = exps[0]
    ds = g["data"]
    axes = []
    for i in range(ds.ndim):
        a = g.get(f"axis-{i}")
        attrs = {} if a is None else dict(a.attrs)
        axes.append(attrs)
    sig = axes[-1]
    if bool(sig.get("navigate", False)) and ds.ndim > 1:
        raise DataError("the last axis of the HyperSpy signal is a navigation axis", path=p)
    n = ds.shape[-1]
    axis = float(sig.get("offset", 0.0)) + float(sig.get("scale", 1.0)) * np.arange(n)
    spatial = [
        float(a.get("offset", 0.0)) + float(a.get("scale", 1.0)) * np.arange(ds.shape[i])
        for i, a in enumerate(axes[:-1])
    ]
    ys, xs = (
        (spatial + [None, None])[:2]
        if len(spatial) == 2
        else (None, spatial[0] if spatial else None)
    )
    return SpectrumMap(
        _lazy(ds),
        axis,
        xs,
        ys,
        axis_name=_text(sig.get("name", "")),
        axis_unit=_text(sig.get("units", "")),
        spatial_unit=_text(axes[0].get("units", "")) if len(axes) > 1 else "",
        source=p,
        metadata={"format": "hspy", "title": _text(g.name)},
    )


def _emd(f, p: str) -> SpectrumMap | None:
    if "version_major" not in f.attrs:
        return None
    found = []
    f.visititems(
        lambda name, obj: (
            found.append(obj)
            if int(obj.attrs.get("emd_group_type", 0)) == 1 and "data" in obj
            else None
        )
    )
    if not found:
        return None
    g = found[0]
    ds = g["data"]
    dims = [g.get(f"dim{i + 1}") for i in range(ds.ndim)]
    ax = dims[-1]
    axis = np.asarray(ax[()], float) if ax is not None else np.arange(ds.shape[-1], dtype=float)
    sp = [np.asarray(d[()], float) if d is not None else None for d in dims[:-1]]
    ys, xs = (sp + [None, None])[:2] if len(sp) == 2 else (None, sp[0] if sp else None)
    return SpectrumMap(
        _lazy(ds),
        axis,
        xs,
        ys,
        axis_name=_text(ax.attrs.get("name", "")) if ax else "",
        axis_unit=_text(ax.attrs.get("units", "")) if ax else "",
        spatial_unit=_text(dims[0].attrs.get("units", ""))
        if dims[0] is not None and len(dims) > 1
        else "",
        source=p,
        metadata={"format": "emd", "group": g.name},
    )


def _plain(f, p: str, axis: Any) -> SpectrumMap:
    sets = []
    f.visititems(lambda name, obj: sets.append(obj) if hasattr(obj, "shape") else None)
    cands = [d for d in sets if d.ndim in (2, 3) and np.issubdtype(d.dtype, np.number)]
    if not cands:
        raise FileFormatError(
            "no 2-D or 3-D numeric dataset (a spectrum image) in the HDF5 file", path=p
        )
    ds = max(cands, key=lambda d: int(np.prod(d.shape)))
    n = ds.shape[-1]
    if axis is None:
        ones = [d for d in sets if d.ndim == 1 and d.shape[0] == n]
        named = [d for d in ones if any(h in d.name.lower() for h in _AXIS_HINTS)]
        pick = named[0] if named else (ones[0] if len(ones) == 1 else None)
        axis = np.asarray(pick[()], float) if pick is not None else np.arange(n, dtype=float)
        name = pick.name.rsplit("/", 1)[-1] if pick is not None else "channel"
        unit = _text(pick.attrs.get("units", "")) if pick is not None else ""
    else:
        arr = np.asarray(axis, float)
        axis = arr[0] + arr[1] * np.arange(n) if arr.size == 2 and n != 2 else arr
        name, unit = "", ""
    return SpectrumMap(
        _lazy(ds),
        axis,
        axis_name=name,
        axis_unit=unit,
        source=p,
        metadata={"format": "hdf5", "dataset": ds.name},
    )


def read_hdf5(path: str | Path, axis: Any = None) -> SpectrumMap:
    """An HDF5 / ``.hspy`` / Berkeley ``.emd`` spectrum image (module docstring); a Velox
    ``.emd`` goes to RosettaSciIO."""
    p = str(path)
    h5py = _h5py()
    if h5py is None:
        raise FileFormatError(
            "reading HDF5 spectrum images (.h5, .hspy, .emd) needs h5py (pip install h5py)",
            path=p,
        )
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise FileFormatError(f"not a readable HDF5 file ({exc})", path=p) from None
    # the file stays open while the lazy arrays refer to it
    if p.lower().endswith(".emd") and "Data" in f and "version_major" not in f.attrs:
        f.close()
        return read_with_rosettasciio(p)
    m = _hspy(f, p) or _emd(f, p) or _plain(f, p, axis)
    m.metadata["_h5file"] = f
    return m


def from_rsciio_signal(sig: dict[str, Any], path: str) -> SpectrumMap:
    """A :class:`SpectrumMap` from one RosettaSciIO signal dict (``data``, ``axes``)."""
    data = sig["data"]
    axes = list(sig.get("axes") or [])
    if getattr(data, "ndim", 0) not in (2, 3) or len(axes) != data.ndim:
        raise DataError(
            f"not a spectrum image: the signal has shape {getattr(data, 'shape', None)}", path=path
        )
    sig_axes = [a for a in axes if not a.get("navigate", True)]
    if len(sig_axes) != 1 or axes[-1].get("navigate", True):
        raise DataError(
            "not a spectrum image: it needs exactly one signal axis, the last", path=path
        )

    def values(a: dict[str, Any], n: int) -> np.ndarray:
        if "axis" in a and a["axis"] is not None:
            return np.asarray(a["axis"], float)
        return float(a.get("offset", 0.0)) + float(a.get("scale", 1.0)) * np.arange(n)

    sa = axes[-1]
    nav = [values(a, data.shape[i]) for i, a in enumerate(axes[:-1])]
    ys, xs = (nav[0], nav[1]) if len(nav) == 2 else (None, nav[0])
    return SpectrumMap(
        data,
        values(sa, data.shape[-1]),
        xs,
        ys,
        axis_name=_text(sa.get("name", "")),
        axis_unit=_text(sa.get("units", "")),
        spatial_unit=_text(axes[0].get("units", "")),
        source=path,
        metadata={
            "format": "rosettasciio",
            "title": _text((sig.get("metadata") or {}).get("General", {}).get("title", "")),
        },
    )


_RSCIIO_MODULES = {
    ".dm3": "digitalmicrograph",
    ".dm4": "digitalmicrograph",
    ".emd": "emd",
    ".bcf": "bruker",
    ".rpl": "ripple",
}


def read_with_rosettasciio(path: str | Path) -> SpectrumMap:
    """DM3/DM4, Velox ``.emd``, Bruker ``.bcf``, Ripple ``.rpl`` through RosettaSciIO."""
    import importlib

    p = str(path)
    suffix = Path(p).suffix.lower()
    name = _RSCIIO_MODULES.get(suffix)
    if name is None:
        raise FileFormatError(f"no reader for {suffix} files", path=p)
    try:
        module = importlib.import_module(f"rsciio.{name}")
    except ImportError:
        raise FileFormatError(
            f"reading {suffix} files needs RosettaSciIO (pip install rosettasciio; GPL-3.0, "
            "an optional extra of iondyn)",
            path=p,
        ) from None
    try:
        signals = module.file_reader(p, lazy=True)
    except Exception as exc:  # a reader library's own errors: one line naming the file
        raise FileFormatError(f"RosettaSciIO could not read the file ({exc})", path=p) from None
    for sig in signals:
        data = sig.get("data")
        if getattr(data, "ndim", 0) in (2, 3):
            try:
                return from_rsciio_signal(sig, p)
            except DataError:
                continue
    raise DataError(
        "the file holds no spectrum image (no signal with one spectral axis "
        "and one or two navigation axes)",
        path=p,
    )
