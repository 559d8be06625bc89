"""A category table giving one id to two different categories (a foreign COCO, YouTube-VIS or BURST file) is refused,
naming the file and the id: an object names its category by id, so which one it had could not be said, and DAVIS's
output of such a table was refused by its own reader."""

from __future__ import annotations

import copy
import json

import pytest

from converters import api
from converters.errors import SourceError
from tests import burstdata


def _ytvis(path, categories):
    video = {"id": 1, "width": 8, "height": 6, "length": 1, "file_names": ["v/00000.jpg"]}
    path.write_text(json.dumps({"videos": [video], "annotations": [], "categories": categories}))
    return path


@pytest.mark.parametrize("reader", ["coco", "burst"])
def test_two_categories_of_one_id_are_refused_and_one_listed_twice_is_not(tmp_path, reader):
    twice = [{"id": 1, "name": "cat", "supercategory": "animal"}] * 2
    clash = [twice[0], {"id": 1, "name": "dog", "supercategory": "animal"}]
    for name, table in (("twice", twice), ("clash", clash)):
        if reader == "coco":
            path = _ytvis(tmp_path / f"{name}.json", table)
        else:
            data = burstdata.document()
            data["categories"] = copy.deepcopy(table)
            path = burstdata.write_json(tmp_path / name / "all_classes.json", data)
        with api.open_reader(path, reader) as opened:
            if name == "twice":
                assert [c.name for c in opened.info().categories] == ["cat", "cat"]
            else:
                with pytest.raises(SourceError, match="category id 1 is given to another category before it") as error:
                    opened.info()
                assert str(path) in str(error.value)
