"""The cocovid reader: mmdet's ``youtubevis2coco.py`` output (replayed here on a YouTube-VIS file) and vosconv's own
``cocovid`` files, read back exactly; pycocotools' COCO agrees on every mask; bad input names the file and the cause."""

from __future__ import annotations

import gzip
import json
import os
import random
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO

from converters import api
from converters.errors import SourceError
from converters.formats.cocovid.reader import CocoVidReader
from converters.formats.ytvis.reader import YtvisReader
from converters.model import VOID_ID
from converters.testing.content import ALL_METADATA, assert_same_content, fingerprint
from converters.testing.suite import ReaderSuite

from .test_ytvis import listing_peak, many_videos_document, write_2019, ytvis_2019_document


def convert_vis(official: dict, mode: str = "train") -> dict:
    """mmdet's ``tools/dataset_converters/youtubevis2coco.py::convert_vis``, replayed on a loaded YouTube-VIS file:
    every listed frame an image (``frame_id`` its position), one annotation per frame a track's bbox is not None,
    ``instance_id`` numbered over the file from 1 by first appearance; annotations in train only."""
    vis: dict[str, list] = defaultdict(list)
    records = {"img_id": 1, "ann_id": 1, "global_instance_id": 1}
    vis["categories"] = official["categories"]
    has_annotations = mode == "train"
    vid_to_anns = defaultdict(list)
    for ann_info in official.get("annotations") or []:
        vid_to_anns[ann_info["video_id"]].append(ann_info)
    for video_info in official["videos"]:
        vis["videos"].append(
            {
                "id": video_info["id"],
                "name": video_info["file_names"][0].split(os.sep)[0],
                "width": video_info["width"],
                "height": video_info["height"],
            }
        )
        instance_id_maps: dict[int, int] = {}
        for frame_id in range(len(video_info["file_names"])):
            vis["images"].append(
                {
                    "file_name": video_info["file_names"][frame_id],
                    "height": video_info["height"],
                    "width": video_info["width"],
                    "id": records["img_id"],
                    "frame_id": frame_id,
                    "video_id": video_info["id"],
                }
            )
            for ann_info in vid_to_anns[video_info["id"]] if has_annotations else []:
                bbox = ann_info["bboxes"][frame_id]
                if bbox is None:
                    continue
                track_id = ann_info["id"]
                if track_id not in instance_id_maps:
                    instance_id_maps[track_id] = records["global_instance_id"]
                    records["global_instance_id"] += 1
                vis["annotations"].append(
                    {
                        "id": records["ann_id"],
                        "video_id": video_info["id"],
                        "image_id": records["img_id"],
                        "category_id": ann_info["category_id"],
                        "instance_id": instance_id_maps[track_id],
                        "bbox": bbox,
                        "segmentation": ann_info["segmentations"][frame_id],
                        "area": ann_info["areas"][frame_id],
                        "iscrowd": ann_info["iscrowd"],
                    }
                )
                records["ann_id"] += 1
            records["img_id"] += 1
    return dict(vis)


def write_mmdet(folder: Path, document: dict | None = None) -> tuple[Path, Path]:
    """``youtube_vis_2019_train.json`` made by mmdet's converter from a 2019 root, and that root's frames folder."""
    document = document or ytvis_2019_document()
    root = write_2019(folder / "ytvis_2019", document)
    out = folder / "youtube_vis_2019_train.json"
    out.write_text(json.dumps(convert_vis(document)))
    return out, root / "train" / "JPEGImages"


def read(source, **options):
    with CocoVidReader(source, CocoVidReader.Options(**options)) as reader:
        info = reader.info()
        return info, [reader.read_video(ref) for ref in reader.list_videos()]


# ------------------------------------------------------------------ mmdet's files


def test_mmdets_file_reads_as_the_youtube_vis_file_it_was_made_from(tmp_path):
    path, frames = write_mmdet(tmp_path)
    info, videos = read(path, images=str(frames))
    with YtvisReader(tmp_path / "ytvis_2019") as reader:
        source_info = reader.info()
        source = [reader.read_video(ref) for ref in reader.list_videos()]
    assert info.source_format == "cocovid" and info.categories == source_info.categories
    assert [v.name for v in videos] == [v.name for v in source]
    for got, want in zip(videos, source):  # all but the instance ids mmdet numbered, which become object metadata
        assert_same_content(fingerprint(want, source_info), fingerprint(got, info), kept=ALL_METADATA - {"object_metadata"})
        assert [o.get("instance_id") for o in got.objects] and all(o.get("instance_id") for o in got.objects)
    assert all(f.image is not None and Path(f.image.path).is_file() for v in videos for f in v.frames)


