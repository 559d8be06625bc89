"""The mose format."""
