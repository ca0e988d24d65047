"""The self-contained interactive HTML report of a run folder: ``iondyn report RUN_DIR``.

One HTML file, readable without a network: Plotly's JavaScript is embedded once (from the
installed ``plotly`` package), every figure is a JSON object rendered into its own ``div``
(zoom, pan, hover), tables sort on a click on their header (a few lines of plain JavaScript).

Sections: the run(s) and counts; Arrhenius series; parameter tables per kind (headers in words
with units, values rounded by their errors, undetermined ones marked: :mod:`.tables`); one
section per file with its plots (the first ``max_files`` ok files by path; the tables list
every file); the errors, grouped by pattern and file by file.

For automated checks the page writes its own verdict into ``<div id="iondyn-status">``:
``data-state="ok"`` when every plot ``div`` holds a rendered Plotly SVG and no JavaScript
error was raised, with ``data-plots``, ``data-rendered``, ``data-errors`` (a JSON list) and
``data-overflow`` (:mod:`.assets`).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iondyn.display import quantity_label
from iondyn.pipeline.store import ResultStore, decompress_json, group_errors, now_iso
from iondyn.report.assets import CSS, PAGE_JS, PRELUDE_JS
from iondyn.report.tables import cell as _num
from iondyn.report.tables import escape as _e
from iondyn.report.tables import fmt as _fmt
from iondyn.report.tables import parameter_cell as _parameter_cell
from iondyn.report.tables import table as _table

__all__ = ["ReportResult", "build_report", "write_report"]

#: Parameter-table columns per kind: which items (prefix match; ``None`` = all not excluded)
#: and which names.
TABLE_COLUMNS: dict[str, dict[str, Any]] = {
    "peaks": {"items": ("peak ",), "names": ("center", "fwhm", "area", "height")},
    "impedance": {
        "items": None,
        "exclude": ("circuit", "fit", "kk", "drt", "spectrum"),
        "names": ("R_ohm", "C_F", "n", "tau_s", "sigma_S_per_cm", "eps_r"),
    },
    "tsdc": {
        "items": ("peak ",),
        "names": (
            "Tm_K",
            "Ea_eV",
            "tau0_s",
            "P0",
            "sigma_E_eV",
            "initial_rise_Ea_eV",
            "bucci_fieschi_Ea_eV",
        ),
    },
}
MAX_TABLE_ROWS = 5000


@dataclass
class ReportResult:
    path: str
    bytes: int
    files: int
    plots: int
    errors: int
    files_with_plots: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": self.path,
            "bytes": self.bytes,
            "files": self.files,
            "plots": self.plots,
            "errors": self.errors,
            "files_with_plots": self.files_with_plots,
        }


def _time(iso: str | None) -> str:
    """``2026-01-02T03:04:05.678+00:00`` → ``2026-01-02 03:04:05 UTC``."""
    return "–" if not iso else f"{iso[:19].replace('T', ' ')} UTC"


class _Figures:
    """Collects figure dicts and hands out their div ids."""

    def __init__(self) -> None:
        self.figures: dict[str, dict[str, Any]] = {}

    def div(self, figure: dict[str, Any]) -> str:
        fid = f"fig-{len(self.figures) + 1}"
        wide = bool(figure.pop("wide", False))
        self.figures[fid] = figure
        cls = "iondyn-plot wide" if wide else "iondyn-plot"
        return f'<div class="{cls}" id="{fid}"></div>'


def _run_section(store: ResultStore) -> str:
    runs = store.query("SELECT * FROM runs ORDER BY id")
    rows = [
        [
            (str(r["id"]), r["id"]),
            _time(r["started"]),
            _time(r["finished"]),
            r["status"],
            f"{r['executor']} ({r['workers']})",
            (str(r["ok"] if r["ok"] is not None else "–"), r["ok"]),
            (str(r["error"] if r["error"] is not None else "–"), r["error"]),
            (str(r["skipped"] if r["skipped"] is not None else "–"), r["skipped"]),
            (f"{r['seconds']:.1f}" if r["seconds"] is not None else "–", r["seconds"]),
            r["command"] or "",
        ]
        for r in runs
    ]
    counts = store.query(
        "SELECT kind, status, COUNT(*) AS n FROM current_files GROUP BY kind, status ORDER BY kind"
    )
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: {"ok": 0, "error": 0})
    for r in counts:
        by_kind[r["kind"]][r["status"]] = r["n"]
    count_rows = [
        [k, (str(v["ok"]), v["ok"]), (str(v["error"]), v["error"])] for k, v in by_kind.items()
    ]
    header = [
        "run",
        "started",
        "finished",
        "status",
        "executor",
        "ok",
        "error",
        "skipped",
        "s",
        "command",
    ]
    return (
        '<section id="summary"><h2>Summary</h2>'
        + _table(["kind", "ok", "error"], count_rows)
        + "<h3>Runs</h3>"
        + _table(header, rows)
        + "</section>"
    )


def _series_section(store: ResultStore, figs: _Figures) -> str:
    from iondyn.report.figures import arrhenius_figure

    rows = store.query("SELECT * FROM series ORDER BY series, item")
    if not rows:
        return ""
    fits: dict[str, list[dict[str, Any]]] = defaultdict(list)
    table = []
    for r in rows:
        d = dict(r)
        d["points"] = json.loads(r["points_json"])
        fits[r["series"]].append(d)
        t = [p["T_K"] for p in d["points"]]
        prefactor = None if r["ln_prefactor"] is None else math.exp(r["ln_prefactor"])
        table.append(
            [
                r["series"],
                r["item"],
                quantity_label(r["quantity"]),
                (str(r["n_points"]), r["n_points"]),
                (f"{min(t):.0f}–{max(t):.0f}", min(t)),
                _num(r["Ea_eV"], r["Ea_eV_err"]),
                (f"{_fmt(prefactor)} {r['prefactor_unit']}", prefactor),
                ("–" if r["r2"] is None else f"{r['r2']:.5f}", r["r2"]),
                "; ".join(json.loads(r["warnings_json"])),
            ]
        )
    plots = "".join(figs.div(arrhenius_figure(name, group)) for name, group in fits.items())
    header = [
        "series",
        "process",
        "quantity",
        "points",
        "T (K)",
        "Ea (eV)",
        "prefactor A",
        "R²",
        "warnings",
    ]
    return (
        '<section id="series"><h2>Temperature series (Arrhenius, σT = A exp(−Ea/k_B T))</h2>'
        f'<div class="grid">{plots}</div>' + _table(header, table) + "</section>"
    )


def _parameter_tables(store: ResultStore) -> str:
    parts = []
    kinds = [
        r["kind"] for r in store.query("SELECT DISTINCT kind FROM current_files ORDER BY kind")
    ]
    for kind in kinds:
        spec = TABLE_COLUMNS.get(kind, {"items": None, "names": None})
        rows = store.query(
            "SELECT p.path, p.file, p.spectrum, p.item, p.name, p.value, p.error, p.unit "
            "FROM parameter_table p WHERE p.kind = ? ORDER BY p.path, p.spectrum, p.item",
            (kind,),
        )
        if not rows:
            continue
        grouped: dict[tuple, dict[str, tuple]] = {}
        temps: dict[tuple, float] = {}
        units: dict[str, str] = {}
        for r in rows:
            if r["item"] == "spectrum" and r["name"] == "temperature_K":
                temps[(r["path"], r["spectrum"])] = r["value"]
            items = spec.get("items")
            if items is not None and not r["item"].startswith(items):
                continue
            excluded = spec.get("exclude", ())
            if r["item"] in excluded or r["item"].startswith(("drt peak", "drt arc")):
                continue
            grouped.setdefault((r["path"], r["file"], r["spectrum"], r["item"]), {})[r["name"]] = (
                r["value"],
                r["error"],
            )
            units.setdefault(r["name"], r["unit"])
        names = spec.get("names") or sorted(units)[:8]
        names = [n for n in names if n in units]
        header = ["file", "spectrum", "item"] + (["T (K)"] if temps else [])
        header += [quantity_label(n, units[n]) for n in names]
        table = []
        for (path, file, spectrum, item), values in list(grouped.items())[:MAX_TABLE_ROWS]:
            row: list[Any] = [file, (str(spectrum), spectrum), item]
            if temps:
                t = temps.get((path, spectrum))
                row.append((_fmt(t), t))
            for n in names:
                v, err = values.get(n, (None, None))
                row.append(_parameter_cell(n, v, err, values))
            table.append(row)
        note = ""
        if len(grouped) > MAX_TABLE_ROWS:
            note = (
                f"<p class='note'>first {MAX_TABLE_ROWS} of {len(grouped)} rows; "
                "<code>iondyn export</code> writes them all</p>"
            )
        parts.append(f"<h3>{_e(kind)}</h3>" + _table(header, table) + note)
    if not parts:
        return ""
    return '<section id="parameters"><h2>Parameters</h2>' + "".join(parts) + "</section>"


def _files_section(store: ResultStore, figs: _Figures, max_files: int) -> tuple[str, int]:
    from iondyn.pipeline.kinds import analyzers

    registry = analyzers()
    listing = store.query(
        "SELECT id, path, name, kind, status, message, n_spectra, n_warnings, seconds "
        "FROM current_files ORDER BY path"
    )
    overview = [
        [
            r["name"],
            r["kind"],
            r["status"],
            (str(r["n_spectra"] or 0), r["n_spectra"] or 0),
            (str(r["n_warnings"] or 0), r["n_warnings"] or 0),
            (f"{r['seconds'] or 0:.2f}", r["seconds"] or 0.0),
            r["message"] if r["status"] == "ok" else "",
        ]
        for r in listing[:MAX_TABLE_ROWS]
    ]
    header = ["file", "kind", "status", "spectra", "warnings", "s", "summary"]
    parts = ['<section id="files"><h2>Files</h2>', _table(header, overview)]
    shown = 0
    for r in listing:
        if r["status"] != "ok" or r["kind"] not in registry or shown >= max_files:
            continue
        row = store.query("SELECT result_json, curves FROM files WHERE id = ?", (r["id"],))[0]
        result = json.loads(row["result_json"])
        outcome = {
            "path": r["path"],
            "name": r["name"],
            "kind": r["kind"],
            "result": result,
            "curves": decompress_json(row["curves"]),
        }
        try:
            figures = registry[r["kind"]].figures(outcome)
        except Exception as exc:  # a broken figure must not lose the report
            figures = []
            note = f"<p class='warn'>plots failed: {_e(type(exc).__name__)}: {_e(exc)}</p>"
        else:
            note = ""
        warnings = result.get("warnings") or []
        warn = "".join(f"<li>{_e(w)}</li>" for w in warnings[:20])
        parts.append(
            f'<article class="file"><h3>{_e(r["name"])} <span class="kind">{_e(r["kind"])}'
            f'</span></h3><p class="path">{_e(r["path"])}</p><p>{_e(r["message"])}</p>'
            + (f"<ul class='warnings'>{warn}</ul>" if warn else "")
            + note
            + '<div class="grid">'
            + "".join(figs.div(f) for f in figures)
            + "</div></article>"
        )
        shown += 1
    ok_total = sum(1 for r in listing if r["status"] == "ok")
    if ok_total > shown:
        parts.append(
            f"<p class='note'>plots of {shown} of {ok_total} analysed files "
            "(<code>iondyn report --max-files N</code> for more)</p>"
        )
    parts.append("</section>")
    return "".join(parts), shown


def _errors_section(store: ResultStore) -> tuple[str, int]:
    rows = [
        dict(r)
        for r in store.query(
            "SELECT path, name, kind, error_type, message FROM current_files "
            "WHERE status = 'error' ORDER BY path"
        )
    ]
    if not rows:
        return '<section id="errors"><h2>Errors</h2><p>none</p></section>', 0
    groups = group_errors(rows, limit=20)
    top = [
        [(str(g["count"]), g["count"]), g["kind"], g["type"], g["pattern"], g["example_file"]]
        for g in groups
    ]
    each = [[r["name"], r["kind"], r["error_type"], r["message"]] for r in rows[:MAX_TABLE_ROWS]]
    body = (
        '<section id="errors"><h2>Errors</h2><h3>Most common</h3>'
        + _table(["count", "kind", "type", "error", "example"], top)
        + "<h3>Every file</h3>"
        + _table(["file", "kind", "type", "message"], each)
        + "</section>"
    )
    return body, len(rows)


def build_report(store: ResultStore, max_files: int = 60) -> tuple[str, dict[str, int]]:
    """The page and its counts (``files``, ``plots``, ``errors``, ``files_with_plots``)."""
    from plotly.offline import get_plotlyjs

    from iondyn import __version__

    figs = _Figures()
    summary = _run_section(store)
    series = _series_section(store, figs)
    params = _parameter_tables(store)
    files, shown = _files_section(store, figs, max_files)
    errors, n_errors = _errors_section(store)
    n_files = store.query("SELECT COUNT(*) AS n FROM current_files")[0]["n"]
    figure_json = json.dumps(figs.figures, separators=(",", ":"), allow_nan=False)
    figure_json = figure_json.replace("</", "<\\/")
    nav = "".join(
        f'<a href="#{anchor}">{label}</a>'
        for anchor, label, present in (
            ("summary", "Summary", True),
            ("series", "Series", bool(series)),
            ("parameters", "Parameters", bool(params)),
            ("files", "Files", True),
            ("errors", f"Errors ({n_errors})", True),
        )
        if present
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>iondyn report: {_e(store.run_dir.name)}</title>
<script>{PRELUDE_JS}</script>
<style>{CSS}</style>
<script>{get_plotlyjs()}</script>
</head><body>
<header><h1>iondyn report</h1>
<p>{_e(store.run_dir.resolve())} · {n_files} files · generated {_e(now_iso())} by iondyn
{_e(__version__)} · store schema {store.schema_version()}</p><nav>{nav}</nav>
<div id="iondyn-status" data-state="pending">rendering plots…</div></header>
<main>{summary}{series}{params}{files}{errors}</main>
<script type="application/json" id="iondyn-figures">{figure_json}</script>
<script>{PAGE_JS}</script>
</body></html>
"""
    stats = {"files": n_files, "plots": len(figs.figures), "errors": n_errors, "shown": shown}
    return page, stats


def write_report(run_dir: str | Path, out: str | Path | None = None, max_files: int = 60):
    """Write the report of ``run_dir`` to ``out`` (default ``RUN_DIR/report.html``)."""
    from iondyn.errors import InputError

    with ResultStore(run_dir) as store:
        page, stats = build_report(store, max_files)
    target = Path(out) if out is not None else Path(run_dir) / "report.html"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{target}: cannot write the report ({exc.strerror})") from None
    return ReportResult(
        str(target),
        target.stat().st_size,
        stats["files"],
        stats["plots"],
        stats["errors"],
        stats["shown"],
    )
