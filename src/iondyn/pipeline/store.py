"""The results store of a run: ``RUN_DIR/results.sqlite`` (SQLite, WAL mode), schema version 1.

Tables (documented with examples in ``docs/pipeline.md``):

* ``meta(key, value)`` — ``schema_version``, ``created``, ``iondyn_version``;
* ``runs`` — one row per ``iondyn analyze`` command: id, started, finished, status
  (``running`` / ``finished`` / ``interrupted``), command, iondyn version, executor, workers,
  counts and seconds;
* ``files`` — one row per analysed (path, content, settings): path, name, sha256, size, kind,
  settings_hash, settings_json, status (``ok`` / ``error``), message, error_type, n_spectra,
  n_warnings, seconds, result_json, curves (zlib-compressed JSON for the report), run_id,
  analyzed_at, worker, seq. Key: UNIQUE(path, sha256, settings_hash): the same file analysed
  with the same settings is stored once; an edited file or changed settings add a row, and
  ``seq`` (increasing with every write) tells which row of a path is current;
* ``parameters`` — the long table (file_id, spectrum, item, name, value, error, unit),
  PRIMARY KEY(file_id, spectrum, item, name);
* ``series`` — Arrhenius fits across files (see :mod:`iondyn.pipeline.series`);
* views ``current_files`` (the latest row of every path) and ``parameter_table`` (parameters
  of current files joined with path and kind).

Only the coordinating process writes, one transaction per file (``BEGIN IMMEDIATE`` … commit):
a run killed at any moment leaves every file either fully stored or absent. ``synchronous =
NORMAL`` in WAL mode survives a killed process; a power cut may lose the last transactions
(never corrupts the file). A run holds ``RUN_DIR/.lock`` (``fcntl.flock``) for its whole
duration, so a second ``analyze`` on the same folder refuses at once; readers (report, export)
need no lock.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iondyn.errors import StoreError
from iondyn.pipeline.schema import SCHEMA, SCHEMA_VERSION, STORE_NAME

__all__ = ["SCHEMA_VERSION", "STORE_NAME", "FileRecord", "ResultStore", "group_errors", "now_iso"]

LOCK_NAME = ".lock"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class FileRecord:
    """One file's outcome as the coordinator stores it (built by :mod:`iondyn.pipeline.task`)."""

    path: str
    sha256: str
    size: int
    kind: str
    settings_hash: str
    settings_json: str
    status: str
    message: str | None = None
    error_type: str | None = None
    problem: str | None = None
    seconds: float = 0.0
    result_json: str | None = None
    curves: bytes | None = None
    parameters: list[tuple] = field(default_factory=list)
    n_spectra: int = 0
    n_warnings: int = 0
    worker: str | None = None

    @property
    def name(self) -> str:
        return Path(self.path).name


def compress_json(obj: Any) -> bytes:
    return zlib.compress(json.dumps(obj, separators=(",", ":"), allow_nan=False).encode(), 6)


def decompress_json(blob: bytes | None) -> Any:
    return None if blob is None else json.loads(zlib.decompress(blob))


