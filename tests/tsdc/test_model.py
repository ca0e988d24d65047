"""Closed forms of TSDC peaks against cases T1, T2 (closed-form values) and independent
numerics."""

import numpy as np
import pytest
from scipy import integrate, special

from iondyn.saem.components.base import window_bounds
from iondyn.tsdc.components import TSDCFirstOrder, TSDCGaussianEa, TSDCGeneralOrder
from iondyn.tsdc.model import (
    K_B_EV,
    first_order_cdf,
    first_order_current,
    gaussian_ea_current,
    general_order_current,
    general_order_ln_beta_tau0,
    ln_beta_tau0_from_peak,
    peak_temperature,
    relaxation_time,
    scaled_e2,
    tau0_from_peak,
)
from iondyn.tsdc.mstep import first_order_objective

BETA = 5.0 / 60.0  # 5 K/min


def _brute_current(T, ea, tau0, p0, beta, t0):
    """J(T) by numerical quadrature of ∫ exp(−Ea/kT′) dT′ (no E2): an independent oracle."""
    out = []
    for t in np.atleast_1d(T):
        integral, _ = integrate.quad(lambda s: np.exp(-ea / (K_B_EV * s)), t0, t, epsabs=0)
        out.append(p0 / tau0 * np.exp(-ea / (K_B_EV * t)) * np.exp(-integral / (beta * tau0)))
    return np.array(out)


def test_scaled_e2_matches_scipy_and_asymptotics():
    u = np.concatenate([np.linspace(0.0, 10.0, 2001), np.logspace(1, np.log10(600), 500)])
    ref = special.expn(2, u) * np.exp(u)
    assert np.max(np.abs(scaled_e2(u) / ref - 1.0)) < 1e-11
    big = np.array([1e3, 1e4, 1e6])
    assert np.allclose(scaled_e2(big) * big, 1.0 - 2.0 / big, rtol=1e-5)


def test_case_t1_peak_temperature_and_shape():
    # T1 (Ea 0.5 eV, τ0 1e-13 s, 5 K/min): Tm = 170.50 K (closed form and maximum agree),
    # τ(Tm) = 60.1 s, FWHM = 11.78 K, Jmax/P0 = 6.459e-3 1/s, ∫J dt = P0
    tm = peak_temperature(0.5, 1e-13, BETA)
    assert tm == pytest.approx(170.50, abs=0.01)
    assert relaxation_time(tm, 0.5, 1e-13) == pytest.approx(60.1, abs=0.05)
    # the peak equation holds at the closed-form maximum
    assert relaxation_time(tm, 0.5, 1e-13) == pytest.approx(K_B_EV * tm**2 / (BETA * 0.5))
    T = np.arange(100.0, 260.0, 0.001)
    J = first_order_current(T, 0.5, 1e-13, 1.0, BETA, 100.0)
    assert T[np.argmax(J)] == pytest.approx(170.50, abs=0.02)
    assert J.max() == pytest.approx(6.459e-3, rel=1e-3)
    half = T[J >= J.max() / 2]
    assert half[-1] - half[0] == pytest.approx(11.78, abs=0.01)
    assert integrate.trapezoid(J, T) / BETA == pytest.approx(1.0, abs=1e-6)
    # the E2 closed form against brute-force quadrature of the temperature integral
    pts = np.array([140.0, 165.0, 170.5, 180.0])
    ref = _brute_current(pts, 0.5, 1e-13, 1.0, BETA, 100.0)
    assert np.allclose(first_order_current(pts, 0.5, 1e-13, 1.0, BETA, 100.0), ref, rtol=1e-8)


def test_case_t1_peak_temperatures_for_five_heating_rates():
    rates = np.array([1.0, 2.0, 5.0, 10.0, 20.0]) / 60.0
    want = [163.21, 166.27, 170.50, 173.85, 177.32]
    assert np.allclose(peak_temperature(0.5, 1e-13, rates), want, atol=0.006)
    assert np.allclose(tau0_from_peak(peak_temperature(0.5, 1e-13, rates), 0.5, rates), 1e-13)


def test_case_t2_gaussian_distribution_of_ea():
    # T2 (Gaussian Ea, Ē 0.5 eV, σ 0.05 eV): Tm = 168.1 K, FWHM = 40.9 K
    T = np.arange(100.0, 300.0, 0.01)
    J = gaussian_ea_current(T, 0.5, 0.05, 1e-13, 1.0, BETA, 100.0)
    assert T[np.argmax(J)] == pytest.approx(168.1, abs=0.05)
    half = T[J >= J.max() / 2]
    assert half[-1] - half[0] == pytest.approx(40.9, abs=0.05)
    # σ → 0 is the single first-order peak
    J0 = gaussian_ea_current(T[::100], 0.5, 1e-6, 1e-13, 1.0, BETA, 100.0)
    assert np.allclose(J0, first_order_current(T[::100], 0.5, 1e-13, 1.0, BETA, 100.0), rtol=1e-6)


def test_cdf_is_the_integral_of_the_density():
    T = np.linspace(120.0, 200.0, 4001)
    l_bt = np.log(BETA * 1e-13)
    J = first_order_current(T, 0.5, 1e-13, 1.0, BETA, 120.0)
    cum = integrate.cumulative_trapezoid(J / BETA, T, initial=0.0)
    assert np.allclose(first_order_cdf(T, 0.5, l_bt, 120.0), cum, atol=1e-6)


