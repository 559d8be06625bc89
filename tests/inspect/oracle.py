"""Dataset figures counted independently of vosconv: the annotation PNGs decoded by Pillow, boxes painted on a pixel grid."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

VOID = 255


def bor_by_pixels(boxes: list[tuple[int, int, int, int]], height: int, width: int) -> float:
    """MOSE's BOR by painting every box on a grid of counters: pixels under two or more boxes over pixels under any."""
    cover = np.zeros((height, width), np.int32)
    for x, y, w, h in boxes:
        cover[y : y + h, x : x + w] += 1
    union = int((cover >= 1).sum())
    return int((cover >= 2).sum()) / union if union else 0.0


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def _transitions(visible: str) -> tuple[int, int]:
    """Disappearances ("10") and reappearances ("01" after the first "1") in a 0/1 string over annotated frames."""
    gone = len(re.findall(r"(?=10)", visible))
    first = visible.find("1")
    back = len(re.findall(r"(?=01)", visible[first:])) if first >= 0 else 0
    return gone, back


def video_figures(images: Path, annotations: Path, categories: dict[int, str] | None = None) -> dict:
    """One video's per-video row, from its JPEG names and its PNGs (0/255-only PNGs are binary: 255 is object 1)."""
    frames = sorted(p.stem for p in images.iterdir() if p.suffix == ".jpg" and not p.name.startswith("."))
    labels = {}
    for position, stem in enumerate(frames):
        png = annotations / f"{stem}.png"
        if png.exists():
            with Image.open(png) as image:
                labels[position] = np.asarray(image).copy()
    binary = all(set(np.unique(label).tolist()) <= {0, VOID} for label in labels.values())
    if binary:
        labels = {i: np.where(label == VOID, 1, 0).astype(np.uint8) for i, label in labels.items()}
    height, width = next(iter(labels.values())).shape
    ids = sorted({int(v) for label in labels.values() for v in np.unique(label)} - {0, VOID})
    areas, rates, voids = [], [], []
    empty = 0
    for label in labels.values():
        present = [k for k in ids if (label == k).any()]
        empty += not present
        areas += [int((label == k).sum()) for k in present]
        if present:
            rates.append(bor_by_pixels([_box(label == k) for k in present], height, width))
        voids.append(int((label == VOID).sum()))
    tracks = {k: "".join("1" if (labels[i] == k).any() else "0" for i in sorted(labels)) for k in ids}
    moves = {k: _transitions(v) for k, v in tracks.items()}
    first_annotated = min(labels)
    visible_at = {k: [i for i in sorted(labels) if (labels[i] == k).any()] for k in ids}
    return {
        "video": images.name,
        "width": width,
        "height": height,
        "frames": len(frames),
        "annotated_frames": len(labels),
        "empty_frames": empty,
        "objects": len(ids),
        "masks": len(areas),
        "categories": ";".join(sorted(set((categories or {}).values()))),
        "objects_never_visible": 0,
        "objects_appearing_late": sum(1 for k in ids if visible_at[k][0] > first_annotated),
        **_track_and_mask_figures(moves, rates, areas, width, height),
        "void_masks": sum(1 for v in voids if v),
        "void_pixels": sum(voids),
    }


def _track_and_mask_figures(moves: dict, rates: list[float], areas: list[int], width: int, height: int) -> dict:
    """The row's figures from each object's (disappearances, reappearances), each frame's BOR and each mask's area."""
    return {
        "disappearing_objects": sum(1 for g, _ in moves.values() if g),
        "reappearing_objects": sum(1 for _, b in moves.values() if b),
        "disappearances": sum(g for g, _ in moves.values()),
        "reappearances": sum(b for _, b in moves.values()),
        "mean_bor": sum(rates) / len(rates) if rates else 0.0,
        "occluded_frames": sum(1 for r in rates if r > 0),
        "bor_frames": len(rates),
        "mean_relative_area": sum(areas) / (len(areas) * width * height) if areas else 0.0,
        "small_masks": sum(1 for a in areas if a < 32 * 32),
        "medium_masks": sum(1 for a in areas if 32 * 32 <= a < 96 * 96),
        "large_masks": sum(1 for a in areas if a >= 96 * 96),
    }


def folder_figures(images_root: Path, annotations_root: Path, meta: Path | None = None) -> list[dict]:
    """Every video of a MOSE/DAVIS/YouTube-VOS folder pair, sorted by name."""
    categories = {}
    if meta is not None:
        document = json.loads(meta.read_text())["videos"]
        categories = {n: {int(k): o["category"] for k, o in v["objects"].items() if "category" in o} for n, v in document.items()}
    videos = sorted(p for p in images_root.iterdir() if p.is_dir())
    return [video_figures(v, annotations_root / v.name, categories.get(v.name)) for v in videos]


def masks_figures(name: str, width: int, height: int, frames: list[dict[int, np.ndarray] | None], ids: list[int]) -> dict:
    """One video's per-video row from each frame's masks (None: unannotated), areas and boxes by pycocotools, BOR by
    painting: masks may overlap (SA-V) and ids may start at 0. No void, no categories."""
    from pycocotools import mask as coco

    def encoded(mask: np.ndarray) -> dict:
        return coco.encode(np.asfortranarray(mask.astype(np.uint8)))

    annotated = [(i, f) for i, f in enumerate(frames) if f is not None]
    visible = [{k: encoded(m) for k, m in f.items() if m.any()} for _, f in annotated]
    areas = [int(coco.area(r)) for v in visible for r in v.values()]
    rates = [bor_by_pixels([tuple(int(x) for x in coco.toBbox(r)) for r in v.values()], height, width) for v in visible if v]
    tracks = {k: "".join("1" if k in v else "0" for v in visible) for k in ids}
    moves = {k: _transitions(t) for k, t in tracks.items()}
    return {
        "video": name,
        "width": width,
        "height": height,
        "frames": len(frames),
        "annotated_frames": len(annotated),
        "empty_frames": sum(1 for v in visible if not v),
        "objects": len(ids),
        "masks": len(areas),
        "categories": "",
        "objects_never_visible": sum(1 for t in tracks.values() if "1" not in t),
        "objects_appearing_late": sum(1 for t in tracks.values() if t.find("1") > 0),
        **_track_and_mask_figures(moves, rates, areas, width, height),
        "void_masks": 0,
        "void_pixels": 0,
    }
