"""Thermally stimulated depolarization currents (TSDC).

* :mod:`iondyn.tsdc.model` — closed forms: first-order J(T) with E2, peak equation, general
  order, Gaussian distribution of Ea;
* :class:`TSDCFitter` — SAEM decomposition into relaxations with Ea, τ0, Tm, P0 and errors;
* :mod:`iondyn.tsdc.methods` — initial rise, Bucci–Fieschi, heating-rate method;
* :func:`ea_distribution` — g(Ea) by non-negative regularised inversion;
* :func:`simulate` — synthetic curves.

Importing this package registers the SAEM components ``tsdc``, ``tsdc-general``,
``tsdc-gaussian`` and the backgrounds ``exponential`` and ``exponential-offset``.
"""

from iondyn.saem.background import register_background
from iondyn.saem.components import register_component
from iondyn.tsdc.background import ArrheniusBackground
from iondyn.tsdc.components import TSDCFirstOrder, TSDCGaussianEa, TSDCGeneralOrder
from iondyn.tsdc.distribution import EaDistribution, ea_distribution
from iondyn.tsdc.fit import TSDCFitter, heating_rate_from_fits
from iondyn.tsdc.heating_rate import heating_rate_method
from iondyn.tsdc.methods import bucci_fieschi, initial_rise
from iondyn.tsdc.result import TSDCFit, TSDCResult
from iondyn.tsdc.simulate import TSDCPeak, simulate

register_component("tsdc", TSDCFirstOrder)
register_component("tsdc-general", TSDCGeneralOrder)
register_component("tsdc-gaussian", TSDCGaussianEa)
register_background("exponential", lambda **kw: ArrheniusBackground(offset=False, **kw))
register_background("exponential-offset", lambda **kw: ArrheniusBackground(offset=True, **kw))

__all__ = [
    "ArrheniusBackground",
    "EaDistribution",
    "TSDCFirstOrder",
    "TSDCFit",
    "TSDCFitter",
    "TSDCGaussianEa",
    "TSDCGeneralOrder",
    "TSDCPeak",
    "TSDCResult",
    "bucci_fieschi",
    "ea_distribution",
    "heating_rate_from_fits",
    "heating_rate_method",
    "initial_rise",
    "simulate",
]
