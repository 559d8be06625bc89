"""What the shard formats keep of an object beyond its id: its metadata and per-frame values (SA-V's masklet fields).

Stored in each object's record only where the source had them, so the records of other sources
stay as they were; read back strictly (:class:`converters.records.Record`), naming the field.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ...model import Frame, ObjectInfo, Video
from ...records import Record, shown


def object_record(obj: ObjectInfo, video: Video) -> dict[str, Any]:
    """An object's record; ``metadata`` and ``frame_values`` (``[[frame index, [[key, value], ...]], ...]``)
    only where the source had them, so the records of other sources stay as they were."""
    record: dict[str, Any] = {
        "object_id": obj.object_id,
        "category_id": obj.category_id,
        "frames": None if obj.frames is None else list(obj.frames),
    }
    if obj.metadata:
        record["metadata"] = [list(pair) for pair in obj.metadata]
    values = [
        [f.index, [list(pair) for pair in mask.values]]
        for f in video.frames
        if f.masks is not None and (mask := f.masks.get(obj.object_id)) is not None and mask.values
    ]
    if values:
        record["frame_values"] = values
    return record


def pairs(record: Record, key: str) -> tuple[tuple[str, Any], ...]:
    """``[[key, value], ...]`` (metadata, per-frame values): keys are text, values JSON scalars."""
    pairs = []
    for index, pair in enumerate(record.list(key, [], nullable=True) or ()):
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            record.fail(f"expected a [key, value] pair, got {shown(pair)}", f"{key}/{index}")
        if not (pair[1] is None or isinstance(pair[1], (str, int, float, bool))):
            record.fail(f"expected a JSON scalar value, got {shown(pair[1])}", f"{key}/{index}")
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def with_frame_values(video: Video, record: Record) -> Video:
    """The video with each mask's per-frame values put back from the object records' ``frame_values``."""
    values = {}
    for o in record.records("objects"):
        object_id = o.int("object_id")
        for index, entry in enumerate(o.list("frame_values", [], nullable=True) or ()):
            item = Record(
                {"frame": entry[0], "values": entry[1]} if isinstance(entry, list) and len(entry) == 2 else {},
                o.path,
                o.where(f"frame_values/{index}"),
                o.context,
            )
            values[object_id, item.int("frame")] = pairs(item, "values")
    if not values:
        return video
    frames = []
    for frame in video.frames:
        if frame.masks is not None and any((m.object_id, frame.index) in values for m in frame.masks.objects):
            masks = tuple(
                dataclasses.replace(m, values=values.get((m.object_id, frame.index), m.values)) for m in frame.masks.objects
            )
            frame = Frame(frame.index, frame.file_name, frame.image, dataclasses.replace(frame.masks, objects=masks))
        frames.append(frame)
    return dataclasses.replace(video, frames=tuple(frames))
