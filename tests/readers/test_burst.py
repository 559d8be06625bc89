"""The burst reader and writer: BURST's JSON (Ali2500/BURST-benchmark ANNOTATION_FORMAT.md) over TAO frames."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pycocotools.mask as cocomask
import pytest

from converters import api
from converters.errors import DetectionError, OptionError, SourceError
from converters.formats.burst.reader import BurstReader
from converters.formats.burst.writer import BurstWriter
from converters.formats.lookalikes import unread_layout
from converters.model import Category, DatasetInfo, Frame, FrameMasks, Video
from converters.run import pipeline
from converters.testing.suite import ReaderSuite
from tests import burstdata
from tests.memsource import convert as convert_memory
from tests.rle_strings import overflowing_string

NUMBERED_FRAMES = "named by frame number"  # TAO frames are frameNNNN.jpg; the folder layouts read numbers only
PALETTE_IDS = "1 to 254"


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> tuple[Path, Path]:
    return burstdata.write_tree(tmp_path_factory.mktemp("burst"))


def read(source, **options):
    with api.open_reader(source, "burst", options) as reader:
        info = reader.info()
        return info, [reader.read_video(ref) for ref in reader.list_videos()]


def converted(source, out: Path, to: str = "burst", from_: str = "burst", **options) -> Path:
    api.convert(source, out, to=to, from_=from_, reader_options=options or None)
    return out


def by_name(sequences: list[dict]) -> list[dict]:
    return sorted(sequences, key=lambda s: (s["dataset"], s["seq_name"]))


def without_record(data: dict) -> dict:
    """The written file less vosconv's own record (where the frames were), sequences in a fixed order."""
    return {**{k: v for k, v in data.items() if k != "vosconv"}, "sequences": by_name(data["sequences"])}


def same_json(written: Path, source: dict) -> None:
    assert without_record(json.loads(written.read_text())) == {**source, "sequences": by_name(source["sequences"])}


class TestBurstThroughEveryFormat(ReaderSuite):
    """Ids beyond 254 and overlapping tracks: the palette layouts refuse them, every other format keeps them."""

    reader = "burst"
    refused = {"mose": NUMBERED_FRAMES, "davis": NUMBERED_FRAMES, "youtube-vos": NUMBERED_FRAMES, "sav": NUMBERED_FRAMES}

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls, tmp_path_factory):
        annotations, frames = burstdata.write_tree(tmp_path_factory.mktemp("burst-suite"))
        return annotations, {"images": str(frames)}


class TestNumberedBurstThroughEveryFormat(ReaderSuite):
    """The same with frames named by number: SA-V's layout holds it all; the palette layouts refuse ids beyond 254."""

    reader = "burst"
    refused = {"mose": PALETTE_IDS, "davis": PALETTE_IDS, "youtube-vos": PALETTE_IDS}

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls, tmp_path_factory):
        annotations, frames = burstdata.write_tree(tmp_path_factory.mktemp("burst-numbered"), numbered=True)
        return annotations / "val" / "all_classes.json", {"images": str(frames)}


# ------------------------------------------------------------------ what is read


def test_sequences_become_videos_named_by_dataset_and_sequence(tree):
    annotations, frames = tree
    info, videos = read(annotations, images=str(frames))
    assert [v.name for v in videos] == ["HACS__bicycle-18", "LaSOT__bicycle-18", "YFCC100M__v_2b0e4fbc_scene_0_0-1346"]
    assert info.split == "val"
    assert [(c.id, c.name) for c in info.categories] == [(95, "bicycle"), (805, "person"), (1001, "suitcase")]
    assert info.image_root == str((frames / "val").resolve())


def test_track_ids_keep_their_value_and_categories(tree):
    annotations, frames = tree
    _, videos = read(annotations, images=str(frames))
    lasot = videos[1]
    assert [(o.object_id, o.category_id) for o in lasot.objects] == [(1, 95), (2, 805), (300, 805)]
    assert [o.object_id for o in videos[2].objects] == [70000]


def test_only_annotated_image_paths_are_annotated(tree):
    """1 fps over 30 fps frames: the other frames are unannotated (None), an annotated frame without tracks is empty."""
    annotations, frames = tree
    _, videos = read(annotations, images=str(frames))
    lasot, yfcc = videos[1], videos[2]
    assert len(lasot.frames) == 61 and lasot.annotated_indices == (0, 30, 60)
    assert lasot.frames[1].masks is None
    assert [m.object_id for m in lasot.frames[30].masks.objects] == [300]  # track 1 absent: no entry
    assert yfcc.frames[30].masks is not None and yfcc.frames[30].masks.objects == ()


def test_masks_are_pycocotools_rle_with_their_values(tree):
    annotations, frames = tree
    _, videos = read(annotations, images=str(frames))
    first = videos[1].frames[0].masks
    source = burstdata.sequences()[0]["segmentations"][0]
    for mask in first.objects:
        rle = {"size": [burstdata.HEIGHT, burstdata.WIDTH], "counts": source[str(mask.object_id)]["rle"].encode()}
        assert mask.counts == source[str(mask.object_id)]["rle"]
        assert mask.area == int(cocomask.area(rle))
        assert list(mask.bbox) == [int(x) for x in cocomask.toBbox(rle)]
    assert first.get(1).values == (("is_gt", True), ("score", 1.0))
    assert first.get(300).values == (("is_gt", False), ("score", 0.75))


