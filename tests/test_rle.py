"""converters.codecs.rle: byte-identical to pycocotools per object, exact round trips, strict decoding.

The reference for every label map is pycocotools run the naive way: ``mask.encode`` on
``label == v`` (Fortran order) for each non-zero value v, with ``mask.area`` and ``mask.toBbox``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as coco

from converters.codecs import _kernels, _kernels_checked, rle
from converters.codecs._native import BOUNDSCHECK_VARIABLE
from converters.model import Mask

from .rle_strings import overflowing_string

# --------------------------------------------------------------------------- reference and helpers


def coco_rle(binary: np.ndarray) -> dict:
    return coco.encode(np.asfortranarray(binary.astype(np.uint8)))


def coco_masks(label: np.ndarray) -> list[Mask]:
    """pycocotools on ``label == v`` for every non-zero value v present, sorted by v."""
    masks = []
    for value in np.unique(label).tolist():
        if value:
            r = coco_rle(label == value)
            bbox = tuple(int(x) for x in coco.toBbox(r))
            masks.append(Mask(value, r["counts"].decode("ascii"), int(coco.area(r)), bbox))
    return masks


def assert_matches_pycocotools(label: np.ndarray) -> list[Mask]:
    """encode(label) equals the pycocotools reference, field by field, with plain Python types."""
    before = label.copy()
    got = rle.encode(label)
    np.testing.assert_array_equal(label, before)  # the input is not touched
    expected = coco_masks(np.ascontiguousarray(label))
    assert [m.object_id for m in got] == [m.object_id for m in expected]
    for mine, theirs in zip(got, expected):
        assert mine == theirs, f"object {theirs.object_id}"
        assert type(mine.object_id) is int and type(mine.counts) is str and type(mine.area) is int
        assert type(mine.bbox) is tuple and all(type(x) is int for x in mine.bbox)
    return got


def column_runs(flat: np.ndarray) -> list[int]:
    """Uncompressed COCO counts of a flat (column-major) boolean mask: run lengths, starting with zeros."""
    bounds = np.r_[0, np.flatnonzero(flat[1:] != flat[:-1]) + 1, flat.size]
    return ([0] if flat[0] else []) + np.diff(bounds).tolist()


def pairs(masks: list[Mask]) -> list[tuple[int, str]]:
    return [(m.object_id, m.counts) for m in masks]


# --------------------------------------------------------------------------- label map strategies

#: Sides from 1 to 64, with the awkward ones (1, around multiples of 8) drawn often.
SIDE = st.one_of(st.integers(1, 64), st.sampled_from([1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64]))


def paint_runs(rng: np.random.Generator, size: int, ids: np.ndarray, mean_run: float) -> np.ndarray:
    """A 1-D array of runs with geometric lengths, each of a random value of ``ids``."""
    lengths = rng.geometric(1 / max(mean_run, 1), size)
    lengths = lengths[: np.searchsorted(np.cumsum(lengths), size) + 1]
    return np.repeat(rng.choice(ids, lengths.size), lengths)[:size]


def make_label(kind: str, rng: np.random.Generator, height: int, width: int, ids: np.ndarray) -> np.ndarray:
    """One label map of the given kind; ``ids`` are the non-zero values it may use."""
    with_zero = np.append(ids, 0)
    label = np.zeros((height, width), np.uint8)
    if kind == "dense":
        label[:] = rng.choice(with_zero, (height, width))
    elif kind == "sparse":
        flat = label.reshape(-1)
        where = rng.choice(flat.size, rng.integers(1, max(2, flat.size // 10)), replace=False)
        flat[where] = rng.choice(ids, where.size)
    elif kind == "blocks":
        for _ in range(rng.integers(1, 12)):
            r0, r1 = np.sort(rng.integers(0, height, 2))
            c0, c1 = np.sort(rng.integers(0, width, 2))
            if rng.random() < 0.3:  # full-height blocks: runs that cross column boundaries
                r0, r1 = 0, height - 1
            label[r0 : r1 + 1, c0 : c1 + 1] = rng.choice(with_zero)
        if rng.random() < 0.5:  # objects touching the first and the last pixel
            label[0, 0] = rng.choice(ids)
            label[-1, -1] = rng.choice(ids)
    elif kind == "column_runs":  # runs in column-major order, so many span several columns
        label[:] = paint_runs(rng, height * width, with_zero, rng.uniform(1, 2 * height)).reshape(height, width, order="F")
    elif kind == "row_runs":
        label[:] = paint_runs(rng, height * width, with_zero, rng.uniform(1, 2 * width)).reshape(height, width)
    elif kind == "full":
        label[:] = ids[0]
    return label


KINDS = ("dense", "sparse", "blocks", "column_runs", "row_runs", "full", "empty")


@st.composite
def label_maps(draw) -> np.ndarray:
    """Random uint8 label maps of every kind, with 1 to 255 distinct ids (value 255 included often)."""
    height, width = draw(SIDE, label="height"), draw(SIDE, label="width")
    kind = draw(st.sampled_from(KINDS), label="kind")
    count = draw(st.one_of(st.integers(1, 4), st.integers(1, 255)), label="ids")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    ids = rng.choice(np.arange(1, 256, dtype=np.uint8), count, replace=False)
    if draw(st.booleans(), label="with 255"):
        ids[0] = 255
    return make_label(kind, rng, height, width, ids)


def fortran(label):
    return np.asfortranarray(label)


def transposed(label):
    return np.ascontiguousarray(label.T).T


def stepped(label):
    big = np.zeros((2 * label.shape[0], 3 * label.shape[1]), np.uint8)
    big[::2, ::3] = label
    return big[::2, ::3]


def reversed_(label):
    return np.ascontiguousarray(label[::-1, ::-1])[::-1, ::-1]


def window(label):
    big = np.full((label.shape[0] + 2, label.shape[1] + 5), 7, np.uint8)
    big[1:-1, 2:-3] = label
    return big[1:-1, 2:-3]


def png_rows(label):
    """What the PNG decoder hands over: rows one filter byte apart, each starting one byte in."""
    rows = np.full((label.shape[0], label.shape[1] + 1), 9, np.uint8)
    rows[:, 1:] = label
    return rows[:, 1:]


def upside_down(label):
    return np.ascontiguousarray(label[::-1])[::-1]  # a negative row stride, contiguous rows


def misaligned(label):
    buffer = np.zeros(label.size + 1, np.uint8)
    view = buffer[1:].reshape(label.shape)
    view[:] = label
    return view


def read_only(label):
    view = label.copy()
    view.flags.writeable = False
    return view


VIEWS = (fortran, transposed, stepped, reversed_, window, png_rows, upside_down, misaligned, read_only)

# --------------------------------------------------------------------------- encode


@settings(max_examples=400, deadline=None)
@given(label=label_maps())
def test_encode_matches_pycocotools(label):
    """Every value's counts, area and bbox equal pycocotools; the list holds exactly the non-zero values, sorted."""
    masks = assert_matches_pycocotools(label)
    present = sorted(set(np.unique(label).tolist()) - {0})
    assert [m.object_id for m in masks] == present


