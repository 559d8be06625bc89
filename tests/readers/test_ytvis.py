"""The ytvis reader: YouTube-VIS 2019 and 2021, OVIS and LV-VIS files and folders, checked against pycocotools and
Mask2Former's ``load_ytvis_json`` replayed, through every format, and its bad input."""

from __future__ import annotations

import gzip
import json
import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask

from converters import api
from converters.codecs import labels
from converters.errors import SourceError
from converters.formats.ytvis.reader import YtvisReader
from converters.testing.suite import ReaderSuite

HEIGHT, WIDTH = 6, 8
#: The first entries of each year's table, as Mask2Former's YTVIS_CATEGORIES_2019 / _2021 give them: id 1 differs.
CATEGORIES_2019 = [
    {"id": 1, "name": "person", "supercategory": "object"},
    {"id": 2, "name": "giant_panda", "supercategory": "object"},
]
CATEGORIES_2021 = [{"id": 1, "name": "airplane", "supercategory": "object"}, {"id": 2, "name": "bear", "supercategory": "object"}]


def binary(rows: slice, cols: slice) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    mask[rows, cols] = 1
    return mask


def compressed(mask: np.ndarray) -> dict:
    encoded = coco_mask.encode(np.asfortranarray(mask))
    return {"size": [HEIGHT, WIDTH], "counts": encoded["counts"].decode()}


def uncompressed(mask: np.ndarray) -> dict:
    """Run lengths as a list, column-major, starting with zeros: how YouTube-VIS's and labelme's tools write them."""
    flat = mask.flatten(order="F")
    runs, current, length = [], 0, 0
    for value in flat:
        if value != current:
            runs.append(length)
            current, length = value, 0
        length += 1
    runs.append(length)
    return {"size": [HEIGHT, WIDTH], "counts": runs}


def box(mask: np.ndarray) -> list[int] | None:
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)] if len(xs) else None


#: A polygon (x, y pairs) covering columns 1-3 of rows 3-4 once rasterised by pycocotools.
POLYGON = [[1.0, 3.0, 4.0, 3.0, 4.0, 5.0, 1.0, 5.0]]


def track(annotation_id: int, video_id: int, category_id: int, segmentations: list, **extra) -> dict:
    """An annotation as YouTube-VIS writes it, areas and boxes beside each segmentation."""
    masks = [None if s is None else coco_mask.decode(_compressed_any(s)) for s in segmentations]
    return {
        "id": annotation_id,
        "video_id": video_id,
        "category_id": category_id,
        "iscrowd": 0,
        "segmentations": segmentations,
        "areas": [None if m is None else int(m.sum()) for m in masks],
        "bboxes": [None if m is None else box(m) for m in masks],
        **extra,
    }


def _compressed_any(segmentation) -> dict:
    if isinstance(segmentation, list):
        return coco_mask.merge(coco_mask.frPyObjects(segmentation, HEIGHT, WIDTH))
    if isinstance(segmentation["counts"], list):
        return coco_mask.frPyObjects(segmentation, HEIGHT, WIDTH)
    return {"size": segmentation["size"], "counts": segmentation["counts"].encode()}


def ytvis_2019_document() -> dict:
    """Two videos: one at every 5th frame (2019's sparse file_names) with all three encodings and nulls, one of one frame."""
    first, second = binary(slice(1, 3), slice(2, 5)), binary(slice(0, 2), slice(6, 8))
    return {
        "info": {"description": "YouTube-VOS", "version": "1.0"},
        "licenses": [],
        "videos": [
            {
                "id": 7,
                "width": WIDTH,
                "height": HEIGHT,
                "length": 3,
                "date_captured": "2019-04-11 00:55:41.903902",
                "license": 1,
                "file_names": ["0a1b2c3d4e/00000.jpg", "0a1b2c3d4e/00005.jpg", "0a1b2c3d4e/00010.jpg"],
            },
            {"id": 3, "width": WIDTH, "height": HEIGHT, "length": 1, "file_names": ["ff25f55852/00000.jpg"]},
        ],
        "annotations": [
            track(1, 7, 1, [compressed(first), None, uncompressed(first)]),
            track(2, 7, 2, [None, POLYGON, compressed(second)]),
            track(3, 3, 2, [uncompressed(second)]),
        ],
        "categories": CATEGORIES_2019,
    }


