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

import bisect
import io
import operator
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..codecs import rle
from ..errors import SourceError
from ..formats.sharded import manifest as shards
from ..model import VOID_ID, MaskEncoding, Video, check_file_name
from ..sources.handles import HandleCache

try:
    import simplejpeg as _simplejpeg
except ImportError:  # optional: Pillow decodes every frame then
    _simplejpeg = None

__all__ = ["ClipDataset", "VideoDataset", "VideoHandle", "decode_jpeg", "open_dataset"]

MaskMode = Literal["label", "objects"]
#: What a damaged or inconsistent shard raises from h5py, pyarrow and numpy while being read.
_MALFORMED = (KeyError, ValueError, TypeError, IndexError, OSError, OverflowError, AttributeError, RuntimeError)


def decode_jpeg(data: bytes) -> np.ndarray:
    """A frame's JPEG (or PNG) bytes as a uint8 (H, W, 3) RGB array; EXIF orientation is ignored, as for the masks.

    simplejpeg (libjpeg-turbo straight into a numpy array) gives the same pixels as Pillow
    in about half the time here: Pillow's own decode is as fast, but copying its image
    out to numpy costs more than decoding it. Pillow takes what simplejpeg cannot
    (PNG frames, CMYK JPEGs) and everything when simplejpeg is not installed.
    """
    if _simplejpeg is not None and data[:2] == b"\xff\xd8":
        try:
            # CMYK/YCCK: simplejpeg converts those by another formula than Pillow's, so Pillow decodes them
            if _simplejpeg.decode_jpeg_header(data)[2] not in ("CMYK", "YCCK"):
                return _simplejpeg.decode_jpeg(data, colorspace="RGB")
        except (ValueError, RuntimeError):  # a JPEG libjpeg-turbo cannot read: Pillow may, or says why
            pass
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


# --------------------------------------------------------------------------- backends


@dataclass
class _Frames:
    """What a backend read for some frames of one video."""

    images: list[bytes | None] | None  # None when images were not asked for
    labels: np.ndarray | None  # uint8 (T, H, W) object ids, None when masks were not asked for


def _labels(frames: list[list[tuple[int, str]]], height: int, width: int, encoding: MaskEncoding) -> np.ndarray:
    """(T, H, W) label maps from each frame's ``(object_id, counts)`` pairs, in one compiled call."""
    if encoding is MaskEncoding.BINARY:  # the single object is stored as object 1 and reads as 1
        frames = [[(1, c) for _, c in pairs] for pairs in frames]
    elif any(not 0 < v <= VOID_ID for pairs in frames for v, _ in pairs):
        ids = sorted({v for p in frames for v, _ in p})
        raise ValueError(f"object ids {ids} do not fit a uint8 label map (1-254; 0 is the background): use masks='objects'")
    for t, pairs in enumerate(frames):  # one value per pixel cannot hold overlapping masks (SA-V's)
        if len(pairs) > 1 and rle.overlap(pairs, height, width):
            raise ValueError(f"the masks of frame {t} overlap, which a label map cannot hold: use masks='objects'")
    return rle.decode_frames(frames, height, width)


def _external(root: str | None, video: str, names: list[str | None]) -> list[bytes | None]:
    """Frames that were not embedded, read from the image folder (``None`` for a frame the source had no image for).

    A frame whose file is gone is an error naming it: a training run must not go on with holes.
    """
    result: list[bytes | None] = []
    for name in names:
        if name is None or root is None:  # no image in the source (a folder that is gone is refused earlier)
            result.append(None)
            continue
        check_file_name(f"{video}: frame file name", name)  # a shard's name must not lead out of the folder
        path = os.path.join(root, video, name)
        try:
            with open(path, "rb") as file:
                result.append(file.read())
        except OSError as exc:
            raise SourceError(path, f"cannot read frame: {exc.strerror or exc}") from None
    return result


