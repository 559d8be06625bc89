"""DAVIS 2016 and 2017: ``JPEGImages/<resolution>/<seq>/`` beside ``Annotations/<resolution>/<seq>/``.

Splits are list files, not folders: ``ImageSets/2017/<split>.txt`` and ``ImageSets/2016/<split>.txt``
name one sequence per line; DAVIS 2016's own ``ImageSets/480p/<split>.txt`` has one
"image mask" path pair per frame. Without a split, every sequence folder is read.
The semantics zip adds ``davis_semantics.json`` and ``categories.json`` (object categories).
The source may be the published zip itself (``DAVIS-2017-trainval-480p.zip``, holding ``DAVIS/``).
Mask encodings (2017 palette with void 255, 2016 grayscale 0/255) are told apart per video
by :func:`~converters.formats.folders.reader.read_folder_video`.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceError, VosconvWarning
from ...model import VOID_ID, Category, DatasetInfo, ObjectInfo
from ...reader import Detection
from ...records import Record
from ...sources.files import LOCAL, FileSystem
from ...suggest import did_you_mean
from ..folders.entries import read_json, read_list, subfolders, visible_entries
from ..folders.marker import recorded, with_marker_attributes
from ..folders.reader import FolderLayoutReader, LayoutFolders, VideoIndex
from ..folders.results import read_as_mose
from ..folders.spec import ANNOTATIONS, IMAGE_SUFFIXES, IMAGES, MARKER, MASK_SUFFIX
from .spec import (
    CATEGORIES,
    DEFAULT_RESOLUTION,
    FILLED_SUPERCATEGORIES,
    IMAGE_SETS,
    LIST_SUFFIX,
    RESOLUTIONS,
    ROOT,
    SEMANTICS,
    SPLIT_LISTS,
    YEARS,
    dump_split_lists,
    resolution_folder,
)

#: What a video folder holds (a resolution folder holds video folders).
FRAME_SUFFIXES = (*IMAGE_SUFFIXES, MASK_SUFFIX)


@dataclass(frozen=True)
class DavisOptions:
    split: str | None = None  # a list in ImageSets/ (train, val, test-dev, ...); None: every sequence folder
    resolution: str = DEFAULT_RESOLUTION  # 480p, Full-Resolution, or 1080p (DAVIS 2016's name)
    year: str | None = None  # ImageSets/<year>/ holding the split; default 2017, then 2016, then ImageSets/<resolution>/
    images: str | None = None  # a folder of <sequence>/ frame folders to take the frames from (annotations-only sources)

    def __post_init__(self) -> None:
        if self.year is not None and self.split is None:
            raise ValueError("year only picks where the split list is (ImageSets/<year>/<split>.txt): give split too")


@dataclass(frozen=True)
class _DavisFolders(LayoutFolders):
    root: Path = Path()  # the DAVIS root, where the semantics files are


@dataclass(frozen=True)
class _Layout:
    """Where the chosen resolution and split live: computed afresh by each call, never pickled."""

    root: Path
    images: Path
    annotations: Path
    list_file: Path | None
    year: str | None
    sequences: list[str] | None  # from the list file, in its order; None: every folder


def davis_root(source: Path, fs: FileSystem = LOCAL) -> Path | None:
    """``source`` or its ``DAVIS/`` sub-folder, whichever holds ``JPEGImages/`` (or, annotations only, ``Annotations/``)."""
    for pair_folder in (IMAGES, ANNOTATIONS):
        for folder in (source, source / ROOT):
            if fs.is_dir(folder / pair_folder):
                return folder
    return None


def read_sequence_list(path: Path, fs: FileSystem = LOCAL) -> list[str]:
    """Sequence names of a list file, each once, in first-seen order.

    A line with a ``/`` is a DAVIS 2016 frame pair (``/JPEGImages/480p/<seq>/00000.jpg /Annotations/...``):
    the sequence is the folder of its first path. Any other line is a sequence name.
    """
    names: dict[str, None] = {}
    for number, line in read_list(path, fs):
        if "/" in line:
            parts = [p for p in line.split()[0].split("/") if p]
            if len(parts) < 3:
                raise SourceError(path, f"line {number}: no sequence folder in {line!r}")
            line = parts[-2]
        names.setdefault(line, None)
    return list(names)


def is_utf8(text: str) -> bool:
    """False for a name of bytes that are not UTF-8 (Python gives their characters as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def split_lists(root: Path, fs: FileSystem = LOCAL) -> dict[str, list[str]]:
    """Every sequence list of ``ImageSets/<year>/`` (train, val, test-dev, ...) as ``{"<year>/<split>": names}``.

    Kept whatever split is read, so every list survives a round trip through the other formats.
    DAVIS 2016's frame-pair lists under ``ImageSets/<resolution>/`` are not. A list that cannot be
    read is left out, with a warning naming it: it need not be the one being read.
    """
    sets = root / IMAGE_SETS
    if not fs.is_dir(sets):
        return {}
    lists = {}
    for folder in subfolders(sets, fs):
        if folder in RESOLUTIONS:
            continue
        for name in sorted(e.name for e in visible_entries(sets / folder, fs) if e.is_file and e.name.endswith(LIST_SUFFIX)):
            key = f"{folder}/{name[: -len(LIST_SUFFIX)]}"
            try:
                if not key.isascii() and not is_utf8(key):  # no writer can keep the name of bytes that are not UTF-8
                    raise SourceError(sets / folder / name, "the list's name is not UTF-8 text")
                lists[key] = read_sequence_list(sets / folder / name, fs)
            except SourceError as error:
                warnings.warn(f"{error.path}: {error.cause}; the list is left out", VosconvWarning, stacklevel=2)
    return lists


def _list_names(image_sets: Path, fs: FileSystem = LOCAL) -> list[str]:
    """``<folder>/<split>`` for every list file under ``ImageSets/``, for error messages."""
    if not fs.is_dir(image_sets):
        return []
    found = []
    for folder in subfolders(image_sets, fs):
        lists = [e.name for e in visible_entries(image_sets / folder, fs) if e.name.endswith(LIST_SUFFIX)]
        found += [f"{folder}/{name[: -len(LIST_SUFFIX)]}" for name in lists]
    return sorted(found)


def _find_list(root: Path, split: str, year: str | None, resolution: str, fs: FileSystem) -> tuple[Path, str]:
    """The list file of ``split`` and the DAVIS year it belongs to."""
    sets = root / IMAGE_SETS
    if year is not None:
        candidates = [(sets / year / f"{split}{LIST_SUFFIX}", year)]
        if year == "2016":
            candidates.append((sets / resolution / f"{split}{LIST_SUFFIX}", year))
    else:
        candidates = [(sets / y / f"{split}{LIST_SUFFIX}", y) for y in YEARS]
        candidates.append((sets / resolution / f"{split}{LIST_SUFFIX}", "2016"))
    for path, list_year in candidates:
        if fs.is_file(path):
            return path, list_year
    others = ", ".join(p.relative_to(sets).as_posix() for p, _ in candidates[1:])
    existing = _list_names(sets, fs)
    found = f"lists here: {', '.join(existing)}" if existing else f"no lists in {sets}"
    also = f" (also looked for {others})" if others else ""
    hint = did_you_mean(split, sorted({name.rpartition("/")[2] for name in existing}))
    elsewhere = sorted({f if f in YEARS else "2016" for f, _, s in (n.partition("/") for n in existing) if s == split})
    if elsewhere:  # the split exists, under another year: "did you mean 'val'?" would repeat what was typed
        hint = f" {split!r} is listed for {' and '.join(elsewhere)}: -r year={elsewhere[-1]}, or leave year out"
    raise SourceError(candidates[0][0], f"no list for split {split!r}{also}; {found};{hint}".rstrip(";"))


def _categories(root: Path, fs: FileSystem) -> tuple[tuple[Category, ...], dict[str, tuple[ObjectInfo, ...]]]:
    """Categories and per-sequence object categories from the semantics zip; empty unless both files exist."""
    semantics_path, categories_path = root / SEMANTICS, root / CATEGORIES
    if not (fs.is_file(semantics_path) and fs.is_file(categories_path)):
        return (), {}
    by_name = _category_table(categories_path, fs)
    semantics = read_json(semantics_path, fs)
    if not isinstance(semantics, dict):
        raise SourceError(semantics_path, 'expected {"<sequence>": {"<object id>": "<category>", ...}, ...}')
    filled = recorded(root, FILLED_SUPERCATEGORIES, fs) or []
    if not isinstance(filled, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in filled):
        raise SourceError(root / MARKER, f"{FILLED_SUPERCATEGORIES}: expected a list of category ids")
    for name, category in by_name.items():  # the name stood in for a supercategory the source did not have
        if category.id in filled and category.supercategory == name:
            by_name[name] = dataclasses.replace(category, supercategory=None)
    objects = {name: _sequence_objects(Record(found, semantics_path, name), by_name) for name, found in semantics.items()}
    return tuple(sorted(by_name.values(), key=lambda c: c.id)), objects


def _category_table(path: Path, fs: FileSystem) -> dict[str, Category]:
    """``categories.json``: ``{"<name>": {"id": int, "super_category": str}, ...}``, by name."""
    table = read_json(path, fs)
    if not isinstance(table, dict):
        raise SourceError(path, 'expected {"<name>": {"id": int, "super_category": str}, ...}')
    by_name: dict[str, Category] = {}
    for name, entry in table.items():
        category = Record(entry, path, name)
        try:
            by_name[name] = Category(category.int("id"), name, category.text("super_category", None, nullable=True))
        except ValueError as exc:  # what the model refuses (an id beyond 32 bits)
            category.fail(str(exc))
    ids = sorted(c.id for c in by_name.values())
    if len(ids) != len(set(ids)):
        raise SourceError(path, "two categories share an id")
    return by_name


def _sequence_objects(names: Record, by_name: dict[str, Category]) -> tuple[ObjectInfo, ...]:
    """One sequence's ``{"<object id>": "<category>"}`` of ``davis_semantics.json``, sorted by id."""
    infos = []
    for key in names.value:
        if not (key.isascii() and key.isdigit()) or not 0 < int(key) < VOID_ID:
            names.fail(f"object key {key!r} is not an integer id from 1 to {VOID_ID - 1}")
        name = names.text(key)
        if name not in by_name:
            names.fail(f"category {name!r} is not in {CATEGORIES}", key)
        infos.append(ObjectInfo(int(key), by_name[name].id))
    infos.sort(key=lambda o: o.object_id)
    if len({o.object_id for o in infos}) != len(infos):
        names.fail("an object id appears twice")
    return tuple(infos)


class DavisReader(FolderLayoutReader):
    """Reads a DAVIS 2016 or 2017 folder at one resolution, optionally restricted to one split list."""

    name = "davis"
    Options = DavisOptions

    @classmethod
    def sniff_layout(cls, source: Path, fs: FileSystem) -> Detection:
        for folder in (source, source / ROOT):
            if fs.is_dir(folder / IMAGE_SETS) and fs.is_dir(folder / IMAGES):
                return Detection(10, f"{IMAGE_SETS}/ and {IMAGES}/ in {folder}")
            if fs.is_dir(folder / IMAGE_SETS) and fs.is_dir(folder / ANNOTATIONS):
                return Detection(10, f"{IMAGE_SETS}/ and {ANNOTATIONS}/ (annotations only) in {folder}")
            resolution = resolution_folder(folder, fs)
            if resolution is not None:
                return Detection(10, f"{resolution} in {folder}")
        near = 3 if any(fs.is_dir(folder / IMAGES) for folder in (source, source / ROOT)) else 0
        where = f"{IMAGES}/{DEFAULT_RESOLUTION}/ (or another resolution) here or in {ROOT}/"
        return Detection(0, f"no {IMAGE_SETS}/ or {where}", near=near)

    def _layout(self) -> _Layout:
        fs = self.fs
        root = davis_root(self.source, fs)
        if root is None:
            raise SourceError(self.source, f"no {IMAGES}/ (or {ANNOTATIONS}/) here or in {ROOT}/{read_as_mose(self.source, fs)}")
        options = self.options
        images = root / IMAGES / options.resolution
        pair_folder = IMAGES if fs.is_dir(root / IMAGES) else ANNOTATIONS  # annotations only: their resolution folders
        if not fs.is_dir(root / pair_folder / options.resolution):
            folders = subfolders(root / pair_folder, fs)
            first = root / pair_folder / folders[0] if folders else None
            if first is not None and any(e.name.lower().endswith(FRAME_SUFFIXES) for e in visible_entries(first, fs)):
                raise SourceError(
                    root / pair_folder,
                    "holds video folders, not resolution folders (480p, Full-Resolution): "
                    "a MOSE-style layout? read it with --from mose",
                )
            found = ", ".join(folders) or "none"
            hint = did_you_mean(options.resolution, folders) or (
                " choose one with --resolution (reader option resolution)" if folders else ""
            )
            where = root / pair_folder / options.resolution
            raise SourceError(where, f"no resolution {options.resolution!r} (resolutions here: {found});{hint}".rstrip(";"))
        annotations = root / ANNOTATIONS / options.resolution
        if options.split is None:
            return _Layout(root, images, annotations, None, None, None)
        list_file, year = _find_list(root, options.split, options.year, options.resolution, fs)
        return _Layout(root, images, annotations, list_file, year, read_sequence_list(list_file, fs))

    def info(self) -> DatasetInfo:
        layout = self._layout()
        attributes = [("resolution", self.options.resolution)]
        if layout.list_file is not None:
            image_set = layout.list_file.relative_to(layout.root / IMAGE_SETS).as_posix()
            attributes += [("year", layout.year), ("image_set", image_set)]
        lists = split_lists(layout.root, self.fs)
        if lists:  # every list, whatever split is read: the DAVIS writer puts back those of the sequences written
            attributes.append((SPLIT_LISTS, dump_split_lists(lists)))
        return DatasetInfo(
            source_format=self.name,
            split=self.options.split,
            categories=_categories(layout.root, self.fs)[0],
            image_root=self.image_root(layout.images),
            attributes=with_marker_attributes(layout.root, tuple(attributes), self.fs),
        )

    def roots(self) -> list[Path]:
        layout = self._layout()
        metadata = [path for path in (layout.root / SEMANTICS, layout.root / CATEGORIES) if self.fs.is_file(path)]
        images = self.frames_folder(layout.images)
        return [self.source, images, layout.annotations, *([layout.list_file] if layout.list_file else []), *metadata]

    def layout_folders(self) -> LayoutFolders:
        layout = self._layout()
        index = None if layout.sequences is None else VideoIndex(layout.list_file, tuple(layout.sequences), "sequence", only=True)
        return _DavisFolders(layout.images, layout.annotations, index, root=layout.root)

    def video_objects(self, folders: _DavisFolders) -> dict[str, tuple[ObjectInfo, ...]]:
        """From the semantics files, read once the split list is checked."""
        return _categories(folders.root, self.fs)[1]
