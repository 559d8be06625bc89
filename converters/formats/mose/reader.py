"""MOSE and MOSEv2: ``JPEGImages/<video>/NNNNN.jpg`` and ``Annotations/<video>/NNNNN.png``, nothing else.

The source is a split folder (``MOSE/train``), or a MOSE root holding split folders
(choose with ``split``), or the published-but-wrong ``JPEGImages/<split>`` arrangement;
or the published ``train.tar.gz``/``valid.tar.gz`` itself (it holds the split folder).
Train annotates every frame; valid only ``00000.png``. No categories ship with MOSE.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceError
from ...model import DatasetInfo
from ...reader import Detection
from ...sources.files import LOCAL, FileSystem
from ..davis import spec as davis
from ..folders.reader import FolderLayoutReader, LayoutFolders, split_choices, split_of, subfolders
from ..folders.spec import ANNOTATIONS, IMAGES, SPLIT_NAMES
from ..youtube_vos.spec import META


@dataclass(frozen=True)
class MoseOptions:
    split: str | None = None  # a split folder under the root (train, valid); needed when there are several
    images: str | None = None  # a folder of <video>/ frame folders to take the frames from (annotations-only sources)


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


class MoseReader(FolderLayoutReader):
    """Reads MOSE/MOSEv2 split folders (and any bare ``JPEGImages`` + ``Annotations`` pair)."""

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
        if is_folder_pair(source, fs):
            return Detection(10, f"bare {IMAGES}/ and {ANNOTATIONS}/" if fs.is_dir(source / IMAGES) else f"{ANNOTATIONS}/ alone")
        if splits:
            return Detection(10, f"split folders with {IMAGES}/ and {ANNOTATIONS}/: {', '.join(splits)}")
        half = [name for name in (IMAGES, ANNOTATIONS) if fs.is_dir(source / name)]
        if half:
            return Detection(0, f"{half[0]}/ without {({IMAGES, ANNOTATIONS} - set(half)).pop()}/", near=5)
        return Detection(0, f"no {IMAGES}/ and {ANNOTATIONS}/ folders")

    def _split_root(self) -> tuple[Path, Path, str | None]:
        """(images folder, annotations folder, split name) for the chosen split."""
        root, split, fs = self.source, self.options.split, self.fs
        if split is None:
            if is_folder_pair(root, fs):
                return root / IMAGES, root / ANNOTATIONS, split_of(root)
            splits = split_folders(root, fs)
            if len(splits) == 1:
                split = splits[0]
            elif splits:
                raise SourceError(root, f"holds several splits ({', '.join(splits)}); choose one with --split")
            else:
                raise SourceError(root, f"no {IMAGES}/ and {ANNOTATIONS}/ folders here or in a split folder")
        if is_folder_pair(root / split, fs):
            return root / split / IMAGES, root / split / ANNOTATIONS, split
        if fs.is_dir(root / IMAGES / split):  # JPEGImages/<split>, as some published loaders expect
            return root / IMAGES / split, root / ANNOTATIONS / split, split
        looked = f"looked for {split}/{IMAGES} and {IMAGES}/{split}"
        found = existing_splits(root, fs)
        if not found and is_folder_pair(root, fs):
            raise SourceError(root / split, f"no split {split!r} ({looked}); {root} is a split folder itself: leave out --split")
        raise SourceError(root / split, f"no split {split!r} ({looked}); {split_choices(split, found)}")

    def info(self) -> DatasetInfo:
        images, _, split = self._split_root()
        return DatasetInfo(source_format=self.name, split=split, image_root=self.image_root(images))

    def layout_folders(self) -> LayoutFolders:
        images, annotations, _ = self._split_root()
        return LayoutFolders(images, annotations)