@dataclass
class _ParquetShard:
    file: Any  # pyarrow.parquet.ParquetFile
    videos: dict[str, dict]  # footer records by name
    group_starts: list[int]  # first row of each row group, then the row count: the frame -> row group map
    checked: set[str] = field(default_factory=set)  # videos whose rows were checked against the manifest

    def locate(self, rows: list[int]) -> tuple[list[int], list[int]]:
        """The row groups holding ``rows``, and each row's position in those groups read one after another."""
        starts = self.group_starts
        groups = sorted({bisect.bisect_right(starts, row) - 1 for row in rows})
        before, total = {}, 0
        for group in groups:
            before[group] = total
            total += starts[group + 1] - starts[group]
        positions = []
        for row in rows:
            group = bisect.bisect_right(starts, row) - 1
            positions.append(before[group] + row - starts[group])
        return groups, positions


def _check_against_manifest(entry: shards.VideoEntry, object_ids: list[int], annotated: np.ndarray) -> None:
    """The shard's own object ids and annotated flags of a video must be the manifest's: clips come from those."""
    if tuple(object_ids) != entry.object_ids:
        raise ValueError(f"the shard's objects {object_ids} are not the manifest's {list(entry.object_ids)}")
    if not np.array_equal(np.asarray(annotated, bool), entry.is_annotated(np.arange(entry.frames, dtype=np.int64))):
        raise ValueError("the shard's annotated frames are not the manifest's")


def _open_parquet(path: str) -> _ParquetShard:
    from ..formats.parquet.reader import open_shard

    shard = open_shard(path)
    return _ParquetShard(shard.file, shard.videos, shard.group_starts)


def _check_rows(table: Any, entry: shards.VideoEntry, first: int) -> None:
    """The rows the footer gives a video must be its own frames 0..n-1: a footer is not trusted alone."""
    names = table.column("video").to_pylist()
    if names[0] != entry.name or names[-1] != entry.name or len(set(names)) != 1:
        found = sorted({str(n) for n in names})[:3]
        raise ValueError(f"the footer's rows {first}..{first + len(names)} hold frames of {found}, not of this video")
    if not np.array_equal(table.column("frame_index").to_numpy(zero_copy_only=False), np.arange(entry.frames)):
        raise ValueError(f"the footer's rows {first}..{first + len(names)} are not the video's frames 0..{entry.frames - 1}")


class _ParquetBackend:
    def __init__(self, root: Path, manifest: shards.Manifest, image_root: str | None) -> None:
        self.root = root
        self.manifest = manifest
        self.files = HandleCache(_open_parquet)
        self.image_root = image_root

    def read(self, entry: shards.VideoEntry, indices: np.ndarray, images: bool, masks: bool) -> _Frames:
        shard = self.files.get(str(self.root / self.manifest.shards[entry.shard].file))
        record = shard.videos.get(entry.name)
        if record is None:
            raise ValueError("not in this shard's footer")
        first, stop = (int(i) for i in record["rows"])
        if (stop - first, record["width"], record["height"]) != (entry.frames, entry.width, entry.height):
            raise ValueError(f"footer says {stop - first} frames of {record['width']}x{record['height']}, the manifest otherwise")
        if not 0 <= first <= stop <= shard.group_starts[-1]:
            raise ValueError(f"rows {first}..{stop} of a shard of {shard.group_starts[-1]}")
        if entry.name not in shard.checked:  # once per video and process: its rows, objects and annotated frames
            ids = sorted(int(o["object_id"]) for o in record["objects"])
            groups, positions = shard.locate(list(range(first, stop)))
            table = shard.file.read_row_groups(groups, columns=["video", "frame_index", "annotated"], use_threads=False)
            table = table.slice(positions[0], stop - first)
            _check_rows(table, entry, first)
            _check_against_manifest(entry, ids, table.column("annotated").to_numpy(zero_copy_only=False))
            shard.checked.add(entry.name)
        embedded = self.manifest.options.get("images", True)
        groups, positions = shard.locate([first + i for i in indices.tolist()])
        columns = []
        if images:
            columns.append("image.bytes" if embedded else "image.path")
        if masks:
            columns += ["objects.list.element.object_id", "objects.list.element.counts"]
        table = shard.file.read_row_groups(groups, columns=columns, use_threads=False)
        if len(positions) == positions[-1] - positions[0] + 1:
            table = table.slice(positions[0], len(positions))
        else:
            table = table.take(positions)
        frames = _Frames(None, None)
        if images:
            column = table.column("image").combine_chunks()
            if embedded:
                frames.images = column.field("bytes").to_pylist()
            else:
                paths, valid = column.field("path").to_pylist(), column.is_valid().to_pylist()
                names = [p.rsplit("/", 1)[-1] if ok and p else None for p, ok in zip(paths, valid)]
                frames.images = _external(self.image_root, entry.name, names)
        if masks:
            pairs = [[(o["object_id"], o["counts"]) for o in objects or ()] for objects in table.column("objects").to_pylist()]
            frames.labels = _labels(pairs, entry.height, entry.width, MaskEncoding(record["encoding"]))
        return frames


