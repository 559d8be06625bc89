"""What a storage backend of the training loader gives: the stored bytes of some frames of one video.

Each shard format that the loader reads keeps its backend next to its reader and writer
(``converters/formats/<name>/loader.py``); this module, in the formats layer so that those
backends import nothing above it, holds the small contract they share and the checks every
backend makes. A backend reads; it never decodes pixels or paints masks:
:mod:`converters.loading.dataset` does that, the same way for every format.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ...errors import SourceError
from ...model import MaskEncoding, check_file_name
from ...sources.files import read_regular
from . import manifest as shards

#: What a damaged or inconsistent shard raises from h5py, pyarrow and numpy while being read.
MALFORMED = (KeyError, ValueError, TypeError, IndexError, OSError, OverflowError, AttributeError, RuntimeError)

#: Each frame's masks as ``(object_id, compressed counts)`` pairs; the void region's pair has id :data:`VOID_PAIR`.
RlePairs = list[list[tuple[int, str | bytes]]]
#: The id of the void region's pair: no object's (0 to 2^31 - 1), so an object whose id is 255 (SA-V's 256th masklet, a
#: BURST track) stays apart from the void, which label maps paint as 255.
VOID_PAIR = -1


@dataclass
class Frames:
    """What a backend read for some frames of one video.

    Masks come either as RLE pairs per frame (``rle``, painted or split into planes by the
    loader) or, for dense HDF5, as stored uint8 (T, H, W) label maps (``labels``).
    """

    images: list[bytes | None] | None = None  # None when images were not asked for
    rle: RlePairs | None = None
    labels: np.ndarray | None = None
    encoding: MaskEncoding = MaskEncoding.PALETTE


class Backend(Protocol):
    """Reads frames of the videos of one converted dataset (one instance per dataset, picklable)."""

    def __init__(self, root: Path, manifest: shards.Manifest, image_root: str | None) -> None: ...

    def read(self, entry: shards.VideoEntry, indices: np.ndarray, images: bool, masks: bool) -> Frames:
        """Frames ``indices`` (increasing) of ``entry``: their image bytes and/or masks; raises one of MALFORMED."""
        ...

    def file_names(self, entry: shards.VideoEntry) -> list[str]:
        """The source file name of each frame of ``entry`` (``00005.jpg``), in frame order."""
        ...


def check_against_manifest(entry: shards.VideoEntry, object_ids: list[int], annotated: np.ndarray) -> None:
    """The shard's own object ids and annotated flags of a video must be the manifest's: clips come from those."""
    if tuple(object_ids) != entry.object_ids:
        raise ValueError(f"the shard's objects {object_ids} are not the manifest's {list(entry.object_ids)}")
    if not np.array_equal(np.asarray(annotated, bool), entry.is_annotated(np.arange(entry.frames, dtype=np.int64))):
        raise ValueError("the shard's annotated frames are not the manifest's")


def check_pairs(entry: shards.VideoEntry, indices: np.ndarray, frames: RlePairs) -> None:
    """Each frame's masks must be of the manifest's objects, each at most once, and the void region at most once:
    a pair of another id would be dropped in silence (``masks="objects"`` reads the manifest's objects only) or
    paint a value no object has, and a second pair of one id would be merged with the first."""
    allowed = _allowed_ids(entry.object_ids)
    for index, pairs in zip(indices.tolist(), frames):
        ids = {v for v, _ in pairs}
        if len(ids) != len(pairs) or not ids <= allowed:
            shown = ["void" if v == VOID_PAIR else v for v, _ in pairs]
            raise ValueError(
                f"frame {index} holds masks of {shown}, not each at most once of the objects {sorted(entry.object_ids)}"
            )


@functools.lru_cache(maxsize=256)
def _allowed_ids(object_ids: tuple[int, ...]) -> frozenset[int]:
    """A video's object ids and the void's: built once per video a process reads, not once per clip."""
    return frozenset((*object_ids, VOID_PAIR))


def external(root: str | None, video: str, names: list[str | None]) -> list[bytes | None]:
    """Frames that were not embedded, read from the image folder (``None`` for a frame the source had no image for).

    A frame whose file is gone is an error naming it: a training run must not go on with holes.
    """
    result: list[bytes | None] = []
    for name in names:
        if name is None or root is None:  # no image in the source (a folder that is gone is refused earlier)
            result.append(None)
            continue
        check_file_name(f"{video}: frame file name", name)  # a shard's name must not lead out of the folder
        path = os.path.join(root, video, name)
        try:
            result.append(read_regular(path))
        except OSError as exc:
            raise SourceError(path, f"cannot read frame: {exc.strerror or exc}") from None
    return result
