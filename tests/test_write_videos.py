"""``converters.write_videos``: videos made in Python (read, filtered, or built with the model's constructors) written
through the public API, exactly as a conversion writes them; its arguments checked as the rest of the API's are."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
from pycocotools import mask as coco_mask

import converters
from converters.codecs import rle
from converters.errors import OptionError, OutputError, SourceError, VosconvWarning
from converters.model import Category, DatasetInfo, Frame, FrameMasks, ImageRef, ObjectInfo, Video
from converters.testing.content import ALL_METADATA, assert_same_content, fingerprint

#: output name, and the metadata each format keeps (the folder layouts keep no category names)
OUTPUTS = {
    "coco": ("out.json", ALL_METADATA),
    "parquet": ("out.parquet", ALL_METADATA),
    "hdf5": ("out.h5", ALL_METADATA),
    "mose": ("out-mose", frozenset()),
}


@pytest.mark.parametrize("to", sorted(OUTPUTS))
def test_videos_read_and_written_again_are_the_same(sample_root, tmp_path, to):
    """The round trip a notebook makes: read a source, keep some videos, write them; nothing is lost."""
    source = sample_root["youtube-vos"] / "train"
    with converters.open_reader(source) as reader:
        info = reader.info()
    kept = [video for video in converters.read_videos(source) if len(video.objects) > 1]
    assert len(kept) > 0
    name, metadata = OUTPUTS[to]
    summary = converters.write_videos(reversed(kept), tmp_path / name, to=to, info=info)  # any order, any iterable
    assert summary.output == tmp_path / name and summary.stats.videos == len(kept)
    with converters.open_reader(tmp_path / name) as reader:
        back_info = reader.info()
        back = [reader.read_video(ref) for ref in reader.list_videos()]
    assert [video.name for video in back] == sorted(video.name for video in kept)
    for want, got in zip(sorted(kept, key=lambda v: v.name), back):
        assert_same_content(fingerprint(want, info), fingerprint(got, back_info), kept=metadata)


def label_frames(height: int, width: int, count: int) -> list[np.ndarray]:
    frames = []
    for i in range(count):
        label = np.zeros((height, width), np.uint8)
        label[2 + i : 12 + i, 3:20] = 1
        if i != 1:  # object 2 is absent from frame 1
            label[20:30, 25 + i : 40 + i] = 7
        frames.append(label)
    return frames


def test_a_video_built_from_label_maps_is_written_as_pycocotools_encodes_it(tmp_path):
    """Predictions as label maps -> rle.encode -> the model -> COCO JSON, with pycocotools' own RLE strings."""
    labels = label_frames(40, 60, 3)
    frames = tuple(Frame(i, f"{i:05d}.jpg", None, FrameMasks(tuple(rle.encode(label)))) for i, label in enumerate(labels))
    video = Video("pred", 60, 40, frames, (ObjectInfo(1, 1), ObjectInfo(7, 2)))
    info = DatasetInfo("my-model", "val", (Category(1, "person"), Category(2, "dog")))
    converters.write_videos([video], tmp_path / "pred.json", to="coco", info=info)
    (back,) = converters.read_videos(tmp_path / "pred.json")
    assert back.frames[1].masks.get(7) is None
    for label, frame in zip(labels, back.frames):
        for mask in frame.masks.objects:
            expected = coco_mask.encode(np.asfortranarray((label == mask.object_id).astype(np.uint8)))
            assert mask.counts == expected["counts"].decode()
    assert [(o.object_id, o.category_id) for o in back.objects] == [(1, 1), (7, 2)]


def test_images_given_as_bytes_are_embedded(tmp_path):
    jpeg = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")  # the bytes are copied, never decoded
    label = label_frames(16, 48, 1)[0]
    video = Video(
        "v", 48, 16, (Frame(0, "00000.jpg", ImageRef(data=jpeg), FrameMasks(tuple(rle.encode(label)))),), (ObjectInfo(1),)
    )
    converters.write_videos([video], tmp_path / "v.parquet", to="parquet", writer_options={"images": True})
    (back,) = converters.read_videos(tmp_path / "v.parquet")
    assert back.frames[0].image.data == jpeg


def test_what_a_format_cannot_hold_is_refused_and_nothing_written(tmp_path):
    label = label_frames(16, 48, 1)[0]
    (mask,) = rle.encode(label)
    big = Video(
        "big",
        48,
        16,
        (Frame(0, "0.jpg", None, FrameMasks((type(mask)(300, mask.counts, mask.area, mask.bbox),))),),
        (ObjectInfo(300),),
    )
    with pytest.raises(SourceError, match="object id 300 is not a pixel value 1 to 254"):
        converters.write_videos([big], tmp_path / "out", to="mose")
    assert not (tmp_path / "out").exists()
    converters.write_videos([big], tmp_path / "out.parquet", to="parquet")  # a format that holds any id
    with pytest.raises(OutputError, match="already exists"):
        converters.write_videos([big], tmp_path / "out.parquet", to="parquet")


