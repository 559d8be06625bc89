"""The part of the Parquet and HDF5 writers that is about shards, not about either format.

Each shard becomes one file, written as ``output/part-NNNNN.<ext>.tmp`` and renamed when
complete. ``finalize`` then gives the shards their published names, which may depend on how
many there are (Parquet: ``data/<split>-00000-of-00004.parquet``, as the Hugging Face Hub
names shards), inside the staging folder, so the output still appears in one rename; it
writes ``manifest.json`` last. Shards are planned by source bytes (``shard_bytes`` option),
so a shard's size, not a video count, bounds each file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ...model import DatasetInfo, Video
from ...version import __version__
from ...writer import Shard, ShardResult, Writer, unlocated_frames, unlocated_note
from ..folders.spec import is_desktop_file
from . import manifest as shards


def check_shard_bytes(value: int) -> None:
    if value < 1:
        raise ValueError(f"shard_bytes must be positive, got {value}")


#: What a sharded output holds beside its shards (``errors.jsonl``: the videos a run skipped).
_OWN_NAMES = frozenset({shards.MANIFEST, "README.md", "errors.jsonl"})
_SHARD_NAME = re.compile(r"part-\d{5}\.(parquet|h5)|[^/]+-\d{5}-of-\d{5}\.parquet")


def foreign_entries(folder: Path) -> list[str]:
    """The entries of a sharded output (and of its ``data/``) that no sharded writer makes, by name, and the shard files
    its manifest does not list (another split's shards put beside them for the Hub, say)."""
    listed = _listed_shards(folder)

    def foreign(entry: os.DirEntry, name: str) -> bool:
        if is_desktop_file(entry.name):  # a desktop's .DS_Store: no one's data
            return False
        return not _is_shard(entry) or (listed is not None and name not in listed)

    found = []
    for entry in os.scandir(folder):
        if entry.name == shards.SHARD_FOLDER and entry.is_dir(follow_symlinks=False):
            inside = ((f"{entry.name}/{inner.name}", inner) for inner in os.scandir(entry.path))
            found += [name for name, inner in inside if foreign(inner, name)]
        elif entry.name not in _OWN_NAMES and foreign(entry, entry.name):
            found.append(entry.name)
    return sorted(found)


def _listed_shards(folder: Path) -> set[str] | None:
    """The shard files ``manifest.json`` lists; None when it cannot say (unreadable: the names alone then judge)."""
    try:
        with open(folder / shards.MANIFEST, "rb") as file:
            value = json.loads(file.read())
        return {shard["file"] for shard in value["shards"] if isinstance(shard["file"], str)}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, TypeError, KeyError):
        return None


def foreign_output(names: list[str]) -> str | None:
    """The words ``--overwrite`` refuses a vosconv output with that holds ``names`` of the user's; None if none."""
    if not names:
        return None
    listed = ", ".join(names[:4] + (["..."] if len(names) > 4 else []))
    return f"is a vosconv output that also holds files vosconv did not write ({listed}); move them out or choose another output"


def _is_shard(entry: os.DirEntry) -> bool:
    return entry.is_file(follow_symlinks=False) and _SHARD_NAME.fullmatch(entry.name) is not None


