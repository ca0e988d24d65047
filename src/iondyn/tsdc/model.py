"""Closed forms of thermally stimulated depolarization currents (TSDC).

A dipolar (Debye) relaxation with relaxation time τ(T) = τ0 exp(Ea/kT), depolarised by linear
heating T = T0 + βt from the polarisation P0 at T0, releases the current density

    J(T) = (P0/τ0) exp(−Ea/kT) · exp{−[I(T) − I(T0)]/(β τ0)},

    I(T) = ∫_0^T exp(−Ea/kT′) dT′ = T · E2(Ea/kT)

with E2 the exponential integral (``scipy.special.expn(2, ·)``; Bucci, Fieschi & Guidi,
Phys. Rev. 148, 816 (1966); van Turnhout, *Thermally Stimulated Discharge of Polymer
Electrets*, Elsevier (1975), ch. 3). The current is maximal at Tm where

    τ(Tm) = k Tm² / (β Ea),

and ∫ J dt = P0. Everything here is a pure function on NumPy arrays that broadcasts over any
leading axes. Energies are in eV, temperatures in K, times in s; J carries the unit of P0 per
second.

Numerics: x = I(T)/(βτ0) is evaluated as T·[e^u E2(u)]·exp(−u − ln βτ0) with u = Ea/kT, so
neither exp(−Ea/kT) (≈ 1e−50 for 3 eV at 300 K) nor τ0 (1e−13 s) under- or overflows
(e^u E2(u) ≈ 1/u is well behaved, :mod:`iondyn.tsdc.expint`), and e^u E1(u) = (1 − e^u E2(u))/u
follows from the recurrence E2(u) = e^{−u} − u E1(u) (Abramowitz & Stegun 5.1.14).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from iondyn.constants import K_B_EV
from iondyn.errors import InputError
from iondyn.tsdc.expint import scaled_e2

__all__ = [
    "K_B_EV",
    "first_order_cdf",
    "first_order_current",
    "first_order_density",
    "first_order_kernel",
    "gaussian_ea_current",
    "gaussian_node_count",
    "gaussian_nodes",
    "general_order_current",
    "general_order_ln_beta_tau0",
    "ln_beta_tau0_from_peak",
    "log_temperature_integral",
    "peak_energy",
    "peak_temperature",
    "relaxation_time",
    "scaled_e2",
    "tau0_from_peak",
]

_LN_K = float(np.log(K_B_EV))
_EXP_MAX = 700.0


def log_temperature_integral(T: np.ndarray, Ea: np.ndarray) -> np.ndarray:
    r"""ln I(T) with I(T) = ∫_0^T exp(−Ea/kT′) dT′ = T E2(Ea/kT) (Ea > 0, T > 0).

    .. math:: \ln I = \ln T - u + \ln\left[e^u E_2(u)\right], \quad u = E_a/k_BT
    """
    T = np.asarray(T, dtype=float)
    u = np.asarray(Ea, dtype=float) / (K_B_EV * T)
    return np.log(T) - u + np.log(scaled_e2(u))


def relaxation_time(T: np.ndarray, Ea: np.ndarray, tau0: np.ndarray) -> np.ndarray:
    """Arrhenius relaxation time τ(T) = τ0 exp(Ea/kT) in s (Debye; Bucci et al. 1966)."""
    return np.asarray(tau0, float) * np.exp(np.asarray(Ea, float) / (K_B_EV * np.asarray(T, float)))


def tau0_from_peak(Tm: np.ndarray, Ea: np.ndarray, beta: np.ndarray) -> np.ndarray:
    r"""Pre-exponential factor from the peak equation of a first-order peak.

    .. math:: \tau_0 = \frac{k T_m^2}{\beta E_a}\, \exp\!\left(-\frac{E_a}{k T_m}\right)

    (Bucci, Fieschi & Guidi, Phys. Rev. 148, 816 (1966)); β in K/s.
    """
    Tm = np.asarray(Tm, float)
    Ea = np.asarray(Ea, float)
    return K_B_EV * Tm**2 / (np.asarray(beta, float) * Ea) * np.exp(-Ea / (K_B_EV * Tm))


def ln_beta_tau0_from_peak(Tm: np.ndarray, Ea: np.ndarray) -> np.ndarray:
    r"""ln(β τ0) of a first-order peak at Tm with activation energy Ea (independent of β):

    .. math:: \ln(\beta\tau_0) = \ln\frac{k T_m^2}{E_a} - \frac{E_a}{k T_m}
    """
    Tm = np.asarray(Tm, float)
    Ea = np.asarray(Ea, float)
    return _LN_K + 2.0 * np.log(Tm) - np.log(Ea) - Ea / (K_B_EV * Tm)


def peak_energy(
    Tm: np.ndarray, ln_bt: np.ndarray, derivatives: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Ea of the first-order peak at Tm for a given L = ln(βτ0), in closed form.

    With γ = Ea/kTm the peak equation βτ0 = (kTm²/Ea) e^{−Ea/kTm} reads γ e^γ = Tm/(βτ0), so

    .. math:: E_a = k T_m\, W_0\!\left(T_m e^{-L}\right), \qquad
              \frac{\partial E_a}{\partial T_m} = k\gamma\,\frac{2+\gamma}{1+\gamma}, \qquad
              \frac{\partial E_a}{\partial L} = -\frac{k T_m\,\gamma}{1+\gamma}

    (W0 the principal Lambert W branch, two Newton steps on γ + ln γ = ln Tm − L polish it
    and keep it finite where Tm e^{−L} overflows). With ``derivatives`` also returns the two
    partial derivatives. Used to hold τ0 fixed or shared in fits.
    """
    Tm = np.asarray(Tm, float)
    ln_z = np.log(Tm) - np.asarray(ln_bt, float)
    gamma = np.real(special.lambertw(np.exp(np.minimum(ln_z, _EXP_MAX))))
    gamma = np.maximum(gamma, 1e-300)
    for _ in range(2):
        gamma = gamma - (gamma + np.log(gamma) - ln_z) / (1.0 + 1.0 / gamma)
        gamma = np.maximum(gamma, 1e-300)
    ea = K_B_EV * Tm * gamma
    if not derivatives:
        return ea
    ratio = gamma / (1.0 + gamma)
    return ea, K_B_EV * gamma * (2.0 + gamma) / (1.0 + gamma), -K_B_EV * Tm * ratio