def test_instance_ids_become_each_videos_objects_and_stay_as_metadata(tmp_path):
    """mmdet numbers tracks over the file (1, 2 in the first video, 3 in the second): objects are 1..K per video."""
    path, _ = write_mmdet(tmp_path)
    _, videos = read(path)
    by_name = {v.name: v for v in videos}
    assert [(o.object_id, o.get("instance_id")) for o in by_name["0a1b2c3d4e"].objects] == [(1, 1), (2, 2)]
    assert [(o.object_id, o.get("instance_id")) for o in by_name["ff25f55852"].objects] == [(1, 3)]


def test_every_mask_is_the_one_pycocotools_decodes(tmp_path):
    """The real client: pycocotools' COCO loads the file and ``annToMask`` gives each annotation's mask (polygons,
    uncompressed and compressed RLE alike); the reader gives the same pixels on the same frame."""
    path, _ = write_mmdet(tmp_path)
    _, videos = read(path)
    coco = COCO(str(path))
    by_id = {v["id"]: v["name"] for v in coco.dataset["videos"]}
    frames = {(by_id[i["video_id"]], i["frame_id"]): i["id"] for i in coco.dataset["images"]}
    checked = 0
    for video in videos:
        for frame in video.frames:
            annotations = coco.loadAnns(coco.getAnnIds(imgIds=[frames[(video.name, frame.index)]]))
            assert len(annotations) == len(frame.masks.objects)
            for annotation in annotations:
                obj = next(o for o in video.objects if o.get("instance_id") == annotation["instance_id"])
                mask = frame.masks.get(obj.object_id)
                assert mask.area == int(coco.annToMask(annotation).sum())
                decoded = COCO.annToMask(coco, {**annotation, "segmentation": {"size": [6, 8], "counts": mask.counts}})
                np.testing.assert_array_equal(decoded, coco.annToMask(annotation))
                checked += 1
    assert checked == 5  # 2 + 2 in the first video, 1 in the second: none lost, none added


def test_frames_follow_frame_id_and_a_frame_without_annotation_is_empty(tmp_path):
    """Images listed in any order are put in frame_id order; mmdet lists annotated frames, so one with no object is empty."""
    path, _ = write_mmdet(tmp_path)
    data = json.loads(path.read_text())
    random.Random(3).shuffle(data["images"])
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] != 2]  # the first video's second frame
    path.write_text(json.dumps(data))
    _, videos = read(path)
    assert [f.file_name for f in videos[0].frames] == ["00000.jpg", "00005.jpg", "00010.jpg"]
    assert videos[0].frames[1].masks is not None and videos[0].frames[1].masks.objects == ()


def test_a_crowd_track_keeps_iscrowd(tmp_path):
    document = ytvis_2019_document()
    document["annotations"][0]["iscrowd"] = 1
    path, _ = write_mmdet(tmp_path, document)
    _, videos = read(path)
    assert [o.get("iscrowd") for o in videos[0].objects] == [1, None]


def test_valid_and_test_files_without_annotations_read(tmp_path):
    """mmdet's converter writes annotations for train only: the frames of valid/test are listed, with no object."""
    document = ytvis_2019_document()
    path = tmp_path / "youtube_vis_2019_valid.json"
    path.write_text(json.dumps(convert_vis(document, mode="valid")))
    _, videos = read(path)
    assert [len(v.frames) for v in videos] == [3, 1] and all(not v.objects for v in videos)


# ------------------------------------------------------------------ vosconv's own files


def test_davis_void_and_youtube_vos_unannotated_frames_come_back(sample_root, tmp_path):
    """vosconv's cocovid images say whether they were annotated and carry the void: both read back exactly."""
    davis, valid = tmp_path / "davis.cocovid.json", tmp_path / "valid.cocovid.json"
    api.convert(sample_root["davis"], davis, to="cocovid", from_="davis", reader_options={"split": "train"})
    api.convert(sample_root["youtube-vos"], valid, to="cocovid", from_="youtube-vos", reader_options={"split": "valid"})
    _, videos = read(davis)
    voids = [f.masks.void for v in videos for f in v.frames if f.masks is not None and f.masks.void is not None]
    assert len(voids) == 5 and all(m.object_id == VOID_ID for m in voids)
    source = list(api.read_videos(sample_root["davis"], format="davis", split="train"))
    assert [[f.masks for f in v.frames] for v in videos] == [[f.masks for f in v.frames] for v in source]
    _, videos = read(valid)
    source = list(api.read_videos(sample_root["youtube-vos"], format="youtube-vos", split="valid"))
    assert [v.annotated_indices for v in videos] == [v.annotated_indices for v in source]
    assert any(len(v.annotated_indices) < len(v.frames) for v in videos)


