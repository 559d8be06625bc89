"""SAM 2's own MOSE fine-tuning YAML, its data section instantiated by hydra as SAM 2's trainer does, over the drop-in.

Only ``video_dataset`` changes (its ``_target_`` and its path). The one other change is forced by
this machine: ``vos.train_transforms`` is emptied, because SAM 2's transforms need the real
torchvision, which cannot be installed beside the pinned CPU torch (tests/integrations/conftest.py).
"""

from __future__ import annotations

import logging
import random
from importlib import resources

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

CONFIG = "sam2.1_hiera_b+_MOSE_finetune.yaml"


@pytest.fixture(autouse=True)
def quiet_retries():
    logging.disable(logging.WARNING)  # VOSDataset logs each retried sample
    yield
    logging.disable(logging.NOTSET)


def sam2_config():
    """SAM 2's YAML as shipped in the installed sam2 package, with the transforms it cannot run here emptied."""
    cfg = OmegaConf.load(resources.files("sam2") / "configs" / "sam2.1_training" / CONFIG)
    cfg.vos.train_transforms = []
    cfg.scratch.num_train_workers = 0
    return cfg


def video_dataset_node(cfg):
    return cfg.trainer.data.train.datasets[0].dataset.datasets[0].video_dataset


def datapoints(train, seeds=range(12)) -> list[tuple]:
    dataset, found = train.datasets[0], []
    for seed in seeds:
        random.seed(seed)
        point = dataset[seed % len(dataset)]
        objects = [[(int(o.object_id), o.segment.numpy().tobytes()) for o in f.objects] for f in point.frames]
        found.append((point.video_id, point.size, [f.data.tobytes() for f in point.frames], objects))
    return found


@pytest.mark.parametrize("extra", [{}, {"truncate_video": 10, "frames_sampling_mult": True}])
@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_sam2s_mose_config_runs_with_only_the_video_dataset_changed(sam2_sets, fmt, extra):
    """``extra``: more of PNGRawDataset's arguments, given to both (hydra failed on them as unknown keywords)."""
    clean, outputs = sam2_sets["mose"]
    folders = sam2_config()
    folders.dataset.img_folder, folders.dataset.gt_folder = str(clean / "JPEGImages"), str(clean / "Annotations")
    folders.dataset.file_list_txt = None  # the sdist leaves out training/assets/MOSE_sample_train_list.txt
    video_dataset_node(folders).update(extra)
    shards = sam2_config()
    node = video_dataset_node(shards)
    assert node._target_ == "training.dataset.vos_raw_dataset.PNGRawDataset"
    shards.trainer.data.train.datasets[0].dataset.datasets[0].video_dataset = {
        "_target_": "converters.integrations.sam2.ShardRawDataset",
        "path": str(outputs[fmt]),
        "file_list_txt": None,
        **extra,
    }
    want, got = instantiate(folders.trainer.data.train), instantiate(shards.trainer.data.train)  # as training/trainer.py does
    assert type(got).__name__ == type(want).__name__ == "TorchTrainMixedDataset"
    vos = got.datasets[0].dataset.datasets[0]
    assert type(vos).__name__ == "VOSDataset" and type(vos.video_dataset).__name__ == "ShardRawDataset"
    assert len(got.datasets[0]) == len(want.datasets[0])
    assert datapoints(got) == datapoints(want)
