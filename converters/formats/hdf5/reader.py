"""vosconv's HDF5 output back to the intermediate form, exactly.

Each process opens the shard files it reads, lazily, and keeps them open (h5py handles
must never cross a fork, and the reader is pickled to workers). Dense label maps are
re-encoded to RLE with the video's encoding, which gives back the very masks written.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import deflate
import numpy as np

from ...codecs import labels, rle
from ...errors import SourceError
from ...model import VOID_ID, Frame, FrameMasks, ImageRef, MaskEncoding, Video, check_frame_size
from ...reader import VideoRef
from ...records import Record
from ..sharded import manifest as shards
from ..sharded.objects import with_frame_values
from ..sharded.reader import ShardedReader
from .label_values import LabelValues
from .spec import VIDEOS_GROUP, video_group

if TYPE_CHECKING:  # h5py is imported when a shard is opened: detecting another format costs no h5py import
    import h5py

#: The most libhdf5's metadata cache of an open shard may count (its own memory is several times that); a video's
#: object headers and chunk indexes take a few kB of it.
METADATA_CACHE_BYTES = 512 << 10
#: 254 objects and the void region: the most RLE rows one frame can have.
MAX_MASKS_PER_FRAME = VOID_ID


@dataclass(frozen=True)
class Hdf5VideoRef(VideoRef):
    file: str = ""
    group: str = ""
    frames: int = 0  # as the manifest says: the group's datasets must agree before they are read
    entry: shards.VideoEntry | None = None  # what the manifest says of the video, checked on reading

    def files(self) -> tuple[str, ...]:
        return (self.file,)


def open_file(path: str) -> h5py.File:
    """A shard opened read-only; SourceError names it when it is missing or not HDF5.

    The chunk cache is off: reads are random, one whole chunk (a frame) at a time, so it
    never hits, and with HDF5 2.0's 8 MiB default an 8-frame read costs 7x more. The metadata
    cache is held to :data:`METADATA_CACHE_BYTES`: at libhdf5's 2 MiB (and up to 32 MiB as it
    adapts) the object headers and chunk indexes of every video read piled up in it, about 25 MB
    of memory per open shard once 500 videos of it were read, for no measurable speed.
    """
    import h5py
    import hdf5plugin  # noqa: F401  (registers the Zstd and LZ4 filters that dense masks use)

    if not os.path.isfile(path):
        raise SourceError(path, "shard file missing")
    try:
        file = h5py.File(path, "r", rdcc_nbytes=0)
    except OSError as exc:
        raise SourceError(path, f"cannot open HDF5 shard: {exc}") from None
    return hold_metadata_cache(file)


def hold_metadata_cache(file: h5py.File) -> h5py.File:
    """``file`` with libhdf5's metadata cache held to :data:`METADATA_CACHE_BYTES` (a shard read or written)."""
    config = file.id.get_mdc_config()
    config.set_initial_size = True
    config.initial_size = config.max_size = METADATA_CACHE_BYTES
    config.min_size = min(config.min_size, METADATA_CACHE_BYTES)
    file.id.set_mdc_config(config)
    return file


class Hdf5Reader(ShardedReader):
    """Reads a folder written by the ``hdf5`` writer."""

    name = "hdf5"
    open_shard = staticmethod(open_file)

    def check_shard(self, shard: shards.ShardEntry) -> None:
        super().check_shard(shard)
        path = self.source / shard.file
        if not path.is_file():
            raise SourceError(path, "shard file missing")

    def held_videos(self, path: str) -> list[str]:
        """Opened and closed again, not kept: listing runs before workers fork, and h5py files must not cross a fork.
        A shard that does not open holds none here: each of its videos' reads says why (skipped under ``skip``, the
        other shards' videos converted), as before listing opened it."""
        import h5py

        try:
            file = open_file(path)
        except SourceError:
            return []
        with file:
            videos = file.get(VIDEOS_GROUP)
            try:
                return list(videos) if isinstance(videos, h5py.Group) else []  # no group: each video's read says so
            except (OSError, RuntimeError) as exc:  # a damaged group index
                raise SourceError(path, f"cannot list the shard's videos: {exc}") from None

    def shard_video(self, shard: shards.ShardEntry, name: str, entry: shards.VideoEntry | None) -> Hdf5VideoRef:
        frames = entry.frames if entry else 0
        per_frame = shard.bytes // max(shard.frames, 1)  # for shard planning: the shard's bytes shared by frame
        stamp, path = shards.shard_stamp(self.source, shard), str(self.source / shard.file)
        return Hdf5VideoRef(name, per_frame * frames, stamp, path, video_group(name), frames, entry)

    def read_video(self, ref: Hdf5VideoRef) -> Video:
        import h5py

        file = self._shards.get(ref.file)
        group = file.get(ref.group)
        if not isinstance(group, h5py.Group):
            raise SourceError(ref.file, f"no group {ref.group!r}")
        try:
            video = read_group(ref.name, group, self._image_dir(), ref.frames, self.manifest.options.get("images", True))
            shards.check_against_entry(video, ref.entry)
            return video
        except SourceError:
            raise
        except KeyError as exc:
            raise SourceError(ref.file, f"video {ref.name!r}: missing {exc}") from None
        except (OSError, ValueError, TypeError, RuntimeError, IndexError, OverflowError, AttributeError) as exc:
            raise SourceError(ref.file, f"video {ref.name!r}: {type(exc).__name__}: {exc}") from None


