"""The intermediate form every reader produces and every writer consumes.

Small frozen dataclasses and nothing else: no I/O, no imports of the rest of vosconv.
A ``Video`` is one independent, picklable unit of work.

Two kinds of "no mask" stay distinguishable:

* a frame with ``masks is None`` has no annotation file at all (unannotated);
* a frame whose ``masks.objects`` lacks an object id is annotated, and the object
  is absent from it (an annotated frame may hold no object at all: an empty frame).
  A mask has pixels: an absent object has no mask (not an empty one), as every format reads it back.

Object ids are any integer from 0 to 2^31 - 1, kept as the source gave them (SA-V numbers its
objects from 0), and one frame's masks may overlap (SA-V: a person and, separately, their
hands). Only the layouts that hold one value per pixel (palette PNGs, dense label maps) need ids
1 to 254 and no overlap; they refuse the rest (:func:`converters.codecs.labels.pixel_value_problem`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

#: Pixel value of the void / ignore region (DAVIS 2017) in index-valued masks.
VOID_ID = 255
#: Object ids fit the int32 columns of the shard formats (SA-V counts from 0; BURST and TAO track ids are large).
MAX_OBJECT_ID = (1 << 31) - 1
#: Object metadata that summarises a source's annotated frames, in SA-V's field order: its masklet statistics (sizes
#: averaged over the frames, counts of frames and of visibility changes, the first frame by its place among them).
#: A derived set that changes which frames are annotated drops them rather than carry numbers it contradicts.
FRAME_STATISTICS = (
    "masklet_size_rel",
    "masklet_size_abs",
    "masklet_size_bucket",
    "masklet_visibility_changes",
    "masklet_first_appeared_frame",
    "masklet_frame_count",
    "masklet_edited_frame_count",
)
#: Metadata computed from the pixels (SA-V's mask sizes and size buckets, its ``video_resolution``): dropped by a resize.
PIXEL_STATISTICS = ("masklet_size_rel", "masklet_size_abs", "masklet_size_bucket", "video_resolution")
#: Object metadata naming the frames an object is scored on by their numbers (LVOS's ``frame_range``: the first and last
#: frame, numbered as the 8-digit frame names, and how many frames lie from one to the other). A frame step, which keeps
#: frame names, recomputes them over the frames it keeps, or drops what it cannot recompute exactly.
FRAME_RANGE = ("frame_range.start", "frame_range.end", "frame_range.frame_nums")
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
    ``values`` are per-frame values of the object a source carries (SA-V's stability score), as
    ``(key, JSON scalar)`` pairs.
    """

    object_id: int
    counts: str
    area: int
    bbox: tuple[int, int, int, int]
    values: tuple[tuple[str, JsonScalar], ...] = ()

    def __post_init__(self) -> None:
        if self.values:
            check_metadata(f"object {self.object_id}'s frame values", self.values)

    def __repr__(self) -> str:  # the counts of a 1080p mask run to kilobytes: a notebook shows their length
        values = f", values={short_repr(self.values)}" if self.values else ""
        return f"Mask(object_id={self.object_id}, area={self.area}, bbox={self.bbox}, counts=<{len(self.counts)} chars>{values})"


@dataclass(frozen=True)
class FrameMasks:
    """Everything one annotation file said: the objects present, sorted by id, and the void region.

    The objects' masks may overlap; the void region is apart from them (an object may have id 255).
    """

    objects: tuple[Mask, ...] = ()
    void: Mask | None = None

    def __post_init__(self) -> None:
        ids = [m.object_id for m in self.objects]
        if ids != sorted(set(ids)):
            raise ValueError(f"object ids must be unique and sorted, got {ids}")
        if ids and not 0 <= ids[0] <= ids[-1] <= MAX_OBJECT_ID:
            raise ValueError(f"object ids must be 0 to {MAX_OBJECT_ID}, got {ids}")
        if self.void is not None and self.void.object_id != VOID_ID:
            raise ValueError(f"the void region's id is {VOID_ID}, got {self.void.object_id}")
        if self.void is not None and self.void.values:  # no format has a place for them: they would go in silence
            raise ValueError("the void region has per-frame values: those are an object's, and the void is no object")
        # every format but the shard ones reads a mask without pixels back as no mask: one meaning, kept by all
        empty = next((m for m in (*self.objects, self.void) if m is not None and m.area == 0), None)
        if empty is not None:
            what = "the void region" if empty is self.void else f"object {empty.object_id}"
            raise ValueError(f"{what} has a mask without pixels: an absent object, or no void region, has no mask at all")

    def __repr__(self) -> str:
        void = f", void_area={self.void.area}" if self.void is not None else ""
        return f"FrameMasks(object_ids={short_repr(tuple(m.object_id for m in self.objects))}{void})"

    def get(self, object_id: int) -> Mask | None:
        """The object's mask in this frame, or None when it is absent."""
        for mask in self.objects:
            if mask.object_id == object_id:
                return mask
        return None


