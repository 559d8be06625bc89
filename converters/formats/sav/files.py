"""Which files make up each SA-V video: a train video's mp4 and masklet files (flat or in ``sav_NNN/`` shard
folders), a val/test video's frame and mask folders. Listing only; nothing here reads a frame or a mask."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceError
from ...reader import VideoRef
from ...sources.files import open_regular
from . import spec


@dataclass(frozen=True)
class SavVideoRef(VideoRef):
    """A train video (``mp4`` and its JSON files) or a val/test video (``images`` and ``annotations`` folders)."""

    mp4: str | None = None
    manual: str | None = None
    auto: str | None = None
    images: str | None = None
    annotations: str | None = None

    def folders(self) -> tuple[str, ...]:
        return tuple(f for f in (self.images, self.annotations) if f)


def visible(names: list[str]) -> list[str]:
    return sorted(n for n in names if not n.startswith("."))


def listdir(folder: Path) -> list[str]:
    try:
        return visible(os.listdir(folder))
    except OSError as exc:
        raise SourceError(folder, f"cannot list: {exc.strerror or exc}") from None


def train_stem(name: str) -> str | None:
    """The video a train file belongs to (``sav_000001`` for its mp4 and masklet files), or None."""
    if name.startswith("."):
        return None
    if name.endswith(".mp4"):
        return name[:-4]
    masklets = spec.TRAIN_JSON.fullmatch(name)
    return masklets.group(1) if masklets else None


def train_folders(source: Path) -> list[Path]:
    """The source and its sub-folders (SA-V's ``sav_NNN/`` shards) that hold mp4 or masklet files."""
    if not source.is_dir():
        return []
    found = []
    for folder in [source, *(source / n for n in listdir(source) if (source / n).is_dir())]:
        try:
            if any(train_stem(n) for n in os.listdir(folder)):
                found.append(folder)
        except OSError:
            continue
    return found


def is_split_folder(source: Path) -> bool:
    """A val/test folder: frames and masks, or masks and vosconv's record (written with images=false)."""
    has_frames = (source / spec.IMAGES).is_dir() or (source / spec.SIDECAR / f"{spec.DATASET_RECORD}.json").is_file()
    return has_frames and (source / spec.ANNOTATIONS).is_dir()


def train_ref(folder: Path, stem: str, names: set[str]) -> SavVideoRef:
    """A train video: its mp4 and masklet files, those that are in ``folder``. A file that cannot be stat'ed (a broken
    link) is sized 0 here: reading the video names it (a skippable error), never listing the dataset."""
    mp4, manual, auto = (f"{stem}.mp4", f"{stem}_manual.json", f"{stem}_auto.json")
    stats = [(n, _stat(folder / n)) for n in (mp4, manual, auto) if n in names]
    return SavVideoRef(
        stem,
        sum(size for _, (size, _) in stats),
        ";".join(f"{n}:{size}:{mtime}" for n, (size, mtime) in stats),
        mp4=str(folder / mp4) if mp4 in names else None,
        manual=str(folder / manual) if manual in names else None,
        auto=str(folder / auto) if auto in names else None,
    )


def _stat(path: Path) -> tuple[int, int]:
    """``(size, mtime_ns)`` of the file, ``(0, 0)`` when it cannot be stat'ed."""
    try:
        found = path.stat()
    except OSError:
        return 0, 0
    return found.st_size, found.st_mtime_ns


def train_file(ref: SavVideoRef) -> str:
    """The file an error about a train video names: its mp4, else its masklet file."""
    return ref.mp4 or ref.manual or ref.auto


def looks_like_masklets(path: Path) -> bool:
    """A JSON object whose first keys are SA-V's (``video_id``, ...): read from its first bytes only."""
    try:
        with open_regular(path) as file:  # a pipe named like one would make detection wait
            head = file.read(256)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and b'"video_id"' in head
