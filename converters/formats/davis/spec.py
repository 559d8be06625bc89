"""DAVIS's on-disk names: the resolution folders, the split lists and the semantics files (and what marks DAVIS)."""

from __future__ import annotations

import json
import os

from ...model import check_file_name
from ...sources.files import LOCAL, FileSystem
from ..folders.spec import ANNOTATIONS, IMAGE_SUFFIXES, IMAGES, MASK_SUFFIX

#: The folder a DAVIS download unpacks to (the source may be it, or hold it).
ROOT = "DAVIS"
#: The split lists: ``ImageSets/<year>/<split>.txt`` (DAVIS 2016's own: ``ImageSets/<resolution>/<split>.txt``).
IMAGE_SETS = "ImageSets"
#: The list files' suffix.
LIST_SUFFIX = ".txt"
#: The semantics zip's per-sequence object categories, and its category table.
SEMANTICS = "davis_semantics.json"
CATEGORIES = "categories.json"
#: The marker's record of the categories whose ``super_category`` the writer filled with the name (the source had none).
FILLED_SUPERCATEGORIES = "filled_supercategories"
#: Where a split's list is looked for first, in this order.
YEARS = ("2017", "2016")
#: The resolution folders inside ``JPEGImages/`` (``1080p`` is DAVIS 2016's name for full resolution).
RESOLUTIONS = ("480p", "Full-Resolution", "1080p")
DEFAULT_RESOLUTION = "480p"


def resolution_folder(folder: str | os.PathLike, fs: FileSystem = LOCAL) -> str | None:
    """``JPEGImages/480p/`` (or another DAVIS resolution, or ``Annotations/480p/`` where there are annotations only)
    when ``folder`` has one holding video folders: it marks DAVIS.

    A DAVIS root needs no ``ImageSets/`` (the 2016 download and many copies have none), and read as
    MOSE its ``480p`` became one video. A resolution folder holding frames is a MOSE video so named.
    """
    pair_folder = IMAGES if fs.is_dir(os.path.join(folder, IMAGES)) else ANNOTATIONS
    for resolution in RESOLUTIONS:
        path = os.path.join(folder, pair_folder, resolution)
        if not fs.is_dir(path):
            continue
        try:
            entries = fs.scandir(path)
        except OSError:
            continue
        if not any(e.is_file and e.name.lower().endswith((*IMAGE_SUFFIXES, MASK_SUFFIX)) for e in entries):
            return f"{pair_folder}/{resolution}/"
    return None


#: The dataset attribute holding every split list of the source (``ImageSets/<year>/<split>.txt``), so that
#: the lists survive COCO, Parquet, HDF5 and SA-V and the DAVIS writer puts them back: a JSON object
#: ``{"<year>/<split>": [sequence, ...]}``. DAVIS 2016's own frame-pair lists (``ImageSets/480p/``) are not in it.
SPLIT_LISTS = "split_lists"


def dump_split_lists(lists: dict[str, list[str]]) -> str:
    """The attribute's value: compact, key-sorted JSON (the same bytes for the same lists)."""
    return json.dumps(lists, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_split_lists(text: str) -> dict[str, tuple[str, str, list[str]]]:
    """``{"<year>/<split>": (year, split, names)}`` from the attribute; ValueError saying what is wrong.

    The attribute may come from any file (a COCO JSON someone edited): the year and split become a
    folder and a file name, so each must be one path component.
    """
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError('expected {"<year>/<split>": [sequence, ...]}')
    lists = {}
    for key, names in value.items():
        year, _, split = key.partition("/")
        for what, part in (("year", year), ("split", split)):
            check_file_name(f"split list {key!r}: {what}", part)
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ValueError(f"split list {key!r}: expected a list of sequence names")
        lists[key] = (year, split, names)
    return lists
