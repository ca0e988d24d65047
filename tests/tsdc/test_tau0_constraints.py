"""τ0 (frequency factor s = 1/τ0) held fixed or shared by all peaks (issue 13 item 5).

Two first-order peaks with the same τ0 = 1e−13 s, Ea = 0.6 and 0.9 eV, β = 0.1 K/s
(Tm = 204.6 and 303.5 K), 1 % noise, 150–400 K every 0.5 K.
"""

import numpy as np
import pytest
from tsdc_cases import replicas

from iondyn.errors import InputError
from iondyn.tsdc import TSDCFitter, TSDCPeak, simulate
from iondyn.tsdc.model import ln_beta_tau0_from_peak, peak_energy

TAU0 = 1e-13
EA = np.array([0.6, 0.9])
PEAKS = [TSDCPeak(0.6, TAU0), TSDCPeak(0.9, TAU0)]
GRID = np.arange(150.0, 400.0 + 1e-9, 0.5)
FAST = {"n_peaks": 2, "methods": False, "width_test": False}


@pytest.fixture(scope="module")
def curves():
    return replicas(GRID, PEAKS, 20, seed=21)


@pytest.fixture(scope="module")
def fits(curves):
    return {
        "free": TSDCFitter(**FAST).fit(curves),
        "fixed": TSDCFitter(tau0_s=TAU0, **FAST).fit(curves),
        "shared": TSDCFitter(shared_tau0=True, **FAST).fit(curves),
    }


def test_peak_energy_inverts_the_peak_condition():
    tm = np.array([120.0, 204.6, 303.5, 650.0])
    ea = np.array([0.3, 0.6, 0.9, 2.8])
    lbt = ln_beta_tau0_from_peak(tm, ea)
    assert np.allclose(peak_energy(tm, lbt), ea, rtol=1e-12)
    _, d_t, d_l = peak_energy(tm, lbt, derivatives=True)
    h = 1e-5
    assert np.allclose(d_t, (peak_energy(tm + h, lbt) - peak_energy(tm - h, lbt)) / (2 * h))
    assert np.allclose(d_l, (peak_energy(tm, lbt + h) - peak_energy(tm, lbt - h)) / (2 * h))
    # Tm·e^{−L} beyond the float range (L = −800) stays finite
    assert np.isfinite(peak_energy(np.array([300.0]), np.array([-800.0]))).all()


def test_fixed_tau0_recovers_both_energies_and_says_so(fits):
    assert np.all(np.abs(fits["fixed"].array("Ea_eV") - EA) < 0.005)
    f = fits["fixed"][0]
    assert f.tau0["mode"] == "fixed" and f.tau0["fixed_peaks"] == [1, 2]
    for p, ea in zip(f.peaks, EA):
        assert abs(p["Ea_eV"] - ea) < 0.005
        assert p["tau0_status"] == "fixed"
        assert p["tau0_s"] == pytest.approx(TAU0, rel=1e-12)
        assert p["tau0_s_err"] == 0.0 and p["ln_tau0_err"] == 0.0
        assert p["frequency_factor_per_s"] == pytest.approx(1.0 / TAU0)
        assert np.isnan(p["corr_Ea_ln_tau0"])  # no correlation with a constant
    assert f.quality["n_params"] == 4  # (A, Tm) per peak
    doc = f.to_dict()
    assert doc["tau0"]["mode"] == "fixed" and doc["peaks"][0]["corr_Ea_ln_tau0"] is None
    assert {"Ea_eV", "Ea_eV_err", "tau0_s", "ln_tau0", "corr_Ea_ln_tau0"} <= set(doc["peaks"][0])


def test_fixed_tau0_errors_are_smaller_and_honest(fits):
    truth = EA[None, :]
    free_err = fits["free"].array("Ea_eV_err")
    fixed_err = fits["fixed"].array("Ea_eV_err")
    assert np.all(fixed_err < free_err / 5.0)  # ≈ 0.05 vs 2–4 meV
    # the errors describe the scatter over the replicas in both cases
    for key, err in (("free", free_err), ("fixed", fixed_err)):
        z = (fits[key].array("Ea_eV") - truth) / err
        assert np.all(np.abs(z) < 4.0), key
        assert np.all((z.std(axis=0) > 0.5) & (z.std(axis=0) < 1.7)), key
    scatter_fixed = fits["fixed"].array("Ea_eV").std(axis=0)
    scatter_free = fits["free"].array("Ea_eV").std(axis=0)
    assert np.all(scatter_fixed < scatter_free / 5.0)


