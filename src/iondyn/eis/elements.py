"""Equivalent-circuit elements: impedance kernels and the element registry.

Every kernel is a pure NumPy function ``z_xxx(omega, *params)`` of the angular frequency
ω = 2πf (rad/s) and the element's parameters, broadcasting in the NumPy way: ``omega`` of shape
(n_omega,) and parameters of shape (n_sets, 1) give Z of shape (n_sets, n_omega). Sign
convention Z = Z′ + iZ″ with Z″ < 0 for capacitive behaviour; principal branches
(iω)^n = ω^n e^{inπ/2} and √(iωτ) with a non-negative real part.

Parameter names (stable, relied upon by later code): an element is named type + index (``R0``,
``CPE1``, ``Wo2``); a one-parameter element's parameter has the element's own name (``R0``,
``C1``, ``L1``), the others are ``<element>_<suffix>`` (``CPE1_Q``, ``CPE1_n``, ``W1_sigma``,
``Wo1_R``, ``Wo1_tau``, ``ZARC1_n``, ``HN1_alpha``, ``TLM1_R`` …), see :data:`ELEMENT_TYPES`.

Parameter kinds: ``positive`` quantities (resistances, capacitances, time constants, Q, σ) are
fitted as logarithms; ``exponent`` quantities (CPE n, ZARC n, HN α and β) lie in (0, 1].

References used below:

* [BM] E. Barsoukov, J. R. Macdonald (eds.), *Impedance Spectroscopy*, 3rd ed., Wiley (2018).
* [OT] M. E. Orazem, B. Tribollet, *Electrochemical Impedance Spectroscopy*, 2nd ed., Wiley (2017).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ELEMENT_TYPES",
    "ElementType",
    "Omega",
    "ParameterSpec",
    "element_type",
    "z_capacitor",
    "z_cpe",
    "z_gerischer",
    "z_havriliak_negami",
    "z_inductor",
    "z_resistor",
    "z_tlm",
    "z_warburg",
    "z_warburg_open",
    "z_warburg_short",
    "z_zarc",
]

_HALF_PI_I = 0.5j * np.pi
_E_I_PI_4 = np.exp(0.25j * np.pi)
# Below this |x| the series expansions of coth(x)/x and tanh(x)/x are used (truncation error
# < 1e-13 relative), avoiding the cancellation in coth(x)/x ≈ 1/x² + 1/3.
_SMALL_X = 1e-3


class Omega:
    """An angular-frequency grid with the quantities the kernels share, computed once.

    ``omega`` (rad/s, 1-D), ``log_iw`` = ln(iω) = ln ω + iπ/2 (principal branch), ``iw`` = iω.
    """

    __slots__ = ("iw", "log_iw", "omega")

    def __init__(self, omega: np.ndarray):
        self.omega = np.asarray(omega, dtype=float)
        self.iw = 1j * self.omega
        self.log_iw = np.log(self.omega) + _HALF_PI_I

    @classmethod
    def of(cls, omega: np.ndarray | Omega) -> Omega:
        return omega if isinstance(omega, Omega) else cls(omega)


def _coth_over_x(x: np.ndarray) -> np.ndarray:
    """coth(x)/x, with 1/x² + 1/3 − x²/45 for |x| < 1e-3."""
    small = np.abs(x) < _SMALL_X
    if not small.any():
        return 1.0 / (x * np.tanh(x))
    xs = np.where(small, 1.0, x)
    x2 = x * x
    series = 1.0 / np.where(small, x2, 1.0) + 1.0 / 3.0 - x2 / 45.0
    return np.where(small, series, 1.0 / (xs * np.tanh(xs)))


def _tanh_over_x(x: np.ndarray) -> np.ndarray:
    """tanh(x)/x, with 1 − x²/3 + 2x⁴/15 for |x| < 1e-3."""
    small = np.abs(x) < _SMALL_X
    if not small.any():
        return np.tanh(x) / x
    xs = np.where(small, 1.0, x)
    x2 = x * x
    series = 1.0 - x2 / 3.0 + 2.0 * x2 * x2 / 15.0
    return np.where(small, series, np.tanh(xs) / xs)


def _sqrt_iwt(w: Omega, tau: np.ndarray) -> np.ndarray:
    """x = √(iωτ) = √(ωτ)·e^{iπ/4} (principal root, Re x ≥ 0)."""
    return np.sqrt(w.omega * tau) * _E_I_PI_4


# --- kernels on a precomputed grid (used by the compiled circuit evaluator) -------------------
# Each returns Z (or, the ``_y_`` ones, the admittance Y = 1/Z) and may return an array that
# only broadcasts to (n_sets, n_omega) (a resistor returns R itself).


def _z_r(w: Omega, R):
    return R


def _y_r(w: Omega, R):
    return 1.0 / R


def _z_c(w: Omega, C):
    return 1.0 / (w.iw * C)


def _y_c(w: Omega, C):
    return w.iw * C


def _z_l(w: Omega, L):
    return w.iw * L


def _z_cpe(w: Omega, Q, n):
    return np.exp(-n * w.log_iw) / Q


def _y_cpe(w: Omega, Q, n):
    return Q * np.exp(n * w.log_iw)


def _z_w(w: Omega, sigma):
    return sigma * (1.0 - 1j) / np.sqrt(w.omega)


def _z_wo(w: Omega, R, tau):
    return R * _coth_over_x(_sqrt_iwt(w, tau))


def _z_ws(w: Omega, R, tau):
    return R * _tanh_over_x(_sqrt_iwt(w, tau))


def _z_g(w: Omega, R, tau):
    return R / np.sqrt(1.0 + w.iw * tau)


def _z_hn(w: Omega, R, tau, alpha, beta):
    u = np.exp(alpha * (w.log_iw + np.log(tau)))
    return R * np.exp(-beta * np.log1p(u))


def _z_zarc(w: Omega, R, tau, n):
    return R / (1.0 + np.exp(n * (w.log_iw + np.log(tau))))


def _z_tlm(w: Omega, R, Q, n):
    # x² = R_ion/Z_int = R_ion Q (iω)^n; principal root through the half exponent
    x = np.sqrt(R * Q) * np.exp(0.5 * n * w.log_iw)
    return R * _coth_over_x(x)


# --- public kernels -----------------------------------------------------------------------------


def z_resistor(omega: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Resistor, Z = R (Ω). [BM] §2.2."""
    return np.asarray(R, dtype=float) + np.zeros_like(omega, dtype=complex)


