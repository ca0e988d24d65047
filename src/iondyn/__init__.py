"""iondyn: interfacial ion dynamics for solid-state ionics.

From raw instrument files (impedance, TSDC, peak spectra) to physical parameters with honest
error bars, and physics models of solid–solid interfaces that produce the same data objects.

>>> import iondyn
>>> data = iondyn.read("pellet.DTA")                       # any kind, sniffed from the content
>>> result = iondyn.eis.AutoFitter().fit(data[0])          # parameters ± errors, warnings
>>> result                                                 # a table in a notebook
>>> result.plot(); result.to_dataframe()

The analyses live in the subpackages, loaded on first use: :mod:`iondyn.io` (readers),
:mod:`iondyn.eis` (circuits, automatic fits, Lin-KK, DRT), :mod:`iondyn.peaks` and
:mod:`iondyn.saem` (peak decomposition), :mod:`iondyn.tsdc`, :mod:`iondyn.series` (Arrhenius,
temperature series), :mod:`iondyn.physics` (space-charge layers, PNP), :mod:`iondyn.pipeline`
and :mod:`iondyn.report` (batches and the HTML report), :mod:`iondyn.examples` (bundled data).
See ``docs/tutorial.ipynb``.
"""

import importlib as _importlib

from iondyn.data import ImpedanceSpectrum, Spectrum, SpectrumSet, TSDCCurve
from iondyn.errors import IondynError
from iondyn.io.read import DataList, read


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("iondyn")
    except PackageNotFoundError:  # pragma: no cover - a source tree without install
        return "0.0.0+unknown"


__version__ = _package_version()

#: Subpackages reachable as attributes (``iondyn.eis``), imported on first use.
SUBPACKAGES = (
    "display",
    "eis",
    "examples",
    "io",
    "maps",
    "md",
    "misfit",
    "peaks",
    "physics",
    "pipeline",
    "report",
    "saem",
    "series",
    "tsdc",
)

__all__ = [
    "SUBPACKAGES",
    "DataList",
    "ImpedanceSpectrum",
    "IondynError",
    "Spectrum",
    "SpectrumSet",
    "TSDCCurve",
    "__version__",
    "read",
]


def __getattr__(name: str):
    if name in SUBPACKAGES:
        return _importlib.import_module(f"iondyn.{name}")
    raise AttributeError(f"module 'iondyn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(SUBPACKAGES) | set(globals()))
