"""The lvos format."""
