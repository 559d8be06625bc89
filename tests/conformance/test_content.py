"""What the conformance checks compare: metadata and per-frame values too, with their types, where a format keeps them."""

from __future__ import annotations

import dataclasses

import pytest

from converters.model import DatasetInfo, Frame, FrameMasks, Mask, ObjectInfo, Video
from converters.testing import ALL_METADATA, METADATA_KEPT, assert_same_content, fingerprint

INFO = DatasetInfo("test")


def _video(**changes) -> Video:
    mask = Mask(1, "02", 2, (0, 0, 1, 2), values=(("score", 0.5),))
    video = Video(
        "v",
        1,
        2,
        (Frame(0, "00000.jpg", None, FrameMasks((mask,))),),
        (ObjectInfo(1, metadata=(("masklet_id", 0),)),),
        metadata=(("video_frame_count", 14.0),),
    )
    return dataclasses.replace(video, **changes)


def _without_values(video: Video) -> Video:
    frame = video.frames[0]
    masks = FrameMasks(tuple(dataclasses.replace(m, values=()) for m in frame.masks.objects))
    return dataclasses.replace(video, frames=(dataclasses.replace(frame, masks=masks),))


LOSSES = {
    "object_metadata": lambda v: dataclasses.replace(v, objects=(ObjectInfo(1),)),
    "video_metadata": lambda v: dataclasses.replace(v, metadata=()),
    "mask_values": _without_values,
    "a float read back as an int": lambda v: dataclasses.replace(v, metadata=(("video_frame_count", 14),)),
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_a_format_that_keeps_metadata_must_give_it_back_exactly(loss):
    source = fingerprint(_video(), INFO)
    with pytest.raises(AssertionError):
        assert_same_content(source, fingerprint(LOSSES[loss](_video()), INFO))
    if loss in ALL_METADATA:  # a format without room for it (the folder layouts) is not held to it
        assert_same_content(source, fingerprint(LOSSES[loss](_video()), INFO), kept=ALL_METADATA - {loss})
        assert_same_content(source, fingerprint(LOSSES[loss](_video()), INFO), kept=METADATA_KEPT["mose"])
