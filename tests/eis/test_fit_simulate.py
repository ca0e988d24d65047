"""Synthetic spectra used by the fit tests, benchmarks and the demo."""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.eis.circuit import Circuit
from iondyn.eis.simulate import log_frequencies, simulate_replicas, simulate_spectrum
from iondyn.errors import InputError

RC = "R0-p(R1,C1)"
P = {"R0": 10.0, "R1": 1e3, "C1": 1e-6}


def test_log_frequencies_span_and_density():
    f = log_frequencies(1e7, 0.1, 10)
    assert f.size == 81 and f[0] == pytest.approx(1e7) and f[-1] == pytest.approx(0.1)
    assert np.all(np.diff(f) < 0)
    np.testing.assert_allclose(np.diff(np.log10(f)), -0.1, rtol=1e-12)
    with pytest.raises(InputError):
        log_frequencies(1.0, 1.0)


def test_noise_free_spectrum_is_the_model():
    s = simulate_spectrum(RC, P, fmax=1e5, fmin=1.0, points_per_decade=5)
    w = 2 * np.pi * s.frequency
    np.testing.assert_allclose(s.z, 10 + 1 / (1 / 1e3 + 1j * w * 1e-6), rtol=1e-13)
    assert s.metadata["circuit"] == RC and s.metadata["noise"] == 0.0
    assert s.metadata["parameters"] == P


@pytest.mark.parametrize("model", ["proportional", "modulus"])
def test_noise_has_the_stated_relative_level(model):
    reps = simulate_replicas(RC, P, 400, fmax=1e5, fmin=1.0, noise=0.02, noise_model=model, seed=3)
    z0 = Circuit(RC).impedance_at(reps[0].frequency, P)
    Z = np.array([r.z for r in reps])
    if model == "proportional":
        rel_re = (Z.real - z0.real) / np.abs(z0.real)
        rel_im = (Z.imag - z0.imag) / np.abs(z0.imag)
    else:
        rel_re = (Z.real - z0.real) / np.abs(z0)
        rel_im = (Z.imag - z0.imag) / np.abs(z0)
    for rel in (rel_re, rel_im):
        assert abs(rel.std() / 0.02 - 1) < 0.03
        assert abs(rel.mean()) < 0.02 * 5 / np.sqrt(rel.size)
    assert [r.index for r in reps[:3]] == [0, 1, 2]


def test_seeds_reproduce_and_differ():
    a = simulate_spectrum(RC, P, noise=0.01, seed=1)
    b = simulate_spectrum(RC, P, noise=0.01, seed=1)
    c = simulate_spectrum(RC, P, noise=0.01, seed=2)
    np.testing.assert_array_equal(a.z, b.z)
    assert not np.allclose(a.z, c.z)


def test_bad_settings():
    with pytest.raises(InputError, match="noise model"):
        simulate_spectrum(RC, P, noise=0.01, noise_model="pink")
    with pytest.raises(InputError, match="noise level"):
        simulate_spectrum(RC, P, noise=-0.01)
    with pytest.raises(InputError, match="missing parameter"):
        simulate_spectrum(RC, {"R0": 1.0})
