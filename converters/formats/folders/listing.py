"""What a folder writer put in its output, recorded in the output's marker.

``--overwrite`` deletes a whole output folder, so it must know that every file in it is one
vosconv wrote: a user's file put in a video's folder (notes, a fixed mask, another video) is not
vosconv's to delete. The names at the root tell only about the root; the marker therefore
records how many files lie in the folder and a digest of their paths, and an output whose
files no longer match (one added, moved or removed anywhere) is not replaced.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .spec import is_desktop_file

#: The marker's key for the record.
KEY = "files"


def paths(folder: Path, skip: frozenset[str]) -> Iterator[bytes]:
    """The relative path of every entry under ``folder`` but its folders (links, FIFOs and sockets too, never followed),
    in sorted order; ``skip``: names at the root left out (the marker, and what is written after it). A desktop's own
    files (``.DS_Store`` from opening a folder in Finder) are left out too: they are no one's data.

    Only the names of the folders being walked are held, never the whole output's (a path per frame and object):
    each folder's entries are sorted with a folder's name followed by ``/``, so walking them in that order gives the
    paths in the order of sorting them all."""
    yield from _walk(str(folder), b"", skip)


def _walk(where: str, prefix: bytes, skip: frozenset[str]) -> Iterator[bytes]:
    with os.scandir(where) as entries:
        found = [
            (prefix + os.fsencode(entry.name), entry.path, entry.is_dir(follow_symlinks=False))
            for entry in entries
            if not ((not prefix and entry.name in skip) or is_desktop_file(entry.name))
        ]
    found.sort(key=lambda item: item[0] + b"/" if item[2] else item[0])
    for relative, path, is_dir in found:
        if is_dir:
            yield from _walk(path, relative + b"/", skip)
        else:
            yield relative


def record(folder: Path, skip: frozenset[str]) -> dict[str, Any]:
    """The marker's record of ``folder``: how many files, and a digest of their paths (joined by NUL bytes)."""
    digest, count = hashlib.sha256(), 0
    for name in paths(folder, skip):
        digest.update(b"\0" + name if count else name)
        count += 1
    return {"count": count, "sha256": digest.hexdigest()}


def changed(folder: Path, recorded: object, skip: frozenset[str]) -> str | None:
    """Words saying that ``folder`` no longer holds the files ``recorded`` (what :func:`record` gave); None when it holds
    exactly those, or when there is no record (a marker of an older vosconv, which recorded only the root's names)."""
    if recorded is None:
        return None
    try:
        now = record(folder, skip)
    except OSError as exc:
        return f"cannot be listed ({exc.strerror or exc}), so vosconv cannot tell that it wrote everything in it"
    if now == recorded:
        return None
    count = recorded.get("count") if isinstance(recorded, dict) else "?"
    return (
        f"is a vosconv output whose folders now hold files other than the {count} vosconv wrote ({now['count']} now: "
        "a file added, moved or removed), which --overwrite would delete; move yours out, or delete the output by hand"
    )
