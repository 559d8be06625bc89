"""What "lossless" means, as data: a video's content, independent of where it was read from.

Two reads of the same data give equal fingerprints. Category ids may be renumbered by a
format, so categories are compared by name. An object's ``frames`` list is metadata only
YouTube-VOS carries; a writer for it may fill it in, so it is compared only when the
source had it. The same holds for a palette: a source without one (a JSON of RLE) written to a
palette layout gets that layout's default.
"""

from __future__ import annotations

import hashlib

from ..model import DatasetInfo, Video
from ..sources import imagefiles

__all__ = ["ALL_METADATA", "assert_same_content", "fingerprint"]

#: Metadata a format may keep: category names, YouTube-VOS object frame lists, object metadata (SA-V's masklet fields,
#: LVOS's frame_range), video metadata (SA-V's video fields, BURST's sequence fields) and the masks' per-frame values
#: (stability scores, BURST's score and is_gt). Values are compared with their types (1, 1.0 and True differ).
ALL_METADATA = frozenset({"categories", "object_frames", "object_metadata", "video_metadata", "mask_values"})


def _typed(pairs: tuple) -> tuple:
    """Metadata pairs with each value's type: JSON's 1, 1.0 and true are three values."""
    return tuple((key, type(value).__name__, value) for key, value in pairs)


def fingerprint(video: Video, info: DatasetInfo, *, images: bool = True) -> dict:
    """Everything a lossless format must give back, as plain data (JPEGs as their sha256)."""
    names = {c.id: c.name for c in info.categories}
    return {
        "name": video.name,
        "size": (video.width, video.height),
        "encoding": video.encoding,
        "palette": video.palette,
        "metadata": _typed(video.metadata),
        "objects": [(o.object_id, names.get(o.category_id), o.frames, _typed(o.metadata)) for o in video.objects],
        "frames": [
            (
                f.index,
                f.file_name,
                None if f.masks is None else [(m.object_id, m.counts, m.area, m.bbox, _typed(m.values)) for m in f.masks.objects],
                None if f.masks is None or f.masks.void is None else f.masks.void.counts,
                hashlib.sha256(imagefiles.read_bytes(f.image)).hexdigest() if images and f.image is not None else None,
            )
            for f in video.frames
        ],
    }


def assert_same_content(expected: dict, actual: dict, *, kept: frozenset[str] = ALL_METADATA) -> None:
    """Exact equality of everything the output format can hold; AssertionError naming the first difference.

    ``kept`` names the metadata the format keeps (:data:`ALL_METADATA`): "categories" (category names),
    "object_frames" (YouTube-VOS frame lists; a format that keeps them may also fill them in where the
    source had none), "object_metadata", "video_metadata" and "mask_values".
    """

    def trimmed(objects: list, *, source: list | None = None) -> list:
        result = []
        for position, (object_id, category, frames, metadata) in enumerate(objects):
            if "object_frames" not in kept or (source is not None and source[position][2] is None):
                frames = None  # not kept, or filled in by the writer where the source had none
            metadata = metadata if "object_metadata" in kept else ()
            result.append((object_id, category if "categories" in kept else None, frames, metadata))
        return result

    def without_values(frames: list) -> list:
        if "mask_values" in kept:
            return frames
        return [(*f[:2], None if f[2] is None else [(*m[:4], ()) for m in f[2]], *f[3:]) for f in frames]

    if len(actual["objects"]) != len(expected["objects"]):
        raise AssertionError(f"{expected['name']}: objects {actual['objects']} differ from the source's {expected['objects']}")
    want = {**expected, "objects": trimmed(expected["objects"]), "frames": without_values(expected["frames"])}
    got = {
        **actual,
        "objects": trimmed(actual["objects"], source=expected["objects"]),
        "frames": without_values(actual["frames"]),
    }
    if "video_metadata" not in kept:
        want["metadata"] = got["metadata"] = ()
    if expected["palette"] is None:  # a source without one (JSON, RLE): a palette layout writes its own default
        got["palette"] = None
    if got != want:
        raise AssertionError(f"{expected['name']}: {first_difference(want, got)}")


_FRAME_PARTS = ("index", "file name", "object masks", "void", "image sha256")


def first_difference(want: dict, got: dict) -> str:
    """Where two fingerprints first differ, in words a plugin author can act on."""
    for key in want:
        if key != "frames" and want.get(key) != got.get(key):
            return f"{key} is {got.get(key)!r}, expected {want.get(key)!r}"
    frames_want, frames_got = want["frames"], got["frames"]
    if len(frames_want) != len(frames_got):
        return f"{len(frames_got)} frames, expected {len(frames_want)}"
    for frame_want, frame_got in zip(frames_want, frames_got):
        for part, value_want, value_got in zip(_FRAME_PARTS, frame_want, frame_got):
            if value_want != value_got:
                return f"frame {frame_want[1]}: {part} is {value_got!r}, expected {value_want!r}"
    return "fingerprints differ"
