"""SA-V in and out: the train reader (mp4 + masklet JSON), the val/test layout both ways, and the
intermediate form's new rules (ids from 0, overlapping objects, metadata, frames of a video file)."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from converters import api
from converters.errors import DetectionError, OptionError, SourceError
from converters.formats.sav.reader import SavReader
from converters.sources import imagefiles
from converters.testing.suite import ReaderSuite

from . import savdata

pytest.importorskip("av")


def read(source: Path, fmt: str | None = None, options: dict | None = None):
    with api.open_reader(source, fmt, options) as reader:
        return [reader.read_video(ref) for ref in reader.list_videos()], reader.info()


@pytest.fixture(scope="module")
def train(tmp_path_factory) -> Path:
    return savdata.make_train(tmp_path_factory.mktemp("sav") / "sav_train", {"sav_000001": 14, "sav_000002": 13})


def source_json(train: Path, video: str, kind: str = "manual") -> dict:
    return json.loads((train / "sav_000" / f"{video}_{kind}.json").read_text())


# ------------------------------------------------------------------ the train reader


def test_a_train_folder_is_detected_with_its_reason(train):
    assert api.detect(train) == "sav"
    assert "sav_000001.mp4 with sav_000001_manual.json in sav_000/" in api.open_reader(train, "sav").sniff(train).reason


def test_train_videos_read_as_sam2_extracts_them(train):
    """Annotated frames only, named by their 24 fps index; ids from 0 as given; overlaps kept; the RLE strings the file's."""
    videos, info = read(train)
    assert [v.name for v in videos] == ["sav_000001", "sav_000002"] and info.split == "train"
    video = videos[0]
    assert [f.file_name for f in video.frames] == ["00000.jpg", "00004.jpg", "00008.jpg", "00012.jpg"]
    assert [o.object_id for o in video.objects] == [0, 1, 2]
    doc = source_json(train, "sav_000001")
    for k, frame in enumerate(video.frames):
        assert frame.image.frame == 4 * k and frame.image.path.endswith("sav_000001.mp4")
        present = {j: doc["masklet"][k][j]["counts"] for j in range(3) if savdata.box(k, j).any()}
        assert {m.object_id: m.counts for m in frame.masks.objects} == present  # object 2 absent on odd frames
    assert video.objects[0].get("masklet_first_appeared_frame") == 0.0 and video.objects[2].get("masklet_type") == "manual"
    assert video.metadata == (
        ("video_duration", 14 / 24),
        ("video_frame_count", 14.0),
        ("video_resolution", float(66 * 48)),
        ("video_environment", "Indoor"),
        ("video_split", "train"),
    )  # the per-video fields but the name (video_id) and the size, which the video holds itself


def test_masklets_auto_and_both(train):
    (auto, _), _ = read(train, "sav", {"masklets": "auto"})
    assert [o.object_id for o in auto.objects] == [0, 1]
    assert auto.frames[0].masks.objects[0].values == (("stability_score", 0.5),)
    (both, _), _ = read(train, "sav", {"masklets": "both"})
    assert [(o.object_id, o.get("masklet_id"), o.get("masklet_type")) for o in both.objects] == [
        (0, 0, "manual"),
        (1, 1, "manual"),
        (2, 2, "manual"),
        (3, 0, "auto"),
        (4, 1, "auto"),
    ]


def test_masklets_both_without_an_auto_file_is_a_source_error_not_manual_alone(train, tmp_path):
    """SA-V has no _auto.json for some videos: with -r masklets=both such a video is an error naming it (under
    --on-error, listed in errors.jsonl when skipped), never read as manual masklets alone in silence."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("sav_000001.mp4", "sav_000001_manual.json", "sav_000001_auto.json", "sav_000002.mp4", "sav_000002_manual.json"):
        (folder / name).write_bytes((train / "sav_000" / name).read_bytes())
    with pytest.raises(SourceError, match=r"no sav_000002_auto\.json beside it for -r masklets=both") as caught:
        read(folder, "sav", {"masklets": "both"})
    assert str(caught.value.path).endswith("sav_000002.mp4")
    out = tmp_path / "out.parquet"
    summary = api.convert(folder, out, to="parquet", from_="sav", reader_options={"masklets": "both"}, on_error="skip")
    assert "sav_000002_auto.json" in summary.errors_file.read_text()
    (kept,), _ = read(out)
    assert kept.name == "sav_000001" and len(kept.objects) == 5
    assert [v.name for v in read(folder, "sav", {"masklets": "manual"})[0]] == ["sav_000001", "sav_000002"]


def test_frames_all_keeps_every_frame_annotated_every_4th(train):
    (video, _), _ = read(train, "sav", {"frames": "all"})
    assert len(video.frames) == 14 and video.annotated_indices == (0, 4, 8, 12)
    assert video.frames[13].file_name == "00013.jpg" and video.frames[13].image.frame == 13


ENCODINGS = {
    "untagged": {},
    "bt709": {"bt709": True},
    "b-pyramid": {"x264": savdata.B_PYRAMID},
    "b-pyramid-bt709": {"x264": savdata.B_PYRAMID, "bt709": True},
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_frames_are_sam2s_extraction_byte_for_byte(tmp_path, encoding):
    """OpenCV decode, every 4th frame, cv2.imwrite: the same JPEG bytes, following the file's colour tag, with
    libx264's B-frames as it chooses them and with three between every P-frame (b-pyramid), which vosconv skips."""
    cv2 = pytest.importorskip("cv2")
    folder = tmp_path / "v"
    folder.mkdir()
    mp4 = savdata.make_mp4(folder / "sav_000009.mp4", 17, **ENCODINGS[encoding])
    (folder / "sav_000009_manual.json").write_text(json.dumps(savdata.masklet_doc("sav_000009", 17)))
    capture, expected = cv2.VideoCapture(str(mp4)), []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        expected.append(frame)
    capture.release()
    kept = [cv2.imencode(".jpg", frame)[1].tobytes() for frame in expected[::4]]
    (video,), _ = read(folder)
    assert [imagefiles.read_bytes(f.image) for f in video.frames] == kept
    assert [imagefiles.read_bytes(f.image) for f in reversed(video.frames)] == kept[::-1]  # backwards: the file reopened


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_sparse_decoding_skips_frames_between_and_keeps_every_4th_frame_s_pixels(tmp_path, encoding):
    """Non-reference frames between the kept ones are not decoded; the kept frames are a full decode's pixels."""
    from converters.codecs import video as videos

    mp4 = savdata.make_mp4(tmp_path / "a.mp4", 41, **ENCODINGS[encoding])
    full, sparse = videos.FrameCursor(str(mp4), every=None), videos.FrameCursor(str(mp4))
    for number in range(0, 41, 4):
        assert (sparse.rgb(number) == full.rgb(number)).all(), number
    assert full.decoded == 41 and sparse.decoded < 41
    if "b-pyramid" in encoding:  # I B B B P ...: of the 3 B-frames between, the 2 no frame refers to are skipped
        assert sparse.decoded == 41 - 20
    sparse.close(), full.close()


