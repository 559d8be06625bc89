"""CocoVID (mmdet 3.x, ex-mmtracking; UNINEXT): mmdet's ``youtubevis2coco.py`` output and vosconv's ``cocovid`` files.

``videos`` (``id``, ``name``, ``width``, ``height``), ``images`` (``id``, ``video_id``, ``frame_id``
= the frame's position in its video, ``file_name``) and one ``annotations`` entry per frame and
track (``image_id``, ``instance_id``, ``category_id``, ``segmentation``, ``iscrowd``): each video's
frames are its images in ``frame_id`` order, and each track's masks are gathered from its
annotations. Segmentations may be compressed RLE, uncompressed RLE or polygons (mmdet's converter
passes YouTube-VIS's through); areas and boxes are recomputed from them.

Objects: vosconv's files keep each track's ``object_id``; in others, ``instance_id`` numbers
tracks over the whole file (mmdet: from 1, in order of first appearance), so each video's tracks
become objects 1..K in ``instance_id`` order, the ``instance_id`` kept as object metadata (and
``iscrowd``, for a crowd track). Frames: a frame with no annotation is annotated and empty (mmdet
lists only annotated frames), unless vosconv's ``annotated`` flag says it was not annotated at
all; vosconv's ``void`` region of an image comes back as the frame's void.

Memory: the file is one JSON document, loaded whole once and rewritten as YouTube-VIS tracks, one
record per line, to a temporary file (as the ``ytvis`` reader does); each video is then read
from its own lines.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Hashable
from pathlib import Path

from ...codecs import rle
from ...errors import SourceError
from ...model import VOID_ID, FrameMasks, Mask, Video
from ...reader import Detection
from ...records import Record, shown
from ..coco.reader import CocoReader, CocoVideoRef, _index_lines, _load_span, build_video
from ..coco.segmentation import counts as segmentation_counts
from ..coco.spec import HEADER_KEY, SUFFIXES, check_header, is_vosconv_coco
from ..ytvis import spec
from ..ytvis.lines import load_document, write_lines

#: The key of each video's void masks (frame by frame) in the rewritten file: the model's, not a YouTube-VIS field.
_VOID = "void_masks"


class CocoVidReader(CocoReader):
    """Reads CocoVID JSON: mmdet's ``youtubevis2coco.py`` output and vosconv's own ``cocovid`` files."""

    name = "cocovid"

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        if not source.is_file():
            return Detection(0, "not a .json or .json.gz file")
        data = spec.head(source)
        if spec.is_cocovid_head(data) and is_vosconv_coco(data):
            return Detection(10, "a vosconv CocoVID JSON")
        if spec.is_cocovid_head(data):
            return Detection(10, "a CocoVID JSON: images with frame_id and video_id")
        named = source.name.lower().endswith(SUFFIXES)
        why = "a JSON without images numbered by frame_id" if named else "not a .json or .json.gz file"
        return Detection(0, why, near=3 * named)

    def _ensure_index(self):
        if self._index is None:
            self._make_tmp("vosconv-cocovid-")
            try:
                lines = Path(self._tmp) / "tracks.json"
                write_lines(lines, *as_tracks(load_document(self.source), self.source))
                self._index = _index_lines(lines, str(self.source))
                check_header(self._index.header, self.source)
            except OSError as exc:
                self.close()
                raise SourceError(self.source, f"cannot read: {exc.strerror or exc}") from None
            except BaseException:
                self.close()
                raise
        return self._index

    def read_video(self, ref: CocoVideoRef) -> Video:
        index = self._ensure_index()
        try:
            with open(ref.path, "rb") as file:
                (record,) = _load_span(file, ref.video, self.source)
                tracks = [a for span in ref.annotations for a in _load_span(file, span, self.source)]
        except OSError as exc:
            raise SourceError(self.source, f"cannot read video {ref.name!r}: {exc.strerror or exc}") from None
        placeholders = set(index.header.get(HEADER_KEY, {}).get("placeholder_categories", []))
        context = f"video {ref.name!r}"
        try:
            video = build_video(Record(record, self.source, context=context), tracks, placeholders, self._images_dir())
            return _with_void(video, record.get(_VOID))
        except ValueError as exc:  # what the RLE, the polygon checks or the model refuse
            raise SourceError(self.source, f"{context}: {type(exc).__name__}: {exc}") from None


def _with_void(video: Video, void: list | None) -> Video:
    """The video with each frame's void region (vosconv's ``void`` of its image) put back."""
    if not void:
        return video
    frames = list(video.frames)
    for index, counts in enumerate(void):
        if counts is None or frames[index].masks is None:
            continue
        counts, area, bbox = rle.measure_canonical(counts, video.height, video.width)
        if not area:  # all zero: no void, as the coco reader takes it
            continue
        masks = frames[index].masks
        frames[index] = dataclasses.replace(frames[index], masks=FrameMasks(masks.objects, Mask(VOID_ID, counts, area, bbox)))
    return dataclasses.replace(video, frames=tuple(frames))


# ---------------------------------------------------------------------------------------------------- CocoVID -> tracks


def as_tracks(data: dict, source: Path) -> tuple[dict, list[dict], list[dict], list]:
    """(info, videos, annotations, categories) of a CocoVID document, as YouTube-VIS tracks: one record per video
    listing its frames' file names, one per track with a segmentation for each frame (None where absent)."""
    for key in ("videos", "images"):
        if not isinstance(data.get(key), list):
            raise SourceError(source, f'not a CocoVID JSON: expected "{key}" to be a list, got {shown(data.get(key))}')
    info = data.get("info") if isinstance(data.get("info"), dict) and HEADER_KEY in data["info"] else {}
    categories = data.get("categories") or []
    if not isinstance(categories, list):
        raise SourceError(source, f"malformed file: categories: expected a list, got {shown(categories)}")
    videos = _videos(data["videos"], source)
    frames = _frames(data["images"], videos, source)
    annotations = data.get("annotations") or []
    if not isinstance(annotations, list):
        raise SourceError(source, f"malformed file: annotations: expected a list, got {shown(annotations)}")
    known = {
        Record(c, source, f"categories/{i}", context="malformed file").int("id", lenient=True)
        for i, c in enumerate(categories)
        if isinstance(c, dict) and "id" in c
    }
    _check_track_slots(annotations, frames, source)
    tracks = _tracks(annotations, frames, known, source)
    records, track_records = [], []
    for video_id, video in videos.items():
        images = frames[video_id]
        records.append(_video_record(video, images))
        listed = _listed_objects(video)
        found = tracks.get(video_id, {})
        for object_id, obj in listed.items():  # an object of vosconv's file with no mask on any frame
            empty = {"category_id": obj.get("category_id"), "iscrowd": 0, "frames": {}, "values": {}}
            found.setdefault(("object", object_id), empty)
        track_records.extend(_track_records(video_id, found, len(images), listed, source))
    for number, track in enumerate(track_records, 1):
        track["id"] = number
    return info, records, track_records, categories


