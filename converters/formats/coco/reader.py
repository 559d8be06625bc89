"""COCO RLE JSON in the YouTube-VIS style (``.json`` or ``.json.gz``): vosconv's own files and others'.

vosconv writes one record per line, so this reader indexes the file in one pass
(byte ranges of each video and its annotations) and ``read_video`` reads only its
video's lines: the dataset is never held in memory. A ``.json.gz`` is unpacked once to a
temporary file to allow that. A file written by another tool is loaded whole, once, and
rewritten to the same line form in a temporary file.

Images: ``file_names`` are relative to the ``images`` option, else to the image root the
file records (when that folder exists); without either, frames have no image.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...codecs import rle
from ...errors import SourceError
from ...model import VOID_ID, Category, DatasetInfo, Frame, FrameMasks, ImageRef, Mask, MaskEncoding, ObjectInfo, Video
from ...reader import Detection, Reader, VideoRef
from ...sources.files import join_inside

SUFFIXES = (".json", ".json.gz")
_ANNOTATION_PREFIX = re.compile(rb'\{"id":\d+,"video_id":(\d+),')


@dataclass(frozen=True)
class CocoOptions:
    images: str | None = None  # folder that file_names are relative to; default: the root the file records


@dataclass(frozen=True)
class CocoVideoRef(VideoRef):
    """Byte ranges of one video's record and of its annotation records in the indexed file."""

    path: str = ""
    video: tuple[int, int] = (0, 0)
    annotations: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class _Index:
    path: str  # the line-per-record file (the source itself, or an unpacked copy)
    header: dict
    categories: tuple[dict, ...]
    refs: tuple[CocoVideoRef, ...]


def _gzipped(path: Path) -> bool:
    """Whether the file is gzip, by its first bytes: a name can say otherwise (``-o out.txt``)."""
    with open(path, "rb") as file:
        return file.read(2) == b"\x1f\x8b"


def _open(path: Path):
    """The JSON bytes, gunzipped when the file is gzip."""
    return gzip.open(path, "rb") if _gzipped(path) else open(path, "rb")


