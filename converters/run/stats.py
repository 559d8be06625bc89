"""What a run counts: videos, frames, masks and the videos it skipped, per shard and merged.

A shard's :class:`Stats` travel back from the worker that wrote it and into the journal
(``to_dict``/``from_dict``), so a resumed run's summary counts the reused shards too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import SourceError, absolute_path
from ..model import Video

#: ``error`` of a bad video: its source cannot be read as its format claims (a file missing, damaged or malformed,
#: a frame image that fails to read whole), or it was read but the chosen writer cannot hold it.
SOURCE, WRITER = "source", "writer"
ERROR_KINDS = (SOURCE, WRITER)

_COUNTS = ("videos", "frames", "annotated_frames", "objects", "masks", "void_masks", "empty_frames")
#: The counts every ``--json`` reports, in the summary line's order (docs/cli.md#machine-readable-output).
REPORTED = ("videos", "frames", "annotated_frames", "empty_frames", "objects", "masks", "void_masks")


def _is_skip_record(record: object) -> bool:
    return isinstance(record, dict) and all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in record.items())


@dataclass
class Stats:
    """Counts over the videos that went through, and the videos skipped: what summaries print."""

    videos: int = 0
    frames: int = 0
    annotated_frames: int = 0
    objects: int = 0
    masks: int = 0  # (object, frame) pairs with pixels
    void_masks: int = 0
    empty_frames: int = 0  # annotated frames without any object
    category_ids: set[int] = field(default_factory=set)
    skipped: list[dict[str, str]] = field(default_factory=list)  # one record per bad video

    def __repr__(self) -> str:  # a notebook shows a convert's Summary: not thousands of category ids or skip records
        counts = ", ".join(f"{name}={getattr(self, name)}" for name in _COUNTS)
        ids = sorted(self.category_ids)
        shown = repr(set(ids)) if len(ids) <= 8 else f"<{len(ids)} ids: {', '.join(map(str, ids[:8]))}, ...>"
        names = [str(record.get("video")) for record in self.skipped[:3]] + ["..."] * (len(self.skipped) > 3)
        skipped = f"<{len(self.skipped)} videos: {', '.join(names)}>" if self.skipped else "[]"
        return f"Stats({counts}, category_ids={shown}, skipped={skipped})"

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

    def skip(self, video: str, error: SourceError, *, source_file: bool = True) -> None:
        """Note a bad video, as :func:`bad_video` records it (``source_file``: False for a writer's refusal)."""
        self.skipped.append(bad_video(video, error, source_file=source_file))

    def merge(self, other: Stats) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.category_ids |= other.category_ids
        self.skipped.extend(other.skipped)

    def counts(self) -> dict[str, int]:
        """The counts a ``--json`` report gives, by the names it gives them."""
        return {name: getattr(self, name) for name in REPORTED}

    def to_dict(self) -> dict[str, Any]:
        return {**{n: getattr(self, n) for n in _COUNTS}, "category_ids": sorted(self.category_ids), "skipped": self.skipped}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stats:
        """The inverse of :meth:`to_dict`; ``ValueError`` for anything of another shape."""
        counts = [data.get(n) for n in _COUNTS]
        ids, skipped = data.get("category_ids"), data.get("skipped")
        if not all(type(c) is int and c >= 0 for c in counts) or not isinstance(ids, list) or not isinstance(skipped, list):
            raise ValueError("not a Stats record")
        if not all(type(i) is int for i in ids) or not all(_is_skip_record(r) for r in skipped):
            raise ValueError("not a Stats record")
        return cls(*counts, category_ids=set(ids), skipped=list(skipped))

    def line(self) -> str:
        """``2 videos, 10 frames (4 annotated, 1 empty), 3 objects, 7 masks``: one of each is said in the singular."""
        text = (
            f"{_counted(self.videos, 'video')}, {_counted(self.frames, 'frame')} ({self.annotated_frames} annotated, "
            f"{self.empty_frames} empty), {_counted(self.objects, 'object')}, {_counted(self.masks, 'mask')}"
        )
        count = len(self.skipped)
        return text + (f", {_counted(count, 'video')} skipped" if count else "")


def bad_video(video: str | None, error: SourceError, *, source_file: bool = True) -> dict[str, str | None]:
    """A line of ``errors.jsonl`` (and an error of ``validate --json``): ``video``, ``file``, ``error``, ``message``.

    ``error`` is one of :data:`ERROR_KINDS`, the documented words a script can branch on (docs/cli.md), not the
    exception's class, which is how the code is arranged. ``file`` is absolute, so the record reads the same
    whatever folder the run started in and however the source was named; for a writer's refusal it is what the
    writer names, the video (or a frame of it) as it is, no path to make absolute.
    """
    path = absolute_path(error.path) if source_file else error.path
    return {"video": video, "file": path, "error": SOURCE if source_file else WRITER, "message": error.cause}


def _counted(count: int, word: str) -> str:
    """``1 video``, ``2 videos``, ``0 videos``."""
    return f"{count} {word}{'' if count == 1 else 's'}"
