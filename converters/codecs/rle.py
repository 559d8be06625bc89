"""Exact COCO RLE for label maps: one pass encodes every object, one pass decodes them all.

The naive way (``pycocotools.mask.encode`` on ``label == k`` for each object) costs a
Fortran copy and a full scan per object. Here a compiled kernel scans the row-major label
map once, 8 pixels at a time, for the places where a column changes value; a counting
sort orders those changes column-major, and one walk over the resulting runs writes every
object's compressed counts string, area and bbox. The strings are byte-identical to
pycocotools (``maskApi.c``: ``rleEncode``, ``rleToString``, ``rleToBbox``); the tests prove it.
Decoding goes the other way: the runs become the rows where each column changes value, and
the label map is written top-down, each row a copy of the one above plus its few changes.

The kernels are C (``converters/_kernels.c``, built with the package; :mod:`converters.codecs._native`
picks the build): nothing to compile or load at start-up beyond one small shared library, and
they release the GIL, so threads decode in parallel.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np

from ..model import Mask
from . import scratch
from ._native import kernels

__all__ = [
    "MasksOverlap",
    "RleError",
    "canonical",
    "counts_to_string",
    "decode",
    "decode_frames",
    "decode_planes",
    "encode",
    "measure",
    "measure_canonical",
    "nearest_positions",
    "overlap",
    "string_to_counts",
]

_INT64 = range(-(1 << 63), 1 << 63)


class RleError(ValueError):
    """An RLE string that cannot describe a mask of the given size."""


class MasksOverlap(RleError):
    """Masks that share pixels, where one value per pixel must hold them (a PNG, a dense label map)."""


# --------------------------------------------------------------------------- encode


def _encode_all(label: np.ndarray) -> list[tuple[int, str, int, tuple[int, int, int, int]]]:
    """The kernel's ``(value, counts, area, bbox)`` of every non-zero value, its change buffers grown until they fit."""
    height, width = label.shape
    most = max(height - 1, 0) * width + 8
    capacity = min(most, max(1 << 16, label.size // 16))
    while True:
        cols = scratch.array("rle.cols", (capacity,), np.int32)
        rows = scratch.array("rle.rows", (capacity,), np.int32)
        found = kernels.encode(label, cols, rows)
        if found is not None:
            return found
        capacity = most  # a noisy map: room for a change at every pixel


def encode(label: np.ndarray) -> list[Mask]:
    """RLE of every non-zero value of a 2-D uint8 label map, sorted by value.

    Each returned ``Mask`` has ``object_id`` = the pixel value, and counts, area and
    bbox equal to pycocotools on ``label == object_id``. Value 255 is returned like any
    other; splitting out the void region is the caller's business.
    """
    if label.dtype != np.uint8 or label.ndim != 2:
        raise TypeError(f"expected a 2-D uint8 label map, got {label.dtype} {label.shape}")
    height, width = label.shape
    if height == 0 or width == 0:
        return []
    if label.strides[1] != 1:
        label = np.ascontiguousarray(label)  # the scan reads 8 neighbouring pixels of a row at once
    return [Mask(value, counts, area, bbox) for value, counts, area, bbox in _encode_all(label)]


# --------------------------------------------------------------------------- decode


def _ascii(counts: str | bytes, what: str = "invalid RLE") -> bytes:
    """A compressed counts string as the bytes the kernels read; RleError for a str that is not ASCII or a non-string."""
    if isinstance(counts, str):
        try:
            return counts.encode("ascii")
        except UnicodeEncodeError:
            raise RleError(f"{what}: {counts[:40]!r} is not ASCII") from None
    if isinstance(counts, (bytes, bytearray, memoryview)):
        return bytes(counts)
    raise RleError(f"{what}: compressed counts must be a string, got {type(counts).__name__}")


def _pack(pairs: list[tuple[int, str | bytes]]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """Strings, their offsets and values as the buffers the kernels take."""
    encoded = [_ascii(c, f"invalid RLE for value {v}") for v, c in pairs]
    offsets = np.fromiter(itertools.accumulate(map(len, encoded), initial=0), np.int64, len(encoded) + 1)
    values = np.fromiter((v for v, _ in pairs), np.uint8, len(pairs))
    return b"".join(encoded), offsets, values


def decode(
    masks: Iterable[tuple[int, str | bytes]],
    height: int,
    width: int,
    out: np.ndarray | None = None,
    *,
    overlapping: Literal["paint", "refuse"] = "paint",
) -> np.ndarray:
    """Rebuild a (height, width) uint8 label map from ``(value, counts string)`` pairs in one pass.

    Pixels no pair covers are 0; later pairs overwrite earlier ones where they overlap, or,
    with ``overlapping="refuse"`` (where a label map must hold every mask exactly), masks that
    overlap raise :class:`MasksOverlap`. ``out``, if given, is overwritten whole. Raises
    RleError on a string that does not describe exactly ``height * width`` pixels.
    """
    masks = list(masks)
    if out is None:
        out = np.empty((height, width), np.uint8)
    elif out.shape != (height, width) or out.dtype != np.uint8:
        raise TypeError(f"out must be uint8 {(height, width)}, got {out.dtype} {out.shape}")
    if not masks or height == 0 or width == 0:
        out.fill(0)
        return out
    bad = kernels.decode(out, *_pack(masks), None, overlapping == "refuse")
    if bad == -2:
        raise MasksOverlap(f"masks {sorted({v for v, _ in masks})} overlap: one pixel value each cannot hold them")
    if bad >= 0:
        raise RleError(f"invalid RLE for value {masks[bad][0]}: it does not describe a {height}x{width} mask")
    return out


def overlap(masks: Sequence[tuple[int, str | bytes]], height: int, width: int) -> bool:
    """Whether any two of the ``(value, counts)`` masks share a pixel (no label map is painted)."""
    if len(masks) < 2 or height == 0 or width == 0:
        return False
    found = kernels.overlapping(*_pack(list(masks)), height, width)
    if found >= 0:
        raise RleError(f"invalid RLE for value {masks[found][0]}: it does not describe a {height}x{width} mask")
    return found == -2


def nearest_positions(source: int, target: int) -> np.ndarray:
    """The source pixel under each of ``target`` pixel centres along a side of ``source`` pixels (int64, non-decreasing).

    Nearest-neighbour sampling, as masks are resized: target pixel ``i`` shows source pixel
    ``floor((i + 0.5) * source / target)``; for a whole factor that is every ``step``-th from ``step // 2``.
    """
    if target <= 0 or source <= 0:
        return np.zeros(0, np.int64)
    return np.minimum(((np.arange(target) + 0.5) * source / target).astype(np.int64), source - 1)


def _given(array: np.ndarray | None, shape: tuple[int, ...], dtype: type, name: str) -> np.ndarray | None:
    """``array`` when it is a C-contiguous ``dtype`` array of ``shape`` (the kernels write through it), or None."""
    if array is not None and (array.shape != shape or array.dtype != dtype or not array.flags.c_contiguous):
        raise TypeError(f"{name} must be a contiguous {np.dtype(dtype).name} array of shape {shape}")
    return array


def decode_frames(
    frames: Sequence[Sequence[tuple[int, str | bytes]]],
    height: int,
    width: int,
    size: tuple[int, int] | None = None,
    *,
    nonempty: np.ndarray | None = None,
    out: np.ndarray | None = None,
    overlapping: Literal["paint", "refuse"] = "paint",
) -> np.ndarray:
    """Label maps of several frames at once, (T, height, width): :func:`decode` with one call into compiled code.

    ``size``: ``(h, w)`` to decode straight to that size by nearest-neighbour sampling (see
    :func:`nearest_positions`), writing only the pixels kept, never the full-size map.
    ``nonempty``: a (T,) bool array set to whether each map has a non-zero pixel, found from the runs
    while decoding (a scan of the maps afterwards would read every pixel again).
    ``out``: a (T, h, w) uint8 array to overwrite whole and return, instead of a new one.
    ``overlapping``: as :func:`decode`'s; ``"refuse"`` raises :class:`MasksOverlap` naming the first frame
    whose masks share a pixel (at full size, checked while decoding: the decode finds overlaps anyway).
    """
    out_height, out_width = (height, width) if size is None else (int(size[0]), int(size[1]))
    shape = (len(frames), out_height, out_width)
    nonempty = _given(nonempty, shape[:1], bool, "nonempty")
    out = _given(out, shape, np.uint8, "out")
    pairs = [pair for frame in frames for pair in frame]
    # With no masks, a given ``out`` is still cleared by the kernel: with non-temporal stores when it is large.
    if (not pairs and out is None) or not frames or out_height == 0 or out_width == 0:
        if nonempty is not None:
            nonempty.fill(False)
        return np.zeros(shape, np.uint8) if out is None else out
    if out is None:
        out = np.empty(shape, np.uint8)  # written whole: a zeroing pass would be a second write
    frame_starts = np.fromiter(itertools.accumulate(map(len, frames), initial=0), np.int64, len(frames) + 1)
    flags = None if nonempty is None else nonempty.view(np.uint8)
    refuse = overlapping == "refuse"
    if (out_height, out_width) == (height, width):
        bad = kernels.decode(out, *_pack(pairs), frame_starts, refuse, flags)  # else later masks paint over earlier
    else:
        if refuse:  # sampling could hide an overlap: checked at full size first
            _refuse_overlaps(frames, height, width)
        rows, cols = nearest_positions(height, out_height), nearest_positions(width, out_width)
        bad = kernels.decode_sampled(out, *_pack(pairs), frame_starts, height, width, rows, cols, flags)
    if bad == -2:  # the kernel stops at the first frame whose masks overlap, without naming it
        _refuse_overlaps(frames, height, width)
        raise MasksOverlap("masks overlap")
    if bad >= 0:
        raise RleError(f"invalid RLE for value {pairs[bad][0]}: it does not describe a {height}x{width} mask")
    return out


def _refuse_overlaps(frames: Sequence[Sequence[tuple[int, str | bytes]]], height: int, width: int) -> None:
    """MasksOverlap naming the first frame whose masks share a pixel, if any."""
    for t, pairs in enumerate(frames):
        if len(pairs) > 1 and overlap(pairs, height, width):
            raise MasksOverlap(f"masks {sorted({int(v) for v, _ in pairs})} of frame {t} overlap")


def decode_planes(
    frames: Sequence[Sequence[tuple[int, str | bytes]]],
    plane_ids: Sequence[int],
    height: int,
    width: int,
    size: tuple[int, int] | None = None,
    *,
    present: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """One boolean plane per id of ``plane_ids`` per frame, (T, len(plane_ids), H, W), decoded straight from the RLE.

    No label map is painted and compared once per object: each plane is the decode of its
    own object's strings (in one compiled call for the whole clip), so masks that overlap
    each keep every pixel, and ids need not fit a uint8. Pairs whose id is not asked for are skipped.
    ``size``: ``(h, w)`` planes sampled by nearest neighbour while decoding (:func:`decode_frames`).
    ``present``: a (T, len(plane_ids)) bool array set to whether each plane has a pixel (at the size decoded).
    ``out``: a (T, len(plane_ids), h, w) bool array to overwrite whole and return, instead of a new one.
    """
    out_height, out_width = (height, width) if size is None else (int(size[0]), int(size[1]))
    column = {int(v): k for k, v in enumerate(plane_ids)}
    shape = (len(frames), len(column), out_height, out_width)
    present = _given(present, shape[:2], bool, "present")
    out = _given(out, shape, bool, "out")
    planes: list[list[tuple[int, str | bytes]]] = [[] for _ in range(len(frames) * len(column))]
    for t, pairs in enumerate(frames):
        for value, counts in pairs:
            k = column.get(int(value))
            if k is not None:
                planes[t * len(column) + k].append((1, counts))
    if not planes:
        return np.zeros(shape, bool) if out is None else out
    decoded = decode_frames(
        planes,
        height,
        width,
        size,
        nonempty=None if present is None else present.reshape(-1),
        out=None if out is None else out.view(np.uint8).reshape(len(planes), out_height, out_width),
    )
    return decoded.view(bool).reshape(shape) if out is None else out


def _measured(counts: str | bytes, height: int, width: int) -> tuple[int, tuple[int, int, int, int], bool]:
    area, x, y, w, h, canonical = kernels.measure(_ascii(counts), height, width)
    if area < 0:
        raise RleError(f"invalid RLE: it does not describe a {height}x{width} mask")
    return area, (x, y, w, h), canonical


def measure(counts: str | bytes, height: int, width: int) -> tuple[int, tuple[int, int, int, int]]:
    """``(area, bbox)`` of a compressed RLE, equal to ``pycocotools.mask.area`` and ``toBbox``."""
    area, bbox, _ = _measured(counts, height, width)
    return area, bbox


def measure_canonical(counts: str, height: int, width: int) -> tuple[str, int, tuple[int, int, int, int]]:
    """``(counts, area, bbox)`` with ``counts`` made the string pycocotools writes for that mask.

    For other tools' files: zero-length runs (``[0, 0, 10, 5, ...]``) and redundant digits describe
    the same mask, but only the canonical string is byte-identical to ``pycocotools.mask.encode``.
    """
    area, bbox, is_canonical = _measured(counts, height, width)
    return (counts if is_canonical else canonical(counts)), area, bbox


# --------------------------------------------------------------------------- string codec


def _uncompressed(counts: Sequence[int]) -> np.ndarray:
    """Uncompressed counts as int64; RleError unless they are a flat sequence of integers that fit in 64 bits."""
    if isinstance(counts, np.ndarray):
        if counts.ndim != 1 or (counts.size and counts.dtype.kind not in "iu"):
            shape = "x".join(map(str, counts.shape))
            raise RleError(f"uncompressed RLE counts must be a flat list of integers, got a {shape} {counts.dtype} array")
        if counts.dtype.kind == "u" and counts.size and int(counts.max()) not in _INT64:
            raise RleError("uncompressed RLE counts must fit in 64 bits")
        return counts.astype(np.int64)
    if isinstance(counts, (str, bytes, bytearray, memoryview)) or not isinstance(counts, Iterable):
        raise RleError(f"uncompressed RLE counts must be a flat list of integers, got {type(counts).__name__}")
    counts = list(counts)
    for count in counts:
        if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer)):
            raise RleError(f"uncompressed RLE counts must be a flat list of integers, got a {type(count).__name__} among them")
        if int(count) not in _INT64:  # not printed: a 5,000-digit integer has no str()
            raise RleError(f"uncompressed RLE counts must fit in 64 bits, got one of {int(count).bit_length()} bits")
    return np.array(counts, np.int64)


def counts_to_string(counts: Sequence[int]) -> str:
    """Uncompressed counts to the compressed string (rleToString); RleError unless a flat list of 64-bit integers."""
    return kernels.to_string(_uncompressed(counts))


def checked_mask(object_id: int, counts: str, area: int, bbox: tuple[int, ...], height: int, width: int) -> Mask:
    """A stored mask, after proving its counts describe a ``height x width`` mask with that area and bbox.

    For readers of files that carry all four (Parquet, HDF5): a corrupt or forged row is an
    RleError here, not a wrong mask copied into the output. Counts that describe the mask but
    are not the string pycocotools writes come back as that string.
    """
    area_measured, bbox_measured, is_canonical = _measured(counts, height, width)
    if (area_measured, bbox_measured) != (area, tuple(bbox)):
        measured = (area_measured, bbox_measured)
        raise RleError(f"object {object_id}: stored area {area} and bbox {list(bbox)} are not those of its RLE {measured}")
    # files from before vosconv made other tools' counts canonical may hold them as they came: made so here
    return Mask(object_id, counts if is_canonical else canonical(counts), area, bbox_measured)


def string_to_counts(text: str | bytes) -> list[int]:
    """The compressed string back to uncompressed counts (rleFrString)."""
    counts = kernels.parse(_ascii(text))
    if counts is None:
        raise RleError(f"truncated RLE string {text!r}")
    return counts


def canonical(counts: str) -> str:
    """``counts`` as ``pycocotools.mask.encode`` would write its mask: the same string when it already is.

    Other tools' files may carry zero-length runs (``[0, 0, 10, 5, ...]``) or redundant digits;
    both describe the same mask, but only the canonical string is byte-identical to pycocotools.
    """
    raw = _ascii(counts)
    text = kernels.canonical(raw)
    if text is None:
        raise RleError(f"invalid RLE string {counts!r}")
    return counts if text == raw and isinstance(counts, str) else text.decode("ascii")
