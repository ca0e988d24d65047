"""Accuracy of the TSDC decomposition against known truth (cases T1–T3, docs/tsdc.md).

"1 % noise" = Gaussian noise of σ = 1 % of the curve maximum at every point, not clipped.
"""

import numpy as np
import pytest
from tsdc_cases import BETA_T3, T3_GRID, replicas, t3_peaks

from iondyn.data import TSDCCurve
from iondyn.tsdc import TSDCFitter, TSDCPeak, heating_rate_from_fits, simulate
from iondyn.tsdc.model import ln_beta_tau0_from_peak
from iondyn.tsdc.simulate import simulate_current

BETA = 5.0 / 60.0


@pytest.fixture(scope="module")
def t3_fits():
    """100 noisy replicas of T3 fitted as one batch (K = 2, no classical methods)."""
    curves = replicas(T3_GRID, t3_peaks(), 100, seed=2024)
    return TSDCFitter(n_peaks=2, methods=False).fit(curves)


def test_case_t1_noise_free_recovers_everything():
    c = simulate([TSDCPeak(0.5, 1e-13, P0=3.0)], BETA, 100.0, 260.0, step=0.2)
    fit = TSDCFitter(n_peaks="auto").fit(c)[0]
    assert fit.n_peaks == 1 and fit.quality["converged"] and not fit.warnings
    (p,) = fit.peaks
    assert p["Tm_K"] == pytest.approx(170.50, abs=0.02)
    assert p["Ea_eV"] == pytest.approx(0.5, abs=1e-6)
    assert p["tau0_s"] == pytest.approx(1e-13, rel=1e-5)
    assert p["P0"] == pytest.approx(3.0, rel=1e-6)
    assert p["fwhm_K"] == pytest.approx(11.78, abs=0.01)
    assert p["corr_Ea_ln_tau0"] < -0.99  # the well-known compensation of Ea and ln τ0
    m = p["methods"]
    assert m["initial_rise"]["Ea_eV"] == pytest.approx(0.4985, abs=5e-4)
    assert m["bucci_fieschi"]["Ea_eV"] == pytest.approx(0.500, abs=0.001)
    assert m["bucci_fieschi"]["tau0_s"] == pytest.approx(1e-13, rel=0.02)


def test_case_t1_heating_rate_method_over_fitted_curves():
    rates = np.array([1.0, 2.0, 5.0, 10.0, 20.0]) / 60.0
    curves = [simulate([TSDCPeak(0.5, 1e-13)], b, 120.0, 220.0, step=0.25, t0=100.0) for b in rates]
    result = TSDCFitter(n_peaks=1, methods=False, t0=100.0).fit(curves)
    tm = result.array("Tm_K")[:, 0]
    assert np.allclose(tm, [163.21, 166.27, 170.50, 173.85, 177.32], atol=0.02)
    hr = heating_rate_from_fits(result)
    assert hr.Ea_eV == pytest.approx(0.500, abs=0.001)


def test_case_t3_two_peaks_with_one_percent_noise(t3_fits):
    ea = t3_fits.array("Ea_eV")
    tm = t3_fits.array("Tm_K")
    ok = np.all(np.abs(ea - [0.6, 0.9]) < 0.005, axis=1) & np.all(
        np.abs(tm - [280.0, 390.0]) < 0.5, axis=1
    )
    assert ok.sum() >= 95
    assert all(f.quality["converged"] for f in t3_fits)
    # no width warning on genuine first-order peaks
    assert sum(any("wider than" in w for w in f.warnings) for f in t3_fits) <= 5


def test_round_trip_every_parameter_within_three_reported_sigma(t3_fits):
    truth = {
        "Ea_eV": np.array([0.6, 0.9]),
        "Tm_K": np.array([280.0, 390.0]),
        "P0": np.array([1.0, 1.0]),
        "ln_tau0": ln_beta_tau0_from_peak(np.array([280.0, 390.0]), np.array([0.6, 0.9]))
        - np.log(BETA_T3),
    }
    inside = np.ones(len(t3_fits), dtype=bool)
    for name, want in truth.items():
        got = t3_fits.array(name)
        err = t3_fits.array(f"{name}_err")
        assert np.all(err > 0)
        inside &= np.all(np.abs(got - want) <= 3.0 * err, axis=1)
        # the reported errors are neither too small nor too large
        z = (got - want) / err
        assert 0.7 < np.std(z) < 1.4
    assert inside.mean() >= 0.95


def test_overlapping_peaks_30_K_apart():
    T = np.arange(200.0, 420.0 + 1e-9, 0.5)
    from iondyn.tsdc.model import tau0_from_peak

    peaks = [
        TSDCPeak(0.6, float(tau0_from_peak(280.0, 0.6, BETA_T3))),
        TSDCPeak(0.9, float(tau0_from_peak(310.0, 0.9, BETA_T3))),
    ]
    result = TSDCFitter(n_peaks=2, methods=False).fit(replicas(T, peaks, 20, seed=5))
    ea = result.array("Ea_eV")
    assert np.all(np.abs(ea - [0.6, 0.9]) < 0.02)


