"""BURST: one JSON of sequences (TAO videos), each with its track masks as RLE over its annotated frames.

The source is a BURST JSON file, a split folder holding them (``val/``), or the annotations root
(``train/ val/ test/ info/``, choose with ``split``); ``subset`` picks the JSON of a folder
(``all_classes`` by default). Frames come from the ``images`` option (TAO's frames), else from the
folder a vosconv-written file records; without either, the videos have masks and no frames.

Each sequence becomes a video named ``<dataset>__<seq_name>`` (a video name is one path component).
Track ids keep their value (any id 0..2^31-1: BURST's string keys made integers), each track's
category is its ``track_category_ids`` entry, frames are ``all_image_paths`` and only
``annotated_image_paths`` are annotated (val/test at 1 fps: the rest stay unannotated). A mask
entry's other fields (``is_gt``, ``score``, the first-frame file's ``bbox`` and ``point``) are the
mask's per-frame values, and the sequence's other fields (``id``, ``dataset``, ``seq_name``, ``fps``,
the negative and not-exhaustive category lists) the video's metadata, less those holding what the
writer fills for a video without them (:func:`.spec.filled_by_writer`); lists are kept as their JSON
text under ``<key>:json``. An entry whose mask is empty is read as the track absent (BURST's scorer
wants null masks left out; the writer leaves them out). The file is never parsed whole: see
:mod:`.index`.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ...codecs import rle
from ...errors import OptionError, SourceError
from ...model import (
    MAX_OBJECT_ID,
    VOID_ID,
    Category,
    DatasetInfo,
    Frame,
    FrameMasks,
    ImageRef,
    Mask,
    MaskEncoding,
    ObjectInfo,
    Video,
    check_frame_size,
)
from ...reader import Detection, Reader, VideoRef
from ...records import Record, shown
from ...sources.files import no_images_folder
from . import index, spec

#: How much of a lone file's start is looked at to tell a BURST JSON (its first sequence's first fields).
SNIFF_BYTES = 1 << 16


@dataclass(frozen=True)
class BurstOptions:
    images: str | None = None  # frames folder: <images>/<split>/<dataset>/<seq_name>/ or <images>/<dataset>/<seq_name>/
    split: str | None = None  # train, val or test: the split folder of an annotations root; needed when there are several
    subset: Literal["all_classes", "common_classes", "uncommon_classes", "first_frame_annotations"] = "all_classes"


@dataclass(frozen=True)
class BurstVideoRef(VideoRef):
    """One sequence: its byte range in the JSON and its place in ``sequences``."""

    path: str = ""
    span: tuple[int, int] = (0, 0)
    position: int = 0
    dataset: str = ""
    seq_name: str = ""


@dataclass(frozen=True)
class _Index:
    header: dict
    refs: tuple[BurstVideoRef, ...]


def _subset_files(folder: Path) -> list[str]:
    try:
        names = set(os.listdir(folder))
    except OSError:
        return []
    return [f"{subset}.json" for subset in spec.SUBSETS if f"{subset}.json" in names]


def _split_folders(root: Path) -> list[str]:
    return [split for split in spec.SPLITS if (root / split).is_dir() and _subset_files(root / split)]


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read(SNIFF_BYTES)
    except OSError:
        return b""


def looks_like_burst(head: bytes) -> bool:
    """A JSON object whose first bytes hold ``sequences`` and a field only a BURST sequence has."""
    if head.startswith(spec.FILE_HEAD):
        return True
    return (
        head.lstrip().startswith(b"{")
        and b'"sequences"' in head
        and any(key in head for key in (b'"seq_name"', b'"annotated_image_paths"', b'"track_category_ids"'))
    )


class BurstReader(Reader):
    """Reads BURST: a JSON of sequences (or a split folder or annotations root holding them), frames from ``images``."""

    name = "burst"
    Options = BurstOptions

    def __init__(self, source, options=None) -> None:
        super().__init__(source, options)
        self._index: _Index | None = None

    def __getstate__(self):
        # workers need the header (image root, split), never every sequence's ref
        state = self.__dict__.copy()
        if self._index is not None:
            state["_index"] = _Index(self._index.header, ())
        return state

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        if source.is_file():
            head = _head(source)
            if looks_like_burst(head):
                return Detection(20, "a BURST JSON (sequences with seq_name, annotated_image_paths, track_category_ids)")
            named = source.name in (f"{s}.json" for s in spec.SUBSETS)
            if named and head.lstrip().startswith(b"{") and b'"videos"' not in head:  # its categories may come first
                return Detection(15, f"named like a BURST file ({source.name}), a JSON object without COCO's videos")
            if source.name.lower().endswith((".zip", ".tar", ".tar.gz")):
                return Detection(0, "an archive: the burst reader reads BURST's JSON files unpacked", near=3)
            return Detection(0, "named like a BURST file, but it holds COCO's videos" if named else "not a BURST JSON")
        if not source.is_dir():
            return Detection(0, "not a BURST JSON or folder")
        files = _subset_files(source)
        if files:
            return Detection(20, f"BURST annotations: {files[0]}")
        splits = _split_folders(source)
        if splits:
            return Detection(20, f"BURST annotations: {splits[0]}/{_subset_files(source / splits[0])[0]}")
        return Detection(0, f"no BURST JSON ({', '.join(f'{s}.json' for s in spec.SUBSETS[:2])}, ...) in it or its split folders")

    # ------------------------------------------------------------------ where things are

    def json_path(self) -> Path:
        """The BURST JSON read: the source, or ``<subset>.json`` of the split folder the source is or holds."""
        source, subset = self.source, self.options.subset
        if source.is_file():
            return source
        if not source.is_dir():
            raise SourceError(source, "no such file or folder")
        folder = source
        if not _subset_files(source):
            splits = _split_folders(source)
            if self.options.split is not None:
                if self.options.split not in splits:
                    raise OptionError("split", f"{self.options.split!r} is not a split folder of {source} (found: {splits})")
                folder = source / self.options.split
            elif len(splits) == 1:
                folder = source / splits[0]
            elif splits:
                raise OptionError("split", f"{source} holds several splits ({', '.join(splits)}): choose one")
            else:
                raise SourceError(source, "no BURST JSON in it or in a split folder (train/, val/, test/)")
        path = folder / f"{subset}.json"
        if not path.is_file():
            raise SourceError(path, f"no such file (this folder has {', '.join(_subset_files(folder)) or 'no BURST JSON'})")
        return path

    def _categories_path(self) -> Path:
        """``info/categories.json`` of the annotations root the JSON sits in (``<root>/<split>/<subset>.json``)."""
        return self.json_path().parent.parent.joinpath(*spec.CATEGORIES)

    def _ensure_index(self) -> _Index:
        if self._index is None:
            path = self.json_path()
            refs = _Refs(path)
            header = index.scan(path, refs.add)
            self._index = _Index(header, tuple(sorted(refs.found, key=lambda r: r.name)))
        return self._index

    def _split(self) -> str | None:
        split = self._ensure_index().header.get("split")
        if isinstance(split, str):
            return split
        folder = self.json_path().parent.name
        return self.options.split or (folder if folder in spec.SPLITS else None)

    def _recorded_root(self) -> str | None:
        facts = self._ensure_index().header.get(spec.VOSCONV_KEY)
        root = facts.get("image_root") if isinstance(facts, dict) else None
        return root if isinstance(root, str) else None

    def _recorded_attributes(self) -> tuple[tuple[str, str], ...]:
        """The source's dataset attributes a vosconv-written file keeps in its record (none in BURST's own files)."""
        facts = self._ensure_index().header.get(spec.VOSCONV_KEY)
        recorded = facts.get("attributes", {}) if isinstance(facts, dict) else {}
        if not isinstance(recorded, dict) or not all(isinstance(v, str) for v in recorded.values()):
            raise SourceError(self.json_path(), f"{spec.VOSCONV_KEY}.attributes: expected an object of strings")
        return tuple((key, value) for key, value in recorded.items() if key != spec.HEADER_ATTRIBUTE)

    def _numbered(self) -> range:
        """The sequence ids a vosconv-written file numbered itself (its record's ``[first, last]``; none in BURST's)."""
        facts = self._ensure_index().header.get(spec.VOSCONV_KEY)
        span = facts.get(spec.NUMBERED_KEY) if isinstance(facts, dict) else None
        if span is None:
            return range(0)
        if not (isinstance(span, list) and len(span) == 2 and all(type(n) is int for n in span)):
            raise SourceError(self.json_path(), f"{spec.VOSCONV_KEY}.{spec.NUMBERED_KEY}: expected [first id, last id]")
        return range(span[0], span[1] + 1)

    def frames_root(self) -> str | None:
        """The folder holding ``<dataset>/<seq_name>/``: the option's (its split folder, when it has one),
        else the one a vosconv-written file records, when it exists; None without frames."""
        if self.options.images is not None:
            folder = Path(self.options.images)
            if not folder.is_dir():
                raise SourceError(folder, no_images_folder(folder))
        else:
            recorded = self._recorded_root()
            if recorded is None or not Path(recorded).is_dir():
                return None
            folder = Path(recorded)
        split = self._split()
        if split in spec.SPLITS and (folder / split).is_dir():
            folder = folder / split
        return str(folder.resolve())

    def missing_images(self) -> str | None:
        if self.frames_root() is not None or not self.list_videos():
            return None
        recorded = self._recorded_root()
        if recorded:
            return f"its images folder {recorded} (recorded in the file) does not exist"
        return "a BURST JSON names its frames but holds none, and no images option (--images DIR) was given"

    # ------------------------------------------------------------------ the contract

    def info(self) -> DatasetInfo:
        header = self._ensure_index().header
        path = self.json_path()
        kept = {k: v for k, v in header.items() if k not in ("sequences", spec.VOSCONV_KEY)}
        header_text = json.dumps(kept, separators=(",", ":"), ensure_ascii=False)
        try:  # a "\\udcff" escape is JSON but half a character, which no writer can store
            header_text.encode("utf-8")
        except UnicodeEncodeError as exc:
            around = header_text[max(exc.start - 30, 0) : exc.start + 1]
            raise SourceError(path, f"its header holds text that is not UTF-8 (a lone surrogate after {around!r})") from None
        attributes = (*self._recorded_attributes(), *(((spec.HEADER_ATTRIBUTE, header_text),) if kept else ()))
        if "categories" in header:
            categories = _categories(header["categories"], path, "categories")
        elif self._categories_path().is_file():
            categories = _categories(_load_json(self._categories_path()), self._categories_path(), "")
        else:
            categories = ()
        return DatasetInfo("burst", self._split(), categories, self.frames_root(), attributes)

    def roots(self) -> list[Path]:
        root = self.frames_root()
        return [self.source, *([Path(root)] if root else [])]

    def list_videos(self) -> list[VideoRef]:
        return list(self._ensure_index().refs)

    def read_video(self, ref: BurstVideoRef) -> Video:
        what = f"sequences/{ref.position}"
        record = Record(index.load_span(ref.path, ref.span, what), ref.path, what, f"sequence {ref.name!r}")
        root = self.frames_root()
        folder = None if root is None else os.path.join(root, ref.dataset, ref.seq_name)
        return build_video(record, ref.name, folder, self._numbered())


def _load_json(path: Path) -> object:
    try:
        return index.parse(path.read_bytes(), path, "the file")
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None


def _categories(value: object, path: Path, field: str) -> tuple[Category, ...]:
    """LVIS-style ``[{"id", "name", ...}]``: each one's id and name (the rest stays in the header attribute)."""
    if not isinstance(value, list):
        raise SourceError(path, f"{field or 'categories'}: expected a list of categories, got {shown(value)}")
    found = []
    for number, item in enumerate(value):
        record = Record(item, path, f"{field}/{number}" if field else str(number), "malformed categories")
        category_id = record.int("id")
        name = record.raw("name", str(category_id))
        supercategory = record.raw("supercategory", None)  # LVIS has none; a file vosconv wrote may
        try:
            found.append(Category(category_id, str(name), supercategory if isinstance(supercategory, str) else None))
        except ValueError as exc:
            record.fail(str(exc), "id")
        if any(c.id == found[-1].id and c != found[-1] for c in found[:-1]):  # which one would a track's id name?
            record.fail(f"category id {category_id} is given to another category before it", "id")
    return tuple(found)


