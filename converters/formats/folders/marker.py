"""The hidden marker a folder-layout writer leaves (``.vosconv.json``), read back: who wrote the folder, the files
it wrote there (what ``--overwrite`` may delete), and the dataset attributes it keeps.

The writers record the source's attributes there (a derived set's ``derived``, DAVIS's split lists), which no
MOSE, DAVIS or YouTube-VOS file has room for; the readers give them back, so a derived set of a derived set
nests its record and DAVIS -> MOSE -> DAVIS keeps its lists.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ...errors import SourceError
from ...sources.files import LOCAL, FileSystem
from . import listing
from .entries import read_json
from .spec import MARKER, WRITTEN_BY, is_desktop_file

#: The most of a marker read: it holds the source's attributes (DAVIS split lists) and what the writer changed.
MARKER_LIMIT = 1 << 20


def with_marker_attributes(folder: Path, own: tuple[tuple[str, str], ...], fs: FileSystem = LOCAL) -> tuple[tuple[str, str], ...]:
    """The reader's own dataset attributes, then those a layout vosconv wrote keeps in its hidden marker and the layout
    itself cannot say (a derived set's record, DAVIS's split lists read through MOSE): a folder without vosconv's
    marker has none. The reader's own win: they say what the folder holds now."""
    value = _own_marker(folder, fs)
    if value is None:
        return own
    path = folder / MARKER
    kept = value.get("attributes", {})
    if not isinstance(kept, dict) or not all(isinstance(v, str) for v in kept.values()):
        raise SourceError(path, "attributes: expected an object of strings")
    known = {key for key, _ in own}
    return (*own, *((key, text) for key, text in kept.items() if key not in known))


def recorded(folder: Path, key: str, fs: FileSystem = LOCAL) -> object:
    """What the marker of a layout vosconv wrote records under ``key`` (a fact its files cannot say); None without."""
    value = _own_marker(folder, fs)
    return None if value is None else value.get(key)


def _own_marker(folder: Path, fs: FileSystem) -> dict | None:
    path = folder / MARKER
    if not fs.is_file(path):
        return None
    value = read_json(path, fs)
    return value if isinstance(value, dict) and value.get("written_by") == WRITTEN_BY else None  # else not vosconv's


def marker(folder: Path) -> dict | None:
    """The marker a folder writer leaves in ``folder`` (a small JSON object naming vosconv), or None."""
    path = folder / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    try:
        with open(path, "rb") as file:
            value = json.loads(file.read(MARKER_LIMIT))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or value.get("written_by") != WRITTEN_BY:
        return None
    return value


def marked_format(folder: Path) -> str | None:
    """The format named by the marker a folder writer leaves in ``folder``, if any ("" when it names none)."""
    value = marker(folder)
    if value is None:
        return None
    return value.get("format") if isinstance(value.get("format"), str) else ""


#: Names at an output's root that its files' record leaves out: the marker, and what the pipeline adds after it.
UNLISTED = frozenset({MARKER, "errors.jsonl"})


def changed_files(folder: Path) -> str | None:
    """Words saying that a marked output no longer holds exactly the files its writer recorded; None when it does."""
    value = marker(folder)
    return None if value is None else listing.changed(folder, value.get(listing.KEY), UNLISTED)


def with_files(root: Path, value: dict) -> dict:
    """The marker ``value`` recording every file the writer put in ``root``, for writing last (so ``--overwrite`` sees a
    file added anywhere later)."""
    return {**value, listing.KEY: listing.record(root, UNLISTED)}


def is_marked(folder: Path) -> bool:
    """``folder`` holds the marker a folder writer leaves."""
    return marked_format(folder) is not None


def foreign_entries(folder: Path, own: frozenset[str]) -> list[str]:
    """The names at a folder output's root that its writer does not make (a file the user added later; a desktop's
    ``.DS_Store`` is none)."""
    return sorted(entry.name for entry in os.scandir(folder) if entry.name not in own and not is_desktop_file(entry.name))


def refuse_foreign(folder: Path, own: frozenset[str]) -> str:
    """The refusal for a marked output holding what its writer does not make, naming those entries."""
    foreign = foreign_entries(folder, own)
    listed = ", ".join(foreign[:4] + (["..."] if len(foreign) > 4 else []))
    return f"is a vosconv output that also holds files vosconv did not write ({listed}); move them out or choose another output"
