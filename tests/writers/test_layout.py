"""The folder-layout writers (mose, davis, youtube-vos): what a PNG cannot hold is refused, never painted over."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from converters import api
from converters.codecs.rle import encode
from converters.errors import SourceError
from converters.formats.davis.writer import DavisWriter
from converters.formats.mose.writer import MoseWriter
from converters.formats.youtube_vos.writer import YoutubeVosWriter
from converters.model import Category, DatasetInfo, Frame, FrameMasks, MaskEncoding, ObjectInfo, Video
from converters.run import pipeline
from converters.writer import Shard

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
@pytest.mark.parametrize("overlapping", [True, False], ids=["overlapping", "apart"])
def test_renumbering_is_offered_for_ids_only_where_it_would_do(writer, overlapping):
    """SA-V's ids start at 0 and its masks overlap: -w renumber=true maps the ids, but the overlap stays refused, so
    the refusal of id 0 offered a fix that only led to the next refusal."""
    from tests.memsource import box, rle

    masks = FrameMasks((rle(box(6, 8, 0, 0, 4, 4), 0), rle(box(6, 8, 3 if overlapping else 4, 0, 6, 4), 2)))
    video = Video("v", 8, 6, (Frame(0, "00000.jpg", None, masks),), (ObjectInfo(0), ObjectInfo(2)))
    with pytest.raises(SourceError, match=r"v/00000\.jpg: object id 0 is not a pixel value") as caught:
        writer().check(video)
    assert ("renumber=true" in str(caught.value)) is not overlapping


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.name)
def test_masks_that_touch_without_overlapping_are_written(writer, tmp_path):
    result = writer().write_shard([_video(slice(4, 6))], Shard(0, ()), tmp_path, DatasetInfo("test"))
    assert [name for name in result.files if name.endswith(".png")]


def _two_videos_one_overlapping(tmp_path):
    """A YouTube-VIS file: video "bad" has two objects sharing pixels, video "good" has one object."""
    height, width = 8, 10
    first = np.zeros((height, width), np.uint8)
    first[1:5, 1:6] = 1
    second = np.zeros((height, width), np.uint8)
    second[3:7, 4:9] = 1

    def segmentation(binary):
        return {"size": [height, width], "counts": coco_mask.encode(np.asfortranarray(binary))["counts"].decode()}

    videos = [
        {"id": v, "name": name, "width": width, "height": height, "length": 1, "file_names": [f"{name}/00000.jpg"]}
        for v, name in ((1, "bad"), (2, "good"))
    ]
    annotations = [
        {"id": 1, "video_id": 1, "category_id": 1, "segmentations": [segmentation(first)]},
        {"id": 2, "video_id": 1, "category_id": 1, "segmentations": [segmentation(second)]},
        {"id": 3, "video_id": 2, "category_id": 1, "segmentations": [segmentation(first)]},
    ]
    source = tmp_path / "ytvis.json"
    source.write_text(json.dumps({"videos": videos, "annotations": annotations, "categories": [{"id": 1, "name": "x"}]}))
    return source


@pytest.mark.parametrize(
    ("writer", "options"),
    [("mose", {"images": False}), ("davis", {"images": False}), ("hdf5", {"masks": "dense", "images": False})],
)
def test_a_video_whose_masks_overlap_is_skipped_like_a_bad_one(tmp_path, writer, options):
    """With --on-error skip the overlapping video is left out and listed; the others are written."""
    source = _two_videos_one_overlapping(tmp_path)  # no images folder: written without images, as asked
    out = tmp_path / "out"
    summary = api.convert(source, out, to=writer, writer_options=options, on_error="skip")
    assert [s["video"] for s in summary.stats.skipped] == ["bad"]
    assert "overlap" in summary.stats.skipped[0]["message"]
    if writer == "hdf5":
        assert [v["name"] for v in json.loads((out / "manifest.json").read_text())["videos"]] == ["good"]
    else:
        written = {p.name for p in out.rglob("*") if p.is_dir()}
        assert "good" in written and "bad" not in written
    with pytest.raises(SourceError, match=r"bad/00000\.jpg: its masks overlap"):
        api.convert(source, tmp_path / "strict", to=writer, writer_options=options)


def test_overlap_finds_shared_pixels_without_painting():
    from converters.codecs import rle

    full, block = (1, "0d0"), (2, "5220003")
    assert rle.overlap([full, block], 4, 5)
    assert not rle.overlap([(1, rle.counts_to_string([0, 15, 5])), (2, rle.counts_to_string([15, 5]))], 4, 5)
    assert not rle.overlap([full], 4, 5)
    with pytest.raises(rle.RleError):
        rle.overlap([full, (2, "5220003P")], 4, 5)


def test_a_foreign_coco_file_with_overlaps_converts_to_coco_but_not_to_a_layout(tmp_path):
    """End to end: YouTube-VIS instances that overlap survive in COCO; a MOSE folder is refused, and none is left."""
    source = _two_videos_one_overlapping(tmp_path)
    api.convert(source, tmp_path / "again.json", to="coco")  # no images folder: COCO holds none anyway
    again = json.loads((tmp_path / "again.json").read_text())
    assert [a["areas"][0] for a in again["annotations"]] == [20, 20, 20]  # 4x5 blocks, sharing 4 pixels in "bad"
    with pytest.raises(SourceError, match="overlap"):
        api.convert(source, tmp_path / "mose", to="mose", writer_options={"images": False})
    assert not (tmp_path / "mose").exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


def _ytvis_with_names(tmp_path, videos: dict[str, list[str]]):
    """A YouTube-VIS file (and its JPEGs) with the given video and frame names, one object in every frame."""
    from PIL import Image

    height, width = 6, 8
    binary = np.zeros((height, width), np.uint8, order="F")
    binary[1:4, 2:6] = 1
    counts = coco_mask.encode(binary)["counts"].decode()
    images = tmp_path / "images"
    records, annotations = [], []
    for number, (name, frames) in enumerate(videos.items(), 1):
        for frame in frames:
            (images / name).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (width, height), (number * 20, 0, 0)).save(images / name / frame, format="JPEG")
        file_names = [f"{name}/{frame}" for frame in frames]
        size = {"width": width, "height": height, "length": len(frames)}
        records.append({"id": number, "name": name, **size, "file_names": file_names})
        segmentations = [{"size": [height, width], "counts": counts}] * len(frames)
        annotations.append({"id": number, "video_id": number, "category_id": 1, "segmentations": segmentations})
    source = tmp_path / "ytvis.json"
    source.write_text(json.dumps({"videos": records, "annotations": annotations, "categories": [{"id": 1, "name": "x"}]}))
    return source, images


UNREADABLE = {  # video name, frame names -> what the refusal says
    ".hidden": (["00000.jpg"], r"\.hidden: mose readers skip folders whose names start with '\.'"),
    "letters": (["00000.jpg", "frame_a.jpg"], r"letters/frame_a\.jpg: mose frame files are named by frame number"),
    "dotframe": ([".00001.jpg"], r"dotframe/\.00001\.jpg: mose frame files are named by frame number"),
    "backwards": (["00010.jpg", "00005.jpg"], r"backwards/00005\.jpg: mose readers order frames by number"),
    "twice": (["5.jpg", "00005.jpg"], r"twice/00005\.jpg: mose readers order frames by number"),
    "webp": (["00000.webp"], r"webp/00000\.webp: mose readers take only \.jpg/\.jpeg frames"),
}


def test_names_a_layout_would_lose_or_reorder_are_refused_and_skipped(tmp_path):
    """Another tool's COCO file may name videos and frames any way; a folder layout reads back only some."""
    good = {"vidéo with space": ["5.jpg", "10.JPG", "00011.jpeg"]}
    source, images = _ytvis_with_names(tmp_path, {**good, **{name: frames for name, (frames, _) in UNREADABLE.items()}})
    out = tmp_path / "mose"
    summary = api.convert(source, out, to="mose", reader_options={"images": str(images)}, on_error="skip")
    assert sorted(s["video"] for s in summary.stats.skipped) == sorted(UNREADABLE)
    back = {v.name: v for v in api.read_videos(out, "mose")}
    assert list(back) == list(good)
    assert [f.file_name for f in back["vidéo with space"].frames] == good["vidéo with space"]
    for name, (frames, message) in UNREADABLE.items():
        one, one_images = _ytvis_with_names(tmp_path / name, {name: frames})
        with pytest.raises(SourceError, match=message):
            api.convert(one, tmp_path / name / "out", to="mose", reader_options={"images": str(one_images)})
        assert not (tmp_path / name / "out").exists()


