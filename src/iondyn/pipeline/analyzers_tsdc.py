"""The ``tsdc`` analyzer: decomposition of a TSDC curve into relaxations + classical methods.

:func:`iondyn.io.tsdc.read_tsdc` reads the curve (the heating rate from ``beta_K_per_min`` in
the config, else from a comment line of the file; without either the file is an error that
says so), :class:`iondyn.tsdc.TSDCFitter` decomposes it (K by BIC by default) and runs the
initial-rise and Bucci–Fieschi methods per peak.

Parameter rows: item ``peak <id>`` with ``Ea_eV``, ``tau0_s``, ``Tm_K``, ``P0`` (in the
file's charge unit), widths, heights, ``frequency_factor_per_s`` and the methods'
``initial_rise_Ea_eV`` / ``bucci_fieschi_Ea_eV``; item ``fit`` with the quality numbers; item
``curve`` with ``beta_K_per_s``, ``T0_K`` and, when τ0 was shared, ``tau0_s`` with its error.

``tau0_s`` / ``frequency_factor_per_s`` hold τ0 fixed for every relaxation, ``shared_tau0``
fits one τ0 for all of them (:mod:`iondyn.tsdc.constraints`; they exclude each other, and a
file analysed with two of them is an error that says so).

The imports are guarded: a build without :mod:`iondyn.tsdc` records every TSDC file as an
error ("TSDC analysis not available in this build") instead of failing the batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iondyn.errors import InputError, IondynError
from iondyn.pipeline.analyzer import AnalysisOutcome, Analyzer, ParameterRow, Setting
from iondyn.pipeline.analyzer import parameter_rows as rows_of
from iondyn.pipeline.kinds import sniffed_score

__all__ = ["ANALYZER", "analyze_tsdc"]

SETTINGS = {
    "beta_K_per_min": Setting("float", None, "heating rate", unit="K/min", positive=True),
    "n_peaks": Setting("int_or_auto", "auto", "number of relaxations, or auto", positive=True),
    "max_peaks": Setting("int", 5, "largest number of relaxations tried by auto", positive=True),
    "kinetics": Setting("str", "first", "peak model", choices=("first", "general", "gaussian")),
    "background": Setting(
        "str",
        "none",
        "background",
        choices=("none", "constant", "linear", "exponential", "exponential-offset"),
    ),
    "temperature_unit": Setting(
        "str", "auto", "temperature column unit", choices=("auto", "K", "C")
    ),
    "current_unit": Setting("str", None, "current unit when the header does not give it"),
    "heating_segment": Setting("bool", False, "keep the longest heating run of the file"),
    "t0_K": Setting("float", None, "start of heating", unit="K", positive=True),
    "tmin_K": Setting("float", None, "lowest temperature analysed", unit="K", positive=True),
    "tmax_K": Setting("float", None, "highest temperature analysed", unit="K", positive=True),
    "methods": Setting("bool", True, "initial rise and Bucci–Fieschi per peak"),
    "tau0_s": Setting(
        "float",
        None,
        "τ0 held fixed for every relaxation (first/gaussian)",
        unit="s",
        positive=True,
    ),
    "frequency_factor_per_s": Setting(
        "float", None, "frequency factor s = 1/τ0 held fixed", unit="1/s", positive=True
    ),
    "shared_tau0": Setting("bool", False, "one τ0 shared by all relaxations of a curve"),
}

_UNITS = {
    "Ea_eV": "eV",
    "tau0_s": "s",
    "Tm_K": "K",
    "fwhm_K": "K",
    "tau_at_Tm_s": "s",
    "frequency_factor_per_s": "1/s",
}


def sniff_tsdc(path: Path) -> float:
    """The TSDC score of :func:`iondyn.io.sniff.kind_evidence` (0.8 for a numeric table whose
    first column is named like a temperature)."""
    return sniffed_score(path, "tsdc")


def analyze_tsdc(path: Path, settings: Mapping[str, Any]) -> AnalysisOutcome:
    """Read and decompose one TSDC curve (see the module docstring)."""
    try:
        from iondyn.io.tsdc import read_tsdc
        from iondyn.tsdc import TSDCFitter
    except ImportError as exc:
        raise IondynError(f"TSDC analysis not available in this build ({exc})") from None

    beta = settings.get("beta_K_per_min")
    curve = read_tsdc(
        path,
        beta=None if beta is None else beta / 60.0,
        temperature_unit=settings.get("temperature_unit", "auto"),
        current_unit=settings.get("current_unit"),
        heating_segment=settings.get("heating_segment", False),
    )
    if curve.beta_K_per_s is None:
        raise InputError(
            "no heating rate in the file: set beta_K_per_min for it in the config "
            "([tsdc] or a [[rule]])",
            path=str(path),
        )
    fitter = TSDCFitter(
        n_peaks=settings.get("n_peaks", "auto"),
        max_peaks=settings.get("max_peaks", 5),
        kinetics=settings.get("kinetics", "first"),
        background=settings.get("background", "none"),
        t0=settings.get("t0_K"),
        tmin=settings.get("tmin_K"),
        tmax=settings.get("tmax_K"),
        methods=settings.get("methods", True),
        tau0_s=settings.get("tau0_s"),
        frequency_factor_per_s=settings.get("frequency_factor_per_s"),
        shared_tau0=settings.get("shared_tau0", False),
    )
    fit = fitter.fit(curve)[0]
    doc = fit.to_dict(include_curves=True)
    curves = doc.pop("curves", None)
    units = {**_UNITS, "P0": fit.charge_unit, "height": fit.current_unit}
    rows = [
        ParameterRow("curve", "beta_K_per_s", fit.beta_K_per_s, None, "K/s"),
        ParameterRow("curve", "T0_K", fit.T0_K, None, "K"),
    ]
    for peak in doc["peaks"]:
        item = f"peak {peak['id']}"
        rows += rows_of(item, peak, units, skip=("id",))
        for method, res in (peak.get("methods") or {}).items():
            if isinstance(res, dict):
                rows.append(
                    ParameterRow(
                        item, f"{method}_Ea_eV", res.get("Ea_eV"), res.get("Ea_eV_err"), "eV"
                    )
                )
    if fit.tau0.get("mode") == "shared":
        t = fit.tau0
        rows.append(ParameterRow("curve", "tau0_s", t["tau0_s"], t["tau0_s_err"], "s"))
    rows += rows_of("fit", doc["quality"])
    return AnalysisOutcome("tsdc", doc, rows, curves, list(fit.warnings), n_spectra=1)


def describe_tsdc(result: Mapping[str, Any]) -> str:
    """One line: the relaxations' Tm and Ea."""
    peaks = result.get("peaks") or []
    text = ", ".join(
        f"Tm {p['Tm_K']:.0f} K / Ea {p['Ea_eV']:.2f} eV"
        for p in peaks
        if isinstance(p.get("Tm_K"), float) and isinstance(p.get("Ea_eV"), float)
    )
    return f"{len(peaks)} relaxation(s): {text}"


def tsdc_figures(outcome: Mapping[str, Any]) -> list[dict[str, Any]]:
    from iondyn.report.figures import tsdc_figures as build

    return build(outcome)


ANALYZER = Analyzer(
    kind="tsdc",
    description="TSDC decomposition into relaxations (SAEM) with initial rise and Bucci–Fieschi",
    version="2",
    sniff=sniff_tsdc,
    analyze=analyze_tsdc,
    figures=tsdc_figures,
    settings=SETTINGS,
    describe=describe_tsdc,
)
