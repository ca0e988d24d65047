"""One entry point for every instrument file: :func:`read` (also ``iondyn.read``).

>>> import iondyn
>>> data = iondyn.read("cell.DTA")            # kind sniffed from the content
>>> data.kind, len(data), data[0]             # 'impedance', 1, ImpedanceSpectrum(...)

The kind comes from :func:`iondyn.io.sniff.kind_evidence` — the rule the batch pipeline uses —
and a file that two kinds claim within :data:`~iondyn.io.sniff.AMBIGUITY_MARGIN` is refused
with both reasons until ``kind=`` settles it. Options are passed to the kind's reader:

* ``impedance`` — :func:`iondyn.io.impedance.read_impedance` (``format``,
  ``temperature_from_name``): every spectrum of the file;
* ``tsdc`` — :func:`iondyn.io.tsdc.read_tsdc` (``beta`` in K/s, ``temperature_unit``,
  ``current_unit``, ``heating_segment``): the curve;
* ``peaks`` — :func:`iondyn.io.vamas.read_vamas` for VAMAS files (``energy``: every block) or
  :func:`iondyn.io.spectra.read_spectra` (``x_unit``, ``y_unit``): every spectrum (column);
* ``map`` — :func:`iondyn.maps.read_map` (``axis``, ``max_bytes``, ``axis_name``,
  ``axis_unit``): the spectrum image, a :class:`~iondyn.maps.SpectrumMap` whose pixels are read
  block by block when analysed;
* ``md`` — :func:`iondyn.md.readers.open_trajectory` and
  :func:`iondyn.md.trajectory.build_trajectory`: the unwrapped
  :class:`~iondyn.md.trajectory.Trajectory` of ``species`` (required: the mobile ion, such as
  ``"Li"``), with ``frame_interval_fs``, ``timestep_fs``, ``temperature_K``, ``coordinates``,
  ``drift_correction``, ``max_frames``, ``format`` and ``backend``.

**One shape.** :func:`read` always returns a :class:`DataList` — a ``list`` of the data
objects of :mod:`iondyn.data`, one per spectrum or curve, that also knows its ``kind`` and
``source``, shows itself as a table in a notebook and plots every item on one axes. The
per-kind readers keep their own return types, which scripts use (``read_impedance`` a list,
``read_tsdc`` one :class:`~iondyn.data.TSDCCurve`, ``read_spectra`` a
:class:`~iondyn.data.SpectrumSet`); the analyses take either. Other kinds can be added with
:func:`register_reader`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from iondyn.display.summary import Displayable, Summary
from iondyn.errors import FileFormatError, InputError

__all__ = ["DataList", "read", "reader_kinds", "register_reader"]


_NOUNS = {
    "impedance": ("impedance spectrum", "impedance spectra"),
    "tsdc": ("TSDC curve", "TSDC curves"),
    "peaks": ("spectrum", "spectra"),
    "map": ("spectrum image", "spectrum images"),
    "md": ("trajectory", "trajectories"),
}


class DataList(Displayable, list):
    """The data objects read from one file (a ``list``), with the ``kind`` they were read as
    and the ``source`` path."""

    def __init__(self, items: Iterable[Any] = (), kind: str = "", source: str | None = None):
        super().__init__(items)
        self.kind = kind
        self.source = source

    def _summary(self) -> Summary:
        rows = []
        for i, item in enumerate(self):
            s = item._summary() if isinstance(item, Displayable) else None
            title = s.title if s else type(item).__name__
            rows.append([str(i), title, ", ".join(s.facts if s else [])])
        name = Path(self.source).name if self.source else "data"
        noun = _NOUNS.get(self.kind, ("item", "items"))[len(self) != 1]
        warnings = []
        for item in self:
            for w in getattr(item, "metadata", {}).get("warnings", []) or []:
                warnings.append(str(w))
        return Summary(
            "DataList",
            f"{name}: {len(self)} {noun}",
            tables=[(self.kind or "items", ["#", "item", "facts"], rows)],
            warnings=list(dict.fromkeys(warnings)),
        )

    def plot(self, ax: Any = None, **options: Any) -> Any:
        """Every item on the same axes (its own ``plot``; several impedance spectra without
        the arcs inset, which would be drawn once per spectrum); returns the axes."""
        from iondyn.display import plots as dp

        if (
            self.kind == "impedance"
            and len(self) > 1
            and options.get("kind", "nyquist") == "nyquist"
        ):
            options.setdefault("zoom", False)
        ax = dp.axes(ax)
        for item in self:
            item.plot(ax=ax, **options)
        return ax

    def to_dataframe(self) -> pd.DataFrame:
        """The items' tables stacked, with their ``item`` number."""
        frames = []
        for i, item in enumerate(self):
            df = item.to_dataframe()
            df.insert(0, "item", i)
            frames.append(df)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _impedance(path: Path, **options: Any) -> list[Any]:
    from iondyn.io.impedance import read_impedance

    return read_impedance(path, **options)


