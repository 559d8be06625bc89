"""Another tool's YouTube-VIS JSON, rewritten once into the line-per-record form the ``coco`` index reads.

A YouTube-VIS, OVIS or LV-VIS file is one JSON document (hundreds of MB for OVIS train), never
held whole: :func:`scan_document` reads it through :mod:`converters.sources.jsonscan`, one
video or annotation at a time (gunzipped as it is read), each written out as one line of a
temporary file as it comes, checked; from then on each video is read from its own lines.
Memory follows the scan's window and the largest record, not the file: listing a 207 MB file
(2,793 videos, 113,454 masks) peaks at 119 MB RSS (a ``json.load`` of it alone: 1.1 GB), in about
1.5 times the CPU time of that ``json.load``. What the file says that vosconv's model has no field for is carried in the
fields vosconv's own files use: a crowd track's ``iscrowd`` as object metadata, UNINEXT's
``ori_id`` as the object id.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ...errors import SourceError
from ...records import shown
from ...sources import jsonscan, tempfiles
from ..coco.spec import GZIP_MAGIC, HEADER_KEY

#: What the coco and ytvis readers say of a CocoVID document (images numbered by frame_id) they are given.
COCOVID_POINTER = "a CocoVID file (images with frame_id and video_id, one annotation per frame): read it with --from cocovid"


def scan_document(source: Path, lists: Mapping[str, jsonscan.Visitor], header: dict) -> dict:
    """The document's top-level object, each element of the lists named in ``lists`` handed to its visitor as it
    is read (gunzipped as it is read when gzip) and left out; a SourceError naming what is wrong with the file.
    The top-level values go into ``header`` as they are read."""
    try:
        with _unpacked(source) as file:
            return jsonscan.scan(file, source, lists, "a video COCO JSON", header)
    except jsonscan.JsonFault as exc:
        said = "not valid JSON" if exc.malformed else "not JSON that can be read"
        raise SourceError(source, f"{said}: {exc.cause}") from None
    except IsADirectoryError:  # --from cocovid given a dataset folder
        raise SourceError(source, "a folder; this reader reads one .json or .json.gz file") from None
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, OSError) and tempfiles.failed_writing(exc):
            raise  # a visitor's lines, to a full disk: the caller knows the folder
        raise SourceError(source, f"cannot read: {exc}") from None


@contextmanager
def _unpacked(path: Path) -> Iterator[BinaryIO]:
    """The file's bytes, gunzipped as they are read when it is gzip (by its first bytes, whatever its name)."""
    with open(path, "rb") as raw:
        packed = raw.read(len(GZIP_MAGIC)) == GZIP_MAGIC
        raw.seek(0)
        with gzip.GzipFile(fileobj=raw) if packed else raw as file:
            yield file


def normalise(source: Path, out: Path) -> None:
    """Rewrite someone else's YouTube-VIS JSON (one video or annotation at a time) into vosconv's line-per-record
    form, checked.

    A file with no ``annotations`` at all (a valid or test split as some tools give it) annotates
    no frame; an empty list annotates every listed frame, and no object is on any.
    """
    with _Normalised(source, out) as lines:
        data = scan_document(source, {"videos": lines.video, "annotations": lines.annotation, "images": _skip}, lines.header)
        if "videos" not in data or ("annotations" not in data and "images" in data):
            if "images" in data:
                raise SourceError(source, COCOVID_POINTER)
            raise SourceError(source, 'not a video COCO JSON: expected "videos" and "annotations"')
        for key in ("videos", "annotations", "categories"):  # null is none; false or 0 is no list either
            if data.get(key) is not None and not isinstance(data[key], list):
                raise SourceError(source, f"malformed file: {key}: expected a list, got {shown(data[key])}")
        if "images" in data and not lines.file_names:
            raise SourceError(source, COCOVID_POINTER)
        info = data.get("info")  # kept: a vosconv file re-saved by json.dump still says where it came from
        own = isinstance(info, dict) and HEADER_KEY in info
        if not own and lines.length_fault:
            raise SourceError(source, lines.length_fault)
        unannotated = not own and data.get("annotations") is None
        recarry = not own and lines.uncarried
        lines.finish(info if isinstance(info, dict) else {}, data.get("categories") or [], unannotated, recarry)


def _skip(number: int, value: object, span: tuple[int, int]) -> None:
    """A list read for its presence only (``images``, which tells a CocoVID file)."""


