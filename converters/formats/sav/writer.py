"""SA-V's val/test layout from any source: ``JPEGImages_24fps/``, ``Annotations_6fps/<video>/<object:03d>/``, a video list.

One binary PNG per object per annotated frame holds what a palette PNG cannot: any object id
(the folder name) and overlapping objects. Every object gets a PNG on every annotated frame
(all zero where it is absent), as in SA-V. The PNGs' foreground value is the source's when it
was SA-V (0/255 in SA-V's files, 0/1 from SAM 2's inference), else 255. A hidden
``.vosconv/<video>.json`` keeps what the PNGs cannot say (void, palette, annotated frames
without objects, object metadata), so vosconv reads its output back exactly; SA-V's own tools
never list hidden files at that level. ``json=true`` also writes SAM 2's masklet JSON per video
(``Annotations_json/<video>_manual.json``).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...codecs import png, rle
from ...errors import SourceError
from ...model import NAME_MAX, DatasetInfo, Mask, Video
from ...sources import imagefiles
from ...version import __version__
from ...writer import Shard, ShardResult, Writer, checksum_of
from ..folders.exclusive import NewEntries
from ..folders.marker import changed_files, foreign_entries, marked_format, refuse_foreign, with_files
from ..folders.spec import MARKER, WRITTEN_BY
from ..folders.writer import check_listable_name, check_readable_names
from ..sharded import manifest as shards
from . import spec

OUTPUT = "output"
#: The PNGs' foreground value for sources that do not say (SA-V's val/test files use 0/255).
DEFAULT_FOREGROUND = 255


@dataclass(frozen=True)
class SavWriterOptions:
    json: bool = False  # also write SAM 2's masklet JSON per video (Annotations_json/<video>_manual.json)
    images: bool = True  # write each frame's JPEG; false: annotations only


def _dumps(value: Any) -> bytes:
    return (json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


class SavWriter(Writer):
    """SA-V's val/test layout: ``JPEGImages_24fps/``, ``Annotations_6fps/<video>/<object:03d>/`` and a video list."""

    name = "sav"
    Options = SavWriterOptions
    output_kind = "directory"
    finalize_reads_checksums = False  # a checksum per frame and object: the run need not hold them
    finalize_reads_files = False  # nor their names: the marker's listing walks the output

    @classmethod
    def owns(cls, path: Path) -> bool:
        """A folder with this writer's marker holding nothing but what it puts at its root."""
        return cls._marked_here(path) and not foreign_entries(path, cls._own_names(path)) and changed_files(path) is None

    @classmethod
    def lookalike(cls, path: Path) -> str | None:
        """This writer's output into which the user put files of their own."""
        if not cls._marked_here(path):
            return None
        own = cls._own_names(path)
        return refuse_foreign(path, own) if foreign_entries(path, own) else changed_files(path)

    @classmethod
    def _marked_here(cls, path: Path) -> bool:
        return not path.is_symlink() and path.is_dir() and marked_format(path) == cls.name

    @staticmethod
    def _own_names(path: Path) -> frozenset[str]:
        lists = {entry.name for entry in os.scandir(path) if spec.VIDEO_LIST.fullmatch(entry.name)}
        return frozenset({spec.IMAGES, spec.ANNOTATIONS, spec.JSON_FOLDER, spec.SIDECAR, MARKER, "errors.jsonl", *lists})

    def check(self, video: Video) -> None:
        check_listable_name(video, "SA-V video list (sav_val.txt, sav_test.txt)")
        check_readable_names(video, self.name)
        _check_names_fit(video, self.options.json)
        if self.options.json:
            _json_step(video)  # a SourceError now, not after the PNGs

    def write_shard(self, videos: Iterable[Video], shard: Shard, staging: Path, info: DatasetInfo) -> ShardResult:
        foreground = int(info.attribute("foreground") or DEFAULT_FOREGROUND)
        written: list[tuple[str, int, str]] = []
        names = []
        made = NewEntries(staging / OUTPUT)  # every video folder and file new: a name the file system folds is refused
        for video in videos:
            try:
                self._write_video(video, made, foreground, written)
            except BaseException:  # none of the shard left: the run may write it again without this video (--on-error skip)
                made.discard()
                raise
            names.append(video.name)
        return ShardResult(shard.index, tuple(n for n, _, _ in written), {"videos": names}, tuple(written))

    def _write_video(self, video: Video, made: NewEntries, foreground: int, written: list[tuple[str, int, str]]) -> None:
        own: set[str] = set()  # the video's own folders made so far

        def folder(name: str) -> str:
            """The video's own folder ``name`` (``<kind>/<video>``, ``<kind>/<video>/<object>``), made new the first time:
            one already there is another video's, under a name the file system folds into this one."""
            if name not in own:
                parent = name.rpartition("/")[0]
                if "/" in parent:
                    folder(parent)
                made.folder(name, video.name, video_folder="/" not in parent)
                own.add(name)
            return name

        def put(where: str, folder: str, name: str, data: bytes, *, shared: bool = False) -> None:
            made.file(f"{folder}/{name}", data, where, video_file=shared)
            written.append(checksum_of(f"{OUTPUT}/{folder}/{name}", data))

        for frame in video.frames:
            if frame.image is not None and self.options.images:
                data = imagefiles.read_bytes(frame.image)
                put(f"{video.name}/{frame.file_name}", folder(f"{spec.IMAGES}/{video.name}"), frame.file_name, data)
        empty = None
        label = np.zeros(video.size, np.uint8)
        for frame in video.frames:
            if frame.masks is None:
                continue
            for obj in video.objects:
                mask = frame.masks.get(obj.object_id)
                if mask is None:
                    if empty is None:
                        empty = png.encode(np.zeros(video.size, np.uint8), "L")
                    data = empty
                else:
                    data = png.encode(rle.decode([(foreground, mask.counts)], video.height, video.width, out=label), "L")
                where, objects = f"{video.name}/{frame.file_name}", folder(f"{spec.ANNOTATIONS}/{video.name}")
                put(where, folder(f"{objects}/{obj.object_id:03d}"), f"{frame.stem}.png", data)
        for shared in (spec.SIDECAR, *([spec.JSON_FOLDER] if self.options.json else [])):  # every video's files in one
            (made.root / shared).mkdir(parents=True, exist_ok=True)
        put(video.name, spec.SIDECAR, f"{video.name}.json", _dumps(sidecar(video, self.options.images)), shared=True)
        if self.options.json:
            put(video.name, spec.JSON_FOLDER, f"{video.name}_manual.json", _dumps(masklet_json(video)), shared=True)

    _listed_as: tuple[str, str] | None = None  # the source's split, and the list named for the layout instead

    def notes(self, results: Sequence[ShardResult]) -> list[str]:
        """The video list's name, when it is not the source's split (the layout has val and test lists only)."""
        if self._listed_as is None:
            return []
        split, listed = self._listed_as
        return [f"the {split} split's videos listed in {listed}, as the SA-V val/test layout names its lists (the split is kept)"]

    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        root = staging / OUTPUT
        (root / spec.ANNOTATIONS).mkdir(parents=True, exist_ok=True)  # the layout's mark, even with no object in it
        names = [name for result in results for name in result.facts["videos"]]
        split = info.split if info.split in ("val", "test") else "val"
        (root / f"sav_{split}.txt").write_text("".join(f"{n}\n" for n in names))
        self._listed_as = None if info.split in (None, split) else (info.split, f"sav_{split}.txt")
        (root / spec.SIDECAR).mkdir(exist_ok=True)
        record = {
            "split": info.split,
            "categories": [{"id": c.id, "name": c.name, "supercategory": c.supercategory} for c in info.categories],
            "attributes": dict(info.attributes),
        }
        (root / spec.SIDECAR / f"{spec.DATASET_RECORD}.json").write_bytes(_dumps(record))
        marker = {"format": self.name, "version": __version__, "written_by": WRITTEN_BY}
        (root / MARKER).write_bytes(_dumps(with_files(root, marker)))  # last: it records every file written before it
        return root


