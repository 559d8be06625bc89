"""Layouts that name each object's category (DAVIS's categories.json and davis_semantics.json, YouTube-VOS's meta.json)
hold one category per name: two of one name (COCO, YouTube-VIS and BURST tables may have them) become one, and what
that changes is said, object by object, where it went in silence."""

from __future__ import annotations

import json

import pytest

from converters import api
from converters.model import Category, DatasetInfo, Frame, FrameMasks, ImageRef, ObjectInfo, Video
from tests.memsource import box, convert, jpeg, rle

TABLE = (Category(1, "cat"), Category(7, "cat", "animal"), Category(3, "dog"))


def _video() -> Video:
    masks = FrameMasks((rle(box(6, 8, 0, 0, 2, 2), 1), rle(box(6, 8, 3, 0, 5, 2), 2), rle(box(6, 8, 0, 3, 2, 5), 3)))
    frames = (Frame(0, "00000.jpg", ImageRef(data=jpeg(6, 8, 40)), masks),)
    return Video("v", 8, 6, frames, (ObjectInfo(1, 1), ObjectInfo(2, 7), ObjectInfo(3, 3)))


@pytest.mark.parametrize("layout", ["davis", "youtube-vos"])
def test_an_object_whose_category_another_of_its_name_replaces_is_said(tmp_path, layout):
    summary = convert(DatasetInfo("memory", categories=TABLE), [_video()], api.open_writer(layout), tmp_path / "out")
    said = "the category of 1 object whose category shares its name with another (read back as that one)"
    assert any(said in note for note in summary.notes), summary.notes
    conventions = json.loads((tmp_path / "out" / ".vosconv.json").read_text())["conventions"]
    assert conventions["not_kept"]["merged_categories"] == 1
    assert conventions["merged_categories"] == {"1": 7}
    with api.open_reader(tmp_path / "out", layout) as reader:
        names = {c.id: c.name for c in reader.info().categories}
        (video,) = (reader.read_video(ref) for ref in reader.list_videos())
    assert [names[o.category_id] for o in video.objects] == ["cat", "cat", "dog"]
    if layout == "davis":  # DAVIS keeps ids: the object of category 1 reads back with the other cat's, 7
        assert [o.category_id for o in video.objects] == [7, 7, 3]


def test_categories_of_distinct_names_are_not_said_merged(tmp_path):
    table = (Category(1, "cat"), Category(7, "kitten", "animal"), Category(3, "dog"))
    summary = convert(DatasetInfo("memory", categories=table), [_video()], api.open_writer("davis"), tmp_path / "out")
    assert not any("shares its name" in note for note in summary.notes)
    assert "conventions" not in json.loads((tmp_path / "out" / ".vosconv.json").read_text())
    with api.open_reader(tmp_path / "out", "davis") as reader:
        (video,) = (reader.read_video(ref) for ref in reader.list_videos())
    assert [o.category_id for o in video.objects] == [1, 7, 3]
