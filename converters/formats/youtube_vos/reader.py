"""YouTube-VOS 2018/2019: a split folder with ``meta.json``, ``JPEGImages/<vid>/`` and ``Annotations/<vid>/``.

The source is a split folder (``train/``, ``valid/``) or a root holding several (choose with
``split``), or the published ``train.zip``/``valid.zip`` itself. ``meta.json`` gives each
object's id, category and frame list; those are kept verbatim in :class:`~converters.model.ObjectInfo`.
Frames step by 5 and need not start at 0; valid/test annotate only each object's
first-appearance frames, and a frame without PNG is simply unannotated. Categories have no
ids in the source: sorted names get ids 1..N.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceError
from ...model import VOID_ID, Category, DatasetInfo, ObjectInfo
from ...reader import Detection
from ...records import Record
from ...sources.files import LOCAL, FileSystem
from ..folders.entries import read_json, subfolders
from ..folders.marker import with_marker_attributes
from ..folders.reader import FolderLayoutReader, LayoutFolders, VideoIndex, split_choices, split_of
from ..folders.results import read_as_mose
from ..folders.spec import ANNOTATIONS, IMAGES
from .spec import META


@dataclass(frozen=True)
class YoutubeVosOptions:
    split: str | None = None  # a split folder under the root (train, valid, test); needed when there are several
    images: str | None = None  # a folder of <video>/ frame folders to take the frames from (annotations-only sources)


def split_folders(root: Path, fs: FileSystem = LOCAL) -> list[str]:
    """Sub-folders of ``root`` holding a ``meta.json``."""
    return [name for name in subfolders(root, fs) if fs.is_file(root / name / META)] if fs.is_dir(root) else []


def parse_meta(path: Path, fs: FileSystem = LOCAL) -> tuple[tuple[Category, ...], dict[str, tuple[ObjectInfo, ...]]]:
    """Categories (sorted names, ids 1..N) and each video's objects, sorted by id, from a ``meta.json``."""
    data = read_json(path, fs)
    videos = data.get("videos") if isinstance(data, dict) else None
    if not isinstance(videos, dict):
        raise SourceError(path, 'expected {"videos": {"<video>": {"objects": {...}}, ...}} at the top level')
    raw: dict[str, list[tuple[int, str | None, tuple[str, ...] | None]]] = {}
    for video, entry in videos.items():
        objects = Record(entry, path, f"videos/{video}").record("objects", None)
        parsed = [_parse_object(objects, key) for key in objects.value] if objects is not None else []
        raw[video] = sorted(parsed, key=lambda o: o[0])
        ids = [o[0] for o in raw[video]]
        if len(ids) != len(set(ids)):
            raise SourceError(path, f"videos/{video}/objects: two keys name the same object id")
    names = sorted({category for objects in raw.values() for _, category, _ in objects if category is not None})
    ids = {name: number for number, name in enumerate(names, 1)}
    table = {
        video: tuple(ObjectInfo(oid, ids.get(category), frames) for oid, category, frames in objects)
        for video, objects in raw.items()
    }
    return tuple(Category(ids[name], name) for name in names), table


def _parse_object(objects: Record, key: str) -> tuple[int, str | None, tuple[str, ...] | None]:
    """``(id, category, frames)`` of ``objects[key]``: ``{"category": str, "frames": [str, ...]}``, both optional."""
    if not (key.isascii() and key.isdigit()) or not 0 < int(key) < VOID_ID:
        objects.fail(f"object key {key!r} is not an integer id from 1 to {VOID_ID - 1}", key)
    value = objects.record(key)
    frames = value.texts("frames", None, nullable=True)
    return int(key), value.text("category", None, nullable=True), tuple(frames) if frames is not None else None


class YoutubeVosReader(FolderLayoutReader):
    """Reads one YouTube-VOS split folder; objects and categories come from its ``meta.json``."""

    name = "youtube-vos"
    Options = YoutubeVosOptions

    @classmethod
    def sniff_layout(cls, source: Path, fs: FileSystem) -> Detection:
        if fs.is_file(source / META):
            return Detection(10, f"{META} in {source}")
        splits = split_folders(source, fs)
        if splits:
            return Detection(10, f"split folders with {META}: {', '.join(splits)}")
        return Detection(0, f"no {META} here or in a sub-folder", near=3 if fs.is_dir(source / IMAGES) else 0)

    def _split_folder(self) -> tuple[Path, str | None]:
        """The chosen split folder and its name (given directly, the folder's own name if it is a split's)."""
        root, split, fs = self.source, self.options.split, self.fs
        if split is None:
            if fs.is_file(root / META):
                return root, split_of(root)
            splits = split_folders(root, fs)
            if len(splits) == 1:
                return root / splits[0], splits[0]
            if splits:
                raise SourceError(
                    root, f"holds several splits ({', '.join(splits)}); choose one with --split (reader option split)"
                )
            _refuse_other_kind(root / META, fs)
            raise SourceError(root, f"no {META} here or in a split folder{read_as_mose(root, fs)}")
        if fs.is_file(root / split / META):
            return root / split, split
        _refuse_other_kind(root / split / META, fs)
        choices = split_choices(split, split_folders(root, fs), label=f"split folders with {META}")
        raise SourceError(root / split / META, f"no split {split!r}; {choices}")

    def info(self) -> DatasetInfo:
        folder, split = self._split_folder()
        categories, _ = parse_meta(folder / META, self.fs)
        attributes = with_marker_attributes(folder, (), self.fs)
        return DatasetInfo(self.name, split, categories, self.image_root(folder / IMAGES), attributes)

    def roots(self) -> list[Path]:
        folder, _ = self._split_folder()
        return [self.source, folder / META, self.frames_folder(folder / IMAGES), folder / ANNOTATIONS]

    def layout_folders(self) -> LayoutFolders:
        folder, _ = self._split_folder()
        meta = folder / META
        _, objects = parse_meta(meta, self.fs)
        return LayoutFolders(folder / IMAGES, folder / ANNOTATIONS, VideoIndex(meta, tuple(sorted(objects))), objects)


def _refuse_other_kind(path: Path, fs: FileSystem) -> None:
    """A folder, a pipe or a device named like the metadata file: said as such, not as a split that is not there."""
    if fs.exists(path):
        raise SourceError(path, "not a regular file (a folder, a pipe or a device)")
