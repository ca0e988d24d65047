"""CircuitFitter options, weights, result objects and error handling."""

from __future__ import annotations

import json

import numpy as np
import pytest

from iondyn.data import ImpedanceSpectrum
from iondyn.eis.fit import CircuitFitter, crop_spectrum, initial_guess, residual_weights
from iondyn.eis.simulate import simulate_spectrum
from iondyn.errors import CircuitParseError, DataError, FitError, InputError
from iondyn.serialize import to_jsonable

RC = "R0-p(R1,CPE1)-CPE2"
RC_TRUE = {"R0": 50.0, "R1": 2e3, "CPE1_Q": 2e-9, "CPE1_n": 0.9, "CPE2_Q": 5e-6, "CPE2_n": 0.75}


@pytest.fixture(scope="module")
def spectrum():
    return simulate_spectrum(RC, RC_TRUE, fmax=1e6, fmin=0.1, noise=0.005, seed=11)


def test_weights_follow_their_definitions():
    z = np.array([3.0 - 4.0j, -1.0 + 2.0j, 1e-9 - 1.0j])
    w_re, w_im, n = residual_weights(z, "unit")
    assert np.all(w_re == 1) and np.all(w_im == 1) and n == 0
    w_re, w_im, n = residual_weights(z, "modulus")
    np.testing.assert_allclose(w_re, 1 / np.abs(z))
    np.testing.assert_allclose(w_im, 1 / np.abs(z))
    w_re, w_im, n = residual_weights(z, "proportional")
    np.testing.assert_allclose(w_re[:2], 1 / np.abs(z.real[:2]))
    np.testing.assert_allclose(w_im, 1 / np.abs(z.imag))
    assert w_re[2] == pytest.approx(1 / (1e-3 * abs(z[2])))  # floored at 1e-3 |Z|
    assert n == 1
    with pytest.raises(InputError, match="unknown weight"):
        residual_weights(z, "sqrt")


@pytest.mark.parametrize("weight", ["unit", "modulus", "proportional"])
def test_each_weight_recovers_a_noise_free_spectrum(weight):
    clean = simulate_spectrum(RC, RC_TRUE, fmax=1e6, fmin=0.1)
    start = {k: v * (1.5 if i % 2 else 0.7) for i, (k, v) in enumerate(RC_TRUE.items())}
    r = CircuitFitter(RC, weight=weight).fit(clean, start)
    assert r.converged and r.weight == weight
    for k, v in RC_TRUE.items():
        assert r.parameters[k] == pytest.approx(v, rel=1e-6)
    assert r.chi2 < 1e-12 * (1.0 if weight != "unit" else np.max(np.abs(clean.z)) ** 2)


def test_fixed_parameters_are_held_and_excluded(spectrum):
    r = CircuitFitter(RC, weight="modulus", fixed={"CPE2_n": 0.75, "R0": 50.0}).fit(spectrum)
    assert r.parameters["CPE2_n"] == 0.75 and r.parameters["R0"] == 50.0
    assert r.fixed["CPE2_n"] and r.fixed["R0"] and not r.fixed["R1"]
    assert r.errors["CPE2_n"] == 0.0
    assert r.free_names == ["R1", "CPE1_Q", "CPE1_n", "CPE2_Q"]
    assert r.covariance.shape == (4, 4) and r.dof == 2 * r.n_points - 4
    d = r.to_dict()["parameters"]
    assert d["CPE2_n"] == {"value": 0.75, "err": None, "unit": "", "fixed": True}
    assert d["R1"]["fixed"] is False and d["R1"]["err"] > 0
    # the same fit with a fixed value off the truth is visibly worse
    worse = CircuitFitter(RC, weight="modulus", fixed={"CPE2_n": 0.6}).fit(spectrum)
    assert worse.chi2 > 10 * r.chi2


def test_bounds_are_respected_and_reported(spectrum):
    bounds = {"CPE1_n": (0.5, 0.85), "R1": (None, 1.5e3)}
    r = CircuitFitter(RC, weight="modulus", bounds=bounds).fit(spectrum, RC_TRUE)
    assert 0.5 <= r.parameters["CPE1_n"] <= 0.85 + 1e-12
    assert r.parameters["R1"] <= 1.5e3 * (1 + 1e-9)
    assert set(r.at_bounds) >= {"CPE1_n"}
    assert any("CPE1_n ran to its upper bound" in w for w in r.warnings)
    assert any("moved inside their bounds" in w for w in r.warnings)  # start R1 = 2e3 > 1.5e3
    with pytest.raises(InputError, match="not below"):
        CircuitFitter(RC, bounds={"R1": (10.0, 1.0)})
    with pytest.raises(InputError, match="upper bound must be > 0"):
        CircuitFitter(RC, bounds={"R1": (None, -1.0)})
    with pytest.raises(InputError, match="unknown parameter"):
        CircuitFitter(RC, bounds={"R9": (1.0, 2.0)})