class CocoReader(Reader):
    """Reads YouTube-VIS-style COCO RLE JSON, including everything vosconv writes into it."""

    name = "coco"
    Options = CocoOptions

    def __init__(self, source, options=None) -> None:
        super().__init__(source, options)
        self._index: _Index | None = None
        self._tmp: str | None = None

    def __getstate__(self):
        # workers need the indexed file's path and the header, never the list of every video
        state = self.__dict__.copy()
        if self._index is not None:
            state["_index"] = _Index(self._index.path, self._index.header, self._index.categories, ())
        return state

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        if not source.is_file():  # a folder, or a FIFO that would block
            return Detection(0, "not a .json or .json.gz file")
        named = source.name.lower().endswith(SUFFIXES)
        try:
            with _open(source) as file:
                head = file.read(256)
        except (OSError, EOFError, zlib.error) as exc:
            return Detection(0, f"unreadable ({exc})") if named else Detection(0, "not a .json or .json.gz file")
        if head.startswith(b'{"info":') and b'"vosconv"' in head:  # whatever it is called (-o out.txt --to coco)
            return Detection(10, "a vosconv COCO JSON")
        return Detection(5, "a JSON file") if named else Detection(0, "not a .json or .json.gz file")

    # ----------------------------------------------------------------- indexing

    def _ensure_index(self) -> _Index:
        if self._index is None:
            self._tmp = tempfile.mkdtemp(prefix="vosconv-coco-")
            try:
                self._index = self._build_index()
            except BaseException:
                self.close()
                raise
        return self._index

    def _build_index(self) -> _Index:
        source = self.source
        try:
            with _open(source) as file:
                own = file.readline(1 << 20).startswith(b'{"info":') and file.readline(64) == b'"videos":[\n'
            if own and not _gzipped(source):
                index = _index_lines(source, str(source))
            else:
                lines = Path(self._tmp) / "records.json"
                if own:
                    with _open(source) as file, open(lines, "wb") as out:
                        shutil.copyfileobj(file, out, 1 << 20)
                else:
                    _normalise(source, lines)
                index = _index_lines(lines, str(source))
            _check_header(index.header)
            return index
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise SourceError(source, f"cannot read: {exc}") from None
        except SourceError:
            raise
        except _MALFORMED as exc:
            raise SourceError(source, f"malformed file ({type(exc).__name__}: {exc})") from None

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
            self._index = None

    # ----------------------------------------------------------------- the contract

    def _images_dir(self) -> str | None:
        """The folder ``file_names`` are relative to: the option, else the recorded root if it exists."""
        if self.options.images is not None:
            if not Path(self.options.images).is_dir():
                raise SourceError(self.options.images, "images folder does not exist")
            return str(Path(self.options.images).resolve())
        recorded = self._recorded_image_root()
        return recorded if recorded and Path(recorded).is_dir() else None

    def _recorded_image_root(self) -> str | None:
        return self._ensure_index().header.get("vosconv", {}).get("image_root")

    def missing_images(self) -> str | None:
        """Where the frames' images were looked for in vain (the recorded folder, or none recorded and no ``images``)."""
        if self._images_dir() is not None or not self.list_videos():
            return None
        recorded = self._recorded_image_root()
        if recorded:
            return f"its images folder {recorded} (recorded in the file) does not exist"
        return "it records no images folder, and no images option (--images DIR) was given"

    def info(self) -> DatasetInfo:
        index = self._ensure_index()
        try:
            source = index.header.get("vosconv", {}).get("source", {})
            placeholders = set(index.header.get("vosconv", {}).get("placeholder_categories", []))
            categories = tuple(
                Category(int(c["id"]), str(c["name"]), c.get("supercategory"))
                for c in index.categories
                if c["id"] not in placeholders
            )
            split, attributes = source.get("split"), tuple(sorted((source.get("attributes") or {}).items()))
        except _MALFORMED as exc:
            raise SourceError(self.source, f"malformed header or categories ({type(exc).__name__}: {exc})") from None
        images = self._images_dir()  # when None, a writer that embeds images refuses (missing_images says why)
        return DatasetInfo(source_format=self.name, split=split, categories=categories, image_root=images, attributes=attributes)

    def roots(self) -> list[Path]:
        images = self._images_dir()
        return [self.source, *([Path(images)] if images else [])]

    def list_videos(self) -> list[VideoRef]:
        return list(self._ensure_index().refs)

    def read_video(self, ref: CocoVideoRef) -> Video:
        index = self._ensure_index()
        try:
            with open(ref.path, "rb") as file:
                (record,) = _load_span(file, ref.video, self.source)
                annotations = [a for span in ref.annotations for a in _load_span(file, span, self.source)]
        except OSError as exc:  # the file (or its unpacked index copy) went away or cannot be read
            raise SourceError(self.source, f"cannot read video {ref.name!r}: {exc.strerror or exc}") from None
        except SourceError as error:
            raise SourceError(self.source, f"video {ref.name!r}: {error.cause}") from None
        images = self._images_dir()
        placeholders = set(index.header.get("vosconv", {}).get("placeholder_categories", []))
        try:
            return build_video(record, annotations, placeholders, images)
        except SourceError:
            raise
        except _MALFORMED as exc:
            raise SourceError(self.source, f"video {ref.name!r}: malformed record ({type(exc).__name__}: {exc})") from None


def _load_span(file, span: tuple[int, int], source: Path) -> list[dict]:
    """The records (one per line) in a byte range of the indexed file."""
    file.seek(span[0])
    records, offset = [], span[0]
    for line in file.read(span[1]).splitlines(keepends=True):
        records.append(_parse_record(line, offset, source))
        offset += len(line)
    return records


_RECORD_ID = re.compile(rb'\{"id":(-?\d{1,20})[,}]')


def _parse_record(line: bytes, offset: int, source: str | os.PathLike) -> object:
    """One record line as JSON; whatever stops the parser (bytes that are not UTF-8, nesting too deep
    for it, an integer of thousands of digits) is a SourceError naming the byte and the record's id."""
    try:
        return json.loads(line.rstrip(b",\r\n"))
    except (ValueError, RecursionError) as exc:
        found = _RECORD_ID.match(line)
        record = f" (id {found.group(1).decode()})" if found else ""
        raise SourceError(source, f"malformed record at byte {offset}{record}: {_parse_failure(exc)}") from None


