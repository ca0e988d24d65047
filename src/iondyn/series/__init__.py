"""Temperature series of any result: Arrhenius fits with honest errors."""

from iondyn.series.arrhenius import ArrheniusFit, fit_arrhenius
from iondyn.series.temperature import (
    TemperatureSeriesResult,
    TrackedProcess,
    fit_temperature_series,
)

__all__ = [
    "ArrheniusFit",
    "TemperatureSeriesResult",
    "TrackedProcess",
    "fit_arrhenius",
    "fit_temperature_series",
]