@pytest.mark.parametrize(("codec", "size"), [("mpeg4", (98, 66)), ("mpeg4", (320, 240)), ("libx264", (98, 66))])
def test_the_decoder_s_limits_refuse_no_valid_file(tmp_path, codec, size):
    """The damage checks (corrupt frames, ``max_pixels``) leave valid files alone: FFmpeg's MPEG-4 Part 2 decoder asks
    for a work area past a small frame's pixels (a limit of the header's size plus a margin refused every frame)."""
    import av

    from converters.codecs import video as videos

    width, height = size
    mp4 = tmp_path / "a.mp4"
    with av.open(str(mp4), "w") as container:
        stream = container.add_stream(codec, rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(9):
            for packet in stream.encode(av.VideoFrame.from_ndarray(savdata.noise_pixels(index, width, height), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with av.open(str(mp4)) as container:  # FFmpeg's defaults
        plain = [frame.to_ndarray(format="rgb24") for frame in container.decode(container.streams.video[0])]
    for every in (4, None):
        cursor = videos.FrameCursor(str(mp4), every=every)
        for number in range(0, 9, 4):
            assert (cursor.rgb(number) == plain[number]).all(), (every, number)
        cursor.close()


def test_asking_for_a_frame_between_decodes_every_frame_from_then_on(tmp_path):
    """frames=all, or any frame not a multiple of 4: never a skipped frame's neighbour in its place."""
    from converters.codecs import jpeg
    from converters.codecs import video as videos

    folder = tmp_path / "v"
    folder.mkdir()
    mp4 = savdata.make_mp4(folder / "sav_000009.mp4", 21, x264=savdata.B_PYRAMID)
    (folder / "sav_000009_manual.json").write_text(json.dumps(savdata.masklet_doc("sav_000009", 21)))
    full, cursor = videos.FrameCursor(str(mp4), every=None), videos.FrameCursor(str(mp4))
    for number in [0, 4, 8, 9, 10, 11, 12, 13, 20, 3]:  # forward, one between, on, then back
        assert (cursor.rgb(number) == full.rgb(number)).all(), number
    (video,), _ = read(folder, "sav", {"frames": "all"})
    assert [imagefiles.read_bytes(f.image) for f in video.frames] == [jpeg.encode_rgb(full.rgb(n)) for n in range(21)]
    cursor.close(), full.close()


def test_a_bt709_file_is_decoded_with_bt709(tmp_path):
    """The colour matrix follows the tag: the same picture decoded as BT.601 differs (OpenCV 4.10 did that)."""
    import av

    mp4 = savdata.make_mp4(tmp_path / "a.mp4", 4, bt709=True)
    with av.open(str(mp4)) as container:
        frame = next(container.decode(video=0))
        followed = frame.to_ndarray(format="rgb24")
        as_601 = frame.reformat(format="rgb24", src_colorspace="ITU601").to_ndarray()
    from converters.codecs import video as videos

    assert (videos.FrameCursor(str(mp4)).rgb(0) == followed).all()
    assert not (followed == as_601).all()


def test_a_lone_masklet_file_reads_as_masks_without_frames(train, tmp_path):
    path = tmp_path / "sav_000001_manual.json"
    path.write_text((train / "sav_000" / "sav_000001_manual.json").read_text())
    assert api.detect(path) == "sav"
    (video,), _ = read(path)
    assert all(f.image is None for f in video.frames) and len(video.frames) == 4


def test_a_masklet_file_named_as_the_source_is_the_one_read(train):
    """Naming sav_000001_auto.json reads the auto masklets (with the mp4 beside it), not the manual file beside it;
    -r masklets=both reads both."""
    path = train / "sav_000" / "sav_000001_auto.json"
    (video,), _ = read(path)
    assert [(o.object_id, o.get("masklet_type")) for o in video.objects] == [(0, "auto"), (1, "auto")]
    assert video.frames[1].image.frame == 4 and video.frames[0].masks.objects[0].values == (("stability_score", 0.5),)
    (both,), _ = read(path, "sav", {"masklets": "both"})
    assert [o.get("masklet_type") for o in both.objects] == ["manual"] * 3 + ["auto"] * 2


def test_auto_masklets_asked_of_a_manual_file_named_as_the_source_are_refused(train, tmp_path):
    """-r masklets=auto with sav_000001_manual.json named read the manual masks without a word."""
    with pytest.raises(
        OptionError, match=r"-r masklets: auto asked for, but the source is the manual file .*sav_000001_auto\.json"
    ):
        read(train / "sav_000" / "sav_000001_manual.json", "sav", {"masklets": "auto"})


def test_a_folder_of_masklet_files_without_mp4s_says_to_name_one(train, tmp_path):
    """SA-V's example folder holds masklet JSONs alone: detection says how to read them (it said only 'no mp4 with its
    _manual.json')."""
    folder = tmp_path / "example"
    folder.mkdir()
    for kind in ("manual", "auto"):
        shutil.copy(train / "sav_000" / f"sav_000001_{kind}.json", folder)
    reason = SavReader.sniff(folder).reason
    assert reason == "sav_000001_manual.json without its mp4: name that JSON as the source to read its masks alone"
    with pytest.raises(DetectionError, match=r"\n  sav: sav_000001_manual\.json without its mp4"):  # the nearest, listed first
        api.detect(folder)


def test_a_shard_of_masklet_files_alone_does_not_hide_a_later_shard_s_videos(train, tmp_path):
    """sav_000/ without its mp4s (a partial download) before sav_001/ with them: the train folder is still SA-V (the
    masklet-files-alone reason once ended the search at the first shard)."""
    root = tmp_path / "sav_train"
    shutil.copytree(train / "sav_000", root / "sav_001")
    (root / "sav_000").mkdir()
    shutil.copy(train / "sav_000" / "sav_000001_manual.json", root / "sav_000" / "sav_000009_manual.json")
    detection = SavReader.sniff(root)
    assert detection.score == 20 and detection.reason == "SA-V train: sav_000001.mp4 with sav_000001_manual.json in sav_001/"
    assert api.detect(root) == "sav"


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p, train: _copy(train / "sav_000" / "sav_000001_manual.json", p / "video.json"), "is named <video>_manual.json"),
        (lambda p, train: _folder(p / "empty"), "no mp4 with its _manual.json, nor JPEGImages_24fps/ and Annotations_6fps/"),
        (lambda p, train: _folder(p / "val" / "JPEGImages_24fps").parent, "JPEGImages_24fps/ without Annotations_6fps/"),
    ],
    ids=["json-named-otherwise", "empty-folder", "frames-without-annotations"],
)
def test_from_sav_on_what_is_no_sa_v_is_a_source_error_not_a_crash_or_an_empty_output(train, tmp_path, make, says):
    source = make(tmp_path, train)
    with pytest.raises(SourceError, match=re.escape(says)) as caught:
        api.convert(source, tmp_path / "out.parquet", to="parquet", from_="sav")
    assert caught.value.path == str(source) and not (tmp_path / "out.parquet").exists()