@settings(max_examples=200, deadline=None)
@given(label=label_maps(), view=st.sampled_from(VIEWS))
def test_encode_any_memory_layout(label, view):
    """Fortran-ordered, strided, reversed, misaligned and read-only inputs encode like a contiguous copy."""
    strided = view(label)
    np.testing.assert_array_equal(strided, label)
    assert rle.encode(strided) == rle.encode(np.ascontiguousarray(label))


def id_grid(height: int, width: int) -> np.ndarray:
    return (np.arange(height * width) % 256).astype(np.uint8).reshape(height, width)


def dots(height: int, width: int, values: dict[tuple[int, int], int]) -> np.ndarray:
    """A zero map with the given pixels set."""
    label = np.zeros((height, width), np.uint8)
    for (row, column), value in values.items():
        label[row, column] = value
    return label


EDGE_CASES = {
    "1x1-zero": np.zeros((1, 1), np.uint8),
    "1x1-one": np.ones((1, 1), np.uint8),
    "1x1-255": np.full((1, 1), 255, np.uint8),
    "1x64-row": id_grid(1, 64) % 3,
    "1x13-row": np.array([[0, 1, 1, 2, 0, 0, 2, 2, 255, 255, 0, 1, 1]], np.uint8),
    "64x1-column": id_grid(64, 1) % 5,
    "13x1-column": np.array([[0, 1, 1, 2, 0, 0, 2, 2, 255, 255, 0, 1, 1]], np.uint8).T,
    "first-pixel-only": dots(7, 9, {(0, 0): 1}),
    "last-pixel-only": dots(7, 9, {(6, 8): 9}),
    "first-and-last": dots(5, 5, {(0, 0): 4, (4, 4): 4}),
    "first-and-last-different": dots(3, 16, {(0, 0): 255, (2, 15): 1}),
    "column-ends": dots(6, 3, {(5, 0): 2, (0, 1): 2, (5, 1): 3, (0, 2): 3}),
    "checkerboard": (np.indices((9, 17)).sum(axis=0) % 2).astype(np.uint8) * 3,
    "all-256-values": id_grid(16, 16),
    "all-256-values-transposed": np.ascontiguousarray(id_grid(16, 16).T),
    "255-values-no-zero": (np.arange(255 * 3) % 255 + 1).astype(np.uint8).reshape(15, 51),
    "full-height-stripes": np.repeat(np.array([[1, 1, 0, 2, 2, 2, 0, 1, 255]], np.uint8), 5, axis=0),
    "full-width-stripes": np.repeat(np.array([[1, 1, 0, 2, 2, 2, 0, 1, 255]], np.uint8).T, 10, axis=1),
    "run-across-columns": np.array([[0, 0, 1], [0, 0, 1], [0, 1, 1], [0, 1, 0]], np.uint8),
    "one-object-two-islands": np.array([[1, 0, 0, 0, 0, 0, 0, 0, 0, 1]], np.uint8).repeat(3, axis=0),
    "width-8": id_grid(5, 8) % 4,
    "width-9": id_grid(5, 9) % 4,
    "width-16": id_grid(3, 16) % 7,
}


@pytest.mark.parametrize("label", list(EDGE_CASES.values()), ids=list(EDGE_CASES))
def test_encode_edge_cases(label):
    """Hand-picked awkward maps: single pixels, lines, corners, every value, runs across columns."""
    assert_matches_pycocotools(label)
    np.testing.assert_array_equal(rle.decode(pairs(rle.encode(label)), *label.shape), label)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (8, 8), (480, 854), (0, 5), (5, 0), (0, 0)])
def test_encode_empty(shape):
    """An all-zero map (or one with no pixels) has no objects."""
    assert rle.encode(np.zeros(shape, np.uint8)) == []


@pytest.mark.parametrize("value", [1, 7, 254, 255])
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (480, 854)])
def test_encode_full(shape, value):
    """A map holding one value everywhere is one object covering it all."""
    height, width = shape
    (only,) = assert_matches_pycocotools(np.full(shape, value, np.uint8))
    assert only.object_id == value and only.area == height * width and only.bbox == (0, 0, width, height)


def discs(height: int, width: int, count: int, seed: int) -> np.ndarray:
    """Overlapping discs of ids 1..count-1 and 255 (later ones on top), some cut by the border."""
    rng = np.random.default_rng(seed)
    label = np.zeros((height, width), np.uint8)
    y, x = np.ogrid[:height, :width]
    for k in range(count):
        cy, cx = rng.integers(0, height), rng.integers(0, width)
        radius = rng.uniform(0.05, 0.3) * min(height, width)
        label[(y - cy) ** 2 + (x - cx) ** 2 <= radius**2] = 255 if k == count - 1 else k + 1
    return label


@pytest.mark.parametrize(("height", "width", "count"), [(480, 854, 3), (480, 854, 12), (1080, 1920, 6), (720, 1280, 20)])
def test_encode_large_frames(height, width, count):
    """Full-size frames with several disc objects equal pycocotools and decode back exactly."""
    label = discs(height, width, count, seed=count)
    masks = assert_matches_pycocotools(label)
    np.testing.assert_array_equal(rle.decode(pairs(masks), height, width), label)


def test_encode_a_map_with_more_changes_than_the_first_guess():
    """Noise changes value at nearly every pixel: more changes than the scan's first buffers hold,
    so it runs again with room for all (and still equals pycocotools)."""
    label = np.random.default_rng(3).integers(0, 6, (480, 854), dtype=np.uint8)
    masks = assert_matches_pycocotools(label)
    np.testing.assert_array_equal(rle.decode(pairs(masks), *label.shape), label)


