"""TOML configuration of a simulated device (schema in docs/physics.md).

Every quantity is SI and names its unit: ``eps_r``, ``temperature_K``, ``length_m``,
``c_bulk_m3``, ``c_max_m3``, ``diffusivity_m2_s``, ``activation_energy_eV``, ``mu0_eV``,
``potential_V``, ``exchange_current_A_m2``, ``stern_capacitance_F_m2``, ``k_rec_m3_s``.
Unknown keys are errors (a misspelt unit must not be ignored).

One phase::

    temperature_K = 298.15
    [material]
    eps_r = 10.0
    length_m = 1e-7
    [[species]]
    name = "V"
    charge = 1
    c_bulk_m3 = 1e24
    [[species]]
    name = "B"
    charge = -1
    c_bulk_m3 = 1e24
    mobile = false
    [boundary]
    type = "blocking"
    potential_V = 0.1

Several phases use ``[[phase]]`` tables (in order along x) with ``[[phase.species]]``; contacts
``[boundary.left]`` / ``[boundary.right]``; generation–recombination ``[[reaction]]``; solver
options ``[solver]``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iondyn.errors import ConfigError, FileFormatError, InputError
from iondyn.io.text import read_bytes
from iondyn.physics.species import CONTACT_KINDS, Contact, Device, Phase, Reaction, Species

__all__ = ["MAX_CONFIG_BYTES", "SimulationConfig", "config_from_dict", "load_config"]

#: Device files are a few kB; anything larger than this is not one.
MAX_CONFIG_BYTES = 16 * 1024 * 1024

_SPECIES_KEYS = {
    "name": str,
    "charge": (int, float),
    "c_bulk_m3": (int, float),
    "c_max_m3": (int, float),
    "diffusivity_m2_s": (int, float),
    "activation_energy_eV": (int, float),
    "mu0_eV": (int, float),
    "mobile": bool,
}
_PHASE_KEYS = {
    "name": str,
    "eps_r": (int, float),
    "length_m": (int, float),
    "temperature_K": (int, float),
}
_CONTACT_KEYS = {
    "type": str,
    "potential_V": (int, float),
    "species": list,
    "exchange_current_A_m2": (int, float),
    "transfer_coefficient": (int, float),
    "stern_capacitance_F_m2": (int, float),
}
_REACTION_KEYS = {"species": list, "k_rec_m3_s": (int, float)}
_SOLVER_KEYS = {
    "resolution": (int, float),
    "ratio": (int, float),
    "ensemble": str,
    "max_refinements": int,
    "max_nodes": int,
}
_TOP_KEYS = {"temperature_K", "material", "phase", "species", "boundary", "reaction", "solver"}
_REQUIRED_SPECIES = ("name", "charge", "c_bulk_m3")


@dataclass
class SimulationConfig:
    """A parsed configuration: the device plus solver options."""

    device: Device
    solver: dict[str, Any] = field(default_factory=dict)
    source: str | None = None


def _check(table: dict, allowed: dict, where: str, source: str | None) -> dict:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table", path=source)
    for key, value in table.items():
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            raise ConfigError(f"{where}: unknown key {key!r} (allowed: {hint})", path=source)
        want = allowed[key]
        if (
            isinstance(value, bool)
            and want is not bool
            and bool not in (want if isinstance(want, tuple) else (want,))
        ):
            raise ConfigError(f"{where}.{key}: expected a number, got {value!r}", path=source)
        if not isinstance(value, want):
            raise ConfigError(
                f"{where}.{key}: expected {_type_name(want)}, got {value!r}", path=source
            )
    return table


def _type_name(want) -> str:
    names = {str: "a string", bool: "true or false", list: "a list", int: "an integer"}
    if isinstance(want, tuple):
        return "a number"
    return names.get(want, "a number")


def _species(table: dict, where: str, source: str | None) -> Species:
    _check(table, _SPECIES_KEYS, where, source)
    for key in _REQUIRED_SPECIES:
        if key not in table:
            raise ConfigError(f"{where}: missing required key {key!r}", path=source)
    try:
        return Species(
            name=table["name"],
            charge=float(table["charge"]),
            c_bulk_m3=float(table["c_bulk_m3"]),
            c_max_m3=None if "c_max_m3" not in table else float(table["c_max_m3"]),
            diffusivity_m2_s=table.get("diffusivity_m2_s"),
            mobile=table.get("mobile", True),
            mu0_eV=float(table.get("mu0_eV", 0.0)),
            activation_energy_eV=table.get("activation_energy_eV"),
        )
    except InputError as exc:
        raise ConfigError(f"{where}: {exc.problem}", path=source) from None


def _phase(table: dict, species_tables: list, where: str, source: str | None) -> Phase:
    _check({k: v for k, v in table.items() if k != "species"}, _PHASE_KEYS, where, source)
    if "eps_r" not in table:
        raise ConfigError(f"{where}: missing required key 'eps_r'", path=source)
    if not species_tables:
        raise ConfigError(f"{where}: no species (add [[species]] tables)", path=source)
    species = tuple(
        _species(s, f"{where} species {i + 1}", source) for i, s in enumerate(species_tables)
    )
    try:
        return Phase(
            name=str(table.get("name", where)),
            eps_r=float(table["eps_r"]),
            species=species,
            length_m=None if "length_m" not in table else float(table["length_m"]),
        )
    except InputError as exc:
        raise ConfigError(f"{where}: {exc.problem}", path=source) from None


def _contact(table: dict, where: str, source: str | None) -> Contact:
    _check(table, _CONTACT_KEYS, where, source)
    kind = table.get("type", "blocking")
    if kind not in CONTACT_KINDS:
        raise ConfigError(
            f"{where}.type: {kind!r} is not one of {', '.join(CONTACT_KINDS)}", path=source
        )
    try:
        return Contact(
            kind=kind,
            potential_V=float(table.get("potential_V", 0.0)),
            species=None if "species" not in table else tuple(table["species"]),
            exchange_current_A_m2=table.get("exchange_current_A_m2"),
            transfer_coefficient=float(table.get("transfer_coefficient", 0.5)),
            stern_capacitance_F_m2=table.get("stern_capacitance_F_m2"),
        )
    except InputError as exc:
        raise ConfigError(f"{where}: {exc.problem}", path=source) from None


def _temperature(doc: dict, phases: list[dict], source: str | None) -> float:
    values = []
    if "temperature_K" in doc:
        values.append(doc["temperature_K"])
    values += [p["temperature_K"] for p in phases if "temperature_K" in p]
    if not values:
        raise ConfigError("temperature_K is required (top level or in [material])", path=source)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ConfigError(f"temperature_K must be a number, got {v!r}", path=source)
    if any(v != values[0] for v in values):
        raise ConfigError("phases give different temperature_K values", path=source)
    return float(values[0])


def config_from_dict(doc: dict[str, Any], source: str | None = None) -> SimulationConfig:
    """Build a :class:`SimulationConfig` from a parsed TOML document."""
    for key in doc:
        if key not in _TOP_KEYS:
            raise ConfigError(
                f"unknown top-level key {key!r} (allowed: {', '.join(sorted(_TOP_KEYS))})",
                path=source,
            )
    if ("material" in doc) == ("phase" in doc):
        raise ConfigError("give exactly one of [material] or [[phase]] tables", path=source)
    if "material" in doc:
        mat = doc["material"]
        if not isinstance(mat, dict):
            raise ConfigError("[material] must be a table", path=source)
        if "species" in mat:
            raise ConfigError("put the species of [material] in top-level [[species]]", source)
        phase_tables = [(mat, doc.get("species", []), "[material]")]
    else:
        if "species" in doc:
            raise ConfigError(
                "with [[phase]] tables, give each phase's species as [[phase.species]]", source
            )
        if not isinstance(doc["phase"], list):
            raise ConfigError("[[phase]] must be an array of tables", path=source)
        phase_tables = [
            (p, p.get("species", []) if isinstance(p, dict) else [], f"[[phase]] {i + 1}")
            for i, p in enumerate(doc["phase"])
        ]
    for _, sp, where in phase_tables:
        if not isinstance(sp, list):
            raise ConfigError(f"{where}: species must be an array of tables", path=source)
    temperature = _temperature(doc, [t for t, _, _ in phase_tables], source)
    phases = tuple(_phase(t, sp, where, source) for t, sp, where in phase_tables)

    boundary = doc.get("boundary", {})
    if not isinstance(boundary, dict):
        raise ConfigError("[boundary] must be a table", path=source)
    sides = {k: boundary[k] for k in ("left", "right") if k in boundary}
    flat = {k: v for k, v in boundary.items() if k not in ("left", "right")}
    if flat and "left" in sides:
        raise ConfigError(
            "[boundary]: use either flat keys (the left electrode) or [boundary.left]", source
        )
    left = _contact(
        flat or sides.get("left", {}), "[boundary.left]" if sides else "[boundary]", source
    )
    right = (
        _contact(sides["right"], "[boundary.right]", source)
        if "right" in sides
        else Contact("bulk")
    )
    reactions = []
    for i, r in enumerate(doc.get("reaction", [])):
        where = f"[[reaction]] {i + 1}"
        _check(r, _REACTION_KEYS, where, source)
        if "species" not in r or "k_rec_m3_s" not in r:
            raise ConfigError(f"{where}: needs species = [A, B] and k_rec_m3_s", path=source)
        try:
            reactions.append(Reaction(tuple(r["species"]), float(r["k_rec_m3_s"])))
        except InputError as exc:
            raise ConfigError(f"{where}: {exc.problem}", path=source) from None
    solver = _check(doc.get("solver", {}), _SOLVER_KEYS, "[solver]", source)
    try:
        device = Device(phases, temperature, left, right, tuple(reactions))
    except InputError as exc:
        raise ConfigError(exc.problem, path=source) from None
    return SimulationConfig(device, dict(solver), source)


def load_config(path: str | Path) -> SimulationConfig:
    """Read and validate a TOML device configuration."""
    p = Path(path)
    try:  # a regular file of at most MAX_CONFIG_BYTES: a FIFO or /dev/zero must not hang
        text = read_bytes(p, max_bytes=MAX_CONFIG_BYTES).decode("utf-8-sig")
    except FileFormatError as exc:
        raise ConfigError(exc.problem, path=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("not a UTF-8 text file", path=str(path)) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=str(path)) from None
    return config_from_dict(doc, source=str(path))
