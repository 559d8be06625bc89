"""A source held in memory: the intermediate form given straight to a writer, so a test can build any trait a reader
might produce (two categories of one name, ids 0 and 2^31-1, values on masks) without laying out a dataset first."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask

from converters.model import VOID_ID, DatasetInfo, Mask, Video
from converters.reader import Detection, Reader, VideoRef
from converters.run import pipeline
from converters.run.pipeline import Summary
from converters.writer import Writer


def rle(mask: np.ndarray, object_id: int, values: tuple = ()) -> Mask:
    """``mask`` (bool, height x width) as the object's Mask, by pycocotools itself."""
    encoded = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    bbox = tuple(int(x) for x in coco_mask.toBbox(encoded))
    return Mask(object_id, encoded["counts"].decode(), int(coco_mask.area(encoded)), bbox, values)


def void(mask: np.ndarray) -> Mask:
    return rle(mask, VOID_ID)


def box(height: int, width: int, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def jpeg(height: int, width: int, shade: int) -> bytes:
    """A real JPEG file's bytes (a writer copies them byte for byte)."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), shade % 256, np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class MemorySource(Reader):
    """Gives back the videos and dataset info it was built with (``options``: ``(info, videos)``)."""

    name = "memory"

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        return Detection(0, "held in memory")

    def info(self) -> DatasetInfo:
        return self.options[0]

    def list_videos(self) -> list[VideoRef]:
        return [VideoRef(video.name, 1, "memory") for video in sorted(self.options[1], key=lambda v: v.name)]

    def read_video(self, ref: VideoRef) -> Video:
        return next(video for video in self.options[1] if video.name == ref.name)

    def roots(self) -> list[Path]:
        return [self.source]


def convert(info: DatasetInfo, videos: Sequence[Video], writer: Writer, out: Path) -> Summary:
    """The videos written by ``writer`` to ``out`` (``out``'s parent stands for the source)."""
    return pipeline.convert(MemorySource(out.parent / "memory-source", (info, tuple(videos))), writer, out, progress=False)