@pytest.mark.parametrize(
    "label",
    [
        np.zeros((4, 4), np.int8),
        np.zeros((4, 4), np.uint16),
        np.zeros((4, 4), np.int64),
        np.zeros((4, 4), np.float32),
        np.zeros((4, 4), bool),
        np.zeros(16, np.uint8),
        np.zeros((2, 2, 4), np.uint8),
        np.zeros((), np.uint8),
    ],
    ids=["int8", "uint16", "int64", "float32", "bool", "1-D", "3-D", "0-D"],
)
def test_encode_rejects_non_label_maps(label):
    """Anything but a 2-D uint8 array raises TypeError."""
    with pytest.raises(TypeError):
        rle.encode(label)


# --------------------------------------------------------------------------- decode


@settings(max_examples=300, deadline=None)
@given(label=label_maps(), as_bytes=st.booleans())
def test_decode_inverts_encode(label, as_bytes):
    """decode(encode(L)) == L exactly, with counts given as str or bytes."""
    masks = pairs(rle.encode(label))
    if as_bytes:
        masks = [(v, c.encode("ascii")) for v, c in masks]
    decoded = rle.decode(masks, *label.shape)
    assert decoded.dtype == np.uint8 and decoded.shape == label.shape
    np.testing.assert_array_equal(decoded, label)


@settings(max_examples=150, deadline=None)
@given(
    height=SIDE,
    width=SIDE,
    layers=st.lists(st.tuples(st.integers(0, 255), st.integers(0, 2**32 - 1), st.sampled_from(KINDS)), max_size=6),
)
def test_decode_paints_later_pairs_on_top(height, width, layers):
    """Overlapping masks: each pair paints its value over what earlier pairs painted."""
    expected = np.zeros((height, width), np.uint8)
    masks = []
    for value, seed, kind in layers:
        binary = make_label(kind, np.random.default_rng(seed), height, width, np.array([1], np.uint8)) == 1
        expected[binary] = value
        masks.append((value, coco_rle(binary)["counts"].decode("ascii")))
    np.testing.assert_array_equal(rle.decode(masks, height, width), expected)


def test_decode_overlap_explicit():
    """A full mask of 1 under a 2x3 block of 2: the block wins; reversed, the full mask wins."""
    full = (1, "0d0")  # counts [0, 20]: every pixel of a 4x5 mask
    block = (2, "5220003")  # rows 1-2, cols 1-3
    expected = np.ones((4, 5), np.uint8)
    expected[1:3, 1:4] = 2
    np.testing.assert_array_equal(rle.decode([full, block], 4, 5), expected)
    np.testing.assert_array_equal(rle.decode([block, full], 4, 5), np.ones((4, 5), np.uint8))


@settings(max_examples=50, deadline=None)
@given(label=label_maps())
def test_decode_into_out(label):
    """With ``out`` given, decode overwrites it whole (old contents and all) and returns that same array."""
    out = np.full(label.shape, 77, np.uint8)
    result = rle.decode(pairs(rle.encode(label)), *label.shape, out=out)
    assert result is out
    np.testing.assert_array_equal(out, label)


@pytest.mark.parametrize(
    "out",
    [np.zeros((5, 4), np.uint8), np.zeros((4, 5), np.int32), np.zeros(20, np.uint8)],
    ids=["transposed-shape", "int32", "flat"],
)
def test_decode_rejects_wrong_out(out):
    """An ``out`` of the wrong shape or dtype raises TypeError."""
    with pytest.raises(TypeError):
        rle.decode([(1, "5220003")], 4, 5, out=out)


@pytest.mark.parametrize("shape", [(1, 1), (4, 5), (480, 854)])
def test_decode_nothing(shape):
    """No pairs: an all-zero map of the requested size."""
    decoded = rle.decode([], *shape)
    assert decoded.shape == shape and decoded.dtype == np.uint8 and not decoded.any()


@pytest.mark.parametrize(
    ("counts", "height", "width"),
    [
        ("5220003", 4, 6),  # a 4x5 mask read as 4x6: too few pixels
        ("5220003", 3, 5),  # ... read as 3x5: too many
        ("5220003", 2, 2),
        ("522000", 4, 5),  # the last count dropped
        ("5220003P", 4, 5),  # the last character has the continuation bit: truncated
        ("P", 4, 5),
        ("@", 4, 5),  # a negative count
        ("0d0@", 4, 5),
        (":K?", 4, 5),  # counts [10, -5, 15]: 20 in total, but one run is negative
        ("5Kd0", 4, 5),  # counts [5, -5, 20]
        ("", 4, 5),
    ],
)
def test_decode_rejects_bad_strings(counts, height, width):
    """Strings that do not describe exactly height*width pixels raise RleError naming the value."""
    with pytest.raises(rle.RleError, match="value 3"):
        rle.decode([(1, rle.counts_to_string([0, height * width])), (3, counts)], height, width)


HOSTILE = {
    # pos + count overflows int64 and wraps negative; the next counts land exactly on h*w again
    "overflow": [5, 2**63 - 3, 2**63 - 1002, 1100],
    "overflow-then-short": [5, 2**63 - 3, 2**63 - 2, 3],
    "huge-background": [2**63 - 1, 100],
    "huge-foreground": [0, 2**62, 100],
    # a background count wraps; the sums of counts and of foreground stay plausible, as measure once saw them
    "overflow-past-measure": [5, 1, 2**63 - 6, 2**63 - 1000, 1100],
}


@pytest.mark.parametrize("counts", list(HOSTILE.values()), ids=list(HOSTILE))
def test_decode_rejects_counts_that_overflow(counts):
    """Counts whose sum wraps around int64 are an error, never writes outside the map (this one crashed)."""
    text = overflowing_string(counts)
    assert rle.string_to_counts(text) == counts
    with pytest.raises(rle.RleError, match="value 3"):
        rle.decode([(3, text)], 10, 10)
    with pytest.raises(rle.RleError):
        rle.decode_frames([[(3, text)]], 10, 10)
    with pytest.raises(rle.RleError):
        rle.measure(text, 10, 10)


def test_string_to_counts_rejects_more_digits_than_int64():
    """A count of 14 or more digits cannot be an int64 (5 bits each): an error, not a silently wrapped value."""
    with pytest.raises(rle.RleError):
        rle.string_to_counts("o" * 13 + "0")
    assert rle.string_to_counts("o" * 12 + "0") == [int.from_bytes(b"\xff" * 8, "little") >> 4]


def reference_decode(text: bytes, height: int, width: int) -> np.ndarray | None:
    """The label map ``text`` (value 1) describes, from its counts in plain Python; None when invalid."""
    try:
        counts = rle.string_to_counts(text)
    except rle.RleError:
        return None
    if any(c < 0 for c in counts) or sum(counts) != height * width:
        return None
    flat = np.repeat(np.arange(len(counts)) % 2, counts).astype(np.uint8)
    return flat.reshape(width, height).T