def write_frames(folder: Path, document: dict) -> None:
    """A small distinct JPEG for every listed frame under ``folder``."""
    for video in document["videos"]:
        for number, name in enumerate(video["file_names"]):
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (video["width"], video["height"]), (number * 40, video["id"], 90)).save(path, quality=90)


def write_2019(root: Path, document: dict | None = None, split: str = "train") -> Path:
    """``{split}.json`` and ``{split}/JPEGImages/`` under ``root``, as Mask2Former's builtin.py registers 2019."""
    document = document or ytvis_2019_document()
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{split}.json").write_text(json.dumps(document))
    write_frames(root / split / "JPEGImages", document)
    return root


def ytvis_2021_document() -> dict:
    document = ytvis_2019_document()
    document["categories"] = CATEGORIES_2021
    return document


def write_2021(root: Path, splits: tuple[str, ...] = ("train",)) -> Path:
    """``{split}/instances.json`` and ``{split}/JPEGImages/``: the official 2021 and 2022 layout."""
    for split in splits:
        document = ytvis_2021_document()
        (root / split).mkdir(parents=True)
        (root / split / "instances.json").write_text(json.dumps(document))
        write_frames(root / split / "JPEGImages", document)
    return root


def read(source, **options):
    with YtvisReader(source, YtvisReader.Options(**options)) as reader:
        info = reader.info()
        return info, [reader.read_video(ref) for ref in reader.list_videos()]


def label(video, index: int) -> np.ndarray:
    return labels.label_map(video, video.frames[index].masks)


# ------------------------------------------------------------------ what is read


def test_a_2019_root_reads_every_encoding_and_keeps_the_sparse_frame_names(tmp_path):
    root = write_2019(tmp_path / "ytvis_2019")
    info, videos = read(root)
    assert info.source_format == "ytvis" and info.split == "train"
    assert [(c.id, c.name) for c in info.categories] == [(1, "person"), (2, "giant_panda")]
    assert info.image_root == str((root / "train" / "JPEGImages").resolve())
    assert [v.name for v in videos] == ["0a1b2c3d4e", "ff25f55852"]
    video = videos[0]
    assert [f.file_name for f in video.frames] == ["00000.jpg", "00005.jpg", "00010.jpg"]  # every 5th, as listed
    assert video.annotated_indices == (0, 1, 2)
    assert [(o.object_id, o.category_id) for o in video.objects] == [(1, 1), (2, 2)]
    first, second = binary(slice(1, 3), slice(2, 5)), binary(slice(0, 2), slice(6, 8))
    polygon = coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects(POLYGON, HEIGHT, WIDTH)))
    np.testing.assert_array_equal(label(video, 0), first)  # compressed RLE; object 2 absent (null)
    np.testing.assert_array_equal(label(video, 1), 2 * polygon)  # object 1 null, object 2 a polygon
    np.testing.assert_array_equal(label(video, 2), first + 2 * second)  # uncompressed RLE, compressed RLE
    assert video.frames[1].image.path == str((root / "train" / "JPEGImages" / "0a1b2c3d4e" / "00005.jpg").resolve())
    for frame in video.frames:  # byte-identical to pycocotools' encoder
        for mask in frame.masks.objects:
            decoded = coco_mask.decode({"size": [HEIGHT, WIDTH], "counts": mask.counts.encode()})
            assert mask.counts == coco_mask.encode(np.asfortranarray(decoded))["counts"].decode()


