"""Result summaries: what a result shows in a terminal (``repr``) and in a notebook
(``_repr_html_``) — see :mod:`iondyn.display`."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from iondyn.display.numbers import (
    MISSING,
    _finite,
    format_value,
    is_undetermined,
    relative_error_text,
)

__all__ = [
    "Displayable",
    "Param",
    "Summary",
    "collection_summary",
    "html_table",
    "misfit_text",
    "summary_html",
    "summary_text",
    "text_table",
]


@dataclass
class Param:
    """One reported number: ``err`` None when there is none, 0 when the value was fixed."""

    name: str
    value: Any
    err: Any = None
    unit: str = ""
    note: str = ""
    ratio: bool = True

    @property
    def undetermined(self) -> bool:
        return self.ratio and is_undetermined(self.value, self.err)

    def text(self, unit: bool = False) -> str:
        shown = format_value(self.value, self.err, self.unit if unit else "", ratio=self.ratio)
        if self.err is not None and _finite(self.err) and float(self.err) == 0 and self.note == "":
            return f"{shown} (fixed)"
        return shown


@dataclass
class Summary:
    """What a result shows: ``title``, ``facts`` (short phrases), ``params``, extra ``tables``
    (caption, header, rows of text), the misfit verdict and the warnings."""

    kind: str
    title: str
    facts: list[str] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    misfit: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)


def misfit_text(misfit: dict[str, Any] | None) -> str | None:
    """``residuals: good`` / ``residuals: MISFIT (rms 4 %, …)`` from a stored verdict."""
    if not misfit:
        return None
    verdict = str(misfit.get("verdict", "?"))
    detail = []
    if _finite(misfit.get("rms_relative")):
        detail.append(f"rms {100 * float(misfit['rms_relative']):.2g} %")
    if misfit.get("reasons"):
        detail.append("; ".join(str(r) for r in misfit["reasons"]))
    shown = "MISFIT" if verdict == "misfit" else verdict
    return f"residuals: {shown}" + (f" ({', '.join(detail)})" if detail else "")


def _param_line(p: Param) -> str:
    note = f"  [{p.note}]" if p.note else ""
    return f"  {p.name} = {p.text(unit=True)}{note}"


def summary_text(s: Summary, max_rows: int = 14) -> str:
    """The short text form (``repr``): title, facts, parameters, verdict, warning count."""
    lines = [f"<{s.kind}: {s.title}>"]
    if s.facts:
        lines.append("  " + ", ".join(s.facts))
    for p in s.params[:max_rows]:
        lines.append(_param_line(p))
    if len(s.params) > max_rows:
        lines.append(f"  … {len(s.params) - max_rows} more (to_dataframe())")
    for caption, header, rows in s.tables:
        if len(rows) > max_rows:
            lines.append(f"  {caption}: {len(rows)} rows ({', '.join(header[:6])})")
            continue
        lines.append(f"  {caption}:")
        lines += ["    " + line for line in text_table(header, rows).splitlines()]
    verdict = misfit_text(s.misfit)
    if verdict:
        lines.append("  " + verdict)
    if s.warnings:
        first = s.warnings[0] if len(s.warnings[0]) <= 90 else s.warnings[0][:87] + "…"
        more = f" (+{len(s.warnings) - 1} more in .warnings)" if len(s.warnings) > 1 else ""
        lines.append(f"  warning: {first}{more}")
    return "\n".join(lines)


def text_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A fixed-width text table (cells as given, right-aligned)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in header]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    out = ["  ".join(h.rjust(w) for h, w in zip(header, widths)).rstrip()]
    out += ["  ".join(c.rjust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(out)


def collection_summary(kind: str, items: Sequence[Any], noun: str) -> Summary:
    """The summary of a list-like result: one row per item (its title, first facts, verdict
    and number of warnings)."""
    rows = []
    for i, item in enumerate(items):
        s = item._summary()
        verdict = str((s.misfit or {}).get("verdict", MISSING))
        rows.append([str(i), s.title, ", ".join(s.facts[:2]), verdict, str(len(s.warnings))])
    header = ["#", "item", "quality", "residuals", "warnings"]
    return Summary(kind, f"{len(items)} {noun}", tables=[(noun, header, rows)])


_STYLE_TABLE = "border-collapse:collapse;margin:0.3em 0;font-size:0.9em"
_STYLE_CELL = "border:1px solid #d0d7de;padding:0.15em 0.5em;text-align:left"
_STYLE_NUM = _STYLE_CELL.replace("text-align:left", "text-align:right") + ";white-space:nowrap"


def html_table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()
) -> str:
    """A small self-styled HTML table (every cell escaped)."""
    e = html.escape
    head = "".join(f'<th style="{_STYLE_CELL};background:#eef1f4">{e(h)}</th>' for h in header)
    body = []
    for row in rows:
        cells = []
        for i, c in enumerate(row):
            style = _STYLE_NUM if i in numeric else _STYLE_CELL
            cells.append(f'<td style="{style}">{e(str(c))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table style="{_STYLE_TABLE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def summary_html(s: Summary) -> str:
    """The notebook form (``_repr_html_``): title, facts, a table of parameters ± errors
    (undetermined ones marked), extra tables, the misfit verdict and the warnings."""
    e = html.escape
    parts = [f'<div class="iondyn-result"><strong>{e(s.kind)}</strong>: {e(s.title)}']
    if s.facts:
        parts.append(f'<div style="color:#555">{e(", ".join(s.facts))}</div>')
    if s.params:
        rows = []
        notes = any(p.note for p in s.params)
        for p in s.params:
            value = p.text()
            if p.undetermined:
                value = f"⚠ {value}"
            rel = MISSING if not p.ratio else relative_error_text(p.value, p.err)
            row = [p.name, value, "" if p.undetermined else p.unit, rel]
            rows.append([*row, p.note] if notes else row)
        header = ["parameter", "value ± error", "unit", "rel. error"] + (["note"] if notes else [])
        parts.append(html_table(header, rows, (1, 3)))
    for caption, header, rows in s.tables:
        parts.append(f"<div>{e(caption)}</div>" + html_table(header, rows))
    verdict = misfit_text(s.misfit)
    if verdict:
        color = "#cf222e" if (s.misfit or {}).get("verdict") == "misfit" else "#1a7f37"
        parts.append(f'<div style="color:{color}">{e(verdict)}</div>')
    if s.warnings:
        items = "".join(f"<li>{e(w)}</li>" for w in s.warnings)
        parts.append(f'<ul style="color:#9a6700;margin:0.2em 0">{items}</ul>')
    parts.append("</div>")
    return "".join(parts)


class Displayable:
    """Mixin of the result classes: ``repr`` and ``_repr_html_`` from ``_summary()``.

    A dataclass using it is declared with ``repr=False`` so that the dataclass does not
    replace this ``__repr__`` by a dump of every field."""

    def _summary(self) -> Summary:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __repr__(self) -> str:
        try:
            return summary_text(self._summary())
        except Exception as exc:  # a repr must never raise
            return f"<{type(self).__name__} (summary failed: {type(exc).__name__}: {exc})>"

    def _repr_html_(self) -> str:
        try:
            return summary_html(self._summary())
        except Exception as exc:
            return html.escape(f"<{type(self).__name__} (summary failed: {exc})>")
