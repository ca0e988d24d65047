"""CH Instruments (CHI 6xx/7xx) "A.C. Impedance" text exports.

Layout: a date line, the technique (``A.C. Impedance``), ``File:``, ``Data Source:``,
``Instrument Model:  CHI660E``, ``Header:``/``Note:`` lines, the settings as ``key = value``
(``Init E (V) = 0``, ``High Frequency (Hz) = 2e+6``, ``Amplitude (V) = 0.025`` …), a blank
line, the comma-separated column names ``Freq/Hz, Z'/ohm, Z"/ohm, Z/ohm, Phase/deg``, a blank
line and the data. ``Z"`` is the imaginary part in the physics convention (negative for a
capacitor).
"""

from __future__ import annotations

import re
from typing import Any

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError
from iondyn.io.eis_common import parse_float_or_none, spectra_from_table
from iondyn.io.eis_table import table_after_header

__all__ = ["read_chi", "sniff_chi"]

_COLUMNS = re.compile(r"^\s*Freq/Hz\s*,\s*Z'/ohm", re.IGNORECASE)


def sniff_chi(lines: list[str]) -> bool:
    """``A.C. Impedance`` near the top with a CHI model line, or the CHI column-name line."""
    head = [ln.strip() for ln in lines[:60]]
    if any(_COLUMNS.match(ln) for ln in head):
        return True
    return "A.C. Impedance" in head[:5] and any(ln.startswith("Instrument Model:") for ln in head)


def read_chi(path: str, lines: list[str]) -> list[ImpedanceSpectrum]:
    """The spectrum of a CH Instruments A.C. Impedance export."""
    header = next((i for i, ln in enumerate(lines) if _COLUMNS.match(ln)), None)
    if header is None:
        raise FileFormatError(
            "CH Instruments file without the 'Freq/Hz, Z'/ohm, …' column line "
            "(not an A.C. Impedance export?)",
            path,
        )
    meta: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    instrument = None
    for i, line in enumerate(lines[:header]):
        text = line.strip()
        if " = " in text:
            key, _, value = text.partition(" = ")
            number = parse_float_or_none(value)
            settings[key.strip()] = value.strip() if number is None else number
        elif ":" in text:
            key, _, value = text.partition(":")
            if key.strip() == "Instrument Model" and value.strip():
                instrument = f"CH Instruments {value.strip()}"
            elif value.strip() and key.strip() in ("File", "Data Source", "Header", "Note"):
                meta[key.strip().lower().replace(" ", "_")] = value.strip()
            elif i == 0:
                meta["date"] = text
        elif i == 1 and text:
            meta["technique"] = text
    if settings:
        meta["settings"] = settings
    for key, name in (
        ("High Frequency (Hz)", "frequency_high_Hz"),
        ("Low Frequency (Hz)", "frequency_low_Hz"),
        ("Amplitude (V)", "ac_amplitude_V"),
        ("Init E (V)", "dc_potential_V"),
    ):
        if isinstance(settings.get(key), float):
            meta[name] = settings[key]
    meta["z_imag_sign_reason"] = 'CHI convention: Z" < 0 for a capacitor'
    table = table_after_header(path, lines, header, ",")
    return spectra_from_table(path, table, metadata=meta, instrument=instrument, split_cycles=False)
