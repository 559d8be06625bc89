"""HDF5 shards: one group per video with its JPEG bytes, its masks and its facts as attributes.

Masks are stored as COCO RLE tables (default: small, and exactly what was read), or with
``masks=dense`` as the PNGs' uint8 pixel values, chunked one frame per chunk and
compressed with an hdf5plugin codec, so a frame reads without decoding anything else.
A dense frame is checked on write: its label map must re-encode to the very masks it came
from (no overlapping objects), so the output stays lossless.

The file is byte-deterministic: no timestamps on groups or datasets, link creation order
tracked, the default (earliest) file format so any HDF5 >= 1.8 opens it.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import deflate
import h5py
import hdf5plugin
import numpy as np

from ...codecs import labels
from ...errors import SourceError
from ...model import VOID_ID, DatasetInfo, Frame, FrameMasks, Video
from ...sources import imagefiles
from ..sharded import manifest as shards
from ..sharded.writer import ShardedWriter, check_shard_bytes
from .reader import hold_metadata_cache
from .spec import HEADER_ATTRIBUTE, VIDEOS_GROUP

DEFAULT_LEVELS = {"zstd": 3, "gzip": 1}
# No variable-length data anywhere (strings are fixed-length, byte columns flat): HDF5 keeps
# vlen data in its global heap, and there one damaged object header makes libhdf5 loop forever
# instead of failing (HDFGroup/hdf5#1707), so a flipped block of a shard would hang every reader.


def _set_text(attrs: h5py.AttributeManager, key: str, text: str) -> None:
    """A fixed-length UTF-8 attribute (h5py stores a plain ``str`` as variable-length)."""
    data = text.encode("utf-8")
    attrs.create(key, np.bytes_(data), dtype=h5py.string_dtype("utf-8", max(len(data), 1)))


def _write_ragged(group: h5py.Group, name: str, values: list[bytes]) -> None:
    """``name``: the values end to end as uint8; ``name_offsets``: row i is ``name[offsets[i]:offsets[i+1]]``."""
    offsets = np.zeros(len(values) + 1, np.int64)
    np.cumsum([len(v) for v in values], out=offsets[1:])
    group.create_dataset(name, data=np.frombuffer(b"".join(values), np.uint8))
    group.create_dataset(f"{name}_offsets", data=offsets)


def _write_images(group: h5py.Group, video: Video) -> None:
    """The frames' JPEGs as the ragged ``images`` (b"" for a frame without one) and a CRC32 per frame (contiguous data
    has no HDF5 checksum, and readers check each frame they read). The JPEGs go through an unnamed temporary file
    beside the shard, one at a time: the dataset's length is known only at the end, and a long video's JPEGs
    (frames of an mp4, decoded one by one) never sit in memory together."""
    offsets = np.zeros(len(video.frames) + 1, np.int64)
    crcs = np.zeros(len(video.frames), np.uint32)
    with tempfile.TemporaryFile(dir=os.path.dirname(group.file.filename)) as spool:
        for index, frame in enumerate(video.frames):
            blob = b"" if frame.image is None else imagefiles.read_bytes(frame.image)
            spool.write(blob)
            offsets[index + 1] = offsets[index] + len(blob)
            crcs[index] = deflate.crc32(blob)
        data = group.create_dataset("images", shape=(int(offsets[-1]),), dtype=np.uint8)
        spool.seek(0)
        buffer = np.empty(min(_COPY_BYTES, int(offsets[-1])), np.uint8)
        for start in range(0, int(offsets[-1]), _COPY_BYTES):
            count = spool.readinto(memoryview(buffer)[: int(offsets[-1]) - start])
            if count != min(len(buffer), int(offsets[-1]) - start):
                raise OSError(f"the spooled JPEGs of {video.name} came back short")
            data[start : start + count] = buffer[:count]
    group.create_dataset("images_offsets", data=offsets)
    group.create_dataset("image_crc32", data=crcs)


#: How much of the spooled JPEGs is copied into the dataset at a time.
_COPY_BYTES = 512 << 10


@dataclass(frozen=True)
class Hdf5Options:
    images: bool = True  # embed each frame's JPEG bytes
    masks: Literal["rle", "dense"] = "rle"  # COCO RLE tables, or uint8 label maps chunked one frame per chunk
    # compression of dense masks (zstd and lz4 need hdf5plugin to read): lz4 reads fastest, zstd is 3-4x smaller
    codec: Literal["zstd", "lz4", "gzip"] = "lz4"
    compression_level: int | None = None  # default: zstd 3, gzip 1 (lz4 has none)
    shard_bytes: int = 1 << 30  # target source bytes per shard file

    def __post_init__(self) -> None:
        check_shard_bytes(self.shard_bytes)
        if self.compression_level is not None:
            limits = {"zstd": (1, 22), "gzip": (0, 9), "lz4": None}[self.codec]
            if limits is None or not limits[0] <= self.compression_level <= limits[1]:
                raise ValueError(f"compression_level {self.compression_level} is not valid for codec {self.codec}")


def compression(options: Hdf5Options) -> dict:
    """``create_dataset`` arguments for the dense mask codec."""
    level = options.compression_level if options.compression_level is not None else DEFAULT_LEVELS.get(options.codec)
    if options.codec == "zstd":
        return dict(hdf5plugin.Zstd(clevel=level))
    if options.codec == "lz4":
        return dict(hdf5plugin.LZ4())
    return {"compression": "gzip", "compression_opts": level}


def _ordered_untimed(plist) -> None:
    """Creation order tracked (links and attributes), and no timestamps: h5py before 3.15 stored them on every group
    created with ``track_order`` (the root group too), so the bytes changed with the second the file was written."""
    flags = h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED
    plist.set_link_creation_order(flags)
    plist.set_attr_creation_order(flags)
    plist.set_obj_track_times(False)


def _new_file(path: Path) -> h5py.File:
    """``h5py.File(path, "w", libver=("v110", "latest"), track_order=True)``, its root group without timestamps in any
    h5py. HDF5 1.10's file format checksums its metadata (object headers with their attributes, chunk indexes, link
    storage; HDF5 checks each as it reads it): in the earliest format a damaged byte there read as another frame's mask
    chunk, a frame's chunk gone (an empty frame) or another attribute value, in silence. Readers need HDF5 1.10 (2017)."""
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_fclose_degree(h5py.h5f.CLOSE_STRONG)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_V110, h5py.h5f.LIBVER_LATEST)
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    _ordered_untimed(fcpl)
    return hold_metadata_cache(h5py.File(h5py.h5f.create(os.fsencode(path), h5py.h5f.ACC_TRUNC, fapl=fapl, fcpl=fcpl)))


