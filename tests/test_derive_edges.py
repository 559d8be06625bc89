"""Derived sets at their edges: what a valid split's meta.json lists, blank and non-integer options, objects a resize
leaves without pixels, the byte form of Cutie's empty-mask list, and the source statistics a step makes untrue."""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.cli import main
from converters.codecs import labels
from converters.errors import OptionError, SourceError
from converters.model import Frame, MaskEncoding, ObjectInfo, Video
from converters.run.derive import Derive, derive_video
from converters.sample import label_maps
from converters.writer import ShardResult, Writer


def video_of(label_maps_by_frame: list[np.ndarray | None], objects: tuple[ObjectInfo, ...], **video) -> Video:
    """A video whose frame i is label map i (None: an unannotated frame)."""
    height, width = next(m for m in label_maps_by_frame if m is not None).shape
    frames = tuple(
        Frame(i, f"{i:05d}.jpg", masks=None if m is None else labels.encode_frame(m, MaskEncoding.PALETTE))
        for i, m in enumerate(label_maps_by_frame)
    )
    return Video("v", width, height, frames, objects, **video)


# ------------------------------------------------------------------ bad values


@pytest.mark.parametrize("flag", ["--videos-from", "--empty-frames-list"])
@pytest.mark.parametrize("value", ["", "  "])
def test_a_blank_file_name_is_refused_not_taken_for_no_list(sample_root, tmp_path, monkeypatch, flag, value, capsys):
    """``--videos-from "$LIST"`` with LIST unset converted every video, as if no list were given; a blank
    ``--empty-frames-list`` wrote the list to a file named by the blanks in the working folder."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out.json"
    argv = ["convert", str(sample_root["mose"]), "--split", "train", "-o", str(out), flag, value]
    assert main(argv) != 0
    assert f"{flag}: is empty" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == []
    key = flag[2:].replace("-", "_")
    with pytest.raises(OptionError, match=f"{flag}: is empty"):
        api.convert(sample_root["mose"], out, to="coco", reader_options={"split": "train"}, derive={key: value})


def test_a_blank_file_name_in_pipelines_yaml_is_refused(sample_root, tmp_path, capsys):
    config = tmp_path / "pipelines.yaml"
    config.write_text(
        f"pipelines:\n  small:\n    source: {sample_root['mose']}\n    reader: mose\n"
        "    reader_options: {split: train}\n    derive: {videos_from: ''}\n"
    )
    assert main(["run", "small", "--config", str(config)]) == 1
    assert "--videos-from: is empty" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("options", "flag"),
    [({"frame_step": 2.5}, "--frame-step"), ({"frame_step": True}, "--frame-step"), ({"frame_step": "2"}, "--frame-step"),
     ({"frame_step": None}, "--frame-step"), ({"max_side": 64.0}, "--max-side"), ({"max_side": True}, "--max-side")],
)  # fmt: skip
def test_a_derive_of_other_than_whole_numbers_is_an_option_error(options, flag):
    """A Derive made in Python took 2.5 and failed later with a TypeError from inside a worker."""
    with pytest.raises(OptionError, match=f"{flag}: must be a whole number"):
        Derive(**options)


# ------------------------------------------------------------------ --empty-frames-list: Cutie's bytes


def cuties_find_empty_mask(data_path: Path) -> str:
    """What Cutie's ``scripts/data/find_empty_mask.py`` writes for a folder of PNG folders (its code, in one place)."""
    output = {}
    for v in sorted(os.listdir(data_path)):
        output[v] = [f[:-4] for f in sorted(os.listdir(data_path / v)) if np.array(Image.open(data_path / v / f)).max() == 0]
    return json.dumps(output)


def test_the_empty_frames_list_is_byte_for_byte_what_cuties_script_writes(sample_root, tmp_path):
    listing = tmp_path / "mose_empty_masks.txt"
    out = tmp_path / "out"
    derive = {"empty_frames_list": str(listing), "frame_step": 1}
    api.convert(sample_root["mose"], out, to="mose", reader_options={"split": "train"}, derive=derive)
    expected = cuties_find_empty_mask(out / "Annotations")
    assert '["00007"]' in expected  # the sample's empty frame
    assert listing.read_text() == expected


def test_cuties_shipped_lists_are_that_form(shared_samples):
    """The form above is the one Cutie ships (``mose_empty_masks.txt``, ...): ``json.dump`` with its defaults."""
    shipped = sorted(shared_samples.glob("*/cutie/utils/subsets/*_empty_masks.txt"))
    assert shipped
    for path in shipped:
        text = path.read_text()
        assert json.dumps(json.loads(text)) == text, path


