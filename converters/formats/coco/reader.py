"""COCO RLE JSON in the YouTube-VIS style (``.json`` or ``.json.gz``): vosconv's own files and others'.

vosconv writes one record per line, so this reader indexes the file in one pass (byte ranges of each video and its
annotations) and ``read_video`` reads only its video's lines: the dataset is never held in memory. A ``.json.gz`` is
unpacked once to a temporary file to allow that. A file written by another tool (YouTube-VIS, OVIS, LV-VIS) is the
``ytvis`` reader's format: read here the same way (:func:`..ytvis.lines.normalise` reads it a record at a time and
rewrites it to the same line form in a temporary file), for files converted before ``ytvis`` existed; ``ytvis`` also
finds a dataset's JSON and frames in its folder. Images: ``file_names`` are relative to the ``images`` option, else to
the image root the file records (when that folder exists); without either, frames have no image.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import shutil
import weakref
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ...codecs import rle
from ...errors import SourceError
from ...model import VOID_ID, Category, DatasetInfo, Frame, FrameMasks, ImageRef, Mask, MaskEncoding, ObjectInfo, Video
from ...reader import Detection, Reader, VideoRef
from ...records import Record, shown
from ...sources import tempfiles
from ...sources.files import join_inside, no_images_folder
from ..ytvis.lines import normalise
from .segmentation import counts as segmentation_counts
from .spec import FILE_HEAD, GZIP_MAGIC, HEADER_KEY, SUFFIXES, VIDEOS_LINE, check_header, is_vosconv_coco
from .void import add_recorded_void

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
        return file.read(len(GZIP_MAGIC)) == GZIP_MAGIC


def _open(path: Path):
    """The JSON bytes, gunzipped when the file is gzip."""
    return gzip.open(path, "rb") if _gzipped(path) else open(path, "rb")


#: vosconv's cocovid writer (mmdet's layout) starts as its COCO files do, but is another format.
COCOVID_HEAD = FILE_HEAD + b',"format":"cocovid"'
COCOVID_REFUSAL = "a CocoVID file (mmdet's layout, written by vosconv's cocovid writer): read it with --from cocovid"


def _is_cocovid(head: bytes) -> bool:
    """The cocovid writer's header: the coco writer's first bytes, then its format (a coco file made from a CocoVID
    source also says ``"format":"cocovid"``, further on, of its source)."""
    return head.startswith(COCOVID_HEAD)


def _in_line_form(source: Path) -> bool:
    """Whether the file is the coco writer's line form, by its first bytes (another tool's may be one line of
    hundreds of MB); SourceError for a cocovid writer's file."""
    with _open(source) as file:
        head = file.readline(len(COCOVID_HEAD))
        if _is_cocovid(head):
            raise SourceError(source, COCOVID_REFUSAL)
        rest = b"" if not is_vosconv_coco(head) or head.endswith(b"\n") else file.readline(1 << 20)
        return is_vosconv_coco(head) and rest[-1:] in (b"", b"\n") and file.readline(64) == VIDEOS_LINE


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
        state.pop("_cleanup", None)  # the folder is this process's to remove
        state["_tmp"] = None  # a copy that closes (a worker's ``with``) removed the index its original still reads
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
        if _is_cocovid(head):
            return Detection(0, "a CocoVID file (the cocovid reader's)")
        if is_vosconv_coco(head):  # whatever it is called (-o out.txt --to coco)
            return Detection(10, "a vosconv COCO JSON")
        return Detection(5, "a JSON file") if named else Detection(0, "not a .json or .json.gz file")

    # ----------------------------------------------------------------- indexing

    def _ensure_index(self) -> _Index:
        if self._index is None:
            self._make_tmp("vosconv-coco-")
            try:
                self._index = self._build_index()
            except BaseException:
                self.close()
                raise
        return self._index

    def _build_index(self) -> _Index:
        source = self.source
        try:
            own = _in_line_form(source)
            if own and not _gzipped(source):
                index = index_lines(source, str(source))
            else:
                lines = Path(self._tmp) / "records.json"
                if own:
                    with _open(source) as file, open(lines, "wb") as out:
                        shutil.copyfileobj(file, out, 1 << 20)
                else:  # another tool's YouTube-VIS JSON: the ytvis reader's format, read the same way
                    normalise(source, lines)
                index = index_lines(lines, str(source))
            check_header(index.header, source)
            return index
        except IsADirectoryError:  # --from coco given a dataset folder
            raise SourceError(source, "a folder; the coco reader reads one .json or .json.gz file") from None
        except (OSError, EOFError, zlib.error) as exc:  # gzip's BadGzipFile is an OSError
            if isinstance(exc, OSError) and tempfiles.failed_writing(exc, self._tmp):
                raise tempfiles.cannot_write(exc, self._tmp) from None
            raise SourceError(source, f"cannot read: {exc}") from None

    def _make_tmp(self, prefix: str) -> str:
        """A temporary folder for the index, removed by ``close``, or when a reader never closed (a notebook's
        ``open_reader(...).list_videos()``) is collected or the process exits: it holds a copy of the annotations."""
        self._tmp = tempfiles.make_folder(prefix)
        self._cleanup = weakref.finalize(self, _remove_tmp, self._tmp, os.getpid())
        return self._tmp

    def close(self) -> None:
        cleanup = self.__dict__.pop("_cleanup", None)
        if cleanup is not None:
            cleanup()  # removes the folder in the process that made it only: a forked copy leaves its original's be
        self._tmp = None
        self._index = None

    # ----------------------------------------------------------------- the contract

    def _images_dir(self) -> str | None:
        """The folder ``file_names`` are relative to: the option, else the recorded root if it exists."""
        if self.options.images is not None:
            if not Path(self.options.images).is_dir():
                raise SourceError(self.options.images, no_images_folder(self.options.images))
            return str(Path(self.options.images).resolve())
        recorded = self._recorded_image_root()
        return recorded if recorded and Path(recorded).is_dir() else None

    def _recorded_image_root(self) -> str | None:
        return self._ensure_index().header.get(HEADER_KEY, {}).get("image_root")

    def recorded_images(self) -> str | None:
        recorded = None if self.options.images is not None else self._recorded_image_root()
        return recorded if recorded is not None and self._images_dir() == recorded else None

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
        source = index.header.get(HEADER_KEY, {}).get("source", {})  # its shape checked by _check_header
        facts = index.header.get(HEADER_KEY, {})  # its shape checked by _check_header
        placeholders, filled = set(facts.get("placeholder_categories", [])), set(facts.get("filled_supercategories", []))
        categories = tuple(
            replace(c, supercategory=None) if c.id in filled and c.supercategory == c.name else c
            for c in _categories(index.categories, self.source)
            if c.id not in placeholders
        )
        split, attributes = source.get("split"), tuple(sorted((source.get("attributes") or {}).items()))
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
                (record,) = load_records(file, ref.video, self.source)
                annotations = [a for span in ref.annotations for a in load_records(file, span, self.source)]
        except OSError as exc:  # the file (or its unpacked index copy) went away or cannot be read
            raise SourceError(self.source, f"cannot read video {ref.name!r}: {exc.strerror or exc}") from None
        except SourceError as error:
            raise SourceError(self.source, f"video {ref.name!r}: {error.cause}") from None
        images = self._images_dir()
        placeholders = set(index.header.get(HEADER_KEY, {}).get("placeholder_categories", []))
        context = f"video {ref.name!r}: malformed record"
        try:
            return build_video(Record(record, self.source, context=context), annotations, placeholders, images)
        except ValueError as exc:  # what the RLE, the polygon checks or the model refuse
            raise SourceError(self.source, f"{context} ({type(exc).__name__}: {exc})") from None


