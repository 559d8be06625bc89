"""What the sharded outputs (Parquet, HDF5) share: the manifest, shard names, hashing, atomic writes.

A sharded output is a folder of shard files plus ``manifest.json``, written last: HDF5 as
``part-NNNNN.h5``, Parquet as ``data/<split>-NNNNN-of-NNNNN.parquet`` beside a ``README.md``
dataset card (older Parquet outputs hold ``part-NNNNN.parquet``, and still read). The
manifest is the table of contents: it says which shard holds which video and enough about
each video (frame count, size, annotated frames, object ids) that a training loader can
index clips without opening a shard. Writers and readers both import this module; they
never import each other.
"""

from __future__ import annotations

import base64
import functools
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ...errors import SourceError
from ...model import (
    MAX_OBJECT_ID,
    Category,
    DatasetInfo,
    MaskEncoding,
    ObjectInfo,
    Video,
    check_file_name,
    check_frame_size,
)
from ...reader import Detection
from ...records import Record, shown
from ...sources.checksums import sha256
from ...sources.files import no_images_folder, read_regular
from .objects import object_record, pairs

#: Bumped when the layout of the manifest or the shards changes in a way readers must know about.
FORMAT_VERSION = 2  # the newest this vosconv reads; HDF5 is 2 since it holds no vlen data, Parquet 1
MANIFEST = "manifest.json"
#: ``manifest["format"]`` for each sharded writer.
FORMATS = {"parquet": "vosconv-parquet", "hdf5": "vosconv-hdf5"}
#: Where ``write_shard`` puts shard files inside the staging folder; ``finalize`` returns it.
OUTPUT = "output"
#: The one subfolder a shard may lie in (the Hugging Face Hub's ``data/``).
SHARD_FOLDER = "data"
#: The most frames a manifest may claim for one video (about a week at 25 fps): bounds what a loader allocates.
MAX_FRAMES = 1 << 24


def shard_name(index: int, suffix: str) -> str:
    """``part-00000.parquet``: names sort in shard order."""
    return f"part-{index:05d}{suffix}"


def fsync_path(path: str | os.PathLike) -> None:
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def finish(tmp: Path, final: Path) -> None:
    """Flush a completely written ``*.tmp`` file to disk and rename it to its final name."""
    fsync_path(tmp)
    os.replace(tmp, final)


def write_atomic(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    """Write ``path`` through ``write(file)`` into ``path.tmp``, fsync, rename: never a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as file:
        write(file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


def ranges(indices: Iterable[int]) -> list[list[int]]:
    """Sorted indices as ``[start, stop)`` runs: the annotated frames of a video, compactly."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and runs[-1][1] == index:
            runs[-1][1] += 1
        else:
            runs.append([index, index + 1])
    return runs


@dataclass(frozen=True)
class VideoEntry:
    """A video as the manifest lists it: where it is and what a clip sampler needs."""

    name: str
    shard: int
    frames: int
    width: int
    height: int
    annotated: tuple[tuple[int, int], ...]  # [start, stop) runs of annotated frame indices
    object_ids: tuple[int, ...]

    def __post_init__(self) -> None:
        """A manifest is input like any other: the loader sizes arrays from these numbers."""
        check_file_name("video name", self.name)
        check_frame_size(self.name, self.width, self.height)
        if not 0 <= self.frames <= MAX_FRAMES:
            raise ValueError(f"{self.name}: {self.frames} frames (0 to {MAX_FRAMES})")
        last = 0
        for start, stop in self.annotated:
            if not last <= start < stop <= self.frames:
                raise ValueError(f"{self.name}: annotated runs must be increasing, disjoint and within {self.frames} frames")
            last = stop
        if list(self.object_ids) != sorted(set(self.object_ids)) or not all(0 <= i <= MAX_OBJECT_ID for i in self.object_ids):
            raise ValueError(
                f"{self.name}: object ids must be unique, sorted and 0 to {MAX_OBJECT_ID}, got {list(self.object_ids)}"
            )

    @property
    def annotated_count(self) -> int:
        return sum(stop - start for start, stop in self.annotated)

    @property
    def annotated_indices(self) -> list[int]:
        return [i for start, stop in self.annotated for i in range(start, stop)]

    def annotated_slice(self, start: int, stop: int, step: int) -> list[int]:
        """``annotated_indices[start:stop:step]`` (non-negative bounds) without listing every annotated frame."""
        found, position = [], 0
        for first, last in self.annotated:
            length = last - first
            if position + length > start:
                begin = max(start, position)
                offset = (begin - start) % step
                begin += (step - offset) % step
                end = min(stop, position + length)
                found.extend(range(first + begin - position, first + end - position, step) if begin < end else ())
            position += length
            if position >= stop:
                break
        return found

    @functools.cached_property
    def _run_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The runs' starts and stops as arrays, built once: the loader asks :meth:`is_annotated` of every clip."""
        return np.array([a for a, _ in self.annotated], np.int64), np.array([b for _, b in self.annotated], np.int64)

    def is_annotated(self, indices: np.ndarray) -> np.ndarray:
        """Whether each frame index is annotated, from the runs alone."""
        starts, stops = self._run_bounds
        run = np.searchsorted(starts, indices, side="right") - 1
        return (run >= 0) & (indices < stops[np.maximum(run, 0)] if len(stops) else False)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "shard": self.shard,
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
            "annotated": [list(r) for r in self.annotated],
            "object_ids": list(self.object_ids),
        }

    @classmethod
    def from_json(cls, value: object, path: str | os.PathLike = MANIFEST) -> VideoEntry:
        return cls.from_record(Record(value, path))

    @classmethod
    def from_record(cls, record: Record) -> VideoEntry:
        runs = record.list("annotated")
        return cls(
            record.text("name"),
            record.int("shard"),
            record.int("frames"),
            record.int("width"),
            record.int("height"),
            tuple(_run(record, i, run) for i, run in enumerate(runs)),
            tuple(record.ints("object_ids")),
        )


