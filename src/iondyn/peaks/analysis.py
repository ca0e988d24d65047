"""Peak-spectrum analysis (XPS, Raman, EELS, …) on top of the SAEM engine.

:class:`PeakFitter` reads files (two-column, matrix or VAMAS), crops an x range, picks sensible
shape options (the side of the Doniach–Šunjić tail) and runs :class:`iondyn.saem.SAEM`, either
spectrum by spectrum or as a series with stable peak identity.

VAMAS files (:mod:`iondyn.io.vamas`) hold several blocks (a survey and core-level regions):
``block`` names the ones to fit (block identifier or species + transition, e.g. ``"C 1s"``;
several names, or ``"all"``). With ``block=None`` (the default) a file of one block is fitted
and a file of several blocks is an error listing the block names, rather than silently fitting
a survey scan. The axis names and units of every spectrum travel to its fit (``x_name``,
``x_unit``, ``y_name``, ``y_unit``) for the tables, plots and JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from iondyn.data import Spectrum, SpectrumSet
from iondyn.errors import DataError, InputError
from iondyn.misfit import rename_axis
from iondyn.saem import SAEM, SAEMResult
from iondyn.saem.components import DoniachSunjic

__all__ = ["PeakFitter", "block_names", "crop", "load_spectra", "select_blocks"]


Blocks = str | Sequence[str] | None


def block_names(spectra: Sequence[Spectrum]) -> list[str]:
    """The block names (``metadata["label"]``) of spectra read from a VAMAS file."""
    return [str(s.metadata.get("label", s.index)) for s in spectra]


def _norm(name: str) -> str:
    return " ".join(name.lower().split())


def _block_keys(s: Spectrum) -> set[str]:
    return {_norm(str(s.metadata.get(k) or "")) for k in ("block_id", "region", "label")} - {""}


def select_blocks(spectra: Sequence[Spectrum], block: Blocks) -> list[Spectrum]:
    """The VAMAS blocks to fit (see the module docstring), in file order.

    A name matches a block's identifier or its region (species + transition), ignoring case and
    repeated spaces; a name matching several blocks (a repeated region) selects them all.
    Raises :class:`InputError` listing the block names for an unknown name, or for ``None``
    when the file holds several blocks.
    """
    spectra = list(spectra)
    source = spectra[0].source if spectra else None
    names = ", ".join(block_names(spectra))
    if block is None:
        if len(spectra) > 1:
            raise InputError(
                f"{len(spectra)} VAMAS blocks ({names}): choose the block(s) to fit "
                "(--block NAME, or --block all; block= in Python)",
                path=source,
            )
        return spectra
    wanted = [block] if isinstance(block, str) else list(block)
    if any(_norm(w) == "all" for w in wanted):
        return spectra
    out = [s for s in spectra if _block_keys(s) & {_norm(w) for w in wanted}]
    found = set().union(*(_block_keys(s) for s in out)) if out else set()
    for w in wanted:
        if _norm(w) not in found:
            raise InputError(f"no block named {w!r}; the blocks are: {names}", path=source)
    return out


def load_spectra(
    paths: Iterable[str | Path], block: Blocks = None, energy_axis: str = "binding"
) -> list[Spectrum]:
    """Every spectrum of every file, in order (a matrix file gives several, a VAMAS file the
    blocks chosen by ``block``; ``energy_axis``: see :func:`iondyn.io.vamas.read_vamas`)."""
    from iondyn.io.spectra import read_spectra
    from iondyn.io.vamas import is_vamas_file, read_vamas

    out: list[Spectrum] = []
    for p in paths:
        if is_vamas_file(p):
            out += select_blocks(read_vamas(p, energy=energy_axis), block)
            continue
        if block is not None and not (isinstance(block, str) and _norm(block) == "all"):
            raise InputError("is not a VAMAS file: blocks can only be chosen in VAMAS files", p)
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
    where inelastic losses are — low kinetic / high binding energy); ``block`` the VAMAS
    blocks to fit and ``energy_axis`` (``binding`` | ``stored``) their energy scale (see the
    module docstring).
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
    block: Blocks = None
    energy_axis: str = "binding"

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
            fit.x_name = str(s.metadata.get("x_name") or "")
            fit.y_name = str(s.metadata.get("y_name") or "")
            fit.x_unit, fit.y_unit = s.x_unit, s.y_unit
            fit.quality["misfit"] = rename_axis(
                fit.quality.get("misfit"), fit.warnings, fit.x_name or "x", fit.x_unit
            )
        result.settings.update(
            {"xmin": self.xmin, "xmax": self.xmax, "series": self.series, "tail": self.tail}
        )
        return result

    def fit_files(self, paths: Iterable[str | Path]) -> SAEMResult:
        """Read every file (two-column, matrix or VAMAS) and fit their spectra."""
        result = self.fit(load_spectra(paths, self.block, self.energy_axis))
        result.settings.update({"block": self.block, "energy_axis": self.energy_axis})
        return result
