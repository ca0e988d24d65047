"""Arrhenius series across the stored impedance results (the ``series`` table).

Spectra are grouped by their series name (the ``series`` setting, by default the name of the
file's folder) and by process (the ``item`` of the solid-electrolyte interpretation: ``bulk``,
``grain boundary``, …). For every group with at least :data:`MIN_TEMPERATURES` distinct
temperatures, :func:`iondyn.series.fit_arrhenius` fits

    σT = A exp(−Ea / k_B T)                                  (σ from the pellet geometry)

with the conductivities' standard errors as weights. Without a geometry the conductance 1/R
(S) takes the place of σ — the same Ea, a prefactor in S·K instead of S·K/cm. Process identity
across temperatures is the label given by capacitance (Irvine, Sinclair & West, Adv. Mater. 2,
132 (1990)); a process that changes label between temperatures is split between groups.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

from iondyn.pipeline.store import ResultStore, now_iso

__all__ = ["MIN_TEMPERATURES", "SKIPPED_LABELS", "collect_points", "update_series"]

MIN_TEMPERATURES = 3

#: Not a process of the material: the leads' resistance when a bulk arc was resolved (when none
#: was, :mod:`iondyn.eis.solid` labels R∞ "bulk (high-frequency intercept)" and it is kept).
SKIPPED_LABELS = ("series resistance (R∞)",)


def collect_points(store: ResultStore) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """``{(series, item, quantity): [{T_K, value, error, file, spectrum}, …]}`` from the current
    ok impedance files."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    rows = store.query(
        "SELECT path, result_json FROM current_files WHERE kind = 'impedance' AND status = 'ok'"
    )
    for row in rows:
        doc = json.loads(row["result_json"])
        for spec in doc.get("spectra", []):
            t = spec.get("temperature_K")
            if not isinstance(t, int | float) or t <= 0:
                continue
            series = spec.get("series") or doc.get("series") or ""
            for proc in spec.get("processes") or []:
                if proc.get("label") in SKIPPED_LABELS:
                    continue
                point = _point(proc)
                if point is None:
                    continue
                quantity, value, error = point
                groups[(series, proc.get("item") or proc["label"], quantity)].append(
                    {
                        "T_K": float(t),
                        "value": value,
                        "error": error,
                        "file": row["path"],
                        "spectrum": spec.get("index", 0),
                    }
                )
    return groups


def _point(proc: dict[str, Any]) -> tuple[str, float, float | None] | None:
    sigma = proc.get("sigma_S_per_cm")
    if isinstance(sigma, int | float) and sigma > 0:
        err = proc.get("sigma_S_per_cm_err")
        return "sigma_S_per_cm", float(sigma), _positive(err)
    r = proc.get("R_ohm")
    if isinstance(r, int | float) and r > 0:
        err = _positive(proc.get("R_ohm_err"))
        return "conductance_S", 1.0 / r, None if err is None else err / r**2
    return None


def _positive(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and math.isfinite(v) and v > 0 else None


def update_series(store: ResultStore) -> int:
    """Refit every series and replace the ``series`` table (one transaction); returns the
    number of fits stored."""
    import numpy as np

    from iondyn.errors import IondynError
    from iondyn.series import fit_arrhenius

    rows = []
    for (series, item, quantity), points in sorted(collect_points(store).items()):
        points.sort(key=lambda p: p["T_K"])
        t = np.array([p["T_K"] for p in points])
        if np.unique(t).size < MIN_TEMPERATURES:
            continue
        v = np.array([p["value"] for p in points])
        errs = [p["error"] for p in points]
        e = None if any(x is None for x in errs) else np.array(errs, dtype=float)
        try:
            fit = fit_arrhenius(t, v, e, convention="sigma_T")
        except IondynError as exc:
            fit, warnings = None, [str(exc)]
        else:
            warnings = list(fit.warnings)
        unit = "S·K/cm" if quantity == "sigma_S_per_cm" else "S·K"
        rows.append(
            (
                series,
                item,
                quantity,
                "sigma_T",
                len(points),
                None if fit is None else fit.Ea_eV,
                None if fit is None else fit.Ea_eV_err,
                None if fit is None else fit.ln_prefactor,
                None if fit is None else fit.ln_prefactor_err,
                unit,
                None if fit is None else fit.r2,
                None if fit is None else fit.chi2_reduced,
                json.dumps(points),
                json.dumps(warnings),
                now_iso(),
            )
        )
    with store.transaction() as db:
        db.execute("DELETE FROM series")
        db.executemany(
            "INSERT INTO series VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [tuple(_finite(x) for x in r) for r in rows],
        )
    return len(rows)


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
