"""Readers for instrument files. One module per family of formats; ``detect`` sniffs content."""