def peak_temperature(Ea: np.ndarray, tau0: np.ndarray, beta: np.ndarray) -> np.ndarray:
    r"""Peak temperature Tm of a first-order TSDC peak, in closed form.

    With γ = Ea/kTm the peak equation τ0 e^γ = k Tm²/(β Ea) becomes γ² e^γ = Ea/(k β τ0), so

    .. math:: \gamma = 2\,W_0\!\left(\tfrac12\sqrt{E_a/(k\beta\tau_0)}\right), \qquad
              T_m = \frac{E_a}{k\,\gamma}

    (W0 the principal branch of the Lambert W function; Corless et al., Adv. Comput. Math. 5,
    329 (1996)). Independent of T0 as long as T0 is well below Tm.
    """
    Ea = np.asarray(Ea, float)
    arg = 0.5 * np.sqrt(Ea / (K_B_EV * np.asarray(beta, float) * np.asarray(tau0, float)))
    gamma = 2.0 * np.real(special.lambertw(arg))
    return Ea / (K_B_EV * gamma)


def first_order_kernel(
    T: np.ndarray,
    T0: np.ndarray,
    Ea: np.ndarray,
    ln_bt: np.ndarray,
    grad: bool = False,
    log: bool = False,
) -> tuple[np.ndarray, ...]:
    r"""Normalised first-order density in the natural coordinates (Ea, L = ln βτ0).

    .. math:: f(T) = \frac{1}{\beta\tau_0}\, e^{-E_a/kT}\,
              \exp\{-[x(T) - x(T_0)]\}, \qquad x(T) = \frac{I(T)}{\beta\tau_0},

    f = J/(β P0), so ∫_{T0}^∞ f dT = 1. With ``grad`` also returns

    .. math:: \partial_{E_a}\ln f = -\frac{1}{kT} + e_1(T) - e_1(T_0), \quad
              e_1 = \frac{E_1(E_a/kT)}{k\,\beta\tau_0};\qquad
              \partial_L \ln f = -1 + x(T) - x(T_0)

    and the pieces x, x(T0), e1, e1(T0), a = e^{−Ea/kT}/(βτ0), a(T0) used for second
    derivatives. f = 0 below T0; with ``log`` the first output is ln f (no underflow, no cut
    at T0). T0 ≤ 0 means heating from absolute zero (x(T0) = 0). All arguments broadcast.
    """
    T = np.asarray(T, float)
    T0 = np.asarray(T0, float)
    Ea = np.asarray(Ea, float)
    ln_bt = np.asarray(ln_bt, float)
    u = Ea / (K_B_EV * T)
    s2 = scaled_e2(u)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        # a = e^{−u}/(βτ0); x = I/(βτ0) = T·[e^u E2(u)]·a
        a = np.exp(np.minimum(-u - ln_bt, _EXP_MAX))
        x = T * s2 * a
        has0 = T0 > 0
        T0s = np.where(has0, T0, 1.0)
        u0 = Ea / (K_B_EV * T0s)
        s2_0 = scaled_e2(u0)
        a0 = np.where(has0, np.exp(np.minimum(-u0 - ln_bt, _EXP_MAX)), 0.0)
        x0 = T0s * s2_0 * a0
        lnf = -ln_bt - u - (x - x0)
        if log:
            f = lnf
        else:
            # no current before heating starts (the formula would extrapolate backwards)
            f = np.where(T >= T0, np.exp(np.maximum(lnf, -_EXP_MAX - 45.0)), 0.0)
    if not grad:
        return (f,)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        # e1 = E1(u)/(k βτ0) = a · [e^u E1(u)]/k with e^u E1(u) = (1 − e^u E2(u))/u
        e1 = a * (1.0 - s2) / (u * K_B_EV)
        e1_0 = np.where(has0, a0 * (1.0 - s2_0) / (u0 * K_B_EV), 0.0)
    d_e = -1.0 / (K_B_EV * T) + e1 - e1_0
    d_l = -1.0 + x - x0
    return f, d_e, d_l, x, x0, e1, e1_0, a, a0


