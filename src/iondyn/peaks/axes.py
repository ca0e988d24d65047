"""Axis labels of peak fits from the names and units their files gave.

Readers put the axis names in ``Spectrum.metadata["x_name"]``/``["y_name"]`` and the units in
``x_unit``/``y_unit``; :class:`iondyn.peaks.PeakFitter` copies them to each fit. Labels use
the form ``quantity (unit)`` (``binding energy (eV)``) used by every picture, table and
report of iondyn and fall back to ``x`` and
``intensity`` only when the file said nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["X_FALLBACK", "Y_FALLBACK", "axis_label", "axis_labels"]

X_FALLBACK = "x"
Y_FALLBACK = "intensity"


def axis_label(name: str | None, unit: str | None, fallback: str) -> str:
    """``name (unit)``, ``name`` alone, or ``fallback`` (with the unit) when there is no name."""
    name = name or fallback
    return f"{name} ({unit})" if unit else name


def axis_labels(fit: Any) -> tuple[str, str]:
    """(x label, y label) of a :class:`~iondyn.saem.SpectrumFit` or of its ``to_dict()``."""

    def get(key: str) -> str:
        value = fit.get(key) if isinstance(fit, Mapping) else getattr(fit, key, "")
        return str(value or "")

    return (
        axis_label(get("x_name"), get("x_unit"), X_FALLBACK),
        axis_label(get("y_name"), get("y_unit"), Y_FALLBACK),
    )
