"""Novocontrol (WinDETA / WinFIT) ASCII exports of broadband dielectric spectrometers.

Layout: a title line (sample, date, time), optionally a geometry line
(``Diameter[mm]: 1.300e+01  Thickness[mm]: 7.500e-01 …``), a ``Fixed value(s) :`` line, then
tab-separated column names and rows. The columns are whatever the user chose to export, named
``Freq.[Hz]`` / ``Freq. [Hz]`` and any of

* ``Zs'`` / ``Zs''`` (or ``Z'`` / ``Z''``) in Ω: the series impedance, Z'' < 0 for a capacitor;
* ``Eps'`` / ``Eps''``: the complex permittivity ε* = ε' − iε'' (ε'' > 0 is the loss);
* ``Sig'`` / ``Sig''`` in S/cm (or S/m): the complex conductivity σ* = σ' + iσ'' = iωε0ε*;
* ``M'`` / ``M''``: the electric modulus M* = 1/ε*;
* others (``Tan(Delta)``, ``Cp``, temperature) kept out of the spectrum.

The impedance is taken from the Z columns when present, otherwise converted from ε*, σ* or M*
of a parallel-plate cell of area A and thickness d read from the geometry line (an error
names the file when it is missing):
Z = 1/(iωC0 ε*) = M*/(iωC0) with C0 = ε0 A/d, and Z = d/(A σ*)
(Kremer & Schönhals, *Broadband Dielectric Spectroscopy*, Springer 2003, ch. 1 and 2). The
geometry also fills ``thickness_cm`` and ``area_cm2``. ``metadata["converted_from"]`` says
which columns the impedance came from.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from iondyn.constants import EPS0
from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError
from iondyn.io.eis_common import Table, spectra_from_table
from iondyn.io.eis_table import parse_rows, split_fields
from iondyn.io.eis_temperature import temperature_from_comments

__all__ = ["read_novocontrol", "sniff_novocontrol"]

_FIXED = re.compile(r"^\s*Fixed value\(s\)\s*:", re.IGNORECASE)
_NAME = re.compile(r"^\s*([A-Za-z.()]+?)\s*('{0,2})\s*(?:\[\s*([^\]]*)\s*\])?\s*$")
#: The sample's diameter and thickness (not "Electrode Thickness", nor the spacer's).
_GEOMETRY = re.compile(
    r"(?<!electrode )(?<!spacer )\b(Diameter|Thickness)\s*\[\s*mm\s*\]\s*:?\s*([-+0-9.eE]+)",
    re.IGNORECASE,
)
_KINDS = {"zs": "z", "z": "z", "eps": "eps", "sig": "sig", "m": "m"}
_SIGMA_UNITS = {"s/cm": 1.0, "s/m": 1e-2, "": 1.0}
_Z_UNITS = {"ohm": 1.0, "ohms": 1.0, "": 1.0, "kohm": 1e3, "kohms": 1e3}


def _column(name: str) -> tuple[str, str, str] | None:
    """(base, primes, unit) of a Novocontrol column name (``Zs''[ohm]`` → zs, '', ohm)."""
    m = _NAME.match(name.replace("\u2019", "'").replace('"', "''"))
    if not m:
        return None
    return m.group(1).lower().rstrip("."), m.group(2), (m.group(3) or "").strip().lower()


def _names_line(lines: list[str]) -> int | None:
    for i, line in enumerate(lines[:40]):
        fields = split_fields(line, "\t")
        if len(fields) < 2:
            continue
        first = _column(fields[0])
        if first is None or first[0] not in ("freq", "frequency"):
            continue
        kinds = {_KINDS.get(c[0]) for c in map(_column, fields[1:]) if c and c[1]}
        if kinds - {None}:
            return i
    return None


def sniff_novocontrol(lines: list[str]) -> bool:
    """A ``Fixed value(s) :`` line above a ``Freq.`` column line, or a ``Freq.`` line with
    Novocontrol quantity names (``Zs'``, ``Eps'``, ``Sig'``, ``M'``)."""
    i = _names_line(lines)
    if i is None:
        return False
    names = [(_column(f) or ("", "", ""))[0] for f in split_fields(lines[i], "\t")]
    return any(_FIXED.match(ln) for ln in lines[:i]) or bool({"zs", "eps", "sig"} & set(names))


def _geometry(header: list[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in header:
        for key, value in _GEOMETRY.findall(line):
            try:
                found.setdefault(key.lower(), float(value))
            except ValueError:
                continue
    return found


def _pair(columns: list[str], kind: str) -> tuple[int, int, str] | None:
    """Indices of the real (') and imaginary ('') columns of one quantity, and its unit."""
    real = imag = None
    unit = ""
    for j, name in enumerate(columns):
        c = _column(name)
        if c is None or _KINDS.get(c[0]) != kind:
            continue
        if c[1] == "'" and real is None:
            real, unit = j, c[2]
        elif c[1] == "''" and imag is None:
            imag = j
    return None if real is None or imag is None else (real, imag, unit)


def read_novocontrol(path: str, lines: list[str]) -> list[ImpedanceSpectrum]:
    """The impedance spectrum of a Novocontrol export (see the module docstring)."""
    i = _names_line(lines)
    if i is None:
        raise FileFormatError("no 'Freq.' column line with Z, Eps, Sig or M columns", path)
    header = [ln.strip() for ln in lines[:i] if ln.strip()]
    columns = split_fields(lines[i], "\t")
    rows = [(k + 1, ln) for k, ln in enumerate(lines[i + 1 :], start=i + 1) if ln.strip()]
    if not rows:
        raise FileFormatError("column line but no data rows", path, i + 1)
    table = parse_rows(path, ["f (Hz)"] + [f"col {j}" for j in range(1, len(columns))], rows, "\t")
    f_unit = (_column(columns[0]) or ("", "", "hz"))[2]
    if f_unit not in ("hz", ""):
        raise FileFormatError(f"frequency unit {f_unit!r} not understood (expected Hz)", path)
    freq = table.data[:, 0]
    geometry = _geometry(header)
    area_cm2 = thickness_cm = None
    if "diameter" in geometry and "thickness" in geometry:
        d_mm, l_mm = geometry["diameter"], geometry["thickness"]
        if not (1e-3 <= d_mm <= 1e4 and 1e-6 <= l_mm <= 1e4):
            raise FileFormatError(
                f"sample geometry out of range (Diameter {d_mm:g} mm, Thickness {l_mm:g} mm)",
                path,
            )
        area_cm2 = math.pi * (0.05 * d_mm) ** 2
        thickness_cm = 0.1 * l_mm
    meta: dict[str, Any] = {"instrument_family": "Novocontrol", "columns": columns}
    if header:
        meta["title"] = header[0]
        meta["comments"] = header[:10]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        z = _impedance(path, columns, table.data, freq, area_cm2, thickness_cm, meta)
    data = np.column_stack([freq, z.real, z.imag])
    out = Table(["f (Hz)", "Z' (ohm)", "Z'' (ohm)"], data, table.lines)
    temperature = temperature_from_comments(header, meta)
    spectra = spectra_from_table(path, out, metadata=meta, temperature_K=temperature)
    for s in spectra:
        s.instrument = "Novocontrol"
        s.area_cm2, s.thickness_cm = area_cm2, thickness_cm
    return spectra


def _impedance(path, columns, data, freq, area_cm2, thickness_cm, meta) -> np.ndarray:
    omega = 2.0 * np.pi * freq  # overflow to inf is reported by the range check downstream
    pair = _pair(columns, "z")
    if pair is not None:
        r, i, unit = pair
        if unit not in _Z_UNITS:
            raise FileFormatError(f"impedance unit {unit!r} not understood", path)
        meta["converted_from"] = f"{columns[r]}, {columns[i]} (read as Z', Z'')"
        return _Z_UNITS[unit] * (data[:, r] + 1j * data[:, i])
    for kind in ("eps", "sig", "m"):
        pair = _pair(columns, kind)
        if pair is None:
            continue
        r, i, unit = pair
        if area_cm2 is None or thickness_cm is None:
            raise FileFormatError(
                f"the impedance must be computed from {columns[r]!r} and {columns[i]!r}, which "
                "needs the sample geometry, but the header has no 'Diameter[mm]' and "
                "'Thickness[mm]'",
                path,
            )
        area_m2, d_m = area_cm2 * 1e-4, thickness_cm * 1e-2
        c0 = EPS0 * area_m2 / d_m
        with np.errstate(divide="ignore", invalid="ignore"):
            if kind == "eps":
                z = 1.0 / (1j * omega * c0 * (data[:, r] - 1j * data[:, i]))
            elif kind == "m":
                z = (data[:, r] + 1j * data[:, i]) / (1j * omega * c0)
            else:
                if unit not in _SIGMA_UNITS:
                    raise FileFormatError(f"conductivity unit {unit!r} not understood", path)
                sigma_s_per_cm = _SIGMA_UNITS[unit] * (data[:, r] + 1j * data[:, i])
                z = thickness_cm / (area_cm2 * sigma_s_per_cm)
        meta["converted_from"] = (
            f"{columns[r]}, {columns[i]} with C0 = ε0·A/d = {c0:.4g} F "
            f"(A = {area_cm2:.4g} cm², d = {thickness_cm:.4g} cm from the header)"
        )
        return z
    raise FileFormatError(
        "no impedance, permittivity, conductivity or modulus columns (Zs'/Zs'', Eps'/Eps'', "
        f"Sig'/Sig'', M'/M'') among {columns}",
        path,
    )