@settings(max_examples=500, deadline=None)
@given(
    text=st.one_of(
        st.binary(max_size=40),
        st.text(st.characters(min_codepoint=48, max_codepoint=111), max_size=40),
        st.lists(st.one_of(st.integers(0, 150), st.integers(-(2**63), 2**63 - 1)), max_size=6).map(overflowing_string),
    ),
    height=st.integers(1, 12),
    width=st.integers(1, 12),
)
def test_decode_any_string_is_safe(text, height, width):
    """Any string, valid or not: decode and measure raise RleError or agree with the plain-Python reference."""
    raw = text if isinstance(text, bytes) else text.encode("ascii")
    expected = reference_decode(raw, height, width)
    if expected is None:
        with pytest.raises(rle.RleError):
            rle.decode([(1, raw)], height, width)
        with pytest.raises(rle.RleError):
            rle.measure(raw, height, width)
        return
    np.testing.assert_array_equal(rle.decode([(1, raw)], height, width), expected)
    area, _ = rle.measure(raw, height, width)
    assert area == int(expected.sum())


@settings(max_examples=200, deadline=None)
@given(counts=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=20))
def test_counts_codec_round_trips_any_int64(counts):
    """counts_to_string writes up to 13 digits a count and string_to_counts reads them back, for any int64."""
    assert rle.string_to_counts(rle.counts_to_string(counts)) == counts


def test_decode_error_is_a_value_error():
    """RleError is a ValueError, so callers catching ValueError (as pycocotools raises) still catch it."""
    assert issubclass(rle.RleError, ValueError)


# --------------------------------------------------------------------------- measure


@settings(max_examples=150, deadline=None)
@given(label=label_maps())
def test_measure_encoded_masks(label):
    """measure(counts) gives back the area and bbox that encode (and pycocotools) computed."""
    for m in rle.encode(label):
        assert rle.measure(m.counts, *label.shape) == (m.area, m.bbox)
        assert rle.measure(m.counts.encode("ascii"), *label.shape) == (m.area, m.bbox)


@st.composite
def sized_counts(draw) -> tuple[list[int], int, int]:
    """Uncompressed counts of an h x w mask cut at random places: zero-length runs and odd lengths included."""
    height, width = draw(SIDE), draw(SIDE)
    cuts = sorted(draw(st.lists(st.integers(0, height * width), max_size=12)))
    counts = np.diff([0, *cuts, height * width]).tolist()
    return counts, height, width


@settings(max_examples=300, deadline=None)
@given(sized=sized_counts())
def test_measure_matches_pycocotools(sized):
    """On any valid counts (not only canonical ones), measure equals pycocotools' area and toBbox.

    The one exception is a mask with no foreground pixel but a zero-length foreground run: pycocotools'
    toBbox then returns garbage (unsigned underflow), and measure returns (0, 0, 0, 0).
    """
    counts, height, width = sized
    r = coco.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    area, bbox = rle.measure(r["counts"], height, width)
    assert area == int(coco.area(r))
    if area:
        assert bbox == tuple(int(x) for x in coco.toBbox(r))
    else:
        assert bbox == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("counts", "height", "width"),
    [("5220003", 4, 6), ("5220003", 3, 5), ("522000", 4, 5), ("5220003P", 4, 5), ("@", 4, 5), (":K?", 4, 5), ("", 4, 5)],
)
def test_measure_rejects_bad_strings(counts, height, width):
    """measure raises RleError on strings that do not describe exactly height*width pixels."""
    with pytest.raises(rle.RleError):
        rle.measure(counts, height, width)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # pycocotools' decode on numpy 2
@settings(max_examples=400, deadline=None)
@given(sized=sized_counts(), redundant=st.booleans())
def test_canonical_is_what_pycocotools_encodes(sized, redundant):
    """Any counts of a mask (zero-length runs anywhere, a redundant digit) become pycocotools' own string for it."""
    counts, height, width = sized
    text = rle.counts_to_string(counts)
    if redundant and text and ord(text[0]) - 48 < 0x10:  # the same first count with one more, empty, digit
        text = chr(ord(text[0]) + 0x20) + "0" + text[1:]
    binary = coco.decode({"size": [height, width], "counts": text.encode("ascii")})
    expected = coco_rle(binary)["counts"].decode("ascii")
    assert rle.canonical(text) == expected
    counts_out, area, bbox = rle.measure_canonical(text, height, width)
    assert (counts_out, area) == (expected, int(binary.sum()))
    assert rle.measure(expected, height, width) == (area, bbox)


@settings(max_examples=100, deadline=None)
@given(label=label_maps())
def test_canonical_strings_are_returned_as_they_are(label):
    for m in rle.encode(label):
        assert rle.canonical(m.counts) is m.counts
        assert rle.measure_canonical(m.counts, *label.shape)[0] is m.counts


def test_canonical_merges_runs_around_zero_length_ones():
    """[0, 0, 10, 5, 5] on a 4x5 mask: 10 background + 5 foreground + 5 background, written as pycocotools does."""
    text = rle.counts_to_string([0, 0, 10, 5, 5])
    assert rle.string_to_counts(rle.canonical(text)) == [10, 5, 5]
    assert rle.canonical(rle.counts_to_string([3, 0, 2, 4, 0, 0, 11])) == rle.counts_to_string([5, 4, 11])
    assert rle.canonical(rle.counts_to_string([0, 20, 0])) == rle.counts_to_string([0, 20])


@pytest.mark.parametrize("counts", ["5220003P", "@", "é0"])
def test_canonical_rejects_bad_strings(counts):
    with pytest.raises(rle.RleError):
        rle.measure_canonical(counts, 4, 5)


def test_checked_mask_makes_a_string_that_is_not_canonical_so():
    """Parquet/HDF5 files of an older vosconv may hold other tools' counts as they came: read, they become canonical."""
    text = rle.counts_to_string([0, 0, 10, 5, 5])
    area, bbox = rle.measure(text, 4, 5)
    mask = rle.checked_mask(1, text, area, bbox, 4, 5)
    assert mask.counts == rle.canonical(text) != text and mask.area == 5


@pytest.mark.parametrize("spelling", ["q", "@0", "\x2f"])
def test_characters_outside_the_alphabet_are_not_canonical(spelling):
    """``_parse`` reads only 6 bits a character: "q" spells what "1" does, at the same length."""
    try:
        counts, _, _ = rle.measure_canonical(spelling, 1, 1)
    except rle.RleError:
        return
    assert all(48 <= ord(c) < 112 for c in counts)
    assert counts == rle.canonical(spelling)