@dataclass(frozen=True)
class ImageRef:
    """Where a frame's image bytes live: a file on disk, a member of an archive, a frame of a video
    file, or the bytes themselves.

    With ``archive`` (the path of a .zip/.tar/.tar.gz), ``path`` is the member name inside it.
    With ``frame``, ``path`` is a video file (an mp4) and the image is its frame of that number
    (from 0, in decoding order), encoded as a JPEG of ``quality`` when read: a transcode.
    With ``resize`` (width, height), the image is resized (Lanczos) and encoded again when read, as
    ``resize_format`` (``"jpeg"`` of ``quality``, or ``"png"``): a derived set's frames (``--max-side``),
    resized one at a time by the writer that reads them rather than held in memory a video at a time.
    Reading is done by :mod:`converters.sources.imagefiles`; this record only says where.
    """

    path: str | None = None
    data: bytes | None = field(default=None, repr=False)
    archive: str | None = None
    frame: int | None = None
    quality: int = 95  # what cv2.imwrite writes by default
    resize: tuple[int, int] | None = None
    resize_format: str = "jpeg"

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise ValueError("an ImageRef holds exactly one of path or data")
        if self.archive is not None and self.path is None:
            raise ValueError("an ImageRef in an archive needs the member's path")
        if self.frame is not None and (self.path is None or self.archive is not None or self.frame < 0):
            raise ValueError("a frame of a video is a frame number from 0 in a video file on disk")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"JPEG quality is 1 to 100, got {self.quality}")
        if self.resize is not None:
            pair = isinstance(self.resize, (tuple, list)) and len(self.resize) == 2
            if not pair or any(isinstance(side, bool) or not hasattr(side, "__index__") for side in self.resize):
                raise ValueError(f"a resized image's size is a tuple (width, height) of whole numbers, got {self.resize!r}")
            object.__setattr__(self, "resize", tuple(side.__index__() for side in self.resize))  # a list: no hash; NumPy's
            check_frame_size("a resized image", *self.resize)
            if self.resize_format not in ("jpeg", "png"):
                raise ValueError(f"a resized image is encoded as jpeg or png, not {self.resize_format!r}")

    def __repr__(self) -> str:
        resize = f", resize={self.resize}, resize_format={self.resize_format!r}" if self.resize is not None else ""
        encoded = self.frame is not None or (self.resize is not None and self.resize_format == "jpeg")
        quality = f", quality={self.quality}" if encoded else ""  # used only where a JPEG is encoded
        if self.data is not None:
            return f"ImageRef(data=<{len(self.data)} bytes>{resize}{quality})"
        extra = "".join(f", {k}={v!r}" for k, v in (("archive", self.archive), ("frame", self.frame)) if v is not None)
        return f"ImageRef(path={self.path!r}{extra}{resize}{quality})"

    @property
    def location(self) -> str:
        """What error messages name: the file, ``<archive>/<member>`` or ``<video>#frame=<n>``."""
        if self.archive is not None:
            return f"{self.archive}/{self.path}"
        if self.frame is not None:
            return f"{self.path}#frame={self.frame}"
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
    """An object of a video: its original id (the pixel value, for PNG sources), category, listed frames, metadata.

    ``frames`` keeps a YouTube-VOS ``meta.json`` frame list verbatim (it may disagree
    with the masks); None when the source had no such list. ``metadata`` is what else the source
    says of the object (SA-V's masklet fields, a name), as ``(key, JSON scalar)`` pairs in order.
    """

    object_id: int
    category_id: int | None = None
    frames: tuple[str, ...] | None = None
    metadata: tuple[tuple[str, JsonScalar], ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.object_id, bool) or not isinstance(self.object_id, int) or not 0 <= self.object_id <= MAX_OBJECT_ID:
            raise ValueError(f"object id {self.object_id!r} is not an integer from 0 to {MAX_OBJECT_ID}")
        if self.category_id is not None:
            _check_category_id(self.category_id)
        if self.frames:
            for frame in self.frames:
                check_text(f"object {self.object_id}'s frame", frame)
        if self.metadata:
            check_metadata(f"object {self.object_id}'s metadata", self.metadata)

    def __repr__(self) -> str:
        parts = [f"object_id={self.object_id}"]
        if self.category_id is not None:
            parts.append(f"category_id={self.category_id}")
        if self.frames is not None:
            parts.append(f"frames=<{len(self.frames)} names>")
        if self.metadata:
            parts.append(f"metadata={short_repr(self.metadata)}")
        return f"ObjectInfo({', '.join(parts)})"

    def get(self, key: str, default: JsonScalar = None) -> JsonScalar:
        """The metadata value under ``key``."""
        return dict(self.metadata).get(key, default)


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    supercategory: str | None = None

    def __post_init__(self) -> None:
        _check_category_id(self.id)
        check_text(f"category {self.id}'s name", self.name)
        if self.supercategory is not None:
            check_text(f"category {self.id}'s supercategory", self.supercategory)