@pytest.mark.parametrize("name", ["trail ", " lead", "two\u2028lines", "nel\x85x"])
def test_davis_and_sav_refuse_names_their_video_lists_cannot_hold(tmp_path, name):
    """The lists are read one stripped line per video; such a name would not find its folder again."""
    source, images = _ytvis_with_names(tmp_path, {name: ["00000.jpg"], "ok": ["00000.jpg"]})
    out = tmp_path / "davis"
    options = {"reader_options": {"images": str(images)}, "writer_options": {"split": "val"}}
    summary = api.convert(source, out, to="davis", on_error="skip", **options)
    assert [s["video"] for s in summary.stats.skipped] == [name]
    assert "DAVIS sequence list cannot hold" in summary.stats.skipped[0]["message"]
    assert [v.name for v in api.read_videos(out, "davis", split="val")] == ["ok"]
    sav = tmp_path / "sav"  # SA-V's sav_val.txt is read the same way: its writer refuses the name too
    summary = api.convert(source, sav, to="sav", on_error="skip", reader_options={"images": str(images)})
    assert [s["video"] for s in summary.stats.skipped] == [name]
    assert "SA-V video list (sav_val.txt, sav_test.txt) cannot hold" in summary.stats.skipped[0]["message"]
    assert [v.name for v in api.read_videos(sav, "sav")] == ["ok"]
    mose = tmp_path / "mose"  # other layouts have no list: the name is fine there
    api.convert(source, mose, to="mose", reader_options={"images": str(images)})
    assert sorted(v.name for v in api.read_videos(mose, "mose")) == sorted([name, "ok"])