# ------------------------------------------------------------------ --first-appearance: the valid split's meta.json


def test_first_appearance_meta_json_lists_each_objects_frames_from_its_first_appearance_on(sample_root, tmp_path):
    """YouTube-VOS valid's meta.json lists, per object, the frames to predict it on, from its first appearance to the
    end (XMem, Cutie and DeAOT take frames[0] as its template and save the union): not its first frame alone."""
    root = sample_root["mose"]
    out = tmp_path / "valid"
    api.convert(root, out, to="youtube-vos", from_="mose", reader_options={"split": "train"}, derive={"first_appearance": True})
    meta = json.loads((out / "meta.json").read_text())["videos"]
    by_video: dict[str, dict[str, np.ndarray]] = {}
    for relative, label in label_maps(root / "train" / "Annotations").items():
        video, name = relative.split("/")
        by_video.setdefault(video, {})[name[:-4]] = label
    late = 0
    for video, frames in by_video.items():
        stems = sorted(frames)
        first = {}
        for stem in stems:
            for object_id in sorted(set(np.unique(frames[stem]).tolist()) - {0}):
                first.setdefault(object_id, stem)
        assert set(meta[video]["objects"]) == {str(i) for i in first}
        for object_id, stem in first.items():
            assert meta[video]["objects"][str(object_id)]["frames"] == [s for s in stems if s >= stem]
        late += sum(stem != stems[0] for stem in first.values())
    assert late == 1  # the sample's object first seen at frame 5: its list starts there


def test_first_appearance_lists_only_frames_the_source_annotated():
    """Frames without an annotation in the source have no ground truth to score a prediction on: not listed. An object
    that never appears keeps what the source listed; one that vanishes and returns is listed throughout."""
    one, two = np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8)
    one[1:3, 1:3] = 1
    two[4:6, 4:6] = 2
    empty = np.zeros((8, 8), np.uint8)
    maps = [one, None, empty, one + two, None, two]  # object 1 vanishes at 2, returns at 3; object 2 first at 3
    objects = (ObjectInfo(1), ObjectInfo(2), ObjectInfo(3, frames=("00004",)))
    derived = derive_video(video_of(maps, objects), Derive(first_appearance=True))
    assert [o.frames for o in derived.objects] == [("00000", "00002", "00003", "00005"), ("00003", "00005"), ("00004",)]
    assert [f.masks is not None for f in derived.frames] == [True, False, False, True, False, False]
    stepped = derive_video(video_of(maps, objects), Derive(first_appearance=True, frame_step=2))  # 00000, 00002, 00004
    assert [o.object_id for o in stepped.objects] == [1, 3]  # object 2 is only on frames stepped over
    assert stepped.objects[0].frames == ("00000", "00002")


# ------------------------------------------------------------------ --max-side: objects left without pixels


def test_max_side_drops_an_object_without_a_pixel_left_as_a_frame_step_does():
    """An object whose every mask is thinner than the sampling grid was kept with no mask anywhere: a meta.json
    entry with no frame, a COCO track of nulls, counted by stats as never visible."""
    thin, wide = np.zeros((40, 40), np.uint8), np.zeros((40, 40), np.uint8)
    thin[30, 30] = 3  # one pixel: rows and columns 1, 3, 5, ... are sampled at half size
    wide[10:20, 10:20] = 1
    objects = (ObjectInfo(1), ObjectInfo(2), ObjectInfo(3))  # 2 is declared without a mask: it stays
    derived = derive_video(video_of([wide + thin, thin], objects), Derive(max_side=20))
    assert [o.object_id for o in derived.objects] == [1, 2]
    assert [len(f.masks.objects) for f in derived.frames] == [1, 0]  # the second frame is annotated and empty


def test_a_mask_that_cannot_be_resized_names_its_video_and_object_not_a_file(tmp_path):
    """The error of a mask whose RLE does not describe the video's size, built in Python (``write_videos`` takes
    such): its "file" was the video's name, made an absolute path in errors.jsonl as if it were a source file."""
    wide = np.zeros((40, 40), np.uint8)
    wide[10:20, 10:20] = 1
    video = video_of([wide], (ObjectInfo(1),))
    bad = dataclasses.replace(video.frames[0].masks.objects[0], counts="zz")
    frame = dataclasses.replace(video.frames[0], masks=dataclasses.replace(video.frames[0].masks, objects=(bad,)))
    video = dataclasses.replace(video, frames=(frame,))
    with pytest.raises(SourceError) as caught:
        derive_video(video, Derive(max_side=20))
    assert caught.value.path == "" and str(caught.value).startswith("video 'v': object 1: ")


