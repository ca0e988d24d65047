"""``iondyn demo``: analyse the bundled example data and write the report (``make demo``)."""

from __future__ import annotations

import argparse

from iondyn.cli.common import emit_json, non_negative_int


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="analyse the bundled example data and write the interactive report",
        description=(
            "Runs 'iondyn analyze' on the example files bundled with iondyn (XPS, TSDC, "
            "impedance) plus a simulated pellet temperature series, then 'iondyn report'."
        ),
    )
    p.add_argument("--out", default="demo_run", help="output folder (default: demo_run)")
    p.add_argument(
        "--workers",
        type=non_negative_int,
        default=None,
        help="worker processes (default: the CPUs)",
    )
    p.add_argument(
        "--walkthroughs",
        action="store_true",
        help="also fit the XPS and TSDC examples one by one and save matplotlib figures",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from iondyn.demo import run_demo

    result = run_demo(args.out, workers=args.workers, walkthroughs=args.walkthroughs)
    if args.json:
        emit_json(result.to_dict())
        return 0
    for step in result.steps:
        print("\n".join(step.summary))
        for f in step.files:
            print(f"  -> {f}")
        print()
    print(f"demo output in {result.out_dir}/ (open the report in a browser)")
    return 0