def _categories(categories: tuple[object, ...], source: Path) -> list[Category]:
    """The ``categories`` of the file; ids as ``int()`` takes them (another tool's ``"7"``), names made strings."""
    found = []
    for number, value in enumerate(categories):
        record = Record(value, source, f"categories/{number}", context="malformed header or categories")
        name = record.text("name", lenient=True)  # another tool's number as its digits; a list is no name
        try:
            found.append(Category(record.int("id", lenient=True), name, record.raw("supercategory", None)))
        except ValueError as exc:  # the model refuses it (an id beyond 32 bits, say)
            record.fail(f"{type(exc).__name__}: {exc}")
        if any(c.id == found[-1].id and c != found[-1] for c in found[:-1]):  # which one would an object's id name?
            record.fail(f"category id {found[-1].id} is given to another category before it")
    return found


def load_records(file, span: tuple[int, int], source: Path) -> list[dict]:
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


def index_lines(path: Path, source: str) -> _Index:
    """One pass over a line-per-record file: the byte ranges of every video and annotation."""
    videos: dict[int, tuple[str, tuple[int, int]]] = {}
    spans: dict[int, list[tuple[int, int]]] = {}
    categories: tuple[dict, ...] = ()
    with open(path, "rb") as file:
        header_line = file.readline()
        header = _json_part(header_line[len(b'{"info":') :].rstrip(b",\n") or b"{}", "info", source)
        section = None
        for offset, line in _records(file):
            if not line.strip():
                continue  # an empty list leaves a blank line between its brackets
            if line.startswith(b'"videos":['):
                section = "videos"
            elif line.startswith(b'"annotations":['):
                section = "annotations"
            elif line.startswith(b'"categories":'):
                categories = _categories_line(line, source)
            elif line.startswith(b"]"):
                section = None
            elif section == "videos":
                record = Record(_parse_record(line, offset, source), source, f"videos/{len(videos)}", context="malformed file")
                _add_video(videos, record.int("id", lenient=True), _video_name(record), (offset, len(line)), source)
            elif section == "annotations":
                _add_span(spans.setdefault(_annotation_video(line, offset, source), []), offset, len(line))
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


