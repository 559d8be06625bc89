"""Exact COCO RLE for label maps: one pass encodes every object, one pass decodes them all.

The naive way (``pycocotools.mask.encode`` on ``label == k`` for each object) costs a
Fortran copy and a full scan per object. Here a compiled kernel scans the row-major label
map once, 8 pixels at a time, for the places where a column changes value; a counting
sort orders those changes column-major, and one walk over the resulting runs writes every
object's compressed counts string, area and bbox. The strings are byte-identical to
pycocotools (``maskApi.c``: ``rleEncode``, ``rleToString``, ``rleToBbox``); the tests prove it.
Decoding goes the other way: the runs become the rows where each column changes value, and
the label map is written top-down, each row a copy of the one above plus its few changes.

Compiled with numba; ``cache=True`` keeps the machine code on disk so worker processes
load it instead of compiling again.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Sequence
from typing import Literal

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from . import scratch
from .model import Mask

__all__ = [
    "MasksOverlap",
    "RleError",
    "canonical",
    "counts_to_string",
    "decode",
    "decode_frames",
    "encode",
    "measure",
    "measure_canonical",
    "overlap",
    "string_to_counts",
]

_JIT = {"cache": True, "nogil": True, "boundscheck": False}
_LITTLE_ENDIAN = sys.byteorder == "little"  # elsewhere the scan goes pixel by pixel


class RleError(ValueError):
    """An RLE string that cannot describe a mask of the given size."""


class MasksOverlap(RleError):
    """Masks that share pixels, where one value per pixel must hold them (a PNG, a dense label map)."""


# --------------------------------------------------------------------------- encode


@intrinsic
def _load8(typingctx, label, row, column):
    """``label[row, column : column + 8]`` as one uint64 (byte k = pixel column + k on little-endian
    machines), at any alignment: rows of a decoded PNG start one filter byte past a word boundary."""
    if not (isinstance(label, types.Array) and label.ndim == 2 and label.dtype == types.uint8):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        row_stride = cgutils.unpack_tuple(builder, array.strides, 2)[0]
        r = context.cast(builder, args[1], signature.args[1], types.intp)
        c = context.cast(builder, args[2], signature.args[2], types.intp)
        byte = builder.gep(builder.bitcast(array.data, ir.IntType(8).as_pointer()), [builder.add(builder.mul(r, row_stride), c)])
        return builder.load(builder.bitcast(byte, ir.IntType(64).as_pointer()), align=1)

    return types.uint64(label, row, column), codegen


@numba.njit(**_JIT)
def _scan(label, cols, rows):
    """Every (column, row) where a column changes value going down, in row order, in one pass.

    ``label`` may be any view whose rows are contiguous (a PNG's rows after their filter byte):
    8 pixels are compared at a time, the last ``width % 8`` one by one.
    Returns how many; -1 when the buffers are too small (the caller retries with room for all).
    """
    height, width = label.shape
    capacity = cols.shape[0]
    whole = width // 8 if _LITTLE_ENDIAN else 0
    n = 0
    for r in range(1, height):
        for j in range(whole):
            d = _load8(label, r, 8 * j) ^ _load8(label, r - 1, 8 * j)
            if d != 0:
                if n + 8 > capacity:
                    return -1
                for b in range(8):
                    if (d >> np.uint64(8 * b)) & np.uint64(0xFF):
                        cols[n] = 8 * j + b
                        rows[n] = r
                        n += 1
        for x in range(8 * whole, width):
            if label[r, x] != label[r - 1, x]:
                if n >= capacity:
                    return -1
                cols[n] = x
                rows[n] = r
                n += 1
    return n


@numba.njit(**_JIT)
def _by_column(cols, rows, n, width):
    """A stable counting sort of the changes by column: rows of column x are ``sorted[start[x]:start[x+1]]``."""
    start = np.zeros(width + 1, np.int64)
    for i in range(n):
        start[cols[i] + 1] += 1
    for x in range(width):
        start[x + 1] += start[x]
    fill = start[:width].copy()
    ordered = np.empty(n, np.int32)
    for i in range(n):
        x = cols[i]
        ordered[fill[x]] = rows[i]
        fill[x] += 1
    return start, ordered


@numba.njit(**_JIT)
def _encode_label(label, cols, rows):
    """Scan, sort, runs and strings in one compiled call (one release of the GIL per frame).

    Returns ``(ok, ids, chars, offsets, areas, bboxes)``; ``ok`` is False, and the rest empty,
    when ``cols``/``rows`` could not hold every change (the caller retries with room for all).
    """
    height, width = label.shape
    n = _scan(label, cols, rows)
    if n < 0:
        return (
            False,
            np.empty(0, np.int64),
            np.empty(0, np.uint8),
            np.zeros(1, np.int64),
            np.empty(0, np.int64),
            np.empty((0, 4), np.int64),
        )
    per_column, ordered = _by_column(cols, rows, n, width)
    starts, values = _runs(label, width, per_column, ordered)
    ids, chars, offsets, areas, bboxes = _encode_runs(starts, values, height, width)
    return True, ids, chars, offsets, areas, bboxes


def _encode_all(label: np.ndarray):
    height, width = label.shape
    most = max(height - 1, 0) * width + 8
    capacity = min(most, max(1 << 16, label.size // 16))
    while True:
        cols = scratch.array("rle.cols", (capacity,), np.int32)
        rows = scratch.array("rle.rows", (capacity,), np.int32)
        ok, *encoded = _encode_label(label, cols, rows)
        if ok:
            return encoded
        capacity = most  # a noisy map: room for a change at every pixel


@numba.njit(**_JIT)
def _runs(label, width, per_column, rows):
    """Maximal runs of equal value in column-major order: (start offsets, values)."""
    height = label.shape[0]
    capacity = rows.shape[0] + width + 1
    starts = np.empty(capacity, np.int64)
    values = np.empty(capacity, np.uint8)
    n = 0
    previous = -1
    for x in range(width):
        base = x * height
        v = label[0, x]
        if v != previous:
            starts[n] = base
            values[n] = v
            n += 1
        for k in range(per_column[x], per_column[x + 1]):
            r = rows[k]
            starts[n] = base + r
            values[n] = label[r, x]
            n += 1
        previous = values[n - 1]
    return starts[:n], values[:n]


#: Characters in the longest count string: 5 bits each, so 13 hold any int64.
_MAX_CHARS = 13


@numba.njit(**_JIT)
def _chars_per_count(total):
    """Characters that any count or count difference of a mask of ``total`` pixels can take (5 bits each, signed)."""
    bits = 1  # the sign
    while total > 0:
        bits += 1
        total >>= 1
    return (bits + 4) // 5


@numba.njit(**_JIT)
def _put_count(out, p, x):
    """Append one count to a compressed string, as rleToString does (signed LEB-like, 5 bits a char)."""
    more = True
    while more:
        c = x & 0x1F
        x >>= 5
        if c & 0x10:
            more = x != -1
        else:
            more = x != 0
        if more:
            c |= 0x20
        out[p] = c + 48
        p += 1
    return p


@numba.njit(**_JIT)
def _extend_box(box, start, stop, height):
    """Widen ``box`` = [xs, ys, xe, ye] by the foreground run [start, stop), as rleToBbox does (a run that
    crosses a column boundary spans the full height)."""
    x0 = start // height
    x1 = (stop - 1) // height
    box[0] = min(box[0], x0)
    box[2] = max(box[2], x1)
    if x0 < x1:
        box[1] = 0
        box[3] = height - 1
    else:
        box[1] = min(box[1], start % height)
        box[3] = max(box[3], (stop - 1) % height)


@numba.njit(**_JIT)
def _encode_runs(starts, values, height, width):
    """Compressed counts, area and bbox of every non-zero value, from the column-major runs."""
    total = height * width
    nruns = starts.shape[0]
    per_value = np.zeros(257, np.int64)
    for i in range(nruns):
        per_value[values[i] + 1] += 1
    present = np.empty(256, np.int64)
    npresent = 0
    for v in range(1, 256):
        if per_value[v + 1] > 0:
            present[npresent] = v
            npresent += 1
    for v in range(256):
        per_value[v + 1] += per_value[v]
    order = np.empty(nruns, np.int64)
    fill = per_value[:256].copy()
    for i in range(nruns):
        order[fill[values[i]]] = i
        fill[values[i]] += 1

    ids = present[:npresent].copy()
    areas = np.zeros(npresent, np.int64)
    bboxes = np.zeros((npresent, 4), np.int64)
    offsets = np.zeros(npresent + 1, np.int64)
    # every object has at most 2 counts per run plus one, each at most _chars_per_count(total) characters
    chars = np.empty(_chars_per_count(total) * (2 * (nruns - per_value[1]) + npresent) + 1, np.uint8)
    counts = np.empty(2 * nruns + 1, np.int64)
    box = np.empty(4, np.int64)
    p = 0
    for k in range(npresent):
        v = ids[k]
        m = 0
        end = 0
        area = 0
        box[0], box[1], box[2], box[3] = width, height, 0, 0
        for q in range(per_value[v], per_value[v + 1]):
            i = order[q]
            start = starts[i]
            stop = starts[i + 1] if i + 1 < nruns else total
            counts[m] = start - end
            counts[m + 1] = stop - start
            m += 2
            end = stop
            area += stop - start
            _extend_box(box, start, stop, height)
        if end < total:
            counts[m] = total - end
            m += 1
        for j in range(m):
            x = counts[j]
            if j > 2:
                x -= counts[j - 2]
            p = _put_count(chars, p, x)
        offsets[k + 1] = p
        areas[k] = area
        bboxes[k, 0] = box[0]
        bboxes[k, 1] = box[1]
        bboxes[k, 2] = box[2] - box[0] + 1
        bboxes[k, 3] = box[3] - box[1] + 1
    return ids, chars[:p], offsets, areas, bboxes


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
    ids, chars, offsets, areas, bboxes = _encode_all(label)
    text = chars.tobytes().decode("ascii")
    offsets = offsets.tolist()
    return [
        Mask(int(v), text[offsets[k] : offsets[k + 1]], int(a), tuple(b))
        for k, (v, a, b) in enumerate(zip(ids.tolist(), areas.tolist(), bboxes.tolist()))
    ]


# --------------------------------------------------------------------------- decode


@numba.njit(**_JIT)
def _parse(chars, begin, end, counts):
    """rleFrString: one compressed string to counts; returns how many."""
    m = 0
    p = begin
    while p < end:
        x = 0
        k = 0
        more = True
        while more:
            if p >= end or k == _MAX_CHARS:  # truncated, or more digits than an int64 has
                return -1
            c = np.int64(chars[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = (c & 0x20) != 0
            p += 1
            k += 1
            if not more and (c & 0x10) and k < _MAX_CHARS:  # 13 digits already fill all 64 bits
                x |= -1 << (5 * k)
        if m > 2:
            x += counts[m - 2]
        counts[m] = x
        m += 1
    return m


@numba.njit(**_JIT)
def _segments(chars, offsets, values, height, width):
    """Every mask's foreground runs cut at column ends, in mask order: (bad, n, x, top, bottom, value).

    Segment i covers rows ``[top[i], bottom[i])`` of column ``x[i]``. ``bad`` is the index of
    the first string that does not describe exactly ``height * width`` pixels, else -1.
    """
    total = height * width
    counts = np.empty(chars.shape[0] + 1, np.int64)
    capacity = chars.shape[0] + values.shape[0] * width  # a mask's runs cross at most width - 1 column ends
    seg_x = np.empty(capacity, np.int32)
    seg_top = np.empty(capacity, np.int32)
    seg_bottom = np.empty(capacity, np.int32)
    seg_value = np.empty(capacity, np.uint8)
    n = 0
    for k in range(values.shape[0]):
        m = _parse(chars, offsets[k], offsets[k + 1], counts)
        if m < 0:
            return k, n, seg_x, seg_top, seg_bottom, seg_value
        pos = 0
        for j in range(m):
            c = counts[j]
            if c < 0 or c > total - pos:  # not ``pos + c > total``: a crafted count would overflow it
                return k, n, seg_x, seg_top, seg_bottom, seg_value
            if j % 2 == 1:
                s = pos
                e = pos + c
                while s < e:
                    x = s // height
                    y = s - x * height
                    stop = min(height, y + (e - s))
                    seg_x[n] = x
                    seg_top[n] = y
                    seg_bottom[n] = stop
                    seg_value[n] = values[k]
                    n += 1
                    s += stop - y
            pos += c
        if pos != total:
            return k, n, seg_x, seg_top, seg_bottom, seg_value
    return -1, n, seg_x, seg_top, seg_bottom, seg_value


@numba.njit(**_JIT)
def _overlap(n, seg_x, seg_top, seg_bottom, width):
    """Whether two segments share a pixel: each column's segments sorted by top, then compared in turn."""
    start, order = _by_column(seg_x, np.arange(n, dtype=np.int32), n, width)
    for x in range(width):
        for a in range(start[x] + 1, start[x + 1]):  # insertion sort: a column holds few segments
            i = order[a]
            b = a
            while b > start[x] and seg_top[order[b - 1]] > seg_top[i]:
                order[b] = order[b - 1]
                b -= 1
            order[b] = i
        for a in range(start[x] + 1, start[x + 1]):
            if seg_top[order[a]] < seg_bottom[order[a - 1]]:
                return True
    return False


@numba.njit(**_JIT)
def _fill(out, n, seg_x, seg_top, seg_bottom, seg_value):
    """The whole label map from segments that do not overlap, written row by row.

    Painting runs column by column writes one pixel per row-length stride, which misses the
    cache at every pixel. Here the segments become the rows where each column's value starts
    and stops; the map is then built top-down, each row a copy of the one above with that
    row's few changes applied: contiguous writes, and work that follows the number of runs.
    """
    height, width = out.shape
    per_row = np.zeros(height + 2, np.int64)
    for i in range(n):
        per_row[seg_top[i] + 1] += 1
        if seg_bottom[i] < height:
            per_row[seg_bottom[i] + 1] += 1
    for y in range(height + 1):
        per_row[y + 1] += per_row[y]
    slot = per_row[: height + 1].copy()
    change_x = np.empty(per_row[height], np.int32)
    change_value = np.empty(per_row[height], np.uint8)
    for i in range(n):  # stops first within a row, so a segment starting where another stops wins
        if seg_bottom[i] < height:
            y = seg_bottom[i]
            change_x[slot[y]] = seg_x[i]
            change_value[slot[y]] = 0
            slot[y] += 1
    for i in range(n):
        y = seg_top[i]
        change_x[slot[y]] = seg_x[i]
        change_value[slot[y]] = seg_value[i]
        slot[y] += 1
    row = np.zeros(width, np.uint8)
    for y in range(height):
        for q in range(per_row[y], per_row[y + 1]):
            row[change_x[q]] = change_value[q]
        target = out[y]
        for x in range(width):  # an explicit loop: numba's slice assignment does not vectorise
            target[x] = row[x]


@numba.njit(**_JIT)
def _paint(out, n, seg_x, seg_top, seg_bottom, seg_value):
    """Segments painted in order onto a cleared map, later over earlier: for masks that overlap."""
    height, width = out.shape
    for y in range(height):
        for x in range(width):
            out[y, x] = 0
    for i in range(n):
        x = seg_x[i]
        for y in range(seg_top[i], seg_bottom[i]):
            out[y, x] = seg_value[i]


@numba.njit(**_JIT)
def _label_map(out, chars, offsets, values, refuse_overlap=False):
    """All of ``out`` from the masks (filled row by row, or painted where they overlap); the first bad
    index or -1; -2, with ``out`` untouched, when they overlap and ``refuse_overlap``."""
    height, width = out.shape
    bad, n, seg_x, seg_top, seg_bottom, seg_value = _segments(chars, offsets, values, height, width)
    if bad >= 0:
        return bad
    if _overlap(n, seg_x, seg_top, seg_bottom, width):
        if refuse_overlap:
            return -2
        _paint(out, n, seg_x, seg_top, seg_bottom, seg_value)
    else:
        _fill(out, n, seg_x, seg_top, seg_bottom, seg_value)
    return -1


@numba.njit(**_JIT)
def _overlapping(chars, offsets, values, height, width):
    """-2 when the masks share a pixel, -1 when they do not, else the first bad string's index."""
    bad, n, seg_x, seg_top, seg_bottom, _ = _segments(chars, offsets, values, height, width)
    if bad >= 0:
        return bad
    return -2 if _overlap(n, seg_x, seg_top, seg_bottom, width) else -1


@numba.njit(**_JIT)
def _label_maps(out, chars, offsets, values, frame_starts):
    """``_label_map`` for each frame of a (T, height, width) stack; returns the first bad string's index or -1.

    Every pixel of ``out`` is written (a frame without masks is zeroed), so it need not start zeroed.
    """
    for t in range(out.shape[0]):
        first, last = frame_starts[t], frame_starts[t + 1]
        if last > first:
            bad = _label_map(out[t], chars, offsets[first : last + 1], values[first:last])
            if bad >= 0:
                return first + bad
        else:
            out[t] = 0
    return -1


def _pack(pairs: list[tuple[int, str | bytes]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strings, their offsets and values as the arrays the kernels take."""
    encoded = [c.encode("ascii") if isinstance(c, str) else bytes(c) for _, c in pairs]
    offsets = np.fromiter(itertools.accumulate(map(len, encoded), initial=0), np.int64, len(encoded) + 1)
    chars = np.frombuffer(b"".join(encoded), np.uint8) if offsets[-1] else np.zeros(1, np.uint8)
    values = np.fromiter((v for v, _ in pairs), np.uint8, len(pairs))
    return chars, offsets, values


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
    bad = _label_map(out, *_pack(masks), overlapping == "refuse")
    if bad == -2:
        raise MasksOverlap(f"masks {sorted({v for v, _ in masks})} overlap: one pixel value each cannot hold them")
    if bad >= 0:
        raise RleError(f"invalid RLE for value {masks[bad][0]}: it does not describe a {height}x{width} mask")
    return out


def overlap(masks: Sequence[tuple[int, str | bytes]], height: int, width: int) -> bool:
    """Whether any two of the ``(value, counts)`` masks share a pixel (no label map is painted)."""
    if len(masks) < 2 or height == 0 or width == 0:
        return False
    found = _overlapping(*_pack(list(masks)), height, width)
    if found >= 0:
        raise RleError(f"invalid RLE for value {masks[found][0]}: it does not describe a {height}x{width} mask")
    return found == -2


def decode_frames(frames: Sequence[Sequence[tuple[int, str | bytes]]], height: int, width: int) -> np.ndarray:
    """Label maps of several frames at once, (T, height, width): :func:`decode` with one call into compiled code."""
    pairs = [pair for frame in frames for pair in frame]
    if not pairs or height == 0 or width == 0:
        return np.zeros((len(frames), height, width), np.uint8)
    out = np.empty((len(frames), height, width), np.uint8)  # written whole: a zeroing pass would be a second write
    frame_starts = np.fromiter(itertools.accumulate(map(len, frames), initial=0), np.int64, len(frames) + 1)
    bad = _label_maps(out, *_pack(pairs), frame_starts)  # overlapping masks: later ones win
    if bad >= 0:
        raise RleError(f"invalid RLE for value {pairs[bad][0]}: it does not describe a {height}x{width} mask")
    return out


@numba.njit(**_JIT)
def _measure(chars, height, width):
    """Area and bbox of one compressed string, as rleArea and rleToBbox compute them, and whether the
    string is the one pycocotools writes (no zero-length run after the first, no redundant digits);
    area -1 if invalid."""
    counts = np.empty(chars.shape[0] + 1, np.int64)
    m = _parse(chars, 0, chars.shape[0], counts)
    total = 0
    canonical = True
    for j in range(max(m, 0)):
        if counts[j] < 0 or counts[j] > height * width - total:
            return -1, 0, 0, 0, 0, False
        total += counts[j]
        canonical = canonical and (j == 0 or counts[j] > 0)
    if m < 0 or total != height * width:
        return -1, 0, 0, 0, 0, False
    if canonical:  # no redundant digit or character outside rleToString's alphabet: its own spelling
        spelled = _to_string(counts[:m])
        canonical = spelled.shape[0] == chars.shape[0] and (spelled == chars).all()
    area = 0
    box = np.array([width, height, 0, 0], np.int64)
    pos = 0
    for j in range(m - m % 2):
        start = pos
        pos += counts[j]
        if j % 2 == 0 or counts[j] == 0:
            continue
        area += counts[j]
        _extend_box(box, start, pos, height)
    if area == 0:
        return 0, 0, 0, 0, 0, canonical
    return area, box[0], box[1], box[2] - box[0] + 1, box[3] - box[1] + 1, canonical


def _measured(counts: str | bytes, height: int, width: int) -> tuple[int, tuple[int, int, int, int], bool]:
    try:
        raw = counts.encode("ascii") if isinstance(counts, str) else bytes(counts)
    except UnicodeEncodeError:
        raise RleError(f"invalid RLE: {counts[:40]!r} is not ASCII") from None
    area, x, y, w, h, canonical = _measure(np.frombuffer(raw, np.uint8), height, width)
    if area < 0:
        raise RleError(f"invalid RLE: it does not describe a {height}x{width} mask")
    return int(area), (int(x), int(y), int(w), int(h)), bool(canonical)


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


@numba.njit(**_JIT)
def _to_string(counts):
    chars = np.empty(_MAX_CHARS * counts.shape[0] + 1, np.uint8)
    p = 0
    for j in range(counts.shape[0]):
        x = counts[j]
        if j > 2:
            x -= counts[j - 2]
        p = _put_count(chars, p, x)
    return chars[:p]


def counts_to_string(counts: Sequence[int]) -> str:
    """Uncompressed counts to the compressed string (rleToString)."""
    return _to_string(np.asarray(counts, np.int64)).tobytes().decode("ascii")


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
    raw = text.encode("ascii") if isinstance(text, str) else bytes(text)
    chars = np.frombuffer(raw, np.uint8) if raw else np.zeros(1, np.uint8)
    counts = np.empty(len(raw) + 1, np.int64)
    m = _parse(chars, 0, len(raw), counts)
    if m < 0:
        raise RleError(f"truncated RLE string {text!r}")
    return counts[:m].tolist()


@numba.njit(**_JIT)
def _canonical(chars):
    """The string pycocotools would write for the mask ``chars`` describes: zero-length runs are
    dropped and the runs either side of one (the same value) joined; ``(empty, False)`` when invalid."""
    counts = np.empty(chars.shape[0] + 1, np.int64)
    m = _parse(chars, 0, chars.shape[0], counts)
    if m < 0:
        return chars[:0], False
    k = 0  # counts[:k] is the canonical run list so far: even positions background, odd foreground
    for j in range(m):
        x = counts[j]
        if x < 0:
            return chars[:0], False
        if x == 0:
            continue
        if k % 2 != j % 2:  # the last kept run has this one's value: they join
            if k == 0:  # the mask starts with foreground: a zero-length background first
                counts[0] = 0
                k = 1
            else:
                counts[k - 1] += x
                continue
        counts[k] = x
        k += 1
    out = _to_string(counts[:k])
    return out, True


def canonical(counts: str) -> str:
    """``counts`` as ``pycocotools.mask.encode`` would write its mask: the same string when it already is.

    Other tools' files may carry zero-length runs (``[0, 0, 10, 5, ...]``) or redundant digits;
    both describe the same mask, but only the canonical string is byte-identical to pycocotools.
    """
    try:
        raw = counts.encode("ascii")
    except UnicodeEncodeError:
        raise RleError(f"invalid RLE: {counts[:40]!r} is not ASCII") from None
    out, ok = _canonical(np.frombuffer(raw, np.uint8) if raw else np.zeros(0, np.uint8))
    if not ok:
        raise RleError(f"invalid RLE string {counts!r}")
    text = out.tobytes()
    return counts if text == raw else text.decode("ascii")