def first_order_density(
    T: np.ndarray, Ea: np.ndarray, ln_bt: np.ndarray, T0: np.ndarray | float = 0.0
) -> np.ndarray:
    """f(T) = J(T)/(β P0) of a first-order peak (see :func:`first_order_kernel`), per K."""
    return first_order_kernel(T, T0, Ea, ln_bt)[0]


def first_order_cdf(
    T: np.ndarray, Ea: np.ndarray, ln_bt: np.ndarray, T0: np.ndarray | float = 0.0
) -> np.ndarray:
    r"""Fraction of P0 released between T0 and T (closed form):

    .. math:: F(T) = 1 - \exp\{-[x(T) - x(T_0)]\}, \quad x = I/(\beta\tau_0)

    (1 − F is the remaining polarisation P(T)/P0; Bucci et al. 1966).
    """
    T = np.asarray(T, float)
    T0 = np.asarray(T0, float)
    with np.errstate(over="ignore", under="ignore"):
        lx = log_temperature_integral(T, Ea) - ln_bt
        x = np.exp(np.minimum(lx, _EXP_MAX))
        has0 = T0 > 0
        lx0 = log_temperature_integral(np.where(has0, T0, 1.0), Ea) - ln_bt
        x0 = np.where(has0, np.exp(np.minimum(lx0, _EXP_MAX)), 0.0)
    return -np.expm1(-(x - x0))