def read_group(name: str, group: h5py.Group, images: str | None, frames: int, embedded: bool = True) -> Video:
    """A Video from its group: attributes, file names, images, and masks (RLE tables or dense label maps).

    ``frames`` is the manifest's count: every per-frame dataset must have that length,
    checked before anything is read, so a forged shape cannot size an allocation. ``embedded``
    is the manifest's word on where the images are, which the group's ``images`` must agree with.
    """
    attrs = group.attrs
    width, height = int(attrs["width"]), int(attrs["height"])
    check_frame_size(name, width, height)
    check_frame_datasets(group, frames, height, width)
    encoding = MaskEncoding(_text(attrs["encoding"]))
    palette = attrs["palette"].tobytes() if "palette" in attrs else None
    facts = {"objects": json.loads(_text(attrs["objects"])), "encoding": encoding.value}
    if "metadata" in attrs:
        facts["metadata"] = json.loads(_text(attrs["metadata"]))
    record = Record(facts, group.file.filename, group.name, f"video {name!r}")
    objects, _, _ = shards.parse_video_record(record)
    file_names = [_text(n) for n in group["file_names"][()]]
    annotated = group["annotated"][()]
    kind = _text(attrs["images"])
    if kind not in ("none", "embedded" if embedded else "external"):  # another value would read as no frames
        raise ValueError(f"the group's images are {kind!r}, the manifest's {'embedded' if embedded else 'external'}")
    blobs = Ragged(group, "images", frames).rows(list(range(frames))) if kind == "embedded" else None
    if blobs is not None:
        check_image_crcs(group.get("image_crc32"), blobs, slice(None), range(len(blobs)))
    if "rle" in group:
        masks = _rle_masks(group["rle"], annotated, height, width)
    else:
        masks = _dense_masks(group["masks"], annotated, LabelValues([o.object_id for o in objects], encoding), encoding)
    frames = []
    for index, file_name in enumerate(file_names):
        image = None
        if blobs is not None:
            image = ImageRef(data=blobs[index]) if blobs[index] else None
        elif kind == "external" and images:
            image = ImageRef(path=os.path.join(images, name, file_name))
        frames.append(Frame(index, file_name, image, masks[index]))
    video = Video(name, width, height, tuple(frames), objects, encoding, palette, shards.video_metadata(record))
    return with_frame_values(video, record)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class Ragged:
    """A column of one byte string per row, as vosconv writes it: ``name`` (uint8, the values end to
    end) and ``name_offsets`` (rows + 1 int64 from 0). Files from before hold an HDF5
    variable-length dataset instead (read as it is; its global heap is what can hang libhdf5).

    The offsets are checked before any value is read: rows + 1 of them, from 0, never falling,
    ending at the data's length.
    """

    def __init__(self, group: h5py.Group, name: str, rows: int) -> None:
        self.data = group[name]
        self.offsets: np.ndarray | None = None
        if f"{name}_offsets" not in group:  # the older variable-length layout
            if self.data.shape != (rows,):
                raise ValueError(f"{name} dataset of shape {self.data.shape} for {rows} rows")
            return
        stored = group[f"{name}_offsets"]
        if stored.shape != (rows + 1,) or stored.dtype.kind not in "iu" or self.data.dtype != np.uint8 or self.data.ndim != 1:
            raise ValueError(
                f"{name} ({self.data.dtype}{self.data.shape}) and its offsets ({stored.dtype}{stored.shape}) for {rows} rows"
            )
        offsets = stored[()].astype(np.int64)
        if offsets[0] != 0 or (np.diff(offsets) < 0).any() or offsets[-1] != self.data.shape[0]:
            raise ValueError(f"{name}_offsets is not a rising list of positions from 0 to the end of {name}")
        self.offsets = offsets

    def rows(self, indices: list[int]) -> list[bytes]:
        """The values of ``indices`` (ascending), in one read when they lie close together."""
        if not indices:
            return []
        if self.offsets is None:
            where = slice(indices[0], indices[-1] + 1) if indices == list(range(indices[0], indices[-1] + 1)) else indices
            return [_as_bytes(v) for v in self.data[where]]
        offsets = self.offsets
        wanted = sum(int(offsets[i + 1] - offsets[i]) for i in indices)
        first, last = int(offsets[indices[0]]), int(offsets[indices[-1] + 1])
        if last - first <= 2 * wanted + 65536:  # one read of the span, then slices of it
            span = self.data[first:last].tobytes() if last > first else b""
            return [span[offsets[i] - first : offsets[i + 1] - first] for i in indices]
        return [self.data[offsets[i] : offsets[i + 1]].tobytes() if offsets[i + 1] > offsets[i] else b"" for i in indices]

    def __len__(self) -> int:
        return self.data.shape[0] if self.offsets is None else len(self.offsets) - 1