def test_sequence_fields_are_the_videos_metadata(tree):
    annotations, frames = tree
    _, videos = read(annotations, images=str(frames))
    assert videos[1].metadata == (
        ("id", 12),
        ("seq_name", "bicycle-18"),
        ("dataset", "LaSOT"),
        ("fps", 30),
        ("neg_category_ids:json", "[1001,3]"),
        ("not_exhaustive_category_ids:json", "[805]"),
    )


def test_frames_come_from_the_split_folder_or_the_folder_given(tree):
    annotations, frames = tree
    _, from_base = read(annotations, images=str(frames))
    _, from_split = read(annotations, images=str(frames / "val"))  # Cutie's image_directory
    assert from_base[0].frames[0].image == from_split[0].frames[0].image
    assert from_base[0].frames[0].image.path == str((frames / "val" / "HACS" / "bicycle-18" / "frame0000.jpg").resolve())


def test_a_lone_json_is_masks_without_frames(tree):
    annotations, _ = tree
    with api.open_reader(annotations / "val" / "all_classes.json", "burst") as reader:
        assert reader.info().image_root is None
        video = reader.read_video(reader.list_videos()[0])
        assert all(f.image is None for f in video.frames)
        assert "no images option" in reader.missing_images()


def test_the_first_frame_file_keeps_bbox_and_point(tree):
    annotations, frames = tree
    _, videos = read(annotations, subset="first_frame_annotations", images=str(frames))
    mask = videos[1].frames[0].masks.get(1)
    assert dict(mask.values) == {"is_gt": True, "score": 1.0, "bbox:json": "[1,2,3,4]", "point:json": "[2,3]"}


def test_categories_from_info_when_the_json_has_none(tmp_path):
    data = burstdata.document()
    del data["categories"]
    burstdata.write_json(tmp_path / "val" / "all_classes.json", data)
    burstdata.write_json(tmp_path / "info" / "categories.json", burstdata.CATEGORIES)
    info, _ = read(tmp_path)
    assert [c.id for c in info.categories] == [95, 805, 1001]
    (tmp_path / "info" / "categories.json").unlink()
    info, videos = read(tmp_path)
    assert info.categories == () and videos[1].objects[0].category_id == 95  # the ids alone


def test_a_root_with_several_splits_needs_one(tmp_path):
    for split in ("val", "test"):
        data = {**burstdata.document(), "split": split}
        burstdata.write_json(tmp_path / split / "all_classes.json", data)
    with pytest.raises(OptionError, match="several splits"):
        read(tmp_path)
    info, _ = read(tmp_path, split="test")
    assert info.split == "test"


# ------------------------------------------------------------------ detection


def test_detected_as_a_file_a_split_folder_and_a_root(tree):
    annotations, _ = tree
    for source in (annotations, annotations / "val", annotations / "val" / "all_classes.json"):
        assert api.detect(source) == "burst"
    assert "BURST annotations: val/all_classes.json" in BurstReader.sniff(annotations).reason


def test_burst_is_no_longer_a_lookalike(tree):
    annotations, _ = tree
    assert unread_layout(annotations) is None
    assert unread_layout(annotations / "val" / "all_classes.json") is None


def test_a_json_named_like_burst_without_sequences_is_not_taken(tmp_path):
    path = tmp_path / "all_classes.json"
    path.write_text('{"videos": [], "annotations": []}')
    detection = BurstReader.sniff(path)
    assert detection.score == 0 and "holds COCO's videos" in detection.reason
    assert api.detect(path) == "coco"


def test_a_burst_file_whose_categories_come_first_is_taken_by_its_name(tmp_path):
    data = burstdata.document()
    data = {"categories": data["categories"] * 2000, "split": "val", "sequences": data["sequences"]}  # beyond the sniffed bytes
    path = burstdata.write_json(tmp_path / "val" / "common_classes.json", data)
    assert b'"sequences"' not in path.read_bytes()[: 1 << 16]
    assert api.detect(path) == "burst"
    assert "named like a BURST file" in BurstReader.sniff(path).reason


def test_a_folder_without_burst_files_says_what_was_looked_for(tmp_path):
    (tmp_path / "val").mkdir()
    with pytest.raises(DetectionError, match="burst: no BURST JSON"):
        api.detect(tmp_path)


# ------------------------------------------------------------------ what is written


def test_burst_to_burst_gives_the_same_json(tree, tmp_path):
    annotations, frames = tree
    out = converted(annotations, tmp_path / "out.burst.json", images=str(frames))
    same_json(out, burstdata.document())
    assert json.loads(out.read_text())["vosconv"]["image_root"] == str((frames / "val").resolve())