class ShardedWriter(Writer):
    """A folder of shard files plus ``manifest.json``; subclasses write one shard file from videos."""

    output_kind = "directory"
    shard_videos = sys.maxsize  # shards are files, bounded by size alone
    format_version = 1  # the layout version the manifest records (readers refuse a newer one)

    @classmethod
    def owns(cls, path: Path) -> bool:
        """A folder whose ``manifest.json`` declares this writer's format and that holds nothing else of the user's.

        A file the user put in the output later (notes, a thesis) is not vosconv's to delete.
        """
        found = shards.peek_format(path)
        return found is not None and found == shards.FORMATS.get(cls.name) and not foreign_entries(path)

    @classmethod
    def lookalike(cls, path: Path) -> str | None:
        """This writer's output with files of the user's added: named, so they can be moved out."""
        if shards.peek_format(path) != shards.FORMATS.get(cls.name):
            return None
        return foreign_output(foreign_entries(path))

    @property
    def shard_bytes(self) -> int:
        return self.options.shard_bytes

    @abstractmethod
    def write_file(self, videos: Iterable[Video], path: Path, info: DatasetInfo) -> None:
        """Write the shard's videos, one at a time, into the file ``path``."""

    def write_shard(self, videos: Iterable[Video], shard: Shard, staging: Path, info: DatasetInfo) -> ShardResult:
        folder = staging / shards.OUTPUT
        folder.mkdir(parents=True, exist_ok=True)
        name = shards.shard_name(shard.index, self.suffix)
        tmp, final = folder / f"{name}.tmp", folder / name
        entries: list[shards.VideoEntry] = []
        unlocated: dict[str, int] = {}
        if not self.options.images:
            videos = _located(videos, info, unlocated)
        try:
            self.write_file(_recorded(videos, entries, shard.index), tmp, info)
        except BaseException:
            if tmp.exists():
                os.unlink(tmp)
            raise
        shards.finish(tmp, final)
        # facts are JSON (the pipeline journals them, to resume an interrupted run)
        facts: dict[str, object] = {"videos": [e.to_json() for e in entries]}
        if unlocated:
            facts["unlocated"] = unlocated
        return ShardResult(shard.index, (f"{shards.OUTPUT}/{name}",), facts)

    def notes(self, results: Sequence[ShardResult]) -> list[str]:
        """With ``images=false`` a frame is found again at ``<image root>/<video>/<file name>``: say which are not."""
        return unlocated_note(results, "images=true embeds them")

    def published_names(self, count: int, info: DatasetInfo) -> list[str]:
        """The shards' names in the finished output (relative to it), once their ``count`` is known.

        Default: the names they were written under. Shards are written before the count is
        known (a resumed run reuses them), so a name that holds the count is given here.
        """
        return [shards.shard_name(index, self.suffix) for index in range(count)]

    def write_extras(self, folder: Path, manifest: shards.Manifest, info: DatasetInfo) -> None:
        """Files beside the shards other than the manifest (a dataset card); default: none."""

    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        folder = staging / shards.OUTPUT
        folder.mkdir(parents=True, exist_ok=True)
        names = self.published_names(len(results), info)
        for result, name in zip(results, names):
            ((written, _, _),) = result.checksums
            if written != f"{shards.OUTPUT}/{name}":  # a rename inside the staging folder: the bytes and digest stay
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / written, folder / name)
        manifest = shards.Manifest(
            writer=self.name,
            options=dataclasses.asdict(self.options),
            source=shards.source_record(info),
            categories=info.categories,
            shards=tuple(_shard_entry(r, name) for r, name in zip(results, names)),
            videos=tuple(shards.VideoEntry.from_json(v) for r in results for v in r.facts["videos"]),
            format_version=self.format_version,
            vosconv_version=__version__,
        )
        self.write_extras(folder, manifest, info)
        shards.save_manifest(folder, manifest)
        return folder


def _shard_entry(result: ShardResult, name: str) -> shards.ShardEntry:
    """The manifest's line for a shard: its file's size and sha256 come from the pipeline's checksums."""
    ((_, size, digest),) = result.checksums
    videos = [shards.VideoEntry.from_json(v) for v in result.facts["videos"]]
    return shards.ShardEntry(name, tuple(v.name for v in videos), sum(v.frames for v in videos), size, digest)


def _located(videos: Iterable[Video], info: DatasetInfo, unlocated: dict[str, int]) -> Iterator[Video]:
    """Pass the videos through, counting each one's frames that are not at ``<image root>/<video>/<file name>``,
    the only place a reader of the output looks for a frame that is not embedded."""
    for video in videos:
        count = unlocated_frames(video, info.image_root, lambda frame, name=video.name: f"{name}/{frame.file_name}")
        if count:
            unlocated[video.name] = count
        yield video


def _recorded(videos: Iterable[Video], entries: list[shards.VideoEntry], shard: int) -> Iterator[Video]:
    """Pass the videos through, noting each one's manifest entry."""
    for video in videos:
        entries.append(
            shards.VideoEntry(
                name=video.name,
                shard=shard,
                frames=len(video.frames),
                width=video.width,
                height=video.height,
                annotated=tuple(tuple(r) for r in shards.ranges(video.annotated_indices)),
                object_ids=tuple(o.object_id for o in video.objects),
            )
        )
        yield video
