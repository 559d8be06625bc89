"""MOSE and MOSEv2: ``JPEGImages/<video>/NNNNN.jpg`` and ``Annotations/<video>/NNNNN.png``, and MOSEv2's meta files.

The source is a split folder (``MOSE/train``), or a MOSE root holding split folders
(choose with ``split``), or the published-but-wrong ``JPEGImages/<split>`` arrangement;
or the published ``train.tar.gz``/``valid.tar.gz`` itself (it holds the split folder).
MOSE's train annotates every frame; MOSEv2's mixes rates (a subset at full rate, most
sparser), so a frame without its PNG is unannotated; valid holds only the first frame's.
No categories ship with either. MOSEv2's ``meta_<split>.json``, in the split folder or beside
it in the root, gives each video's frame count and size: every video it lists must have
frames, and a count or size that disagrees with them is an error naming the meta file and
the video; what agrees is what the video holds. A results folder (``osvos/<video>/00000.png``,
:mod:`~converters.formats.folders.results`) reads as the ``Annotations/`` folder of a split without frames.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from ...errors import SourceError
from ...model import DatasetInfo, Video
from ...reader import Detection, VideoRef
from ...records import Record
from ...sources.files import LOCAL, FileSystem
from ..davis import spec as davis
from ..folders.entries import read_json, subfolders, visible_entries
from ..folders.marker import with_marker_attributes
from ..folders.reader import (
    FolderLayoutReader,
    FolderVideoRef,
    LayoutFolders,
    VideoIndex,
    read_folder_video,
    split_choices,
    split_of,
)
from ..folders.results import DETECTION_SCORE, results_folder, results_folders_in
from ..folders.spec import ANNOTATIONS, IMAGES, SPLIT_NAMES
from ..lvos import reader as lvos
from ..youtube_vos.spec import META
from .spec import HEIGHT, LENGTH, META_NAME, WIDTH, meta_name


@dataclass(frozen=True)
class _Split:
    """The chosen split: its frame and mask folders, its name, and its MOSEv2 meta file (None: MOSE, or none given).

    ``results``: the mask folder is a results folder itself (``<video>/<frame>.png``), which has no frame folder.
    """

    images: Path
    annotations: Path
    name: str | None
    meta: Path | None
    results: bool = False


@dataclass(frozen=True)
class MoseOptions:
    split: str | None = None  # a split folder under the root (train, valid); needed when there are several
    images: str | None = None  # a folder of <video>/ frame folders to take the frames from (annotations-only sources)


@dataclass(frozen=True)
class VideoFacts:
    """What MOSEv2's meta file says of a video (``path``): its frame count and size (None: not given)."""

    path: str
    length: int
    width: int | None
    height: int | None

    def problem(self, video: Video) -> str | None:
        """How ``video`` disagrees with these facts, or None."""
        annotated = len(video.annotated_indices)
        if self.length != len(video.frames):
            return f"length {self.length}, but its folder holds {len(video.frames)} frames ({annotated} annotated)"
        for side, said, found in ((WIDTH, self.width, video.width), (HEIGHT, self.height, video.height)):
            if said is not None and said != found:
                return f"{side} {said}, but its frames are {video.width}x{video.height}"
        return None


@dataclass(frozen=True)
class MoseVideoRef(FolderVideoRef):
    """A MOSE video, with what MOSEv2's meta file says of it (None: no meta, or not listed)."""

    facts: VideoFacts | None = None


def parse_meta(path: Path, fs: FileSystem = LOCAL) -> dict[str, VideoFacts]:
    """Each video's facts from a MOSEv2 ``meta_<split>.json``: ``{"videos": {"<video>": {"length", "height", "width", ...}}}``."""
    data = read_json(path, fs)
    videos = data.get("videos") if isinstance(data, dict) else None
    if not isinstance(videos, dict):
        raise SourceError(
            path, 'expected {"videos": {"<video>": {"length": int, "height": int, "width": int}, ...}} at the top level'
        )
    return {video: _video_facts(Record(entry, path, f"videos/{video}")) for video, entry in videos.items()}