#: A CocoVID file lists masks one per frame and track; read as YouTube-VIS tracks, each track has a slot for every
#: frame of its video. Past this many slots, and this many per annotation, a file is refused rather than expanded.
MAX_TRACK_SLOTS = 1 << 24
TRACK_SLOTS_PER_ANNOTATION = 64


def _check_track_slots(annotations: list, frames: dict[int, list[Record]], source: Path) -> None:
    """Refuse a file whose tracks would expand to far more per-frame slots than it has annotations (a few MB of
    single-frame tracks over long videos would otherwise become gigabytes)."""
    video_of = {}
    for images in frames.values():
        for image in images:
            video_of[image.raw("id", None)] = id(images)
    lengths = {id(images): len(images) for images in frames.values()}
    tracks: set[tuple] = set()
    for value in annotations:
        image_id = value.get("image_id") if isinstance(value, dict) else None
        if isinstance(image_id, Hashable) and image_id in video_of:  # an object or a list is no id: _tracks says so
            track = value.get("object_id", value.get("instance_id"))
            if isinstance(track, (int, str)):
                tracks.add((video_of[image_id], track))
    slots = sum(lengths[video] for video, _ in tracks)
    if slots > MAX_TRACK_SLOTS and slots > TRACK_SLOTS_PER_ANNOTATION * len(annotations):
        raise SourceError(
            source,
            f"{len(tracks)} tracks over videos of up to {max(lengths.values(), default=0)} frames would take {slots} "
            f"per-frame slots for {len(annotations)} annotations (more than {MAX_TRACK_SLOTS} and "
            f"{TRACK_SLOTS_PER_ANNOTATION} per annotation)",
        )


