"""A clip's masks as the loader gives them, decoded from the shards' RLE (or dense label maps): label maps, per-object
bool planes, which objects show on a frame, and the planes of one frame in SAM 2's order, without a label map compared
K times or a mask decoded that is not asked for."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..codecs import rle
from ..model import VOID_ID, MaskEncoding
from .backend import VOID_PAIR, Frames, RlePairs


def _object_pairs(frames: RlePairs, encoding: MaskEncoding) -> RlePairs:
    """The pairs with DAVIS 2016's single object (stored as 255) as object 1; the void region's id stays
    :data:`VOID_PAIR`, apart from any object (an object may have id 255)."""
    if encoding is MaskEncoding.BINARY:
        return [[(v if v == VOID_PAIR else 1, c) for v, c in pairs] for pairs in frames]
    return frames


def _label_pairs(frames: RlePairs, encoding: MaskEncoding) -> RlePairs:
    """The pairs as a label map reads them: :func:`_object_pairs`, and the void region as 255."""
    return [[(VOID_ID if v == VOID_PAIR else v, c) for v, c in pairs] for pairs in _object_pairs(frames, encoding)]


def label_maps_of(frames: RlePairs, height: int, width: int, encoding: MaskEncoding) -> np.ndarray:
    """(T, H, W) label maps from each frame's ``(object_id, counts)`` pairs, in one compiled call."""
    objects = {v for pairs in _object_pairs(frames, encoding) for v, _ in pairs if v != VOID_PAIR}
    if any(not 0 < v < VOID_ID for v in objects):  # 255 is the void's value
        raise ValueError(
            f"object ids {sorted(objects)} do not fit a uint8 label map (1-254; 0 is the background): use masks='objects'"
        )
    frames = _label_pairs(frames, encoding)
    try:  # one value per pixel cannot hold overlapping masks (SA-V's)
        return rle.decode_frames(frames, height, width, overlapping="refuse")
    except rle.MasksOverlap as exc:
        raise ValueError(f"{exc}, which a label map cannot hold: use masks='objects'") from None


def object_masks(
    read: Frames,
    ids: Sequence[int],
    height: int,
    width: int,
    size: tuple[int, int] | None = None,
    empty: Callable[[tuple[int, ...], type], np.ndarray] = np.empty,
) -> tuple[np.ndarray, np.ndarray]:
    """Bool (T, K, h, w) masks of objects ``ids`` (any order) only, one contiguous array, straight from the RLE,
    and bool (T, K): whether each mask has a pixel at that size.

    ``size``: ``(h, w)`` by nearest neighbour, sampled while the RLE is decoded (label maps are resized after).
    From RLE, presence comes from the runs while decoding: no mask is scanned again. ``empty(shape, dtype)``
    gives the array the RLE is decoded into (a :class:`~converters.loading.buffers.Recycler`'s, in a loader).
    """
    if read.labels is not None:
        masks = read.labels[:, None] == np.asarray(ids, np.int64)[None, :, None, None]
        masks = masks if size is None else resize_masks(masks, size)
        return masks, masks.any(axis=(2, 3))
    out_height, out_width = (height, width) if size is None else size
    present = np.empty((len(read.rle), len(ids)), bool)
    out = empty((len(read.rle), len(ids), out_height, out_width), bool)
    masks = rle.decode_planes(_object_pairs(read.rle, read.encoding), ids, height, width, size, present=present, out=out)
    return masks, present


def resize_masks(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``masks`` (..., H, W) at ``size`` by nearest neighbour (the source pixel under each target pixel's centre)."""
    height, width = masks.shape[-2:]
    if (height, width) == tuple(size):
        return masks
    if height % size[0] == 0 and width % size[1] == 0:  # a whole factor: the same pixels by plain strides, one copy
        step_y, step_x = height // size[0], width // size[1]
        return np.ascontiguousarray(masks[..., step_y // 2 :: step_y, step_x // 2 :: step_x])
    rows, cols = rle.nearest_positions(height, size[0]), rle.nearest_positions(width, size[1])
    return np.take(np.take(masks, rows, axis=-2), cols, axis=-1)  # one axis at a time: far cheaper than 2-D fancy indexing


def visible_objects(read: Frames, frame: int, ids: Sequence[int], height: int, width: int) -> list[int]:
    """Which of ``ids`` have pixels on frame ``frame`` of ``read`` (a position in it), without decoding a mask."""
    if read.labels is not None:
        return [i for i in ids if i in set(np.unique(read.labels[frame]).tolist())]
    pairs = _object_pairs([read.rle[frame]], read.encoding)[0]
    shown = {int(v) for v, counts in pairs if rle.measure(counts, height, width)[0] > 0}
    return [i for i in ids if i in shown]


def present_planes(read: Frames, height: int, width: int, binary_id: int = 1) -> list[tuple[int, np.ndarray]]:
    """``(value, bool (H, W) plane)`` of each value with pixels on the one frame of ``read`` (objects, and the void
    region as 255), in the raster order of their first pixel: what a palette PNG's ``pd.unique`` finds.

    From RLE, a mask's presence is its area and its first pixel lies on its bbox's top row, so only
    that row is scanned and only present objects are decoded. ``binary_id``: the value DAVIS 2016's
    single object reads as (1 here; a PNG says 255).
    """
    if read.labels is not None:  # dense HDF5
        values, first = np.unique(read.labels[0], return_index=True)
        order = [k for k in np.argsort(first, kind="stable").tolist() if values[k] != 0]
        planes = [(int(values[k]), read.labels[0] == values[k]) for k in order]
    else:
        found = []
        for value, counts in _label_pairs([read.rle[0]], read.encoding)[0]:
            area, (_, top, _, _) = rle.measure(counts, height, width)
            if area > 0:
                found.append((int(value), counts, top))
        # by position: an object whose id is 255 and the void region share a value
        decoded = rle.decode_planes([[(k, c) for k, (_, c, _) in enumerate(found)]], range(len(found)), height, width)[0]
        first_pixel = [top * width + int(decoded[k, top].argmax()) for k, (_, _, top) in enumerate(found)]
        planes = [(found[k][0], decoded[k]) for k in np.argsort(first_pixel, kind="stable").tolist()]
    if read.encoding is MaskEncoding.BINARY:  # its one object, read as 1 above
        return [(binary_id, plane) for _, plane in planes]
    return planes


def object_planes(read: Frames, ids: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Bool (T, K, H, W) masks of objects ``ids`` and the (T, H, W) void mask, from RLE without a label map."""
    if read.labels is not None:  # dense HDF5: the stored label maps are all there is
        return read.labels[:, None] == ids[None, :, None, None], read.labels == VOID_ID
    planes = rle.decode_planes(_object_pairs(read.rle, read.encoding), [*ids.tolist(), VOID_PAIR], height, width)
    return planes[:, :-1], planes[:, -1]
