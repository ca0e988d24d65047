"""Real impedance exports from other labs (issue 12, part 3): Novocontrol/WinDETA, RelaxIS,
Gamry drift-corrected tables and malformed Gamry rows.

Expected values are read in each test from the file text with plain string operations,
independent of iondyn's parsers.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from iondyn.constants import EPS0
from iondyn.errors import FileFormatError
from iondyn.io.impedance import read_impedance

DATA = Path(__file__).parents[1] / "data" / "eis"
NOVO = ["novocontrol_LAGP_Example2b.txt", "novocontrol_Example2a.txt"]


def _novocontrol_rows(name: str) -> np.ndarray:
    lines = (DATA / name).read_text(encoding="latin-1").splitlines()
    start = next(i for i, ln in enumerate(lines) if "Freq." in ln) + 1
    return np.array([[float(v) for v in ln.split("\t")] for ln in lines[start:] if ln.strip()])


@pytest.mark.parametrize("name", NOVO)
def test_novocontrol_exports(name):
    (s,) = read_impedance(DATA / name)
    rows = _novocontrol_rows(name)
    assert s.metadata["format"] == "novocontrol" and s.instrument == "Novocontrol"
    assert len(s.frequency) == len(rows)
    np.testing.assert_allclose(s.frequency, rows[:, 0], rtol=1e-12)
    np.testing.assert_allclose(s.z.real, rows[:, 1], rtol=1e-12)
    np.testing.assert_allclose(s.z.imag, rows[:, 2], rtol=1e-12)  # Zs'' < 0: as written
    assert np.all(s.z.imag[:10] < 0)


def test_novocontrol_geometry_and_temperature_from_the_header():
    (s,) = read_impedance(DATA / "novocontrol_Example2a.txt")
    # "Diameter[mm]: 1.300e+01  Thickness[mm]: 7.500e-01"; title "s05751_25deg"
    assert s.thickness_cm == pytest.approx(0.075)
    assert s.area_cm2 == pytest.approx(math.pi * 0.65**2)
    (t,) = read_impedance(DATA / "series_s04147" / "s04147-140deg.txt")
    assert t.temperature_K == pytest.approx(413.15)


def _with_columns(tmp_path: Path, names: str, convert) -> Path:
    """Example2a rewritten with other Novocontrol quantities computed from its Z columns."""
    rows = _novocontrol_rows("novocontrol_Example2a.txt")
    f, z = rows[:, 0], rows[:, 1] + 1j * rows[:, 2]
    a, b = convert(f, z)
    head = (DATA / "novocontrol_Example2a.txt").read_text(encoding="latin-1").splitlines()[:3]
    body = "\n".join(f" {x:.9e}\t {y:.9e}\t {w:.9e}" for x, y, w in zip(f, a, b))
    path = tmp_path / "converted.txt"
    path.write_text("\n".join([*head, names, body]) + "\n", encoding="latin-1")
    return path


@pytest.mark.parametrize("quantity", ["eps", "sig", "m"])
def test_permittivity_conductivity_and_modulus_columns(tmp_path, quantity):
    area_m2, d_m = math.pi * 0.0065**2, 0.75e-3
    c0 = EPS0 * area_m2 / d_m

    def convert(f, z):
        w = 2 * np.pi * f
        if quantity == "eps":
            eps = 1 / (1j * w * c0 * z)  # ε* = ε' − iε''
            return eps.real, -eps.imag
        if quantity == "sig":
            sig = (d_m * 100) / (area_m2 * 1e4 * z)  # S/cm
            return sig.real, sig.imag
        m = 1j * w * c0 * z
        return m.real, m.imag

    names = {
        "eps": "     Freq.[Hz]\t      Eps'\t     Eps''",
        "sig": "     Freq.[Hz]\t      Sig'[S/cm]\t     Sig''[S/cm]",
        "m": "     Freq.[Hz]\t      M'\t     M''",
    }[quantity]
    (s,) = read_impedance(_with_columns(tmp_path, names, convert))
    rows = _novocontrol_rows("novocontrol_Example2a.txt")
    np.testing.assert_allclose(s.z, rows[:, 1] + 1j * rows[:, 2], rtol=1e-7)
    assert "C0" in s.metadata["converted_from"]


def test_permittivity_without_geometry_is_a_clear_error(tmp_path):
    path = tmp_path / "eps.txt"
    path.write_text("title\nFixed value(s) :  AC Volt\n Freq.[Hz]\t Eps'\t Eps''\n1e3\t10\t1\n")
    with pytest.raises(FileFormatError, match="needs the sample geometry") as exc:
        read_impedance(path)
    assert str(path) in str(exc.value)


def test_novocontrol_auto_fit_agrees_with_the_authors():
    # Adediwura et al. (EISFitpython, Example 2b): f ≥ 5 Hz, (R1‖Q1)+(R2‖Q2)+Q3, modulus weight:
    # R1 = 4.471e4 ± 272 Ω, R2 = 4.712e4 ± 549 Ω
    from iondyn.eis.autofit import AutoFitter

    (s,) = read_impedance(DATA / "novocontrol_LAGP_Example2b.txt")
    keep = s.frequency >= 5
    s.frequency, s.z = s.frequency[keep], s.z[keep]
    res = AutoFitter().fit(s)
    fit = res.fit
    arcs = sorted((fit.parameters[k], fit.errors[k]) for k in fit.parameters if k in ("R1", "R2"))
    assert len(arcs) == 2
    for (value, error), (published, perr) in zip(arcs, [(4.471e4, 272), (4.712e4, 549)]):
        assert abs(value - published) < perr
        assert error == pytest.approx(perr, rel=0.1)


def test_relaxis_export_reads_its_named_columns():
    (r,) = read_impedance(DATA / "PEIS_LPSCl_IonBlocking_-25C_RelaxIS.txt")
    (t,) = read_impedance(DATA / "PEIS_LPSCl_IonBlocking_-25C.txt")
    assert r.metadata["frequency_column"] == "Data: Frequency"
    assert "columns_assumed" not in r.metadata  # the names were read, not guessed
    a, b = np.argsort(r.frequency), np.argsort(t.frequency)
    np.testing.assert_allclose(r.frequency[a], t.frequency[b], rtol=1e-6)
    np.testing.assert_allclose(r.z[a], t.z[b], rtol=1e-6)


def test_gamry_malformed_rows_are_named_not_dropped_silently():
    (s,) = read_impedance(DATA / "gamry_eispot_malformed_tail.dta")
    lines = (DATA / "gamry_eispot_malformed_tail.dta").read_text(encoding="latin-1").splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("ZCURVE")) + 3
    good = [ln for ln in lines[start:] if ln.startswith("\t")]
    loose = [i + 1 for i, ln in enumerate(lines) if i >= start and ln.strip() and ln[0] != "\t"]
    assert len(good) == len(s.frequency) == 6 and len(loose) == 4
    (warning,) = s.metadata["warnings"]
    assert "4 row(s)" in warning and f"lines {loose[0]}–{loose[-1]}" in warning
    assert s.metadata["malformed_lines"] == loose


def test_gamry_drift_corrected_columns_are_the_data(tmp_path):
    raw = (DATA / "exampleDataGamry.DTA").read_bytes().decode("latin-1").split("\n")
    start = next(i for i, ln in enumerate(raw) if ln.startswith("ZCURVE"))
    out = raw[: start + 1]
    out.append(raw[start + 1].rstrip("\r") + "\tZrealDrCor\tZimagDrCor\r")
    out.append(raw[start + 2].rstrip("\r") + "\tohm\tohm\r")
    i = start + 3
    while raw[i].startswith("\t"):
        f = raw[i].rstrip("\r").split("\t")
        out.append(raw[i].rstrip("\r") + f"\t{float(f[4]) * 1.01:.6g}\t{float(f[5]) * 0.99:.6g}\r")
        i += 1
    path = tmp_path / "drift.DTA"
    path.write_bytes("\n".join(out + raw[i:]).encode("latin-1"))
    (plain,) = read_impedance(DATA / "exampleDataGamry.DTA")
    (s,) = read_impedance(path)
    assert s.metadata["drift_corrected"] is True
    assert s.metadata["z_columns_drift_corrected"] == ["ZrealDrCor", "ZimagDrCor"]
    np.testing.assert_allclose(s.z.real, 1.01 * plain.z.real, rtol=1e-5)
    np.testing.assert_allclose(s.z.imag, 0.99 * plain.z.imag, rtol=1e-5)
