"""The naive baseline, written the way existing VOS conversion scripts do it.

Per frame: Pillow decodes the palette PNG, ``np.unique`` lists the ids, and for each object
``(label == k).astype(uint8)`` -> ``np.asfortranarray`` -> ``pycocotools.mask.encode`` ->
``mask.area`` -> ``mask.toBbox``; ``counts`` bytes are decoded to str for ``json``. Decoding
back to a label map is ``mask.decode`` per object and ``label[m.astype(bool)] = k``.

:func:`convert_dataset` is a UNINEXT-style script (``conversion/convert_davis2cocovid.py``,
``convert_ytbvos2cocovid.py``; UniRef's ``convert_mose2ytvis.py`` is the same code): walk a
MOSE-layout folder, ``Image.open(png).convert("P")`` per frame, one track per object id
with per-frame ``segmentations`` / ``areas`` / ``bboxes`` lists, then one ``json.dump`` of
the whole dataset. Two fixes keep its output comparable with vosconv's: area and bbox come
from ``mask.area`` / ``mask.toBbox`` (UNINEXT writes the box area and a one-pixel-short
box), and the frame size comes from the JPEG header (UNINEXT decodes the whole first JPEG
with ``cv2.imread``, which would only make the baseline slower).
"""

from __future__ import annotations

import io
import json
import os

import numpy as np
from PIL import Image
from pycocotools import mask as mask_util


def decode_png(data: bytes) -> np.ndarray:
    """Palette indices of a PNG, as every script reads them."""
    return np.asarray(Image.open(io.BytesIO(data)))


def encode_png(label: np.ndarray, palette: bytes) -> bytes:
    """A mode-P PNG written by Pillow (its defaults: zlib level 6, filter 0)."""
    image = Image.frombytes("P", (label.shape[1], label.shape[0]), np.ascontiguousarray(label).tobytes())
    image.putpalette(palette)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def encode(label: np.ndarray) -> list[dict]:
    """One dict per non-zero id: ``{"id", "counts" (str), "area" (int), "bbox" (list of float)}``."""
    objects = []
    for k in np.unique(label):
        if k == 0:
            continue
        m = (label == k).astype(np.uint8)
        rle = mask_util.encode(np.asfortranarray(m))
        area = mask_util.area(rle)
        bbox = mask_util.toBbox(rle)
        objects.append({"id": int(k), "counts": rle["counts"].decode("ascii"), "area": int(area), "bbox": bbox.tolist()})
    return objects


def decode(objects: list[tuple[int, str]], height: int, width: int) -> np.ndarray:
    """A label map from ``(id, counts)`` pairs: ``mask.decode`` per object, then a boolean write."""
    label = np.zeros((height, width), np.uint8)
    for k, counts in objects:
        m = mask_util.decode({"size": [height, width], "counts": counts})
        label[m.astype(bool)] = k
    return label


def frame_json(path: str) -> str:
    """One annotation PNG file to the JSON text of its COCO RLE annotations."""
    label = np.asarray(Image.open(path))
    height, width = label.shape
    annotations = [
        {"id": o["id"], "segmentation": {"size": [height, width], "counts": o["counts"]}, "area": o["area"], "bbox": o["bbox"]}
        for o in encode(label)
    ]
    return json.dumps(annotations)


def convert_dataset(source: str | os.PathLike, output: str | os.PathLike) -> None:
    """A MOSE-layout folder (``JPEGImages/<video>/*.jpg``, ``Annotations/<video>/*.png``) to YouTube-VIS JSON."""
    images_dir = os.path.join(source, "JPEGImages")
    masks_dir = os.path.join(source, "Annotations")
    new_data = {"videos": [], "annotations": [], "categories": [{"supercategory": "object", "id": 1, "name": "object"}]}
    vid_idx = 0
    inst_idx = 0
    for vid in sorted(os.listdir(images_dir)):
        vid_idx += 1
        frames = sorted(os.listdir(os.path.join(images_dir, vid)))
        width, height = Image.open(os.path.join(images_dir, vid, frames[0])).size
        length = len(frames)
        new_data["videos"].append(
            {"height": height, "width": width, "length": length, "file_names": [f"{vid}/{x}" for x in frames], "id": vid_idx}
        )
        vid_obj_dict: dict[int, dict] = {}
        for frame_idx, frame in enumerate(frames):
            mask_path = os.path.join(masks_dir, vid, frame.replace(".jpg", ".png"))
            if not os.path.exists(mask_path):
                continue
            mask = np.array(Image.open(mask_path).convert("P"))
            obj_ids = [int(x) for x in np.unique(mask) if x != 0]
            for obj_id in obj_ids:
                if obj_id not in vid_obj_dict:
                    inst_idx += 1
                    vid_obj_dict[obj_id] = {
                        "video_id": vid_idx,
                        "id": inst_idx,
                        "iscrowd": 0,
                        "category_id": 1,
                        "ori_id": obj_id,
                        "bboxes": [None] * length,
                        "segmentations": [None] * length,
                        "areas": [None] * length,
                    }
                mask_cur = (mask == obj_id).astype(np.uint8)
                rle = mask_util.encode(np.asfortranarray(mask_cur))
                rle["counts"] = rle["counts"].decode("utf-8")
                track = vid_obj_dict[obj_id]
                track["segmentations"][frame_idx] = rle
                track["areas"][frame_idx] = int(mask_util.area(rle))
                track["bboxes"][frame_idx] = mask_util.toBbox(rle).tolist()
        new_data["annotations"].extend(vid_obj_dict.values())
    with open(output, "w") as file:
        json.dump(new_data, file)
