"""On-disk names every DAVIS-style folder layout shares (MOSE, DAVIS, YouTube-VOS, and those to come).

One place for them, so a reader, a writer, detection and the sample generator cannot drift apart.
"""

from __future__ import annotations

#: The frame folder: ``JPEGImages/<video>/NNNNN.jpg``.
IMAGES = "JPEGImages"
#: The mask folder beside it: ``Annotations/<video>/NNNNN.png``.
ANNOTATIONS = "Annotations"
#: What a frame file may end with (any case): JPEG only; a PNG among the frames is not a frame.
IMAGE_SUFFIXES = (".jpg", ".jpeg")
#: What a mask file ends with.
MASK_SUFFIX = ".png"
#: The split folders MOSE, MOSEv2 and YouTube-VOS ship (and common others), lower case.
SPLIT_NAMES = frozenset({"train", "valid", "val", "test", "trainval", "train_all_frames", "valid_all_frames", "test_all_frames"})
#: The marker in the root of every folder-layout output: vosconv wrote this folder.
MARKER = ".vosconv.json"
#: What the marker's ``written_by`` says.
WRITTEN_BY = "vosconv"