def _videos(values: list, source: Path) -> dict[int, Record]:
    videos: dict[int, Record] = {}
    for position, value in enumerate(values):
        video = Record(value, source, f"videos/{position}", context="malformed file")
        video_id = video.int("id", lenient=True)
        if video_id in videos:
            video.fail(f"two videos share the id {video_id}")
        videos[video_id] = video
    return videos


def _frames(values: list, videos: dict[int, Record], source: Path) -> dict[int, list[Record]]:
    """Each video's images in ``frame_id`` order."""
    frames: dict[int, dict[int, Record]] = {video_id: {} for video_id in videos}
    seen: set[int] = set()
    for position, value in enumerate(values):
        image = Record(value, source, f"images/{position}", context="malformed file")
        image_id, video_id = image.int("id", lenient=True), image.int("video_id", lenient=True)
        frame_id = image.int("frame_id", lenient=True)
        if image_id in seen:
            image.fail(f"two images share the id {image_id}")
        seen.add(image_id)
        if video_id not in frames:
            image.fail(f"video id {video_id} is not in videos")
        if frame_id in frames[video_id]:
            image.fail(f"two images are frame {frame_id} of video {video_id}")
        frames[video_id][frame_id] = image
    return {video_id: [found[f] for f in sorted(found)] for video_id, found in frames.items()}


def _video_record(video: Record, images: list[Record]) -> dict:
    """The video as YouTube-VIS lists it, with vosconv's facts where its file gave them."""
    width = video.raw("width", None) if "width" in video else (images[0].raw("width", None) if images else None)
    height = video.raw("height", None) if "height" in video else (images[0].raw("height", None) if images else None)
    record = {
        "id": video.raw("id"),
        "width": width,
        "height": height,
        "length": len(images),
        "file_names": [image.text("file_name") for image in images],
    }
    if video.raw("name", None):
        record["name"] = video.raw("name")
    if any("annotated" in image for image in images):
        record["annotated_frames"] = [i for i, image in enumerate(images) if image.bool("annotated", True)]
    if HEADER_KEY in video:
        record[HEADER_KEY] = video.raw(HEADER_KEY)
    void = [_void(image) for image in images]
    if any(v is not None for v in void):
        record[_VOID] = void
    if video.raw("metadata", None) is not None:  # vosconv's: the video's own fields
        record["metadata"] = video.raw("metadata")
    return record


def _void(image: Record) -> str | None:
    """vosconv's ``void`` region of an image, as a counts string."""
    if "void" not in image or image.raw("void") is None:
        return None
    width, height = image.int("width", lenient=True), image.int("height", lenient=True)
    try:
        return segmentation_counts(image.raw("void"), height, width)
    except (ValueError, KeyError, TypeError) as exc:
        image.fail(f"void: {exc}", "void")


