"""libdeflate's C API, reached through the ``deflate`` wheel, for inflating into a buffer we own.

The ``deflate`` package's Python functions return a new ``bytes`` per call; for a 2 MB mask
that is an allocation per frame and, after a worker forks, copy-on-write faults on the heap
it came from. Its extension module also exports libdeflate's C functions, so ``ctypes``
can inflate straight into a reused array. Where a build does not export them,
:func:`available` is False and callers use the Python API.
"""

from __future__ import annotations

import ctypes
import threading

import deflate
import numpy as np

__all__ = ["available", "zlib_decompress_into"]


class _Api:
    """The libdeflate entry points used here, with their C signatures."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self.alloc_decompressor = library.libdeflate_alloc_decompressor
        self.alloc_decompressor.restype = ctypes.c_void_p
        self.alloc_decompressor.argtypes = []
        self.free_decompressor = library.libdeflate_free_decompressor
        self.free_decompressor.restype = None
        self.free_decompressor.argtypes = [ctypes.c_void_p]
        self.zlib_decompress = library.libdeflate_zlib_decompress
        self.zlib_decompress.restype = ctypes.c_int  # 0: success
        self.zlib_decompress.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.POINTER(ctypes.c_size_t),
        ]


_bindings: list[_Api | None] = []
_decompressors = threading.local()


def _api() -> _Api | None:
    if not _bindings:
        try:
            _bindings.append(_Api(ctypes.CDLL(deflate._deflate.__file__)))
        except (OSError, AttributeError):
            _bindings.append(None)
    return _bindings[0]


def available() -> bool:
    """Whether this ``deflate`` build exports libdeflate's C API."""
    return _api() is not None


class _Decompressor:
    """A libdeflate decompressor, freed when its thread's storage goes."""

    def __init__(self, api: _Api) -> None:
        self.api = api
        self.handle = api.alloc_decompressor()
        if not self.handle:
            raise MemoryError("libdeflate could not allocate a decompressor")

    def __del__(self) -> None:
        if getattr(self, "handle", None):
            self.api.free_decompressor(self.handle)


def _decompressor(api: _Api) -> int:
    """This thread's decompressor (one may not be used by two threads at once)."""
    decompressor = getattr(_decompressors, "decompressor", None)
    if decompressor is None:
        decompressor = _decompressors.decompressor = _Decompressor(api)
    return decompressor.handle


def zlib_decompress_into(stream: bytes, out: np.ndarray) -> int | None:
    """Inflate the zlib ``stream`` into C-contiguous ``out``; bytes written, or None if it is corrupt or does not fit.

    The GIL is released while libdeflate works (ctypes does that for every call).
    """
    api = _api()
    if api is None:
        raise RuntimeError("this deflate build does not export libdeflate's C API")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError("out must be a writeable C-contiguous array")
    got = ctypes.c_size_t(0)
    status = api.zlib_decompress(_decompressor(api), stream, len(stream), out.ctypes.data, out.nbytes, ctypes.byref(got))
    return got.value if status == 0 else None
