"""Which kind of data a file holds: impedance, TSDC, peak spectrum or spectrum image.

:func:`kind_evidence` scores every candidate kind on the whole file — the magic bytes, every
header line above the table (not only the last one: instruments put titles, dates and
"fixed value" lines between the column names and the rows, or after them) and the table itself
— and returns the evidence, strongest first, each with the reason in words. The rules, with
their scores (0–1):

* **impedance** — 1.0 for an instrument layout recognised by :mod:`iondyn.io.detect` (Gamry,
  BioLogic .mpt/.mpr, ZView, Autolab, CHI, Parstat, VersaStudio, PowerSuite, Novocontrol);
  0.95 for a header line naming a frequency and an impedance pair (Z′/Z″ or |Z|/phase); 0.9
  for a header whose units are impedance units but ambiguous (the reader will say why);
  0.6 for a table without names of ≥ 3 columns that the generic impedance reader accepts and
  whose first column is positive over ≥ 2 decades (a frequency sweep).
* **tsdc** — 0.8 for a table whose first column is named like a temperature (``T``, ``Temp``,
  ``Temperature [C]``, ``T (K)``): TSDC curves and thermoluminescence glow curves (the TSDC
  analysis fits first-order peaks of either).
* **peaks** — 1.0 for a VAMAS (ISO 14976) file; 0.8 for a first column named like a spectral
  axis (binding/kinetic energy, eV, Raman shift, wavenumber, 2θ, wavelength); 0.4 for any
  other table of ≥ 2 numeric columns whose first column is not named as something else
  (time, potential, current, frequency): the weakest claim.
* **map** — 0.9 for a NumPy ``.npy``/``.npz`` array file or an HDF5 file (``.h5``, ``.hspy``,
  ``.emd``): spectrum images.
  Also (:mod:`iondyn.maps.sniffing`): 0.9 for a Gatan DM3/DM4 file (0.8 without its
  extension), 0.9 for a Raman map text whose columns are named x, y, shift, intensity, 0.7
  for four unnamed columns whose x and y stay constant while the third runs. Array files are
  recognised by their first bytes, without reading them whole.

* **md** — molecular-dynamics trajectories (:mod:`iondyn.md.formats`), from the first 64 kB
  only (gzip-compressed too): 1.0 for a VASP XDATCAR or a LAMMPS text dump, 0.95 for a VASP
  vasprun.xml of an MD run (0.9 for other ionic steps) and for an extended XYZ with a
  ``Lattice=``, 0.5 for a plain XYZ without a cell.

A file with impedance evidence of 0.6 or more never has peak evidence: a file that reads as
impedance is never analysed as a peak spectrum. :func:`sniff_kind` is the strongest kind; the
pipeline (:func:`iondyn.pipeline.kinds.detect_kind`) also refuses a file on which two kinds
score within :data:`AMBIGUITY_MARGIN` of each other.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from iondyn.errors import FileFormatError, IondynError
from iondyn.io.detect import detect_lines
from iondyn.io.eis_biologic_mpr import sniff_biologic_mpr
from iondyn.io.eis_columns import find_columns
from iondyn.io.eis_common import split_lines
from iondyn.io.eis_generic import data_blocks, read_generic, table_delimiter
from iondyn.io.eis_table import split_fields
from iondyn.io.text import decode, is_binary, parse_number, read_bytes
from iondyn.io.vamas import sniff_vamas

__all__ = ["AMBIGUITY_MARGIN", "KindEvidence", "kind_evidence", "sniff_kind"]

#: Two kinds whose scores differ by less than this are both plausible (the file is refused
#: until ``--kind`` or a config rule settles it).
AMBIGUITY_MARGIN = 0.1

#: Impedance evidence from this score up removes any peak-spectrum evidence.
IMPEDANCE_WINS = 0.6

_TEMPERATURE = re.compile(
    r"^\s*(t|temp\.?|temperature|sample\s*temperature)\b|^\s*t\s*[\[(/]\s*(k|°c|c|℃)"
    r"|\((k|°c|c|℃)\)|\[(k|°c|c|℃)\]|/\s*(k|°c|℃)$|kelvin|celsius|℃",
    re.IGNORECASE,
)
_SPECTRAL = re.compile(
    r"binding|kinetic|\benergy|\bb\.?e\.?\b|\bk\.?e\.?\b|\bev\b|\(ev\)|\[ev\]|/\s*ev\b|shift"
    r"|raman|wave\s*number|cm-1|cm\^-1|cm⁻¹|1/cm|2\s*theta|2θ|wavelength|\bnm\b|loss",
    re.IGNORECASE,
)
_OTHER_AXIS = re.compile(
    r"^\s*(time|t\s*/\s*s|t\s*\(\s*s\s*\)|elapsed|potential|voltage|ewe|e\s*/\s*v|current"
    r"|i\s*/|i\s*\(|freq|frequency|f\s*/\s*hz|cycle|index|point|pt)\b",
    re.IGNORECASE,
)
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


@dataclass(frozen=True)
class KindEvidence:
    """One kind a file may hold: ``score`` in [0, 1] and the ``reason`` in words."""

    kind: str
    score: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _binary_evidence(data: bytes, suffix: str) -> list[KindEvidence]:
    if sniff_biologic_mpr(data):
        return [KindEvidence("impedance", 1.0, "BioLogic .mpr signature")]
    if data.startswith(_NPY_MAGIC) or (data.startswith(_ZIP_MAGIC) and suffix == ".npz"):
        return [KindEvidence("map", 0.9, "NumPy array file (a spectrum image)")]
    if data.startswith(_HDF5_MAGIC):
        return [KindEvidence("map", 0.9, "HDF5 file (a spectrum image: .hspy, .emd, .h5)")]
    from iondyn.maps.sniffing import dm_evidence

    if (dm := dm_evidence(data[:16], suffix)) is not None:
        return [KindEvidence("map", *dm)]
    return []


def _header_fields(headers: list[tuple[int, str, bool]], width: int, delimiter: str | None):
    """Field lists of the header lines, those with exactly ``width`` fields first."""
    fields = [split_fields(text, delimiter) for _, text, _ in headers]
    exact = [f for f in fields if len(f) == width]
    return list(reversed(exact)) + [f for f in reversed(fields) if len(f) != width and len(f) > 1]


def _first_column_positive_decades(rows: list[tuple[int, str]], delimiter: str | None) -> bool:
    try:
        x = [parse_number(split_fields(text, delimiter)[0]) for _, text in rows]
    except (ValueError, IndexError):
        return False
    return bool(x) and min(x) > 0 and max(x) / min(x) >= 100


def _table_evidence(path: Path, lines: list[str]) -> list[KindEvidence]:
    delimiter = table_delimiter(lines)
    blocks = data_blocks(lines, delimiter)
    if not blocks:
        return []
    block = next((b for b in blocks if len(b["rows"]) >= 3), blocks[0])
    width = len(split_fields(block["rows"][0][1], delimiter))
    candidates = _header_fields(block["headers"], width, delimiter)
    out: list[KindEvidence] = []
    for names in candidates:
        try:
            found = find_columns(names)
        except FileFormatError as exc:
            out.append(KindEvidence("impedance", 0.9, f"impedance header ({exc.problem})"))
            break
        has_f = "frequency" in found or "angular_frequency" in found
        has_z = ("z_real" in found and "z_imag" in found) or ("z_mod" in found and "phase" in found)
        if has_f and has_z:
            roles = ("frequency", "angular_frequency", "z_real", "z_imag", "z_mod", "phase")
            used = [names[found[r][0]] for r in roles if r in found]
            out.append(KindEvidence("impedance", 0.95, f"columns {', '.join(used)}"))
            break
    if not out and not candidates and width >= 3:
        if _first_column_positive_decades(block["rows"], delimiter):
            try:
                read_generic(str(path), lines)
                out.append(
                    KindEvidence(
                        "impedance",
                        0.6,
                        f"{width} unnamed columns read as f, Z′, Z″ (the first is positive over "
                        "≥ 2 decades, a frequency sweep)",
                    )
                )
            except IondynError:
                pass
    impedance = max((e.score for e in out), default=0.0)
    first_names = [names[0] for names in candidates if names and names[0]]
    temperature = next((n for n in first_names if _TEMPERATURE.search(n)), None)
    if temperature is not None and impedance < IMPEDANCE_WINS:
        out.append(KindEvidence("tsdc", 0.8, f"first column {temperature!r} is a temperature"))
    if impedance < IMPEDANCE_WINS and width >= 2:
        spectral = next((n for n in first_names if _SPECTRAL.search(n)), None)
        other = next((n for n in first_names if _OTHER_AXIS.search(n)), None)
        if spectral is not None:
            out.append(KindEvidence("peaks", 0.8, f"first column {spectral!r} is a spectral axis"))
        elif temperature is None and other is None:
            what = f"named {first_names[0]!r}" if first_names else "without names"
            out.append(
                KindEvidence("peaks", 0.4, f"a table of {width} numeric columns, the first {what}")
            )
    return out


def _map_head(p: Path) -> bytes | None:
    """The first bytes of a NumPy, HDF5 or DM3/DM4 file (None for any other file or one that
    cannot be opened: :func:`read_bytes` then names the problem)."""
    try:
        with open(p, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    if head.startswith((_NPY_MAGIC, _HDF5_MAGIC)) or (
        head.startswith(_ZIP_MAGIC) and p.suffix.lower() == ".npz"
    ):
        return head
    from iondyn.maps.sniffing import dm_evidence

    return head if dm_evidence(head, p.suffix.lower()) is not None else None


def _trajectory_evidence(p: Path) -> KindEvidence | None:
    """Evidence for an MD trajectory (:func:`iondyn.md.formats.detect_format`) from the first
    64 kB of a regular file (gzip-compressed too); None for anything else."""
    if not p.is_file():
        return None
    from iondyn.md.formats import detect_format

    found = detect_format(p)
    return None if found is None else KindEvidence("md", found[1], found[2])


def kind_evidence(path: str | Path) -> list[KindEvidence]:
    """Evidence for each kind ``path`` may hold, strongest first (one entry per kind; empty
    when nothing is recognised). Raises :class:`~iondyn.errors.FileFormatError` only when the
    file cannot be read."""
    p = Path(path)
    trajectory = _trajectory_evidence(p)
    if trajectory is not None:  # MD trajectories may be gigabytes: known from their head
        return [trajectory]
    head = _map_head(p)
    if head is not None:  # a spectrum image may be larger than any text file: not read whole
        return _binary_evidence(head, p.suffix.lower())
    data = read_bytes(p)
    if sniff_biologic_mpr(data) or is_binary(data):
        return _binary_evidence(data, p.suffix.lower())
    lines = split_lines(decode(data))
    if sniff_vamas(lines):
        return [KindEvidence("peaks", 1.0, "VAMAS (ISO 14976) file")]
    found: list[KindEvidence] = []
    from iondyn.maps.sniffing import raman_map_evidence

    if (raman := raman_map_evidence(data[:4096])) is not None:
        found.append(KindEvidence("map", *raman))
    fmt = detect_lines(lines)
    if fmt not in (None, "generic"):
        found.append(KindEvidence("impedance", 1.0, f"{fmt} layout"))
    else:
        found += _table_evidence(p, lines)
    best: dict[str, KindEvidence] = {}
    for e in found:
        if e.kind not in best or e.score > best[e.kind].score:
            best[e.kind] = e
    return sorted(best.values(), key=lambda e: -e.score)


def sniff_kind(path: str | Path) -> str | None:
    """The strongest kind of :func:`kind_evidence` (``"impedance"``, ``"tsdc"``,
    ``"peaks"``, ``"map"``), or ``None`` when nothing is recognised."""
    evidence = kind_evidence(path)
    return evidence[0].kind if evidence else None