def first_order_current(
    T: np.ndarray,
    Ea: np.ndarray,
    tau0: np.ndarray,
    P0: np.ndarray,
    beta: np.ndarray,
    T0: np.ndarray | float = 0.0,
) -> np.ndarray:
    r"""First-order (Debye) TSDC current density.

    .. math:: J(T) = \frac{P_0}{\tau_0}\, e^{-E_a/kT}\,
              \exp\!\left\{-\frac{T\,E_2(E_a/kT) - T_0\,E_2(E_a/kT_0)}{\beta\tau_0}\right\}

    (Bucci, Fieschi & Guidi, Phys. Rev. 148, 816 (1966)); β in K/s, J in P0 per second.
    """
    beta = np.asarray(beta, float)
    ln_bt = np.log(beta * np.asarray(tau0, float))
    return np.asarray(P0, float) * beta * first_order_density(T, Ea, ln_bt, T0)


def general_order_ln_beta_tau0(
    Tm: np.ndarray, Ea: np.ndarray, b: np.ndarray, T0: np.ndarray | float = 0.0
) -> np.ndarray:
    r"""ln(βτ0) of a general-order peak at Tm (peak condition of :func:`general_order_current`):

    .. math:: \beta\tau_0 = b\,\frac{kT_m^2}{E_a} e^{-E_a/kT_m} - (b-1)\,[I(T_m) - I(T_0)]
    """
    Tm = np.asarray(Tm, float)
    Ea = np.asarray(Ea, float)
    b = np.asarray(b, float)
    T0 = np.asarray(T0, float)
    l1 = ln_beta_tau0_from_peak(Tm, Ea)
    has0 = T0 > 0
    with np.errstate(under="ignore"):
        i_m = np.exp(log_temperature_integral(Tm, Ea) - l1)
        i_0 = np.where(
            has0, np.exp(log_temperature_integral(np.where(has0, T0, 1.0), Ea) - l1), 0.0
        )
    bracket = b - (b - 1.0) * (i_m - i_0)
    return l1 + np.log(np.maximum(bracket, 1e-300))


def general_order_current(
    T: np.ndarray,
    Ea: np.ndarray,
    tau0: np.ndarray,
    P0: np.ndarray,
    beta: np.ndarray,
    b: np.ndarray,
    T0: np.ndarray | float = 0.0,
) -> np.ndarray:
    r"""General-order kinetics, dp/dt = −p^b/τ(T) with p = P/P0 (b → 1: first order):

    .. math:: J(T) = \frac{P_0}{\tau_0}\, e^{-E_a/kT}\,
              \left[1 + (b-1)\,\frac{I(T) - I(T_0)}{\beta\tau_0}\right]^{-b/(b-1)}

    (May & Partridge, J. Chem. Phys. 40, 1401 (1964); Chen & McKeever, *Theory of
    Thermoluminescence and Related Phenomena*, World Scientific (1997), §2.2). ∫ J dt = P0.
    """
    beta = np.asarray(beta, float)
    ln_bt = np.log(beta * np.asarray(tau0, float))
    return np.asarray(P0, float) * beta * general_order_density(T, Ea, ln_bt, b, T0)


