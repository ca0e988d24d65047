"""The tutorial notebook (docs/tutorial.ipynb) runs from top to bottom in a fresh kernel, from
the docs folder, with no network: every cell without an error, results shown as HTML tables
and pictures drawn inline."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_tutorial_runs_and_shows_tables_and_pictures():
    nb = nbformat.read(DOCS / "tutorial.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs for c in code)  # stored without outputs: the run makes them
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(DOCS)}}
    )
    client.execute()  # raises CellExecutionError with the cell and traceback on any error
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    pictures = [o for o in outputs if "image/png" in o.get("data", {})]
    results = [h for h in html if h.startswith('<div class="iondyn-result">')]
    for kind in ("DataList", "AutoFitResult", "KKResult", "TemperatureSeriesResult"):
        assert any(f"<strong>{kind}</strong>" in h for h in results), kind
    for kind in ("TSDCFit", "SpectrumFit", "SCLResult", "SpectrumMap", "DecompositionResult"):
        assert any(f"<strong>{kind}</strong>" in h for h in results), kind
    for kind in ("DiffusionResult",):
        assert any(f"<strong>{kind}</strong>" in h for h in results), kind
    assert any("residuals: MISFIT" in h for h in results)  # the misfit verdict is shown
    assert any("undetermined" in h for h in results)
    assert len(pictures) >= 11  # plots appear inline: no backend was switched under the user
    text = "\n".join(o.get("text", "") for o in outputs)
    assert "Traceback" not in text
