"""A folder writer's per-video folders and files, made new and never reused.

On a file system that folds case or Unicode normalisation (macOS APFS and Windows NTFS by
default), ``Bear`` and ``bear``, or ``café`` in NFC and in NFD, are one entry: a writer that
reused an entry already there would put two videos in one folder, the second's files replacing
the first's, in silence. So each video's own folders are made with ``mkdir`` (which fails on an
entry already there) and every file is opened for exclusive creation: a name the file system takes
for another is found where it happens, on whatever file system, and refused naming the video. The
staging folder holds only finished shards' files and this run's (a resumed run deletes the rest,
and a shard that fails removes what it made), so an entry already there is another video's, but
for one: an entry of exactly the name made, a real folder or file, named after the video. That is
the video's own, left by an attempt at its shard whose worker died (Ray runs such a task again),
and is replaced; a name the file system folds into another is listed under the other's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from ...errors import SourceError

FOLDS = "folds case or Unicode normalisation (as macOS and Windows do by default)"
FIX = "write coco, parquet or hdf5, or to a case-sensitive volume"


class NewEntries:
    """The folders and files a writer makes under ``root`` (names relative to it, ``/``-separated), each new: a name
    already there is a :class:`SourceError` naming ``where`` (the video, or a frame of it). Records what it made, so
    :meth:`discard` removes exactly that and never another video's files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[str] = []
        self.folders: list[str] = []

    def folder(self, name: str, where: str, *, video_folder: bool = True) -> None:
        """Make the folder ``name`` (its parents as needed, shared); ``video_folder``: it is named after its video."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            if not (video_folder and _left_behind(path, stat.S_ISDIR)):
                raise _taken(path, name, where, "the folder of video" if video_folder else "the folder") from None
            shutil.rmtree(path)
            path.mkdir()
        self.folders.append(name)

    def file(self, name: str, data: bytes, where: str, *, video_file: bool = False) -> None:
        """Write ``data`` to the new file ``name``; a write that fails leaves no file (an OSError naming it).
        ``video_file``: it is named after its video, in a folder all videos share."""
        path = self.root / name
        try:
            file = open(path, "xb")  # noqa: SIM115 (closed below, removed if the write fails)
        except FileExistsError:
            if not (video_file and _left_behind(path, stat.S_ISREG)):
                raise _taken(path, name, where, "the file") from None
            path.unlink()
            file = open(path, "xb")  # noqa: SIM115
        try:
            with file:
                file.write(data)
        except BaseException as exc:  # a full disk, Ctrl-C: no half-written file is left under the name
            with contextlib.suppress(OSError):
                path.unlink()
            if isinstance(exc, OSError) and not exc.filename:  # a failed write does not say which file
                raise OSError(exc.errno, exc.strerror, os.fspath(path)) from None
            raise
        self.files.append(name)

    def discard(self) -> None:
        """Delete what was made: the files, then the folders, deepest first, each only if that leaves it empty."""
        for name in self.files:
            with contextlib.suppress(OSError):
                (self.root / name).unlink()
        for name in sorted(self.folders, key=lambda n: n.count("/"), reverse=True):
            with contextlib.suppress(OSError):  # not empty: holding what is not ours
                (self.root / name).rmdir()
        self.files.clear()
        self.folders.clear()


def _left_behind(path: Path, kind: Callable[[int], bool]) -> bool:
    """Whether ``path`` is listed under exactly its name, as a real entry of ``kind`` (``stat.S_ISDIR``): an entry
    made for this very video by an attempt at its shard that died, not another video's under a folded name."""
    try:
        return path.name in os.listdir(path.parent) and kind(os.lstat(path).st_mode)
    except OSError:
        return False


def _taken(path: Path, name: str, where: str, kind: str) -> SourceError:
    """The error for ``name``, which the file system says is there already: under the name of which entry."""
    other = _same_entry(path)
    parent = name.rpartition("/")[0]
    video = kind.endswith("video")
    if other is None:
        found, lost = "already there, another video's,", "that video's files"
    elif video:
        found, lost = f"{kind} {other!r} ({parent}/{other})", "that video's files"
    else:
        found, lost = f"{kind} {parent}/{other}", "that file" if kind == "the file" else "the files in it"
    return SourceError(where, f"{name} is {found} on this file system, which {FOLDS}: writing it would replace {lost}; {FIX}")


def _same_entry(path: Path) -> str | None:
    """The name of the other entry of ``path``'s folder that ``path`` leads to; None when none does."""
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            if entry.name != path.name and _same(entry.path, path):
                return entry.name
    return None


def _same(a: str, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