def _run(record: Record, index: int, run: object) -> tuple[int, int]:
    """An ``annotated`` run: ``[start, stop]``."""
    if not isinstance(run, list) or len(run) != 2:
        record.fail(f"expected a [start, stop] pair, got {shown(run)}", f"annotated/{index}")
    return record.as_int(run[0], f"annotated/{index}/0"), record.as_int(run[1], f"annotated/{index}/1")


def _category(record: Record) -> Category:
    return Category(record.int("id"), record.text("name"), record.text("supercategory", None, nullable=True))


@dataclass(frozen=True)
class ShardEntry:
    file: str
    videos: tuple[str, ...]
    frames: int
    bytes: int
    sha256: str

    def to_json(self) -> dict:
        return {"file": self.file, "videos": list(self.videos), "frames": self.frames, "bytes": self.bytes, "sha256": self.sha256}

    @classmethod
    def from_json(cls, value: object, path: str | os.PathLike = MANIFEST) -> ShardEntry:
        return cls.from_record(Record(value, path))

    @classmethod
    def from_record(cls, record: Record) -> ShardEntry:
        entry = cls(
            record.text("file"),
            tuple(record.texts("videos")),
            record.int("frames"),
            record.int("bytes"),
            record.text("sha256"),
        )
        if entry.frames < 0 or entry.bytes < 0:
            record.fail(f"shard {entry.file}: negative frames or bytes")
        return entry


@dataclass(frozen=True)
class Manifest:
    """Everything ``manifest.json`` holds. ``writer`` is the writer's name; ``options`` its options."""

    writer: str
    options: dict[str, Any]
    source: dict[str, Any]  # format, split, image_root, attributes (from DatasetInfo)
    categories: tuple[Category, ...]
    shards: tuple[ShardEntry, ...]
    videos: tuple[VideoEntry, ...]
    format_version: int = FORMAT_VERSION
    vosconv_version: str = field(default="")

    def info(self, source_format: str, image_root: str | None) -> DatasetInfo:
        """The DatasetInfo of the converted source, as a reader of this output reports it."""
        return DatasetInfo(
            source_format=source_format,
            split=self.source.get("split"),
            categories=self.categories,
            image_root=image_root,
            attributes=tuple(sorted((self.source.get("attributes") or {}).items())),
        )

    def to_json(self) -> dict:
        return {
            "format": FORMATS[self.writer],
            "format_version": self.format_version,
            "vosconv_version": self.vosconv_version,
            "writer": {"name": self.writer, "options": self.options},
            "source": self.source,
            "categories": [{"id": c.id, "name": c.name, "supercategory": c.supercategory} for c in self.categories],
            "shards": [s.to_json() for s in self.shards],
            "videos": [v.to_json() for v in self.videos],
        }

    @classmethod
    def from_json(cls, value: object, path: str | os.PathLike = MANIFEST) -> Manifest:
        """The manifest from its JSON; a SourceError names ``path`` and the field that is missing or of the wrong type."""
        record = Record(value, path, context="malformed manifest")
        writer_record = record.record("writer")
        writer, declared = writer_record.text("name"), record.text("format")
        if FORMATS.get(writer) != declared:
            record.fail(f"format {declared!r} does not match writer {writer!r}")
        source_record = record.record("source")
        for key in ("format", "split", "image_root"):  # the split names the published shards: a string or nothing
            source_record.text(key, None, nullable=True)
        if source_record.raw("attributes", None) is not None:
            attributes = source_record.record("attributes")
            for key in attributes.value:
                attributes.text(key)
        source = dict(source_record.value)
        options = dict(writer_record.record("options").value)
        if not isinstance(options.get("images", True), bool):
            record.fail(f"writer option images must be true or false, got {options['images']!r}")
        videos = tuple(VideoEntry.from_record(v) for v in record.records("videos"))
        if len({v.name for v in videos}) != len(videos):
            record.fail("a video is listed twice")
        return cls(
            writer=writer,
            options=options,
            source=source,
            categories=tuple(_category(c) for c in record.records("categories")),
            shards=tuple(ShardEntry.from_record(s) for s in record.records("shards")),
            videos=videos,
            format_version=record.int("format_version"),
            vosconv_version=record.text("vosconv_version"),
        )


