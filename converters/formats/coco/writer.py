"""COCO RLE JSON in the YouTube-VIS style: one track per object, per-frame lists aligned with ``file_names``.

Streamed: each shard writes its videos and annotations as JSON lines without ids, and
``finalize`` concatenates them in shard order, numbering videos and annotations as it
goes, so no process ever holds the dataset. The file holds one record per line, which
also lets the ``coco`` reader index it without parsing everything.

Beyond the YouTube-VIS fields, each video carries ``annotated_frames`` and a ``vosconv``
record (mask encoding, palette, and the void region as ``void``: one RLE or null per frame), and
annotations carry ``object_id`` and, from
YouTube-VOS, ``meta_frames``: what a folder layout needs to be written back exactly. Object
tracks also carry ``ori_id`` (the id as a string), which UniRef's and UNINEXT's VOS inference read.

The void region (DAVIS's 255) is no annotation and no category: Mask2Former's ``load_ytvis_json``
registers every entry of ``categories`` as a class and maps every annotation's ``category_id``
through them (a KeyError for one that is not there), and the YouTube-VIS API indexes every
annotation. Both ignore the extra keys of a video record, where the void lives. (Format 1 wrote
it as an ``iscrowd`` annotation of a ``void`` category; the reader still takes that.)
"""

from __future__ import annotations

import base64
import errno
import gzip
import json
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import VosconvWarning
from ...model import Category, DatasetInfo, Frame, Mask, Video
from ...version import __version__
from ...writer import Shard, ShardResult, Writer, unlocated_frames, unlocated_note
from .spec import DESCRIPTION, HEADER_KEY, VOID_KEY, is_vosconv_coco
from .spec import FILE_HEAD as FILE_HEAD  # what vosconv recognises its own output by (run.pipeline, tests)

#: Bumped when the JSON layout changes in a way readers must know about.
#: 2: the void region in each video's ``vosconv`` record, no void category (1: a void annotation, still read).
FORMAT_VERSION = 2
OBJECT_CATEGORY = "object"
VOID_CATEGORY = "void"


@dataclass(frozen=True)
class CocoOptions:
    compresslevel: int | None = None  # gzip level (0-9) for a ``.json.gz`` output; default 6

    def __post_init__(self) -> None:
        if self.compresslevel is not None and not 0 <= self.compresslevel <= 9:
            raise ValueError(f"compresslevel must be 0 to 9, got {self.compresslevel}")


def placeholder_categories(info: DatasetInfo) -> tuple[Category, Category]:
    """Categories for objects whose source has none, and for the void region: ids after the source's.

    Only the first is written now; format 1 files list the second, which readers leave out."""
    first = max((c.id for c in info.categories), default=0) + 1
    return Category(first, OBJECT_CATEGORY), Category(first + 1, VOID_CATEGORY)


def category_records(categories: Iterable[Category]) -> list[dict]:
    """The ``categories`` records: YouTube-VIS files give each a supercategory, so one the source has none gets its
    name (:func:`filled_supercategories` lists those, for the reader to read back as none)."""
    return [
        {"id": c.id, "name": c.name, "supercategory": c.name if c.supercategory is None else c.supercategory} for c in categories
    ]


