"""iondyn.series."""
