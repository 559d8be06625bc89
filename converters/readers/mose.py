"""MOSE and MOSEv2: ``JPEGImages/<video>/NNNNN.jpg`` and ``Annotations/<video>/NNNNN.png``, nothing else.

The source is a split folder (``MOSE/train``), or a MOSE root holding split folders
(choose with ``split``), or the published-but-wrong ``JPEGImages/<split>`` arrangement;
or the published ``train.tar.gz``/``valid.tar.gz`` itself (it holds the split folder).
Train annotates every frame; valid only ``00000.png``. No categories ship with MOSE.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import sources
from ..errors import SourceError
from ..model import DatasetInfo, Video
from ..sources import LOCAL, FileSystem
from .base import Detection, Reader, VideoRef
from .folders import FolderVideoRef, folder_ref, read_folder_video, split_of, subfolders, video_folders

IMAGES = "JPEGImages"
ANNOTATIONS = "Annotations"


@dataclass(frozen=True)
class MoseOptions:
    split: str | None = None  # a split folder under the root (train, valid); needed when there are several


def is_folder_pair(path: Path, fs: FileSystem = LOCAL) -> bool:
    return fs.is_dir(path / IMAGES) and fs.is_dir(path / ANNOTATIONS)


def split_folders(root: Path, fs: FileSystem = LOCAL) -> list[str]:
    """Sub-folders of ``root`` that hold a JPEGImages/Annotations pair."""
    return [name for name in subfolders(root, fs) if is_folder_pair(root / name, fs)] if fs.is_dir(root) else []


class MoseReader(Reader):
    """Reads MOSE/MOSEv2 split folders (and any bare ``JPEGImages`` + ``Annotations`` pair)."""

    name = "mose"
    Options = MoseOptions

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        fs = sources.filesystem(source)
        for folder in [source, *(source / s for s in split_folders(source, fs))]:
            if fs.exists(folder / "meta.json"):
                return Detection(0, f"{folder / 'meta.json'} marks YouTube-VOS")
            if fs.is_dir(folder / "ImageSets"):
                return Detection(0, f"{folder / 'ImageSets'} marks DAVIS")
        if is_folder_pair(source, fs):
            return Detection(10, f"bare {IMAGES}/ and {ANNOTATIONS}/")
        splits = split_folders(source, fs)
        if splits:
            return Detection(10, f"split folders with {IMAGES}/ and {ANNOTATIONS}/: {', '.join(splits)}")
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
        raise SourceError(root / split, f"no split {split!r} (looked for {split}/{IMAGES} and {IMAGES}/{split})")

    def info(self) -> DatasetInfo:
        images, _, split = self._split_root()
        return DatasetInfo(source_format=self.name, split=split, image_root=str(images))

    def roots(self) -> list[Path]:
        images, annotations, _ = self._split_root()
        return [self.source, images, annotations]

    def list_videos(self) -> list[VideoRef]:
        images, annotations, _ = self._split_root()
        with_images = set(video_folders(images, self.fs))
        with_masks = set(video_folders(annotations, self.fs)) if self.fs.is_dir(annotations) else set()
        return [
            folder_ref(
                name,
                str(images / name) if name in with_images else None,
                str(annotations / name) if name in with_masks else None,
                fs=self.fs,
            )
            for name in sorted(with_images | with_masks)
        ]

    def read_video(self, ref: FolderVideoRef) -> Video:
        return read_folder_video(ref, self.fs)
