"""Princeton Applied Research PowerSuite EIS exports.

Layout: a tab-separated header ``Frequency<tab> Zre<tab> Zimg`` and three columns; lines end in
``\\r\\r\\n`` (a CR written twice), which :func:`iondyn.io.text.read_lines` treats as one line end.
Frequencies may ascend. ``Zimg`` is in the physics convention (negative for a capacitor).
"""

from __future__ import annotations

from iondyn.data import ImpedanceSpectrum
from iondyn.io.eis_common import spectra_from_table
from iondyn.io.eis_table import split_fields, table_after_header

__all__ = ["read_powersuite", "sniff_powersuite"]


def sniff_powersuite(lines: list[str]) -> bool:
    """First line exactly ``Frequency``, ``Zre``, ``Zimg`` (tab-separated)."""
    first = next((ln for ln in lines[:3] if ln.strip()), "")
    return [f.lower() for f in split_fields(first, "\t")] == ["frequency", "zre", "zimg"]


def read_powersuite(path: str, lines: list[str]) -> list[ImpedanceSpectrum]:
    """The spectrum (or spectra, when the sweep restarts) of a PowerSuite export."""
    header = next(i for i, ln in enumerate(lines) if ln.strip())
    table = table_after_header(path, lines, header, "\t")
    meta = {"z_imag_sign_reason": "PowerSuite convention: Zimg < 0 for a capacitor"}
    return spectra_from_table(path, table, metadata=meta, split_cycles=False)
