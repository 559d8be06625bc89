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
sam2==1.1.0``), torch, and what that package imports: iopath, omegaconf and pandas.
"""

from __future__ import annotations

import bisect
import io
import math
import os
import threading
from dataclasses import dataclass
from numbers import Integral
from urllib.parse import quote, unquote

import numpy as np

from ..errors import MissingDependency, OptionError, SourceError

try:
    import torch
    from iopath.common.file_io import PathHandler, g_pathmgr
    from training.dataset.vos_raw_dataset import VOSFrame, VOSRawDataset, VOSVideo
except ImportError as exc:  # hydra would say only "No module named 'training'"
    raise MissingDependency(
        f"the SAM 2 drop-in needs {(exc.name or str(exc)).split('.')[0]}: it runs beside SAM 2's training package, "
        "torch, iopath, omegaconf and pandas (SAM2_BUILD_CUDA=0 pip install --no-deps --no-build-isolation sam2==1.1.0; "
        "pip install iopath omegaconf pandas torch)"
    ) from exc
from ..loading import VideoDataset, open_dataset, read_video_list
from ..loading.dataset import VideoHandle

__all__ = ["SCHEME", "FrameNumbers", "ShardRawDataset", "ShardSegmentLoader", "VosconvPathHandler", "frame_uri"]

SCHEME = "vosconv://"
_OPEN: dict[tuple[str, str | None], VideoDataset] = {}  # per process: (folder, image root) -> its VideoDataset
_ADDRESSED: dict[str, VideoHandle] = {}  # per process: a frame address up to its last "/" -> that video
DAVIS2016_ID = 255  # DAVIS 2016's one object: vosconv reads its 0/255 masks as id 1, SAM 2's PNG loader as 255
_IMAGES_AT = ";"  # in an address, between the dataset folder and where its frames live now (quote escapes it)


def _dataset(root: str, image_root: str | None = None) -> VideoDataset:
    found = _OPEN.get((root, image_root))
    if found is None:
        found = _OPEN[root, image_root] = open_dataset(root, image_root=image_root)
    return found


def _video_address(root: str, video: str, image_root: str | None = None) -> str:
    """What every frame address of a video starts with: ``vosconv://<quoted dataset folder>/<quoted video>/``, the
    folder followed by ``;<quoted image root>`` when frames that were not embedded have moved."""
    where = quote(root, safe="") + ("" if image_root is None else _IMAGES_AT + quote(image_root, safe=""))
    return f"{SCHEME}{where}/{quote(video, safe='')}/"


def frame_uri(root: str, video: str, position: int, image_root: str | None = None) -> str:
    """``vosconv://<quoted dataset folder>/<quoted video>/<frame position>.jpg``: all a worker needs to find it."""
    return f"{_video_address(root, video, image_root)}{position}.jpg"


def _addressed_video(path: str, address: str) -> VideoHandle:
    """The video of a frame address (``address``: the part before the frame), parsed once per process."""
    parts = address[len(SCHEME) :].split("/")
    if len(parts) != 2:
        raise ValueError(f"{path}: not a vosconv frame address ({SCHEME}<folder>/<video>/<position>.jpg)")
    root, images_at, image_root = parts[0].partition(_IMAGES_AT)
    dataset, name = _dataset(unquote(root), unquote(image_root) if images_at else None), unquote(parts[1])
    if name not in dataset:
        raise FileNotFoundError(f"{path}: {dataset.path} has no video {name!r}")
    handle = _ADDRESSED[address] = dataset[name]
    return handle