def test_decode_can_refuse_overlapping_masks():
    """Where one value per pixel must hold every mask (a PNG), overlap is an error, and ``out`` is left alone."""
    full, block = (1, "0d0"), (2, "5220003")
    out = np.full((4, 5), 9, np.uint8)
    with pytest.raises(rle.MasksOverlap, match=r"masks \[1, 2\] overlap"):
        rle.decode([full, block], 4, 5, out=out, overlapping="refuse")
    assert (out == 9).all()
    side = (2, rle.counts_to_string([15, 5]))  # the last column only: beside a 4x4 block of 1
    left = (1, rle.counts_to_string([0, 15, 5]))
    decoded = rle.decode([left, side], 4, 5, overlapping="refuse")
    assert decoded.ravel(order="F").tolist() == [1] * 15 + [2] * 5


# --------------------------------------------------------------------------- the string codec


@st.composite
def count_lists(draw) -> list[int]:
    """Uncompressed counts: small, large (up to 2**28) and zero runs, in any order."""
    count = st.one_of(st.integers(0, 40), st.integers(0, 5000), st.integers(0, 2**28 - 1), st.just(0))
    return draw(st.lists(count, max_size=60))


#: Below this every count, and every difference of counts, takes at most 5 characters.
COCO_SAFE = 2**24


def coco_string(counts: list[int]) -> str:
    """pycocotools' compressed string for uncompressed counts (size only needs to be consistent).

    Only for a non-empty list of counts below ``COCO_SAFE``: pycocotools' ``rleToString``
    allocates 6 characters a count and writes its terminating NUL after the last one, one byte
    past the buffer when every count takes all 6 (valgrind: "Invalid write of size 1" at
    maskApi.c:249), and into a 0-byte buffer for no counts. The first corrupted the test
    process's heap and made the suite abort at random, long after the test that did it.
    """
    assert counts and max(counts) < COCO_SAFE, "pycocotools writes past its buffer on such counts"
    total = sum(counts)
    return coco.frPyObjects({"size": [1, total], "counts": counts}, 1, total)["counts"].decode("ascii")


def reference_string(counts: list[int]) -> str:
    """``rleToString`` of pycocotools' maskApi.c, line by line in Python: the oracle past ``COCO_SAFE``."""
    out = []
    for i, count in enumerate(counts):
        x = count - counts[i - 2] if i > 2 else count
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append(chr((c | 0x20 if more else c) + 48))
    return "".join(out)


@settings(max_examples=400, deadline=None)
@given(counts=st.lists(st.integers(0, COCO_SAFE - 1), min_size=1, max_size=60))
def test_reference_string_is_pycocotools(counts):
    """The Python transcription of rleToString gives pycocotools' strings wherever pycocotools is memory-safe."""
    assert reference_string(counts) == coco_string(counts)


@settings(max_examples=400, deadline=None)
@given(counts=count_lists())
def test_counts_codec_matches_pycocotools(counts):
    """counts_to_string equals pycocotools' string, and string_to_counts inverts it (str or bytes)."""
    text = rle.counts_to_string(counts)
    assert text == (coco_string(counts) if counts and max(counts) < COCO_SAFE else reference_string(counts))
    assert rle.string_to_counts(text) == counts
    assert rle.string_to_counts(text.encode("ascii")) == counts


def test_counts_of_six_characters_each():
    """Every count 6 characters long: the case pycocotools writes past its buffer on, exact here."""
    counts = [2**25, 2**25, 2**25, 2**26]
    text = rle.counts_to_string(counts)
    assert len(text) == 24 and text == reference_string(counts)
    assert rle.string_to_counts(text) == counts


@settings(max_examples=200, deadline=None)
@given(label=label_maps())
def test_counts_of_encoded_masks(label):
    """Each encoded string holds the column-major runs of its object, background first (checked without pycocotools)."""
    flat = label.ravel(order="F")
    for m in rle.encode(label):
        counts = rle.string_to_counts(m.counts)
        assert counts == column_runs(flat == m.object_id)
        assert sum(counts[1::2]) == m.area
        assert rle.counts_to_string(counts) == m.counts


KNOWN = [
    ([5, 2, 2, 2, 2, 2, 5], "5220003"),  # 4x5, a 2x3 block at rows 1-2, cols 1-3
    ([409920], "PZ`<"),  # empty 480x854
    ([0, 409920], "0PZ`<"),  # full 480x854
    ([], ""),
]


@pytest.mark.parametrize(("counts", "text"), KNOWN)
def test_known_vectors(counts, text):
    """Vectors from the pycocotools notes (docs/output-formats.md 1.2): both directions of the codec."""
    assert (coco_string(counts) if counts else reference_string(counts)) == text
    assert rle.counts_to_string(counts) == text
    assert rle.string_to_counts(text) == counts


def test_known_block_mask():
    """The 4x5 mask with a 2x3 block at rows 1-2, cols 1-3 encodes to "5220003" with pycocotools' area and bbox."""
    label = np.zeros((4, 5), np.uint8)
    label[1:3, 1:4] = 1
    assert rle.encode(label) == [Mask(1, "5220003", 6, (1, 1, 3, 2))]


@pytest.mark.parametrize("value", [0, 255])
def test_known_480p_masks(value):
    """Empty and full 480x854 masks give "PZ`<" and "0PZ`<"."""
    label = np.full((480, 854), value, np.uint8)
    masks = rle.encode(label)
    if value == 0:
        assert masks == []
        assert coco_rle(label == 1)["counts"] == b"PZ`<"
    else:
        assert masks == [Mask(255, "0PZ`<", 409920, (0, 0, 854, 480))]
    np.testing.assert_array_equal(rle.decode(pairs(masks), 480, 854), label)


@pytest.mark.parametrize("text", ["P", "5220003P", "oooo", "0o"])
def test_string_to_counts_rejects_truncated(text):
    """A string ending in a character with the continuation bit raises RleError."""
    with pytest.raises(rle.RleError):
        rle.string_to_counts(text)


@settings(max_examples=60, deadline=None)
@given(labels=st.lists(label_maps(), min_size=1, max_size=4))
def test_decode_frames_equals_one_decode_per_frame(labels):
    """The batch decoder (one compiled call for a clip) paints each frame exactly as decode does."""
    height, width = labels[0].shape
    stack = [np.resize(label, (height, width)).astype(np.uint8) for label in labels]
    frames = [[(m.object_id, m.counts) for m in rle.encode(label)] for label in stack]
    np.testing.assert_array_equal(rle.decode_frames(frames, height, width), np.stack(stack))


