"""Open files kept per process: never pickled, and forgotten in a forked child.

Readers, archives and the training loader are pickled to worker processes; open handles
(h5py's above all, which is not fork-safe) must not travel with them. Each process opens
what it reads once, on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

#: Files a cache keeps open at most: a training worker reading a dataset of thousands of shards
#: at random would otherwise hold one descriptor (and h5py's caches) per shard it ever touched,
#: until the process's file limit (often 1024) fails the epoch.
MAX_OPEN = 128


class HandleCache:
    """Open shard files, kept per process: never pickled, and forgotten in a forked child.

    h5py (and any open file) must not cross a fork, and a reader or dataset is pickled to
    worker processes; each process therefore opens the files it reads, once, on first use.
    At most ``max_open`` stay open: the one used longest ago is closed (or, without a
    ``close``, dropped) first, and opened again if it is needed again.
    ``opener(path)`` must be a module-level function so the cache pickles.
    """

    def __init__(self, opener: Callable[[str], Any], max_open: int = MAX_OPEN) -> None:
        self.opener = opener
        self.max_open = max_open
        self._pid = os.getpid()
        self._open: dict[str, Any] = {}  # least recently used first

    def get(self, path: str) -> Any:
        if self._pid != os.getpid():  # a forked child: the parent's handles are not ours to use
            self._open = {}
            self._pid = os.getpid()
        handle = self._open.pop(path, None)
        if handle is None:
            handle = self.opener(path)
            while len(self._open) >= self.max_open:
                _close(self._open.pop(next(iter(self._open))))
        self._open[path] = handle
        return handle

    def close(self) -> None:
        if self._pid == os.getpid():
            for handle in self._open.values():
                _close(handle)
        self._open = {}

    def __getstate__(self) -> dict:
        return {"opener": self.opener, "max_open": self.max_open}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["opener"], state.get("max_open", MAX_OPEN))


def _close(handle: Any) -> None:
    close = getattr(handle, "close", None)
    if close is not None:
        close()
