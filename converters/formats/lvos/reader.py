"""LVOS v1/v2: split folders of ``JPEGImages/<video>/<8 digits>.jpg`` beside ``Annotations/`` and ``<split>_meta.json``.

The source is a split folder, or an LVOS root holding several (choose with ``split``), or the
published archive itself. The meta file names each video's objects and each object's
``frame_range`` (``start``, ``end``, ``frame_nums``: what LVOS's evaluation kit samples every
5th frame of); those are kept verbatim as object metadata (``frame_range.start``, ...), which the
COCO, Parquet and HDF5 outputs carry. The meta is optional (it is a separate download); every
video it names must have frames. Val ships every annotation, not only the first frame as
YouTube-VOS and MOSE do; still, a frame without its PNG is read as unannotated. Frames are named
by 8 digits: another name among them is an error naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceError
from ...model import VOID_ID, DatasetInfo, ObjectInfo, Video
from ...reader import Detection
from ...records import Record
from ...sources.files import LOCAL, FileSystem
from ..folders.entries import read_json, subfolders, visible_entries
from ..folders.reader import FolderLayoutReader, FolderVideoRef, LayoutFolders, VideoIndex, split_choices, split_of
from ..folders.results import read_as_mose
from ..folders.spec import ANNOTATIONS, IMAGE_SUFFIXES, IMAGES, MASK_SUFFIX
from ..youtube_vos.spec import META as YOUTUBE_VOS_META
from .spec import (
    FRAME_RANGE,
    FRAME_RANGE_FIELDS,
    MARKER_NAME,
    META_FOLDER,
    META_NAME,
    META_SUFFIX,
    is_frame_stem,
    meta_name,
    metadata_key,
)

_FRAME_SUFFIXES = (*IMAGE_SUFFIXES, MASK_SUFFIX)


@dataclass(frozen=True)
class LvosOptions:
    split: str | None = None  # a split folder under the root (train, val, test); needed when there are several
    images: str | None = None  # a folder of <video>/ frame folders to take the frames from (annotations-only sources)


def is_split_folder(folder: Path, fs: FileSystem = LOCAL) -> bool:
    """``JPEGImages/`` or, for annotations alone (predictions, --no-images copies), ``Annotations/``."""
    return fs.is_dir(folder / IMAGES) or fs.is_dir(folder / ANNOTATIONS)


def split_folders(root: Path, fs: FileSystem = LOCAL) -> list[str]:
    """Sub-folders of ``root`` that are split folders."""
    return [name for name in subfolders(root, fs) if is_split_folder(root / name, fs)] if fs.is_dir(root) else []


def meta_files(folder: Path, fs: FileSystem = LOCAL, pattern: re.Pattern[str] = META_NAME) -> list[str]:
    """Names of the split meta files (``val_meta.json``, ...) directly in ``folder``, sorted."""
    if not fs.is_dir(folder):
        return []
    return sorted(e.name for e in visible_entries(folder, fs) if e.is_file and pattern.fullmatch(e.name))


def evidence(folder: Path, fs: FileSystem = LOCAL) -> str | None:
    """What marks ``folder`` as an LVOS split (one of its JSON files, or 8-digit frame names), relative to it; None if nothing."""
    for where in (folder, folder / META_FOLDER):
        found = meta_files(where, fs, MARKER_NAME)
        if found:
            return where.relative_to(folder).joinpath(found[0]).as_posix()
    for pair_folder in (IMAGES, ANNOTATIONS):
        named = _frame_names_of_first_video(folder / pair_folder, fs)
        if named is not None:
            return named
    return None


def _frame_names_of_first_video(folder: Path, fs: FileSystem) -> str | None:
    """``JPEGImages/<video>/00000001`` when every frame file of the first video folder has an 8-digit name."""
    if not fs.is_dir(folder):
        return None
    videos = subfolders(folder, fs)
    if not videos:
        return None
    try:
        names = [e.name for e in visible_entries(folder / videos[0], fs) if e.is_file]
    except SourceError:
        return None
    stems = sorted(name.rpartition(".")[0] for name in names if name.lower().endswith(_FRAME_SUFFIXES))
    if stems and all(is_frame_stem(stem) for stem in stems):
        return f"{folder.name}/{videos[0]}/{stems[0]}"
    return None


def parse_meta(path: Path, fs: FileSystem = LOCAL) -> dict[str, tuple[ObjectInfo, ...]]:
    """Each video's objects, sorted by id, with their ``frame_range`` as metadata, from a ``<split>_meta.json``."""
    data = read_json(path, fs)
    videos = data.get("videos") if isinstance(data, dict) else None
    if not isinstance(videos, dict):
        raise SourceError(
            path, 'expected {"videos": {"<video>": {"objects": {"<id>": {"frame_range": {...}}}}}} at the top level'
        )
    table: dict[str, tuple[ObjectInfo, ...]] = {}
    for video, entry in videos.items():
        objects = Record(entry, path, f"videos/{video}").record("objects")
        parsed = sorted((_parse_object(objects, key) for key in objects.value), key=lambda o: o.object_id)
        ids = [o.object_id for o in parsed]
        if len(ids) != len(set(ids)):
            objects.fail("two keys name the same object id")
        table[video] = tuple(parsed)
    return table


