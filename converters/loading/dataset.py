"""Training-time access to a converted Parquet or HDF5 dataset: videos, and random clips of frames with masks.

>>> from converters.loading import ClipDataset
>>> clips = ClipDataset("mose-train.parquet", clip_length=8)  # doctest: +SKIP
>>> item = clips[123]  # frames: JPEG bytes; masks: (8, H, W) uint8 label maps  # doctest: +SKIP

Clips are indexed from ``manifest.json`` alone, so building a dataset never scans a shard.
An item reads only what its frames need: for Parquet the row groups that hold them, through
a ``ParquetFile`` kept open per process (its footer parsed once); for HDF5 a slice of the
video's datasets in a file opened lazily per process. Datasets pickle without their open
files, so they work with ``torch.utils.data.DataLoader`` workers (fork or spawn) and
without torch. RLE becomes label maps in one compiled pass per frame (:func:`converters.codecs.rle.decode`).

Label maps hold object ids (0 background, 255 void), the values the annotation PNGs
hold, except DAVIS 2016 binary masks, whose single object (stored as 255) reads as 1.
"""

from __future__ import annotations

import numbers
import operator
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import OptionError, SourceError
from ..formats.sharded import manifest as shards
from ..model import Video, short_repr
from .backend import MALFORMED, Frames, backend_class
from .images import decode_jpeg
from .masks import label_maps_of, object_planes, present_planes

__all__ = ["ClipDataset", "VideoDataset", "VideoHandle", "decode_jpeg", "open_dataset"]

MaskMode = Literal["label", "objects"]


# --------------------------------------------------------------------------- public API


def as_position(index: object) -> int:
    """An integer index (numpy integers too); a float, a string or a bool is a mistake, not position 1."""
    if isinstance(index, (bool, np.bool_)):
        raise TypeError(f"indices must be integers, not {type(index).__name__}")
    return operator.index(index)


def frame_indices(indices: Sequence[int]) -> np.ndarray:
    """Chosen frame indices as int64 (T,): integers only (1.7 read frame 1, "2" frame 2, a bare 3 failed in len())."""
    array = np.asarray(indices)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise OptionError("indices", f"a sequence of integer frame indices, got {indices!r}")
    return array.astype(np.int64)


@dataclass(frozen=True)
class VideoHandle:
    """One video of a converted dataset: its facts from the manifest, and ways to read it."""

    dataset: VideoDataset
    entry: shards.VideoEntry

    @property
    def name(self) -> str:
        return self.entry.name

    def __len__(self) -> int:
        return self.entry.frames

    def __repr__(self) -> str:  # the default one printed the whole dataset's and the entry's fields
        e = self.entry
        frames = f"frames={e.frames} ({e.annotated_count} annotated)"
        return f"VideoHandle({e.name!r}, {frames}, size={e.height}x{e.width}, object_ids={short_repr(e.object_ids)})"

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)``."""
        return (self.entry.height, self.entry.width)

    @property
    def object_ids(self) -> tuple[int, ...]:
        return self.entry.object_ids

    @property
    def annotated(self) -> list[int]:
        """Indices of the frames that have an annotation."""
        return self.entry.annotated_indices

    def file_names(self) -> list[str]:
        """Each frame's source file name (``00005.jpg``), in frame order: read from the shard."""
        return self.dataset._file_names(self.entry)

    def read_video(self) -> Video:
        """The whole video in the intermediate form, exactly as it was converted."""
        return self.dataset._read_video(self.entry)

    def read_clip(
        self, indices: Sequence[int], *, images: bool = True, decode_images: bool = False, masks: MaskMode | None = "label"
    ) -> dict[str, Any]:
        """Some frames (increasing indices) with their masks: see :class:`ClipDataset` for the fields."""
        return self.dataset._read_clip(self.entry, frame_indices(indices), images, decode_images, masks)

    def read_image(self, index: int) -> bytes | None:
        """Frame ``index``'s stored image bytes as they are (None when the source had no image), with no more work."""
        return self.dataset._image(self.entry, as_position(index))

    def present_objects(self, index: int, *, binary_id: int = 1) -> list[tuple[int, np.ndarray]]:
        """Frame ``index``'s present values and their bool planes, in :func:`present_planes`' order (SAM 2's);
        ``binary_id``: DAVIS 2016's single object's id (SAM 2's PNG loader reads 255)."""
        return self.dataset._present(self.entry, index, binary_id)


