"""The misfit verdict of an impedance circuit fit (:mod:`iondyn.misfit` on its residuals).

The weighted residuals of :class:`~iondyn.eis.fit_result.CircuitFitResult` (real parts, then
imaginary parts, as the solver minimised them) are put in frequency order and tested as two
sequences. With the default modulus weight they are relative to |Z|, so the verdict's rms and
largest residual read as fractions of |Z|. ``noise`` is an independent estimate of the same
weighted residuals' standard deviation — the Lin-KK test's (Schönleber et al., Electrochim.
Acta 131, 20 (2014)) — when one is at hand.
"""

from __future__ import annotations

import numpy as np

from iondyn.eis.fit_result import CircuitFitResult
from iondyn.misfit import FitQuality, assess_residuals

__all__ = ["attach_misfit", "circuit_fit_quality"]


def circuit_fit_quality(res: CircuitFitResult, noise: float | None = None) -> FitQuality:
    """:class:`~iondyn.misfit.FitQuality` of a circuit fit (module docstring)."""
    f = np.asarray(res.frequency, dtype=float)
    r = np.asarray(res.weighted_residuals, dtype=float)
    n = f.size
    order = np.argsort(f)
    if r.size != 2 * n:  # not the stacked layout: one sequence as it is
        return assess_residuals(r, noise=noise)
    re, im = r[:n][order], r[n:][order]
    scale = None if res.weight in ("modulus", "proportional") else float(np.max(np.abs(res.z)))
    return assess_residuals(
        [re, im], noise=noise, scale=scale, x=[f[order], f[order]], axis="f", unit="Hz"
    )


def attach_misfit(res: CircuitFitResult, noise: float | None = None) -> None:
    """Store the verdict in ``res.misfit`` and its warning in ``res.warnings`` (replacing an
    earlier verdict's, e.g. when a noise estimate arrives later)."""
    old = (res.misfit or {}).get("warning")
    if old in res.warnings:
        res.warnings.remove(old)
    q = circuit_fit_quality(res, noise)
    res.misfit = q.to_dict() | {"warning": q.warning()}
    if q.warning():
        res.warnings.append(q.warning())
