"""Peak-spectrum analysis (XPS, Raman, EELS, …) with the SAEM engine."""

from iondyn.peaks.analysis import PeakFitter, block_names, crop, load_spectra, select_blocks

__all__ = ["PeakFitter", "block_names", "crop", "load_spectra", "select_blocks"]
