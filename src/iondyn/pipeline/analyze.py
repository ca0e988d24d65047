"""The batch runner behind ``iondyn analyze``: :func:`run_batch`.

1. Inputs (files, folders — walked recursively, hidden entries skipped — and glob patterns)
   are expanded, de-duplicated and filtered by the ``exclude`` patterns; a path that does not
   exist is an error before anything is written. Documentation found in folders or by
   patterns (:data:`IGNORED_NAMES`: ``*.md``, README, NOTICE, LICENSE/LICENCE, COPYING,
   AUTHORS, CHANGELOG) is left out and counted as ``ignored``; name such a file explicitly
   to analyse it anyway.
2. The run folder's store is opened and locked (a second run on the same folder refuses).
3. Every file is hashed (SHA-256). Its kind is the ``--kind`` override, a rule's kind, or the
   kind already sniffed for the same content in an earlier run; otherwise the worker sniffs
   it. When the kind is known here, the settings hash is too, and a file already stored with
   the same path, content and settings is skipped (errors too, unless ``retry_errors``).
4. The executor (:mod:`iondyn.pipeline.executors`) runs :func:`iondyn.pipeline.task.run_task`
   on the rest; each record is written by this process in its own transaction as it arrives.
5. Arrhenius series are fitted across the stored impedance results
   (:mod:`iondyn.pipeline.series`) and the run is closed with its counts.

Nothing is printed: progress goes to the ``on_progress`` callback, the result is a
:class:`BatchSummary`.
"""

from __future__ import annotations

import glob
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iondyn.errors import InputError
from iondyn.pipeline.config import PipelineConfig
from iondyn.pipeline.kinds import UNKNOWN_KIND, analyzers
from iondyn.pipeline.store import FileRecord, ResultStore
from iondyn.pipeline.task import FileTask, file_sha256

__all__ = ["BatchSummary", "collect_inputs", "run_batch"]

ProgressCallback = Callable[[int, int, "FileRecord | None"], None]

#: Exit code of ``iondyn analyze`` when files were analysed and every one of them failed.
EXIT_ALL_FAILED = 1


@dataclass
class BatchSummary:
    """Counts of one ``analyze`` command. ``ok``/``error``: files analysed by this run;
    ``skipped``: already stored with the same content and settings (``skipped_ok`` of them
    stored as ok); ``ignored``: documentation files left out of folder walks
    (:data:`IGNORED_NAMES`); ``store``: current files of the whole run folder by status;
    ``top_errors``: the most common errors of the run folder."""

    run_dir: str
    run_id: int
    files: int
    ok: int = 0
    error: int = 0
    skipped: int = 0
    skipped_ok: int = 0
    seconds: float = 0.0
    executor: str = ""
    workers: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    store: dict[str, int] = field(default_factory=dict)
    top_errors: list[dict[str, Any]] = field(default_factory=list)
    series: int = 0
    ignored: int = 0

    @property
    def all_failed(self) -> bool:
        """True when files were analysed and none of the inputs has an ok result."""
        return self.error > 0 and self.ok == 0 and self.skipped_ok == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "ok": self.ok,
            "error": self.error,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "skipped_ok": self.skipped_ok,
            "ignored": self.ignored,
            "run_dir": self.run_dir,
            "store": str(Path(self.run_dir) / "results.sqlite"),
            "run_id": self.run_id,
            "executor": self.executor,
            "workers": self.workers,
            "by_kind": self.by_kind,
            "store_counts": self.store,
            "series": self.series,
            "top_errors": self.top_errors,
            "files_per_second": round((self.ok + self.error) / self.seconds, 3)
            if self.seconds > 0
            else None,
        }


_GLOB_CHARS = set("*?[")

#: File names (case-insensitive ``fnmatch`` patterns) never analysed when found in a folder or
#: by a pattern: documentation and licences that travel with data, not data.
IGNORED_NAMES = (
    "*.md",
    "*.markdown",
    "readme",
    "readme.*",
    "notice",
    "notice.*",
    "license",
    "license.*",
    "licence",
    "licence.*",
    "copying",
    "copying.*",
    "authors",
    "authors.*",
    "changelog",
    "changelog.*",
)


