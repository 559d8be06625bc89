"""Files the inspect commands write (tables, plots, previews), whole or not at all.

Each goes to a hidden temporary file beside its name (``.<name>.vosconv-tmp``), renamed into place once
complete; any failure or Ctrl-C removes the temporary file, so no half-written file is left under the name.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import OutputError

#: What the temporary file adds to a name: ``.<name>.vosconv-tmp``.
TMP_BYTES = len("..vosconv-tmp")


def write_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """``write(tmp)`` then rename ``tmp`` to ``path``; an OSError is an OutputError naming ``path``."""
    tmp = path.with_name(f".{path.name}.vosconv-tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:  # Ctrl-C, or a library's own errors (matplotlib's, pyarrow's)
        _discard(tmp)
        raise
    return path


def _discard(tmp: Path) -> None:
    """Remove a temporary file if it is there (its folder may be what failed)."""
    with contextlib.suppress(OSError):
        tmp.unlink()


class WrittenFiles:
    """The files a command has written, by identity (device and inode): on a file system that folds case or Unicode
    normalisation (macOS and Windows by default), ``bear.png`` is the ``Bear.png`` written for another video a moment
    before, and writing it would replace that one in silence. :meth:`check` finds it by what is there, on any file
    system."""

    def __init__(self, fix: str) -> None:
        self._fix = fix  # what to do instead, in the error's words
        self._ids: dict[tuple[int, int], Path] = {}

    def check(self, path: Path) -> None:
        """OutputError when ``path`` is, on this file system, one of the files written under another name."""
        try:
            info = os.stat(path)
        except OSError:  # not there (or not readable): nothing written would be replaced
            return
        other = self._ids.get((info.st_dev, info.st_ino))
        if other is not None and other != path:
            raise OutputError(
                f"cannot write {path}: on this file system, which folds case or Unicode normalisation (as macOS and "
                f"Windows do by default), it is {other.name}, written a moment ago for another video, which it would "
                f"replace; {self._fix}"
            )

    def add(self, path: Path) -> Path:
        """Note ``path``, just written; returns it."""
        info = os.stat(path)
        self._ids[(info.st_dev, info.st_ino)] = path
        return path
