"""Between label maps (one uint8 id per pixel, as the PNGs store them) and a frame's RLE masks.

Shared by every reader that decodes PNGs and every writer that paints them back, so the
id conventions (255 = void; DAVIS 2016's 0/255 masks = object 1) live in one place.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..model import VOID_ID, FrameMasks, Mask, MaskEncoding, Video
from . import rle

#: The single object of a binary (0/255) mask.
BINARY_OBJECT_ID = 1


def frame_masks(masks: list[Mask], encoding: MaskEncoding) -> FrameMasks:
    """Sort one frame's per-value masks into objects and void, by the video's encoding."""
    if encoding is MaskEncoding.BINARY:
        if any(m.object_id != VOID_ID for m in masks):
            raise ValueError("a binary mask holds only the values 0 and 255")
        return FrameMasks(tuple(Mask(BINARY_OBJECT_ID, m.counts, m.area, m.bbox) for m in masks))
    objects = tuple(m for m in masks if m.object_id != VOID_ID)
    void = next((m for m in masks if m.object_id == VOID_ID), None)
    return FrameMasks(objects, void)


def encode_frame(label: np.ndarray, encoding: MaskEncoding) -> FrameMasks:
    """A decoded PNG's label map to its frame masks: one pass, whatever the number of objects."""
    return frame_masks(rle.encode(label), encoding)


def label_map(
    video: Video, masks: FrameMasks, out: np.ndarray | None = None, *, overlapping: Literal["paint", "refuse"] = "paint"
) -> np.ndarray:
    """Paint a frame's masks back to the pixel values its PNG held.

    Masks read from PNGs never overlap; other tools' COCO files may. ``overlapping="refuse"``
    raises :class:`rle.MasksOverlap` for those rather than letting later objects cover earlier ones.
    """
    if video.encoding is MaskEncoding.BINARY:
        pairs = [(VOID_ID, m.counts) for m in masks.objects]
    else:
        pairs = [(m.object_id, m.counts) for m in masks.objects]
        if masks.void is not None:
            pairs.append((VOID_ID, masks.void.counts))
    return rle.decode(pairs, video.height, video.width, out=out, overlapping=overlapping)


def png_mode(encoding: MaskEncoding) -> str:
    return "P" if encoding is MaskEncoding.PALETTE else "L"


def overlapping_frame(video: Video) -> str | None:
    """The file name of the first frame whose masks share pixels (only other tools' COCO files have such), or None.

    For writers whose output holds one value per pixel (PNG folders, dense label maps).
    """
    for frame in video.frames:
        masks = frame.masks
        if masks is None or len(masks.objects) + (masks.void is not None) < 2:
            continue
        pairs = [(m.object_id, m.counts) for m in masks.objects]
        if masks.void is not None:
            pairs.append((VOID_ID, masks.void.counts))
        if rle.overlap(pairs, video.height, video.width):
            return frame.file_name
    return None