@pytest.mark.parametrize("layout", ["mose", "davis", "youtube-vos", "sav"])
def test_a_frame_name_whose_mask_file_name_would_be_too_long_is_refused_and_skipped(tmp_path, layout):
    """A frame without its image may have any suffix, or none: its ``<stem>.png`` mask can then pass 255 bytes,
    which stopped the run as a write failure instead of skipping the video."""
    long, ok = ["0" * 254 + "1"], ["00001.jpg"]
    source, _ = _ytvis_with_names(tmp_path, {"long": long, "ok": ok})
    out = tmp_path / layout
    options = {"writer_options": {"images": False, **({"split": "val"} if layout == "davis" else {})}}
    with pytest.raises(SourceError, match=r"long/0{254}1: its mask file 0{254}1\.png would be 259 bytes long, over the 255"):
        api.convert(source, out, to=layout, **options)
    assert not out.exists()
    summary = api.convert(source, out, to=layout, on_error="skip", **options)
    assert [s["video"] for s in summary.stats.skipped] == ["long"]


@pytest.mark.parametrize(("length", "json_too"), [(251, False), (244, True)])
def test_sav_refuses_a_name_too_long_for_its_own_files_and_skips_it_alone(tmp_path, length, json_too):
    """SA-V keeps each video's ``.vosconv/<video>.json`` (and, with json=true, ``<video>_manual.json``): a video name
    that fits the file system's 255 bytes may not once those are added, which stopped the run as a write failure."""
    name = "v" * length
    source, images = _ytvis_with_names(tmp_path, {name: ["00000.jpg"], "ok": ["00000.jpg"]})
    options = {"reader_options": {"images": str(images)}, "writer_options": {"json": json_too}}
    out = tmp_path / "sav"
    with pytest.raises(SourceError, match=f"{name}: .* would be 256 bytes long, over the 255"):
        api.convert(source, out, to="sav", **options)
    assert not out.exists()
    summary = api.convert(source, out, to="sav", on_error="skip", **options)
    assert [s["video"] for s in summary.stats.skipped] == [name]
    assert [v.name for v in api.read_videos(out, "sav")] == ["ok"]


@pytest.mark.parametrize("attribute", ["resolution", "year"])
@pytest.mark.parametrize("value", ["../../../escaped", "..", ".", "a/b"])
def test_davis_folder_names_from_the_source_cannot_lead_out_of_the_output(sample_root, tmp_path, attribute, value):
    """A COCO file's recorded DAVIS resolution or year becomes a folder name: a way out is refused, nothing written."""
    coco = tmp_path / "in.json"
    api.convert(sample_root["davis"], coco, to="coco", from_="davis")
    data = json.loads(coco.read_text())
    data["info"]["vosconv"]["source"]["attributes"][attribute] = value
    coco.write_text(json.dumps(data))
    out = tmp_path / "deep" / "out"
    for on_error in ("fail", "skip"):  # a fault of the whole source: nothing to skip
        with pytest.raises(SourceError, match=f"DAVIS {attribute}.*cannot be a file or folder name"):
            api.convert(coco, out, to="davis", from_="coco", on_error=on_error)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.json"]