def test_max_side_leaves_videos_that_fit_untouched_and_says_so(sample_root, tmp_path):
    """Videos within N pixels keep their frames byte for byte and their masks (no upscaling, no re-encode); the record
    says which videos the lossy step touched."""
    root = sample_root["mose"]
    out = tmp_path / "small"
    api.convert(root, out, to="mose", reader_options={"split": "train"}, derive={"max_side": 250})
    source, written = label_maps(root / "train" / "Annotations"), label_maps(out / "Annotations")
    resized = set()
    for folder in sorted(p for p in (root / "train" / "JPEGImages").iterdir() if p.is_dir()):
        with Image.open(folder / "00000.jpg") as image:
            fits = max(image.size) <= 250
        for jpeg in sorted(p for p in folder.glob("*.jpg") if not p.name.startswith(".")):
            copy = out / "JPEGImages" / folder.name / jpeg.name
            if fits:
                assert copy.read_bytes() == jpeg.read_bytes()
                assert np.array_equal(written[f"{folder.name}/{jpeg.stem}.png"], source[f"{folder.name}/{jpeg.stem}.png"])
            else:
                with Image.open(copy) as image:
                    assert image.size == (250, 141)  # 320 x 180: 140.6 rounds up
                resized.add(folder.name)
    assert len(resized) == 1
    record = json.loads(json.loads((out / ".vosconv.json").read_text())["attributes"]["derived"])
    assert record["lossy"].startswith("videos over 250 px a side:") and record["lossy"].endswith("smaller videos unchanged")


# ------------------------------------------------------------------ source statistics a step makes untrue


def test_a_derived_sa_v_set_drops_the_statistics_it_would_contradict(tmp_path):
    """SA-V's masklet_frame_count, visibility changes and sizes were carried over from the full set: the derived JSON
    said 5 annotated frames over a masklet of 3, and the resolution of the full-size video."""
    pytest.importorskip("av")
    from .savdata import make_train

    source = make_train(tmp_path / "src", {"sav_000001": 17}, auto=False)
    out = tmp_path / "out"
    api.convert(source, out, to="sav", writer_options={"json": True}, derive={"frame_step": 2, "max_side": 33})
    doc = json.loads((out / "Annotations_json" / "sav_000001_manual.json").read_text())
    assert len(doc["masklet"]) == 3 and (doc["video_width"], doc["video_height"]) == (33.0, 24.0)
    assert doc["video_resolution"] == 33.0 * 24.0  # from the derived video, not the source's 66 x 48
    stale = {"masklet_frame_count", "masklet_visibility_changes", "masklet_size_abs", "masklet_size_rel"}
    assert not stale & set(doc)
    assert doc["masklet_type"] == ["manual"] * 3 and doc["masklet_id"] == [0, 1, 2]  # what the steps leave true stays
    assert doc["video_environment"] == "Indoor"
    plain = tmp_path / "plain"
    api.convert(source, plain, to="sav", writer_options={"json": True}, derive={"videos_from": None, "max_side": 100})
    kept = json.loads((plain / "Annotations_json" / "sav_000001_manual.json").read_text())
    assert kept["masklet_frame_count"] == [5, 5, 5] and kept["video_resolution"] == 66.0 * 48.0  # nothing changed


def test_an_empty_frames_list_of_a_first_appearance_set_is_refused(sample_root, tmp_path, capsys):
    """Every annotated frame of a first-appearance set holds an object first seen there: the list named no frame,
    for every video, whatever the source held (the sample has an empty frame), a mistake that looked like an answer."""
    out, listing = tmp_path / "out.json", tmp_path / "empty.json"
    argv = ["convert", str(sample_root["mose"]), "--split", "train", "-o", str(out), "--first-appearance"]
    assert main([*argv, "--empty-frames-list", str(listing)]) != 0
    assert "--empty-frames-list: a --first-appearance set has no empty annotated frame" in capsys.readouterr().err
    assert not out.exists() and not listing.exists()