#: What metadata values may be: what JSON, Parquet and HDF5 store exactly.
JsonScalar = str | int | float | bool | None


def check_metadata(what: str, pairs: tuple[tuple[str, JsonScalar], ...]) -> None:
    """Metadata is a tuple of ``(str key, JSON scalar)`` pairs, keys unique, floats finite (JSON has no NaN)."""
    if not isinstance(pairs, tuple):
        raise ValueError(f"{what} must be a tuple of (key, value) pairs, got {type(pairs).__name__}")
    keys = set()
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
            raise ValueError(f"{what}: {pair!r} is not a (str, value) pair")
        key, value = pair
        if key in keys:
            raise ValueError(f"{what}: key {key!r} given twice")
        keys.add(key)
        check_text(f"{what}: key", key)
        if isinstance(value, str):
            check_text(f"{what}: {key}", value)
        if value is not None and not isinstance(value, (str, int, float)):
            raise ValueError(f"{what}: {key} is a {type(value).__name__}, not a JSON scalar")
        if isinstance(value, float) and not abs(value) < float("inf"):
            raise ValueError(f"{what}: {key} is {value}, which JSON cannot hold")


def _check_category_id(value: object) -> None:
    """Category ids are integers that fit the int32 columns of the shard formats."""
    if isinstance(value, bool) or not isinstance(value, int) or not -(1 << 31) <= value < 1 << 31:
        raise ValueError(f"category id {value!r} is not an integer of 32 bits")


@dataclass(frozen=True)
class Video:
    """A video: its frames in order, its objects, and how its masks were stored.

    ``metadata`` is what else the source says of the whole video (SA-V's ``video_environment``,
    ``video_split``, ``video_duration``, ...), as ``(key, JSON scalar)`` pairs in order, like an object's.
    """

    name: str
    width: int
    height: int
    frames: tuple[Frame, ...]
    objects: tuple[ObjectInfo, ...] = ()
    encoding: MaskEncoding = MaskEncoding.PALETTE
    palette: bytes | None = field(default=None, repr=False)
    metadata: tuple[tuple[str, JsonScalar], ...] = ()

    def __post_init__(self) -> None:
        check_file_name("video name", self.name)
        check_frame_size(self.name, self.width, self.height)
        if self.metadata:
            check_metadata(f"{self.name}: video metadata", self.metadata)
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

    def __repr__(self) -> str:  # every frame's masks would print: megabytes for one video in a notebook
        annotated = sum(f.masks is not None for f in self.frames)
        ids = short_repr(tuple(o.object_id for o in self.objects))
        metadata = f", metadata={short_repr(self.metadata)}" if self.metadata else ""
        return (
            f"Video(name={self.name!r}, width={self.width}, height={self.height}, frames=<{len(self.frames)}, "
            f"{annotated} annotated>, object_ids={ids}, encoding={self.encoding.value!r}{metadata})"
        )

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


#: The longest file or folder name, in bytes, that file systems hold (ext4, APFS, NTFS in UTF-16 units, zip members).
NAME_MAX = 255


def check_text(what: str, text: object) -> None:
    """Every string the formats store is UTF-8: a lone surrogate (a file name of bytes that are not UTF-8, or a
    JSON escape such as ``\\udcff``) would stop a writer half way, so it is refused where the string comes in."""
    if isinstance(text, str) and not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{what} {text!r} is not UTF-8 text (character {exc.start} is a lone surrogate: a file name of bytes "
                "that are not UTF-8, or a JSON escape of half a character)"
            ) from None


def check_file_name(what: str, name: str) -> None:
    """Video and frame names become folder and file names in the folder layouts: one path
    component each, never a way out of the output folder (``..``, ``/``) or an empty name."""
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise ValueError(f"{what} {name!r} cannot be a file or folder name (empty, '.', '..', or holding '/', '\\' or NUL)")
    check_text(what, name)
    if len(name) > NAME_MAX // 4 and len(name.encode("utf-8")) > NAME_MAX:
        raise ValueError(
            f"{what} {name[:40]!r}... cannot be a file or folder name: {len(name.encode())} bytes long, over {NAME_MAX}"
        )


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

    def __repr__(self) -> str:
        categories = f"<{len(self.categories)} categories>" if len(self.categories) > 4 else repr(self.categories)
        return (
            f"DatasetInfo(source_format={self.source_format!r}, split={self.split!r}, categories={categories}, "
            f"image_root={self.image_root!r}, attributes={short_repr(self.attributes)})"
        )

    def attribute(self, key: str, default: str | None = None) -> str | None:
        return dict(self.attributes).get(key, default)


#: How many items of a tuple a repr shows before saying how many more there are.
_SHOWN = 8


def short_repr(items: tuple) -> str:
    """``items`` as a repr, its first few only when there are many (a video of 300 objects, a long metadata record)."""
    if len(items) <= _SHOWN:
        return repr(items)
    return "(" + ", ".join(repr(item) for item in items[:_SHOWN]) + f", ... {len(items) - _SHOWN} more)"
