"""Recognise impedance column names and their units.

Instruments and spreadsheets name the same quantity in many ways: ``freq/Hz``, ``Frequency (Hz)``,
``Freq(Hz)``, ``f [kHz]``; ``Z'``, ``Zre``, ``Re(Z)/Ohm``, ``Z_real``, ``Z Real``; ``Z''``,
``-Z'' (Ω)``, ``-Im(Z)/Ohm``, ``Zimg``, ``Z_imag``; ``|Z|``, ``Zmod``; ``Phase``, ``-Phase (°)``.
:func:`classify_column` maps one name to a :class:`ColumnRole`: what the column holds, the factor
that converts its unit to Hz / Ω / degrees, and whether the values are negated (a leading ``-``
means the column holds −Z'' or −φ).

Units are case-sensitive where SI prefixes make them so (``mHz`` is millihertz, ``MHz``
megahertz); an all-lowercase or all-uppercase ``mhz`` / ``MOHM`` is ambiguous and raises
:class:`~iondyn.errors.FileFormatError` rather than guessing a factor of 10⁹.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from iondyn.errors import FileFormatError

__all__ = ["KNOWN_UNITS", "ColumnRole", "classify_column", "find_columns", "split_unit"]

#: Frequency units → factor to Hz (angular units handled separately).
_FREQ_UNITS = {"Hz": 1.0, "hz": 1.0, "HZ": 1.0, "kHz": 1e3, "KHz": 1e3, "khz": 1e3, "KHZ": 1e3}
_FREQ_UNITS |= {"mHz": 1e-3, "MHz": 1e6, "GHz": 1e9, "ghz": 1e9, "µHz": 1e-6, "uHz": 1e-6}
_ANGULAR_UNITS = {"rad/s": 1.0, "rad s-1": 1.0, "1/s": 1.0, "s-1": 1.0, "s^-1": 1.0}
_AMBIGUOUS_FREQ = {"mhz", "MHZ"}

#: Impedance units → factor to Ω.
_OHM = ("ohm", "ohms", "Ohm", "Ohms", "OHM", "OHMS", "\u03a9", "\u2126")  # Greek omega, ohm sign
_Z_UNITS: dict[str, float] = {}
for _o in _OHM:
    _Z_UNITS[_o] = 1.0
    _Z_UNITS["k" + _o] = 1e3
    _Z_UNITS["K" + _o] = 1e3
    _Z_UNITS["G" + _o] = 1e9
    _Z_UNITS["µ" + _o] = 1e-6
    _Z_UNITS["u" + _o] = 1e-6
    if _o[0].isupper() or _o[0] in "\u03a9\u2126":
        _Z_UNITS["m" + _o] = 1e-3
        _Z_UNITS["M" + _o] = 1e6
_AMBIGUOUS_Z = {"mohm", "mohms", "MOHM", "MOHMS"}
#: Area-specific impedance units: the values are Z·A; kept as read, flagged in metadata.
_AREA_Z = re.compile("^(ohm|Ohm|\u03a9|\u2126)s?\\s*[·*. ]?\\s*cm\\^?(2|²)$")

_PHASE_UNITS = {"deg": 1.0, "°": 1.0, "degree": 1.0, "degrees": 1.0, "rad": 180.0 / math.pi}
_TEMP_UNITS = {"K": "K", "°C": "C", "C": "C", "degC": "C", "deg C": "C", "ºC": "C"}
_TIME_UNITS = {"s": 1.0, "sec": 1.0, "Sec": 1.0, "min": 60.0, "h": 3600.0}

KNOWN_UNITS = (
    set(_FREQ_UNITS)
    | set(_ANGULAR_UNITS)
    | _AMBIGUOUS_FREQ
    | set(_Z_UNITS)
    | _AMBIGUOUS_Z
    | set(_PHASE_UNITS)
    | set(_TEMP_UNITS)
    | set(_TIME_UNITS)
)


def _normalise_name(name: str) -> str:
    n = name.strip()
    if len(n) >= 2 and n[0] == n[-1] and n[0] in "\"'":  # surrounding quotes, not primes
        n = n[1:-1].strip()
    n = n.replace("″", "''").replace("′", "'").replace("’", "'").replace("´", "'")
    n = n.replace('"', "''").replace("−", "-").replace("–", "-")
    # RelaxIS exports name measured columns "Data: Frequency", "Data: Z'" (fits are "Fit: …")
    return re.sub(r"^data\s*:\s*", "", n, flags=re.IGNORECASE)


def split_unit(name: str) -> tuple[str, str]:
    """Split ``"Frequency (Hz)"``, ``"freq/Hz"``, ``"f [kHz]"``, ``"Z_ohm"`` into (name, unit).

    A trailing parenthesis is only a unit when it holds a known unit, so ``Re(Z)`` and ``Z'(a)``
    keep their parentheses. Returns ``(name, "")`` when no unit is found.
    """
    n = _normalise_name(name)
    m = re.match(r"^(.*?)\s*[\(\[]\s*([^()\[\]]*?)\s*[\)\]]\s*$", n)
    if m and (m.group(2) in KNOWN_UNITS or _AREA_Z.match(m.group(2))):
        return m.group(1).strip(), m.group(2)
    m = re.match(r"^(.*[^/\s])\s*/\s*([^/]+)$", n)
    if m and (m.group(2).strip() in KNOWN_UNITS or _AREA_Z.match(m.group(2).strip())):
        return m.group(1).strip(), m.group(2).strip()
    if "rad/s" in n and n.endswith("rad/s"):
        return n[: -len("rad/s")].rstrip(" /([").strip(), "rad/s"
    m = re.match(r"^(.*?)[_ ]([A-Za-zΩΩµ°]+)$", n)
    if m and m.group(2) in KNOWN_UNITS and m.group(1):
        return m.group(1).strip(), m.group(2)
    return n, ""


@dataclass(frozen=True)
class ColumnRole:
    """What one column holds.

    ``role`` is one of ``frequency``, ``angular_frequency``, ``z_real``, ``z_imag``, ``z_mod``,
    ``phase``, ``cycle``, ``temperature``, ``time``; ``scale`` converts the values to Hz, rad/s,
    Ω, degrees or seconds; ``negated`` says the column holds the negative of the quantity;
    ``unit`` is the unit as written; ``area_specific`` marks Ω·cm² columns.
    """

    role: str
    scale: float = 1.0
    negated: bool = False
    unit: str = ""
    area_specific: bool = False


# Bare names (lower-case, spaces/underscores removed) for each role.
_NAMES = {
    "frequency": {"f", "freq", "frequency", "fre", "freq.", "frequenz", "fréquence", "frequencyhz"},
    "angular_frequency": {"omega", "ω", "angularfrequency"},
    "z_real": {
        "z'",
        "zs'",
        "zre",
        "zreal",
        "re(z)",
        "real(z)",
        "rez",
        "zr",
        "z'(a)",
        "zreal(ohm)",
        "realz",
        "z'real",
        "zrealpart",
        "re",
        "real",
        "r",
        "re(zwe)",
        "re(zwe-ce)",
    },
    "z_imag": {
        "z''",
        "zs''",
        "zim",
        "zimag",
        "zimg",
        "im(z)",
        "imag(z)",
        "imz",
        "zi",
        "z''(b)",
        "imagz",
        "zimaginary",
        "im",
        "imag",
        "imaginary",
        "x",
        "im(zwe)",
        "im(zwe-ce)",
    },
    "z_mod": {
        "|z|",
        "zmod",
        "z",
        "mod(z)",
        "abs(z)",
        "zabs",
        "modulus",
        "|z|(ohm)",
        "zmag",
        "impedance",
    },
    "phase": {
        "phase",
        "phz",
        "zphz",
        "phi",
        "phase(z)",
        "theta",
        "theta(z)",
        "θ",
        "φ",
        "phaseangle",
        "angle",
    },
    "cycle": {"cyclenumber", "zcycle", "cycle", "loop", "spectrum", "spectrumnumber", "segment#"},
    "temperature": {"t", "temp", "temperature", "temperature(k)", "sampletemperature"},
    "time": {"time", "t(s)", "elapsedtime", "time(sec)", "timestamp(s)"},
}
_SQUEEZE = re.compile(r"[\s_]+")


def _bare(name: str) -> tuple[str, bool]:
    n = _SQUEEZE.sub("", name.lower())
    negated = False
    for prefix in ("-", "minus", "neg"):
        if n.startswith(prefix) and len(n) > len(prefix):
            n, negated = n[len(prefix) :], True
            break
    return n, negated


def classify_column(name: str) -> ColumnRole | None:
    """The :class:`ColumnRole` of a column name, or ``None`` when it is not an impedance column.

    Raises :class:`FileFormatError` (without a path; callers add it) for an ambiguous unit.
    """
    base, unit = split_unit(name)
    bare, negated = _bare(base)
    role = next((r for r, names in _NAMES.items() if bare in names), None)
    if role is None:
        return None
    if role == "temperature" and bare == "t" and unit not in _TEMP_UNITS:
        # a bare "t" is as likely time as temperature: only its unit decides
        if unit not in _TIME_UNITS:
            return None
        return ColumnRole("time", _TIME_UNITS[unit], negated, unit)
    if role in ("frequency", "angular_frequency"):
        if unit in _AMBIGUOUS_FREQ:
            raise FileFormatError(f"ambiguous frequency unit {unit!r} in column {name!r}")
        if unit in _ANGULAR_UNITS or role == "angular_frequency":
            if unit and unit not in _ANGULAR_UNITS:
                return None
            return ColumnRole("angular_frequency", 1.0, negated, unit or "rad/s")
        if unit and unit not in _FREQ_UNITS:
            return None
        return ColumnRole("frequency", _FREQ_UNITS.get(unit, 1.0), negated, unit)
    if role in ("z_real", "z_imag", "z_mod"):
        if unit in _AMBIGUOUS_Z:
            raise FileFormatError(f"ambiguous impedance unit {unit!r} in column {name!r}")
        if unit and _AREA_Z.match(unit):
            return ColumnRole(role, 1.0, negated, unit, area_specific=True)
        if unit and unit not in _Z_UNITS:
            return None
        return ColumnRole(role, _Z_UNITS.get(unit, 1.0), negated, unit)
    if role == "phase":
        if unit and unit not in _PHASE_UNITS:
            return None
        return ColumnRole("phase", _PHASE_UNITS.get(unit, 1.0), negated, unit)
    if role == "temperature":
        if unit and unit not in _TEMP_UNITS:
            return None
        return ColumnRole("temperature", 1.0, negated, _TEMP_UNITS.get(unit, ""))
    if role == "time":
        if unit and unit not in _TIME_UNITS:
            return None
        return ColumnRole("time", _TIME_UNITS.get(unit, 1.0), negated, unit)
    return ColumnRole(role, 1.0, negated, unit)


def find_columns(names: list[str]) -> dict[str, tuple[int, ColumnRole]]:
    """Map each role to the first column (index, role) that holds it.

    A negated and a plain column of the same role (``Im(Z)`` and ``-Im(Z)``) are both valid;
    the first one wins. Raises :class:`FileFormatError` for ambiguous units.
    """
    found: dict[str, tuple[int, ColumnRole]] = {}
    for i, name in enumerate(names):
        role = classify_column(name)
        if role is None:
            continue
        if role.role not in found:
            found[role.role] = (i, role)
        elif role.role == "cycle" and _bare(split_unit(name)[0])[0] == "zcycle":
            found["cycle"] = (i, role)  # EC-Lab: "z cycle" counts spectra, "cycle number" loops
    return found
