"""BioLogic EC-Lab ``.mpr`` binary files: iondyn's own reader (NumPy and ``struct`` only).

BioLogic does not publish the format; the layout below is the one described by the open
readers ``galvani`` (echemdata/galvani) and ``yadg`` (dgbowl/yadg, "Notes on file structure" of
its ``eclab.mpr`` extractor). Both are GPL-3.0: nothing of their code is used here, this is an
independent implementation of the layout, checked byte by byte against a real file (below).

Layout (little-endian)::

    0      "BIO-LOGIC MODULAR FILE\\x1a", blanks to byte 48, 4 zero bytes   (52-byte file header)
    52     modules, one after the other, each:
             "MODULE", short name (10 bytes, e.g. "VMP Set", "VMP data", "VMP LOG", "VMP loop"),
             long name (25 bytes), then either (EC-Lab >= 11.50)
               0xFFFFFFFF, body length u4, version u4, second version u4, date (8 ASCII bytes)
             or (older files) body length u4, version u4, date (8 bytes); then the body.

The ``VMP data`` body: number of points (u4), number of columns (u1), the column ids, zero
padding, then the records, one per point, fixed width, fields in the order of the ids. Version 2
and 3 modules hold the ids as u2 little-endian and the records start at byte 405 (version 2) or
406 (version 3); version 0 modules written by EC-Lab >= 11.50 hold them as u2 big-endian with
the records at byte 1007 (older version-0 files: u1 ids, records at byte 100). Each column id
fixes the field's name (the ``.mpt`` column name, with its unit), type and width
(:data:`COLUMNS`); the ids 1, 2, 3, 21, 31, 65 are bit flags (``mode``, ``ox/red``, ``error``,
``control changes``, ``Ns changes``, ``counter inc.``) packed together in one byte, stored where
the first of them appears. The record width is not stored: it is the sum of the field widths,
and the body must hold exactly ``points × width`` bytes after the ids, so an id of unknown width
is an error naming it (never a guess), and a wrong width cannot shift the columns silently.

Metadata: the ``VMP LOG`` body holds the acquisition start as an OLE date (days since
1899-12-30) at byte 585 (465, 469 or 473 in some files; the first plausible value is taken), and
Pascal strings (length byte, text) with the EC-Lab version at 0x3B7 and the device serial number
at 0x3CF, the zero-based channel at byte 9 and the channel serial number (u2) at 0xAB; these
fixed offsets are used only when the version string is where expected. The module dates
(``MM.DD.YY``, ``MM/DD/YY``) are the fallback for the start date.

The columns carry the ``.mpt`` names, so the spectra are built by the same rules as for ``.mpt``
(:func:`iondyn.io.eis_biologic.spectra_from_columns`: ``-Im(Z)`` negated, split on ``z cycle`` /
``cycle number`` and on frequency restarts, frequency-0 rows skipped).

Checked against: ``tests/data/eis/PEIS_LPSCl_IonBlocking_-25C.mpr`` (EC-Lab 11.61, SP-300, PEIS,
version-0 data module with 16 columns) and EC-Lab's own text export of the same measurement
(``…_-25C.txt``): all 79 points of the 10 exported columns agree to float32 rounding, and the
acquisition start, software version, channel and serial number equal the export's header.
Truncated or corrupt files raise :class:`~iondyn.errors.FileFormatError` naming the file.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError, IondynError
from iondyn.io.eis_biologic import spectra_from_columns
from iondyn.io.eis_common import Table
from iondyn.io.text import read_bytes

__all__ = [
    "COLUMNS",
    "FLAGS",
    "MPR_MAGIC",
    "MprData",
    "MprModule",
    "parse_mpr",
    "read_biologic_mpr",
    "sniff_biologic_mpr",
]

MPR_MAGIC = b"BIO-LOGIC MODULAR FILE"
_FILE_HEADER = 52
_MODULE = b"MODULE"

_F4, _F8, _U2, _U4 = "<f4", "<f8", "<u2", "<u4"
#: Column id → (``.mpt`` column name, NumPy type). Widths: f4/u4 4 bytes, f8 8, u2 2.
COLUMNS: dict[int, tuple[str, str]] = {
    4: ("time/s", _F8),
    5: ("control/V/mA", _F4),
    6: ("Ewe/V", _F4),
    7: ("dq/mA.h", _F8),
    8: ("I/mA", _F4),
    9: ("Ece/V", _F4),
    11: ("<I>/mA", _F8),
    13: ("(Q-Qo)/mA.h", _F8),
    16: ("Analog IN 1/V", _F4),
    17: ("Analog IN 2/V", _F4),
    19: ("control/V", _F4),
    20: ("control/mA", _F4),
    23: ("dQ/mA.h", _F8),
    24: ("cycle number", _F8),
    32: ("freq/Hz", _F4),
    33: ("|Ewe|/V", _F4),
    34: ("|I|/A", _F4),
    35: ("Phase(Z)/deg", _F4),
    36: ("|Z|/Ohm", _F4),
    37: ("Re(Z)/Ohm", _F4),
    38: ("-Im(Z)/Ohm", _F4),
    39: ("I Range", _U2),
    69: ("R/Ohm", _F4),
    70: ("P/W", _F4),
    74: ("|Energy|/W.h", _F8),
    76: ("<I>/mA", _F4),
    77: ("<Ewe>/V", _F4),
    96: ("|Ece|/V", _F4),
    98: ("Phase(Zce)/deg", _F4),
    99: ("|Zce|/Ohm", _F4),
    100: ("Re(Zce)/Ohm", _F4),
    101: ("-Im(Zce)/Ohm", _F4),
    131: ("Ns", _U2),
    168: ("Rcmp/Ohm", _F4),
    169: ("Cs/µF", _F4),
    172: ("Cp/µF", _F4),
    174: ("<Ewe>/V", _F4),
    182: ("step time/s", _F8),
    422: ("Phase(Zstack)/deg", _F4),
    423: ("|Zstack|/Ohm", _F4),
    424: ("Re(Zstack)/Ohm", _F4),
    425: ("-Im(Zstack)/Ohm", _F4),
    430: ("Phase(Zwe-ce)/deg", _F4),
    431: ("|Zwe-ce|/Ohm", _F4),
    432: ("Re(Zwe-ce)/Ohm", _F4),
    433: ("-Im(Zwe-ce)/Ohm", _F4),
    441: ("<Ece>/V", _F4),
    462: ("Temperature/°C", _F4),
    468: ("half cycle", _U4),
    469: ("z cycle", _U4),
}
#: Flag column id → (``.mpt`` name, bit mask in the shared flag byte).
FLAGS: dict[int, tuple[str, int]] = {
    1: ("mode", 0x03),
    2: ("ox/red", 0x04),
    3: ("error", 0x08),
    21: ("control changes", 0x10),
    31: ("Ns changes", 0x20),
    65: ("counter inc.", 0x80),
}
_OLE_EPOCH = datetime(1899, 12, 30)
_OLE_OFFSETS = (585, 465, 469, 473)
_OLE_RANGE = (32874.0, 73051.0)  # 1990-01-01 … 2100-01-01
_DATE = re.compile(r"^(\d\d)[./-](\d\d)[./-](\d\d)$")


@dataclass(frozen=True)
class MprModule:
    """One module: names, version(s), date and where its body lies in the file."""

    short_name: str
    long_name: str
    version: int
    version2: int | None  # the second version field of EC-Lab >= 11.50 headers
    date: str
    start: int  # byte offset of the body
    length: int


@dataclass
class MprData:
    """The decoded data module: ``columns`` (``.mpt`` name → values) in file order, metadata."""

    columns: dict[str, np.ndarray]
    column_ids: list[int]
    modules: list[MprModule]
    metadata: dict[str, Any]


def sniff_biologic_mpr(data: bytes) -> bool:
    """True for the ``BIO-LOGIC MODULAR FILE`` magic at the start of a binary file."""
    return data.startswith(MPR_MAGIC)


def _modules(data: bytes, path: str) -> list[MprModule]:
    out: list[MprModule] = []
    pos = _FILE_HEADER
    if len(data) < pos + 6:
        raise FileFormatError(f"truncated .mpr file: {len(data)} bytes, no module", path)
    while pos < len(data):
        if data[pos : pos + 6] != _MODULE:
            raise FileFormatError(
                f"corrupt .mpr file: expected 'MODULE' at byte {pos}, found "
                f"{data[pos : pos + 6]!r}",
                path,
            )
        h = pos + 6
        new = data[h + 35 : h + 39] == b"\xff\xff\xff\xff"
        size = 59 if new else 51
        if len(data) < h + size:
            raise FileFormatError(f"truncated .mpr file: module header at byte {pos} cut", path)
        short = data[h : h + 10].decode("latin-1").strip()
        long_name = data[h + 10 : h + 35].decode("latin-1").strip()
        if new:
            length, version, version2 = struct.unpack_from("<3I", data, h + 39)
            date = data[h + 51 : h + 59]
        else:
            (length, version), version2 = struct.unpack_from("<2I", data, h + 35), None
            date = data[h + 43 : h + 51]
        start = h + size
        if start + length > len(data):
            raise FileFormatError(
                f"truncated .mpr file: module {short!r} at byte {pos} declares {length} bytes, "
                f"only {len(data) - start} remain",
                path,
            )
        text = date.decode("latin-1").strip("\x00 ")
        out.append(MprModule(short, long_name, version, version2, text, start, length))
        pos = start + length
    return out


def _layouts(body: bytes, version: int) -> list[tuple[str, int]]:
    """Candidate (id type, first record byte) pairs of a data module, most likely first."""
    if version == 2:
        return [(_U2, 405)]
    if version == 3:
        return [(_U2, 406)]
    if version == 0:
        pair = [(">u2", 1007), ("u1", 100)]
        return pair[::-1] if body[5] else pair
    return []


def _record_dtype(ids: list[int]) -> tuple[np.dtype, list[tuple[int, str, int]]]:
    """Structured record type and, per id in order, (id, field name, flag mask or 0)."""
    names, formats, offsets, fields = [], [], [], []
    seen: dict[str, int] = {}
    pos = 0
    for cid in ids:
        if cid in FLAGS:
            if "\x00flags" not in names:
                names.append("\x00flags")
                formats.append("u1")
                offsets.append(pos)
                pos += 1
            fields.append((cid, FLAGS[cid][0], FLAGS[cid][1]))
            continue
        name, fmt = COLUMNS[cid]
        seen[name] = seen.get(name, 0) + 1
        unique = name if seen[name] == 1 else f"{name} ({seen[name]})"
        names.append(unique)
        formats.append(fmt)
        offsets.append(pos)
        pos += np.dtype(fmt).itemsize
        fields.append((cid, unique, 0))
    dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": pos})
    return dtype, fields


def _data_module(
    module: MprModule, data: bytes, path: str
) -> tuple[list[int], np.ndarray, list[tuple[int, str, int]]]:
    body = data[module.start : module.start + module.length]
    if len(body) < 6:
        raise FileFormatError("corrupt .mpr file: the data module is too short", path)
    n_points, n_cols = struct.unpack_from("<IB", body, 0)
    if n_points == 0 or n_cols == 0:
        raise FileFormatError(".mpr data module holds no data points", path)
    layouts = _layouts(body, module.version)
    if not layouts:
        raise FileFormatError(f"unsupported .mpr data module version {module.version}", path)
    problems = []
    for id_type, first in layouts:
        width = np.dtype(id_type).itemsize
        if 5 + width * n_cols > min(first, len(body)):
            problems.append(f"{n_cols} column ids do not fit before byte {first}")
            continue
        ids = [int(i) for i in np.frombuffer(body, id_type, n_cols, 5)]
        unknown = [i for i in ids if i not in COLUMNS and i not in FLAGS]
        if unknown:
            k = ids.index(unknown[0])
            after = f" (after column id {ids[k - 1]})" if k else ""
            problems.append(
                f"column id {unknown[0]}{after} is unknown to iondyn, so the record layout cannot "
                "be decoded; export the data as .mpt text from EC-Lab"
            )
            continue
        dtype, fields = _record_dtype(ids)
        need = first + n_points * dtype.itemsize
        if len(body) != need:
            problems.append(
                f"the data module holds {len(body)} bytes but {n_points} points of "
                f"{dtype.itemsize} bytes (column ids {ids}) need {need}; corrupt or truncated"
            )
            continue
        return ids, np.frombuffer(body, dtype, n_points, first), fields
    raise FileFormatError(f"corrupt .mpr file: {problems[0]}", path)


def _pascal(body: bytes, at: int) -> str:
    n = body[at] if at < len(body) else 0
    return body[at + 1 : at + 1 + n].decode("latin-1") if at + 1 + n <= len(body) else ""


def _iso_date(text: str) -> str | None:
    m = _DATE.match(text)
    return f"20{m.group(3)}-{m.group(1)}-{m.group(2)}" if m else None


def _metadata(modules: list[MprModule], data: bytes) -> tuple[dict[str, Any], str | None]:
    meta: dict[str, Any] = {}
    instrument = None
    log = next((m for m in modules if m.short_name == "VMP LOG"), None)
    if log is not None:
        body = data[log.start : log.start + log.length]
        for at in _OLE_OFFSETS:
            if at + 8 <= len(body):
                (days,) = struct.unpack_from("<d", body, at)
                if _OLE_RANGE[0] < days < _OLE_RANGE[1]:
                    when = _OLE_EPOCH + timedelta(milliseconds=round(days * 86_400_000))
                    meta["acquisition_start"] = when.isoformat(timespec="milliseconds")
                    break
        version = _pascal(body, 0x3B7)
        if re.fullmatch(r"\d+\.\d+\w*", version):
            meta["software"] = f"EC-Lab v{version}"
            serial = _pascal(body, 0x3CF)
            if serial.isdigit():
                meta["device_serial"] = serial
                instrument = f"BioLogic (SN {serial})"
            if len(body) > 0xAD:
                (channel_sn,) = struct.unpack_from("<H", body, 0xAB)
                meta["channel"] = f"{body[9] + 1} (SN {channel_sn})"
    if "acquisition_start" not in meta:
        dates = [d for d in (_iso_date(m.date) for m in modules) if d]
        if dates:
            meta["acquisition_start"] = dates[0]
    return meta, instrument


def parse_mpr(data: bytes, path: str) -> MprData:
    """Decode the modules and the data module of an ``.mpr`` file held in ``data``."""
    if not sniff_biologic_mpr(data):
        raise FileFormatError(
            "not a BioLogic .mpr file (no 'BIO-LOGIC MODULAR FILE' signature)", path=path
        )
    try:
        modules = _modules(data, path)
        found = [m for m in modules if m.short_name == "VMP data"]
        if len(found) != 1:
            names = ", ".join(repr(m.short_name) for m in modules)
            raise FileFormatError(
                f".mpr file with {len(found)} 'VMP data' modules (modules: {names}); need one",
                path,
            )
        ids, records, fields = _data_module(found[0], data, path)
        columns: dict[str, np.ndarray] = {}
        for _, name, mask in fields:
            if mask:
                shift = (mask & -mask).bit_length() - 1
                columns[name] = (records["\x00flags"] & mask) >> shift
            else:
                columns[name] = np.asarray(records[name])
        meta, instrument = _metadata(modules, data)
    except IondynError:
        raise
    except (struct.error, ValueError, IndexError, TypeError) as exc:  # a check we did not foresee
        text = " ".join(str(exc).split())[:120]
        raise FileFormatError(f"corrupt .mpr file ({type(exc).__name__}: {text})", path) from None
    meta.update(
        reader="iondyn",
        mpr_modules=[m.short_name for m in modules],
        mpr_version=found[0].version,
        mpr_column_ids=ids,
    )
    if instrument:
        meta["instrument"] = instrument
    return MprData(columns, ids, modules, meta)


def read_biologic_mpr(path: str) -> list[ImpedanceSpectrum]:
    """All impedance spectra of an EC-Lab ``.mpr`` file."""
    mpr = parse_mpr(read_bytes(path), str(path))
    names = list(mpr.columns)
    values = np.column_stack([mpr.columns[n].astype(float) for n in names])
    table = Table(names, values, np.zeros(len(values), dtype=int))
    meta = dict(mpr.metadata)
    instrument = meta.pop("instrument", None) or "BioLogic (EC-Lab .mpr)"
    return spectra_from_columns(str(path), table, meta, instrument)