class VosconvPathHandler(PathHandler):
    """Serves a frame's stored JPEG bytes for ``g_pathmgr.open("vosconv://...", "rb")``."""

    def _get_supported_prefixes(self) -> list[str]:
        return [SCHEME]

    def _open(self, path: str, mode: str = "r", buffering: int = -1, **kwargs) -> io.BytesIO:
        self._check_kwargs(kwargs)
        if mode != "rb":
            raise ValueError(f"{path}: vosconv frames open only in 'rb' mode, not {mode!r}")
        handle, position = _addressed_frame(path)
        data = handle.read_image(position)
        if data is None:
            raise FileNotFoundError(f"{path}: the source had no image for this frame")
        return io.BytesIO(data)

    def _exists(self, path: str, **kwargs) -> bool:
        """A frame that opens: the address is well formed, its video and frame are there, and the frame has an image
        (its stored bytes are read to know it, not decoded)."""
        self._check_kwargs(kwargs)
        try:
            handle, position = _addressed_frame(path)
            return handle.read_image(position) is not None
        except (ValueError, OSError, SourceError):  # as os.path.exists: a malformed address, a dataset, video or
            return False  # frame that is not there or cannot be read

    def _isfile(self, path: str, **kwargs) -> bool:
        return self._exists(path, **kwargs)

    def _isdir(self, path: str, **kwargs) -> bool:
        self._check_kwargs(kwargs)
        return False  # addresses name frames only


def _addressed_frame(path: str) -> tuple[VideoHandle, int]:
    """The video and frame position a frame address names; ValueError or FileNotFoundError naming the address."""
    address, _, frame = path.rpartition("/")
    if not frame.endswith(".jpg") or not frame[:-4].isdecimal():
        raise ValueError(f"{path}: not a vosconv frame address ({SCHEME}<folder>/<video>/<position>.jpg)")
    handle = _ADDRESSED.get(address)
    if handle is None:
        handle = _addressed_video(path, address)
    position = int(frame[:-4])
    if position >= len(handle):
        raise FileNotFoundError(f"{path}: video {handle.name!r} has {len(handle)} frames")
    return handle, position


_REGISTERING = threading.Lock()


def _register() -> None:
    """Idempotent and thread-safe: iopath warns, and swaps the handler, when a prefix is registered twice."""
    with _REGISTERING:
        if SCHEME not in g_pathmgr._path_handlers:
            g_pathmgr.register_handler(VosconvPathHandler())


_register()


class FrameNumbers:
    """Each stored frame's ``VOSFrame.frame_idx``, as ``PNGRawDataset`` sets it, and the way back to its position.

    ``frame_idx`` is the number in the file name (YouTube-VOS: 0, 5, 10...); names that are not
    numbers (no SAM 2 folder would load them; a superscript digit is no number to ``int``) give
    the frame positions. Evenly spaced numbers (MOSE's and YouTube-VOS's) are kept as a ``range``,
    so a video costs the same memory at any length.
    """

    __slots__ = ("_positions", "numbers")

    def __init__(self, names: list[str]) -> None:
        stems = [os.path.splitext(name)[0] for name in names]
        numbers = [int(s) for s in stems] if all(s.isdecimal() for s in stems) else list(range(len(names)))
        spaced = _as_range(numbers)
        self.numbers: range | tuple[int, ...] = tuple(numbers) if spaced is None else spaced
        self._positions = None if spaced is not None else {number: position for position, number in enumerate(numbers)}

    def position(self, number: int) -> int | None:
        """The position of the frame whose ``frame_idx`` is ``number`` (None for no such frame)."""
        if self._positions is not None:
            return self._positions.get(number)
        try:
            return self.numbers.index(number)
        except ValueError:
            return None


def _as_range(numbers: list[int]) -> range | None:
    """``numbers`` as a range when they rise by one same step, else None."""
    if len(numbers) < 2:
        return range(numbers[0], numbers[0] + 1) if numbers else range(0)
    step = numbers[1] - numbers[0]
    if step <= 0:
        return None
    spaced = range(numbers[0], numbers[-1] + 1, step)
    return spaced if len(spaced) == len(numbers) and list(spaced) == numbers else None


