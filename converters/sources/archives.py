"""Reading members of a zip, tar or tar.gz in place: random access, no extraction, bounded memory.

* zip: the central directory is the index; a member is read with ``pread`` and inflated.
* tar: the member table holds each file's data offset; a member is one ``pread``.
* tar.gz: ``indexed_gzip`` makes the gzip stream seekable. One pass builds its seek-point
  index (a 32 KiB window every ``spacing`` bytes of tar data) while, in parallel, a second
  decompression in order lists the members and checks the gzip CRC and length (zran does
  not notice a truncated file). Members are then read by decompressing the *blocks* between
  two seek points, each from its start (nothing decompressed to be thrown away), the last
  few cached per process. A video's files are read in order (frames, masks, then frames again
  when a writer copies the JPEGs), so a block is decompressed once or twice.

The table and the gzip index are built once, by the process that opens the source, and
saved to a temporary folder removed by :meth:`ArchiveFS.close` (the reader's ``close``).
Worker processes load them lazily: a forked worker finds them in memory, a spawned one
reads the saved copy. An :class:`ArchiveFS` pickles as (archive, index folder, identity),
never as open handles; handles are per process (the ``HandleCache`` rule).
"""

from __future__ import annotations

import atexit
import errno
import io
import os
import pickle
import shutil
import weakref
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import SourceError
from ..model import ImageRef
from . import archive_index, member_kinds, tempfiles
from .archive_index import Table
from .entry import Entry, archive_kind
from .handles import HandleCache
from .members import Inflating, MemberFile, Span, zip_method
from .tgz import Blocks, index_tgz

MiB = 1 << 20
#: Seek-point spacing of a .tar.gz index: at least 4 MiB, and at most about 1024 points (32 KiB each).
MIN_SPACING = 4 * MiB
MAX_POINTS = 1024
#: Decompressed blocks kept per process (each about ``spacing`` bytes).
CACHED_BLOCKS = 3
TABLE_FILE = "members.pickle"
GZIP_INDEX_FILE = "gzip.index"
#: The saved index's layout: 2 since zip records hold their name's digest (another version refuses it, never misreads it).
_FORMAT = 2


