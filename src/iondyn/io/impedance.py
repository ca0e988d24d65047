"""Read impedance files of any supported instrument: :func:`read_impedance`.

>>> from iondyn.io.impedance import read_impedance
>>> spectra = read_impedance("cell.DTA")          # format detected from the content
>>> spectra[0].frequency, spectra[0].z            # Hz, complex Ω (Z'' < 0 capacitive)

Every reader returns every spectrum in the file, in file order, as
:class:`~iondyn.data.ImpedanceSpectrum` with ``source`` (the path), ``index`` (0, 1, … within
the file), ``instrument`` when the file names it, ``temperature_K`` when the file states it
(header, a temperature column, or — as a fallback that ``temperature_from_name=False`` turns off
— a ``350C``/``623K`` token in the file name), and ``metadata`` with at least ``format``,
``z_imag_sign`` (``"as-read"`` or ``"flipped"``), ``z_imag_sign_reason``, ``split_by`` and
``warnings`` (dropped NaN rows, header counts that disagree with the rows, aborted runs, …).
See ``docs/eis-formats.md`` for each format's quirks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError, InputError
from iondyn.io.detect import detect_lines
from iondyn.io.eis_autolab import read_autolab
from iondyn.io.eis_biologic import read_biologic_mpt
from iondyn.io.eis_biologic_mpr import read_biologic_mpr, sniff_biologic_mpr
from iondyn.io.eis_chi import read_chi
from iondyn.io.eis_common import split_lines
from iondyn.io.eis_gamry import read_gamry
from iondyn.io.eis_generic import read_generic
from iondyn.io.eis_novocontrol import read_novocontrol
from iondyn.io.eis_parstat import read_parstat
from iondyn.io.eis_powersuite import read_powersuite
from iondyn.io.eis_temperature import temperature_from_text
from iondyn.io.eis_versastudio import read_versastudio
from iondyn.io.eis_zview import read_zview
from iondyn.io.text import decode, is_binary, read_bytes

__all__ = ["ImpedanceFormat", "list_impedance_formats", "read_impedance"]


@dataclass(frozen=True)
class ImpedanceFormat:
    """One supported file format."""

    name: str
    description: str
    extensions: tuple[str, ...]
    binary: bool = False
    requires: str | None = None  # optional package needed to read it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_FORMATS: list[tuple[ImpedanceFormat, Callable[..., list[ImpedanceSpectrum]]]] = [
    (
        ImpedanceFormat(
            "gamry",
            "Gamry Framework .DTA (EXPLAIN/ZCURVE tables) and Gamry-style text exports",
            (".dta", ".txt"),
        ),
        read_gamry,
    ),
    (
        ImpedanceFormat("biologic-mpt", "BioLogic EC-Lab/BT-Lab .mpt text export", (".mpt",)),
        read_biologic_mpt,
    ),
    (
        ImpedanceFormat(
            "biologic-mpr",
            "BioLogic EC-Lab .mpr binary (iondyn's own reader)",
            (".mpr",),
            binary=True,
        ),
        read_biologic_mpr,
    ),
    (
        ImpedanceFormat(
            "zview", "ZView/ZPlot .z (ZPLOT2 ASCII, or the older quoted ZPlotW layout)", (".z",)
        ),
        read_zview,
    ),
    (
        ImpedanceFormat(
            "autolab", "Metrohm Autolab: Z60W Data File export, or NOVA column export", (".txt",)
        ),
        read_autolab,
    ),
    (ImpedanceFormat("chi", "CH Instruments A.C. Impedance text export", (".txt",)), read_chi),
    (
        ImpedanceFormat("parstat", "PARSTAT export (DC and EIS rows; EIS = f > 0)", (".txt",)),
        read_parstat,
    ),
    (
        ImpedanceFormat("versastudio", "VersaStudio .par (sections and segments)", (".par",)),
        read_versastudio,
    ),
    (ImpedanceFormat("powersuite", "PowerSuite EIS text export", (".txt",)), read_powersuite),
    (
        ImpedanceFormat(
            "novocontrol",
            "Novocontrol WinDETA/WinFIT ASCII export (Z, or ε*, σ*, M* with the header geometry)",
            (".txt", ".dat"),
        ),
        read_novocontrol,
    ),
    (
        ImpedanceFormat(
            "generic",
            "CSV/TXT with named columns in any order, or headerless f, Z', Z''",
            (".csv", ".txt", ".dat", ".tsv"),
        ),
        read_generic,
    ),
]
_READERS = {fmt.name: reader for fmt, reader in _FORMATS}
_ALIASES = {
    "dta": "gamry",
    "biologic": "biologic-mpt",
    "mpt": "biologic-mpt",
    "eclab": "biologic-mpt",
    "mpr": "biologic-mpr",
    "z": "zview",
    "zplot": "zview",
    "nova": "autolab",
    "ch": "chi",
    "windeta": "novocontrol",
    "chinstruments": "chi",
    "par": "versastudio",
    "csv": "generic",
    "txt": "generic",
}


def list_impedance_formats() -> list[ImpedanceFormat]:
    """The supported formats, in the order content detection tries them (generic last)."""
    return [fmt for fmt, _ in _FORMATS]


def _format_name(name: str) -> str:
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _READERS:
        raise InputError(
            f"unknown impedance format {name!r}; known: {', '.join(_READERS)} "
            f"(aliases: {', '.join(sorted(_ALIASES))})"
        )
    return key


def read_impedance(
    path: str | Path, *, format: str | None = None, temperature_from_name: bool = True
) -> list[ImpedanceSpectrum]:
    """Every impedance spectrum in ``path``, the format detected from the content.

    ``format`` forces a reader (a name from :func:`list_impedance_formats` or an alias such as
    ``"mpt"``, ``"dta"``, ``"csv"``). Raises :class:`~iondyn.errors.FileFormatError` (empty,
    binary, unrecognised or malformed file, truncated rows, missing columns) or
    :class:`~iondyn.errors.DataError` (non-positive or repeated frequencies, infinite values),
    each a one-line message starting with the path (and line).
    """
    src = str(path)
    data = read_bytes(path)
    if not data.strip():
        raise FileFormatError("the file is empty", src)
    name = _format_name(format) if format else None
    if name == "biologic-mpr" or (name is None and sniff_biologic_mpr(data)):
        spectra = read_biologic_mpr(src)
        name = "biologic-mpr"
    else:
        if is_binary(data):
            if Path(src).suffix.lower() == ".mpr":
                read_biologic_mpr(src)  # raises: explains the missing .mpr signature
            raise FileFormatError("binary file, not an impedance text export", src)
        lines = split_lines(decode(data))
        if name is None:
            name = detect_lines(lines, Path(src).name)
            if name is None:
                raise FileFormatError(
                    "unrecognised impedance format (no instrument header and no table with "
                    "frequency and impedance columns)",
                    src,
                )
            if name == "biologic-mpr":
                spectra = read_biologic_mpr(src)
        if name != "biologic-mpr":
            spectra = _READERS[name](src, lines)
    return [_finish(s, k, name, src, temperature_from_name) for k, s in enumerate(spectra)]


def _finish(
    spectrum: ImpedanceSpectrum, index: int, fmt: str, src: str, from_name: bool
) -> ImpedanceSpectrum:
    spectrum.index = index
    spectrum.source = src
    meta = spectrum.metadata
    meta["format"] = fmt
    meta.setdefault("warnings", [])
    if spectrum.temperature_K is None and from_name:
        value, tokens = temperature_from_text(Path(src).stem)
        if value is not None:
            spectrum.temperature_K = value
            meta["temperature_source"] = f"file name (token {tokens[-1]!r})"
            if len(tokens) > 1:
                meta["temperature_source"] += f"; other tokens in the name: {tokens[:-1]}"
    elif spectrum.temperature_K is not None:
        meta.setdefault("temperature_source", "file header")
    return spectrum
