"""``iondyn demo``: analyse the bundled example data (what ``make demo`` runs)."""

from __future__ import annotations

import argparse

from iondyn.cli.common import emit_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="analyse the bundled example data")
    p.add_argument("--out", default="demo_run", help="output folder (default: demo_run)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from iondyn.demo import run_demo

    result = run_demo(args.out)
    if args.json:
        emit_json(result.to_dict())
        return 0
    for step in result.steps:
        print("\n".join(step.summary))
        for f in step.files:
            print(f"  -> {f}")
        print()
    print(f"demo output in {result.out_dir}/")
    return 0
