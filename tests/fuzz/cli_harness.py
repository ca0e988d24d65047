"""Run the ``iondyn`` CLI in this process and check the bad-input contract of its output.

The contract (issue 12): whatever the input, the exit code is 0 (a result) or 2 (one line
``iondyn: error: …`` per problem); never a traceback, an ``internal error`` (exit 3) or a NumPy
``RuntimeWarning`` printed beside a result; with ``--json`` stdout is one strict JSON document
(no ``NaN``/``Infinity``).
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from hypothesis import event
from hypothesis.control import currently_in_test_context

from iondyn.cli import main


@dataclass
class Outcome:
    argv: list[str]
    code: int | str | None
    out: str
    err: str
    runtime_warnings: list[str] = field(default_factory=list)


def run_cli(argv: Sequence[str]) -> Outcome:
    """``iondyn ARGV`` in this process, stdout/stderr captured, every warning recorded."""
    argv = [str(a) for a in argv]
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code: int | str | None = main(argv)
            except SystemExit as exc:  # argparse usage errors
                code = exc.code
    runtime = [
        f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})"
        for w in caught
        if issubclass(w.category, RuntimeWarning)
    ]
    return Outcome(argv, code, out.getvalue(), err.getvalue(), runtime)


def run_cli_with_timeout(argv: Sequence[str], timeout: float) -> Outcome | None:
    """:func:`run_cli` in a daemon thread; ``None`` when it has not finished after ``timeout``
    seconds (a hang: the thread is left blocked, the process can still exit)."""
    box: list[Outcome] = []
    thread = threading.Thread(target=lambda: box.append(run_cli(argv)), daemon=True)
    thread.start()
    thread.join(timeout)
    return box[0] if box else None


def _no_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def strict_json(text: str):
    """``json.loads`` that refuses ``NaN``, ``Infinity`` and ``-Infinity``."""
    return json.loads(text, parse_constant=_no_constant)


def check(outcome: Outcome) -> None:
    """Assert the bad-input contract (module docstring) for one run."""
    where = f"iondyn {' '.join(a[:80] for a in outcome.argv)}"
    if currently_in_test_context():  # counts shown by --hypothesis-show-statistics
        event(f"{' '.join(outcome.argv[:2])}: exit {outcome.code}")
    assert outcome.code in (0, 2), f"{where}: exit code {outcome.code}\n{outcome.err[-2000:]}"
    assert "Traceback" not in outcome.err, f"{where}: traceback\n{outcome.err[-2000:]}"
    assert "internal error" not in outcome.err, f"{where}: {outcome.err[-2000:]}"
    assert not outcome.runtime_warnings, f"{where}: NumPy warnings {outcome.runtime_warnings}"
    if outcome.code == 2:
        assert "iondyn" in outcome.err and "error: " in outcome.err, f"{where}: {outcome.err!r}"
    for line in outcome.err.splitlines():  # every message is one line of its own
        assert line.startswith(("iondyn", "usage:", " ")) or not line.strip(), (
            f"{where}: stray stderr line {line[:200]!r}"
        )
    if "--json" in outcome.argv and outcome.code in (0, 2) and outcome.out.strip():
        try:
            strict_json(outcome.out)
        except ValueError as exc:
            raise AssertionError(f"{where}: stdout is not strict JSON ({exc})") from None
    if "--json" in outcome.argv and outcome.code == 0:
        assert outcome.out.strip(), f"{where}: exit 0 but no JSON document"