class _Normalised:
    """A YouTube-VIS document's videos and annotations as they are read, each list in a file of its own until
    :meth:`finish` puts them into the line form after the header (which the document may give last)."""

    def __init__(self, source: Path, out: Path) -> None:
        self.source, self.out = source, out
        self.header: dict = {}
        self.videos = _Section(out.with_name(out.name + ".videos"))
        self.annotations = _Section(out.with_name(out.name + ".annotations"))
        self.file_names = False  # whether a video lists file_names (a CocoVID file's do not)
        self.length_fault: str | None = None
        self.uncarried = False  # an annotation written before the header said whose file it is, which _carried changes

    def __enter__(self) -> _Normalised:
        return self

    def __exit__(self, *exc) -> None:
        for section in (self.videos, self.annotations):
            section.remove()

    def _own(self) -> bool | None:
        """Whether the file is vosconv's own, once its ``info`` has been read; None before."""
        if "info" not in self.header:
            return None
        info = self.header["info"]
        return isinstance(info, dict) and HEADER_KEY in info

    def video(self, position: int, value: object, span: tuple[int, int]) -> None:
        self.file_names = self.file_names or (isinstance(value, dict) and "file_names" in value)
        self.length_fault = self.length_fault or _length_fault(position, value)
        self.videos.add(compact(value))

    def annotation(self, position: int, value: object, span: tuple[int, int]) -> None:
        own = self._own()
        carried = value if own else _carried(value)
        if own is None and carried is not value:
            self.uncarried, carried = True, value  # written as it is; carried in finish if the file is not vosconv's
        self.annotations.add(compact(carried))

    def finish(self, info: dict, categories: list, unannotated: bool, recarry: bool) -> None:
        with open(self.out, "wb") as file:
            file.write(('{"info":' + compact(info) + ',\n"videos":[\n').encode())
            self.videos.copy_to(file, _unannotated if unannotated else None)
            file.write(b'\n],\n"annotations":[\n')
            self.annotations.copy_to(file, _carried if recarry else None)
            file.write(('\n],\n"categories":' + json.dumps(categories) + "}\n").encode())


class _Section:
    """One list's records, a line each, in a file of its own: joined as the line form joins them (``,\\n``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = open(path, "wb")  # noqa: SIM115 (closed by copy_to or remove)
        self.count = 0

    def add(self, line: str) -> None:
        self.file.write((",\n" + line if self.count else line).encode())
        self.count += 1

    def copy_to(self, out: BinaryIO, change: Callable[[object], object] | None) -> None:
        """The records into ``out``, as they are or each one changed."""
        self.file.close()
        with open(self.path, "rb") as file:
            if change is None:
                shutil.copyfileobj(file, out, 1 << 18)
                return
            for number, line in enumerate(file):
                record = compact(change(json.loads(line.rstrip(b",\n"))))
                out.write((",\n" + record if number else record).encode())

    def remove(self) -> None:
        self.file.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def write_lines(out: Path, info: dict, videos: Iterable[object], annotations: Iterable[object], categories: list) -> None:
    """The line-per-record form vosconv's coco writer makes (and ``coco.reader`` indexes): a header line,
    one line per video, one per annotation, the categories on the last line; written a record at a time
    (a record given as a ``str`` is its JSON text already)."""
    with open(out, "w") as file:
        file.write('{"info":' + compact(info) + ',\n"videos":[\n')
        _write_records(file, videos)
        file.write('\n],\n"annotations":[\n')
        _write_records(file, annotations)
        file.write('\n],\n"categories":' + json.dumps(categories) + "}\n")


def _write_records(file, records: Iterable[object]) -> None:
    for number, record in enumerate(records):
        line = record if isinstance(record, str) else compact(record)
        file.write(",\n" + line if number else line)


def compact(value: object) -> str:
    """A value as the one line of JSON text the line form stores it as (no blanks)."""
    return json.dumps(value, separators=(",", ":"))


def _length_fault(position: int, video: object) -> str | None:
    """What is wrong with a video's ``length``, where given: it is the number of its ``file_names`` (Mask2Former
    indexes one by the other)."""
    if not isinstance(video, dict) or "length" not in video or not isinstance(video.get("file_names"), list):
        return None  # what else is wrong with the record, the index says
    length, names = video["length"], len(video["file_names"])
    if isinstance(length, bool) or not isinstance(length, (int, float)) or length != names:
        return f"malformed file: videos/{position} (id {shown(video.get('id'))}): length {shown(length)} but {names} file_names"
    return None


def _unannotated(video: object) -> object:
    """A video of a file without annotations: none of its frames is annotated."""
    return {**video, "annotated_frames": []} if isinstance(video, dict) else video


def _carried(annotation: object) -> object:
    """An annotation with what vosconv's model keeps in other fields: ``iscrowd`` as metadata, ``ori_id`` as the
    object id; the annotation itself when it has neither."""
    if not isinstance(annotation, dict):
        return annotation
    crowd = annotation.get("iscrowd")
    crowded = crowd and not isinstance(crowd, (list, dict))
    original = annotation.get("ori_id")  # UNINEXT's VOS files: the object's pixel value, as a string
    numbered = "object_id" not in annotation and isinstance(original, str) and original.isdigit() and original.isascii()
    if not crowded and not numbered:
        return annotation
    carried = dict(annotation)
    if crowded:
        metadata = annotation.get("metadata")
        carried["metadata"] = {**(metadata if isinstance(metadata, dict) else {}), "iscrowd": crowd}
        carried["iscrowd"] = 0  # kept as metadata; a crowd track is never vosconv's void track
    if numbered:
        carried["object_id"] = int(original)
    return carried
