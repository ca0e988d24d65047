"""The result of an automatic impedance fit (:class:`iondyn.eis.autofit.AutoFitter`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from iondyn.display import Displayable, Summary
from iondyn.eis.decompose import LossDecomposition
from iondyn.eis.fit_result import CircuitFitResult, auto_summary

__all__ = ["AutoFitResult"]


@dataclass(repr=False)
class AutoFitResult(Displayable):
    """The chosen circuit fit, the candidate table and the decomposition behind it."""

    fit: CircuitFitResult
    candidates: list[dict[str, Any]]
    decomposition: LossDecomposition
    processes: list[dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def circuit(self) -> str:
        return self.fit.circuit.string

    def _summary(self) -> Summary:
        return auto_summary(self)

    def plot(self, ax: Any = None, kind: str = "nyquist") -> Any:
        """The chosen fit's picture (:meth:`CircuitFitResult.plot`); returns the axes."""
        return self.fit.plot(ax, kind)

    def to_dataframe(self) -> pd.DataFrame:
        """The chosen fit's parameters (:meth:`CircuitFitResult.to_dataframe`)."""
        return self.fit.to_dataframe()

    def to_dict(self) -> dict[str, Any]:
        """The layout of ``iondyn eis fit --json`` plus ``candidates`` (and ``processes``)."""
        d = self.fit.to_dict()
        d["auto"] = True
        d["candidates"] = self.candidates
        d["decomposition"] = {
            "arcs": self.decomposition.arcs,
            "electrode": self.decomposition.electrode,
            "candidates": self.decomposition.candidates,
        }
        if self.processes is not None:
            d["processes"] = self.processes
        d["warnings"] = list(dict.fromkeys(d.get("warnings", []) + self.warnings))
        return d
