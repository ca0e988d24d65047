"""Reader of VAMAS files (ISO 14976, ``.vms``), the exchange format of XPS/AES instruments.

The layout follows W.A. Dench, L.B. Hazell, M.P. Seah, *VAMAS Surface Chemical Analysis
Standard Data Transfer Format with Skeleton Decoding Programs*, Surf. Interface Anal. 13, 63
(1988), standardised as ISO 14976:1998. A file is one value per line: an experiment header,
then blocks (one spectrum each), then ``end of experiment``. Which header and block lines are
present depends on the *experiment mode* (NORM, SDP, SDPSV, MAP, MAPDP, MAPSV, MAPSVDP, SEM,
NOEXP), the *scan mode* and the block's technique; the header's parameter inclusion/exclusion
list may leave parameters out of every block after the first (they then keep the first
block's value). Blank lines inside the file are values (an empty transition label), so lines
are taken as they are; only blank lines before the format identifier are skipped.

Only the REGULAR scan mode (abscissa = start + i × increment) is read; IRREGULAR and MAPPING
files are refused with a one-line :class:`FileFormatError`.

**Energy axis.** The abscissa is kept as the file states it (label, unit, start, increment in
``metadata["abscissa"]``) and, by default (``energy="binding"``), a photoemission block (XPS,
UPS) stored on a kinetic-energy scale in eV is converted to binding energy ``BE = hν − KE``,
hν being the block's analysis source characteristic energy. The kinetic energy is taken as
referred to the Fermi level (the spectrometer's work function already calibrated out), so the
analyser work function stored in the block is reported (``metadata["work_function_eV"]``) but
not subtracted: the standard does not say which level the kinetic energy refers to, and on the
Kratos AXIS Supra file of the test suite ``hν − KE`` turns the acquisition windows into the
round binding-energy windows the operator chose (1200 … −5 eV, 300 … 270 eV), whereas also
subtracting the stored φ = −4.5 eV would move every window by 4.5 eV. ``metadata["energy_axis"]``
says which scale ``x`` is on (``"binding"`` or ``"kinetic"``), ``x_unit`` is the stored unit
(eV) and ``metadata["binding_energy_conversion"]`` spells out the conversion when one was
made. ``energy="stored"`` keeps the stored axis. Other techniques (AES, SIMS, …) are never
converted.

The first corresponding variable is the spectrum's ``y`` (counts); further ones (a Kratos
file adds the transmission function) are kept in ``metadata["corresponding_variables"]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from iondyn.data import Spectrum, SpectrumSet
from iondyn.errors import FileFormatError, InputError
from iondyn.io.spectra import quantity_name
from iondyn.io.text import check_input_file, read_bytes, read_lines

__all__ = ["VAMAS_MAGIC", "is_vamas_file", "read_vamas", "sniff_vamas"]

VAMAS_MAGIC = "VAMAS Surface Chemical Analysis Standard Data Transfer Format"

_EXP_MODES = ("MAP", "MAPDP", "MAPSV", "MAPSVDP", "NORM", "SDP", "SDPSV", "SEM", "NOEXP")
_REGION_MODES = ("MAP", "MAPDP", "NORM", "SDP")  # header: number of spectral regions
_MAP_MODES = ("MAP", "MAPDP")  # header: analysis positions; block: x, y coordinates
_FOV_MODES = ("MAP", "MAPDP", "MAPSV", "MAPSVDP", "SEM")
_LINESCAN_MODES = ("MAPSV", "MAPSVDP", "SEM")
_DEPTH_MODES = ("MAPDP", "MAPSVDP", "SDP", "SDPSV")
_ION_TECHNIQUES = ("FABMS", "FABMS energy spec", "ISS", "SIMS", "SIMS energy spec", "SNMS")
_ION_TECHNIQUES += ("SNMS energy spec",)
_ELECTRON_TECHNIQUES = ("AES diff", "AES dir", "EDX", "ELS", "UPS", "XPS", "XRF")
_PHOTOEMISSION = ("XPS", "UPS")
#: VAMAS writes 1E+37 for "not known".
_UNKNOWN = 1e37
_UNIT_NAMES = {"c": "counts", "c/s": "counts/s", "d": "", "n": ""}


def sniff_vamas(lines: list[str]) -> bool:
    """True when the first non-empty line is the VAMAS format identifier."""
    for line in lines:
        text = line.strip().lstrip("\ufeff")
        if text:
            return text.startswith(VAMAS_MAGIC)
    return False


def is_vamas_file(path: str | Path) -> bool:
    """Whether ``path`` starts like a VAMAS file (reads the first 4 kB only)."""
    check_input_file(path)  # a FIFO or device is refused before it is opened
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        read_bytes(path)  # raises the FileFormatError naming the problem
        return False
    return sniff_vamas(head.removeprefix(b"\xef\xbb\xbf").decode("latin-1").splitlines())


class _Cursor:
    """The file's lines read one value at a time; errors name the file and line."""

    def __init__(self, lines: list[str], pos: int, src: str):
        self.lines, self.pos, self.src = lines, pos, src
        self.where = "header"

    def _next(self, what: str) -> str:
        if self.pos >= len(self.lines):
            raise FileFormatError(
                f"the file ends early (truncated?): expected the {what} of the {self.where}",
                self.src,
                line=len(self.lines),
            )
        self.pos += 1
        return self.lines[self.pos - 1]

    def text(self, what: str) -> str:
        return self._next(what).strip()

    def number(self, what: str) -> float:
        raw = self._next(what)
        try:
            return float(raw.strip().replace("D", "E").replace("d", "e"))
        except ValueError:
            raise FileFormatError(
                f"expected a number ({what} of the {self.where}), found {raw.strip()[:30]!r}",
                self.src,
                line=self.pos,
            ) from None

    def integer(self, what: str) -> int:
        value = self.number(what)
        if not abs(value) <= 1e9 or value != int(value):  # NaN and ±inf fail the first test
            raise FileFormatError(
                f"expected an integer ({what} of the {self.where}), found {value:g}",
                self.src,
                line=self.pos,
            )
        return int(value)

    def count(self, what: str) -> int:
        n = self.integer(what)
        if n < 0:
            raise FileFormatError(f"negative {what} ({n})", self.src, line=self.pos)
        return n

    def texts(self, n: int, what: str) -> list[str]:
        return [self.text(what) for _ in range(n)]


