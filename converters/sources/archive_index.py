"""The member table of an archive: what :class:`~converters.sources.archives.ArchiveFS` looks paths up in.

Built by one pass over the archive's own index (a zip's central directory) or its headers
(a tar, read front to back; a ``.tar.gz`` decompressed once, in order). It holds each
folder's sub-folders and files, and for each file where its bytes are: O(members) and
compact (file names are interned, so ``00000.jpg`` is stored once; positions sit in an
``array``), because every worker process holds a copy. Nothing else of the archive is kept.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import stat
import struct
import sys
import tarfile
import zipfile
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NamedTuple

from ..errors import SourceError

#: Numbers kept per file. tar, tgz: data offset, size.
#: zip: local header offset, stored size, size, CRC | method << 32 | encrypted << 48, and the CRC-32 of the name's
#: bytes in the central directory | their length << 32 (its local header must give the same name: ``zip_name_digest``).
WIDTH = {"tar": 2, "tgz": 2, "zip": 5}
#: Folders of metadata that archivers add and no dataset holds.
JUNK_FOLDERS = ("__MACOSX",)


class Folder(NamedTuple):
    """One folder of the archive: sorted names, and the numbers of each file (``WIDTH`` per file)."""

    subdirs: list[str]
    files: list[str]
    records: array
    specials: list[str]  # members that are neither files nor folders (symbolic links, devices): listed, never read


class Table(NamedTuple):
    """Every folder of an archive, by member path (``""`` is the top).

    ``size``: for a .tar.gz, the uncompressed length of its gzip data; for a tar, where its end marker is.
    """

    kind: str
    folders: dict[str, Folder]
    members: int
    size: int = 0

    def record(self, member: str) -> tuple[int, ...] | None:
        """The numbers of the file ``member`` (see ``WIDTH``), or None when it is not a file."""
        parent, _, name = member.rpartition("/")
        folder = self.folders.get(parent)
        if folder is None:
            return None
        position = bisect_left(folder.files, name)
        if position == len(folder.files) or folder.files[position] != name:
            return None
        width = WIDTH[self.kind]
        return tuple(folder.records[position * width : (position + 1) * width])

    def is_special(self, member: str) -> bool:
        parent, _, name = member.rpartition("/")
        folder = self.folders.get(parent)
        return folder is not None and name in folder.specials


def normalise(name: str) -> str | None:
    """A member name as a relative POSIX path (``./a//b/`` -> ``a/b``); None for names outside the archive or junk."""
    name = posixpath.normpath(name.lstrip("/"))
    if name in (".", "") or name == ".." or name.startswith("../") or name.split("/", 1)[0] in JUNK_FOLDERS:
        return None
    return name


class Builder:
    """Collects members in archive order (a later member of the same name wins, as when extracting)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._subdirs: dict[str, set[str]] = {"": set()}
        self._files: dict[str, dict[str, tuple[int, ...]]] = {}
        self._specials: dict[str, set[str]] = {}

    def _folder(self, path: str) -> None:
        """Make sure the folder ``path`` and its parents exist (archives need not list folders).

        A loop, not recursion: a member thousands of folders deep must not overflow the stack.
        """
        missing = []
        while path not in self._subdirs:
            missing.append(path)
            path = path.rpartition("/")[0]
        for path in reversed(missing):
            parent, _, name = path.rpartition("/")
            self._subdirs[parent].add(sys.intern(name))
            self._subdirs[path] = set()

    def add_dir(self, name: str) -> None:
        self._folder(name)

    def add_file(self, name: str, numbers: tuple[int, ...]) -> None:
        parent, _, base = name.rpartition("/")
        self._folder(parent)
        self._files.setdefault(parent, {})[sys.intern(base)] = numbers
        self._specials.get(parent, set()).discard(base)

    def add_special(self, name: str) -> None:
        parent, _, base = name.rpartition("/")
        self._folder(parent)
        self._specials.setdefault(parent, set()).add(sys.intern(base))
        self._files.get(parent, {}).pop(base, None)

    def lookup(self, name: str) -> tuple[int, ...] | None:
        parent, _, base = name.rpartition("/")
        return self._files.get(parent, {}).get(base)

    def build(self, size: int = 0) -> Table:
        folders = {}
        count = 0
        for path, subdirs in self._subdirs.items():
            files = self._files.get(path, {})
            names = sorted(files)
            records = array("q")
            for name in names:
                records.extend(files[name])
            count += len(names)
            folders[path] = Folder(sorted(subdirs), names, records, sorted(self._specials.get(path, ())))
        return Table(self.kind, folders, count, size)


# ----------------------------------------------------------------------------------------- zip

_UTF8_FLAG = 0x800  # general purpose bit 11: the name is UTF-8


def zip_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its writer meant it.

    Without the UTF-8 flag ``zipfile`` decodes names as cp437, but Info-ZIP and most tools on
    Linux and macOS store UTF-8 names without setting it (``unzip`` guesses the same way), and
    7-Zip and Info-ZIP may add the UTF-8 name in an extra field (0x7075) beside a legacy one.
    """
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    raw = info.filename.encode("cp437")
    extra = info.extra
    while len(extra) >= 4:
        kind, size = struct.unpack_from("<HH", extra)
        field, extra = extra[4 : 4 + size], extra[4 + size :]
        if kind == 0x7075 and size >= 5 and field[0] == 1 and struct.unpack_from("<I", field, 1)[0] == zlib.crc32(raw):
            with contextlib.suppress(UnicodeDecodeError):
                return field[5:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # a genuine cp437 name (old DOS and Windows tools)
        return info.filename


def zip_name_digest(name: bytes) -> int:
    """A member name's CRC-32 and length, as a zip record keeps them: the local header's name is held to the central
    directory's, as ``zipfile`` does, so a directory entry renamed (or pointed at another member's header) cannot
    read one member's bytes under another's name."""
    return zlib.crc32(name) | len(name) << 32


def list_zip(path: Path) -> Table:
    """The table of a zip from its central directory (``zipfile`` parses it; its per-member objects are dropped after).

    Member names must be unique and free of ``..`` parts: a name leading out of the archive, or one aliasing another
    (``a/../b``), is a damaged or forged directory, and leaving that member out would drop a mask in silence."""
    builder = Builder("zip")
    try:
        end = path.stat().st_size
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                written = zip_name(info)
                if ".." in written.split("/"):
                    raise SourceError(f"{path}/{written}", "corrupt zip archive: a member name with a '..' part")
                name = normalise(written)
                if name is None:
                    continue
                _check_zip_extent(info, end, f"{path}/{name}")
                if info.is_dir():
                    builder.add_dir(name)
                elif stat.S_ISLNK(info.external_attr >> 16):
                    builder.add_special(name)
                else:
                    if builder.lookup(name) is not None:
                        raise SourceError(f"{path}/{name}", "corrupt zip archive: its central directory names two members so")
                    packed = info.CRC | info.compress_type << 32 | (info.flag_bits & 1) << 48
                    digest = zip_name_digest(info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8_FLAG else "cp437"))
                    builder.add_file(name, (info.header_offset, info.compress_size, info.file_size, packed, digest))
    except zipfile.BadZipFile as exc:
        cause = "truncated, or not a zip archive (no central directory found)" if "not a zip file" in str(exc) else str(exc)
        raise SourceError(path, f"corrupt zip archive: {cause}") from None
    except NotImplementedError as exc:  # zipfile: a "version needed to extract" above the ones it knows
        raise SourceError(path, f"unsupported zip archive: {exc}") from None
    except (OSError, EOFError, ValueError) as exc:
        raise SourceError(path, f"cannot read zip archive: {exc}") from None
    return builder.build()


def _check_zip_extent(info: zipfile.ZipInfo, end: int, where: str) -> None:
    """A member's local header and compressed data must lie inside the archive: a directory entry
    claiming more (a ZIP64 size of 2**40) is a corrupt archive, refused before anything is read. So is an
    offset before the archive's start, which zipfile computes from an end record whose directory offset is too large."""
    if info.header_offset < 0:
        raise SourceError(where, f"corrupt zip archive: the directory places the member at offset {info.header_offset}")
    if info.header_offset + 30 + info.compress_size > end:
        raise SourceError(
            where,
            f"corrupt zip archive: the directory places {info.compress_size} compressed bytes at offset "
            f"{info.header_offset}, past the archive's end ({end} bytes)",
        )


# ----------------------------------------------------------------------------------------- tar


class StreamError(Exception):
    """A .tar.gz whose gzip data stops early or is corrupt; ``position`` is how many bytes came out before."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


#: The most a tar listing reads at once: headers are 512 bytes; only pax and GNU long-name headers hold more
#: (a name, some attributes: kilobytes), and tarfile reads all a header's size declares in one read.
MAX_HEADER_READ = 1 << 24


class _Tracked:
    """A file that remembers its last read: tarfile stops silently on a missing end marker, this tells why it stopped."""

    def __init__(self, file) -> None:
        self.file = file
        self.last = b""

    def read(self, size: int = -1) -> bytes:
        if size > MAX_HEADER_READ:  # a forged size field (octal 77777777777 is 8 GiB) would size the read
            raise tarfile.ReadError(f"a pax or long-name header of {size} bytes, more than any tar tool writes")
        self.last = self.file.read(size)
        return self.last

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()


def list_tar(file: BinaryIO, kind: str, where: Path, end: int | None = None, started: Callable[[], None] | None = None) -> Table:
    """The table of a tar read front to back from ``file`` (a plain file, or a :class:`GzipStream`).

    ``end`` is the length of a plain tar: a member whose data runs past it is named as truncated.
    ``started`` is called once the first header has parsed (the caller may then start other work).
    """
    tracked = _Tracked(file)
    builder = Builder(kind)
    last: tarfile.TarInfo | None = None
    try:
        try:
            tar = tarfile.open(fileobj=tracked, mode="r:")  # type: ignore[call-overload]  # noqa: SIM115 (nothing to close)
        except tarfile.ReadError as exc:
            raise SourceError(where, f"not a tar archive ({exc})") from None
        if started is not None:
            started()
        while (info := tar.next()) is not None:
            del tar.members[:]  # keep O(1) TarInfo objects: the table is the index
            last = info
            name = normalise(info.name)
            if end is not None and info.offset_data + info.size > end:
                raise SourceError(
                    f"{where}/{info.name}",
                    f"truncated: the archive ends {end - info.offset_data} bytes into this member's {info.size}",
                )
            if name is None:
                continue
            if info.isdir():
                builder.add_dir(name)
            elif info.isreg() and not info.issparse():
                builder.add_file(name, (info.offset_data, info.size))
            elif info.islnk() and (target := normalise(info.linkname)) and (numbers := builder.lookup(target)):
                builder.add_file(name, numbers)  # a hard link: the same bytes as its target
            else:
                builder.add_special(name)
        if tracked.last != bytes(tarfile.BLOCKSIZE):
            after = f" after member {last.name}" if last is not None else ""
            if len(tracked.last) < tarfile.BLOCKSIZE:
                raise SourceError(where, f"truncated: the archive ends without its end-of-archive marker{after}")
            raise SourceError(where, f"corrupt tar: bad header at byte {tar.offset}{after}")
        return builder.build(tar.offset)
    except StreamError as exc:
        if last is not None and last.offset_data + last.size > exc.position:
            raise SourceError(
                f"{where}/{last.name}",
                f"{exc}: the data ends {exc.position - last.offset_data} bytes into this member's {last.size}",
            ) from None
        raise SourceError(where, f"{exc} after {exc.position} bytes of tar data") from None
    except tarfile.TarError as exc:
        after = f" after member {last.name}" if last is not None else ""
        raise SourceError(where, f"corrupt tar: {exc}{after}") from None
    except OSError as exc:
        raise SourceError(where, f"cannot read archive: {exc.strerror or exc}") from None


class GzipStream:
    """The uncompressed bytes of a gzip file, read once from the start: what tarfile needs to list a .tar.gz.

    Forward seeks decompress and drop (memory stays at one chunk); concatenated gzip members
    are followed and trailing zeros ignored, as ``gzip -d`` does. zlib checks each member's
    CRC-32 and length; data that stops early or fails the check raises :class:`StreamError`.
    """

    CHUNK = 1 << 20

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._inflate = zlib.decompressobj(31)
        self._buffer = b""
        self._offset = 0  # position in _buffer
        self._position = 0  # uncompressed offset of _buffer[_offset]
        self._produced = 0  # uncompressed bytes so far

    def tell(self) -> int:
        return self._position

    def _more(self) -> bool:
        """Decompress the next piece into the buffer; False at the end of the data."""
        while True:
            inflate = self._inflate
            if inflate.eof:
                rest = inflate.unused_data or self._file.read(self.CHUNK)
                if len(rest) == 1:
                    rest += self._file.read(1)
                if not rest.startswith(b"\x1f\x8b"):
                    return False  # the end, or padding after it
                self._inflate = inflate = zlib.decompressobj(31)
                data = rest
            else:
                data = inflate.unconsumed_tail or self._file.read(self.CHUNK)
                if not data:
                    raise StreamError("truncated gzip data", self._produced)
            try:
                out = inflate.decompress(data, self.CHUNK)
            except zlib.error as exc:
                raise StreamError(f"corrupt gzip data ({exc})", self._produced) from None
            if out:
                self._buffer, self._offset = out, 0
                self._produced += len(out)
                return True

    def read(self, size: int = -1) -> bytes:
        parts = []
        while size != 0:
            if self._offset == len(self._buffer) and not self._more():
                break
            take = len(self._buffer) - self._offset if size < 0 else min(size, len(self._buffer) - self._offset)
            parts.append(self._buffer[self._offset : self._offset + take])
            self._offset += take
            self._position += take
            size -= take if size > 0 else 0
        return b"".join(parts)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset + (self._position if whence == io.SEEK_CUR else 0)
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._position - self._offset:
            raise io.UnsupportedOperation("a gzip stream only seeks forward")
        while target > self._position + len(self._buffer) - self._offset:
            self._position += len(self._buffer) - self._offset
            self._offset = len(self._buffer)
            if not self._more():
                return self._position
        self._offset += target - self._position
        self._position = target
        return target
