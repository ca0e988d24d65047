"""Peak shapes: normalisation, analytic gradients, CDFs and reported widths/heights."""

import numpy as np
import pytest
from scipy import integrate, special

from iondyn.saem.components import (
    DoniachSunjic,
    Gaussian,
    Lorentzian,
    PseudoVoigt,
    Voigt,
    get_component,
)
from iondyn.saem.components.base import Component, bin_widths, window_bounds

SHAPES = [
    (Gaussian(), [1.0, 2.0]),
    (Lorentzian(), [1.0, 2.0]),
    (PseudoVoigt(), [1.0, 2.0, 0.4]),
    (Voigt(), [1.0, 0.8, 0.5]),
]


@pytest.mark.parametrize(("comp", "theta"), SHAPES, ids=lambda v: getattr(v, "name", ""))
def test_unit_area_over_real_line(comp, theta):
    th = np.array([[theta]])
    area, _ = integrate.quad(lambda t: comp.pdf(np.array([[t]]), th)[0, 0, 0], -np.inf, np.inf)
    assert area == pytest.approx(1.0, abs=1e-7)


@pytest.mark.parametrize(("comp", "theta"), SHAPES, ids=lambda v: getattr(v, "name", ""))
def test_analytic_gradient_matches_finite_differences(comp, theta):
    x = np.linspace(-10, 12, 301)[None]
    th = np.array([[theta, [x[0, 150], *theta[1:]]]])
    _, g = comp.pdf_grad(x, th)
    _, g_fd = Component.pdf_grad(comp, x, th)
    assert np.max(np.abs(g - g_fd)) <= 1e-6 * np.max(np.abs(g))


@pytest.mark.parametrize(("comp", "theta"), SHAPES, ids=lambda v: getattr(v, "name", ""))
def test_describe_fwhm_and_height_match_the_curve(comp, theta):
    th = np.array([[theta]])
    x = np.linspace(-15, 17, 320001)[None]
    f = comp.pdf(x, th)[0, 0]
    above = x[0][f >= f.max() / 2]
    d = comp.describe(th)
    assert d["fwhm"][0, 0] == pytest.approx(above[-1] - above[0], rel=3e-4)
    assert d["height_per_area"][0, 0] == pytest.approx(f.max(), rel=1e-6)
    assert d["center"][0, 0] == pytest.approx(theta[0])


def test_cdf_matches_the_integral_of_the_density():
    for comp, theta in SHAPES[:3]:
        th = np.array([[theta]])
        x = np.linspace(-30, 30, 200001)[None]
        f = comp.pdf(x, th)[0, 0]
        cum = integrate.cumulative_trapezoid(f, x[0], initial=0)
        c = comp.cdf(x, th)[0, 0]
        assert np.max(np.abs((c - c[0]) - cum)) < 1e-6


def test_voigt_matches_scipy_and_olivero_fwhm():
    v = Voigt()
    th = np.array([[[0.0, 1.3, 0.7]]])
    x = np.linspace(-5, 5, 11)[None]
    assert np.allclose(v.pdf(x, th)[0, 0], special.voigt_profile(x[0], 1.3, 0.7))
    # limits of the Olivero–Longbothum formula: pure Gaussian and pure Lorentzian
    from iondyn.saem.components.lineshapes import voigt_fwhm

    assert voigt_fwhm(np.array(1.0), np.array(1e-12)) == pytest.approx(2.35482, rel=1e-4)
    assert voigt_fwhm(np.array(1e-12), np.array(1.0)) == pytest.approx(2.0, rel=5e-4)


@pytest.mark.parametrize("tail", ["low", "high"])
def test_doniach_sunjic_window_normalisation_and_tail(tail):
    ds = DoniachSunjic(tail=tail)
    x = np.linspace(-20, 20, 40001)[None]
    win = window_bounds(x)
    th = np.array([[[1.0, 0.5, 0.2]]])
    f = ds.pdf(x, th, win)[0, 0]
    lo, hi = float(win[0][0]), float(win[1][0])
    mass, _ = integrate.quad(
        lambda t: ds.pdf(np.array([[t]]), th, win)[0, 0, 0], lo, hi, points=[1.0], limit=200
    )
    assert mass == pytest.approx(1.0, abs=1e-8)
    assert np.sum(f * bin_widths(x)[0]) == pytest.approx(1.0, abs=1e-4)
    # the asymmetric tail is on the requested side of the line position
    left = f[x[0] < -5].sum()
    right = f[x[0] > 7].sum()
    assert (left > 3 * right) if tail == "low" else (right > 3 * left)
    # α → 0 is a Lorentzian of FWHM 2γ
    d0 = ds.describe(np.array([[[1.0, 0.5, 1e-4]]]), win)
    assert d0["fwhm"][0, 0] == pytest.approx(1.0, rel=1e-3)


def test_doniach_sunjic_gradient_and_shape_summary():
    ds = DoniachSunjic()
    x = np.linspace(-20, 20, 2001)[None]
    win = window_bounds(x)
    th = np.array([[[1.0, 0.5, 0.2], [3.0, 1.2, 0.05]]])
    _, g = ds.pdf_grad(x, th, win)
    _, g_fd = Component.pdf_grad(ds, x, th, win)
    assert np.max(np.abs(g - g_fd)) <= 1e-6 * np.max(np.abs(g))
    xf = np.linspace(-10, 12, 400001)[None]
    f = ds.pdf(xf, th, win)[0, 0]
    above = xf[0][f >= f.max() / 2]
    d = ds.describe(th, win)
    assert d["fwhm"][0, 0] == pytest.approx(above[-1] - above[0], rel=1e-4)
    assert d["height_per_area"][0, 0] == pytest.approx(f.max(), rel=1e-6)
    assert d["peak_position"][0, 0] == pytest.approx(xf[0][f.argmax()], abs=1e-3)


def test_registry_names_and_unknown_shape():
    assert isinstance(get_component("pseudo_voigt"), PseudoVoigt)
    assert isinstance(get_component("DS"), DoniachSunjic)
    from iondyn.errors import InputError

    with pytest.raises(InputError, match="unknown peak shape"):
        get_component("triangle")
