"""Peak-spectrum analysis (XPS, Raman, EELS, …) with the SAEM engine."""

from iondyn.peaks.analysis import PeakFitter, crop, load_spectra

__all__ = ["PeakFitter", "crop", "load_spectra"]
