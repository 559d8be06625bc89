"""Batches of :class:`~converters.loading.TrainingClips` items: clips stacked, their objects padded to the batch's
largest K, so that torch's ``DataLoader`` can batch clips whose videos hold different numbers of objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import OptionError


def collate_clips(batch: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack clips of one size into a batch, padding the objects to the batch's largest K.

    Padded objects have id -1, empty masks and ``present`` False; ``valid`` (B, K) says which
    objects are real. Torch items give torch tensors, numpy items numpy arrays. ``video``, and
    any key a transform added, becomes a list of the items' values.
    """
    if not len(batch):
        raise OptionError("collate_clips", "an empty batch: give it one item or more")
    for item in batch:  # a ClipDataset item (label maps, frames as a list) would fail deep inside, naming nothing
        if not isinstance(item, dict) or not {"masks", "present", "object_ids", "video"} <= item.keys():
            raise OptionError(
                "collate_clips",
                "takes TrainingClips items (dicts with masks (T, K, H, W), present, object_ids, video), got "
                f"{sorted(item) if isinstance(item, dict) else type(item).__name__}; a ClipDataset batches with batch_size=None",
            )
    torch_items = not isinstance(batch[0]["masks"], np.ndarray)
    if torch_items:
        import torch

        stack, as_array = torch.stack, torch.as_tensor
    else:
        stack, as_array = np.stack, np.asarray
    _check_one_size(batch)
    k_max = max(len(item["object_ids"]) for item in batch)
    padded = [_pad_objects(item, k_max, torch_items) for item in batch]
    out: dict[str, Any] = {"video": [item["video"] for item in batch]}
    for key in ("frames", "masks", "void", "object_ids", "present", "annotated", "frame_indices", "valid"):
        if key in padded[0]:
            out[key] = stack([as_array(item[key]) for item in padded])
    for key in batch[0]:  # a transform's own keys: kept as they are, one per item, never dropped
        if key not in out:
            out[key] = [item[key] for item in batch]
    return out


def _check_one_size(batch: Sequence[dict[str, Any]]) -> None:
    """Clips of other sizes cannot stack: say which, and the fix, rather than torch's ``stack expects each tensor``."""
    first = batch[0]
    for item in batch[1:]:
        for key, drop in (("frames", None), ("masks", 1)):  # masks (T, K, H, W): K may differ (padded), T, H and W may not
            if key not in first or key not in item:
                continue
            a, b = _shape(first[key]), _shape(item[key])
            if drop is not None:
                a, b = a[:drop] + a[drop + 1 :], b[:drop] + b[drop + 1 :]
            if a != b:
                raise OptionError(
                    "collate_clips",
                    f"clips of different sizes cannot be stacked: {key} of {first['video']!r} are {_shape(first[key])}, "
                    f"of {item['video']!r} {_shape(item[key])}; give TrainingClips size=(height, width) "
                    "(a short side alone keeps each video's aspect ratio), or batch_size=1",
                )


def _shape(value: Any) -> tuple[int, ...]:
    """An array's or tensor's shape; a transform's list of frames has the shape that stacking it gives."""
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


def _pad_objects(item: dict[str, Any], k_max: int, torch_items: bool) -> dict[str, Any]:
    k = len(item["object_ids"])
    masks, present, ids = (np.asarray(item[key]) for key in ("masks", "present", "object_ids"))
    pad = k_max - k
    valid = np.arange(k_max) < k
    padded = {
        **item,
        "masks": np.pad(masks, ((0, 0), (0, pad), (0, 0), (0, 0))) if pad else masks,
        "present": np.pad(present, ((0, 0), (0, pad))) if pad else present,
        "object_ids": np.pad(ids, (0, pad), constant_values=-1) if pad else ids,
        "valid": valid,
    }
    if torch_items:
        import torch

        padded = {key: torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v for key, v in padded.items()}
        padded["frames"] = item.get("frames")
        if padded["frames"] is None:
            del padded["frames"]
    return padded