def _known(value: float | None) -> float | None:
    return None if value is None or abs(value) >= _UNKNOWN else value


def _header(cur: _Cursor) -> dict[str, Any]:
    h: dict[str, Any] = {"format": cur.text("format identifier")}
    if not h["format"].startswith(VAMAS_MAGIC):
        raise FileFormatError("not a VAMAS file (no format identifier)", cur.src, line=cur.pos)
    for key in ("institution", "instrument", "operator", "experiment"):
        h[key] = cur.text(f"{key} identifier")
    h["comment"] = cur.texts(cur.count("number of comment lines"), "comment line")
    h["experiment_mode"] = mode = cur.text("experiment mode")
    if mode not in _EXP_MODES:
        raise FileFormatError(f"unknown experiment mode {mode!r}", cur.src, line=cur.pos)
    h["scan_mode"] = scan = cur.text("scan mode")
    if scan != "REGULAR":
        known = scan in ("IRREGULAR", "MAPPING")
        problem = "is not supported" if known else "is not a VAMAS scan mode"
        raise FileFormatError(
            f"scan mode {scan!r} {problem} (only REGULAR: an abscissa given by start and "
            "increment)",
            cur.src,
            line=cur.pos,
        )
    if mode in _REGION_MODES:
        h["n_spectral_regions"] = cur.count("number of spectral regions")
    if mode in _MAP_MODES:
        h["n_analysis_positions"] = cur.count("number of analysis positions")
        h["n_x_coordinates"] = cur.count("number of discrete x coordinates")
        h["n_y_coordinates"] = cur.count("number of discrete y coordinates")
    n_var = cur.count("number of experimental variables")
    h["experimental_variables"] = [
        (cur.text("experimental variable label"), cur.text("experimental variable unit"))
        for _ in range(n_var)
    ]
    # parameter inclusion (d > 0) or exclusion (d < 0) list for the blocks after the first
    d = cur.integer("number of entries in the parameter inclusion or exclusion list")
    include = [d <= 0] * 41
    for _ in range(abs(d)):
        n = cur.integer("parameter inclusion or exclusion list entry")
        if not 1 <= n <= 40:
            raise FileFormatError(f"block parameter number {n} is not 1…40", cur.src, cur.pos)
        include[n] = d > 0
    h["include"] = include
    cur.texts(cur.count("number of manually entered items"), "manually entered item")
    n_future_exp = cur.count("number of future upgrade experiment entries")
    h["n_future_block"] = cur.count("number of future upgrade block entries")
    cur.texts(n_future_exp, "future upgrade experiment entry")
    h["n_blocks"] = cur.count("number of blocks")
    return h