def _check_names_fit(video: Video, json: bool) -> None:
    """The file names made of the video's name (a name may be 255 bytes, the most a file system takes) must fit too:
    else writing them fails, and a write failure stops the run instead of skipping the video."""
    own = [f"{spec.SIDECAR}/{video.name}.json", *([f"{spec.JSON_FOLDER}/{video.name}_manual.json"] if json else [])]
    for path in own:
        size = len(path.rpartition("/")[2].encode("utf-8"))
        if size > NAME_MAX:
            raise SourceError(video.name, f"SA-V's {path} would be {size} bytes long, over the {NAME_MAX} a file name can be")


def sidecar(video: Video, images: bool = True) -> dict:
    """What the PNGs cannot say: annotated frames, void, encoding, palette, the objects' records."""
    record = shards.video_record(video)
    return {
        "width": video.width,
        "height": video.height,
        "frames": [f.file_name for f in video.frames],
        "images": [images and f.image is not None for f in video.frames],
        "annotated": list(video.annotated_indices),
        "void": {str(f.index): f.masks.void.counts for f in video.frames if f.masks is not None and f.masks.void is not None},
        "encoding": video.encoding.value,
        "palette": None if video.palette is None else base64.b64encode(video.palette).decode("ascii"),
        "objects": record["objects"],
        **({"metadata": record["metadata"]} if video.metadata else {}),
    }


