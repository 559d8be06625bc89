"""The folder-layout writers (mose, davis, youtube-vos): what a PNG cannot hold is refused, never painted over."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from converters import api
from converters.errors import SourceError
from converters.model import DatasetInfo, Frame, FrameMasks, MaskEncoding, ObjectInfo, Video
from converters.rle import encode
from converters.writers.base import Shard
from converters.writers.layout import DavisWriter, MoseWriter, YoutubeVosWriter

WRITERS = [MoseWriter, DavisWriter, YoutubeVosWriter]


def _video(second_rows: slice) -> Video:
    first = np.zeros((6, 8), np.uint8)
    first[1:4, 1:4] = 1
    second = np.zeros((6, 8), np.uint8)
    second[second_rows, 2:6] = 2
    masks = FrameMasks((*encode(first), *encode(second)))
    return Video("v", 8, 6, (Frame(0, "00000.jpg", None, masks),), (ObjectInfo(1), ObjectInfo(2)), MaskEncoding.PALETTE)


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.name)
def test_overlapping_masks_are_refused_not_painted_over(writer, tmp_path):
    """Other tools' COCO objects may share pixels; one value per pixel cannot keep both, so nothing is written."""
    with pytest.raises(SourceError, match=r"v/00000\.jpg: its masks overlap") as caught:
        writer().write_shard([_video(slice(2, 5))], Shard(0, ()), tmp_path, DatasetInfo("test"))
    assert "coco, parquet or hdf5" in str(caught.value)
    assert not list(tmp_path.rglob("*.png"))


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.name)
def test_masks_that_touch_without_overlapping_are_written(writer, tmp_path):
    result = writer().write_shard([_video(slice(4, 6))], Shard(0, ()), tmp_path, DatasetInfo("test"))
    assert [name for name in result.files if name.endswith(".png")]


def _two_videos_one_overlapping(tmp_path):
    """A YouTube-VIS file: video "bad" has two objects sharing pixels, video "good" has one object."""
    height, width = 8, 10
    first = np.zeros((height, width), np.uint8)
    first[1:5, 1:6] = 1
    second = np.zeros((height, width), np.uint8)
    second[3:7, 4:9] = 1

    def segmentation(binary):
        return {"size": [height, width], "counts": coco_mask.encode(np.asfortranarray(binary))["counts"].decode()}

    videos = [
        {"id": v, "name": name, "width": width, "height": height, "length": 1, "file_names": [f"{name}/00000.jpg"]}
        for v, name in ((1, "bad"), (2, "good"))
    ]
    annotations = [
        {"id": 1, "video_id": 1, "category_id": 1, "segmentations": [segmentation(first)]},
        {"id": 2, "video_id": 1, "category_id": 1, "segmentations": [segmentation(second)]},
        {"id": 3, "video_id": 2, "category_id": 1, "segmentations": [segmentation(first)]},
    ]
    source = tmp_path / "ytvis.json"
    source.write_text(json.dumps({"videos": videos, "annotations": annotations, "categories": [{"id": 1, "name": "x"}]}))
    return source


@pytest.mark.parametrize(("writer", "options"), [("mose", {}), ("davis", {}), ("hdf5", {"masks": "dense"})])
def test_a_video_whose_masks_overlap_is_skipped_like_a_bad_one(tmp_path, writer, options):
    """With --on-error skip the overlapping video is left out and listed; the others are written."""
    source = _two_videos_one_overlapping(tmp_path)
    out = tmp_path / "out"
    with pytest.warns(UserWarning):  # no images folder
        summary = api.convert(source, out, to=writer, writer_options=options, on_error="skip")
    assert [s["video"] for s in summary.stats.skipped] == ["bad"]
    assert "overlap" in summary.stats.skipped[0]["message"]
    if writer == "hdf5":
        assert [v["name"] for v in json.loads((out / "manifest.json").read_text())["videos"]] == ["good"]
    else:
        written = {p.name for p in out.rglob("*") if p.is_dir()}
        assert "good" in written and "bad" not in written
    with pytest.raises(SourceError, match=r"bad/00000\.jpg: its masks overlap"), pytest.warns(UserWarning):
        api.convert(source, tmp_path / "strict", to=writer, writer_options=options)


def test_overlap_finds_shared_pixels_without_painting():
    from converters import rle

    full, block = (1, "0d0"), (2, "5220003")
    assert rle.overlap([full, block], 4, 5)
    assert not rle.overlap([(1, rle.counts_to_string([0, 15, 5])), (2, rle.counts_to_string([15, 5]))], 4, 5)
    assert not rle.overlap([full], 4, 5)
    with pytest.raises(rle.RleError):
        rle.overlap([full, (2, "5220003P")], 4, 5)


def test_a_foreign_coco_file_with_overlaps_converts_to_coco_but_not_to_a_layout(tmp_path):
    """End to end: YouTube-VIS instances that overlap survive in COCO; a MOSE folder is refused, and none is left."""
    source = _two_videos_one_overlapping(tmp_path)
    with pytest.warns(UserWarning):  # no images folder
        api.convert(source, tmp_path / "again.json", to="coco")
    again = json.loads((tmp_path / "again.json").read_text())
    assert [a["areas"][0] for a in again["annotations"]] == [20, 20, 20]  # 4x5 blocks, sharing 4 pixels in "bad"
    with pytest.raises(SourceError, match="overlap"), pytest.warns(UserWarning):
        api.convert(source, tmp_path / "mose", to="mose")
    assert not (tmp_path / "mose").exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]
