"""The versioned schema of ``RUN_DIR/results.sqlite`` (see :mod:`iondyn.pipeline.store` and
``docs/pipeline.md``).

Version history: 1 — first version (meta, runs, files, parameters, series; views
``current_files`` and ``parameter_table``). A store written by a newer schema is refused; an
older one will be migrated here when version 2 exists.
"""

from __future__ import annotations

__all__ = ["SCHEMA", "SCHEMA_VERSION", "STORE_NAME"]

SCHEMA_VERSION = 1
STORE_NAME = "results.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    command TEXT,
    iondyn_version TEXT,
    executor TEXT,
    workers INTEGER,
    config_json TEXT,
    files INTEGER,
    ok INTEGER,
    error INTEGER,
    skipped INTEGER,
    seconds REAL
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    kind TEXT NOT NULL,
    settings_hash TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    message TEXT,
    error_type TEXT,
    n_spectra INTEGER,
    n_warnings INTEGER,
    seconds REAL,
    result_json TEXT,
    curves BLOB,
    run_id INTEGER REFERENCES runs(id),
    analyzed_at TEXT NOT NULL,
    worker TEXT,
    seq INTEGER NOT NULL,
    UNIQUE (path, sha256, settings_hash)
);
CREATE INDEX IF NOT EXISTS files_path_seq ON files(path, seq);
CREATE INDEX IF NOT EXISTS files_sha256 ON files(sha256);
CREATE TABLE IF NOT EXISTS parameters (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    spectrum INTEGER NOT NULL,
    item TEXT NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    error REAL,
    unit TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (file_id, spectrum, item, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS parameters_name ON parameters(name, item);
CREATE TABLE IF NOT EXISTS series (
    series TEXT NOT NULL,
    item TEXT NOT NULL,
    quantity TEXT NOT NULL,
    convention TEXT NOT NULL,
    n_points INTEGER NOT NULL,
    Ea_eV REAL,
    Ea_eV_err REAL,
    ln_prefactor REAL,
    ln_prefactor_err REAL,
    prefactor_unit TEXT,
    r2 REAL,
    chi2_reduced REAL,
    points_json TEXT NOT NULL,
    warnings_json TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (series, item, quantity)
);
CREATE VIEW IF NOT EXISTS current_files AS
    SELECT f.* FROM files f
    JOIN (SELECT path, MAX(seq) AS seq FROM files GROUP BY path) m
      ON f.path = m.path AND f.seq = m.seq;
CREATE VIEW IF NOT EXISTS parameter_table AS
    SELECT f.id AS file_id, f.path AS path, f.name AS file, f.kind AS kind, p.spectrum,
           p.item, p.name, p.value, p.error, p.unit
    FROM parameters p JOIN current_files f ON f.id = p.file_id;
"""