def is_ignored_name(path: Path) -> bool:
    """True for documentation files that :data:`IGNORED_NAMES` leaves out of folder walks."""
    import fnmatch

    name = path.name.lower()
    return any(fnmatch.fnmatch(name, pattern) for pattern in IGNORED_NAMES)


def _walk(folder: Path, skip: set[Path]) -> list[Path]:
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).parts
        if any(part.startswith(".") for part in rel):
            continue
        if any(s == p or s in p.parents for s in skip):
            continue
        if p.is_file():
            out.append(p)
    return out


def _keep_data(files: list[Path], ignored: list[Path]) -> list[Path]:
    ignored += [f for f in files if is_ignored_name(f)]
    return [f for f in files if not is_ignored_name(f)]


def collect_inputs(
    inputs: Sequence[str | Path],
    exclude: Sequence[str] = (),
    skip: Sequence[str | Path] = (),
    ignored: list[Path] | None = None,
) -> list[Path]:
    """Absolute paths of the files named, found in folders (recursively, hidden entries
    skipped) or matched by glob patterns; de-duplicated, in input order then sorted, without
    those matching ``exclude`` patterns and without anything under ``skip`` (the run folder).
    Documentation files (:data:`IGNORED_NAMES`) found in folders or by patterns are left out
    and appended to ``ignored`` when given; a file named explicitly is always kept.
    """
    ignored = [] if ignored is None else ignored
    from pathlib import PurePosixPath

    skip_set = {Path(s).resolve() for s in skip}
    found: list[Path] = []
    for item in inputs:
        text = str(item)
        p = Path(text).expanduser()
        if p.is_dir():
            found += _keep_data(_walk(p.resolve(), skip_set), ignored)
        elif p.is_file():
            found.append(p.resolve())
        elif _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(str(p), recursive=True))
            files = [Path(m).resolve() for m in matches if Path(m).is_file()]
            for m in matches:
                if Path(m).is_dir():
                    files += _walk(Path(m).resolve(), skip_set)
            if not files:
                raise InputError(f"{text}: no file matches this pattern")
            found += _keep_data(files, ignored)
        elif p.exists():
            raise InputError(f"{text}: not a regular file or folder")
        else:
            raise InputError(f"{text}: no such file or folder")
    seen: set[Path] = set()
    out = []
    for f in found:
        if f in seen or any(s == f or s in f.parents for s in skip_set):
            continue
        seen.add(f)
        posix = PurePosixPath(f.as_posix())
        if any(posix.match(pattern) for pattern in exclude):
            continue
        out.append(f)
    if not out:
        raise InputError(f"no input files found in {', '.join(map(str, inputs))}")
    return out


def _executor(workers: int | None, cluster: str | None, scheduler: str | None, timeout: float):
    from iondyn.pipeline.executors import (
        DaskExecutor,
        InProcessExecutor,
        LocalPoolExecutor,
        default_workers,
    )

    if cluster is not None and scheduler is not None:
        raise InputError("give either a cluster or a scheduler address, not both")
    if scheduler is not None:
        return DaskExecutor(scheduler=scheduler, connect_timeout=timeout)
    if cluster is not None:
        if cluster != "local":
            raise InputError(f"unknown cluster {cluster!r}: only 'local' can be started here")
        return DaskExecutor(workers=workers or default_workers(), connect_timeout=timeout)
    if workers is not None and workers < 0:
        raise InputError(f"the number of workers must be ≥ 0, got {workers}")
    if workers == 0:
        return InProcessExecutor()
    return LocalPoolExecutor(workers or default_workers())


