"""iondyn.tsdc."""
