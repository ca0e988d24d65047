"""The Spectrum-Adapted EM (SAEM) engine: EM initialisation without hand-made guesses,
then refinement under the right likelihood, vectorised over many spectra.

See :class:`iondyn.saem.engine.SAEM`, and DESIGN.md §3 for the method.
"""

from iondyn.saem.background import Background, get_background, register_background
from iondyn.saem.components import Component, get_component, register_component
from iondyn.saem.engine import SAEM
from iondyn.saem.result import SAEMResult, SpectrumFit

__all__ = [
    "SAEM",
    "Background",
    "Component",
    "SAEMResult",
    "SpectrumFit",
    "get_background",
    "get_component",
    "register_background",
    "register_component",
]