def filled_supercategories(info: DatasetInfo) -> list[int]:
    """The ids of the source's categories whose supercategory the file fills with the name."""
    return [c.id for c in info.categories if c.supercategory is None]


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class CocoWriter(Writer):
    """One ``.json`` (or ``.json.gz``) file for the whole dataset."""

    name = "coco"
    Options = CocoOptions
    output_kind = "file"
    suffix = ".json"
    finalize_reads_checksums = False

    @classmethod
    def owns(cls, path: Path) -> bool:
        """A regular file that starts with this writer's header (inside gzip for a ``.json.gz``)."""
        return is_vosconv_coco(path)

    def write_shard(self, videos: Iterable[Video], shard: Shard, staging: Path, info: DatasetInfo) -> ShardResult:
        objects_category, _ = placeholder_categories(info)
        used, unlocated = set(), {}
        stem = f"shards/{shard.index:05d}"
        (staging / "shards").mkdir(exist_ok=True)
        with open(staging / f"{stem}.videos.jsonl", "w") as vfile, open(staging / f"{stem}.annotations.jsonl", "w") as afile:
            for position, video in enumerate(videos):
                vfile.write(_dumps(video_record(video, info.image_root)) + "\n")
                count = unlocated_frames(
                    video, info.image_root, lambda f, v=video: file_name(v, f, info.image_root), names_every_frame=True
                )
                if count:
                    unlocated[video.name] = count
                for record in annotation_records(video, objects_category.id):
                    used.add(record["category_id"])
                    afile.write(f"{position}\t{_dumps(record)}\n")
        return ShardResult(
            shard.index,
            (f"{stem}.videos.jsonl", f"{stem}.annotations.jsonl"),
            {"placeholders": sorted(used & {objects_category.id}), **({"unlocated": unlocated} if unlocated else {})},
        )

    def notes(self, results: Sequence[ShardResult]) -> list[str]:
        """The file names its frames: say which are not where it names them."""
        return unlocated_note(results, "parquet, hdf5 and sav keep the frames themselves")

    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        placeholders = {c.id: c for c in placeholder_categories(info)}
        used = sorted({i for r in results for i in r.facts["placeholders"]})
        categories = [*info.categories, *(placeholders[i] for i in used)]
        header = {
            "description": DESCRIPTION,
            "version": __version__,
            HEADER_KEY: {
                "format_version": FORMAT_VERSION,
                "source": {"format": info.source_format, "split": info.split, "attributes": dict(info.attributes)},
                # absolute, as in the Parquet/HDF5 manifests: a relative one would point elsewhere from another folder
                "image_root": None if info.image_root is None else str(Path(info.image_root).resolve()),
                "placeholder_categories": used,
                "filled_supercategories": filled_supercategories(info),
            },
        }
        gz = output.name.endswith(".gz")
        level = self.options.compresslevel
        if level is not None and not gz:
            warnings.warn(
                f"{output}: compresslevel applies to a .json.gz output; this one is written uncompressed",
                VosconvWarning,
                stacklevel=2,
            )
        result = staging / ("result.json.gz" if gz else "result.json")
        with open(result, "wb") as raw:
            if gz:
                level = 6 if level is None else level
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=level) as stream:
                    self._write_body(_Batched(stream), staging, results, header, categories)
            else:  # no writev (Windows): the buffered file joins the pieces
                out = _Gathered(raw.fileno()) if hasattr(os, "writev") else _Batched(raw)
                self._write_body(out, staging, results, header, categories)
        return result

    @staticmethod
    def _write_body(
        out: _Gathered | _Batched, staging: Path, results: Sequence[ShardResult], header: dict, categories: list[Category]
    ) -> None:
        """The shards' lines in shard order, each given its id.

        Each shard file (one video's lines) is read whole into one reused buffer, and its lines
        go out as slices of it behind their id prefixes: the bytes are copied once, by the
        kernel, and after the workers' fork no fresh pages are written (each would cost a
        copy-on-write fault).
        """
        out.add(b'{"info":' + _dumps(header).encode("utf-8") + b',\n"videos":[')
        separator = b"\n"
        first_video_of_shard = []
        count = 0
        buffer = bytearray()
        for result in results:
            first_video_of_shard.append(count)
            buffer, size = _read_into(buffer, staging / result.files[0])
            view = memoryview(buffer)
            for start, end in _lines(buffer, size):
                count += 1
                out.add(b'%s{"id":%d,' % (separator, count), view[start + 1 : end])  # the record after its "{"
                separator = b",\n"
            out.release()  # before the buffer is read into again
        out.add(b'\n],\n"annotations":[')
        separator = b"\n"
        annotation_id = 0
        for result, offset in zip(results, first_video_of_shard):
            buffer, size = _read_into(buffer, staging / result.files[1])
            view = memoryview(buffer)
            for start, end in _lines(buffer, size):
                tab = buffer.index(b"\t", start, end)  # the video's position in its shard, a tab, the record
                annotation_id += 1
                video_id = offset + int(buffer[start:tab]) + 1
                out.add(b'%s{"id":%d,"video_id":%d,' % (separator, annotation_id, video_id), view[tab + 2 : end])
                separator = b",\n"
            out.release()
        records = category_records(categories)
        out.add(b'\n],\n"categories":' + _dumps(records).encode("utf-8") + b"}\n")
        out.flush()