def _check_output_folder(path: Path) -> None:
    """What the loader reads is a Parquet or HDF5 folder vosconv wrote: anything else says so, and how to make one."""
    name = Path(os.path.abspath(path)).stem or "dataset"  # "." has no name of its own, nor "/"
    make = f"vosconv convert {path} -o {name}.parquet makes one"
    if not path.exists():
        raise SourceError(path, "no such folder: the loader reads a Parquet or HDF5 output folder of vosconv")
    inside = [up for up in Path(os.path.abspath(path)).parents[:2] if (up / shards.MANIFEST).is_file()]
    if inside and not (path / shards.MANIFEST).is_file():  # a shard, data/ or manifest.json of one: converting it is no fix
        raise SourceError(path, f"inside the output folder {inside[0]}, which is what the loader reads: give that folder")
    if not path.is_dir():
        raise SourceError(path, f"a file, not the Parquet or HDF5 output folder of vosconv the loader reads ({make})")
    if not (path / shards.MANIFEST).exists():
        why = f"no {shards.MANIFEST}: not a Parquet or HDF5 output of vosconv, or one still being written"
        raise SourceError(path, f"{why} (a dataset in another format is converted first: {make})")


class VideoDataset(Sequence):
    """A converted dataset (a Parquet or HDF5 output folder) as a sequence of videos, in name order.

    Indexing by position or by name gives a :class:`VideoHandle`. Picklable: open files
    stay in the process that opened them. ``image_root``: where frames that were not embedded
    (``images=false``) live now, when not where the manifest recorded them.
    """

    def __init__(self, path: str | os.PathLike, *, image_root: str | os.PathLike | None = None) -> None:
        self.path = Path(path)
        _check_output_folder(self.path)
        self.manifest = shards.load_manifest(self.path)
        self.format = self.manifest.writer
        self.embedded = bool(self.manifest.options.get("images", True))
        self.image_root = shards.images_folder(None if image_root is None else str(image_root), self.manifest)
        recorded = self.manifest.source.get("image_root")
        #: the recorded image folder when frames are read from it and it is gone (an error on reading frames)
        self.missing_images = recorded if not self.embedded and recorded and self.image_root is None else None
        #: no frame has an image: written with images=false from a source that named no image folder (masks only)
        self.frameless = not self.embedded and not recorded and self.image_root is None
        self._backend = backend_class(self.format)(self.path, self.manifest, self.image_root)
        self._by_name = {v.name: i for i, v in enumerate(self.manifest.videos)}
        self._reader = None  # opened on the first read_video, in the process that reads

    def __len__(self) -> int:
        return len(self.manifest.videos)

    def __repr__(self) -> str:
        images = "embedded" if self.embedded else "none" if self.frameless else f"in {self.image_root or self.missing_images}"
        split = self.manifest.source.get("split")
        kind = f"{self.format}, split {split}" if split else self.format
        return f"VideoDataset({str(self.path)!r}, {kind}, {len(self)} videos, images {images})"

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self[i] for i in range(*key.indices(len(self)))]
        if isinstance(key, str):
            if key not in self._by_name:  # a typo, or another split's video: say which dataset, and the nearest names
                from ..suggest import did_you_mean

                raise KeyError(f"{self.path} has no video {key!r};{did_you_mean(key, self._by_name)} it has {len(self)} videos")
            key = self._by_name[key]
        return VideoHandle(self, self.manifest.videos[as_position(key)])

    def __contains__(self, key: object) -> bool:
        """A video name, or a handle of one of this dataset's videos."""
        if isinstance(key, str):
            return key in self._by_name
        return isinstance(key, VideoHandle) and key.dataset is self

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_reader": None}

    def _check_images(self, fix: str = "pass image_root=DIR (or images=False)") -> None:
        """``fix``: what the caller's user can pass (SAM 2's ShardRawDataset takes no ``images``)."""
        if self.missing_images is not None:
            gone = f"{self.path}'s frames are not embedded and this folder of them is gone"
            raise SourceError(self.missing_images, f"{gone}; {fix}")

    def _read_video(self, entry: shards.VideoEntry) -> Video:
        self._check_images()
        if self._reader is None:
            from .. import registry

            reader = registry.reader_class(self.format)
            self._reader = reader(self.path, reader.Options(images=self.image_root))
        return self._reader.read_video(self._reader.video_ref(entry.name))  # this video alone: another's damage is not its

    def _file_names(self, entry: shards.VideoEntry) -> list[str]:
        try:
            return self._backend.file_names(entry)
        except MALFORMED as exc:
            raise self._shard_error(entry, exc) from None

    def _decoded(self, entry: shards.VideoEntry, indices: np.ndarray, images: list[bytes | None]) -> list:
        """Each frame's pixels; bytes that are no image are a SourceError naming the shard, video and frame."""
        frames = []
        for index, data in zip(indices.tolist(), images):
            shard = self.path / self.manifest.shards[entry.shard].file
            try:
                pixels = None if data is None else decode_jpeg(data)
            except Exception as exc:  # Pillow and simplejpeg raise several kinds
                raise SourceError(shard, f"video {entry.name!r}, frame {index}: cannot decode image ({exc})") from None
            if pixels is not None and pixels.shape[:2] != (entry.height, entry.width):  # as decode_frames holds them
                found = f"{pixels.shape[1]}x{pixels.shape[0]}"
                raise SourceError(
                    shard,
                    f"video {entry.name!r}, frame {index}: the image is {found}, the video's frames {entry.width}x{entry.height}",
                )
            frames.append(pixels)
        return frames

    def _shard_error(self, entry: shards.VideoEntry, exc: Exception) -> SourceError:
        shard = self.path / self.manifest.shards[entry.shard].file
        return SourceError(shard, f"video {entry.name!r}: {type(exc).__name__}: {exc}")

    def _check_indices(self, entry: shards.VideoEntry, indices: np.ndarray, images: bool) -> None:
        if len(indices) == 0 or (np.diff(indices) <= 0).any() or indices[0] < 0 or indices[-1] >= entry.frames:
            raise IndexError(f"{entry.name}: frame indices must increase within 0..{entry.frames - 1}, got {indices.tolist()}")
        if images:
            self._check_images()

    def _read_raw(self, entry: shards.VideoEntry, indices: np.ndarray, images: bool, masks: bool) -> Frames:
        """What the backend stores for the frames (image bytes, RLE or label maps); damage is a SourceError."""
        self._check_indices(entry, indices, images)
        try:
            return self._backend.read(entry, indices, images, masks)
        except MALFORMED as exc:
            raise self._shard_error(entry, exc) from None

    def _read_clip(
        self, entry: shards.VideoEntry, indices: np.ndarray, images: bool, decode_images: bool, masks: MaskMode | None
    ) -> dict[str, Any]:
        self._check_indices(entry, indices, images)
        if masks not in ("label", "objects", None):
            raise ValueError(f"masks must be 'label', 'objects' or None, got {masks!r}")
        item: dict[str, Any] = {
            "video": entry.name,
            "frame_indices": indices,
            "object_ids": np.array(entry.object_ids, np.int64),
            "annotated": entry.is_annotated(indices),
        }
        try:
            read = self._backend.read(entry, indices, images, masks is not None)
            if masks == "label":
                item["masks"] = (
                    read.labels if read.rle is None else label_maps_of(read.rle, entry.height, entry.width, read.encoding)
                )
            elif masks == "objects":
                item["masks"], item["void"] = object_planes(read, item["object_ids"], entry.height, entry.width)
        except MALFORMED as exc:  # a shard that disagrees with the manifest, or is damaged
            raise self._shard_error(entry, exc) from None
        if images:
            item["frames"] = self._decoded(entry, indices, read.images) if decode_images else read.images
        return item

    def _frame(self, entry: shards.VideoEntry, index: int, images: bool, masks: bool) -> Frames:
        """:meth:`_read_raw` of one frame, its index checked in plain Python (SAM 2's drop-in reads frame by frame)."""
        if not 0 <= index < entry.frames:
            raise IndexError(f"{entry.name}: frame index {index} is not within 0..{entry.frames - 1}")
        if images:
            self._check_images()
        try:
            return self._backend.read(entry, np.array([index], np.int64), images, masks)
        except MALFORMED as exc:
            raise self._shard_error(entry, exc) from None

    def _image(self, entry: shards.VideoEntry, index: int) -> bytes | None:
        return self._frame(entry, index, True, False).images[0]

    def _present(self, entry: shards.VideoEntry, index: int, binary_id: int) -> list[tuple[int, np.ndarray]]:
        read = self._frame(entry, index, False, True)
        try:
            return present_planes(read, entry.height, entry.width, binary_id)
        except MALFORMED as exc:
            raise self._shard_error(entry, exc) from None


