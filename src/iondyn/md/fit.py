r"""Straight-line fits of MSD(t) = 2 d D t + c with honest errors.

``method = "gls"`` (default): generalised least squares with the covariance of the MSD points
of a random walk (:func:`iondyn.md.covariance.random_walk_covariance`; Bullerjahn, von Bülow &
Hummer, J. Chem. Phys. 153, 024116 (2020)),

.. math::

    \hat\beta = (X^T\Sigma^{-1}X)^{-1}X^T\Sigma^{-1}y, \qquad
    \mathrm{Cov}(\hat\beta) = (X^T\Sigma^{-1}X)^{-1}, \qquad X = [t, 1].

The covariance's shape does not depend on D (Σ ∝ s⁴ = (2DΔt)²), so the estimate needs no
iteration; its scale is set from the fitted slope. This is the estimator kinisi samples around
(McCluskey, Coles & Morgan, J. Open Source Softw. 9, 5984 (2024)), with the analytic
covariance instead of one estimated from the data.

``method = "ols"``: ordinary least squares with the usual regression error (residual scatter,
points taken as independent) — what most scripts do, and what under-states the error of a
correlated MSD several-fold; kept for comparison (pymatgen-analysis-diffusion issue #449).

Ions that hop are not Gaussian walkers: the MSD of a few hops fluctuates more than Gaussian
steps of the same D predict. The covariance therefore carries a second, "jump" term
(``jump_excess`` κ/(2d s⁴), see :func:`~iondyn.md.covariance.random_walk_covariance`), fitted
(≥ 0, by relative least squares) to the data's own scatter of the per-ion MSDs
(``empirical_variance``, the variance of the mean at each lag) and iterated with the slope to
a fixed point; without that scatter (a collective MSD: one walker) the Gaussian model is
used. ``variance_ratio`` compares the data's scatter with the final model (≈ 1 when the
model describes it; < 1 when even Gaussian steps over-state it, where κ stops at 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import linalg

from iondyn.errors import DataError
from iondyn.md.covariance import random_walk_covariance

__all__ = ["METHODS", "LineFit", "fit_msd_line"]

METHODS = ("gls", "ols")

#: Å²/ps → cm²/s.
A2_PER_PS_TO_CM2_PER_S = 1e-4


@dataclass
class LineFit:
    """slope (Å²/ps) and intercept (Å²) with their covariance; ``D_cm2_per_s`` = slope/(2d)."""

    method: str
    n_dims: int
    slope: float
    intercept: float
    cov: np.ndarray
    times_ps: np.ndarray
    msd: np.ndarray
    chi2_reduced: float
    variance_ratio: float | None = None
    jump_excess: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def slope_err(self) -> float:
        return float(np.sqrt(self.cov[0, 0]))

    @property
    def intercept_err(self) -> float:
        return float(np.sqrt(self.cov[1, 1]))

    @property
    def D_cm2_per_s(self) -> float:
        return self.slope / (2 * self.n_dims) * A2_PER_PS_TO_CM2_PER_S

    @property
    def D_cm2_per_s_err(self) -> float:
        return self.slope_err / (2 * self.n_dims) * A2_PER_PS_TO_CM2_PER_S

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "D_cm2_per_s": self.D_cm2_per_s,
            "D_cm2_per_s_err": self.D_cm2_per_s_err,
            "slope_A2_per_ps": self.slope,
            "slope_A2_per_ps_err": self.slope_err,
            "intercept_A2": self.intercept,
            "intercept_A2_err": self.intercept_err,
            "fit_start_ps": float(self.times_ps[0]),
            "fit_end_ps": float(self.times_ps[-1]),
            "n_fit_points": int(self.times_ps.size),
            "chi2_reduced": self.chi2_reduced,
            "variance_ratio": self.variance_ratio,
            "jump_excess": self.jump_excess,
            "warnings": list(self.warnings),
        }


def _whiten(sigma: np.ndarray) -> np.ndarray:
    """A matrix L⁻¹ with L Lᵀ = Σ (Cholesky), or from clipped eigenvalues when Σ is
    numerically singular (the minimum-eigenvalue method of kinisi: eigenvalues below
    10⁻¹² of the largest are raised to it)."""
    d = np.sqrt(np.diag(sigma))
    corr = sigma / np.outer(d, d)
    try:
        chol = linalg.cholesky(corr + 1e-12 * np.eye(len(d)), lower=True)
        return linalg.solve_triangular(chol, np.diag(1.0 / d), lower=True)
    except linalg.LinAlgError:
        w, v = np.linalg.eigh(corr)
        w = np.maximum(w, 1e-12 * w.max())
        return (v / np.sqrt(w)).T / d


def fit_msd_line(
    lags: np.ndarray,
    msd: np.ndarray,
    frame_interval_ps: float,
    n_frames: int,
    n_dims: int,
    n_walkers: float,
    *,
    method: str = "gls",
    empirical_variance: np.ndarray | None = None,
    jump_term: bool = True,
    where: str | None = None,
) -> LineFit:
    """Fit MSD at ``lags`` (frames, ≥ 1) of a trajectory of ``n_frames`` frames (see the module
    docstring); ``empirical_variance``: the variance of the mean MSD from the spread of the
    per-ion MSDs at the same lags (optional)."""
    if method not in METHODS:
        raise DataError(f"unknown fit method {method!r} ({', '.join(METHODS)})", where)
    lag = np.asarray(lags, dtype=float)
    y = np.asarray(msd, dtype=float)
    if lag.size < 3:
        raise DataError(
            f"only {lag.size} MSD points in the fitting window: a longer trajectory or a "
            "wider window is needed",
            where,
        )
    t = lag * frame_interval_ps
    x = np.stack([t, np.ones_like(t)], axis=1)
    ols, *_ = np.linalg.lstsq(x, y, rcond=None)
    warnings: list[str] = []
    if ols[0] <= 0:
        raise DataError(
            "the MSD does not grow in the fitting window: no diffusion of this species is seen "
            "(too short, too cold, or a wrong window)",
            where,
        )
    if method == "ols":
        resid = y - x @ ols
        dof = max(lag.size - 2, 1)
        s2 = float(resid @ resid) / dof
        cov = s2 * np.linalg.inv(x.T @ x)
        return LineFit("ols", n_dims, float(ols[0]), float(ols[1]), cov, t, y, float("nan"))
    n_steps = n_frames - 1
    gauss = random_walk_covariance(lag, n_steps, 1.0, n_dims, n_walkers)
    jumps = random_walk_covariance(lag, n_steps, 1.0, n_dims, n_walkers, jump_excess=1.0) - gauss
    ev = None if empirical_variance is None else np.asarray(empirical_variance, dtype=float)
    use_ev = ev is not None and jump_term and np.all(np.isfinite(ev)) and np.all(ev > 0)
    lam, slope = 0.0, float(ols[0])
    for _ in range(50):
        shape = gauss + lam * jumps
        white = _whiten(shape)
        xw, yw = white @ x, white @ y
        beta, *_ = np.linalg.lstsq(xw, yw, rcond=None)
        new_slope = float(beta[0]) if beta[0] > 0 else slope
        s2 = new_slope * frame_interval_ps / n_dims  # per-component step variance 2 D Δt
        new_lam = lam
        if use_ev:
            a, b = s2**2 * np.diag(gauss), s2**2 * np.diag(jumps)
            wt = 1.0 / ev**2
            new_lam = max(0.0, float(np.sum(wt * (ev - a) * b) / np.sum(wt * b * b)))
        done = abs(new_slope - slope) <= 1e-10 * abs(slope) and abs(new_lam - lam) <= 1e-6 * (
            1.0 + lam
        )
        slope, lam = new_slope, new_lam
        if done:
            break
    shape = gauss + lam * jumps
    white = _whiten(shape)
    xw, yw = white @ x, white @ y
    beta, *_ = np.linalg.lstsq(xw, yw, rcond=None)
    s2 = slope * frame_interval_ps / n_dims
    scale = s2**2
    cov = np.linalg.inv(xw.T @ xw) * scale
    resid = yw - xw @ beta
    chi2_red = float(resid @ resid) / scale / max(lag.size - 2, 1)
    ratio = None
    if ev is not None:
        model = np.diag(shape) * scale
        ok = np.isfinite(ev) & (model > 0)
        ratio = float(np.mean(ev[ok] / model[ok])) if np.any(ok) else None
    return LineFit(
        "gls",
        n_dims,
        float(beta[0]),
        float(beta[1]),
        cov,
        t,
        y,
        chi2_red,
        ratio,
        lam,
        warnings,
    )
