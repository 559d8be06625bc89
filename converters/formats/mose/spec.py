"""MOSE's and MOSEv2's on-disk names beyond the shared folder pair: MOSEv2's split meta files.

MOSEv2 ships ``meta_train.json`` and ``meta_valid.json`` (MOSE-api#25: "basic video info (frames,
dimensions)"); their schema is not published. MOSEv2's own scorer (``MOSEv2/sam2_rcms/tools/score.py``)
reads ``{"videos": {"<video>": {"length": int, "height": int, "width": int, "objects": ...}}}``,
``height`` and ``width`` possibly null, so that is the shape read; other keys are left alone.
"""

from __future__ import annotations

import re

#: A split's meta file: ``meta_train.json``, ``meta_valid.json``.
META_NAME = re.compile(r"meta_(train|valid|val|test)\.json", re.IGNORECASE)
#: Each video's entry: how many frames, and their size (null: not given).
LENGTH, HEIGHT, WIDTH = "length", "height", "width"


def meta_name(split: str) -> str:
    """``train`` -> ``meta_train.json``."""
    return f"meta_{split}.json"
