"""The units of work an executor runs, in whatever process: read a shard's videos, write them, count them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from ..errors import SourceError
from ..model import DatasetInfo, Video
from ..reader import Reader, VideoRef
from ..sources import imagefiles
from ..writer import Shard, ShardResult, Writer
from . import journal
from .executors import report_progress
from .stats import Stats

OnError = Literal["fail", "skip"]


def read_shard(
    reader: Reader,
    shard: Shard,
    stats: Stats,
    on_error: OnError = "fail",
    writer: Writer | None = None,
    handed: list[tuple[VideoRef, Video]] | None = None,
) -> Iterator[Video]:
    """The shard's videos, read one at a time; a bad one is skipped and noted when ``on_error="skip"``.

    ``handed`` holds the video handed on last, the one the writer is on (that one only: a list of every
    video handed on held a whole shard's videos, embedded frames included, until the shard was written).
    """
    for ref in shard.refs:
        checking = False
        try:
            video = reader.read_video(ref)
            checking = writer is not None
            if checking:
                writer.check(video)  # what the target cannot hold is skipped like what cannot be read
        except SourceError as error:
            if on_error != "skip":
                raise
            stats.skip(ref.name, error, source_file=not checking)
            report_progress(shard.index)
            continue
        stats.add(video)
        if handed is not None:
            handed[:] = [(ref, video)]
        yield video
        report_progress(shard.index)  # the writer asks for the next video once this one is written


def run_shard(
    shard: Shard, *, reader: Reader, writer: Writer, staging: Path, info: DatasetInfo, on_error: OnError = "fail"
) -> tuple[ShardResult, Stats]:
    """One unit of work for an executor: read the shard's videos and write them (in whatever process).

    Under ``skip``, a video the writer refuses only as it writes it (a folder name the file system takes for another
    video's) is left out, and the shard written again without it, as the writer removes what it wrote of a shard that
    fails. A frame image can fail only when the writer reads it whole (a zip member whose CRC-32 does
    not match, a read error mid-file), after the video was read and counted. Under ``skip`` the
    shard is then written again without that video, which is recorded like any other bad one, and
    without the videos after it whose images fail too, found in one reading of their images (one
    rewrite each was quadratic in a shard's bad images).
    """
    order = {ref.name: position for position, ref in enumerate(shard.refs)}
    dropped: list[tuple[str, SourceError, bool]] = []  # (video, error, whether it names a source file)
    while True:
        stats, handed = Stats(), []
        try:
            result = writer.write_shard(read_shard(reader, shard, stats, on_error, writer, handed), shard, staging, info)
            break
        except SourceError as error:
            if on_error != "skip" or not handed:
                raise
            culprit, video = handed[-1]
            handed.clear()  # the video the writer was on is not held while the rest are read
            if _reads_image(video, error.path):
                dropped.append((culprit.name, error, True))
                later = shard.refs[shard.refs.index(culprit) + 1 :]
                dropped.extend((name, failed, True) for name, failed in _failing_images(reader, later))
            elif _names_video(video, error.path):  # a refusal only writing could find (a folder name the file system folds)
                dropped.append((culprit.name, error, False))
            else:
                raise
            gone = {name for name, _, _ in dropped}
            shard = dataclasses.replace(shard, refs=tuple(ref for ref in shard.refs if ref.name not in gone))
    for name, error, source_file in dropped:
        stats.skip(name, error, source_file=source_file)
    stats.skipped.sort(key=lambda record: order.get(record["video"], len(order)))  # in the shard's order
    return dataclasses.replace(result, checksums=journal.checksums(staging, result.files, result.checksums)), stats


def _failing_images(reader: Reader, refs: Sequence[VideoRef]) -> Iterator[tuple[str, SourceError]]:
    """The videos of ``refs`` one of whose frame images cannot be read whole, each with the error, reading their
    images as a writer does; a video the reader refuses is left to :func:`read_shard`, which skips it again."""
    for ref in refs:
        try:
            video = reader.read_video(ref)
        except SourceError:
            continue
        for frame in video.frames:
            if frame.image is None:
                continue
            try:
                imagefiles.read_bytes(frame.image)
            except SourceError as error:
                yield ref.name, error
                break


def _reads_image(video: Video, path: str) -> bool:
    """``path`` is one of the video's frame images, or the video file its frames are decoded from (an mp4 that
    ends early or is corrupt): the error is the video's, not the output's."""
    return any(
        frame.image is not None and (frame.image.location == path or (frame.image.frame is not None and frame.image.path == path))
        for frame in video.frames
    )


def _names_video(video: Video, path: str) -> bool:
    """``path`` is how a writer names the video it refuses: the video, or a frame of it (``<video>/<frame>``)."""
    return path == video.name or any(path == f"{video.name}/{frame.file_name}" for frame in video.frames)


def count(shard: Shard, *, reader: Reader, on_error: OnError) -> Stats:
    """Read every video of the shard (decoding every mask) and count it, writing nothing."""
    stats = Stats()
    for _ in read_shard(reader, shard, stats, on_error):
        pass
    return stats