def _new_group(parent: h5py.Group, name: str) -> h5py.Group:
    """``parent.create_group(name, track_order=True)`` without timestamps in any h5py."""
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    _ordered_untimed(gcpl)
    lcpl = h5py.h5p.create(h5py.h5p.LINK_CREATE)
    lcpl.set_create_intermediate_group(True)
    ascii_name = name.isascii()  # the name's encoding as h5py's own create_group gives it
    lcpl.set_char_encoding(h5py.h5t.CSET_ASCII if ascii_name else h5py.h5t.CSET_UTF8)
    return h5py.Group(h5py.h5g.create(parent.id, name.encode("ascii" if ascii_name else "utf-8"), lcpl=lcpl, gcpl=gcpl))


class Hdf5Writer(ShardedWriter):
    """A folder of ``part-NNNNN.h5`` files and ``manifest.json``."""

    name = "hdf5"
    Options = Hdf5Options
    suffix = ".h5"
    format_version = 2  # 1: variable-length images, file names and counts (still read)

    def write_file(self, videos: Iterable[Video], path: Path, info: DatasetInfo) -> None:
        with _new_file(path) as file:
            header = {
                "format_version": self.format_version,
                "categories": [{"id": c.id, "name": c.name, "supercategory": c.supercategory} for c in info.categories],
            }
            _set_text(file.attrs, HEADER_ATTRIBUTE, shards.dumps(header))
            root = _new_group(file, VIDEOS_GROUP)
            for video in videos:
                if "/" in video.name or video.name in (".", ".."):
                    raise SourceError(video.name, "a video name that cannot be an HDF5 group name")
                self.write_video(_new_group(root, video.name), video)

    def write_video(self, group: h5py.Group, video: Video) -> None:
        options = self.options
        record = shards.video_record(video)
        group.attrs["width"] = video.width
        group.attrs["height"] = video.height
        _set_text(group.attrs, "encoding", video.encoding.value)
        if video.palette is not None:
            group.attrs["palette"] = np.frombuffer(video.palette, np.uint8)
        group.attrs["object_ids"] = np.array([o.object_id for o in video.objects], np.int32)
        _set_text(group.attrs, "objects", shards.dumps(record["objects"]))
        if video.metadata:  # only where the source had some: other files stay as they were
            _set_text(group.attrs, "metadata", shards.dumps(record["metadata"]))
        has_images = any(f.image is not None for f in video.frames)
        _set_text(group.attrs, "images", ("embedded" if options.images else "external") if has_images else "none")
        _set_text(group.attrs, "masks", options.masks)
        names = [f.file_name.encode("utf-8") for f in video.frames]
        kind = h5py.string_dtype("utf-8", max(map(len, names), default=1))
        # one chunk with a Fletcher-32: nothing else vouches for a name (a damaged byte read as another frame name);
        # a video of no frames has no names to vouch for, and a chunk cannot hold none
        checked = {"chunks": (len(names),), "fletcher32": True} if names else {}
        group.create_dataset("file_names", data=names, dtype=kind, **checked)
        group.create_dataset("annotated", data=np.array([f.masks is not None for f in video.frames], bool))
        if options.images and has_images:
            _write_images(group, video)
        if options.masks == "rle":
            _write_rle(group, video.frames)
        else:
            self._write_dense(group, video)

    def check(self, video: Video) -> None:
        if self.options.masks != "dense":
            if any(o.object_id == VOID_ID for o in video.objects):  # the RLE table's row of id 255 is the void region
                raise SourceError(video.name, f"object id {VOID_ID} is the void region in HDF5 RLE tables; write parquet or coco")
            return
        problem = labels.pixel_value_problem(video)
        if problem is not None:
            where, cause = problem
            raise SourceError(where, f"{cause}, so a uint8 label map cannot hold the video; use masks=rle (or write sav)")

    def _write_dense(self, group: h5py.Group, video: Video) -> None:
        ids = [o.object_id for o in video.objects]
        if ids and max(ids) >= VOID_ID:
            raise SourceError(video.name, f"object id {max(ids)} does not fit a uint8 label map; use masks=rle")
        shape = (len(video.frames), video.height, video.width)
        if not video.frames:  # no frame, so no chunk to checksum (a chunk of one frame cannot fit in none)
            group.create_dataset("masks", shape=shape, dtype=np.uint8)
            return
        masks = group.create_dataset(  # a Fletcher-32 per chunk: HDF5 checks it on every read, as nothing else can
            "masks",
            shape=shape,
            dtype=np.uint8,
            chunks=(1, video.height, video.width),
            fillvalue=0,
            fletcher32=True,
            **compression(self.options),
        )
        label = np.zeros(video.size, np.uint8)
        for frame in video.frames:
            if frame.masks is None or (not frame.masks.objects and frame.masks.void is None):
                continue  # all zeros: the chunk stays unallocated and reads as the fill value
            labels.label_map(video, frame.masks, out=label)
            if labels.encode_frame(label, video.encoding) != _without_values(frame.masks):  # values: in the objects' records
                raise SourceError(
                    f"{video.name}/{frame.file_name}",
                    "its masks overlap (or are not canonical RLE), so a label map would change them; use masks=rle",
                )
            masks[frame.index] = label


