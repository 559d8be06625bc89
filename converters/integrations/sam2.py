"""A drop-in for SAM 2's training data: its ``VOSRawDataset`` over a converted Parquet or HDF5 dataset.

In SAM 2's MOSE fine-tuning config, change only the raw dataset::

    video_dataset:
      _target_: converters.integrations.sam2.ShardRawDataset
      path: /data/mose-train.parquet     # the output folder of `vosconv convert --to parquet|hdf5`
      file_list_txt: null

SAM 2's own ``VOSDataset`` and samplers then read the shards and give, for the same seeds, the
datapoints they give over the MOSE folders with ``PNGRawDataset`` (the tests check pixels, object
ids and masks). Frames reach SAM 2's ``load_images`` through iopath: each ``VOSFrame.image_path``
is a ``vosconv://`` address, and the path handler this module registers (on import, so in spawned
DataLoader workers too) serves the frame's stored JPEG bytes, with no temporary files.

Needs SAM 2's ``training`` package (``SAM2_BUILD_CUDA=0 pip install --no-deps --no-build-isolation
sam2==1.1.0``), torch and iopath.
"""

from __future__ import annotations

import io
import os
from urllib.parse import quote, unquote

import numpy as np
import torch
from iopath.common.file_io import PathHandler, g_pathmgr
from training.dataset.vos_raw_dataset import VOSFrame, VOSRawDataset, VOSVideo

from ..loading import VideoDataset, open_dataset
from ..loading.dataset import VideoHandle

__all__ = ["SCHEME", "ShardRawDataset", "ShardSegmentLoader", "VosconvPathHandler", "frame_uri"]

SCHEME = "vosconv://"
_OPEN: dict[str, VideoDataset] = {}  # per process: dataset folder -> its VideoDataset, opened on first use


def _dataset(root: str) -> VideoDataset:
    found = _OPEN.get(root)
    if found is None:
        found = _OPEN[root] = open_dataset(root)
    return found


def frame_uri(root: str, video: str, position: int) -> str:
    """``vosconv://<quoted dataset folder>/<quoted video>/<frame position>.jpg``: all a worker needs to find it."""
    return f"{SCHEME}{quote(root, safe='')}/{quote(video, safe='')}/{position}.jpg"


class VosconvPathHandler(PathHandler):
    """Serves a frame's stored JPEG bytes for ``g_pathmgr.open("vosconv://...", "rb")``."""

    def _get_supported_prefixes(self) -> list[str]:
        return [SCHEME]

    def _open(self, path: str, mode: str = "r", buffering: int = -1, **kwargs) -> io.BytesIO:
        self._check_kwargs(kwargs)
        if mode != "rb":
            raise ValueError(f"{path}: vosconv frames open only in 'rb' mode, not {mode!r}")
        parts = path[len(SCHEME) :].split("/")
        if len(parts) != 3 or not parts[2].endswith(".jpg") or not parts[2][:-4].isdigit():
            raise ValueError(f"{path}: not a vosconv frame address ({SCHEME}<folder>/<video>/<position>.jpg)")
        handle = _dataset(unquote(parts[0]))[unquote(parts[1])]
        data = handle.read_clip([int(parts[2][:-4])], images=True, masks=None)["frames"][0]
        if data is None:
            raise FileNotFoundError(f"{path}: the source had no image for this frame")
        return io.BytesIO(data)


def _register() -> None:
    """Idempotent: iopath warns when a prefix is registered twice."""
    if SCHEME not in g_pathmgr._path_handlers:
        g_pathmgr.register_handler(VosconvPathHandler())


_register()


def _frame_numbers(names: list[str]) -> list[int]:
    """``VOSFrame.frame_idx`` as ``PNGRawDataset`` sets it: the number in the file name (YouTube-VOS: 0, 5, 10...).

    Names that are not numbers (no SAM 2 folder would load them) give the frame positions.
    """
    stems = [os.path.splitext(name)[0] for name in names]
    return [int(s) for s in stems] if all(s.isdigit() for s in stems) else list(range(len(names)))


class ShardSegmentLoader:
    """SAM 2's ``PalettisedPNGSegmentLoader`` over one stored video: ``load(frame_idx)`` -> ``{object_id: bool HxW}``.

    As the PNG loader: only the objects present on that frame, in the order their first pixel
    comes in raster order (``pd.unique`` of the flattened PNG), ids as ``np.uint8``, void (255)
    as an object, and ``KeyError`` for a frame without annotation. Only the objects present are
    decoded, each straight from its RLE (no label map compared once per object).
    """

    def __init__(self, handle: VideoHandle, frame_numbers: list[int]) -> None:
        self.handle = handle
        self.positions = {number: position for position, number in enumerate(frame_numbers)}
        self.annotated = set(handle.annotated)

    def load(self, frame_idx: int) -> dict[np.uint8, torch.Tensor]:
        position = self.positions.get(frame_idx)
        if position is None or position not in self.annotated:
            raise KeyError(frame_idx)  # as PalettisedPNGSegmentLoader does for a frame without a PNG
        return {np.uint8(value): torch.from_numpy(plane) for value, plane in self.handle.present_objects(position)}

    def __len__(self) -> int:
        return len(self.handle)


def _read_names(list_file: str) -> list[str]:
    """A list file's video names, read as ``PNGRawDataset`` reads its list files."""
    with g_pathmgr.open(list_file, "r") as file:
        return [os.path.splitext(line.strip())[0] for line in file]


class ShardRawDataset(VOSRawDataset):
    """SAM 2's ``PNGRawDataset``, reading a vosconv Parquet or HDF5 output folder instead of JPEG and PNG folders.

    ``video_id`` is the position in the sorted names (a ``file_list_txt`` and an
    ``excluded_videos_list_txt`` work as in ``PNGRawDataset``); each frame's ``frame_idx`` is
    the number in its source file name.
    """

    def __init__(
        self, path: str | os.PathLike, file_list_txt: str | None = None, excluded_videos_list_txt: str | None = None
    ) -> None:
        self.path = os.path.abspath(os.fspath(path))
        stored = [video.name for video in _dataset(self.path)]
        names = stored if file_list_txt is None else _read_names(file_list_txt)
        excluded = set() if excluded_videos_list_txt is None else set(_read_names(excluded_videos_list_txt))
        unknown = sorted(set(names) - set(stored))
        if unknown:
            raise KeyError(f"{file_list_txt}: {len(unknown)} videos not in {self.path}, e.g. {unknown[:3]}")
        self.video_names = sorted(name for name in names if name not in excluded)

    def get_video(self, idx: int) -> tuple[VOSVideo, ShardSegmentLoader]:
        name = self.video_names[idx]
        handle = _dataset(self.path)[name]
        numbers = _frame_numbers(handle.file_names())
        frames = [VOSFrame(number, image_path=frame_uri(self.path, name, position)) for position, number in enumerate(numbers)]
        return VOSVideo(name, idx, frames), ShardSegmentLoader(handle, numbers)

    def __len__(self) -> int:
        return len(self.video_names)