def _copy(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes())
    return target


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _broken(train: Path, tmp_path: Path, change) -> Path:
    folder = tmp_path / "broken"
    folder.mkdir()
    for name in ("sav_000001.mp4", "sav_000001_manual.json"):
        (folder / name).write_bytes((train / "sav_000" / name).read_bytes())
    change(folder)
    return folder


def _edit(change):
    def apply(folder: Path) -> None:
        path = folder / "sav_000001_manual.json"
        doc = json.loads(path.read_text())
        change(doc)
        path.write_text(json.dumps(doc))

    return apply


@pytest.mark.parametrize(
    ("change", "file", "says"),
    [
        (
            _edit(lambda d: d["masklet"][1][0].update(size=[48, 64])),
            "json",
            "RLE size [48, 64] differs from the video's [48, 66]",
        ),
        (_edit(lambda d: d.update(masklet_num=4)), "json", "lists 3 objects; masklet_num is 4"),
        (_edit(lambda d: d.update(video_duration=math.nan)), "json", "video_duration is nan, which JSON cannot hold"),
        (_edit(lambda d: d["masklet"].pop()), "json", "masklet lists 3 annotated frames; a 14-frame video"),
        (_edit(lambda d: d.update(video_frame_count=20.0, masklet=d["masklet"] + d["masklet"][:1])), "mp4", "has 14 frames"),
        (lambda f: savdata.make_mp4(f / "sav_000001.mp4", 14, width=64), "mp4", "the video is 64x48"),
        (lambda f: (f / "sav_000001.mp4").write_bytes(b"not a video"), "mp4", "unreadable video"),
    ],
)
def test_bad_train_videos_are_source_errors_naming_the_file(train, tmp_path, change, file, says):
    folder = _broken(train, tmp_path, change)
    with pytest.raises(SourceError, match=re.escape(says)) as caught:
        read(folder, "sav")
    suffix = ".mp4" if file == "mp4" else "_manual.json"
    assert str(caught.value.path).endswith(suffix)


def test_a_lone_masklet_file_of_a_size_out_of_range_is_a_source_error_naming_it(tmp_path):
    """No mp4 to name: the error names the masklet file (it once raised a TypeError building a SourceError of None)."""
    from converters.codecs import rle

    path = tmp_path / "sav_000001_manual.json"
    empty = {"size": [2, 70000], "counts": rle.counts_to_string([2 * 70000])}
    doc = {"video_id": "sav_000001", "video_frame_count": 4.0, "video_height": 2.0, "video_width": 70000.0}
    path.write_text(json.dumps({**doc, "masklet": [[empty]], "masklet_id": [0], "masklet_num": 1}))
    with pytest.raises(SourceError, match="frame size 70000x2 is out of range") as caught:
        read(path)
    assert caught.value.path == str(path)


@pytest.mark.parametrize("score", [math.nan, math.inf])
def test_a_stability_score_json_cannot_hold_is_a_source_error(train, tmp_path, score):
    """Python's json reads NaN and Infinity; a mask's value cannot be one: an error naming the file, not a ValueError."""
    path = tmp_path / "sav_000001_auto.json"
    doc = source_json(train, "sav_000001", "auto")
    doc["masklet_stability_score"][1][0] = score
    path.write_text(json.dumps(doc))
    with pytest.raises(SourceError, match=r"masklet frame 1 object 0: .*stability_score is") as caught:
        read(path, "sav", {"masklets": "auto"})
    assert caught.value.path == str(path)