def run_batch(
    inputs: Sequence[str | Path],
    out: str | Path,
    *,
    workers: int | None = None,
    cluster: str | None = None,
    scheduler: str | None = None,
    config: PipelineConfig | str | Path | None = None,
    kind: str | None = None,
    exclude: Sequence[str] = (),
    retry_errors: bool = False,
    timeout: float | None = None,
    connect_timeout: float = 10.0,
    command: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> BatchSummary:
    """Analyse every input file into ``out`` (see the module docstring).

    ``workers``: processes of the local pool (default: the CPUs available; 0 runs in this
    process) or of the LocalCluster; ``cluster="local"`` / ``scheduler=ADDRESS`` run on Dask;
    ``kind`` forces the kind of every file; ``timeout`` (s) stops one file's analysis (local
    pool and in-process only); ``command`` is recorded in the ``runs`` table.
    """
    start = time.perf_counter()
    registry = analyzers()
    if kind is not None and kind not in registry:
        raise InputError(f"unknown kind {kind!r}; known kinds: {', '.join(registry)}")
    if not isinstance(config, PipelineConfig):
        config = PipelineConfig() if config is None else PipelineConfig.from_file(config)
    skip = [out, *config.own_files]
    ignored: list[Path] = []
    files = collect_inputs(inputs, [*config.exclude, *exclude], skip, ignored)

    store = ResultStore(out, create=True)
    try:
        store.lock()
        executor = _executor(workers, cluster, scheduler, connect_timeout)
    except BaseException:
        store.close()
        raise
    run_id = store.begin_run(command, executor.name, executor.workers, config.to_dict())
    summary = BatchSummary(
        str(Path(out).resolve()),
        run_id,
        len(files),
        executor=executor.name,
        workers=executor.workers,
        ignored=len(ignored),
    )
    done, sniffed = store.known()
    counter = {"done": 0}

    def progress(record: FileRecord | None) -> None:
        counter["done"] += 1
        if on_progress is not None:
            on_progress(counter["done"], len(files), record)

    def account(record: FileRecord) -> None:
        store.write(run_id, record)
        setattr(summary, record.status, getattr(summary, record.status) + 1)
        per_kind = summary.by_kind.setdefault(record.kind, {"ok": 0, "error": 0})
        per_kind[record.status] += 1
        progress(record)

    def tasks() -> Iterator[FileTask]:
        for path in files:
            try:
                sha, size = file_sha256(path)
            except OSError as exc:
                account(_unreadable(path, exc))
                continue
            requested = kind or config.requested_kind(path)
            known = requested if requested != "auto" else sniffed.get(sha)
            if known is not None and known != UNKNOWN_KIND and known not in registry:
                known = None  # sniffed by an analyzer that is not registered any more
            candidates = registry if known in (None, UNKNOWN_KIND) else {known: registry[known]}
            task = FileTask(
                str(path),
                sha,
                size,
                known if known != UNKNOWN_KIND else None,
                candidates,
                {k: config.settings_for(path, a) for k, a in candidates.items()},
                timeout,
            )
            if known is not None:
                status = done.get((task.path, sha, task.settings_hash(known)))
                if status == "ok" or (status == "error" and not retry_errors):
                    summary.skipped += 1
                    summary.skipped_ok += status == "ok"
                    progress(None)
                    continue
            yield task

    status = "interrupted"
    try:
        for record in executor.stream(tasks()):
            account(record)
        status = "finished"
    finally:
        try:
            executor.close()
        finally:
            try:
                if status == "finished":
                    from iondyn.pipeline.series import update_series

                    summary.series = update_series(store)
                summary.seconds = time.perf_counter() - start
                counts = {k: getattr(summary, k) for k in ("files", "ok", "error", "skipped")}
                store.finish_run(run_id, status, counts | {"seconds": summary.seconds})
                summary.store = store.current_counts()
                summary.top_errors = store.top_errors()
            finally:
                store.close()
    return summary


def _unreadable(path: Path, exc: OSError) -> FileRecord:
    from iondyn.pipeline.config import settings_hash
    from iondyn.pipeline.task import UNKNOWN_VERSION

    message = f"{path}: cannot read the file ({exc.strerror or exc})"
    return FileRecord(
        str(path),
        sha256="",
        size=0,
        kind=UNKNOWN_KIND,
        settings_hash=settings_hash(UNKNOWN_KIND, {}, UNKNOWN_VERSION),
        settings_json="{}",
        status="error",
        message=message,
        error_type="FileFormatError",
        result_json=json.dumps({"error": {"type": "FileFormatError", "message": message}}),
    )
