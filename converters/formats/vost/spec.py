"""VOST's on-disk names, as TRI-ML/VOST's own loaders read them.

``evaluation/source/dataset.py`` (the scorer): ``JPEGImages/``, ``Annotations/`` and
``ImageSets/<subset>.txt`` with subsets train, val and test, no resolution level; a frame is kept
only where a PNG of the same stem exists, and ``VOID_LABEL = 255``. ``aot_plus/dataloaders``:
``VOST_Test`` reads ``JPEGImages_10fps/`` instead, so frames without a PNG are unannotated;
``VOST_Train`` names a ``ValidAnns/`` folder it never reads (not part of the release).
Frame files are ``frame%05d.jpg`` / ``.png`` (third-party VOST tools build ``f"frame{k:05}.jpg"``),
and a sequence need not start at ``frame00000``.
"""

from __future__ import annotations

import re

from ..folders.spec import IMAGES, FrameNames

#: The folder the release may unpack to (the source may be it, or hold it).
ROOT = "VOST"
#: The split lists: ``ImageSets/<split>.txt``, one sequence name per line.
IMAGE_SETS = "ImageSets"
LIST_SUFFIX = ".txt"
#: The frame folders by frame rate: ``JPEGImages/`` (5 fps) and AOT+'s ``JPEGImages_10fps/``.
IMAGES_10FPS = "JPEGImages_10fps"
FRAME_FOLDERS = {"5fps": IMAGES, "10fps": IMAGES_10FPS}
#: ``frame00000.jpg`` beside ``frame00000.png``.
FRAME_NAMES = FrameNames(re.compile(r"frame(?P<number>[0-9]+)"), "frame00000")