@pytest.mark.parametrize("option", ["split", "resolution", "year"])
def test_davis_folder_name_options_cannot_lead_out_of_the_output(option):
    from converters.errors import OptionError

    with pytest.raises(OptionError, match=f"{option}.*cannot be a file or folder name"):
        api.open_writer("davis", {option: "../x"})


def _valid_with_a_video_unannotated(sample_copy) -> tuple[Path, list[str]]:
    """The MOSE sample, whose valid videos are annotated on their first frame only, with one video's masks removed."""
    source = sample_copy("mose")
    folder = source / "valid" / "Annotations"
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    shutil.rmtree(folder / names[-1])
    return source, names


@pytest.mark.parametrize("layout", ["mose", "davis", "youtube-vos"])
def test_without_images_the_frames_without_masks_are_said_to_be_left_out(sample_copy, tmp_path, layout):
    """A folder layout knows a frame by its files: written without images, a frame without a mask has none. The
    summary and the marker say how many, and a video with no mask at all is left out (no index lists a video that
    has no folder, so the output reads back)."""
    source, names = _valid_with_a_video_unannotated(sample_copy)
    expected = list(api.read_videos(source, "mose", split="valid"))
    unannotated = sum(1 for v in expected for f in v.frames if f.masks is None)
    out = tmp_path / "out"
    options = {"reader_options": {"split": "valid"}, "writer_options": {"images": False}}
    summary = api.convert(source, out, to=layout, from_="mose", **options)
    (note,) = [n for n in summary.notes if "without an annotation file" in n]
    assert note.startswith(f"{unannotated} frames without an annotation file in 2 videos not written")
    assert note.endswith(f"left out, having no annotated frame: {names[-1]}")
    conventions = json.loads((out / ".vosconv.json").read_text())["conventions"]
    assert conventions["unwritten_frames"] == unannotated and conventions["left_out_videos"] == [names[-1]]
    back = list(api.read_videos(out, layout))
    assert [v.name for v in back] == names[:-1]
    assert [f.file_name for f in back[0].frames] == [f.file_name for f in expected[0].frames if f.masks is not None]


@pytest.mark.parametrize("layout", ["mose", "davis", "youtube-vos"])
def test_without_images_frame_names_that_read_back_otherwise_are_said(tmp_path, layout):
    """Without its image, an annotated frame is known by its mask alone and reads back as ``<number>.jpg``: a source's
    ``.jpeg`` and ``.JPG`` frames came back renamed, and nothing said so. The summary and the marker count them."""
    names = ["5.jpg", "10.JPG", "00011.jpeg"]
    source, images = _ytvis_with_names(tmp_path, {"v": names})
    options = {"reader_options": {"images": str(images)}, **({"writer_options": {"split": "val"}} if layout == "davis" else {})}
    api.convert(source, tmp_path / "whole", to=layout, **options)
    assert [f.file_name for f in next(iter(api.read_videos(tmp_path / "whole", layout))).frames] == names  # beside its image
    out = tmp_path / "out"
    options.setdefault("writer_options", {})["images"] = False
    summary = api.convert(source, out, to=layout, **options)
    assert [f.file_name for f in next(iter(api.read_videos(out, layout))).frames] == ["5.jpg", "10.jpg", "00011.jpg"]
    (note,) = [n for n in summary.notes if "has no place for them" in n]
    assert "the file name of 2 annotated frames without their images (read back as <number>.jpg)" in note
    assert json.loads((out / ".vosconv.json").read_text())["conventions"]["not_kept"]["frame_names"] == 2


@pytest.mark.parametrize("layout", ["mose", "davis", "youtube-vos"])
def test_a_source_without_any_mask_writes_a_layout_that_reads_back(sample_copy, tmp_path, layout):
    """Every frame unannotated (a test split): the frames are written, and the empty annotations folder marks the layout."""
    source = sample_copy("mose")
    for folder in (source / "valid" / "Annotations").iterdir():
        shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
    expected = list(api.read_videos(source, "mose", split="valid"))
    assert expected and not any(f.masks is not None for v in expected for f in v.frames)
    api.convert(source, tmp_path / "out", to=layout, from_="mose", reader_options={"split": "valid"})
    back = list(api.read_videos(tmp_path / "out", layout))
    assert [(v.name, [(f.file_name, f.masks) for f in v.frames]) for v in back] == [
        (v.name, [(f.file_name, f.masks) for f in v.frames]) for v in expected
    ]


