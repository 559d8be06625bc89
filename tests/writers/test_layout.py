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


def test_a_foreign_coco_file_with_overlaps_converts_to_coco_but_not_to_a_layout(tmp_path):
    """End to end: YouTube-VIS instances that overlap survive in COCO; a MOSE folder is refused, and none is left."""
    height, width = 20, 30
    first = np.zeros((height, width), np.uint8)
    first[2:12, 2:20] = 1
    second = np.zeros((height, width), np.uint8)
    second[8:18, 10:28] = 1

    def segmentation(binary):
        return {"size": [height, width], "counts": coco_mask.encode(np.asfortranarray(binary))["counts"].decode()}

    video = {"id": 1, "name": "v", "width": width, "height": height, "length": 1, "file_names": ["v/00000.jpg"]}
    annotations = [
        {"id": k, "video_id": 1, "category_id": 1, "iscrowd": 0, "segmentations": [segmentation(m)]}
        for k, m in enumerate([first, second], 1)
    ]
    source = tmp_path / "ytvis.json"
    source.write_text(json.dumps({"videos": [video], "annotations": annotations, "categories": [{"id": 1, "name": "x"}]}))
    with pytest.warns(UserWarning):  # no images folder
        api.convert(source, tmp_path / "again.json", to="coco")
    again = json.loads((tmp_path / "again.json").read_text())
    assert [a["areas"][0] for a in again["annotations"]] == [int(first.sum()), int(second.sum())]
    with pytest.raises(SourceError, match="overlap"), pytest.warns(UserWarning):
        api.convert(source, tmp_path / "mose", to="mose")
    assert not (tmp_path / "mose").exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]
