"""Material definitions: species, phases, contacts, reactions and the device that holds them.

A :class:`Device` is a row of :class:`Phase` objects along x (left to right) between a left and
a right :class:`Contact`, at one temperature. Every quantity is SI and says so in its name.

Statistics of a species (Maier 2004, §5.8; Kilic, Bazant & Ajdari, Phys. Rev. E 75, 021502
(2007)):

* dilute (no ``c_max_m3``): μ = μ0 + kT ln(c / 1 m⁻³) + zeφ (Boltzmann);
* site-saturated (``c_max_m3`` = site density): μ = μ0 + kT ln(θ/(1 − θ)) + zeφ, θ = c/c_max
  (lattice gas; concentrations can never exceed the site density).

``mu0_eV`` is the standard chemical potential (site energy) of the species in that phase; only
differences between phases matter as long as a species has the same statistics on both sides of
a junction.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from iondyn.constants import E_CHARGE, K_B
from iondyn.errors import InputError

__all__ = [
    "CONTACT_KINDS",
    "Contact",
    "Device",
    "Phase",
    "Reaction",
    "Species",
]

#: Contact types: ``bulk`` (no electrode: zero field, zero flux — the far bulk or a symmetry
#: plane), ``blocking`` (ideally polarisable electrode), ``ohmic`` (reversible: the listed
#: species are held at their bulk concentration), ``butler-volmer`` (reaction-limited exchange).
CONTACT_KINDS = ("bulk", "blocking", "ohmic", "butler-volmer")

#: Relative tolerance on bulk electroneutrality (|Σ z c| ≤ tol · Σ |z| c).
NEUTRALITY_RTOL = 1e-6


def _finite(name: str, value: Any, where: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InputError(f"{where}: {name} must be finite, got {value!r}")
    return v


@dataclass(frozen=True)
class Species:
    """One charged species of a phase.

    ``charge`` is the charge number z (e.g. +1 for Li⁺ or a vacancy with effective charge +1);
    ``c_bulk_m3`` its bulk concentration; ``c_max_m3`` the density of sites it can occupy
    (site-saturated statistics) or None (dilute); ``diffusivity_m2_s`` its diffusion coefficient
    at the device temperature (needed by transport); ``activation_energy_eV`` makes it
    Arrhenius-activated, D(T) = D(T_ref) exp[−Ea/k (1/T − 1/T_ref)]; ``mobile = False`` turns it
    into a fixed background charge.
    """

    name: str
    charge: float
    c_bulk_m3: float
    c_max_m3: float | None = None
    diffusivity_m2_s: float | None = None
    mobile: bool = True
    mu0_eV: float = 0.0
    activation_energy_eV: float | None = None

    def __post_init__(self) -> None:
        where = f"species {self.name!r}"
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError("a species needs a non-empty name")
        z = _finite("charge", self.charge, where)
        if z == 0.0:
            raise InputError(f"{where}: charge must be non-zero (neutral species do not enter)")
        c = _finite("c_bulk_m3", self.c_bulk_m3, where)
        if c < 0:
            raise InputError(f"{where}: c_bulk_m3 must not be negative, got {c:g}")
        if self.mobile and c == 0:
            raise InputError(
                f"{where}: a mobile species needs a positive c_bulk_m3 (use a small value for a "
                "trace carrier)"
            )
        if self.c_max_m3 is not None:
            cm = _finite("c_max_m3", self.c_max_m3, where)
            if cm <= 0:
                raise InputError(f"{where}: c_max_m3 must be positive, got {cm:g}")
            if c >= cm:
                raise InputError(
                    f"{where}: c_bulk_m3 = {c:g} must be below the site density c_max_m3 = {cm:g}"
                )
        if self.diffusivity_m2_s is not None:
            d = _finite("diffusivity_m2_s", self.diffusivity_m2_s, where)
            if d <= 0:
                raise InputError(f"{where}: diffusivity_m2_s must be positive, got {d:g}")
        _finite("mu0_eV", self.mu0_eV, where)
        if self.activation_energy_eV is not None:
            ea = _finite("activation_energy_eV", self.activation_energy_eV, where)
            if ea < 0:
                raise InputError(f"{where}: activation_energy_eV must not be negative")

    @property
    def saturated(self) -> bool:
        """True for site-saturated (lattice-gas) statistics."""
        return self.c_max_m3 is not None

    @property
    def theta_bulk(self) -> float:
        """Bulk site fraction c∞/c_max (0 for dilute species)."""
        return 0.0 if self.c_max_m3 is None else self.c_bulk_m3 / self.c_max_m3

    def diffusivity_at(self, temperature_K: float, reference_K: float) -> float | None:
        """D(T) = D(T_ref) exp[−Ea/k (1/T − 1/T_ref)] (Arrhenius; constant without Ea)."""
        if self.diffusivity_m2_s is None:
            return None
        if not self.activation_energy_eV:
            return self.diffusivity_m2_s
        k_ev = K_B / E_CHARGE
        return self.diffusivity_m2_s * math.exp(
            -self.activation_energy_eV / k_ev * (1.0 / temperature_K - 1.0 / reference_K)
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Phase:
    """A homogeneous layer: permittivity, thickness and its species (bulk must be neutral)."""

    name: str
    eps_r: float
    species: tuple[Species, ...]
    length_m: float | None = None

    def __post_init__(self) -> None:
        where = f"phase {self.name!r}"
        object.__setattr__(self, "species", tuple(self.species))
        eps = _finite("eps_r", self.eps_r, where)
        if eps <= 0:
            raise InputError(f"{where}: eps_r must be positive, got {eps:g}")
        if self.length_m is not None:
            length = _finite("length_m", self.length_m, where)
            if length <= 0:
                raise InputError(f"{where}: length_m must be positive, got {length:g}")
        if not self.species:
            raise InputError(f"{where}: no species defined")
        names = [s.name for s in self.species]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise InputError(f"{where}: species defined twice: {', '.join(sorted(dup))}")
        net = sum(s.charge * s.c_bulk_m3 for s in self.species)
        scale = sum(abs(s.charge) * s.c_bulk_m3 for s in self.species)
        if scale <= 0:
            raise InputError(f"{where}: every species has zero bulk concentration")
        if abs(net) > NEUTRALITY_RTOL * scale:
            raise InputError(
                f"{where}: the bulk is not electroneutral: Σ z c = {net:.6g} m⁻³ "
                f"({abs(net) / scale:.3g} of Σ |z| c); add or adjust a background species"
            )
        if not any(s.mobile for s in self.species):
            raise InputError(f"{where}: no mobile species (nothing can form a space charge)")

    def species_named(self, name: str) -> Species | None:
        for s in self.species:
            if s.name == name:
                return s
        return None

    @property
    def mobile_species(self) -> tuple[Species, ...]:
        return tuple(s for s in self.species if s.mobile)

    def debye_length_m(self, temperature_K: float) -> float:
        """L_D = sqrt(ε0 εr kT/(e² Σ z² c∞)) over the mobile species."""
        from iondyn.physics.analytic import debye_length

        mob = self.mobile_species
        return float(
            debye_length(
                self.eps_r, temperature_K, [s.c_bulk_m3 for s in mob], [s.charge for s in mob]
            )
        )

    def conductivity_S_m(self, temperature_K: float, reference_K: float | None = None) -> float:
        """Bulk conductivity σ = Σ z²e² D c (1 − θ)/kT (Nernst–Einstein; 0 without D)."""
        ref = temperature_K if reference_K is None else reference_K
        total = 0.0
        for s in self.mobile_species:
            d = s.diffusivity_at(temperature_K, ref)
            if d is not None:
                total += s.charge**2 * d * s.c_bulk_m3 * (1.0 - s.theta_bulk)
        return total * E_CHARGE**2 / (K_B * temperature_K)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "eps_r": self.eps_r,
            "length_m": self.length_m,
            "species": [s.to_dict() for s in self.species],
        }


@dataclass(frozen=True)
class Contact:
    """A boundary of the device.

    ``kind`` is one of :data:`CONTACT_KINDS`. ``potential_V`` is the electrode potential relative
    to the bulk of the adjacent phase at equilibrium (0 = no electrode space charge).
    ``species`` names the species an ``ohmic`` or ``butler-volmer`` contact exchanges (all
    mobile species of the adjacent phase when None for ohmic; required for Butler–Volmer); the
    other species see a blocking wall.

    Butler–Volmer (Frumkin form; Bazant, Chu & Bayly, SIAM J. Appl. Math. 65, 1463 (2005)):
    the particle flux from the electrode into the electrolyte is
    F_in = (j0/|z|e) [exp((1−α) z η) − (c_s/c∞) exp(−α z η)], η = e(V − φ_s)/kT the drop across
    a Stern layer of capacitance ``stern_capacitance_F_m2`` between the metal (V) and the
    electrolyte edge (φ_s, concentration c_s), j0 = ``exchange_current_A_m2`` the exchange current
    density at c_s = c∞ and α = ``transfer_coefficient``. Without a Stern capacitance φ_s = V
    and η = 0: F_in = (j0/|z|e)(1 − c_s/c∞), a rate-limited reversible contact (Chang–Jaffé).
    """

    kind: str = "bulk"
    potential_V: float = 0.0
    species: tuple[str, ...] | None = None
    exchange_current_A_m2: float | None = None
    transfer_coefficient: float = 0.5
    stern_capacitance_F_m2: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in CONTACT_KINDS:
            raise InputError(
                f"unknown contact type {self.kind!r}; use one of {', '.join(CONTACT_KINDS)}"
            )
        where = f"{self.kind} contact"
        if _finite("potential_V", self.potential_V, where) != 0 and self.kind == "bulk":
            raise InputError("a bulk boundary (no electrode) has no potential_V")
        if self.species is not None:
            object.__setattr__(self, "species", tuple(str(s) for s in self.species))
        if self.kind == "butler-volmer":
            if not self.species:
                raise InputError(f"{where}: name the reacting species (species = [...])")
            if self.exchange_current_A_m2 is None:
                raise InputError(f"{where}: exchange_current_A_m2 is required")
            j0 = _finite("exchange_current_A_m2", self.exchange_current_A_m2, where)
            if j0 <= 0:
                raise InputError(f"{where}: exchange_current_A_m2 must be positive")
            a = _finite("transfer_coefficient", self.transfer_coefficient, where)
            if not 0.0 < a < 1.0:
                raise InputError(f"{where}: transfer_coefficient must lie in (0, 1), got {a:g}")
            if self.stern_capacitance_F_m2 is not None:
                cs = _finite("stern_capacitance_F_m2", self.stern_capacitance_F_m2, where)
                if cs <= 0:
                    raise InputError(f"{where}: stern_capacitance_F_m2 must be positive")
        elif self.exchange_current_A_m2 is not None or self.stern_capacitance_F_m2 is not None:
            raise InputError(
                f"{where}: exchange_current_A_m2 and stern_capacitance_F_m2 belong to "
                "butler-volmer contacts"
            )

    @property
    def is_electrode(self) -> bool:
        return self.kind != "bulk"

    def exchanges(self, species_name: str, phase: Phase) -> bool:
        """True when this contact lets ``species_name`` through (ohmic or Butler–Volmer)."""
        if self.kind in ("bulk", "blocking"):
            return False
        if self.species is None:
            sp = phase.species_named(species_name)
            return sp is not None and sp.mobile
        return species_name in self.species

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["species"] = None if self.species is None else list(self.species)
        return d


@dataclass(frozen=True)
class Reaction:
    """Generation–recombination of a pair of oppositely charged defects, ∅ ⇌ A + B.

    Net generation rate per volume (Frenkel/Schottky-pair kinetics, detailed balance with the
    bulk of each phase): G = k_rec [c_A∞ c_B∞ v_A v_B / (v_A∞ v_B∞) − c_A c_B], v = 1 − θ for
    site-saturated species (generation needs free sites) and 1 for dilute ones; ``k_rec_m3_s``
    is the recombination rate constant (m³/s). z_A + z_B must be 0.
    """

    species: tuple[str, str]
    k_rec_m3_s: float

    def __post_init__(self) -> None:
        sp = tuple(str(s) for s in self.species)
        if len(sp) != 2 or sp[0] == sp[1]:
            raise InputError("a generation–recombination reaction needs two different species")
        object.__setattr__(self, "species", sp)
        k = _finite("k_rec_m3_s", self.k_rec_m3_s, "reaction")
        if k <= 0:
            raise InputError("reaction: k_rec_m3_s must be positive")

    def to_dict(self) -> dict[str, Any]:
        return {"species": list(self.species), "k_rec_m3_s": self.k_rec_m3_s}


@dataclass(frozen=True)
class Device:
    """Phases in a row between two contacts at one temperature (the input of every solver)."""

    phases: tuple[Phase, ...]
    temperature_K: float
    left: Contact = field(default_factory=lambda: Contact("blocking"))
    right: Contact = field(default_factory=lambda: Contact("bulk"))
    reactions: tuple[Reaction, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "phases", tuple(self.phases))
        object.__setattr__(self, "reactions", tuple(self.reactions))
        if not self.phases:
            raise InputError("the device needs at least one phase")
        t = _finite("temperature_K", self.temperature_K, "device")
        if t <= 0:
            raise InputError(f"temperature_K must be positive, got {t:g}")
        names = [p.name for p in self.phases]
        if len(set(names)) != len(names):
            raise InputError("phase names must be unique")
        charges: dict[str, float] = {}
        for p in self.phases:
            for s in p.species:
                if s.name in charges and charges[s.name] != s.charge:
                    raise InputError(
                        f"species {s.name!r} has charge {charges[s.name]:g} in one phase and "
                        f"{s.charge:g} in another"
                    )
                charges[s.name] = s.charge
        for contact, side, phase in (
            (self.left, "left", self.phases[0]),
            (self.right, "right", self.phases[-1]),
        ):
            for name in contact.species or ():
                sp = phase.species_named(name)
                if sp is None or not sp.mobile:
                    raise InputError(
                        f"{side} contact: species {name!r} is not a mobile species of the "
                        f"adjacent phase {phase.name!r}"
                    )
        for r in self.reactions:
            for name in r.species:
                if name not in charges:
                    raise InputError(f"reaction: unknown species {name!r}")
            za, zb = (charges[n] for n in r.species)
            if abs(za + zb) > 1e-12:
                raise InputError(
                    f"reaction {r.species[0]} + {r.species[1]}: charges {za:g} and {zb:g} do not "
                    "cancel (pair generation must conserve charge)"
                )

    @property
    def thermal_voltage_V(self) -> float:
        return K_B * self.temperature_K / E_CHARGE

    @property
    def species_names(self) -> tuple[str, ...]:
        """All species names in order of first appearance."""
        seen: list[str] = []
        for p in self.phases:
            for s in p.species:
                if s.name not in seen:
                    seen.append(s.name)
        return tuple(seen)

    def charge_of(self, name: str) -> float:
        for p in self.phases:
            s = p.species_named(name)
            if s is not None:
                return s.charge
        raise KeyError(name)

    def total_length_m(self) -> float | None:
        lengths = [p.length_m for p in self.phases]
        return None if any(v is None for v in lengths) else float(np.sum(lengths))

    def to_dict(self) -> dict[str, Any]:
        return {
            "temperature_K": self.temperature_K,
            "phases": [p.to_dict() for p in self.phases],
            "left": self.left.to_dict(),
            "right": self.right.to_dict(),
            "reactions": [r.to_dict() for r in self.reactions],
        }
