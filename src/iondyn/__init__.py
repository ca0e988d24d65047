"""iondyn: interfacial ion dynamics for solid-state ionics.

From raw instrument files (impedance, TSDC, peak spectra) to physical parameters with honest
error bars, and physics models of solid–solid interfaces that produce the same data objects.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from iondyn.data import ImpedanceSpectrum, Spectrum, SpectrumSet, TSDCCurve
from iondyn.errors import IondynError

try:
    __version__ = version("iondyn")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = [
    "ImpedanceSpectrum",
    "IondynError",
    "Spectrum",
    "SpectrumSet",
    "TSDCCurve",
    "__version__",
]
