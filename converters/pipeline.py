"""One conversion, start to finish: plan shards, run them, finalize, publish atomically.

Data moves one way: source files -> reader -> intermediate form -> writer -> staging
folder -> one rename into place. The staging folder sits beside the output under a
hidden name, so a crash or a bad input never leaves a complete-looking output behind.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import OutputError
from .executors import make_executor
from .model import DatasetInfo, Video
from .readers.base import Reader
from .writers.base import Shard, ShardResult, Writer


@dataclass
class Stats:
    """Counts over the videos that went through: what ``info`` and the summary line print."""

    videos: int = 0
    frames: int = 0
    annotated_frames: int = 0
    objects: int = 0
    masks: int = 0  # (object, frame) pairs with pixels
    void_masks: int = 0
    empty_frames: int = 0  # annotated frames without any object
    category_ids: set[int] = field(default_factory=set)

    def add(self, video: Video) -> None:
        self.videos += 1
        self.frames += len(video.frames)
        self.objects += len(video.objects)
        for frame in video.frames:
            if frame.masks is not None:
                self.annotated_frames += 1
                self.masks += len(frame.masks.objects)
                self.void_masks += frame.masks.void is not None
                self.empty_frames += not frame.masks.objects
        self.category_ids.update(o.category_id for o in video.objects if o.category_id is not None)

    def merge(self, other: Stats) -> None:
        for name in ("videos", "frames", "annotated_frames", "objects", "masks", "void_masks", "empty_frames"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.category_ids |= other.category_ids

    def line(self) -> str:
        return (
            f"{self.videos} videos, {self.frames} frames ({self.annotated_frames} annotated, "
            f"{self.empty_frames} empty), {self.objects} objects, {self.masks} masks"
        )


@dataclass
class Summary:
    output: Path
    stats: Stats
    seconds: float
    shards: int


def staging_path(output: Path) -> Path:
    """The private folder a conversion to ``output`` works in."""
    return output.parent / f".{output.name}.vosconv-partial"


def check_output(output: Path, overwrite: bool) -> None:
    if output.exists() and not overwrite:
        if output.is_dir() and not any(output.iterdir()):
            return
        raise OutputError(f"{output} already exists; pass --overwrite to replace it")


def publish(finished: Path, output: Path, overwrite: bool) -> None:
    """Move the finished output into place with a rename (after flushing a file to disk).

    Replacing an existing output (``overwrite``) moves it aside first, so a folder can
    replace a file and the other way round; the old one is deleted once the new one is in place.
    """
    if finished.is_file():
        with open(finished, "rb") as file:
            os.fsync(file.fileno())
    if output.exists():
        check_output(output, overwrite)
        if output.is_dir() or finished.is_dir():
            old = _aside(output)
            remove(old)
            os.replace(output, old)
            os.replace(finished, output)
            remove(old)
            return
    os.replace(finished, output)


def _aside(output: Path) -> Path:
    return output.parent / f".{output.name}.vosconv-old"


def remove(path: Path) -> None:
    """Delete a file or a folder tree, if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def read_shard(reader: Reader, shard: Shard, stats: Stats) -> Iterator[Video]:
    for ref in shard.refs:
        video = reader.read_video(ref)
        stats.add(video)
        yield video


def run_shard(shard: Shard, *, reader: Reader, writer: Writer, staging: Path, info: DatasetInfo) -> tuple[ShardResult, Stats]:
    """One unit of work for an executor: read the shard's videos and write them (in whatever process)."""
    stats = Stats()
    result = writer.write_shard(read_shard(reader, shard, stats), shard, staging, info)
    return result, stats


def convert(
    reader: Reader,
    writer: Writer,
    output: str | os.PathLike,
    *,
    workers: int = 1,
    overwrite: bool = False,
    progress: bool | None = None,
) -> Summary:
    """Convert everything ``reader`` lists into ``output`` with ``writer``; returns what was done."""
    started = time.perf_counter()
    output = Path(output)
    check_output(output, overwrite)
    info = reader.info()
    shards = writer.plan(reader.list_videos())
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(output)
    remove(staging)  # left by a run that crashed
    remove(_aside(output))
    staging.mkdir()
    stats = Stats()
    bar = _progress(sum(len(s.refs) for s in shards), progress)
    try:
        task = functools.partial(run_shard, reader=reader, writer=writer, staging=staging, info=info)

        def done(index: int, outcome: tuple[ShardResult, Stats]) -> None:
            stats.merge(outcome[1])
            bar.update(len(shards[index].refs))

        outcomes = make_executor(workers).run(task, shards, on_done=done)
        finished = writer.finalize([result for result, _ in outcomes], info, staging, output)
        publish(finished, output, overwrite)
    finally:
        bar.close()
        shutil.rmtree(staging, ignore_errors=True)
    return Summary(output, stats, time.perf_counter() - started, len(shards))


def scan(reader: Reader, *, workers: int = 1, progress: bool | None = None) -> tuple[DatasetInfo, Stats]:
    """Read every video (decoding every mask) and count what is there, writing nothing."""
    info = reader.info()
    refs = reader.list_videos()
    bar = _progress(len(refs), progress)
    stats = Stats()
    try:
        shards = [Shard(i, (ref,)) for i, ref in enumerate(refs)]
        counted = make_executor(workers).run(functools.partial(_count, reader=reader), shards, on_done=lambda i, s: bar.update(1))
        for part in counted:
            stats.merge(part)
    finally:
        bar.close()
    return info, stats


def _count(shard: Shard, *, reader: Reader) -> Stats:
    stats = Stats()
    for _ in read_shard(reader, shard, stats):
        pass
    return stats


def _progress(total: int, enabled: bool | None):
    from tqdm import tqdm

    # None: only when stderr is a terminal
    return tqdm(total=total, unit="video", disable=None if enabled is None else not enabled, leave=False, dynamic_ncols=True)