def test_a_bad_video_is_skipped_under_on_error_skip(train, tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("sav_000001", "sav_000002"):
        for suffix in (".mp4", "_manual.json"):
            (folder / f"{name}{suffix}").write_bytes((train / "sav_000" / f"{name}{suffix}").read_bytes())
    (folder / "sav_000002.mp4").write_bytes(b"junk")
    summary = api.convert(folder, tmp_path / "out.parquet", to="parquet", from_="sav", on_error="skip")
    assert summary.errors_file is not None and "sav_000002.mp4" in summary.errors_file.read_text()
    assert [v.name for v in read(tmp_path / "out.parquet")[0]] == ["sav_000001"]


def test_a_masklet_file_without_its_mp4_is_a_source_error_not_left_out(train, tmp_path):
    """A train folder where one video's mp4 is missing (a shard half extracted): that video is an error naming its
    masklet file (listed in errors.jsonl under --on-error skip), never dropped in silence."""
    folder = tmp_path / "train"
    (folder / "sav_000").mkdir(parents=True)
    for name in ("sav_000001.mp4", "sav_000001_manual.json", "sav_000002_manual.json"):
        (folder / "sav_000" / name).write_bytes((train / "sav_000" / name).read_bytes())
    (folder / "sav_001").mkdir()
    (folder / "sav_001" / "sav_000003_manual.json").write_bytes((train / "sav_000" / "sav_000002_manual.json").read_bytes())
    with pytest.raises(SourceError, match=r"no sav_000002\.mp4 beside it") as caught:
        read(folder, "sav")
    assert caught.value.path == str(folder / "sav_000" / "sav_000002_manual.json")
    summary = api.convert(folder, tmp_path / "out.parquet", to="parquet", from_="sav", on_error="skip")
    assert [r["video"] for r in summary.stats.skipped] == ["sav_000002", "sav_000003"]
    assert [v.name for v in read(tmp_path / "out.parquet")[0]] == ["sav_000001"]


def test_a_broken_link_to_an_mp4_is_that_video_s_source_error(train, tmp_path):
    """Listing the videos stats their files: a link to an mp4 that is gone once failed there, and the pipeline took the
    OSError for one writing the output ("cannot write out.parquet")."""
    folder = tmp_path / "linked"
    folder.mkdir()
    for name in ("sav_000001.mp4", "sav_000001_manual.json", "sav_000002_manual.json"):
        (folder / name).write_bytes((train / "sav_000" / name).read_bytes())
    (folder / "sav_000002.mp4").symlink_to(tmp_path / "gone.mp4")
    with pytest.raises(SourceError, match="unreadable video") as caught:
        api.convert(folder, tmp_path / "failed.parquet", to="parquet", from_="sav")
    assert caught.value.path == str(folder / "sav_000002.mp4")
    summary = api.convert(folder, tmp_path / "out.parquet", to="parquet", from_="sav", on_error="skip")
    assert [r["video"] for r in summary.stats.skipped] == ["sav_000002"]


@pytest.mark.parametrize("writer", ["parquet", "sav"])
def test_an_mp4_that_ends_before_its_header_says_is_skipped_under_on_error_skip(train, tmp_path, writer):
    """The header counts 13 frames (so the video reads), the file holds 3: the error comes when the writer decodes
    the frames, names the mp4, and under --on-error skip leaves that video out like any other bad one."""
    from converters.codecs import video as videos

    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("sav_000001", "sav_000002"):
        for suffix in (".mp4", "_manual.json"):
            (folder / f"{name}{suffix}").write_bytes((train / "sav_000" / f"{name}{suffix}").read_bytes())
    savdata.cut_short(folder / "sav_000002.mp4", 3)
    assert videos.probe(str(folder / "sav_000002.mp4")).frames == 13
    with pytest.raises(SourceError, match="the video ends after") as caught:
        api.convert(folder, tmp_path / "failed", to=writer, from_="sav")
    assert caught.value.path == str(folder / "sav_000002.mp4")
    summary = api.convert(folder, tmp_path / "out", to=writer, from_="sav", on_error="skip")
    assert summary.errors_file is not None and "sav_000002.mp4" in summary.errors_file.read_text()
    assert [v.name for v in read(tmp_path / "out", writer)[0]] == ["sav_000001"]
    assert not list((tmp_path / "out").rglob("*sav_000002*"))  # not even an empty frame folder, which SAM 2 would list


def test_validate_finds_an_mp4_cut_short(train, tmp_path):
    """validate counts each mp4's packets (nothing decoded): a source that validates cleanly converts cleanly."""
    from converters.run.validate import validate

    folder = _broken(train, tmp_path, lambda f: savdata.cut_short(f / "sav_000001.mp4", 3))
    with api.open_reader(folder, "sav") as reader:
        report = validate(reader, progress=False)
    assert [(e["file"], e["message"]) for e in report.errors] == [
        (str(folder / "sav_000001.mp4"), "the file holds 3 frames; its header counts 14 (cut short?)")
    ]
    with api.open_reader(train, "sav") as reader:
        assert validate(reader, progress=False).ok


# ------------------------------------------------------------------ the intermediate form through every format


def _content(video) -> tuple:
    """Everything the form holds but images: ids, metadata, masks with their values, frame names."""
    return (
        video.name,
        video.size,
        video.objects,
        [(f.file_name, f.masks) for f in video.frames],
    )


@pytest.mark.parametrize(("writer", "name"), [("parquet", "out.parquet"), ("hdf5", "out.h5"), ("coco", "out.json")])
def test_sav_through_shard_formats_keeps_ids_metadata_and_scores(train, tmp_path, writer, name):
    expected, _ = read(train, "sav", {"masklets": "both"})
    api.convert(train, tmp_path / name, to=writer, from_="sav", reader_options={"masklets": "both"}, workers=2)
    actual, _ = read(tmp_path / name, writer)
    assert [_content(v) for v in actual] == [_content(v) for v in expected]
    for want, got in zip(expected, actual):
        if writer != "coco":  # the COCO file names the images, which were written nowhere
            assert [imagefiles.read_bytes(f.image) for f in got.frames] == [imagefiles.read_bytes(f.image) for f in want.frames]


@pytest.mark.parametrize("via", ["parquet", "hdf5", "coco", "sav"])
def test_sav_to_x_to_sav_json_gives_the_masklets_back(train, tmp_path, via):
    """SA-V -> Parquet/HDF5/COCO/SA-V val -> SA-V (json=true): the source's JSON again, key for key and in its order
    (RLE strings, masklet ids and fields, the per-video fields), plus fps for SAM 2; manual files' null stability scores
    are left out (the JSON holds no null)."""
    middle = tmp_path / {"parquet": "m.parquet", "hdf5": "m.h5", "coco": "m.json", "sav": "m"}[via]
    api.convert(train, middle, to=via, from_="sav")
    api.convert(middle, tmp_path / "back", to="sav", from_=via, writer_options={"json": True, "images": via != "coco"})
    for video in ("sav_000001", "sav_000002"):
        source = source_json(train, video)
        written = json.loads((tmp_path / "back" / "Annotations_json" / f"{video}_manual.json").read_text())
        assert written.pop("fps") == 6 and "null" not in json.dumps(written)
        del source["masklet_stability_score"]
        assert list(written) == list(source)
        assert written == source
        assert {k: type(v) for k, v in written.items()} == {k: type(v) for k, v in source.items()}  # 14.0 stays a float


def test_sav_json_from_auto_masklets_keeps_the_stability_scores(train, tmp_path):
    api.convert(
        train, tmp_path / "out", to="sav", from_="sav", reader_options={"masklets": "auto"}, writer_options={"json": True}
    )
    written = json.loads((tmp_path / "out" / "Annotations_json" / "sav_000001_manual.json").read_text())
    source = source_json(train, "sav_000001", "auto")
    assert written["masklet_stability_score"] == source["masklet_stability_score"]
    assert written["masklet"] == source["masklet"] and written["masklet_type"] == ["auto", "auto"]


def test_sav_json_of_both_masklets_reads_back(train, tmp_path):
    """-r masklets=both keeps each object's source masklet_id (manual 0, 1, 2, then auto 0, 1): the JSON written from
    it repeats ids, and reads back by position, as SAM 2 reads it, with the same objects and masks. The stability
    matrix has no null, so it holds 1.0 for the manual masklets, which SA-V does not score: read back without one."""
    options = {"masklets": "both"}
    api.convert(train, tmp_path / "out", to="sav", from_="sav", reader_options=options, writer_options={"json": True})
    path = tmp_path / "out" / "Annotations_json" / "sav_000001_manual.json"
    written = json.loads(path.read_text())
    assert written["masklet_id"] == [0, 1, 2, 0, 1] and written["masklet_stability_score"][0] == [1.0, 1.0, 1.0, 0.5, 0.5]
    (back,), _ = read(path, "sav")
    (source, _), _ = read(train, "sav", options)
    assert back.objects == source.objects
    assert [f.masks for f in back.frames] == [f.masks for f in source.frames]


def test_masklet_ids_out_of_order_keep_the_objects_positions(train, tmp_path):
    """SAM 2 reads objects by position: ids taken from masklet_id [2, 0, 1] would sort them, and a JSON written back
    would move each object's masks to another position. Such ids number the objects by position instead."""
    folder = _broken(train, tmp_path, _edit(lambda d: d.update(masklet_id=[2, 0, 1])))
    (video,), _ = read(folder, "sav")
    assert [(o.object_id, o.get("masklet_id")) for o in video.objects] == [(0, 2), (1, 0), (2, 1)]
    api.convert(folder, tmp_path / "out", to="sav", from_="sav", writer_options={"json": True, "images": False})
    written = json.loads((tmp_path / "out" / "Annotations_json" / "sav_000001_manual.json").read_text())
    source = json.loads((folder / "sav_000001_manual.json").read_text())
    assert written["masklet_id"] == [2, 0, 1] and written["masklet"] == source["masklet"]


@pytest.fixture(scope="module")
def short_and_long(tmp_path_factory) -> list[Path]:
    """One video of 32 frames and one of 128 (8 and 32 kept), 320x240, each kept frame's JPEG about 88 kB."""
    root = tmp_path_factory.mktemp("lengths")
    return [
        savdata.make_train(root / str(n), {"sav_000001": n}, auto=False, width=320, height=240, pixels=savdata.noise_pixels)
        for n in (32, 128)
    ]


@pytest.mark.parametrize("writer", ["parquet", "hdf5", "sav"])
def test_a_4x_longer_video_is_written_in_no_more_memory(short_and_long, tmp_path, writer):
    """Frames stream from the mp4 into the writer's file: 4x the frames add far less than their JPEGs to the peak of
    Python's allocations while a shard is written (the Parquet and HDF5 writers once held a whole video's JPEGs)."""
    import tracemalloc

    from converters.writer import Shard

    def write_shard(source: Path, staging: Path) -> None:
        with api.open_reader(source, "sav") as reader:
            staging.mkdir()
            videos = (reader.read_video(ref) for ref in reader.list_videos())
            api.open_writer(writer).write_shard(videos, Shard(0, tuple(reader.list_videos())), staging, reader.info())

    write_shard(short_and_long[0], tmp_path / "warm")  # imports and first-use caches: not in the peaks
    peaks, sizes = [], []
    for source in short_and_long:
        staging = tmp_path / source.name
        tracemalloc.start()
        try:
            write_shard(source, staging)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        sizes.append(sum(p.stat().st_size for p in staging.rglob("*") if p.is_file()))
    extra_jpegs = sizes[1] - sizes[0]
    assert extra_jpegs > 1_000_000  # 24 more kept frames of 88 kB: the test can see them
    assert peaks[1] - peaks[0] < extra_jpegs / 4, (peaks, sizes)


# ------------------------------------------------------------------ the val/test layout


@pytest.fixture(scope="module")
def val(train, tmp_path_factory) -> Path:
    """An SA-V val folder written from the train fixture (0/1 PNGs, as SAM 2's inference writes them)."""
    out = tmp_path_factory.mktemp("val") / "sav_val"
    api.convert(train, out, to="sav", from_="sav")
    for path in (out / "Annotations_6fps").rglob("*.png"):  # made SA-V's own: no vosconv record, 0/1 values
        from PIL import Image

        pixels = np.asarray(Image.open(path))
        Image.fromarray((pixels > 0).astype(np.uint8)).save(path)
    import shutil

    shutil.rmtree(out / ".vosconv")
    (out / ".vosconv.json").unlink()
    return out


def test_the_val_layout_as_sa_v_has_it(val):
    assert (val / "sav_val.txt").read_text() == "sav_000001\nsav_000002\n"
    assert sorted(p.name for p in (val / "Annotations_6fps" / "sav_000001").iterdir()) == ["000", "001", "002"]
    assert sorted(p.name for p in (val / "Annotations_6fps" / "sav_000001" / "002").iterdir()) == [
        "00000.png",
        "00004.png",
        "00008.png",
        "00012.png",
    ]  # an absent object gets its all-zero PNG, as in SA-V


def test_a_val_folder_reads_with_its_ids_overlaps_and_foreground(val, train):
    assert api.detect(val) == "sav"
    videos, info = read(val)
    expected, _ = read(train)
    assert info.split == "val" and info.attribute("foreground") == "1"
    for got, want in zip(videos, expected):
        assert [o.object_id for o in got.objects] == [0, 1, 2]
        assert [(f.file_name, f.masks) for f in got.frames] == [(f.file_name, f.masks) for f in want.frames]


def test_val_to_val_is_byte_identical_in_jpegs_and_pixel_identical_in_pngs(val, tmp_path):
    from PIL import Image

    api.convert(val, tmp_path / "again", to="sav", from_="sav")
    source = sorted(p.relative_to(val) for p in val.rglob("*") if p.is_file())
    written = sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file())
    assert [p for p in written if not str(p).startswith(".vosconv")] == source
    for path in source:
        if path.suffix == ".jpg" or path.suffix == ".txt":
            assert (val / path).read_bytes() == (tmp_path / "again" / path).read_bytes(), path
        elif path.suffix == ".png":
            a, b = np.asarray(Image.open(val / path)), np.asarray(Image.open(tmp_path / "again" / path))
            assert (a == b).all() and a.max() <= 1, path


