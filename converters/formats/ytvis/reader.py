"""YouTube-VIS 2019/2021/2022, OVIS and LV-VIS: a split's JSON, or the dataset folder that holds it and its frames.

The schema (YouTube-VIS's CodaLab text): ``videos[{id, width, height, length, file_names}]``,
``annotations[{id, video_id, category_id, segmentations, areas, bboxes, iscrowd}]`` with one
entry per frame of ``file_names`` in ``segmentations`` (compressed RLE, uncompressed RLE with
``counts`` a list, polygons, or null where the object is absent), and ``categories``.

* The file's own category table is kept exactly: 2019 and 2021 number their 40 classes
  differently (id 1 is person in 2019, airplane in 2021), so no built-in table is ever used.
* 2019's ``file_names`` list the annotated frames only (every 5th: ``00000.jpg``,
  ``00005.jpg``, ...): those are the video's frames, under their own names.
* Objects are numbered 1..K in the order of the video's annotations (UNINEXT's ``ori_id``,
  where given, is the id); a crowd track keeps ``iscrowd`` as object metadata.
* Areas and boxes are recomputed from the masks, never trusted; RLE comes out byte-identical
  to pycocotools'.

Memory: the file is one JSON document, never held whole: it is read a video or annotation at a
time and rewritten to a line-per-record temporary file (:mod:`.lines`; 119 MB peak RSS to list a
207 MB file, whose ``json.load`` alone takes 1.1 GB); each video is then read from its own lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceError
from ...model import DatasetInfo, Video
from ...reader import Detection
from ...records import Record
from ..coco.reader import CocoReader, CocoVideoRef, load_records
from ..coco.spec import SUFFIXES, is_vosconv_coco
from . import spec


@dataclass(frozen=True)
class YtvisOptions:
    split: str | None = None  # which split's JSON (train, valid, val, test) when the folder holds several
    images: str | None = None  # folder that file_names are relative to; default: the frames folder by the JSON


class YtvisReader(CocoReader):
    """Reads YouTube-VIS 2019/2021/2022, OVIS and LV-VIS JSON (a file, or the dataset folder with its frames)."""

    name = "ytvis"
    Options = YtvisOptions

    def __init__(self, source, options=None) -> None:
        super().__init__(source, options)
        self.root = self.source
        self.split_json = _locate(self.source, self.options.split)
        self.source = self.split_json.json  # what is read, and named in errors
        self._frames: str | None = None
        self._category_ids: frozenset[int] | None = None

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        if source.is_file():
            return _sniff_file(source)
        if not source.is_dir():
            return Detection(0, "not a YouTube-VIS JSON or a folder holding one")
        found = [s for s in spec.splits_in(source) if spec.looks_like_ytvis(spec.head(s.json))]
        if found:
            names = ", ".join(s.json.relative_to(source).as_posix() for s in found)
            return Detection(10, f"YouTube-VIS JSON: {names}")
        return Detection(0, "no YouTube-VIS JSON (train.json, train/instances.json, annotations_train.json, ...)")

    def info(self) -> DatasetInfo:
        info = super().info()  # the file's own categories, exactly
        return DatasetInfo(self.name, self.split_json.split, info.categories, info.image_root, info.attributes)

    def read_video(self, ref: CocoVideoRef) -> Video:
        """The video, each object's category checked against the file's table (Mask2Former and mmdet stop on one not in it)."""
        video = super().read_video(ref)
        if self._category_ids is None:
            self._category_ids = frozenset(c.id for c in self.info().categories)
        for obj in video.objects:
            if obj.category_id is not None and obj.category_id not in self._category_ids:
                what = f"object {obj.object_id} has category id {obj.category_id}"
                raise SourceError(self.source, f"video {ref.name!r}: {what}, which is not in the file's categories")
        return video

    def roots(self) -> list[Path]:
        return [self.root, *super().roots()[1:]]

    def _images_dir(self) -> str | None:
        """The ``images`` option, else the first of the dataset's frame folders that holds the first video's first frame."""
        if self.options.images is not None:
            return super()._images_dir()
        if self._frames is None:
            self._frames = self._find_frames() or ""
        return self._frames or None

    def _find_frames(self) -> str | None:
        first = self._first_file_name()
        candidates = [folder for folder in self.split_json.image_roots if folder.is_dir()]
        for folder in candidates:
            if first is not None and (folder / first).is_file():
                return str(folder.resolve())
        return str(candidates[0].resolve()) if candidates and first is None else None

    def _first_file_name(self) -> str | None:
        """The first listed frame of the first video (by name), to tell which folder holds the frames."""
        refs = self._ensure_index().refs
        if not refs:
            return None
        with open(refs[0].path, "rb") as file:
            (record,) = load_records(file, refs[0].video, self.source)
        names = Record(record, self.source, context=f"video {refs[0].name!r}").texts("file_names")
        return names[0] if names else None

    def missing_images(self) -> str | None:
        if self.options.images is not None or self._images_dir() is not None or not self.list_videos():
            return None
        looked = ", ".join(str(folder) for folder in self.split_json.image_roots)
        return f"its frames were not found (looked in {looked}); give the folder with --images DIR"


def _sniff_file(source: Path) -> Detection:
    named = source.name.lower().endswith(SUFFIXES)
    data = spec.head(source)
    if is_vosconv_coco(data):
        return Detection(0, "vosconv's own COCO JSON (the coco reader's)")
    if spec.is_cocovid_head(data):
        return Detection(0, "a CocoVID JSON (the cocovid reader's)")
    why = spec.looks_like_ytvis(data)
    if why:
        return Detection(10, f"a YouTube-VIS JSON: {why}")
    return Detection(0, "a JSON without videos listing file_names" if named else "not a .json or .json.gz file", near=3 * named)


def _locate(source: Path, split: str | None) -> spec.SplitJson:
    """The split's JSON: the source itself, or the one its folder holds (``split`` choosing among several)."""
    if source.is_file():
        found = spec.describe_json(source)
        if split is not None and found.split is not None and split != found.split:
            raise SourceError(source, f"is the {found.split} split's JSON, not {split}'s: leave out --split or give the folder")
        return spec.SplitJson(split or found.split, found.json, found.image_roots)
    if not source.is_dir():
        raise SourceError(source, "no such file or folder")
    splits = spec.splits_in(source)
    if split is not None:
        chosen = [s for s in splits if s.split == split]
        if not chosen:
            have = ", ".join(s.split or "?" for s in splits) or "none"
            raise SourceError(source, f"no YouTube-VIS JSON for split {split!r} (splits here: {have})")
        return chosen[0]
    if len(splits) == 1:
        return splits[0]
    if splits:
        raise SourceError(
            source,
            f"holds several splits ({', '.join(s.split or '?' for s in splits)}); choose one with --split (reader option split)",
        )
    names = "{split}.json, {split}/instances.json, annotations_{split}.json, {split}_instances.json"
    raise SourceError(source, f"no YouTube-VIS JSON here: looked for {names}")
