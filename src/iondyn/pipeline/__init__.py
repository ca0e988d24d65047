"""iondyn.pipeline."""