def test_tiny_and_huge_values_in_one_model_are_not_frozen():
    # pF capacitance and GΩ resistance together (peer tools freeze such parameters)
    circuit = "R0-p(R1,C1)-p(R2,CPE2)"
    true = {"R0": 1e3, "R1": 2e9, "C1": 3e-13, "R2": 5e6, "CPE2_Q": 2e-10, "CPE2_n": 0.8}
    s = simulate_spectrum(circuit, true, fmax=1e7, fmin=1e-3, noise=0.002, seed=5)
    start = {k: v * (4.0 if i % 2 else 0.25) for i, (k, v) in enumerate(true.items())}
    start["CPE2_n"] = 0.7
    r = CircuitFitter(circuit, weight="modulus").fit(s, start)
    assert r.converged
    for k in ("R1", "C1", "R2", "CPE2_Q"):
        assert abs(r.parameters[k] - true[k]) < 4 * r.errors[k], k
        assert abs(np.log(r.parameters[k] / start[k])) > 0.5  # every one of them moved


def test_multi_start_keeps_the_lowest_chi2(spectrum):
    bad = {"R0": 5e3, "R1": 10.0, "CPE1_Q": 1e-4, "CPE1_n": 0.3, "CPE2_Q": 1e-12, "CPE2_n": 0.3}
    single = CircuitFitter(RC, weight="modulus").fit(spectrum, bad)
    multi = CircuitFitter(RC, weight="modulus", n_starts=8, random_state=1).fit(spectrum, bad)
    assert len(multi.start_chi2) == 8 and len(single.start_chi2) == 1
    assert multi.chi2 == pytest.approx(min(multi.start_chi2), rel=1e-9)
    assert multi.chi2 <= single.chi2 * (1 + 1e-9)
    good = CircuitFitter(RC, weight="modulus").fit(spectrum, RC_TRUE)
    assert multi.chi2 == pytest.approx(good.chi2, rel=1e-6)


def test_frequency_window_and_too_few_points(spectrum):
    r = CircuitFitter(RC, fmin=10.0, fmax=1e5).fit(spectrum, RC_TRUE)
    assert r.frequency.min() >= 10.0 and r.frequency.max() <= 1e5
    assert r.n_points == int(np.sum((spectrum.frequency >= 10) & (spectrum.frequency <= 1e5)))
    with pytest.raises(DataError, match="no points between"):
        crop_spectrum(spectrum, fmin=1e8)
    with pytest.raises(FitError, match="cannot determine 6 free parameters"):
        CircuitFitter(RC, fmin=7e5).fit(spectrum, RC_TRUE)
    with pytest.raises(InputError, match="must be below"):
        CircuitFitter(RC, fmin=10.0, fmax=1.0)


def test_bad_inputs_raise_iondyn_errors(spectrum):
    with pytest.raises(CircuitParseError):
        CircuitFitter("R0-p(R1,C1")
    with pytest.raises(InputError, match="unknown weight"):
        CircuitFitter(RC, weight="sqrt")
    with pytest.raises(InputError, match="unknown parameter 'R7'"):
        CircuitFitter(RC).fit(spectrum, {"R7": 1.0})
    with pytest.raises(InputError, match="must be a positive number"):
        CircuitFitter(RC).fit(spectrum, {"R1": -5.0})
    with pytest.raises(InputError, match="fixed value of R1"):
        CircuitFitter(RC, fixed={"R1": 0.0})
    with pytest.raises(InputError, match="every parameter is fixed"):
        CircuitFitter("R1", fixed={"R1": 3.0})
    with pytest.raises(InputError, match="ImpedanceSpectrum"):
        CircuitFitter(RC).fit(np.ones(3))  # type: ignore[arg-type]


