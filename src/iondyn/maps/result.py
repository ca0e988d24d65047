"""Result objects of the map analyses: arrays in ``maps``, everything else JSON-ready.

:class:`MapFitResult` (``iondyn map fit``) holds parameter maps (ny, nx, K) — ``center``,
``fwhm``, ``area``, ``height`` and the shape's extras, each with ``<name>_err`` —, ratio maps
``ratio_j_i`` (= area_j/area_i) with errors, background maps, the quality map (``quality``:
0 good, 1 structured, 2 misfit, 3 too few points, −1 not fitted) with ``rms_relative``,
``cost_per_dof``, ``converged``, the ``cluster`` map (phase by spectral shape, −1 masked) and
``audited`` (pixels refined from more than their cluster's start). :meth:`to_dict` summarises
(no arrays); :func:`save_arrays` writes ``.npz`` (and ``.h5`` when h5py is installed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iondyn.display.summary import Displayable

__all__ = ["QUALITY_CODES", "MapFitResult", "save_arrays"]

#: Codes of the quality map.
QUALITY_CODES = {"good": 0, "structured": 1, "misfit": 2, "too few points": 3, "not fitted": -1}


def _f(v: Any) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _stats(values: np.ndarray, errors: np.ndarray | None = None) -> dict[str, Any]:
    v = values[np.isfinite(values)]
    out: dict[str, Any] = {"n": int(v.size)}
    if v.size:
        q = np.percentile(v, [5, 25, 50, 75, 95])
        out |= {"median": _f(q[2]), "p25": _f(q[1]), "p75": _f(q[3]), "p5": _f(q[0])}
        out |= {"p95": _f(q[4]), "min": _f(v.min()), "max": _f(v.max())}
    if errors is not None:
        e = errors[np.isfinite(errors)]
        out["median_err"] = _f(np.median(e)) if e.size else None
    return out


def save_arrays(
    path: str | Path, arrays: dict[str, np.ndarray], attrs: dict[str, Any]
) -> list[str]:
    """Write ``arrays`` to ``path`` (.npz) and, when h5py is installed, next to it as .h5
    (datasets plus JSON attributes). Returns the paths written."""
    import json

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps(attrs, default=str, allow_nan=True)
    np.savez_compressed(p, **arrays, metadata_json=np.array(meta))
    written = [str(p)]
    try:
        import h5py  # type: ignore[import-not-found]
    except ImportError:
        return written
    h5 = p.with_suffix(".h5")
    with h5py.File(h5, "w") as f:
        for k, v in arrays.items():
            f.create_dataset(k, data=v, compression="gzip")
        f.attrs["metadata_json"] = meta
    written.append(str(h5))
    return written


@dataclass(repr=False)
class MapFitResult(Displayable):
    """Every pixel of a spectrum image fitted with one K (see the module docstring)."""

    source: str | None
    shape: str
    n_peaks: int
    background: str
    likelihood: str
    maps: dict[str, np.ndarray]
    x: np.ndarray
    y: np.ndarray
    axis: np.ndarray
    axis_name: str = ""
    axis_unit: str = ""
    intensity_unit: str = ""
    bic_table: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def spatial_shape(self) -> tuple[int, int]:
        return self.maps["cost_per_dof"].shape  # type: ignore[return-value]

    def peak_summary(self) -> list[dict[str, Any]]:
        """Per peak: median, quartiles and median error of each quantity over fitted pixels."""
        rows = []
        names = [n for n in self.maps if not n.endswith("_err") and self.maps[n].ndim == 3]
        for k in range(self.n_peaks):
            row: dict[str, Any] = {"id": k + 1}
            for n in names:
                err = self.maps.get(f"{n}_err")
                row[n] = _stats(self.maps[n][..., k], None if err is None else err[..., k])
            rows.append(row)
        return rows

    def quality_counts(self) -> dict[str, int]:
        q = self.maps["quality"]
        return {name: int(np.sum(q == code)) for name, code in QUALITY_CODES.items()}

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary (``iondyn map fit --json``): no arrays."""
        ratios = {
            n: _stats(self.maps[n], self.maps.get(f"{n}_err"))
            for n in self.maps
            if n.startswith("ratio_") and not n.endswith("_err")
        }
        bg = {
            n: _stats(self.maps[n], self.maps.get(f"{n}_err"))
            for n in self.maps
            if n.startswith("bg_") and not n.endswith("_err")
        }
        ny, nx = self.spatial_shape
        return {
            "source": self.source,
            "map_shape": [int(ny), int(nx), int(self.axis.size)],
            "axis": {
                "name": self.axis_name,
                "unit": self.axis_unit,
                "first": _f(self.axis[0]),
                "last": _f(self.axis[-1]),
            },
            "shape": self.shape,
            "n_peaks": self.n_peaks,
            "background": self.background,
            "likelihood": self.likelihood,
            "bic_table": self.bic_table,
            "peaks": self.peak_summary(),
            "ratios": ratios,
            "background_parameters": bg,
            "quality": self.quality_counts(),
            "cost_per_dof": _stats(self.maps["cost_per_dof"]),
            "templates": self.templates,
            "stats": self.stats,
            "warnings": list(self.warnings),
            "settings": self.settings,
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per peak and quantity: median, quartiles, median error."""
        rows = []
        for peak in self.peak_summary():
            for name, st in peak.items():
                if name == "id":
                    continue
                rows.append({"peak": peak["id"], "quantity": name} | st)
        return pd.DataFrame(rows)

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(self.maps) | {"x": self.x, "y": self.y, "axis": self.axis}

    def save(self, path: str | Path) -> list[str]:
        """``.npz`` (+ ``.h5`` with h5py) of every map, the axes and the JSON summary."""
        return save_arrays(path, self.arrays(), self.to_dict())

    def _summary(self) -> Any:
        from iondyn.display.views_results import map_fit_summary

        return map_fit_summary(self)

    def plot(self, ax: Any = None, quantity: str = "center", peak: int = 1) -> Any:
        """One map as an image: ``quantity`` (a key of :attr:`maps`: ``center``, ``fwhm``,
        ``area``, ``height``, their ``_err``, ``ratio_j_i``, ``quality``, ``cluster``,
        ``cost_per_dof``…) of peak ``peak`` (1-based). Returns the axes."""
        from iondyn.display.views_results import map_fit_plot

        return map_fit_plot(self, ax, quantity, peak)
