"""A CocoVID document rewritten as YouTube-VIS tracks, one record per line, never held whole.

CocoVID lists one annotation per frame and track; the line form the ``coco`` index reads has a
record per track, with a segmentation for every frame of its video. The document is read once
through :func:`..ytvis.lines.scan_document` (gunzipped as it is read): videos are kept (they
are small); each image and annotation is checked on its own, its record (an image's) or its
segmentation (an annotation's) set aside as JSON text in a spill file, and kept as a few numbers
(its ids and where that text is). The tracks are then put together a video at a time from the
spilled text, never parsed again, so memory follows the largest video and the number of images
and annotations (a few hundred bytes each), not the file's size: listing a 224 MB mmdet file
(83,790 images, 113,454 annotations) peaks at 154 MB RSS (a ``json.load`` of it alone: 1.1 GB),
in about 1.7 times the CPU time of that ``json.load``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NoReturn

from ...errors import SourceError
from ...records import Record, shown
from ...sources.jsonscan import parse, read_span
from ..coco.segmentation import counts as segmentation_counts
from ..coco.spec import HEADER_KEY
from ..ytvis.lines import compact, scan_document, write_lines

#: The key of each video's void masks (frame by frame) in the rewritten file: the model's, not a YouTube-VIS field.
VOID_MASKS = "void_masks"

#: A CocoVID file lists masks one per frame and track; read as YouTube-VIS tracks, each track has a slot for every
#: frame of its video. Past this many slots, and this many per annotation, a file is refused rather than expanded.
MAX_TRACK_SLOTS = 1 << 24
TRACK_SLOTS_PER_ANNOTATION = 64

#: An image as the scan keeps it: (id, video id, frame id, its place in ``images``, its record's byte range in the spill).
_Image = tuple[int, int, int, int, int, int]
#: An annotation as the scan keeps it: (its place in ``annotations``, image id, video id or None, track kind, track id,
#: category id or None, iscrowd, byte offset in the spill, length of the segmentation there, of the values after it).
_Annotation = tuple[int, int, "int | None", str, int, "int | None", object, int, int, int]


def write_tracks(source: Path, out: Path, scratch: str) -> None:
    """Rewrite a CocoVID document as YouTube-VIS tracks in the line form at ``out``: one record per video listing its
    frames' file names, one per track with a segmentation for each frame (None where absent). ``scratch``: a folder
    for the images and segmentations, kept as JSON text until their videos are put together."""
    spill = Path(scratch) / "elements.json"
    try:
        with open(spill, "wb") as spilled:
            found = _Found(source, spilled)
            lists = {"videos": found.video, "images": found.image, "annotations": found.annotation}
            data = scan_document(source, lists, {})
        with open(spill, "rb") as file:
            tracks = _Tracks(source, file, data, found)
            write_lines(out, tracks.info, tracks.video_records(), tracks.track_lines(), tracks.categories)
    finally:
        if spill.exists():
            spill.unlink()


class _Found:
    """What the scan keeps of each video, image and annotation as it reads them: videos whole (they are small), each
    image and each annotation's segmentation as JSON text in the spill, and a few numbers to find them by."""

    def __init__(self, source: Path, spill: BinaryIO) -> None:
        self.source, self.spill, self.end = source, spill, 0
        self.videos: list[object] = []
        self.images: list[_Image] = []
        self.annotations: list[_Annotation] = []

    def _keep(self, value: object) -> int:
        """The value's JSON text appended to the spill; its length there."""
        data = compact(value).encode()
        self.spill.write(data)
        self.end += len(data)
        return len(data)

    def video(self, position: int, value: object, span: tuple[int, int]) -> None:
        self.videos.append(value)

    def image(self, position: int, value: object, span: tuple[int, int]) -> None:
        image = Record(value, self.source, f"images/{position}", context="malformed file")
        ids = image.int("id", lenient=True), image.int("video_id", lenient=True), image.int("frame_id", lenient=True)
        offset = self.end
        self.images.append((*ids, position, offset, self._keep(value)))

    def annotation(self, position: int, value: object, span: tuple[int, int]) -> None:
        annotation = Record(value, self.source, f"annotations/{position}", context="malformed file")
        image_id = annotation.int("image_id", lenient=True)
        video_id = annotation.int("video_id", lenient=True) if "video_id" in annotation else None
        kind, track = _track_key(annotation)
        category = annotation.int("category_id", None, lenient=True, nullable=True)
        crowd = annotation.raw("iscrowd", 0)
        crowd = crowd if crowd and not isinstance(crowd, (list, dict)) else 0
        offset, values = self.end, annotation.raw("values", None)  # values: vosconv's, the mask's per-frame values
        shape = self._keep(annotation.raw("segmentation"))
        kept = self._keep(values) if values is not None else 0
        self.annotations.append((position, image_id, video_id, kind, track, category, crowd, offset, shape, kept))