def test_general_order_limits_and_normalisation():
    T = np.linspace(100.0, 400.0, 30001)
    j1 = first_order_current(T, 0.5, 1e-13, 1.0, BETA, 100.0)
    jb = general_order_current(T, 0.5, 1e-13, 1.0, BETA, 1.0 + 1e-7, 100.0)
    assert np.allclose(jb, j1, rtol=1e-5, atol=1e-12)
    j2 = general_order_current(T, 0.5, 1e-13, 1.0, BETA, 2.0, 100.0)
    assert integrate.trapezoid(j2, T) / BETA == pytest.approx(1.0, abs=2e-3)  # slow tail
    # the general-order peak condition puts the maximum at Tm
    tm = T[np.argmax(j2)]
    l_bt = general_order_ln_beta_tau0(tm, 0.5, 2.0, 100.0)
    assert np.exp(l_bt) / BETA == pytest.approx(1e-13, rel=2e-3)


@pytest.mark.parametrize(
    ("component", "theta"),
    [
        (TSDCFirstOrder(), [[170.5, 0.5], [200.0, 0.7]]),
        (TSDCGeneralOrder(), [[170.5, 0.5, 1.5], [200.0, 0.7, 1.2]]),
        (TSDCGaussianEa(), [[170.5, 0.5, 0.03], [200.0, 0.7, 0.01]]),
    ],
)
def test_components_are_normalised_and_have_consistent_gradients(component, theta):
    x = np.linspace(100.0, 320.0, 2201)[None]
    th = np.array([theta])
    win = window_bounds(x)
    f = component.pdf(x, th, win)
    # density normalised on [T0, ∞) with T0 the window start: the window holds almost all
    assert np.allclose(integrate.trapezoid(f, x[0], axis=-1), 1.0, atol=2e-3)
    assert np.allclose(component.window_mass(x, th, win), integrate.trapezoid(f, x[0]), atol=2e-3)
    _, grad = component.pdf_grad(x, th, win)
    for j in range(th.shape[-1]):
        h = 1e-6 * th[..., j]
        tp, tm = th.copy(), th.copy()
        tp[..., j] += h
        tm[..., j] -= h
        fd = (component.pdf(x, tp, win) - component.pdf(x, tm, win)) / (2 * h[..., None])
        assert np.max(np.abs(fd - grad[..., j, :])) <= 1e-5 * np.max(np.abs(grad[..., j, :]))
    desc = component.describe(th, win)
    k = np.argmax(f, axis=-1)
    assert np.allclose(desc["center"], x[0][k], atol=0.15)
    assert np.allclose(desc["height_per_area"], f.max(-1), rtol=1e-3)


def test_window_mass_of_a_truncated_peak_is_closed_form():
    comp = TSDCFirstOrder()
    x = np.arange(120.0, 175.51, 0.5)[None]  # cut 5 K after Tm = 170.5 K
    th = np.array([[[170.5, 0.5]]])
    win = window_bounds(x)
    l_bt = ln_beta_tau0_from_peak(170.5, 0.5)
    want = first_order_cdf(win[1][0], 0.5, l_bt, win[0][0])
    assert comp.window_mass(x, th, win)[0, 0] == pytest.approx(want, rel=1e-12)
    assert 0.9 < want < 0.97  # about 6 % of the charge lies beyond the cut


def test_analytic_m_step_objective_derivatives():
    comp = TSDCFirstOrder()
    T = np.arange(200.0, 400.0, 2.0)[None]
    y = first_order_current(T, 0.6, 1e-9, 1.0, 0.1, 200.0)
    win = window_bounds(T)
    th = np.array([[[285.0, 0.55], [330.0, 0.8]]])
    om = np.stack([0.6 * y, 0.4 * y], axis=1)
    _, grad, hess = first_order_objective(comp, T, om, th, win)
    eps = 1e-5
    for j in range(2):
        s = np.log(th)
        sp, sm = s.copy(), s.copy()
        sp[..., j] += eps
        sm[..., j] -= eps
        (qp,) = first_order_objective(comp, T, om, np.exp(sp), win, derivatives=False)
        (qm,) = first_order_objective(comp, T, om, np.exp(sm), win, derivatives=False)
        assert np.allclose(grad[..., j], (qp - qm) / (2 * eps), rtol=1e-5, atol=1e-7)
        _, gp, _ = first_order_objective(comp, T, om, np.exp(sp), win)
        _, gm, _ = first_order_objective(comp, T, om, np.exp(sm), win)
        assert np.allclose(hess[..., j, :], (gp - gm) / (2 * eps), rtol=1e-5, atol=1e-6)


def test_first_order_describe_jacobian_matches_finite_differences():
    comp = TSDCFirstOrder()
    th = np.array([[[170.5, 0.5], [300.0, 0.9]]])
    win = (np.array([100.0]), np.array([400.0]))
    exact = comp.describe_jacobian(th, win)
    for j in range(2):
        h = 1e-6 * th[..., j]
        tp, tm = th.copy(), th.copy()
        tp[..., j] += h
        tm[..., j] -= h
        dp, dm = comp.describe(tp, win), comp.describe(tm, win)
        for key, value in exact.items():
            fd = (dp[key] - dm[key]) / (2 * h)
            assert np.allclose(value[..., j], fd, rtol=1e-4, atol=1e-12), key
