"""Closed forms for space-charge layers, blocking cells and ionic junctions (the test oracles).

All functions take SI inputs (V, m, m⁻³, S/m, K) and broadcast over NumPy arrays; ``z`` is the
charge number of the mobile carrier. The potential of the bulk is 0 and u = zeφ/kT.
Each docstring states its formula and its published source; the list is below.

References
----------
* Bard & Faulkner, *Electrochemical Methods*, 2nd ed., Wiley (2001), §13.3 (Gouy–Chapman,
  Grahame).
* Sze & Ng, *Physics of Semiconductor Devices*, 3rd ed., Wiley (2007), §2.3 (Mott–Schottky,
  depletion width, Shockley diode).
* Maier, *Prog. Solid State Chem.* 23, 171 (1995); Maier, *Physical Chemistry of Ionic
  Materials*, Wiley (2004), §5.8 (space charge in ionic solids, heterojunctions).
* Kornyshev, *J. Phys. Chem. B* 111, 5545 (2007); Kilic, Bazant & Ajdari, *Phys. Rev. E* 75,
  021502 (2007) (site-saturated / lattice-gas double layers).
* Macdonald, *Phys. Rev.* 92, 4 (1953); Barsoukov & Macdonald, *Impedance Spectroscopy*, 2nd ed.,
  Wiley (2005), §2.2 (blocking-electrode cell).
* Jamnik & Maier, *J. Electrochem. Soc.* 146, 4183 (1999); *Phys. Chem. Chem. Phys.* 3, 1668
  (2001) (mixed conductor, ion-blocking / electron-reversible electrodes).
* van Turnhout, *Thermally Stimulated Discharge of Polymer Electrets*, Elsevier (1975)
  (space-charge TSDC); Chen & Kirsh, *Analysis of Thermally Stimulated Processes* (1981).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

from iondyn.constants import E_CHARGE, EPS0, K_B
from iondyn.errors import InputError

__all__ = [
    "blocking_cell_impedance",
    "blocking_cell_split",
    "builtin_potential",
    "chemical_diffusivity",
    "debye_length",
    "depletion_width",
    "gouy_chapman_capacitance",
    "gouy_chapman_potential",
    "grahame_charge",
    "heterojunction_partition",
    "jamnik_maier_impedance",
    "mott_schottky_charge",
    "nernst_einstein_conductivity",
    "saturated_accumulation_charge",
    "shockley_current_density",
    "space_charge_relaxation_time",
    "space_charge_tsdc_peak_temperature",
    "tsdc_peak_temperature",
]


def _kt(temperature_K: float) -> float:
    if not (np.isfinite(temperature_K) and temperature_K > 0):
        raise InputError(f"temperature must be positive, got {temperature_K!r} K")
    return K_B * float(temperature_K)


def debye_length(eps_r, temperature_K: float, concentrations_m3, charges) -> np.ndarray:
    """Debye screening length of a set of mobile carriers.

    L_D = sqrt(ε0 εr kT / (e² Σ_k z_k² c_k∞)).  (Bard & Faulkner §13.3; Maier 1995.)

    ``concentrations_m3`` and ``charges`` are sequences over the mobile species (the last axis);
    ``eps_r`` broadcasts against the remaining axes.
    """
    c = np.asarray(concentrations_m3, dtype=float)
    z = np.asarray(charges, dtype=float)
    strength = np.sum(z**2 * c, axis=-1)
    return np.sqrt(EPS0 * np.asarray(eps_r, dtype=float) * _kt(temperature_K)) / (
        E_CHARGE * np.sqrt(strength)
    )


def gouy_chapman_potential(
    x_m, phi0_V, debye_length_m, temperature_K: float, z: float = 1.0
) -> np.ndarray:
    """Gouy–Chapman potential of a symmetric z:z electrolyte against a plane electrode.

    φ(x) = (4kT/ze) artanh[tanh(zeφ0/4kT) e^{−x/L_D}], with L_D = sqrt(εkT/(2z²e²c∞)) the
    Debye length of the pair.  (Bard & Faulkner eq. 13.3.20.)
    """
    vt = _kt(temperature_K) / (z * E_CHARGE)
    x = np.asarray(x_m, dtype=float)
    return (
        4.0
        * vt
        * np.arctanh(np.tanh(np.asarray(phi0_V) / (4.0 * vt)) * np.exp(-x / debye_length_m))
    )


def grahame_charge(phi0_V, eps_r, temperature_K: float, c_bulk_m3, z: float = 1.0) -> np.ndarray:
    """Grahame equation: electrode charge of a Gouy–Chapman layer (symmetric z:z electrolyte).

    Q = sqrt(8 ε kT c∞) sinh(zeφ0/2kT) (C/m², positive for φ0 > 0).  (Bard & Faulkner
    eq. 13.3.21.)
    """
    kt = _kt(temperature_K)
    eps = EPS0 * np.asarray(eps_r, dtype=float)
    u0 = z * E_CHARGE * np.asarray(phi0_V, dtype=float) / kt
    return np.sqrt(8.0 * eps * kt * np.asarray(c_bulk_m3, dtype=float)) * np.sinh(0.5 * u0)


def gouy_chapman_capacitance(
    phi0_V, eps_r, temperature_K: float, c_bulk_m3, z: float = 1.0
) -> np.ndarray:
    """Differential capacitance of a Gouy–Chapman layer.

    C = dQ/dφ0 = (ε/L_D) cosh(zeφ0/2kT), L_D = sqrt(εkT/(2z²e²c∞)).  (Bard & Faulkner
    eq. 13.3.24.)
    """
    kt = _kt(temperature_K)
    eps = EPS0 * np.asarray(eps_r, dtype=float)
    ld = np.sqrt(eps * kt / (2.0 * z**2 * E_CHARGE**2 * np.asarray(c_bulk_m3, dtype=float)))
    u0 = z * E_CHARGE * np.asarray(phi0_V, dtype=float) / kt
    return eps / ld * np.cosh(0.5 * u0)


def mott_schottky_charge(
    phi0_V, eps_r, temperature_K: float, c_bulk_m3, z: float = 1.0
) -> np.ndarray:
    """Electrode charge of one mobile carrier against an immobile, uniform counter-charge.

    Q = sign(φ0) sqrt(2 ε kT c∞ (e^{−u0} + u0 − 1)), u0 = zeφ0/kT (exact first integral of the
    Poisson–Boltzmann equation; depletion for u0 > 0, dilute accumulation for u0 < 0).
    (Sze & Ng §2.3.1; Maier 1995.)
    """
    kt = _kt(temperature_K)
    eps = EPS0 * np.asarray(eps_r, dtype=float)
    phi0 = np.asarray(phi0_V, dtype=float)
    u0 = z * E_CHARGE * phi0 / kt
    return np.sign(phi0) * np.sqrt(
        2.0 * eps * kt * np.asarray(c_bulk_m3, dtype=float) * (np.expm1(-u0) + u0)
    )


def depletion_width(
    delta_phi_V, eps_r, temperature_K: float, c_bulk_m3, z: float = 1.0
) -> np.ndarray:
    """Width of a Mott–Schottky depletion layer.

    w = sqrt(2ε(Δφ − kT/ze)/(zec∞)) (depletion approximation with the kT/e correction).
    (Sze & Ng eq. 2.3.33.)
    """
    kt = _kt(temperature_K)
    eps = EPS0 * np.asarray(eps_r, dtype=float)
    dphi = np.asarray(delta_phi_V, dtype=float) - kt / (z * E_CHARGE)
    return np.sqrt(2.0 * eps * dphi / (z * E_CHARGE * np.asarray(c_bulk_m3, dtype=float)))


def saturated_accumulation_charge(
    phi0_V, eps_r, temperature_K: float, c_max_m3, theta_bulk, z: float = 1.0
) -> np.ndarray:
    """Electrode charge of a site-saturated (lattice-gas) carrier against an immobile background.

    With θ/(1−θ) = θ∞/(1−θ∞) e^{−u} and background −ze θ∞ c_max, the first integral gives
    Q = sign(φ0) sqrt(2 ε kT c_max [ln(1 − θ∞ + θ∞ e^{−u0}) + θ∞ u0]).  For θ∞ → 0 it reduces to
    :func:`mott_schottky_charge`.  (Kornyshev 2007; Kilic, Bazant & Ajdari 2007.)
    """
    kt = _kt(temperature_K)
    eps = EPS0 * np.asarray(eps_r, dtype=float)
    phi0 = np.asarray(phi0_V, dtype=float)
    th = np.asarray(theta_bulk, dtype=float)
    u0 = z * E_CHARGE * phi0 / kt
    # ln(1 − θ + θ e^{−u}) evaluated without overflow for large −u
    big = np.maximum(-u0, 0.0)
    log_term = big + np.log((1.0 - th) * np.exp(-big) + th * np.exp(-u0 - big))
    return np.sign(phi0) * np.sqrt(
        2.0 * eps * kt * np.asarray(c_max_m3, dtype=float) * (log_term + th * u0)
    )


def builtin_potential(
    c_left_m3, c_right_m3, delta_mu0_eV, temperature_K: float, z: float = 1.0
) -> np.ndarray:
    """Bulk-to-bulk potential step φ_B∞ − φ_A∞ of a junction exchanging one dilute carrier.

    Equal electrochemical potentials μ0_A + kT ln c_A + zeφ_A = μ0_B + kT ln c_B + zeφ_B give
    φ_B∞ − φ_A∞ = [kT ln(c_A/c_B) − Δμ0]/(ze), Δμ0 = μ0_B − μ0_A.  (Maier 2004, §5.8.)
    """
    kt = _kt(temperature_K)
    return (
        kt * np.log(np.asarray(c_left_m3, dtype=float) / np.asarray(c_right_m3, dtype=float))
        - np.asarray(delta_mu0_eV, dtype=float) * E_CHARGE
    ) / (z * E_CHARGE)


def heterojunction_partition(
    delta_phi_total_V: float,
    eps_r_left: float,
    eps_r_right: float,
    c_left_m3: float,
    c_right_m3: float,
    temperature_K: float,
    z: float = 1.0,
) -> tuple[float, float]:
    """Split of the built-in potential between two Gouy–Chapman layers A | B.

    Δφ_A + Δφ_B = Δφ (Δφ_A = φ_interface − φ_A∞, Δφ_B = φ_B∞ − φ_interface) and charge
    continuity sqrt(8ε_A kT c_A) sinh(zeΔφ_A/2kT) = sqrt(8ε_B kT c_B) sinh(zeΔφ_B/2kT), for
    symmetric z:z electrolytes on both sides.  Returns (Δφ_A, Δφ_B) in V.  (Maier 2004, §5.8.)
    """
    kt = _kt(temperature_K)
    vt = kt / (z * E_CHARGE)
    total = float(delta_phi_total_V) / vt
    wa = np.sqrt(eps_r_left * c_left_m3)
    wb = np.sqrt(eps_r_right * c_right_m3)
    if total == 0.0:
        return 0.0, 0.0

    def balance(a: float) -> float:
        return wa * np.sinh(0.5 * a) - wb * np.sinh(0.5 * (total - a))

    lo, hi = min(0.0, total), max(0.0, total)
    a = brentq(balance, lo, hi, xtol=1e-14, rtol=1e-14)
    return a * vt, (total - a) * vt


def blocking_cell_split(
    voltage_V: float, temperature_K: float, z: float = 1.0
) -> tuple[float, float]:
    """Split of a voltage between the two layers of one carrier between blocking electrodes.

    Depletion side a, accumulation side b (reduced units), a + b = zeV/kT, with equal charges
    sqrt(2(e^{−a} + a − 1)) = sqrt(2(e^{b} − b − 1)) (Mott–Schottky first integral on both sides;
    cell thickness ≫ L_D).  Returns (a, b) in V (a on the positive-electrode side for z > 0).
    (Sze & Ng §2.3.)
    """
    vt = _kt(temperature_K) / (abs(z) * E_CHARGE)
    total = abs(float(voltage_V)) / vt
    if total == 0.0:
        return 0.0, 0.0

    def balance(a: float) -> float:
        b = total - a
        return (np.expm1(-a) + a) - (np.expm1(b) - b)

    a = brentq(balance, 0.0, total, xtol=1e-14, rtol=1e-14)
    return a * vt, (total - a) * vt


def nernst_einstein_conductivity(
    diffusivity_m2_s, c_m3, temperature_K: float, z: float = 1.0
) -> np.ndarray:
    """Nernst–Einstein conductivity σ = z²e² D c / kT (S/m)."""
    return z**2 * E_CHARGE**2 * np.asarray(diffusivity_m2_s) * np.asarray(c_m3) / _kt(temperature_K)


def blocking_cell_impedance(
    frequency_Hz, length_m: float, eps_r: float, conductivity_S_m: float, debye_length_m: float
) -> np.ndarray:
    """Impedance (Ω·m²) of one mobile carrier between two blocking electrodes (linear PNP).

    τ = ε/σ, κ² = (1 + iωτ)/L_D²,
    Z(ω) = L/(σ + iωε) + [σ/(iωε(σ + iωε))]·(2/κ)·tanh(κL/2).
    Limits: L/σ + 2L_D/(iωε) at low ω, L/(iωε) at high ω.  (Macdonald 1953; Barsoukov &
    Macdonald 2005, §2.2.3.)
    """
    w = 2.0 * np.pi * np.asarray(frequency_Hz, dtype=float)
    eps = EPS0 * eps_r
    s = conductivity_S_m
    y = s + 1j * w * eps
    kappa = np.sqrt(1.0 + 1j * w * eps / s) / debye_length_m
    return length_m / y + s / (1j * w * eps * y) * (2.0 / kappa) * np.tanh(0.5 * kappa * length_m)


def chemical_diffusivity(sigma_ion, sigma_eon, d_ion, d_eon) -> np.ndarray:
    """Chemical (ambipolar) diffusion coefficient of a dilute mixed conductor.

    D̃ = (σ_e D_i + σ_i D_e)/(σ_i + σ_e).  (Maier 2004, §6.7.)
    """
    si, se = np.asarray(sigma_ion, dtype=float), np.asarray(sigma_eon, dtype=float)
    return (se * np.asarray(d_ion) + si * np.asarray(d_eon)) / (si + se)


def jamnik_maier_impedance(
    frequency_Hz, length_m: float, sigma_ion: float, sigma_eon: float, d_chem: float
) -> np.ndarray:
    """Impedance (Ω·m²) of a mixed conductor between ion-blocking, electron-reversible electrodes.

    Z = R∞ + (R_e − R∞) tanh(s)/s, s = sqrt(iωL²/(4D̃)), R_i = L/σ_i, R_e = L/σ_e,
    R∞ = R_iR_e/(R_i + R_e) (no geometric and no interfacial capacitance; L ≫ L_D).
    (Jamnik & Maier 1999, 2001.)
    """
    w = 2.0 * np.pi * np.asarray(frequency_Hz, dtype=float)
    ri, re = length_m / sigma_ion, length_m / sigma_eon
    rinf = ri * re / (ri + re)
    s = np.sqrt(1j * w * length_m**2 / (4.0 * d_chem))
    return rinf + (re - rinf) * np.tanh(s) / s


def shockley_current_density(
    voltage_V,
    n_i_m3: float,
    diffusivity_left_m2_s: float,
    n_left_m3: float,
    width_left_m: float,
    diffusivity_right_m2_s: float,
    n_right_m3: float,
    width_right_m: float,
    temperature_K: float,
) -> np.ndarray:
    """Ideal short-base Shockley law of a bipolar ionic junction (A/m²).

    J = e n_i² [D_A/(N_A W_A) + D_B/(N_B W_B)] (e^{eV/kT} − 1), with D_A the diffusivity of the
    minority carrier in the left (cation-rich) phase, N its majority (dopant) density and W the
    width of its neutral region; n_i² = c₊c₋ the mass-action constant.  Valid at low injection,
    minority diffusion lengths ≫ W, ohmic contacts.  (Sze & Ng §2.3.3, eq. 2.3.63.)
    """
    kt = _kt(temperature_K)
    js = (
        E_CHARGE
        * n_i_m3**2
        * (
            diffusivity_left_m2_s / (n_left_m3 * width_left_m)
            + diffusivity_right_m2_s / (n_right_m3 * width_right_m)
        )
    )
    return js * np.expm1(E_CHARGE * np.asarray(voltage_V, dtype=float) / kt)


def space_charge_relaxation_time(
    eps_r, length_m, conductivity_S_m, layer_thickness_m
) -> np.ndarray:
    """Relaxation time of electrode polarisation in a blocking cell.

    τ_sc = ε L / (2 σ λ): bulk resistance L/σ in series with the two layer capacitances ε/λ.
    (Macdonald, Phys. Rev. 92, 4 (1953); van Turnhout, *Thermally Stimulated Discharge of
    Polymer Electrets* (1975), ch. 3.)
    """
    return (
        EPS0
        * np.asarray(eps_r)
        * np.asarray(length_m)
        / (2.0 * np.asarray(conductivity_S_m) * np.asarray(layer_thickness_m))
    )


def tsdc_peak_temperature(
    tau_of_T: Callable[[np.ndarray], np.ndarray],
    beta_K_per_s: float,
    t_low_K: float = 20.0,
    t_high_K: float = 2000.0,
) -> float:
    """Temperature of the maximum of a first-order TSDC peak with relaxation time τ(T).

    J(T) = (P0/τ) exp(−∫ dT′/(βτ)) has its maximum where −β dτ/dT = 1 (for τ = τ0 e^{Ea/kT} this is
    τ(Tm) = kTm²/(βEa)).  ``tau_of_T`` must decrease with T.  (Chen & Kirsh 1981, §2.)
    """
    if not beta_K_per_s > 0:
        raise InputError("the heating rate must be positive")

    def tau(t: float) -> float:
        return float(np.ravel(tau_of_T(np.array(t)))[0])

    def cond(t: float) -> float:
        h = 1e-4 * t
        dlog = (np.log(tau(t + h)) - np.log(tau(t - h))) / (2 * h)
        return float(-beta_K_per_s * dlog * tau(t) - 1.0)

    lo, hi = t_low_K, t_high_K
    if cond(lo) * cond(hi) > 0:
        raise InputError(
            f"no TSDC peak between {t_low_K:g} and {t_high_K:g} K for this relaxation time"
        )
    return float(brentq(cond, lo, hi, xtol=1e-10, rtol=1e-12))


def space_charge_tsdc_peak_temperature(
    eps_r: float,
    length_m: float,
    sigma_ref_S_m: float,
    t_ref_K: float,
    activation_energy_eV: float,
    layer_thickness_m: float | Callable[[np.ndarray], np.ndarray],
    beta_K_per_s: float,
) -> float:
    """Predicted electrode-polarisation TSDC peak of a blocking pellet.

    τ_sc(T) = ε L/(2 σ(T) λ) with σT = σ_ref T_ref exp[−Ea/k (1/T − 1/T_ref)] (the Arrhenius law
    of σT that Nernst–Einstein gives for an activated diffusivity) and λ a fixed thickness or a
    function λ(T) (e.g. the Debye length ∝ √T); the peak follows from −β dτ/dT = 1
    (:func:`tsdc_peak_temperature`). (Macdonald 1953 and van Turnhout 1975 as above; an LLZO
    pellet, ε_r 60, σ(298 K) = 5e-4 S/cm, Ea = 0.40 eV, L = 1 mm, λ = 1 nm, β = 5 K/min, peaks
    at ≈ 180 K.)
    """
    k_ev = K_B / E_CHARGE

    def sigma(t):
        return (
            sigma_ref_S_m
            * (t_ref_K / t)
            * np.exp(-activation_energy_eV / k_ev * (1 / t - 1 / t_ref_K))
        )

    def tau(t):
        lam = layer_thickness_m(t) if callable(layer_thickness_m) else layer_thickness_m
        return space_charge_relaxation_time(eps_r, length_m, sigma(t), lam)

    return tsdc_peak_temperature(tau, beta_K_per_s)
