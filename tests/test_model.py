"""The intermediate form: validation in the dataclasses, small helpers, picklability, and no package imports."""

from __future__ import annotations

import ast
import os
import pickle
from pathlib import Path

import pytest

from converters import model
from converters.model import VOID_ID, Category, Frame, FrameMasks, ImageRef, Mask, MaskEncoding, ObjectInfo, Video


def mask(object_id: int, area: int = 4) -> Mask:
    return Mask(object_id, "52203", area, (1, 1, 2, 2))


def video(frames: tuple[Frame, ...], objects: tuple[int, ...] = (1, 2), **kwargs) -> Video:
    return Video("v", 8, 6, frames, tuple(ObjectInfo(i) for i in objects), **kwargs)


# ------------------------------------------------------------------ FrameMasks


def test_frame_masks_accepts_sorted_unique_ids():
    masks = FrameMasks((mask(1), mask(3), mask(7)), void=mask(VOID_ID))
    assert [m.object_id for m in masks.objects] == [1, 3, 7]


@pytest.mark.parametrize("ids", [(2, 1), (1, 1), (1, 3, 2)], ids=["unsorted", "duplicate", "unsorted-tail"])
def test_frame_masks_rejects_unsorted_or_duplicate_ids(ids):
    with pytest.raises(ValueError, match="unique and sorted"):
        FrameMasks(tuple(mask(i) for i in ids))


def test_frame_masks_take_any_object_id_of_31_bits_the_void_apart():
    """SA-V counts objects from 0 and BURST's track ids are large: ids are kept as given; 255 is an object like any
    other here (the void region is FrameMasks.void, apart)."""
    masks = FrameMasks((mask(0), mask(VOID_ID), mask(model.MAX_OBJECT_ID)), void=mask(VOID_ID))
    assert [m.object_id for m in masks.objects] == [0, VOID_ID, (1 << 31) - 1]
    for bad in (-1, 1 << 31):
        with pytest.raises(ValueError, match="object ids must be 0 to"):
            FrameMasks((mask(bad),))


@pytest.mark.parametrize("empty", ["object", "void"])
def test_a_mask_without_pixels_is_refused(empty):
    """Absent is no mask: COCO, CocoVID, BURST, SA-V and the PNG layouts read a mask without pixels back as none, so
    one given (by a plugin reader, say) would be lost by some formats and kept by others; it is refused where it
    comes in."""
    blank = Mask(VOID_ID if empty == "void" else 2, "`1", 0, (0, 0, 0, 0))
    with pytest.raises(ValueError, match="mask without pixels"):
        FrameMasks((mask(1), blank)) if empty == "object" else FrameMasks((mask(1),), blank)


def test_the_void_region_carries_no_values():
    """Per-frame values are an object's (SA-V's stability score); no format keeps any on the void region."""
    with pytest.raises(ValueError, match="void region has per-frame values"):
        FrameMasks((mask(1),), Mask(VOID_ID, "52203", 4, (1, 1, 2, 2), (("score", 0.5),)))


def test_frame_masks_get():
    one, three = mask(1, area=10), mask(3, area=30)
    masks = FrameMasks((one, three))
    assert masks.get(1) is one
    assert masks.get(3) is three
    assert masks.get(2) is None
    assert FrameMasks().get(1) is None


# ------------------------------------------------------------------ ImageRef


def test_image_ref_holds_a_path_or_data():
    assert ImageRef(path="a/00000.jpg").data is None
    assert ImageRef(data=b"\xff\xd8").path is None


@pytest.mark.parametrize("kwargs", [{}, {"path": "a.jpg", "data": b"x"}], ids=["neither", "both"])
def test_image_ref_needs_exactly_one_of_path_or_data(kwargs):
    with pytest.raises(ValueError, match="exactly one"):
        ImageRef(**kwargs)


def test_image_ref_repr_hides_the_bytes():
    assert "secret" not in repr(ImageRef(data=b"secret"))


