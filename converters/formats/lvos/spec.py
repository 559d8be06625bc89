"""LVOS v1/v2's on-disk names, as the LVOS-api README and the lvos-evaluation kit give them.

A split folder (``train/``, ``val/``, ``test/``; the kit's default is ``valid``) holds
``JPEGImages/<video>/00000001.jpg`` and ``Annotations/<video>/00000001.png`` (8-digit frame
numbers, 1-based, stepping by 5: frames are named by their 30 fps index at 6 fps), beside
``<split>_meta.json``, ``<split>_expression_meta.json`` (v1's referring expressions) and, in v2,
``<split>_meta_attribute.json`` (video attributes); the last two are not read.
The meta file is ``{"videos": {"<video>": {"objects": {"<id>": {"frame_range": {"start",
"end", "frame_nums"}}}}}}``; the kit calls ``int()`` on each of the three, so they may be
numbers or strings of digits.
"""

from __future__ import annotations

import re

from ...model import FRAME_RANGE as FRAME_RANGE_METADATA

#: The split meta file's name ends with this: ``val_meta.json``.
META_SUFFIX = "_meta.json"
#: Any split's meta file (the README lists ``train_meta.json`` under every split, a slip; the kit reads ``valid_meta.json``).
META_NAME = re.compile(r"(train|val|valid|test)_meta\.json", re.IGNORECASE)
#: Every JSON LVOS puts beside a split's folders (the meta, v1's expressions, v2's attributes): each marks an LVOS split.
MARKER_NAME = re.compile(r"(train|val|valid|test)_(meta|expression_meta|meta_attribute)\.json", re.IGNORECASE)
#: Where a third-party LVOS v2 test keeps the meta (``metadata/val_meta.json``): unverified, looked in after the split folder.
META_FOLDER = "metadata"
#: Frame file stems are this many digits: ``00000001``.
FRAME_DIGITS = 8
#: Each object's entry in the meta holding its range, and the fields kept of it (as object metadata ``frame_range.<field>``).
#: The metadata keys are the model's (:data:`converters.model.FRAME_RANGE`), which a frame step recomputes.
FRAME_RANGE = "frame_range"
FRAME_RANGE_FIELDS = tuple(key.removeprefix(f"{FRAME_RANGE}.") for key in FRAME_RANGE_METADATA)


def meta_name(split: str) -> str:
    """``val`` -> ``val_meta.json``."""
    return f"{split}{META_SUFFIX}"


def is_frame_stem(stem: str) -> bool:
    """An LVOS frame name without its suffix: exactly 8 ASCII digits."""
    return len(stem) == FRAME_DIGITS and stem.isascii() and stem.isdigit()


def metadata_key(field: str) -> str:
    """The object metadata key a ``frame_range`` field is kept under: ``frame_range.start``."""
    return f"{FRAME_RANGE}.{field}"
