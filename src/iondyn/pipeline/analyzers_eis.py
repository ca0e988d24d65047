"""The ``impedance`` analyzer: automatic circuit fit, Kramers–Kronig test and DRT per spectrum.

For every spectrum of the file (:func:`iondyn.io.impedance.read_impedance`):

1. :class:`iondyn.eis.autofit.AutoFitter` — SAEM on the loss spectrum → circuit → CNLS, and the
   solid-electrolyte interpretation (process labels, C, σ, ε_r with the pellet geometry);
2. :class:`iondyn.eis.kk.LinKK` — the Lin-KK test (with a series capacitance when the chosen
   circuit ends in a blocking CPE);
3. :class:`iondyn.eis.drt.DRT` — the distribution of relaxation times (series capacitance
   likewise).

A failing KK test or DRT only adds a warning; a spectrum whose circuit fit fails is reported in
``failed_spectra`` (the file is an error only when every spectrum fails). Parameter rows: item
``circuit`` (every circuit parameter), one item per process named by its label (``bulk``,
``grain boundary``, …: ``R_ohm``, ``C_F``, ``n``, ``tau_s``, ``sigma_S_per_cm``, ``eps_r``),
``fit``, ``kk``, ``drt``, ``drt peak <k>``, and ``spectrum`` (``temperature_K``).

The imports are guarded: a build without :mod:`iondyn.eis` records every impedance file as an
error ("impedance analysis not available in this build") instead of failing the batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iondyn.errors import IondynError
from iondyn.pipeline.analyzer import AnalysisOutcome, Analyzer, ParameterRow, Setting
from iondyn.pipeline.analyzer import parameter_rows as rows_of
from iondyn.pipeline.kinds import sniffed_score

__all__ = ["ANALYZER", "analyze_impedance"]

SETTINGS = {
    "max_arcs": Setting("int", 3, "largest number of R‖CPE arcs tried", positive=True),
    "electrode": Setting(
        "str", "auto", "blocking-electrode CPE: auto, none, cpe", choices=("auto", "none", "cpe")
    ),
    "weight": Setting(
        "str", "modulus", "CNLS weighting", choices=("unit", "modulus", "proportional")
    ),
    "thickness_cm": Setting("float", None, "pellet thickness", unit="cm", positive=True),
    "area_cm2": Setting("float", None, "electrode area", unit="cm²", positive=True),
    "fmin_Hz": Setting("float", None, "lowest frequency used", unit="Hz", positive=True),
    "fmax_Hz": Setting("float", None, "highest frequency used", unit="Hz", positive=True),
    "kk": Setting("bool", True, "run the Lin-KK test"),
    "drt": Setting("bool", True, "compute the DRT"),
    "temperature_K": Setting(
        "float", None, "temperature (overrides the file)", unit="K", positive=True
    ),
    "series_name": Setting("str", None, "series name for Arrhenius plots (default: the folder)"),
    "format": Setting("str", None, "force a reader (see iondyn eis read --list-formats)"),
}

_UNITS = {
    "R_ohm": "Ω",
    "C_F": "F",
    "C_scaled_F": "F",
    "Q": "F·s^(n−1)",
    "tau_s": "s",
    "f_peak_Hz": "Hz",
    "sigma_S_per_cm": "S/cm",
    "R_inf_ohm": "Ω",
    "R_pol_ohm": "Ω",
    "C_series_F": "F",
    "gamma_max_ohm": "Ω",
    "tau_low_s": "s",
    "tau_high_s": "s",
}


def sniff_impedance(path: Path) -> float:
    """The impedance score of :func:`iondyn.io.sniff.kind_evidence` (1.0 for an instrument
    layout, 0.95 for named frequency and impedance columns, 0.6 for bare f, Z′, Z″ columns)."""
    return sniffed_score(path, "impedance")


def analyze_impedance(path: Path, settings: Mapping[str, Any]) -> AnalysisOutcome:
    """Automatic fit + KK + DRT of every spectrum of ``path`` (see the module docstring)."""
    try:
        import numpy as np

        from iondyn.eis.autofit import AutoFitter
        from iondyn.eis.drt import DRT
        from iondyn.eis.kk import LinKK
        from iondyn.eis.kk_validity import capacitive_tail
        from iondyn.io.impedance import read_impedance
    except ImportError as exc:
        raise IondynError(f"impedance analysis not available in this build ({exc})") from None

    spectra = read_impedance(path, format=settings.get("format"))
    fitter = AutoFitter(
        max_arcs=settings.get("max_arcs", 3),
        electrode=settings.get("electrode", "auto"),
        weight=settings.get("weight", "modulus"),
        thickness_cm=settings.get("thickness_cm"),
        area_cm2=settings.get("area_cm2"),
        fmin=settings.get("fmin_Hz"),
        fmax=settings.get("fmax_Hz"),
    )
    series = settings.get("series_name") or Path(path).resolve().parent.name
    docs, curves, rows, warnings, failed = [], [], [], [], []
    for i, spec in enumerate(spectra):
        temperature = settings.get("temperature_K") or spec.temperature_K
        try:
            auto = fitter.fit(spec)
        except IondynError as exc:
            failed.append({"spectrum": i, "message": str(exc)})
            continue
        fit = auto.fit
        # a blocking electrode needs a series capacitance in the KK test and the DRT too: the
        # automatic fit may model it as a huge R‖CPE arc ("electrode interface") instead of a
        # series CPE, so the data's own capacitive low-frequency end decides as well
        blocking = any(p["label"] == "electrode (blocking)" for p in auto.processes or [])
        blocking = blocking or capacitive_tail(spec) is not None
        doc = {"index": i, "temperature_K": temperature, "series": series, **auto.to_dict()}
        doc.pop("initial", None)
        if temperature is not None:
            rows.append(ParameterRow("spectrum", "temperature_K", temperature, None, "K", i))
        rows += [
            ParameterRow("circuit", n, v["value"], v["err"], v["unit"], i)
            for n, v in doc["parameters"].items()
        ]
        rows += rows_of("fit", doc["quality"], spectrum=i, skip=("nfev",))
        seen: dict[str, int] = {}
        for proc in doc.get("processes") or []:
            label = proc["label"]
            seen[label] = seen.get(label, 0) + 1
            item = label if seen[label] == 1 else f"{label} #{seen[label]}"
            proc["item"] = item
            rows += rows_of(item, proc, _UNITS, spectrum=i)
        f_fine = np.geomspace(spec.frequency.min(), spec.frequency.max(), 200)
        z_fine = fit.impedance(f_fine)
        curve = {
            "index": i,
            "temperature_K": temperature,
            "frequency_Hz": spec.frequency,
            "z_real": spec.z.real,
            "z_imag": spec.z.imag,
            "circuit": fit.circuit.string,
            "fit": {"frequency_Hz": f_fine, "z_real": z_fine.real, "z_imag": z_fine.imag},
        }
        if settings.get("kk", True):
            try:
                kk = LinKK(series_capacitance=blocking).fit(spec)
            except IondynError as exc:
                warnings.append(f"spectrum {i}: Kramers–Kronig test failed: {exc}")
            else:
                d = kk.to_dict()
                doc["kk"] = {k: d[k] for k in ("valid", "n_rc", "mu", "noise_estimate", "checks")}
                doc["kk"].update(residual_real_max=d["residual_real_max"])
                doc["kk"].update(residual_imag_max=d["residual_imag_max"])
                doc["kk"].update(series_capacitance=blocking)
                rows += rows_of("kk", doc["kk"], spectrum=i)
                doc["kk"].update(outliers=d["outliers"], warnings=d["warnings"])
                curve["kk"] = d["residuals"]
                if fit.weight == "modulus":  # the KK noise is relative to |Z| as well
                    _misfit_against_noise(fit, doc, kk.noise_estimate)
        if settings.get("drt", True):
            try:
                drt = DRT(series_capacitance=blocking).fit(spec)
            except IondynError as exc:
                warnings.append(f"spectrum {i}: DRT failed: {exc}")
            else:
                d = drt.to_dict()
                keep = ("R_inf_ohm", "C_series_F", "R_pol_ohm", "lambda", "rms_residual", "peaks")
                doc["drt"] = {k: d[k] for k in keep} | {"warnings": d["warnings"]}
                rows += rows_of("drt", doc["drt"], _UNITS, spectrum=i)
                for k, peak in enumerate(d["peaks"], start=1):
                    rows += rows_of(f"drt peak {k}", peak, _UNITS, spectrum=i)
                doc["drt"]["arcs"] = d["arcs"]
                for k, arc in enumerate(d["arcs"], start=1):
                    rows += rows_of(f"drt arc {k}", arc, _UNITS, spectrum=i, skip=("peaks",))
                curve["drt"] = {"tau_s": d["tau_s"], "gamma_ohm": d["gamma_ohm"]}
        misfit = doc["quality"].get("misfit") or {}
        rows.append(
            ParameterRow("fit", "misfit", float(bool(misfit.get("is_misfit"))), None, "", i)
        )
        if misfit.get("rms_relative") is not None:
            rows.append(
                ParameterRow("fit", "residual_rms_relative", misfit["rms_relative"], None, "", i)
            )
        warnings += [f"spectrum {i}: {w}" for w in doc.get("warnings", [])]
        docs.append(doc)
        curves.append(curve)
    if not docs:
        first = failed[0]["message"] if failed else "no spectra"
        raise IondynError(f"{path}: no spectrum could be fitted ({first})")
    warnings += [f"spectrum {f['spectrum']} not fitted: {f['message']}" for f in failed]
    warnings += _switches(docs)
    result = {"spectra": docs, "failed_spectra": failed, "series": series}
    return AnalysisOutcome(
        "impedance", result, rows, {"spectra": curves}, warnings, n_spectra=len(spectra)
    )


def _misfit_against_noise(fit, doc: dict[str, Any], noise: float) -> None:
    """Judge the fit's residuals against the Lin-KK noise estimate (:mod:`iondyn.misfit`)."""
    from iondyn.eis.fit_quality import attach_misfit

    old = (fit.misfit or {}).get("warning")
    attach_misfit(fit, noise)
    doc["quality"]["misfit"] = fit.misfit
    kept = [w for w in doc.get("warnings", []) if w != old]
    doc["warnings"] = kept + ([fit.misfit["warning"]] if fit.misfit.get("warning") else [])


