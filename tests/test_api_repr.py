"""What a notebook shows of vosconv's objects: short and useful, never every frame's RLE or every mask's area."""

from __future__ import annotations

import pytest

import converters
from converters.model import Category, DatasetInfo, Frame, FrameMasks, ImageRef, Mask, ObjectInfo, Video

#: A long video of large masks: what a 1080p MOSE video's reprs printed in full (about 2 MB here).
FRAMES, OBJECTS, COUNTS = 300, 20, "a1b2" * 500


def big_video() -> Video:
    objects = tuple(ObjectInfo(i, 1, frames=tuple(f"{n:05d}" for n in range(FRAMES))) for i in range(1, OBJECTS + 1))
    masks = FrameMasks(tuple(Mask(o.object_id, COUNTS, 10, (0, 0, 2, 5)) for o in objects), Mask(255, COUNTS, 4, (0, 0, 2, 2)))
    frames = tuple(Frame(i, f"{i:05d}.jpg", ImageRef(path=f"v/{i:05d}.jpg"), masks) for i in range(FRAMES))
    return Video("v", 1920, 1080, frames, objects, metadata=tuple((f"k{i}", i) for i in range(30)))


def test_a_big_video_shows_in_a_line():
    video = big_video()
    shown = repr(video)
    assert len(shown) < 300, shown
    assert shown.startswith("Video(name='v', width=1920, height=1080, frames=<300, 300 annotated>, object_ids=(1, 2, 3,")
    assert "12 more" in shown and "encoding='palette'" in shown and COUNTS[:20] not in shown
    assert len(str(video)) < 300


def test_a_frame_its_masks_and_a_mask_show_what_they_hold():
    frame = big_video().frames[7]
    assert len(repr(frame)) < 250
    assert "index=7, file_name='00007.jpg', image=ImageRef(path='v/00007.jpg')" in repr(frame)
    assert repr(frame.masks) == "FrameMasks(object_ids=(1, 2, 3, 4, 5, 6, 7, 8, ... 12 more), void_area=4)"
    assert repr(frame.masks.objects[0]) == "Mask(object_id=1, area=10, bbox=(0, 0, 2, 5), counts=<2000 chars>)"
    assert repr(FrameMasks()) == "FrameMasks(object_ids=())"


def test_image_refs_show_where_the_image_is_never_its_bytes():
    assert repr(ImageRef(data=b"\xff\xd8" * 50_000)) == "ImageRef(data=<100000 bytes>)"
    assert repr(ImageRef(path="m.jpg", archive="a.zip")) == "ImageRef(path='m.jpg', archive='a.zip')"
    assert repr(ImageRef(path="v.mp4", frame=3)) == "ImageRef(path='v.mp4', frame=3, quality=95)"
    resized = ImageRef(path="f.png", resize=(427, 240), resize_format="png")  # a --max-side frame, resized when read
    assert repr(resized) == "ImageRef(path='f.png', resize=(427, 240), resize_format='png')"


def test_objects_and_dataset_info_are_short():
    shown = repr(ObjectInfo(3, 2, frames=tuple(str(n) for n in range(180)), metadata=(("name", "dog"),)))
    assert shown == "ObjectInfo(object_id=3, category_id=2, frames=<180 names>, metadata=(('name', 'dog'),))"
    info = DatasetInfo("coco", "train", tuple(Category(i, f"c{i}") for i in range(1, 1204)))
    assert "categories=<1203 categories>" in repr(info) and len(repr(info)) < 200


def test_readers_writers_and_stats_show_what_they_are(sample_root):
    source = sample_root["mose"] / "train"
    with converters.open_reader(source) as reader:
        assert repr(reader) == f"MoseReader({str(source)!r}, MoseOptions(split=None, images=None))"
    assert repr(reader).endswith(" (closed)")
    assert repr(converters.open_writer("coco")) == "CocoWriter(CocoOptions(compresslevel=None))"
    stats = converters.stats(source)
    assert repr(stats) == f"DatasetStats(source={str(source)!r}, format='mose', split='train', videos=<3 videos, 30 frames>)"
    assert repr(stats.videos[0]).startswith(f"VideoStats(name={stats.videos[0].name!r}, frames=")
    assert "mask_areas" not in repr(stats.videos[0])


@pytest.mark.parametrize("layout", ["mose", "youtube-vos"])
def test_every_video_read_shows_in_a_line(sample_root, layout):
    for video in converters.read_videos(sample_root[layout], split="train"):
        assert "\n" not in repr(video) and len(repr(video)) < 200
        assert all(len(repr(frame)) < 300 for frame in video.frames)


def test_a_convert_summary_shows_in_a_few_lines():
    """A notebook cell ending in ``converters.convert(...)`` showed every category id and every skipped video's error."""
    from converters.run.stats import Stats

    stats = Stats(3, 30, 30, 9, 75, 0, 1, set(range(1, 1204)))
    stats.skipped = [{"video": f"v{i}", "file": "f.png", "error": "source", "message": "x" * 200} for i in range(1000)]
    shown = repr(stats)
    assert shown.startswith("Stats(videos=3, frames=30, annotated_frames=30, objects=9, masks=75, void_masks=0, empty_frames=1")
    assert "category_ids=<1203 ids: 1, 2, 3, 4, 5, 6, 7, 8, ...>" in shown and "skipped=<1000 videos: v0, v1, v2, ...>" in shown
    assert len(shown) < 300
    assert repr(Stats(category_ids={3, 1})).endswith("category_ids={1, 3}, skipped=[])")


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_the_loaders_datasets_show_what_they_read(mose_shards, fmt):
    """A notebook's ``clips`` showed ``<... object at 0x...>``, and a video handle the whole dataset's default repr."""
    from converters.loading import TrainingClips
    from converters.loading.dataset import ClipDataset, open_dataset

    videos = open_dataset(mose_shards[fmt])
    where = repr(str(mose_shards[fmt]))
    assert repr(videos) == f"VideoDataset({where}, {fmt}, split train, {len(videos)} videos, images embedded)"
    handle = videos[0]
    assert repr(handle).startswith(f"VideoHandle({handle.name!r}, frames={len(handle)} (") and "object at" not in repr(handle)
    clips = ClipDataset(videos, clip_length=4, masks="objects")
    counted = f"{len(clips)} clips of {len(videos)} videos"
    assert repr(clips) == f"ClipDataset({where}, {counted}, clip_length=4, stride=1, masks='objects')"
    training = TrainingClips(videos, num_frames=4, output="numpy", size=96, transform=lambda item: item)
    shown = repr(training)
    assert shown.startswith(f"TrainingClips({where}, {len(training)} clips of ")
    assert ", epoch 0, num_frames=4, max_skip=1" in shown
    assert ", size=96, " in shown
    assert shown.endswith("output='numpy', transform=test_the_loaders_datasets_show_what_they_read.<locals>.<lambda>)")
