"""iondyn.physics."""
