"""The CocoVID writer (mmdet 3.x video COCO): loaded with pycocotools' COCO, every mask checked against the
source PNGs, and mmdet's ``BaseVideoDataset`` indexing replayed on it."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_api
from pycocotools.coco import COCO

from converters import api, registry
from converters.sample import label_maps


def load(path: Path) -> COCO:
    return COCO(str(path))


def source_labels(annotations: Path) -> dict[str, dict[str, np.ndarray]]:
    videos: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for relative, label in label_maps(annotations).items():
        video, name = relative.split("/")
        videos[video][name[:-4]] = label
    return videos


@pytest.fixture(scope="module")
def mose_cocovid(sample_root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cocovid") / "mose-train.cocovid.json"
    api.convert(sample_root["mose"], out, to="cocovid", from_="mose", reader_options={"split": "train"}, workers=2)
    return out


def mmdet_video_list(coco: COCO, classes: list[str], filter_empty_gt: bool = True) -> list[dict]:
    """mmdet 3.x ``BaseVideoDataset.load_data_list`` + ``parse_data_info`` + ``filter_data`` (min_size 32), in short."""
    cat_ids = coco.getCatIds(catNms=classes)
    videos: dict[int, dict] = {}
    with_annotations = set()
    for image_id in coco.getImgIds():
        image = coco.loadImgs([image_id])[0]
        video = videos.setdefault(image["video_id"], {"video_id": image["video_id"], "images": [], "video_length": 0})
        video["video_length"] += 1
        instances = []
        for index, ann in enumerate(coco.loadAnns(coco.getAnnIds(imgIds=[image_id], catIds=cat_ids))):
            x, y, w, h = ann["bbox"]
            if min(x + w, image["width"]) - max(x, 0) <= 0 or min(y + h, image["height"]) - max(y, 0) <= 0:
                continue
            if ann["area"] <= 0 or w < 1 or h < 1 or ann["category_id"] not in cat_ids:
                continue
            instances.append({"instance_id": ann.get("instance_id") or index, "mask": ann["segmentation"], "ann_id": ann["id"]})
        if instances:
            with_annotations.add(image_id)
        video["images"].append({**image, "instances": instances})
    in_category = set().union(*(coco.catToImgs[c] for c in cat_ids)) & with_annotations
    for video in videos.values():
        kept = []
        for image in video["images"]:
            if (filter_empty_gt and image["id"] not in in_category) or min(image["width"], image["height"]) < 32:
                video["video_length"] -= 1
                continue
            kept.append(image)
        video["images"] = kept
    return list(videos.values())


def test_every_frame_is_an_image_in_order_and_every_mask_is_the_sources(sample_root, mose_cocovid):
    coco = load(mose_cocovid)
    labels = source_labels(sample_root["mose"] / "train" / "Annotations")
    data = json.loads(mose_cocovid.read_text())
    assert [v["name"] for v in data["videos"]] == sorted(labels)
    assert [image["id"] for image in data["images"]] == list(range(1, len(data["images"]) + 1))
    checked = 0
    for video in data["videos"]:
        images = [i for i in data["images"] if i["video_id"] == video["id"]]
        frames = labels[video["name"]]
        assert [i["file_name"] for i in images] == [f"{video['name']}/{stem}.jpg" for stem in sorted(frames)]
        assert [i["frame_id"] for i in images] == list(range(len(frames)))
        for image in images:
            label = frames[image["file_name"].split("/")[1][:-4]]
            assert (image["height"], image["width"]) == label.shape and image["annotated"] is True
            annotations = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
            assert sorted(a["object_id"] for a in annotations) == sorted(set(np.unique(label).tolist()) - {0})
            for ann in annotations:
                mask = coco.annToMask(ann)
                assert np.array_equal(mask, label == ann["object_id"])
                assert ann["area"] == int(mask.sum()) and ann["iscrowd"] == 0
                ys, xs = np.nonzero(mask)
                assert ann["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
                assert ann["video_id"] == video["id"]
                checked += 1
    assert checked == 75  # the sample's masks: none lost, none added
    assert [c["name"] for c in data["categories"]] == ["object"]


def test_instance_ids_count_from_one_over_the_file_one_per_track(mose_cocovid):
    data = json.loads(mose_cocovid.read_text())
    tracks: dict[int, set] = defaultdict(set)
    for ann in data["annotations"]:
        tracks[ann["instance_id"]].add((ann["video_id"], ann["object_id"]))
    assert sorted(tracks) == list(range(1, 10))  # 9 objects in the sample, 0 never used (mmdet's "missing")
    assert all(len(owners) == 1 for owners in tracks.values())
    assert len({ann["id"] for ann in data["annotations"]}) == len(data["annotations"])  # mmdet asserts this
    # numbered by first appearance, as mmdet's youtubevis2coco.py does
    first = {}
    for ann in data["annotations"]:
        first.setdefault(ann["instance_id"], (ann["video_id"], ann["image_id"]))
    assert [first[i] for i in sorted(first)] == sorted(first.values())


def test_mmdets_video_index_sees_every_track_and_drops_the_empty_frame(sample_root, mose_cocovid):
    """mmdet keeps each annotation's instance_id (never its index fallback) and, by default, drops unannotated frames."""
    coco = load(mose_cocovid)
    videos = mmdet_video_list(coco, ["object"])
    lengths = sorted(len(labels) for labels in source_labels(sample_root["mose"] / "train" / "Annotations").values())
    assert lengths == [8, 10, 12]
    assert sum(len(v["images"]) for v in videos) == 29  # 30 frames; the empty one is filtered out
    assert sorted(v["video_length"] for v in videos) == [8, 10, 11]
    for video in videos:
        for image in video["images"]:
            assert all(i["instance_id"] >= 1 for i in image["instances"])
            assert len({i["instance_id"] for i in image["instances"]}) == len(image["instances"])
    kept_all = mmdet_video_list(coco, ["object"], filter_empty_gt=False)
    assert sorted(v["video_length"] for v in kept_all) == lengths  # filter_cfg=dict(filter_empty_gt=False)


