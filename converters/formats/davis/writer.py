"""The DAVIS layout written back: resolution folders, ``ImageSets`` lists and the semantics files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceError
from ...model import Category, DatasetInfo, Video, check_file_name
from ...writer import ShardResult
from ..folders.spec import ANNOTATIONS, IMAGES
from ..folders.writer import LayoutWriter, check_listable_name, write_json
from .spec import (
    CATEGORIES,
    DEFAULT_RESOLUTION,
    FILLED_SUPERCATEGORIES,
    IMAGE_SETS,
    LIST_SUFFIX,
    RESOLUTIONS,
    SEMANTICS,
    SPLIT_LISTS,
    YEARS,
    load_split_lists,
)


@dataclass(frozen=True)
class DavisOptions:
    split: str | None = None  # ImageSets/<year>/<split>.txt to write; default: the source's split, else "all"
    resolution: str | None = None  # default: the source's resolution, else 480p
    year: str | None = None  # default: the source's year, else 2017
    images: bool = True  # copy each frame's JPEG; false: annotations only
    renumber: bool = False  # objects numbered 1..K per video, the mapping in object_ids.json

    def __post_init__(self) -> None:
        for what in ("split", "resolution", "year"):
            value = getattr(self, what)
            if value is not None:
                check_file_name(what, value)  # a ValueError: the options code names the option


def _folder_name(what: str, value: str) -> str:
    """A DAVIS resolution, year or split, which becomes a folder or file name: never a way out of the output."""
    try:
        check_file_name(f"DAVIS {what}", value)
    except ValueError as exc:
        raise SourceError(f"<the source's {what}>", str(exc)) from None
    return value


def _source_lists(info: DatasetInfo) -> dict[str, tuple[str, str, list[str]]]:
    """The source's split lists, from the dataset attribute a DAVIS reader records (carried by every format)."""
    text = info.attribute(SPLIT_LISTS)
    if text is None:
        return {}
    try:
        return load_split_lists(text)
    except ValueError as exc:
        raise SourceError(f"<the source's {SPLIT_LISTS}>", str(exc)) from None


#: The dataset attribute a derived set is recorded in (``run/derive.py``'s ``ATTRIBUTE``; formats do not import run/).
_DERIVED = "derived"


def _resized(info: DatasetInfo) -> bool:
    """Whether the source is a derived set whose frames ``--max-side`` shrank (the attribute ``derived`` says so)."""
    text = info.attribute(_DERIVED)
    try:
        record = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return False
    return isinstance(record, dict) and bool(record.get("max_side"))


def _write_list(root: Path, year: str, split: str, names: list[str]) -> None:
    index = root / IMAGE_SETS / year / f"{split}{LIST_SUFFIX}"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text("".join(f"{name}\n" for name in names))


