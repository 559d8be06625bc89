"""The MOSE layout written back: a split folder of ``JPEGImages/`` and ``Annotations/``."""

from __future__ import annotations

from ..folders.writer import LayoutWriter


class MoseWriter(LayoutWriter):
    """A MOSE split folder: ``JPEGImages/<video>/`` and ``Annotations/<video>/``."""

    name = "mose"