def _json_step(video: Video) -> int:
    """Every how many frames the annotated ones come (their numbers must be 0, s, 2s, ... with s dividing 24), for SAM 2's
    ``JSONSegmentLoader``, which finds frame ``n``'s masks at ``masklet[n // ann_every]``."""
    numbers = [int(f.stem) for f in video.frames if f.masks is not None]
    step = numbers[1] - numbers[0] if len(numbers) > 1 else spec.ANNOTATE_EVERY
    if step <= 0 or spec.FRAMES_FPS % step or numbers != list(range(0, step * len(numbers), step)):
        raise SourceError(
            video.name,
            "its annotated frames are not frames 0, s, 2s, ... with s dividing 24, where SAM 2's JSON loader finds them; "
            "write json=false",
        )
    misnamed = next((f for f in video.frames if f.file_name != spec.frame_name(int(f.stem))), None)
    if misnamed is not None:  # JSONRawDataset lists the frames by int(stem), then opens f"{n:05d}.jpg"
        raise SourceError(
            f"{video.name}/{misnamed.file_name}",
            f"SAM 2's JSON loader opens frame {int(misnamed.stem)} as {spec.frame_name(int(misnamed.stem))}, "
            "so it would not find this frame; write json=false",
        )
    return step


def masklet_json(video: Video) -> dict:
    """SAM 2's masklet JSON: objects by position (``masklet_id`` keeps the source ids), an empty RLE where one is absent.

    Holds no null; ``fps`` at the top says the annotation rate, so SAM 2's ``JSONSegmentLoader`` knows ``ann_every``.
    """
    step = _json_step(video)
    size = [video.height, video.width]
    empty = rle.counts_to_string([video.height * video.width])
    annotated = [f for f in video.frames if f.masks is not None]
    masks = [[f.masks.get(o.object_id) for o in video.objects] for f in annotated]
    doc: dict[str, Any] = {"fps": spec.FRAMES_FPS // step, **_video_header(video)}
    doc["masklet"] = [[{"size": size, "counts": empty if m is None else m.counts} for m in row] for row in masks]
    doc["masklet_id"] = [o.get("masklet_id", o.object_id) for o in video.objects]
    for name in spec.OBJECT_FIELDS[1:]:
        values = [o.get(name) for o in video.objects]
        if video.objects and all(v is not None for v in values):
            doc[name] = values
    if any(m is not None and _stability(m) is not None for row in masks for m in row):
        doc[spec.STABILITY] = [[1.0 if m is None else _stability(m, 1.0) for m in row] for row in masks]
    doc["masklet_num"] = len(video.objects)
    return doc


def _video_header(video: Video) -> dict[str, Any]:
    """SA-V's per-video fields in its order: the source's values where it had them (its metadata), else what the
    video itself says (its name, size, and frame count and duration when every frame is here); then any other
    metadata the source had."""
    given = {key: value for key, value in video.metadata if key not in spec.STRUCTURE}
    known: dict[str, Any] = {"video_id": video.name, "video_height": float(video.height), "video_width": float(video.width)}
    numbers = [int(f.stem) for f in video.frames]
    if numbers == list(range(len(numbers))):  # every frame is here: the count is known
        known["video_frame_count"] = float(len(numbers))
        known["video_duration"] = len(numbers) / spec.FRAMES_FPS
    known["video_resolution"] = float(video.height * video.width)
    header = {key: given.get(key, known.get(key)) for key in spec.VIDEO_FIELDS if key in given or key in known}
    header.update((key, value) for key, value in given.items() if key not in header)
    return header


def _stability(mask: Mask, default: float | None = None) -> float | None:
    return dict(mask.values).get(spec.STABILITY_VALUE, default)