#: Block parameters in file order: (number in the inclusion list, key, kind, when present).
#: kind: "n" a number, "t" a text, or a list-valued item; the condition names are _present's.
# fmt: off
_BLOCK: list[tuple[int, str, str, str]] = [
    (1, "year", "n", ""), (2, "month", "n", ""), (3, "day", "n", ""), (4, "hour", "n", ""),
    (5, "minute", "n", ""), (6, "second", "n", ""), (7, "gmt", "n", ""),
    (8, "comment", "comment", ""), (9, "technique", "t", ""),
    (10, "x_coordinate", "n", "map"), (10, "y_coordinate", "n", "map"),
    (11, "experimental_values", "expvals", ""), (12, "source_label", "t", ""),
    (13, "sputter_ion_z", "n", "ion"), (13, "sputter_ion_atoms", "n", "ion"),
    (13, "sputter_ion_charge", "t", "ion"),
    (14, "source_energy", "n", ""), (15, "source_strength", "n", ""),
    (16, "source_width_x", "n", ""), (16, "source_width_y", "n", ""),
    (17, "field_of_view_x", "n", "fov"), (17, "field_of_view_y", "n", "fov"),
    *((18, f"linescan_{k}", "n", "linescan") for k in ("x0", "y0", "x1", "y1", "x_end", "y_end")),
    (19, "source_polar_angle", "n", ""), (20, "source_azimuth", "n", ""),
    (21, "analyser_mode", "t", ""), (22, "pass_energy", "n", ""),
    (23, "differential_width", "n", "aes_diff"), (24, "magnification", "n", ""),
    (25, "work_function", "n", ""), (26, "target_bias", "n", ""),
    (27, "analysis_width_x", "n", ""), (27, "analysis_width_y", "n", ""),
    (28, "takeoff_polar_angle", "n", ""), (28, "takeoff_azimuth", "n", ""),
    (29, "species", "t", ""), (30, "transition", "t", ""), (30, "detected_charge", "n", ""),
    # items 31 are REGULAR-only: the other scan modes are refused in the header
    (31, "abscissa_label", "t", ""), (31, "abscissa_units", "t", ""),
    (31, "abscissa_start", "n", ""), (31, "abscissa_increment", "n", ""),
    (32, "variables", "variables", ""), (33, "signal_mode", "t", ""),
    (34, "collection_time", "n", ""), (35, "n_scans", "n", ""), (36, "time_correction", "n", ""),
    *((37, f"sputter_{k}", "n", "sputter") for k in ("energy", "current", "width_x", "width_y")),
    (37, "sputter_polar_angle", "n", "sputter"), (37, "sputter_azimuth", "n", "sputter"),
    (37, "sputter_mode", "t", "sputter"),
    (38, "tilt_polar_angle", "n", ""), (38, "tilt_azimuth", "n", ""), (39, "rotation", "n", ""),
    (40, "additional", "additional", ""),
]
# fmt: on


