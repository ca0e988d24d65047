"""``iondyn eis …``: impedance commands.

Each sub-command lives in a module of its own (``eis_read``, ``eis_fit``, ``eis_kk``,
``eis_drt``, ``eis_series``) exposing ``register(subparsers)``; this module only groups them.
"""

from __future__ import annotations

import argparse
import importlib

SUBCOMMAND_MODULES = ("eis_read", "eis_fit", "eis_kk", "eis_drt", "eis_series")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eis",
        help="impedance spectra: read, fit circuits, Kramers–Kronig, DRT, temperature series",
        description="Electrochemical impedance spectroscopy.",
    )
    sub = parser.add_subparsers(dest="eis_command", metavar="EIS_COMMAND")
    sub.required = True
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"iondyn.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"iondyn.cli.{name}":
                continue
            raise
        module.register(sub)
