"""The width warning proposes only physical Gaussian g(Ea) (issue 13 item 5).

The free distributed-Ea fit of the width test pins down the peak's shape, not Ē (Ē and τ0
compensate): it proposed means of 2.7 and 4.5 eV on OHA_1. The proposal now follows from the
peak condition for vibrational τ0 and stays within 0.05–3 eV, or is left out.
"""

import re

import numpy as np
import pytest

from iondyn.io.tsdc import read_tsdc
from iondyn.tsdc import TSDCFitter, TSDCPeak, simulate
from iondyn.tsdc.distribution import EA_PLAUSIBLE_EV, gaussian_from_peak
from iondyn.tsdc.kinetics import width_warning
from iondyn.tsdc.model import gaussian_ea_current

OHA = "tests/data/tsdc/OHA_1.csv"
BETA = 5.0 / 60.0  # K/s; test case T2 and the rate the OHA_1 tests assume


def _t2_shape() -> tuple[float, float]:
    """Tm and FWHM of T2 (Ē 0.5 eV, σ 0.05 eV, τ0 1e−13 s, β 5 K/min, T0 100 K) from the model."""
    T = np.arange(100.0, 300.0, 0.005)
    J = gaussian_ea_current(T, 0.5, 0.05, 1e-13, 1.0, BETA, 100.0, n_nodes=256)
    i = int(np.argmax(J))
    above = T[J >= 0.5 * J[i]]
    return float(T[i]), float(above[-1] - above[0])


def _proposed_energies(warnings: list[str]) -> list[float]:
    """Every mean Ea a width warning proposes (eV): the value and its range over τ0."""
    out = []
    for w in warnings:
        out += [float(v) for v in re.findall(r"mean Ea of (\d+\.\d+) eV", w)]
        for lo, hi in re.findall(r"\((\d+\.\d+)–(\d+\.\d+) eV for τ0", w):
            out += [float(lo), float(hi)]
    return out


def test_t2_shape_and_proposal_from_the_peak_condition():
    tm, fwhm = _t2_shape()
    assert tm == pytest.approx(168.07, abs=0.02) and fwhm == pytest.approx(40.90, abs=0.02)
    g = gaussian_from_peak(tm, fwhm, BETA)
    assert g["tau0_s"] == pytest.approx(1e-13)
    assert g["Ea_eV"] == pytest.approx(0.5, abs=0.01)  # 0.493
    assert g["sigma_E_eV"] == pytest.approx(0.05, abs=0.002)
    lo, hi = g["Ea_eV_range"]
    assert 0.4 < lo < g["Ea_eV"] < hi < 0.6  # τ0 = 1e-11 … 1e-14 s
    assert g["tau0_range_s"] == pytest.approx([1e-14, 1e-11])


def test_no_proposal_where_no_physical_value_follows():
    # narrower than a first-order peak with a vibrational τ0: no σ_E > 0 exists
    assert gaussian_from_peak(170.5, 11.0, BETA) is None
    # a peak at 3000 K would need Ea ≈ 9 eV
    assert gaussian_from_peak(3000.0, 400.0, BETA) is None
    # only the τ0 whose Ē stays ≤ 3 eV are kept
    g = gaussian_from_peak(1030.0, 120.0, BETA)
    assert g is not None and g["Ea_eV_range"][1] <= 3.0 and g["tau0_range_s"][0] > 1e-14
    text = width_warning(2, 500.0, {"delta_bic": 50.0, "sigma_E_significance": 6.0, "Ea_eV": None})
    assert "too broad for first-order kinetics" in text and "mean" not in text
    assert not re.findall(r"\d\.\d+ eV", text.replace("0.05–3 eV", ""))


@pytest.mark.parametrize("n_peaks", [1, "auto"])
def test_broad_peak_warning_proposes_the_true_mean(n_peaks):
    c = simulate([TSDCPeak(0.5, 1e-13, sigma_eV=0.05)], BETA, 100.0, 300.0, step=0.5)
    fit = TSDCFitter(n_peaks=n_peaks, methods=False).fit(c)[0]
    flagged = [p["width_test"] for p in fit.peaks if "width_test" in p]
    assert flagged  # the distribution is detected
    for b in flagged:
        assert b["Ea_eV"] is None or abs(b["Ea_eV"] - 0.5) < 0.1
        assert b["Ea_eV"] is None or abs(b["sigma_E_eV"] - 0.05) < 0.01
    energies = _proposed_energies(fit.warnings)
    assert energies and all(abs(e - 0.5) < 0.1 for e in energies)


@pytest.mark.parametrize(
    ("n_peaks", "background"), [("auto", "none"), (4, "none"), (1, "exponential")]
)
def test_real_curve_proposals_stay_physical(n_peaks, background):
    # before: 1.28 eV (K = 2), 2.74 eV (K = 1, exponential background), 4.46 eV (K = 4)
    curve = read_tsdc(OHA, beta=BETA)
    fit = TSDCFitter(n_peaks=n_peaks, background=background).fit(curve)[0]
    flagged = [p["width_test"] for p in fit.peaks if "width_test" in p]
    assert flagged  # the main peak (≈ 380 K) is too broad for one Debye relaxation
    for b in flagged:
        if b["Ea_eV"] is not None:
            lo, hi = b["Ea_eV_range"]
            assert EA_PLAUSIBLE_EV[0] <= lo <= b["Ea_eV"] <= hi <= EA_PLAUSIBLE_EV[1]
            assert 0 < b["sigma_E_eV"] <= 0.5 * b["Ea_eV"]
    energies = _proposed_energies(fit.warnings)
    assert all(EA_PLAUSIBLE_EV[0] <= e <= EA_PLAUSIBLE_EV[1] for e in energies)
