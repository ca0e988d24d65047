"""The report's tables: cells of numbers rounded by their errors (:mod:`iondyn.display`),
undetermined values marked rather than listed, and tables that scroll in their own box."""

from __future__ import annotations

import html
import math
from typing import Any

from iondyn.display import format_factor, format_value, is_undetermined

__all__ = ["POSITIONS", "Cell", "cell", "escape", "fmt", "parameter_cell", "table"]


def escape(text: Any) -> str:
    return html.escape("" if text is None else str(text))


def fmt(value: float | None, error: float | None = None, ratio: bool = True) -> str:
    """``value ± error`` rounded by the error (:func:`iondyn.display.format_value`)."""
    return format_value(value, error, ratio=ratio)


class Cell:
    """A number cell: its text, the value it sorts by, and an optional class and tooltip."""

    def __init__(self, text: str, value: float | None, cls: str = "", title: str = ""):
        self.text, self.value, self.cls, self.title = text, value, cls, title


def cell(value: float | None, error: float | None = None, ratio: bool = True) -> Any:
    """The cell of a result ``value ± error``: an undetermined value (error ≥ |value|) is
    marked ``undetermined`` — not listed as a result — with the raw numbers as its tooltip."""
    if ratio and is_undetermined(value, error):
        raw = f"{value:.3g} ± {error:.2g}" if math.isfinite(error) else f"{value:.3g} ± ∞"
        return Cell("undetermined", None, "undetermined", f"{raw}: the data do not fix it")
    return (fmt(value, error, ratio), value)


def table(header: list[str], rows: list[list[Any]], cls: str = "sortable") -> str:
    """Rows of cells: a str, a (text, sort value) tuple or a :class:`Cell` for numbers. The
    table sits in its own horizontally scrolling box, so a wide one never widens the page."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for c in row:
            if isinstance(c, tuple):
                c = Cell(c[0], c[1])
            if isinstance(c, Cell):
                v = c.value
                sort = "" if v is None or not math.isfinite(v) else repr(float(v))
                extra = f" {c.cls}" if c.cls else ""
                tip = f' title="{escape(c.title)}"' if c.title else ""
                cells.append(f'<td class="num{extra}" data-v="{sort}"{tip}>{escape(c.text)}</td>')
            else:
                cells.append(f"<td>{escape(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="table-wrap"><table class="{cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def parameter_cell(name: str, value: Any, err: Any, values: dict[str, tuple]) -> Any:
    """A parameter-table cell: τ0 of a TSDC relaxation with its multiplicative error
    (from ln τ0; undetermined with an undetermined Ea), positions (a peak's centre) without the
    undetermined rule, everything else rounded by its error and marked when undetermined."""
    if name == "tau0_s" and "ln_tau0" in values and value is not None:
        ea, ea_err = values.get("Ea_eV", (None, None))
        known = not is_undetermined(ea, ea_err)
        text = format_factor(value, values["ln_tau0"][1], determined=known)
        if not known:
            return Cell(text, None, "undetermined", "Ea is undetermined, and so is τ0")
        return (text, value)
    return cell(value, err, ratio=name not in POSITIONS)


#: Quantities for which zero is no special value (an error above the value is no verdict).
POSITIONS = ("center", "Tm_K", "ln_tau0")
