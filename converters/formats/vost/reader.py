"""VOST: ``JPEGImages/<seq>/frame00000.jpg`` beside ``Annotations/<seq>/frame00000.png``, split lists in ``ImageSets/``.

Splits are list files (``ImageSets/train.txt``, ``val.txt``, ``test.txt``: one sequence a line); without
a split every sequence folder is read. Annotation is sparse: a frame without a PNG is unannotated.
Pixel value 255 is VOST's ignore region: it is kept as the void region, never as an object, even
in a grayscale mask holding nothing else (no 0/255 binary masks in VOST). ``frames=10fps`` reads
``JPEGImages_10fps/`` (as AOT+'s evaluation does) against the same ``Annotations/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ...errors import SourceError
from ...model import DatasetInfo
from ...reader import Detection
from ...sources.files import LOCAL, FileSystem
from ..folders.entries import read_list, subfolders, visible_entries
from ..folders.reader import FolderLayoutReader, LayoutFolders, VideoIndex, split_choices
from ..folders.spec import ANNOTATIONS, IMAGE_SUFFIXES, IMAGES, MASK_SUFFIX
from .spec import FRAME_FOLDERS, FRAME_NAMES, IMAGE_SETS, IMAGES_10FPS, LIST_SUFFIX, ROOT


@dataclass(frozen=True)
class VostOptions:
    split: str | None = None  # a list in ImageSets/ (train, val, test); None: every sequence folder
    frames: Literal["5fps", "10fps"] = "5fps"  # 10fps: JPEGImages_10fps/ (val's: with split=val); frames without PNG unannotated
    images: str | None = None  # a folder of <sequence>/ frame folders to take the frames from (annotations-only sources)


def vost_root(source: Path, fs: FileSystem = LOCAL) -> Path | None:
    """``source`` or its ``VOST/`` sub-folder, whichever holds a frame or mask folder."""
    for folder in (source, source / ROOT):
        if any(fs.is_dir(folder / name) for name in (IMAGES, IMAGES_10FPS, ANNOTATIONS)):
            return folder
    return None


def vost_marks(folder: Path, fs: FileSystem = LOCAL) -> str | None:
    """What in ``folder`` is VOST's alone: ``JPEGImages_10fps/``, or frames named ``frame00000`` (first video looked at)."""
    if fs.is_dir(folder / IMAGES_10FPS):
        return f"{IMAGES_10FPS}/ in {folder}"
    for pair_folder in (IMAGES, ANNOTATIONS):
        if not fs.is_dir(folder / pair_folder):
            continue
        videos = subfolders(folder / pair_folder, fs)
        if not videos:
            continue
        try:
            entries = visible_entries(folder / pair_folder / videos[0], fs)
        except SourceError:
            continue
        names = sorted(e.name for e in entries if e.is_file and e.name.lower().endswith((*IMAGE_SUFFIXES, MASK_SUFFIX)))
        if names and all(FRAME_NAMES.number(name.rpartition(".")[0]) is not None for name in names):
            return f"frames named like {pair_folder}/{videos[0]}/{names[0]}"
    return None


def read_sequence_list(path: Path, fs: FileSystem = LOCAL) -> tuple[str, ...]:
    """The sequence names of a list file, each once, in first-seen order (blank lines skipped)."""
    names: dict[str, None] = {}
    for number, name in read_list(path, fs):
        if "/" in name or "\\" in name or name in (".", ".."):
            raise SourceError(path, f"line {number}: {name!r} is not a sequence name")
        names.setdefault(name, None)
    return tuple(names)


def _list_names(image_sets: Path, fs: FileSystem) -> list[str]:
    """The splits ``ImageSets/`` has a list for, for error messages."""
    if not fs.is_dir(image_sets):
        return []
    entries = visible_entries(image_sets, fs)
    return sorted(e.name[: -len(LIST_SUFFIX)] for e in entries if e.is_file and e.name.endswith(LIST_SUFFIX))


class VostReader(FolderLayoutReader):
    """Reads a VOST root (``frame00000.jpg`` frames, sparse masks, 255 = ignore), optionally one split list."""

    name = "vost"
    Options = VostOptions
    frame_names = FRAME_NAMES
    binary_masks = False  # 255 is always the ignore region

    @classmethod
    def sniff_layout(cls, source: Path, fs: FileSystem) -> Detection:
        for folder in (source, source / ROOT):
            marks = vost_marks(folder, fs)
            if marks is not None:
                return Detection(20, marks)  # above DAVIS's ImageSets/ and MOSE's bare pair, which VOST also has
        near = 3 if any(fs.is_dir(source / name) for name in (IMAGES, ANNOTATIONS)) else 0
        return Detection(0, f"no {IMAGES_10FPS}/ and no frames named like {FRAME_NAMES.example}.jpg", near=near)

    def _root(self) -> Path:
        root = vost_root(self.source, self.fs)
        if root is None:
            raise SourceError(self.source, f"no {IMAGES}/ or {ANNOTATIONS}/ here or in {ROOT}/")
        return root

    def _list_file(self, root: Path) -> Path | None:
        """``ImageSets/<split>.txt`` of the chosen split (None without one); SourceError lists the splits there are."""
        split = self.options.split
        if split is None:
            return None
        path = root / IMAGE_SETS / f"{split}{LIST_SUFFIX}"
        if not self.fs.is_file(path):
            raise SourceError(
                path,
                f"no list for split {split!r}; {split_choices(split, _list_names(root / IMAGE_SETS, self.fs), 'lists here')}",
            )
        return path

    def layout_folders(self) -> LayoutFolders:
        root, fs = self._root(), self.fs
        images = root / FRAME_FOLDERS[self.options.frames]
        if self.options.frames == "10fps" and not fs.is_dir(images) and self.attached_images() is None:
            raise SourceError(images, f"no {IMAGES_10FPS}/ (VOST ships it beside {IMAGES}/; frames=5fps reads {IMAGES}/)")
        list_file = self._list_file(root)
        index = None if list_file is None else VideoIndex(list_file, read_sequence_list(list_file, fs), "sequence", only=True)
        return LayoutFolders(images, root / ANNOTATIONS, index)

    def info(self) -> DatasetInfo:
        folders = self.layout_folders()
        attributes = [("frames", self.options.frames)]
        if folders.index is not None:
            attributes.append(("image_set", f"{IMAGE_SETS}/{folders.index.path.name}"))
        return DatasetInfo(
            source_format=self.name,
            split=self.options.split,
            image_root=self.image_root(folders.images),
            attributes=tuple(attributes),
        )

    def roots(self) -> list[Path]:
        folders = self.layout_folders()
        listed = [folders.index.path] if folders.index is not None else []
        return [self.source, self.frames_folder(folders.images), folders.annotations, *listed]
