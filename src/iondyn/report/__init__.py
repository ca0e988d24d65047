"""The self-contained interactive HTML report of a run folder (``iondyn report RUN_DIR``).

* :func:`write_report` — write ``RUN_DIR/report.html`` (:mod:`iondyn.report.html`);
  :func:`build_report` — the page as a string with its counts;
* :mod:`iondyn.report.figures` — the Plotly figures per kind (plain dicts);
* :mod:`iondyn.report.assets` — the page's CSS and JavaScript (sortable tables, the render
  check written into ``#iondyn-status``).

Numbers and headers follow :mod:`iondyn.display` (values rounded by their errors,
undetermined values marked, words with units). See ``docs/pipeline.md``.
"""

from iondyn.report.html import ReportResult, build_report, write_report

__all__ = ["ReportResult", "build_report", "write_report"]
