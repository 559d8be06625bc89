"""The void region (DAVIS's 255) in vosconv's COCO files, read back.

Format 2 keeps it in each video's ``vosconv`` record as ``void``: one RLE or null per frame, where
neither Mask2Former's ``load_ytvis_json`` nor the YouTube-VIS API looks (as an annotation it was a
class too many there, and a KeyError without its category). Format 1 wrote an ``iscrowd``
annotation with ``object_id`` 255 of a placeholder ``void`` category, which the reader still takes.
"""

from __future__ import annotations

from ...codecs import rle
from ...model import VOID_ID, Mask
from ...records import Record, shown
from .segmentation import counts as segmentation_counts
from .spec import VOID_KEY


def add_recorded_void(facts: Record, height: int, width: int, annotated: set[int], void: list[Mask | None]) -> None:
    """The void region a video's ``vosconv`` record holds, put in ``void`` (one entry per frame); ValueError when malformed."""
    segmentations = facts.list(VOID_KEY, None, nullable=True)
    if segmentations is None:
        return
    if len(segmentations) != len(void):
        raise ValueError(f"the void region has {len(segmentations)} entries for {len(void)} frames")
    for index, segmentation in enumerate(segmentations):
        if segmentation is None:
            continue
        if not isinstance(segmentation, dict):
            raise ValueError(f"the void region of frame {index}: expected an RLE object or null, got {shown(segmentation)}")
        if index not in annotated:
            raise ValueError(f"the void region has a mask on frame {index}, which is not annotated")
        if void[index] is not None:
            raise ValueError(f"frame {index} has a void region twice (in the video record and as an annotation)")
        try:
            counts, area, bbox = rle.measure_canonical(segmentation_counts(segmentation, height, width), height, width)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"the void region of frame {index}: {exc}") from None
        if area:
            void[index] = Mask(VOID_ID, counts, area, bbox)
