"""The SQLite store: schema, idempotent writes, current rows, locking, refusals."""

from __future__ import annotations

import sqlite3

import pytest

from iondyn.errors import StoreError
from iondyn.pipeline.schema import SCHEMA_VERSION
from iondyn.pipeline.store import FileRecord, ResultStore, error_pattern, group_errors


def record(
    path="/d/a.txt", sha="aa", h="h1", status="ok", params=((0, "peak 1", "x", 1.0, 0.1, "eV"),)
):
    return FileRecord(
        path=path,
        sha256=sha,
        size=10,
        kind="peaks",
        settings_hash=h,
        settings_json="{}",
        status=status,
        message=None if status == "ok" else f"{path}: broken",
        result_json="{}",
        parameters=list(params),
    )


def test_schema_wal_and_version(tmp_path):
    with ResultStore(tmp_path / "run", create=True) as store:
        assert store.schema_version() == SCHEMA_VERSION
        mode = store.db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master")}
        for name in ("meta", "runs", "files", "parameters", "series"):
            assert name in tables
        assert {"current_files", "parameter_table"} <= tables


def test_writes_are_idempotent_and_current_is_latest(tmp_path):
    with ResultStore(tmp_path, create=True) as store:
        run = store.begin_run("test", "in-process", 0, {})
        a = store.write(run, record(status="error", params=()))
        # the same (path, content, settings) again: replaced, not duplicated
        b = store.write(run, record(params=((0, "peak 1", "x", 2.0, 0.2, "eV"),)))
        assert a == b
        assert store.db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 1
        rows = store.db.execute("SELECT value FROM parameters WHERE file_id = ?", (a,)).fetchall()
        assert rows == [(2.0,)]
        # new content of the same path: a new row, which becomes the current one
        c = store.write(run, record(sha="bb", params=((0, "peak 1", "x", 3.0, None, "eV"),)))
        assert c != a
        current = store.query("SELECT id FROM current_files")
        assert [r["id"] for r in current] == [c]
        table = store.query("SELECT value FROM parameter_table")
        assert [r["value"] for r in table] == [3.0]
        done, kinds = store.known()
        assert done[("/d/a.txt", "aa", "h1")] == "ok" and kinds["bb"] == "peaks"


def test_failed_transaction_leaves_nothing(tmp_path):
    with ResultStore(tmp_path, create=True) as store:
        dup = ((0, "peak 1", "x", 1.0, None, ""), (0, "peak 1", "x", 2.0, None, ""))
        with pytest.raises(sqlite3.IntegrityError):
            store.write(None, record(params=dup))
        assert store.db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 0
        assert store.db.execute("SELECT COUNT(*) FROM parameters").fetchone()[0] == 0


def test_interrupted_runs_are_marked(tmp_path):
    with ResultStore(tmp_path, create=True) as store:
        first = store.begin_run("killed", "process-pool", 2, {})
    with ResultStore(tmp_path, create=True) as store:
        store.lock()
        store.begin_run("resumed", "process-pool", 2, {})
        status = store.query("SELECT status FROM runs WHERE id = ?", (first,))[0]["status"]
        assert status == "interrupted"


def test_second_lock_is_refused_with_the_holder(tmp_path):
    one = ResultStore(tmp_path, create=True)
    one.lock()
    two = ResultStore(tmp_path, create=True)
    try:
        with pytest.raises(StoreError, match=r"in use by another iondyn analyze \(pid \d+"):
            two.lock()
    finally:
        two.close()
        one.close()
    again = ResultStore(tmp_path, create=True)
    again.lock()  # released by close()
    again.close()


def test_refusals(tmp_path):
    with pytest.raises(StoreError, match=r"no results\.sqlite here"):
        ResultStore(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="the run folder path is a file"):
        ResultStore(tmp_path / "file", create=True)
    with pytest.raises(StoreError, match="cannot create the run folder"):
        ResultStore(tmp_path / "file" / "run", create=True)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "results.sqlite").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a usable iondyn results store"):
        ResultStore(bad)
    newer = tmp_path / "newer"
    with ResultStore(newer, create=True) as store, store.transaction() as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99 is newer"):
        ResultStore(newer)


def test_error_patterns_group_messages():
    assert error_pattern("/d/a.csv", "/d/a.csv:12: expected 2 columns, found 3") == (
        "expected # columns, found #"
    )
    assert error_pattern("/d/a.csv", "/d/a.csv: empty file") == "empty file"
    rows = [
        {"path": f"/d/{i}.csv", "kind": "peaks", "error_type": "E", "message": m}
        for i, m in enumerate(
            ["/d/0.csv:3: bad row 3", "/d/1.csv:9: bad row 9", "/d/2.csv: empty file"]
        )
    ]
    groups = group_errors(rows)
    assert [(g["count"], g["pattern"]) for g in groups] == [(2, "bad row #"), (1, "empty file")]
