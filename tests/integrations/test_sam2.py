"""The SAM 2 drop-in against SAM 2's REAL training data code (the sam2==1.1.0 sdist's ``training`` package).

Nothing here skips: CI installs SAM 2 through ``make test``, and a setup that cannot import it fails.
"""

from __future__ import annotations

import logging
import random

import numpy as np
import pytest
import torch
from iopath.common.file_io import g_pathmgr
from training.dataset.vos_dataset import VOSDataset
from training.dataset.vos_raw_dataset import PNGRawDataset
from training.dataset.vos_sampler import RandomUniformSampler
from training.utils.data_utils import collate_fn

from converters.integrations.sam2 import ShardRawDataset, frame_uri

FORMATS = ("parquet", "hdf5")


@pytest.fixture(autouse=True)
def quiet_retries():
    logging.disable(logging.WARNING)  # VOSDataset logs each retried sample
    yield
    logging.disable(logging.NOTSET)


def folders(clean) -> PNGRawDataset:
    return PNGRawDataset(img_folder=str(clean / "JPEGImages"), gt_folder=str(clean / "Annotations"))


def vos(raw, transforms=(), num_frames=4, max_num_objects=2) -> VOSDataset:
    sampler = RandomUniformSampler(num_frames=num_frames, max_num_objects=max_num_objects, reverse_time_prob=0.5)
    return VOSDataset(transforms=list(transforms), training=True, video_dataset=raw, sampler=sampler, multiplier=1)


def key(datapoint) -> tuple:
    """Everything a datapoint holds: ids, size, each frame's pixels and each object's id, frame and mask."""
    frames = []
    for frame in datapoint.frames:
        objects = [(int(o.object_id), o.frame_index, o.segment.dtype, o.segment.numpy().tobytes()) for o in frame.objects]
        frames.append((np.asarray(frame.data).tobytes(), objects))
    return datapoint.video_id, datapoint.size, frames


@pytest.mark.parametrize("fmt", FORMATS)
def test_vos_dataset_gives_the_same_datapoints_as_over_the_folders(sam2_sets, fmt):
    clean, outputs = sam2_sets["mose"]
    want, got = vos(folders(clean)), vos(ShardRawDataset(outputs[fmt]))
    assert len(got) == len(want) == 3
    for seed in range(40):
        for index in range(len(want)):
            random.seed(seed)
            a = want[index]
            random.seed(seed)
            b = got[index]
            assert key(a) == key(b), (seed, index)


@pytest.mark.parametrize("layout", ["mose", "youtube-vos"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_raw_videos_and_segment_loaders_match_the_png_ones(sam2_sets, layout, fmt):
    """Frame numbers from file names (YouTube-VOS: 0, 5, ...), object order of first appearance, KeyError when unannotated."""
    clean, outputs = sam2_sets[layout]
    png, shards = folders(clean), ShardRawDataset(outputs[fmt])
    assert shards.video_names == png.video_names
    unannotated = 0
    for idx in range(len(png)):
        (video_a, loader_a), (video_b, loader_b) = png.get_video(idx), shards.get_video(idx)
        assert (video_b.video_name, video_b.video_id) == (video_a.video_name, video_a.video_id)
        assert [f.frame_idx for f in video_b.frames] == [f.frame_idx for f in video_a.frames]
        for frame_a, frame_b in zip(video_a.frames, video_b.frames):
            with open(frame_a.image_path, "rb") as source, g_pathmgr.open(frame_b.image_path, "rb") as served:
                assert served.read() == source.read()
            try:
                segments_a = loader_a.load(frame_a.frame_idx)
            except KeyError:
                unannotated += 1
                with pytest.raises(KeyError):
                    loader_b.load(frame_b.frame_idx)
                continue
            segments_b = loader_b.load(frame_b.frame_idx)
            assert [(type(k), int(k)) for k in segments_b] == [(type(k), int(k)) for k in segments_a]
            for k in segments_a:
                assert segments_b[k].dtype == torch.bool and torch.equal(segments_b[k], segments_a[k])
    assert unannotated > 0 or layout == "mose"


def test_video_lists_work_as_in_png_raw_dataset(sam2_sets, tmp_path):
    clean, outputs = sam2_sets["mose"]
    names = ShardRawDataset(outputs["parquet"]).video_names
    listing, excluded = tmp_path / "list.txt", tmp_path / "excluded.txt"
    listing.write_text("".join(f"{n}.mp4\n" for n in reversed(names)))
    excluded.write_text(f"{names[1]}\n")
    a = ShardRawDataset(outputs["parquet"], file_list_txt=str(listing), excluded_videos_list_txt=str(excluded))
    b = PNGRawDataset(str(clean / "JPEGImages"), str(clean / "Annotations"), str(listing), str(excluded))
    assert a.video_names == b.video_names == [names[0], names[2]] and len(a) == 2


def test_only_read_mode_and_frame_addresses(sam2_sets):
    _, outputs = sam2_sets["mose"]
    uri = frame_uri(str(outputs["hdf5"]), ShardRawDataset(outputs["hdf5"]).video_names[0], 0)
    with pytest.raises(ValueError, match="'rb'"):
        g_pathmgr.open(uri, "r")
    with pytest.raises(ValueError, match="not a vosconv frame address"):
        g_pathmgr.open(uri.replace("/0.jpg", "/x.jpg"), "rb")


def as_tensors(datapoint, **kwargs):
    """Frames to uint8 (3, H, W) tensors, what SAM 2's collate_fn stacks (its own transforms need the real torchvision)."""
    for frame in datapoint.frames:
        frame.data = torch.from_numpy(np.array(frame.data)).permute(2, 0, 1)
    return datapoint


def summary(datapoint) -> list:
    batch = collate_fn([datapoint], dict_key="all")
    return [batch.img_batch.sum().item(), batch.masks.sum().item(), batch.metadata.unique_objects_identifier.tolist()]


class Seeded(torch.utils.data.Dataset):
    """Python's random seeded per item, so a datapoint does not depend on which worker draws it."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index):
        random.seed(index)
        return summary(self.dataset[index])


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_workers_serve_the_frames(sam2_sets, context, no_lingering_tracker):
    """Spawned workers import the module anew: the vosconv:// handler registers itself there too."""
    clean, outputs = sam2_sets["mose"]
    want = [Seeded(vos(folders(clean), [as_tensors]))[i] for i in range(3)]
    loader = torch.utils.data.DataLoader(
        Seeded(vos(ShardRawDataset(outputs["hdf5"]), [as_tensors])),
        batch_size=None,
        num_workers=2,
        multiprocessing_context=context,
    )
    assert list(loader) == want