def _annotation_video(line: bytes, offset: int, source: str) -> int:
    """The ``video_id`` of an annotation line: from its first bytes as vosconv writes them, else parsed."""
    match = _ANNOTATION_PREFIX.match(line)
    if match:
        return int(match.group(1))
    record = Record(_parse_record(line, offset, source), source, f"annotation at byte {offset}", "malformed file")
    return record.int("video_id", lenient=True)


def _add_span(runs: list[tuple[int, int]], offset: int, length: int) -> None:
    """A line's byte range added to a video's: adjacent lines become one read."""
    if runs and runs[-1][0] + runs[-1][1] == offset:
        runs[-1] = (runs[-1][0], runs[-1][1] + length)
    else:
        runs.append((offset, length))


def _add_video(videos: dict, video_id: int, name: str, span: tuple[int, int], source: str) -> None:
    """A video's byte range by its id; a second video of the same id would silently replace the first."""
    if video_id in videos:
        raise SourceError(source, f"two videos share the id {video_id}: {videos[video_id][0]!r} and {name!r}")
    videos[video_id] = (name, span)


def _json_part(data: bytes, what: str, source: str) -> object:
    """The header's or the categories' JSON; SourceError when it does not parse."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise SourceError(source, f"malformed file: {what}: {_parse_failure(exc)}") from None


def _categories_line(line: bytes, source: str) -> tuple[object, ...]:
    """The ``"categories":[...]}`` line: a list (of what each is, :func:`_categories` makes sure)."""
    value = _json_part(line[len(b'"categories":') :].rstrip().rstrip(b"}"), "categories", source)
    if not isinstance(value, list):
        raise SourceError(source, f"malformed file: categories: expected a list, got {shown(value)}")
    return tuple(value)


def _video_name(record: Record) -> str:
    """The record's ``name``, else the folder of its first frame (YouTube-VIS has no names), else its id."""
    if record.raw("name", None):
        return record.text("name", lenient=True)
    file_names = record.texts("file_names")
    if not file_names:
        record.fail("expected a name, or file names to take one from", "file_names")
    return file_names[0].split("/")[-2] if "/" in file_names[0] else str(record.raw("id"))


