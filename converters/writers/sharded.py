"""The part of the Parquet and HDF5 writers that is about shards, not about either format.

Each shard becomes one file, written as ``output/part-NNNNN.<ext>.tmp`` and renamed when
complete; ``finalize`` writes ``manifest.json`` last. Shards are planned by source bytes
(``shard_bytes`` option), so a shard's size, not a video count, bounds each file.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from .. import __version__, shards
from ..model import DatasetInfo, Video
from .base import Shard, ShardResult, Writer


def check_shard_bytes(value: int) -> None:
    if value < 1:
        raise ValueError(f"shard_bytes must be positive, got {value}")


class ShardedWriter(Writer):
    """A folder of shard files plus ``manifest.json``; subclasses write one shard file from videos."""

    output_kind = "directory"
    shard_videos = sys.maxsize  # shards are files, bounded by size alone
    format_version = 1  # the layout version the manifest records (readers refuse a newer one)

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
        try:
            self.write_file(_recorded(videos, entries, shard.index), tmp, info)
        except BaseException:
            if tmp.exists():
                os.unlink(tmp)
            raise
        shards.finish(tmp, final)
        # facts are JSON (the pipeline journals them, to resume an interrupted run)
        facts = {"videos": [e.to_json() for e in entries]}
        return ShardResult(shard.index, (f"{shards.OUTPUT}/{name}",), facts)

    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        folder = staging / shards.OUTPUT
        folder.mkdir(parents=True, exist_ok=True)
        manifest = shards.Manifest(
            writer=self.name,
            options=dataclasses.asdict(self.options),
            source=shards.source_record(info),
            categories=info.categories,
            shards=tuple(_shard_entry(r) for r in results),
            videos=tuple(shards.VideoEntry.from_json(v) for r in results for v in r.facts["videos"]),
            format_version=self.format_version,
            vosconv_version=__version__,
        )
        shards.save_manifest(folder, manifest)
        return folder


def _shard_entry(result: ShardResult) -> shards.ShardEntry:
    """The manifest's line for a shard: its file's size and sha256 come from the pipeline's checksums."""
    ((path, size, digest),) = result.checksums
    videos = [shards.VideoEntry.from_json(v) for v in result.facts["videos"]]
    return shards.ShardEntry(path.rsplit("/", 1)[-1], tuple(v.name for v in videos), sum(v.frames for v in videos), size, digest)


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
