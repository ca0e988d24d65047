"""Figures of the map analyses (PNG or SVG, matplotlib, no display needed).

* fit: one figure per quantity (centre, FWHM, area, height and their errors) with a panel per
  peak, the area ratios, and a quality figure (misfit verdict, χ²/dof or deviance/dof, the
  cluster map);
* decompose: the component spectra, their abundance maps and the phase map;
* profile: the binned profile with errors and the fitted sigmoid.

The figures are :class:`matplotlib.figure.Figure` objects, not pyplot's: saving never
selects or touches a notebook's backend.

Every function returns the paths it wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

__all__ = ["save_decomposition_figures", "save_fit_figures", "save_profile_figure"]


def _axis_label(name: str, unit: str) -> str:
    return f"{name or 'x'} ({unit})" if unit else (name or "x")


def _panels(
    maps: list[np.ndarray],
    titles: list[str],
    path: Path,
    cmap: str = "viridis",
    suptitle: str = "",
    discrete: bool = False,
) -> str:
    n = len(maps)
    cols = min(n, 4)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(3.2 * cols, 3.0 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, m, t in zip(axes.flat, maps, titles):
        finite = np.isfinite(m)
        if discrete:
            im = ax.imshow(
                np.where(m >= 0, m, np.nan),
                cmap="tab10",
                interpolation="nearest",
                vmin=-0.5,
                vmax=9.5,
            )
        else:
            lo, hi = np.percentile(m[finite], [1, 99]) if finite.any() else (0, 1)
            im = ax.imshow(
                m, cmap=cmap, vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest"
            )
        ax.set_title(t, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, shrink=0.8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return str(path)


def save_fit_figures(result: Any, outdir: str | Path, fmt: str = "png") -> list[str]:
    """Figures of a :class:`~iondyn.maps.result.MapFitResult` into ``outdir``."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    k = result.n_peaks
    unit = result.axis_unit
    paths = []
    for q in ("center", "fwhm", "area", "height"):
        for suffix in ("", "_err"):
            name = q + suffix
            if name not in result.maps:
                continue
            m = result.maps[name]
            u = f" ({unit})" if unit and q in ("center", "fwhm") else ""
            titles = [f"peak {i + 1} {name}{u}" for i in range(k)]
            paths.append(_panels([m[..., i] for i in range(k)], titles, out / f"{name}.{fmt}"))
    ratios = [n for n in result.maps if n.startswith("ratio_") and not n.endswith("_err")]
    if ratios:
        paths.append(
            _panels(
                [result.maps[n] for n in ratios],
                [n.replace("ratio_", "area ratio ").replace("_", "/") for n in ratios],
                out / f"ratios.{fmt}",
            )
        )
    q = result.maps["quality"].astype(float)
    q[q < 0] = np.nan
    paths.append(
        _panels(
            [q, result.maps["cost_per_dof"], result.maps["cluster"].astype(float)],
            [
                "quality (0 good, 1 structured, 2 misfit)",
                "cost per degree of freedom",
                "cluster (spectral shape)",
            ],
            out / f"quality.{fmt}",
            suptitle=f"{result.source or ''}",
        )
    )
    return paths


def save_decomposition_figures(result: Any, outdir: str | Path, fmt: str = "png") -> list[str]:
    """Figures of a :class:`~iondyn.maps.decompose.DecompositionResult` into ``outdir``."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(6.5, 3.8))
    ax = fig.subplots()
    for i, s in enumerate(result.spectra):
        ax.plot(result.axis, s, label=f"component {i + 1}", lw=1.2)
    ax.set_xlabel(_axis_label(result.axis_name, result.axis_unit))
    ax.set_ylabel("spectrum (unit maximum)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    p1 = out / f"components.{fmt}"
    fig.savefig(p1)
    k = result.n_components
    p2 = _panels(
        [result.maps["fraction"][..., i] for i in range(k)],
        [f"component {i + 1} fraction" for i in range(k)],
        out / f"abundance.{fmt}",
    )
    p3 = _panels(
        [result.maps["phase"].astype(float)],
        ["phase (largest fraction)"],
        out / f"phase.{fmt}",
        discrete=True,
    )
    return [str(p1), p2, p3]


def save_profile_figure(profile: Any, path: str | Path) -> str:
    """The profile with its errors and the fitted logistic step."""
    fig = Figure(figsize=(6, 3.8))
    ax = fig.subplots()
    d = profile.distance * profile.pixel_size
    ax.errorbar(d, profile.value, yerr=profile.error, fmt="o", ms=3, lw=1, label="profile")
    if profile.fit is not None:
        f = profile.fit
        dd = np.linspace(profile.distance.min(), profile.distance.max(), 400)
        t = (dd - f["center"]) / max(f["width"], 1e-300)
        v = f["low"] + (f["high"] - f["low"]) * 0.5 * (1 + np.tanh(0.5 * t))
        ax.plot(
            dd * profile.pixel_size,
            v,
            "r-",
            lw=1.2,
            label=f"sigmoid, w = {f['width'] * profile.pixel_size:.3g} "
            f"± {f['width_err'] * profile.pixel_size:.2g}",
        )
    unit = profile.spatial_unit or "pixels"
    ax.set_xlabel(f"distance across the interface ({unit})")
    ax.set_ylabel(profile.quantity or "value")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return str(path)
