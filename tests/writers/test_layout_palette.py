"""A layout's own output reads back without a false word: the default palette, padded for an id beyond it, is one palette."""

from __future__ import annotations

import warnings

import pytest

from converters import api
from converters.model import DatasetInfo, Frame, FrameMasks, ImageRef, ObjectInfo, Video
from tests.memsource import box, convert, jpeg, rle


@pytest.mark.parametrize("layout", ["youtube-vos", "mose", "davis"])
def test_a_frame_with_an_id_beyond_the_default_palette_reads_back_without_a_warning(tmp_path, layout):
    """YouTube-VOS's palette has 16 colours: the PNG of a frame holding id 254 gets it padded with black, which is what
    the first frame's shorter palette gives id 254 when written again, so no colour changes and nothing is said."""
    frames = (
        Frame(0, "00000.jpg", ImageRef(data=jpeg(6, 8, 10)), FrameMasks((rle(box(6, 8, 0, 0, 2, 2), 1),))),
        Frame(1, "00001.jpg", ImageRef(data=jpeg(6, 8, 20)), FrameMasks((rle(box(6, 8, 4, 4, 6, 6), 254),))),
    )
    video = Video("v", 8, 6, frames, (ObjectInfo(1), ObjectInfo(254)))
    convert(DatasetInfo("memory"), [video], api.open_writer(layout), tmp_path / "out")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (back,) = api.read_videos(tmp_path / "out", layout)
    assert [f.masks for f in back.frames] == [f.masks for f in frames]
