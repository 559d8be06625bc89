"""A COCO segmentation (compressed RLE, uncompressed RLE, or polygons) as a compressed counts string.

Other tools' files hold all three; polygons are rasterised by pycocotools, which crashes or
allocates without bound on some inputs, so each polygon is checked before it is handed over.
"""

from __future__ import annotations

import numpy as np

from ...codecs import rle
from ...records import shown

#: Polygons are rasterised by pycocotools, whose ``rleToString`` writes one byte past its buffer
#: when every count of a mask takes 6 characters; below this many pixels none takes more than 5.
POLYGON_MAX_PIXELS = (1 << 24) - 1
#: pycocotools casts 5x each coordinate to a C int and allocates memory in proportion to the
#: outline: far-out or non-finite coordinates crash it. No real polygon strays this far (in
#: frame sides) from the frame, so such a polygon is refused rather than handed over.
POLYGON_REACH = 4
#: pycocotools upsamples an outline to points a fifth of a pixel apart, allocating 20 bytes for each.
POLYGON_SCALE = 5
#: Outline points any frame's polygons may have (beyond its pixel count): 20 MB of pycocotools' memory.
POLYGON_OUTLINE_FLOOR = 1 << 20


def counts(segmentation, height: int, width: int) -> str:
    """A segmentation (compressed RLE, uncompressed RLE or polygons) as a compressed counts string
    (not yet canonical: another tool's counts may hold zero-length runs)."""
    if isinstance(segmentation, dict):
        size = segmentation.get("size", [height, width])
        if not isinstance(size, (list, tuple)):
            raise ValueError(f"segmentation size {size!r} is not a [height, width] pair")
        size = list(size)
        if size != [height, width]:
            raise ValueError(f"segmentation size {size} differs from the video's {[height, width]}")
        if "counts" not in segmentation:
            raise ValueError("an RLE segmentation without counts")
        return _rle_counts(segmentation["counts"])
    if height * width > POLYGON_MAX_PIXELS:
        raise ValueError(
            f"polygons on {width}x{height} frames are not supported: pycocotools, which rasterises them, "
            f"writes past its buffer on masks of more than {POLYGON_MAX_PIXELS} pixels"
        )
    _check_polygons(segmentation, POLYGON_REACH * max(height, width))
    _check_outline(segmentation, height, width)
    from pycocotools import mask as coco_mask

    merged = coco_mask.merge(coco_mask.frPyObjects(segmentation, height, width))
    return merged["counts"].decode("ascii")


def _rle_counts(counts: object) -> str:
    """RLE counts as a compressed string: a string of ASCII characters, or a flat list of run lengths
    (a nested list, a float or a non-ASCII character never reaches the RLE kernels)."""
    if isinstance(counts, str):
        if not counts.isascii():
            raise ValueError("RLE counts string holds characters that are not ASCII")
        return counts
    if not isinstance(counts, list):
        raise ValueError(f"RLE counts must be a string or a list of integers, not {type(counts).__name__}")
    for count in counts:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"RLE counts must be non-negative integers, not {shown(count)}")
    return rle.counts_to_string(counts)


def _check_polygons(segmentation, reach: float) -> None:
    """Polygons as COCO writes them, ``[[x0, y0, x1, y1, ...], ...]``, each safe to give pycocotools."""
    if not isinstance(segmentation, list) or not segmentation:
        raise ValueError("a segmentation must be RLE (an object with counts) or a non-empty list of polygons")
    for number, polygon in enumerate(segmentation, 1):
        if not isinstance(polygon, list) or len(polygon) < 6 or len(polygon) % 2:
            raise ValueError(f"polygon {number} is not a list of at least 3 x, y pairs")
        for value in polygon:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not -reach <= value <= reach:
                raise ValueError(f"polygon {number} has a coordinate {value!r} that is not a number within {reach:g} of 0")


def outline_points(polygon: list[float]) -> int:
    """How many outline points pycocotools' ``rleFrPoly`` makes of a polygon, exactly as it counts them
    before allocating 20 bytes for each: every edge, its ends rounded as ``(int)(5 * v + .5)``, becomes
    ``max(|dx|, |dy|) + 1`` points (the outline upsampled five times, one point a fifth of a pixel)."""
    scaled = np.trunc(POLYGON_SCALE * np.asarray(polygon, dtype=np.float64) + 0.5).astype(np.int64)
    x, y = scaled[0::2], scaled[1::2]
    steps = np.maximum(np.abs(x - np.roll(x, -1)), np.abs(y - np.roll(y, -1)))
    return int(steps.sum()) + len(x)


def outline_budget(height: int, width: int) -> int:
    """The outline points a frame's polygons may ask pycocotools for: the frame's pixels, plus a floor
    that lets small frames keep detailed outlines (at 20 bytes a point, a small multiple of the frame)."""
    return height * width + POLYGON_OUTLINE_FLOOR


def _check_outline(segmentation: list[list[float]], height: int, width: int) -> None:
    """Refuse polygons whose outline would make pycocotools allocate without bound (4,000 vertices
    zigzagging across the frame ask for gigabytes; under a memory limit it then writes through NULL)."""
    points = sum(outline_points(polygon) for polygon in segmentation)
    budget = outline_budget(height, width)
    if points > budget:
        raise ValueError(
            f"polygons whose outline is {points} points (a fifth of a pixel each) for pycocotools to rasterise, "
            f"more than {budget} on a {width}x{height} frame: not an outline of an object in it"
        )
