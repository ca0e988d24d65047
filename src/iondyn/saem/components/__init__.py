"""Peak shapes for the SAEM engine and a registry to look them up by name.

Later areas register their own shapes (TSDC peak, ZARC loss peak, Gaussian in ln τ) with
:func:`register_component`; the engine does not change.
"""

from __future__ import annotations

from collections.abc import Callable

from iondyn.errors import InputError
from iondyn.saem.components.base import Component, bin_widths, window_bounds
from iondyn.saem.components.doniach import DoniachSunjic
from iondyn.saem.components.lineshapes import Gaussian, Lorentzian, PseudoVoigt, Voigt

__all__ = [
    "Component",
    "DoniachSunjic",
    "Gaussian",
    "Lorentzian",
    "PseudoVoigt",
    "Voigt",
    "available_components",
    "bin_widths",
    "get_component",
    "register_component",
    "window_bounds",
]

_REGISTRY: dict[str, Callable[..., Component]] = {
    "gaussian": Gaussian,
    "lorentzian": Lorentzian,
    "pseudo-voigt": PseudoVoigt,
    "voigt": Voigt,
    "doniach-sunjic": DoniachSunjic,
}


def register_component(name: str, factory: Callable[..., Component]) -> None:
    """Make ``factory(**options)`` available as ``get_component(name, **options)``."""
    _REGISTRY[name] = factory


def available_components() -> list[str]:
    return sorted(_REGISTRY)


def get_component(name: str | Component, **options) -> Component:
    """A component instance from its name (``"gaussian"``, ``"voigt"``, ...) or as given."""
    if isinstance(name, Component):
        return name
    key = str(name).strip().lower().replace("_", "-")
    aliases = {"pv": "pseudo-voigt", "pseudovoigt": "pseudo-voigt", "ds": "doniach-sunjic"}
    key = aliases.get(key, key)
    if key not in _REGISTRY:
        raise InputError(
            f"unknown peak shape {name!r}; choose one of {', '.join(available_components())}"
        )
    return _REGISTRY[key](**options)
