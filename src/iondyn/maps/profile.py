r"""Interface profiles: a parameter map averaged along an interface, as a function of the
distance across it, with errors and a fitted sigmoidal width.

**Line.** Given two points P₀, P₁ (pixel coordinates: column, row), every pixel centre p gets
its signed distance across the line d = (p − P₀)·n̂ (n̂ the unit normal, pointing to the left
of P₀ → P₁) and its position along it t = (p − P₀)·û/|P₁ − P₀|; pixels with 0 ≤ t ≤ 1 (and
|d| ≤ ``max_distance``) are binned in d (bins of ``bin_width`` pixels). Each bin's value is
the inverse-variance weighted mean of its pixels (w = 1/σ², the parameter's standard errors;
equal weights without errors) and its error 1/√Σw scaled by the Birge ratio
max(1, √(χ²/(n − 1))) (Birge, Phys. Rev. 40, 207 (1932)), so scatter beyond the pixels' own
errors (a real variation along the interface) widens it.

**Width.** The profile is fitted by the logistic step

.. math:: v(d) = v_0 + \frac{v_1 - v_0}{1 + e^{-(d - d_0)/w}}

by weighted least squares (errors from the covariance, σ taken as absolute; χ²/dof
reported). ``width`` is w (in pixels and in the spatial unit); the 10–90 % width is
2 ln 9 · w ≈ 4.39 w.

**Boundary.** Between two components (two abundance or fraction maps a, b — e.g. of
``iondyn map decompose``) the share f = a/(a + b) is fitted over the whole map by the same
logistic in the distance to an unknown straight line, f = f₀ + (f₁ − f₀) σ((x cos φ + y sin φ
− ρ)/w) (least squares; φ started from the mean gradient direction, ρ from the pixels near
f = ½): the line, its angle, and the 2-D width with errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from iondyn.display.summary import Displayable
from iondyn.errors import DataError, FitError

__all__ = ["Boundary", "InterfaceProfile", "find_boundary", "fit_sigmoid", "profile_across"]

_LN9 = 2.0 * np.log(9.0)


def _sig(t: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def fit_sigmoid(d: np.ndarray, v: np.ndarray, e: np.ndarray | None = None) -> dict[str, Any]:
    """Weighted logistic-step fit of v(d) (module docstring); raises FitError when fewer than
    5 points."""
    ok = np.isfinite(d) & np.isfinite(v) & (np.isfinite(e) & (e > 0) if e is not None else True)
    d, v = d[ok], v[ok]
    e = np.ones_like(v) if e is None else e[ok]
    if d.size < 5:
        raise FitError(f"a sigmoidal width needs at least 5 profile points, got {d.size}")
    k = max(1, d.size // 5)
    lo, hi = float(np.mean(v[:k])), float(np.mean(v[-k:]))
    mid = 0.5 * (lo + hi)
    d0 = float(d[np.argmin(np.abs(v - mid))])
    w0 = max(float(np.ptp(d)) / 10.0, 1e-3)

    def resid(p):
        return (p[0] + (p[1] - p[0]) * _sig((d - p[2]) / p[3]) - v) / e

    best = None
    for ws in (w0, 0.3 * w0, 3 * w0):
        r = least_squares(resid, [lo, hi, d0, ws], method="lm", max_nfev=2000)
        if best is None or r.cost < best.cost:
            best = r
    p = best.x.copy()
    if p[3] < 0:  # the same step written with w > 0: swap the levels
        p[0], p[1], p[3] = p[1], p[0], -p[3]
    dof = max(d.size - 4, 1)
    try:
        cov = np.linalg.inv(best.jac.T @ best.jac)
    except np.linalg.LinAlgError:
        cov = np.full((4, 4), np.nan)
    err = np.sqrt(np.clip(np.diag(cov), 0, None))
    if best.x[3] < 0:
        err[[0, 1]] = err[[1, 0]]
    w = float(p[3])
    return {
        "low": float(p[0]),
        "low_err": float(err[0]),
        "high": float(p[1]),
        "high_err": float(err[1]),
        "center": float(p[2]),
        "center_err": float(err[2]),
        "width": w,
        "width_err": float(err[3]),
        "width_10_90": _LN9 * w,
        "width_10_90_err": _LN9 * float(err[3]),
        "chi2_reduced": float(2 * best.cost / dof),
        "n_points": int(d.size),
    }


@dataclass(repr=False)
class InterfaceProfile(Displayable):
    """A profile across a line (module docstring): bins ``distance`` (pixels), ``value``,
    ``error``, ``count``; ``fit`` the logistic step; ``pixel_size`` converts to the spatial
    unit."""

    quantity: str
    line: tuple[float, float, float, float]
    distance: np.ndarray
    value: np.ndarray
    error: np.ndarray
    count: np.ndarray
    fit: dict[str, Any] | None
    pixel_size: float = 1.0
    spatial_unit: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        fit = None
        if self.fit is not None:
            fit = dict(self.fit)
            fit["width_spatial"] = fit["width"] * self.pixel_size
            fit["width_spatial_err"] = fit["width_err"] * self.pixel_size
        return {
            "quantity": self.quantity,
            "line": [float(v) for v in self.line],
            "pixel_size": self.pixel_size,
            "spatial_unit": self.spatial_unit,
            "n_bins": int(self.distance.size),
            "fit": fit,
            "warnings": list(self.warnings),
        }

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "distance": self.distance,
            "value": self.value,
            "error": self.error,
            "count": self.count,
        }

    def _summary(self) -> Any:
        from iondyn.display.views_results import profile_summary

        return profile_summary(self)

    def plot(self, ax: Any = None) -> Any:
        """The binned profile with its errors and the fitted step. Returns the axes."""
        from iondyn.display.views_results import profile_plot

        return profile_plot(self, ax)

    def to_dataframe(self) -> Any:
        """One row per bin: distance (pixels and spatial unit), value, error, pixel count."""
        import pandas as pd

        return pd.DataFrame(self.arrays() | {"distance_spatial": self.distance * self.pixel_size})


def profile_across(
    values: np.ndarray,
    errors: np.ndarray | None,
    line: tuple[float, float, float, float],
    *,
    quantity: str = "",
    bin_width: float = 1.0,
    max_distance: float | None = None,
    pixel_size: float = 1.0,
    spatial_unit: str = "",
    fit: bool = True,
) -> InterfaceProfile:
    """The profile of ``values`` (ny, nx) across ``line`` = (x0, y0, x1, y1) in pixels."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise DataError(f"a profile needs a 2-D parameter map, got shape {values.shape}")
    x0, y0, x1, y1 = (float(v) for v in line)
    length = float(np.hypot(x1 - x0, y1 - y0))
    if not length > 0:
        raise DataError("the profile line has zero length (its two points coincide)")
    u = np.array([x1 - x0, y1 - y0]) / length
    nrm = np.array([-u[1], u[0]])
    rows, cols = np.indices(values.shape)
    px, py = cols - x0, rows - y0
    d = px * nrm[0] + py * nrm[1]
    t = (px * u[0] + py * u[1]) / length
    sel = (t >= 0) & (t <= 1) & np.isfinite(values)
    if max_distance is not None:
        sel &= np.abs(d) <= max_distance
    err = None if errors is None else np.asarray(errors, dtype=float)
    if err is not None:
        sel &= np.isfinite(err) & (err > 0)
    if sel.sum() < 2:
        raise DataError("fewer than 2 fitted pixels lie along the profile line")
    b = np.round(d[sel] / bin_width).astype(int)
    v = values[sel]
    w = np.ones_like(v) if err is None else 1.0 / err[sel] ** 2
    uniq = np.unique(b)
    dist, val, ve, cnt = [], [], [], []
    for k in uniq:
        m = b == k
        ww, vv = w[m], v[m]
        mean = float(np.sum(ww * vv) / np.sum(ww))
        n = int(m.sum())
        if err is None:
            se = float(np.std(vv, ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        else:
            se = float(1.0 / np.sqrt(np.sum(ww)))
            if n > 1:
                chi2 = float(np.sum(ww * (vv - mean) ** 2)) / (n - 1)
                se *= max(1.0, np.sqrt(chi2))
        dist.append(float(np.mean(d[sel][m])))
        val.append(mean)
        ve.append(se)
        cnt.append(n)
    prof = InterfaceProfile(
        quantity,
        (x0, y0, x1, y1),
        np.array(dist),
        np.array(val),
        np.array(ve),
        np.array(cnt),
        None,
        pixel_size,
        spatial_unit,
    )
    if fit:
        try:
            prof.fit = fit_sigmoid(prof.distance, prof.value, prof.error)
        except FitError as exc:
            prof.warnings.append(str(exc))
    return prof


@dataclass
class Boundary:
    """A straight boundary: ``line`` (x0, y0, x1, y1) across the image, its angle φ of the
    normal (radians), offset ρ (pixels) and the 2-D logistic fit (width w, f₀, f₁)."""

    line: tuple[float, float, float, float]
    angle: float
    offset: float
    width: float
    width_err: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": [float(v) for v in self.line],
            "normal_angle_deg": float(np.degrees(self.angle)),
            "offset": self.offset,
            "width": self.width,
            "width_err": self.width_err,
            "width_10_90": _LN9 * self.width,
            "low": self.low,
            "high": self.high,
        }


def _clip_line(phi: float, rho: float, nx: int, ny: int) -> tuple[float, float, float, float]:
    """Endpoints of {x cos φ + y sin φ = ρ} inside [0, nx − 1] × [0, ny − 1]."""
    c, s = np.cos(phi), np.sin(phi)
    pts = []
    for xe in (0.0, nx - 1.0):
        if abs(s) > 1e-12:
            ye = (rho - xe * c) / s
            if -1e-9 <= ye <= ny - 1 + 1e-9:
                pts.append((xe, ye))
    for ye in (0.0, ny - 1.0):
        if abs(c) > 1e-12:
            xe = (rho - ye * s) / c
            if -1e-9 <= xe <= nx - 1 + 1e-9:
                pts.append((xe, ye))
    if len(pts) < 2:
        raise FitError("the boundary line does not cross the map")
    pts = sorted(set(pts))
    (xa, ya), (xb, yb) = pts[0], pts[-1]
    # orient P0 → P1 so that the normal (left of the direction) points towards high f
    if (-(yb - ya)) * c + (xb - xa) * s < 0:
        xa, ya, xb, yb = xb, yb, xa, ya
    return (xa, ya, xb, yb)


def find_boundary(a: np.ndarray, b: np.ndarray | None = None) -> Boundary:
    """The straight boundary between two components (module docstring). ``a`` and ``b``
    are their abundance (or fraction) maps; with ``b`` None, ``a`` is the share f itself."""
    a = np.asarray(a, dtype=float)
    f = a if b is None else a / (a + np.asarray(b, dtype=float))
    ny, nx = f.shape
    rows, cols = np.indices(f.shape)
    ok = np.isfinite(f)
    if ok.sum() < 6:
        raise DataError("too few finite pixels to find a boundary")
    gy, gx = np.gradient(np.where(ok, f, np.nanmean(f)))
    phi0 = float(np.arctan2(np.nansum(gy), np.nansum(gx)))
    near = ok & (np.abs(f - 0.5 * (np.nanmin(f) + np.nanmax(f))) < 0.25 * np.nanmax(np.abs(f)))
    if not near.any():
        near = ok
    rho0 = float(np.mean(cols[near] * np.cos(phi0) + rows[near] * np.sin(phi0)))
    xs, ys, fs = cols[ok].astype(float), rows[ok].astype(float), f[ok]

    def resid(p):
        t = (xs * np.cos(p[0]) + ys * np.sin(p[0]) - p[1]) / p[2]
        return p[3] + (p[4] - p[3]) * _sig(t) - fs

    lo, hi = float(np.nanpercentile(fs, 5)), float(np.nanpercentile(fs, 95))
    best = None
    for w0 in (1.0, 3.0, 0.1 * max(nx, ny)):
        r = least_squares(resid, [phi0, rho0, w0, lo, hi], method="lm", max_nfev=4000)
        if best is None or r.cost < best.cost:
            best = r
    p = best.x.copy()
    if p[2] < 0:  # the same step seen from the other side
        p[0], p[1], p[2] = p[0] + np.pi, -p[1], -p[2]
    dof = max(fs.size - 5, 1)
    try:
        cov = np.linalg.inv(best.jac.T @ best.jac) * (2 * best.cost / dof)
        w_err = float(np.sqrt(max(cov[2, 2], 0.0)))
    except np.linalg.LinAlgError:
        w_err = float("nan")
    if p[4] < p[3]:  # make the normal point from low to high share
        p[0], p[1], p[3], p[4] = p[0] + np.pi, -p[1], p[4], p[3]
    line = _clip_line(float(p[0]), float(p[1]), nx, ny)
    return Boundary(
        line,
        float(p[0] % (2 * np.pi)),
        float(p[1]),
        abs(float(p[2])),
        w_err,
        float(p[3]),
        float(p[4]),
    )