def test_a_source_without_any_object_writes_a_val_folder_that_reads_back(sample_copy, tmp_path):
    """Annotated frames that are all empty (no object in any video) make no PNG: the annotations folder is still
    written, so the folder is SA-V's and its hidden record gives the empty frames back, not "not an SA-V folder"."""
    source = sample_copy("mose")
    from PIL import Image

    for path in (source / "valid" / "Annotations").rglob("*.png"):
        with Image.open(path) as image:
            blank = Image.new("P", image.size)
            blank.putpalette(image.getpalette())
        blank.save(path)
    expected = list(api.read_videos(source, "mose", split="valid"))
    assert not any(v.objects for v in expected) and any(f.masks is not None for v in expected for f in v.frames)
    api.convert(source, tmp_path / "out", to="sav", from_="mose", reader_options={"split": "valid"})
    back = list(api.read_videos(tmp_path / "out", "sav"))
    assert [(v.name, [(f.file_name, f.masks) for f in v.frames]) for v in back] == [
        (v.name, [(f.file_name, f.masks) for f in v.frames]) for v in expected
    ]


def test_a_split_the_val_layout_has_no_list_for_is_said_to_be_listed_as_val(sample_root, tmp_path):
    """MOSE's train written as SA-V went into ``sav_val.txt`` (the layout names val and test lists only) without a
    word; the split itself is kept in the hidden record, and val keeps its own name silently."""
    train = api.convert(sample_root["mose"], tmp_path / "train", to="sav", reader_options={"split": "train"})
    said = "the train split's videos listed in sav_val.txt, as the SA-V val/test layout names its lists (the split is kept)"
    assert said in train.notes and (tmp_path / "train" / "sav_val.txt").is_file()
    with api.open_reader(tmp_path / "train", "sav") as reader:
        assert reader.info().split == "train"
    whole = api.convert(sample_root["davis"], tmp_path / "whole", to="sav")  # no split: nothing to say
    assert not [n for n in whole.notes if "listed in" in n]


