"""Arrhenius series across the stored impedance results (the ``series`` table).

Spectra are grouped by their series name (the ``series_name`` setting, by default the name of
the file's folder). A series with at least :data:`MIN_TEMPERATURES` distinct temperatures is
analysed by the same logic as ``iondyn eis series``
(:func:`iondyn.series.temperature.fit_temperature_series`): one circuit for the whole series
(summed BIC), processes followed by continuity of τ(T) and C and labelled by their
capacitance ratio, and per process

    σT = A exp(−Ea / k_B T)                                  (σ from the pellet geometry)

with the conductivities' standard errors as weights. Without a geometry the cell constant is
taken as 1 cm⁻¹: the conductance 1/R (S) takes the place of σ — the same Ea, a prefactor in
S·K instead of S·K/cm (``quantity`` = ``conductance_S``). The spectra are read again from their
files; a series whose files changed or disappeared since they were analysed, or whose members
disagree on the geometry or fit settings, falls back to the stored per-file results (each
file's own circuit and labels) with a warning saying why. Results are cached per series in the
``meta`` table under a digest of its members, so an unchanged series is not refitted.
"""

from __future__ import annotations

import hashlib
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

#: Settings that must agree across a series for one joint fit.
_SHARED = ("thickness_cm", "area_cm2", "max_arcs", "electrode", "weight", "fmin_Hz", "fmax_Hz")


def _members(store: ResultStore) -> dict[str, list[dict[str, Any]]]:
    """``{series: [{path, sha256, spectrum, T_K, settings, doc}, …]}`` of the ok impedance
    spectra that have a temperature."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = store.query(
        "SELECT path, sha256, settings_json, result_json FROM current_files "
        "WHERE kind = 'impedance' AND status = 'ok'"
    )
    for row in rows:
        doc = json.loads(row["result_json"])
        settings = json.loads(row["settings_json"] or "{}")
        for spec in doc.get("spectra", []):
            t = spec.get("temperature_K")
            if not isinstance(t, int | float) or t <= 0:
                continue
            series = spec.get("series") or doc.get("series") or ""
            groups[series].append(
                {
                    "path": row["path"],
                    "sha256": row["sha256"],
                    "spectrum": spec.get("index", 0),
                    "T_K": float(t),
                    "settings": settings,
                    "doc": spec,
                }
            )
    return groups


def collect_points(store: ResultStore) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """``{(series, item, quantity): [{T_K, value, error, file, spectrum}, …]}`` from each
    file's own result (the fallback of :func:`update_series`)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for series, members in _members(store).items():
        groups.update(_stored_points(series, members))
    return groups


