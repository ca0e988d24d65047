"""Batch analysis of folders of instrument files into a resumable SQLite store.

* :func:`run_batch` — what ``iondyn analyze`` runs (:mod:`iondyn.pipeline.analyze`);
* :class:`ResultStore` — the store (:mod:`iondyn.pipeline.store`, schema in
  :mod:`iondyn.pipeline.schema`);
* :class:`PipelineConfig` — TOML settings (:mod:`iondyn.pipeline.config`);
* :func:`register`, :class:`Analyzer` — the analyzer registry (:mod:`iondyn.pipeline.kinds`);
* :func:`export_tables` — CSV / Parquet export.
"""

from iondyn.pipeline.analyze import BatchSummary, collect_inputs, run_batch
from iondyn.pipeline.analyzer import AnalysisOutcome, Analyzer, ParameterRow, Setting
from iondyn.pipeline.config import PipelineConfig
from iondyn.pipeline.export import export_tables
from iondyn.pipeline.kinds import analyzers, detect_kind, get_analyzer, register
from iondyn.pipeline.store import ResultStore

__all__ = [
    "AnalysisOutcome",
    "Analyzer",
    "BatchSummary",
    "ParameterRow",
    "PipelineConfig",
    "ResultStore",
    "Setting",
    "analyzers",
    "collect_inputs",
    "detect_kind",
    "export_tables",
    "get_analyzer",
    "register",
    "run_batch",
]
