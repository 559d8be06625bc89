"""Which values a video's dense label maps may hold, checked as the loader and the reader read them.

The writer stores each annotated frame's objects by id, the void region as 255 (a binary video's
one object as 255), and nothing (zeros) on an unannotated frame. A value of no object, or a label
on an unannotated frame, is a damaged or hand-edited shard: a label map would pass it on, object
planes drop it, and a reader would see an object the video does not have.

The loader checks each frame once per process (:class:`Checked`), on its first read: one
reduction (the frames' maximum) settles the usual ids (1 to K) without void, two more (the
maximum and minimum of the bytes read as int8) with it; ids with gaps take one
subtract-and-minimum pass a gap; only a frame that fails is searched for the values to name.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...codecs import scratch
from ...model import VOID_ID, MaskEncoding

#: Gaps among the allowed values checked one pass each; past this, one table lookup over the frames instead.
MAX_GAPS = 4


class LabelValues:
    """The values one video's stored label maps may hold, and the check of frames read."""

    def __init__(self, object_ids: Sequence[int], encoding: MaskEncoding) -> None:
        ids = {i for i in object_ids if 0 < i < VOID_ID}  # what a label map can hold (the writer refuses other ids)
        stored = {VOID_ID} if encoding is MaskEncoding.BINARY else {*ids, VOID_ID}
        allowed = np.zeros(VOID_ID + 1, bool)
        allowed[[0, *stored]] = True
        self.allowed = allowed
        self.refused = (~allowed).astype(np.uint8)
        self.object_ids = sorted(object_ids)
        self.binary = encoding is MaskEncoding.BINARY
        #: The largest value with every value from 0 to it allowed: a frame whose maximum is no more holds nothing else.
        self.top = int(np.argmin(allowed)) - 1 if not allowed.all() else VOID_ID
        self.gaps = _gaps(allowed)

    def check(self, labels: np.ndarray, indices: Sequence[int], annotated: Sequence[bool]) -> None:
        """ValueError naming the first frame of ``labels`` (frames ``indices``, (T, H, W) uint8) holding a value it
        may not: one of no object on an annotated frame, any but 0 on an unannotated one."""
        if len(labels) == 0:
            return
        highest = int(labels.max())
        if highest == 0 or (all(annotated) and (highest <= self.top or self._low_or_void(labels))):
            return
        for label, index, flag in zip(labels, indices, annotated):  # a frame at a time: its work buffer stays in cache
            if not (self._holds_only_allowed(label) if flag else not label.any()):
                self._fail(label, int(index), bool(flag))

    def check_frame(self, label: np.ndarray, index: int, annotated: bool) -> None:
        """:meth:`check` of one frame's (H, W) label map."""
        self.check(label[None], [index], [annotated])

    def _low_or_void(self, labels: np.ndarray) -> bool:
        """Whether every value is at most :attr:`top` or 255, by two reductions and no copy: read as int8, 255 is -1,
        128 to 254 are -128 to -2, and 0 to 127 stay."""
        if self.top >= 127:
            return False
        signed = labels.view(np.int8)
        return int(signed.max()) <= self.top and int(signed.min()) >= -1

    def _holds_only_allowed(self, label: np.ndarray) -> bool:
        if int(label.max()) <= self.top or self._low_or_void(label):
            return True
        work = scratch.array("label-values", label.shape, np.uint8)  # reused: a fresh frame-sized array faults per page
        if len(self.gaps) > MAX_GAPS:  # one lookup of every pixel
            return not np.take(self.refused, label, out=work).any()
        # v in [a, b] exactly when (v - a) mod 256 <= b - a: one subtraction and one minimum a gap
        return all(int(np.subtract(label, np.uint8(a), out=work).min()) > b - a for a, b in self.gaps)

    def _fail(self, label: np.ndarray, index: int, annotated: bool) -> None:
        values = np.unique(label)
        if not annotated:
            raise ValueError(
                f"frame {index} is not annotated, yet its label map holds {values[values != 0].tolist()}; "
                "the writer stores nothing there"
            )
        stray = values[~self.allowed[values]].tolist()
        if self.binary:
            raise ValueError(f"frame {index}: label values {stray} in a binary (0/255) video's label map")
        raise ValueError(
            f"frame {index}: label value {stray[0]} is no object of the video ({self.object_ids}), nor 0 or the void "
            f"{VOID_ID}" + (f" (all such values: {stray})" if len(stray) > 1 else "")
        )


def _gaps(allowed: np.ndarray) -> tuple[tuple[int, int], ...]:
    """The runs ``(first, last)`` of values not allowed."""
    gaps, start = [], None
    for value, ok in enumerate(allowed.tolist()):
        if not ok and start is None:
            start = value
        elif ok and start is not None:
            gaps.append((start, value - 1))
            start = None
    if start is not None:
        gaps.append((start, len(allowed) - 1))
    return tuple(gaps)


class Checked:
    """Which frames of each video this process has checked (a byte a frame of the videos read), so a frame read again
    costs nothing: clips overlap, and epochs read every frame again."""

    def __init__(self) -> None:
        self.frames: dict[str, np.ndarray] = {}

    def unchecked(self, video: str, frames: int, indices: np.ndarray) -> np.ndarray:
        """Positions in ``indices`` of the frames not checked yet."""
        done = self.frames.get(video)
        if done is None:
            done = self.frames[video] = np.zeros(frames, bool)
        return np.flatnonzero(~done[indices])

    def mark(self, video: str, indices: np.ndarray) -> None:
        self.frames[video][indices] = True
