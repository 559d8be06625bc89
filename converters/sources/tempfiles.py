"""Folders of temporary files a reader writes while it reads its source (an index, tracks set aside).

A failure to write there is about the disk under ``TMPDIR``, not the source: "x.json: cannot read:
No space left on device" sent users looking at a file that was fine. The errors made here name the
folder and say how to move it.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import OutputError

#: What only a write can give: a full disk, a full quota, a file past the file system's size limit.
_WRITING = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def make_folder(prefix: str) -> str:
    """A new folder under ``TMPDIR`` (``tempfile.mkdtemp``), or an :class:`OutputError` saying why not."""
    try:
        return tempfile.mkdtemp(prefix=prefix)
    except OSError as exc:  # tempfile.tempdir is unset when no candidate folder was usable
        raise cannot_write(exc, tempfile.tempdir or "any temporary folder") from None


@contextmanager
def folder(prefix: str) -> Iterator[str]:
    """:func:`make_folder`, removed with what it holds on leaving."""
    path = make_folder(prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def failed_writing(exc: OSError, folder: str | None = None) -> bool:
    """Whether ``exc`` came from writing: an error only a write gives, or one naming a file under ``folder``."""
    if exc.errno in _WRITING:
        return True
    name = exc.filename
    if folder is None or not isinstance(name, (str, bytes)) or not name:
        return False
    inside, folder = os.path.abspath(os.fsdecode(name)), os.path.abspath(folder)
    try:
        return os.path.commonpath([inside, folder]) == folder
    except ValueError:  # on two Windows drives: not under it
        return False


def cannot_write(exc: OSError, folder: str) -> OutputError:
    """The error for temporary files that cannot be written in ``folder`` (or under it)."""
    where = os.path.dirname(os.path.abspath(folder)) if os.path.basename(folder).startswith("vosconv-") else folder
    why = exc.strerror or str(exc)
    return OutputError(f"cannot write temporary files in {where}: {why}; set TMPDIR to a folder with room")
