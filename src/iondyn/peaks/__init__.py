"""iondyn.peaks."""