def _switches(docs: list[dict[str, Any]]) -> list[str]:
    """Parameters that collapse or jump where the chosen circuit switches between the spectra
    of one file (cycles): :func:`iondyn.misfit.model_switches`."""
    from iondyn.misfit import model_switches

    fits = [(d["circuit"], {k: v["value"] for k, v in d["parameters"].items()}) for d in docs]
    out = []
    for k, message in model_switches(fits):
        docs[k].setdefault("warnings", []).append(message)
        out.append(f"spectrum {docs[k]['index']}: {message}")
    return out


def describe_impedance(result: Mapping[str, Any]) -> str:
    """One line per file: chosen circuit, χ²_red and the KK verdict of the first spectra."""
    parts = []
    for s in result.get("spectra", [])[:3]:
        kk = s.get("kk")
        verdict = "" if kk is None else (", KK valid" if kk.get("valid") else ", KK FAILED")
        if (s.get("quality", {}).get("misfit") or {}).get("is_misfit"):
            verdict += ", MISFIT"
        t = s.get("temperature_K")
        at = f" at {t:.0f} K" if isinstance(t, float | int) else ""
        parts.append(f"{s.get('circuit')}{at}{verdict}")
    more = len(result.get("spectra", [])) - 3
    return "; ".join(parts) + (f"; … {more} more spectra" if more > 0 else "")


def impedance_figures(outcome: Mapping[str, Any]) -> list[dict[str, Any]]:
    from iondyn.report.figures import impedance_figures as build

    return build(outcome)


ANALYZER = Analyzer(
    kind="impedance",
    description="automatic circuit fit (SAEM → CNLS), Lin-KK test and DRT of impedance spectra",
    version="1",
    sniff=sniff_impedance,
    analyze=analyze_impedance,
    figures=impedance_figures,
    settings=SETTINGS,
    describe=describe_impedance,
)
