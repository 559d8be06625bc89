"""BURST's JSON as ``Ali2500/BURST-benchmark`` gives it (``ANNOTATION_FORMAT.md``, ``burstapi/``).

Annotations: ``train/all_classes.json`` and ``{val,test}/{all_classes,common_classes,uncommon_classes,
first_frame_annotations}.json``, with ``info/categories.json`` (LVIS ids). Each file is one object:
``sequences`` (one dict per video), ``categories``, ``split``. A sequence holds ``width``, ``height``,
``id``, ``seq_name``, ``dataset``, ``fps``, ``all_image_paths``, ``annotated_image_paths``,
``neg_category_ids``, ``not_exhaustive_category_ids``, ``track_category_ids`` (track id as a string ->
category id) and ``segmentations``: a list over annotated frames of ``{track id: {"rle": counts,
"is_gt", "score"[, "bbox", "point"]}}``, the RLE's size being the sequence's. Frames (TAO's) lie in
``<images>/<split>/<dataset>/<seq_name>/<image path>`` (``BURSTDataset``'s ``images_base_dir``) or
``<images>/<dataset>/<seq_name>/`` (Cutie's ``image_directory``, one split).
"""

from __future__ import annotations

import json
from typing import Any

SPLITS = ("train", "val", "test")
#: The JSON files of a split folder, the primary one first (train has only it).
SUBSETS = ("all_classes", "common_classes", "uncommon_classes", "first_frame_annotations")
CATEGORIES = ("info", "categories.json")
#: The sequence fields the model holds itself (frames, masks, objects); every other one is video metadata.
MODEL_FIELDS = (
    "width",
    "height",
    "all_image_paths",
    "annotated_image_paths",
    "track_category_ids",
    "segmentations",
)
#: The order a written sequence's fields take (the documented one); fields not listed follow, in the source's order.
FIELD_ORDER = (
    "width",
    "height",
    "id",
    "seq_name",
    "dataset",
    "fps",
    "all_image_paths",
    "annotated_image_paths",
    "neg_category_ids",
    "not_exhaustive_category_ids",
    "track_category_ids",
    "segmentations",
)
#: Fields ``burstapi.BURSTVideo`` requires, written with these values when the source has none.
REQUIRED_DEFAULTS: dict[str, Any] = {"neg_category_ids": [], "not_exhaustive_category_ids": []}
#: In the leading ``vosconv`` record: ``[first, last]``, the sequence ids the writer numbered itself (none given).
NUMBERED_KEY = "numbered_ids"
#: Metadata and per-frame values are JSON scalars; a list or object (``bbox``, ``neg_category_ids``) is
#: kept as its JSON text under its key with this suffix, and written back as the value it was.
JSON_SUFFIX = ":json"
#: ``DatasetInfo`` attribute holding the file's top-level fields other than ``sequences`` (JSON text).
HEADER_ATTRIBUTE = "burst_header"
#: The key of vosconv's own record in a file it writes (where its frames were); BURST's tools ignore it.
VOSCONV_KEY = "vosconv"
#: The first bytes of every file the writer makes: how vosconv recognises its own output.
FILE_HEAD = b'{"vosconv":{"written_by":"vosconv'
#: Between a sequence's dataset and name in the video name (a video name is one path component).
NAME_SEPARATOR = "__"


def video_name(dataset: str, seq_name: str) -> str:
    """``<dataset>__<seq_name>``, or the sequence name alone when the sequence has no dataset."""
    return f"{dataset}{NAME_SEPARATOR}{seq_name}" if dataset else seq_name


def folder_name_fault(key: str, part: str) -> str | None:
    """Why ``part`` cannot be a sequence's ``dataset`` or ``seq_name`` (None if it can): BURST's tools find the frames
    in ``<images>/<dataset>/<seq_name>/``, so each is one folder name (an empty ``dataset``: no folder)."""
    if part in (".", "..") or any(c in part for c in "/\\\0") or (key == "seq_name" and not part):
        return f"{part!r} cannot be a folder name (empty, '.', '..', or holding '/', '\\' or NUL)"
    return None


def filled_by_writer(key: str, value: Any, name: str, numbered: range) -> bool:
    """The field holds what the writer fills for a video whose metadata lacks it (``dataset`` ``""``, ``seq_name`` the
    video's name, the empty category lists, an ``id`` it numbered): vosconv's, not the source's, so no metadata. A
    ``seq_name`` equals the video's name only when ``dataset`` is empty (the name is ``<dataset>__<seq_name>``)."""
    if key == "id":
        return type(value) is int and value in numbered
    if key == "dataset":
        return value == ""
    if key == "seq_name":
        return value == name
    default = REQUIRED_DEFAULTS.get(key)
    return default is not None and type(value) is type(default) and value == default


def kept_value(key: str, value: Any) -> tuple[str, Any]:
    """A field as a metadata pair: scalars as they are, lists and objects as JSON text under ``<key>:json``."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return key, value
    return key + JSON_SUFFIX, json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def restored_value(key: str, value: Any) -> tuple[str, Any]:
    """The field a metadata pair came from (:func:`kept_value` undone)."""
    if key.endswith(JSON_SUFFIX) and isinstance(value, str):
        return key[: -len(JSON_SUFFIX)], json.loads(value)
    return key, value