def test_a_damaged_first_png_skips_its_video_alone_under_on_error_skip(val, tmp_path):
    """The foreground value is looked up before any video is read: a PNG it cannot decode is left to its video's read
    (an error naming it, skipped under --on-error skip), never an error for the whole run."""
    import shutil

    source = tmp_path / "val"
    shutil.copytree(val, source)
    (source / "Annotations_6fps" / "sav_000001" / "000" / "00000.png").write_bytes(b"not a png")
    with pytest.raises(SourceError, match="not a PNG") as caught:
        read(source)
    assert caught.value.path.endswith("sav_000001/000/00000.png")
    summary = api.convert(source, tmp_path / "out", to="sav", from_="sav", on_error="skip")
    assert [r["video"] for r in summary.stats.skipped] == ["sav_000001"]
    videos, info = read(tmp_path / "out")
    assert [v.name for v in videos] == ["sav_000002"] and info.attribute("foreground") == "1"


def test_a_listed_video_without_its_frame_folder_is_skipped_alone_under_on_error_skip(val, tmp_path):
    import shutil

    source = tmp_path / "val"
    shutil.copytree(val, source)
    (source / "sav_val.txt").write_text("sav_000001\nsav_000002\nsav_000003\n")
    summary = api.convert(source, tmp_path / "out", to="sav", from_="sav", on_error="skip")
    (record,) = summary.stats.skipped
    assert record["video"] == "sav_000003" and "of the video list has no frame folder" in record["message"]
    assert record["file"] == str(source / "JPEGImages_24fps" / "sav_000003")
    assert [v.name for v in read(tmp_path / "out")[0]] == ["sav_000001", "sav_000002"]


def test_a_video_list_that_is_not_text_is_a_source_error_naming_it(val, tmp_path):
    import shutil

    source = tmp_path / "val"
    shutil.copytree(val, source)
    (source / "sav_val.txt").write_bytes(b"sav_000001\n\xff\xfe\n")
    with pytest.raises(SourceError, match="cannot read list") as caught:
        read(source)
    assert caught.value.path == str(source / "sav_val.txt")


def test_the_foreground_value_comes_from_a_png_that_shows_an_object(val, tmp_path):
    """An object absent from the first frame has an all-zero first PNG: the 0/1 of the others is still kept, not 255."""
    import shutil

    from PIL import Image

    source = tmp_path / "val"
    shutil.copytree(val, source)
    first = source / "Annotations_6fps" / "sav_000001" / "000" / "00000.png"
    Image.fromarray(np.zeros((savdata.HEIGHT, savdata.WIDTH), np.uint8)).save(first)
    assert read(source)[1].attribute("foreground") == "1"
    api.convert(source, tmp_path / "again", to="sav", from_="sav")
    assert max(np.asarray(Image.open(p)).max() for p in (tmp_path / "again" / "Annotations_6fps").rglob("*.png")) == 1


