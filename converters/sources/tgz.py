"""A .tar.gz read by random access: its members listed and its gzip seek index built in one pass, then
its bytes read in whole blocks between two seek points (``indexed_gzip``), the last few cached.

The policy (how far apart the seek points are, how many blocks are kept) is :mod:`.archives`'.
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_right
from collections import OrderedDict
from pathlib import Path

from ..errors import SourceError
from . import archive_index
from .archive_index import Table


class Blocks:
    """A .tar.gz's uncompressed bytes by offset, read in whole blocks between seek points (a few cached)."""

    def __init__(self, gz, points: list[int], size: int, where: str, cached: int) -> None:
        self.gz = gz  # indexed_gzip._IndexedGzipFile with drop_handles: no open file, so it survives a fork
        self.points = points
        self.size = size
        self.where = where
        self.cached = cached  # blocks kept, most recently used last
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self.decompressed = 0  # bytes decompressed by this process (what the benchmark reports)

    def _block(self, number: int) -> bytes:
        block = self._cache.get(number)
        if block is not None:
            self._cache.move_to_end(number)
            return block
        start = self.points[number]
        stop = self.points[number + 1] if number + 1 < len(self.points) else self.size
        try:
            block = self.gz.pread(stop - start, start)
        except (OSError, ValueError) as exc:  # ZranError, CrcError (OSErrors); NotCoveredError (a ValueError)
            raise SourceError(self.where, f"cannot read gzip data at offset {start}: {exc}") from None
        if len(block) != stop - start:
            raise SourceError(self.where, f"truncated gzip data: {len(block)} of {stop - start} bytes at offset {start}")
        self.decompressed += len(block)
        self._cache[number] = block
        while len(self._cache) > self.cached:
            self._cache.popitem(last=False)
        return block

    def read_at(self, offset: int, size: int) -> bytes:
        if self._pid != os.getpid():  # a forked child: its own lock (the parent's may be held)
            self._lock, self._pid = threading.Lock(), os.getpid()
        parts = []
        with self._lock:
            while size > 0:
                number = bisect_right(self.points, offset) - 1
                block = self._block(number)
                start = offset - self.points[number]
                piece = block[start : start + size]
                if not piece:
                    break
                parts.append(piece)
                offset += len(piece)
                size -= len(piece)
        return b"".join(parts)


def index_tgz(path: Path, spacing: int, cached: int) -> tuple[Table, Blocks]:
    """List the members and build the gzip index: two decompressions, run in parallel (zran releases the GIL).

    The indexing thread is a daemon: after an error (or Ctrl-C) in the listing it is left to
    finish on its own instead of being waited for.
    """
    import indexed_gzip

    gz = indexed_gzip._IndexedGzipFile(filename=str(path), spacing=spacing, drop_handles=True)
    outcome: dict[str, object] = {}

    def build() -> None:
        try:
            outcome["size"] = gz.seek(1 << 62)  # past the end: zran indexes the whole stream
        except (OSError, ValueError) as exc:  # ZranError, CrcError (OSErrors): the data's fault
            outcome["error"] = exc
        except BaseException as exc:  # anything else is a bug, raised as itself in the caller's thread
            outcome["crash"] = exc

    thread = threading.Thread(target=build, name="vosconv-gzip-index", daemon=True)
    with open(path, "rb") as file:
        table = archive_index.list_tar(archive_index.GzipStream(file), "tgz", path, started=thread.start)
    thread.join()
    if "crash" in outcome:
        raise outcome["crash"]
    if "error" in outcome:
        raise SourceError(path, f"cannot index the gzip data: {outcome['error']}")
    size = int(outcome["size"])  # the uncompressed length; the tar's end marker is at table.size
    if size < table.size:
        raise SourceError(path, f"gzip index covers {size} bytes, the tar data is {table.size}")
    return table._replace(size=size), Blocks(gz, [u for u, _ in gz.seek_points()], size, str(path), cached)