def test_davis_void_stays_on_the_image_and_out_of_the_categories(sample_root, tmp_path):
    out = tmp_path / "davis.cocovid.json"
    api.convert(sample_root["davis"], out, to="cocovid", from_="davis", reader_options={"split": "train"})
    coco = load(out)
    labels = source_labels(sample_root["davis"] / "DAVIS" / "Annotations" / "480p")
    assert [c["name"] for c in coco.dataset["categories"]] == ["object"]
    voids = 0
    for image in coco.dataset["images"]:
        video, stem = image["file_name"].split("/")[0], image["file_name"].split("/")[1][:-4]
        label = labels[video][stem]
        if "void" in image:
            voids += 1
            void = mask_api.decode({"size": image["void"]["size"], "counts": image["void"]["counts"].encode()})
            assert np.array_equal(void, label == 255)
        elif video == "paper-boat":
            assert not (label == 255).any()
    assert voids == 5  # paper-boat's even frames
    for ann in coco.dataset["annotations"]:
        assert ann["object_id"] != 255


def test_youtube_vos_categories_and_unannotated_frames(sample_root, tmp_path):
    train, valid = tmp_path / "train.cocovid.json", tmp_path / "valid.cocovid.json"
    api.convert(sample_root["youtube-vos"], train, to="cocovid", from_="youtube-vos", reader_options={"split": "train"})
    api.convert(sample_root["youtube-vos"], valid, to="cocovid", from_="youtube-vos", reader_options={"split": "valid"})
    names = {c["name"] for c in load(train).dataset["categories"]}
    meta = json.loads((sample_root["youtube-vos"] / "train" / "meta.json").read_text())
    assert names == {o["category"] for v in meta["videos"].values() for o in v["objects"].values()}
    images = load(valid).dataset["images"]
    annotated = sorted(i["file_name"] for i in images if i["annotated"])
    pngs = sorted(p.relative_to(sample_root["youtube-vos"] / "valid" / "Annotations").as_posix()[:-4] + ".jpg"
                  for p in (sample_root["youtube-vos"] / "valid" / "Annotations").rglob("*.png"))  # fmt: skip
    assert annotated == pngs and len(images) > len(annotated)


def test_the_same_bytes_with_two_workers_and_the_name_picks_the_writer(sample_root, mose_cocovid, tmp_path):
    one = tmp_path / "one.cocovid.json"
    api.convert(sample_root["mose"], one, to="cocovid", from_="mose", reader_options={"split": "train"}, workers=1)
    assert one.read_bytes() == mose_cocovid.read_bytes()
    assert registry.writer_for_output("train.cocovid.json") == "cocovid"
    assert registry.writer_for_output("train.json") == "coco"


def test_an_earlier_output_is_replaced_with_overwrite(sample_root, mose_cocovid, tmp_path):
    out = tmp_path / "again.cocovid.json"
    out.write_bytes(mose_cocovid.read_bytes())
    api.convert(sample_root["mose"], out, to="cocovid", from_="mose", reader_options={"split": "train"}, overwrite=True)
    assert out.read_bytes() == mose_cocovid.read_bytes()


def test_a_cocovid_file_is_detected_as_cocovid_and_the_coco_reader_points_there(mose_cocovid):
    """It starts as vosconv's COCO files do; the coco reader once read it as one and stopped on "unexpected content"."""
    from converters.errors import SourceError

    assert api.detect(mose_cocovid) == "cocovid"
    with pytest.raises(SourceError, match=r"a CocoVID file .* read it with --from cocovid"):
        list(api.read_videos(mose_cocovid, format="coco"))
