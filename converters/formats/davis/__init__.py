"""The davis format."""