def test_the_first_frame_file_round_trips(tree, tmp_path):
    annotations, frames = tree
    out = converted(annotations, tmp_path / "out.burst.json", images=str(frames), subset="first_frame_annotations")
    same_json(out, burstdata.first_frame_document())


@pytest.mark.parametrize(("middle", "name"), [("parquet", "out"), ("hdf5", "out"), ("coco", "out.json")])
def test_burst_through_another_format_and_back_gives_the_same_json(tree, tmp_path, middle, name):
    annotations, frames = tree
    between = converted(annotations, tmp_path / name, to=middle, images=str(frames))
    out = converted(between, tmp_path / "back.burst.json", from_=middle)
    same_json(out, burstdata.document())


def test_written_output_is_read_back_with_its_frames(tree, tmp_path):
    annotations, frames = tree
    out = converted(annotations, tmp_path / "out.burst.json", images=str(frames))
    assert api.detect(out) == "burst"
    _, videos = read(out)
    assert videos[1].frames[0].image.path == str((frames / "val" / "LaSOT" / "bicycle-18" / "frame0000.jpg").resolve())


def test_null_masks_are_left_out(tmp_path):
    """An entry whose mask is empty reads as the track absent and is not written (BURST's scorer penalises it)."""
    data = burstdata.document()
    data["sequences"][0]["segmentations"][1]["1"] = {"rle": burstdata.encode(burstdata.box(0, 0, 0, 0)), "is_gt": True}
    source = burstdata.write_json(tmp_path / "all_classes.json", data)
    _, videos = read(source)
    assert videos[1].frames[30].masks.get(1) is None
    out = converted(source, tmp_path / "out.burst.json")
    same_json(out, burstdata.document())


def test_from_a_folder_layout(sample_root, tmp_path):
    """Track ids from object ids, annotated_image_paths from annotated frames, the frames where the source has them."""
    source = sample_root["youtube-vos"] / "train"
    out = converted(source, tmp_path / "out.burst.json", from_="youtube-vos")
    data = json.loads(out.read_text())
    with api.open_reader(source, "youtube-vos") as reader:
        info = reader.info()
        videos = [reader.read_video(ref) for ref in reader.list_videos()]
    assert data["split"] == info.split
    assert [c["name"] for c in data["categories"]] == [c.name for c in info.categories]
    for video, sequence in zip(videos, data["sequences"]):
        assert sequence["seq_name"] == video.name and sequence["dataset"] == ""
        assert sequence["all_image_paths"] == [f.file_name for f in video.frames]
        assert sequence["annotated_image_paths"] == [f.file_name for f in video.frames if f.masks is not None]
        assert sequence["track_category_ids"] == {str(o.object_id): o.category_id for o in video.objects}
        assert sequence["neg_category_ids"] == [] and sequence["not_exhaustive_category_ids"] == [] and "fps" not in sequence
        for frame, entry in zip((f for f in video.frames if f.masks is not None), sequence["segmentations"]):
            assert entry == {str(m.object_id): {"rle": m.counts} for m in frame.masks.objects}
    assert sorted(s["id"] for s in data["sequences"]) == list(range(1, len(videos) + 1))
    _, back = read(out)  # its frames found again: <image root>/<seq_name>/
    assert all(f.image is not None and Path(f.image.path).is_file() for v in back for f in v.frames)


def test_what_burst_cannot_say_is_kept_apart_in_the_sequence(sample_root, tmp_path):
    """DAVIS's void region and palette go in the sequence's vosconv record, not in BURST's masks; read back the same."""
    source = sample_root["davis"]
    out = converted(source, tmp_path / "out.burst.json", from_="davis", split="val")
    with api.open_reader(source, "davis", {"split": "val"}) as reader:
        videos = [reader.read_video(ref) for ref in reader.list_videos()]
    data = json.loads(out.read_text())
    for video, sequence in zip(videos, data["sequences"], strict=True):
        kept = sequence.get("vosconv", {})
        assert kept.get("palette") == (None if video.palette is None else base64.b64encode(video.palette).decode())
        assert kept.get("void", []) == [[f.index, f.masks.void.counts] for f in video.frames if f.masks and f.masks.void]
        assert all("255" not in frame for frame in sequence["segmentations"])
    assert any(v.has_void for v in videos) and any(v.palette for v in videos)
    _, back = read(out, images=str(source / "DAVIS" / "JPEGImages" / "480p"))
    assert [(v.palette, [f.masks for f in v.frames]) for v in back] == [(v.palette, [f.masks for f in v.frames]) for v in videos]


def test_the_source_s_dataset_attributes_are_read_back(sample_root, tmp_path):
    """What BURST has no field for (DAVIS's split lists, year and resolution; a derived set's record) is in the file's
    vosconv record: read back, DAVIS -> BURST -> DAVIS keeps its lists."""
    source = sample_root["davis"]
    with api.open_reader(source, "davis", {"split": "train"}) as reader:
        info = reader.info()
    assert dict(info.attributes)["split_lists"]
    out = converted(source, tmp_path / "out.burst.json", from_="davis", split="train")
    assert json.loads(out.read_text())["vosconv"]["attributes"] == dict(info.attributes)
    back, _ = read(out)
    assert {k: v for k, v in back.attributes if k != "burst_header"} == dict(info.attributes)
    davis = converted(out, tmp_path / "davis", to="davis", from_="burst", images=str(source / "DAVIS" / "JPEGImages" / "480p"))
    assert sorted(p.relative_to(davis).as_posix() for p in (davis / "ImageSets").rglob("*.txt")) == [
        "ImageSets/2016/train.txt",
        "ImageSets/2017/train.txt",
    ]