def test_what_each_layout_has_no_place_for_is_named_in_the_summary(sample_root, tmp_path):
    """YouTube-VOS objects have categories and frame lists: MOSE holds neither, DAVIS the categories, YouTube-VOS both.
    What is not written is said (and recorded in the marker), never dropped in silence. A train list names the frames
    where the object has pixels, which the masks give back (YouTube-VOS's writer derives them so): nothing is lost."""
    source = sample_root["youtube-vos"] / "train"
    objects = [o for v in api.read_videos(source, "youtube-vos") for o in v.objects]
    assert all(o.category_id is not None and o.frames is not None for o in objects)
    n, table = len(objects), len(api.open_reader(source, "youtube-vos").info().categories)
    expected = {
        "mose": f"the category of {n} objects, {table} of the dataset's categories as given",
        "davis": None,
        "youtube-vos": None,
    }
    for layout, what in expected.items():
        summary = api.convert(source, tmp_path / layout, to=layout, from_="youtube-vos")
        notes = [note for note in summary.notes if "no place for them" in note]
        conventions = json.loads((tmp_path / layout / ".vosconv.json").read_text()).get("conventions", {})
        if what is None:
            assert notes == [] and "not_kept" not in conventions
        else:
            assert notes == [
                f"not written, as a {layout} folder has no place for them: {what} (coco, parquet and hdf5 keep them)"
            ]
            assert conventions["not_kept"] == {"categories": n, "dataset_categories": table}
        back = tmp_path / f"{layout}-youtube-vos"
        api.convert(tmp_path / layout, back, to="youtube-vos", from_=layout)
        assert [o.frames for v in api.read_videos(back, "youtube-vos") for o in v.objects] == [o.frames for o in objects]


#: YouTube-VOS's categories (sorted names, ids 1..5, no supercategory) with one given a supercategory and one no object has.
_TABLE = (
    Category(1, "bird"),
    Category(2, "dog", "animal"),
    Category(3, "horse"),
    Category(4, "surfboard"),
    Category(5, "umbrella"),
    Category(40, "unused"),
)


@pytest.mark.parametrize(
    ("layout", "uncategorised", "lost"),
    [("mose", False, 6), ("davis", False, 0), ("davis", True, 6), ("youtube-vos", False, 2), ("youtube-vos", True, 6)],
)
def test_the_dataset_s_categories_not_written_are_said(sample_root, tmp_path, layout, uncategorised, lost):
    """The source's category table: MOSE has no place for it; DAVIS's categories.json holds it whole, written only
    beside the semantics of some object; YouTube-VOS's meta.json names the categories objects have, read back numbered
    1..N by name. What does not read back as given is said, where it went in silence."""
    source = sample_root["youtube-vos"] / "train"
    with api.open_reader(source, "youtube-vos") as reader:

        class Tabled(type(reader)):
            def info(self):
                return dataclasses.replace(super().info(), categories=_TABLE)

            def read_video(self, ref):
                video = super().read_video(ref)
                if not uncategorised:
                    return video
                return dataclasses.replace(video, objects=tuple(dataclasses.replace(o, category_id=None) for o in video.objects))

        summary = pipeline.convert(
            Tabled(reader.source, reader.options), api.open_writer(layout), tmp_path / "out", progress=False
        )
    notes = [note for note in summary.notes if "of the dataset's categories" in note]
    if lost:
        (note,) = notes
        assert note.startswith(f"not written, as a {layout} folder has no place for them: ")
        assert f"{lost} of the dataset's categories as given" in note
    else:
        assert notes == []
    conventions = json.loads((tmp_path / "out" / ".vosconv.json").read_text()).get("conventions", {})
    assert conventions.get("not_kept", {}).get("dataset_categories", 0) == lost
    with api.open_reader(tmp_path / "out", layout) as reader:
        back = set(reader.info().categories)
    assert sum(1 for c in _TABLE if c not in back) == lost
    if layout == "davis" and not lost:  # categories.json gives each a super_category; the marker says which it filled
        table = json.loads((tmp_path / "out" / "categories.json").read_text())
        assert table["bird"]["super_category"] == "bird" and table["dog"]["super_category"] == "animal"
        marker = tmp_path / "out" / ".vosconv.json"
        marker.write_text(json.dumps({**json.loads(marker.read_text()), "filled_supercategories": "1"}))
        with api.open_reader(tmp_path / "out", layout) as reader, pytest.raises(SourceError, match="filled_supercategories"):
            reader.info()


