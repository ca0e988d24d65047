"""Element kernels against their closed forms (written out here independently) and limits."""

from __future__ import annotations

import cmath
import math

import numpy as np
import pytest

from iondyn.eis import elements as el
from iondyn.eis.circuit import Circuit

W = np.array([1e-3, 0.37, 1.0, 42.0, 1e3, 2.5e5, 1e7])


def _each(f, *params):
    """Evaluate a scalar closed form point by point with cmath (independent of NumPy kernels)."""
    return np.array([f(complex(0, w), *params) for w in W])


CLOSED_FORMS = {
    "R": (lambda s, R: complex(R), (12.5,)),
    "C": (lambda s, C: 1 / (s * C), (3.3e-9,)),
    "L": (lambda s, L: s * L, (2e-7,)),
    "CPE": (lambda s, Q, n: 1 / (Q * cmath.exp(n * cmath.log(s))), (2e-6, 0.83)),
    "W": (lambda s, sig: sig * (1 - 1j) / math.sqrt(s.imag), (150.0,)),
    "Wo": (
        lambda s, R, t: R / cmath.tanh(cmath.sqrt(s * t)) / cmath.sqrt(s * t),
        (80.0, 0.7),
    ),
    "Ws": (lambda s, R, t: R * cmath.tanh(cmath.sqrt(s * t)) / cmath.sqrt(s * t), (80.0, 0.7)),
    "G": (lambda s, R, t: R / cmath.sqrt(1 + s * t), (300.0, 2e-3)),
    "HN": (
        lambda s, R, t, a, b: R / (1 + cmath.exp(a * cmath.log(s * t))) ** b,
        (1e4, 1e-4, 0.8, 0.6),
    ),
    "ZARC": (lambda s, R, t, n: R / (1 + cmath.exp(n * cmath.log(s * t))), (5e4, 3e-5, 0.87)),
    "TLM": (
        lambda s, R, Q, n: cmath.sqrt(R / (Q * s**n)) / cmath.tanh(cmath.sqrt(R * Q * s**n)),
        (200.0, 1e-5, 0.9),
    ),
}


@pytest.mark.parametrize("symbol", sorted(CLOSED_FORMS))
def test_kernel_matches_closed_form(symbol):
    closed, params = CLOSED_FORMS[symbol]
    expected = _each(closed, *params)
    got = el.ELEMENT_TYPES[symbol].kernel(W, *params)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    # the same element inside a circuit (compiled evaluator, precomputed grid)
    c = Circuit(f"{symbol}1")
    np.testing.assert_allclose(c.impedance(W, list(params)), expected, rtol=1e-12, atol=0)


def test_every_element_type_has_a_closed_form_test():
    assert set(CLOSED_FORMS) == set(el.ELEMENT_TYPES)


def test_kernels_broadcast_over_parameter_sets():
    Q = np.array([[1e-6], [2e-6], [5e-6]])
    n = np.array([[0.7], [0.8], [0.9]])
    z = el.z_cpe(W, Q, n)
    assert z.shape == (3, W.size)
    for i in range(3):
        np.testing.assert_allclose(z[i], el.z_cpe(W, Q[i, 0], n[i, 0]), rtol=1e-14)


def test_cpe_with_n_one_is_a_capacitor_and_phase_is_constant():
    np.testing.assert_allclose(el.z_cpe(W, 4e-7, 1.0), el.z_capacitor(W, 4e-7), rtol=1e-12)
    z = el.z_cpe(W, 4e-7, 0.72)
    np.testing.assert_allclose(np.angle(z), -0.72 * np.pi / 2, atol=1e-12)


def test_zarc_with_n_one_is_r_parallel_c():
    R, C = 2.2e4, 1.5e-9
    rc = 1 / (1 / R + 1j * W * C)
    np.testing.assert_allclose(el.z_zarc(W, R, R * C, 1.0), rc, rtol=1e-12)
    # ZARC = R || CPE with Q = tau^n / R
    n, tau = 0.83, 4e-5
    r_cpe = Circuit("p(R1,CPE1)").impedance(W, [R, tau**n / R, n])
    np.testing.assert_allclose(el.z_zarc(W, R, tau, n), r_cpe, rtol=1e-11)