def test_a_category_s_supercategory_is_read(tmp_path):
    """LVIS's categories have none; a BURST file vosconv wrote from a source that had them holds them."""
    data = burstdata.document()
    data["categories"][0]["supercategory"] = "vehicle"
    with_super = burstdata.write_json(tmp_path / "all_classes.json", data)
    again = converted(converted(with_super, tmp_path / "x.json", to="coco"), tmp_path / "again.burst.json", from_="coco")
    assert read(again)[0].categories[0].supercategory == "vehicle"


def test_an_empty_supercategory_is_written_as_one(tmp_path):
    """An empty supercategory is one: written, it reads back as "", not as none (it was left out of the file)."""
    table = (Category(1, "a", ""), Category(2, "b"), Category(3, "c", "x"))
    video = Video("v", 8, 6, (Frame(0, "00000.jpg", None, FrameMasks()),))
    convert_memory(DatasetInfo("memory", categories=table), [video], BurstWriter(), tmp_path / "out.burst.json")
    assert read(tmp_path / "out.burst.json")[0].categories == table


def test_recorded_attributes_that_are_not_strings_are_a_source_error(tree, tmp_path):
    annotations, frames = tree
    out = converted(annotations, tmp_path / "out.burst.json", images=str(frames))
    text = out.read_text().replace('"vosconv":{', '"vosconv":{"attributes":{"year":2017},', 1)
    (tmp_path / "edited.json").write_text(text)
    with pytest.raises(SourceError, match=r"edited\.json: vosconv\.attributes: expected an object of strings"):
        read(tmp_path / "edited.json")


def test_what_the_writer_fills_is_read_back_as_no_metadata(sample_root, tmp_path):
    """From a source without BURST's fields the writer fills them (``id`` numbered, ``dataset`` "", ``seq_name`` the
    name, empty category lists): read back, they are none of the source's metadata, so no note reports them lost."""
    source = sample_root["mose"] / "train"
    out = converted(source, tmp_path / "out.burst.json", from_="mose")
    assert json.loads(out.read_text())["vosconv"]["numbered_ids"] == [1, 3]
    _, videos = read(out)
    assert [v.metadata for v in videos] == [(), (), ()]
    summary = api.convert(out, tmp_path / "mose", to="mose", from_="burst")
    assert not [note for note in summary.notes if "metadata" in note]
    again = converted(out, tmp_path / "again.burst.json")
    assert again.read_bytes() == out.read_bytes()


def test_a_real_file_s_default_looking_lists_stay_in_place(tree, tmp_path):
    """YFCC's empty category lists are what the writer fills: no metadata, and written back where they were."""
    annotations, frames = tree
    _, videos = read(annotations, images=str(frames))
    assert videos[2].metadata == (("id", 3), ("seq_name", "v_2b0e4fbc_scene_0_0-1346"), ("dataset", "YFCC100M"), ("fps", 30))
    between = converted(annotations, tmp_path / "out", to="parquet", images=str(frames))
    same_json(converted(between, tmp_path / "back.burst.json", from_="parquet"), burstdata.document())


def test_ids_given_beside_numbered_ones_stay_metadata(sample_root, tmp_path):
    """A source giving some ids: those are its own; only the ones the writer numbered after them are not."""
    parquet = converted(sample_root["mose"] / "train", tmp_path / "pq", to="parquet", from_="mose")
    with api.open_reader(parquet, "parquet") as reader:
        first = reader.list_videos()[0].name
    out = tmp_path / "out.burst.json"
    with api.open_reader(parquet, "parquet") as reader:

        class Given(type(reader)):
            def read_video(self, ref):
                video = super().read_video(ref)
                return dataclasses.replace(video, metadata=(("id", 7),)) if video.name == first else video

        given = Given(reader.source, reader.options)
        pipeline.convert(given, api.open_writer("burst"), out, progress=False)
    assert json.loads(out.read_text())["vosconv"]["numbered_ids"] == [8, 9]
    _, videos = read(out)
    assert [v.metadata for v in videos] == [(("id", 7),), (), ()]


def test_a_bad_numbered_ids_record_is_a_source_error(sample_root, tmp_path):
    out = converted(sample_root["mose"] / "train", tmp_path / "out.burst.json", from_="mose")
    (tmp_path / "edited.json").write_text(out.read_text().replace('"numbered_ids":[1,3]', '"numbered_ids":[1]', 1))
    with pytest.raises(SourceError, match=r"edited\.json: vosconv\.numbered_ids: expected \[first id, last id\]"):
        read(tmp_path / "edited.json")


