"""Dataset statistics from the masks' RLE ``area`` and ``bbox`` alone: no image or mask is decoded.

The figures are those of the MOSE paper's dataset comparison (Ding et al., ICCV 2023): videos,
frames, annotated frames, objects, masks, mean objects per video, mean video length and
categories, plus what the paper argues makes a dataset hard:

* **Disappearance and reappearance.** Over a video's *annotated* frames in order (an
  unannotated frame says nothing), an object *disappears* each time it is visible in one
  annotated frame and absent from the next, and *reappears* each time it is absent from one
  and visible in the next after having been seen. A disappearing object vanishes at least
  once; a reappearing object comes back at least once. Rates are per object (of all objects).
  On splits annotated only where an object first appears (YouTube-VOS ``valid``, a
  ``--first-appearance`` set), absence means "not annotated". The masks alone cannot tell such
  a split from a fully annotated one whose objects each show in one annotated frame, so the
  summary's ``first_appearances_only`` is true only where the set says so too (the ``derived``
  record of ``--first-appearance``, or objects listing frames to predict that carry no
  annotation, as YouTube-VOS valid's ``meta.json`` does), and then no disappearance or
  reappearance is counted; false where the masks show absence is absence (an object visible
  in two annotated frames, an empty annotated frame) or no video has two annotated frames;
  None (unknown) otherwise, absence then counted as absence.
* **Occlusion: BOR.** MOSE's bounding-box occlusion rate of a frame with boxes ``b_1..b_N`` is
  ``|U_{i<j} (b_i n b_j)| / |U_i b_i|``: the area covered by two or more boxes over the area
  covered by any box, in whole pixels (a ``[x, y, w, h]`` box covers ``w * h`` pixels). A frame
  with one object has BOR 0. mBOR is the mean over the annotated frames holding at least
  one visible object (a frame without objects has no BOR).
* **Object size.** Each mask's area relative to its frame, and COCO's buckets on the absolute
  pixel area as SA-V reports them: small ``< 32**2``, medium ``< 96**2``, large otherwise.
* Objects first visible after the video's first annotated frame (the reference frame of
  semi-supervised VOS); objects never visible; empty annotated frames; void pixels.

An object is visible in a frame when its mask there has pixels (``area > 0``). Videos are
summarised in parallel like a conversion (any :mod:`converters.run.executors` executor) and
gathered in the reader's order, so two runs give identical figures whatever the workers.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import itertools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError, OutputError
from ..model import DatasetInfo, Frame, Video
from ..reader import Reader, VideoRef
from ..run.derive import ATTRIBUTE as DERIVED
from ..run.executors import Executor, check_executor, make_executor
from .atomic import write_atomically

#: COCO's area buckets (pixels): small below 32**2, medium below 96**2, large from there.
SMALL_AREA = 32**2
MEDIUM_AREA = 96**2

__all__ = ["COLUMNS", "MEDIUM_AREA", "SMALL_AREA", "DatasetStats", "ObjectTrack", "VideoStats", "bor", "summarise", "video_stats"]


@dataclass(frozen=True)
class ObjectTrack:
    """Where one object is visible: the frame indices (positions in ``Video.frames``) where it has pixels."""

    object_id: int
    category: str | None
    visible: tuple[int, ...]
    disappearances: int = 0
    reappearances: int = 0


@dataclass(frozen=True)
class VideoStats:
    """The figures of one video; the per-video table holds :meth:`row` of each."""

    name: str
    width: int
    height: int
    frames: int
    annotated_frames: int
    empty_frames: int  # annotated frames without any visible object
    objects: int
    masks: int  # (object, frame) pairs with pixels
    categories: tuple[str, ...]  # of the video's objects, sorted, without repeats
    objects_never_visible: int
    objects_appearing_late: int  # first visible after the first annotated frame
    disappearing_objects: int
    reappearing_objects: int
    disappearances: int
    reappearances: int
    bor_frames: int  # annotated frames with at least one visible object: those that have a BOR
    occluded_frames: int  # frames whose BOR is above 0
    bor_sum: float  # of the bor_frames' BOR, summed in frame order
    small_masks: int
    medium_masks: int
    large_masks: int
    void_masks: int
    void_pixels: int
    annotated: tuple[int, ...]  # indices of the annotated frames
    tracks: tuple[ObjectTrack, ...]  # one per object, by id
    mask_areas: tuple[int, ...]  # every mask's pixel count, in frame then object order
    lists_frames_to_predict: bool = False  # an object lists an unannotated frame after it is first seen (YouTube-VOS valid)

    @property
    def mean_bor(self) -> float:
        return self.bor_sum / self.bor_frames if self.bor_frames else 0.0

    @property
    def frame_pixels(self) -> int:
        return self.width * self.height

    @property
    def mean_relative_area(self) -> float:
        return math.fsum(self.mask_areas) / (len(self.mask_areas) * self.frame_pixels) if self.mask_areas else 0.0

    def __repr__(self) -> str:  # not every mask's area: a long video has thousands
        return f"VideoStats(name={self.name!r}, frames={self.frames}, objects={self.objects}, masks={self.masks})"

    def row(self) -> dict[str, Any]:
        """The per-video table's row (:data:`COLUMNS`): plain numbers, and the categories as one text."""
        named = {"video": self.name, "categories": ";".join(self.categories)}
        return {column: named[column] if column in named else getattr(self, column) for column in COLUMNS}