# ------------------------------------------------------------------ Video


def test_video_rejects_frame_index_mismatch():
    frames = (Frame(0, "00000.jpg"), Frame(2, "00001.jpg"))
    with pytest.raises(ValueError, match=r"00001\.jpg has index 2, expected 1"):
        video(frames)


def test_video_rejects_frames_out_of_order():
    with pytest.raises(ValueError, match="expected 0"):
        video((Frame(1, "00001.jpg"), Frame(0, "00000.jpg")))


@pytest.mark.parametrize("ids", [(2, 1), (1, 1)], ids=["unsorted", "duplicate"])
def test_video_rejects_unsorted_or_duplicate_object_ids(ids):
    with pytest.raises(ValueError, match="unique and sorted"):
        video((Frame(0, "00000.jpg"),), objects=ids)


def test_video_rejects_masks_of_unknown_objects():
    frames = (Frame(0, "00000.jpg", masks=FrameMasks((mask(1), mask(5)))),)
    with pytest.raises(ValueError, match=r"v/00000\.jpg: objects \[5\] missing from Video\.objects"):
        video(frames, objects=(1, 2))


def test_video_allows_objects_absent_from_every_frame():
    """An object listed in Video.objects need not appear in any mask (it may vanish, or only be listed)."""
    v = video((Frame(0, "00000.jpg", masks=FrameMasks((mask(1),))),), objects=(1, 2, 9))
    assert [o.object_id for o in v.objects] == [1, 2, 9]


def test_video_annotated_indices_has_void_and_size():
    frames = (
        Frame(0, "00000.jpg", masks=FrameMasks((mask(1),))),
        Frame(1, "00001.jpg"),  # no annotation file
        Frame(2, "00002.jpg", masks=FrameMasks()),  # annotated, empty
        Frame(3, "00003.jpg"),
    )
    v = video(frames)
    assert v.annotated_indices == (0, 2)
    assert not v.has_void
    assert v.size == (6, 8)  # (height, width), as in the RLE size

    with_void = video((*frames[:3], Frame(3, "00003.jpg", masks=FrameMasks((), void=mask(VOID_ID)))))
    assert with_void.has_void
    assert with_void.annotated_indices == (0, 2, 3)


def test_video_without_frames_is_valid():
    v = Video("empty", 4, 4, ())
    assert v.annotated_indices == ()
    assert not v.has_void


@pytest.mark.parametrize("name", ["", ".", "..", "../up", "a/b", "/abs", "a\\b", "nul\0"])
def test_video_and_frame_names_must_be_one_safe_path_component(name):
    """Writers make folders and files of these names: none may climb out of the output or be empty."""
    with pytest.raises(ValueError, match="cannot be a file or folder name"):
        Video(name, 4, 4, ())
    with pytest.raises(ValueError, match="frame file name"):
        Video("v", 4, 4, (Frame(0, name),))


@pytest.mark.parametrize(
    "make",
    [
        lambda text: Video(text, 4, 4, ()),
        lambda text: Video("v", 4, 4, (Frame(0, f"{text}.jpg"),)),
        lambda text: Category(1, text),
        lambda text: Category(1, "dog", text),
        lambda text: ObjectInfo(1, frames=(text,)),
        lambda text: ObjectInfo(1, metadata=(("name", text),)),
        lambda text: ObjectInfo(1, metadata=((text, 1),)),
    ],
    ids=["video name", "frame name", "category", "supercategory", "object frames", "metadata value", "metadata key"],
)
def test_strings_that_are_not_utf8_are_refused(make):
    """A lone surrogate (a file name of bytes that are not UTF-8, a JSON "\\udcff") stopped every writer half way."""
    with pytest.raises(ValueError, match="is not UTF-8 text"):
        make(os.fsdecode(b"vid\xe9o"))
    make("vidéo")  # any other character is kept


