"""Princeton Applied Research PARSTAT tab-separated exports (DC and EIS rows in one table).

Layout: one header row ``Potential (V)  Current (A)  Elapsed Time (s)  Frequency (Hz)
Zre (ohms)  Zim (ohms)  |Vac| (V)  |Iac| (A)`` (trailing tab), then every data point of the
experiment sequence in the same columns: DC steps have frequency 0 (and zero impedance), EIS
points a positive frequency. The EIS rows are picked by frequency > 0; the count of DC rows
skipped is ``metadata["n_rows_skipped_dc"]``. EIS blocks separated by DC rows, or sweeps that
restart, become separate spectra. ``Zim`` is in the physics convention.
"""

from __future__ import annotations

import numpy as np

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError
from iondyn.io.eis_common import spectra_from_table
from iondyn.io.eis_table import split_fields, table_after_header

__all__ = ["read_parstat", "sniff_parstat"]


def sniff_parstat(lines: list[str]) -> bool:
    """The PARSTAT header row (``Frequency (Hz)``, ``Zre (ohms)``, ``Zim (ohms)``)."""
    first = next((ln for ln in lines[:3] if ln.strip()), "")
    fields = split_fields(first, "\t")
    return {"Frequency (Hz)", "Zre (ohms)", "Zim (ohms)"} <= set(fields)


def read_parstat(path: str, lines: list[str]) -> list[ImpedanceSpectrum]:
    """The EIS spectra of a PARSTAT export (rows with frequency > 0)."""
    header = next(i for i, ln in enumerate(lines) if ln.strip())
    table = table_after_header(path, lines, header, "\t")
    columns = table.columns
    if "Frequency (Hz)" not in columns:
        raise FileFormatError("not a PARSTAT export: no 'Frequency (Hz)' column", path)
    meta: dict[str, object] = {"z_imag_sign_reason": "PARSTAT convention: Zim < 0 for a capacitor"}
    spectra = []
    # EIS blocks: runs of rows with frequency > 0 between DC rows
    freq = table.data[:, columns.index("Frequency (Hz)")]
    eis = freq > 0
    starts = np.flatnonzero(eis & ~np.r_[False, eis[:-1]])
    ends = np.flatnonzero(eis & ~np.r_[eis[1:], False]) + 1
    if starts.size <= 1:
        return spectra_from_table(
            path, table, metadata=meta, skip_zero_frequency=True, split_cycles=False
        )
    n_dc = int((freq == 0).sum())
    for a, b in zip(starts, ends):
        block = table.take(np.arange(a, b))
        m = dict(meta, n_rows_skipped_dc=n_dc, eis_block_rows=[int(a), int(b)])
        spectra += spectra_from_table(path, block, metadata=m, split_cycles=False)
    for k, s in enumerate(spectra):
        s.index = k
    return spectra