#: The per-video table's columns, in order.
COLUMNS = (
    "video",
    "width",
    "height",
    "frames",
    "annotated_frames",
    "empty_frames",
    "objects",
    "masks",
    "categories",
    "objects_never_visible",
    "objects_appearing_late",
    "disappearing_objects",
    "reappearing_objects",
    "disappearances",
    "reappearances",
    "mean_bor",
    "occluded_frames",
    "bor_frames",
    "mean_relative_area",
    "small_masks",
    "medium_masks",
    "large_masks",
    "void_masks",
    "void_pixels",
)


@dataclass(frozen=True)
class DatasetStats:
    """The figures of a whole source: its videos' :class:`VideoStats` and their totals (:meth:`summary`)."""

    source: str
    format: str
    split: str | None
    videos: tuple[VideoStats, ...]
    first_appearances_only: bool | None = False  # annotated only where each object first appears; None: unknown

    def __repr__(self) -> str:  # not every video's figures: summary() and rows() give those
        return (
            f"DatasetStats(source={self.source!r}, format={self.format!r}, split={self.split!r}, "
            f"videos=<{len(self.videos)} videos, {self.total('frames')} frames>)"
        )

    def total(self, name: str) -> int:
        return sum(getattr(v, name) for v in self.videos)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted({c for v in self.videos for c in v.categories}))

    def summary(self) -> dict[str, Any]:
        """The dataset's table, in a fixed order: counts are exact, rates are fractions (0 to 1)."""
        count = len(self.videos)
        objects, masks = self.total("objects"), self.total("masks")
        annotated_pixels = sum(v.annotated_frames * v.frame_pixels for v in self.videos)
        relative = sorted(a / v.frame_pixels for v in self.videos for a in v.mask_areas)
        bor_frames = self.total("bor_frames")
        return {
            "source": self.source,
            "format": self.format,
            "split": self.split,
            "videos": count,
            "frames": self.total("frames"),
            "annotated_frames": self.total("annotated_frames"),
            "empty_frames": self.total("empty_frames"),
            "objects": objects,
            "masks": masks,
            "mean_objects_per_video": _ratio(objects, count),
            "mean_video_length": _ratio(self.total("frames"), count),
            "categories": list(self.categories),
            "first_appearances_only": self.first_appearances_only,
            "objects_never_visible": self.total("objects_never_visible"),
            "objects_appearing_late": self.total("objects_appearing_late"),
            "disappearing_objects": self.total("disappearing_objects"),
            "disappearance_rate": _ratio(self.total("disappearing_objects"), objects),
            "reappearing_objects": self.total("reappearing_objects"),
            "reappearance_rate": _ratio(self.total("reappearing_objects"), objects),
            "disappearances": self.total("disappearances"),
            "reappearances": self.total("reappearances"),
            "mean_bor": _ratio(math.fsum(v.bor_sum for v in self.videos), bor_frames),
            "occluded_frames": self.total("occluded_frames"),
            "bor_frames": bor_frames,
            "mean_relative_area": _ratio(math.fsum(relative), len(relative)),
            "median_relative_area": float(np.median(relative)) if relative else 0.0,
            "small_masks": self.total("small_masks"),
            "medium_masks": self.total("medium_masks"),
            "large_masks": self.total("large_masks"),
            "void_masks": self.total("void_masks"),
            "void_pixels": self.total("void_pixels"),
            "void_fraction": _ratio(self.total("void_pixels"), annotated_pixels),
        }

    def rows(self) -> list[dict[str, Any]]:
        return [v.row() for v in self.videos]

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "videos": self.rows()}

    def write_table(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """The per-video table as ``.csv`` or ``.parquet`` (by the suffix), written whole or not at all; an existing
        file is replaced only with ``overwrite``, as ``--per-video`` needs ``--overwrite``."""
        from ..api import as_flag

        overwrite = as_flag("overwrite", overwrite)  # overwrite="false", a flag's text, replaced the file
        if os.path.lexists(path) and not overwrite:
            raise OutputError(f"{os.fspath(path)} already exists; pass overwrite=True to replace it")
        return write_table(self.rows(), path)


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


# --------------------------------------------------------------------------------------------
# One video


def bor(boxes: Sequence[tuple[int, int, int, int]]) -> float:
    """MOSE's bounding-box occlusion rate of one frame's ``[x, y, w, h]`` boxes (0 for fewer than two).

    The pairwise intersections' edges are edges of the boxes, so on the grid the boxes' edges
    cut the plane into, each cell is covered by a whole number of boxes: BOR is the area of the
    cells covered twice or more over the area of those covered at all. Exact, O(N**2) cells.
    """
    boxes = [b for b in boxes if b[2] > 0 and b[3] > 0]
    if len(boxes) < 2:
        return 0.0
    xs = np.unique([v for x, _, w, _ in boxes for v in (x, x + w)])
    ys = np.unique([v for _, y, _, h in boxes for v in (y, y + h)])
    cover = np.zeros((len(ys), len(xs)), np.int32)  # a difference array over the cells
    for x, y, w, h in boxes:
        x0, x1 = np.searchsorted(xs, (x, x + w))
        y0, y1 = np.searchsorted(ys, (y, y + h))
        cover[y0, x0] += 1
        cover[y0, x1] -= 1
        cover[y1, x0] -= 1
        cover[y1, x1] += 1
    cover = cover.cumsum(0).cumsum(1)[:-1, :-1]
    cells = np.outer(np.diff(ys), np.diff(xs))
    union = int(cells[cover >= 1].sum())
    return int(cells[cover >= 2].sum()) / union if union else 0.0


def _visible(frame: Frame) -> list:
    return [m for m in frame.masks.objects if m.area > 0] if frame.masks is not None else []


def _track_figures(visible: Sequence[bool]) -> tuple[int, int]:
    """Disappearances and reappearances over one object's visibility in the annotated frames, in order."""
    gone = back = 0
    seen = False
    for before, after in itertools.pairwise(visible):
        gone += before and not after
        back += seen and not before and after
        seen = seen or before
    return gone, back


def video_stats(video: Video, categories: Mapping[int, str] | None = None) -> VideoStats:
    """The figures of one video, from its masks' area and bbox (``categories``: id to name)."""
    categories = categories or {}
    annotated = [f for f in video.frames if f.masks is not None]
    visible = {f.index: _visible(f) for f in annotated}
    present = [{m.object_id for m in visible[f.index]} for f in annotated]
    tracks, gone, back, appearing_late, never = [], [], [], 0, 0
    first_annotated = annotated[0].index if annotated else 0
    unannotated = {f.stem: f.index for f in video.frames if f.masks is None}
    to_predict = False
    for info in video.objects:
        shown = [info.object_id in ids for ids in present]
        seen = [f.index for f, here in zip(annotated, shown) if here]
        to_predict = to_predict or bool(seen and any(unannotated.get(s, -1) > seen[0] for s in info.frames or ()))
        out, returns = _track_figures(shown)
        gone.append(out)
        back.append(returns)
        never += not seen
        appearing_late += bool(seen) and seen[0] > first_annotated
        category = categories.get(info.category_id, str(info.category_id)) if info.category_id is not None else None
        tracks.append(ObjectTrack(info.object_id, category, tuple(seen), out, returns))
    rates = [bor([m.bbox for m in visible[f.index]]) for f in annotated if visible[f.index]]
    areas = tuple(m.area for f in annotated for m in visible[f.index])
    voids = [f.masks.void for f in annotated if f.masks.void is not None]
    return VideoStats(
        name=video.name,
        width=video.width,
        height=video.height,
        frames=len(video.frames),
        annotated_frames=len(annotated),
        empty_frames=sum(not visible[f.index] for f in annotated),
        objects=len(video.objects),
        masks=len(areas),
        categories=tuple(sorted({t.category for t in tracks if t.category is not None})),
        objects_never_visible=never,
        objects_appearing_late=appearing_late,
        disappearing_objects=sum(1 for n in gone if n),
        reappearing_objects=sum(1 for n in back if n),
        disappearances=sum(gone),
        reappearances=sum(back),
        bor_frames=len(rates),
        occluded_frames=sum(1 for r in rates if r > 0),
        bor_sum=math.fsum(rates),
        small_masks=sum(1 for a in areas if a < SMALL_AREA),
        medium_masks=sum(1 for a in areas if SMALL_AREA <= a < MEDIUM_AREA),
        large_masks=sum(1 for a in areas if a >= MEDIUM_AREA),
        void_masks=sum(1 for v in voids if v.area > 0),
        void_pixels=sum(v.area for v in voids),
        annotated=tuple(f.index for f in annotated),
        tracks=tuple(tracks),
        mask_areas=areas,
        lists_frames_to_predict=to_predict,
    )


def _read_and_summarise(ref: VideoRef, *, reader: Reader, categories: Mapping[int, str]) -> VideoStats:
    """One unit of work for an executor: read one video (no image is opened) and summarise it."""
    return video_stats(reader.read_video(ref), categories)


# --------------------------------------------------------------------------------------------
# A whole source


def summarise(
    reader: Reader, *, workers: int = 1, executor: Executor | None = None, progress: bool | None = False
) -> DatasetStats:
    """Every video of ``reader``, summarised in parallel (``executor``, else ``workers`` local processes)."""
    from tqdm import tqdm

    check_executor(executor)
    executor = executor or make_executor(workers)
    info = reader.info()
    refs = reader.list_videos()
    names = {c.id: c.name for c in info.categories}
    task = functools.partial(_read_and_summarise, reader=reader, categories=names)
    disable = None if progress is None else not progress  # None: only when stderr is a terminal
    with tqdm(total=len(refs), unit="video", disable=disable, leave=False, dynamic_ncols=True) as bar:
        videos = executor.run(task, refs, on_done=lambda _i, _v: bar.update(1))
    only = first_appearances_only(videos, recorded=recorded_first_appearances(info))
    if only:
        videos = [_without_absences(v) for v in videos]
    return DatasetStats(str(reader.source), reader.name, info.split, tuple(videos), first_appearances_only=only)


def first_appearances_only(videos: Sequence[VideoStats], *, recorded: bool = False) -> bool | None:
    """Whether the videos are annotated only where each object first appears (YouTube-VOS ``valid``), where an object
    missing from a later annotated frame is not annotated in it, not gone; None where that cannot be known.

    False where the masks show absence is absence: an object visible in two annotated frames, or an empty annotated
    frame. True where they agree and the set says so: ``recorded`` (a ``--first-appearance`` set), or an object
    listing frames to predict it on that carry no annotation. Else masks with no object seen twice are what a fully
    annotated set whose objects each show once gives too: None, unless no video has two annotated frames (then no
    absence can be counted either way: False).
    """
    if any(v.empty_frames or any(len(t.visible) > 1 for t in v.tracks) for v in videos):
        return False
    if recorded or any(v.lists_frames_to_predict for v in videos):
        return True
    return None if any(v.annotated_frames > 1 for v in videos) else False


def recorded_first_appearances(info: DatasetInfo) -> bool:
    """Whether the set's ``derived`` record (:mod:`converters.run.derive`), or one it was derived from, took first
    appearances: later steps keep each object on one annotated frame."""
    text = dict(info.attributes).get(DERIVED)
    try:
        record = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        return False
    for _ in range(64):  # a chain of derived sets; a record is untrusted input, its depth bounded
        if not isinstance(record, dict):
            return False
        if record.get("first_appearance") is True:
            return True
        origin = record.get("from")
        record = origin.get(DERIVED) if isinstance(origin, dict) else None
    return False


def _without_absences(video: VideoStats) -> VideoStats:
    """``video`` with no disappearance or reappearance: where only first appearances are annotated none is known."""
    tracks = tuple(dataclasses.replace(t, disappearances=0, reappearances=0) for t in video.tracks)
    zero = dict.fromkeys(("disappearing_objects", "reappearing_objects", "disappearances", "reappearances"), 0)
    return dataclasses.replace(video, tracks=tracks, **zero)


# --------------------------------------------------------------------------------------------
# The per-video table


TABLE_SUFFIXES = (".csv", ".parquet")


def check_table_name(path: Path) -> str:
    """The table's suffix, ``.csv`` or ``.parquet``; anything else is an OptionError."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise OptionError("--per-video", f"{path}: give a .csv or .parquet file name")
    return suffix


def write_table(rows: list[dict[str, Any]], path: str | os.PathLike) -> Path:
    """``rows`` as CSV or Parquet (by ``path``'s suffix) through a temporary file renamed into place."""
    path = Path(path)
    suffix = check_table_name(path)

    def write(tmp: Path) -> None:
        if suffix == ".csv":
            text = io.StringIO()
            writer = csv.DictWriter(text, COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
            tmp.write_text(text.getvalue())
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table({name: [row[name] for row in rows] for name in COLUMNS}, schema=_schema(pa))
            pq.write_table(table, tmp)

    return write_atomically(path, write)


def _cell(value: Any) -> Any:
    """Floats in CSV as Python's shortest round-trip text, so the file reads back to the same numbers."""
    return repr(value) if isinstance(value, float) else value


def _schema(pa):
    types = {"video": pa.string(), "categories": pa.string(), "mean_bor": pa.float64(), "mean_relative_area": pa.float64()}
    return pa.schema([(name, types.get(name, pa.int64())) for name in COLUMNS])