@pytest.mark.parametrize("layout", ["mose", "davis"])
def test_frame_lists_beyond_the_masks_are_said_to_be_dropped(sample_root, tmp_path, layout):
    """A valid list names every frame from the object's first appearance, where only that one is annotated: lost."""
    source = sample_root["youtube-vos"] / "valid"
    videos = list(api.read_videos(source, "youtube-vos"))
    n = sum(1 for v in videos for o in v.objects)
    summary = api.convert(source, tmp_path / layout, to=layout, from_="youtube-vos")
    assert [note for note in summary.notes if "no place for them" in note] == [
        f"not written, as a {layout} folder has no place for them: the frame list of {n} objects "
        "(coco, parquet and hdf5 keep them)"
    ]


def _with_metadata(ids: tuple[int, int] = (1, 2)) -> Video:
    """One frame, two objects (the second on no frame), with object and video metadata and a per-frame value."""
    label = np.zeros((6, 8), np.uint8)
    label[1:4, 1:4] = ids[0]
    (mask,) = encode(label)
    mask = dataclasses.replace(mask, values=(("score", 0.5),))
    objects = (ObjectInfo(ids[0], metadata=(("masklet_id", 0),)), ObjectInfo(ids[1]))
    frames = (Frame(0, "00000.jpg", None, FrameMasks((mask,))),)
    return Video("v", 8, 6, frames, objects, MaskEncoding.PALETTE, metadata=(("video_environment", "Indoor"),))


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.name)
def test_metadata_values_and_objects_on_no_frame_are_said_to_be_dropped(writer, tmp_path):
    result = writer().write_shard([_with_metadata()], Shard(0, ()), tmp_path, DatasetInfo("test"))
    (note,) = writer().notes([result])
    dropped = "the metadata of 1 object, the per-frame values of 1 mask, the metadata of 1 video"
    if writer is not YoutubeVosWriter:  # meta.json lists every object
        dropped += ", 1 object on no frame"
    assert note == f"not written, as a {writer.name} folder has no place for them: {dropped} (coco, parquet and hdf5 keep them)"


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.name)
def test_a_video_without_frames_is_said_to_be_left_out(writer, tmp_path):
    """A folder layout has no file to write for it (a COCO file's video of length 0): no folder, no index entry, and a
    note, where it went in silence."""
    frameless = Video("frameless", 8, 6, (), (), MaskEncoding.PALETTE)
    result = writer().write_shard([frameless], Shard(0, ()), tmp_path, DatasetInfo("test"))
    assert result.facts["videos"] == {} and result.files == ()
    expected = f"left out, having no frame (a {writer.name} folder knows a video by its files): frameless"
    assert writer().notes([result]) == [expected]


@pytest.mark.parametrize(("ids", "said"), [((3, 7), True), ((1, 2), False)])
def test_renumbered_ids_are_said_where_they_changed(tmp_path, ids, said):
    result = MoseWriter(MoseWriter.Options(renumber=True)).write_shard(
        [_with_metadata(ids)], Shard(0, ()), tmp_path, DatasetInfo("test")
    )
    notes = [n for n in MoseWriter().notes([result]) if "renumbered" in n]
    assert notes == (["object ids of 1 video renumbered 1..K; the source's ids are in object_ids.json"] if said else [])


