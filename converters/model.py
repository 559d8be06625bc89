"""The intermediate form every reader produces and every writer consumes.

Small frozen dataclasses and nothing else: no I/O, no imports of the rest of vosconv.
A ``Video`` is one independent, picklable unit of work.

Two kinds of "no mask" stay distinguishable:

* a frame with ``masks is None`` has no annotation file at all (unannotated);
* a frame whose ``masks.objects`` lacks an object id is annotated, and the object
  is absent from it (an annotated frame may hold no object at all: an empty frame).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

#: Pixel value of the void / ignore region (DAVIS 2017) in index-valued masks.
VOID_ID = 255


class MaskEncoding(str, enum.Enum):
    """How the source PNGs stored object ids, so writers can store them back the same way."""

    PALETTE = "palette"  # mode P: pixel value = object id, 255 = void
    GRAYSCALE = "grayscale"  # mode L: pixel value = object id, 255 = void
    BINARY = "binary"  # mode L with values 0/255 (DAVIS 2016): 255 is object 1, no void


@dataclass(frozen=True)
class Mask:
    """One object's pixels in one frame as COCO compressed RLE.

    ``counts`` is byte-identical to ``pycocotools.mask.encode`` (decoded to ASCII) on the
    binary mask; ``area`` is the pixel count and ``bbox`` is ``[x, y, w, h]`` like
    ``pycocotools.mask.toBbox``. The RLE ``size`` is the video's ``(height, width)``.
    """

    object_id: int
    counts: str
    area: int
    bbox: tuple[int, int, int, int]


@dataclass(frozen=True)
class FrameMasks:
    """Everything one annotation file said: the objects present, sorted by id, and the void region."""

    objects: tuple[Mask, ...] = ()
    void: Mask | None = None

    def __post_init__(self) -> None:
        ids = [m.object_id for m in self.objects]
        if ids != sorted(set(ids)):
            raise ValueError(f"object ids must be unique and sorted, got {ids}")
        if VOID_ID in ids:
            raise ValueError("the void region belongs in FrameMasks.void, not among the objects")

    def get(self, object_id: int) -> Mask | None:
        """The object's mask in this frame, or None when it is absent."""
        for mask in self.objects:
            if mask.object_id == object_id:
                return mask
        return None


@dataclass(frozen=True)
class ImageRef:
    """Where a frame's image bytes live: a file on disk, a member of an archive, or the bytes themselves.

    With ``archive`` (the path of a .zip/.tar/.tar.gz), ``path`` is the member name inside it.
    Reading is done by :mod:`converters.imagefiles`; this record only says where.
    """

    path: str | None = None
    data: bytes | None = field(default=None, repr=False)
    archive: str | None = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise ValueError("an ImageRef holds exactly one of path or data")
        if self.archive is not None and self.path is None:
            raise ValueError("an ImageRef in an archive needs the member's path")

    @property
    def location(self) -> str:
        """What error messages name: the file, or ``<archive>/<member>``."""
        if self.archive is not None:
            return f"{self.archive}/{self.path}"
        return self.path if self.path is not None else "<image bytes>"


@dataclass(frozen=True)
class Frame:
    """One frame of a video, at position ``index`` in ``Video.frames``.

    ``file_name`` is the source image file name (``"00005.jpg"``); its stem names the
    annotation file. ``image`` is None when the source has no image for it (a COCO JSON
    converted without its JPEGs). ``masks`` is None when the frame has no annotation file.
    """

    index: int
    file_name: str
    image: ImageRef | None = None
    masks: FrameMasks | None = None

    @property
    def stem(self) -> str:
        return self.file_name.rsplit(".", 1)[0]

    @property
    def annotated(self) -> bool:
        return self.masks is not None


@dataclass(frozen=True)
class ObjectInfo:
    """An object of a video: its original id (the pixel value), category, and listed frames.

    ``frames`` keeps a YouTube-VOS ``meta.json`` frame list verbatim (it may disagree
    with the masks); None when the source had no such list.
    """

    object_id: int
    category_id: int | None = None
    frames: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    supercategory: str | None = None


@dataclass(frozen=True)
class Video:
    """A video: its frames in order, its objects, and how its masks were stored."""

    name: str
    width: int
    height: int
    frames: tuple[Frame, ...]
    objects: tuple[ObjectInfo, ...] = ()
    encoding: MaskEncoding = MaskEncoding.PALETTE
    palette: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _check_file_name("video name", self.name)
        for position, frame in enumerate(self.frames):
            if frame.index != position:
                raise ValueError(f"{self.name}: frame {frame.file_name} has index {frame.index}, expected {position}")
            _check_file_name(f"{self.name}: frame file name", frame.file_name)
        ids = [o.object_id for o in self.objects]
        if ids != sorted(set(ids)):
            raise ValueError(f"{self.name}: object ids must be unique and sorted, got {ids}")
        known = set(ids)
        for frame in self.frames:
            if frame.masks is not None:
                unknown = {m.object_id for m in frame.masks.objects} - known
                if unknown:
                    raise ValueError(f"{self.name}/{frame.file_name}: objects {sorted(unknown)} missing from Video.objects")

    @property
    def size(self) -> tuple[int, int]:
        """The RLE ``size``: ``(height, width)``."""
        return (self.height, self.width)

    @property
    def annotated_indices(self) -> tuple[int, ...]:
        return tuple(f.index for f in self.frames if f.masks is not None)

    @property
    def has_void(self) -> bool:
        return any(f.masks is not None and f.masks.void is not None for f in self.frames)


def _check_file_name(what: str, name: str) -> None:
    """Video and frame names become folder and file names in the folder layouts: one path
    component each, never a way out of the output folder (``..``, ``/``) or an empty name."""
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise ValueError(f"{what} {name!r} cannot be a file or folder name (empty, '.', '..', or holding '/', '\\' or NUL)")


@dataclass(frozen=True)
class DatasetInfo:
    """What a reader knows about the whole source before reading any video.

    ``image_root`` is the folder that ``"<video>/<file_name>"`` paths are relative to, when
    there is one. ``attributes`` keeps layout details a writer may restore (DAVIS resolution
    and year, for instance).
    """

    source_format: str
    split: str | None = None
    categories: tuple[Category, ...] = ()
    image_root: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()

    def attribute(self, key: str, default: str | None = None) -> str | None:
        return dict(self.attributes).get(key, default)