def _video_facts(entry: Record) -> VideoFacts:
    length = entry.int(LENGTH)
    height, width = entry.int(HEIGHT, None, nullable=True), entry.int(WIDTH, None, nullable=True)
    for key, value in ((LENGTH, length), (HEIGHT, height), (WIDTH, width)):
        if value is not None and value < 1:
            entry.fail(f"{key} is {value}, not a positive integer", key)
    return VideoFacts(str(entry.path), length, width, height)


def meta_files(folder: Path, fs: FileSystem = LOCAL) -> list[str]:
    """Names of MOSEv2 meta files (``meta_train.json``, ...) directly in ``folder``, sorted."""
    if not fs.is_dir(folder):
        return []
    return sorted(e.name for e in visible_entries(folder, fs) if e.is_file and META_NAME.fullmatch(e.name))


def is_folder_pair(path: Path, fs: FileSystem = LOCAL) -> bool:
    """``Annotations/``, with ``JPEGImages/`` beside it or without (annotations only: predictions, --no-images outputs)."""
    return fs.is_dir(path / ANNOTATIONS)


def split_folders(root: Path, fs: FileSystem = LOCAL) -> list[str]:
    """Sub-folders of ``root`` that hold a JPEGImages/Annotations pair."""
    return [name for name in subfolders(root, fs) if is_folder_pair(root / name, fs)] if fs.is_dir(root) else []


def existing_splits(root: Path, fs: FileSystem = LOCAL) -> list[str]:
    """The splits ``--split`` can name: split folders, and published split names under ``JPEGImages/``."""
    found = split_folders(root, fs)
    if fs.is_dir(root / IMAGES):
        found += [name for name in subfolders(root / IMAGES, fs) if name.lower() in SPLIT_NAMES and name not in found]
    return found


def _methods_hint(source: Path, fs: FileSystem) -> str:
    """``; it holds results folders (osvos/, ...): pass one of them as the source``, or "" for any other folder."""
    methods = results_folders_in(source, fs) if fs.is_dir(source) else []
    if not methods:
        return ""
    shown = ", ".join(f"{name}/" for name in methods[:3]) + (", ..." if len(methods) > 3 else "")
    return f"; it holds results folders ({shown}): pass one of them as the source"


