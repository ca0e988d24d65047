"""The one task function every executor runs: analyse one file, return a :class:`FileRecord`.

:func:`run_task` never raises for a bad file: it sniffs the kind when the coordinator did not
know it, runs the analyzer with the file's resolved settings, serialises the outcome (JSON for
the result, zlib-compressed JSON for the curves — done here, in parallel, not in the
coordinator) and turns every failure into an ``error`` record whose message is one line. The
local process pool, the Dask cluster and the in-process mode all call this same function, so
they store identical results.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iondyn.errors import FileFormatError, IondynError
from iondyn.pipeline.analyzer import Analyzer
from iondyn.pipeline.config import canonical_json, settings_hash
from iondyn.pipeline.kinds import UNKNOWN_KIND, detect_kind
from iondyn.pipeline.store import FileRecord, compress_json

__all__ = ["FileTask", "crash_record", "file_sha256", "run_task"]

#: Version of the "unknown kind" pseudo-analysis (part of the settings hash of such files).
UNKNOWN_VERSION = "1"


@dataclass
class FileTask:
    """What a worker needs: the file, its content hash (from the coordinator), its kind when
    known (``None``: sniff), the candidate analyzers and the resolved settings per kind."""

    path: str
    sha256: str
    size: int
    kind: str | None
    analyzers: dict[str, Analyzer]
    settings: dict[str, dict[str, Any]]
    timeout: float | None = None

    def settings_hash(self, kind: str) -> str:
        if kind == UNKNOWN_KIND or kind not in self.analyzers:
            return settings_hash(kind, {}, UNKNOWN_VERSION)
        return settings_hash(kind, self.settings[kind], self.analyzers[kind].version)


def file_sha256(path: str | Path) -> tuple[str, int]:
    """(hex SHA-256, size in bytes) of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


class AnalysisTimeout(Exception):
    """Raised inside a worker when a file takes longer than the task's timeout."""


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """SIGALRM-based limit; only in a process's main thread (pool workers, in-process runs),
    not in Dask's worker threads, where the limit is not applied."""
    usable = (
        seconds is not None
        and hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise AnalysisTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _base(task: FileTask, kind: str) -> dict[str, Any]:
    settings = task.settings.get(kind, {})
    return {
        "path": task.path,
        "sha256": task.sha256,
        "size": task.size,
        "kind": kind,
        "settings_hash": task.settings_hash(kind),
        "settings_json": canonical_json(settings),
        "worker": _worker_name(),
    }


def _error(task: FileTask, kind: str, exc: BaseException, seconds: float) -> FileRecord:
    message = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, IondynError):
        message = f"internal error: {type(exc).__name__}: {message}"
    if not message.startswith(task.path):
        message = f"{task.path}: {message}"
    detail: dict[str, Any] = {"error": {"type": type(exc).__name__, "message": message}}
    if not isinstance(exc, IondynError):
        detail["error"]["traceback"] = traceback.format_exception(exc)[-6:]
    return FileRecord(
        **_base(task, kind),
        status="error",
        message=message,
        error_type=type(exc).__name__,
        problem=getattr(exc, "problem", None),
        seconds=seconds,
        result_json=json.dumps(detail),
    )


def crash_record(task: FileTask, message: str) -> FileRecord:
    """An error record for a task whose worker died (crash, out of memory, killed)."""
    kind = task.kind or UNKNOWN_KIND
    return FileRecord(
        **_base(task, kind),
        status="error",
        message=f"{task.path}: {message}",
        error_type="WorkerCrash",
        result_json=json.dumps({"error": {"type": "WorkerCrash", "message": message}}),
    )


def run_task(task: FileTask) -> FileRecord:
    """Analyse one file (see the module docstring); never raises for a bad file."""
    from iondyn.serialize import to_jsonable

    start = time.perf_counter()
    kind = task.kind
    try:
        with _time_limit(task.timeout):
            if kind is None:
                try:
                    kind = detect_kind(task.path, task.analyzers)
                except (IondynError, OSError) as exc:
                    # a kind recognised without an analyzer (a spectrum image) is stored as such
                    known = getattr(exc, "kind", None) or UNKNOWN_KIND
                    return _error(task, known, exc, time.perf_counter() - start)
            analyzer = task.analyzers[kind]
            sha, _ = file_sha256(task.path)
            if sha != task.sha256:
                raise FileFormatError(
                    "the file changed after it was listed (still being written?)", task.path
                )
            outcome = analyzer.analyze(Path(task.path), task.settings[kind])
            result = dict(outcome.result)
            result["warnings"] = list(outcome.warnings)
            rows = [r.as_tuple() for r in outcome.parameters]
            keys = [r[:3] for r in rows]
            if len(set(keys)) != len(keys):
                dup = next(k for k in keys if keys.count(k) > 1)
                raise RuntimeError(f"analyzer {kind!r} gave the parameter {dup} twice")
            result_json = json.dumps(to_jsonable(result), allow_nan=False)
            curves = None if outcome.curves is None else compress_json(to_jsonable(outcome.curves))
            describe = analyzer.describe(result) if analyzer.describe else None
    except AnalysisTimeout:
        exc = IondynError(f"analysis stopped after the time limit of {task.timeout:g} s")
        return _error(task, kind or UNKNOWN_KIND, exc, time.perf_counter() - start)
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        exc = IondynError("out of memory while analysing this file")
        return _error(task, kind or UNKNOWN_KIND, exc, time.perf_counter() - start)
    except Exception as exc:
        return _error(task, kind or UNKNOWN_KIND, exc, time.perf_counter() - start)
    return FileRecord(
        **_base(task, kind),
        status="ok",
        message=describe,
        seconds=time.perf_counter() - start,
        result_json=result_json,
        curves=curves,
        parameters=rows,
        n_spectra=int(outcome.n_spectra),
        n_warnings=len(outcome.warnings),
    )
