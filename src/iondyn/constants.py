"""Physical constants (CODATA via :mod:`scipy.constants`) and small unit helpers."""

from __future__ import annotations

from scipy import constants as _c

#: Boltzmann constant in eV/K.
K_B_EV: float = _c.k / _c.e
#: Boltzmann constant in J/K.
K_B: float = _c.k
#: Elementary charge in C.
E_CHARGE: float = _c.e
#: Vacuum permittivity in F/m.
EPS0: float = _c.epsilon_0
#: Faraday constant in C/mol.
FARADAY: float = _c.physical_constants["Faraday constant"][0]
#: Avogadro constant in 1/mol.
N_A: float = _c.N_A
#: 0 °C in K.
ZERO_CELSIUS_K: float = _c.zero_Celsius


def celsius_to_kelvin(t_c):
    """Convert °C to K: T = t + 273.15."""
    return t_c + ZERO_CELSIUS_K


def thermal_voltage(temperature_k: float) -> float:
    """kT/e in volts at ``temperature_k``."""
    return K_B * temperature_k / E_CHARGE
