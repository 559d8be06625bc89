"""Between label maps (one uint8 id per pixel, as the PNGs store them) and a frame's RLE masks.

Shared by every reader that decodes PNGs and every writer that paints them back, so the
id conventions (255 = void; DAVIS 2016's 0/255 masks = object 1) live in one place.
"""

from __future__ import annotations

import dataclasses
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
        pairs = [(1, m.counts) for m in masks.objects]  # the values only paint: any id goes
        if masks.void is not None:
            pairs.append((1, masks.void.counts))
        if rle.overlap(pairs, video.height, video.width):
            return frame.file_name
    return None


def pixel_value_problem(video: Video) -> tuple[str, str] | None:
    """``(where, cause)`` when one uint8 value per pixel cannot hold the video exactly, else None.

    Such a target (palette PNG folders, dense label maps) needs object ids 1 to 254 (0 is the
    background, 255 the void) and masks that never overlap; SA-V's ids start at 0 and its masks
    overlap. ``where`` is the video, or its first frame at fault.
    """
    for obj in video.objects:
        if not 0 < obj.object_id < VOID_ID:
            frame = next((f for f in video.frames if f.masks is not None and f.masks.get(obj.object_id)), None)
            where = video.name if frame is None else f"{video.name}/{frame.file_name}"
            return where, f"object id {obj.object_id} is not a pixel value 1 to {VOID_ID - 1} (0 is the background)"
    frame = overlapping_frame(video)
    if frame is not None:
        return f"{video.name}/{frame}", "its masks overlap, and one value per pixel cannot hold them"
    return None


def renumbered(video: Video) -> tuple[Video, dict[int, int]]:
    """The video with its objects numbered 1..K in id order, and the mapping ``{source id: new id}``.

    For palette layouts asked to hold ids they cannot (SA-V's 0..N-1); overlaps stay refused.
    """
    mapping = {obj.object_id: position for position, obj in enumerate(video.objects, 1)}
    if len(mapping) >= VOID_ID:
        raise ValueError(f"{len(mapping)} objects do not fit the pixel values 1 to {VOID_ID - 1}")
    if all(new == old for old, new in mapping.items()):
        return video, mapping
    objects = tuple(dataclasses.replace(o, object_id=mapping[o.object_id]) for o in video.objects)
    frames = tuple(
        f
        if f.masks is None
        else dataclasses.replace(
            f,
            masks=dataclasses.replace(
                f.masks, objects=tuple(dataclasses.replace(m, object_id=mapping[m.object_id]) for m in f.masks.objects)
            ),
        )
        for f in video.frames
    )
    return dataclasses.replace(video, objects=objects, frames=frames), mapping


def _renumbered(masks: FrameMasks, mapping: dict[int, int]) -> FrameMasks:
    objects = tuple(dataclasses.replace(m, object_id=mapping[m.object_id]) for m in masks.objects)
    return dataclasses.replace(masks, objects=objects)
