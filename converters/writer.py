"""The writer contract: how the intermediate form becomes output files.

The pipeline splits the sorted video list into shards with :meth:`Writer.plan`, runs
:meth:`Writer.write_shard` on each shard (in any process, in any order), then calls
:meth:`Writer.finalize` once, in the parent, with every shard's result in shard order.
Everything is written inside a private staging folder; the pipeline moves the finished
output into place with one rename, so a crash never leaves a complete-looking output.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from .model import DatasetInfo, Frame, Video
from .options import NoOptions
from .reader import VideoRef


@dataclass(frozen=True)
class Shard:
    """A group of videos written together; ``index`` orders shards, from 0."""

    index: int
    refs: tuple[VideoRef, ...]


@dataclass(frozen=True)
class ShardResult:
    """What ``write_shard`` made: files (relative to the staging folder) and small facts for ``finalize``.

    ``files`` must list every file the shard wrote: a resumed run checks exactly those and
    deletes anything else in the staging folder. ``facts`` must be plain JSON data: the
    pipeline journals it so an interrupted run can resume.
    """

    index: int
    files: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)  # JSON-able: the resume journal keeps it
    #: ``(file, bytes, sha256)`` of each of ``files``: a writer may give those it computed from the
    #: bytes it wrote; the pipeline reads back the rest after ``write_shard`` (``finalize`` gets them only if
    #: the writer's ``finalize_reads_checksums``).
    checksums: tuple[tuple[str, int, str], ...] = ()


def checksum_of(name: str, data: bytes) -> tuple[str, int, str]:
    """A ``ShardResult.checksums`` record of a file holding exactly ``data``."""
    return (name, len(data), hashlib.sha256(data).hexdigest())


class Writer(ABC):
    """Writes videos to one output format.

    Subclasses set ``name`` (the registry name), ``Options`` (a frozen dataclass of the
    writer's options) and ``output_kind`` ("file" or "directory"), and implement
    ``write_shard`` and ``finalize``. Contract:

    * ``write_shard`` consumes the videos one at a time (never holding a whole shard's
      pixels at once) and writes only inside ``staging``. It must not read source files
      other than images (masks arrive as RLE), and its bytes must depend only on the
      videos, the shard and the options: never on time, process or worker count. Its
      result lists every file it wrote (``ShardResult.files``): on ``--resume`` anything
      else in the staging folder is deleted.
    * ``finalize`` runs once, after every shard, and returns the path inside ``staging``
      of the finished output (a file or a folder), which the pipeline renames into place.
    * ``owns`` recognises the writer's own finished output (a header, a manifest, a marker that
      ``finalize`` leaves), so a later ``--overwrite`` may replace it; a writer that leaves no
      such sign keeps the default, and its outputs are never replaced.
    """

    name: ClassVar[str]
    Options: ClassVar[type] = NoOptions
    output_kind: ClassVar[Literal["file", "directory"]] = "directory"
    #: Suffix of the default output name (``.json`` for COCO, empty for folders).
    suffix: ClassVar[str] = ""
    #: Default shard planning: at most this many videos per shard (one video, the unit of work,
    #: balances worker processes best when the shards are only a writer's staging detail)...
    shard_videos: ClassVar[int] = 1
    #: ... and about this many source bytes per shard.
    shard_bytes: ClassVar[int] = 64 << 20
    #: Whether ``finalize`` reads ``ShardResult.checksums``. A writer that does not says so, and the run then keeps
    #: each finished shard's result without them until ``finalize`` (the resume journal has them): a writer of a file
    #: per frame and object would otherwise have the run hold a checksum per file of the dataset.
    finalize_reads_checksums: ClassVar[bool] = True
    #: Whether ``finalize`` reads ``ShardResult.files``; one that does not has the run keep results without them
    #: (the journal has them): a folder layout lists a file per frame and object, about 80 bytes each.
    finalize_reads_files: ClassVar[bool] = True

    def __init__(self, options: object | None = None) -> None:
        self.options = options if options is not None else self.Options()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"

    def plan(self, refs: Sequence[VideoRef]) -> list[Shard]:
        """Group the sorted videos into shards; a video never spans two shards.

        Deterministic: depends on the refs and options only.
        """
        shards: list[Shard] = []
        group: list[VideoRef] = []
        size = 0
        for ref in refs:
            if group and (len(group) >= self.shard_videos or size + ref.nbytes > self.shard_bytes):
                shards.append(Shard(len(shards), tuple(group)))
                group, size = [], 0
            group.append(ref)
            size += ref.nbytes
        if group:
            shards.append(Shard(len(shards), tuple(group)))
        return shards

    @classmethod
    def owns(cls, path: Path) -> bool:
        """Whether ``path`` is an output this writer wrote, so that ``--overwrite`` may replace it.

        Decided from what is there (a file's header, a folder's manifest or marker), never from the
        name alone: ``--overwrite`` deletes only what vosconv wrote. The runner asks the chosen writer
        and every built-in one. An answer must be quick, must not block (``path`` is a regular file or
        a folder, never a link) and is False for anything unreadable. The default: nothing is.
        """
        return False

    @classmethod
    def lookalike(cls, path: Path) -> str | None:
        """For an output :meth:`owns` says no to that still looks like this writer's kind (a dataset
        folder without the marker): what it looks like and what to do, the words ``--overwrite``
        refuses it with (after the path); None when it does not look like one. The default: None."""
        return None

    def check(self, video: Video) -> None:
        """Raise SourceError for a video this format cannot hold exactly.

        Called on each video before ``write_shard`` sees it, so ``--on-error skip`` can leave
        the video out like one the reader refused. The default: every video fits.
        """

    def as_written(self, video: Video) -> Video:
        """The video as this format's output holds it by design (a consumer's convention, such as a
        layout without void writing it as background): what reading the output back gives. The
        default: the video itself, exactly."""
        return video

    def notes(self, results: Sequence[ShardResult]) -> list[str]:
        """What the run changed by design (:meth:`as_written`), in words for the run's summary; the
        writer records it in the output too. The default: nothing."""
        return []

    @abstractmethod
    def write_shard(self, videos: Iterable[Video], shard: Shard, staging: Path, info: DatasetInfo) -> ShardResult:
        """Write one shard's videos inside ``staging``.

        Videos are taken one at a time and each is written before the next is asked for. On an
        error, nothing of the video being written may be left where ``finalize`` would take it:
        the pipeline may write the shard again without that video (``--on-error skip``); a writer
        that makes its files new (the folder writers, which never write over another video's file)
        removes all it wrote of the shard. A ``SourceError`` naming the video, or ``<video>/<frame>``,
        is the writer refusing it, and ``skip`` leaves it out like one :meth:`check` refused.
        """

    @abstractmethod
    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        """Assemble the output from every shard; ``output`` is the final name (for its suffix)."""


def unlocated_frames(
    video: Video, image_root: str | None, place: Callable[[Frame], str], *, names_every_frame: bool = False
) -> int:
    """How many of the video's frames have an image that is not the file ``<image root>/<place(frame)>``: where a
    reader of an output that names its frames (instead of embedding them) looks for it. Frames of an mp4, members of
    an archive and files elsewhere are not there; bytes already read (a Parquet or HDF5 source that embeds them) are
    there when the image root still holds that file. With ``names_every_frame`` (COCO, CocoVID, BURST: a file name for
    every frame, whose reader gives each frame the image of that name under the image root), a frame without an image
    counts too when there is an image root: it reads back as the image of a file that is not there."""
    root = None if image_root is None else os.path.abspath(image_root)
    count = 0
    for frame in video.frames:
        image = frame.image
        if image is None:
            count += names_every_frame and root is not None and not os.path.isfile(os.path.join(root, *place(frame).split("/")))
            continue
        named = None if root is None else os.path.join(root, *place(frame).split("/"))
        if image.data is not None:  # resized when read, they are not the file of that name (a full-size one)
            located = named is not None and image.resize is None and os.path.isfile(named)
        else:
            plain = image.archive is None and image.frame is None and image.resize is None  # the file as it is
            located = named is not None and plain and os.path.abspath(image.path) == named
        count += not located
    return count


def unlocated_note(results: Sequence[ShardResult], fix: str) -> list[str]:
    """The summary's note on the frames :func:`unlocated_frames` counted (each shard's ``unlocated`` fact:
    video -> count), with ``fix``: how to keep the frames."""
    unlocated = {name: count for result in results for name, count in result.facts.get("unlocated", {}).items()}
    if not unlocated:
        return []
    frames, videos = sum(unlocated.values()), len(unlocated)
    listed = ", ".join(sorted(unlocated)[:3]) + (", ..." if videos > 3 else "")
    return [
        f"{frames} frames of {videos} video{'s' if videos != 1 else ''} ({listed}) are named where no folder holds them "
        f"(frames of an mp4, members of an archive, files outside the image root, or frames without an image); {fix}"
    ]