def open_dataset(path: str | os.PathLike, *, image_root: str | os.PathLike | None = None) -> VideoDataset:
    """A converted dataset folder (written by the ``parquet`` or ``hdf5`` writer) as a sequence of videos.

    ``image_root``: where non-embedded frames live now (default: the folder the manifest recorded).
    """
    return VideoDataset(path, image_root=image_root)


class ClipDataset:
    """Every clip of ``clip_length`` frames, ``stride`` apart, of every video: a map-style dataset.

    With ``annotated_only`` a clip is made of annotated frames only (``stride`` then counts
    annotated frames). Videos too short for one clip give none. ``dataset[i]`` is a dict:

    * ``video`` (name), ``frame_indices`` (int64 (T,)), ``object_ids`` (int64 (K,): the video's
      objects, also those absent from the clip), ``annotated`` (bool (T,));
    * ``frames``: a list of T JPEG ``bytes`` (None for a frame without image), or uint8
      (H, W, 3) arrays with ``decode_images``; absent with ``images=False``;
    * ``masks``: uint8 (T, H, W) label maps (``masks="label"``), or bool (T, K, H, W) with
      ``masks="objects"`` (then ``void`` is a bool (T, H, W) too); absent with ``masks=None``.
      Unannotated frames are all zeros: check ``annotated``.

    ``image_root``: where frames written with ``images=false`` live now, when they have moved
    since the conversion; without it, a missing folder is an error unless ``images=False``.
    """

    def __init__(
        self,
        path: str | os.PathLike | VideoDataset,
        clip_length: int = 8,
        stride: int = 1,
        *,
        annotated_only: bool = False,
        images: bool = True,
        decode_images: bool = False,
        masks: MaskMode | None = "label",
        image_root: str | os.PathLike | None = None,
    ) -> None:
        if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0 for n in (clip_length, stride)):
            got = f"got {clip_length!r} and {stride!r}"  # stride=1.5 gave consecutive frames, counted for neither stride
            raise OptionError("ClipDataset", f"clip_length and stride must be positive integers, {got}")
        if masks not in ("label", "objects", None):
            raise OptionError("masks", f"'label', 'objects' or None, got {masks!r}")
        if isinstance(path, VideoDataset):
            if image_root is not None:
                raise OptionError("image_root", "pass it to the VideoDataset (open_dataset), not with it")
            self.videos = path
        else:
            self.videos = VideoDataset(path, image_root=image_root)
        if images:
            self.videos._check_images()  # now, not in a DataLoader worker
        self.clip_length, self.stride, self.annotated_only = int(clip_length), int(stride), annotated_only
        self.images, self.decode_images, self.masks = images, decode_images, masks
        span = (clip_length - 1) * stride
        counts = []
        for entry in self.videos.manifest.videos:
            candidates = entry.annotated_count if annotated_only else entry.frames
            counts.append(max(0, candidates - span))
        self._first = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])

    def __len__(self) -> int:
        return int(self._first[-1])

    def __repr__(self) -> str:
        options = f"clip_length={self.clip_length}, stride={self.stride}, masks={self.masks!r}"
        if self.annotated_only:
            options += ", annotated_only=True"
        if not self.images:
            options += ", images=False"
        elif self.decode_images:
            options += ", decode_images=True"
        return f"ClipDataset({str(self.videos.path)!r}, {len(self)} clips of {len(self.videos)} videos, {options})"

    def locate(self, index: int) -> tuple[int, np.ndarray]:
        """The video position and frame indices of clip ``index``, from the manifest alone."""
        given = index = as_position(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"clip {given} out of range ({len(self)} clips)")
        video = int(np.searchsorted(self._first, index, side="right") - 1)
        start = index - int(self._first[video])
        entry = self.videos.manifest.videos[video]
        stop = start + (self.clip_length - 1) * self.stride + 1
        if self.annotated_only:
            return video, np.asarray(entry.annotated_slice(start, stop, self.stride), np.int64)
        return video, np.arange(start, stop, self.stride, dtype=np.int64)

    def __getitem__(self, index: int) -> dict[str, Any]:
        video, indices = self.locate(index)
        entry = self.videos.manifest.videos[video]
        return self.videos._read_clip(entry, indices, self.images, self.decode_images, self.masks)