def _present(condition: str, mode: str, technique: str) -> bool:
    """Whether a conditional block parameter is in the file (Dench et al. 1988, Table 2)."""
    return {
        "": True,
        "map": mode in _MAP_MODES,
        "ion": mode in _DEPTH_MODES or technique in _ION_TECHNIQUES,
        "fov": mode in _FOV_MODES,
        "linescan": mode in _LINESCAN_MODES,
        "aes_diff": technique == "AES diff",
        "sputter": mode in _DEPTH_MODES and technique in _ELECTRON_TECHNIQUES,
    }[condition]


def _read(cur: _Cursor, kind: str, what: str, n_exp: int) -> Any:
    if kind == "n":
        return cur.number(what)
    if kind == "t":
        return cur.text(what)
    if kind == "comment":
        return cur.texts(cur.count("number of comment lines"), "comment line")
    if kind == "expvals":
        return [cur.number("experimental variable value") for _ in range(n_exp)]
    if kind == "variables":
        n = cur.count("number of corresponding variables")
        return [(cur.text("variable label"), cur.text("variable unit")) for _ in range(n)]
    n = cur.count("number of additional numerical parameters")
    return [(cur.text("label"), cur.text("unit"), cur.number("value")) for _ in range(n)]


def _block(cur: _Cursor, head: dict[str, Any], first: dict[str, Any] | None) -> dict[str, Any]:
    """One block's parameters and ordinate values (``first``: the first block, or None).

    After the first block, a parameter left out by the inclusion/exclusion list keeps the
    first block's value.
    """
    b: dict[str, Any] = {"block_id": cur.text("block identifier")}
    cur.where = f"block {b['block_id']!r}"
    b["sample_id"] = cur.text("sample identifier")
    mode, n_exp = head["experiment_mode"], len(head["experimental_variables"])
    for n, key, kind, condition in _BLOCK:
        if not _present(condition, mode, b.get("technique", "")):
            continue
        if first is None or head["include"][n]:
            b[key] = _read(cur, kind, key.replace("_", " "), n_exp)
        else:
            b[key] = first.get(key)
    cur.texts(head["n_future_block"], "future upgrade block entry")
    b["values"] = _ordinates(cur, len(b["variables"]))
    return b


