"""Temperature series of any result: Arrhenius fits with honest errors."""

from iondyn.series.arrhenius import ArrheniusFit, fit_arrhenius

__all__ = ["ArrheniusFit", "fit_arrhenius"]