def _parse_failure(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"not UTF-8 text ({error.reason} at byte {error.start} of the record)"
    if isinstance(error, RecursionError):
        return "nested too deeply to parse"
    return str(error)


def _records(file) -> Iterator[tuple[int, bytes]]:
    offset = file.tell()
    for line in file:
        yield offset, line
        offset += len(line)


def _index_lines(path: Path, source: str) -> _Index:
    """One pass over a line-per-record file: the byte ranges of every video and annotation."""
    videos: dict[int, tuple[str, tuple[int, int]]] = {}
    spans: dict[int, list[tuple[int, int]]] = {}
    categories: tuple[dict, ...] = ()
    with open(path, "rb") as file:
        header_line = file.readline()
        header = json.loads(header_line[len(b'{"info":') :].rstrip(b",\n") or b"{}")
        section = None
        for offset, line in _records(file):
            if not line.strip():
                continue  # an empty list leaves a blank line between its brackets
            if line.startswith(b'"videos":['):
                section = "videos"
            elif line.startswith(b'"annotations":['):
                section = "annotations"
            elif line.startswith(b'"categories":'):
                categories = tuple(json.loads(line[len(b'"categories":') :].rstrip().rstrip(b"}")))
            elif line.startswith(b"]"):
                section = None
            elif section == "videos":
                record = _parse_record(line, offset, source)
                _add_video(videos, int(record["id"]), _video_name(record), (offset, len(line)), source)
            elif section == "annotations":
                match = _ANNOTATION_PREFIX.match(line)
                video_id = int(match.group(1)) if match else int(_parse_record(line, offset, source)["video_id"])
                runs = spans.setdefault(video_id, [])
                if runs and runs[-1][0] + runs[-1][1] == offset:
                    runs[-1] = (runs[-1][0], runs[-1][1] + len(line))  # adjacent lines: one read
                else:
                    runs.append((offset, len(line)))
            else:
                raise SourceError(source, f"unexpected content at byte {offset}")
    orphans = set(spans) - set(videos)
    if orphans:
        raise SourceError(source, f"annotations refer to unknown video id {min(orphans)}")
    ids_by_name: dict[str, int] = {}
    for video_id, (name, _) in videos.items():
        if ids_by_name.setdefault(name, video_id) != video_id:
            raise SourceError(source, f"two videos share a name: {name!r} (video ids {ids_by_name[name]} and {video_id})")
    refs = sorted(
        (
            CocoVideoRef(name, span[1] + sum(n for _, n in spans.get(i, ())), "", str(path), span, tuple(spans.get(i, ())))
            for i, (name, span) in videos.items()
        ),
        key=lambda r: r.name,
    )
    return _Index(str(path), header, categories, tuple(refs))


def _add_video(videos: dict, video_id: int, name: str, span: tuple[int, int], source: str) -> None:
    """A video's byte range by its id; a second video of the same id would silently replace the first."""
    if video_id in videos:
        raise SourceError(source, f"two videos share the id {video_id}: {videos[video_id][0]!r} and {name!r}")
    videos[video_id] = (name, span)


def _check_header(header: object) -> None:
    """``info.vosconv``, where present, has the shape vosconv writes (a re-saved or edited file may not)."""
    if not isinstance(header, dict):
        raise TypeError(f"info must be an object, got {type(header).__name__}")
    facts = header.get("vosconv", {})
    if not isinstance(facts, dict):
        raise TypeError("info.vosconv must be an object")
    source = facts.get("source", {})
    if not isinstance(source, dict) or not isinstance(source.get("attributes") or {}, dict):
        raise TypeError("info.vosconv.source and its attributes must be objects")
    if not isinstance(source.get("split"), (str, type(None))) or not isinstance(facts.get("image_root"), (str, type(None))):
        raise TypeError("info.vosconv.source.split and info.vosconv.image_root must be strings or null")
    placeholders = facts.get("placeholder_categories", [])
    if not isinstance(placeholders, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in placeholders):
        raise TypeError("info.vosconv.placeholder_categories must be a list of integers")


def _video_name(record: dict) -> str:
    if record.get("name"):
        return str(record["name"])
    first = record["file_names"][0]
    return first.split("/")[-2] if "/" in first else str(record["id"])


def _normalise(source: Path, out: Path) -> None:
    """Rewrite someone else's COCO JSON (loaded whole) into vosconv's line-per-record form."""
    with _open(source) as file:
        try:
            data = json.load(file)
        except json.JSONDecodeError as exc:
            raise SourceError(source, f"not valid JSON: {exc}") from None
        except (ValueError, RecursionError) as exc:  # an integer of thousands of digits; nesting too deep
            raise SourceError(source, f"not JSON that can be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or "videos" not in data or "annotations" not in data:
        raise SourceError(source, 'not a video COCO JSON: expected "videos" and "annotations"')
    info = data.get("info")  # kept: a vosconv file re-saved by json.dump still says where it came from
    with open(out, "w") as file:
        file.write('{"info":' + json.dumps(info if isinstance(info, dict) else {}, separators=(",", ":")) + ',\n"videos":[\n')
        file.write(",\n".join(json.dumps(v, separators=(",", ":")) for v in data["videos"]))
        file.write('\n],\n"annotations":[\n')
        file.write(",\n".join(json.dumps(a, separators=(",", ":")) for a in data["annotations"]))
        file.write('\n],\n"categories":' + json.dumps(data.get("categories", [])) + "}\n")


#: What malformed JSON data raises on its way into the model (a wrong type, a missing key, a number
#: too big for an int or too deep to parse): each becomes a SourceError naming the file.
_MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError, RecursionError)

#: Polygons are rasterised by pycocotools, whose ``rleToString`` writes one byte past its buffer
#: when every count of a mask takes 6 characters; below this many pixels none takes more than 5.
POLYGON_MAX_PIXELS = (1 << 24) - 1
#: pycocotools casts 5x each coordinate to a C int and allocates memory in proportion to the
#: outline: far-out or non-finite coordinates crash it. No real polygon strays this far (in
#: frame sides) from the frame, so such a polygon is refused rather than handed over.
POLYGON_REACH = 4
#: pycocotools upsamples an outline to points a fifth of a pixel apart, allocating 20 bytes for each.
POLYGON_SCALE = 5
#: Outline points any frame's polygons may have (beyond its pixel count): 20 MB of pycocotools' memory.
POLYGON_OUTLINE_FLOOR = 1 << 20


def _counts(segmentation, height: int, width: int) -> str:
    """A segmentation (compressed RLE, uncompressed RLE or polygons) as a compressed counts string
    (not yet canonical: another tool's counts may hold zero-length runs)."""
    if isinstance(segmentation, dict):
        size = list(segmentation.get("size", [height, width]))
        if size != [height, width]:
            raise ValueError(f"segmentation size {size} differs from the video's {[height, width]}")
        return _rle_counts(segmentation["counts"])
    if height * width > POLYGON_MAX_PIXELS:
        raise ValueError(
            f"polygons on {width}x{height} frames are not supported: pycocotools, which rasterises them, "
            f"writes past its buffer on masks of more than {POLYGON_MAX_PIXELS} pixels"
        )
    _check_polygons(segmentation, POLYGON_REACH * max(height, width))
    _check_outline(segmentation, height, width)
    from pycocotools import mask as coco_mask

    merged = coco_mask.merge(coco_mask.frPyObjects(segmentation, height, width))
    return merged["counts"].decode("ascii")


def _rle_counts(counts: object) -> str:
    """RLE counts as a compressed string: a string of ASCII characters, or a flat list of run lengths
    (a nested list, a float or a non-ASCII character never reaches the RLE kernels)."""
    if isinstance(counts, str):
        if not counts.isascii():
            raise ValueError("RLE counts string holds characters that are not ASCII")
        return counts
    if not isinstance(counts, list):
        raise ValueError(f"RLE counts must be a string or a list of integers, not {type(counts).__name__}")
    for count in counts:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"RLE counts must be non-negative integers, not {_shown(count)}")
    return rle.counts_to_string(counts)


