"""Readers for instrument files: one module per family of formats, and :func:`read` for all.

>>> from iondyn.io import read, read_impedance, read_tsdc, read_spectra, kind_evidence
>>> data = read("OHA_1.csv", beta=5 / 60)   # any kind, sniffed: a DataList of data objects
>>> kind_evidence("OHA_1.csv")[0]            # KindEvidence(kind='tsdc', score=0.8, reason=...)

* :func:`read` (:mod:`iondyn.io.read`, also ``iondyn.read``) — any file, its kind from
  :func:`kind_evidence` (:mod:`iondyn.io.sniff`), always a :class:`DataList`;
* :func:`read_impedance` (:mod:`iondyn.io.impedance`) — every impedance spectrum of a Gamry,
  BioLogic (.mpt, .mpr), ZView, Autolab, CHI, Parstat, VersaStudio, PowerSuite, Novocontrol,
  RelaxIS or generic CSV file (:func:`list_impedance_formats`,
  :func:`detect_impedance_format`); ``docs/eis-formats.md``;
* :func:`read_tsdc` (:mod:`iondyn.io.tsdc`) — one TSDC curve; ``docs/tsdc.md``;
* :func:`read_spectra` (:mod:`iondyn.io.spectra`, two-column and matrix files) and
  :func:`read_vamas` (:mod:`iondyn.io.vamas`, ISO 14976) — peak spectra; ``docs/peaks.md``.

Readers raise :class:`iondyn.errors.FileFormatError` or :class:`iondyn.errors.DataError` with
one line naming the file (and line). The names are imported on first use.
"""

import importlib as _importlib

_EXPORTS = {
    "AMBIGUITY_MARGIN": "sniff",
    "DataList": "read",
    "KindEvidence": "sniff",
    "detect_impedance_format": "detect",
    "kind_evidence": "sniff",
    "list_impedance_formats": "impedance",
    "read": "read",
    "read_impedance": "impedance",
    "read_spectra": "spectra",
    "read_tsdc": "tsdc",
    "read_vamas": "vamas",
    "register_reader": "read",
    "sniff_kind": "sniff",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(_importlib.import_module(f"iondyn.io.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'iondyn.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(globals()))
