"""Layouts vosconv does not read yet, recognised so that detection says so instead of misreading them.

A layout that shares the folder names of one vosconv reads would otherwise be read silently
as that one, losing what makes it different (LVOS, MOSEv2 and VOST were here until their
readers came). Each marker below is
a name the layout's own documentation gives; only names are looked at, never file contents,
and only in the source and its immediate sub-folders (splits).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..sources.files import LOCAL, FileSystem
from .folders.spec import ANNOTATIONS, IMAGE_SUFFIXES, IMAGES, MASK_SUFFIX

#: Frame files of either folder of the pair: a JPEG frame or a PNG mask.
FRAME_SUFFIXES = (*IMAGE_SUFFIXES, MASK_SUFFIX)
#: At most this many sub-folders of a source are looked into (a split folder has a handful; a video folder thousands).
MAX_SUBFOLDERS = 32


@dataclass(frozen=True)
class Lookalike:
    """What a source looks like (``layout``) and the names that say so (``evidence``)."""

    layout: str
    evidence: str

    def describe(self) -> str:
        return f"{self.layout} ({self.evidence})"


#: File names, matched case-insensitively, that mark a layout; checked in the source and its sub-folders.
_FILES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # MeViS (henghuiding/MeViS load_mevis_json) and Ref-YouTube-VOS: masks by expression, not carried by any reader
    ("a referring VOS set (MeViS, Ref-YouTube-VOS)", re.compile(r"meta_expressions(_v2)?\.json|mask_dict\.json")),
    ("VIPSeg (video panoptic)", re.compile(r"panoptic_gt_vipseg_(train|val|test)\.json")),
)
#: Folder names that mark a layout.
_FOLDERS: tuple[tuple[str, re.Pattern[str]], ...] = (("VIPSeg (video panoptic)", re.compile(r"panomasks(RGB)?")),)
#: Frame file names inside ``JPEGImages/<video>/`` or ``Annotations/<video>/`` that mark a layout.
_FRAMES: tuple[tuple[str, Callable[[str], bool]], ...] = ()


def unread_layout(source: str | os.PathLike, fs: FileSystem = LOCAL) -> Lookalike | None:
    """The layout vosconv does not read that ``source`` looks like, or None."""
    source = Path(source)
    if not fs.is_dir(source):
        return _by_name(source.name, _FILES, source.name)
    for folder in [source, *_subfolders(source, fs)[:MAX_SUBFOLDERS]]:
        found = _in_folder(source, folder, fs)
        if found is not None:
            return found
    return None


def _in_folder(source: Path, folder: Path, fs: FileSystem) -> Lookalike | None:
    shown = folder.relative_to(source).as_posix()
    prefix = "" if shown == "." else f"{shown}/"
    try:
        entries = [e for e in fs.scandir(folder) if not e.name.startswith(".")]
    except OSError:
        return None
    for entry in entries:
        table = _FOLDERS if entry.is_dir else _FILES
        found = _by_name(entry.name, table, f"{prefix}{entry.name}{'/' if entry.is_dir else ''}")
        if found is not None:
            return found
    names = {e.name for e in entries if e.is_dir}
    for pair_folder in (IMAGES, ANNOTATIONS):
        if pair_folder in names:
            found = _by_frames(folder / pair_folder, fs, f"{prefix}{pair_folder}")
            if found is not None:
                return found
    return None


def _by_name(name: str, table: tuple[tuple[str, re.Pattern[str]], ...], shown: str) -> Lookalike | None:
    for layout, pattern in table:
        if pattern.fullmatch(name.lower() if table is _FILES else name):
            return Lookalike(layout, shown)
    return None


def _by_frames(folder: Path, fs: FileSystem, shown: str) -> Lookalike | None:
    """Look at the frame names of the first video folder of ``JPEGImages/`` or ``Annotations/``."""
    videos = _subfolders(folder, fs)
    if not videos:
        return None
    try:
        names = [e.name for e in fs.scandir(videos[0]) if e.is_file and not e.name.startswith(".")]
    except OSError:
        return None
    stems = [name.rpartition(".")[0] for name in names if name.lower().endswith(FRAME_SUFFIXES)]
    for layout, marks in _FRAMES:
        if stems and all(marks(stem) for stem in stems):
            example = sorted(stems)[0]
            return Lookalike(layout, f"frames named like {shown}/{videos[0].name}/{example}")
    return None


def _subfolders(folder: Path, fs: FileSystem) -> list[Path]:
    try:
        return sorted((folder / e.name for e in fs.scandir(folder) if e.is_dir and not e.name.startswith(".")), key=str)
    except OSError:
        return []