def _without_values(masks: FrameMasks) -> FrameMasks:
    """The frame's masks as a label map gives them back: pixels only (per-frame values live in the objects' records)."""
    if not any(m.values for m in masks.objects):
        return masks
    return dataclasses.replace(masks, objects=tuple(dataclasses.replace(m, values=()) for m in masks.objects))


def _write_rle(group: h5py.Group, frames: tuple[Frame, ...]) -> None:
    """Flat tables of every mask, frame by frame; ``offsets[t]:offsets[t+1]`` are frame t's rows (the void last)."""
    rows = []
    offsets = [0]
    for frame in frames:
        if frame.masks is not None:
            rows.extend(frame.masks.objects)
            if frame.masks.void is not None:
                rows.append(frame.masks.void)
        offsets.append(len(rows))
    rle = _new_group(group, "rle")
    rle.create_dataset("offsets", data=np.array(offsets, np.int64))
    rle.create_dataset("object_id", data=np.array([m.object_id for m in rows], np.int32))
    _write_ragged(rle, "counts", [m.counts.encode("ascii") for m in rows])
    rle.create_dataset("area", data=np.array([m.area for m in rows], np.int64))
    rle.create_dataset("bbox", data=np.array([m.bbox for m in rows], np.int32).reshape(len(rows), 4))
