"""Where a source's files are read from: a folder on disk, or a ``.zip``/``.tar``/``.tar.gz`` archive as it is.

Readers list folders and read files through a small filesystem object instead of ``os``,
so the same reader code reads ``MOSE/train`` and ``train.tar.gz`` without extracting it.
Paths keep the ``pathlib`` form: a member of an archive is ``<archive>/<member>``
(``/data/train.tar.gz/train/Annotations/x/00001.png``), so readers join with ``/`` and error
messages name the member inside the archive.

Archives are read by random access, never extracted (see :mod:`converters.sources.archives`): the
member table (and, for a ``.tar.gz``, the gzip seek index) is built once, in the process that
opens the source, and saved in a temporary folder that worker processes load instead of
reading the archive again. An :class:`ArchiveFS` pickles as paths, never as open handles.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO, Protocol

from ..errors import SourceError
from ..model import ImageRef
from .entry import Entry, archive_kind

_MAGIC = {"zip": (b"PK\x03\x04", b"PK\x05\x06"), "tgz": (b"\x1f\x8b",)}


class FileSystem(Protocol):
    """What readers need from where their files live. Missing paths raise ``OSError`` like ``os`` does."""

    def scandir(self, path: str | os.PathLike) -> list[Entry]: ...
    def is_dir(self, path: str | os.PathLike) -> bool: ...
    def is_file(self, path: str | os.PathLike) -> bool: ...
    def exists(self, path: str | os.PathLike) -> bool: ...
    def open(self, path: str | os.PathLike) -> BinaryIO: ...
    def read(self, path: str | os.PathLike) -> bytes: ...
    def image_ref(self, path: str) -> ImageRef: ...
    def check_integrity(self, paths: list[str | os.PathLike]) -> list[SourceError]: ...
    def close(self) -> None: ...


def join_inside(root: str, relative: str) -> str:
    """``root/relative``, where ``relative`` (a path read from a file) may not lead out of ``root``.

    Paths recorded in COCO files and Parquet shards are relative to an images folder; an
    absolute one or one climbing out with ``..`` would read, and copy into the output, a
    file the user never pointed at.
    """
    parts = relative.replace("\\", "/").split("/")
    if not relative or os.path.isabs(relative) or relative.startswith("\\") or ".." in parts:
        raise ValueError(f"image path {relative!r} leads out of the images folder")
    return os.path.join(root, relative)


def _entry(found: os.DirEntry) -> Entry:
    """An entry that cannot be followed (a link loop, a name too long to resolve) is neither
    file nor folder, like a dangling link: readers then name that file, not its whole folder."""
    try:
        is_dir, is_file = found.is_dir(), found.is_file()
    except OSError:
        is_dir = is_file = False
    return Entry(found.name, found.path, is_dir, is_file, 0, found)


class LocalFS:
    """Files on disk: thin wrappers over ``os``, so the folder path stays as fast as before."""

    def scandir(self, path: str | os.PathLike) -> list[Entry]:
        with os.scandir(path) as found:
            return [_entry(e) for e in found]

    def is_dir(self, path: str | os.PathLike) -> bool:
        return os.path.isdir(path)

    def is_file(self, path: str | os.PathLike) -> bool:
        return os.path.isfile(path)

    def exists(self, path: str | os.PathLike) -> bool:
        return os.path.exists(path)

    def open(self, path: str | os.PathLike) -> BinaryIO:
        return open_regular(path)

    def read(self, path: str | os.PathLike) -> bytes:
        return read_regular(path)

    def image_ref(self, path: str) -> ImageRef:
        return ImageRef(path=path)

    def check_integrity(self, paths: list[str | os.PathLike]) -> list[SourceError]:
        """Files on disk carry no checksums of their own (each format's decoder checks what it can)."""
        return []

    def close(self) -> None:
        pass


LOCAL = LocalFS()


def filesystem(source: str | os.PathLike) -> FileSystem:
    """The filesystem a source is read through: an :class:`ArchiveFS` for an archive file, else the local disk.

    A file named like an archive whose first bytes say otherwise is a SourceError naming it, and so is a
    source that is a pipe or a device: reading one would wait for a writer, or never end.
    """
    if os.path.exists(source) and not os.path.isdir(source):
        check_regular(source)
    kind = archive_kind(source)
    if kind is None or not os.path.isfile(source):
        return LOCAL
    check_magic(Path(source), kind)
    from .archives import ArchiveFS

    return ArchiveFS(source, kind)


def check_regular(path: str | os.PathLike) -> None:
    """A pipe, a socket or a device where a file should be: reading it would wait for a writer, or never end.
    A path that is not there, or a folder, is left to the reading, which names the cause."""
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        raise SourceError(path, "not a regular file or folder (a pipe, a socket or a device)")


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """``open(path, "rb")`` for a file that must be a regular one, raising OSError as ``open`` does: a pipe is
    opened without waiting for a writer, then refused like a device (reading either would wait, or never end)."""
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, os.O_RDONLY | nonblocking | getattr(os, "O_BINARY", 0))  # O_BINARY: Windows reads text otherwise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
            raise OSError(errno.EINVAL, "not a regular file (a pipe, a socket or a device)", os.fspath(path))
        if nonblocking:  # blocking again, as ``open`` hands it (a FUSE or network file system may heed the flag)
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_regular(path: str | os.PathLike) -> bytes:
    """The bytes of a file that must be a regular one (see :func:`open_regular`)."""
    with open_regular(path) as file:
        return file.read()


def check_magic(path: Path, kind: str) -> None:
    """Refuse a file whose first bytes are not those of the archive its name promises."""
    try:
        with open(path, "rb") as file:
            head = file.read(512)
    except OSError as exc:
        raise SourceError(path, f"cannot read archive: {exc.strerror or exc}") from None
    names = {"zip": "a zip archive", "tgz": "a gzip-compressed tar archive", "tar": "a tar archive"}
    if kind in _MAGIC and not head.startswith(_MAGIC[kind]):
        raise SourceError(path, f"not {names[kind]} (its first bytes are {head[:4]!r})")
    if kind == "tar" and len(head) < 512:
        raise SourceError(path, f"not {names[kind]}: only {len(head)} bytes long")


def archive(path: str) -> FileSystem:
    """The archive an :class:`~converters.model.ImageRef` points into, opened once per process."""
    from .archives import shared

    return shared(path)


def no_images_folder(path: str | os.PathLike, holding: str = "frames") -> str:
    """Why the ``images`` option's ``path`` is no folder, for the error naming it: a file given, or nothing there."""
    if os.path.exists(path):
        return f"a file, not a folder: the images option (--images DIR) names a folder of {holding}"
    return f"images folder does not exist (the images option names a folder of {holding})"


def file_in_the_way(path: str | os.PathLike) -> Path | None:
    """The nearest existing path above ``path`` when it is not a folder (a file where a folder must be), else None:
    an output under it cannot be written, which a command says before its work rather than after."""
    for parent in Path(path).parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None
