"""The hidden marker a folder-layout writer leaves (``.vosconv.json``), read back: the dataset attributes it keeps.

The writers record the source's attributes there (a derived set's ``derived``, DAVIS's split lists), which no
MOSE, DAVIS or YouTube-VOS file has room for; the readers give them back, so a derived set of a derived set
nests its record and DAVIS -> MOSE -> DAVIS keeps its lists.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import SourceError
from ...sources.files import LOCAL, FileSystem
from .entries import read_json
from .spec import MARKER, WRITTEN_BY


def with_marker_attributes(folder: Path, own: tuple[tuple[str, str], ...], fs: FileSystem = LOCAL) -> tuple[tuple[str, str], ...]:
    """The reader's own dataset attributes, then those a layout vosconv wrote keeps in its hidden marker and the layout
    itself cannot say (a derived set's record, DAVIS's split lists read through MOSE): a folder without vosconv's
    marker has none. The reader's own win: they say what the folder holds now."""
    path = folder / MARKER
    if not fs.is_file(path):
        return own
    value = read_json(path, fs)
    if not isinstance(value, dict) or value.get("written_by") != WRITTEN_BY:
        return own  # not vosconv's marker
    kept = value.get("attributes", {})
    if not isinstance(kept, dict) or not all(isinstance(v, str) for v in kept.values()):
        raise SourceError(path, "attributes: expected an object of strings")
    known = {key for key, _ in own}
    return (*own, *((key, text) for key, text in kept.items() if key not in known))
