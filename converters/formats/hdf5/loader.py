"""The training loader's HDF5 backend: a clip's frames sliced from the video's datasets.

The file is opened lazily per process and a video's datasets once (opening a dataset costs
more than reading a small one), kept for the last :data:`KEPT_VIDEOS` videos opened, so a
worker's memory stays flat however many videos an epoch visits. Dense masks are read frame by
frame into one preallocated array when the frames are not consecutive: h5py's strided selection
over chunked data is tens of times slower than the same frames read one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...model import VOID_ID, MaskEncoding
from ...sources.handles import HandleCache
from ..sharded import manifest as shards
from ..sharded.loader import VOID_PAIR, Frames, check_against_manifest, check_pairs, external
from .label_values import Checked, LabelValues

#: Videos whose open datasets a process keeps per shard (each costs about 17 kB of HDF5 and h5py objects).
KEPT_VIDEOS = 64


@dataclass
class _Video:
    """A video's open datasets."""

    encoding: MaskEncoding
    images: str  # embedded, external or none
    datasets: dict[str, Any]
    offsets: np.ndarray | None  # rle/offsets, None for dense masks
    values: LabelValues | None  # what dense masks may hold, None for RLE


@dataclass
class _Shard:
    file: Any  # h5py.File
    videos: dict[str, _Video]


def _open(path: str) -> _Shard:
    from .reader import open_file

    return _Shard(open_file(path), {})


