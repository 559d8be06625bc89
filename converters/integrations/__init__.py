"""Converted datasets served to other projects' training code (SAM 2: :mod:`converters.integrations.sam2`)."""
