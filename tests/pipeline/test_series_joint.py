"""``iondyn analyze`` fits a temperature series with the same logic as ``eis series`` (issue
13, item 1): one circuit for the series, processes labelled by their capacitance ratio, the
published activation energies of the real s04147 pellet series; an unchanged series is taken
from the cache, a changed file falls back to the stored per-file results with a warning."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

from iondyn.pipeline import run_batch
from iondyn.pipeline.store import ResultStore

DATA = Path(__file__).parents[1] / "data" / "eis" / "series_s04147"
CONFIG = f"""
[impedance]
thickness_cm = 0.21
area_cm2 = {math.pi * 0.4**2:.6f}
kk = false
drt = false
"""


def _series(run: Path) -> dict[str, dict]:
    with ResultStore(run) as store:
        rows = store.query("SELECT * FROM series")
    return {r["item"]: dict(r) for r in rows}


def test_analyze_fits_the_series_jointly(tmp_path):
    data = tmp_path / "s04147"
    shutil.copytree(DATA, data)
    config = tmp_path / "lab.toml"
    config.write_text(CONFIG)
    run = tmp_path / "run"
    summary = run_batch([data], run, workers=0, config=config)
    assert summary.ok == 7 and summary.series == 2
    rows = _series(run)
    assert set(rows) == {"bulk", "grain boundary"}
    for item, (ea, err) in {"bulk": (0.5869, 0.0163), "grain boundary": (0.8919, 0.0025)}.items():
        row = rows[item]
        assert row["n_points"] == 7 and row["quantity"] == "sigma_S_per_cm"
        assert abs(row["Ea_eV"] - ea) < math.hypot(err, row["Ea_eV_err"])
        warnings = json.loads(row["warnings_json"])
        assert any("series circuit p(R1,CPE1)-p(R2,CPE2)-CPE3" in w for w in warnings)
        assert {p["circuit"] for p in json.loads(row["points_json"])} == {
            "p(R1,CPE1)-p(R2,CPE2)-CPE3"
        }

    # nothing changed: the cached series is reused as it was
    run_batch([data], run, workers=0, config=config)
    again = _series(run)
    assert {k: v["Ea_eV"] for k, v in again.items()} == {k: v["Ea_eV"] for k, v in rows.items()}

    # a refit needed (cache cleared) after a file was edited since its analysis: no joint fit,
    # the stored per-file results, and the reason in the warnings
    from iondyn.pipeline.series import update_series

    target = data / "s04147-200deg.txt"
    target.write_bytes(target.read_bytes() + b"\n")
    with ResultStore(run) as store:
        with store.transaction() as db:
            db.execute("DELETE FROM meta WHERE key LIKE 'series:%'")
        update_series(store)
    fallback = _series(run)
    assert fallback, "the per-file fallback still gives Arrhenius fits"
    for row in fallback.values():
        assert any("changed since it was analysed" in w for w in json.loads(row["warnings_json"]))