class _Tracks:
    """The scanned document checked as a whole, and its videos and tracks as the line form's records."""

    def __init__(self, source: Path, spill: BinaryIO, data: dict, found: _Found) -> None:
        self.source, self.spill = source, spill
        for key in ("videos", "images"):
            if not isinstance(data.get(key), list):
                raise SourceError(source, f'not a CocoVID JSON: expected "{key}" to be a list, got {shown(data.get(key))}')
        self.info = data.get("info") if isinstance(data.get("info"), dict) and HEADER_KEY in data["info"] else {}
        for key in ("categories", "annotations"):  # absent or null is none; false or 0 is no list either
            if data.get(key) is not None and not isinstance(data[key], list):
                raise SourceError(source, f"malformed file: {key}: expected a list, got {shown(data[key])}")
        self.categories = data.get("categories") or []
        self.videos = _videos(found.videos, source)
        self.frames = _frames(found.images, self.videos, source)
        known = {
            Record(c, source, f"categories/{i}", context="malformed file").int("id", lenient=True)
            for i, c in enumerate(self.categories)
            if isinstance(c, dict) and "id" in c
        }
        _check_track_slots(found.annotations, self.frames, source)
        self.annotations = _by_video(found.annotations, self.frames, known, source)

    def video_records(self) -> Iterator[dict]:
        for video_id, video in self.videos.items():
            images = [self._image(image) for image in self.frames[video_id]]
            yield _video_record(video, images)

    def track_lines(self) -> Iterator[str]:
        """Each track's record as the line form's JSON text, numbered over the file."""
        number = 0
        for video_id, video in self.videos.items():
            listed = _listed_objects(video)
            found = self._tracks(video_id)
            for object_id, obj in listed.items():  # an object of vosconv's file with no mask on any frame
                empty = {"category_id": obj.get("category_id"), "iscrowd": 0, "frames": {}, "values": {}}
                found.setdefault(("object", object_id), empty)
            for record, texts in _track_records(video_id, found, len(self.frames[video_id]), listed, self.source):
                number += 1
                record["id"] = number
                spliced = "".join(f',"{key}":[{",".join(text)}]' for key, text in texts.items())
                yield compact(record)[:-1] + spliced + "}"

    def _image(self, image: _Image) -> Record:
        where = f"images/{image[3]}"
        data = read_span(self.spill, image[4:6], self.source, where)
        return Record(parse(data, self.source, where), self.source, where, context="malformed file")

    def _tracks(self, video_id: int) -> dict[tuple, dict]:
        """The video's tracks by key (``("object", id)`` or ``("instance", id)``): category, crowd flag, and the JSON
        text of the segmentation and values by frame."""
        tracks: dict[tuple, dict] = {}
        for position, index, kind, track_id, category, crowd, offset, shape, kept in self.annotations.pop(video_id, ()):
            where = f"annotations/{position}"
            track = tracks.setdefault((kind, track_id), {"category_id": category, "iscrowd": 0, "frames": {}, "values": {}})
            if track["category_id"] != category:
                elsewhere = shown(track["category_id"])
                _fail(self.source, where, f"{kind} {track_id} is category {shown(category)} here and {elsewhere} elsewhere")
            if index in track["frames"]:
                _fail(self.source, where, f"{kind} {track_id} has two annotations on frame {index} of video {video_id}")
            text = read_span(self.spill, (offset, shape + kept), self.source, where).decode()
            track["frames"][index] = text[:shape]
            if kept:
                track["values"][index] = text[shape:]
            if crowd:
                track["iscrowd"] = crowd
        return tracks


def _fail(source: Path, where: str, cause: str) -> NoReturn:
    raise SourceError(source, f"malformed file: {where}: {cause}")