def test_objects_without_a_category_or_a_mask_come_back(tmp_path):
    """The placeholder "object" category reads back as none; an object with no mask on any frame is still listed."""
    document = ytvis_2019_document()
    corner = {"size": [6, 8], "counts": [0, 1, 47]}  # the top-left pixel, clear of the video's other mask
    document["annotations"] += [
        {"id": 4, "video_id": 3, "category_id": None, "iscrowd": 0, "segmentations": [corner]},
        {"id": 5, "video_id": 3, "category_id": 1, "iscrowd": 0, "segmentations": [None]},
    ]
    root = write_2019(tmp_path / "root", document)
    out = tmp_path / "out.cocovid.json"
    api.convert(root, out, to="cocovid", from_="ytvis")
    assert [c["name"] for c in json.loads(out.read_text())["categories"]] == ["person", "giant_panda", "object"]
    info, videos = read(out)
    assert [c.name for c in info.categories] == ["person", "giant_panda"]
    assert [(o.object_id, o.category_id) for o in videos[1].objects] == [(1, 2), (2, None), (3, 1)]
    assert [m.object_id for m in videos[1].frames[0].masks.objects] == [1, 2]


def test_detection_says_cocovid_for_mmdets_and_vosconvs_files(sample_root, tmp_path):
    path, _ = write_mmdet(tmp_path)
    own = tmp_path / "own.cocovid.json"
    api.convert(sample_root["mose"], own, to="cocovid", from_="mose", reader_options={"split": "train"})
    assert api.detect(path) == "cocovid" and "frame_id" in CocoVidReader.sniff(path).reason
    assert api.detect(own) == "cocovid" and CocoVidReader.sniff(own).reason == "a vosconv CocoVID JSON"
    assert CocoVidReader.sniff(tmp_path / "ytvis_2019" / "train.json").score == 0
    coco = tmp_path / "from-cocovid.json"  # its header names its source's format, cocovid: still a coco file
    api.convert(own, coco, to="coco", from_="cocovid")
    assert api.detect(coco) == "coco" and CocoVidReader.sniff(coco).score == 0


# ------------------------------------------------------------------ bad input


def _first_annotation_of(data: dict, image_id: int) -> dict:
    return next(a for a in data["annotations"] if a["image_id"] == image_id)


