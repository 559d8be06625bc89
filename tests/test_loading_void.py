"""An object whose id is 255 (SA-V's 256th masklet, a BURST track) beside DAVIS's void region, which label maps paint
as 255: the loader keeps them apart (Parquet marks the void with iscrowd), and refuses a label map that would not."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from converters.formats.hdf5.writer import Hdf5Writer
from converters.formats.parquet.writer import ParquetWriter
from converters.loading.dataset import ClipDataset, open_dataset
from converters.model import DatasetInfo, Frame, FrameMasks, Mask, MaskEncoding, ObjectInfo, Video
from converters.writer import Shard, checksum_of

HEIGHT, WIDTH = 12, 16


def _mask(object_id: int, rows: slice, cols: slice) -> Mask:
    binary = np.zeros((HEIGHT, WIDTH), np.uint8)
    binary[rows, cols] = 1
    encoded = coco_mask.encode(np.asfortranarray(binary))
    bbox = tuple(int(v) for v in coco_mask.toBbox(encoded))
    return Mask(object_id, encoded["counts"].decode(), int(binary.sum()), bbox)


def _video(ids: tuple[int, int]) -> Video:
    """Frame 0: both objects and void; 1: void alone; 2: the second object alone; 3: unannotated."""
    first, second = ids
    void = _mask(255, slice(8, 12), slice(12, 16))
    frames = (
        Frame(
            0,
            "00000.jpg",
            None,
            FrameMasks((_mask(first, slice(0, 4), slice(0, 4)), _mask(second, slice(2, 6), slice(6, 12))), void),
        ),
        Frame(1, "00001.jpg", None, FrameMasks((), void)),
        Frame(2, "00002.jpg", None, FrameMasks((_mask(second, slice(3, 5), slice(1, 9)),))),
        Frame(3, "00003.jpg", None, None),
    )
    return Video("v", WIDTH, HEIGHT, frames, (ObjectInfo(first), ObjectInfo(second)), MaskEncoding.PALETTE)


def _written(writer, video: Video, tmp_path: Path) -> Path:
    info = DatasetInfo("test")
    result = writer.write_shard([video], Shard(0, ()), tmp_path, info)
    (name,) = result.files  # the pipeline adds each file's checksum, which the manifest records
    result = dataclasses.replace(result, checksums=(checksum_of(name, (tmp_path / name).read_bytes()),))
    return writer.finalize([result], info, tmp_path, tmp_path / "out")


def _plane(mask: Mask | None) -> np.ndarray:
    if mask is None:
        return np.zeros((HEIGHT, WIDTH), bool)
    return coco_mask.decode({"size": [HEIGHT, WIDTH], "counts": mask.counts.encode()}).astype(bool)


CASES = [(ParquetWriter, (1, 255)), (ParquetWriter, (1, 2)), (Hdf5Writer, (1, 2))]  # HDF5 RLE refuses an object 255


@pytest.mark.parametrize(("writer", "ids"), CASES, ids=lambda c: getattr(c, "name", str(c)))
def test_an_object_255_and_the_void_are_apart_in_every_mask_the_loader_gives(writer, ids, tmp_path):
    video = _video(ids)
    folder = _written(writer(writer.Options(images=False)), video, tmp_path)
    handle = open_dataset(folder)["v"]
    clip = handle.read_clip([0, 1, 2, 3], images=False, masks="objects")
    for t, frame in enumerate(video.frames):
        masks = frame.masks or FrameMasks()
        for k, object_id in enumerate(ids):
            np.testing.assert_array_equal(clip["masks"][t, k], _plane(masks.get(object_id)), err_msg=f"{t}/{object_id}")
        np.testing.assert_array_equal(clip["void"][t], _plane(masks.void), err_msg=f"{t}/void")
        present = handle.present_objects(t)
        want = [(m.object_id, _plane(m)) for m in masks.objects] + ([(255, _plane(masks.void))] if masks.void else [])
        assert sorted((v, p.tobytes()) for v, p in present) == sorted((v, p.tobytes()) for v, p in want)
    clips = ClipDataset(folder, clip_length=4, images=False, masks="objects")
    np.testing.assert_array_equal(clips[0]["masks"], clip["masks"])
    if 255 in ids:  # a label map holds one 255: the void's
        with pytest.raises(Exception, match=r"do not fit a uint8 label map"):
            handle.read_clip([0], images=False, masks="label")
    else:
        label = handle.read_clip([0, 1], images=False, masks="label")["masks"]
        assert (label[1] == 255).sum() == 16 and set(np.unique(label[0]).tolist()) == {0, *ids, 255}


def test_training_clips_give_an_object_255_its_own_pixels(tmp_path):
    """TrainingClips' per-object masks and presence (what SAM 2's training samples from) never take the void for it."""
    from converters.loading.training import TrainingClips

    video = _video((1, 255))
    folder = _written(ParquetWriter(ParquetWriter.Options(images=False)), video, tmp_path)
    for seed in range(4):
        item = TrainingClips(folder, num_frames=3, images=False, output="numpy", seed=seed)[0]
        for t, index in enumerate(item["frame_indices"].tolist()):
            masks = video.frames[index].masks or FrameMasks()
            for k, object_id in enumerate(item["object_ids"].tolist()):
                want = _plane(masks.get(object_id))
                np.testing.assert_array_equal(item["masks"][t, k], want, err_msg=f"{index}/{object_id}")
                assert item["present"][t, k] == want.any()


WRITERS = [(ParquetWriter, {}, (1, 255)), (Hdf5Writer, {}, (1, 2)), (Hdf5Writer, {"masks": "dense"}, (1, 2))]


@pytest.mark.parametrize(("writer", "options", "ids"), WRITERS, ids=["parquet", "hdf5", "hdf5-dense"])
def test_training_clips_give_the_void_region_when_asked(writer, options, ids, tmp_path):
    """DAVIS's void (255) read as background unless void=True, which gives it as a plane of its own for a loss to
    ignore: never an object 255's pixels, at the training size too, reversed clips and batches included."""
    from converters.loading import collate_clips
    from converters.loading.images import resize_masks
    from converters.loading.training import TrainingClips

    video = _video(ids)
    folder = _written(writer(writer.Options(images=False, **options)), video, tmp_path)
    assert "void" not in TrainingClips(folder, num_frames=2, images=False, output="numpy")[0]
    for size in (None, (6, 8)):
        for seed in range(4):
            clips = TrainingClips(
                folder, num_frames=3, images=False, output="numpy", seed=seed, void=True, size=size, reverse_time_prob=0.5
            )
            item = clips[0]
            want = np.stack([_plane((video.frames[i].masks or FrameMasks()).void) for i in item["frame_indices"].tolist()])
            np.testing.assert_array_equal(item["void"], want if size is None else resize_masks(want, size))
    batch = collate_clips([clips[0], clips[0]])
    assert batch["void"].shape == (2, 3, 6, 8) and batch["void"].dtype == bool
    with pytest.raises(Exception, match="void: True or False"):
        TrainingClips(folder, num_frames=2, images=False, output="numpy", void="yes")