def _ordinates(cur: _Cursor, n_var: int) -> np.ndarray:
    """The ordinate values as an array of shape (n_points, n_var)."""
    n = cur.count("number of ordinate values")
    if n_var < 1 or n % n_var:
        raise FileFormatError(
            f"{n} ordinate values do not divide among {n_var} corresponding variable(s)",
            cur.src,
            line=cur.pos,
        )
    for _ in range(n_var):
        cur.number("minimum ordinate value")
        cur.number("maximum ordinate value")
    start = cur.pos
    chunk = cur.lines[start : start + n]
    if len(chunk) < n:
        raise FileFormatError(
            f"the file ends early (truncated?): the {cur.where} declares {n} ordinate values, "
            f"the file holds {len(chunk)}",
            cur.src,
            line=len(cur.lines),
        )
    try:
        values = np.asarray(chunk, dtype=float)
        cur.pos = start + n
    except ValueError:  # a Fortran exponent, or text: number() names the offending line
        values = np.asarray([cur.number("ordinate value") for _ in range(n)])
    return values.reshape(n // n_var, n_var)


def _unit(code: str) -> str:
    return _UNIT_NAMES.get(code.strip(), code.strip())


def _spectrum(b: dict[str, Any], i: int, head: dict[str, Any], src: str, energy: str) -> Spectrum:
    values = b["values"]
    (label, ucode), *others = b["variables"]
    start, step = b["abscissa_start"], b["abscissa_increment"]
    stored = start + step * np.arange(values.shape[0])
    x_label, x_unit = b["abscissa_label"], b["abscissa_units"]
    region = f"{b['species']} {b['transition']}".strip()
    hv, phi = _known(b["source_energy"]), _known(b["work_function"])
    kinetic = "kinetic" in x_label.lower()
    axis = "kinetic" if kinetic else ("binding" if "binding" in x_label.lower() else x_label)
    meta: dict[str, Any] = {"format": "vamas", "block": i, "label": b["block_id"] or region}
    for key in ("block_id", "sample_id", "species", "transition", "technique", "source_label"):
        meta[key] = b[key]
    meta |= {
        "region": region,
        "abscissa": {"label": x_label, "units": x_unit, "start": start, "increment": step},
        "energy_axis": axis,
        "y_label": label,
        "y_units_code": ucode,
        "source_energy_eV": hv,
        "work_function_eV": phi,
        "analyser_mode": b["analyser_mode"],
        "pass_energy": _known(b["pass_energy"]),
        "signal_mode": b["signal_mode"],
        "dwell_time_s": _known(b["collection_time"]),
        "n_scans": None if _known(b["n_scans"]) is None else int(b["n_scans"]),
        "experimental_variables": {
            name: value
            for (name, _), value in zip(head["experimental_variables"], b["experimental_values"])
        },
        "comment": list(b["comment"] or []),
    }
    stamp = ("year", "month", "day", "hour", "minute", "second")
    if all(_known(b.get(k)) is not None and np.isfinite(b[k]) for k in stamp):
        meta["date"] = (
            f"{int(b['year']):04d}-{int(b['month']):02d}-{int(b['day']):02d}T"
            f"{int(b['hour']):02d}:{int(b['minute']):02d}:{int(b['second']):02d}"
        )
        if _known(b.get("gmt")) is not None and np.isfinite(b["gmt"]):
            meta["utc_offset_h"] = b["gmt"]
    if others:
        meta["corresponding_variables"] = [
            {"label": lb, "unit": _unit(u), "values": values[:, j + 1].tolist()}
            for j, (lb, u) in enumerate(others)
        ]
    x, x_name = stored, quantity_name(x_label)
    convertible = kinetic and b["technique"] in _PHOTOEMISSION and hv is not None
    if energy == "binding" and convertible and x_unit == "eV":
        x = hv - stored
        x_name = "binding energy"
        meta["energy_axis"] = "binding"
        meta["binding_energy_conversion"] = (
            f"BE = hν − KE with hν = {hv:g} eV (kinetic energy referred to the Fermi level; "
            "the analyser work function is not subtracted)"
        )
    meta["x_name"], meta["y_name"] = x_name, quantity_name(label)
    return Spectrum(x, values[:, 0], None, src, i, x_unit, _unit(ucode), meta)


def read_vamas(path: str | Path, energy: str = "binding") -> SpectrumSet:
    """Every block of a VAMAS file as one :class:`Spectrum` each, in file order.

    ``energy``: ``"binding"`` converts kinetic-energy photoemission blocks to binding energy
    (see the module docstring), ``"stored"`` keeps the abscissa as stored. Raises
    :class:`FileFormatError` (one line naming the file and line) for a file that is not VAMAS,
    is truncated or malformed, or uses an unsupported scan mode.
    """
    if energy not in ("binding", "stored"):
        raise InputError(f"energy must be 'binding' or 'stored', not {energy!r}")
    src = str(path)
    lines = read_lines(path)
    pos = next((i for i, ln in enumerate(lines) if ln.strip()), len(lines))
    cur = _Cursor(lines, pos, src)
    head = _header(cur)
    if head["n_blocks"] == 0:
        raise FileFormatError("the file holds no blocks", src, line=cur.pos)
    blocks: list[dict[str, Any]] = []
    for _ in range(head["n_blocks"]):
        blocks.append(_block(cur, head, blocks[0] if blocks else None))
    cur.where = "file"
    rest = [(n, ln.strip()) for n, ln in enumerate(lines[cur.pos :], cur.pos + 1) if ln.strip()]
    if not rest or rest[0][1].lower() != "end of experiment":
        raise FileFormatError(
            f"expected 'end of experiment' after block {len(blocks)} of {head['n_blocks']} "
            f"(found {rest[0][1][:30]!r})"
            if rest
            else "the file ends without 'end of experiment' (truncated?)",
            src,
            line=rest[0][0] if rest else len(lines),
        )
    return SpectrumSet([_spectrum(b, i, head, src, energy) for i, b in enumerate(blocks)])
