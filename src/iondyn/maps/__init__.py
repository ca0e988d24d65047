"""Spectrum images (STEM-EELS/EDS, Raman, XPS maps): read, fit every pixel, decompose, profile.

>>> from iondyn.maps import read_map, MapFitter, MapDecomposer        # doctest: +SKIP
>>> m = read_map("SI_data.npz")                                      # doctest: +SKIP
>>> fit = MapFitter("gaussian", "auto", likelihood="poisson").fit(m)  # doctest: +SKIP
>>> fit.maps["center"].shape, fit.bic_table                          # doctest: +SKIP
>>> dec = MapDecomposer(max_components=8).fit(m)                     # doctest: +SKIP

See ``docs/maps.md``. Importing this package also registers the SAEM backgrounds it adds
(``power-law``, ``als``).
"""

from iondyn.maps.data import SpectrumMap
from iondyn.maps.decompose import DecompositionResult, MapDecomposer
from iondyn.maps.fit import MapFitter
from iondyn.maps.nmf import NMFARD, NMFResult
from iondyn.maps.pca import PCADenoise, PCAResult
from iondyn.maps.profile import InterfaceProfile, find_boundary, profile_across
from iondyn.maps.readers import read_map
from iondyn.maps.result import MapFitResult
from iondyn.saem import background_als, background_powerlaw  # noqa: F401  (registration)

__all__ = [
    "NMFARD",
    "DecompositionResult",
    "InterfaceProfile",
    "MapDecomposer",
    "MapFitResult",
    "MapFitter",
    "NMFResult",
    "PCADenoise",
    "PCAResult",
    "SpectrumMap",
    "find_boundary",
    "profile_across",
    "read_map",
]
