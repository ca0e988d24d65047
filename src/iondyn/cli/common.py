"""Helpers shared by the CLI modules: JSON output, tables, progress, argument types."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import numpy as np

from iondyn.serialize import to_jsonable


class CommandError(Exception):
    """A usage problem detected by the CLI itself (reported as one line, exit code 2)."""


def emit_json(document: Any, stream: TextIO | None = None) -> None:
    """Print exactly one JSON document (and a newline) on stdout."""
    stream = sys.stdout if stream is None else stream
    json.dump(to_jsonable(document), stream, allow_nan=False)
    stream.write("\n")
    stream.flush()


def error_document(exc: BaseException) -> dict[str, Any]:
    doc: dict[str, Any] = {"error": {"type": type(exc).__name__, "message": str(exc)}}
    path = getattr(exc, "path", None)
    if path is not None:
        doc["error"]["source"] = path
    return doc


#: Argument names (``args.<name>``) that hold input paths read by the commands.
INPUT_PATH_ARGUMENTS = ("files", "inputs", "config", "manifest")


def refuse_special_files(args: argparse.Namespace) -> None:
    """CommandError when an input path named on the command line is a FIFO, a device or a
    socket: every reader checks this too, but refusing here, before any command runs, also
    protects the code paths that open a file themselves (format sniffers, manifests)."""
    from iondyn.io.text import special_file_kind

    for name in INPUT_PATH_ARGUMENTS:
        value = getattr(args, name, None)
        for path in value if isinstance(value, list | tuple) else [value]:
            if isinstance(path, str) and (kind := special_file_kind(path)) is not None:
                raise CommandError(f"{path}: not a regular file ({kind})")


def format_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain fixed-width text table."""

    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            if not math.isfinite(v):
                return "-"
            return f"{v:.6g}"
        return "-" if v is None else str(v)

    text = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in header]
    for row in text:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in text]
    return "\n".join(lines)


def value_with_error(value: float | None, err: float | None, digits: int = 2) -> str:
    """Format ``value ± err`` with ``digits`` significant digits on the error."""
    if value is None or not math.isfinite(value):
        return "-"
    if err is None or not math.isfinite(err) or err <= 0:
        return f"{value:.6g}"
    exponent = math.floor(math.log10(err)) - (digits - 1)
    decimals = max(0, -exponent)
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.{digits + 2}e} ± {err:.{digits - 1}e}"
    return f"{value:.{decimals}f} ± {err:.{decimals}f}"


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer: {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An integer ≥ 0 (e.g. ``--workers``, where 0 means in this process)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def n_or_auto(text: str) -> int | str:
    """Parse ``--n-peaks``-style arguments: a positive integer or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    return positive_int(text)


class Progress:
    """A one-line progress bar with rate and ETA on stderr (only when stderr is a terminal)."""

    def __init__(self, total: int, label: str = "", enabled: bool | None = None):
        self.total = max(int(total), 0)
        self.label = label
        self.done = 0
        self.start = time.monotonic()
        self._last = 0.0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        remaining = (self.total - self.done) / rate if rate > 0 else float("inf")
        frac = self.done / self.total if self.total else 1.0
        width = 30
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        eta = f"{remaining:5.0f}s" if math.isfinite(remaining) else "   ?s"
        sys.stderr.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {rate:6.1f}/s ETA {eta}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def iterate_with_progress(items: Iterable[Any], total: int, label: str, enabled: bool):
    bar = Progress(total, label, enabled=enabled and sys.stderr.isatty())
    try:
        for item in items:
            yield item
            bar.update()
    finally:
        bar.close()
