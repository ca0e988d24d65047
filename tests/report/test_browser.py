"""The report in a real headless browser at the widths of a laptop (1024 px) and a desktop
(1400 px): it loads without JavaScript errors, every plot element is rendered, the page is no
wider than the window (wide tables scroll in their own box) and no navigation anchor lands
under the sticky header (the page's own checks, written into #iondyn-status, read back from
the DOM that Chromium dumps)."""

from __future__ import annotations

import html
import json
import re
import subprocess

import pytest
from report_data import N_PEAK_FILES

from iondyn.report.html import write_report

pytestmark = pytest.mark.browser


WIDTHS = (1024, 1400)


def page_status(chromium: str, page, profile, width: int = 1400) -> dict:
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={width},900",
        "--virtual-time-budget=30000",
        "--dump-dom",
        page.as_uri() + "?check-anchors",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    tag = re.search(r'<div id="iondyn-status"([^>]*)>', done.stdout)
    assert tag, "no status element in the dumped DOM"
    attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', tag.group(1)))
    for key in ("errors", "hidden"):
        attrs[key] = json.loads(html.unescape(attrs.get(key, "null")) or "null")
    return attrs


@pytest.mark.parametrize("width", WIDTHS)
def test_report_renders_every_plot_and_fits_the_window(run_dir, chromium, tmp_path, width):
    page = tmp_path / "report.html"
    result = write_report(run_dir, page)
    status = page_status(chromium, page, tmp_path / "profile", width)
    assert status["errors"] == []
    assert int(status["plots"]) == result.plots == N_PEAK_FILES + 1 + 3 * 4 + 1
    assert int(status["rendered"]) == result.plots
    assert status["state"] == "ok"
    assert width - 40 <= int(status["width"]) <= width  # the window less its scroll bar
    assert int(status["overflow"]) == 0  # no horizontal scrolling of the page
    assert int(status["anchors"]) == 5 and status["hidden"] == []


def test_the_check_sees_broken_pages(run_dir, chromium, tmp_path):
    page = tmp_path / "broken.html"
    write_report(run_dir, page)
    text = page.read_text(encoding="utf-8")
    text = text.replace(
        "</main>",
        '<div class="iondyn-plot" id="fig-missing"></div>'
        "<script>no_such_function();</script>"
        '<div style="width: 3000px">a table without its scrolling box</div></main>',
    )
    # anchors without the padding that keeps them below the sticky header
    text = text.replace("</style>", "html { scroll-padding-top: 0 !important; }</style>")
    page.write_text(text, encoding="utf-8")
    status = page_status(chromium, page, tmp_path / "profile", 1024)
    assert status["state"] == "error"
    assert int(status["rendered"]) == int(status["plots"]) - 1
    assert any("no_such_function" in e for e in status["errors"])
    assert any("fig-missing" in e for e in status["errors"])
    assert int(status["overflow"]) > 1500
    assert len(status["hidden"]) == 5
