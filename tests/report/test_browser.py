"""The report in a real headless browser: it loads without JavaScript errors and every plot
element is rendered (the page's own check, written into #iondyn-status, read back from the
DOM that Chromium dumps)."""

from __future__ import annotations

import html
import json
import re
import subprocess

import pytest
from report_data import N_PEAK_FILES

from iondyn.report.html import write_report

pytestmark = pytest.mark.browser


def page_status(chromium: str, page, profile) -> dict:
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
        "--virtual-time-budget=30000",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    tag = re.search(r'<div id="iondyn-status"([^>]*)>', done.stdout)
    assert tag, "no status element in the dumped DOM"
    attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', tag.group(1)))
    attrs["errors"] = json.loads(html.unescape(attrs.get("errors", "null")) or "null")
    return attrs


def test_report_renders_every_plot_without_errors(run_dir, chromium, tmp_path):
    page = tmp_path / "report.html"
    result = write_report(run_dir, page)
    status = page_status(chromium, page, tmp_path / "profile")
    assert status["errors"] == []
    assert int(status["plots"]) == result.plots == N_PEAK_FILES + 1 + 3 * 4 + 1
    assert int(status["rendered"]) == result.plots
    assert status["state"] == "ok"


def test_the_check_sees_broken_pages(run_dir, chromium, tmp_path):
    page = tmp_path / "broken.html"
    write_report(run_dir, page)
    text = page.read_text(encoding="utf-8")
    text = text.replace(
        "</main>",
        '<div class="iondyn-plot" id="fig-missing"></div>'
        "<script>no_such_function();</script></main>",
    )
    page.write_text(text, encoding="utf-8")
    status = page_status(chromium, page, tmp_path / "profile")
    assert status["state"] == "error"
    assert int(status["rendered"]) == int(status["plots"]) - 1
    assert any("no_such_function" in e for e in status["errors"])
    assert any("fig-missing" in e for e in status["errors"])
