"""What the sharded outputs (Parquet, HDF5) share: the manifest, shard names, hashing, atomic writes.

A sharded output is a folder of ``part-NNNNN.<ext>`` files plus ``manifest.json``, written
last. The manifest is the table of contents: it says which shard holds which video and
enough about each video (frame count, size, annotated frames, object ids) that a training
loader can index clips without opening a shard. Writers and readers both import this
module; they never import each other.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from .checksums import sha256
from .errors import SourceError
from .model import Category, DatasetInfo, MaskEncoding, ObjectInfo, Video
from .readers.base import Detection

#: Bumped when the layout of the manifest or the shards changes in a way readers must know about.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: ``manifest["format"]`` for each sharded writer.
FORMATS = {"parquet": "vosconv-parquet", "hdf5": "vosconv-hdf5"}
#: Where ``write_shard`` puts shard files inside the staging folder; ``finalize`` returns it.
OUTPUT = "output"


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

    @property
    def annotated_indices(self) -> list[int]:
        return [i for start, stop in self.annotated for i in range(start, stop)]

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
    def from_json(cls, value: dict) -> VideoEntry:
        return cls(
            str(value["name"]),
            int(value["shard"]),
            int(value["frames"]),
            int(value["width"]),
            int(value["height"]),
            tuple((int(a), int(b)) for a, b in value["annotated"]),
            tuple(int(i) for i in value["object_ids"]),
        )


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
    def from_json(cls, value: dict) -> ShardEntry:
        return cls(
            str(value["file"]), tuple(map(str, value["videos"])), int(value["frames"]), int(value["bytes"]), str(value["sha256"])
        )


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
    def from_json(cls, value: dict) -> Manifest:
        writer = value["writer"]["name"]
        if FORMATS.get(writer) != value["format"]:
            raise ValueError(f"format {value['format']!r} does not match writer {writer!r}")
        return cls(
            writer=writer,
            options=dict(value["writer"]["options"]),
            source=dict(value["source"]),
            categories=tuple(Category(int(c["id"]), str(c["name"]), c.get("supercategory")) for c in value["categories"]),
            shards=tuple(ShardEntry.from_json(s) for s in value["shards"]),
            videos=tuple(VideoEntry.from_json(v) for v in value["videos"]),
            format_version=int(value["format_version"]),
            vosconv_version=str(value["vosconv_version"]),
        )


def video_record(video: Video) -> dict[str, Any]:
    """The video-level facts no frame row holds: mask encoding, palette, every object (also never-visible ones)."""
    return {
        "name": video.name,
        "width": video.width,
        "height": video.height,
        "frames": len(video.frames),
        "encoding": video.encoding.value,
        "palette": base64.b64encode(video.palette).decode("ascii") if video.palette is not None else None,
        "objects": [
            {"object_id": o.object_id, "category_id": o.category_id, "frames": None if o.frames is None else list(o.frames)}
            for o in video.objects
        ],
    }


def parse_video_record(record: dict[str, Any]) -> tuple[tuple[ObjectInfo, ...], MaskEncoding, bytes | None]:
    """Objects, encoding and palette back from :func:`video_record`'s output."""
    objects = tuple(
        ObjectInfo(
            int(o["object_id"]),
            None if o.get("category_id") is None else int(o["category_id"]),
            None if o.get("frames") is None else tuple(map(str, o["frames"])),
        )
        for o in record["objects"]
    )
    palette = record.get("palette")
    return objects, MaskEncoding(record["encoding"]), base64.b64decode(palette) if palette else None


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
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(path, "no manifest.json: not a finished vosconv output") from None
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(path, f"not valid JSON: {exc}") from None
    try:
        manifest = Manifest.from_json(value)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SourceError(path, f"malformed manifest ({type(exc).__name__}: {exc})") from None
    if writer is not None and manifest.writer != writer:
        raise SourceError(path, f"a {manifest.writer} output, not {writer}")
    if manifest.format_version > FORMAT_VERSION:
        raise SourceError(path, f"format version {manifest.format_version} is newer than this vosconv reads ({FORMAT_VERSION})")
    files = {s.file for s in manifest.shards}
    for video in manifest.videos:
        if not 0 <= video.shard < len(manifest.shards):
            raise SourceError(path, f"video {video.name!r} names shard {video.shard}, which is not listed")
    if len(files) != len(manifest.shards) or any("/" in f or f.startswith(".") for f in files):
        raise SourceError(path, "shard file names must be distinct plain names")
    return manifest


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
            raise SourceError(option, "images folder does not exist")
        return str(Path(option).resolve())
    recorded = manifest.source.get("image_root")
    return recorded if recorded and Path(recorded).is_dir() else None
