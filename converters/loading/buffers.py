"""Memory for a clip's frames and masks, used again once nothing holds the clip that had it.

An array of more than glibc's largest mmap threshold (32 MiB; a 1080p clip's frames or masks are
50-80 MiB) gets fresh pages every time, which the kernel faults in and zeroes on first write: at
1080p that costs more than decoding the clip's masks. A :class:`Recycler` keeps the few blocks it
handed out last and hands one out again only when no array, view or tensor made from it is alive
(its reference count says so), so a caller that keeps a clip keeps its pixels. The decoders write
every byte of what they are given, so a recycled block's old contents never show.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

#: Smaller arrays come back from malloc's own free lists (glibc raises its mmap threshold up to 32 MiB
#: once such a block is freed): keeping blocks for them would only hold memory (measured: no faster at 480p).
SMALLEST = 32 * 2**20
#: A block serves a request of at least 1/MOST_SPARE its size: a clip's masks kept by the caller never
#: hold a block the size of its frames.
MOST_SPARE = 2


def _refs(blocks: list[np.ndarray], index: int) -> int:
    return sys.getrefcount(blocks[index])


def _refs_when_free() -> int:
    """What :func:`_refs` reads for a block only the list holds (measured: interpreters count differently)."""
    return _refs([np.empty(1, np.uint8)], 0)


class Recycler:
    """``empty(shape, dtype)``: an uninitialised array, in a block of the last ``keep`` handed out when one is free."""

    def __init__(self, keep: int = 4) -> None:
        self.keep = keep
        self._blocks: list[np.ndarray] = []  # flat uint8, the most recently handed out last
        self._free = _refs_when_free()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:  # a DataLoader worker starts with no blocks of its own
        return {"keep": self.keep}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["keep"])

    def empty(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes < SMALLEST:
            return np.empty(shape, dtype)
        with self._lock:
            block = self._take(nbytes)
        return block[:nbytes].view(dtype).reshape(shape)

    def _take(self, nbytes: int) -> np.ndarray:
        free = [i for i in range(len(self._blocks)) if _refs(self._blocks, i) == self._free]
        fits = [i for i in free if nbytes <= self._blocks[i].nbytes <= MOST_SPARE * nbytes]
        if fits:
            block = self._blocks.pop(min(fits, key=lambda i: self._blocks[i].nbytes))
        else:
            block = np.empty(nbytes, np.uint8)
            if len(self._blocks) >= self.keep:  # make room: a free block that does not fit, else the oldest
                del self._blocks[free[0] if free else 0]
        self._blocks.append(block)
        return block
