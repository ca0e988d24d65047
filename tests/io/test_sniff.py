"""Sniffing the kind of a file on its whole header and table (issue 12, part 2).

Every real file in tests/data is filed under its kind; exports whose last header line is
metadata (RelaxIS, Novocontrol, glow curves with a trailing comment) are still recognised;
a file that reads as impedance is never a peak spectrum; documentation is left out of folder
walks; two kinds that remain plausible make the file an error naming both and the way to
settle it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iondyn.errors import FileFormatError
from iondyn.io.sniff import AMBIGUITY_MARGIN, kind_evidence, sniff_kind
from iondyn.pipeline.analyze import collect_inputs, is_ignored_name
from iondyn.pipeline.analyzer import AnalysisOutcome, Analyzer
from iondyn.pipeline.kinds import KindError, detect_kind, register, unregister

DATA = Path(__file__).parents[1] / "data"

REAL = sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix != ".md")
EXPECTED = {"eis": "impedance", "series_s04147": "impedance", "tsdc": "tsdc", "xps": "peaks"}
EXPECTED["maps"] = "map"
EXPECTED["md"] = "md"


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_every_real_file_is_filed_under_its_kind(path):
    evidence = kind_evidence(path)
    assert evidence, f"{path.name}: nothing recognised"
    assert evidence[0].kind == EXPECTED[path.parent.name]
    assert evidence[0].reason
    if evidence[0].kind == "impedance":  # a file that reads as impedance is never peaks
        assert "peaks" not in {e.kind for e in evidence}


def test_names_line_above_a_metadata_line(tmp_path):
    # RelaxIS: the column names, then a metadata line, then the rows
    (e,) = kind_evidence(DATA / "eis" / "PEIS_LPSCl_IonBlocking_-25C_RelaxIS.txt")
    assert (e.kind, e.score) == ("impedance", 0.95) and "Frequency" in e.reason
    # a thermoluminescence glow curve whose last header line is a comment about the run
    glow = tmp_path / "glow.txt"
    t = np.arange(300.0, 600.0, 2.0)
    rows = "\n".join(f"{a:.1f}\t{b:.4g}" for a, b in zip(t, 1e3 * np.exp(-(((t - 450) / 20) ** 2))))
    glow.write_text(
        f"Temperature (K)\tTL intensity (a.u.)\n# heating rate 1 K/s, dose 5 Gy\n{rows}\n"
    )
    assert sniff_kind(glow) == "tsdc"


def test_impedance_named_columns_never_peaks(tmp_path):
    # a table whose names say impedance is impedance even when its rows cannot be read:
    # the impedance reader then names the problem (not a silent peak fit)
    bad = tmp_path / "bad.csv"
    bad.write_text("Freq (Hz),Z' (ohm),Z'' (ohm)\n1000,10,-1\n100,12\n10,15,-4\n")
    ev = kind_evidence(bad)
    assert [e.kind for e in ev] == ["impedance"]


def test_other_axes_and_bare_tables(tmp_path):
    bare = tmp_path / "bare.txt"
    bare.write_text("\n".join(f"{x:.3f} {np.exp(-x):.5f}" for x in np.linspace(280, 292, 50)))
    (e,) = kind_evidence(bare)
    assert e.kind == "peaks" and e.score < 0.5  # the weakest claim
    chrono = tmp_path / "chrono.csv"
    chrono.write_text("time/s,I/mA\n" + "\n".join(f"{t},{1 / (t + 1)}" for t in range(50)))
    assert kind_evidence(chrono) == []  # a chronoamperogram is no peak spectrum
    with pytest.raises(FileFormatError, match="not a data file iondyn recognises"):
        detect_kind(chrono)


def test_spectrum_image_is_its_own_kind():
    assert detect_kind(DATA / "maps" / "SI_data.npz") == "map"
    # recognised as a kind without an analyzer: an error of that kind, not "unknown"
    from iondyn.pipeline import analyzers_map

    unregister("map")
    try:
        with pytest.raises(KindError, match="recognised as map") as exc:
            detect_kind(DATA / "maps" / "SI_data.npz")
        assert exc.value.kind == "map"
    finally:
        register(analyzers_map.ANALYZER)


def test_two_plausible_kinds_are_an_error_naming_both(tmp_path):
    spectrum = tmp_path / "scan.txt"
    spectrum.write_text(
        "BE/eV\tcounts\n" + "\n".join(f"{290 - i * 0.1:.2f}\t{100 + i}" for i in range(40))
    )
    assert detect_kind(spectrum) == "peaks"

    def rival_sniff(path: Path) -> float:
        return 0.8 - AMBIGUITY_MARGIN / 2  # as sure as the peaks claim, within the margin

    rival = Analyzer(
        "xrd",
        "a rival claim",
        "1",
        rival_sniff,
        lambda p, s: AnalysisOutcome("xrd", {}),
        lambda r: [],
    )
    register(rival)
    try:
        with pytest.raises(KindError) as exc:
            detect_kind(spectrum)
        message = str(exc.value)
        assert "peaks" in message and "xrd" in message
        assert "--kind" in message and "[[rule]]" in message and str(spectrum) in message
    finally:
        unregister("xrd")


def test_documentation_is_left_out_of_folder_walks(tmp_path):
    for name in ("NOTICE.md", "README", "readme.txt", "LICENSE", "LICENCE.txt", "COPYING"):
        (tmp_path / name).write_text("text\n")
    data = tmp_path / "s.csv"
    data.write_text("1,2\n3,4\n")
    ignored: list[Path] = []
    assert collect_inputs([tmp_path], ignored=ignored) == [data.resolve()]
    assert len(ignored) == 6 and all(is_ignored_name(p) for p in ignored)
    # named explicitly, a README is kept (the user asked for it)
    assert collect_inputs([tmp_path / "README"]) == [(tmp_path / "README").resolve()]
