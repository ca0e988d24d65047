"""Princeton Applied Research VersaStudio ``.par`` files.

Layout: XML-like sections ``<Name>`` … ``</Name>`` of ``key=value`` lines: ``<Application>``
(software version), ``<Instrument>`` (model, serial number), ``<Experiment>`` (date and time),
``<Action0>`` (cell: electrode area, open-circuit potential), ``<Action1>``, ``<Action2>``, …
(one per technique step, each with ``Segments=n``), and one ``<SegmentN>`` per recorded segment
with ``Definition=<comma-separated column names>`` followed by comma-separated data. Impedance
columns are ``Frequency(Hz)``, ``Z Real``, ``Z Imag`` (physics convention). Every segment with
rows of positive frequency is one spectrum (rows with frequency 0 are DC points and skipped);
segments are matched to their action by the actions' ``Segments=`` counts, and the action's
settings go into metadata. The trailing ``0`` of some ``Definition=`` lines (one name more than
the data have columns, and not a name) is ignored. The ``<DockingLayout>`` section (window
layout XML) is skipped.
"""

from __future__ import annotations

import math
import re
from typing import Any

from iondyn.data import ImpedanceSpectrum
from iondyn.errors import FileFormatError
from iondyn.io.eis_common import parse_float_or_none, spectra_from_table
from iondyn.io.eis_table import parse_rows, split_fields

__all__ = ["read_versastudio", "sniff_versastudio"]

_OPEN = re.compile(r"^<([A-Za-z]+\d*)>$")


def sniff_versastudio(lines: list[str]) -> bool:
    """An ``<Application>`` section naming VersaStudio, or ``<SegmentN>`` with ``Definition=``."""
    head = [ln.strip() for ln in lines[:400]]
    if head and head[0] == "<Application>" and any(ln == "Name=VersaStudio" for ln in head[:10]):
        return True
    return any(_OPEN.match(ln) and ln.startswith("<Segment") for ln in head) and any(
        ln.startswith("Definition=") for ln in head
    )


def _sections(lines: list[str]) -> list[tuple[str, int, list[tuple[int, str]]]]:
    """(name, 1-based line of the opening tag, [(line, text), …]) of every top-level section."""
    out = []
    i, n = 0, len(lines)
    while i < n:
        m = _OPEN.match(lines[i].strip())
        if not m:
            i += 1
            continue
        name, start = m.group(1), i + 1
        body = []
        i += 1
        while i < n and lines[i].strip() != f"</{name}>":
            body.append((i + 1, lines[i]))
            i += 1
        out.append((name, start, body))
        i += 1
    return out


def _key_values(body: list[tuple[int, str]]) -> dict[str, str]:
    kv = {}
    for _, text in body:
        key, sep, value = text.partition("=")
        if sep:
            kv[key.strip()] = value.strip()
    return kv


def read_versastudio(path: str, lines: list[str]) -> list[ImpedanceSpectrum]:
    """The impedance segments of a VersaStudio ``.par`` file."""
    sections = _sections(lines)
    info = {name: _key_values(body) for name, _, body in sections if not name.startswith("Segment")}
    meta: dict[str, Any] = {}
    app, inst, exp = (
        info.get("Application", {}),
        info.get("Instrument", {}),
        info.get("Experiment", {}),
    )
    if app.get("Version"):
        meta["software"] = f"{app.get('Name', 'VersaStudio')} {app['Version']}"
    instrument = None
    if inst.get("Type"):
        instrument = f"PAR {inst['Type']}" + (f" (SN {inst['SN']})" if inst.get("SN") else "")
    if exp:
        meta["acquired"] = f"{exp.get('DateAcquired', '')} {exp.get('TimeAcquired', '')}".strip()
    area = parse_float_or_none(info.get("Action0", {}).get("Working Electrode Area (cm2)", ""))
    if area is not None:
        meta["electrode_area_cm2"] = area
    # segment number -> its action (Action1, Action2, ... each owning Segments=n segments)
    owner: dict[int, dict[str, str]] = {}
    count = 0
    actions = sorted(
        (k for k in info if re.fullmatch(r"Action\d+", k) and k != "Action0"),
        key=lambda k: int(k[6:]),
    )
    n_sections = sum(1 for n, _, _ in sections if re.fullmatch(r"Segment\d+", n))
    for key in actions:
        declared = parse_float_or_none(info[key].get("Segments", "0")) or 0.0
        if not (math.isfinite(declared) and 0 <= declared <= n_sections):
            declared = 0.0  # a corrupt count: the segments are taken as they come
        for _ in range(int(declared)):
            count += 1
            owner[count] = info[key]
    spectra: list[ImpedanceSpectrum] = []
    segments = [(n, s, b) for n, s, b in sections if re.fullmatch(r"Segment\d+", n)]
    for name, start, body in segments:
        definition = next((t for _, t in body if t.startswith("Definition=")), None)
        rows = [(ln, t) for ln, t in body if t.strip() and "=" not in t]
        if definition is None or not rows:
            continue
        names = split_fields(definition.partition("=")[2], ",")
        width = len(split_fields(rows[0][1], ","))
        if len(names) == width + 1 and parse_float_or_none(names[-1]) is not None:
            names = names[:-1]
        if "Frequency(Hz)" not in names:
            continue
        table = parse_rows(path, names, rows, ",")
        number = int(name[7:])
        m = dict(meta, segment=number, segment_line=start)
        action = owner.get(number)
        if action:
            m["action"] = action.get("Name", "")
            m["action_settings"] = action
            for key, label in (
                ("Amplitude (mV RMS)", "ac_amplitude_mV_rms"),
                ("Start Frequency (Hz)", "frequency_initial_Hz"),
                ("End Frequency (Hz)", "frequency_final_Hz"),
                ("Points Per Decade", "points_per_decade"),
            ):
                value = parse_float_or_none(action.get(key, ""))
                if value is not None:
                    m[label] = value
        m["z_imag_sign_reason"] = "VersaStudio convention: Z Imag < 0 for a capacitor"
        if not (table.data[:, names.index("Frequency(Hz)")] > 0).any():
            continue  # a DC segment
        spectra += spectra_from_table(
            path, table, metadata=m, instrument=instrument, skip_zero_frequency=True
        )
    if not spectra:
        raise FileFormatError("VersaStudio file without an impedance segment (Frequency(Hz))", path)
    for k, s in enumerate(spectra):
        s.index = k
    return spectra