def _text(value) -> str:
    """A stored string (h5py gives bytes or str); a number or an array where text belongs is damage, not its digits."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _selection(indices: np.ndarray) -> slice | list[int]:
    """A slice when the frames are evenly spaced, else an increasing list (for the small per-frame datasets)."""
    if len(indices) == 1:
        return slice(int(indices[0]), int(indices[0]) + 1)
    steps = np.diff(indices)
    if (steps == steps[0]).all():
        return slice(int(indices[0]), int(indices[-1]) + 1, int(steps[0]))
    return indices.tolist()


def read_frames(dataset: Any, indices: np.ndarray) -> np.ndarray:
    """``dataset[indices]`` of a (T, H, W) dataset: one read for consecutive frames, else one read per frame.

    h5py's strided or listed selection over chunked data walks a hyperslab per chunk row
    (about 60x slower at stride 2 than at stride 1), and a strided hyperslab of whole frames
    is slower still in libhdf5; per-frame reads into one preallocated array cost what the
    frames cost, once each read goes straight to libhdf5 (``read_direct`` spends more in
    Python building its selections than lz4 spends on a 480p frame).
    """
    first, last = int(indices[0]), int(indices[-1])
    if last - first + 1 == len(indices):
        return dataset[first : last + 1]
    from h5py import h5s

    frame = tuple(dataset.shape[1:])
    out = np.empty((len(indices), *frame), dataset.dtype)
    file_space, memory_space = dataset.id.get_space(), h5s.create_simple((1, *frame))
    for t, index in enumerate(indices.tolist()):
        file_space.select_hyperslab((index, *(0 for _ in frame)), (1, *frame))
        dataset.id.read(memory_space, file_space, out[t : t + 1])
    return out


class Hdf5Backend:
    """Reads clips from the shards of an HDF5 output folder (see :class:`converters.formats.sharded.loader.Backend`)."""

    def __init__(self, root: Path, manifest: shards.Manifest, image_root: str | None) -> None:
        self.root = root
        self.manifest = manifest
        self.files = HandleCache(_open)
        self.image_root = image_root
        self.checked = Checked()

    def _video(self, entry: shards.VideoEntry) -> _Video:
        shard = self.files.get(str(self.root / self.manifest.shards[entry.shard].file))
        found = shard.videos.get(entry.name)
        if found is None:
            if len(shard.videos) >= KEPT_VIDEOS:  # the video opened first goes: memory bounded at any dataset size
                del shard.videos[next(iter(shard.videos))]
            found = shard.videos[entry.name] = self._open_video(shard, entry, self.manifest.options.get("images", True))
        return found

    @staticmethod
    def _open_video(shard: _Shard, entry: shards.VideoEntry, embedded: bool) -> _Video:
        import h5py

        from .reader import Ragged, check_frame_datasets, checked_offsets
        from .spec import video_group

        group = shard.file.get(video_group(entry.name))
        if not isinstance(group, h5py.Group):
            raise ValueError("no such group in the shard")
        size = (int(group.attrs["width"]), int(group.attrs["height"]))
        if size != (entry.width, entry.height):
            raise ValueError(f"the group's frames are {size[0]}x{size[1]}, the manifest's {entry.width}x{entry.height}")
        check_frame_datasets(group, entry.frames, entry.height, entry.width)
        check_against_manifest(entry, sorted(int(i) for i in group.attrs["object_ids"]), group["annotated"][()])
        offsets = checked_offsets(group["rle"], entry.frames) if "rle" in group else None
        names = ["file_names", "image_crc32", "masks", "rle/object_id"]
        datasets: dict[str, Any] = {name: group[name] for name in names if name in group}
        if "images" in group:
            datasets["images"] = Ragged(group, "images", entry.frames)
        if offsets is not None:
            datasets["rle/counts"] = Ragged(group["rle"], "counts", int(offsets[-1]))
        images = _text(group.attrs["images"])
        if images not in ("none", "embedded" if embedded else "external"):  # another value would read as no frames
            raise ValueError(f"the group's images are {images!r}, the manifest's {'embedded' if embedded else 'external'}")
        encoding = MaskEncoding(_text(group.attrs["encoding"]))
        values = LabelValues(entry.object_ids, encoding) if offsets is None else None
        return _Video(encoding, images, datasets, offsets, values)

    def file_names(self, entry: shards.VideoEntry) -> list[str]:
        return [_text(name) for name in self._video(entry).datasets["file_names"][()]]

    def read(self, entry: shards.VideoEntry, indices: np.ndarray, images: bool, masks: bool) -> Frames:
        video = self._video(entry)
        frames = Frames(encoding=video.encoding)
        if images:
            frames.images = self._images(video, entry, indices)
        if masks:
            if video.offsets is None:
                labels = read_frames(video.datasets["masks"], indices)
                self._check_labels(entry, video, labels, indices)
                if video.encoding is MaskEncoding.BINARY:
                    labels[labels == VOID_ID] = 1
                frames.labels = labels
            else:
                frames.rle = self._rle(video, indices)
                check_pairs(entry, indices, frames.rle)
        return frames

    def _check_labels(self, entry: shards.VideoEntry, video: _Video, labels: np.ndarray, indices: np.ndarray) -> None:
        """The frames' stored values (:mod:`.label_values`), each frame once per process: ValueError on damage."""
        todo = self.checked.unchecked(entry.name, entry.frames, indices)
        if len(todo) == len(indices):
            video.values.check(labels, indices.tolist(), entry.is_annotated(indices).tolist())
        else:  # frame by frame, views of the clip: no copy of the frames to check
            for t in todo.tolist():
                video.values.check(labels[t : t + 1], [int(indices[t])], entry.is_annotated(indices[t : t + 1]).tolist())
        self.checked.mark(entry.name, indices[todo])

    def _images(self, video: _Video, entry: shards.VideoEntry, indices: np.ndarray) -> list[bytes | None]:
        where = _selection(indices)
        if video.images == "embedded":
            from .reader import check_image_crcs

            blobs = video.datasets["images"].rows(indices.tolist())
            check_image_crcs(video.datasets.get("image_crc32"), blobs, where, indices.tolist())
            return [b or None for b in blobs]
        if video.images == "external":
            names = [n.decode("utf-8") for n in video.datasets["file_names"][where]]
            return external(self.image_root, entry.name, names)
        return [None] * len(indices)

    @staticmethod
    def _rle(video: _Video, indices: np.ndarray) -> list[list[tuple[int, bytes]]]:
        offsets = video.offsets
        first, last = int(offsets[indices[0]]), int(offsets[indices[-1] + 1])
        ids = video.datasets["rle/object_id"][first:last].tolist() if last > first else []
        wanted = [i for index in indices.tolist() for i in range(int(offsets[index]) - first, int(offsets[index + 1]) - first)]
        counts = dict(zip(wanted, video.datasets["rle/counts"].rows([first + i for i in wanted])))
        pairs = []
        for index in indices.tolist():
            lo, hi = int(offsets[index]) - first, int(offsets[index + 1]) - first
            pairs.append([(VOID_PAIR if ids[i] == VOID_ID else ids[i], counts[i]) for i in range(lo, hi)])  # no object 255
        return pairs
