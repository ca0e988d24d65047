"""Metrohm Autolab impedance exports.

Two layouts are recognised:

* the ZView-compatible ``"Z60W Data File: Version 1.1"`` export (the Autolab example of the
  impedance.py repository, UTF-8 with a byte-order mark): quoted header lines, a configuration
  line, the point count, the quoted column names ``Freq (Hz) Ampl Bias Time(Sec) Z'(a) Z''(b)
  GD Err Range`` and comma-separated data — read by
  :func:`iondyn.io.eis_zview.read_scribner_quoted`;
* NOVA column exports (``.txt``/``.csv``, tab, semicolon or comma separated) with the NOVA
  column names ``Frequency (Hz)``, ``Z' (Ω)``, ``-Z'' (Ω)``, ``Z (Ω)``, ``-Phase (°)``,
  ``Time (s)`` (``Index`` first in NOVA 2). ``-Z''`` is negated to the physics convention.
  Sweeps that restart in one file become several spectra.

``Z''(b)`` of the Z60W layout is already in the physics convention (negative for a capacitor).
The Z60W layout itself does not name the instrument, so ``instrument`` stays ``None`` there.
"""

from __future__ import annotations

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError
from iondyn.io.eis_common import spectra_from_table
from iondyn.io.eis_table import split_fields, table_after_header
from iondyn.io.eis_zview import read_scribner_quoted
from iondyn.io.text import guess_delimiter

__all__ = ["read_autolab", "sniff_autolab"]


def _nova_header(lines: list[str]) -> int | None:
    for i, line in enumerate(lines[:20]):
        if "Frequency (Hz)" in line and ("Z' (" in line or "-Z'' (" in line):
            return i
    return None


def _is_z60w(lines: list[str]) -> bool:
    first = next((ln.strip() for ln in lines[:3] if ln.strip()), "")
    return first.startswith('"Z60W Data File')


def sniff_autolab(lines: list[str]) -> bool:
    """The quoted ``Z60W Data File`` title, or NOVA's ``Frequency (Hz)`` … ``-Z'' (Ω)`` header."""
    return _is_z60w(lines) or _nova_header(lines) is not None


def read_autolab(path: str, lines: list[str]) -> list[ImpedanceSpectrum]:
    """All spectra of an Autolab export (Z60W or NOVA layout)."""
    if _is_z60w(lines):
        spectra, _ = read_scribner_quoted(path, lines)
        for s in spectra:
            s.metadata["z_imag_sign_reason"] = "Z60W convention: Z''(b) < 0 for a capacitor"
        return spectra
    header = _nova_header(lines)
    if header is None:
        raise FileFormatError(
            "not an Autolab export: neither a 'Z60W Data File' title nor NOVA column names "
            "(Frequency (Hz), Z' (Ω), -Z'' (Ω))",
            path,
        )
    data = [ln for ln in lines[header + 1 : header + 51] if ln.strip()]
    delimiter = guess_delimiter(data)
    if delimiter is None and len(split_fields(lines[header], None)) != len(
        split_fields(data[0], None) if data else []
    ):
        delimiter = "\t" if "\t" in lines[header] else None
    table = table_after_header(path, lines, header, delimiter)
    meta = {"layout": "NOVA column export"}
    return spectra_from_table(path, table, metadata=meta, instrument="Metrohm Autolab (NOVA)")
