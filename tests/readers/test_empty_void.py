"""A void region recorded without pixels (an all-zero RLE in a file someone edited) is no void region, as the coco
reader takes it: a mask without pixels is no mask (:class:`converters.model.FrameMasks` refuses one)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from converters import api
from converters.model import DatasetInfo, Frame, FrameMasks, ImageRef, ObjectInfo, Video
from tests.memsource import box, convert, jpeg, rle, void

OUTPUTS = {"coco": "out.json", "cocovid": "out.cocovid.json", "burst": "out.burst.json", "sav": "out"}


@pytest.mark.parametrize("writer", sorted(OUTPUTS))
def test_an_all_zero_void_reads_back_as_none(tmp_path, writer):
    region = void(box(6, 8, 6, 0, 8, 1))
    masks = FrameMasks((rle(box(6, 8, 0, 0, 2, 2), 1),), region)
    video = Video("v", 8, 6, (Frame(0, "00000.jpg", ImageRef(data=jpeg(6, 8, 30)), masks),), (ObjectInfo(1),))
    out = tmp_path / OUTPUTS[writer]
    convert(DatasetInfo("memory"), [video], api.open_writer(writer), out)
    blank = rle(np.zeros((6, 8), bool), 0).counts
    edited = 0
    for path in [out] if out.is_file() else [p for p in Path(out).rglob("*.json") if p.name != ".vosconv.json"]:
        text = path.read_text()
        if f'"{region.counts}"' in text:
            path.write_text(text.replace(f'"{region.counts}"', f'"{blank}"'))
            edited += 1
    assert edited == 1
    (back,) = api.read_videos(out, writer)
    assert back.frames[0].masks == FrameMasks(masks.objects)