def build_video(record: Record, annotations: list[object], placeholders: set[int], images: str | None) -> Video:
    """A Video from its YouTube-VIS records; area and bbox are recomputed from the RLE, never trusted.

    Sizes and ids are taken as ``int()`` takes them: other tools write ``480.0`` or ``"7"``.
    """
    name = _video_name(record)
    height, width = record.int("height", lenient=True), record.int("width", lenient=True)
    if height <= 0 or width <= 0:
        raise ValueError(f"frame size {width}x{height} is not positive")
    file_names = record.texts("file_names")
    length = len(file_names)
    annotated = set(record.ints("annotated_frames", range(length)))
    per_frame: list[list[Mask]] = [[] for _ in range(length)]
    void: list[Mask | None] = [None] * length
    objects = []
    for position, value in enumerate(annotations):
        number = value.get("id", position + 1) if isinstance(value, dict) else position + 1
        annotation = Record(value, record.path, context=f"{record.context}: annotation {shown(number)}")
        try:
            _add_annotation(annotation, position, height, width, placeholders, annotated, per_frame, void, objects)
        except ValueError as exc:  # what the RLE, the polygon checks or the model refuse
            raise ValueError(f"annotation {shown(number)}: {exc}") from None
    facts = Record(record.raw(HEADER_KEY, None) or {}, record.path, HEADER_KEY, record.context)
    add_recorded_void(facts, height, width, annotated, void)
    palette = facts.text("palette", None, nullable=True)
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
        encoding=MaskEncoding(facts.text("encoding", "palette")),
        palette=base64.b64decode(palette) if palette else None,
        metadata=_scalars(record, "metadata", record.raw("metadata", None)),
    )


def _scalars(record: Record, key: str, value: object) -> tuple[tuple[str, object], ...]:
    """A ``{key: JSON scalar}`` object (metadata, one frame's values) as pairs; None is none (the model checks the values)."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        record.fail(f"expected an object of key: value pairs, got {type(value).__name__}", key)
    return tuple(value.items())


def _add_annotation(
    annotation: Record,
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
    object_id = annotation.int("object_id", position + 1, lenient=True)
    length = len(per_frame)
    segmentations = annotation.list("segmentations")
    if len(segmentations) != length:
        raise ValueError(f"object {object_id} has {len(segmentations)} segmentations for {length} frames")
    is_void = bool(annotation.raw("iscrowd", None)) and object_id == VOID_ID
    if not is_void:
        category = annotation.raw("category_id", None)  # the model says what is wrong with it
        meta = annotation.texts("meta_frames", None, nullable=True)
        placeholder = type(category) is int and category in placeholders
        metadata = _scalars(annotation, "metadata", annotation.raw("metadata", None))
        objects.append(ObjectInfo(object_id, None if placeholder else category, None if meta is None else tuple(meta), metadata))
    frame_values = annotation.list("frame_values", None, nullable=True) or [None] * length
    if len(frame_values) != length:
        raise ValueError(f"object {object_id} has {len(frame_values)} frame_values for {length} frames")
    frame_values = [_scalars(annotation, f"frame_values/{i}", v) for i, v in enumerate(frame_values)]
    for index, segmentation in enumerate(segmentations):
        if segmentation is None:
            continue
        if index not in annotated:
            raise ValueError(f"object {object_id} has a mask on frame {index}, which is not annotated")
        try:
            counts, area, bbox = rle.measure_canonical(segmentation_counts(segmentation, height, width), height, width)
        except ValueError as exc:
            raise ValueError(f"frame {index}: {exc}") from None
        if area == 0:
            continue  # an all-zero RLE (SA-V style) means absent
        mask = Mask(object_id, counts, area, bbox, frame_values[index])
        if is_void:
            void[index] = mask
        else:
            per_frame[index].append(mask)


def _remove_tmp(folder: str, owner: int) -> None:
    """Remove a reader's index folder, in the process that made it only (a forked worker's copy is no owner)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)
