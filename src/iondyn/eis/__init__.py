"""iondyn.eis."""