def spacing_for(compressed_size: int) -> int:
    """Seek-point spacing for a .tar.gz: bounds the index to ~MAX_POINTS windows (32 MiB) whatever the archive size."""
    wanted = -(-compressed_size // MAX_POINTS)
    return MIN_SPACING if wanted <= MIN_SPACING else -(-wanted // MiB) * MiB


def _open_unbuffered(path: str) -> BinaryIO:
    return open(path, "rb", buffering=0)


def _identity(path: str) -> tuple[int, int]:
    try:
        status = os.stat(path)
    except OSError as exc:
        raise SourceError(path, f"cannot read archive: {exc.strerror or exc}") from None
    return (status.st_size, status.st_mtime_ns)


class _Catalog:
    """One archive as this process knows it: the member table, how to read bytes, and the saved copy (if ours)."""

    def __init__(self, archive: str, table: Table, identity: tuple[int, int], index_dir: str | None, blocks=None) -> None:
        self.archive = archive
        self.table = table
        self.identity = identity
        self.index_dir = index_dir
        self.blocks: Blocks | None = blocks
        self.users: weakref.WeakSet[ArchiveFS] = weakref.WeakSet()
        self._owner: int | None = None  # the process that made index_dir and removes it
        self._files = HandleCache(_open_unbuffered)  # this process's handle on the archive (pread: no shared offset)

    # ------------------------------------------------------------------ building and loading

    @classmethod
    def build(cls, archive: str, kind: str, save: bool) -> _Catalog:
        """Index the archive (one pass); ``save`` writes the index to a new temporary folder for other processes."""
        identity = _identity(archive)
        path = Path(archive)
        blocks = None
        if kind == "zip":
            table = archive_index.list_zip(path)
        elif kind == "tar":
            with open(path, "rb") as file:
                table = archive_index.list_tar(file, "tar", path, end=identity[0])
        else:
            table, blocks = index_tgz(path, spacing_for(identity[0]), CACHED_BLOCKS)
        catalog = cls(archive, table, identity, None, blocks)
        if save:
            catalog._save()
        return catalog

    def _save(self) -> None:
        folder = tempfiles.make_folder("vosconv-archive-")
        self.index_dir, self._owner = folder, os.getpid()
        try:
            with open(os.path.join(folder, TABLE_FILE), "wb") as file:
                pickle.dump((_FORMAT, self.identity, self.table), file, protocol=pickle.HIGHEST_PROTOCOL)
            if self.blocks is not None:
                self.blocks.gz.export_index(filename=os.path.join(folder, GZIP_INDEX_FILE))
        except OSError as exc:  # only ever a write, to the index's own folder
            self.release()
            raise tempfiles.cannot_write(exc, folder) from None
        except BaseException:
            self.release()
            raise

    @classmethod
    def load(cls, archive: str, index_dir: str) -> _Catalog:
        """The catalog saved by the opening process (a spawned worker's way in)."""
        with open(os.path.join(index_dir, TABLE_FILE), "rb") as file:
            version, identity, table = pickle.load(file)
        if version != _FORMAT:
            raise SourceError(archive, f"archive index in {index_dir} has format {version}, expected {_FORMAT}")
        blocks = None
        if table.kind == "tgz":
            import indexed_gzip

            gz = indexed_gzip._IndexedGzipFile(
                filename=archive, auto_build=False, drop_handles=True, index_file=os.path.join(index_dir, GZIP_INDEX_FILE)
            )
            blocks = Blocks(gz, [u for u, _ in gz.seek_points()], table.size, archive, CACHED_BLOCKS)
        return cls(archive, table, identity, index_dir, blocks)

    def release(self) -> None:
        """Remove the saved index (only in the process that made it) and close this process's handle."""
        if self._owner == os.getpid() and self.index_dir is not None:
            shutil.rmtree(self.index_dir, ignore_errors=True)
            self.index_dir = None
        self._files.close()

    # ------------------------------------------------------------------ reading

    def _pread(self, size: int, offset: int, where: str) -> bytes:
        data = os.pread(self._files.get(self.archive).fileno(), size, offset)
        if len(data) != size:
            raise SourceError(where, f"truncated: the archive ends {len(data)} bytes into {size} bytes read at offset {offset}")
        return data

    def _read_at(self, record: tuple[int, ...], where: str) -> Callable[[int, int], bytes]:
        """``read_at(start, size)`` over a member whose bytes lie as they are in the archive (tar, tgz, stored zip)."""
        if self.table.kind == "tgz":
            offset = record[0]
            return lambda start, size: self.blocks.read_at(offset + start, size)
        offset = record[0] if self.table.kind == "tar" else self._zip_data_start(record, where)
        return lambda start, size: self._pread(size, offset + start, where)

    def read(self, record: tuple[int, ...], where: str) -> bytes:
        if self.table.kind == "zip" and zip_method(record) != 0:
            return self._read_zip(record, where)
        size = record[2] if self.table.kind == "zip" else record[1]
        read_at = self._read_at(record, where)
        head = member_kinds.checked_head(Span(read_at, size).read, size, where)
        data = head + read_at(len(head), size - len(head))
        if len(data) != size:
            raise SourceError(where, f"truncated: {len(data)} of {size} bytes")
        if self.table.kind == "zip" and zlib.crc32(data) != record[3] & 0xFFFFFFFF:
            raise SourceError(where, "corrupt zip member: CRC-32 mismatch")
        return data

    def open(self, record: tuple[int, ...], where: str) -> BinaryIO:
        """The member as a file; what it holds is checked first (``member_kinds``), then read only as asked
        (a JPEG's header and tail), except a compressed zip member, which is inflated whole."""
        if self.table.kind == "zip" and zip_method(record) != 0:
            return io.BytesIO(self._read_zip(record, where))
        size = record[2] if self.table.kind == "zip" else record[1]
        read_at = self._read_at(record, where)
        member_kinds.checked_head(Span(read_at, size).read, size, where)
        return MemberFile(read_at, size)

    def _zip_data_start(self, record: tuple[int, ...], where: str) -> int:
        """Where a zip member's data begins, after its local header; the data must end inside the archive."""
        header = self._pread(30 + (record[4] >> 32), record[0], where)  # with the name, if it is the directory's
        if header[:4] != b"PK\x03\x04":
            raise SourceError(where, f"corrupt zip archive: no local header at offset {record[0]}")
        named = int.from_bytes(header[26:28], "little")
        if archive_index.zip_name_digest(header[30 : 30 + named]) != record[4]:
            raise SourceError(where, f"corrupt zip archive: the local header at offset {record[0]} names another member")
        start = record[0] + 30 + named + int.from_bytes(header[28:30], "little")
        if start + record[1] > self.identity[0]:
            end = self.identity[0]
            raise SourceError(where, f"corrupt zip member: {record[1]} bytes at offset {start} run past the archive end ({end})")
        return start

    def _read_zip(self, record: tuple[int, ...], where: str) -> bytes:
        """A compressed member, inflated piece by piece: its first bytes are checked before the rest is
        inflated, and it never grows more than one byte past the directory's size (a zip bomb stops there)."""
        _, stored, size, packed, _ = record
        method = zip_method(record)
        if packed >> 48:
            raise SourceError(where, "encrypted zip member: not supported")
        if method not in (8, 12):
            raise SourceError(where, f"zip compression method {method} is not supported (stored, deflate and bzip2 are)")
        start = self._zip_data_start(record, where)
        stream = Inflating(lambda offset, length: self._pread(length, offset, where), start, stored, method)
        try:
            head = member_kinds.checked_head(stream.read, size, where, slack=1)
            data = head + stream.read(size + 1 - len(head))
        except (zlib.error, OSError, ValueError, EOFError) as exc:
            raise SourceError(where, f"corrupt zip member: {exc}") from None
        if len(data) != size:
            raise SourceError(where, f"corrupt zip member: {len(data)} bytes where the directory says {size}")
        if zlib.crc32(data) != packed & 0xFFFFFFFF:
            raise SourceError(where, "corrupt zip member: CRC-32 mismatch")
        return data


# ---------------------------------------------------------------------------------- per process

_CATALOGS: dict[str, _Catalog] = {}


def _catalog(archive: str, kind: str, index_dir: str | None, identity: tuple[int, int] | None) -> _Catalog:
    """This process's catalog of ``archive``: in memory, else loaded from ``index_dir``, else built (and saved)."""
    key = os.path.abspath(archive)
    found = _CATALOGS.get(key)
    if found is not None and identity is not None and found.identity == identity:
        return found
    current = _identity(archive)
    if found is not None and found.identity == current:
        return found
    if identity is not None and identity != current:
        raise SourceError(archive, "the archive changed after it was indexed (its size or modification time differ)")
    if found is not None:
        found.release()
    if index_dir is not None and os.path.isfile(os.path.join(index_dir, TABLE_FILE)):
        catalog = _Catalog.load(archive, index_dir)
    else:  # the opening process saves the index; a worker that cannot see it (another machine) rebuilds it
        catalog = _Catalog.build(archive, kind, save=identity is None)
    _CATALOGS[key] = catalog
    return catalog


@atexit.register
def _remove_saved_indexes() -> None:
    for catalog in list(_CATALOGS.values()):
        catalog.release()


class ArchiveFS:
    """An archive as a read-only filesystem whose paths are ``<archive>/<member>``.

    Cheap to make and to pickle; the catalog is found or built on first use, once per
    process. ``close`` releases it when no other open ArchiveFS of this process uses it.
    """

    def __init__(
        self,
        archive: str | os.PathLike,
        kind: str,
        index_dir: str | None = None,
        identity: tuple[int, int] | None = None,
        *,
        user: bool = True,
    ) -> None:
        self.archive = os.fspath(archive)
        self.root = str(Path(archive))
        self.kind = kind
        self._index_dir = index_dir
        self._identity = identity
        self._user = user  # a user keeps the catalog (and its saved index) until it closes
        self._bound: _Catalog | None = None
        self._pid: int | None = None

    def __getstate__(self) -> dict:
        catalog = self._catalog()
        return {"archive": self.archive, "kind": self.kind, "index_dir": catalog.index_dir, "identity": catalog.identity}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def __repr__(self) -> str:
        return f"ArchiveFS({self.archive!r}, {self.kind!r})"

    def _catalog(self) -> _Catalog:
        if self._bound is None or self._pid != os.getpid():
            catalog = _catalog(self.archive, self.kind, self._index_dir, self._identity)
            if self._user:
                catalog.users.add(self)
            self._bound, self._pid = catalog, os.getpid()
            self._index_dir, self._identity = catalog.index_dir, catalog.identity
        return self._bound

    def close(self) -> None:
        catalog, self._bound = self._bound, None
        if catalog is None or self._pid != os.getpid():
            return
        catalog.users.discard(self)
        if not catalog.users:
            catalog.release()
            if _CATALOGS.get(os.path.abspath(self.archive)) is catalog:
                del _CATALOGS[os.path.abspath(self.archive)]

    # ------------------------------------------------------------------ paths

    def member(self, path: str | os.PathLike) -> str:
        """The member name of ``path`` (``""`` for the archive itself)."""
        text = os.fspath(path)
        if text == self.root:
            return ""
        if text.startswith(self.root) and text[len(self.root) : len(self.root) + 1] == "/":
            return text[len(self.root) + 1 :]
        raise FileNotFoundError(errno.ENOENT, f"not inside {self.root}", text)

    def _record(self, path: str | os.PathLike) -> tuple[tuple[int, ...], str]:
        member = self.member(path)
        table = self._catalog().table
        record = table.record(member)
        if record is None:
            if member in table.folders:
                raise IsADirectoryError(errno.EISDIR, "is a folder", os.fspath(path))
            if table.is_special(member):
                raise OSError(errno.EINVAL, "not a regular file (a link or device)", os.fspath(path))
            raise FileNotFoundError(errno.ENOENT, "no such member in the archive", os.fspath(path))
        return record, f"{self.root}/{member}"

    # ------------------------------------------------------------------ the FileSystem protocol

    def scandir(self, path: str | os.PathLike) -> list[Entry]:
        member = self.member(path)
        table = self._catalog().table
        folder = table.folders.get(member)
        if folder is None:
            missing = table.record(member) is None and not table.is_special(member)
            raise (FileNotFoundError if missing else NotADirectoryError)(
                errno.ENOENT if missing else errno.ENOTDIR, "no such folder in the archive", os.fspath(path)
            )
        base = self.root if not member else f"{self.root}/{member}"
        width = archive_index.WIDTH[table.kind]
        size_at = 2 if table.kind == "zip" else 1
        entries = [Entry(name, f"{base}/{name}", True, False, 0) for name in folder.subdirs]
        records = folder.records
        entries += [
            Entry(name, f"{base}/{name}", False, True, records[i * width + size_at]) for i, name in enumerate(folder.files)
        ]
        entries += [Entry(name, f"{base}/{name}", False, False, 0) for name in folder.specials]
        return entries

    def is_dir(self, path: str | os.PathLike) -> bool:
        try:
            return self.member(path) in self._catalog().table.folders
        except FileNotFoundError:
            return False

    def is_file(self, path: str | os.PathLike) -> bool:
        try:
            return self._catalog().table.record(self.member(path)) is not None
        except FileNotFoundError:
            return False

    def exists(self, path: str | os.PathLike) -> bool:
        try:
            member = self.member(path)
        except FileNotFoundError:
            return False
        table = self._catalog().table
        return member in table.folders or table.record(member) is not None or table.is_special(member)

    def open(self, path: str | os.PathLike) -> BinaryIO:
        record, where = self._record(path)
        return self._catalog().open(record, where)

    def read(self, path: str | os.PathLike) -> bytes:
        record, where = self._record(path)
        return self._catalog().read(record, where)

    def read_member(self, member: str) -> bytes:
        return self.read(f"{self.root}/{member}")

    def check_integrity(self, paths: list[str | os.PathLike]) -> list[SourceError]:
        """The zip members under ``paths`` (what the reader reads: the split, the resolution) read
        whole, for ``validate``: a member's CRC-32 is checked only then, and a conversion reads just
        the head and tail of a stored JPEG (or, to COCO, no JPEG at all). A tar holds no checksum
        of its data; a .tar.gz's gzip CRC is checked when it is opened."""
        if self._catalog().table.kind != "zip":
            return []
        errors: list[SourceError] = []
        folders = [p for p in paths if self.is_dir(p)]
        for path in (p for p in paths if self.is_file(p)):
            try:
                self.read(path)
            except SourceError as error:
                errors.append(error)
        while folders:
            for entry in self.scandir(folders.pop()):
                if entry.is_dir:
                    folders.append(entry.path)
                elif entry.is_file:
                    try:
                        self.read(entry.path)
                    except SourceError as error:
                        errors.append(error)
        return sorted(errors, key=lambda e: str(e.path))

    def image_ref(self, path: str) -> ImageRef:
        return ImageRef(path=self.member(path), archive=self.archive)


_KEYS: dict[str, str] = {}


def shared(archive: str) -> ArchiveFS:
    """An ArchiveFS for image reads (``ImageRef.archive``), bound to the catalog this process already has.

    It does not keep the catalog open: closing the reader still frees it (a read after that
    finds the archive again, or indexes it anew).
    """
    key = _KEYS.get(archive) or _KEYS.setdefault(archive, os.path.abspath(archive))
    fs = ArchiveFS(archive, archive_kind(archive) or "tar", user=False)
    catalog = _CATALOGS.get(key)
    if catalog is not None:  # no stat: the open reader vouches for the archive
        fs._bound, fs._pid = catalog, os.getpid()
    return fs