class _Refs:
    """The refs of the sequences as :func:`index.scan` visits them: names from ``dataset`` and ``seq_name``,
    unique and usable as folder names."""

    def __init__(self, path: Path) -> None:
        self.path, self.stat = path, path.stat()
        self.found: list[BurstVideoRef] = []
        self.seen: dict[str, int] = {}

    def add(self, position: int, value: object, span: tuple[int, int]) -> None:
        record = Record(value, self.path, f"sequences/{position}")
        dataset, seq_name = record.text("dataset", ""), record.text("seq_name")
        for key, part in (("dataset", dataset), ("seq_name", seq_name)):
            fault = spec.folder_name_fault(key, part)
            if fault is not None:
                record.fail(fault, key)
        name = spec.video_name(dataset, seq_name)
        if name in self.seen:
            record.fail(f"a second sequence named {name!r} (the first is sequences/{self.seen[name]})", "seq_name")
        self.seen[name] = position
        stamp = f"{self.stat.st_size}:{self.stat.st_mtime_ns}:{span[0]}:{span[1]}"
        self.found.append(BurstVideoRef(name, span[1], stamp, str(self.path), span, position, dataset, seq_name))


def _track_id(record: Record, key: str, field: str) -> int:
    """A track id key: the decimal digits of an integer 0..2^31-1, as BURST writes ``str(int)``."""
    if not (key.isascii() and key.isdigit() and (key == "0" or not key.startswith("0")) and int(key) <= MAX_OBJECT_ID):
        record.fail(f"track id {shown(key)} is not an integer from 0 to {MAX_OBJECT_ID} written plainly", field)
    return int(key)


