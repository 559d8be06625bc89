"""MOSE and MOSEv2: ``JPEGImages/<video>/NNNNN.jpg`` and ``Annotations/<video>/NNNNN.png``, nothing else.

The source is a split folder (``MOSE/train``), or a MOSE root holding split folders
(choose with ``split``), or the published-but-wrong ``JPEGImages/<split>`` arrangement.
Train annotates every frame; valid only ``00000.png``. No categories ship with MOSE.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from ..model import DatasetInfo, Video
from .base import Detection, Reader, VideoRef
from .folders import FolderVideoRef, folder_ref, read_folder_video, subfolders

IMAGES = "JPEGImages"
ANNOTATIONS = "Annotations"


@dataclass(frozen=True)
class MoseOptions:
    split: str | None = None  # a split folder under the root (train, valid); needed when there are several


def is_folder_pair(path: Path) -> bool:
    return (path / IMAGES).is_dir() and (path / ANNOTATIONS).is_dir()


def split_folders(root: Path) -> list[str]:
    """Sub-folders of ``root`` that hold a JPEGImages/Annotations pair."""
    return [name for name in subfolders(root) if is_folder_pair(root / name)] if root.is_dir() else []


class MoseReader(Reader):
    """Reads MOSE/MOSEv2 split folders (and any bare ``JPEGImages`` + ``Annotations`` pair)."""

    name = "mose"
    Options = MoseOptions

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        for folder in [source, *(source / s for s in split_folders(source))]:
            if (folder / "meta.json").exists():
                return Detection(0, f"{folder / 'meta.json'} marks YouTube-VOS")
            if (folder / "ImageSets").is_dir():
                return Detection(0, f"{folder / 'ImageSets'} marks DAVIS")
        if is_folder_pair(source):
            return Detection(10, f"bare {IMAGES}/ and {ANNOTATIONS}/")
        splits = split_folders(source)
        if splits:
            return Detection(10, f"split folders with {IMAGES}/ and {ANNOTATIONS}/: {', '.join(splits)}")
        return Detection(0, f"no {IMAGES}/ and {ANNOTATIONS}/ folders")

    def _split_root(self) -> tuple[Path, Path, str | None]:
        """(images folder, annotations folder, split name) for the chosen split."""
        root, split = self.source, self.options.split
        if split is None:
            if is_folder_pair(root):
                return root / IMAGES, root / ANNOTATIONS, None
            splits = split_folders(root)
            if len(splits) == 1:
                split = splits[0]
            elif splits:
                raise SourceError(root, f"holds several splits ({', '.join(splits)}); choose one with --split")
            else:
                raise SourceError(root, f"no {IMAGES}/ and {ANNOTATIONS}/ folders here or in a split folder")
        if is_folder_pair(root / split):
            return root / split / IMAGES, root / split / ANNOTATIONS, split
        if (root / IMAGES / split).is_dir():  # JPEGImages/<split>, as some published loaders expect
            return root / IMAGES / split, root / ANNOTATIONS / split, split
        raise SourceError(root / split, f"no split {split!r} (looked for {split}/{IMAGES} and {IMAGES}/{split})")

    def info(self) -> DatasetInfo:
        images, _, split = self._split_root()
        return DatasetInfo(source_format=self.name, split=split, image_root=str(images))

    def list_videos(self) -> list[VideoRef]:
        images, annotations, _ = self._split_root()
        with_images = set(subfolders(images))
        with_masks = set(subfolders(annotations)) if annotations.is_dir() else set()
        return [
            folder_ref(
                name,
                str(images / name) if name in with_images else None,
                str(annotations / name) if name in with_masks else None,
            )
            for name in sorted(with_images | with_masks)
        ]

    def read_video(self, ref: FolderVideoRef) -> Video:
        return read_folder_video(ref)