@dataclass
class _Hdf5Video:
    """A video's open datasets (kept: opening a dataset costs more than reading a small one)."""

    encoding: MaskEncoding
    images: str  # embedded, external or none
    datasets: dict[str, Any]
    offsets: np.ndarray | None  # rle/offsets, None for dense masks


@dataclass
class _Hdf5Shard:
    file: Any  # h5py.File
    videos: dict[str, _Hdf5Video]


def _open_hdf5(path: str) -> _Hdf5Shard:
    from ..formats.hdf5.reader import open_file

    return _Hdf5Shard(open_file(path), {})


def _selection(indices: np.ndarray) -> slice | list[int]:
    """A slice when the frames are evenly spaced (h5py reads those fastest), else an increasing list."""
    if len(indices) == 1:
        return slice(int(indices[0]), int(indices[0]) + 1)
    steps = np.diff(indices)
    if (steps == steps[0]).all():
        return slice(int(indices[0]), int(indices[-1]) + 1, int(steps[0]))
    return indices.tolist()


class _Hdf5Backend:
    def __init__(self, root: Path, manifest: shards.Manifest, image_root: str | None) -> None:
        self.root = root
        self.manifest = manifest
        self.files = HandleCache(_open_hdf5)
        self.image_root = image_root

    def _video(self, entry: shards.VideoEntry) -> _Hdf5Video:
        shard = self.files.get(str(self.root / self.manifest.shards[entry.shard].file))
        found = shard.videos.get(entry.name)
        if found is None:
            import h5py

            from ..formats.hdf5.reader import Ragged, check_frame_datasets, checked_offsets

            group = shard.file.get(f"videos/{entry.name}")
            if not isinstance(group, h5py.Group):
                raise ValueError("no such group in the shard")
            size = (int(group.attrs["width"]), int(group.attrs["height"]))
            if size != (entry.width, entry.height):
                raise ValueError(f"the group's frames are {size[0]}x{size[1]}, the manifest's {entry.width}x{entry.height}")
            check_frame_datasets(group, entry.frames, entry.height, entry.width)
            _check_against_manifest(entry, sorted(int(i) for i in group.attrs["object_ids"]), group["annotated"][()])
            offsets = checked_offsets(group["rle"], entry.frames) if "rle" in group else None
            names = ["file_names", "image_crc32", "masks", "rle/object_id"]
            datasets: dict[str, Any] = {name: group[name] for name in names if name in group}
            if "images" in group:
                datasets["images"] = Ragged(group, "images", entry.frames)
            if offsets is not None:
                datasets["rle/counts"] = Ragged(group["rle"], "counts", int(offsets[-1]))
            found = _Hdf5Video(MaskEncoding(_text(group.attrs["encoding"])), _text(group.attrs["images"]), datasets, offsets)
            shard.videos[entry.name] = found
        return found

    def read(self, entry: shards.VideoEntry, indices: np.ndarray, images: bool, masks: bool) -> _Frames:
        video = self._video(entry)
        where = _selection(indices)
        frames = _Frames(None, None)
        if images:
            if video.images == "embedded":
                from ..formats.hdf5.reader import check_image_crcs

                blobs = video.datasets["images"].rows(indices.tolist())
                check_image_crcs(video.datasets.get("image_crc32"), blobs, where, indices.tolist())
                frames.images = [b or None for b in blobs]
            elif video.images == "external":
                names = [n.decode("utf-8") for n in video.datasets["file_names"][where]]
                frames.images = _external(self.image_root, entry.name, names)
            else:
                frames.images = [None] * len(indices)
        if masks:
            if video.offsets is None:
                labels = video.datasets["masks"][where]
                if video.encoding is MaskEncoding.BINARY:
                    labels[labels == VOID_ID] = 1
                frames.labels = labels
            else:
                frames.labels = self._paint_rle(video, indices, entry)
        return frames

    @staticmethod
    def _paint_rle(video: _Hdf5Video, indices: np.ndarray, entry: shards.VideoEntry) -> np.ndarray:
        offsets = video.offsets
        first, last = int(offsets[indices[0]]), int(offsets[indices[-1] + 1])
        ids = video.datasets["rle/object_id"][first:last].tolist() if last > first else []
        counts = video.datasets["rle/counts"].rows(list(range(first, last)))  # bytes: decode_frames takes them
        pairs = []
        for index in indices:
            lo, hi = int(offsets[index]) - first, int(offsets[index + 1]) - first
            pairs.append(list(zip(ids[lo:hi], counts[lo:hi])))
        return _labels(pairs, entry.height, entry.width, video.encoding)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


