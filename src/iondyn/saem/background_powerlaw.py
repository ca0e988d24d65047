r"""Power-law background before an EELS edge, for the SAEM engine (and the map fits).

.. math:: b(E) = A\,(E/E_0)^{-r}

with E_0 the first energy of the window (so A is the background there) — the standard
description of the decaying background of an energy-loss spectrum below and under an
ionisation edge (Egerton, *Electron Energy-Loss Spectroscopy in the Electron Microscope*,
3rd ed., Springer (2011), §4.4.2; r is typically 2–6). A > 0 (log-parameterised), r free.
The first guess fits ln y = ln A − r ln(E/E_0) by least squares on the first ``fit_fraction``
of the window (the pre-edge region); the energies must be positive.
"""

from __future__ import annotations

import numpy as np

from iondyn.errors import DataError
from iondyn.saem.background import Background, register_background
from iondyn.saem.transforms import LOG, Transform

__all__ = ["PowerLaw", "power_law_init"]


def power_law_init(
    x: np.ndarray, y: np.ndarray, mask: np.ndarray, fit_fraction: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """(A (B,), r (B,)) from a log-linear fit of the first ``fit_fraction`` of every row."""
    n_valid = mask.sum(axis=-1)
    x0 = x[:, :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.log(x / x0)
        ly = np.log(np.where(y > 0, y, np.nan))
    m = max(int(fit_fraction * x.shape[-1]), 3)
    idx = np.arange(x.shape[-1])[None, :]
    sel = mask & (idx < np.maximum((fit_fraction * n_valid).astype(int), 3)[:, None])
    sel &= np.isfinite(ly)
    cnt = sel.sum(-1)
    sx = np.where(sel, lx, 0.0).sum(-1)
    sy = np.where(sel, ly, 0.0).sum(-1)
    sxx = np.where(sel, lx * lx, 0.0).sum(-1)
    sxy = np.where(sel, lx * ly, 0.0).sum(-1)
    den = cnt * sxx - sx * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (cnt * sxy - sx * sy) / den
        icpt = (sy - slope * sx) / cnt
    first = np.nanmean(np.where(idx < m, np.where(y > 0, y, np.nan), np.nan), axis=-1)
    ok = (cnt >= 3) & np.isfinite(slope) & np.isfinite(icpt) & (den > 0)
    r = np.where(ok, -slope, 3.0)
    r = np.clip(r, -2.0, 10.0)
    a = np.where(ok, np.exp(np.clip(icpt, -700, 700)), np.nan_to_num(first, nan=1.0))
    a = np.maximum(a, 1e-12 * max(float(np.nanmax(np.abs(y))), 1e-300))
    return a, r


class PowerLaw(Background):
    """A·(E/E_0)^(−r) (see the module docstring)."""

    name = "power-law"

    def __init__(self, fit_fraction: float = 0.2):
        self.fit_fraction = float(fit_fraction)

    @property
    def param_names(self):
        return ("A", "r")

    @property
    def transforms(self):
        return (LOG, Transform("identity"))

    def init(self, x, y, mask):
        if np.any(np.where(mask, x, 1.0) <= 0):
            raise DataError("a power-law background needs positive energies on the axis")
        a, r = power_law_init(x, y, mask, self.fit_fraction)
        beta = np.stack([a, r], axis=-1)
        ctx = {"logx": np.log(np.maximum(x, 1e-300) / x[:, :1])}
        return beta, self.evaluate(x, beta, None, ctx), ctx

    def evaluate(self, x, beta, peaks, ctx):
        return beta[:, :1] * np.exp(-beta[:, 1:2] * ctx["logx"])

    def jacobian(self, x, beta, peaks, ctx):
        u = np.exp(-beta[:, 1:2] * ctx["logx"])
        return np.stack([u, -beta[:, :1] * ctx["logx"] * u], axis=1)

    def refine_init(self, x, y, mask, beta, peaks, ctx):
        u = np.exp(-beta[:, 1:2] * ctx["logx"])
        num = np.sum(np.where(mask, u * (y - peaks), 0.0), axis=-1)
        den = np.sum(np.where(mask, u * u, 0.0), axis=-1)
        out = beta.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            a = num / den
        good = np.isfinite(a) & (a > 0)
        out[good, 0] = a[good]
        return out

    def describe(self, x, beta, cov, mask, ctx):
        out = super().describe(x, beta, cov, mask, ctx)
        for b, d in enumerate(out):
            d["x_ref"] = float(x[b, 0])
        return out


register_background("power-law", PowerLaw)
register_background("powerlaw", PowerLaw)