def test_a_burst_source_writes_no_vosconv_record_in_its_sequences(tree, tmp_path):
    annotations, frames = tree
    out = converted(annotations, tmp_path / "out.burst.json", images=str(frames))
    assert not any("vosconv" in sequence for sequence in json.loads(out.read_text())["sequences"])


def test_the_writer_owns_its_output_only(tree, tmp_path):
    annotations, frames = tree
    out = converted(annotations, tmp_path / "out.burst.json", images=str(frames))
    assert BurstWriter.owns(out)
    assert not BurstWriter.owns(annotations / "val" / "all_classes.json")


# ------------------------------------------------------------------ read back as BURST's own tools read it


def burstapi_load(path: Path) -> list[dict]:
    """``burstapi.BURSTDataset`` and ``BURSTVideo`` replayed (its module imports OpenCV): ``content["sequences"]``,
    ``["categories"]``, ``["split"]``, track ids cast to int, every ``BURSTVideo`` field, masks decoded by
    pycocotools from ``{"size": (height, width), "counts": rle}`` (also Cutie's ``burst_video_reader``)."""
    content = json.loads(path.read_text())
    names = {category["id"]: category["name"] for category in content["categories"]}
    assert content["split"] in ("train", "val", "test")
    videos = []
    for video in content["sequences"]:
        tracks = {int(track): category for track, category in video["track_category_ids"].items()}
        segmentations = [{int(track): entry for track, entry in frame.items()} for frame in video["segmentations"]]
        assert len(segmentations) == len(video["annotated_image_paths"])  # TrackEval's converter asserts it
        size = (video["height"], video["width"])
        masks = [
            {
                track: cocomask.decode({"size": size, "counts": entry["rle"].encode()}).astype(bool)
                for track, entry in frame.items()
            }
            for frame in segmentations
        ]
        for field in ("id", "dataset", "seq_name", "neg_category_ids", "not_exhaustive_category_ids", "all_image_paths"):
            assert field in video, field
        videos.append({"name": f"{video['dataset']}/{video['seq_name']}", "tracks": tracks, "masks": masks, "names": names})
    return videos


def test_burstapi_reads_the_output_as_it_reads_the_source(tree, tmp_path):
    annotations, frames = tree
    out = converted(annotations, tmp_path / "out.burst.json", images=str(frames))
    source, written = burstapi_load(annotations / "val" / "all_classes.json"), burstapi_load(out)
    key = lambda video: video["name"]  # noqa: E731
    for want, got in zip(sorted(source, key=key), sorted(written, key=key), strict=True):
        assert got["tracks"] == want["tracks"] and got["names"] == want["names"]
        assert len(got["masks"]) == len(want["masks"])
        for frame_want, frame_got in zip(want["masks"], got["masks"]):
            assert frame_got.keys() == frame_want.keys()
            assert all((frame_got[t] == frame_want[t]).all() and frame_got[t].any() for t in frame_want)  # none null


def test_burstapi_reads_output_from_another_source(sample_root, tmp_path):
    out = converted(sample_root["mose"] / "train", tmp_path / "out.burst.json", from_="mose")
    assert json.loads(out.read_text())["split"] == "train"
    assert burstapi_load(out)


# ------------------------------------------------------------------ bad input: the file and the cause


def _sequence(data: dict, number: int = 0) -> dict:
    return data["sequences"][number]


def _set(path: tuple, value) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


BAD_SEQUENCES = [
    (
        "rle of another size",
        _set(("sequences", 0, "segmentations", 0, "1", "rle"), burstdata.encode(np.ones((5, 5), np.uint8))),
        r"sequences/0/segmentations/0/1: rle: invalid RLE: it does not describe a 12x20 mask",
    ),
    (
        "segmentations longer than annotated_image_paths",
        lambda d: _sequence(d)["segmentations"].append({}),
        r"sequences/0/segmentations: 4 entries for 3 annotated_image_paths",
    ),
    (
        "track without category",
        _set(("sequences", 0, "segmentations", 0, "9"), {"rle": burstdata.encode(burstdata.box(0, 0, 2, 2))}),
        r"segmentations/0/9: track 9 has a mask but no category in track_category_ids",
    ),
    (
        "annotated frame not a frame",
        _set(("sequences", 0, "annotated_image_paths", 1), "frame9999.jpg"),
        r"annotated_image_paths/1: 'frame9999.jpg' is not one of all_image_paths",
    ),
    (
        "annotated frames out of order",
        lambda d: _sequence(d)["annotated_image_paths"].reverse(),
        r"annotated_image_paths/1: 'frame0030.jpg' is out of all_image_paths' order",
    ),
    (
        "track id with a leading zero",
        lambda d: _sequence(d)["track_category_ids"].update({"07": 95}),
        r"track_category_ids/07: track id '07' is not an integer from 0 to 2147483647",
    ),
    (
        "track id beyond 31 bits",
        lambda d: _sequence(d)["track_category_ids"].update({str(1 << 31): 95}),
        r"track id '2147483648' is not an integer",
    ),
    (
        "category not an integer",
        _set(("sequences", 0, "track_category_ids", "1"), "bicycle"),
        r"track_category_ids/1: expected a category id \(an integer\) or null, got 'bicycle'",
    ),
    ("missing width", lambda d: _sequence(d).pop("width"), r"sequences/0/width: missing"),
    ("absurd size", _set(("sequences", 0, "width"), 10**12), r"frame size 1000000000000x12 is out of range"),
    (
        "frame name with a slash",
        _set(("sequences", 0, "all_image_paths", 5), "a/frame0005.jpg"),
        r"cannot be a file or folder name",
    ),
    ("a value JSON cannot hold", _set(("sequences", 0, "segmentations", 0, "1", "score"), float("inf")), r"score is inf"),
    ("a field named like vosconv's", _set(("sequences", 0, "x:json"), 1), r"a field named 'x:json'"),
    ("frame not an object", _set(("sequences", 0, "segmentations", 1), []), r"segmentations/1: expected an object of track id"),
    (
        "vosconv's void on an unannotated frame",
        _set(("sequences", 0, "vosconv"), {"void": [[1, burstdata.encode(burstdata.box(0, 0, 2, 2))]]}),
        r"sequences/0/vosconv/void/0: frame 1 is not an annotated frame",
    ),
    (
        "vosconv's encoding unknown",
        _set(("sequences", 0, "vosconv"), {"encoding": "jpeg"}),
        r"sequences/0/vosconv: ValueError: 'jpeg' is not a valid MaskEncoding",
    ),
    (
        "hostile counts",
        _set(("sequences", 0, "segmentations", 0, "1", "rle"), overflowing_string([240, 1 << 62, 0])),
        r"segmentations/0/1: rle: invalid RLE",
    ),
]