def _read_into(buffer: bytearray, path: Path) -> tuple[bytearray, int]:
    """The whole file in ``buffer`` (a larger one if it does not fit): (the buffer, the file's size)."""
    with open(path, "rb", buffering=0) as file:
        size = os.fstat(file.fileno()).st_size
        if len(buffer) < size:
            buffer = bytearray(size)
        view, done = memoryview(buffer), 0
        while done < size and (got := file.readinto(view[done:size])):
            done += got
    if done != size or (size and buffer[size - 1] != 10):  # a shard file ends with a whole line
        raise OSError(errno.EIO, f"{path}: shard file changed while it was read ({done} of {size} bytes)")
    return buffer, size


def _lines(data: bytearray, size: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each line in ``data[:size]``, its newline left out."""
    start = 0
    while start < size:
        end = data.find(b"\n", start, size)
        yield start, end
        start = end + 1


class _Gathered:
    """Pieces of output (bytes, or slices of a caller's buffer) written with one ``os.writev`` per
    ~1 MB, per ``IOV_MAX`` pieces, and whenever the caller is about to reuse its buffer: one call
    per line would cost more than the copying, and joining them first would copy everything twice."""

    def __init__(self, fd: int, size: int = 1 << 20, count: int = 0) -> None:
        self.fd, self.size, self.count = fd, size, count or _IOV_MAX
        self.parts: list[bytes | memoryview] = []
        self.pending = 0

    def add(self, *parts: bytes | memoryview) -> None:
        if len(self.parts) + len(parts) > self.count:
            self.flush()
        self.parts.extend(parts)
        self.pending += sum(len(part) for part in parts)
        if self.pending >= self.size:
            self.flush()

    def release(self) -> None:
        """No piece may point into the caller's buffer after this."""
        self.flush()

    def flush(self) -> None:
        if self.parts:
            _write_all(self.fd, self.parts)
            self.parts, self.pending = [], 0


class _Batched:
    """Pieces copied into ~1 MB batches for a stream (gzip, or a file where there is no ``writev``):
    a gzip stream compresses each batch as it comes, and where the batches break does not depend
    on how the shards were cut."""

    def __init__(self, stream, size: int = 1 << 20) -> None:
        self.stream, self.size = stream, size
        self.batch = bytearray()

    def add(self, *parts: bytes | memoryview) -> None:
        for part in parts:
            self.batch += part
        if len(self.batch) >= self.size:
            self.flush()

    def release(self) -> None:
        """Nothing to do: the pieces were copied."""

    def flush(self) -> None:
        if self.batch:
            self.stream.write(self.batch)
            self.batch = bytearray()


def _iov_max() -> int:
    """How many buffers one ``os.writev`` may take here (1,024 on Linux and macOS)."""
    try:
        found = os.sysconf("SC_IOV_MAX")
    except (AttributeError, ValueError, OSError):
        found = -1
    return min(found, 1024) if found >= 2 else 16  # 16: the least POSIX allows


_IOV_MAX = _iov_max()


def _write_all(fd: int, parts: list[bytes | memoryview]) -> None:
    """``os.writev`` until every byte of ``parts`` is written (a write may take fewer)."""
    views = [memoryview(p).cast("B") for p in parts]
    first = 0  # views before it are written
    while first < len(views):
        written = os.writev(fd, views[first:] if first else views)
        if written == 0:
            raise OSError(errno.EIO, "the output file took no bytes")
        while first < len(views) and written >= len(views[first]):
            written -= len(views[first])
            first += 1
        if written:
            views[first] = views[first][written:]


def video_record(video: Video, image_root: str | None = None) -> dict:
    """The ``videos[]`` entry, without its ``id``: the void region, where there is one, in its ``vosconv`` record;
    ``metadata`` (SA-V's and BURST's per-video fields) where the source had some."""
    record = {
        "name": video.name,
        "width": video.width,
        "height": video.height,
        "length": len(video.frames),
        "file_names": [file_name(video, frame, image_root) for frame in video.frames],
        "annotated_frames": list(video.annotated_indices),
        HEADER_KEY: {
            "encoding": video.encoding.value,
            "palette": base64.b64encode(video.palette).decode("ascii") if video.palette is not None else None,
        },
    }
    if video.has_void:
        size = [video.height, video.width]
        void = [None if f.masks is None or f.masks.void is None else f.masks.void for f in video.frames]
        record[HEADER_KEY][VOID_KEY] = [None if m is None else {"size": size, "counts": m.counts} for m in void]
    if video.metadata:
        record["metadata"] = dict(video.metadata)
    return record


def file_name(video: Video, frame: Frame, image_root: str | None) -> str:
    """Where the frame's image is under the image root (BURST's ``<dataset>/<seq_name>/``, not its video name),
    else ``<video>/<file name>``, the folder layouts' place."""
    image = frame.image
    if image_root is not None and image is not None and image.path is not None and image.archive is None and image.frame is None:
        relative = os.path.relpath(image.path, image_root).replace(os.sep, "/")
        if not relative.startswith("../") and relative.endswith(f"/{frame.file_name}"):
            return relative
    return f"{video.name}/{frame.file_name}"


def annotation_records(video: Video, default_category: int) -> list[dict]:
    """One ``annotations[]`` entry per object, without ``id`` and ``video_id`` (the void region is in the video record)."""
    length = len(video.frames)
    tracks: dict[int, list[Mask | None]] = {o.object_id: [None] * length for o in video.objects}
    for frame in video.frames:
        if frame.masks is None:
            continue
        for mask in frame.masks.objects:
            tracks[mask.object_id][frame.index] = mask
    size = [video.height, video.width]
    records = []
    for obj in video.objects:
        category = default_category if obj.category_id is None else obj.category_id
        record = _track(tracks[obj.object_id], size, category, obj.object_id)
        if obj.frames is not None:
            record["meta_frames"] = list(obj.frames)
        if obj.metadata:  # SA-V's masklet fields, a name: what the source said of the object
            record["metadata"] = dict(obj.metadata)
        if any(m is not None and m.values for m in tracks[obj.object_id]):  # SA-V's stability scores
            record["frame_values"] = [None if m is None or not m.values else dict(m.values) for m in tracks[obj.object_id]]
        records.append(record)
    return records


def _track(masks: list[Mask | None], size: list[int], category_id: int, object_id: int) -> dict:
    """One object's track; ``ori_id`` is its id as the string UniRef's and UNINEXT's VOS inference
    key their templates by and paint back as the pixel value (their own converters write meta.json's keys)."""
    return {
        "category_id": category_id,
        "object_id": object_id,
        "ori_id": str(object_id),
        "iscrowd": 0,
        "height": size[0],
        "width": size[1],
        "segmentations": [None if m is None else {"size": size, "counts": m.counts} for m in masks],
        "areas": [None if m is None else m.area for m in masks],
        "bboxes": [None if m is None else list(m.bbox) for m in masks],
    }
