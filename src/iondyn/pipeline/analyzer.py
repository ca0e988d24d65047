"""What an analyzer is: the contract between the batch pipeline and one kind of analysis.

An :class:`Analyzer` is registered for one *kind* of file (``"peaks"``, ``"impedance"``,
``"tsdc"``) in :mod:`iondyn.pipeline.kinds`. It declares

* ``sniff(path) -> float`` — its confidence (0 … 1) that the file is of its kind;
* ``analyze(path, settings) -> AnalysisOutcome`` — the default analysis of one file;
* ``figures(outcome) -> list[dict]`` — Plotly figure dicts (``{"data": …, "layout": …}``) for
  the report, built from the stored outcome (the dict of :meth:`AnalysisOutcome.to_dict`);
* ``settings`` — the settings it understands (:class:`Setting`: type, default, unit, checks);
  the TOML config is validated against them;
* ``version`` — bumped whenever the analysis would give different results for the same file
  and settings (it is part of the settings hash, so a new version re-analyses stored files).

Functions are referenced, not copied, when a task is sent to a worker process or a Dask
worker, so they must be module-level functions of an importable module.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iondyn.errors import ConfigError

__all__ = ["AnalysisOutcome", "Analyzer", "ParameterRow", "Setting", "parameter_rows"]


@dataclass(frozen=True)
class ParameterRow:
    """One fitted number: ``item`` is the peak / process id (``"peak 2"``, ``"bulk"``,
    ``"circuit"``), ``spectrum`` the index of the spectrum within its file."""

    item: str
    name: str
    value: float | None
    error: float | None = None
    unit: str = ""
    spectrum: int = 0

    def as_tuple(self) -> tuple[int, str, str, float | None, float | None, str]:
        return (self.spectrum, self.item, self.name, _num(self.value), _num(self.error), self.unit)


def _num(v: Any) -> float | None:
    """A finite float, or ``None`` (NaN and ±inf are stored as NULL)."""
    if v is None or isinstance(v, bool | str):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def parameter_rows(
    item: str,
    values: Mapping[str, Any],
    units: Mapping[str, str] | None = None,
    spectrum: int = 0,
    skip: tuple[str, ...] = (),
) -> list[ParameterRow]:
    """Rows from a flat dict holding ``name`` and ``name_err`` entries: every real number (bools
    as 0/1) becomes a row, ``name_err`` its error; strings, lists, dicts and ``None`` are
    ignored, and so are the keys in ``skip``."""
    units = units or {}
    rows = []
    for name, value in values.items():
        if name.endswith("_err") or name in skip:
            continue
        if not isinstance(value, numbers.Real):
            continue  # strings, lists, dicts, None
        if isinstance(value, bool):
            value = float(value)
        rows.append(
            ParameterRow(
                item, name, value, values.get(f"{name}_err"), units.get(name, ""), spectrum
            )
        )
    return rows


@dataclass
class AnalysisOutcome:
    """The result of analysing one file.

    ``result``: JSON-able summary (parameters, quality, warnings; no long arrays) stored as
    ``files.result_json``; ``parameters``: the long table; ``curves``: JSON-able arrays for the
    report's plots (stored compressed); ``warnings``: for the file as a whole; ``n_spectra``:
    how many spectra (curves) the file held.
    """

    kind: str
    result: dict[str, Any]
    parameters: list[ParameterRow] = field(default_factory=list)
    curves: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    n_spectra: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "result": self.result,
            "parameters": [r.__dict__ for r in self.parameters],
            "curves": self.curves,
            "warnings": list(self.warnings),
            "n_spectra": self.n_spectra,
        }


_TYPES = ("float", "int", "str", "bool", "int_or_auto")


@dataclass(frozen=True)
class Setting:
    """A setting an analyzer understands, as written in the TOML config.

    ``type``: float | int | str | bool | int_or_auto; ``unit`` is part of the key name
    (``thickness_cm``) and repeated here for messages; ``positive``/``minimum``/``maximum``
    bound numbers; ``choices`` restrict strings.
    """

    type: str
    default: Any
    help: str
    unit: str = ""
    positive: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"unknown setting type {self.type!r}")

    def validate(self, key: str, value: Any, where: str, path: str | None) -> Any:
        """The checked value; raises :class:`ConfigError` naming ``where`` and ``key``."""

        def bad(problem: str) -> ConfigError:
            return ConfigError(f"{where}: {key} {problem}", path=path)

        unit = f" ({self.unit})" if self.unit else ""
        if self.type == "int_or_auto" and isinstance(value, str):
            if value.strip().lower() != "auto":
                raise bad(f"must be a positive integer or 'auto', not {value!r}")
            return "auto"
        if self.type in ("int", "int_or_auto"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad(f"must be an integer{unit}, not {value!r}")
            value = int(value)
        elif self.type == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise bad(f"must be a number{unit}, not {value!r} (units are fixed by the key)")
            value = float(value)
            if not math.isfinite(value):
                raise bad(f"must be finite{unit}, not {value!r}")
        elif self.type == "bool":
            if not isinstance(value, bool):
                raise bad(f"must be true or false, not {value!r}")
            return value
        else:
            if not isinstance(value, str):
                raise bad(f"must be a string, not {value!r}")
            if self.choices is not None and value not in self.choices:
                raise bad(f"must be one of {', '.join(self.choices)}, not {value!r}")
            return value
        if self.positive and value <= 0:
            raise bad(f"must be > 0{unit}, not {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise bad(f"must be ≥ {self.minimum:g}{unit}, not {value!r}")
        if self.maximum is not None and value > self.maximum:
            raise bad(f"must be ≤ {self.maximum:g}{unit}, not {value!r}")
        return value


@dataclass(frozen=True)
class Analyzer:
    """One kind of analysis (see the module docstring)."""

    kind: str
    description: str
    version: str
    sniff: Callable[[Path], float]
    analyze: Callable[[Path, Mapping[str, Any]], AnalysisOutcome]
    figures: Callable[[Mapping[str, Any]], list[dict[str, Any]]]
    settings: Mapping[str, Setting] = field(default_factory=dict)
    describe: Callable[[Mapping[str, Any]], str] | None = None

    def defaults(self) -> dict[str, Any]:
        return {k: s.default for k, s in self.settings.items()}