def general_order_density(
    T: np.ndarray, Ea: np.ndarray, ln_bt: np.ndarray, b: np.ndarray, T0: np.ndarray | float = 0.0
) -> np.ndarray:
    """J/(β P0) of :func:`general_order_current`, normalised on [T0, ∞)."""
    T = np.asarray(T, float)
    T0 = np.asarray(T0, float)
    Ea = np.asarray(Ea, float)
    b = np.maximum(np.asarray(b, float), 1.0 + 1e-9)
    with np.errstate(over="ignore", under="ignore"):
        x = np.exp(np.minimum(log_temperature_integral(T, Ea) - ln_bt, _EXP_MAX))
        has0 = T0 > 0
        lx0 = log_temperature_integral(np.where(has0, T0, 1.0), Ea) - ln_bt
        x0 = np.where(has0, np.exp(np.minimum(lx0, _EXP_MAX)), 0.0)
        xr = np.maximum(x - x0, -1.0 / (b - 1.0) + 1e-300)
        lnf = -ln_bt - Ea / (K_B_EV * T) - b / (b - 1.0) * np.log1p((b - 1.0) * xr)
        return np.where(T >= T0, np.exp(np.maximum(lnf, -_EXP_MAX - 45.0)), 0.0)


def gaussian_nodes(n: int = 64, width: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and trapezoid weights w (Σw = 1) of a standard normal on [−width, width]."""
    z = np.linspace(-width, width, int(n))
    w = np.exp(-0.5 * z * z)
    return z, w / w.sum()


def gaussian_node_count(sigma: np.ndarray, t_low: np.ndarray, minimum: int = 24) -> int:
    r"""Nodes needed to integrate over a Gaussian g(E) of width σ on ±5σ.

    At fixed T the first-order density is, as a function of E, a Gumbel-like curve of scale
    kT whose Fourier transform decays like exp(−π|ω|kT/2); the trapezoid rule with step h
    then errs by ~exp(−π² kT/h). A step h ≤ kT/2 (error < 1e−8) at the lowest relevant
    temperature ``t_low`` gives n = 10σ/(kT_low/2) + 1, rounded up to a multiple of 16
    (between ``minimum`` and 512).
    """
    need = 20.0 * np.max(np.asarray(sigma, float) / (K_B_EV * np.asarray(t_low, float))) + 1.0
    n = int(16 * np.ceil(max(need, minimum) / 16.0))
    return int(min(n, 512))


def gaussian_ea_current(
    T: np.ndarray,
    Ea: np.ndarray,
    sigma: np.ndarray,
    tau0: np.ndarray,
    P0: np.ndarray,
    beta: np.ndarray,
    T0: np.ndarray | float = 0.0,
    n_nodes: int | None = None,
) -> np.ndarray:
    r"""Current of a Gaussian distribution of activation energies with a common τ0:

    .. math:: J(T) = \int g(E)\, J_1(T; E, \tau_0, P_0)\,dE, \qquad
              g(E) = \frac{1}{\sigma\sqrt{2\pi}} e^{-(E-\bar E)^2/2\sigma^2}

    with J1 the first-order current (:func:`first_order_current`), integrated with the
    trapezoid rule on ``n_nodes`` energies over ±5σ (default: :func:`gaussian_node_count` at
    the lowest temperature of ``T``; nodes below 1 meV are dropped). Distributed relaxations:
    van Turnhout (1975), ch. 3; Vanderschueren & Gasiot, in *Thermally Stimulated Relaxation
    in Solids*, Springer (1979).
    """
    T = np.asarray(T, float)
    if n_nodes is None:
        n_nodes = gaussian_node_count(sigma, np.min(T))
    if n_nodes < 2:
        raise InputError("n_nodes must be at least 2")
    z, w = gaussian_nodes(n_nodes)
    Ea = np.asarray(Ea, float)[..., None]
    sigma = np.asarray(sigma, float)[..., None]
    e_j = Ea + sigma * z
    w_j = np.where(e_j > 1e-3, w, 0.0)
    w_j = w_j / np.sum(w_j, axis=-1, keepdims=True)
    beta = np.asarray(beta, float)
    ln_bt = np.log(beta * np.asarray(tau0, float))[..., None]
    f = first_order_density(
        T[..., None], np.maximum(e_j, 1e-3), ln_bt, np.asarray(T0, float)[..., None]
    )
    return np.asarray(P0, float) * beta * np.sum(w_j * f, axis=-1)