class MoseReader(FolderLayoutReader):
    """Reads MOSE/MOSEv2 split folders, any bare ``JPEGImages`` + ``Annotations`` pair, and results folders.

    ``Annotations`` alone reads too, and a results folder (``<video>/<frame>.png``) as such a pair's ``Annotations``."""

    name = "mose"
    Options = MoseOptions

    @classmethod
    def sniff_layout(cls, source: Path, fs: FileSystem) -> Detection:
        splits = split_folders(source, fs)
        for folder in [source, *(source / s for s in splits)]:
            if fs.exists(folder / META):
                return Detection(0, f"{folder / META} marks YouTube-VOS")
            if fs.is_dir(folder / davis.IMAGE_SETS):
                return Detection(0, f"{folder / davis.IMAGE_SETS} marks DAVIS")
            resolution = davis.resolution_folder(folder, fs)
            if resolution is not None:
                return Detection(0, f"{folder / resolution} marks DAVIS")
            marked = lvos.evidence(folder, fs) if is_folder_pair(folder, fs) else None
            if marked is not None:
                return Detection(0, f"{folder / marked} marks LVOS")
        if is_folder_pair(source, fs) or splits:
            v2 = meta_files(source, fs) + [f"{s}/{name}" for s in splits for name in meta_files(source / s, fs)]
            if v2:
                return Detection(10, f"MOSEv2 ({', '.join(v2)}) with {IMAGES}/ and {ANNOTATIONS}/")
        if is_folder_pair(source, fs):
            return Detection(10, f"bare {IMAGES}/ and {ANNOTATIONS}/" if fs.is_dir(source / IMAGES) else f"{ANNOTATIONS}/ alone")
        if splits:
            return Detection(10, f"split folders with {IMAGES}/ and {ANNOTATIONS}/: {', '.join(splits)}")
        results = results_folder(source, fs)
        if results is not None:  # what a layout's Annotations/ folder holds: read as one
            return Detection(DETECTION_SCORE, results.describe())
        half = [name for name in (IMAGES, ANNOTATIONS) if fs.is_dir(source / name)]
        if half:
            return Detection(0, f"{half[0]}/ without {({IMAGES, ANNOTATIONS} - set(half)).pop()}/", near=5)
        methods = _methods_hint(source, fs)
        return Detection(0, f"no {IMAGES}/ and {ANNOTATIONS}/ folders{methods}", near=5 if methods else 0)

    def _split(self) -> _Split:
        """The chosen split's folders, name and MOSEv2 meta file."""
        root, split, fs = self.source, self.options.split, self.fs
        if split is None:
            if is_folder_pair(root, fs):
                return self._with_meta(root, root / IMAGES, root / ANNOTATIONS, split_of(root))
            splits = split_folders(root, fs)
            if len(splits) == 1:
                split = splits[0]
            elif splits:
                raise SourceError(
                    root, f"holds several splits ({', '.join(splits)}); choose one with --split (reader option split)"
                )
            else:
                results = results_folder(root, fs)
                if results is None:
                    raise SourceError(
                        root, f"no {IMAGES}/ and {ANNOTATIONS}/ folders here or in a split folder{_methods_hint(root, fs)}"
                    )
                return _Split(results.folder / IMAGES, results.folder, None, None, results=True)
        if is_folder_pair(root / split, fs):
            return self._with_meta(root / split, root / split / IMAGES, root / split / ANNOTATIONS, split)
        if fs.is_dir(root / IMAGES / split):  # JPEGImages/<split>, as some published loaders expect
            return self._with_meta(root, root / IMAGES / split, root / ANNOTATIONS / split, split)
        looked = f"looked for {split}/{IMAGES} and {IMAGES}/{split}"
        found = existing_splits(root, fs)
        if not found and is_folder_pair(root, fs):
            raise SourceError(root / split, f"no split {split!r} ({looked}); {root} is a split folder itself: leave out --split")
        if not found and results_folder(root, fs) is not None:
            raise SourceError(root / split, f"no split {split!r} ({looked}); {root} is a results folder: leave out --split")
        raise SourceError(root / split, f"no split {split!r} ({looked}); {split_choices(split, found)}")

    def _with_meta(self, folder: Path, images: Path, annotations: Path, name: str | None) -> _Split:
        """The split with its MOSEv2 meta file: ``meta_<split>.json`` in ``folder``, else in the root; a folder not
        named as a split uses the one meta file it holds."""
        fs = self.fs
        if name is not None:
            places = [place / meta_name(name) for place in dict.fromkeys((folder, self.source))]
            return _Split(images, annotations, name, next((path for path in places if fs.is_file(path)), None))
        found = meta_files(folder, fs)
        return _Split(images, annotations, name, folder / found[0] if len(found) == 1 else None)

    def info(self) -> DatasetInfo:
        split = self._split()
        layout_root = split.annotations if split.results else split.annotations.parent
        attributes = with_marker_attributes(layout_root, (), self.fs)
        return DatasetInfo(self.name, split.name, image_root=self.image_root(split.images), attributes=attributes)

    def missing_images(self) -> str | None:
        missing = super().missing_images()
        if missing is not None and self._split().results:
            return "it holds annotations only (a results folder: masks, no frames)"
        return missing

    def roots(self) -> list[Path]:
        split = self._split()
        return [self.source, self.frames_folder(split.images), split.annotations, *([split.meta] if split.meta else [])]

    def layout_folders(self) -> LayoutFolders:
        split = self._split()
        if split.meta is None:
            return LayoutFolders(split.images, split.annotations)
        names = tuple(sorted(parse_meta(split.meta, self.fs)))
        return LayoutFolders(split.images, split.annotations, VideoIndex(split.meta, names))

    def list_videos(self) -> list[VideoRef]:
        """The folder pairs, each with what MOSEv2's meta file says of it (the file is parsed again: it is small)."""
        refs = super().list_videos()
        meta = self._split().meta
        if meta is None:
            return refs
        facts = parse_meta(meta, self.fs)
        return [MoseVideoRef(**{f.name: getattr(ref, f.name) for f in fields(ref)}, facts=facts.get(ref.name)) for ref in refs]

    def read_video(self, ref: FolderVideoRef) -> Video:
        video = read_folder_video(ref, self.fs)
        facts = ref.facts if isinstance(ref, MoseVideoRef) else None
        problem = facts.problem(video) if facts is not None else None
        if problem is not None:
            raise SourceError(facts.path, f"videos/{video.name}: {problem} ({ref.image_dir})")
        return video
