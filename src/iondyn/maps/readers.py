"""Reading spectrum images: NumPy ``.npy``/``.npz``, HDF5 (``.h5``, ``.hspy``, ``.emd``),
Gatan DM3/DM4 and other electron-microscopy formats, and Raman map text exports.

:func:`read_map` picks the reader from the file's content and extension:

* **``.npy``** — one array (ny, nx, n) or (pixels, n), memory-mapped (never read whole); the
  spectral axis comes from ``axis=`` (an array, or ``(start, step)``), else channel indices.
* **``.npz``** — the spectrum image is the array named ``X``, ``data``, ``si``, ``signal``,
  ``spectrum_image``, ``spectra`` or ``counts`` (or the only array of ≥ 2 dimensions); the
  spectral axis is the 1-D array named ``ev``, ``energy``, ``axis``, ``shift``, ``wavenumber``,
  ``raman_shift`` … (or the only 1-D array as long as the spectra); optional ``x``/``y`` spatial
  axes. Members stored uncompressed (``np.savez``) are memory-mapped in place; compressed
  members (``np.savez_compressed``) must be read whole, and one larger than ``max_bytes`` is
  an error (save it with ``np.save`` or as HDF5 to analyse it in chunks).
* **HDF5** (:mod:`iondyn.maps.readers_hdf5`, needs ``h5py``): HyperSpy ``.hspy``, Berkeley
  EMD and plain HDF5, read lazily as Dask arrays; Velox ``.emd``, DM3/DM4, Bruker ``.bcf``
  and Ripple ``.rpl`` through RosettaSciIO (GPL-3.0, an optional extra, imported only then).
* **Raman map text** — four columns x, y, Raman shift, intensity (Renishaw WiRE "#X #Y
  #Wave #Intensity" exports, or any such table, with or without a header; tab, comma,
  semicolon or space separated); every pixel must hold the same shifts (a ragged map is an
  error naming the pixel), the pixels must fill a rectangular grid.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from iondyn.errors import DataError, FileFormatError
from iondyn.maps.data import SpectrumMap

__all__ = ["default_max_bytes", "read_map", "read_npy", "read_npz", "read_raman_text"]

_DATA_NAMES = ("x", "data", "si", "signal", "spectrum_image", "spectra", "counts", "map")
_AXIS_NAMES = (
    "ev",
    "energy",
    "energy_loss",
    "axis",
    "shift",
    "raman_shift",
    "wavenumber",
    "wavenumbers",
    "e",
    "channels",
)
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_EM_EXTENSIONS = (".dm3", ".dm4", ".bcf", ".rpl")


def default_max_bytes() -> int:
    """Half the physical memory: the most a map reader reads whole (formats that cannot be
    read in chunks)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30


def _axis_from(axis: Any, n: int, path: str) -> tuple[np.ndarray, bool]:
    """The spectral axis from ``axis`` (array or (start, step)); channel indices when None.
    Returns (axis, given)."""
    if axis is None:
        return np.arange(n, dtype=float), False
    arr = np.asarray(axis, dtype=float)
    if arr.ndim == 1 and arr.size == 2 and n != 2:
        return arr[0] + arr[1] * np.arange(n), True
    return arr, True