def video_record(video: Video) -> dict[str, Any]:
    """The video-level facts no frame row holds: mask encoding, palette, every object (also never-visible ones),
    and the video's metadata where the source had some (so the records of other sources stay as they were)."""
    record = {
        "name": video.name,
        "width": video.width,
        "height": video.height,
        "frames": len(video.frames),
        "encoding": video.encoding.value,
        "palette": base64.b64encode(video.palette).decode("ascii") if video.palette is not None else None,
        "objects": [object_record(o, video) for o in video.objects],
    }
    if video.metadata:
        record["metadata"] = [list(pair) for pair in video.metadata]
    return record


def video_metadata(record: Record) -> tuple[tuple[str, Any], ...]:
    """The video's metadata back from :func:`video_record`'s output; none in records written before it was kept."""
    return pairs(record, "metadata")


def parse_video_record(record: Record) -> tuple[tuple[ObjectInfo, ...], MaskEncoding, bytes | None]:
    """Objects, encoding and palette back from :func:`video_record`'s output."""
    objects = tuple(
        ObjectInfo(o.int("object_id"), o.int("category_id", None, nullable=True), _frame_names(o), pairs(o, "metadata"))
        for o in record.records("objects")
    )
    encoding = record.text("encoding")
    try:
        found = MaskEncoding(encoding)
    except ValueError:
        record.fail(f"expected a mask encoding ({', '.join(e.value for e in MaskEncoding)}), got {shown(encoding)}", "encoding")
    palette = record.text("palette", None, nullable=True)
    return objects, found, _base64(record, "palette", palette) if palette else None


def _frame_names(record: Record) -> tuple[str, ...] | None:
    frames = record.texts("frames", None, nullable=True)
    return None if frames is None else tuple(frames)


def _base64(record: Record, key: str, text: str) -> bytes:
    try:
        return base64.b64decode(text)
    except ValueError as exc:  # binascii.Error
        record.fail(f"not base64: {exc}", key)


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON: the same bytes for the same value."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def source_record(info: DatasetInfo) -> dict[str, Any]:
    return {
        "format": info.source_format,
        "split": info.split,
        "image_root": None if info.image_root is None else str(Path(info.image_root).resolve()),
        "attributes": dict(info.attributes),
    }


def save_manifest(folder: Path, manifest: Manifest) -> Path:
    path = folder / MANIFEST
    text = json.dumps(manifest.to_json(), indent=1, ensure_ascii=False) + "\n"
    write_atomic(path, lambda file: file.write(text.encode("utf-8")))
    return path