@pytest.mark.parametrize(
    ("videos", "message"),
    [
        ("data/MOSE", "got the path 'data/MOSE': converters.convert reads one"),
        (None, "expected an iterable of Video, got NoneType"),
        ([1], "item 0 is a int, not a converters.model.Video"),
    ],
)
def test_videos_that_are_no_videos_are_refused(tmp_path, videos, message):
    with pytest.raises(OptionError) as caught:
        converters.write_videos(videos, tmp_path / "out.json", to="coco")
    assert caught.value.where == "videos" and message in caught.value.message
    assert not (tmp_path / "out.json").exists()


def test_no_videos_are_written_with_a_warning_in_the_caller_s_words(tmp_path):
    """An empty iterable (a filter that kept nothing, a generator used up) was warned of as "the python reader lists
    no videos": the user gave no reader. It is written (an empty dataset), and the warning points at their call."""
    with pytest.warns(VosconvWarning, match=r"^write_videos was given no videos; .*out\.json will hold none$") as seen:
        summary = converters.write_videos(iter(()), tmp_path / "out.json", to="coco")
    assert seen[0].filename == __file__
    assert summary.stats.videos == 0 and list(converters.read_videos(tmp_path / "out.json")) == []


def test_one_video_or_a_name_twice_is_refused(tmp_path):
    video = Video("v", 8, 8, (Frame(0, "0.jpg"),))
    with pytest.raises(OptionError, match=r"got one Video: give \[video\]"):
        converters.write_videos(video, tmp_path / "out.json", to="coco")
    with pytest.raises(OptionError, match="two videos are named 'v'"):
        converters.write_videos([video, video], tmp_path / "out.json", to="coco")
    with pytest.raises(OptionError, match=r"^info: expected a converters\.model\.DatasetInfo"):
        converters.write_videos([video], tmp_path / "out.json", to="coco", info={"split": "val"})
    with pytest.raises(OptionError, match=r"^overwrite: "):
        converters.write_videos([video], tmp_path / "out.json", to="coco", overwrite="false")
    with pytest.warns(VosconvWarning, match="a coco output's name"):
        converters.write_videos([video], tmp_path / "out.json", to="parquet")


def test_a_generator_is_written_holding_one_video_at_a_time(tmp_path):
    """Predictions of a large dataset come from a generator: each video is set aside as it comes, so the one before
    it is already let go when the next is made (a tuple of them all held every video to the end)."""
    alive: weakref.WeakSet[Video] = weakref.WeakSet()
    most = []

    def predictions():
        for n in range(6):
            most.append(len(alive))  # the previous video, still the caller's loop variable, at most
            labels = label_frames(40, 60, 3)
            frames = tuple(Frame(i, f"{i:05d}.jpg", None, FrameMasks(tuple(rle.encode(x)))) for i, x in enumerate(labels))
            video = Video(f"v{n}", 60, 40, frames, (ObjectInfo(1), ObjectInfo(7)))
            alive.add(video)
            yield video
            del video

    summary = converters.write_videos(predictions(), tmp_path / "out.parquet", to="parquet")
    assert summary.stats.videos == 6 and max(most) <= 1, most
    assert [video.name for video in converters.read_videos(tmp_path / "out.parquet")] == [f"v{n}" for n in range(6)]


def test_an_interrupted_write_says_to_write_again_with_overwrite_not_to_resume(tmp_path, monkeypatch):
    """write_videos takes no resume=: interrupted, and then refused over what it left, it said "--resume
    (resume=True)", a keyword it refuses; it says to call it again with overwrite=True, which then writes the output."""
    from converters.formats.parquet.writer import ParquetWriter
    from converters.run.pipeline import Interrupted

    def videos() -> list[Video]:
        labels = label_frames(40, 60, 2)
        frames = tuple(Frame(i, f"{i:05d}.jpg", None, FrameMasks(tuple(rle.encode(x)))) for i, x in enumerate(labels))
        return [Video(f"v{n}", 60, 40, frames, (ObjectInfo(1), ObjectInfo(7))) for n in range(2)]

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    out = tmp_path / "out.parquet"
    with monkeypatch.context() as patch:
        patch.setattr(ParquetWriter, "finalize", stopped)
        with pytest.raises(Interrupted, match="call write_videos again with overwrite=True") as caught:
            converters.write_videos(videos(), out, to="parquet")
    assert "resume" not in str(caught.value)
    with pytest.raises(OutputError, match="call write_videos again with overwrite=True") as caught:
        converters.write_videos(videos(), out, to="parquet")
    assert "resume=True" not in str(caught.value) and not out.exists()
    with pytest.warns(VosconvWarning, match="discarding an interrupted run"):
        assert converters.write_videos(videos(), out, to="parquet", overwrite=True).stats.videos == 2


def test_a_full_or_missing_tmpdir_is_said_to_be_that(tmp_path, monkeypatch):
    """Each video is set aside under TMPDIR: when that cannot be written, the error says so, and what to do."""
    import errno
    import os
    import pickle
    import tempfile

    video = Video("v", 8, 8, (Frame(0, "0.jpg"),))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with pytest.raises(OutputError, match=rf"^cannot write temporary files in {tmp_path}/missing: No such file"):
        converters.write_videos([video], tmp_path / "out.json", to="coco")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pickle, "dump", full)
    with pytest.raises(OutputError, match=rf"^cannot write temporary files in {tmp_path}: No space left on device; set"):
        converters.write_videos([video], tmp_path / "out.json", to="coco")
    assert not (tmp_path / "out.json").exists() and os.listdir(tmp_path) == []
