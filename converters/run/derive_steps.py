"""The steps of a derived set, each one video in and one video out: frames kept every K-th, masks only where each
object first appears, frames and masks shrunk (masks by nearest neighbour, exactly; frames re-encoded)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from ..errors import SourceError
from ..model import FRAME_RANGE, FRAME_STATISTICS, PIXEL_STATISTICS, Frame, FrameMasks, ImageRef, Mask, ObjectInfo, Video

#: Quality of the JPEGs ``max_side`` re-encodes (Pillow, 4:2:0): high, as the source's were already lossy.
JPEG_QUALITY = 95

#: What a step that changes which frames are annotated drops (:data:`converters.model.FRAME_STATISTICS`), and what a
#: resize drops (:data:`converters.model.PIXEL_STATISTICS`): numbers the derived set would contradict.
OF_THE_FRAMES = frozenset(FRAME_STATISTICS)
OF_THE_PIXELS = frozenset(PIXEL_STATISTICS)


def without_stale(video: Video, keys: frozenset[str]) -> Video:
    """The video without the metadata ``keys`` (its own and its objects'): what a step made untrue."""

    def kept(metadata: tuple) -> tuple:
        return tuple(pair for pair in metadata if pair[0] not in keys)

    objects = tuple(dataclasses.replace(o, metadata=kept(o.metadata)) for o in video.objects)
    return dataclasses.replace(video, objects=objects, metadata=kept(video.metadata))


def step_frames(video: Video, step: int) -> Video:
    """Frames at positions 0, step, 2*step, ...; an object with masks in the source but none left is dropped.

    Objects the source declares without any mask (a ``meta.json`` entry) stay, and their listed
    frames keep only those still present. Statistics the source took over its frames are dropped (:data:`OF_THE_FRAMES`);
    frame ranges are taken over the frames kept (:func:`_range_over`).
    """
    frames = tuple(dataclasses.replace(frame, index=i) for i, frame in enumerate(video.frames[::step]))
    kept_stems = {frame.stem for frame in frames}
    objects = tuple(
        dataclasses.replace(o, frames=None if o.frames is None else tuple(f for f in o.frames if f in kept_stems))
        for o in _still_there(video.objects, video.frames, frames)
    )
    if len(frames) == len(video.frames):
        return dataclasses.replace(video, frames=frames, objects=objects)
    before, after = _frame_numbers(video.frames), _frame_numbers(frames)
    objects = tuple(_range_over(o, before, after) for o in objects)
    return without_stale(dataclasses.replace(video, frames=frames, objects=objects), OF_THE_FRAMES)


def _frame_numbers(frames: Iterable[Frame]) -> list[int] | None:
    """Each frame's number, its name read as one (``00000011.jpg`` is 11); None when a name is not digits."""
    stems = [frame.stem for frame in frames]
    return [int(stem) for stem in stems] if all(stem.isascii() and stem.isdigit() for stem in stems) else None


def _range_over(obj: ObjectInfo, before: list[int] | None, after: list[int] | None) -> ObjectInfo:
    """The object with its frame range (:data:`converters.model.FRAME_RANGE`) taken over the frames ``after`` a step.

    ``start`` and ``end`` become the first and last frame kept from ``start`` to ``end``; ``frame_nums`` the number
    of frames kept between them, where the source's counted its frames there (``before``), else it is unknown what
    it counted and it is dropped. Each keeps its form (a string of digits stays one). Without a frame kept in the
    range, or numbers to compare, the fields are dropped: nothing left to describe.
    """
    start_key, end_key, count_key = FRAME_RANGE
    values = dict(obj.metadata)
    if not any(key in values for key in FRAME_RANGE):
        return obj
    start, end, count = (_as_number(values.get(key)) for key in FRAME_RANGE)
    new: dict[str, object] = {}
    if start is not None and end is not None and before is not None and after is not None:
        inside = [number for number in after if start <= number <= end]
        if inside:
            new[start_key], new[end_key] = inside[0], inside[-1]
            if count is not None and count == sum(start <= number <= end for number in before):
                new[count_key] = len(inside)
    metadata = tuple(
        (key, _in_the_form_of(values[key], new[key]) if key in new else value)
        for key, value in obj.metadata
        if key not in FRAME_RANGE or key in new
    )
    return dataclasses.replace(obj, metadata=metadata)


def _as_number(value: object) -> int | None:
    """A frame range field as LVOS's evaluation kit reads it (``int()``: a number or a string of digits), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return int(value)
    except (ValueError, OverflowError):
        return None


def _in_the_form_of(original: object, number: object) -> object:
    return str(number) if isinstance(original, str) else number


def _still_there(objects: Iterable[ObjectInfo], before: Iterable[Frame], after: Iterable[Frame]) -> tuple[ObjectInfo, ...]:
    """The objects that keep a mask ``after`` a step, or that had none ``before`` it (declared without one):
    a step does not leave behind an object with masks in the source and none in the derived set."""
    had_masks, has_masks = _ids_with_masks(before), _ids_with_masks(after)
    return tuple(o for o in objects if o.object_id in has_masks or o.object_id not in had_masks)


def _ids_with_masks(frames: Iterable[Frame]) -> set[int]:
    return {m.object_id for f in frames if f.masks is not None for m in f.masks.objects}


def first_appearances(video: Video) -> Video:
    """Each object's mask on the first frame it appears in only; a frame where no object first appears is unannotated.

    A frame that keeps masks keeps its void region too (the region not to be scored there). Each object that
    appears lists as its frames those annotated in the source (or listed for it) from its first appearance on:
    what a YouTube-VOS valid ``meta.json`` lists, the frames to predict it on (trackers save their union, and
    take the first as its template); an object that never appears keeps what the source listed.
    """
    first: dict[int, int] = {}
    frames = []
    for position, frame in enumerate(video.frames):
        masks = None
        if frame.masks is not None:
            new = tuple(m for m in frame.masks.objects if m.object_id not in first)
            first.update((m.object_id, position) for m in new)
            if new:
                masks = FrameMasks(new, frame.masks.void)
        frames.append(dataclasses.replace(frame, masks=masks))
    objects = tuple(
        o if o.object_id not in first else _frames_to_predict(o, video.frames, first[o.object_id]) for o in video.objects
    )
    derived = dataclasses.replace(video, frames=tuple(frames), objects=objects)
    return derived if derived.frames == video.frames else without_stale(derived, OF_THE_FRAMES)


def _frames_to_predict(obj: ObjectInfo, frames: tuple[Frame, ...], first: int) -> ObjectInfo:
    """The object listing the frames from position ``first`` on that the source annotated or listed for it: a
    source that is already a valid split (masks on first appearances, ``meta.json`` listing the rest) keeps its
    lists, so the step changes nothing done twice."""
    listed = set(obj.frames or ())
    stems = tuple(f.stem for f in frames[first:] if f.masks is not None or f.stem in listed)
    return dataclasses.replace(obj, frames=stems)


def shrunk_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """``(width, height)`` scaled so the longer side is ``max_side`` (rounded half up, at least 1); unchanged when it fits."""
    longest = max(width, height)
    if longest <= max_side:
        return width, height

    def scaled(side: int) -> int:
        return max(1, (2 * side * max_side + longest) // (2 * longest))

    return scaled(width), scaled(height)


def nearest_indices(source: int, target: int) -> np.ndarray:
    """Source row (or column) of each target one, sampling pixel centres: ``floor((i + 0.5) * source / target)``.

    Exact integer arithmetic, as PyTorch's ``interpolate(mode="nearest-exact")``; Pillow's and OpenCV's
    fixed-point nearest may take the neighbouring source pixel where a centre falls exactly half-way.
    """
    return ((2 * np.arange(target, dtype=np.int64) + 1) * source) // (2 * target)


def shrink(video: Video, max_side: int) -> Video:
    """The video at most ``max_side`` pixels a side: masks by nearest neighbour (exact RLE), frames re-encoded.

    An object whose every mask is too thin for the new size is dropped, as a frame step drops one stepped over.
    """
    width, height = shrunk_size(video.width, video.height, max_side)
    if (width, height) == (video.width, video.height):
        return video
    rows, cols = nearest_indices(video.height, height), nearest_indices(video.width, width)
    frames = []
    for frame in video.frames:
        masks = frame.masks
        if masks is not None:
            objects = tuple(m for m in (_shrink_mask(video, m, rows, cols) for m in masks.objects) if m is not None)
            void = None if masks.void is None else _shrink_mask(video, masks.void, rows, cols)
            masks = FrameMasks(objects, void)
        image = None if frame.image is None else _shrink_image(frame.image, frame.file_name, width, height)
        frames.append(dataclasses.replace(frame, masks=masks, image=image))
    objects = _still_there(video.objects, video.frames, frames)  # one too thin for the new size everywhere is gone
    resized = dataclasses.replace(video, width=width, height=height, frames=tuple(frames), objects=objects)
    return without_stale(resized, OF_THE_PIXELS)


def _shrink_mask(video: Video, mask: Mask, rows: np.ndarray, cols: np.ndarray) -> Mask | None:
    """One mask resized by nearest neighbour and encoded again; None when no pixel of it is left."""
    from ..codecs import rle

    try:
        full = rle.decode([(1, mask.counts)], video.height, video.width)
    except rle.RleError as exc:
        raise SourceError(f"video {video.name!r}: object {mask.object_id}: {exc}") from None  # no file: the video's own
    found = rle.encode(np.ascontiguousarray(full[rows[:, None], cols[None, :]]))
    if not found:
        return None
    small = found[0]
    return Mask(mask.object_id, small.counts, small.area, small.bbox, mask.values)


def _shrink_image(image: ImageRef, file_name: str, width: int, height: int) -> ImageRef:
    """The frame to be resized (Lanczos) and encoded again in its own format, JPEG for .jpg/.jpeg and PNG for .png,
    when the writer reads it (:func:`converters.sources.imagefiles.read_bytes`): no frame is held a video at a time."""
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if suffix not in ("jpg", "jpeg", "png"):
        raise SourceError(image.location, "--max-side re-encodes JPEG and PNG frames only")
    form = "png" if suffix == "png" else "jpeg"
    return dataclasses.replace(image, resize=(width, height), resize_format=form, quality=JPEG_QUALITY)
