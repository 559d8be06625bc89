"""The reader contract: how a source layout becomes the intermediate form.

A reader is built from a source path and its options, and must be cheap to pickle: the
pipeline ships it, with one ``VideoRef`` at a time, to worker processes or Ray tasks.
``self.fs`` is where the source's files are read from: the local disk, or the archive the
source is (see :mod:`converters.sources.files`); it pickles as paths.
"""

from __future__ import annotations

import functools
import inspect
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from .errors import SourceError, VosconvError
from .model import DatasetInfo, Video
from .options import NoOptions
from .sources import files as sources


@dataclass(frozen=True)
class VideoRef:
    """A cheap, picklable handle on one video: enough for ``read_video`` to find it anywhere.

    ``nbytes`` is the size of the video's source files, used to balance shards. ``stamp``
    says what those files were when listed (names, sizes, modification times), so that
    ``--resume`` redoes a video whose files changed since the interrupted run.
    Readers subclass this to add what they need (folders, byte ranges).
    """

    name: str
    nbytes: int = 0
    stamp: str = ""

    def folders(self) -> tuple[str, ...]:
        """The video's own folders, if it has any (the pipeline protects those that are links)."""
        return ()

    def files(self) -> tuple[str, ...]:
        """Files that hold this video with others (a shard), if any: ``validate`` does not read a
        video from one already found damaged (an older HDF5 shard could hang libhdf5)."""
        return ()


@dataclass(frozen=True)
class Detection:
    """A reader's answer to "is this source yours?": ``score`` 0 means no; ``reason`` says what it saw.

    ``near`` says, for a no, how much of the reader's layout was there (0: nothing, 9: all but one
    thing); "cannot tell the format" lists the readers nearest first, so the likely fix is on top.
    """

    score: int
    reason: str
    near: int = 0


_R = TypeVar("_R", bound="Reader")


class Reader(ABC):
    """Reads one source layout into :class:`~converters.model.Video` objects, one video at a time.

    Subclasses set ``name`` (the registry name) and ``Options`` (a frozen dataclass of the
    reader's options), and implement the four methods below. Contract:

    * ``sniff`` looks at a path without reading pixels and says how sure it is; a reader of
      folder layouts sniffs through ``sources.filesystem(source)`` so archives are seen too.
    * ``info`` and ``list_videos`` are cheap: names, paths and sizes, never pixels.
    * ``read_video`` is a pure function of a ``VideoRef`` and the options: it may run in
      any process, in any order. It decodes every annotation file once and returns the
      complete video. It raises :class:`~converters.errors.SourceError` naming the file and
      the cause on bad input, and never skips or repairs anything silently; whether to
      fail or skip is the pipeline's decision.
    * Hidden files (names starting with ``.``) are not part of any dataset.
    """

    name: ClassVar[str]
    Options: ClassVar[type] = NoOptions

    def __init__(self, source: str | os.PathLike, options: object | None = None) -> None:
        self.source = Path(source)
        self.options = options if options is not None else self.Options()
        self.fs = sources.filesystem(self.source)

    def __init_subclass__(cls, **kwargs: object) -> None:
        """Every reader's ``close`` marks it closed, whatever the subclass's own ``close`` does (see :class:`_Closed`)."""
        super().__init_subclass__(**kwargs)
        close = cls.__dict__.get("close")
        if inspect.isfunction(close) and not hasattr(close, "__wrapped__"):
            cls.close = _marks_closed(close)  # type: ignore[method-assign]

    def __repr__(self) -> str:
        state = " (closed)" if self.__dict__.get("_closed") else ""
        return f"{type(self).__name__}({os.fspath(self.source)!r}, {self.options!r}){state}"

    @classmethod
    @abstractmethod
    def sniff(cls, source: Path) -> Detection:
        """How sure this reader is that ``source`` is its layout (0: not at all), and why."""

    @abstractmethod
    def info(self) -> DatasetInfo:
        """Dataset-wide facts: split, categories, image root, layout attributes."""

    @abstractmethod
    def list_videos(self) -> list[VideoRef]:
        """Every video of the source, sorted by name."""

    @abstractmethod
    def read_video(self, ref: VideoRef) -> Video:
        """The whole video: frames in order, masks as RLE, objects, encoding."""

    def check_integrity(self) -> list[SourceError]:
        """Whole-file checks a conversion leaves out for speed (e.g. checksums), for ``validate``.

        Returns one error per damaged file; the default checks what the file system can: when
        the source is a zip, the CRC-32 of every member under :meth:`roots` (not the source
        itself, the first: the archive also holds splits and resolutions not read).
        """
        return self.fs.check_integrity(self.roots()[1:])

    def roots(self) -> list[Path]:
        """Every file and folder a conversion reads (the source, its images, its annotations).

        The pipeline refuses an output that is one of them or holds one, resolved through
        links, since replacing it would delete source data. The first is the source itself;
        a new output may go inside it, but not inside the other folders, whose contents the
        reader lists. The default is the source and ``info().image_root``; readers with
        annotation folders of their own add them.
        """
        image_root = self.info().image_root
        return [self.source, *([Path(image_root)] if image_root else [])]

    def missing_images(self) -> str | None:
        """Where the frames' images were looked for and not found, when the source names images it cannot
        supply (a COCO file whose image folder moved), else None. The pipeline then refuses a writer that
        embeds images unless told to write none; ``info`` and ``validate`` write nothing and say nothing."""
        return None

    def recorded_images(self) -> str | None:
        """The folder the frames are taken from when the source itself names it (a COCO file's recorded image root,
        maybe written on another machine) and no ``images`` option chose it, else None. A conversion that copies the
        frames says so in its summary: that folder may not be the one the user has in mind."""
        return None

    def close(self) -> None:
        """Release whatever the reader holds open (temporary files, handles, an archive's index)."""
        self.fs.close()

    def __enter__(self: _R) -> _R:  # the reader's own class, so ``with open_reader(...) as r`` is typed
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: What a closed reader refuses: once its ``with`` block ends, a call would quietly open again what ``close``
#: released (an archive's handle, a COCO file's temporary index, left behind for good) or fail naming no reader.
_WHILE_OPEN = ("info", "list_videos", "read_video", "check_integrity")


class _Closed:
    """What a closed reader's contract calls are: an error saying so. Set on the instance by ``close``, so an open
    reader's calls go straight to its methods (no wrapper: a warning still names the caller's line)."""

    def __init__(self, reader: str, name: str) -> None:
        self.reader, self.name = reader, name

    def __call__(self, *args: object, **kwargs: object) -> Any:
        raise VosconvError(
            f"{self.reader}: {self.name}() on a closed reader (its with block ended, or close() was called); "
            "open the source again with converters.open_reader"
        )


def _marks_closed(close: Any) -> Any:
    @functools.wraps(close)
    def marking(self: Reader) -> None:
        close(self)
        self._closed = True
        for name in _WHILE_OPEN:
            self.__dict__[name] = _Closed(repr(self), name)

    return marking


Reader.close = _marks_closed(Reader.close)  # type: ignore[method-assign]
