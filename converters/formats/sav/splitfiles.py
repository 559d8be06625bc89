"""SA-V val/test files checked as the folder layouts' are (the video list's names, masks against their frames' size
from the PNG header before inflating, frames whole and of one size), and a video made of them."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import numpy as np

from ...codecs import png, rle
from ...codecs.video import check_plain_file
from ...errors import SourceError
from ...model import (
    MAX_OBJECT_ID,
    Frame,
    FrameMasks,
    ImageRef,
    Mask,
    MaskEncoding,
    ObjectInfo,
    Video,
    check_file_name,
    check_frame_size,
)
from ...records import Record, shown
from ...sources import imagefiles
from ..folders.entries import read_list
from ..sharded import manifest as shards
from ..sharded.objects import with_frame_values
from .files import SavVideoRef, listdir


def listed_names(path: Path) -> set[str]:
    """The video names of a ``sav_val.txt``: each a folder name, never a way out of ``JPEGImages_24fps/``."""
    check_plain_file(str(path))
    names = set()
    for number, name in read_list(path):
        try:
            check_file_name(f"line {number}:", name)
        except ValueError as exc:
            raise SourceError(path, str(exc)) from None
        names.add(name)
    return names


def decode_png(path: Path, size: tuple[int, int] | None = None) -> tuple[np.ndarray, object]:
    """The mask's values; when the video's ``(height, width)`` is known, checked from the header before inflating."""
    check_plain_file(str(path))
    try:
        data = path.read_bytes()
        header = png.read_header(data)
        if size is None:  # no frame to hold it to: at most the largest frame there may be
            check_frame_size("mask", header.width, header.height)
        elif (header.height, header.width) != size:
            raise SourceError(path, f"mask is {header.width}x{header.height} but its frame is {size[1]}x{size[0]}")
        return png.decode(data)
    except ValueError as exc:  # a PngError, or a size out of range
        raise SourceError(path, str(exc)) from None
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None


def frame_size(images: str, names: list[str], record: dict | None) -> tuple[int, int] | None:
    """``(height, width)`` of the video's frame files, each probed whole (a JPEG cut short fails here) and all of one
    size, as the folder layouts' frames are; None when it has none (written with images=false)."""
    flags = record.get("images") if record is not None else None
    present = names if not isinstance(flags, list) else [n for n, shown in zip(names, flags) if shown]
    size = None
    for name in present:
        path = os.path.join(images, name)
        width, height = imagefiles.probe_image(path)
        if size is None:
            size = (height, width)
        elif (height, width) != size:
            raise SourceError(path, f"frame is {width}x{height}, other frames of the video are {size[1]}x{size[0]}")
    return size


def object_masks(
    annotations: Path, images: str, names: list[str], size: tuple[int, int] | None
) -> tuple[dict[int, list[Mask]], list[int], tuple[int, int] | None]:
    """A video's ``<object:03d>/<frame>.png`` binary masks: the masks by frame index (a frame with a PNG is annotated,
    an empty PNG too), the object ids in order, and the video's size (the first mask's when it has no frames)."""
    stems = {n.rsplit(".", 1)[0]: i for i, n in enumerate(names)}
    per_frame: dict[int, list[Mask]] = {}
    object_ids = []
    for folder in listdir(annotations) if annotations.is_dir() else []:
        if not (folder.isascii() and folder.isdigit()) or int(folder) > MAX_OBJECT_ID:
            raise SourceError(annotations / folder, "object folders are named by object id (000, 001, ...)")
        object_id = int(folder)
        object_ids.append(object_id)
        for png_name in listdir(annotations / folder):
            path = annotations / folder / png_name
            stem = png_name.rsplit(".", 1)[0]
            if not png_name.endswith(".png") or stem not in stems:
                raise SourceError(path, f"not a mask of a frame in {images}")
            label, _ = decode_png(path, size)
            if size is None:  # no frames (images=false): the first mask's size
                size = label.shape
            if label.shape != size:
                raise SourceError(path, f"a {label.shape[1]}x{label.shape[0]} mask in a {size[1]}x{size[0]} video")
            found = rle.encode(label)
            if len(found) > 1:
                raise SourceError(path, f"not a binary mask: values {[0, *(m.object_id for m in found)]}")
            per_frame.setdefault(stems[stem], [])
            if found:
                per_frame[stems[stem]].append(Mask(object_id, found[0].counts, found[0].area, found[0].bbox))
    return per_frame, sorted(object_ids), size


def check_annotated(record: dict, per_frame: dict[int, list[Mask]], frames: int, path: Path) -> None:
    """vosconv's record lists the annotated frames (empty ones too), which the video takes instead of the frames
    with PNGs: a frame with masks that it leaves out would lose them in silence, so it is an error naming the record."""
    listed = record.get("annotated")
    if not isinstance(listed, list) or not all(type(i) is int and 0 <= i < frames for i in listed):
        raise SourceError(path, f"annotated: expected a list of frame indices below {frames}, got {shown(listed)}")
    left_out = sorted(set(per_frame) - set(listed))
    if left_out:
        raise SourceError(path, f"annotated leaves out frames {left_out[:10]}, which have masks")


def split_video(
    ref: SavVideoRef,
    names: list[str],
    per_frame: dict[int, list[Mask]],
    object_ids: list[int],
    size: tuple[int, int],
    record: dict | None,
) -> Video:
    """The video from its PNG masks, with what vosconv's record adds (void, empty annotated frames, metadata)."""
    where = Path(ref.annotations)
    try:
        height, width = size
        annotated = set(per_frame) if record is None else {int(i) for i in record["annotated"]}
        void = {} if record is None else {int(i): c for i, c in record.get("void", {}).items()}
        encoding = MaskEncoding.PALETTE if record is None else MaskEncoding(record["encoding"])
        palette = None if record is None or record.get("palette") is None else base64.b64decode(record["palette"])
        kept = None if record is None else Record({"objects": record["objects"], "encoding": encoding.value}, where)
        objects = tuple(ObjectInfo(i) for i in object_ids) if kept is None else shards.parse_video_record(kept)[0]
        frames = []
        for index, name in enumerate(names):
            masks = None
            if index in annotated:
                void_mask = None
                if index in void:
                    counts, area, bbox = rle.measure_canonical(void[index], height, width)
                    void_mask = Mask(255, counts, area, bbox) if area else None  # all zero: no void
                masks = FrameMasks(tuple(sorted(per_frame.get(index, ()), key=lambda m: m.object_id)), void_mask)
            has_image = record is None or record.get("images") is None or bool(record["images"][index])
            image = ImageRef(path=os.path.join(ref.images, name)) if has_image else None
            frames.append(Frame(index, name, image, masks))
        metadata = () if kept is None else shards.video_metadata(Record({"metadata": record.get("metadata")}, where))
        video = Video(ref.name, width, height, tuple(frames), objects, encoding, palette, metadata)
        return video if kept is None else with_frame_values(video, kept)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise SourceError(where, f"{type(exc).__name__}: {exc}") from None
