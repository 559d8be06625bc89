"""What a folder layout's folders hold, listed and read: visible entries (hidden files skipped), video folders,
frame files in frame order, and the JSON and list files beside them; every error names the file and the cause.

Every access goes through a :class:`~converters.sources.files.FileSystem`, so a folder and an archive read alike.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ...errors import SourceError
from ...sources.files import LOCAL, Entry, FileSystem
from .spec import NUMBERED, FrameNames


def visible_entries(folder: str | os.PathLike, fs: FileSystem = LOCAL) -> list[Entry]:
    """Entries of ``folder`` whose names do not start with a dot (``.DS_Store``, ``._00000.png``)."""
    try:
        return [e for e in fs.scandir(folder) if not e.name.startswith(".")]
    except OSError as exc:
        raise SourceError(folder, f"cannot list folder: {exc.strerror or exc}") from None


def subfolders(folder: str | os.PathLike, fs: FileSystem = LOCAL) -> list[str]:
    """Names of the visible sub-folders of ``folder``, sorted."""
    return sorted(e.name for e in visible_entries(folder, fs) if e.is_dir)


def video_folders(folder: str | os.PathLike, fs: FileSystem = LOCAL) -> list[str]:
    """Names of the video folders in ``JPEGImages/`` or ``Annotations/``, sorted.

    An entry that cannot be opened as a folder (a dangling link, a link loop, a link inside
    an archive) is listed too, so reading that video fails naming it, and ``--on-error skip``
    records it, rather than the video silently not existing. Plain files are not videos.
    """
    return sorted(e.name for e in visible_entries(folder, fs) if not e.is_file)


def frame_files(
    folder: str | os.PathLike, suffixes: tuple[str, ...], fs: FileSystem = LOCAL, names: FrameNames = NUMBERED
) -> list[Entry]:
    """The frame files of one video folder in frame order (numeric, so ``9 < 10`` at any width).

    Other files are ignored. Two files with the same frame number (``00005.jpg`` and
    ``5.jpg``, or ``.jpg`` beside ``.jpeg``) and names not like the layout's ``names`` are errors.
    """
    found: dict[int, Entry] = {}
    for entry in visible_entries(folder, fs):
        stem, dot, suffix = entry.name.rpartition(".")
        if not dot or "." + suffix.lower() not in suffixes:
            continue
        if not entry.is_file:
            raise SourceError(entry.path, "not a readable file (a folder, or a link to nothing)")
        number = names.number(stem)
        if number is None:
            raise SourceError(entry.path, f"frame file name is not a frame number (frames here are named like {names.example})")
        if number in found:
            raise SourceError(entry.path, f"duplicate frame number {number} (also {found[number].name})")
        found[number] = entry
    return [found[n] for n in sorted(found)]


def read_json(path: str | os.PathLike, fs: FileSystem = LOCAL) -> Any:
    """A metadata JSON file (meta.json, categories.json); SourceError names the file, and where a syntax error is."""
    try:
        return json.loads(fs.read(path))
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # nesting too deep; an integer of thousands of digits
        raise SourceError(path, f"not JSON that can be read ({type(exc).__name__}: {exc})") from None


def read_list(path: str | os.PathLike, fs: FileSystem = LOCAL) -> list[tuple[int, str]]:
    """The non-blank lines of a list file (DAVIS's and VOST's ``ImageSets/``), stripped, with their numbers."""
    try:
        text = fs.read(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"cannot read list: {exc}") from None
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
