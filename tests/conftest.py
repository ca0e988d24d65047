"""Shared test helpers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def gaussian_peak(x, center, fwhm, area):
    """Area-normalised Gaussian line (test oracle, independent of iondyn)."""
    s = fwhm / FWHM_PER_SIGMA
    return area * np.exp(-0.5 * ((x - center) / s) ** 2) / (s * np.sqrt(2 * np.pi))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    """A small analysed run folder (tests/report/report_data.py) for the report tests."""
    from report_data import make_run

    return make_run(tmp_path_factory.mktemp("report_run"))


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """A headless Chromium; installed with apt-get when missing and possible (``make test``
    does this before the tests), otherwise the browser tests fail saying so."""
    path = _find_chromium()
    if path is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
            env=env,
            check=False,
            timeout=1200,
        )
        path = _find_chromium()
    if path is None:
        pytest.fail("the browser tests need Chromium: run `make test` or apt-get install chromium")
    return path
