"""The training loader's Parquet backend: a clip's frames read from the row groups that hold them.

A ``ParquetFile`` is kept open per process (its footer parsed once); a video's rows are
checked against the manifest once per process, then each read takes only the columns asked
for, from only the row groups holding the clip's frames. The last row groups read of each
set of columns are kept, so frames read one at a time (SAM 2's drop-in reads a clip that way)
read each row group once, not once per frame.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...model import VOID_ID, MaskEncoding
from ...sources.handles import HandleCache
from ..sharded import manifest as shards
from ..sharded.loader import VOID_PAIR, Frames, check_against_manifest, check_pairs, external


@dataclass
class _Shard:
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


def _open(path: str) -> _Shard:
    from .reader import open_shard

    shard = open_shard(path)
    return _Shard(shard.file, shard.videos, shard.group_starts)


def _check_rows(table: Any, entry: shards.VideoEntry, first: int) -> None:
    """The rows the footer gives a video must be its own frames 0..n-1: a footer is not trusted alone."""
    names = table.column("video").to_pylist()
    if names[0] != entry.name or names[-1] != entry.name or len(set(names)) != 1:
        found = sorted({str(n) for n in names})[:3]
        raise ValueError(f"the footer's rows {first}..{first + len(names)} hold frames of {found}, not of this video")
    if not np.array_equal(table.column("frame_index").to_numpy(zero_copy_only=False), np.arange(entry.frames)):
        raise ValueError(f"the footer's rows {first}..{first + len(names)} are not the video's frames 0..{entry.frames - 1}")


class ParquetBackend:
    """Reads clips from the shards of a Parquet output folder (see :class:`converters.formats.sharded.loader.Backend`)."""

    def __init__(self, root: Path, manifest: shards.Manifest, image_root: str | None) -> None:
        self.root = root
        self.manifest = manifest
        self.files = HandleCache(_open)
        self.image_root = image_root
        self._kept: dict[tuple[str, ...], tuple[tuple[str, tuple[int, ...]], Any]] = {}  # columns -> (shard, groups), table

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_kept": {}}

    def _row_groups(self, path: str, shard: _Shard, groups: list[int], columns: list[str]) -> Any:
        """``columns`` of row groups ``groups``; the last read of each column set is kept for the next read of the same groups."""
        where, kept = (path, tuple(groups)), self._kept.get(tuple(columns))
        if kept is not None and kept[0] == where:
            return kept[1]
        table = shard.file.read_row_groups(groups, columns=columns, use_threads=False)
        self._kept[tuple(columns)] = (where, table)
        return table

    def _record(self, shard: _Shard, entry: shards.VideoEntry) -> tuple[dict, int]:
        """The video's footer record and first row, checked against the manifest (its rows once per process)."""
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
            check_against_manifest(entry, ids, table.column("annotated").to_numpy(zero_copy_only=False))
            shard.checked.add(entry.name)
        return record, first

    def file_names(self, entry: shards.VideoEntry) -> list[str]:
        shard = self.files.get(str(self.root / self.manifest.shards[entry.shard].file))
        _, first = self._record(shard, entry)
        groups, positions = shard.locate(list(range(first, first + entry.frames)))
        table = shard.file.read_row_groups(groups, columns=["file_name"], use_threads=False)
        names = table.slice(positions[0], entry.frames).column("file_name").to_pylist()
        if not all(isinstance(name, str) for name in names):
            raise ValueError(f"file_name column of {sorted({type(n).__name__ for n in names})}, not strings")
        return names

    def read(self, entry: shards.VideoEntry, indices: np.ndarray, images: bool, masks: bool) -> Frames:
        path = str(self.root / self.manifest.shards[entry.shard].file)
        shard = self.files.get(path)
        record, first = self._record(shard, entry)
        embedded = self.manifest.options.get("images", True)
        groups, positions = shard.locate([first + i for i in indices.tolist()])
        columns = []
        if images:
            columns.append("image.bytes" if embedded else "image.path")
        if masks:
            columns += ["objects.list.element.object_id", "objects.list.element.iscrowd", "objects.list.element.counts"]
        table = self._row_groups(path, shard, groups, columns)
        if len(positions) == positions[-1] - positions[0] + 1:
            table = table.slice(positions[0], len(positions))
        else:
            table = table.take(positions)
        frames = Frames(encoding=MaskEncoding(record["encoding"]))
        if images:
            column = table.column("image").combine_chunks()
            if embedded:
                frames.images = column.field("bytes").to_pylist()
            else:
                paths, valid = column.field("path").to_pylist(), column.is_valid().to_pylist()
                names = [p.rsplit("/", 1)[-1] if ok and p else None for p, ok in zip(paths, valid)]
                frames.images = external(self.image_root, entry.name, names)
        if masks:
            objects = table.column("objects").to_pylist()
            null = np.array([frame is None for frame in objects], bool)
            wrong = np.flatnonzero(null == entry.is_annotated(indices))  # null is an unannotated frame, [] an annotated one
            if len(wrong):
                raise ValueError(
                    f"frame {int(indices[wrong[0]])}: its objects are {'null' if null[wrong[0]] else 'there'}, "
                    "yet the manifest has it " + ("annotated" if null[wrong[0]] else "unannotated")
                )
            frames.rle = [[(_pair_id(o), o["counts"]) for o in frame or ()] for frame in objects]
            check_pairs(entry, indices, frames.rle)
        return frames


def _pair_id(record: dict) -> int:
    """An object's id, or :data:`VOID_PAIR` for the void region (``object_id`` 255 with ``iscrowd`` 1)."""
    return VOID_PAIR if record["object_id"] == VOID_ID and record["iscrowd"] else record["object_id"]
