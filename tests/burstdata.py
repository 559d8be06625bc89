"""A synthetic BURST tree with the real traits: an annotations root (``val/*.json``, ``info/categories.json``)
and TAO-style frames (``frames/val/<dataset>/<seq_name>/frameNNNN.jpg``).

String track ids, ids beyond 254 (TAO numbers tracks past a byte), overlapping tracks, annotation at
1 fps over 30 fps frames (most frames unannotated), an annotated frame with no track, a track that
is never visible, ``is_gt``/``score`` per mask, LVIS-style categories and category lists, a hidden
file among the frames. Masks are encoded with pycocotools, as BURST's own files are.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pycocotools.mask as cocomask
from PIL import Image

WIDTH, HEIGHT = 20, 12
CATEGORIES = [
    {"id": 95, "name": "bicycle", "synset": "bicycle.n.01", "def": "a wheeled vehicle", "synonyms": ["bicycle", "bike"]},
    {"id": 805, "name": "person", "synset": "person.n.01", "def": "a human being", "synonyms": ["person"]},
    {"id": 1001, "name": "suitcase", "synset": "bag.n.06", "def": "a portable case", "synonyms": ["suitcase"]},
]


def box(x: int, y: int, w: int, h: int) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    mask[y : y + h, x : x + w] = 1
    return mask


def encode(mask: np.ndarray) -> str:
    return cocomask.encode(np.asfortranarray(mask))["counts"].decode("ascii")


def frame_names(count: int, numbered: bool = False) -> list[str]:
    """TAO's ``frameNNNN.jpg``, or bare numbers (``00000.jpg``) as the folder layouts name frames."""
    return [f"{number:05d}.jpg" if numbered else f"frame{number:04d}.jpg" for number in range(count)]


def sequences(numbered: bool = False) -> list[dict]:
    """Three sequences of three TAO datasets, in BURST's field order."""
    names = frame_names(61, numbered)
    first = {
        "width": WIDTH,
        "height": HEIGHT,
        "id": 12,
        "seq_name": "bicycle-18",
        "dataset": "LaSOT",
        "fps": 30,
        "all_image_paths": names,
        "annotated_image_paths": [names[0], names[30], names[60]],  # 1 fps
        "neg_category_ids": [1001, 3],
        "not_exhaustive_category_ids": [805],
        "track_category_ids": {"1": 95, "300": 805, "2": 805},  # track 2 is never visible
        "segmentations": [
            {  # tracks 1 and 300 overlap
                "1": {"rle": encode(box(2, 2, 8, 6)), "is_gt": True, "score": 1.0},
                "300": {"rle": encode(box(6, 4, 10, 6)), "is_gt": False, "score": 0.75},
            },
            {"300": {"rle": encode(box(0, 0, 5, 5)), "is_gt": True, "score": 1.0}},  # 1 is absent: no entry
            {"1": {"rle": encode(box(10, 1, 9, 9)), "is_gt": True, "score": 1.0}},
        ],
    }
    names = frame_names(31, numbered)
    second = {
        "width": WIDTH,
        "height": HEIGHT,
        "id": 3,
        "seq_name": "v_2b0e4fbc_scene_0_0-1346",
        "dataset": "YFCC100M",
        "fps": 30,
        "all_image_paths": names,
        "annotated_image_paths": [names[0], names[30]],
        "neg_category_ids": [],
        "not_exhaustive_category_ids": [],
        "track_category_ids": {"70000": 1001},
        "segmentations": [{"70000": {"rle": encode(box(1, 1, 3, 3)), "is_gt": True, "score": 1.0}}, {}],  # then empty
    }
    names = frame_names(3, numbered)
    third = {
        "width": WIDTH,
        "height": HEIGHT,
        "id": 40,
        "seq_name": "bicycle-18",  # the same name as LaSOT's, in another dataset
        "dataset": "HACS",
        "fps": 30,
        "all_image_paths": names,
        "annotated_image_paths": names,
        "neg_category_ids": [95],
        "not_exhaustive_category_ids": [],
        "track_category_ids": {"5": 95},
        "segmentations": [{"5": {"rle": encode(box(0, 0, 20, 12)), "is_gt": True, "score": 1.0}}, {}, {}],
    }
    return [first, second, third]


def document(numbered: bool = False) -> dict:
    """The whole ``all_classes.json`` (BURST's own key order)."""
    return {"sequences": sequences(numbered), "categories": copy.deepcopy(CATEGORIES), "split": "val"}


def first_frame_document() -> dict:
    """``first_frame_annotations.json``: each track on its first frame only, with ``bbox`` and ``point``."""
    data = document()
    for sequence in data["sequences"]:
        seen: set[str] = set()
        for frame in sequence["segmentations"]:
            for track in list(frame):
                if track in seen:
                    del frame[track]
                else:
                    seen.add(track)
                    frame[track]["bbox"] = [1, 2, 3, 4]
                    frame[track]["point"] = [2, 3]
    return data


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def write_frames(root: Path, data: dict) -> None:
    """Each sequence's JPEGs under ``root/<dataset>/<seq_name>/``, and a hidden file beside them."""
    rng = np.random.default_rng(0)
    for sequence in data["sequences"]:
        folder = root / sequence["dataset"] / sequence["seq_name"]
        folder.mkdir(parents=True, exist_ok=True)
        for name in sequence["all_image_paths"]:
            pixels = rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / name, format="JPEG", quality=90)
        (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")


def write_tree(root: Path, numbered: bool = False) -> tuple[Path, Path]:
    """``(annotations root, frames root)`` of a BURST val split: all_classes, first_frame_annotations, categories."""
    annotations, frames = root / "annotations", root / "frames"
    data = document(numbered)
    write_json(annotations / "val" / "all_classes.json", data)
    write_json(annotations / "val" / "first_frame_annotations.json", first_frame_document())
    write_json(annotations / "info" / "categories.json", CATEGORIES)
    write_frames(frames / "val", data)
    return annotations, frames
