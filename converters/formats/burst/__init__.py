"""BURST (TAO's masks): one JSON per split and class subset, read and written."""