def test_a_video_named_dataset_keeps_its_record(train, tmp_path):
    """The layout's hidden record holds one <video>.json per video beside the dataset's own: a video named "dataset"
    once overwrote it (or was overwritten), and the output no longer read."""
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "dataset.mp4").write_bytes((train / "sav_000" / "sav_000001.mp4").read_bytes())
    (folder / "dataset_manual.json").write_text(json.dumps({**source_json(train, "sav_000001"), "video_id": "dataset"}))
    api.convert(folder, tmp_path / "out", to="sav", from_="sav")
    (source,), _ = read(folder)
    (back,), info = read(tmp_path / "out")
    assert info.split == "train" and back.objects == source.objects and back.metadata == source.metadata
    assert [(f.file_name, f.masks) for f in back.frames] == [(f.file_name, f.masks) for f in source.frames]


@pytest.mark.parametrize(
    ("record", "change"),
    [
        (".dataset", lambda d: d.update(attributes="x")),
        (".dataset", lambda d: d.update(categories=[{"id": "a"}])),
        ("sav_000001", lambda d: d.pop("height")),
        ("sav_000001", lambda d: d.update(images=[True])),
        ("sav_000001", lambda d: d.update(void=[])),
    ],
    ids=["attributes", "categories", "height", "images", "void"],
)
def test_a_damaged_vosconv_record_is_a_source_error(train, tmp_path, record, change):
    """The hidden record beside a val layout vosconv wrote, edited by hand: an error naming a file, never a traceback."""
    out = tmp_path / "val"
    api.convert(train, out, to="sav", from_="sav", writer_options={"images": False})
    path = out / ".vosconv" / f"{record}.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(SourceError) as caught:
        read(out)
    assert caught.value.path.startswith(str(out))


@pytest.mark.parametrize("names", [("000000.jpg", "000004.jpg"), ("00000.jpeg", "00004.jpeg")])
def test_json_true_refuses_frame_names_sam2s_json_loader_would_not_open(names):
    """JSONRawDataset numbers frames by int(stem) and opens f"{n:05d}.jpg": other names pass for frames it never finds."""
    from converters.formats.sav.writer import SavWriter
    from converters.model import Frame, FrameMasks, ImageRef, Video

    frames = tuple(Frame(i, name, ImageRef(data=b"\xff\xd8"), FrameMasks(())) for i, name in enumerate(names))
    video = Video("v", 8, 6, frames)
    SavWriter().check(video)  # the val layout itself keeps any numbered name
    with pytest.raises(SourceError, match=r"opens frame 0 as 00000\.jpg.*write json=false") as caught:
        api.open_writer("sav", {"json": True}).check(video)
    assert caught.value.path == f"v/{names[0]}"


def test_sav_writer_bytes_do_not_depend_on_workers(train, tmp_path):
    for workers in (1, 2):
        api.convert(train, tmp_path / str(workers), to="sav", from_="sav", workers=workers, writer_options={"json": True})
    one = {p.relative_to(tmp_path / "1"): p.read_bytes() for p in (tmp_path / "1").rglob("*") if p.is_file()}
    two = {p.relative_to(tmp_path / "2"): p.read_bytes() for p in (tmp_path / "2").rglob("*") if p.is_file()}
    assert one == two


# ------------------------------------------------------------------ targets of one value per pixel


def test_palette_layouts_refuse_ids_from_0_naming_the_fix(train, tmp_path):
    """-w renumber=true is offered where it would do: not for the fixture, whose objects 0 and 1 overlap."""
    with pytest.raises(SourceError, match=r"object id 0 is not a pixel value 1 to 254.*write sav") as caught:
        api.convert(train, tmp_path / "out", to="mose", from_="sav")
    assert str(caught.value.path).startswith("sav_000001/") and "renumber" not in str(caught.value)
    apart = _broken(train, tmp_path, _edit(_keep_objects_0_and_2))
    with pytest.raises(SourceError, match=r"object id 0 is not a pixel value 1 to 254.*write sav.*renumber=true"):
        api.convert(apart, tmp_path / "out", to="mose", from_="sav")


def test_palette_layouts_refuse_overlaps_even_renumbered(train, tmp_path):
    with pytest.raises(SourceError, match=r"overlap.*write sav"):
        api.convert(train, tmp_path / "out", to="mose", from_="sav", writer_options={"renumber": True})


def test_renumber_maps_ids_to_1_k_and_records_the_mapping(train, tmp_path):
    """Objects 0 and 2 of the fixture do not overlap: renumbered 1, 2, the mapping in object_ids.json."""
    folder = _broken(train, tmp_path, _edit(_keep_objects_0_and_2))
    out = tmp_path / "out"
    api.convert(folder, out, to="davis", from_="sav", writer_options={"renumber": True})
    assert json.loads((out / "object_ids.json").read_text()) == {"sav_000001": {"1": 0, "2": 2}}
    (back,), _ = read(out, "davis")
    (source,), _ = read(folder, "sav")
    assert [o.object_id for o in source.objects] == [0, 2] and [o.object_id for o in back.objects] == [1, 2]
    renumbered = [[({1: 0, 2: 2}[m.object_id], m.counts) for m in f.masks.objects] for f in back.frames]
    assert renumbered == [[(m.object_id, m.counts) for m in f.masks.objects] for f in source.frames]


def _keep_objects_0_and_2(doc: dict) -> None:
    for key in [k for k in doc if k.startswith("masklet_") and k != "masklet_num"]:
        doc[key] = [doc[key][0], doc[key][2]]
    doc["masklet"] = [[row[0], row[2]] for row in doc["masklet"]]
    doc["masklet_num"] = 2


def test_dense_hdf5_refuses_what_a_label_map_cannot_hold(train, tmp_path):
    with pytest.raises(SourceError, match=r"object id 0 .*masks=rle"):
        api.convert(train, tmp_path / "out.h5", to="hdf5", from_="sav", writer_options={"masks": "dense"})


def test_label_map_loader_refuses_id_0_and_overlaps(train, tmp_path):
    from converters.loading import masks

    with pytest.raises(ValueError, match="do not fit a uint8 label map"):
        masks.label_maps_of([[(0, "52203")]], 6, 8, dataclasses.replace(_palette()).encoding)
    square = savdata.rle_of(np.pad(np.ones((2, 2), np.uint8), 2))["counts"]
    with pytest.raises(ValueError, match="overlap"):
        masks.label_maps_of([[(1, square), (2, square)]], 6, 6, _palette().encoding)