def test_havriliak_negami_reduces_to_debye_and_zarc():
    R, tau = 3e3, 2e-4
    np.testing.assert_allclose(
        el.z_havriliak_negami(W, R, tau, 1.0, 1.0), R / (1 + 1j * W * tau), rtol=1e-12
    )
    np.testing.assert_allclose(
        el.z_havriliak_negami(W, R, tau, 0.8, 1.0), el.z_zarc(W, R, tau, 0.8), rtol=1e-12
    )


def test_warburg_is_a_half_cpe():
    sigma = 75.0
    np.testing.assert_allclose(
        el.z_warburg(W, sigma), el.z_cpe(W, 1 / (math.sqrt(2) * sigma), 0.5), rtol=1e-12
    )
    # 45° line: Z' = -Z''
    z = el.z_warburg(W, sigma)
    np.testing.assert_allclose(z.real, -z.imag, rtol=1e-14)


def test_finite_warburg_limits():
    R, tau = 120.0, 2.0
    lo = np.array([1e-9, 1e-7, 1e-5])
    hi = np.array([1e5, 1e7, 1e9])
    # open (reflective): R/3 + R/(i w tau) at low frequency, R/sqrt(i w tau) at high frequency
    np.testing.assert_allclose(
        el.z_warburg_open(lo, R, tau), R / 3 + R / (1j * lo * tau), rtol=1e-9
    )
    np.testing.assert_allclose(el.z_warburg_open(lo, R, tau).real, R / 3, rtol=1e-6)
    np.testing.assert_allclose(
        el.z_warburg_open(hi, R, tau), R / np.sqrt(1j * hi * tau), rtol=1e-12
    )
    # short (transmissive): R at low frequency, the same Warburg line at high frequency
    np.testing.assert_allclose(el.z_warburg_short(lo, R, tau), R, rtol=1e-4)
    np.testing.assert_allclose(
        el.z_warburg_short(hi, R, tau), R / np.sqrt(1j * hi * tau), rtol=1e-12
    )
    # both sides of the small-|x| series switch agree (|x| = 1e-3 at w tau = 1e-6)
    w = np.array([0.999e-6, 1.001e-6]) / tau
    closed = np.array(
        [R / cmath.tanh(cmath.sqrt(1j * v * tau)) / cmath.sqrt(1j * v * tau) for v in w]
    )
    np.testing.assert_allclose(el.z_warburg_open(w, R, tau), closed, rtol=1e-12)


def test_gerischer_and_tlm_limits():
    R, tau = 500.0, 1e-3
    assert abs(el.z_gerischer(np.array([1e-6]), R, tau)[0] - R) < 1e-6
    hi = np.array([1e9])
    np.testing.assert_allclose(el.z_gerischer(hi, R, tau), R / np.sqrt(1j * hi * tau), rtol=1e-5)
    # TLM: R_ion/3 + Z_int at low frequency, sqrt(R_ion Z_int) at high frequency
    R_ion, Q, n = 50.0, 2e-4, 0.85
    lo = np.array([1e-8, 1e-6])
    z_int = el.z_cpe(lo, Q, n)
    np.testing.assert_allclose(el.z_tlm(lo, R_ion, Q, n), R_ion / 3 + z_int, rtol=1e-9)
    hi = np.array([1e8, 1e10])
    np.testing.assert_allclose(
        el.z_tlm(hi, R_ion, Q, n), np.sqrt(R_ion * el.z_cpe(hi, Q, n)), rtol=1e-9
    )


def test_registry_names_and_kinds():
    cpe = el.element_type("cpe")
    assert cpe is el.ELEMENT_TYPES["CPE"]
    assert cpe.parameter_names("CPE3") == ["CPE3_Q", "CPE3_n"]
    assert el.ELEMENT_TYPES["R"].parameter_names("R0") == ["R0"]
    assert el.ELEMENT_TYPES["ZARC"].parameter_names("ZARC1") == ["ZARC1_R", "ZARC1_tau", "ZARC1_n"]
    assert el.ELEMENT_TYPES["W"].parameter_names("W1") == ["W1_sigma"]
    assert el.ELEMENT_TYPES["Wo"].parameter_names("Wo1") == ["Wo1_R", "Wo1_tau"]
    for etype in el.ELEMENT_TYPES.values():
        assert etype.kernel.__doc__ and "Z" in etype.kernel.__doc__
        for p in etype.parameters:
            assert p.kind in ("positive", "exponent")
            assert (p.kind == "exponent") == (p.suffix in ("n", "alpha", "beta"))
    assert el.element_type("X") is None
