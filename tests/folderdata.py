"""What the folder-layout fixtures share: palette PNG masks and the macOS junk real archives carry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from converters.codecs import png

DS_STORE = b"\x00\x00\x00\x01Bud1"
APPLE_DOUBLE = b"\x00\x05\x16\x07"


def save_palette_png(path: Path, label: np.ndarray, palette: bytes | list[int] = png.DAVIS_PALETTE) -> None:
    """``label`` as a mode-P PNG (pixel value = object id) with ``palette``, its folder made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(label, "P")
    image.putpalette(palette)
    image.save(path)


def add_macos_junk(folder: Path, shadowing: str | None = None) -> None:
    """A ``.DS_Store`` in ``folder`` and, given a file name, the ``._<name>`` AppleDouble file beside it."""
    (folder / ".DS_Store").write_bytes(DS_STORE)
    if shadowing is not None:
        (folder / f"._{shadowing}").write_bytes(APPLE_DOUBLE)
