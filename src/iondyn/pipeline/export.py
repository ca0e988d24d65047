"""Export the tables of a run folder: ``iondyn export RUN_DIR --format csv|parquet --out PATH``.

``PATH`` is a folder; it receives ``files``, ``parameters``, ``series`` and ``runs``
(``.csv`` or ``.parquet``). ``files`` has one row per current file (the latest analysis of
every path; ``all_rows=True``: every stored row) with its result JSON but not the curves;
``parameters`` is the long table joined with the file's path, name and kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iondyn.errors import InputError
from iondyn.pipeline.store import ResultStore

__all__ = ["ExportResult", "export_tables"]

FORMATS = ("csv", "parquet")

_FILE_COLUMNS = (
    "id, path, name, sha256, size, kind, settings_hash, settings_json, status, message, "
    "error_type, n_spectra, n_warnings, seconds, result_json, run_id, analyzed_at, worker, seq"
)


@dataclass
class ExportResult:
    out_dir: str
    format: str
    tables: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"out": self.out_dir, "format": self.format, "tables": self.tables}


def _frames(store: ResultStore, all_rows: bool) -> dict[str, Any]:
    import pandas as pd

    source = "files" if all_rows else "current_files"
    params = (
        "SELECT f.id AS file_id, f.path, f.name AS file, f.kind, f.status, p.spectrum, "
        "p.item, p.name, p.value, p.error, p.unit "
        f"FROM parameters p JOIN {source} f ON f.id = p.file_id "
        "ORDER BY f.path, p.spectrum, p.item, p.name"
    )
    queries = {
        "files": f"SELECT {_FILE_COLUMNS} FROM {source} ORDER BY path, seq",
        "parameters": params,
        "series": "SELECT * FROM series ORDER BY series, item, quantity",
        "runs": "SELECT * FROM runs ORDER BY id",
    }
    return {name: pd.read_sql_query(sql, store.db) for name, sql in queries.items()}


def export_tables(
    run_dir: str | Path, format: str, out: str | Path, all_rows: bool = False
) -> ExportResult:
    """Write the tables of ``run_dir`` into the folder ``out`` (see the module docstring)."""
    fmt = format.lower()
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {format!r}; choose csv or parquet")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError(
                "parquet export needs pyarrow: pip install 'iondyn[parquet]'"
            ) from None
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: the export target must be a folder")
    with ResultStore(run_dir) as store:
        frames = _frames(store, all_rows)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot create the folder ({exc.strerror})") from None
    tables: dict[str, dict[str, Any]] = {}
    for name, df in frames.items():
        path = out_dir / f"{name}.{fmt}"
        try:
            if fmt == "csv":
                df.to_csv(path, index=False)
            else:
                df.to_parquet(path, index=False)
        except OSError as exc:
            raise InputError(f"{path}: cannot write ({exc.strerror})") from None
        tables[name] = {"path": str(path), "rows": len(df)}
    return ExportResult(str(out_dir), fmt, tables)
