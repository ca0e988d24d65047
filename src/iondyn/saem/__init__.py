"""iondyn.saem."""