def test_decode_frames_empty_and_bad():
    assert rle.decode_frames([[], []], 3, 4).shape == (2, 3, 4)
    assert not rle.decode_frames([[], []], 3, 4).any()
    good = rle.encode(np.ones((3, 4), np.uint8))[0].counts
    with pytest.raises(rle.RleError, match="value 7"):
        rle.decode_frames([[(1, good)], [(7, "0")]], 3, 4)


def test_decode_frames_zeroes_frames_without_masks_whatever_memory_it_gets():
    """The stack is not allocated zeroed: a frame without masks must be cleared, not left as found."""
    label = np.zeros((64, 48), np.uint8)
    label[10:30, 5:20] = 2
    good = rle.encode(label)[0].counts
    for _ in range(20):
        for _ in range(3):  # freed memory full of 255 that the next allocation may reuse
            litter = np.full((4, 64, 48), 255, np.uint8)
            del litter
        stack = rle.decode_frames([[(2, good)], [], [(2, good)], []], 64, 48)
        assert not stack[1].any() and not stack[3].any()
        np.testing.assert_array_equal(stack[0], label)
        np.testing.assert_array_equal(stack[2], label)


def test_decode_frames_with_and_without_overlap():
    """Each frame is built on its own: one whose masks overlap (painted) beside ones that do not (filled)."""
    rng = np.random.default_rng(3)
    plain = make_label("blocks", rng, 30, 17, np.array([1, 2, 3], np.uint8))
    full = np.ones((30, 17), bool)
    block = np.zeros((30, 17), bool)
    block[4:9, 2:12] = True
    overlapping = [(1, coco_rle(full)["counts"].decode()), (2, coco_rle(block)["counts"].decode())]
    expected_overlap = np.where(block, 2, 1).astype(np.uint8)
    frames = [pairs(rle.encode(plain)), overlapping, [], pairs(rle.encode(plain))]
    stack = rle.decode_frames(frames, 30, 17)
    for got, want in zip(stack, [plain, expected_overlap, np.zeros_like(plain), plain]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("size", [None, (15, 9)])
def test_decode_frames_can_refuse_overlaps_naming_the_frame(size):
    """A label map cannot hold masks that overlap: refused with the first such frame's position, at any size."""
    full = np.ones((30, 17), bool)
    block = np.zeros((30, 17), bool)
    block[4:9, 2:12] = True
    apart = np.zeros((30, 17), bool)
    apart[20:25, 0:3] = True
    text = {name: coco_rle(m)["counts"].decode() for name, m in (("full", full), ("block", block), ("apart", apart))}
    frames = [[(1, text["block"]), (2, text["apart"])], [], [(3, text["full"]), (4, text["block"])], [(1, text["full"])]]
    with pytest.raises(rle.MasksOverlap, match=r"masks \[3, 4\] of frame 2 overlap"):
        rle.decode_frames(frames, 30, 17, size, overlapping="refuse")
    kept = [frames[0], frames[1], frames[3]]
    np.testing.assert_array_equal(
        rle.decode_frames(kept, 30, 17, size, overlapping="refuse"), rle.decode_frames(kept, 30, 17, size)
    )


def _nearest(label: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The reference: the full-size decode, then each target pixel the source pixel under its centre."""
    rows = [min(int((i + 0.5) * label.shape[-2] / size[0]), label.shape[-2] - 1) for i in range(size[0])]
    cols = [min(int((j + 0.5) * label.shape[-1] / size[1]), label.shape[-1] - 1) for j in range(size[1])]
    return label[..., rows, :][..., cols]


@settings(max_examples=80, deadline=None)
@given(
    labels=st.lists(label_maps(), min_size=1, max_size=3),
    size=st.tuples(st.integers(1, 40), st.integers(1, 40)),
)
def test_decode_frames_to_a_size_samples_the_full_decode(labels, size):
    """Decoding straight to another size (smaller, larger, a whole factor or not) gives the full decode's nearest pixels."""
    height, width = labels[0].shape
    stack = np.stack([np.resize(label, (height, width)).astype(np.uint8) for label in labels])
    frames = [[(m.object_id, m.counts) for m in rle.encode(label)] for label in stack]
    np.testing.assert_array_equal(rle.decode_frames(frames, height, width, size), _nearest(stack, size))


@pytest.mark.parametrize("size", [(15, 8), (10, 6), (60, 34), (7, 17), (30, 17)])
def test_decode_planes_to_a_size_keeps_overlaps_and_empty_frames(size):
    full = np.ones((30, 17), bool)
    block = np.zeros((30, 17), bool)
    block[4:9, 2:12] = True
    frames = [
        [(1, coco_rle(full)["counts"].decode()), (5, coco_rle(block)["counts"].decode())],
        [],
        [(5, coco_rle(block)["counts"].decode())],
    ]
    whole = rle.decode_planes(frames, [5, 1], 30, 17)
    got = rle.decode_planes(frames, [5, 1], 30, 17, size)
    assert got.shape == (3, 2, *size) and got.dtype == bool
    np.testing.assert_array_equal(got, _nearest(whole, size))
    assert got[0, 0].any() and got[0, 1].all() and not got[1].any()


@pytest.mark.parametrize("size", [None, (15, 8), (3, 2), (60, 34)])
def test_decode_planes_says_which_planes_have_pixels(size):
    """``present`` is each decoded plane's ``any()``, found from the runs: an empty RLE, an absent object, a frame
    without masks, and a speck that sampling to a small size misses are all False; no plane is read back."""
    block, speck, empty = (np.zeros((30, 17), bool) for _ in range(3))
    block[4:9, 2:12] = True
    speck[13, 7] = True
    counts = {name: coco_rle(mask)["counts"].decode() for name, mask in (("block", block), ("speck", speck), ("empty", empty))}
    frames = [
        [(1, counts["block"]), (5, counts["speck"])],
        [],
        [(5, counts["empty"]), (9, counts["block"])],
        [(1, counts["speck"]), (1, counts["empty"])],
    ]
    present = np.ones((4, 3), bool)
    planes = rle.decode_planes(frames, [5, 1, 2], 30, 17, size, present=present)
    np.testing.assert_array_equal(present, planes.any(axis=(2, 3)))
    assert present[0, 0] == (size != (3, 2)) and present[0, 1] and not present[1:3].any() and present[3, 1] == present[0, 0]


def test_decode_frames_nonempty_matches_the_maps_and_is_checked():
    """``nonempty`` is set for every frame (stale values overwritten), value-0 masks count as background, and a
    wrongly shaped or typed array is refused before anything is decoded."""
    rng = np.random.default_rng(5)
    labels = [make_label("blocks", rng, 20, 11, np.array([1, 2, 3], np.uint8)) for _ in range(3)] + [np.zeros((20, 11), np.uint8)]
    frames = [[(m.object_id, m.counts) for m in rle.encode(label)] for label in labels]
    frames[3] = [(0, rle.encode(np.ones((20, 11), np.uint8))[0].counts)]  # paints 0 over everything
    for size in (None, (7, 5)):
        nonempty = np.array([False, True, False, True])
        maps = rle.decode_frames(frames, 20, 11, size, nonempty=nonempty)
        np.testing.assert_array_equal(nonempty, maps.any(axis=(1, 2)))
    for bad in (np.zeros(3, bool), np.zeros(4, np.uint8), np.zeros(8, bool)[::2]):
        with pytest.raises(TypeError, match="nonempty must be"):
            rle.decode_frames(frames, 20, 11, nonempty=bad)
    with pytest.raises(TypeError, match="present must be"):
        rle.decode_planes(frames, [1, 2], 20, 11, present=np.zeros((4, 2), bool).T.copy().T)


@pytest.mark.parametrize("size", [None, (7, 5)])
def test_decode_planes_and_frames_overwrite_a_given_out_whole(size):
    """``out`` full of old values comes back as the fresh decode, the same array; a wrong one is refused."""
    rng = np.random.default_rng(8)
    labels = [make_label("blocks", rng, 20, 11, np.array([1, 2, 3], np.uint8)) for _ in range(2)]
    frames = [[(m.object_id, m.counts) for m in rle.encode(label)] for label in labels] + [[]]
    h, w = size or (20, 11)
    out = np.ones((3, 2, h, w), bool)
    assert rle.decode_planes(frames, [3, 1], 20, 11, size, out=out) is out
    np.testing.assert_array_equal(out, rle.decode_planes(frames, [3, 1], 20, 11, size))
    maps = np.full((3, h, w), 9, np.uint8)
    assert rle.decode_frames(frames, 20, 11, size, out=maps) is maps
    np.testing.assert_array_equal(maps, rle.decode_frames(frames, 20, 11, size))
    empty = np.full((1, h, w), 9, np.uint8)
    assert not rle.decode_frames([[]], 20, 11, size, out=empty).any()
    with pytest.raises(TypeError, match="out must be"):
        rle.decode_planes(frames, [3, 1], 20, 11, size, out=np.ones((3, 2, h, w), np.uint8))


def test_outputs_larger_than_a_cache_decode_the_same():
    """Above 32 MiB of output the kernels write with non-temporal stores (on x86-64): the same pixels as
    pycocotools, rows of odd width (unaligned starts and tails), zero blocks, and the sampled decode too."""
    height, width = 2001, 9007  # two frames: 36 MB
    rng = np.random.default_rng(11)
    masks = []
    for _ in range(2):
        mask = np.zeros((height, width), np.uint8)
        mask[300:1700, 17:9000] = 1
        mask[900:1000, 4000:4400] = 0
        mask[1200:1210] = rng.integers(0, 2, (10, width), np.uint8)
        masks.append(mask)
    frames = [[(1, coco_rle(mask)["counts"].decode())] for mask in masks] + [[]]
    out = np.full((3, height, width), 7, np.uint8)
    rle.decode_frames(frames, height, width, out=out)
    for mask, got in zip(masks, out):
        np.testing.assert_array_equal(got, coco.decode(coco_rle(mask)))
    assert not out[2].any()
    small = [[(1, coco_rle(mask[::4, ::4])["counts"].decode())] for mask in masks] + [[]]
    sampled = rle.decode_frames(small, *masks[0][::4, ::4].shape, (height, width))
    np.testing.assert_array_equal(sampled[:2], _nearest(np.stack([m[::4, ::4] for m in masks]), (height, width)))
    assert not sampled[2].any()
    flags = np.ones(3, bool)  # no masks at all: the kernel still clears every frame (streamed, not numpy's fill)
    assert rle.decode_frames([[], [], []], height, width, out=out, nonempty=flags) is out
    assert not out.any() and not flags.any()


@pytest.mark.parametrize("size", [None, (3, 2)])
def test_nonempty_is_false_when_a_later_value_0_mask_paints_over_all_foreground(size):
    full = rle.encode(np.ones((6, 5), np.uint8))[0].counts
    nonempty = np.ones(2, bool)
    maps = rle.decode_frames([[(1, full), (0, full)], [(0, full), (1, full)]], 6, 5, size, nonempty=nonempty)
    assert nonempty.tolist() == maps.any(axis=(1, 2)).tolist() == [False, True]


def test_decode_frames_to_a_size_still_checks_every_string():
    good = rle.encode(np.ones((30, 17), np.uint8))[0].counts
    with pytest.raises(rle.RleError, match="value 7: it does not describe a 30x17 mask"):
        rle.decode_frames([[(1, good)], [(7, good[:-1] + "1")]], 30, 17, (15, 8))


@pytest.mark.parametrize(
    ("rows", "cols", "says"),
    [
        ([0, 2], [0, 1, 2], "rows must hold one"),  # one row too few
        ([0, 2, 1], [0, 1, 2], "non-decreasing"),
        ([0, 1, 30], [0, 1, 2], r"\[0, 30\)"),
        ([0, 1, 2], [-1, 1, 2], "cols must hold"),
    ],
)
def test_the_sampled_decoder_refuses_positions_outside_the_mask(rows, cols, says):
    good = rle.encode(np.ones((30, 17), np.uint8))[0].counts.encode()
    out = np.empty((1, 3, 3), np.uint8)
    offsets, values, starts = np.array([0, len(good)], np.int64), np.array([1], np.uint8), np.array([0, 1], np.int64)
    for kernels in (_kernels, _kernels_checked):
        with pytest.raises(ValueError, match=says):
            kernels.decode_sampled(out, good, offsets, values, starts, 30, 17, np.array(rows, np.int64), np.array(cols, np.int64))


# --------------------------------------------------------------------------- hostile counts


NOT_ASCII = "5220\u00e9003"  # "5220003" (a 4x5 mask) with an é inside
STRING_FUNCTIONS = {
    "decode": lambda c: rle.decode([(1, c)], 4, 5),
    "decode-refusing-overlap": lambda c: rle.decode([(1, c)], 4, 5, overlapping="refuse"),
    "decode_frames": lambda c: rle.decode_frames([[(1, c)]], 4, 5),
    "decode_frames-sampled": lambda c: rle.decode_frames([[(1, c)]], 4, 5, (2, 3)),
    "overlap": lambda c: rle.overlap([(1, "5220003"), (2, c)], 4, 5),
    "measure": lambda c: rle.measure(c, 4, 5),
    "measure_canonical": lambda c: rle.measure_canonical(c, 4, 5),
    "canonical": rle.canonical,
    "checked_mask": lambda c: rle.checked_mask(1, c, 6, (1, 1, 3, 2), 4, 5),
    "string_to_counts": rle.string_to_counts,
}


@pytest.mark.parametrize("call", list(STRING_FUNCTIONS.values()), ids=list(STRING_FUNCTIONS))
def test_non_ascii_counts_are_an_rle_error(call):
    """A counts string with a non-ASCII character is vosconv's RleError, never a UnicodeEncodeError."""
    assert call("5220003") is not None  # the same call on the ASCII string works
    with pytest.raises(rle.RleError, match="not ASCII"):
        call(NOT_ASCII)


@pytest.mark.parametrize("counts", [None, 7, [5, 2, 2], ["5220003"]], ids=repr)
@pytest.mark.parametrize("call", list(STRING_FUNCTIONS.values()), ids=list(STRING_FUNCTIONS))
def test_compressed_counts_that_are_not_a_string_are_an_rle_error(call, counts):
    """Where a compressed string is expected, anything else is an RleError naming its type (``bytes(7)`` is not it)."""
    with pytest.raises(rle.RleError, match="must be a string"):
        call(counts)


@pytest.mark.parametrize(
    "counts",
    [
        [[0, 20]],  # nested, as a COCO file may hold it
        [0, [10, 10]],
        [0, 10.0, 10],
        [0, "10", 10],
        [0, True, 19],
        [0, None],
        [1 << 63],  # no int64
        [-(1 << 63) - 1],
        [10**5000],
        "0 20",
        b"\x00\x14",
        None,
        5,
        np.zeros((2, 2), np.int64),
        np.array([0.0, 20.0]),
        np.array([1 << 63], np.uint64),
    ],
    ids=lambda c: type(c).__name__,
)
def test_counts_to_string_refuses_what_is_not_a_flat_list_of_int64(counts):
    """Uncompressed counts are checked before the kernel: a clear RleError, not a TypingError or OverflowError."""
    with pytest.raises(rle.RleError, match="uncompressed RLE count"):
        rle.counts_to_string(counts)


def test_counts_to_string_takes_any_flat_sequence_of_integers():
    expected = rle.counts_to_string([5, 2, 2, 3, 8])
    assert rle.counts_to_string((5, 2, 2, 3, 8)) == expected
    assert rle.counts_to_string(np.array([5, 2, 2, 3, 8], np.uint16)) == expected
    assert rle.counts_to_string([np.int64(5), np.uint8(2), 2, 3, 8]) == expected
    assert rle.counts_to_string([]) == rle.counts_to_string(np.array([])) == ""


# --------------------------------------------------------------------------- the compiled kernels


def kernels_in_a_fresh_process(environment: dict[str, str]) -> str:
    code = "from converters.codecs import rle, png; assert rle.kernels is png.kernels; print(rle.kernels.__name__)"
    env = {key: value for key, value in os.environ.items() if key != BOUNDSCHECK_VARIABLE} | environment
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def test_the_environment_variable_selects_the_bounds_checked_build():
    assert kernels_in_a_fresh_process({}) == "converters.codecs._kernels"
    assert kernels_in_a_fresh_process({BOUNDSCHECK_VARIABLE: "0"}) == "converters.codecs._kernels"
    assert kernels_in_a_fresh_process({BOUNDSCHECK_VARIABLE: "1"}) == "converters.codecs._kernels_checked"


def test_the_bounds_checked_build_catches_an_index_out_of_range():
    """The encoder's step that writes one count, given 2 bytes where it writes past the 5th: IndexError, no corruption."""
    out = bytearray(2)
    with pytest.raises(IndexError, match=r"index 5 is out of range for length 2"):
        _kernels_checked.put_count(out, 5, 123456)
    assert out == bytearray(2)
    assert _kernels_checked.put_count(bytearray(8), 0, 123456) == 4  # room enough: the same step works
    assert _kernels_checked.BOUNDSCHECK and not _kernels.BOUNDSCHECK
    assert not hasattr(_kernels, "put_count")  # the unchecked build has no unguarded entry


@pytest.mark.skipif(os.environ.get(BOUNDSCHECK_VARIABLE) != "1", reason="only in make test's bounds-checked run")
def test_the_bounds_checked_run_really_checks_bounds():
    """The second run of the kernel tests uses the checked build, not the one vosconv ships to run."""
    assert rle.kernels is _kernels_checked


WIDE = 2**31 + 10
HUGE_MAP_CALLS = {
    "encode": "label = np.zeros(SHAPE, np.uint8); label[-1, -1] = 5; label[0, 0] = 3; rle.encode(label)",
    "decode": "rle.decode([(1, rle.counts_to_string([PIXELS - 5, 5]))], *SHAPE, out=np.zeros(SHAPE, np.uint8))",
    "overlap": "c = rle.counts_to_string([PIXELS - 5, 5]); rle.overlap([(1, c), (2, c)], *SHAPE)",
}


@pytest.mark.parametrize("shape", [(WIDE, 1), (1, WIDE)])
@pytest.mark.parametrize("call", sorted(HUGE_MAP_CALLS))
def test_the_kernels_refuse_a_mask_whose_side_does_not_fit_their_32_bit_indices(shape, call):
    """Rows and columns are int32 in the kernels: a map 2**31 + 10 rows high wrapped them negative and encode and
    decode read or wrote before the map (a segfault); 2**31 + 10 columns wide they allocated 8 to 28 bytes a column.
    Run in a fresh interpreter, so a crash is a failure here; the maps are calloc'd, only touched pages take memory."""
    code = (
        "import numpy as np\n"
        "from converters.codecs import rle\n"
        f"SHAPE, PIXELS = {shape}, {shape[0] * shape[1]}\n"
        "try:\n"
        f"    {HUGE_MAP_CALLS[call]}\n"
        "except ValueError as error:\n"
        "    print('refused:', error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "refused:" in done.stdout, (done.returncode, done.stdout, done.stderr[-500:])