def test_a_video_list_that_is_a_binary_or_huge_file_is_refused_unread(sample_root, tmp_path):
    """``--videos-from`` given a video or an archive by mistake: read whole before (a 50 GB tar, all of it), and a
    file of NULs, valid UTF-8, was taken for one long video name."""
    binary = tmp_path / "00000.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    huge = tmp_path / "sav_train.tar"
    with open(huge, "wb") as file:
        file.truncate((1 << 26) + 1)  # sparse: nothing is written, and nothing may be read
    out = tmp_path / "out.json"
    with pytest.raises(OptionError, match=r"--videos-from: .*00000\.jpg: a binary file \(NUL at byte 4\)"):
        api.convert(sample_root["mose"], out, to="coco", reader_options={"split": "train"}, derive={"videos_from": str(binary)})
    with pytest.raises(OptionError, match=r"--videos-from: .*sav_train\.tar: over 64 MiB, no list of video names"):
        api.convert(sample_root["mose"], out, to="coco", reader_options={"split": "train"}, derive={"videos_from": str(huge)})
    assert not out.exists()


def test_first_appearance_of_a_valid_split_changes_nothing(sample_root, tmp_path):
    """A source that is already a valid split (PNGs on first appearances, meta.json listing the frames to predict):
    its lists are kept, where the step cut them to the frames with a PNG (the sample's object 1: 00000 and 00025)."""
    root = sample_root["youtube-vos"]
    out = tmp_path / "again"
    api.convert(root, out, to="youtube-vos", reader_options={"split": "valid"}, derive={"first_appearance": True})
    assert json.loads((out / "meta.json").read_text()) == json.loads((root / "valid" / "meta.json").read_text())
    given, written = label_maps(root / "valid" / "Annotations"), label_maps(out / "Annotations")
    assert sorted(written) == sorted(given) and all(np.array_equal(written[k], given[k]) for k in given)


class Counted(Writer):
    """A plugin's writer of a format no built-in one knows: a file saying how many videos it saw."""

    name, output_kind, suffix = "counted", "file", ".counted"

    def write_shard(self, videos, shard, staging, info):
        return ShardResult(shard.index, facts={"videos": sum(1 for _ in videos)})

    def finalize(self, results, info, staging, output):
        path = staging / "out.counted"
        path.write_text(f"COUNTED {sum(r.facts['videos'] for r in results)}\n")
        return path

    @classmethod
    def owns(cls, path):
        return path.is_file() and path.read_bytes().startswith(b"COUNTED ")


def test_overwrite_with_an_empty_frames_list_asks_a_plugin_writer_whether_it_wrote_the_output(sample_root, tmp_path):
    """The list wraps the writer; --overwrite then asked the wrapper's class, not the plugin's, whether the output
    was vosconv's, and no built-in writer knows a plugin's format: refused as 'not a file vosconv wrote'."""
    from converters import registry

    saved = {kind: dict(table) for kind, table in registry._known.items()}
    registry.register("writer", "counted", Counted)
    try:
        out, listing = tmp_path / "out.counted", tmp_path / "empty.json"
        for _ in range(2):
            derive = {"empty_frames_list": str(listing)}
            api.convert(sample_root["mose"], out, to="counted", reader_options={"split": "train"}, derive=derive, overwrite=True)
        assert out.read_text() == "COUNTED 3\n" and len(json.loads(listing.read_text())) == 3
    finally:
        for kind, table in registry._known.items():  # restore in place: other tests list the built-ins
            table.clear()
            table.update(saved[kind])


def test_max_side_resizes_a_frame_of_a_video_file_as_decoded_encoding_it_once(tmp_path):
    """SA-V train's frames are an mp4's: each was encoded to JPEG, decoded, resized and encoded again, two JPEG
    losses where one is needed. The resized frame is the decoded one's Lanczos resize, encoded once at quality 95."""
    av = pytest.importorskip("av")

    from .savdata import make_train

    source = make_train(tmp_path / "src", {"sav_000001": 17}, auto=False)
    out = tmp_path / "out"
    api.convert(source, out, to="sav", derive={"frame_step": 2, "max_side": 33})
    with av.open(str(source / "sav_000" / "sav_000001.mp4")) as container:
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    for number in (0, 8, 16):
        expected = io.BytesIO()
        Image.fromarray(decoded[number], "RGB").resize((33, 24), Image.Resampling.LANCZOS).save(expected, "JPEG", quality=95)
        written = (out / "JPEGImages_24fps" / "sav_000001" / f"{number:05d}.jpg").read_bytes()
        assert written == expected.getvalue(), number


def test_the_empty_frames_list_orders_stems_as_cuties_sorted_png_names(tmp_path):
    """Frames numbered without padding (YouTube-VOS's website demos: 0, 5, 10) come in frame order; Cutie lists the
    sorted PNG names, so 10 before 5 (and a-b before a, as '-' sorts before '.')."""
    from converters.run.derive import write_empty_frames

    path = tmp_path / "empty.json"
    write_empty_frames(path, {"v": ["0", "5", "10"], "w": ["a", "a-b"]})
    assert path.read_text() == '{"v": ["0", "10", "5"], "w": ["a-b", "a"]}'


