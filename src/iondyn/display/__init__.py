"""How iondyn shows numbers and results: one set of rules for the command line, the HTML
report and notebooks.

**Numbers with errors** (:func:`format_value`): the error is rounded to two significant digits
and the value to the same decimal place (``4113 ± 69``, ``2.81e-09 ± 6.0e-10``); a value whose
standard error is as large as the value itself (or infinite) is *undetermined* — the data do
not fix it — and is shown as ``undetermined (± 40)`` rather than as a result; a fixed
parameter (error 0) or a number without an error keeps 5 significant digits. Round-off left
by a computation that is zero by construction (``-3.7e-16 V`` beside volts, ``-0``) is shown
as 0 (:func:`clean_zero`).

**Names** (:func:`quantity_label`): stored names such as ``R_ohm`` or ``tau0_s`` become words
with units, ``R (Ω)``, ``τ0 (s)``.

**Results** (:class:`Summary`, :class:`Displayable`): every result object of iondyn describes
itself as a :class:`Summary` — a title, a few facts, its parameters with errors, optional
tables, the misfit verdict of its residuals and its warnings — and the mixin turns that into a
short ``repr`` (terminal) and a ``_repr_html_`` table (Jupyter). The arrays stay in the object
(``.to_dataframe()``, ``.to_dict()``); they are never dumped.

Modules: :mod:`iondyn.display.numbers` (numbers, names, the Nyquist zoom window, the Arrhenius
legend), :mod:`iondyn.display.summary` (:class:`Summary`, :class:`Displayable`) and
:mod:`iondyn.display.plots` (the one-axes matplotlib pictures behind ``.plot(ax=None)``;
imported only when something is plotted).
"""

from iondyn.display.numbers import (
    MISSING,
    arc_zoom,
    arrhenius_legend,
    clean_zero,
    format_factor,
    format_number,
    format_value,
    is_undetermined,
    quantity_label,
    relative_error_text,
)
from iondyn.display.summary import (
    Displayable,
    Param,
    Summary,
    collection_summary,
    html_table,
    summary_html,
    summary_text,
    text_table,
)

__all__ = [
    "MISSING",
    "Displayable",
    "Param",
    "Summary",
    "arc_zoom",
    "arrhenius_legend",
    "clean_zero",
    "collection_summary",
    "format_factor",
    "format_number",
    "format_value",
    "html_table",
    "is_undetermined",
    "quantity_label",
    "relative_error_text",
    "summary_html",
    "summary_text",
    "text_table",
]
