"""vosconv's COCO JSON for the unified-model trainers: UniRef's (and UNINEXT's) video-object inference,
replayed on a validation set made with ``--first-appearance``.

The replay follows FoundationVision/UniRef: ``uniref/data/datasets/ytvis.py::load_ytvis_json`` (a
frame's object is kept when its ``bboxes`` and ``segmentations`` entries are truthy, ``ori_id``
copied when present), ``ytvis_dataset_mapper.py`` at inference (crowd annotations dropped, the
frame's ``ori_id`` list), and ``uniref.py::inference_vos`` (each ``ori_id`` opens one template, with
``assert cur_obj_id not in ref_dict_init``, and ``int(ori_id)`` is the pixel value painted back).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_api

from converters import api
from converters.sample import label_maps


def load_ytvis_json(path: Path) -> list[dict]:
    """UniRef's ``load_ytvis_json``: per video, per frame, the annotations it keeps (``ann_keys`` + ori_id)."""
    data = json.loads(path.read_text())
    by_video: dict[int, list[dict]] = {}
    for anno in data["annotations"]:
        by_video.setdefault(anno["video_id"], []).append(anno)
    records = []
    for video in sorted(data["videos"], key=lambda v: v["id"]):
        frames = []
        for frame_idx in range(video["length"]):
            objs = []
            for anno in by_video.get(video["id"], []):
                obj = {key: anno[key] for key in ("iscrowd", "category_id", "id") if key in anno}
                bboxes, segms = anno.get("bboxes"), anno.get("segmentations")
                if not (bboxes and segms and bboxes[frame_idx] and segms[frame_idx]):
                    continue
                if "ori_id" in anno:
                    obj["ori_id"] = anno["ori_id"]
                obj["segmentation"] = segms[frame_idx]
                objs.append(obj)
            frames.append(objs)
        records.append({"file_names": video["file_names"], "length": video["length"], "annotations": frames})
    return records


def inference_vos(record: dict) -> dict[int, tuple[int, np.ndarray]]:
    """UniRef's VOS bookkeeping: {pixel value: (frame where its template starts, the reference mask)}."""
    ref_dict_init: dict = {}
    for frame_idx, annos in enumerate(record["annotations"]):
        instances = [a for a in annos if a.get("iscrowd", 0) == 0]  # the mapper at inference
        ori_ids = [a.get("ori_id") for a in instances]  # UniRef: x["ori_id"] if "ori_id" in x else None
        for obj_idx, cur_obj_id in enumerate(ori_ids):
            assert cur_obj_id not in ref_dict_init
            segm = instances[obj_idx]["segmentation"]
            ref_dict_init[cur_obj_id] = (frame_idx, mask_api.decode({"size": segm["size"], "counts": segm["counts"].encode()}))
    return {int(cur_id): ref_dict_init[cur_id] for cur_id in sorted(ref_dict_init)}


def first_appearances(annotations: Path) -> dict[str, dict[int, tuple[int, np.ndarray]]]:
    """{video: {object id: (frame position, mask)}} of each object's first frame, from the PNGs."""
    found: dict[str, dict[int, tuple[int, np.ndarray]]] = {}
    positions: dict[str, int] = {}
    for relative, label in label_maps(annotations).items():
        video = relative.split("/")[0]
        position = positions[video] = positions.get(video, -1) + 1
        for value in sorted(set(np.unique(label).tolist()) - {0, 255}):
            found.setdefault(video, {}).setdefault(value, (position, label == value))
    return found


@pytest.mark.parametrize(("layout", "reader", "split", "annotations"), [
    ("mose", "mose", "train", "train/Annotations"),
    ("davis", "davis", "val", "DAVIS/Annotations/480p"),
])  # fmt: skip
def test_unirefs_vos_inference_takes_a_first_appearance_file(sample_root, tmp_path, layout, reader, split, annotations):
    out = tmp_path / "valid.json"
    api.convert(
        sample_root[layout], out, to="coco", from_=reader, reader_options={"split": split}, derive={"first_appearance": True}
    )
    data = json.loads(out.read_text())
    names = {v["id"]: v["name"] for v in data["videos"]}
    expected = first_appearances(sample_root[layout] / annotations)
    replayed = 0
    for video_id, record in zip(sorted(names), load_ytvis_json(out)):
        templates = inference_vos(record)
        truth = expected[names[video_id]]
        assert sorted(templates) == sorted(truth)  # int(ori_id) is each source pixel value
        for value, (frame, mask) in templates.items():
            assert frame == truth[value][0]
            assert np.array_equal(mask, truth[value][1])
            replayed += 1
    assert replayed == sum(len(expected[name]) for name in names.values())
    assert all(type(a["ori_id"]) is str for a in data["annotations"] if a["iscrowd"] == 0)
    assert all("ori_id" not in a for a in data["annotations"] if a["iscrowd"] == 1)  # void is no object to track


def test_without_ori_id_or_first_appearance_the_bookkeeping_fails(sample_root, tmp_path):
    """What users met before: every object is None to UniRef without ori_id, and a whole-track file re-opens templates."""
    whole = tmp_path / "whole.json"
    api.convert(sample_root["mose"], whole, to="coco", from_="mose", reader_options={"split": "train"})
    with pytest.raises(AssertionError):
        inference_vos(load_ytvis_json(whole)[0])
    first = tmp_path / "first.json"
    api.convert(
        sample_root["mose"], first, to="coco", from_="mose", reader_options={"split": "train"}, derive={"first_appearance": True}
    )
    data = json.loads(first.read_text())
    for anno in data["annotations"]:
        anno.pop("ori_id", None)
    stripped = tmp_path / "stripped.json"
    stripped.write_text(json.dumps(data))
    with pytest.raises(AssertionError):
        for record in load_ytvis_json(stripped):
            inference_vos(record)


def test_the_coco_reader_reads_a_file_with_ori_id_back(sample_root, tmp_path):
    out = tmp_path / "train.json"
    api.convert(sample_root["mose"], out, to="coco", from_="mose", reader_options={"split": "train"})
    assert all(a["ori_id"] == str(a["object_id"]) for a in json.loads(out.read_text())["annotations"])
    source = [[(f.file_name, f.masks) for f in v.frames] for v in api.read_videos(sample_root["mose"], "mose", split="train")]
    assert [[(f.file_name, f.masks) for f in v.frames] for v in api.read_videos(out)] == source