def test_curve_cut_five_kelvin_after_the_last_maximum():
    T = T3_GRID[T3_GRID <= 395.0]
    result = TSDCFitter(n_peaks=2, methods=False).fit(replicas(T, t3_peaks(), 20, seed=11))
    ea = result.array("Ea_eV")
    assert np.all(np.abs(ea / [0.6, 0.9] - 1.0) < 0.02)  # EMPeaks: +31 %
    # a single peak cut 5 K after its maximum, noise-free: exact
    c = simulate([TSDCPeak(0.5, 1e-13)], BETA, 100.0, 175.5, step=0.1)
    p = TSDCFitter(n_peaks=1).fit(c)[0].peaks[0]
    assert p["Ea_eV"] == pytest.approx(0.5, rel=1e-4)
    assert p["P0"] == pytest.approx(1.0, rel=1e-4)  # including the charge beyond the cut


def test_case_t2_distributed_ea_and_width_warning():
    c = simulate([TSDCPeak(0.5, 1e-13, sigma_eV=0.05)], BETA, 100.0, 300.0, step=0.5)
    plain = TSDCFitter(n_peaks=1, methods=False).fit(c)[0]
    assert any("wider than first-order kinetics allows" in w for w in plain.warnings)
    assert plain.peaks[0]["width_test"]["sigma_E_eV"] > 0.02
    dist = TSDCFitter(n_peaks=1, kinetics="gaussian", methods=False).fit(c)[0]
    (p,) = dist.peaks
    assert p["Ea_eV"] == pytest.approx(0.5, rel=0.05)
    assert p["sigma_E_eV"] == pytest.approx(0.05, rel=0.05)
    assert p["tau0_s"] == pytest.approx(1e-13, rel=0.5)
    assert p["Tm_K"] == pytest.approx(168.1, abs=0.1)  # case T2
    assert dist.quality["r2"] > 0.99999


def test_general_order_kinetics():
    c = simulate(
        [TSDCPeak(0.7, 1e-12, P0=2.0, order=1.6)], 0.1, 180.0, 400.0, step=0.5, noise=0.002, seed=3
    )
    p = TSDCFitter(n_peaks=1, kinetics="general", methods=False).fit(c)[0].peaks[0]
    assert p["order"] == pytest.approx(1.6, abs=3 * p["order_err"] + 0.01)
    assert p["Ea_eV"] == pytest.approx(0.7, abs=3 * p["Ea_eV_err"] + 0.005)
    assert p["P0"] == pytest.approx(2.0, rel=0.02)


def test_exponential_conduction_background():
    T = np.arange(120.0, 300.0 + 1e-9, 0.5)
    J = simulate_current(T, [TSDCPeak(0.5, 1e-13)], BETA, 120.0)
    J = J + 2e-3 * np.exp(-(0.8 / 8.617333262e-5) * (1.0 / T - 1.0 / T[-1]))
    rng = np.random.default_rng(4)
    J = J + rng.normal(0.0, 1e-3 * J.max(), T.size)
    fit = TSDCFitter(n_peaks=1, background="exponential").fit(TSDCCurve(T, J, "A", BETA))[0]
    assert fit.peaks[0]["Ea_eV"] == pytest.approx(0.5, abs=0.005)
    bg = fit.background
    assert bg["kind"] == "exponential"
    assert bg["Ec_eV"] == pytest.approx(0.8, abs=3 * bg["Ec_eV_err"] + 0.01)
    assert bg["b_hi"] == pytest.approx(2e-3, rel=0.05)


def test_negative_going_current_is_flipped_and_said():
    c = simulate([TSDCPeak(0.5, 1e-13)], BETA, 100.0, 260.0, step=0.5)
    neg = TSDCCurve(c.temperature_K, -c.current, "pA", BETA, "neg.csv")
    fit = TSDCFitter(n_peaks=1).fit(neg)[0]
    assert fit.sign == -1 and any("negative-going" in w for w in fit.warnings)
    assert fit.peaks[0]["Ea_eV"] == pytest.approx(0.5, abs=1e-5)
    assert fit.charge_unit == "pC"


def test_bad_input_to_the_fitter():
    from iondyn.errors import DataError, InputError

    T = np.linspace(100.0, 200.0, 50)
    with pytest.raises(DataError, match="zero everywhere"):
        TSDCFitter(n_peaks=1).fit(TSDCCurve(T, np.zeros_like(T), "A", BETA))
    c = simulate([TSDCPeak(0.5, 1e-13)], BETA, 100.0, 260.0, step=1.0)
    with pytest.raises(InputError, match="t0 = 150"):
        TSDCFitter(n_peaks=1, t0=150.0).fit(c)
    with pytest.raises(InputError, match="kinetics"):
        TSDCFitter(kinetics="second")
    with pytest.raises(InputError, match="heating rate must be positive"):
        TSDCFitter(beta=0.0).fit(c)
    with pytest.raises(DataError, match="need at least"):
        TSDCFitter(n_peaks=4).fit(TSDCCurve(T[:12], np.arange(12.0) + 1, "A", BETA))
    with pytest.raises(DataError, match="temperatures must increase"):
        TSDCCurve(T[::-1], T, "A", BETA)
