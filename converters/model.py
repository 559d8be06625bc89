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
#: The largest frames taken: a JPEG's limit a side, and 268 megapixels (a 16384 x 16384 label map,
#: what a writer holds for one frame). Beyond that a size is a corrupt record, not a video.
MAX_SIDE = 65535
MAX_PIXELS = 1 << 28


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
        if ids and not 0 < ids[0] <= ids[-1] < VOID_ID:
            raise ValueError(f"object ids must be 1 to {VOID_ID - 1} (pixel values of an 8-bit mask), got {ids}")
        if self.void is not None and self.void.object_id != VOID_ID:
            raise ValueError(f"the void region's id is {VOID_ID}, got {self.void.object_id}")

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
    Reading is done by :mod:`converters.sources.imagefiles`; this record only says where.
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

    def __post_init__(self) -> None:
        if not 0 < self.object_id < VOID_ID:
            raise ValueError(f"object id {self.object_id} is not 1 to {VOID_ID - 1} (a pixel value of an 8-bit mask)")
        if self.category_id is not None:
            _check_category_id(self.category_id)


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    supercategory: str | None = None

    def __post_init__(self) -> None:
        _check_category_id(self.id)


def _check_category_id(value: object) -> None:
    """Category ids are integers that fit the int32 columns of the shard formats."""
    if isinstance(value, bool) or not isinstance(value, int) or not -(1 << 31) <= value < 1 << 31:
        raise ValueError(f"category id {value!r} is not an integer of 32 bits")


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
        check_file_name("video name", self.name)
        check_frame_size(self.name, self.width, self.height)
        if self.palette is not None and (len(self.palette) % 3 or not 3 <= len(self.palette) <= 768):
            raise ValueError(f"{self.name}: a palette is 1 to 256 RGB triplets, got {len(self.palette)} bytes")
        stems = set()
        for position, frame in enumerate(self.frames):
            if frame.index != position:
                raise ValueError(f"{self.name}: frame {frame.file_name} has index {frame.index}, expected {position}")
            check_file_name(f"{self.name}: frame file name", frame.file_name)
            if frame.stem in stems:  # both would be written to one <stem>.png
                raise ValueError(f"{self.name}: two frames named {frame.stem}.*")
            stems.add(frame.stem)
        if self.encoding is MaskEncoding.BINARY and (
            any(o.object_id != 1 for o in self.objects) or self.has_void
        ):  # one 0/255 PNG holds one object and no void
            raise ValueError(f"{self.name}: a binary (0/255) video holds object 1 alone and no void")
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


def check_frame_size(what: str, width: int, height: int) -> None:
    """1 to 65535 pixels a side and at most 2^28 in all: what PNG, the RLE codec and memory allow."""
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= MAX_PIXELS):
        raise ValueError(
            f"{what}: frame size {width}x{height} is out of range (1 to {MAX_SIDE} a side, at most {MAX_PIXELS} pixels)"
        )


def check_file_name(what: str, name: str) -> None:
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