def load_ytvis_json(json_file: Path, image_root: Path) -> list[dict]:
    """Mask2Former's ``load_ytvis_json`` (mask2former_video/data_video/datasets/ytvis.py), replayed without detectron2:
    the YTVOS index, then per video and frame the objects whose bbox and segmentation are both truthy, uncompressed
    RLE through ``frPyObjects``, polygons of fewer than 6 coordinates dropped, categories mapped to contiguous ids."""
    dataset = json.loads(json_file.read_text())
    vid_to_anns: dict[int, list] = {}
    for ann in dataset.get("annotations") or []:
        vid_to_anns.setdefault(ann["video_id"], []).append(ann)
    cat_ids = sorted(c["id"] for c in dataset["categories"])
    id_map = {v: i for i, v in enumerate(cat_ids)}
    records = []
    for vid in sorted(dataset["videos"], key=lambda v: v["id"]):
        record = {"file_names": [str(image_root / vid["file_names"][i]) for i in range(vid["length"])], "annotations": []}
        for frame_idx in range(vid["length"]):
            frame_objs = []
            for anno in vid_to_anns.get(vid["id"], []):
                bboxes, segm = anno.get("bboxes"), anno.get("segmentations")
                if not (bboxes and segm and bboxes[frame_idx] and segm[frame_idx]):
                    continue
                segm = segm[frame_idx]
                if isinstance(segm, dict) and isinstance(segm["counts"], list):
                    segm = coco_mask.frPyObjects(segm, *segm["size"])
                elif not isinstance(segm, dict):
                    segm = [poly for poly in segm if len(poly) % 2 == 0 and len(poly) >= 6]
                frame_objs.append({"id": anno["id"], "category_id": id_map[anno["category_id"]], "segmentation": segm})
            record["annotations"].append(frame_objs)
        records.append(record)
    return records


def as_binary(segmentation) -> np.ndarray:
    if isinstance(segmentation, list):
        return coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects(segmentation, HEIGHT, WIDTH)))
    counts = segmentation["counts"]
    return coco_mask.decode({"size": segmentation["size"], "counts": counts.encode() if isinstance(counts, str) else counts})


def test_every_mask_is_the_one_mask2formers_loader_sees(tmp_path):
    """Frame by frame, the objects Mask2Former trains on are the objects read, pixel for pixel, and no more."""
    root = write_2019(tmp_path / "ytvis_2019")
    _, videos = read(root)
    by_first_frame = {v.frames[0].image.path: v for v in videos}
    object_ids, per_video = {}, {}  # annotation id -> object id: numbered in the order of their video's annotations
    for annotation in ytvis_2019_document()["annotations"]:
        per_video[annotation["video_id"]] = per_video.get(annotation["video_id"], 0) + 1
        object_ids[annotation["id"]] = per_video[annotation["video_id"]]
    for record in load_ytvis_json(root / "train.json", (root / "train" / "JPEGImages").resolve()):
        video = by_first_frame[record["file_names"][0]]
        assert [f.image.path for f in video.frames] == record["file_names"]
        for frame, objects in zip(video.frames, record["annotations"]):
            assert len(frame.masks.objects) == len(objects)
            for obj in objects:
                mask = frame.masks.get(object_ids[obj["id"]])
                decoded = coco_mask.decode({"size": [HEIGHT, WIDTH], "counts": mask.counts.encode()})
                np.testing.assert_array_equal(decoded, as_binary(obj["segmentation"]))


def test_2019_and_2021_keep_their_own_class_tables(tmp_path):
    """Id 1 is person in 2019 and airplane in 2021: each file's table is kept, through a conversion too."""
    info_2019, videos_2019 = read(write_2019(tmp_path / "ytvis_2019"))
    info_2021, videos_2021 = read(write_2021(tmp_path / "ytvis_2021"))
    assert {c.id: c.name for c in info_2019.categories}[1] == "person"
    assert {c.id: c.name for c in info_2021.categories}[1] == "airplane"
    assert [o.category_id for o in videos_2021[0].objects] == [o.category_id for o in videos_2019[0].objects] == [1, 2]
    out = tmp_path / "out.json"
    api.convert(tmp_path / "ytvis_2021", out, to="coco", workers=1)
    assert json.loads(out.read_text())["categories"] == CATEGORIES_2021


def test_a_2021_split_folder_its_json_and_a_root_of_splits(tmp_path):
    root = write_2021(tmp_path / "ytvis_2021", ("train", "valid"))
    for source, options in ((root / "train", {}), (root / "train" / "instances.json", {}), (root, {"split": "train"})):
        info, videos = read(source, **options)
        assert info.split == "train" and len(videos) == 2
        assert info.image_root == str((root / "train" / "JPEGImages").resolve())
    with pytest.raises(SourceError, match=r"holds several splits \(train, valid\); choose one with --split") as caught:
        read(root)
    assert caught.value.path == str(root)
    with pytest.raises(SourceError, match=r"no YouTube-VIS JSON for split 'test' \(splits here: train, valid\)"):
        read(root, split="test")


