"""SA-V train masklet JSON (``sav_XXXXXX_manual.json``/``_auto.json``): parsed and checked against its video."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from ...codecs import rle
from ...codecs.video import check_plain_file
from ...errors import SourceError
from ...model import (
    MAX_OBJECT_ID,
    Mask,
    ObjectInfo,
    check_metadata,
)
from . import spec


@dataclass(frozen=True)
class Masklets:
    """One masklet JSON, checked: its size, frame count, the video's own fields, and per object its id, metadata and RLEs."""

    path: str
    kind: str
    width: int
    height: int
    frames: int
    ids: tuple[int, ...]
    metadata: tuple[tuple[tuple[str, Any], ...], ...]
    masklet: list
    stability: list | None
    video_fields: tuple[tuple[str, Any], ...] = ()


def _whole(value: Any, what: str) -> int:
    """SA-V stores counts and sizes as floats (``483.0``): an integer, however written (never NaN or Infinity,
    which Python's json reads)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} is {value!r}, not a whole number")
    if value != int(value) or value < 0:
        raise ValueError(f"{what} is {value!r}, not a whole number")
    return int(value)


def parse_masklets(path: str) -> Masklets:
    check_plain_file(path)
    try:
        with open(path, "rb") as file:
            doc = json.loads(file.read())
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise SourceError(path, f"not JSON: {exc}") from None
    try:
        return _checked(path, doc)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        detail = f"no {exc} field" if isinstance(exc, KeyError) else str(exc)
        raise SourceError(path, detail) from None


def _checked(path: str, doc: Any) -> Masklets:
    if not isinstance(doc, dict):
        raise TypeError("an SA-V masklet file is a JSON object")
    width, height = _whole(doc["video_width"], "video_width"), _whole(doc["video_height"], "video_height")
    frames = _whole(doc["video_frame_count"], "video_frame_count")
    if frames == 0:  # no annotated frame would bound masklet_num, and a video has frames
        raise ValueError("video_frame_count is 0: a video has frames")
    masklet = doc["masklet"]
    count = _whole(doc["masklet_num"], "masklet_num")
    if not isinstance(masklet, list):
        raise TypeError("masklet is not a list over annotated frames")
    expected = math.ceil(frames / spec.ANNOTATE_EVERY)
    if len(masklet) != expected:
        raise ValueError(
            f"masklet lists {len(masklet)} annotated frames; a {frames}-frame video annotated every {spec.ANNOTATE_EVERY}th "
            f"frame has {expected}"
        )
    for k, objects in enumerate(masklet):
        if not isinstance(objects, list) or len(objects) != count:
            raise ValueError(
                f"masklet frame {k} lists {len(objects) if isinstance(objects, list) else objects!r} objects; "
                f"masklet_num is {count}"
            )
    fields = {}
    for name in spec.OBJECT_FIELDS:
        if name in doc:
            values = doc[name]
            if not isinstance(values, list) or len(values) != count:
                raise ValueError(f"{name} does not list masklet_num ({count}) values")
            fields[name] = values
    ids = tuple(_whole(i, "a masklet_id") for i in fields.get("masklet_id", range(count)))
    if any(i > MAX_OBJECT_ID for i in ids):
        raise ValueError(f"masklet_id {list(ids)} are not integers 0 to {MAX_OBJECT_ID}")
    if list(ids) != sorted(set(ids)):  # given twice (-r masklets=both written back) or out of order: by position
        ids = tuple(range(count))
    metadata = tuple(tuple((name, values[j]) for name, values in fields.items()) for j in range(count))
    stability = doc.get(spec.STABILITY)
    if isinstance(stability, list) and stability and all(isinstance(row, list) for row in stability):
        if len(stability) != len(masklet) or any(len(row) != count for row in stability):
            raise ValueError(f"{spec.STABILITY} is not annotated frames x masklet_num")
    else:
        stability = None  # manual files: null per object
    kind = "auto" if path.endswith("_auto.json") else "manual"
    return Masklets(path, kind, width, height, frames, ids, metadata, masklet, stability, video_fields(doc))


def video_fields(doc: dict) -> tuple[tuple[str, Any], ...]:
    """The per-video fields (``video_duration``, ``video_environment``, ...) in the file's order: every top-level
    JSON scalar the form does not hold elsewhere. A list or object there is no SA-V field and is not kept."""
    fields = tuple(
        (key, value)
        for key, value in doc.items()
        if key not in spec.STRUCTURE and (value is None or isinstance(value, (str, int, float)))
    )
    check_metadata("the video's fields", fields)  # a ValueError (NaN, say) names the file in parse_masklets
    return fields


def objects_and_masks(parsed: list[Masklets]) -> tuple[list[ObjectInfo], list[list[Mask]]]:
    """Objects of every file read (later files' ids after the earlier ones'), and each annotated frame's masks."""
    objects: list[ObjectInfo] = []
    per_frame: list[list[Mask]] = [[] for _ in parsed[0].masklet]
    start = 0
    for doc in parsed:
        ids = doc.ids if start == 0 else tuple(start + j for j in range(len(doc.ids)))
        for j, object_id in enumerate(ids):
            try:
                objects.append(ObjectInfo(object_id, metadata=doc.metadata[j]))
            except ValueError as exc:
                raise SourceError(doc.path, str(exc)) from None
        for k, frame in enumerate(doc.masklet):
            for j, entry in enumerate(frame):
                mask = _mask(doc, k, j, ids[j], entry)
                if mask is not None:
                    per_frame[k].append(mask)
        start = max(o.object_id for o in objects) + 1 if objects else 0
    objects.sort(key=lambda o: o.object_id)
    for masks in per_frame:
        masks.sort(key=lambda m: m.object_id)
    return objects, per_frame


def _mask(doc: Masklets, k: int, j: int, object_id: int, entry: Any) -> Mask | None:
    """Object j's mask on annotated frame k; None for an empty RLE (SA-V's "not visible")."""
    where = f"masklet frame {k} object {j}"
    if not isinstance(entry, dict) or not isinstance(entry.get("counts"), str):
        raise SourceError(doc.path, f"{where}: not a compressed COCO RLE ({type(entry).__name__})")
    size = entry.get("size")
    if not isinstance(size, list) or [_size(v) for v in size] != [doc.height, doc.width]:
        raise SourceError(doc.path, f"{where}: RLE size {size} differs from the video's [{doc.height}, {doc.width}]")
    try:
        counts, area, bbox = rle.measure_canonical(entry["counts"], doc.height, doc.width)
    except rle.RleError as exc:
        raise SourceError(doc.path, f"{where}: {exc}") from None
    if area == 0:
        return None
    values = ()
    if doc.stability is not None and dict(doc.metadata[j]).get("masklet_type") != "manual":  # SA-V scores auto masklets
        score = doc.stability[k][j]
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise SourceError(doc.path, f"{spec.STABILITY}[{k}][{j}] is {score!r}, not a number")
        values = ((spec.STABILITY_VALUE, score),)
    try:
        return Mask(object_id, counts, area, bbox, values)
    except ValueError as exc:  # a score JSON cannot hold (NaN, Infinity: Python's json reads them)
        raise SourceError(doc.path, f"{where}: {exc}") from None


def _size(value: Any) -> int | None:
    try:
        return _whole(value, "size")
    except ValueError:
        return None
