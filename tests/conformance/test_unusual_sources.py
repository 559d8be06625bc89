"""Sources with the unusual traits real datasets have, through every round-trip writer and back, compared as the whole
intermediate form (category ids and supercategories, the dataset's table and attributes included, where the sample
round trips compare categories by name): every difference must be one the writer says it made, or the writer refuses.

The traits: two categories of one name, a category no object has, an object without a category, an object on no frame,
category ids 0 and negative, an empty supercategory, empty frames, unannotated frames before and between annotated ones,
a frame with neither image nor annotation, void (255), names with spaces and accents, per-frame values of every JSON
type, object and video metadata, grayscale, binary (0/255) and palette videos; and, for the formats that hold them,
object ids 0 and 2^31-1 and overlapping masks, which the one-value-per-pixel layouts refuse.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from converters import api
from converters.errors import SourceError
from converters.model import (
    MAX_OBJECT_ID,
    Category,
    DatasetInfo,
    Frame,
    FrameMasks,
    ImageRef,
    MaskEncoding,
    ObjectInfo,
    Video,
)
from converters.sources import imagefiles
from converters.testing.suite import round_trip_writers
from tests.memsource import box, convert, jpeg, rle, void

H, W = 6, 8
OUTPUT_NAMES = {"coco": "out.json", "cocovid": "out.cocovid.json", "burst": "out.burst.json"}
#: The layouts that hold one value 1-254 per pixel, and must refuse the wide source.
PIXEL_LAYOUTS = {"mose", "davis", "youtube-vos"}

TABLE = (
    Category(1, "cat"),
    Category(7, "cat", "animal"),  # a second "cat": a COCO or YouTube-VIS table may have one
    Category(3, "unused dog"),  # no object has it
    Category(5, "ünï code", "supér"),
    Category(0, "zero", ""),
    Category(-5, "minus five", "s"),
)


def _box(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    return box(H, W, x0, y0, x1, y1)


def _frame(images: Path, video: str, index: int, name: str, masks: FrameMasks | None, image: bool = True) -> Frame:
    """A frame whose JPEG is a file under the image root, as a reader gives it."""
    if not image:
        return Frame(index, name, None, masks)
    path = images / video / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg(H, W, 17 * index + len(video)))
    return Frame(index, name, ImageRef(str(path)), masks)


def traits_source(images: Path) -> tuple[DatasetInfo, list[Video]]:
    """Every trait a palette layout can hold at all: ids 1-254, no overlap."""
    values = (("score", 0.5), ("manual", True), ("rank", 3), ("note", "a b"), ("missing", None))
    first = FrameMasks((rle(_box(0, 0, 2, 2), 1, values), rle(_box(3, 0, 5, 2), 2)), void(_box(6, 0, 8, 1)))
    later = FrameMasks((rle(_box(0, 3, 3, 6), 2), rle(_box(4, 4, 6, 6), 254)))
    name = "vidé o"
    frames = (
        _frame(images, name, 0, "00000.jpg", None),  # unannotated before the first annotation
        _frame(images, name, 1, "00001.jpg", first),
        _frame(images, name, 2, "00002.jpg", None),  # unannotated between annotated frames
        _frame(images, name, 3, "00003.jpg", FrameMasks()),  # annotated, empty
        _frame(images, name, 4, "00005.jpg", later),
    )
    objects = (
        ObjectInfo(1, 1, metadata=(("name", "a b"), ("hidden", False), ("none", None))),
        ObjectInfo(2, 7, frames=("00001", "00005", "99999")),  # a YouTube-VOS list, kept verbatim where it is held
        ObjectInfo(9, 5, frames=()),  # on no frame, with a category and an empty list
        ObjectInfo(11),  # on no frame, without one
        ObjectInfo(254),  # without a category
    )
    traits = Video(name, W, H, frames, objects, metadata=(("fps", 24.0), ("environment", "Indoor")))
    grey = Video(
        "grey",
        W,
        H,
        (_frame(images, "grey", 0, "00000.jpg", FrameMasks((rle(_box(1, 1, 3, 3), 4),))),),
        (ObjectInfo(4, 0), ObjectInfo(6, -5)),
        MaskEncoding.GRAYSCALE,
    )
    binary = Video(
        "binary",
        W,
        H,
        (_frame(images, "binary", 0, "00000.jpg", FrameMasks((rle(_box(2, 2, 5, 4), 1),))),),
        (ObjectInfo(1, 1),),
        MaskEncoding.BINARY,
    )
    palette = Video(
        "palette 2",
        W,
        H,
        (
            _frame(images, "palette 2", 0, "00000.jpg", FrameMasks((rle(_box(0, 0, 4, 4), 3),))),
            _frame(images, "palette 2", 1, "00010.jpg", FrameMasks((rle(_box(1, 0, 4, 4), 3),))),
        ),
        (ObjectInfo(3, 7),),
        palette=bytes(range(48)),
    )
    imageless = Video(  # a frame with neither image nor annotation: an output that names every frame names a missing file
        "sans image",
        W,
        H,
        (
            _frame(images, "sans image", 0, "00000.jpg", FrameMasks((rle(_box(0, 0, 2, 2), 1),))),
            _frame(images, "sans image", 1, "00001.jpg", None, image=False),
            _frame(images, "sans image", 2, "00002.jpg", None),
        ),
        (ObjectInfo(1, 5),),
    )
    void_only = Video(  # grayscale PNGs of only 0 and 255 would read back as DAVIS 2016's one object
        "grey void",
        W,
        H,
        (
            _frame(images, "grey void", 0, "00000.jpg", FrameMasks((), void(_box(0, 0, 3, 3)))),
            _frame(images, "grey void", 1, "00001.jpg", FrameMasks()),
        ),
        (ObjectInfo(8, 5),),
        MaskEncoding.GRAYSCALE,
    )
    info = DatasetInfo("memory", "train", TABLE, str(images), (("origin", "test ü"),))
    return info, sorted([traits, grey, binary, palette, imageless, void_only], key=lambda v: v.name)


def wide_source(images: Path) -> tuple[DatasetInfo, list[Video]]:
    """What only the mask formats hold: ids 0 and 2^31-1, overlapping masks, void on a frame of no object."""
    frames = (
        _frame(images, "wide", 0, "00000.jpg", FrameMasks((rle(_box(0, 0, 4, 4), 0), rle(_box(2, 2, 6, 6), MAX_OBJECT_ID)))),
        _frame(images, "wide", 1, "00001.jpg", None),
        _frame(images, "wide", 2, "00002.jpg", FrameMasks((), void(_box(0, 0, 1, 1)))),
    )
    objects = (ObjectInfo(0, 1), ObjectInfo(5), ObjectInfo(MAX_OBJECT_ID, 7))
    return DatasetInfo("memory", None, TABLE, str(images)), [Video("wide", W, H, frames, objects)]


# ------------------------------------------------------------------ what differs, and what the writer said


def reported(out: Path, notes: tuple[str, ...]) -> set[str]:
    """What the writer said it changed: the keys of a folder marker's ``conventions`` (and of its ``not_kept``), and
    ``unlocated`` for frames named where no folder holds them (the summary's note)."""
    said = set()
    marker = out / ".vosconv.json"
    if out.is_dir() and marker.is_file():
        conventions = json.loads(marker.read_text()).get("conventions", {})
        said |= set(conventions) | set(conventions.get("not_kept", {}))
    if any("named where no folder holds them" in note for note in notes):
        said.add("unlocated")
    return said


def _image(frame: Frame) -> bytes | str | None:
    if frame.image is None:
        return None
    try:
        return imagefiles.read_bytes(frame.image)
    except SourceError:
        return "unreadable"


def differences(
    source: tuple[DatasetInfo, list[Video]], back: tuple[DatasetInfo, list[Video | None]], writer: str, images: bool = True
) -> dict[str, list[str]]:
    """Each difference between the source and what was read back, under the report that would account for it
    (``images`` False: the images were asked to be left out, so their absence is no difference)."""
    (info, videos), (info_back, videos_back) = source, back
    found: dict[str, list[str]] = {}

    def add(key: str, what: str) -> None:
        found.setdefault(key, []).append(what)

    if set(info.categories) != set(info_back.categories):
        add("dataset_categories", f"categories {sorted(info_back.categories, key=str)}")
    if info_back.split != info.split and writer not in PIXEL_LAYOUTS:  # a layout's split is the folder read, or its list
        add("split", f"split {info_back.split!r}, expected {info.split!r}")
    attributes = dict(info_back.attributes)
    for key, value in info.attributes:
        if attributes.get(key) != value:
            add("attributes", f"attribute {key}: {attributes.get(key)!r}, expected {value!r}")
    names, names_back = {c.id: c for c in info.categories}, {c.id: c for c in info_back.categories}
    unique = {name for name in (c.name for c in info.categories) if sum(c.name == name for c in info.categories) == 1}
    if len(videos_back) != len(videos) or any(b is not None and b.name != v.name for v, b in zip(videos, videos_back)):
        add("videos", f"videos {[v and v.name for v in videos_back]}")
        return found
    for video, got in zip(videos, videos_back):
        where = video.name
        if got is None:  # refused on reading: a frame named where no file is
            add("unlocated", f"{where}: not read back")
            continue
        if (got.width, got.height) != (video.width, video.height):
            add("size", f"{where}: size")
        if got.encoding != video.encoding:
            said = {MaskEncoding.BINARY: "binary_as_palette", MaskEncoding.GRAYSCALE: "grayscale_as_palette"}
            add(said.get(video.encoding, "encoding"), f"{where}: {got.encoding}")
        if video.palette is not None and got.palette != video.palette:  # a source without one gets the layout's own
            add("palette", f"{where}: palette")
        if got.metadata != video.metadata:
            add("video_metadata", f"{where}: metadata {got.metadata}")
        back_objects = {o.object_id: o for o in got.objects}
        for obj in video.objects:
            other = back_objects.pop(obj.object_id, None)
            if other is None:
                add("unseen_objects", f"{where}: object {obj.object_id} lost")
                continue
            if other.category_id != obj.category_id:
                mine, theirs = names.get(obj.category_id), names_back.get(other.category_id)
                renumbered = writer == "youtube-vos" and mine is not None and mine.name in unique  # meta.json: by name
                if theirs is None or mine is None:
                    add("categories", f"{where}: {obj} read back as {other}")
                elif not (renumbered and theirs.name == mine.name):
                    add("merged_categories" if mine.name not in unique else "categories", f"{where}: {obj} read back as {other}")
            shown = [f.stem for f in video.frames if f.masks is not None and f.masks.get(obj.object_id) is not None]
            derived = writer in PIXEL_LAYOUTS and other.frames is None and obj.frames is not None and list(obj.frames) == shown
            if other.frames != obj.frames and not (writer == "youtube-vos" and obj.frames is None) and not derived:
                add("object_frames", f"{where}: object {obj.object_id} frames {other.frames}")  # filled in, or given back
            if other.metadata != obj.metadata:
                add("object_metadata", f"{where}: object {obj.object_id} metadata {other.metadata}")
        if back_objects:
            add("objects", f"{where}: objects {sorted(back_objects)} not in the source")
        frames_back = {f.file_name: f for f in got.frames}
        if [f.file_name for f in got.frames] != [f.file_name for f in video.frames if f.file_name in frames_back]:
            add("frame_order", f"{where}: frames {[f.file_name for f in got.frames]}")
        for frame in video.frames:
            other = frames_back.get(frame.file_name)
            if other is None:
                add("unwritten_frames", f"{where}/{frame.file_name} lost")
                continue
            if _image(other) != _image(frame) and (images or other.image is not None):
                add("unlocated", f"{where}/{frame.file_name}: image")
            if (other.masks is None) != (frame.masks is None):
                add("annotated", f"{where}/{frame.file_name}: annotated is {other.masks is not None}")
                continue
            if frame.masks is None:
                continue
            if other.masks.void != frame.masks.void:
                add("void_frames", f"{where}/{frame.file_name}: void {other.masks.void}")
            pixels = [(m.object_id, m.counts, m.area, m.bbox) for m in frame.masks.objects]
            if [(m.object_id, m.counts, m.area, m.bbox) for m in other.masks.objects] != pixels:
                add("masks", f"{where}/{frame.file_name}: masks {other.masks.objects}")
            elif [m.values for m in other.masks.objects] != [m.values for m in frame.masks.objects]:
                add("mask_values", f"{where}/{frame.file_name}: values {[m.values for m in other.masks.objects]}")
    return found


def _read(out: Path, writer: str) -> tuple[DatasetInfo, list[Video | None]]:
    """The output read back; a video its reader refuses (BURST's, naming a frame file that is not there) is None."""
    with api.open_reader(out, writer) as reader:
        videos = []
        for ref in reader.list_videos():
            try:
                videos.append(reader.read_video(ref))
            except SourceError as error:
                if "is missing" not in error.cause:
                    raise
                videos.append(None)
        return reader.info(), videos


SOURCES = {"traits": traits_source, "wide": wide_source}
#: Test case -> (writer, its options): every round-trip writer, and the options that change what is stored.
CASES = {
    **{name: (name, None) for name in round_trip_writers()},
    "hdf5-dense": ("hdf5", {"masks": "dense"}),
    "parquet-named-frames": ("parquet", {"images": False}),
    "mose-void-kept": ("mose", {"void": "keep"}),
    "davis-annotations-only": ("davis", {"images": False}),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_difference_is_said_or_refused(tmp_path, source, case):
    writer, options = CASES[case]
    made = SOURCES[source](tmp_path / "images")
    out = tmp_path / OUTPUT_NAMES.get(writer, "out")
    if source == "wide" and (writer in PIXEL_LAYOUTS or case == "hdf5-dense"):
        with pytest.raises(SourceError, match=r"not a pixel value 1 to 254|overlap"):
            convert(*made, api.open_writer(writer, options), out)
        assert not out.exists()
        return
    summary = convert(*made, api.open_writer(writer, options), out)
    found = differences(made, _read(out, writer), writer, images=(options or {}).get("images", True))
    unsaid = {key: what for key, what in found.items() if key not in reported(out, summary.notes)}
    assert not unsaid, f"{writer} changed without saying so: {unsaid} (its notes: {summary.notes})"


def test_the_check_finds_what_a_writer_changes_in_silence(tmp_path):
    """The comparison itself: a changed category id, a lost value or object, a void dropped are all found."""
    info, videos = traits_source(tmp_path / "images")
    position, video = next((i, v) for i, v in enumerate(videos) if v.name == "vidé o")
    frames = list(video.frames)
    masks = frames[1].masks
    frames[1] = dataclasses.replace(
        frames[1], masks=FrameMasks(tuple(dataclasses.replace(m, values=()) for m in masks.objects), None)
    )
    changed = dataclasses.replace(
        video,
        frames=tuple(frames),
        objects=tuple(
            dataclasses.replace(o, category_id=1) if o.object_id == 2 else o for o in video.objects if o.object_id != 9
        ),
    )
    back = [changed if i == position else v for i, v in enumerate(videos)]
    unused_lost = tuple(c for c in TABLE if c.id != 3)
    found = differences((info, videos), (dataclasses.replace(info, categories=unused_lost), back), "coco")
    assert set(found) == {"dataset_categories", "merged_categories", "unseen_objects", "void_frames", "mask_values"}
    assert differences((info, videos), (info, videos), "coco") == {}
