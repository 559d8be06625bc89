"""Where YouTube-VIS, OVIS and LV-VIS keep their JSON and their frames, as their consumers lay them out.

=================  =========================================  ================================
Dataset            The split's JSON                           Its frames (``file_names`` root)
=================  =========================================  ================================
YouTube-VIS 2019   ``{split}.json``                           ``{split}/JPEGImages/``
YouTube-VIS 2021+  ``{split}/instances.json``                 ``{split}/JPEGImages/``
OVIS               ``annotations/annotations_{split}.json``   ``{split}/``
LV-VIS             ``{split}_instances.json``                 ``JPEGImages/{split}/`` or ``{split}/JPEGImages/``
=================  =========================================  ================================

(Mask2Former's and DVIS's ``builtin.py`` register these pairs; LV-VIS's README gives its own.)
The JSON may also sit in an ``annotations/`` folder beside the frames; a file named otherwise is
read when given itself. Detection looks at names and at a file's first bytes, never at all of it.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..coco.spec import FILE_HEAD, GZIP_MAGIC, is_vosconv_coco

#: A JSON in the dataset root (or its ``annotations/``), by name: 2019's ``train.json``, OVIS's
#: ``annotations_train.json``, LV-VIS's ``train_instances.json`` (YouTube-VIS and OVIS say valid, LV-VIS val).
ROOT_JSON = re.compile(
    r"(?:(?P<plain>train|valid|val|test)|annotations_(?P<ovis>train|valid|val|test)|(?P<lvvis>train|valid|val|test)_instances)"
    r"\.json(?:\.gz)?"
)
SPLITS = ("train", "valid", "val", "test")
#: The JSON inside a split folder (2021, 2022).
SPLIT_JSON = "instances.json"
ANNOTATIONS_FOLDER = "annotations"
IMAGES = "JPEGImages"
#: How much of a file detection reads: enough for a category table of a thousand names and the first videos.
HEAD_BYTES = 1 << 20


@dataclass(frozen=True)
class SplitJson:
    """One split's JSON and the folders its frames may be in, likeliest first."""

    split: str | None
    json: Path
    image_roots: tuple[Path, ...]


def split_of_name(name: str) -> str | None:
    """The split a root JSON's name gives (``valid.json``, ``annotations_train.json``, ``val_instances.json``)."""
    found = ROOT_JSON.fullmatch(name)
    if found is None:
        return None
    return next(value for value in found.groupdict().values() if value)


def image_roots(root: Path, split: str | None) -> tuple[Path, ...]:
    """Where the frames of ``split`` may be under a dataset root, in the order the datasets use them."""
    if split is None:
        return (root / IMAGES, root)
    return (root / split / IMAGES, root / split, root / IMAGES / split)


def describe_json(path: Path) -> SplitJson:
    """A JSON given itself: its split from its name (or its folder's, for ``instances.json``) and its frames' folders."""
    folder = path.parent
    if path.name.lower() in (SPLIT_JSON, SPLIT_JSON + ".gz"):  # {split}/instances.json: frames beside it
        return SplitJson(folder.name or None, path, (folder / IMAGES, folder))
    split = split_of_name(path.name)
    root = folder.parent if folder.name == ANNOTATIONS_FOLDER else folder
    return SplitJson(split, path, image_roots(root, split))


def splits_in(folder: Path) -> list[SplitJson]:
    """Every split's JSON a dataset root (or a 2021 split folder) holds, found by name; sorted by split.

    Only names are looked at (a split's ``instances.json`` by its split's name), so a folder of
    thousands of videos costs one listing.
    """
    found: dict[str, SplitJson] = {}
    if (folder / SPLIT_JSON).is_file():  # the folder is a 2021 split folder itself
        return [describe_json(folder / SPLIT_JSON)]
    for place in (folder, folder / ANNOTATIONS_FOLDER):
        for name in _names(place):
            split = split_of_name(name)
            if split is not None and (place / name).is_file():
                found.setdefault(split, SplitJson(split, place / name, image_roots(folder, split)))
    for split in SPLITS:
        if split not in found and (folder / split / SPLIT_JSON).is_file():
            found[split] = describe_json(folder / split / SPLIT_JSON)
    return [found[split] for split in sorted(found)]


def _names(folder: Path) -> list[str]:
    try:
        return sorted(name for name in os.listdir(folder) if not name.startswith("."))
    except OSError:
        return []


def head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a JSON (unpacked when gzip); empty when it cannot be read."""
    try:
        with open(path, "rb") as raw:
            start = raw.read(len(GZIP_MAGIC))
            raw.seek(0)
            if start == GZIP_MAGIC:
                with gzip.GzipFile(fileobj=raw) as unpacked:
                    return unpacked.read(size)
            return raw.read(size)
    except (OSError, EOFError, zlib.error):
        return b""


def is_cocovid_head(data: bytes) -> bool:
    """Whether a JSON's first bytes are a CocoVID file's: vosconv's, or images numbered by ``frame_id`` in videos."""
    if is_vosconv_coco(data):
        return data.startswith(FILE_HEAD + b',"format":"cocovid"')  # not a coco file whose source was a CocoVID
    return b'"frame_id"' in data and b'"video_id"' in data and b'"file_names"' not in data


def looks_like_ytvis(data: bytes) -> str | None:
    """Why a JSON's first bytes look like YouTube-VIS (videos listing ``file_names``), or None."""
    if not data.lstrip().startswith(b"{") or is_vosconv_coco(data) or is_cocovid_head(data):
        return None
    if b'"file_names"' in data:
        return "videos with file_names"
    return None