def _as_bytes(value) -> bytes:
    if isinstance(value, np.ndarray):
        return value.tobytes()
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def check_image_crcs(stored: h5py.Dataset | None, blobs, where, indices) -> None:
    """Embedded frames (``images[where]``, frames ``indices``) against the ``image_crc32`` dataset the
    writer stored: HDF5 cannot checksum variable-length data itself. Files from before have none."""
    if stored is None:
        return
    for index, blob, crc in zip(indices, blobs, stored[where].tolist()):
        if deflate.crc32(blob) != crc:
            raise ValueError(f"frame {index}: its image bytes are damaged (their CRC32 is not the one stored)")


def check_frame_datasets(group: h5py.Group, frames: int, height: int, width: int) -> None:
    """Every per-frame dataset of a video's group has the manifest's frame count, dense masks
    are uint8 at the frame size, and there is a mask table of one kind or the other.

    Only shapes and types are read, so a forged shape is refused before it sizes an
    allocation. The reader and the training loader both check groups with this.
    """
    expected = {"file_names": (frames,), "annotated": (frames,), "masks": (frames, height, width)}
    if _text(group.attrs["images"]) == "embedded":  # the images themselves: Ragged checks them
        expected["image_crc32"] = (frames,)
    for name, shape in expected.items():
        if name in group and group[name].shape != shape:
            raise ValueError(f"{name} dataset of shape {group[name].shape}, the manifest says {shape}")
    if "rle" not in group and "masks" not in group:
        raise ValueError("neither an rle table nor a masks dataset")
    if "masks" in group and group["masks"].dtype != np.uint8:  # h5py would cast anything else without a word
        raise ValueError(f"masks dataset of type {group['masks'].dtype}, not uint8")


def checked_offsets(table: h5py.Group, frames: int) -> np.ndarray:
    """``rle/offsets`` as int64, after proving it indexes the RLE tables: frames + 1 integers from
    0, rising by at most 255 a frame (254 objects and the void), ending at the tables' length.

    The shape is checked before the dataset is read, and the tables are never read here.
    """
    dataset = table["offsets"]
    if dataset.shape != (frames + 1,) or dataset.dtype.kind not in "iu":
        raise ValueError(f"rle/offsets of shape {dataset.shape} and type {dataset.dtype} for {frames} frames")
    offsets = dataset[()].astype(np.int64)
    steps = np.diff(offsets)
    if offsets[0] != 0 or (steps < 0).any() or (steps > MAX_MASKS_PER_FRAME).any():
        raise ValueError(f"rle/offsets is not an increasing list of row numbers from 0, at most {MAX_MASKS_PER_FRAME} a frame")
    rows = int(offsets[-1])
    counts_rows = table["counts_offsets"].shape[0] - 1 if "counts_offsets" in table else table["counts"].shape[0]
    if counts_rows != rows or any(table[name].shape[:1] != (rows,) for name in ("object_id", "area", "bbox")):
        raise ValueError(f"the rle tables do not all have the {rows} rows rle/offsets gives")
    if table["object_id"].dtype.kind not in "iu" or table["counts"].dtype.kind not in "SOUu":
        raise ValueError(f"rle tables of type {table['object_id'].dtype} and {table['counts'].dtype}")
    return offsets


def _rle_masks(table: h5py.Group, annotated: np.ndarray, height: int, width: int) -> list[FrameMasks | None]:
    offsets = checked_offsets(table, len(annotated))
    ids = table["object_id"][()]
    counts = [c.decode("ascii", "replace") for c in Ragged(table, "counts", int(offsets[-1])).rows(list(range(int(offsets[-1]))))]
    areas = table["area"][()]
    boxes = table["bbox"][()]
    result: list[FrameMasks | None] = []
    for t, flag in enumerate(annotated):
        if not flag:
            result.append(None)
            continue
        objects, void = [], None
        for row in range(offsets[t], offsets[t + 1]):
            mask = rle.checked_mask(
                int(ids[row]), str(counts[row]), int(areas[row]), tuple(int(v) for v in boxes[row]), height, width
            )
            if mask.object_id == VOID_ID:
                void = mask
            else:
                objects.append(mask)
        result.append(FrameMasks(tuple(objects), void))
    return result


def _dense_masks(
    dataset: h5py.Dataset, annotated: np.ndarray, values: LabelValues, encoding: MaskEncoding
) -> list[FrameMasks | None]:
    """Each annotated frame's masks; every frame's stored values checked first (:mod:`.label_values`), an unannotated
    one's too (the writer stores zeros there): a value of no object or a label there is damage, never passed over."""
    result: list[FrameMasks | None] = []
    label = np.empty(dataset.shape[1:], np.uint8)
    for t, flag in enumerate(annotated.tolist()):
        dataset.read_direct(label, np.s_[t])
        values.check_frame(label, t, bool(flag))
        result.append(labels.encode_frame(label, encoding) if flag else None)
    return result
