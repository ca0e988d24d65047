"""The check every result class of iondyn passes (issue 15): a short ``repr`` without array
dumps, an HTML table, a DataFrame, and ``.plot`` that draws on new axes or on the given ones."""

from __future__ import annotations

from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd


def assert_shows_itself(
    obj: Any, name: str, *plot_args: Any, max_lines: int = 30, rows: bool = False
) -> None:
    assert type(obj).__name__ == name
    text = repr(obj)
    assert text.startswith(f"<{name}: ") and "summary failed" not in text
    assert "array(" not in text and len(text) < 3000 and len(text.splitlines()) <= max_lines
    page = obj._repr_html_()
    assert page.startswith('<div class="iondyn-result">') and name in page
    df = obj.to_dataframe()
    assert isinstance(df, pd.DataFrame) and (len(df) > 0 or not rows)
    ax = obj.plot(*plot_args)
    assert isinstance(ax, matplotlib.axes.Axes) and ax.has_data()
    _, given = plt.subplots()
    assert obj.plot(*plot_args, ax=given) is given  # draws on the axes it is given
    plt.close("all")