def test_shared_tau0_is_recovered_within_its_error(fits):
    first = fits["shared"][0]
    assert np.all(np.abs([p["Ea_eV"] for p in first.peaks] - EA) < 0.005)
    for f in fits["shared"]:
        t = f.tau0
        assert t["mode"] == "shared" and t["shared_peaks"] == [1, 2]
        z = (t["ln_tau0"] - np.log(TAU0)) / t["ln_tau0_err"]
        assert abs(z) < 3.0
        for p, ea in zip(f.peaks, EA):
            assert p["tau0_status"] == "shared"
            assert p["tau0_s"] == pytest.approx(t["tau0_s"], rel=1e-12)
            assert p["ln_tau0_err"] == pytest.approx(t["ln_tau0_err"])
            assert abs(p["Ea_eV"] - ea) < 3.0 * p["Ea_eV_err"]
        assert f.quality["n_params"] == 5
    # the joint covariance: one τ0 for two peaks is known better than each peak's own
    shared = np.array([f.tau0["ln_tau0_err"] for f in fits["shared"]])
    own = fits["free"].array("ln_tau0_err")
    assert np.all(shared < own.min(axis=1))


def test_frequency_factor_and_per_peak_values(curves):
    c = curves[:1]
    by_s = TSDCFitter(frequency_factor_per_s=1.0 / TAU0, **FAST).fit(c)[0]
    by_tau = TSDCFitter(tau0_s=TAU0, **FAST).fit(c)[0]
    assert by_s.peaks[0]["Ea_eV"] == pytest.approx(by_tau.peaks[0]["Ea_eV"], rel=1e-9)
    fitter = TSDCFitter(tau0_s=[TAU0, None], methods=False, width_test=False)
    assert fitter.n_peaks == 2  # a list sets K
    mixed = fitter.fit(c)[0]
    assert [p["tau0_status"] for p in mixed.peaks] == ["fixed", "free"]
    assert mixed.peaks[1]["ln_tau0_err"] > 0 and mixed.quality["n_params"] == 5


def test_a_wrong_fixed_tau0_fits_worse(curves):
    c = curves[:1]
    free = TSDCFitter(**FAST).fit(c)[0]
    right = TSDCFitter(tau0_s=TAU0, **FAST).fit(c)[0]
    wrong = TSDCFitter(tau0_s=1e-11, **FAST).fit(c)[0]
    assert right.quality["bic"] < free.quality["bic"]  # two parameters fewer, same fit
    assert wrong.quality["bic"] > free.quality["bic"] + 100.0


def test_fixed_tau0_sharpens_a_gaussian_distribution_of_ea():
    c = simulate(
        [TSDCPeak(0.5, TAU0, sigma_eV=0.05)], 5 / 60, 100.0, 300.0, step=0.5, noise=0.01, seed=1
    )
    kw = {"n_peaks": 1, "kinetics": "gaussian", "methods": False}
    free = TSDCFitter(**kw).fit(c)[0].peaks[0]
    fixed = TSDCFitter(tau0_s=TAU0, **kw).fit(c)[0].peaks[0]
    assert fixed["tau0_status"] == "fixed"
    assert fixed["Ea_eV"] == pytest.approx(0.5, abs=0.005)
    assert fixed["sigma_E_eV"] == pytest.approx(0.05, abs=0.002)
    assert fixed["Ea_eV_err"] < free["Ea_eV_err"] / 20.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tau0_s": TAU0, "shared_tau0": True}, "exclude each other"),
        ({"tau0_s": TAU0, "frequency_factor_per_s": 1e13}, "exclude each other"),
        ({"tau0_s": -1.0}, "must be a positive number"),
        ({"frequency_factor_per_s": 0.0}, "must be a positive number"),
        ({"tau0_s": "free"}, "must be a positive number"),
        ({"tau0_s": []}, "empty list"),
        ({"tau0_s": [None, "free"]}, "fixes no peak"),
        ({"tau0_s": "1e-13", "shared_tau0": True}, "exclude each other"),
        ({"tau0_s": TAU0, "kinetics": "general"}, "kinetics 'first' or 'gaussian'"),
        ({"tau0_s": [TAU0, TAU0], "n_peaks": 3}, "2 τ0 values given for n_peaks = 3"),
    ],
)
def test_bad_tau0_options(options, message):
    with pytest.raises(InputError, match=message):
        TSDCFitter(**options)
