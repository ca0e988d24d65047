"""Evidence that a file is a spectrum image, for :mod:`iondyn.io.sniff` (kind ``map``).

* Gatan DigitalMicrograph DM3/DM4: the version word (3 or 4, big-endian) then the file length
  and a byte-order word of 0 or 1 (the layout read by every DM reader);
* a Raman map text export: four numeric columns x, y, shift, intensity — named so in a header
  (``#X #Y #Wave #Intensity`` of Renishaw WiRE, ``x, y, Raman shift, intensity``), or unnamed
  with the first two columns constant while the third runs monotonically (one pixel's
  spectrum after the other).
"""

from __future__ import annotations

import itertools
import re

__all__ = ["dm_evidence", "raman_map_evidence"]

_NAMES = (
    re.compile(r"^#?\s*x\b", re.I),
    re.compile(r"^#?\s*y\b", re.I),
    re.compile(r"wave|shift|raman|cm-1|cm\^-1|cm⁻¹|1/cm", re.I),
    re.compile(r"intens|counts|signal|cps|a\.?u\.?", re.I),
)
_SPLIT = re.compile(r"[,;\t]|\s+")


def dm_evidence(head: bytes, suffix: str) -> tuple[float, str] | None:
    """(score, reason) for a DM3/DM4 file, else None."""
    if len(head) < 16:
        return None
    version = int.from_bytes(head[:4], "big")
    if version == 3:
        order = int.from_bytes(head[8:12], "big")
    elif version == 4:
        order = int.from_bytes(head[12:16], "big")
    else:
        return None
    if order not in (0, 1):
        return None
    named = suffix in (".dm3", ".dm4")
    return (0.9 if named else 0.8), f"Gatan DigitalMicrograph DM{version} file (a spectrum image)"


def _numbers(fields: list[str]) -> list[float] | None:
    try:
        return [float(f.replace(",", ".")) for f in fields]
    except ValueError:
        return None


def raman_map_evidence(head: bytes) -> tuple[float, str] | None:
    """(score, reason) for a Raman map text export, else None (see the module docstring)."""
    if b"\x00" in head[:4096]:
        return None
    text = head[:4096].decode("utf-8", "replace").lstrip("\ufeff")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line may be cut
    header: list[str] | None = None
    rows: list[list[float]] = []
    for ln in lines:
        fields = [f for f in _SPLIT.split(ln) if f]
        vals = _numbers(fields)
        if vals is None:
            if rows:
                return None
            header = [f for f in re.split(r"\t|,|;|\s{2,}|(?=#)", ln) if f.strip()]
            header = [h.strip() for h in header]
            continue
        if len(vals) != 4:
            return None
        rows.append(vals)
    if len(rows) < 3:
        return None
    if header is not None and len(header) == 4:
        if all(p.search(h) for p, h in zip(_NAMES, header)):
            return 0.9, f"Raman map columns {', '.join(header)} (x, y, shift, intensity)"
    if header is not None:
        return None
    run = rows[: min(len(rows), 8)]
    same_xy = all(r[0] == run[0][0] and r[1] == run[0][1] for r in run)
    third = [r[2] for r in run]
    d = [b - a for a, b in itertools.pairwise(third)]
    monotonic = all(v > 0 for v in d) or all(v < 0 for v in d)
    if len(run) >= 5 and same_xy and monotonic:
        return 0.7, "4 unnamed columns: x and y constant while the third runs (a Raman map)"
    return None
