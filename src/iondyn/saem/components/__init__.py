"""iondyn.saem.components."""
