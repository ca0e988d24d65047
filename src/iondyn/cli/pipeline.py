"""``iondyn analyze``, ``iondyn export`` and ``iondyn report``: the batch tool.

    iondyn analyze INPUTS... --out RUN_DIR [--workers N] [--cluster local | --scheduler ADDR]
        [--config CONFIG.toml] [--kind KIND] [--exclude PATTERN ...] [--retry-errors]
        [--timeout S] [--connect-timeout S] [--json]
    iondyn export RUN_DIR --format csv|parquet --out PATH [--all] [--json]
    iondyn report RUN_DIR [--out report.html] [--max-files N] [--json]

Exit codes of ``analyze``: 0 when the batch ran (even with some files in error), 1 when files
were analysed and none of the inputs has an ok result, 2 for usage errors (a path that does
not exist, a bad config, a locked run folder, a scheduler that does not answer), 130 when
interrupted (what was stored stays stored; rerun the same command to resume).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from iondyn.cli.common import (
    Progress,
    emit_json,
    format_table,
    non_negative_int,
    positive_float,
    positive_int,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    a = subparsers.add_parser(
        "analyze",
        help="analyse folders of instrument files into a resumable results store",
        description=(
            "Sniff every file's kind (impedance, TSDC, peak spectrum), run its default "
            "analysis in parallel and store each outcome in RUN_DIR/results.sqlite. Rerunning "
            "the command skips what is done; a killed run resumes; bad files are recorded as "
            "errors and the batch goes on."
        ),
    )
    a.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders or glob patterns")
    a.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder (created)")
    a.add_argument(
        "--workers",
        type=non_negative_int,
        default=None,
        metavar="N",
        help="worker processes (default: the CPUs available; 0: in this process)",
    )
    where = a.add_mutually_exclusive_group()
    where.add_argument(
        "--cluster", choices=("local",), help="start a Dask LocalCluster of --workers processes"
    )
    where.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="send the tasks to this Dask scheduler"
    )
    a.add_argument("--config", metavar="CONFIG.toml", help="settings per kind and per pattern")
    a.add_argument("--kind", help="force the kind of every file (peaks, impedance, tsdc)")
    a.add_argument(
        "--exclude",
        nargs="+",
        action="extend",
        default=[],
        metavar="PATTERN",
        help="leave out files matching these patterns (e.g. '*.png')",
    )
    a.add_argument(
        "--retry-errors", action="store_true", help="analyse again files stored as errors"
    )
    a.add_argument(
        "--timeout",
        type=positive_float,
        metavar="S",
        help="stop one file's analysis after S seconds (local pool only)",
    )
    a.add_argument(
        "--connect-timeout",
        type=positive_float,
        default=10.0,
        metavar="S",
        help="how long to wait for a Dask scheduler (default 10 s)",
    )
    a.add_argument("--json", action="store_true", help="print one JSON document (the summary)")
    a.set_defaults(func=run_analyze)

    e = subparsers.add_parser("export", help="export the tables of a run folder (CSV, Parquet)")
    e.add_argument("run_dir", metavar="RUN_DIR")
    e.add_argument("--format", choices=("csv", "parquet"), default="csv")
    e.add_argument("--out", required=True, metavar="PATH", help="folder for the tables")
    e.add_argument(
        "--all", action="store_true", help="every stored row, not only each path's latest"
    )
    e.add_argument("--json", action="store_true", help="print one JSON document")
    e.set_defaults(func=run_export)

    r = subparsers.add_parser("report", help="write the interactive HTML report of a run")
    r.add_argument("run_dir", metavar="RUN_DIR")
    r.add_argument("--out", metavar="report.html", help="default: RUN_DIR/report.html")
    r.add_argument(
        "--max-files",
        type=positive_int,
        default=60,
        metavar="N",
        help="files shown with plots (default 60; tables list every file)",
    )
    r.add_argument("--json", action="store_true", help="print one JSON document")
    r.set_defaults(func=run_report)


def _command_line() -> str:
    return shlex.join(["iondyn", *sys.argv[1:]])


def run_analyze(args: argparse.Namespace) -> int:
    from iondyn.pipeline.analyze import run_batch

    bar: Progress | None = None
    started = time.monotonic()  # the rate counts from here, not from the first file done

    def on_progress(done: int, total: int, record) -> None:
        nonlocal bar
        if bar is None:
            enabled = not args.json and sys.stderr.isatty()
            bar = Progress(total, "analyze", enabled=enabled, start=started)
        bar.update()

    try:
        summary = run_batch(
            args.inputs,
            args.out,
            workers=args.workers,
            cluster=args.cluster,
            scheduler=args.scheduler,
            config=args.config,
            kind=args.kind,
            exclude=args.exclude,
            retry_errors=args.retry_errors,
            timeout=args.timeout,
            connect_timeout=args.connect_timeout,
            command=_command_line(),
            on_progress=on_progress,
        )
    finally:
        if bar is not None:
            bar.close()
    code = 1 if summary.all_failed else 0
    if args.json:
        emit_json(summary.to_dict())
        return code
    print(_summary_text(summary.to_dict()))
    return code


def _summary_text(d: dict) -> str:
    lines = [
        f"{d['files']} file(s): {d['ok']} ok, {d['error']} error, {d['skipped']} skipped "
        f"(already stored) in {d['seconds']:.1f} s on {d['executor']} ({d['workers']} workers)"
    ]
    if d.get("ignored"):
        lines.append(f"{d['ignored']} documentation file(s) left out (README, NOTICE, *.md, …)")
    if d["by_kind"]:
        per = ", ".join(f"{k}: {v['ok']} ok / {v['error']} error" for k, v in d["by_kind"].items())
        lines.append(f"by kind: {per}")
    s = d["store_counts"]
    lines.append(f"run folder now holds {s.get('ok', 0)} ok and {s.get('error', 0)} error files")
    if d["series"]:
        lines.append(f"{d['series']} Arrhenius series fitted")
    if d["top_errors"]:
        lines.append("")
        lines.append("most common errors:")
        rows = [
            (e["count"], e["kind"], _clip(e["pattern"], 70), _clip(e["example_file"], 40, True))
            for e in d["top_errors"]
        ]
        lines.append(format_table(rows, ["count", "kind", "error", "example"]))
    lines.append("")
    lines.append(f"results: {d['store']}")
    lines.append(f"report:  iondyn report {shlex.quote(d['run_dir'])}")
    return "\n".join(lines)


def _clip(text: str | None, n: int, left: bool = False) -> str:
    text = text or ""
    if len(text) <= n:
        return text
    return "…" + text[-(n - 1) :] if left else text[: n - 1] + "…"


def run_export(args: argparse.Namespace) -> int:
    from iondyn.pipeline.export import export_tables

    result = export_tables(args.run_dir, args.format, args.out, all_rows=args.all)
    if args.json:
        emit_json(result.to_dict())
        return 0
    for name, t in result.tables.items():
        print(f"{name:10s} {t['rows']:8d} rows -> {t['path']}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from iondyn.report.html import write_report

    result = write_report(args.run_dir, args.out, max_files=args.max_files)
    if args.json:
        emit_json(result.to_dict())
        return 0
    print(
        f"report: {result.path} ({result.bytes / 1e6:.1f} MB, {result.files} files, "
        f"{result.plots} plots, {result.errors} errors listed)"
    )
    return 0