def test_an_ovis_root_finds_its_json_in_annotations_and_its_frames_under_the_split(tmp_path):
    """OVIS as DVIS registers it: annotations/annotations_{split}.json, frames under {split}/ (named img_0000001.jpg)."""
    document = ytvis_2019_document()
    for video in document["videos"]:
        folder = video["file_names"][0].split("/")[0]
        video["file_names"] = [f"{folder}/img_{i + 1:07d}.jpg" for i in range(len(video["file_names"]))]
    root = tmp_path / "OVIS"
    (root / "annotations").mkdir(parents=True)
    (root / "annotations" / "annotations_train.json").write_text(json.dumps(document))
    write_frames(root / "train", document)
    assert api.detect(root) == "ytvis"
    info, videos = read(root)
    assert info.split == "train" and info.image_root == str((root / "train").resolve())
    assert [f.file_name for f in videos[0].frames] == ["img_0000001.jpg", "img_0000002.jpg", "img_0000003.jpg"]
    assert all(Path(f.image.path).is_file() for v in videos for f in v.frames)
    _, from_file = read(root / "annotations" / "annotations_train.json")
    assert from_file == videos


def test_an_lvvis_root_finds_its_frames_under_jpegimages_split(tmp_path):
    """LV-VIS's README: train_instances.json / val_instances.json beside JPEGImages/{train,val}/."""
    document = ytvis_2019_document()
    root = tmp_path / "lvvis"
    root.mkdir()
    (root / "val_instances.json").write_text(json.dumps(document))
    write_frames(root / "JPEGImages" / "val", document)
    info, videos = read(root)
    assert info.split == "val" and info.image_root == str((root / "JPEGImages" / "val").resolve())
    assert all(Path(f.image.path).is_file() for v in videos for f in v.frames)


def test_without_its_frames_it_says_where_it_looked_and_images_overrides(tmp_path):
    document = ytvis_2019_document()
    path = tmp_path / "train.json"
    path.write_text(json.dumps(document))
    with YtvisReader(path) as reader:
        assert reader.info().image_root is None
        assert "its frames were not found (looked in" in reader.missing_images()
        assert str(tmp_path / "train" / "JPEGImages") in reader.missing_images()
    frames = tmp_path / "elsewhere"
    write_frames(frames, document)
    info, videos = read(path, images=str(frames))
    assert info.image_root == str(frames.resolve()) and Path(videos[1].frames[0].image.path).is_file()


def test_a_crowd_track_keeps_iscrowd_and_uninexts_ori_id_is_the_object_id(tmp_path):
    document = ytvis_2019_document()
    document["annotations"][1]["iscrowd"] = 1
    document["annotations"][2]["ori_id"] = "3"  # UNINEXT's DAVIS conversion: the object's pixel value
    _, videos = read(write_2019(tmp_path / "root", document))
    assert videos[0].objects[1].get("iscrowd") == 1 and videos[0].objects[0].get("iscrowd") is None
    assert [o.object_id for o in videos[1].objects] == [3]


def test_annotations_absent_annotate_no_frame_and_an_empty_list_annotates_every_frame_empty(tmp_path):
    """A valid or test split without annotations is not a split of empty frames; an empty list says there is no object."""
    document = ytvis_2019_document()
    del document["annotations"]
    path = tmp_path / "valid.json"
    path.write_text(json.dumps(document))
    _, videos = read(path)
    assert all(f.masks is None for v in videos for f in v.frames)
    document["annotations"] = []
    path.write_text(json.dumps(document))
    _, videos = read(path)
    assert all(f.masks is not None and not f.masks.objects for v in videos for f in v.frames)


# ------------------------------------------------------------------ never the whole file


def many_videos_document(videos: int = 1000, counts: int = 3000) -> dict:
    """Hundreds of videos whose masks are long strings: listing them never decodes one, so they need not be masks."""
    document = {"info": {"description": "big"}, "videos": [], "annotations": [], "categories": CATEGORIES_2019}
    for number in range(1, videos + 1):
        names = [f"v{number:04d}/{frame:05d}.jpg" for frame in range(3)]
        document["videos"].append({"id": number, "width": WIDTH, "height": HEIGHT, "length": 3, "file_names": names})
        rle = {"size": [HEIGHT, WIDTH], "counts": chr(48 + number % 60) * counts}
        document["annotations"].append(track_record(number, number, [rle, None, rle]))
    return document


