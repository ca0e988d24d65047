"""Vectorised circuit evaluation against hand-written formulas."""

from __future__ import annotations

import numpy as np
import pytest

from iondyn.eis.circuit import Circuit
from iondyn.errors import InputError

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
OMEGA = 2 * np.pi * np.logspace(7, -1, 81)


def pellet_by_hand(w, R0, R1, Q1, n1, R2, Q2, n2, Q3, n3):
    s = 1j * w
    return R0 + 1 / (1 / R1 + Q1 * s**n1) + 1 / (1 / R2 + Q2 * s**n2) + 1 / (Q3 * s**n3)


def test_pellet_matches_hand_formula():
    z = Circuit(PELLET).impedance(OMEGA, TRUE)
    assert z.shape == OMEGA.shape and z.dtype == complex
    np.testing.assert_allclose(z, pellet_by_hand(OMEGA, *TRUE.values()), rtol=1e-12)


def test_batched_sets_equal_one_by_one():
    c = Circuit(PELLET)
    rng = np.random.default_rng(3)
    base = c.params_to_array(TRUE)
    P = base * np.exp(rng.normal(0, 0.3, size=(25, c.n_params)))
    P[:, [3, 6, 8]] = rng.uniform(0.5, 1.0, size=(25, 3))
    Z = c.impedance(OMEGA, P)
    assert Z.shape == (25, OMEGA.size)
    for i in range(25):
        np.testing.assert_allclose(Z[i], pellet_by_hand(OMEGA, *P[i]), rtol=1e-12)
    # a dict of arrays is the same batch
    Zd = c.impedance(OMEGA, {k: P[:, j] for j, k in enumerate(c.param_names)})
    np.testing.assert_allclose(Zd, Z, rtol=0)
    # the compiled evaluator gives the same, one set as (1, n_omega)
    ev = c.evaluator(OMEGA)
    np.testing.assert_allclose(ev(P), Z, rtol=0)
    np.testing.assert_allclose(ev(P[:1]), Z[:1], rtol=1e-15)


def test_nested_series_and_parallel():
    c = Circuit("R0-p(R1-C1,p(R2,L2)-W2)")
    p = {"R0": 5.0, "R1": 30.0, "C1": 2e-6, "R2": 40.0, "L2": 1e-3, "W2_sigma": 12.0}
    s = 1j * OMEGA
    branch1 = 30.0 + 1 / (s * 2e-6)
    branch2 = 1 / (1 / 40.0 + 1 / (s * 1e-3)) + 12.0 * (1 - 1j) / np.sqrt(OMEGA)
    expected = 5.0 + 1 / (1 / branch1 + 1 / branch2)
    np.testing.assert_allclose(c.impedance(OMEGA, p), expected, rtol=1e-12)


def test_pure_resistor_networks_are_broadcast_to_the_grid():
    assert Circuit("R1").impedance(OMEGA, [7.0]).shape == OMEGA.shape
    z = Circuit("p(R1,R2)").impedance(OMEGA, np.array([[2.0, 2.0], [3.0, 6.0]]))
    assert z.shape == (2, OMEGA.size)
    np.testing.assert_allclose(z[:, 0], [1.0, 2.0])
    np.testing.assert_allclose(Circuit("R1").impedance_at([1.0, 2.0], {"R1": 3.0}), [3.0, 3.0])


def test_parameter_errors():
    c = Circuit("R0-p(R1,C1)")
    with pytest.raises(InputError, match="missing parameter"):
        c.impedance(OMEGA, {"R0": 1.0, "R1": 2.0})
    with pytest.raises(InputError, match="unknown parameter 'C2'"):
        c.impedance(OMEGA, {"R0": 1.0, "R1": 2.0, "C1": 1e-6, "C2": 1.0})
    with pytest.raises(InputError, match=r"shape \(n_sets, 3\)"):
        c.impedance(OMEGA, [1.0, 2.0])
    with pytest.raises(InputError, match="must be positive"):
        c.impedance(OMEGA, [1.0, -2.0, 1e-6])
    with pytest.raises(InputError, match="non-finite"):
        c.impedance(OMEGA, [1.0, np.nan, 1e-6])
    with pytest.raises(InputError, match="positive angular frequencies"):
        c.impedance(np.array([0.0, 1.0]), [1.0, 2.0, 1e-6])


def test_array_dict_round_trip():
    c = Circuit(PELLET)
    arr = c.params_to_array(TRUE)
    assert arr.shape == (1, 9)
    assert c.array_to_params(arr[0]) == TRUE
