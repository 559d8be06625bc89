"""The burst reader and writer: BURST's JSON (Ali2500/BURST-benchmark ANNOTATION_FORMAT.md) over TAO frames."""

from __future__ import annotations

import json
from pathlib import Path

import pycocotools.mask as cocomask
import pytest

from converters import api
from converters.errors import DetectionError, OptionError, SourceError
from converters.formats.burst.reader import BurstReader
from converters.formats.burst.writer import BurstWriter
from converters.formats.lookalikes import unread_layout
from converters.testing.suite import ReaderSuite
from tests import burstdata

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
    assert detection.score == 0 and "named like a BURST file" in detection.reason
    assert api.detect(path) == "coco"


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


def test_a_void_region_is_refused(sample_root, tmp_path):
    with pytest.raises(SourceError, match="no void"):
        converted(sample_root["davis"], tmp_path / "out.burst.json", from_="davis", split="val")


def test_the_writer_owns_its_output_only(tree, tmp_path):
    annotations, frames = tree
    out = converted(annotations, tmp_path / "out.burst.json", images=str(frames))
    assert BurstWriter.owns(out)
    assert not BurstWriter.owns(annotations / "val" / "all_classes.json")