def _is_annotated(runs: tuple[tuple[int, int], ...], position: int) -> bool:
    """Whether frame ``position`` lies in one of the manifest's ``[start, stop)`` runs of annotated frames."""
    run = bisect.bisect_right(runs, (position, math.inf)) - 1
    return run >= 0 and position < runs[run][1]


def _object_key(value: int) -> np.uint8 | int:
    """``np.uint8`` as a PNG's values are; an id past 255 (COCO, YouTube-VIS, SA-V sources) stays a plain int."""
    return np.uint8(value) if value <= 255 else int(value)


class ShardSegmentLoader:
    """SAM 2's ``PalettisedPNGSegmentLoader`` over one stored video: ``load(frame_idx)`` -> ``{object_id: bool HxW}``.

    As the PNG loader: only the objects present on that frame, in the order their first pixel
    comes in raster order (``pd.unique`` of the flattened PNG), ids as ``np.uint8`` (ints past 255),
    void (255) as an object, DAVIS 2016's binary object as 255 (its PNG's value), and ``KeyError``
    for a frame without annotation. Only the objects present are decoded, each straight from its
    RLE (no label map compared once per object), so overlapping masks (SA-V's) come whole.

    SAM 2's sampler loads a clip's first frame twice and ``VOSDataset`` then once more: a frame
    loaded again right after is not decoded again: its planes come back in new tensors (SAM 2
    only sums them and copies them to uint8; do not write into them).
    """

    def __init__(self, handle: VideoHandle, frames: FrameNumbers) -> None:
        self.handle = handle
        self.frames = frames
        self._last: tuple[int, list[tuple[int, np.ndarray]]] | None = None  # the last frame loaded and its planes

    def load(self, frame_idx: int) -> dict[np.uint8, torch.Tensor]:
        position = self.frames.position(frame_idx)
        if position is None or not _is_annotated(self.handle.entry.annotated, position):
            raise KeyError(frame_idx)  # as PalettisedPNGSegmentLoader does for a frame without a PNG
        if self._last is None or self._last[0] != position:
            planes = self.handle.present_objects(position, binary_id=DAVIS2016_ID)
            if len({value for value, _ in planes}) < len(planes):  # object 255 beside the void, which a PNG reads as 255
                dataset, entry = self.handle.dataset, self.handle.entry
                raise SourceError(
                    dataset.path / dataset.manifest.shards[entry.shard].file,
                    f"video {entry.name!r}: frame {frame_idx} holds object 255 and a void region, one value to SAM 2's "
                    "PNG loader; renumber the objects (vosconv convert -w renumber=true to a palette layout) or drop the void",
                )
            self._last = (position, planes)
        return {_object_key(value): torch.from_numpy(plane) for value, plane in self._last[1]}

    def __len__(self) -> int:
        return len(self.handle)


@dataclass(frozen=True)
class _StoredVideo:
    """What ``get_video`` needs of a video, read from its shard once per process."""

    handle: VideoHandle
    address: str  # the start of its frames' addresses
    frames: FrameNumbers


def _read_names(list_file: str) -> list[str]:
    """A list file's video names, read as ``PNGRawDataset`` reads its list files (through iopath); a blank line
    names no video, and a file that cannot be read as text is a SourceError naming it, as for ``TrainingClips``."""
    return read_video_list(list_file, lambda path: g_pathmgr.open(path, "r"))


def _is_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