def _shown(value: object) -> str:
    """A value for an error message, cut short (a nested list can be long)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_polygons(segmentation, reach: float) -> None:
    """Polygons as COCO writes them, ``[[x0, y0, x1, y1, ...], ...]``, each safe to give pycocotools."""
    if not isinstance(segmentation, list) or not segmentation:
        raise ValueError("a segmentation must be RLE (an object with counts) or a non-empty list of polygons")
    for number, polygon in enumerate(segmentation, 1):
        if not isinstance(polygon, list) or len(polygon) < 6 or len(polygon) % 2:
            raise ValueError(f"polygon {number} is not a list of at least 3 x, y pairs")
        for value in polygon:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not -reach <= value <= reach:
                raise ValueError(f"polygon {number} has a coordinate {value!r} that is not a number within {reach:g} of 0")


def outline_points(polygon: list[float]) -> int:
    """How many outline points pycocotools' ``rleFrPoly`` makes of a polygon, exactly as it counts them
    before allocating 20 bytes for each: every edge, its ends rounded as ``(int)(5 * v + .5)``, becomes
    ``max(|dx|, |dy|) + 1`` points (the outline upsampled five times, one point a fifth of a pixel)."""
    scaled = np.trunc(POLYGON_SCALE * np.asarray(polygon, dtype=np.float64) + 0.5).astype(np.int64)
    x, y = scaled[0::2], scaled[1::2]
    steps = np.maximum(np.abs(x - np.roll(x, -1)), np.abs(y - np.roll(y, -1)))
    return int(steps.sum()) + len(x)


def outline_budget(height: int, width: int) -> int:
    """The outline points a frame's polygons may ask pycocotools for: the frame's pixels, plus a floor
    that lets small frames keep detailed outlines (at 20 bytes a point, a small multiple of the frame)."""
    return height * width + POLYGON_OUTLINE_FLOOR


def _check_outline(segmentation: list[list[float]], height: int, width: int) -> None:
    """Refuse polygons whose outline would make pycocotools allocate without bound (4,000 vertices
    zigzagging across the frame ask for gigabytes; under a memory limit it then writes through NULL)."""
    points = sum(outline_points(polygon) for polygon in segmentation)
    budget = outline_budget(height, width)
    if points > budget:
        raise ValueError(
            f"polygons whose outline is {points} points (a fifth of a pixel each) for pycocotools to rasterise, "
            f"more than {budget} on a {width}x{height} frame: not an outline of an object in it"
        )


def build_video(record: dict, annotations: list[dict], placeholders: set[int], images: str | None) -> Video:
    """A Video from its YouTube-VIS records; area and bbox are recomputed from the RLE, never trusted."""
    name = _video_name(record)
    height, width = int(record["height"]), int(record["width"])
    if height <= 0 or width <= 0:
        raise ValueError(f"frame size {width}x{height} is not positive")
    file_names = list(record["file_names"])
    length = len(file_names)
    annotated = set(record.get("annotated_frames", range(length)))
    per_frame: list[list[Mask]] = [[] for _ in range(length)]
    void: list[Mask | None] = [None] * length
    objects = []
    for position, annotation in enumerate(annotations):
        try:
            _add_annotation(annotation, position, height, width, placeholders, annotated, per_frame, void, objects)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
            raise _in_annotation(exc, annotation, position) from None
    vosconv = record.get("vosconv") or {}
    palette = vosconv.get("palette")
    frames = tuple(
        Frame(
            index,
            os.path.basename(file_name),
            ImageRef(path=join_inside(images, file_name)) if images else None,
            FrameMasks(tuple(sorted(per_frame[index], key=lambda m: m.object_id)), void[index]) if index in annotated else None,
        )
        for index, file_name in enumerate(file_names)
    )
    return Video(
        name=name,
        width=width,
        height=height,
        frames=frames,
        objects=tuple(sorted(objects, key=lambda o: o.object_id)),
        encoding=MaskEncoding(vosconv.get("encoding", "palette")),
        palette=base64.b64decode(palette) if palette else None,
    )


def _add_annotation(
    annotation: dict,
    position: int,
    height: int,
    width: int,
    placeholders: set[int],
    annotated: set[int],
    per_frame: list[list[Mask]],
    void: list[Mask | None],
    objects: list[ObjectInfo],
) -> None:
    """One annotation record's object and masks, added to the video's lists."""
    object_id = int(annotation.get("object_id", position + 1))
    length = len(per_frame)
    segmentations = annotation["segmentations"]
    if len(segmentations) != length:
        raise ValueError(f"object {object_id} has {len(segmentations)} segmentations for {length} frames")
    is_void = bool(annotation.get("iscrowd")) and object_id == VOID_ID
    if not is_void:
        category = annotation.get("category_id")
        meta = annotation.get("meta_frames")
        metadata = tuple(annotation.get("metadata", {}).items())
        objects.append(
            ObjectInfo(object_id, None if category in placeholders else category, None if meta is None else tuple(meta), metadata)
        )
    frame_values = annotation.get("frame_values") or [None] * length
    if len(frame_values) != length:
        raise ValueError(f"object {object_id} has {len(frame_values)} frame_values for {length} frames")
    for index, segmentation in enumerate(segmentations):
        if segmentation is None:
            continue
        if index not in annotated:
            raise ValueError(f"object {object_id} has a mask on frame {index}, which is not annotated")
        try:
            counts, area, bbox = rle.measure_canonical(_counts(segmentation, height, width), height, width)
        except ValueError as exc:
            raise ValueError(f"frame {index}: {exc}") from None
        if area == 0:
            continue  # an all-zero RLE (SA-V style) means absent
        mask = Mask(object_id, counts, area, bbox, tuple((frame_values[index] or {}).items()))
        if is_void:
            void[index] = mask
        else:
            per_frame[index].append(mask)


def _in_annotation(error: Exception, annotation: object, position: int) -> Exception:
    """The same kind of error, its message naming the annotation (by its id, else its place in the video)."""
    number = annotation.get("id", position + 1) if isinstance(annotation, dict) else position + 1
    where = f"annotation {_shown(number)}"
    if isinstance(error, KeyError):
        return ValueError(f"{where}: no {error} field")
    kind = ValueError if isinstance(error, ValueError) else type(error)  # UnicodeError and kin take other arguments
    return kind(f"{where}: {error}")
