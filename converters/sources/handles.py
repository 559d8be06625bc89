"""Open files kept per process: never pickled, and forgotten in a forked child.

Readers, archives and the training loader are pickled to worker processes; open handles
(h5py's above all, which is not fork-safe) must not travel with them. Each process opens
what it reads once, on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


class HandleCache:
    """Open shard files, kept per process: never pickled, and forgotten in a forked child.

    h5py (and any open file) must not cross a fork, and a reader or dataset is pickled to
    worker processes; each process therefore opens the files it reads, once, on first use.
    ``opener(path)`` must be a module-level function so the cache pickles.
    """

    def __init__(self, opener: Callable[[str], Any]) -> None:
        self.opener = opener
        self._pid = os.getpid()
        self._open: dict[str, Any] = {}

    def get(self, path: str) -> Any:
        if self._pid != os.getpid():  # a forked child: the parent's handles are not ours to use
            self._open = {}
            self._pid = os.getpid()
        handle = self._open.get(path)
        if handle is None:
            handle = self._open[path] = self.opener(path)
        return handle

    def close(self) -> None:
        if self._pid == os.getpid():
            for handle in self._open.values():
                close = getattr(handle, "close", None)
                if close is not None:
                    close()
        self._open = {}

    def __getstate__(self) -> dict:
        return {"opener": self.opener}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["opener"])
