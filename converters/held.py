"""Writing videos made in Python: :func:`write_videos` (exported as ``converters.write_videos``).

The videos are held in memory and given to the pipeline through a reader of their own, so they are
written exactly as a conversion writes a source's: checked by the writer, staged, published whole.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .api import as_flag, as_path, format_name, open_writer, warn_of_contradiction
from .errors import OptionError, OutputError
from .model import DatasetInfo, Video
from .reader import Detection, Reader, VideoRef
from .records import shown
from .sources import tempfiles

if TYPE_CHECKING:
    from .run.pipeline import Summary

__all__ = ["write_videos"]


def write_videos(
    videos: Iterable[Video],
    output: str | os.PathLike,
    to: str,
    *,
    info: DatasetInfo | None = None,
    writer_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    progress: bool | None = False,
) -> Summary:
    """Write videos made in Python (the intermediate form of :mod:`converters.model`) as format ``to`` at ``output``.

    For a model's predictions, a filtered or edited set, or a source vosconv does not read: each
    :class:`~converters.model.Video` as :func:`read_videos` gives them, or built with the model's
    constructors (masks from a label map with :func:`converters.codecs.rle.encode`). ``info``
    is the dataset's :class:`~converters.model.DatasetInfo` (categories, split), by default
    ``DatasetInfo("python")``. Each video is set aside in a temporary file (under ``TMPDIR``) as
    the iterable gives it, so a generator of any length is written holding one video at a time;
    they are written by name order, in this process. The output appears only when complete, as
    with :func:`convert`, and the writer refuses what its format cannot hold (an
    ``OptionError``/``SourceError``).

    >>> videos = (v for v in converters.read_videos("MOSE", split="train") if len(v.objects) > 2)  # doctest: +SKIP
    >>> converters.write_videos(videos, "crowded.json", to="coco")  # doctest: +SKIP
    """
    from .run import locking, pipeline
    from .run import resume as resuming
    from .run.publish import recover_publish, staging_path

    output = as_path("output", output)
    format_name("to", to)
    overwrite = as_flag("overwrite", overwrite)
    if progress is not None:
        progress = as_flag("progress", progress)
    if isinstance(videos, Video):
        raise OptionError("videos", "expected videos (a list or any iterable of Video), got one Video: give [video]")
    if isinstance(videos, (str, bytes, os.PathLike)):
        raise OptionError("videos", f"expected Video objects, got the path {shown(videos, 80)}: converters.convert reads one")
    if not isinstance(videos, Iterable):
        raise OptionError("videos", f"expected an iterable of Video, got {type(videos).__name__} {shown(videos, 80)}")
    if info is None:
        info = DatasetInfo("python")
    elif not isinstance(info, DatasetInfo):
        raise OptionError("info", f"expected a converters.model.DatasetInfo, got {type(info).__name__} {shown(info, 80)}")
    writer = open_writer(to, writer_options)
    warn_of_contradiction(output, to, writer)
    staging = staging_path(output)
    if not overwrite and staging.is_dir():  # the pipeline's refusal says resume=True, which write_videos has not
        with locking.exclusive(output):  # as the pipeline checks it: no other run at it, a killed publish finished
            recover_publish(output)
            try:
                resuming.refuse_interrupted(output, staging)
            except OutputError:
                raise OutputError(
                    f"an interrupted run of {output} left finished shards in {staging}; videos given in Python are "
                    f"never resumed: {_AGAIN}"
                ) from None
    with tempfiles.folder("vosconv-videos-") as spool, HeldVideos(info, Path(spool)) as reader:
        for position, video in enumerate(videos):
            if not isinstance(video, Video):
                raise OptionError("videos", f"item {position} is a {type(video).__name__}, not a converters.model.Video")
            reader.add(video)
        try:
            return pipeline.convert(
                reader, writer, output, workers=1, overwrite=overwrite, progress=progress, none_listed=_NONE_GIVEN
            )
        except pipeline.Interrupted:
            if not staging.is_dir():  # published whole: the pipeline's message says so
                raise
            raise pipeline.Interrupted(f"interrupted before {output} was written; {_AGAIN}") from None


#: The warning for an empty iterable: a filter that kept nothing, or a generator already used up.
_NONE_GIVEN = "write_videos was given no videos"

#: What to do after an interrupted run: the videos were in the caller's hands, not in a source a run can read again.
_AGAIN = "call write_videos again with overwrite=True"


class HeldVideos(Reader):
    """The videos :func:`write_videos` was given, as a reader: each kept in a file of ``spool`` as it comes (one video
    in memory at a time, however many are given), listed by name and read back when the writer asks."""

    name = "python"

    def __init__(self, info: DatasetInfo, spool: Path) -> None:
        super().__init__(HELD_SOURCE)
        self._info, self._spool = info, spool
        self._videos: dict[str, tuple[Path, int]] = {}  # name -> (its file, about what its files would weigh)

    def add(self, video: Video) -> None:
        if video.name in self._videos:  # one would overwrite the other's files, or their records would merge
            raise OptionError("videos", f"two videos are named {video.name!r}; a dataset's video names are unique")
        path = self._spool / f"{len(self._videos):09d}.pickle"
        try:
            with open(path, "wb") as file:
                pickle.dump(video, file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as exc:  # a full disk under TMPDIR, not a fault of the video
            raise tempfiles.cannot_write(exc, os.fspath(self._spool)) from None
        self._videos[video.name] = (path, _held_bytes(video))

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        return Detection(0, "videos given to write_videos, never a file")

    def info(self) -> DatasetInfo:
        return self._info

    def list_videos(self) -> list[VideoRef]:
        return [VideoRef(name, self._videos[name][1]) for name in sorted(self._videos)]

    def read_video(self, ref: VideoRef) -> Video:
        with open(self._videos[ref.name][0], "rb") as file:  # written by add, in a folder of this process's own
            return pickle.load(file)

    def roots(self) -> list[Path]:
        return []  # no file of a source to protect: the output may go anywhere


#: What a reader of videos held in memory names as its source (resolved in no check: its roots are empty).
HELD_SOURCE = "<videos given to write_videos>"


def _held_bytes(video: Video) -> int:
    """About what the video's files would weigh, so that writers cut shards by size as they do for a source on disk."""
    total = 0
    for frame in video.frames:
        if frame.masks is not None:
            total += sum(len(mask.counts) for mask in frame.masks.objects)
        if frame.image is not None and frame.image.data is not None:
            total += len(frame.image.data)
        elif frame.image is not None and frame.image.archive is None and frame.image.frame is None and frame.image.path:
            with contextlib.suppress(OSError):
                total += os.path.getsize(frame.image.path)
    return total