def _stored_points(series: str, members: list[dict[str, Any]]):
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for m in members:
        for proc in m["doc"].get("processes") or []:
            if proc.get("label") in SKIPPED_LABELS:
                continue
            point = _point(proc)
            if point is None:
                continue
            quantity, value, error = point
            groups[(series, proc.get("item") or proc["label"], quantity)].append(
                {
                    "T_K": m["T_K"],
                    "value": value,
                    "error": error,
                    "file": m["path"],
                    "spectrum": m["spectrum"],
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


def _digest(members: list[dict[str, Any]]) -> str:
    key = sorted(
        (m["path"], m["sha256"], m["spectrum"], m["T_K"], json.dumps(m["settings"], sort_keys=True))
        for m in members
    )
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


def _joint_rows(series: str, members: list[dict[str, Any]]) -> list[tuple]:
    """Rows of the ``series`` table from one joint fit of the series (raises
    :class:`~iondyn.errors.IondynError` saying why it cannot be done)."""
    from iondyn.errors import IondynError
    from iondyn.io.impedance import read_impedance
    from iondyn.pipeline.task import file_sha256
    from iondyn.series.temperature import fit_temperature_series

    shared = {k: members[0]["settings"].get(k) for k in _SHARED}
    for m in members[1:]:
        differ = [k for k in _SHARED if m["settings"].get(k) != shared[k]]
        if differ:
            raise IondynError(f"its files have different settings ({', '.join(differ)})")
    spectra, temps, cache = [], [], {}
    for m in members:
        if m["path"] not in cache:
            try:
                sha, _ = file_sha256(m["path"])
            except OSError as exc:
                raise IondynError(f"{m['path']} cannot be read again ({exc.strerror})") from None
            if sha != m["sha256"]:
                raise IondynError(f"{m['path']} changed since it was analysed")
            cache[m["path"]] = read_impedance(m["path"], format=m["settings"].get("format"))
        spectra.append(cache[m["path"]][m["spectrum"]])
        temps.append(m["T_K"])
    geometry = shared["thickness_cm"] is not None and shared["area_cm2"] is not None
    quantity = "sigma_S_per_cm" if geometry else "conductance_S"
    result = fit_temperature_series(
        spectra,
        temps,
        shared["thickness_cm"] if geometry else 1.0,
        shared["area_cm2"] if geometry else 1.0,
        max_arcs=shared["max_arcs"] or 3,
        electrode=shared["electrode"] or "auto",
        weight=shared["weight"] or "modulus",
        fmin=shared["fmin_Hz"],
        fmax=shared["fmax_Hz"],
        at_K=(),
    )
    note = [f"series circuit {result.circuit} (lowest BIC summed over the temperatures)"]
    if result.circuit is None:
        note = ["each spectrum's own circuit"]
    rows = []
    for proc in result.processes:
        a = proc.arrhenius
        if a is None:
            continue
        points = [
            {
                "T_K": p["T_K"],
                "value": p["sigma_S_per_cm"],
                "error": p["sigma_S_per_cm_err"],
                "file": p["source"],
                "spectrum": p["spectrum"],
                "circuit": result.circuit,
            }
            for p in proc.points
        ]
        rows.append(
            _row(series, proc.label, quantity, len(points), a, points, note + proc.warnings)
        )
    return rows


def _row(series, item, quantity, n, fit, points, warnings) -> tuple:
    unit = "S·K/cm" if quantity == "sigma_S_per_cm" else "S·K"
    return (
        series,
        item,
        quantity,
        "sigma_T",
        n,
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


def _fallback_rows(series: str, members: list[dict[str, Any]], why: str) -> list[tuple]:
    import numpy as np

    from iondyn.errors import IondynError
    from iondyn.series import fit_arrhenius

    rows = []
    for (_, item, quantity), points in sorted(_stored_points(series, members).items()):
        points.sort(key=lambda p: p["T_K"])
        t = np.array([p["T_K"] for p in points])
        if np.unique(t).size < MIN_TEMPERATURES:
            continue
        v = np.array([p["value"] for p in points])
        errs = [p["error"] for p in points]
        e = None if any(x is None for x in errs) else np.array(errs, dtype=float)
        warnings = [f"no joint fit of the series ({why}): each file's own circuit and labels"]
        try:
            fit = fit_arrhenius(t, v, e, convention="sigma_T")
        except IondynError as exc:
            fit, warnings = None, [*warnings, str(exc)]
        else:
            warnings += list(fit.warnings)
        rows.append(_row(series, item, quantity, len(points), fit, points, warnings))
    return rows


def update_series(store: ResultStore) -> int:
    """Refit every series and replace the ``series`` table (one transaction); returns the
    number of fits stored."""
    from iondyn.errors import IondynError

    rows: list[tuple] = []
    cached = {
        r["key"]: json.loads(r["value"])
        for r in store.query("SELECT key, value FROM meta WHERE key LIKE 'series:%'")
    }
    fresh_cache: dict[str, str] = {}
    for series, members in sorted(_members(store).items()):
        if len({m["T_K"] for m in members}) < MIN_TEMPERATURES:
            continue
        members.sort(key=lambda m: (m["T_K"], m["path"], m["spectrum"]))
        key, digest = f"series:{series}", _digest(members)
        hit = cached.get(key)
        if hit is not None and hit.get("digest") == digest:
            series_rows = [tuple(r) for r in hit["rows"]]
        else:
            try:
                series_rows = _joint_rows(series, members)
            except (IondynError, IndexError) as exc:
                series_rows = _fallback_rows(series, members, str(exc))
        fresh_cache[key] = json.dumps(
            {"digest": digest, "rows": [[_finite(x) for x in r] for r in series_rows]}
        )
        rows += series_rows
    rows += _md_rows(store)
    with store.transaction() as db:
        db.execute("DELETE FROM series")
        db.executemany(
            "INSERT INTO series VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [tuple(_finite(x) for x in r) for r in rows],
        )
        db.execute("DELETE FROM meta WHERE key LIKE 'series:%'")
        db.executemany("INSERT INTO meta VALUES (?, ?)", list(fresh_cache.items()))
    return len(rows)


def _md_rows(store: ResultStore) -> list[tuple]:
    """Rows of the molecular-dynamics series, D(T) and σ(T) of every MD series with ≥ 3
    temperatures (:func:`iondyn.pipeline.analyzers_md.series_rows`; apart from the impedance
    logic above)."""
    from iondyn.pipeline.analyzers_md import series_rows

    return series_rows(store)


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