def test_result_exports(spectrum):
    r = CircuitFitter(RC, weight="modulus").fit(spectrum, RC_TRUE)
    d = r.to_dict()
    assert d["circuit"] == RC and d["spectrum"] == spectrum.index and d["source"] == "simulated"
    assert set(d["parameters"]) == set(RC_TRUE)
    assert set(d["quality"]) >= {"chi2", "chi2_reduced", "converged", "n_points"}
    assert d["quality"]["n_points"] == spectrum.n_points and d["quality"]["converged"] is True
    names = d["correlations"]["names"]
    matrix = np.array(d["correlations"]["matrix"], dtype=float)
    assert names == r.free_names and matrix.shape == (6, 6)
    np.testing.assert_allclose(np.diag(matrix), 1.0)
    np.testing.assert_allclose(matrix, matrix.T, atol=1e-12)
    json.dumps(to_jsonable(d), allow_nan=False)
    df = r.to_dataframe()
    assert list(df["name"]) == list(RC_TRUE) and {"value", "err", "unit", "fixed"} <= set(df)
    np.testing.assert_allclose(df["value"], r.values)
    fit_df = r.fit_dataframe()
    assert len(fit_df) == r.n_points
    np.testing.assert_allclose(r.residuals, (r.z - r.z_fit) / np.abs(r.z))
    # covariance and errors agree; chi2 is the sum of the squared weighted residuals
    np.testing.assert_allclose(np.sqrt(np.diag(r.covariance)), [r.errors[k] for k in r.free_names])
    assert r.chi2 == pytest.approx(float(r.weighted_residuals @ r.weighted_residuals))
    assert r.chi2_reduced == pytest.approx(r.chi2 / r.dof)
    # the model can be evaluated anywhere
    f = np.logspace(7, -2, 30)
    np.testing.assert_allclose(r.impedance(f), r.circuit.impedance_at(f, r.parameters))


def test_initial_guess_covers_every_element_type():
    circuit = "L0-R0-p(R1,C1)-p(R2,CPE2)-ZARC3-HN4-G5-Ws6-Wo7-TLM8-W9-CPE10-C11"
    s = simulate_spectrum(RC, RC_TRUE, fmax=1e6, fmin=0.1)
    guess = initial_guess(circuit, s)
    from iondyn.eis.circuit import Circuit

    c = Circuit(circuit)
    assert list(guess) == list(c.param_names)
    assert all(np.isfinite(v) and v > 0 for v in guess.values())
    assert all(0 < guess[k] <= 1 for k in c.param_names if c.param_kinds[k] == "exponent")


def test_initial_guess_reads_the_pellet_arcs():
    s = simulate_spectrum(RC, RC_TRUE, fmax=1e6, fmin=0.1)
    g = initial_guess(RC, s)
    # arc resistance and the electrode CPE within a factor 3 of the truth
    assert 1 / 3 < g["R1"] / RC_TRUE["R1"] < 3
    assert 1 / 3 < g["CPE2_Q"] / RC_TRUE["CPE2_Q"] < 3
    assert g["R0"] < g["R1"]


def test_non_finite_start_is_a_fit_error():
    # a zero-point spectrum is rejected by the data object; a model that overflows is not fitted
    s = ImpedanceSpectrum(
        np.array([1.0, 2.0, 3.0, 4.0]), np.array([1 - 1j, 1 - 2j, 1 - 3j, 1 - 4j])
    )
    with pytest.raises(FitError, match="not finite at the start"):
        CircuitFitter("p(R1,C1)-C2").fit(s, {"R1": 1e300, "C1": 1e-300, "C2": 1e-300})


def test_plot_functions_draw_on_given_axes(spectrum):
    import matplotlib.pyplot as plt

    from iondyn.eis.plots import plot_bode, plot_drt, plot_fit, plot_nyquist, plot_residuals

    r = CircuitFitter(RC, weight="modulus").fit(spectrum, RC_TRUE)
    fig, axes = plt.subplots(1, 5)
    try:
        plot_nyquist(axes[0], spectrum, r)
        assert axes[0].get_aspect() == 1.0  # equal scales on both axes
        assert len(axes[0].lines) >= 2
        plot_bode(axes[1], axes[2], spectrum, r)
        assert axes[1].get_xscale() == "log" and axes[1].get_yscale() == "log"
        plot_residuals(axes[3], r)
        np.testing.assert_allclose(axes[3].lines[0].get_ydata(), 100 * r.residuals.real)
        tau = np.logspace(-6, 0, 50)
        plot_drt(axes[4], tau, np.exp(-(np.log10(tau / 1e-3) ** 2)))
        assert axes[4].get_xscale() == "log" and len(axes[4].lines) == 1
    finally:
        plt.close(fig)
    fig = plot_fit(r)
    try:
        assert len(fig.axes) == 4 and RC in fig._suptitle.get_text()
    finally:
        plt.close(fig)