def _parse_object(objects: Record, key: str) -> ObjectInfo:
    """``objects[key]``: an id from 1 to 254 (the PNG's pixel value) and its ``frame_range``, each field kept as given."""
    if not (key.isascii() and key.isdigit()) or not 0 < int(key) < VOID_ID:
        objects.fail(f"object key {key!r} is not an integer id from 1 to {VOID_ID - 1}", key)
    frame_range = objects.record(key).record(FRAME_RANGE)
    metadata = []
    for field in FRAME_RANGE_FIELDS:
        value = frame_range.raw(field)
        frame_range.as_int(value, field, lenient=True)  # the kit takes int() of it: a number or a string of digits
        metadata.append((metadata_key(field), value))
    return ObjectInfo(int(key), metadata=tuple(metadata))


@dataclass(frozen=True)
class _Split:
    """The chosen split: its folder, its name (None for a folder not named as a split) and its meta file, if any."""

    folder: Path
    name: str | None
    meta: Path | None


class LvosReader(FolderLayoutReader):
    """Reads one LVOS split folder; each object's ``frame_range`` from its meta file is kept as object metadata."""

    name = "lvos"
    Options = LvosOptions

    @classmethod
    def sniff_layout(cls, source: Path, fs: FileSystem) -> Detection:
        folders = [source] if is_split_folder(source, fs) else [source / name for name in split_folders(source, fs)]
        for folder in folders:
            if fs.exists(folder / YOUTUBE_VOS_META):  # YouTube-VOS written from LVOS keeps the 8-digit names
                return Detection(0, f"{folder / YOUTUBE_VOS_META} marks YouTube-VOS")
            found = evidence(folder, fs)
            if found is not None:
                shown = found if folder == source else f"{folder.name}/{found}"
                return Detection(10, f"LVOS: {shown}")
        near = 3 if folders else 0
        return Detection(0, f"no <split>{META_SUFFIX} and no 8-digit frame names", near=near)

    def _split(self) -> _Split:
        root, split, fs = self.source, self.options.split, self.fs
        if split is None:
            if is_split_folder(root, fs):
                folder, name = root, split_of(root)
            else:
                splits = split_folders(root, fs)
                if len(splits) > 1:
                    raise SourceError(
                        root, f"holds several splits ({', '.join(splits)}); choose one with --split (reader option split)"
                    )
                if not splits:
                    raise SourceError(root, f"no {IMAGES}/ or {ANNOTATIONS}/ here or in a split folder{read_as_mose(root, fs)}")
                folder, name = root / splits[0], splits[0]
        elif is_split_folder(root / split, fs):
            folder, name = root / split, split
        elif is_split_folder(root, fs):
            raise SourceError(root / split, f"no split {split!r}; {root} is a split folder itself: leave out --split")
        else:
            raise SourceError(root / split, f"no split {split!r}; {split_choices(split, split_folders(root, fs))}")
        return _Split(folder, name, self._meta_path(folder, name))

    def _meta_path(self, folder: Path, name: str | None) -> Path | None:
        """``<split>_meta.json`` in the split folder, else its ``metadata/`` (LVOS v2, unverified), else the root's.

        A split folder holding one meta file of another name (the README's ``train_meta.json`` under
        every split, or a folder not named as a split) uses that one; several are an error.
        """
        fs = self.fs
        if name is not None:
            places = [folder, folder / META_FOLDER, *([self.source / META_FOLDER] if folder != self.source else [])]
            for place in places:
                if fs.is_file(place / meta_name(name)):
                    return place / meta_name(name)
        found = meta_files(folder, fs)
        if len(found) > 1:
            wanted = f"none is {meta_name(name)}" if name is not None else f"{folder.name} is not a split name"
            raise SourceError(folder, f"holds several meta files ({', '.join(found)}) and {wanted}; which is this split's?")
        return folder / found[0] if found else None

    def info(self) -> DatasetInfo:
        split = self._split()
        return DatasetInfo(source_format=self.name, split=split.name, image_root=self.image_root(split.folder / IMAGES))

    def roots(self) -> list[Path]:
        split = self._split()
        images = self.frames_folder(split.folder / IMAGES)
        return [self.source, *([split.meta] if split.meta else []), images, split.folder / ANNOTATIONS]

    def layout_folders(self) -> LayoutFolders:
        split = self._split()
        images, annotations = split.folder / IMAGES, split.folder / ANNOTATIONS
        if split.meta is None:
            return LayoutFolders(images, annotations)
        objects = parse_meta(split.meta, self.fs)
        return LayoutFolders(images, annotations, VideoIndex(split.meta, tuple(sorted(objects))), objects)

    def read_video(self, ref: FolderVideoRef) -> Video:
        if ref.image_dir is not None:
            _check_frame_names(ref.image_dir, LOCAL if ref.attached else self.fs)
        if ref.mask_dir is not None:
            _check_frame_names(ref.mask_dir, self.fs)
        return super().read_video(ref)


def _check_frame_names(folder: str, fs: FileSystem) -> None:
    """Every frame and mask file of a video folder is named by 8 digits; SourceError names the first that is not."""
    for entry in sorted(visible_entries(folder, fs), key=lambda e: e.name):
        stem, dot, suffix = entry.name.rpartition(".")
        if dot and f".{suffix.lower()}" in _FRAME_SUFFIXES and not is_frame_stem(stem):
            raise SourceError(
                entry.path, "frame name is not 8 digits, as LVOS names every frame (00000001.jpg, 00000006.jpg, ...)"
            )
