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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "MIN_WELL_DETERMINED_SHARE",
    "choose_series_circuit",
    "series_resistance_undetermined",
    "without_series_resistance",
]

#: Share of the temperatures at which a circuit must be well determined to be chosen.
MIN_WELL_DETERMINED_SHARE = 2.0 / 3.0


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
