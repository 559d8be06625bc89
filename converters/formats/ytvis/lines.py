"""Another tool's YouTube-VIS JSON, rewritten once into the line-per-record form the ``coco`` index reads.

A YouTube-VIS, OVIS or LV-VIS file is one JSON document (hundreds of MB for OVIS train): it
is loaded whole, once, checked, and written out one record per line to a temporary file; from
then on each video is read from its own lines, and the document is let go. What the file
says that vosconv's model has no field for is carried in the fields vosconv's own files use:
a crowd track's ``iscrowd`` as object metadata, UNINEXT's ``ori_id`` as the object id.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable
from pathlib import Path

from ...errors import SourceError
from ...records import shown
from ..coco.spec import GZIP_MAGIC, HEADER_KEY

#: What the coco and ytvis readers say of a CocoVID document (images numbered by frame_id) they are given.
COCOVID_POINTER = "a CocoVID file (images with frame_id and video_id, one annotation per frame): read it with --from cocovid"


def load_document(source: Path) -> dict:
    """The whole JSON document (gunzipped when gzip); a SourceError naming what is wrong with it."""
    try:
        with open(source, "rb") as raw:
            packed = raw.read(len(GZIP_MAGIC)) == GZIP_MAGIC
        with gzip.open(source, "rb") if packed else open(source, "rb") as file:
            data = json.load(file)
    except json.JSONDecodeError as exc:
        raise SourceError(source, f"not valid JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:  # an integer of thousands of digits; nesting too deep; not UTF-8
        raise SourceError(source, f"not JSON that can be read ({type(exc).__name__}: {exc})") from None
    except IsADirectoryError:  # --from cocovid given a dataset folder
        raise SourceError(source, "a folder; this reader reads one .json or .json.gz file") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(source, f"cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise SourceError(source, f"not a video COCO JSON: expected an object, got {type(data).__name__}")
    return data


def normalise(source: Path, out: Path) -> None:
    """Rewrite someone else's YouTube-VIS JSON (loaded whole) into vosconv's line-per-record form, checked.

    A file with no ``annotations`` at all (a valid or test split as some tools give it) annotates
    no frame; an empty list annotates every listed frame, and no object is on any.
    """
    data = load_document(source)
    if "videos" not in data or ("annotations" not in data and "images" in data):
        if "images" in data:
            raise SourceError(source, COCOVID_POINTER)
        raise SourceError(source, 'not a video COCO JSON: expected "videos" and "annotations"')
    for key in ("videos", "annotations", "categories"):  # a value of false or 0 is no list either
        if not isinstance(data.get(key, []), list) and not (key != "videos" and data[key] is None):
            raise SourceError(source, f"malformed file: {key}: expected a list, got {shown(data[key])}")
    videos, annotations = data["videos"], data.get("annotations")
    if "images" in data and not any(isinstance(v, dict) and "file_names" in v for v in videos):
        raise SourceError(source, COCOVID_POINTER)
    info = data.get("info")  # kept: a vosconv file re-saved by json.dump still says where it came from
    own = isinstance(info, dict) and HEADER_KEY in info
    categories = data.get("categories") or []
    if not own:
        _check_videos(source, videos)
        if annotations is None:
            videos = [_unannotated(v) for v in videos]
        annotations = [_carried(a) for a in annotations or []]
    write_lines(out, info if isinstance(info, dict) else {}, videos, annotations, categories)


def write_lines(out: Path, info: dict, videos: Iterable[object], annotations: Iterable[object], categories: list) -> None:
    """The line-per-record form vosconv's coco writer makes (and ``coco.reader`` indexes): a header line,
    one line per video, one per annotation, the categories on the last line."""
    with open(out, "w") as file:
        file.write('{"info":' + _dumps(info) + ',\n"videos":[\n')
        file.write(",\n".join(_dumps(v) for v in videos))
        file.write('\n],\n"annotations":[\n')
        file.write(",\n".join(_dumps(a) for a in annotations))
        file.write('\n],\n"categories":' + json.dumps(categories) + "}\n")


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _check_videos(source: Path, videos: list) -> None:
    """Each video's ``length``, where given, is the number of its ``file_names`` (Mask2Former indexes one by the other)."""
    for position, video in enumerate(videos):
        if not isinstance(video, dict) or "length" not in video or not isinstance(video.get("file_names"), list):
            continue  # what else is wrong with the record, the index says
        length, names = video["length"], len(video["file_names"])
        if isinstance(length, bool) or not isinstance(length, (int, float)) or length != names:
            where = f"videos/{position} (id {shown(video.get('id'))})"
            raise SourceError(source, f"malformed file: {where}: length {shown(length)} but {names} file_names")


def _unannotated(video: object) -> object:
    """A video of a file without annotations: none of its frames is annotated."""
    return {**video, "annotated_frames": []} if isinstance(video, dict) else video


def _carried(annotation: object) -> object:
    """An annotation with what vosconv's model keeps in other fields: ``iscrowd`` as metadata, ``ori_id`` as the object id."""
    if not isinstance(annotation, dict):
        return annotation
    carried = dict(annotation)
    crowd = annotation.get("iscrowd")
    if crowd and not isinstance(crowd, (list, dict)):
        metadata = annotation.get("metadata")
        carried["metadata"] = {**(metadata if isinstance(metadata, dict) else {}), "iscrowd": crowd}
        carried["iscrowd"] = 0  # kept as metadata; a crowd track is never vosconv's void track
    original = annotation.get("ori_id")  # UNINEXT's VOS files: the object's pixel value, as a string
    if "object_id" not in annotation and isinstance(original, str) and original.isdigit() and original.isascii():
        carried["object_id"] = int(original)
    return carried
