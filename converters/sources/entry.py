"""What a folder listing is made of (:class:`Entry`), and which file names are archives.

Below both the local disk and the archives (:mod:`.files`, :mod:`.archives`), which list folders as entries.
"""

from __future__ import annotations

import os

#: Archive kinds by file name ending (lower case); anything else, ``.json.gz`` included, is a plain file.
ARCHIVE_SUFFIXES = {".zip": "zip", ".tar": "tar", ".tar.gz": "tgz", ".tgz": "tgz"}


class Entry:
    """One item of a folder listing: ``name``, ``path``, ``is_dir``, ``is_file`` and ``size`` (bytes, 0 for a folder).

    On a local disk the size is read only when asked: a ``stat`` per file costs several times
    the listing itself, and reading a video never needs it (planning shards does).
    """

    __slots__ = ("_dirent", "_mtime_ns", "_size", "is_dir", "is_file", "name", "path")

    def __init__(self, name: str, path: str, is_dir: bool, is_file: bool, size: int = 0, dirent: os.DirEntry | None = None):
        self.name, self.path, self.is_dir, self.is_file = name, path, is_dir, is_file
        self._size, self._mtime_ns, self._dirent = size, 0, dirent

    def _stat(self) -> None:
        if self._dirent is not None:
            try:
                found = self._dirent.stat()
                self._size, self._mtime_ns = (found.st_size if self.is_file else 0), found.st_mtime_ns
            except OSError:
                self._size = 0
            self._dirent = None

    @property
    def size(self) -> int:
        self._stat()
        return self._size

    @property
    def mtime_ns(self) -> int:
        """Last modification, on a local disk (0 inside an archive, whose own time stands for its members)."""
        self._stat()
        return self._mtime_ns

    def __repr__(self) -> str:
        kind = "folder" if self.is_dir else "file" if self.is_file else "other"
        return f"Entry({self.path!r}, {kind})"


def archive_kind(path: str | os.PathLike) -> str | None:
    """``"zip"``, ``"tar"`` or ``"tgz"`` from the file name, or None (``x.json.gz`` is not an archive)."""
    name = os.fspath(path).lower()
    for suffix, kind in ARCHIVE_SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    return None