def _tsdc(path: Path, **options: Any) -> list[Any]:
    from iondyn.io.tsdc import read_tsdc

    return [read_tsdc(path, **options)]


def _peaks(path: Path, **options: Any) -> list[Any]:
    from iondyn.io.spectra import read_spectra
    from iondyn.io.vamas import is_vamas_file, read_vamas

    if is_vamas_file(path):
        _check(path, "peaks (VAMAS)", options, ("energy",))
        return list(read_vamas(path, **options))
    _check(path, "peaks (text table)", options, ("x_unit", "y_unit"))
    return list(read_spectra(path, **options))


def _map(path: Path, **options: Any) -> list[Any]:
    from iondyn.maps.readers import read_map

    return [read_map(path, **options)]


_MD_SOURCE = ("format", "backend")
_MD_BUILD = ("coordinates", "drift_correction", "max_frames", *_MD_SOURCE)


def _md(path: Path, species: str | None = None, **options: Any) -> list[Any]:
    from iondyn.md.readers import open_trajectory
    from iondyn.md.trajectory import build_trajectory

    source = open_trajectory(path, **{k: v for k, v in options.items() if k in _MD_SOURCE})
    if not species:
        found = ", ".join(dict.fromkeys(source.symbols))
        raise InputError(
            f"an MD trajectory needs species= (the mobile ion); the file holds {found}",
            path=str(path),
        )
    rest = {k: v for k, v in options.items() if k not in _MD_SOURCE}
    return [build_trajectory(source, species, **rest)]


def _check(path: Path, what: str, options: dict[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InputError(
            f"{what} files take no option {', '.join(unknown)} (they take: {', '.join(known)})",
            path=str(path),
        )


#: kind → (reader, the options it takes; None: not checked here)
_READERS: dict[str, tuple[Callable[..., list[Any]], tuple[str, ...] | None]] = {
    "impedance": (_impedance, ("format", "temperature_from_name")),
    "tsdc": (_tsdc, ("beta", "temperature_unit", "current_unit", "heating_segment")),
    "peaks": (_peaks, None),
    "map": (_map, ("axis", "max_bytes", "axis_name", "axis_unit")),
    "md": (_md, ("species", "frame_interval_fs", "timestep_fs", "temperature_K", *_MD_BUILD)),
}


def register_reader(kind: str, reader: Callable[..., list[Any]]) -> None:
    """Let :func:`read` read files of ``kind`` (as sniffed) with ``reader(path, **options)``,
    which returns the list of data objects (and checks its own options)."""
    _READERS[kind] = (reader, None)


def reader_kinds() -> list[str]:
    """The kinds :func:`read` can read."""
    return list(_READERS)


def read(path: str | Path, kind: str | None = None, **options: Any) -> DataList:
    """Read any supported instrument file (see the module docstring): the kind sniffed from
    the content unless ``kind`` is given, ``options`` passed to that kind's reader.

    Raises :class:`~iondyn.errors.FileFormatError` for a file of no known kind or one that two
    kinds claim (naming both), :class:`~iondyn.errors.InputError` for an unknown ``kind`` or
    option, and the reader's own errors for a malformed file.
    """
    from iondyn.io.sniff import AMBIGUITY_MARGIN, kind_evidence

    p = Path(path)
    if kind is None:
        evidence = kind_evidence(p)
        if not evidence:
            raise FileFormatError(
                "not recognised as impedance, TSDC, peak-spectrum, spectrum-image or MD data "
                f"(kind= forces a reader: {', '.join(_READERS)})",
                str(p),
            )
        best = evidence[0]
        close = [e for e in evidence[1:] if best.score - e.score < AMBIGUITY_MARGIN]
        if close:
            both = "; ".join(f"{e.kind} ({e.reason})" for e in [best, *close])
            raise FileFormatError(
                f"could be {both}: give kind={best.kind!r} or kind={close[0].kind!r}", str(p)
            )
        kind = best.kind
    if kind not in _READERS:
        raise InputError(
            f"no reader for kind {kind!r} in iondyn.read (known: {', '.join(_READERS)})",
            path=str(p),
        )
    reader, known = _READERS[kind]
    if known is not None:
        _check(p, kind, options, known)
    return DataList(reader(p, **options), kind=kind, source=str(p))