class ShardRawDataset(VOSRawDataset):
    """SAM 2's ``PNGRawDataset``, reading a vosconv Parquet or HDF5 output folder instead of JPEG and PNG folders.

    ``video_id`` is the position in the sorted names; each frame's ``frame_idx`` is the number in its
    source file name. The list files, ``sample_rate``, ``truncate_video`` and ``frames_sampling_mult``
    work as in ``PNGRawDataset``; ``is_palette=False`` and ``single_object_mode`` read per-object PNG
    folders, which a converted dataset does not have, so they are an ``OptionError``. ``image_root``: where
    the frames of a dataset converted with ``images=false`` live now, when they have moved since.
    ``img_folder`` and ``gt_folder`` are taken only to say that ``path`` replaces them (a SAM 2 config whose
    ``_target_`` alone was changed).
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        file_list_txt: str | None = None,
        excluded_videos_list_txt: str | None = None,
        sample_rate: int = 1,
        is_palette: bool = True,
        single_object_mode: bool = False,
        truncate_video: int = -1,
        frames_sampling_mult: bool = False,
        image_root: str | os.PathLike | None = None,
        img_folder: object = None,
        gt_folder: object = None,
    ) -> None:
        folders = [name for name, given in (("img_folder", img_folder), ("gt_folder", gt_folder)) if given is not None]
        if folders or path is None:  # a SAM 2 config with only its _target_ changed
            said = f"{' and '.join(folders)} given: " if folders else ""
            raise OptionError(
                "ShardRawDataset",
                f"{said}it reads one converted dataset folder, not PNGRawDataset's img_folder and gt_folder: "
                "replace them with path: <the Parquet or HDF5 output folder>",
            )
        if not is_palette or single_object_mode:
            raise OptionError(
                "ShardRawDataset",
                "is_palette=False and single_object_mode=True read per-object PNG folders (MultiplePNGSegmentLoader); "
                "a converted dataset holds each frame's objects together, as palette PNGs do: leave both unset",
            )
        if not _is_int(sample_rate) or sample_rate < 1 or not _is_int(truncate_video):
            raise OptionError(
                "ShardRawDataset",
                f"sample_rate must be a positive integer and truncate_video an integer, got {sample_rate!r}, {truncate_video!r}",
            )
        self.path = os.path.abspath(os.fspath(path))
        self.sample_rate, self.truncate_video = int(sample_rate), int(truncate_video)
        self.image_root = None if image_root is None else os.path.abspath(os.fspath(image_root))
        dataset = _dataset(self.path, self.image_root)
        dataset._check_images("pass image_root=DIR")  # frames that are gone: said now, not in a DataLoader worker
        stored = [video.name for video in dataset]
        names = stored if file_list_txt is None else _read_names(file_list_txt)
        excluded = set() if excluded_videos_list_txt is None else set(_read_names(excluded_videos_list_txt))
        unknown = sorted(set(names) - set(stored))
        if unknown:
            raise SourceError(file_list_txt, f"{len(unknown)} of its videos are not in {self.path}, e.g. {unknown[:3]}")
        self.video_names = sorted(name for name in names if name not in excluded)
        if frames_sampling_mult:  # each video as many times as it has frames, as PNGRawDataset does
            self.video_names = [name for name in self.video_names for _ in range(len(dataset[name]))]
        self._stored: dict[str, _StoredVideo] = {}  # per process: what get_video read of each video

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_stored": {}}

    def _video(self, name: str) -> _StoredVideo:
        found = self._stored.get(name)
        if found is None:
            handle = _dataset(self.path, self.image_root)[name]
            address = _video_address(self.path, name, self.image_root)
            found = self._stored[name] = _StoredVideo(handle, address, FrameNumbers(handle.file_names()))
        return found

    def get_video(self, idx: int) -> tuple[VOSVideo, ShardSegmentLoader]:
        """Frames and segment loader made anew each time (SAM 2 may change them); the file names are read once."""
        video = self._video(self.video_names[idx])
        positions = range(len(video.frames.numbers))
        if self.truncate_video > 0:
            positions = positions[: self.truncate_video]
        numbers, address = video.frames.numbers, video.address
        frames = [VOSFrame(numbers[p], image_path=f"{address}{p}.jpg") for p in positions[:: self.sample_rate]]
        return VOSVideo(video.handle.name, idx, frames), ShardSegmentLoader(video.handle, video.frames)

    def __len__(self) -> int:
        return len(self.video_names)