def z_capacitor(omega: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Ideal capacitor, Z = 1/(iωC) (C in F). [BM] §2.2."""
    return _z_c(Omega.of(omega), C)


def z_inductor(omega: np.ndarray, L: np.ndarray) -> np.ndarray:
    """Ideal inductor, Z = iωL (L in H; leads and instrument wiring). [BM] §2.2."""
    return _z_l(Omega.of(omega), L)


def z_cpe(omega: np.ndarray, Q: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Constant-phase element, Z = 1/(Q (iω)^n).

    Q in F·s^(n−1) (= S·s^n), 0 < n ≤ 1; n = 1 is a capacitor C = Q, n = 0.5 a Warburg
    element. Phase −nπ/2 at every frequency. G. J. Brug et al., J. Electroanal. Chem. 176, 275
    (1984); [OT] ch. 14.
    """
    return _z_cpe(Omega.of(omega), Q, n)


def z_warburg(omega: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Semi-infinite Warburg diffusion element, Z = σ (1 − i)/√ω = √2 σ/√(iω).

    σ is the Warburg coefficient in Ω·s^(−1/2) (the "σ form"). The "A_W form" Z = A_W/√(iω) used
    by some programs has A_W = √2 σ; the element equals a CPE with n = 1/2 and Q = 1/(√2 σ).
    E. Warburg, Ann. Phys. 303, 493 (1899); [BM] §2.2.2.
    """
    return _z_w(Omega.of(omega), sigma)


def z_warburg_open(omega: np.ndarray, R: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Finite-length Warburg, reflective (open, blocking) boundary ("Wo", finite-space).

    Z = R coth(√(iωτ))/√(iωτ), R in Ω, τ = L²/D in s. Limits: R/√(iωτ) (Warburg) for ωτ ≫ 1;
    R/3 + R/(iωτ) (a resistance R/3 in series with a capacitance τ/R) for ωτ ≪ 1.
    [BM] §2.2.3.3; J. Bisquert, Electrochim. Acta 47, 2435 (2002).
    """
    return _z_wo(Omega.of(omega), R, tau)


def z_warburg_short(omega: np.ndarray, R: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Finite-length Warburg, transmissive (short, absorbing) boundary ("Ws", finite-length).

    Z = R tanh(√(iωτ))/√(iωτ), R in Ω, τ = L²/D in s. Limits: R/√(iωτ) for ωτ ≫ 1; R for ωτ → 0.
    [BM] §2.2.3.3; T. Jacobsen, K. West, Electrochim. Acta 40, 255 (1995).
    """
    return _z_ws(Omega.of(omega), R, tau)


def z_gerischer(omega: np.ndarray, R: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Gerischer element, Z = R/√(1 + iωτ).

    R is the dc resistance (Ω), τ = 1/k the time constant of the chemical reaction (s). The other
    common form Z = Z₀/√(k + iω) maps as R = Z₀/√k, τ = 1/k. H. Gerischer, Z. Phys. Chem. 198,
    286 (1951); B. A. Boukamp, H. J. M. Bouwmeester, Solid State Ionics 157, 29 (2003).
    """
    return _z_g(Omega.of(omega), R, tau)


def z_havriliak_negami(
    omega: np.ndarray, R: np.ndarray, tau: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """Havriliak–Negami relaxation in the impedance plane, Z = ΔR/(1 + (iωτ)^α)^β.

    ΔR in Ω (dc limit), τ in s, 0 < α ≤ 1 (symmetric broadening), 0 < β ≤ 1 (asymmetry);
    α = β = 1 is R‖C (τ = RC), β = 1 the ZARC, α = 1 the Cole–Davidson form.
    S. Havriliak, S. Negami, Polymer 8, 161 (1967).
    """
    return _z_hn(Omega.of(omega), R, tau, alpha, beta)


def z_zarc(omega: np.ndarray, R: np.ndarray, tau: np.ndarray, n: np.ndarray) -> np.ndarray:
    """ZARC (Cole–Cole arc, R‖CPE), Z = R/(1 + (iωτ)^n).

    R in Ω, τ in s, 0 < n ≤ 1; equals R‖CPE with Q = τ^n/R; n = 1 is R‖C with C = τ/R.
    K. S. Cole, R. H. Cole, J. Chem. Phys. 9, 341 (1941); [BM] §2.2.2.2.
    """
    return _z_zarc(Omega.of(omega), R, tau, n)


def z_tlm(omega: np.ndarray, R: np.ndarray, Q: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Blocking transmission line (porous electrode, de Levie), interface CPE.

    Z = √(R_ion Z_int) coth(√(R_ion/Z_int)), Z_int = 1/(Q (iω)^n), R_ion the total ionic
    resistance along the pore (Ω), Q (F·s^(n−1)) and n of the total interfacial CPE. Limits:
    √(R_ion Z_int) (45° line for n = 1) at high frequency, R_ion/3 + Z_int at low frequency.
    With x = √(R_ion/Z_int): Z = R_ion coth(x)/x. R. de Levie, Electrochim. Acta 8, 751 (1963);
    J. Bisquert, Phys. Chem. Chem. Phys. 2, 4185 (2000).
    """
    return _z_tlm(Omega.of(omega), R, Q, n)


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter of an element type.

    ``suffix`` is empty for one-parameter elements (the parameter is named like the element);
    ``kind`` is ``"positive"`` (fitted as ln θ) or ``"exponent"`` (0 < θ ≤ 1).
    """

    suffix: str
    unit: str
    kind: str
    default: float
    description: str


@dataclass(frozen=True)
class ElementType:
    """An element type of the circuit language.

    ``kernel(omega, *params)`` is the public impedance function; ``z(w, *params)`` the same on a
    precomputed :class:`Omega` grid and ``y(w, *params)`` (when cheaper than 1/Z) the
    admittance, both used by the compiled circuit evaluator.
    """

    symbol: str
    name: str
    parameters: tuple[ParameterSpec, ...]
    kernel: Callable[..., np.ndarray]
    z: Callable[..., np.ndarray]
    y: Callable[..., np.ndarray] | None = None

    @property
    def n_params(self) -> int:
        return len(self.parameters)

    def parameter_names(self, element: str) -> list[str]:
        """Full parameter names of element ``element`` (e.g. ``CPE1`` → ``CPE1_Q``, ``CPE1_n``)."""
        return [element if not p.suffix else f"{element}_{p.suffix}" for p in self.parameters]


def _p(suffix: str, unit: str, kind: str, default: float, description: str) -> ParameterSpec:
    return ParameterSpec(suffix, unit, kind, default, description)


_Q_UNIT = "F·s^(n-1)"
_POS, _EXP = "positive", "exponent"

#: The element types of the circuit language, keyed by symbol.
ELEMENT_TYPES: dict[str, ElementType] = {
    e.symbol: e
    for e in (
        ElementType(
            "R", "resistor", (_p("", "Ω", _POS, 100.0, "resistance"),), z_resistor, _z_r, _y_r
        ),
        ElementType(
            "C", "capacitor", (_p("", "F", _POS, 1e-6, "capacitance"),), z_capacitor, _z_c, _y_c
        ),
        ElementType("L", "inductor", (_p("", "H", _POS, 1e-7, "inductance"),), z_inductor, _z_l),
        ElementType(
            "CPE",
            "constant-phase element",
            (_p("Q", _Q_UNIT, _POS, 1e-6, "CPE coefficient"), _p("n", "", _EXP, 0.9, "exponent")),
            z_cpe,
            _z_cpe,
            _y_cpe,
        ),
        ElementType(
            "W",
            "semi-infinite Warburg",
            (_p("sigma", "Ω·s^(-1/2)", _POS, 100.0, "Warburg coefficient σ"),),
            z_warburg,
            _z_w,
        ),
        ElementType(
            "Wo",
            "finite-length Warburg, open (reflective) boundary",
            (_p("R", "Ω", _POS, 100.0, "diffusion resistance"), _p("tau", "s", _POS, 1.0, "L²/D")),
            z_warburg_open,
            _z_wo,
        ),
        ElementType(
            "Ws",
            "finite-length Warburg, short (transmissive) boundary",
            (_p("R", "Ω", _POS, 100.0, "diffusion resistance"), _p("tau", "s", _POS, 1.0, "L²/D")),
            z_warburg_short,
            _z_ws,
        ),
        ElementType(
            "G",
            "Gerischer element",
            (_p("R", "Ω", _POS, 100.0, "dc resistance"), _p("tau", "s", _POS, 1e-3, "1/k")),
            z_gerischer,
            _z_g,
        ),
        ElementType(
            "HN",
            "Havriliak–Negami relaxation",
            (
                _p("R", "Ω", _POS, 100.0, "relaxation strength ΔR"),
                _p("tau", "s", _POS, 1e-3, "relaxation time"),
                _p("alpha", "", _EXP, 0.9, "symmetric broadening α"),
                _p("beta", "", _EXP, 0.9, "asymmetry β"),
            ),
            z_havriliak_negami,
            _z_hn,
        ),
        ElementType(
            "ZARC",
            "ZARC (R‖CPE, Cole–Cole)",
            (
                _p("R", "Ω", _POS, 100.0, "arc resistance"),
                _p("tau", "s", _POS, 1e-3, "characteristic time (R Q)^(1/n)"),
                _p("n", "", _EXP, 0.9, "exponent"),
            ),
            z_zarc,
            _z_zarc,
        ),
        ElementType(
            "TLM",
            "blocking transmission line (de Levie) with interface CPE",
            (
                _p("R", "Ω", _POS, 100.0, "ionic resistance along the pore R_ion"),
                _p("Q", _Q_UNIT, _POS, 1e-6, "interface CPE coefficient"),
                _p("n", "", _EXP, 0.9, "interface CPE exponent"),
            ),
            z_tlm,
            _z_tlm,
        ),
    )
}

_BY_LOWER = {symbol.lower(): symbol for symbol in ELEMENT_TYPES}


def element_type(symbol: str) -> ElementType | None:
    """The element type for ``symbol`` (case-insensitive: ``cpe`` → ``CPE``), or None."""
    canonical = _BY_LOWER.get(symbol.lower())
    return None if canonical is None else ELEMENT_TYPES[canonical]