def _scalars(record: Record, value: dict, field: str, skip: tuple[str, ...]) -> tuple[tuple[str, object], ...]:
    """A dict's fields other than ``skip`` as metadata pairs (lists and objects as JSON text)."""
    pairs = []
    for key, item in value.items():
        if key in skip:
            continue
        if key.endswith(spec.JSON_SUFFIX):
            record.fail(f"a field named {key!r} (vosconv keeps lists under '<key>{spec.JSON_SUFFIX}')", field)
        pairs.append(spec.kept_value(key, item))
    return tuple(pairs)


def build_video(record: Record, name: str, frames_folder: str | None, numbered: range = range(0)) -> Video:
    """The video of one sequence; masks measured from their RLE (size: the sequence's), never trusted. Its fields
    holding what the writer fills for a video without them (``numbered``: the ids it gave) are no metadata."""
    height, width = record.int("height"), record.int("width")
    try:
        check_frame_size(name, width, height)  # before any RLE is measured against it
    except ValueError as exc:
        record.fail(str(exc))
    names = record.texts("all_image_paths")
    annotated = record.texts("annotated_image_paths")
    positions = {file_name: number for number, file_name in enumerate(names)}
    indices = []
    for number, file_name in enumerate(annotated):
        if file_name not in positions:
            record.fail(f"{shown(file_name)} is not one of all_image_paths", f"annotated_image_paths/{number}")
        if indices and positions[file_name] <= indices[-1]:
            record.fail(
                f"{shown(file_name)} is out of all_image_paths' order (or given twice)", f"annotated_image_paths/{number}"
            )
        indices.append(positions[file_name])
    segmentations = record.list("segmentations")
    if len(segmentations) != len(annotated):
        record.fail(f"{len(segmentations)} entries for {len(annotated)} annotated_image_paths", "segmentations")
    tracks = record.record("track_category_ids")
    objects = []
    for key, category in tracks.value.items():
        track = _track_id(tracks, key, key)
        if category is not None and type(category) is not int:
            tracks.fail(f"expected a category id (an integer) or null, got {shown(category)}", key)
        objects.append((track, category))
    known = {track for track, _ in objects}
    masks = {
        frame: _frame_masks(record, number, entry, height, width, known)
        for number, (frame, entry) in enumerate(zip(indices, segmentations))
    }
    fields = {k: v for k, v in record.value.items() if not spec.filled_by_writer(k, v, name, numbered)}
    metadata = _scalars(record, fields, "", (*spec.MODEL_FIELDS, spec.VOSCONV_KEY))
    kept = _Kept(record, height, width, set(masks))
    try:
        frames = tuple(
            Frame(
                number,
                file_name,
                ImageRef(path=os.path.join(frames_folder, file_name)) if frames_folder else None,
                FrameMasks(masks[number], kept.void.get(number)) if number in masks else None,
            )
            for number, file_name in enumerate(names)
        )
        infos = tuple(ObjectInfo(track, category, *kept.objects.get(track, (None, ()))) for track, category in sorted(objects))
        video = Video(name, width, height, frames, infos, kept.encoding, kept.palette, metadata)
    except ValueError as exc:  # what the model refuses: a frame name with '/', a category beyond 32 bits, a bad value
        record.fail(str(exc))
    if frames_folder is not None:
        _check_frames(frames_folder, names, name)
    return video


