"""``iondyn analyze`` over a mixed folder of every real file in tests/data (the files of the
project's data collection, with their notices): each file is filed under its kind and stored
with the right status (issue 12, part 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

from iondyn.pipeline import run_batch
from iondyn.pipeline.store import ResultStore

DATA = Path(__file__).parents[1] / "data"

#: Files that must be errors, and why (everything else must be ok).
ERRORS = {
    "exampleDataBioLogic_MissingFreq.mpt": "column name is missing",
}
KIND_OF_FOLDER = {"eis": "impedance", "series_s04147": "impedance", "tsdc": "tsdc", "xps": "peaks"}
KIND_OF_FOLDER |= {"maps": "map", "md": "md"}

CONFIG = """
[tsdc]
beta_K_per_min = 5.0

[impedance]
drt = false

[md]
species = "Li"
frame_interval_fs = 100.0
"""


def test_every_real_file_is_filed_and_analysed_right(tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(DATA, mixed)
    notices = sorted(p.name for p in mixed.rglob("*.md"))
    assert notices  # the notices travel with the data and must be left out
    config = tmp_path / "lab.toml"
    config.write_text(CONFIG)
    summary = run_batch([mixed], tmp_path / "run", workers=2, config=config)
    files = [p for p in mixed.rglob("*") if p.is_file() and p.suffix != ".md"]
    assert summary.files == len(files) and summary.ignored == len(notices)
    with ResultStore(tmp_path / "run") as store:
        rows = {Path(r["path"]).name: r for r in store.query("SELECT * FROM current_files")}
    assert set(rows) == {p.name for p in files}
    for path in files:
        row = rows[path.name]
        assert row["kind"] == KIND_OF_FOLDER[path.parent.name], (path.name, row["kind"])
        if path.name in ERRORS:
            assert row["status"] == "error" and ERRORS[path.name] in row["message"], row["message"]
        else:
            assert row["status"] == "ok", (path.name, row["message"])
    assert summary.ok == len(files) - len(ERRORS)