BAD_FILES = {
    "two images with one id": (lambda d: d["images"][1].update(id=1), r"images/1: two images share the id 1"),
    "an image of no video": (lambda d: d["images"][0].update(video_id=99), r"images/0: video id 99 is not in videos"),
    "two images of one frame": (lambda d: d["images"][1].update(frame_id=0), r"images/1: two images are frame 0 of video 7"),
    "an annotation of no image": (lambda d: d["annotations"][0].update(image_id=99), r"annotations/0: image id 99 is not in"),
    "an annotation without instance_id": (
        lambda d: d["annotations"][0].pop("instance_id"),
        r"annotations/0/instance_id: no instance_id",
    ),
    "instance_id 0": (lambda d: d["annotations"][0].update(instance_id=0), r"annotations/0/instance_id: no instance_id"),
    "a track twice on one frame": (
        lambda d: d["annotations"].append({**d["annotations"][0], "id": 99}),
        r"instance 1 has two annotations on frame 0 of video 7",
    ),
    "a category not in the table": (
        lambda d: d["annotations"][0].update(category_id=9),
        r"annotations/0: category id 9 is not in the file's categories",
    ),
    "a track changing category": (
        lambda d: _first_annotation_of(d, 3).update(category_id=2),
        r"instance 1 is category 2 here and 1 elsewhere",
    ),
    "an annotation in another video than its image": (
        lambda d: d["annotations"][0].update(video_id=3),
        r"annotations/0: video id 3 differs from its image's, 7",
    ),
    "an RLE of another size": (
        lambda d: d["annotations"][0]["segmentation"].update(size=[6, 9]),
        r"video '0a1b2c3d4e'.*segmentation size \[6, 9\] differs from the video's \[6, 8\]",
    ),
    "no images": (lambda d: d.pop("images"), r'not a CocoVID JSON: expected "images" to be a list'),
    "a category id that is a list": (
        lambda d: d["categories"][0].update(id=[1]),
        r"categories/0/id: expected an integer, got \[1\]",
    ),
    "an annotation's category id that is a list": (
        lambda d: d["annotations"][0].update(category_id=[1]),
        r"annotations/0/category_id: expected an integer",
    ),
    "an RLE without counts": (
        lambda d: d["annotations"][0]["segmentation"].pop("counts"),
        r"video '0a1b2c3d4e'.*an RLE segmentation without counts",
    ),
    "an RLE size that is a number": (
        lambda d: d["annotations"][0]["segmentation"].update(size=5),
        r"segmentation size 5 is not a \[height, width\] pair",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_input_names_the_file_and_the_cause(tmp_path, case):
    change, says = BAD_FILES[case]
    path, _ = write_mmdet(tmp_path)
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError, match=says) as caught:
        read(path)
    assert caught.value.path == str(path)


def test_tracks_that_would_expand_far_beyond_the_file_are_refused(tmp_path, monkeypatch):
    """Each track gets a slot per frame of its video: many one-frame tracks over a long video are refused, not expanded."""
    from converters.formats.cocovid import tracks as cocovid_tracks

    frames = 40
    data = {
        "videos": [{"id": 1, "name": "v", "width": 4, "height": 3}],
        "images": [{"id": i, "video_id": 1, "frame_id": i, "file_name": f"v/{i:05d}.jpg"} for i in range(frames)],
        "annotations": [
            {"id": i, "image_id": i, "instance_id": i + 1, "category_id": 1, "segmentation": {"size": [3, 4], "counts": "<"}}
            for i in range(frames)
        ],
        "categories": [{"id": 1, "name": "a"}],
    }
    path = tmp_path / "wide.json"
    path.write_text(json.dumps(data))
    assert len(read(path)[1][0].objects) == frames  # 1,600 slots: read
    monkeypatch.setattr(cocovid_tracks, "MAX_TRACK_SLOTS", 1000)
    monkeypatch.setattr(cocovid_tracks, "TRACK_SLOTS_PER_ANNOTATION", 8)
    with pytest.raises(SourceError, match="40 tracks over videos of up to 40 frames would take 1600 per-frame slots"):
        read(path)


def test_video_metadata_and_mask_values_survive_cocovid(tmp_path):
    """BURST's sequence fields and is_gt/score come back from vosconv's own CocoVID file."""
    from ..burstdata import document, write_json

    source = write_json(tmp_path / "all_classes.json", document())
    out = tmp_path / "out.cocovid.json"
    api.convert(source, out, to="cocovid", from_="burst")
    want, got = list(api.read_videos(source, "burst")), list(api.read_videos(out, "cocovid"))
    assert [v.metadata for v in got] == [v.metadata for v in want] and any(v.metadata for v in want)
    values = [[[m.values for m in f.masks.objects] for f in v.frames if f.masks is not None] for v in want]
    assert [[[m.values for m in f.masks.objects] for f in v.frames if f.masks is not None] for v in got] == values
    assert any(any(any(frame) for frame in video) for video in values)


# ------------------------------------------------------------------ never the whole file


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_a_big_file_is_read_an_element_at_a_time_never_whole(tmp_path, monkeypatch, suffix):
    """The document was loaded whole (json.load: several times the file's size in Python objects) and its tracks
    gathered in memory; now each video, image and annotation is parsed on its own through a window of the text
    (gzip unpacked as it is read), segmentations set aside on disk, and tracks put together a video at a time."""
    path = tmp_path / f"youtube_vis_2019_train{suffix}"
    size, peak, names = listing_peak(CocoVidReader, convert_vis(many_videos_document()), path, monkeypatch)
    assert names == [f"v{number:04d}" for number in range(1, 1001)]
    held = size // 2  # a few numbers per image and annotation are kept: here 3,000 images and 2,000 annotations
    assert size > 6 << 20 and peak < held, f"{peak} bytes at once for a file of {size}"


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_the_order_of_the_top_level_keys_does_not_matter(tmp_path, suffix):
    """Read an element at a time, annotations may come before the images and videos they name, and the categories
    they are checked against last; a gzip file reads the same."""
    path, frames = write_mmdet(tmp_path)
    expected = read(path, images=str(frames))
    document = json.loads(path.read_text())
    backwards = json.dumps(dict(reversed(list(document.items())))).encode()
    assert backwards.startswith(b'{"annotations"')
    other = tmp_path / f"backwards{suffix}"
    other.write_bytes(gzip.compress(backwards) if suffix == ".json.gz" else backwards)
    assert read(other, images=str(frames)) == expected


# ------------------------------------------------------------------ the conformance suite


class TestMmdetCocoVidThroughEveryFormat(ReaderSuite):
    reader = "cocovid"

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls, tmp_path_factory):
        path, frames = write_mmdet(tmp_path_factory.mktemp("cocovid"))
        return path, {"images": str(frames)}
