"""The array module the map kernels run on: NumPy on the CPU, CuPy on a GPU.

Every batched kernel of :mod:`iondyn.maps` takes ``xp`` (the array module) and only calls
functions NumPy and CuPy share (elementwise ufuncs, ``matmul``, ``linalg.solve``,
``cumsum``, ``where``), so the same code runs on either; results come back to the host
with :func:`to_host`. ``device="gpu"`` needs CuPy (an optional install, e.g.
``pip install cupy-cuda12x``); without it the request is a one-line error, never a silent
fall-back to the CPU.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from iondyn.errors import InputError

__all__ = ["array_module", "to_host"]


def array_module(device: str = "cpu") -> ModuleType:
    """``numpy`` for ``"cpu"``, ``cupy`` for ``"gpu"`` (InputError when CuPy is missing or
    finds no GPU)."""
    key = str(device).strip().lower()
    if key in ("cpu", "numpy"):
        return np
    if key not in ("gpu", "cuda", "cupy"):
        raise InputError(f"unknown device {device!r}; choose 'cpu' or 'gpu'")
    try:
        import cupy  # type: ignore[import-not-found]
    except ImportError:
        raise InputError(
            "CuPy is not installed: --device gpu needs it (pip install cupy-cuda12x); "
            "use --device cpu"
        ) from None
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing, no device
        raise InputError(f"CuPy finds no usable GPU ({type(exc).__name__}: {exc})") from None
    return cupy


def to_host(a: Any) -> np.ndarray:
    """A NumPy array from a NumPy or CuPy array."""
    get = getattr(a, "get", None)
    if get is not None and not isinstance(a, np.ndarray):
        return get()
    return np.asarray(a)