_BACKENDS = {"parquet": _ParquetBackend, "hdf5": _Hdf5Backend}


# --------------------------------------------------------------------------- public API


def _position(index: object) -> int:
    """An integer index (numpy integers too); a float, a string or a bool is a mistake, not position 1."""
    if isinstance(index, (bool, np.bool_)):
        raise TypeError(f"indices must be integers, not {type(index).__name__}")
    return operator.index(index)


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

    def read_video(self) -> Video:
        """The whole video in the intermediate form, exactly as it was converted."""
        return self.dataset._read_video(self.entry)

    def read_clip(
        self, indices: Sequence[int], *, images: bool = True, decode_images: bool = False, masks: MaskMode | None = "label"
    ) -> dict[str, Any]:
        """Some frames (increasing indices) with their masks: see :class:`ClipDataset` for the fields."""
        return self.dataset._read_clip(self.entry, np.asarray(indices, np.int64), images, decode_images, masks)


class VideoDataset(Sequence):
    """A converted dataset (a Parquet or HDF5 output folder) as a sequence of videos, in name order.

    Indexing by position or by name gives a :class:`VideoHandle`. Picklable: open files
    stay in the process that opened them. ``image_root``: where frames that were not embedded
    (``images=false``) live now, when not where the manifest recorded them.
    """

    def __init__(self, path: str | os.PathLike, *, image_root: str | os.PathLike | None = None) -> None:
        self.path = Path(path)
        self.manifest = shards.load_manifest(self.path)
        self.format = self.manifest.writer
        self.embedded = bool(self.manifest.options.get("images", True))
        self.image_root = shards.images_folder(None if image_root is None else str(image_root), self.manifest)
        recorded = self.manifest.source.get("image_root")
        #: the recorded image folder when frames are read from it and it is gone (an error on reading frames)
        self.missing_images = recorded if not self.embedded and recorded and self.image_root is None else None
        self._backend = _BACKENDS[self.format](self.path, self.manifest, self.image_root)
        self._by_name = {v.name: i for i, v in enumerate(self.manifest.videos)}
        self._reader = None  # opened on the first read_video, in the process that reads

    def __len__(self) -> int:
        return len(self.manifest.videos)

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self[i] for i in range(*key.indices(len(self)))]
        if isinstance(key, str):
            key = self._by_name[key]
        return VideoHandle(self, self.manifest.videos[_position(key)])

    def __contains__(self, key: object) -> bool:
        """A video name, or a handle of one of this dataset's videos."""
        if isinstance(key, str):
            return key in self._by_name
        return isinstance(key, VideoHandle) and key.dataset is self

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_reader": None}

    def _check_images(self) -> None:
        if self.missing_images is not None:
            raise SourceError(
                self.missing_images,
                f"{self.path}'s frames are not embedded and this folder of them is gone; pass image_root=DIR (or images=False)",
            )

    def _read_video(self, entry: shards.VideoEntry) -> Video:
        self._check_images()
        if self._reader is None:
            from .. import registry

            reader = registry.reader_class(self.format)
            self._reader = reader(self.path, reader.Options(images=self.image_root))
        return self._reader.read_video(self._reader.video_ref(entry.name))  # this video alone: another's damage is not its

    def _decoded(self, entry: shards.VideoEntry, indices: np.ndarray, images: list[bytes | None]) -> list:
        """Each frame's pixels; bytes that are no image are a SourceError naming the shard, video and frame."""
        frames = []
        for index, data in zip(indices.tolist(), images):
            try:
                frames.append(None if data is None else decode_jpeg(data))
            except Exception as exc:  # Pillow and simplejpeg raise several kinds
                shard = self.path / self.manifest.shards[entry.shard].file
                raise SourceError(shard, f"video {entry.name!r}, frame {index}: cannot decode image ({exc})") from None
        return frames

    def _read_clip(
        self, entry: shards.VideoEntry, indices: np.ndarray, images: bool, decode_images: bool, masks: MaskMode | None
    ) -> dict[str, Any]:
        if len(indices) == 0 or (np.diff(indices) <= 0).any() or indices[0] < 0 or indices[-1] >= entry.frames:
            raise IndexError(f"{entry.name}: frame indices must increase within 0..{entry.frames - 1}, got {indices.tolist()}")
        if images:
            self._check_images()
        try:
            read = self._backend.read(entry, indices, images, masks is not None)
        except _MALFORMED as exc:  # a shard that disagrees with the manifest, or is damaged
            shard = self.path / self.manifest.shards[entry.shard].file
            raise SourceError(shard, f"video {entry.name!r}: {type(exc).__name__}: {exc}") from None
        item: dict[str, Any] = {
            "video": entry.name,
            "frame_indices": indices,
            "object_ids": np.array(entry.object_ids, np.int64),
            "annotated": entry.is_annotated(indices),
        }
        if images:
            item["frames"] = self._decoded(entry, indices, read.images) if decode_images else read.images
        if masks == "label":
            item["masks"] = read.labels
        elif masks == "objects":
            ids = np.array(entry.object_ids, np.int64)
            item["masks"] = read.labels[:, None] == ids[None, :, None, None]
            item["void"] = read.labels == VOID_ID
        elif masks is not None:
            raise ValueError(f"masks must be 'label', 'objects' or None, got {masks!r}")
        return item


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
        if clip_length < 1 or stride < 1:
            raise ValueError(f"clip_length and stride must be positive, got {clip_length} and {stride}")
        if masks not in ("label", "objects", None):
            raise ValueError(f"masks must be 'label', 'objects' or None, got {masks!r}")
        if isinstance(path, VideoDataset):
            if image_root is not None:
                raise ValueError("pass image_root to the VideoDataset, not with it")
            self.videos = path
        else:
            self.videos = VideoDataset(path, image_root=image_root)
        if images:
            self.videos._check_images()  # now, not in a DataLoader worker
        self.clip_length, self.stride, self.annotated_only = clip_length, stride, annotated_only
        self.images, self.decode_images, self.masks = images, decode_images, masks
        span = (clip_length - 1) * stride
        counts = []
        for entry in self.videos.manifest.videos:
            candidates = entry.annotated_count if annotated_only else entry.frames
            counts.append(max(0, candidates - span))
        self._first = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])

    def __len__(self) -> int:
        return int(self._first[-1])

    def locate(self, index: int) -> tuple[int, np.ndarray]:
        """The video position and frame indices of clip ``index``, from the manifest alone."""
        given = index = _position(index)
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