def test_names_longer_than_a_file_name_can_be_are_refused():
    """No file system holds a name over 255 bytes: a writer would fail on it half way (ENAMETOOLONG)."""
    assert Video("é" * 127 + "x", 4, 4, (Frame(0, "x" * 251 + ".jpg"),)).name  # 255 bytes each
    with pytest.raises(ValueError, match="256 bytes long, over 255"):
        Video("é" * 128, 4, 4, ())
    with pytest.raises(ValueError, match="frame file name"):
        Video("v", 4, 4, (Frame(0, "x" * 252 + ".jpg"),))


def test_names_may_hold_any_other_characters():
    assert Video("bike packing é-1", 4, 4, (Frame(0, "00000 (1).jpg"),)).name == "bike packing é-1"


def test_frame_stem_and_annotated():
    assert Frame(0, "00005.jpg").stem == "00005"
    assert Frame(0, "a.b.jpg").stem == "a.b"
    assert not Frame(0, "x.jpg").annotated
    assert Frame(0, "x.jpg", masks=FrameMasks()).annotated


def test_video_pickles_and_compares_equal():
    frames = (
        Frame(0, "00000.jpg", ImageRef(data=b"\xff\xd8jpeg bytes\xff\xd9"), FrameMasks((mask(1), mask(2)), void=mask(VOID_ID))),
        Frame(1, "00001.jpg", ImageRef(path="/data/v/00001.jpg")),
        Frame(2, "00002.jpg", None, FrameMasks()),
    )
    original = Video(
        "v",
        8,
        6,
        frames,
        (ObjectInfo(1, 3, ("00000", "00002")), ObjectInfo(2)),
        MaskEncoding.GRAYSCALE,
        palette=bytes(range(48)),
    )
    copy = pickle.loads(pickle.dumps(original))
    assert copy == original
    assert copy is not original
    assert copy.frames[0].image.data == b"\xff\xd8jpeg bytes\xff\xd9"
    assert copy.encoding is MaskEncoding.GRAYSCALE
    # equality really looks at the content
    assert copy != Video("v", 8, 6, frames, original.objects, MaskEncoding.PALETTE, palette=bytes(range(48)))


# ------------------------------------------------------------------ isolation


def test_model_imports_nothing_from_the_package():
    """model.py is the shared vocabulary: it must not import any other vosconv module (no cycles, cheap to load)."""
    tree = ast.parse(Path(model.__file__).read_text())
    imported = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported.append("." * node.level + (node.module or ""))
    assert imported, "no imports found: the parse is broken"
    offending = [name for name in imported if name.startswith(".") or name.split(".")[0] == "converters"]
    assert offending == []
    assert {name.split(".")[0] for name in imported} <= {"__future__", "enum", "dataclasses", "typing"}


# ------------------------------------------------------------------ what no source may smuggle in


@pytest.mark.parametrize("object_id", [-1, 1 << 31, 1 << 40, True, 1.0])
def test_object_ids_are_integers_of_31_bits(object_id):
    """What the int32 columns of the shard formats hold; the pixel-value limits are the PNG writers' to check."""
    with pytest.raises(ValueError, match="object id"):
        ObjectInfo(object_id)


@pytest.mark.parametrize("object_id", [0, 255, 256, (1 << 31) - 1])
def test_object_ids_beyond_pixel_values_are_kept(object_id):
    assert ObjectInfo(object_id).object_id == object_id


def test_object_metadata_and_frame_values_are_json_scalars():
    info = ObjectInfo(0, metadata=(("masklet_type", "auto"), ("masklet_first_appeared_frame", 113.0)))
    assert info.get("masklet_first_appeared_frame") == 113.0 and info.get("absent") is None
    assert Mask(0, "52203", 4, (1, 1, 2, 2), (("stability_score", 0.5),)).values == (("stability_score", 0.5),)
    for bad in ((("a", [1]),), (("a", 1), ("a", 2)), ((1, 2),), (("a", float("nan")),), [("a", 1)]):
        with pytest.raises(ValueError):
            ObjectInfo(1, metadata=bad)
        with pytest.raises(ValueError):
            Mask(1, "52203", 4, (1, 1, 2, 2), bad)