@pytest.mark.parametrize(("change", "cause"), [case[1:] for case in BAD_SEQUENCES], ids=[case[0] for case in BAD_SEQUENCES])
def test_a_bad_sequence_names_the_file_and_the_cause(tmp_path, change, cause):
    data = burstdata.document()
    change(data)
    path = burstdata.write_json(tmp_path / "all_classes.json", data)
    with pytest.raises(SourceError, match=cause) as error:
        read(path)
    assert error.value.path == str(path)
    assert "LaSOT__bicycle-18" in str(error.value) or "sequences/0" in str(error.value)


def test_a_bad_sequence_is_skipped_alone(tmp_path):
    data = burstdata.document()
    _sequence(data)["segmentations"].append({})
    path = burstdata.write_json(tmp_path / "all_classes.json", data)
    summary = api.convert(path, tmp_path / "out.burst.json", to="burst", from_="burst", on_error="skip")
    written = json.loads((tmp_path / "out.burst.json").read_text())
    assert [s["seq_name"] for s in by_name(written["sequences"])] == ["bicycle-18", "v_2b0e4fbc_scene_0_0-1346"]
    assert "LaSOT__bicycle-18" in summary.errors_file.read_text()


BAD_FILES = [
    ("truncated", lambda text: text[: len(text) // 2], r"sequences/1 \(byte \d+\): the file ends inside it \(truncated\?\)"),
    ("not an object", lambda text: "[" + text + "]", r"not a BURST JSON object"),
    ("no sequences", lambda text: '{"split": "val"}', r"no top-level sequences list"),
    (
        "a sequence that is not an object",
        lambda text: text.replace('"sequences": [', '"sequences": [7, ', 1),
        r"sequences/0 \(byte \d+\): expected an object",
    ),
    ("malformed sequence", lambda text: text.replace('"fps": 30', '"fps": 30,', 1), r"sequences/0 \(byte \d+\): malformed JSON"),
    (
        "bracket in the wrong place",
        lambda text: text.replace('"fps": 30', '"fps": 30]', 1),
        r"sequences/0 \(byte \d+\): malformed JSON: Expecting ',' delimiter",
    ),
    (
        "unterminated string",
        lambda text: text[: text.index('"seq_name"') + 5],
        r"sequences/0 \(byte \d+\): the file ends inside it \(truncated\?\)",
    ),
    ("trailing garbage", lambda text: text + "x", r"malformed JSON at byte \d+: content after the top-level object"),
    ("empty", lambda text: "", r"empty file"),
    (
        "deeply nested",
        lambda text: text.replace('"fps": 30', '"fps": ' + "[" * 100_000 + "]" * 100_000, 1),
        r"sequences/0 \(byte \d+\): nested too deeply",
    ),
    (
        "two sequences named alike",
        lambda text: text.replace('"dataset": "HACS"', '"dataset": "LaSOT"'),
        r"sequences/2/seq_name: a second sequence named 'LaSOT__bicycle-18' \(the first is sequences/0\)",
    ),
    (
        "a sequence name that is a path",
        lambda text: text.replace('"seq_name": "bicycle-18"', '"seq_name": "../x"', 1),
        r"sequences/0/seq_name: '../x' cannot be a folder name",
    ),
]


@pytest.mark.parametrize(("change", "cause"), [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_names_itself_and_the_cause(tmp_path, change, cause):
    path = tmp_path / "all_classes.json"
    path.write_text(change(json.dumps(burstdata.document())))
    with pytest.raises(SourceError, match=cause) as error:
        read(path)
    assert error.value.path == str(path)


def test_bytes_that_are_not_utf8_name_their_place(tmp_path):
    path = tmp_path / "all_classes.json"
    data = json.dumps(burstdata.document()).encode().replace(b"bicycle-18", b"bicycle-\xff8", 1)
    path.write_bytes(data)
    where = data.index(b"\xff")
    with pytest.raises(SourceError, match=rf"not UTF-8 text \(invalid start byte at byte {where}\)"):
        read(path)


def test_a_missing_frame_is_named(tree, tmp_path):
    annotations, frames = tree
    copy = tmp_path / "frames"
    shutil.copytree(frames, copy)
    victim = copy / "val" / "LaSOT" / "bicycle-18" / "frame0007.jpg"
    victim.unlink()
    with pytest.raises(SourceError, match="frame of sequence 'LaSOT__bicycle-18' \\(all_image_paths\\) is missing") as error:
        read(annotations, images=str(copy))
    assert error.value.path == str(victim.resolve())


def test_a_missing_frames_folder_is_named(tree, tmp_path):
    annotations, frames = tree
    copy = tmp_path / "frames"
    shutil.copytree(frames, copy)
    shutil.rmtree(copy / "val" / "HACS")
    with pytest.raises(SourceError, match="the frames folder of sequence 'HACS__bicycle-18' does not exist"):
        read(annotations, images=str(copy))


def test_an_images_folder_that_does_not_exist(tree, tmp_path):
    annotations, _ = tree
    with pytest.raises(SourceError, match="images folder does not exist"):
        read(annotations, images=str(tmp_path / "nowhere"))


def test_a_subset_the_split_lacks(tree):
    annotations, _ = tree
    with pytest.raises(SourceError, match=r"no such file \(this folder has all_classes.json, first_frame_annotations.json\)"):
        read(annotations, subset="common_classes")


def test_the_file_is_never_parsed_whole(tree, monkeypatch):
    """Each sequence is parsed on its own and the top level with sequences emptied: memory follows the largest sequence."""
    from converters.sources import jsonscan

    annotations, frames = tree
    path = annotations / "val" / "all_classes.json"
    largest = max(len(json.dumps(s)) for s in burstdata.sequences())
    parsed: list[int] = []
    real = jsonscan.parse
    monkeypatch.setattr(jsonscan, "parse", lambda data, *args: parsed.append(len(data)) or real(data, *args))
    read(path, images=str(frames))
    assert parsed and max(parsed) <= largest < path.stat().st_size // 2


@pytest.mark.parametrize("window", [1, 7, 64, 1000])
def test_a_small_window_reads_the_same(tmp_path, monkeypatch, window):
    """Values cut anywhere by the window's end (in a string, a number, a literal, between two characters of
    UTF-8) are read whole, and the byte ranges of sequences after text that is not ASCII are right."""
    from converters.sources import jsonscan

    data = burstdata.document()
    data["sequences"][0]["seq_name"] = "bicyclé-18"  # two bytes in UTF-8
    data["sequences"][0]["fps"] = 29.97
    path = tmp_path / "all_classes.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    info, expected = read(path)
    monkeypatch.setattr(jsonscan, "WINDOW", window)
    assert read(path) == (info, expected)
    assert [v.name for v in expected] == ["HACS__bicycle-18", "LaSOT__bicyclé-18", "YFCC100M__v_2b0e4fbc_scene_0_0-1346"]


def test_a_fault_early_in_a_big_file_is_reported_without_reading_on(tmp_path, monkeypatch):
    from converters.sources import jsonscan

    data = burstdata.document()
    data["sequences"] = data["sequences"] * 1 + [
        {**s, "seq_name": f"{s['seq_name']}-{n}"} for n in range(200) for s in burstdata.sequences()
    ]
    text = json.dumps(data).replace('"fps": 30', '"fps": 30 30', 1)
    path = tmp_path / "all_classes.json"
    path.write_text(text)
    monkeypatch.setattr(jsonscan, "WINDOW", 4096)
    grown = []
    real = jsonscan._Text.grow
    monkeypatch.setattr(jsonscan._Text, "grow", lambda self: grown.append(1) or real(self))
    with pytest.raises(SourceError, match=r"sequences/0 \(byte \d+\): malformed JSON: Expecting ',' delimiter"):
        read(path)
    assert len(grown) <= 2 < len(text) // 4096


def test_the_command_line_takes_images_and_infers_the_writer(tree, tmp_path):
    from converters import registry
    from converters.cli import main

    annotations, frames = tree
    assert registry.writer_for_output("val.burst.json") == "burst"
    out = tmp_path / "val.burst.json"
    assert (
        main(["convert", str(annotations), "-o", str(out), "--images", str(frames), "-r", "subset=first_frame_annotations"]) == 0
    )
    same_json(out, burstdata.first_frame_document())
    assert main(["info", str(out)]) == 0


def test_coco_file_names_point_at_the_tao_frames(tree, tmp_path):
    """A VIS trainer reads ``<image root>/<file_name>``: for BURST, ``<dataset>/<seq_name>/<frame>``, not the video name."""
    annotations, frames = tree
    out = converted(annotations, tmp_path / "out.json", to="coco", images=str(frames))
    data = json.loads(out.read_text())
    root = Path(data["info"]["vosconv"]["image_root"])
    names = {v["name"]: v["file_names"] for v in data["videos"]}
    assert names["LaSOT__bicycle-18"][:2] == ["LaSOT/bicycle-18/frame0000.jpg", "LaSOT/bicycle-18/frame0001.jpg"]
    assert all((root / name).is_file() for file_names in names.values() for name in file_names)


@pytest.mark.parametrize(
    ("kept", "says"),
    [
        ("[1]", "expected a JSON object of BURST's top-level fields, got list"),
        ("{oops", "not JSON"),
        ('{"sequences": 5}', "holds 'sequences', which the burst writer writes itself"),
        ('{"vosconv": {}}', "holds 'vosconv', which the burst writer writes itself"),
    ],
)
def test_a_kept_header_from_an_edited_file_is_refused_before_writing(tmp_path, kept, says):
    """The top-level fields travel as an attribute any file may carry (a COCO JSON someone edited)."""
    source = burstdata.write_json(tmp_path / "all_classes.json", burstdata.document())
    coco = tmp_path / "x.json"
    api.convert(source, coco, to="coco", from_="burst")
    text = coco.read_text()
    start = text.index('"burst_header":') + len('"burst_header":')
    coco.write_text(text[:start] + json.dumps(kept) + text[_json_string_end(text, start) :])
    with pytest.raises(SourceError, match=says):
        api.convert(coco, tmp_path / "out.burst.json", to="burst", from_="coco")
    assert not (tmp_path / "out.burst.json").exists()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda v: {"metadata": (*v.metadata, ("segmentations", 1))}, "metadata field 'segmentations' is one the burst writer"),
        (lambda v: {"metadata": (*v.metadata, ("extra:json", "{oops"))}, "extra:json: not JSON"),
    ],
)
def test_video_fields_the_writer_fills_itself_are_refused(tmp_path, change, says):
    import dataclasses

    source = burstdata.write_json(tmp_path / "all_classes.json", burstdata.document())
    video = next(iter(api.read_videos(source, "burst")))
    with pytest.raises(SourceError, match=says):
        BurstWriter().check(dataclasses.replace(video, **change(video)))


@pytest.mark.parametrize(
    ("dataset", "seq_name", "says"),
    [
        ("../../..", "etc", r"dataset '\.\./\.\./\.\.' cannot be a folder name"),
        ("a/b", "c", r"dataset 'a/b' cannot be a folder name"),
        ("", "..", r"seq_name '\.\.' cannot be a folder name"),
        ("YFCC100M", "", r"seq_name '' cannot be a folder name"),
        ("YFCC100M", "other", r"would be read back as video 'YFCC100M__other'"),
    ],
)
def test_a_sequence_s_folder_from_metadata_must_stay_inside_and_read_back_as_the_video(
    sample_root, tmp_path, dataset, seq_name, says
):
    """A COCO file's video metadata may carry BURST's ``dataset`` and ``seq_name``, which the burst writer wrote as
    given: ``<images>/<dataset>/<seq_name>/`` led out of the images folder for BURST's tools, and vosconv's own reader
    refused the file, or read the video back under another name."""
    coco = tmp_path / "in.json"
    api.convert(sample_root["mose"], coco, to="coco", from_="mose", reader_options={"split": "train"})
    data = json.loads(coco.read_text())
    data["videos"][0]["metadata"] = {"dataset": dataset, "seq_name": seq_name}
    coco.write_text(json.dumps(data))
    out = tmp_path / "out.burst.json"
    with pytest.raises(SourceError, match=f"{data['videos'][0]['name']}: .*{says}"):
        api.convert(coco, out, to="burst", from_="coco")
    assert not out.exists()


def test_a_mask_value_named_rle_is_refused(tmp_path):
    import dataclasses

    source = burstdata.write_json(tmp_path / "all_classes.json", burstdata.document())
    video = next(iter(api.read_videos(source, "burst")))
    BurstWriter().check(video)  # as read: fits
    index = next(i for i, f in enumerate(video.frames) if f.masks is not None and f.masks.objects)
    frame = video.frames[index]
    first = dataclasses.replace(frame.masks.objects[0], values=(("rle", "x"),))
    masks = dataclasses.replace(frame.masks, objects=(first, *frame.masks.objects[1:]))
    frames = (*video.frames[:index], dataclasses.replace(frame, masks=masks), *video.frames[index + 1 :])
    with pytest.raises(SourceError, match="has a value named 'rle'"):
        BurstWriter().check(dataclasses.replace(video, frames=frames))


def _json_string_end(text: str, start: int) -> int:
    """Where the JSON string starting at ``start`` ends (one past its closing quote)."""
    decoded, end = json.JSONDecoder().raw_decode(text, start)
    assert isinstance(decoded, str)
    return end