def _palette():
    from converters.model import Video

    return Video("v", 8, 6, ())


# ------------------------------------------------------------------ the shared SA-V sample


@pytest.mark.filterwarnings("ignore:.*images are not embedded and")  # the shard formats, read back without frames
@pytest.mark.parametrize(("writer", "name"), [("coco", "x.json"), ("parquet", "x.parquet"), ("hdf5", "x.h5"), ("sav", "x")])
def test_the_shared_sample_through_every_format_and_back(shared_samples, tmp_path, writer, name):
    """The real masklet file (121 annotated frames, 5 objects from id 0, an object appearing at frame 113)."""
    path = shared_samples / "sav" / "sav_dataset" / "example" / "sav_000001_manual.json"
    (video,), _ = read(path, "sav")
    options = None if writer == "coco" else {"images": False}  # the file alone: its frames are in the mp4
    api.convert(path, tmp_path / name, to=writer, from_="sav", writer_options=options)
    (back,), _ = read(tmp_path / name, writer)
    assert [o.object_id for o in back.objects] == [0, 1, 2, 3, 4]
    assert [f.masks for f in back.frames] == [f.masks for f in video.frames]
    assert back.objects == video.objects and back.metadata == video.metadata  # the val layout: in its hidden record
    assert dict(back.metadata)["video_environment"] == "Indoor" and dict(back.metadata)["video_duration"] == 20.125
    doc = json.loads(path.read_text())
    assert [[m.counts for m in f.masks.objects] for f in back.frames][-1] == [r["counts"] for r in doc["masklet"][-1]]


@pytest.mark.parametrize("writer", ["parquet", "hdf5", "sav", "mose"])
def test_masks_without_frames_are_refused_by_writers_that_embed_images(train, tmp_path, writer):
    """A masklet file alone holds no frames: stored without a word, the shards trained on black frames."""
    path = tmp_path / "sav_000001_manual.json"
    path.write_bytes((train / "sav_000" / path.name).read_bytes())
    with pytest.raises(SourceError, match=f"masklet file alone.*the {writer} output would hold no images: pass --no-images"):
        api.convert(path, tmp_path / "out", to=writer, from_="sav")
    assert not (tmp_path / "out").exists()


def test_a_masklet_file_named_beside_its_mp4_keeps_its_frames(train, tmp_path):
    """Named as the source with its mp4 beside it, the file's video is read with its frames: nothing to refuse."""
    api.convert(train / "sav_000" / "sav_000001_manual.json", tmp_path / "x.parquet", to="parquet", from_="sav")
    (back,), _ = read(tmp_path / "x.parquet", "parquet")
    assert len(back.frames) == 4 and all(frame.image is not None for frame in back.frames)


def test_a_val_folder_written_without_frames_is_refused_by_writers_that_embed_images(val, tmp_path):
    masks_only = tmp_path / "masks-only"
    api.convert(val, masks_only, to="sav", from_="sav", writer_options={"images": False})
    with pytest.raises(SourceError, match=r"holds masks only .*JPEGImages_24fps.*pass --no-images"):
        api.convert(masks_only, tmp_path / "out", to="parquet", from_="sav")
    api.convert(masks_only, tmp_path / "out", to="parquet", from_="sav", writer_options={"images": False})


def test_the_shared_sample_is_refused_by_palette_layouts(shared_samples, tmp_path):
    path = shared_samples / "sav" / "sav_dataset" / "example" / "sav_000001_manual.json"
    with pytest.raises(SourceError, match="object id 0"):
        api.convert(path, tmp_path / "out", to="youtube-vos", from_="sav", writer_options={"images": False})


def _two_objects(first: int, second: int, *, overlapping: bool):
    from converters.model import Frame, FrameMasks, Mask, ObjectInfo, Video

    top = np.zeros((6, 8), np.uint8)
    top[:3] = 1
    other = top if overlapping else 1 - top
    masks = tuple(Mask(i, savdata.rle_of(m)["counts"], int(m.sum()), (0, 0, 0, 0)) for i, m in ((first, top), (second, other)))
    return Video("v", 8, 6, (Frame(0, "00000.jpg", None, FrameMasks(masks)),), (ObjectInfo(first), ObjectInfo(second)))


def test_overlaps_are_found_whatever_the_ids():
    """Ids beyond a byte (BURST's track ids) are no pixel values: the overlap check does not paint them."""
    from converters.codecs import labels

    assert labels.overlapping_frame(_two_objects(300, 70000, overlapping=True)) == "00000.jpg"
    assert labels.overlapping_frame(_two_objects(300, 70000, overlapping=False)) is None


def test_hdf5_rle_refuses_an_object_255_which_its_tables_take_for_the_void():
    from converters.formats.hdf5.writer import Hdf5Writer

    with pytest.raises(SourceError, match="object id 255 is the void region"):
        Hdf5Writer().check(_two_objects(1, 255, overlapping=False))
    Hdf5Writer().check(_two_objects(0, 256, overlapping=True))  # any other id, and overlaps, are kept


# ------------------------------------------------------------------ the conformance suite


class TestSavMaskletsThroughEveryFormat(ReaderSuite):
    """SA-V train masklets (manual and auto: ids from 0, overlaps, metadata, stability scores) through every format.
    Without the mp4: the JSON formats name frames but hold no image (the shard formats' frames are tested above)."""

    reader = "sav"
    frames = False
    refused = {name: "object id 0 is not a pixel value" for name in ("mose", "davis", "youtube-vos")}

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls, train, tmp_path_factory):
        folder = tmp_path_factory.mktemp("masklets")
        for name in ("sav_000001_manual.json", "sav_000001_auto.json"):
            (folder / name).write_bytes((train / "sav_000" / name).read_bytes())
        return folder / "sav_000001_manual.json", {"masklets": "both"}


class TestSavValThroughEveryFormat(ReaderSuite):
    """An SA-V val folder as SA-V ships it (0/1 PNGs, no vosconv record) through every format."""

    reader = "sav"
    refused = {name: "object id 0 is not a pixel value" for name in ("mose", "davis", "youtube-vos")}

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls, val):
        return val, {}