class DavisWriter(LayoutWriter):
    """A ``DAVIS/`` root: ``JPEGImages/<res>/``, ``Annotations/<res>/`` and ``ImageSets/<year>/<split>.txt``."""

    name = "davis"
    Options = DavisOptions
    holds_void = True  # DAVIS keeps its void (255) and DAVIS 2016's 0/255 masks as they are
    keeps = frozenset({"categories"})  # davis_semantics.json: each object's category, also of one on no frame

    _named_resolution: tuple[str, bool] | None = None  # the folder not chosen by -w resolution, and whether it is the default
    _pair_list: tuple[str, str] | None = None  # a DAVIS 2016 frame-pair list read, and the sequence list written for it

    def _resolution(self, info: DatasetInfo) -> str:
        return _folder_name("resolution", self.options.resolution or info.attribute("resolution") or DEFAULT_RESOLUTION)

    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        # set on every run: a writer used again must not repeat an earlier run's notes
        default = info.attribute("resolution") is None  # not the source's: 480p whatever the frames' size
        named = self.options.resolution is None and (default or _resized(info))
        self._named_resolution = (self._resolution(info), default) if named else None
        self._pair_list = None
        image_set = info.attribute("image_set")
        if isinstance(image_set, str) and image_set.partition("/")[0] in RESOLUTIONS and not _source_lists(info):
            year, split = self._written_list(info)
            self._pair_list = (image_set, f"{year}/{split}{LIST_SUFFIX}")
        return super().finalize(results, info, staging, output)

    def notes(self, results: Sequence[ShardResult]) -> list[str]:
        """The layout's notes, and a resolution folder named without regard to the frames' size (the source's over
        resized frames, or the default where the source has none): ``480p/`` need not say their size."""
        notes = super().notes(results)
        if self._pair_list is not None:
            read, written = self._pair_list
            notes.append(
                f"DAVIS 2016's frame-pair list {IMAGE_SETS}/{read} written as {IMAGE_SETS}/{written}, one sequence a line, "
                "as the DAVIS 2017 release lists DAVIS 2016"
            )
        if self._named_resolution is not None:
            folder, default = self._named_resolution
            which = "DAVIS's default resolution folder (the source names none)" if default else "the source's resolution folder"
            notes.append(
                f"frames {'' if default else 'resized by --max-side '}written in {IMAGES}/{folder}/ and {ANNOTATIONS}/{folder}/, "
                f"{which}, whatever their size; -w resolution=NAME names another"
            )
        return notes

    def image_dir(self, info: DatasetInfo) -> str:
        return f"{IMAGES}/{self._resolution(info)}"

    def mask_dir(self, info: DatasetInfo) -> str:
        return f"{ANNOTATIONS}/{self._resolution(info)}"

    def video_facts(self, video: Video, info: DatasetInfo) -> dict[str, str]:
        """The sequence's ``davis_semantics.json`` entry: object id -> category name."""
        names = {c.id: c.name for c in info.categories}
        return {str(o.object_id): names[o.category_id] for o in video.objects if o.category_id in names}

    def check(self, video: Video) -> None:
        check_listable_name(video, "DAVIS sequence list")
        super().check(video)

    def categories_read_back(self, info: DatasetInfo, videos: dict[str, object]) -> tuple[Category, ...]:
        """``categories.json``, written when an object has a category: each by name (a later one of the same name
        takes its place), its ``super_category`` the name when it has none, as the DAVIS semantics download has it."""
        if not any(videos.values()):
            return ()
        return tuple({c.name: c for c in info.categories}.values())

    def marker_facts(self, info: DatasetInfo, videos: dict[str, object]) -> dict[str, object]:
        """The categories whose ``super_category`` is their name because the source gave none: read back as none."""
        filled = [c.id for c in info.categories if c.supercategory is None] if any(videos.values()) else []
        return {FILLED_SUPERCATEGORIES: filled} if filled else {}

    def _written_list(self, info: DatasetInfo) -> tuple[str, str]:
        """The year and split of the list of every sequence written (when the source had none, or the options ask)."""
        year = _folder_name("year", self.options.year or info.attribute("year") or YEARS[0])
        return year, _folder_name("split", self.options.split or info.split or "all")

    def write_index(self, root: Path, videos: dict[str, object], info: DatasetInfo) -> None:
        """The split lists: the source's own (each with the sequences written, in its order), and
        ``<year>/<split>.txt`` of every sequence when the source had none or the options name one."""
        year, split = self._written_list(info)
        lists = _source_lists(info)
        for list_year, list_split, names in lists.values():
            kept = [name for name in names if name in videos]
            if kept:  # a list none of whose sequences were written would name folders that are not there
                _write_list(root, list_year, list_split, kept)
        if not lists or self.options.split or self.options.year:
            _write_list(root, year, split, list(videos))
        if any(videos.values()):  # categories, as the DAVIS semantics download ships them
            categories = {c.name: {"id": c.id, "super_category": _super_category(c)} for c in info.categories}
            write_json(root / CATEGORIES, categories)
            write_json(root / SEMANTICS, {name: objects for name, objects in videos.items() if objects})


def _super_category(category: Category) -> str:
    """The DAVIS semantics download gives every category one: its name where the source has none."""
    return category.name if category.supercategory is None else category.supercategory
