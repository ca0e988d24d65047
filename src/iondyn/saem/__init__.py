"""The Spectrum-Adapted EM (SAEM) engine: EM initialisation without hand-made guesses,
then refinement under the right likelihood, vectorised over many spectra.

See :class:`iondyn.saem.engine.SAEM` and ``docs/saem.md`` for the method: EM on the
spectrum read as a histogram (Matsumura et al., Sci. Technol. Adv. Mater. 20, 733 (2019)) only
initialises; the reported numbers come from maximising the likelihood of the measured
spectrum (Levenberg–Marquardt; Gaussian or Poisson noise), K chosen by BIC (Schwarz, Ann.
Stat. 6, 461 (1978)).
"""

from iondyn.saem import background_als, background_powerlaw  # noqa: F401  (registration)
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