def test_the_marker_s_attributes_are_read_back(sample_root, tmp_path):
    """What a layout cannot say of its dataset is in its hidden marker: a derived set's record (so a set derived from it
    nests it) and DAVIS's split lists (so DAVIS -> MOSE -> DAVIS keeps them)."""
    derived = tmp_path / "stepped"
    api.convert(
        sample_root["mose"], derived, to="mose", from_="mose", reader_options={"split": "train"}, derive={"frame_step": 2}
    )
    again = tmp_path / "again.json"
    api.convert(derived, again, to="coco", from_="mose", derive={"frame_step": 2})
    with api.open_reader(again, "coco") as reader:
        record = json.loads(reader.info().attribute("derived"))
    assert record["from"]["derived"]["frame_step"] == 2 and record["from"]["derived"]["from"]["format"] == "mose"
    davis = sample_root["davis"]
    with api.open_reader(davis, "davis", {"split": "train"}) as reader:
        lists = reader.info().attribute("split_lists")
    for layout in ("mose", "youtube-vos"):
        middle = tmp_path / layout
        api.convert(davis, middle, to=layout, from_="davis", reader_options={"split": "train"})
        with api.open_reader(middle, layout) as reader:
            assert reader.info().attribute("split_lists") == lists
        back = tmp_path / f"{layout}-davis"
        api.convert(middle, back, to="davis", from_=layout)
        assert sorted(p.relative_to(back / "ImageSets").as_posix() for p in (back / "ImageSets").rglob("*.txt")) == [
            "2016/train.txt",
            "2017/train.txt",
        ]


def test_a_marker_that_is_not_vosconv_s_is_left_alone_and_a_bad_one_named(sample_copy):
    source = sample_copy("mose") / "train"
    (source / ".vosconv.json").write_text('{"attributes": {"x": "y"}}')  # not vosconv's: no written_by
    with api.open_reader(source, "mose") as reader:
        assert reader.info().attributes == ()
    (source / ".vosconv.json").write_text('{"written_by": "vosconv", "attributes": {"year": 2017}}')
    with pytest.raises(SourceError, match=r"\.vosconv\.json: attributes: expected an object of strings"):
        api.open_reader(source, "mose").info()


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.name)
def test_an_annotated_frame_without_its_image_is_refused_where_images_are_written(writer):
    """Its PNG would lie beside no JPEG: the layout's reader takes that for a stray annotation, and the output would not
    read (a source where only some frames have images: a Parquet file of one). Without images the layout is the
    annotations alone, which reads back."""
    video = _video(slice(4, 6))  # its one frame is annotated and has no image
    with pytest.raises(SourceError, match=r"v/00000\.jpg: the frame has no image, and a .* folder holds an annotation only"):
        writer().check(video)
    writer(writer.Options(images=False)).check(video)


class _CountingFacts(dict):
    """A shard's facts that count how often its list of videos is read."""

    reads = 0

    def __getitem__(self, key):
        if key == "videos":
            _CountingFacts.reads += 1
        return super().__getitem__(key)


def test_the_videos_left_out_are_found_in_one_pass_over_the_shards(monkeypatch):
    """Which videos with unwritten frames were left out whole is one look at each shard's videos, not one per such
    video: per video it was quadratic in the dataset (MOSE valid without images: every video has such frames)."""
    from converters.writer import ShardResult

    monkeypatch.setattr(_CountingFacts, "reads", 0)
    count = 50
    results = [
        ShardResult(i, facts=_CountingFacts(videos={f"v{i}": {}}, changed={f"v{i}": {"unwritten_frames": 2}}))
        for i in range(count)
    ]
    conventions = MoseWriter(MoseWriter.Options(images=False))._conventions(results)
    assert conventions["unwritten_frames"] == 2 * count and "left_out_videos" not in conventions
    assert _CountingFacts.reads <= count


def test_a_davis_output_of_a_source_without_a_resolution_says_which_folder_it_named(sample_root, tmp_path):
    """MOSE's frames (of any size) went into ``JPEGImages/480p/`` without a word; a DAVIS source keeps its own folder
    and a resolution asked for is the user's: neither is noted."""
    said = (
        "frames written in JPEGImages/480p/ and Annotations/480p/, DAVIS's default resolution folder (the source names "
        "none), whatever their size; -w resolution=NAME names another"
    )
    mose = api.convert(sample_root["mose"], tmp_path / "mose", to="davis", reader_options={"split": "train"})
    assert said in mose.notes and (tmp_path / "mose" / "JPEGImages" / "480p").is_dir()
    asked = api.convert(
        sample_root["mose"], tmp_path / "asked", to="davis", reader_options={"split": "train"}, writer_options={"resolution": "x"}
    )
    davis = api.convert(sample_root["davis"], tmp_path / "davis", to="davis")
    assert not [note for note in (*asked.notes, *davis.notes) if "resolution folder" in note]