def read_npy(path: str | Path, axis: Any = None, **meta: Any) -> SpectrumMap:
    """A ``.npy`` spectrum image, memory-mapped (see the module docstring)."""
    p = str(path)
    try:
        data = np.load(p, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise FileFormatError(f"not a numeric NumPy array ({exc})", path=p) from None
    except OSError as exc:
        raise FileFormatError(f"cannot read the file ({exc})", path=p) from None
    ax, given = _axis_from(axis, data.shape[-1] if data.ndim else 0, p)
    md = {"format": "npy"} | ({} if given else {"axis": "channel index (no axis given)"})
    return SpectrumMap(
        data,
        ax,
        source=p,
        axis_name=meta.get("axis_name", "" if given else "channel"),
        axis_unit=meta.get("axis_unit", ""),
        metadata=md,
    )


def _npz_members(path: str) -> dict[str, dict[str, Any]]:
    """name → {shape, dtype, fortran, offset (of the raw data; None when compressed)}."""
    out: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(path) as z, open(path, "rb") as raw:
        for info in z.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with z.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                header_len = f.tell()
            offset = None
            if info.compress_type == zipfile.ZIP_STORED:
                raw.seek(info.header_offset)
                local = raw.read(30)
                name_len = int.from_bytes(local[26:28], "little")
                extra_len = int.from_bytes(local[28:30], "little")
                offset = info.header_offset + 30 + name_len + extra_len + header_len
            out[info.filename[:-4]] = {
                "shape": tuple(shape),
                "dtype": dtype,
                "fortran": fortran,
                "offset": offset,
                "size": info.file_size,
            }
    return out


def _pick(members: dict[str, dict[str, Any]], names: tuple[str, ...], ok) -> str | None:
    lower = {k.lower(): k for k in members}
    for n in names:
        if n in lower and ok(members[lower[n]]):
            return lower[n]
    cands = [k for k, m in members.items() if ok(m)]
    return cands[0] if len(cands) == 1 else None


def read_npz(
    path: str | Path, axis: Any = None, max_bytes: int | None = None, **meta: Any
) -> SpectrumMap:
    """A ``.npz`` spectrum image (see the module docstring)."""
    p = str(path)
    try:
        members = _npz_members(p)
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileFormatError(f"not a readable .npz file ({exc})", path=p) from None
    name = _pick(members, _DATA_NAMES, lambda m: len(m["shape"]) in (2, 3))
    if name is None:
        shapes = ", ".join(f"{k} {m['shape']}" for k, m in members.items()) or "no arrays"
        raise FileFormatError(
            f"no spectrum image found (expected one 2-D or 3-D array, e.g. 'X' or 'data'; the "
            f"file holds {shapes})",
            path=p,
        )
    m = members[name]
    if m["dtype"].hasobject:
        raise DataError(f"the array {name!r} holds Python objects (a ragged map?)", path=p)
    n = m["shape"][-1]
    ax_name = _pick(members, _AXIS_NAMES, lambda a: len(a["shape"]) == 1 and a["shape"][0] == n)
    limit = default_max_bytes() if max_bytes is None else int(max_bytes)
    need = int(np.prod(m["shape"])) * 8
    if m["offset"] is not None and not m["fortran"]:
        data = np.memmap(p, dtype=m["dtype"], mode="r", offset=m["offset"], shape=m["shape"])
        lazy = True
    else:
        if need > limit:
            raise DataError(
                f"the compressed array {name!r} {m['shape']} needs {need / 2**30:.2f} GiB to "
                f"read whole, more than the limit of {limit / 2**30:.2f} GiB; save it "
                "uncompressed (np.save / np.savez) or as HDF5 so it can be read in chunks",
                path=p,
            )
        with np.load(p, allow_pickle=False) as z:
            data = np.asarray(z[name])
        lazy = False
    with np.load(p, allow_pickle=False) as z:
        small = {
            k: np.asarray(z[k])
            for k, mm in members.items()
            if k != name and int(np.prod(mm["shape"])) <= 1_000_000 and not mm["dtype"].hasobject
        }
    if axis is not None:
        ax, given = _axis_from(axis, n, p)
    elif ax_name is not None:
        ax, given = small[ax_name], True
    else:
        ax, given = np.arange(n, dtype=float), False
    ny_nx = m["shape"][:-1] if len(m["shape"]) == 3 else (1, m["shape"][0])
    xs = next((small[k] for k in ("x", "xaxis", "x_axis") if k in small and k != name), None)
    ys = next((small[k] for k in ("y", "yaxis", "y_axis") if k in small and k != name), None)
    if xs is not None and np.size(xs) != ny_nx[1]:
        xs = None
    if ys is not None and np.size(ys) != ny_nx[0]:
        ys = None
    units = {k: str(v) for k, v in small.items() if v.dtype.kind == "U" and v.ndim == 0}
    md = {"format": "npz", "array": name, "axis_array": ax_name, "memory_mapped": lazy}
    if not given:
        md["axis"] = "channel index (no axis in the file)"
    return SpectrumMap(
        data,
        ax,
        xs,
        ys,
        axis_name=meta.get("axis_name")
        or units.get("axis_name", "energy loss" if ax_name in ("ev",) else ax_name or "channel"),
        axis_unit=meta.get("axis_unit") or units.get("axis_unit", "eV" if ax_name == "ev" else ""),
        intensity_unit=units.get("intensity_unit", ""),
        spatial_unit=units.get("spatial_unit", ""),
        source=p,
        metadata=md,
    )


_SPLIT = re.compile(r"[,;\t]|\s+")


def _fields(line: str) -> list[str]:
    return [f for f in _SPLIT.split(line.strip()) if f]


def read_raman_text(path: str | Path, max_bytes: int | None = None) -> SpectrumMap:
    """A Raman map exported as four columns x, y, shift, intensity (module docstring)."""
    import pandas as pd

    p = str(path)
    size = Path(p).stat().st_size
    limit = default_max_bytes() if max_bytes is None else int(max_bytes)
    if size * 2 > limit:
        raise DataError(
            f"the text map ({size / 2**30:.2f} GiB) is too large to read whole (limit "
            f"{limit / 2**30:.2f} GiB); convert it to .npy or HDF5 to analyse it in chunks",
            path=p,
        )
    header: list[str] = []
    skip = 0
    with open(p, encoding="utf-8", errors="replace") as f:
        for line in f:
            t = line.strip().lstrip("\ufeff")
            if not t:
                skip += 1
                continue
            fl = _fields(t.lstrip("#%"))
            try:
                [float(v) for v in fl]
                break
            except ValueError:
                header = fl
                skip += 1
    try:
        table = pd.read_csv(
            p, sep=r"[,;\t ]+", engine="python", header=None, skiprows=skip, comment=None
        ).to_numpy(dtype=float)
    except (ValueError, pd.errors.ParserError) as exc:
        raise FileFormatError(
            f"not a numeric x, y, shift, intensity table ({exc})", path=p
        ) from None
    if table.ndim != 2 or table.shape[1] != 4:
        raise FileFormatError(
            f"a Raman map export has 4 columns (x, y, shift, intensity), this table has "
            f"{table.shape[1] if table.ndim == 2 else 0}",
            path=p,
        )
    if np.isnan(table[:, :3]).any():
        raise DataError("NaN in the x, y or shift columns", path=p)
    xs, xi = np.unique(table[:, 0], return_inverse=True)
    ys, yi = np.unique(table[:, 1], return_inverse=True)
    pix = yi * xs.size + xi
    counts = np.bincount(pix, minlength=xs.size * ys.size)
    n = int(np.median(counts))
    bad = np.nonzero(counts != n)[0]
    if bad.size:
        j = int(bad[0])
        raise DataError(
            f"ragged map: pixel (x={xs[j % xs.size]:g}, y={ys[j // xs.size]:g}) has "
            f"{int(counts[j])} points, the others {n} (every pixel needs the same shifts; "
            f"{bad.size} pixel(s) differ)",
            path=p,
        )
    order = np.lexsort((table[:, 2], pix))
    t = table[order]
    shifts = t[:, 2].reshape(-1, n)
    if not np.allclose(shifts, shifts[0], rtol=0, atol=1e-6 * max(np.ptp(shifts[0]), 1e-300)):
        j = int(np.nonzero(~np.all(np.isclose(shifts, shifts[0]), axis=1))[0][0])
        raise DataError(
            f"ragged map: pixel (x={xs[j % xs.size]:g}, y={ys[j // xs.size]:g}) has other "
            "shift values than the first pixel (mismatched axes)",
            path=p,
        )
    data = t[:, 3].reshape(ys.size, xs.size, n)
    names = [h.lower() for h in header]
    return SpectrumMap(
        data,
        shifts[0],
        xs,
        ys,
        axis_name="Raman shift",
        axis_unit="cm⁻¹",
        spatial_unit="µm" if any("µm" in h or "um" in h for h in names) else "",
        source=p,
        metadata={"format": "raman-text", "header": header},
    )


def _looks_like_raman_text(data: bytes) -> bool:
    from iondyn.maps.sniffing import raman_map_evidence

    return raman_map_evidence(data) is not None


def read_map(
    path: str | Path,
    axis: Any = None,
    *,
    max_bytes: int | None = None,
    axis_name: str | None = None,
    axis_unit: str | None = None,
) -> SpectrumMap:
    """Read a spectrum image (see the module docstring for the formats).

    ``axis``: the spectral axis for files that do not hold one (an array, or (start, step));
    ``max_bytes``: the most a reader that cannot read in chunks may read whole (default: half
    the physical memory). Raises :class:`~iondyn.errors.FileFormatError` or
    :class:`~iondyn.errors.DataError` with a one-line message naming the file.
    """
    p = Path(path)
    if not p.exists():
        raise FileFormatError("no such file", path=str(p))
    if not p.is_file():
        raise FileFormatError("not a regular file", path=str(p))
    with open(p, "rb") as f:
        head = f.read(4096)
    suffix = p.suffix.lower()
    meta = {k: v for k, v in (("axis_name", axis_name), ("axis_unit", axis_unit)) if v}
    if head.startswith(b"\x93NUMPY"):
        m = read_npy(p, axis, **meta)
    elif head.startswith(b"PK\x03\x04"):
        m = read_npz(p, axis, max_bytes, **meta)
    elif head.startswith(_HDF5_MAGIC) or suffix in (".h5", ".hdf5", ".hspy", ".emd", ".nxs"):
        from iondyn.maps.readers_hdf5 import read_hdf5

        m = read_hdf5(p, axis)
    elif suffix in _EM_EXTENSIONS:
        from iondyn.maps.readers_hdf5 import read_with_rosettasciio

        m = read_with_rosettasciio(p)
    elif _looks_like_raman_text(head):
        m = read_raman_text(p, max_bytes)
    else:
        raise FileFormatError(
            "not a spectrum image iondyn can read (.npy, .npz, HDF5/.hspy/.emd, DM3/DM4 or a "
            "Raman map text with x, y, shift, intensity columns)",
            path=str(p),
        )
    if axis_name:
        m.axis_name = axis_name
    if axis_unit:
        m.axis_unit = axis_unit
    return m
