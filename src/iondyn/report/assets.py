"""The report page's own CSS and JavaScript (no network, no libraries besides Plotly).

* :data:`PRELUDE_JS` runs first and records every JavaScript error of the page;
* :data:`PAGE_JS` keeps anchor targets below the sticky header (``scroll-padding-top`` set to
  the header's height), renders the figures (JSON in ``#iondyn-figures``) into their
  ``div``s, makes tables sortable by a click on a header (numbers by the ``data-v`` value of
  their cells), and writes the page's verdict into ``#iondyn-status`` (see
  :mod:`iondyn.report.html`): plots rendered, JavaScript errors, ``data-overflow`` (how many
  pixels the page is wider than the window) and, when the page is opened with
  ``?check-anchors``, ``data-hidden`` (navigation targets that land under the header).

Wide tables scroll inside their own box (``.table-wrap``); a figure with a zoom panel spans
the grid's width (``.iondyn-plot.wide``).
"""

from __future__ import annotations

__all__ = ["CSS", "PAGE_JS", "PRELUDE_JS"]

CSS = """
html { scroll-padding-top: 9em; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; }
header { background: #f4f6f8; padding: 0.6em 1.5em; border-bottom: 1px solid #d0d7de;
         position: sticky; top: 0; z-index: 10; }
header h1 { margin: 0.1em 0; font-size: 1.4em; }
header p { margin: 0.2em 0; color: #555; font-size: 0.9em; overflow-wrap: anywhere; }
nav a { margin-right: 1.2em; white-space: nowrap; }
main { padding: 0 1.5em 3em; min-width: 0; }
section, article { scroll-margin-top: 1em; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em; margin-top: 1.6em; }
.table-wrap { overflow-x: auto; max-width: 100%; margin: 0.6em 0 1.2em; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #d0d7de; padding: 0.25em 0.6em; text-align: left;
         vertical-align: top; }
td { max-width: 36em; overflow-wrap: break-word; }
th { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap;
         max-width: none; overflow-wrap: normal; }
td.undetermined { color: #9a6700; font-style: italic; }
th { background: #eef1f4; cursor: pointer; user-select: none; }
th[data-dir="asc"]::after { content: " ▲"; }
th[data-dir="desc"]::after { content: " ▼"; }
tbody tr:nth-child(even) { background: #fafbfc; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(520px, 100%), 1fr));
        gap: 0.8em; }
.grid > * { min-width: 0; }
.iondyn-plot { min-height: 380px; border: 1px solid #eee; }
.iondyn-plot.wide { grid-column: 1 / -1; }
article.file { margin: 1.2em 0 2em; }
article.file h3 { margin-bottom: 0.1em; }
.kind { font-size: 0.7em; background: #ddf4ff; padding: 0.1em 0.5em; border-radius: 0.8em; }
.path { color: #777; font-size: 0.8em; margin: 0; word-break: break-all; }
.warnings { color: #9a6700; font-size: 0.85em; }
.warn { color: #cf222e; }
.note { color: #555; font-style: italic; }
#iondyn-status { font-size: 0.8em; color: #555; }
#iondyn-status[data-state="error"] { color: #cf222e; }
"""

PRELUDE_JS = """
window.__iondynErrors = [];
window.addEventListener('error', function (e) {
  window.__iondynErrors.push(String(e.message || e));
});
window.addEventListener('unhandledrejection', function (e) {
  window.__iondynErrors.push('unhandled rejection: ' + String(e.reason));
});
"""

PAGE_JS = """
(function () {
  // anchors land below the sticky header, whatever its height at this width
  var header = document.querySelector('header');
  function padAnchors() {
    document.documentElement.style.scrollPaddingTop = (header.offsetHeight + 8) + 'px';
  }
  padAnchors();
  window.addEventListener('resize', padAnchors);

  function sortValue(row, i) {
    var cell = row.cells[i];
    if (!cell) return '';
    if (cell.dataset.v !== undefined) {
      var v = parseFloat(cell.dataset.v);
      return isNaN(v) ? null : v;
    }
    return cell.textContent.trim().toLowerCase();
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('th').forEach(function (th, i) {
      th.addEventListener('click', function () {
        var asc = th.dataset.dir !== 'asc';
        table.querySelectorAll('th').forEach(function (h) { delete h.dataset.dir; });
        th.dataset.dir = asc ? 'asc' : 'desc';
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = sortValue(a, i), y = sortValue(b, i);
          if (x === y) return 0;
          if (x === null) return 1;
          if (y === null) return -1;
          var r = (typeof x === 'number' && typeof y === 'number') ? x - y
                  : String(x).localeCompare(String(y));
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });

  var status = document.getElementById('iondyn-status');
  var figures = JSON.parse(document.getElementById('iondyn-figures').textContent);
  var divs = Array.prototype.slice.call(document.querySelectorAll('div.iondyn-plot'));
  var jobs = [];
  divs.forEach(function (div) {
    var fig = figures[div.id];
    if (!fig) { window.__iondynErrors.push('no figure for ' + div.id); return; }
    try {
      jobs.push(Plotly.newPlot(div, fig.data, fig.layout,
                               {responsive: true, displaylogo: false}));
    } catch (e) {
      window.__iondynErrors.push(div.id + ': ' + String(e));
    }
  });
  Promise.all(jobs).catch(function (e) {
    window.__iondynErrors.push(String(e));
  }).then(function () {
    var rendered = divs.filter(function (d) {
      return d.querySelector('.main-svg') !== null;
    }).length;
    var errors = window.__iondynErrors;
    var root = document.documentElement;
    status.dataset.plots = String(divs.length);
    status.dataset.rendered = String(rendered);
    status.dataset.errors = JSON.stringify(errors);
    // how far the page is wider than the window (0: no horizontal scroll bar)
    status.dataset.overflow = String(Math.max(0, root.scrollWidth - root.clientWidth));
    status.dataset.width = String(root.clientWidth);
    if (/[?&]check-anchors/.test(window.location.search)) {
      // jump to every navigation anchor as a click would, and list those that end up
      // hidden under the sticky header; then back to the top
      var hidden = [];
      document.querySelectorAll('nav a').forEach(function (a) {
        var target = document.getElementById(a.getAttribute('href').slice(1));
        if (!target) { hidden.push(a.getAttribute('href') + ' (missing)'); return; }
        target.scrollIntoView();
        var top = target.getBoundingClientRect().top;
        if (top < header.getBoundingClientRect().bottom - 1) {
          hidden.push(a.getAttribute('href') + ' at ' + Math.round(top) + 'px');
        }
      });
      window.scrollTo(0, 0);
      status.dataset.anchors = String(document.querySelectorAll('nav a').length);
      status.dataset.hidden = JSON.stringify(hidden);
    }
    var ok = rendered === divs.length && errors.length === 0;
    status.dataset.state = ok ? 'ok' : 'error';
    status.textContent = rendered + ' of ' + divs.length + ' plots rendered' +
      (errors.length ? '; JavaScript errors: ' + errors.join(' | ') : '');
  });
})();
"""
