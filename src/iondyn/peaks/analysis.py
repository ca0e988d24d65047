"""Peak-spectrum analysis (XPS, Raman, EELS, …) on top of the SAEM engine.

:class:`PeakFitter` reads files (two-column or matrix), crops an x range, picks sensible
shape options (the side of the Doniach–Šunjić tail) and runs :class:`iondyn.saem.SAEM`, either
spectrum by spectrum or as a series with stable peak identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from iondyn.data import Spectrum, SpectrumSet
from iondyn.errors import DataError, InputError
from iondyn.saem import SAEM, SAEMResult
from iondyn.saem.components import DoniachSunjic

__all__ = ["PeakFitter", "crop", "load_spectra"]


def load_spectra(paths: Iterable[str | Path]) -> list[Spectrum]:
    """Every spectrum of every file, in order (a matrix file gives several)."""
    from iondyn.io.spectra import read_spectra

    out: list[Spectrum] = []
    for p in paths:
        out += list(read_spectra(p))
    if not out:
        raise InputError("no spectra given")
    return out


def crop(spectrum: Spectrum, xmin: float | None, xmax: float | None) -> Spectrum:
    """The part of ``spectrum`` with xmin ≤ x ≤ xmax."""
    if xmin is None and xmax is None:
        return spectrum
    lo = -np.inf if xmin is None else xmin
    hi = np.inf if xmax is None else xmax
    keep = (spectrum.x >= lo) & (spectrum.x <= hi)
    if keep.sum() < 3:
        raise DataError(f"fewer than 3 points between x = {xmin} and {xmax}", path=spectrum.source)
    return Spectrum(
        spectrum.x[keep],
        spectrum.y[keep],
        None if spectrum.sigma is None else spectrum.sigma[keep],
        spectrum.source,
        spectrum.index,
        spectrum.x_unit,
        spectrum.y_unit,
        dict(spectrum.metadata),
    )


def _high_background_side(s: Spectrum) -> str:
    """``"low"`` when the spectrum is higher at its low-x end (inelastic step there)."""
    s = s.sorted()
    m = max(len(s.y) // 25, 2)
    return "low" if s.y[:m].mean() > s.y[-m:].mean() else "high"


@dataclass
class PeakFitter:
    """Decompose peak spectra.

    ``shape`` gaussian | lorentzian | pseudo-voigt | voigt | doniach-sunjic; ``n_peaks`` an
    integer or ``"auto"`` (BIC over 1..``max_peaks``); ``background`` none | constant |
    linear | shirley; ``likelihood`` gaussian | poisson; ``series`` fits the spectra in order
    with warm starts and stable peak identity; ``xmin``/``xmax`` crop the fitted region;
    ``tail`` the side of the Doniach–Šunjić tail (``auto``: the side of the higher background,
    where inelastic losses are — low kinetic / high binding energy).
    """

    shape: str = "gaussian"
    n_peaks: int | str = "auto"
    max_peaks: int = 6
    background: str = "linear"
    likelihood: str = "gaussian"
    series: bool = False
    xmin: float | None = None
    xmax: float | None = None
    tail: str = "auto"
    n_starts: int = 5
    random_state: int = 0

    def _engine(self, first: Spectrum) -> SAEM:
        shape = self.shape.strip().lower()
        if shape in ("doniach-sunjic", "ds", "doniach_sunjic"):
            tail = self.tail if self.tail in ("low", "high") else _high_background_side(first)
            component: Any = DoniachSunjic(tail=tail)
        else:
            component = shape
        return SAEM(
            component,
            self.n_peaks,
            max_peaks=self.max_peaks,
            background=self.background,
            likelihood=self.likelihood,
            n_starts=self.n_starts,
            random_state=self.random_state,
        )

    def fit(self, spectra: Spectrum | SpectrumSet | Sequence[Spectrum]) -> SAEMResult:
        """Fit spectra (already read); returns one :class:`SpectrumFit` per spectrum."""
        if isinstance(spectra, Spectrum):
            spectra = [spectra]
        items = [crop(s, self.xmin, self.xmax) for s in spectra]
        if not items:
            raise InputError("no spectra to fit")
        engine = self._engine(items[0])
        result = engine.fit_series(items) if self.series else engine.fit(items)
        for fit, s in zip(result.fits, items):
            # reader notes (dropped NaN rows) travel with the fit
            fit.warnings = list(s.metadata.get("warnings", [])) + fit.warnings
            fit.label = s.metadata.get("label")
        result.settings.update(
            {"xmin": self.xmin, "xmax": self.xmax, "series": self.series, "tail": self.tail}
        )
        return result

    def fit_files(self, paths: Iterable[str | Path]) -> SAEMResult:
        """Read every file (two-column or matrix) and fit all their spectra."""
        return self.fit(load_spectra(paths))
