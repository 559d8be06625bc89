"""The training loader: videos and random clips from a converted Parquet or HDF5 dataset.

>>> from converters.loading import ClipDataset, open_dataset
>>> clips = ClipDataset("mose-train.parquet", clip_length=8)  # doctest: +SKIP
"""

from .collate import collate_clips
from .dataset import ClipDataset, VideoDataset, VideoHandle, decode_jpeg, open_dataset
from .training import TrainingClips, read_video_list

__all__ = [
    "ClipDataset",
    "TrainingClips",
    "VideoDataset",
    "VideoHandle",
    "collate_clips",
    "decode_jpeg",
    "open_dataset",
    "read_video_list",
]
