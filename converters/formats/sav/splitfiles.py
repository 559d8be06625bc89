"""SA-V val/test files checked as the folder layouts' are: the video list's names, masks against their frames' size
(from the PNG header, before inflating), frames whole and of one size."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...codecs import png
from ...codecs.video import check_plain_file
from ...errors import SourceError
from ...model import check_file_name, check_frame_size
from ...sources import imagefiles
from ..folders.entries import read_list


def listed_names(path: Path) -> set[str]:
    """The video names of a ``sav_val.txt``: each a folder name, never a way out of ``JPEGImages_24fps/``."""
    check_plain_file(str(path))
    names = set()
    for number, name in read_list(path):
        try:
            check_file_name(f"line {number}:", name)
        except ValueError as exc:
            raise SourceError(path, str(exc)) from None
        names.add(name)
    return names


def decode_png(path: Path, size: tuple[int, int] | None = None) -> tuple[np.ndarray, object]:
    """The mask's values; when the video's ``(height, width)`` is known, checked from the header before inflating."""
    check_plain_file(str(path))
    try:
        data = path.read_bytes()
        header = png.read_header(data)
        if size is None:  # no frame to hold it to: at most the largest frame there may be
            check_frame_size("mask", header.width, header.height)
        elif (header.height, header.width) != size:
            raise SourceError(path, f"mask is {header.width}x{header.height} but its frame is {size[1]}x{size[0]}")
        return png.decode(data)
    except ValueError as exc:  # a PngError, or a size out of range
        raise SourceError(path, str(exc)) from None
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None


def frame_size(images: str, names: list[str], record: dict | None) -> tuple[int, int] | None:
    """``(height, width)`` of the video's frame files, each probed whole (a JPEG cut short fails here) and all of one
    size, as the folder layouts' frames are; None when it has none (written with images=false)."""
    flags = record.get("images") if record is not None else None
    present = names if not isinstance(flags, list) else [n for n, shown in zip(names, flags) if shown]
    size = None
    for name in present:
        path = os.path.join(images, name)
        width, height = imagefiles.probe_image(path)
        if size is None:
            size = (height, width)
        elif (height, width) != size:
            raise SourceError(path, f"frame is {width}x{height}, other frames of the video are {size[1]}x{size[0]}")
    return size
