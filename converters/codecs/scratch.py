"""Work buffers reused from frame to frame, one set per thread, never shared with forked workers.

A 1080p mask is 2 MB. A fresh 2 MB array per frame costs 512 page faults, and a buffer the
parent process had when it forked a worker costs a copy-on-write fault per page in both
processes at their first write (about 4 us a page on the VMs we measure on: ~8 ms per
worker start). So these buffers are private anonymous maps advised

- ``MADV_WIPEONFORK``: a forked child gets fresh zero pages in their place, so neither
  process copies the other's (the child's own buffer objects stay valid, just zeroed);
- ``MADV_HUGEPAGE``: a 2 MB buffer faults in as one huge page, not 512 small ones.

Where the platform lacks either advice the buffers are ordinary memory: correct, just slower.
Contents are undefined on return; a caller owns the buffer until it next asks for the same name.
"""

from __future__ import annotations

import contextlib
import math
import mmap
import sys
import threading

import numpy as np

__all__ = ["array"]

_HUGE = 2 << 20
# Linux's value (since 4.14); Python's mmap module does not name it
_WIPEONFORK = getattr(mmap, "MADV_WIPEONFORK", 18 if sys.platform == "linux" else None)
_ADVICE = tuple(a for a in (_WIPEONFORK, getattr(mmap, "MADV_HUGEPAGE", None)) if a is not None)
_local = threading.local()


def array(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A C-contiguous array of ``shape`` and ``dtype`` in this thread's buffer called ``name``.

    The last view handed out under each name is kept: asking again for the same shape (every
    frame of a video) costs a dictionary lookup rather than numpy's view machinery.
    """
    buffers = _local.__dict__
    last = buffers.get((name, "view"))
    if last is not None and last[0] == shape and last[1] == dtype:
        return last[2]
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    buffer = buffers.get(name)
    if buffer is None or buffer.size < nbytes:
        buffer = buffers[name] = _allocate(nbytes)
    view = buffer[:nbytes].view(dtype).reshape(shape)
    buffers[(name, "view")] = (shape, dtype, view)
    return view


def _allocate(nbytes: int) -> np.ndarray:
    """At least ``nbytes`` (rounded up to whole huge pages), starting on a huge-page boundary."""
    size = max(-(-nbytes // _HUGE), 1) * _HUGE
    flags = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)
    region = mmap.mmap(-1, size + _HUGE, flags=flags) if flags else mmap.mmap(-1, size + _HUGE)
    for advice in _ADVICE if hasattr(region, "madvise") else ():
        with contextlib.suppress(OSError):  # an older kernel: ordinary pages then
            region.madvise(advice)
    whole = np.frombuffer(region, np.uint8)
    start = -whole.ctypes.data % _HUGE
    return whole[start : start + size]