def track_record(annotation_id: int, video_id: int, segmentations: list) -> dict:
    """A track's record, its areas and boxes made up (only its masks are read)."""
    areas = [None if s is None else 1 for s in segmentations]
    boxes = [None if s is None else [0, 0, 1, 1] for s in segmentations]
    record = {"id": annotation_id, "video_id": video_id, "category_id": 1, "iscrowd": 0, "segmentations": segmentations}
    return {**record, "areas": areas, "bboxes": boxes}


def traced_peak(call) -> int:
    """The most memory Python allocated while ``call`` ran."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def listing_peak(reader_class, document: dict, path: Path, monkeypatch) -> tuple[int, int, list[str]]:
    """(the bytes of the document's text, the most memory Python held while the reader listed its videos, their
    names): the document written to ``path`` (gzipped for ``.gz``) and read through a 64 KiB window."""
    from converters.sources import jsonscan

    text = json.dumps(document).encode()
    path.write_bytes(gzip.compress(text) if path.name.endswith(".gz") else text)
    monkeypatch.setattr(jsonscan, "WINDOW", 1 << 16)
    with reader_class(path) as reader:
        peak = traced_peak(reader.list_videos)
        names = [ref.name for ref in reader.list_videos()]
    return len(text), peak, names


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_a_big_file_is_read_a_record_at_a_time_never_whole(tmp_path, monkeypatch, suffix):
    """The document was loaded whole (json.load: several times the file's size in Python objects, before it was
    rewritten); now each video and annotation is parsed on its own, through a window of the text, gzip unpacked as
    it is read: what is held at once follows the window and the largest record, not the file."""
    size, peak, names = listing_peak(YtvisReader, many_videos_document(), tmp_path / f"train{suffix}", monkeypatch)
    assert names == [f"v{number:04d}" for number in range(1, 1001)]
    assert size > 6 << 20 and peak < size // 4, f"{peak} bytes at once for a file of {size}"


def test_the_order_of_the_top_level_keys_does_not_matter(tmp_path):
    """Read a record at a time, the file's keys come in any order: info (which says whose file it is, and so whether
    iscrowd is carried as metadata) may come after the annotations, and videos after them too."""
    document = ytvis_2019_document()
    document["annotations"][1]["iscrowd"] = 1
    document["annotations"][2]["ori_id"] = "3"
    first = tmp_path / "first" / "train.json"
    first.parent.mkdir()
    first.write_text(json.dumps(document))
    last = tmp_path / "last" / "train.json"
    last.parent.mkdir()
    last.write_text(json.dumps(dict(reversed(list(document.items())))))
    assert last.read_text().startswith('{"categories"')
    frames = tmp_path / "frames"
    write_frames(frames, document)
    expected = read(first, images=str(frames))
    assert read(last, images=str(frames)) == expected
    assert expected[1][0].objects[1].get("iscrowd") == 1 and [o.object_id for o in expected[1][1].objects] == [3]


def test_null_videos_or_annotations_are_empty_lists_not_a_traceback(tmp_path):
    """``"videos": null`` passed the type check (null is read as an empty list) and then stopped the length check
    with a TypeError; now it is a file of no video, as ``[]`` is."""
    path = tmp_path / "train.json"
    path.write_text(json.dumps({"videos": None, "annotations": None, "categories": None}))
    assert read(path)[1] == []


# ------------------------------------------------------------------ detection


def test_detection_tells_ytvis_from_vosconvs_coco_and_cocovid(tmp_path, sample_root):
    root = write_2019(tmp_path / "ytvis_2019")
    assert api.detect(root / "train.json") == "ytvis"
    assert api.detect(root) == "ytvis"
    assert "train.json" in YtvisReader.sniff(root).reason
    own, cocovid = tmp_path / "own.json", tmp_path / "own.cocovid.json"
    api.convert(sample_root["mose"], own, to="coco", reader_options={"split": "valid"})
    api.convert(sample_root["mose"], cocovid, to="cocovid", reader_options={"split": "valid"})
    assert api.detect(own) == "coco" and YtvisReader.sniff(own).score == 0
    assert api.detect(cocovid) == "cocovid" and YtvisReader.sniff(cocovid).score == 0
    assert api.detect(write_2021(tmp_path / "ytvis_2021") / "train") == "ytvis"


def test_the_coco_reader_still_reads_a_ytvis_file_as_before(tmp_path):
    """Files converted with --from coco before ytvis existed read the same through either name."""
    root = write_2019(tmp_path / "ytvis_2019")
    coco = list(api.read_videos(root / "train.json", format="coco"))
    _, videos = read(root / "train.json", images=str(root / "train" / "JPEGImages"))
    assert [[f.masks for f in v.frames] for v in coco] == [[f.masks for f in v.frames] for v in videos]


# ------------------------------------------------------------------ bad input


BAD_DOCUMENTS = {
    "segmentations not one per frame": (
        lambda d: d["annotations"][0].update(segmentations=[None, None]),
        r"video '0a1b2c3d4e'.*annotation 1: object 1 has 2 segmentations for 3 frames",
    ),
    "a category id not in the table": (
        lambda d: d["annotations"][1].update(category_id=9),
        r"video '0a1b2c3d4e': object 2 has category id 9, which is not in the file's categories",
    ),
    "an RLE of another size": (
        lambda d: d["annotations"][0]["segmentations"][0].update(size=[HEIGHT, WIDTH + 1]),
        r"video '0a1b2c3d4e'.*frame 0: segmentation size \[6, 9\] differs from the video's \[6, 8\]",
    ),
    "an RLE without counts": (
        lambda d: d["annotations"][0]["segmentations"][0].pop("counts"),
        r"video '0a1b2c3d4e'.*frame 0: an RLE segmentation without counts",
    ),
    "a polygon with an odd number of coordinates": (
        lambda d: d["annotations"][1]["segmentations"].__setitem__(1, [[1.0, 3.0, 4.0, 3.0, 4.0, 5.0, 1.0]]),
        r"video '0a1b2c3d4e'.*frame 1: polygon 1 is not a list of at least 3 x, y pairs",
    ),
    "two videos with one id": (
        lambda d: d["videos"][1].update(id=7),
        r"two videos share the id 7",
    ),
    "a length that is not the number of file_names": (
        lambda d: d["videos"][0].update(length=4),
        r"videos/0 \(id 7\): length 4 but 3 file_names",
    ),
    "an annotation of no video": (
        lambda d: d["annotations"][2].update(video_id=99),
        r"annotations refer to unknown video id 99",
    ),
    "a CocoVID document": (
        lambda d: d.update(images=[{"id": 1, "video_id": 7, "frame_id": 0}], videos=[{"id": 7, "name": "v"}]),
        r"a CocoVID file .* read it with --from cocovid",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_bad_input_names_the_file_and_the_cause(tmp_path, case):
    change, says = BAD_DOCUMENTS[case]
    document = ytvis_2019_document()
    change(document)
    path = tmp_path / "train.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SourceError, match=says) as caught:
        read(tmp_path)
    assert caught.value.path == str(path)


def test_a_folder_without_a_ytvis_json_is_refused_naming_what_it_looked_for(tmp_path):
    with pytest.raises(SourceError, match=re.escape("looked for {split}.json, {split}/instances.json")):
        YtvisReader(tmp_path)
    with pytest.raises(SourceError, match="is the train split's JSON, not valid's"):
        YtvisReader(write_2019(tmp_path / "r") / "train.json", YtvisReader.Options(split="valid"))


# ------------------------------------------------------------------ the conformance suite


class TestYoutubeVis2019ThroughEveryFormat(ReaderSuite):
    reader = "ytvis"

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls, tmp_path_factory):
        return write_2019(tmp_path_factory.mktemp("ytvis") / "ytvis_2019"), {}


class TestYoutubeVis2021ThroughEveryFormat(ReaderSuite):
    reader = "ytvis"

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls, tmp_path_factory):
        return write_2021(tmp_path_factory.mktemp("ytvis") / "ytvis_2021", ("train", "valid")), {"split": "valid"}
