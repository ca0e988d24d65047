"""CNLS on a synthetic solid-electrolyte pellet (statistical tests).

R0-p(R1,CPE1)-p(R2,CPE2)-CPE3 with R0 = 100 Ω, R1 = 1e4 Ω, Q1 = 1e-11, n1 = 0.95, R2 = 5e4 Ω,
Q2 = 1e-9, n2 = 0.85, Q3 = 1e-6, n3 = 0.8; 10 MHz – 0.1 Hz, 10 points/decade, 1 % noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.eis.fit import CircuitFitter
from iondyn.eis.simulate import simulate_replicas, simulate_spectrum

PELLET = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
TRUE = {
    "R0": 100.0,
    "R1": 1e4,
    "CPE1_Q": 1e-11,
    "CPE1_n": 0.95,
    "R2": 5e4,
    "CPE2_Q": 1e-9,
    "CPE2_n": 0.85,
    "CPE3_Q": 1e-6,
    "CPE3_n": 0.8,
}
NAMES = list(TRUE)
TRUE_VALUES = np.array(list(TRUE.values()))


def perturbed_start(first_up: bool) -> dict[str, float]:
    """Every positive parameter a factor 3 off, alternately ×3 and ÷3 in circuit order; the
    exponents alternately ×0.85 and ×1.1 (capped at 1), i.e. moved inside (0, 1]."""
    start, i, j = {}, 0, 0
    for name, value in TRUE.items():
        if name.endswith("_n"):
            start[name] = value * 0.85 if (j % 2 == 0) == first_up else min(value * 1.1, 1.0)
            j += 1
        else:
            start[name] = value * 3.0 if (i % 2 == 0) == first_up else value / 3.0
            i += 1
    return start


def _values_errors(results):
    v = np.array([[r.parameters[k] for k in NAMES] for r in results])
    e = np.array([[r.errors[k] for k in NAMES] for r in results])
    return v, e


@pytest.mark.slow
@pytest.mark.parametrize(
    ("weight", "n_seeds"), [("proportional", 100), ("modulus", 25), ("unit", 25)]
)
def test_factor_three_starts_reach_the_optimum_of_a_fit_started_at_the_truth(weight, n_seeds):
    fitter = CircuitFitter(PELLET, weight=weight)
    starts = [perturbed_start(True), perturbed_start(False)]
    for start in starts:
        assert all(abs(np.log(start[k] / TRUE[k])) > 0.05 for k in NAMES)
    same = np.zeros(len(starts), dtype=int)
    for seed in range(n_seeds):
        spectrum = simulate_spectrum(PELLET, TRUE, fmax=1e7, fmin=0.1, noise=0.01, seed=seed)
        assert spectrum.n_points == 81
        from_truth = fitter.fit(spectrum, TRUE)
        for i, start in enumerate(starts):
            r = fitter.fit(spectrum, start)
            assert r.converged
            same[i] += abs(r.chi2 - from_truth.chi2) <= 1e-6 * from_truth.chi2
    assert np.all(same >= 0.99 * n_seeds), f"fits reaching the optimum out of {n_seeds}: {same}"


@pytest.mark.slow
def test_parameters_are_recovered_within_three_standard_errors():
    """Coverage of |θ̂ − θ| < 3σ̂ over 300 noise seeds.

    With exact standard errors each parameter is inside with probability 99.73 %, but the nine
    together only in ~0.9973⁹ ≈ 97.6 % of the seeds, so "all parameters in ≥ 99 % of the seeds"
    cannot hold even for a perfect estimator. Tested: ≥ 99 % of all parameter–seed pairs, ≥ 98 %
    for every parameter, ≥ 95 % of the seeds with all nine inside. (Measured: 99.4 %, ≥ 98.7 %,
    97.3 %; the linearised errors of the bulk-arc parameters are ~5–10 % too small because the
    model is non-linear there, see the replica test.)
    """
    fitter = CircuitFitter(PELLET, weight="proportional")
    results = []
    for seed in range(300):
        spectrum = simulate_spectrum(PELLET, TRUE, fmax=1e7, fmin=0.1, noise=0.01, seed=seed)
        results.append(fitter.fit(spectrum, TRUE))
    v, e = _values_errors(results)
    inside = np.abs(v - TRUE_VALUES) < 3.0 * e
    assert inside.mean() >= 0.99, inside.mean()
    assert np.all(inside.mean(axis=0) >= 0.98), dict(zip(NAMES, inside.mean(axis=0)))
    assert np.all(inside, axis=1).mean() >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize("model", ["proportional", "modulus"])
def test_reported_errors_are_honest_over_200_replicas(model):
    spectra = simulate_replicas(
        PELLET, TRUE, 200, fmax=1e7, fmin=0.1, noise=0.01, noise_model=model, seed=2024
    )
    fitter = CircuitFitter(PELLET, weight=model)
    results = [fitter.fit(s, TRUE) for s in spectra]
    assert all(r.converged for r in results)
    v, e = _values_errors(results)
    ratio = v.std(axis=0, ddof=1) / e.mean(axis=0)
    assert np.all(np.abs(ratio - 1.0) < 0.2), dict(zip(NAMES, np.round(ratio, 3)))
    # unbiased within the scatter of the mean
    bias = (v.mean(axis=0) - TRUE_VALUES) / (v.std(axis=0, ddof=1) / np.sqrt(len(v)))
    assert np.all(np.abs(bias) < 4.0), dict(zip(NAMES, np.round(bias, 2)))
    # reduced chi2 estimates the squared relative noise level
    chi2_red = np.array([r.chi2_reduced for r in results])
    assert abs(np.mean(chi2_red) / 1e-4 - 1.0) < 0.05


def test_bulk_arc_out_of_range_is_flagged_at_1_mhz():
    fitter = CircuitFitter(PELLET, weight="proportional", fmax=1e6)
    for seed in range(5):
        spectrum = simulate_spectrum(PELLET, TRUE, fmax=1e7, fmin=0.1, noise=0.01, seed=seed)
        r = fitter.fit(spectrum, TRUE)
        assert r.n_points == 71 and r.frequency.max() <= 1e6
        assert r.converged
        assert not r.well_determined
        assert {"R0", "R1"} <= set(r.poorly_determined)
        assert not {"R2", "CPE2_Q", "CPE2_n", "CPE3_Q", "CPE3_n"} & set(r.poorly_determined)
        # only R0 + R1 is determined: their correlation is about -1 ...
        i, j = r.free_names.index("R0"), r.free_names.index("R1")
        assert r.correlation[i, j] < -0.99
        assert ("R0", "R1") in [(a, b) for a, b, _ in r.strong_correlations]
        # ... and the individual errors are large (R0 by far beyond its value, the bulk arc tens
        # of per cent), while the grain-boundary and electrode parameters stay at ~1 %
        assert r.relative_error("R0") > 1.0
        assert r.relative_error("R1") > 0.1
        assert r.relative_error("CPE1_Q") > 0.15
        assert max(r.relative_error(k) for k in ("R2", "CPE2_Q", "CPE3_Q")) < 0.05
        warning = next(w for w in r.warnings if w.startswith("poorly determined"))
        assert "R0" in warning and "R1" in warning and "R0/R1" in warning
    # at 10 MHz the same fit determines every resistance to better than 100 %
    r = CircuitFitter(PELLET, weight="proportional").fit(spectrum, TRUE)
    assert "R1" not in r.poorly_determined and r.relative_error("R1") < 0.02
    assert r.relative_error("CPE1_Q") < 0.15


def test_the_heuristic_start_reaches_the_same_optimum():
    fitter = CircuitFitter(PELLET, weight="proportional")
    for seed in range(10):
        spectrum = simulate_spectrum(PELLET, TRUE, fmax=1e7, fmin=0.1, noise=0.01, seed=seed)
        guessed = fitter.fit(spectrum)
        truth = fitter.fit(spectrum, TRUE)
        assert guessed.initial != TRUE
        assert guessed.chi2 == pytest.approx(truth.chi2, rel=1e-6)
