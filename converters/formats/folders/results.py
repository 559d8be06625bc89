"""A results folder: ``<method>/<video>/<frame>.png``, masks alone, as VOS methods ship their predictions.

DAVIS's evaluation kits and the YouTube-VOS, MOSE and MOSEv2 servers read exactly this (a submission
is a zip of it), and it is what a layout's ``Annotations/`` folder holds: the folder-layout readers
read it as that folder, with no frame folder (each mask file is a frame). Only names are looked at,
never file contents: a folder is one when every visible entry is a video folder, or one of the files
an evaluation kit leaves there, and each video folder looked into holds PNG files and no other file.
An archive may wrap the video folders in one top folder (``zip -r osvos.zip osvos``), as MOSEv2's
scorer allows: that folder is then the results folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ...sources.files import LOCAL, FileSystem
from .spec import ANNOTATIONS, IMAGES, MASK_SUFFIX, is_desktop_file

#: How sure detection is of a results folder: below every layout's own marks (10), so a reader that knows the
#: folder by its names wins, and a dataset's own ``Annotations/`` folder is named as lying inside it.
DETECTION_SCORE = 5
#: At most this many video folders are looked into (the rest are read as videos all the same).
LOOKED_INTO = 32
#: Files DAVIS's evaluation (davis2017-evaluation, ``evaluation_method.py``) writes into the results folder it scores.
EVALUATION_FILES = re.compile(r"(global|per-sequence)_results-.+\.csv")
#: Video folder names a results folder cannot have: a layout's own folders, which make it that layout.
_LAYOUT_FOLDERS = frozenset({IMAGES, ANNOTATIONS})


@dataclass(frozen=True)
class ResultsFolder:
    """The folder holding the video folders (``folder``), and one mask of it to show (``example``, relative to it)."""

    folder: Path
    example: str

    def describe(self) -> str:
        return f"a results folder: masks alone, one folder per video ({self.example})"


def results_folder(source: str | os.PathLike, fs: FileSystem = LOCAL) -> ResultsFolder | None:
    """``source`` as a results folder (or, an archive, the one folder it wraps the video folders in), else None."""
    source = Path(source)
    found = _masks_alone(source, fs)
    if found is not None or not os.path.isfile(source):  # a folder on the disk is what the user named
        return found
    inside = _visible(source, fs)
    if inside is None or len(inside) != 1 or not inside[0][1]:
        return None
    return _masks_alone(source / inside[0][0], fs)


def read_as_mose(source: str | os.PathLike, fs: FileSystem = LOCAL) -> str:
    """``; it is a results folder (...), which --from mose reads`` for another layout's error, or "" for any other source."""
    found = results_folder(source, fs)
    return "" if found is None else f"; it is {found.describe()}, which --from mose reads"


def results_folders_in(folder: str | os.PathLike, fs: FileSystem = LOCAL) -> list[str]:
    """Names of the sub-folders of ``folder`` that are results folders (``results/semi-supervised/osvos``), of the
    first :data:`LOOKED_INTO`: a folder of methods, each of which reads."""
    entries = _visible(Path(folder), fs) or []
    names = sorted(name for name, is_dir in entries if is_dir)[:LOOKED_INTO]
    return [name for name in names if _masks_alone(Path(folder) / name, fs) is not None]


def _masks_alone(folder: Path, fs: FileSystem) -> ResultsFolder | None:
    entries = _visible(folder, fs)
    if entries is None:
        return None
    videos = sorted(name for name, is_dir in entries if is_dir)
    others = [name for name, is_dir in entries if not is_dir and not _left_by_tools(name)]
    if not videos or others or _LAYOUT_FOLDERS.intersection(videos):
        return None
    example = None
    for video in videos[:LOOKED_INTO]:
        listed = _visible(folder / video, fs)
        names = sorted(name for name, is_dir in listed or () if not is_dir)
        if not names or not all(name.lower().endswith(MASK_SUFFIX) for name in names):
            return None
        example = example or f"{video}/{names[0]}"
    return ResultsFolder(folder, example)


def _left_by_tools(name: str) -> bool:
    """A file an evaluation kit or a desktop leaves beside the video folders: no one's masks."""
    return EVALUATION_FILES.fullmatch(name) is not None or is_desktop_file(name)


def _visible(folder: Path, fs: FileSystem) -> list[tuple[str, bool]] | None:
    """``(name, is a folder)`` of each visible entry (a link to nothing counts as a file), or None if unlistable."""
    try:
        return [(e.name, e.is_dir) for e in fs.scandir(folder) if not e.name.startswith(".")]
    except OSError:
        return None
