"""The scaled exponential integral e^u E2(u) that every TSDC closed form needs.

I(T) = ∫_0^T exp(−Ea/kT′) dT′ = T E2(Ea/kT) (Abramowitz & Stegun 5.1.4); with u = Ea/kT between
5 and 200 in practice, E2(u) ≈ e^{−u}/u under- or overflows, so iondyn works with
e^u E2(u) ≈ 1/u. ``scipy.special.expn`` costs ~100 ns per value; the rational approximations
below cost ~15 ns, which matters because every EM and Levenberg–Marquardt step evaluates the
function on (curves × peaks × points) arrays.

The approximations: u·e^u·E2(u) = P5(s)/Q5(s), two pieces in t = 1/u — s = 4t for u ≥ 4 and
s = (t − 1/4)/(3/4) for 1 ≤ u < 4 — with coefficients fitted once to ``scipy.special.expn``
(and to the asymptotic series 1 − 2/u + 6/u² − 24/u³ + 120/u⁴ beyond u = 600) by iterated
linear least squares on 2000 Chebyshev nodes (Sanathanan & Koerner, IEEE Trans. Autom.
Control 8, 56 (1963)). Relative error < 7e−12 (tested against ``scipy.special.expn``); Q has no
zero on [0, 1] (all coefficients positive). Below u = 1 ``scipy.special.expn`` itself is used.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["scaled_e2"]

#: u ≥ 4 (s = 4/u ∈ [0, 1]): numerator and denominator coefficients of s⁰ … s⁵
_P_HIGH = (
    0.9999999999981672,
    5.109989607464772,
    8.131297617834388,
    4.541323304374063,
    0.6973420396245281,
    0.003092872830737531,
)
_Q_HIGH = (
    1.0,
    5.609989606371732,
    10.561292504719065,
    8.093220950059585,
    2.4185042593493633,
    0.21089872486024774,
)
#: 1 ≤ u < 4 (s = (1/u − 1/4)/(3/4) ∈ [0, 1])
_P_MID = (
    0.698469601582877,
    2.636238825818485,
    3.2335066872184846,
    1.4498395073192842,
    0.1850679648212826,
    0.0003221495233236005,
)
_Q_MID = (
    1.0,
    4.593888763298183,
    7.559504050659241,
    5.409123190651549,
    1.6113679871398234,
    0.14914618463286866,
)


def _horner(s: np.ndarray, coef: tuple[float, ...]) -> np.ndarray:
    """Σ c_k s^k, in place."""
    out = np.full_like(s, coef[-1])
    for c in coef[-2::-1]:
        out *= s
        out += c
    return out


def _rational(s: np.ndarray, p: tuple[float, ...], q: tuple[float, ...]) -> np.ndarray:
    num = _horner(s, p)
    num /= _horner(s, q)
    return num


def scaled_e2(u: np.ndarray) -> np.ndarray:
    r"""e^u E2(u) for u ≥ 0 without overflow.

    .. math:: e^u E_2(u) = e^u \int_1^\infty e^{-ut}\,t^{-2}\,dt \;\approx\;
              \frac{1}{u}\left(1 - \frac{2}{u} + \frac{6}{u^2} - \cdots\right)
              \quad (u \to \infty)

    Rational approximations in 1/u for u ≥ 1 (see the module docstring; relative error
    < 7e−12), ``scipy.special.expn(2, u)·e^u`` below (Abramowitz & Stegun 5.1.4, 5.1.51).
    """
    u = np.asarray(u, dtype=float)
    if u.ndim == 0:
        return scaled_e2(u[None])[0]
    mid = u < 4.0
    if not np.any(mid):
        t = 1.0 / u
        out = _rational(4.0 * t, _P_HIGH, _Q_HIGH)
        out *= t
        return out
    t = 1.0 / np.where(mid, 4.0, u)
    out = _rational(4.0 * t, _P_HIGH, _Q_HIGH)
    out *= t
    um = u[mid]
    tm = 1.0 / np.maximum(um, 1.0)
    vals = _rational((tm - 0.25) / 0.75, _P_MID, _Q_MID) * tm
    low = um < 1.0
    if np.any(low):
        vals[low] = special.expn(2, um[low]) * np.exp(um[low])
    out[mid] = vals
    return out