class _Kept:
    """What a vosconv-written sequence keeps beyond BURST's fields, in its ``vosconv`` record (see the writer):
    the mask encoding and palette, the void region by frame, object frame lists and metadata."""

    def __init__(self, record: Record, height: int, width: int, annotated: set[int]) -> None:
        facts = record.record(spec.VOSCONV_KEY, None)
        self.encoding, self.palette = MaskEncoding.PALETTE, None
        self.void: dict[int, Mask] = {}
        self.objects: dict[int, tuple[tuple[str, ...] | None, tuple[tuple[str, object], ...]]] = {}
        if facts is None:
            return
        try:
            self.encoding = MaskEncoding(facts.text("encoding", "palette"))
            palette = facts.text("palette", None, nullable=True)
            self.palette = None if palette is None else base64.b64decode(palette, validate=True)
        except ValueError as exc:  # an unknown encoding, a palette that is not base64
            facts.fail(f"{type(exc).__name__}: {exc}")
        for number, pair in enumerate(facts.list("void", [])):
            where = f"void/{number}"
            if not (isinstance(pair, list) and len(pair) == 2 and type(pair[0]) is int and isinstance(pair[1], str)):
                facts.fail(f"expected [frame index, rle], got {shown(pair)}", where)
            if pair[0] not in annotated:
                facts.fail(f"frame {pair[0]} is not an annotated frame", where)
            try:
                counts, area, bbox = rle.measure_canonical(pair[1], height, width)
            except ValueError as exc:
                facts.fail(f"rle: {exc}", where)
            if area:  # all zero: no void, as a mask without pixels is no mask
                self.void[pair[0]] = Mask(VOID_ID, counts, area, bbox)
        objects = facts.record("objects", None)
        for key, value in () if objects is None else objects.value.items():
            track = _track_id(objects, key, key)
            kept = Record(value, record.path, objects.where(key), record.context)
            frames = kept.texts("frames", None, nullable=True)
            metadata = kept.record("metadata", None)
            self.objects[track] = (
                None if frames is None else tuple(frames),
                () if metadata is None else tuple(metadata.value.items()),
            )


