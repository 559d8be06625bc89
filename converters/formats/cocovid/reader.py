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

Memory: the file is one JSON document, never held whole: it is read an element at a time and
rewritten as YouTube-VIS tracks, one record per line, to a temporary file (:mod:`.tracks`; as the
``ytvis`` reader does); each video is then read from its own lines.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ...codecs import rle
from ...errors import SourceError
from ...model import VOID_ID, FrameMasks, Mask, Video
from ...reader import Detection
from ...records import Record
from ...sources import tempfiles
from ..coco.reader import CocoReader, CocoVideoRef, build_video, index_lines, load_records
from ..coco.spec import HEADER_KEY, SUFFIXES, check_header, is_vosconv_coco
from ..ytvis import spec
from .tracks import VOID_MASKS, write_tracks


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
                write_tracks(self.source, lines, self._tmp)
                self._index = index_lines(lines, str(self.source))
                check_header(self._index.header, self.source)
            except OSError as exc:
                tmp = self._tmp
                self.close()
                if tempfiles.failed_writing(exc, tmp):
                    raise tempfiles.cannot_write(exc, tmp) from None
                raise SourceError(self.source, f"cannot read: {exc.strerror or exc}") from None
            except BaseException:
                self.close()
                raise
        return self._index

    def read_video(self, ref: CocoVideoRef) -> Video:
        index = self._ensure_index()
        try:
            with open(ref.path, "rb") as file:
                (record,) = load_records(file, ref.video, self.source)
                tracks = [a for span in ref.annotations for a in load_records(file, span, self.source)]
        except OSError as exc:
            raise SourceError(self.source, f"cannot read video {ref.name!r}: {exc.strerror or exc}") from None
        placeholders = set(index.header.get(HEADER_KEY, {}).get("placeholder_categories", []))
        context = f"video {ref.name!r}"
        try:
            video = build_video(Record(record, self.source, context=context), tracks, placeholders, self._images_dir())
            return _with_void(video, record.get(VOID_MASKS))
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
