"""Stand-in: only datasets.vision."""
