"""Check a source without converting it: every error, plus notes on what is legal but worth knowing.

Each video is read exactly as a conversion would read it (every mask decoded, every
frame header checked), so a source that validates cleanly converts cleanly. Errors are
collected per video instead of stopping at the first one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from ..errors import SourceError
from ..model import Video
from ..reader import Reader, VideoRef
from .executors import make_executor
from .stats import bad_video


@dataclass
class Report:
    source: str
    format: str
    split: str | None = None  # as info and stats say it: None for a source read whole
    videos: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "split": self.split,
            "videos": self.videos,
            "ok": self.ok,
            "errors": self.errors,
            "notes": self.notes,
        }


def _error(video: str | None, error: SourceError) -> dict[str, Any]:
    """As ``errors.jsonl`` records a skipped video: what validate finds, a conversion fails or skips on."""
    return bad_video(video, error)


def notes_for(video: Video) -> list[dict[str, Any]]:
    """What is legal but worth knowing about one video."""
    notes = []
    # a frame holding the void alone has no object too, as the summary, stats and --empty-frames-list count it
    empty = [f.stem for f in video.frames if f.masks is not None and not f.masks.objects]
    if empty:
        notes.append(
            {
                "video": video.name,
                "note": "empty-frames",
                "message": f"{_n(len(empty), 'annotated frame')} {'has' if len(empty) == 1 else 'have'} no object",
                "frames": empty,
            }
        )
    seen = {m.object_id for f in video.frames if f.masks is not None for m in f.masks.objects}
    unseen = [o.object_id for o in video.objects if o.object_id not in seen]
    if unseen:
        notes.append(
            {
                "video": video.name,
                "note": "unseen-objects",
                "message": f"objects {unseen} are listed but never visible",
                "objects": unseen,
            }
        )
    if len(video.frames) == 1:
        notes.append({"video": video.name, "note": "single-frame", "message": "the video has a single frame"})
    return notes


def _check(ref: VideoRef, *, reader: Reader) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    try:
        video = reader.read_video(ref)
    except SourceError as error:
        return _error(ref.name, error), []
    return None, notes_for(video)


def validate(reader: Reader, *, workers: int = 1, progress: bool | None = None) -> Report:
    """Read every video of ``reader``'s source and report errors and notes."""
    from .progress import progress_bar as _progress

    report = Report(str(reader.source), reader.name)
    try:
        report.split = reader.info().split
        refs = reader.list_videos()
        damaged = reader.check_integrity()
    except SourceError as error:
        report.errors.append(_error(None, error))
        return report
    report.errors += [_error(None, error) for error in damaged]
    report.videos = len(refs)
    broken = {str(error.path) for error in damaged}
    refs = [ref for ref in refs if not broken.intersection(ref.files())]  # already reported; reading them proves nothing
    bar = _progress(len(refs), progress)
    try:
        results = make_executor(workers).run(functools.partial(_check, reader=reader), refs, on_done=lambda i, r: bar.update(1))
    finally:
        bar.close()
    for error, notes in results:
        if error is not None:
            report.errors.append(error)
        report.notes.extend(notes)
    return report


def format_report(report: Report) -> str:
    split = f", split {report.split}" if report.split is not None else ""
    lines = [
        f"{report.source} ({report.format}{split}): "
        f"{_n(report.videos, 'video')}, {_n(len(report.errors), 'error')}, {_n(len(report.notes), 'note')}",
    ]
    lines += [f"error  {e['video'] or '-'}: {e['file']}: {e['message']}" for e in report.errors]
    lines += [f"note   {n['video']}: {n['message']}" + _frames(n) for n in report.notes]
    return "\n".join(lines)


def _frames(note: dict[str, Any]) -> str:
    frames = note.get("frames")
    if not frames:
        return ""
    shown = ", ".join(frames[:8])
    return f" ({shown}{', ...' if len(frames) > 8 else ''})"


def _n(count: int, word: str) -> str:
    """``1 video``, ``2 videos``, ``0 videos``."""
    return f"{count} {word}{'' if count == 1 else 's'}"
