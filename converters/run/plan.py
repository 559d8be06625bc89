"""What a run will read and in what order: the source's roots and linked folders, the shards, the work order.

The shards themselves come from the writer (:meth:`Writer.plan`); this module checks what
the listing implies for the output and orders the work.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import SourceError
from ..reader import Reader, VideoRef
from ..writer import Shard, Writer
from .publish import check_not_source


def check_images(reader: Reader, writer: Writer) -> None:
    """An output that embeds images (``images`` on) is not written without them, unless asked (``images=False``)."""
    if getattr(writer.options, "images", False) is not True:
        return
    missing = reader.missing_images()
    if missing is not None:
        attach = "--images DIR (reader option images) naming where the frames are, or " if _takes_images(reader) else ""
        raise SourceError(
            reader.source,
            f"{missing}, so the {writer.name} output would hold no images: pass {attach}--no-images "
            "(writer option images: false) to write none",
        )


def recorded_images_note(reader: Reader, writer: Writer) -> tuple[str, ...]:
    """The summary's note on frames copied from the folder the source records (no ``--images`` chose it), or none."""
    if getattr(writer.options, "images", False) is not True:
        return ()
    folder = reader.recorded_images()
    if folder is None:
        return ()
    return (f"frames copied from {folder}, the images folder {reader.source} records; --images DIR names another",)


def _takes_images(reader: Reader) -> bool:
    """Whether the reader takes an ``images`` option (a folder of frames to attach); SA-V's frames are its mp4s."""
    inner = getattr(reader, "inner", reader)  # a derived set's reader wraps its source's
    return hasattr(getattr(inner, "options", None), "images")


def check_roots(output: Path, roots: list[Path], writer: Writer) -> None:
    """Refuse an output that is, holds, or would go inside what the reader reads (:meth:`Reader.roots`).

    The first root is the source itself (a new output may go inside it); the rest are read folder by folder.
    """
    for position, root in enumerate(roots):
        check_not_source(output, root, listed=position > 0 and os.path.isdir(root), writer=writer)


def linked_folders(refs: list[VideoRef], output: Path, writer: Writer) -> list[Path]:
    """The video folders that are links to data elsewhere, each checked like a root.

    A link that leads nowhere is the video's error, found when it is read.
    """
    linked = [Path(f) for ref in refs for f in ref.folders() if os.path.islink(f) and os.path.isdir(f)]
    for root in linked:
        check_not_source(output, root, listed=True, writer=writer)
    return linked


def work_order(shards: list[Shard], done: set[int] | dict[int, object]) -> list[Shard]:
    """The shards still to write, largest first, so the run does not end waiting on one big shard
    (the output's order is by index regardless)."""
    return sorted((s for s in shards if s.index not in done), key=lambda s: -sum(r.nbytes for r in s.refs))


def one_video_each(refs: list[VideoRef]) -> list[Shard]:
    """A shard per video: the plan of a run that writes nothing (``scan``)."""
    return [Shard(i, (ref,)) for i, ref in enumerate(refs)]
