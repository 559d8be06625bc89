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
from pathlib import Path
from typing import Any

from .spec import is_desktop_file

#: The marker's key for the record.
KEY = "files"


def paths(folder: Path, skip: frozenset[str]) -> list[bytes]:
    """The relative path of every entry under ``folder`` but its folders (links, FIFOs and sockets too, never followed),
    sorted; ``skip``: names at the root left out (the marker, and what is written after it). A desktop's own files
    (``.DS_Store`` from opening a folder in Finder) are left out too: they are no one's data."""
    found: list[bytes] = []
    pending = [(str(folder), b"")]
    while pending:
        where, prefix = pending.pop()
        with os.scandir(where) as entries:
            for entry in entries:
                if (not prefix and entry.name in skip) or is_desktop_file(entry.name):
                    continue
                relative = prefix + os.fsencode(entry.name)
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, relative + b"/"))
                else:
                    found.append(relative)
    return sorted(found)


def record(folder: Path, skip: frozenset[str]) -> dict[str, Any]:
    """The marker's record of ``folder``: how many files, and a digest of their paths."""
    names = paths(folder, skip)
    return {"count": len(names), "sha256": hashlib.sha256(b"\0".join(names)).hexdigest()}


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