def _videos(values: list, source: Path) -> dict[int, Record]:
    videos: dict[int, Record] = {}
    for position, value in enumerate(values):
        video = Record(value, source, f"videos/{position}", context="malformed file")
        video_id = video.int("id", lenient=True)
        if video_id in videos:
            video.fail(f"two videos share the id {video_id}")
        videos[video_id] = video
    return videos


def _frames(images: list[_Image], videos: dict[int, Record], source: Path) -> dict[int, list[_Image]]:
    """Each video's images in ``frame_id`` order."""
    frames: dict[int, dict[int, _Image]] = {video_id: {} for video_id in videos}
    seen: set[int] = set()
    for image in images:
        image_id, video_id, frame_id, position = image[:4]
        if image_id in seen:
            _fail(source, f"images/{position}", f"two images share the id {image_id}")
        seen.add(image_id)
        if video_id not in frames:
            _fail(source, f"images/{position}", f"video id {video_id} is not in videos")
        if frame_id in frames[video_id]:
            _fail(source, f"images/{position}", f"two images are frame {frame_id} of video {video_id}")
        frames[video_id][frame_id] = image
    return {video_id: [found[f] for f in sorted(found)] for video_id, found in frames.items()}


def _check_track_slots(annotations: list[_Annotation], frames: dict[int, list[_Image]], source: Path) -> None:
    """Refuse a file whose tracks would expand to far more per-frame slots than it has annotations (a few MB of
    single-frame tracks over long videos would otherwise become gigabytes)."""
    video_of = {image[0]: video_id for video_id, images in frames.items() for image in images}
    tracks = {(video_of[a[1]], a[4]) for a in annotations if a[1] in video_of}
    slots = sum(len(frames[video]) for video, _ in tracks)
    if slots > MAX_TRACK_SLOTS and slots > TRACK_SLOTS_PER_ANNOTATION * len(annotations):
        longest = max((len(images) for images in frames.values()), default=0)
        raise SourceError(
            source,
            f"{len(tracks)} tracks over videos of up to {longest} frames would take {slots} "
            f"per-frame slots for {len(annotations)} annotations (more than {MAX_TRACK_SLOTS} and "
            f"{TRACK_SLOTS_PER_ANNOTATION} per annotation)",
        )


def _by_video(
    annotations: list[_Annotation], frames: dict[int, list[_Image]], known: set, source: Path
) -> dict[int, list[tuple]]:
    """Each video's annotations as the scan kept them, the image id and video id replaced by the frame's index, each
    checked against the images and the categories; the scan's list is emptied as it goes."""
    where = {image[0]: (video, i) for video, images in frames.items() for i, image in enumerate(images)}
    videos: dict[int, list[tuple]] = defaultdict(list)
    annotations.reverse()
    while annotations:
        position, image_id, given_video, kind, track, category, *kept = annotations.pop()
        if image_id not in where:
            _fail(source, f"annotations/{position}", f"image id {image_id} is not in images")
        video_id, index = where[image_id]
        if given_video is not None and given_video != video_id:
            _fail(source, f"annotations/{position}", f"video id {given_video} differs from its image's, {video_id}")
        if category is not None and category not in known:
            _fail(source, f"annotations/{position}", f"category id {shown(category)} is not in the file's categories")
        videos[video_id].append((position, index, kind, track, category, *kept))
    return videos


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
        record[VOID_MASKS] = void
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


def _track_records(
    video_id: int, tracks: dict[tuple, dict], length: int, listed: dict[int, dict], source: Path
) -> list[tuple[dict, dict[str, list[str]]]]:
    """The video's tracks as YouTube-VIS annotations: vosconv's by object id, others numbered 1..K by instance id.
    Each without its per-frame lists, which come as JSON text: ``segmentations`` and, where given, ``frame_values``."""
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
        record = {
            "id": 0,  # numbered over the file by track_lines
            "video_id": video_id,
            "category_id": track["category_id"],
            "object_id": value if kind == "object" else number,
            "iscrowd": 0,
        }
        texts = {"segmentations": [track["frames"].get(index, "null") for index in range(length)]}
        if track["values"]:
            texts["frame_values"] = [track["values"].get(index, "null") for index in range(length)]
        facts = listed.get(value, {}) if kind == "object" else {}
        if facts.get("frames") is not None:
            record["meta_frames"] = facts["frames"]
        if isinstance(facts.get("metadata"), dict):
            metadata.update(facts["metadata"])
        if metadata:
            record["metadata"] = metadata
        records.append((record, texts))
    return records
