"""The ``peaks`` analyzer: SAEM decomposition of peak spectra (XPS, Raman, EELS, …).

Every spectrum of the file (a matrix file holds several) is decomposed by
:class:`iondyn.peaks.PeakFitter` with the configured shape, background and number of peaks
(``auto``: BIC). A VAMAS file (``.vms``, ISO 14976) gives one spectrum per block: every block by
default (``block = "all"``: a batch has nobody to ask), or the block named by the ``block``
setting (``"C 1s"``: identifier or species + transition); XPS/UPS blocks stored in kinetic
energy are fitted on binding energy unless ``energy_axis = "stored"``.

Parameter rows: item ``peak <id>`` with ``center``, ``fwhm``, ``area``, ``height`` (and the
shape's extras) with standard errors, in the units of the file when it gave them (center and
widths in x units, height in y units, area in y·x units); item ``fit`` with the quality numbers
(``r2``, ``chi2_reduced``, ``bic``, ``converged``, …); item ``background`` with the
background's parameters. Each stored spectrum carries ``x_name``, ``x_unit``, ``y_name``,
``y_unit`` (and ``label``, the block name of a VAMAS file) for the report's figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iondyn.pipeline.analyzer import AnalysisOutcome, Analyzer, Setting, parameter_rows
from iondyn.pipeline.kinds import sniffed_score

__all__ = ["ANALYZER", "analyze_peaks"]

SHAPES = ("gaussian", "lorentzian", "pseudo-voigt", "voigt", "doniach-sunjic")

SETTINGS = {
    "shape": Setting("str", "gaussian", "line shape", choices=SHAPES),
    "n_peaks": Setting("int_or_auto", "auto", "number of peaks, or auto (BIC)", positive=True),
    "max_peaks": Setting("int", 6, "largest number of peaks tried by auto", positive=True),
    "background": Setting(
        "str", "linear", "background", choices=("none", "constant", "linear", "shirley")
    ),
    "likelihood": Setting("str", "gaussian", "noise model", choices=("gaussian", "poisson")),
    "series": Setting("bool", False, "fit the spectra of a matrix file as a series"),
    "xmin": Setting("float", None, "lowest x fitted (x units of the file)"),
    "xmax": Setting("float", None, "highest x fitted (x units of the file)"),
    "tail": Setting("str", "auto", "Doniach–Šunjić tail side", choices=("auto", "low", "high")),
    "n_starts": Setting("int", 5, "EM starts per spectrum", positive=True),
    "random_state": Setting("int", 0, "seed of the random restarts", minimum=0),
    "block": Setting("str", "all", "VAMAS block to fit (identifier or species + transition)"),
    "energy_axis": Setting(
        "str", "binding", "VAMAS energy scale (binding: hν − KE)", choices=("binding", "stored")
    ),
}

#: Quantities of a peak measured along x (the shape's other extras are dimensionless).
_X_QUANTITIES = ("center", "fwhm", "sigma", "gamma", "peak_position")


def _peak_units(fit: Any) -> dict[str, str]:
    """Units of the peak quantities from the units of the file (empty when it gave none)."""
    units = dict.fromkeys(_X_QUANTITIES, fit.x_unit) if fit.x_unit else {}
    if fit.y_unit:
        units["height"] = fit.y_unit
        if fit.x_unit:
            units["area"] = f"{fit.y_unit}·{fit.x_unit}"
    return units


def sniff_peaks(path: Path) -> float:
    """The peak-spectrum score of :func:`iondyn.io.sniff.kind_evidence` (1.0 VAMAS, 0.8 a
    spectral first column, 0.4 any other numeric table: the weakest claim; never for a file
    that reads as impedance)."""
    return sniffed_score(path, "peaks")


def analyze_peaks(path: Path, settings: Mapping[str, Any]) -> AnalysisOutcome:
    """Decompose every spectrum of ``path`` (see the module docstring)."""
    from iondyn.peaks import PeakFitter

    kwargs = {k: settings[k] for k in SETTINGS if k in settings}
    kwargs.setdefault("block", SETTINGS["block"].default)  # every block of a VAMAS file
    fitter = PeakFitter(**kwargs)
    result = fitter.fit_files([path])
    rows = []
    spectra = []
    curves = []
    for i, fit in enumerate(result.fits):
        units = _peak_units(fit)
        for peak in fit.peak_table():
            rows += parameter_rows(f"peak {peak['id']}", peak, units, spectrum=i, skip=("id",))
        rows += parameter_rows("fit", fit.quality, spectrum=i)
        rows += parameter_rows("background", fit.background, spectrum=i)
        spectra.append(fit.to_dict())
        curves.append(fit.to_dict(include_curves=True).get("curves"))
    warnings = sorted({w for fit in result.fits for w in fit.warnings})
    doc = {"spectra": spectra, "settings": dict(result.settings)}
    return AnalysisOutcome(
        "peaks", doc, rows, {"spectra": curves}, warnings, n_spectra=len(result.fits)
    )


def describe_peaks(outcome: Mapping[str, Any]) -> str:
    """One line: number of peaks and R² of each spectrum."""
    parts = []
    for s in outcome.get("spectra", [])[:4]:
        r2 = (s.get("quality") or {}).get("r2")
        r2_text = f", R² = {r2:.4f}" if isinstance(r2, float) else ""
        parts.append(f"{s.get('n_peaks')} {s.get('shape')} peak(s){r2_text}")
    more = len(outcome.get("spectra", [])) - 4
    return "; ".join(parts) + (f"; … {more} more spectra" if more > 0 else "")


def peaks_figures(outcome: Mapping[str, Any]) -> list[dict[str, Any]]:
    from iondyn.report.figures import peak_figures

    return peak_figures(outcome)


ANALYZER = Analyzer(
    kind="peaks",
    description="peak decomposition (SAEM) of XPS / Raman / EELS spectra",
    version="2",
    sniff=sniff_peaks,
    analyze=analyze_peaks,
    figures=peaks_figures,
    settings=SETTINGS,
    describe=describe_peaks,
)