def _tracks(annotations: list, frames: dict[int, list[Record]], known: set, source: Path) -> dict[int, dict[tuple, dict]]:
    """Per video, per track key (``("object", id)`` or ``("instance", id)``): category, crowd flag, segmentation by frame."""
    where = {image.int("id", lenient=True): (video, i) for video, images in frames.items() for i, image in enumerate(images)}
    tracks: dict[int, dict[tuple, dict]] = defaultdict(dict)
    for position, value in enumerate(annotations):
        annotation = Record(value, source, f"annotations/{position}", context="malformed file")
        image_id = annotation.int("image_id", lenient=True)
        if image_id not in where:
            annotation.fail(f"image id {image_id} is not in images")
        video_id, index = where[image_id]
        if "video_id" in annotation and annotation.int("video_id", lenient=True) != video_id:
            annotation.fail(f"video id {annotation.raw('video_id')} differs from its image's, {video_id}")
        key = _track_key(annotation)
        category = annotation.int("category_id", None, lenient=True, nullable=True)
        if category is not None and category not in known:
            annotation.fail(f"category id {shown(category)} is not in the file's categories")
        track = tracks[video_id].setdefault(key, {"category_id": category, "iscrowd": 0, "frames": {}, "values": {}})
        if track["category_id"] != category:
            annotation.fail(f"{key[0]} {key[1]} is category {shown(category)} here and {shown(track['category_id'])} elsewhere")
        if index in track["frames"]:
            annotation.fail(f"{key[0]} {key[1]} has two annotations on frame {index} of video {video_id}")
        track["frames"][index] = annotation.raw("segmentation")
        if annotation.raw("values", None) is not None:  # vosconv's: the mask's per-frame values
            track["values"][index] = annotation.raw("values")
        crowd = annotation.raw("iscrowd", 0)
        if crowd and not isinstance(crowd, (list, dict)):
            track["iscrowd"] = crowd
    return tracks


def _track_key(annotation: Record) -> tuple[str, int]:
    """vosconv's ``object_id``, else mmdet's ``instance_id`` (0 or none is mmdet's "no instance": not a track)."""
    if "object_id" in annotation:
        return "object", annotation.int("object_id", lenient=True)
    instance = annotation.int("instance_id", None, lenient=True, nullable=True)
    if not instance:
        annotation.fail("no instance_id: a CocoVID annotation says which track it belongs to (from 1)", "instance_id")
    return "instance", instance


def _listed_objects(video: Record) -> dict[int, dict]:
    """vosconv's table of the video's objects (``vosconv.objects``), by object id; empty in others' files."""
    facts = Record(video.raw(HEADER_KEY, None) or {}, video.path, video.where(HEADER_KEY), video.context)
    listed = {}
    for obj in facts.each(facts.list("objects", []), "objects"):
        listed[obj.int("object_id")] = obj.value
    return listed


def _track_records(video_id: int, tracks: dict[tuple, dict], length: int, listed: dict[int, dict], source: Path) -> list[dict]:
    """The video's tracks as YouTube-VIS annotations: vosconv's by object id, others numbered 1..K by instance id."""
    kinds = {kind for kind, _ in tracks}
    if len(kinds) > 1:
        raise SourceError(source, f"malformed file: video {video_id} mixes annotations with and without object_id")
    records = []
    for number, key in enumerate(sorted(tracks), 1):
        track = tracks[key]
        kind, value = key
        metadata = {"instance_id": value} if kind == "instance" else {}
        if track["iscrowd"]:
            metadata["iscrowd"] = track["iscrowd"]
        segmentations = [track["frames"].get(index) for index in range(length)]
        record = {
            "id": 0,  # numbered over the file by as_tracks
            "video_id": video_id,
            "category_id": track["category_id"],
            "object_id": value if kind == "object" else number,
            "iscrowd": 0,
            "segmentations": segmentations,
        }
        if track["values"]:
            record["frame_values"] = [track["values"].get(index) for index in range(length)]
        facts = listed.get(value, {}) if kind == "object" else {}
        if facts.get("frames") is not None:
            record["meta_frames"] = facts["frames"]
        if isinstance(facts.get("metadata"), dict):
            metadata.update(facts["metadata"])
        if metadata:
            record["metadata"] = metadata
        records.append(record)
    return records