def peek_format(folder: Path) -> str | None:
    """The ``format`` a folder's manifest declares, or None when it has no readable vosconv manifest (for sniffing)."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as file:
            head = file.read(4096).decode("utf-8", "replace")
    except OSError:
        return None
    for fmt in FORMATS.values():
        if f'"format": "{fmt}"' in head:
            return fmt
    return None


def load_manifest(folder: str | os.PathLike, writer: str | None = None) -> Manifest:
    """Read and check ``folder/manifest.json``; SourceError names the file and what is wrong."""
    path = Path(folder) / MANIFEST
    if Path(folder).is_file():  # --from parquet given a COCO file: say so, not "manifest.json: Not a directory"
        raise SourceError(folder, f"a file; the {writer or 'parquet and hdf5'} reader reads an output folder holding {MANIFEST}")
    try:
        value = json.loads(read_regular(path).decode("utf-8"))
    except FileNotFoundError:
        raise SourceError(path, "no manifest.json: not a finished vosconv output") from None
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: also a 5,000-digit number
        raise SourceError(path, f"not valid JSON: {type(exc).__name__}: {exc}") from None
    try:
        manifest = Manifest.from_json(value, path)
    except ValueError as exc:  # what the model refuses (a frame size out of range, an object id of 0)
        raise SourceError(path, f"malformed manifest ({type(exc).__name__}: {exc})") from None
    if writer is not None and manifest.writer != writer:
        raise SourceError(path, f"a {manifest.writer} output, not {writer}")
    if manifest.format_version > FORMAT_VERSION:
        raise SourceError(path, f"format version {manifest.format_version} is newer than this vosconv reads ({FORMAT_VERSION})")
    files = {s.file for s in manifest.shards}
    for video in manifest.videos:
        if not 0 <= video.shard < len(manifest.shards):
            raise SourceError(path, f"video {video.name!r} names shard {video.shard}, which is not listed")
    if len(files) != len(manifest.shards) or not all(map(_shard_path, files)):
        raise SourceError(path, f"shard file names must be distinct plain names, or plain names in {SHARD_FOLDER}/")
    _check_shard_lists(manifest, path)
    return manifest


def _check_shard_lists(manifest: Manifest, path: Path) -> None:
    """The shard entries' lists must name every video of the manifest's list, in its shard, once: the loader
    indexes the list, the reader the shard entries, so a video only one of them names would be left out in silence."""
    shard_of = {video.name: video.shard for video in manifest.videos}
    seen: set[str] = set()
    for number, shard in enumerate(manifest.shards):
        for name in shard.videos:
            if name in seen:
                raise SourceError(path, f"video {name!r} is named twice by the shards' lists of videos")
            seen.add(name)
            if name not in shard_of:
                raise SourceError(path, f"shard {shard.file} lists video {name!r}, which the manifest's videos do not")
            if shard_of[name] != number:
                where = manifest.shards[shard_of[name]].file
                raise SourceError(path, f"shard {shard.file} lists video {name!r}, which the manifest puts in shard {where}")
    for video in manifest.videos:
        if video.name not in seen:
            where = manifest.shards[video.shard].file
            cause = f"video {video.name!r}: the manifest puts it in shard {where}, whose list of videos does not name it"
            raise SourceError(path, cause)


def _shard_path(name: str) -> bool:
    """A shard's name stays in the output folder: ``part-00000.h5`` or ``data/train-00000-of-00001.parquet``."""
    parts = name.split("/")
    plain = all(p and not p.startswith(".") and "\\" not in p and ":" not in p for p in parts)
    return plain and (len(parts) == 1 or (len(parts) == 2 and parts[0] == SHARD_FOLDER))


def check_against_entry(video: Video, entry: VideoEntry | None) -> None:
    """ValueError unless a video read from its shard is what the manifest says of it: the manifest
    is the loader's index (clips are cut from its frame counts and annotated runs), so a shard and
    manifest that disagree would load differently from how they convert."""
    if entry is None:
        return
    read, listed = (len(video.frames), video.width, video.height), (entry.frames, entry.width, entry.height)
    if read != listed:
        raise ValueError("{} frames of {}x{} in the shard, {} of {}x{} in the manifest".format(*read, *listed))
    ids = tuple(o.object_id for o in video.objects)
    if ids != entry.object_ids:
        raise ValueError(f"objects {list(ids)} in the shard, {list(entry.object_ids)} in the manifest")
    if tuple(tuple(r) for r in ranges(video.annotated_indices)) != entry.annotated:
        raise ValueError("its annotated frames in the shard are not the manifest's")


def shard_stamp(root: Path, entry: ShardEntry) -> str:
    """A video ref's stamp for a shard: its recorded digest, and its size and time on disk now."""
    try:
        found = os.stat(root / entry.file)
    except OSError:
        return entry.sha256
    return f"{entry.sha256}:{found.st_size}:{found.st_mtime_ns}"


def verify_shard(folder: Path, shard: ShardEntry) -> None:
    """Check a shard's size and sha256 against the manifest."""
    path = folder / shard.file
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(path, f"shard missing or unreadable: {exc.strerror or exc}") from None
    if size != shard.bytes:
        raise SourceError(path, f"shard is {size} bytes, the manifest says {shard.bytes}")
    digest = sha256(path)
    if digest != shard.sha256:
        raise SourceError(path, f"sha256 {digest} differs from the manifest's {shard.sha256}")


def sniff(source: Path, writer: str) -> Detection:
    """A reader's sniff for the output of ``writer``: a folder whose manifest declares that format."""
    if not source.is_dir():
        return Detection(0, "not a folder")
    found = peek_format(source)
    if found == FORMATS[writer]:
        return Detection(10, f"a vosconv {writer} output ({MANIFEST})")
    return Detection(0, f"no {MANIFEST} of a vosconv {writer} output" if found is None else f"a {found} output")


def images_folder(option: str | None, manifest: Manifest) -> str | None:
    """Where frames that are not embedded live: the ``images`` option, else the recorded image root if it exists."""
    if option is not None:
        if not Path(option).is_dir():
            raise SourceError(option, no_images_folder(option))
        return str(Path(option).resolve())
    recorded = manifest.source.get("image_root")
    return recorded if recorded and Path(recorded).is_dir() else None