def test_max_side_reads_no_frame_until_the_writer_does(sample_root, monkeypatch):
    """Every frame of a video was decoded, resized and re-encoded as the video was read, and held until written: a
    long video's frames (LVOS's thousands) all in memory at once. They are resized as the writer reads each one."""
    from converters.sources import imagefiles

    with api.open_reader(sample_root["mose"], "mose", {"split": "train"}) as reader:
        video = reader.read_video(max(reader.list_videos(), key=lambda ref: ref.nbytes))
    read = imagefiles.read_bytes
    monkeypatch.setattr(imagefiles, "read_bytes", lambda ref: pytest.fail(f"{ref.location} read while deriving"))
    derived = derive_video(video, Derive(max_side=64))
    assert all(f.image.data is None and f.image.resize == (derived.width, derived.height) for f in derived.frames)
    monkeypatch.setattr(imagefiles, "read_bytes", read)
    with Image.open(io.BytesIO(imagefiles.read_bytes(derived.frames[0].image))) as image:
        assert image.size == (derived.width, derived.height) and image.format == "JPEG"


def test_a_derive_of_numpy_integers_is_taken_as_plain_ints():
    """A NumPy integer is a whole number (``workers=`` takes one); it was refused as "must be a whole number, got
    np.int64(2)". Kept as an int, as the output's JSON record of the derivation needs."""
    derive = Derive(frame_step=np.int64(2), max_side=np.uint16(64))
    assert (derive.frame_step, derive.max_side) == (2, 64)
    assert type(derive.frame_step) is int and type(derive.max_side) is int
    assert json.loads(json.dumps(dataclasses.asdict(derive)))["max_side"] == 64


def test_max_side_keeps_a_frame_s_colour_profile_and_orientation_and_drops_the_rest_of_its_exif(sample_copy, tmp_path):
    """A re-encoded frame lost its ICC profile (colours shift in every viewer that honours one) and its EXIF
    orientation (a viewer turned the source and not the copy); camera fields and the old size are not carried."""
    from PIL import ImageCms

    source = sample_copy("mose")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    frames = sorted(p for p in (source / "train" / "JPEGImages").rglob("*.jpg") if not p.name.startswith("."))
    for number, path in enumerate(frames):
        with Image.open(path) as opened:
            exif = Image.Exif()
            exif[0x0112] = 6  # Orientation: turn 90 degrees to view
            exif[0x010F] = "a camera maker"  # Make
            opened.save(path, "JPEG", quality=90, icc_profile=profile if number % 2 else None, exif=exif)
    api.convert(source / "train", tmp_path / "out", to="mose", derive={"max_side": 40})
    written = sorted((tmp_path / "out" / "JPEGImages").rglob("*.jpg"))
    assert len(written) == len(frames)
    for number, path in enumerate(written):
        with Image.open(path) as image:
            assert max(image.size) == 40
            assert image.info.get("icc_profile") == (profile if number % 2 else None), path
            assert dict(image.getexif()) == {0x0112: 6}, path


@pytest.mark.parametrize("resize_format", ["jpeg", "png"])
@pytest.mark.parametrize(
    "entry",
    [(2, 4, b"abc\x00"), (7, 4, b"\x01\x02\x03\x04"), (11, 1, b"\x00\x00\x80\x7f"), (3, 1, b"\xff\xff\x00\x00")],
    ids=["ascii", "undefined", "float", "out-of-range"],
)
def test_max_side_drops_an_exif_orientation_that_is_no_orientation(tmp_path, entry, resize_format):
    """An Orientation tag that is none of EXIF's eight (text, bytes, a float, 65535: a camera's slip or a hand edit)
    was carried into the resized copy, where Pillow's encoder stopped on most with a bare struct.error; such a tag
    says no turn a viewer knows, so it is dropped and the frame is resized."""
    import struct

    from converters.model import ImageRef
    from converters.sources import imagefiles

    kind, count, value = entry
    tiff = b"II*\x00" + struct.pack("<IHHHI", 8, 1, 0x0112, kind, count) + value + struct.pack("<I", 0)
    app1 = b"Exif\x00\x00" + tiff
    plain = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(plain, "JPEG")
    path = tmp_path / "00000.jpg"
    path.write_bytes(plain.getvalue()[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + plain.getvalue()[2:])
    data = imagefiles.read_bytes(ImageRef(str(path), resize=(32, 24), resize_format=resize_format))
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (32, 24)
        assert 0x0112 not in image.getexif()
