"""BioLogic EC-Lab ``.mpr`` binary files, through the optional ``galvani`` package.

No maintained BSD/MIT-licensed ``.mpr`` reader exists: ``galvani`` (maintained) and
``eclabfiles`` (last release 2022) are both GPL-3.0. iondyn therefore never requires one:
``galvani`` is an optional extra, imported only when an ``.mpr`` file is read, and nothing of
its code is copied here. Without it the error names the file and the remedy (install
``galvani``, or export ``.mpt`` text from EC-Lab, which iondyn reads natively).

galvani's ``MPRfile(path).data`` is a NumPy structured array whose field names are the ``.mpt``
column names (``freq/Hz``, ``Re(Z)/Ohm``, ``-Im(Z)/Ohm``, ``z cycle``, …), so the spectra are
built by the same rules as for ``.mpt`` (:func:`iondyn.io.eis_biologic.spectra_from_columns`).
"""

from __future__ import annotations

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError
from iondyn.io.eis_biologic import spectra_from_columns
from iondyn.io.eis_common import Table
from iondyn.io.text import read_bytes

__all__ = ["MPR_MAGIC", "read_biologic_mpr", "sniff_biologic_mpr"]

MPR_MAGIC = b"BIO-LOGIC MODULAR FILE"

_INSTALL_HINT = (
    "reading BioLogic .mpr files needs the optional package 'galvani' (GPL-3.0), which is not "
    "installed: run 'pip install galvani', or export the data as .mpt text from EC-Lab"
)


def sniff_biologic_mpr(data: bytes) -> bool:
    """True for the ``BIO-LOGIC MODULAR FILE`` magic at the start of a binary file."""
    return data.startswith(MPR_MAGIC)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def read_biologic_mpr(path: str) -> list[ImpedanceSpectrum]:
    """All impedance spectra of an EC-Lab ``.mpr`` file (needs ``galvani``)."""
    if not sniff_biologic_mpr(read_bytes(path)[: len(MPR_MAGIC)]):
        raise FileFormatError(
            "not a BioLogic .mpr file (no 'BIO-LOGIC MODULAR FILE' signature)", path=path
        )
    try:
        from galvani import BioLogic  # optional, GPL-3.0: never a hard dependency
    except ImportError:
        raise FileFormatError(_INSTALL_HINT, path=path) from None
    try:
        mpr = BioLogic.MPRfile(str(path))
        data = np.asarray(mpr.data)
        names = list(data.dtype.names or ())
    except Exception as exc:  # a third-party binary parser: any failure is a format error
        raise FileFormatError(
            f"galvani could not read the .mpr file ({_one_line(exc)})", path
        ) from None
    if not names or data.size == 0:
        raise FileFormatError(".mpr file without data columns", path=path)
    try:
        columns = np.column_stack([np.asarray(data[n], dtype=float) for n in names])
    except (TypeError, ValueError) as exc:
        raise FileFormatError(
            f".mpr data columns are not numeric ({_one_line(exc)})", path
        ) from None
    table = Table(names, columns, np.zeros(len(columns), dtype=int))
    meta: dict[str, object] = {"reader": "galvani"}
    for attr, key in (("startdate", "acquisition_start"), ("version", "mpr_version")):
        value = getattr(mpr, attr, None)
        if value is not None:
            meta[key] = str(value) if attr == "startdate" else value
    return spectra_from_columns(path, table, meta, "BioLogic (EC-Lab .mpr)")
