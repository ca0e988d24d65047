"""One equivalent circuit for a whole temperature series.

Choosing the circuit spectrum by spectrum lets BIC add an arc at one temperature and drop it at
the next; the arcs are then numbered differently, a process's resistance jumps between
temperatures and its activation energy is wrong although every single fit is good. A series
is one sample: its circuit is chosen once,

    C* = argmin_C Σ_T BIC_T(C),   BIC_T = 2N ln(χ²_T/2N) + k ln 2N

(the Schwarz criterion of the joint model, which is the sum over independent spectra;
Schwarz, Ann. Stat. 6, 461 (1978)), among the candidate circuits of the automatic fits
(:mod:`iondyn.eis.autofit`) that were fitted at every temperature and are *well determined*
(every arc resistance and the electrode Q known to better than 50 %) at no fewer than
:data:`MIN_WELL_DETERMINED_SHARE` of them: an arc that only noise at most temperatures
supports is not a process of the sample.

The series resistance: when R∞ is not determined at most temperatures (its value below twice
its error — the leads are negligible and the bulk arc is in the window), the circuit without it
is fitted too and kept when its summed BIC is lower (one parameter fewer per spectrum, the
same χ²): this is how the authors' circuit (R1‖Q1)-(R2‖Q2)-Q3 of a pellet series comes out.

Arcs that persist: the chosen circuit is fitted at every temperature and its arcs followed
(:mod:`iondyn.series.tracking`); when an arc is not one process across at least
:data:`MIN_WELL_DETERMINED_SHARE` of the temperatures (a feature that the BIC buys with a
different arc at each temperature — a low-frequency wiggle here, an asymmetric arc there), the
next eligible circuit is tried (at most :data:`MAX_SERIES_TRIES`), and the table says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from iondyn.series.point_fits import SeriesPoint, fit_bic, series_fits
from iondyn.series.tracking import track_arcs

__all__ = [
    "MAX_SERIES_TRIES",
    "MIN_WELL_DETERMINED_SHARE",
    "choose_series_circuit",
    "fit_series_circuit",
    "series_resistance_undetermined",
    "without_series_resistance",
]

#: Share of the temperatures at which a circuit must be well determined to be chosen (and at
#: which each of its arcs must be followed as one process).
MIN_WELL_DETERMINED_SHARE = 2.0 / 3.0

#: Eligible circuits tried in order of summed BIC until one whose arcs persist.
MAX_SERIES_TRIES = 3


def choose_series_circuit(
    tables: Sequence[Sequence[dict[str, Any]]],
) -> tuple[str, list[dict[str, Any]]]:
    """The series circuit from the candidate tables of the automatic fits (one table per
    temperature: rows with ``circuit``, ``bic``, ``well_determined``), and the series table
    (``circuit``, ``n_temperatures``, ``n_well_determined``, ``bic_sum``, ``eligible``,
    ``chosen``), lowest summed BIC first."""
    n = len(tables)
    rows: dict[str, dict[str, Any]] = {}
    for table in tables:
        for c in table:
            bic = c.get("bic")
            if not (isinstance(bic, int | float) and math.isfinite(bic)):
                continue
            row = rows.setdefault(
                c["circuit"],
                {
                    "circuit": c["circuit"],
                    "n_temperatures": 0,
                    "n_well_determined": 0,
                    "bic_sum": 0.0,
                },
            )
            row["n_temperatures"] += 1
            row["n_well_determined"] += bool(c.get("well_determined"))
            row["bic_sum"] += float(bic)
    need = max(1, math.ceil(MIN_WELL_DETERMINED_SHARE * n - 1e-9))
    out = sorted(rows.values(), key=lambda r: r["bic_sum"])
    for r in out:
        r["eligible"] = r["n_temperatures"] == n and r["n_well_determined"] >= need
        r["chosen"] = False
    eligible = [r for r in out if r["eligible"]] or [r for r in out if r["n_temperatures"] == n]
    if not eligible:
        eligible = out
    chosen = eligible[0]
    chosen["chosen"] = True
    return chosen["circuit"], out


def without_series_resistance(circuit: str) -> str | None:
    """``R0-p(R1,CPE1)-…`` without its leading series resistance (None when it has none or
    nothing would be left)."""
    if not circuit.startswith("R0-"):
        return None
    rest = circuit[len("R0-") :]
    return rest or None


def series_resistance_undetermined(fits: Sequence[Any], name: str = "R0") -> bool:
    """True when ``name`` is below twice its standard error in most of the circuit fits
    (:class:`~iondyn.eis.fit_result.CircuitFitResult`) that hold it."""
    flags = []
    for f in fits:
        if name not in f.parameters:
            continue
        value, err = f.parameters[name], f.errors.get(name, math.nan)
        flags.append(not (math.isfinite(err) and value > 2.0 * err))
    return bool(flags) and sum(flags) > len(flags) / 2


def _persistent_arcs(fits: list[SeriesPoint]) -> tuple[int, int]:
    """(arcs per spectrum, processes followed across ≥ 2/3 of the temperatures) of fits of one
    circuit: an arc of the series circuit must be one process of the sample, not a different
    feature at every temperature."""
    spectra = [
        (sp.T_K, [p for p in sp.processes if p.get("tau_s") and p.get("C_F")]) for sp in fits
    ]
    n_arcs = max((len(a) for _, a in spectra), default=0)
    need = math.ceil(MIN_WELL_DETERMINED_SHARE * len(fits) - 1e-9)
    tracks = track_arcs(spectra)
    return n_arcs, sum(len(tr.points) >= need for tr in tracks)


def _fit_series_circuit(auto, spectra, temps, fresh_points, circuit, table, warnings):
    """The series fits of ``circuit``, and of it without R∞ when R∞ is undetermined and that
    lowers the summed BIC (``table`` gets the row); returns (circuit, fits)."""
    fits = series_fits(auto, spectra, temps, fresh_points, circuit, warnings)
    alt = without_series_resistance(circuit)
    if not (alt and fits and series_resistance_undetermined([sp.auto.fit for sp in fits])):
        return circuit, fits
    alt_warn: list[str] = []
    alt_fits = series_fits(auto, spectra, temps, fresh_points, alt, alt_warn)
    bic = sum(fit_bic(sp.auto.fit) for sp in fits)
    alt_bic = sum(fit_bic(sp.auto.fit) for sp in alt_fits)
    row = {
        "circuit": alt,
        "n_temperatures": len(alt_fits),
        "bic_sum": alt_bic,
        "eligible": True,
        "chosen": False,
        "note": f"{circuit} without R0 (R0 undetermined)",
    }
    table.insert(next(i for i, r in enumerate(table) if r["circuit"] == circuit), row)
    if len(alt_fits) == len(fits) and alt_bic < bic:
        warnings += alt_warn
        return alt, alt_fits
    return circuit, fits


def fit_series_circuit(auto, spectra, temps, fresh_points, table, warnings):
    """The series circuit and its fits (in temperature order), from the series ``table`` of
    :func:`choose_series_circuit`: the eligible circuits in order of summed BIC, fitted at
    every temperature (:func:`iondyn.series.point_fits.series_fits`) until one
    whose arcs persist (:func:`_persistent_arcs`; at most :data:`MAX_SERIES_TRIES`); the table
    says which was chosen and why the others were not."""
    tried = 0
    first = None
    for row in [r for r in table if r.get("eligible")]:
        if tried == MAX_SERIES_TRIES:
            break
        tried += 1
        attempt: list[str] = []
        circuit, fits = _fit_series_circuit(
            auto, spectra, temps, fresh_points, row["circuit"], table, attempt
        )
        first = first or (circuit, fits, attempt)
        n_arcs, persistent = _persistent_arcs(fits) if fits else (0, -1)
        if fits and persistent >= n_arcs:
            break
        note = f"{n_arcs - max(persistent, 0)} of its {n_arcs} arcs are no single process"
        for r in table:
            if r["circuit"] in (row["circuit"], circuit):
                r["note"] = (r.get("note", "") + "; " if r.get("note") else "") + note
        circuit = None
    if circuit is None:  # none persists: the best, with a warning
        circuit, fits, attempt = first
        warnings.append(
            f"series circuit {circuit}: some arcs are not followed across the temperatures "
            "(a different feature at each temperature?)"
        )
    warnings += attempt
    for r in table:
        r["chosen"] = r["circuit"] == circuit
    return circuit, fits
