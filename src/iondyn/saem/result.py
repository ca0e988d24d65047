"""Result objects of the SAEM engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iondyn.display import Displayable, Summary, collection_summary, format_value, quantity_label
from iondyn.errors import InputError

__all__ = ["SAEMResult", "SpectrumFit"]

#: Units of the peak quantities in terms of the axes' (x, y) units.
_PEAK_UNITS = {"center": "x", "fwhm": "x", "area": "xy", "height": "y"}


def _f(v: Any) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


@dataclass(repr=False)
class SpectrumFit(Displayable):
    """The decomposition of one spectrum.

    ``peaks`` maps a quantity name (``center``, ``fwhm``, ``area``, ``height`` and the shape's
    extras) to an array over peaks, with ``<name>_err`` standard errors. ``params``/``cov`` are
    the raw fitted parameters (names in ``param_names``) and their full covariance.
    Curves (``x``, ``y``, ``model``, ``components``, ``background_curve``) are kept for plots.
    ``x_name``/``x_unit``/``y_name``/``y_unit`` name the axes as the file did (``""`` when it
    said nothing): center, fwhm and the other widths are in ``x_unit``, height in ``y_unit``,
    area in ``y_unit``·``x_unit``.
    """

    source: str | None
    index: int
    shape: str
    n_peaks: int
    peaks: dict[str, np.ndarray]
    background: dict[str, Any]
    quality: dict[str, Any]
    params: np.ndarray
    param_names: list[str]
    cov: np.ndarray
    warnings: list[str] = field(default_factory=list)
    bic_table: list[dict[str, Any]] = field(default_factory=list)
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    model: np.ndarray | None = None
    components: np.ndarray | None = None
    background_curve: np.ndarray | None = None
    peak_ids: np.ndarray | None = None
    label: str | None = None
    x_name: str = ""
    x_unit: str = ""
    y_name: str = ""
    y_unit: str = ""

    @property
    def converged(self) -> bool:
        return bool(self.quality.get("converged", False))

    @property
    def correlation(self) -> np.ndarray:
        d = np.sqrt(np.clip(np.diag(self.cov), 0, None))
        with np.errstate(invalid="ignore", divide="ignore"):
            c = self.cov / np.outer(d, d)
        return c

    def peak_table(self) -> list[dict[str, Any]]:
        keys = [k for k in self.peaks if not k.endswith("_err")]
        ids = self.peak_ids if self.peak_ids is not None else np.arange(1, self.n_peaks + 1)
        rows = []
        for i in range(self.n_peaks):
            row: dict[str, Any] = {"id": int(ids[i])}
            for k in keys:
                row[k] = _f(self.peaks[k][i])
                if f"{k}_err" in self.peaks:
                    row[f"{k}_err"] = _f(self.peaks[f"{k}_err"][i])
            rows.append(row)
        return rows

    def to_dict(self, include_curves: bool = False) -> dict[str, Any]:
        """JSON-ready layout of ``iondyn peaks fit --json`` (one entry of ``results``)."""
        d: dict[str, Any] = {
            "source": self.source,
            "spectrum": self.index,
            "label": self.label,
            "shape": self.shape,
            "n_peaks": self.n_peaks,
            "peaks": self.peak_table(),
            "background": self.background,
            "quality": self.quality,
            "warnings": list(self.warnings),
            "x_name": self.x_name,
            "x_unit": self.x_unit,
            "y_name": self.y_name,
            "y_unit": self.y_unit,
        }
        if self.bic_table:
            d["bic_table"] = self.bic_table
        if include_curves and self.x is not None:
            d["curves"] = {
                "x": self.x.tolist(),
                "y": self.y.tolist(),
                "model": self.model.tolist(),
                "background": self.background_curve.tolist(),
                "components": self.components.tolist(),
            }
        return d

    def _title(self) -> str:
        name = Path(self.source).name if self.source else "spectrum"
        label = f" {self.label}" if self.label else ""
        return f"{name} [{self.index}]{label}: {self.n_peaks} × {self.shape}"

    def _summary(self) -> Summary:
        units = {"x": self.x_unit, "y": self.y_unit, "xy": f"{self.y_unit}·{self.x_unit}"}
        keys = [k for k in ("center", "fwhm", "area", "height") if k in self.peaks]
        keys += [k for k in self.peaks if not k.endswith("_err") and k not in keys]
        header = ["peak"] + [
            quantity_label(k, units.get(_PEAK_UNITS.get(k, ""), "").strip("·")) for k in keys
        ]
        rows = []
        for row in self.peak_table():
            cells = [str(row["id"])]
            for k in keys:
                ratio = k not in ("center",)
                cells.append(format_value(row.get(k), row.get(f"{k}_err"), ratio=ratio))
            rows.append(cells)
        q = self.quality
        facts = [
            f"R² = {q['r2']:.4f}" if q.get("r2") is not None else "",
            f"background {self.background.get('kind', '?')}",
            "converged" if self.converged else "NOT converged",
        ]
        return Summary(
            "SpectrumFit",
            self._title(),
            [f for f in facts if f],
            tables=[("peaks", header, rows)],
            misfit=q.get("misfit"),
            warnings=list(self.warnings),
        )

    def plot(self, ax: Any = None) -> Any:
        """Data, every peak on top of the background, background and model; a binding-energy
        axis decreases to the right. Returns the axes (a new figure when ``ax`` is None)."""
        from iondyn.display import plots as dp
        from iondyn.peaks.axes import axis_labels

        if self.x is None:
            raise InputError("this fit keeps no curves to plot")
        xl, yl = axis_labels(self)
        ids = self.peak_ids if self.peak_ids is not None else np.arange(1, self.n_peaks + 1)
        labels = [f"peak {int(i)} at {c:.4g}" for i, c in zip(ids, self.peaks["center"])]
        return dp.decomposition(
            dp.axes(ax),
            self.x,
            self.y,
            self.model,
            self.background_curve,
            list(self.components),
            labels,
            xlabel=xl,
            ylabel=yl,
            title=self._title(),
            reverse_x=self.x_name == "binding energy",
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One row per peak."""
        df = pd.DataFrame(self.peak_table())
        df.insert(0, "spectrum", self.index)
        df.insert(0, "source", self.source)
        return df


