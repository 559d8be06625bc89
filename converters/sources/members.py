"""A member's bytes as the archive reader hands them on: a seekable file over ``read_at``, an in-order
span (what ``member_kinds`` checks a head from), and a compressed zip member inflated piece by piece.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

MiB = 1 << 20


class MemberFile(io.RawIOBase):
    """A member as a seekable, read-only file over ``read_at(offset, size)`` (so a JPEG's tail is read without its body)."""

    def __init__(self, read_at: Callable[[int, int], bytes], size: int) -> None:
        super().__init__()
        self._read_at = read_at
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(base + offset, 0)
        return self._position

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._size - self._position
        size = min(size, self._size - self._position)
        if size <= 0:
            return b""
        data = self._read_at(self._position, size)
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def zip_method(record: tuple[int, ...]) -> int:
    return (record[3] >> 32) & 0xFFFF


class Span:
    """A member's bytes read in order from ``read_at(start, size)``: what ``member_kinds`` reads a head from."""

    def __init__(self, read_at: Callable[[int, int], bytes], size: int) -> None:
        self._read_at, self._size, self._position = read_at, size, 0

    def read(self, size: int) -> bytes:
        data = self._read_at(self._position, min(size, self._size - self._position))
        self._position += len(data)
        return data


class Inflating:
    """A deflate or bzip2 zip member inflated in order, ``read(n)`` at a time, from compressed pieces of at
    most ``CHUNK`` bytes: neither side is ever held whole before the caller asks for it."""

    CHUNK = MiB

    def __init__(self, pread: Callable[[int, int], bytes], start: int, stored: int, method: int) -> None:
        import bz2

        self._pread, self._offset, self._end = pread, start, start + stored
        self._bzip2 = method == 12
        self._inflate = bz2.BZ2Decompressor() if self._bzip2 else zlib.decompressobj(-15)

    def _input(self) -> bytes:
        if self._bzip2 and not self._inflate.needs_input:
            return b""  # output is waiting inside the decompressor
        if not self._bzip2 and self._inflate.unconsumed_tail:
            return self._inflate.unconsumed_tail
        length = min(self.CHUNK, self._end - self._offset)
        if length <= 0:
            return b""
        data = self._pread(self._offset, length)
        self._offset += length
        return data

    def read(self, size: int) -> bytes:
        parts = []
        while size > 0 and not self._inflate.eof:
            data = self._input()
            piece = self._inflate.decompress(data, size)
            if not piece and not data:
                break
            parts.append(piece)
            size -= len(piece)
        return b"".join(parts)
