"""Checks and preparation of TSDC curves before a fit: heating rates, the analysed range,
the start of heating and the polarity of the current."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from iondyn.data import Spectrum, TSDCCurve
from iondyn.errors import DataError, InputError

__all__ = ["Prepared", "heating_rates", "prepare_curve"]


@dataclass
class Prepared:
    """A curve ready for the engine: the (possibly sign-flipped, cropped) spectrum, its
    heating rate in K/s, the sign applied, the current unit and notes for the result."""

    spectrum: Spectrum
    beta: float
    sign: int
    unit: str
    notes: list[str]


def heating_rates(beta: float | Sequence[float] | None, curves: Sequence[TSDCCurve]) -> list[float]:
    """One heating rate (K/s) per curve: ``beta`` for all, one per curve, or (``None``) each
    curve's own; every rate must be positive."""
    if beta is None:
        given: list[float | None] = [c.beta_K_per_s for c in curves]
    elif np.ndim(beta) == 0:
        given = [float(beta)] * len(curves)  # type: ignore[arg-type]
    else:
        given = [float(b) for b in beta]  # type: ignore[union-attr]
        if len(given) != len(curves):
            raise InputError(f"{len(given)} heating rates given for {len(curves)} curves")
    out = []
    for c, b in zip(curves, given):
        if b is None:
            raise InputError("no heating rate: give beta (K/s)", path=c.source)
        if not (np.isfinite(b) and b > 0):
            raise InputError(f"the heating rate must be positive, got {b} K/s", c.source)
        out.append(float(b))
    return out


def prepare_curve(
    curve: TSDCCurve,
    beta: float,
    tmin: float | None,
    tmax: float | None,
    t0: float | None,
    sign: str,
) -> Prepared:
    """Crop to [``tmin``, ``tmax``], check ``t0`` and the current, and flip a negative-going
    curve (``sign``: auto | positive | negative)."""
    T, J = curve.temperature_K, curve.current
    src = curve.source
    lo = -np.inf if tmin is None else tmin
    hi = np.inf if tmax is None else tmax
    keep = (T >= lo) & (T <= hi)
    T, J = T[keep], J[keep]
    if T.size < 5:
        raise DataError(f"fewer than 5 points between {tmin} and {tmax} K", src)
    if t0 is not None and t0 > T[0]:
        raise InputError(f"t0 = {t0} K lies above the first temperature {T[0]} K", src)
    if not np.any(J != 0):
        raise DataError("the current is zero everywhere", path=src)
    notes = list(curve.metadata.get("warnings", []))
    factor = 1
    if sign == "negative" or (sign == "auto" and -J.min() > J.max()):
        factor = -1
        notes.append(
            "the current is negative-going: its sign was flipped for the analysis "
            "(P0 and areas are magnitudes)"
        )
    spec = Spectrum(T, factor * J, None, src, curve.index, "K", curve.current_unit)
    return Prepared(spec, beta, factor, curve.current_unit, notes)