def test_image_ref_may_be_a_frame_of_a_video_file():
    ref = ImageRef(path="sav_000001.mp4", frame=8)
    assert ref.location == "sav_000001.mp4#frame=8" and ref.quality == 95
    for kwargs in ({"data": b"x", "frame": 0}, {"path": "a.mp4", "frame": -1}, {"path": "a.mp4", "archive": "x.zip", "frame": 0}):
        with pytest.raises(ValueError, match="frame of a video"):
            ImageRef(**kwargs)
    with pytest.raises(ValueError, match="quality"):
        ImageRef(path="a.mp4", frame=0, quality=0)


def test_the_void_mask_has_the_void_id():
    with pytest.raises(ValueError, match="void region's id"):
        FrameMasks((), mask(7))
    assert FrameMasks((), mask(VOID_ID)).void.object_id == VOID_ID


@pytest.mark.parametrize(("width", "height"), [(0, 4), (4, -1), (65536, 4), (20000, 20000)])
def test_frame_sizes_out_of_range(width, height):
    with pytest.raises(ValueError, match="out of range"):
        Video("v", width, height, ())


@pytest.mark.parametrize("size", [0, 5, 771])
def test_palettes_are_1_to_256_triplets(size):
    with pytest.raises(ValueError, match="palette"):
        Video("v", 4, 4, (), palette=bytes(size))
    assert Video("v", 4, 4, (), palette=bytes(768)).palette == bytes(768)


def test_two_frames_may_not_share_a_mask_file():
    """00000.jpg and 00000.png would both be written to 00000.png: one mask would be lost."""
    with pytest.raises(ValueError, match="two frames named 00000"):
        Video("v", 4, 4, (Frame(0, "00000.jpg"), Frame(1, "00000.png")))


@pytest.mark.parametrize("case", ["two objects", "object 2", "void"])
def test_a_binary_video_holds_object_1_alone(case):
    """One 0/255 PNG cannot keep two ids apart or a void region: refused rather than merged."""
    objects = {"two objects": (1, 2), "object 2": (2,), "void": (1,)}[case]
    masks = FrameMasks((mask(objects[0]),), mask(VOID_ID) if case == "void" else None)
    with pytest.raises(ValueError, match="binary"):
        video((Frame(0, "0.jpg", masks=masks),), objects=objects, encoding=MaskEncoding.BINARY)
    assert video((Frame(0, "0.jpg", masks=FrameMasks((mask(1),))),), objects=(1,), encoding=MaskEncoding.BINARY)


@pytest.mark.parametrize("category_id", ["abc", 2**40, True, 1.5])
def test_category_ids_are_32_bit_integers(category_id):
    with pytest.raises(ValueError, match="category id"):
        Category(category_id, "x")
    with pytest.raises(ValueError, match="category id"):
        ObjectInfo(1, category_id)


@pytest.mark.parametrize("resize", [5, (427, 240, 3), ("427", 240), (True, 240), (427.0, 240)])
def test_image_ref_refuses_a_resize_that_is_no_pair_of_whole_numbers(resize):
    """An int or a triple escaped as a bare TypeError, a bool passed: each is a ValueError saying what a resize is."""
    with pytest.raises(ValueError, match=r"a tuple \(width, height\) of whole numbers"):
        ImageRef(path="f.jpg", resize=resize)


def test_image_ref_keeps_a_resize_as_a_tuple_of_ints():
    """A list left the ref unhashable (a TypeError where a set or a dict key took it); NumPy's integers are sizes too."""
    import numpy as np

    for given in ([427, 240], (np.int64(427), np.uint16(240))):
        ref = ImageRef(path="f.jpg", resize=given)
        assert ref.resize == (427, 240) and all(type(side) is int for side in ref.resize)
        assert ref == ImageRef(path="f.jpg", resize=(427, 240)) and len({ref}) == 1