def _frame_masks(record: Record, number: int, entry: object, height: int, width: int, known: set[int]) -> tuple[Mask, ...]:
    """One annotated frame's ``{track id: {"rle", ...}}``: its masks sorted by track id, empty ones left out."""
    field = f"segmentations/{number}"
    if not isinstance(entry, dict):
        record.fail(f"expected an object of track id: mask, got {shown(entry)}", field)
    found = []
    for key, value in entry.items():
        track = _track_id(record, key, field)
        where = f"{field}/{key}"
        if track not in known:
            record.fail(f"track {track} has a mask but no category in track_category_ids", where)
        mask = Record(value, record.path, record.where(where), record.context)
        counts = mask.text("rle")
        try:
            counts, area, bbox = rle.measure_canonical(counts, height, width)
        except ValueError as exc:  # RleError: not a mask of the sequence's size
            mask.fail(f"rle: {exc}")
        if area == 0:
            continue  # a null mask: the track is absent (BURST's scorer wants no entry)
        values = _scalars(mask, value, "", ("rle",))
        try:
            found.append(Mask(track, counts, area, bbox, values))
        except ValueError as exc:  # a value JSON cannot hold (Infinity)
            mask.fail(str(exc))
    return tuple(sorted(found, key=lambda m: m.object_id))


def _check_frames(folder: str, names: list[str], video: str) -> None:
    """Every frame of ``all_image_paths`` is a file of the sequence's folder (hidden files are nobody's frames)."""
    try:
        present = set(os.listdir(folder))
    except FileNotFoundError:
        raise SourceError(folder, f"the frames folder of sequence {video!r} does not exist") from None
    except OSError as exc:
        raise SourceError(folder, f"cannot list: {exc.strerror or exc}") from None
    for file_name in names:
        if file_name not in present:
            raise SourceError(os.path.join(folder, file_name), f"frame of sequence {video!r} (all_image_paths) is missing")