@dataclass(repr=False)
class SAEMResult(Displayable):
    """Fits of a batch (or series) of spectra, in input order."""

    fits: list[SpectrumFit]
    settings: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.fits)

    def __getitem__(self, i: int) -> SpectrumFit:
        return self.fits[i]

    def __iter__(self):
        return iter(self.fits)

    def to_dict(self, include_curves: bool = False) -> dict[str, Any]:
        return {"results": [f.to_dict(include_curves) for f in self.fits]}

    def to_dataframe(self) -> pd.DataFrame:
        frames = [f.to_dataframe() for f in self.fits]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def _summary(self) -> Summary:
        return collection_summary("SAEMResult", self.fits, "spectra")

    def plot(self, ax: Any = None, index: int | None = None) -> Any:
        """One fit (``index``; the only one by default) as :meth:`SpectrumFit.plot`, or with
        several fits the data and model of each on the same axes. Returns the axes."""
        from iondyn.display import plots as dp

        if index is not None or len(self.fits) == 1:
            return self.fits[index or 0].plot(ax)
        ax = dp.axes(ax)
        for k, f in enumerate(self.fits):
            if f.x is not None:
                ax.plot(f.x, f.y, ".", ms=2, color=f"C{k % 10}")
                ax.plot(f.x, f.model, color=f"C{k % 10}", lw=1, label=f._title())
        ax.legend(fontsize=6)
        return ax

    def array(self, name: str) -> np.ndarray:
        """A quantity over the series as an (n_spectra, K) array (NaN where K differs)."""
        k = max(f.n_peaks for f in self.fits)
        out = np.full((len(self.fits), k), np.nan)
        for i, f in enumerate(self.fits):
            out[i, : f.n_peaks] = f.peaks[name]
        return out