class _RunLock:
    """An exclusive ``flock`` on RUN_DIR/.lock, holding who took it."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 512, 0).decode(errors="replace").strip() or "unknown process"
            os.close(fd)
            raise StoreError(
                f"{self.path.parent}: the run folder is in use by another iondyn analyze "
                f"({holder}); wait for it to finish or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, since {now_iso()}".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            import fcntl

            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


class ResultStore:
    """The SQLite store of a run folder. ``create=True`` makes the folder and the database;
    otherwise the store must exist (report, export)."""

    def __init__(self, run_dir: str | Path, create: bool = False):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / STORE_NAME
        if create:
            self._prepare_dir()
        elif not self.path.is_file():
            raise StoreError(f"{self.run_dir}: no {STORE_NAME} here (run iondyn analyze first)")
        try:
            self.db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            self.db.execute("PRAGMA busy_timeout = 60000")
            mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            version = self._schema_version()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable iondyn results store ({exc})") from None
        if str(mode).lower() != "wal":
            raise StoreError(f"{self.path}: cannot switch SQLite to WAL mode (got {mode})")
        if version is None:
            if not create:
                raise StoreError(f"{self.path}: not an iondyn results store (no schema version)")
            self._create_schema()
        elif version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store schema version {version} is newer than this iondyn "
                f"understands ({SCHEMA_VERSION}); upgrade iondyn"
            )
        self._lock: _RunLock | None = None

    def _prepare_dir(self) -> None:
        d = self.run_dir
        if d.exists() and not d.is_dir():
            raise StoreError(f"{d}: the run folder path is a file")
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{d}: cannot create the run folder ({exc.strerror})") from None
        if not os.access(d, os.R_OK | os.W_OK | os.X_OK):
            raise StoreError(f"{d}: the run folder is not readable and writable")

    def _schema_version(self) -> int | None:
        has_meta = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if not has_meta:
            return None
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return None if row is None else int(row[0])

    def _create_schema(self) -> None:
        from iondyn import __version__

        with self.transaction() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.executemany(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                [
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("created", now_iso()),
                    ("iondyn_version", __version__),
                ],
            )

    # ------------------------------------------------------------------ basics
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any exception)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def lock(self) -> None:
        """Take the run lock (raises :class:`StoreError` when another run holds it)."""
        if self._lock is None:
            lock = _RunLock(self.run_dir)
            lock.acquire()
            self._lock = lock

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self.db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ runs
    def begin_run(self, command: str | None, executor: str, workers: int, config: Any) -> int:
        """A new ``runs`` row; runs left ``running`` by a killed process become ``interrupted``
        (the caller holds the lock, so none of them is alive)."""
        from iondyn import __version__

        with self.transaction() as db:
            db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            cur = db.execute(
                "INSERT INTO runs(started, status, command, iondyn_version, executor, workers, "
                "config_json) VALUES (?, 'running', ?, ?, ?, ?, ?)",
                (now_iso(), command, __version__, executor, workers, json.dumps(config)),
            )
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, status: str, counts: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished = ?, status = ?, files = ?, ok = ?, error = ?, "
                "skipped = ?, seconds = ? WHERE id = ?",
                (
                    now_iso(),
                    status,
                    counts.get("files"),
                    counts.get("ok"),
                    counts.get("error"),
                    counts.get("skipped"),
                    counts.get("seconds"),
                    run_id,
                ),
            )

    # ------------------------------------------------------------------ files
    def known(self) -> tuple[dict[tuple[str, str, str], str], dict[str, str]]:
        """``({(path, sha256, settings_hash): status}, {sha256: kind})`` of every stored row:
        what a new run may skip, and the kinds already sniffed for each content."""
        done: dict[tuple[str, str, str], str] = {}
        kinds: dict[str, str] = {}
        for path, sha, h, status, kind in self.db.execute(
            "SELECT path, sha256, settings_hash, status, kind FROM files"
        ):
            done[(path, sha, h)] = status
            kinds[sha] = kind
        return done, kinds

    def write(self, run_id: int | None, rec: FileRecord) -> int:
        """Store one file's outcome in one transaction (replacing the row of the same path,
        content and settings, e.g. an error retried); returns the file id."""
        with self.transaction() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM files").fetchone()[0]
            values = (
                rec.path,
                rec.name,
                rec.sha256,
                rec.size,
                rec.kind,
                rec.settings_hash,
                rec.settings_json,
                rec.status,
                rec.message,
                rec.error_type,
                rec.n_spectra,
                rec.n_warnings,
                rec.seconds,
                rec.result_json,
                rec.curves,
                run_id,
                now_iso(),
                rec.worker,
                seq,
            )
            file_id = db.execute(
                "INSERT INTO files(path, name, sha256, size, kind, settings_hash, settings_json, "
                "status, message, error_type, n_spectra, n_warnings, seconds, result_json, "
                "curves, run_id, analyzed_at, worker, seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(path, sha256, settings_hash) DO UPDATE SET "
                "kind = excluded.kind, settings_json = excluded.settings_json, "
                "status = excluded.status, message = excluded.message, "
                "error_type = excluded.error_type, n_spectra = excluded.n_spectra, "
                "n_warnings = excluded.n_warnings, seconds = excluded.seconds, "
                "result_json = excluded.result_json, curves = excluded.curves, "
                "run_id = excluded.run_id, analyzed_at = excluded.analyzed_at, "
                "worker = excluded.worker, seq = excluded.seq "
                "RETURNING id",
                values,
            ).fetchone()[0]
            db.execute("DELETE FROM parameters WHERE file_id = ?", (file_id,))
            db.executemany(
                "INSERT INTO parameters(file_id, spectrum, item, name, value, error, unit) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(file_id, *row) for row in rec.parameters],
            )
        return int(file_id)

    # ------------------------------------------------------------------ reading
    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        cur = self.db.execute(sql, params)
        cur.row_factory = sqlite3.Row
        return cur.fetchall()

    def current_counts(self) -> dict[str, int]:
        """Number of current files by status."""
        rows = self.db.execute("SELECT status, COUNT(*) FROM current_files GROUP BY status")
        out = {"ok": 0, "error": 0}
        out.update({status: int(n) for status, n in rows})
        return out

    def top_errors(self, limit: int = 10) -> list[dict[str, Any]]:
        """The most common error messages of current files (file names stripped, numbers
        kept), with a count and one example file."""
        rows = self.query(
            "SELECT path, kind, error_type, message FROM current_files WHERE status = 'error'"
        )
        return group_errors([dict(r) for r in rows], limit)

    def schema_version(self) -> int:
        return int(self._schema_version() or 0)


_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")


def error_pattern(path: str, message: str | None) -> str:
    """The problem of an error message without the file location and with numbers as ``#``
    (``"a.csv:12: expected 2 columns, found 3"`` → ``"expected # columns, found #"``)."""
    text = message or ""
    if text.startswith(path):
        text = text[len(path) :]
        text = re.sub(r"^(:\d+)?:\s*", "", text)
    return _NUMBER.sub("#", text).strip()


def group_errors(rows: list[dict[str, Any]], limit: int = 10) -> list[dict[str, Any]]:
    """Errors grouped by (kind, type, pattern), most common first, with one example each."""
    groups: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        key = (r.get("kind"), r.get("error_type"), error_pattern(r["path"], r.get("message")))
        g = groups.setdefault(
            key,
            {
                "count": 0,
                "kind": key[0],
                "type": key[1],
                "pattern": key[2],
                "example": r.get("message"),
                "example_file": r["path"],
            },
        )
        g["count"] += 1
    return sorted(groups.values(), key=lambda g: (-g["count"], g["pattern"]))[:limit]
