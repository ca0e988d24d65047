"""Helpers shared by the CLI modules: JSON output, tables, progress, argument types."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from iondyn.display import MISSING, format_number, format_value, relative_error_text
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
    """A plain fixed-width text table; floats with 6 significant digits (``-0`` is ``0``),
    non-finite ones and ``None`` as ``-``."""

    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return format_number(v, sig=6, missing="-")
        return "-" if v is None else str(v)

    text = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in header]
    for row in text:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in text]
    return "\n".join(lines)


def value_with_error(
    value: float | None, err: float | None, digits: int = 2, ratio: bool = True
) -> str:
    """``value ± err`` rounded by the error (:func:`iondyn.display.format_value`): the error
    to ``digits`` significant digits, the value to the same place; ``undetermined (± err)``
    when the error reaches the value; ``-`` for a missing value."""
    return format_value(value, err, digits=digits, missing="-", ratio=ratio)


def relative_error(value: float | None, err: float | None) -> str:
    """``1.7 %``, ``> 100 %`` for an undetermined value, ``-`` without an error."""
    text = relative_error_text(value, err)
    return "-" if text == MISSING else text


def plot_paths(out: str | Path, n: int) -> list[Path]:
    """Where ``--plot OUT.png`` writes ``n`` pictures: ``OUT.png`` itself for one, else
    ``OUT_1.png``, ``OUT_2.png``, … (docs/decisions.md, foundation 11)."""
    out = Path(out)
    if n == 1:
        return [out]
    return [out.with_name(f"{out.stem}_{k + 1}{out.suffix or '.png'}") for k in range(n)]


def save_figure(
    draw: Callable[[Any], Any],
    path: str | Path,
    panels: int = 1,
    size: tuple[float, float] = (6.0, 4.5),
) -> Path:
    """Draw ``panels`` side-by-side axes with ``draw(axes)`` (one axes, or a list) on a
    matplotlib ``Figure`` — no pyplot, so no backend is chosen or changed — and write it as a
    PNG. A file that cannot be written is a :class:`CommandError` naming it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * panels, size[1]), layout="constrained")
    axes = fig.subplots(1, panels)
    draw(axes)
    path = Path(path)
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise CommandError(f"{path}: cannot write the plot ({exc.strerror or exc})") from None
    return path


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
    """A one-line progress bar with rate and ETA on stderr (only when stderr is a terminal).

    ``start`` is when the work began (``time.monotonic()``; default: now). The rate is shown
    once :data:`RATE_AFTER_S` have passed since then: the first item done a moment after the
    bar is made would give an absurd rate (``266951.5/s``)."""

    #: Seconds of work before a rate (and ETA) is shown.
    RATE_AFTER_S = 1.0

    def __init__(
        self, total: int, label: str = "", enabled: bool | None = None, start: float | None = None
    ):
        self.total = max(int(total), 0)
        self.label = label
        self.done = 0
        self.start = time.monotonic() if start is None else float(start)
        self._last = 0.0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            self._draw(now)

    def line(self, now: float) -> str:
        """The bar as drawn at time ``now``."""
        elapsed = now - self.start
        frac = self.done / self.total if self.total else 1.0
        width = 30
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        if elapsed < self.RATE_AFTER_S or self.done == 0:
            rate_text, eta = "     ?/s", "   ?s"
        else:
            rate = self.done / elapsed
            rate_text = f"{rate:6.2f}/s" if rate < 10 else f"{rate:6.0f}/s"
            eta = f"{(self.total - self.done) / rate:5.0f}s"
        return f"\r{self.label} [{bar}] {self.done}/{self.total} {rate_text} ETA {eta}"

    def _draw(self, now: float) -> None:
        sys.stderr.write(self.line(now))
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
