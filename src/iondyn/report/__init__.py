"""iondyn.report."""
