"""The ``iondyn`` command line: a thin layer over the library.

Each area registers its sub-commands from its own module (``peaks``, ``tsdc``, ``eis``,
``simulate``, ``pipeline``). This module builds the parser, runs the chosen command and turns
:class:`iondyn.errors.IondynError` into one line on stderr and exit code 2 (with ``--json`` an
``{"error": ...}`` document on stdout as well). Input paths that are FIFOs, devices or sockets
are refused before the command runs. Nothing here does analysis.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from iondyn.cli.common import CommandError, emit_json, error_document, refuse_special_files

# Modules under iondyn.cli that each define ``register(subparsers)``.
COMMAND_MODULES = ("peaks", "tsdc", "eis", "simulate", "pipeline", "demo", "md", "map")


def build_parser() -> argparse.ArgumentParser:
    from iondyn import __version__

    parser = argparse.ArgumentParser(
        prog="iondyn",
        description="Interfacial ion dynamics: from raw instrument files to physical parameters.",
    )
    parser.add_argument("--version", action="version", version=f"iondyn {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the Python traceback of unexpected errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"iondyn.cli.{name}")
        except ModuleNotFoundError as exc:  # an area not built yet
            if exc.name == f"iondyn.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``iondyn`` console script; returns the exit code."""
    from iondyn.errors import IondynError

    parser = build_parser()
    args = parser.parse_args(argv)
    want_json = bool(getattr(args, "json", False))
    try:
        refuse_special_files(args)  # a FIFO or /dev/zero would block or never end
        code = args.func(args)
    except (IondynError, CommandError) as exc:
        message = str(exc)
        print(f"iondyn: error: {message}", file=sys.stderr)
        if want_json:
            emit_json(error_document(exc))
        return 2
    except KeyboardInterrupt:
        print("iondyn: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"iondyn: internal error: {type(exc).__name__}: {exc} "
            "(please report it; rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        if want_json:
            emit_json(error_document(exc))
        return 3
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
