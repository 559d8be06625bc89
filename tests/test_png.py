"""converters.codecs.png: the mask decoder gives exactly Pillow's values, and what encode writes reads back.

The reference for every decoded file is Pillow's ``np.asarray(Image.open(...))``. Files come from
Pillow itself (palette PNGs at 1/2/4/8 bits, adaptively filtered grayscale), from a small PNG
encoder (``tests.pngs.make_png``: any filter type on any row, Adam7 interlacing, IDAT split
across chunks, sub-byte grayscale), and from the real masks under ``shared/samples``.
"""

from __future__ import annotations

import functools
import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from converters.codecs import libdeflate, png

from .pngs import (
    chunk,
    chunk_spans,
    insert_chunk,
    make_png,
    pillow_png,
    pillow_refuses,
    pillow_values,
    random_values,
    with_ihdr,
)

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
DECODE = png.decode


@pytest.fixture(autouse=True, scope="module", params=["fresh", "reuse"])
def decode_path(request):
    """Every test here runs on both paths: a fresh array per call, and (``reuse=True``, what the
    readers use) libdeflate inflating into this thread's scratch buffer."""
    if request.param == "fresh":
        yield
        return
    if not libdeflate.available():
        pytest.skip("this deflate build does not export libdeflate")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(png, "decode", functools.partial(DECODE, reuse=True))
        yield


# --------------------------------------------------------------------------- helpers


def assert_same_as_pillow(data: bytes) -> np.ndarray:
    """decode(data) has Pillow's values, shape and a 2-D uint8 type; returns the values."""
    values, info = png.decode(data)
    expected = pillow_values(data)
    assert values.dtype == np.uint8
    assert values.shape == expected.shape == (info.height, info.width)
    np.testing.assert_array_equal(values, expected)
    return values


SIDE = st.one_of(st.integers(1, 40), st.sampled_from([1, 2, 3, 7, 8, 9, 15, 16, 17, 33]))
SEED = st.integers(0, 2**32 - 1)
SETTINGS = settings(max_examples=150, deadline=None)

# --------------------------------------------------------------------------- Pillow-written files


@SETTINGS
@given(height=SIDE, width=SIDE, bits=st.sampled_from([1, 2, 4, 8]), seed=SEED)
def test_pillow_palette_png_at_every_bit_depth(height, width, bits, seed):
    """Mode P saved with bits=1/2/4/8 (widths leaving partial bytes) decodes to Pillow's indices and header."""
    values = random_values(seed, height, width, bits)
    palette = bytes(np.random.default_rng(seed).integers(0, 256, 3 << bits, dtype=np.uint8))
    data = pillow_png(values, "P", palette, bits=bits)
    decoded = assert_same_as_pillow(data)
    np.testing.assert_array_equal(decoded, values)
    info = png.read_header(data)
    assert info == png.decode(data)[1]
    assert (info.width, info.height, info.mode, info.bit_depth) == (width, height, "P", bits)
    assert info.palette == palette


@SETTINGS
@given(height=SIDE, width=SIDE, seed=SEED, smooth=st.booleans())
def test_pillow_grayscale_png(height, width, seed, smooth):
    """Mode L (Pillow filters these rows adaptively: Sub, Up, Average, Paeth) decodes to Pillow's values."""
    values = random_values(seed, height, width, 8)
    if smooth:  # gradients make Pillow pick the predicting filters
        values = (np.add.outer(np.arange(height) * 3, np.arange(width) * 5) + values // 16).astype(np.uint8)
    data = pillow_png(values, "L")
    np.testing.assert_array_equal(assert_same_as_pillow(data), values)
    info = png.read_header(data)
    assert (info.width, info.height, info.mode, info.bit_depth, info.palette) == (width, height, "L", 8, None)


def test_pillow_grayscale_png_uses_filters():
    """The adaptive-filter case above is real: Pillow's mode-L file has rows with non-zero filter types."""
    values = np.add.outer(np.arange(64), np.arange(64)).astype(np.uint8)
    data = pillow_png(values, "L")
    idat = b"".join(data[start + 8 : end - 4] for kind, start, end in chunk_spans(data) if kind == b"IDAT")
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(64, 65)
    assert rows[:, 0].any()
    np.testing.assert_array_equal(assert_same_as_pillow(data), values)


@pytest.mark.parametrize("size", [(1, 1), (1, 9), (9, 1), (5, 13), (16, 16)])
def test_pillow_one_bit_grayscale(size):
    """Mode "1" (1-bit grayscale, through the Pillow fallback) decodes to 0/255, as Pillow's pixel values."""
    values = random_values(sum(size), *size, 1)
    data = pillow_png(values * 255, "1")
    assert png.read_header(data).bit_depth == 1
    np.testing.assert_array_equal(assert_same_as_pillow(data), values * 255)
    with Image.open(io.BytesIO(data)) as image:
        assert image.getpixel((0, 0)) == 255 * values[0, 0]


# --------------------------------------------------------------------------- files from the reference encoder


@SETTINGS
@given(
    height=SIDE,
    width=SIDE,
    depth=st.sampled_from([1, 2, 4, 8]),
    seed=SEED,
    data=st.data(),
)
def test_any_filter_on_any_row(height, width, depth, seed, data):
    """Palette PNGs whose rows use any mix of filters 0-4 (first row included) decode to the original and to Pillow."""
    filters = tuple(data.draw(st.lists(st.integers(0, 4), min_size=height, max_size=height), label="filters"))
    idat_chunks = data.draw(st.integers(1, 4), label="idat_chunks")
    values = random_values(seed, height, width, depth)
    encoded = make_png(values, depth=depth, filters=filters, idat_chunks=idat_chunks)
    np.testing.assert_array_equal(assert_same_as_pillow(encoded), values)


@SETTINGS
@given(height=SIDE, width=SIDE, seed=SEED, filters=st.lists(st.integers(0, 4), min_size=1, max_size=8))
def test_any_filter_on_grayscale_rows(height, width, seed, filters):
    """8-bit grayscale rows with mixed filters decode to the original and to Pillow."""
    values = random_values(seed, height, width, 8)
    encoded = make_png(values, colour=0, filters=tuple(filters), idat_chunks=2)
    np.testing.assert_array_equal(assert_same_as_pillow(encoded), values)


@pytest.mark.parametrize("depth", [1, 2, 4, 8])
@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4], ids=["none", "sub", "up", "average", "paeth"])
def test_one_filter_everywhere(kind, depth):
    """Every row, the first included, filtered with one type; odd width, so the last byte is partial."""
    values = random_values(kind * 10 + depth, 11, 13, depth)
    encoded = make_png(values, depth=depth, filters=(kind,))
    np.testing.assert_array_equal(assert_same_as_pillow(encoded), values)


@pytest.mark.parametrize("kind", [1, 2, 3, 4], ids=["sub", "up", "average", "paeth"])
def test_filters_with_carries(kind):
    """Bytes near 0 and 255 make the filtered bytes wrap around modulo 256 in both directions."""
    values = np.array([[255, 0, 255, 1, 254], [0, 255, 0, 255, 0], [128, 127, 255, 255, 0], [1, 2, 253, 0, 255]], np.uint8)
    encoded = make_png(values, filters=(kind,))
    np.testing.assert_array_equal(assert_same_as_pillow(encoded), values)


def mask_like(seed: int, height: int, width: int) -> np.ndarray:
    """Flat rectangles of a few ids on a background: long stretches of filtered zeros, as real masks have."""
    rng = np.random.default_rng(seed)
    values = np.zeros((height, width), np.uint8)
    for _ in range(rng.integers(1, 6)):
        y, x = rng.integers(0, height), rng.integers(0, width)
        values[y : y + rng.integers(1, height + 1), x : x + rng.integers(1, width + 1)] = rng.choice([1, 2, 3, 127, 255])
    return values


@settings(max_examples=120, deadline=None)
@given(height=SIDE, width=SIDE, seed=SEED, data=st.data())
def test_any_filter_on_flat_masks(height, width, seed, data):
    """Mask-like images (where the unfilter's flat-stretch shortcuts apply) with any filter per row equal Pillow."""
    filters = tuple(data.draw(st.lists(st.integers(0, 4), min_size=height, max_size=height), label="filters"))
    values = mask_like(seed, height, width)
    np.testing.assert_array_equal(assert_same_as_pillow(make_png(values, filters=filters)), values)


@pytest.mark.parametrize("kind", [1, 2, 3, 4], ids=["sub", "up", "average", "paeth"])
def test_one_filter_on_a_full_size_mask(kind):
    """A 1080p mask-like image, every row with one filter type."""
    values = mask_like(kind, 1080, 1920)
    np.testing.assert_array_equal(assert_same_as_pillow(make_png(values, filters=(kind,))), values)


def test_filter_cycle_on_a_large_image():
    """A 480x854 palette PNG cycling through all five filters row by row, split over 7 IDAT chunks."""
    values = random_values(7, 480, 854, 8) // 32  # few distinct values, like a mask
    encoded = make_png(values, filters=(0, 1, 2, 3, 4, 4, 3, 2, 1), idat_chunks=7)
    np.testing.assert_array_equal(assert_same_as_pillow(encoded), values)


@pytest.mark.parametrize("idat_chunks", [1, 2, 3, 10, 50])
def test_many_idat_chunks(idat_chunks):
    """The zlib stream split over several IDAT chunks (some empty when the stream is short) decodes whole."""
    values = random_values(idat_chunks, 20, 21, 8)
    encoded = make_png(values, filters=(0, 4), idat_chunks=idat_chunks)
    assert sum(kind == b"IDAT" for kind, _, _ in chunk_spans(encoded)) == idat_chunks
    np.testing.assert_array_equal(assert_same_as_pillow(encoded), values)


def test_ancillary_chunks_are_skipped():
    """tEXt, gAMA and tRNS chunks before the image data change nothing."""
    values = random_values(3, 6, 10, 8)
    extra = chunk(b"tEXt", b"Comment\x00hello") + chunk(b"gAMA", struct.pack(">I", 45455)) + chunk(b"tRNS", b"\x00")
    encoded = make_png(values, extra=extra)
    np.testing.assert_array_equal(assert_same_as_pillow(encoded), values)


@pytest.mark.parametrize("depth", [1, 2, 4])
@pytest.mark.parametrize("size", [(1, 1), (3, 5), (8, 8), (13, 17)])
def test_sub_byte_grayscale(depth, size):
    """1/2/4-bit grayscale (decoded by the Pillow fallback) equals Pillow, filters included."""
    values = random_values(depth, *size, depth)
    encoded = make_png(values, colour=0, depth=depth, filters=(0, 1, 2, 3, 4))
    assert png.read_header(encoded).bit_depth == depth
    assert_same_as_pillow(encoded)


@pytest.mark.parametrize("colour", [0, 3], ids=["grayscale", "palette"])
@pytest.mark.parametrize("depth", [1, 2, 4, 8])
@pytest.mark.parametrize("size", [(1, 1), (2, 3), (7, 9), (17, 33)])
def test_interlaced(colour, depth, size):
    """Adam7-interlaced PNGs (the Pillow fallback) equal Pillow; palette ones also equal the original."""
    values = random_values(depth + size[0], *size, depth)
    encoded = make_png(values, colour=colour, depth=depth, interlace=True, filters=(0, 1, 2, 3, 4))
    decoded = assert_same_as_pillow(encoded)
    if colour == 3 or depth == 8:
        np.testing.assert_array_equal(decoded, values)


# --------------------------------------------------------------------------- real masks


def sample_pngs() -> list[Path]:
    return sorted(SAMPLES.rglob("*.png")) if SAMPLES.is_dir() else []


@pytest.mark.parametrize(
    "path", sample_pngs() or [None], ids=lambda p: str(p.relative_to(SAMPLES)) if isinstance(p, Path) else "no-samples"
)
def test_real_samples(path):
    """Every sample PNG: Pillow's values when Pillow reads it as a mask (P, L, 1), otherwise PngError."""
    if path is None:
        pytest.skip(f"no sample folder at {SAMPLES}")
    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        mode = image.mode
    if mode not in ("P", "L", "1"):
        with pytest.raises(png.PngError):
            png.decode(data)
        return
    values = assert_same_as_pillow(data)
    info = png.read_header(data)
    assert (info.width, info.height) == (values.shape[1], values.shape[0])
    assert info.mode == ("P" if mode == "P" else "L")


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_colour_png_refused(mode):
    """RGB and RGBA PNGs raise PngError naming the colour type (from decode and read_header)."""
    data = pillow_png(np.zeros((4, 5), np.uint8), mode)
    for read in (png.decode, png.read_header):
        with pytest.raises(png.PngError, match="RGB") as caught:
            read(data)
        assert "colour" in str(caught.value)


def test_grayscale_alpha_refused():
    """Grayscale with alpha (colour type 4) is refused too."""
    with pytest.raises(png.PngError, match="grayscale\\+alpha"):
        png.decode(pillow_png(np.zeros((4, 5), np.uint8), "LA"))


def test_16_bit_refused():
    """16-bit grayscale raises PngError mentioning 16-bit."""
    data = pillow_png(np.arange(20, dtype=np.uint8).reshape(4, 5), "I;16")
    assert data[24] == 16  # IHDR bit depth
    for read in (png.decode, png.read_header):
        with pytest.raises(png.PngError, match="16-bit"):
            read(data)


def good_png() -> bytes:
    return make_png(random_values(5, 30, 40, 8), filters=(0, 1, 2, 3, 4))


def cut_in_idat() -> bytes:
    data = good_png()
    (_, start, end) = next(span for span in chunk_spans(data) if span[0] == b"IDAT")
    return data[: (start + end) // 2]


def cut_before_iend() -> bytes:
    data = good_png()
    return data[: chunk_spans(data)[-1][1]]


def truncated_stream() -> bytes:
    """Every chunk well-formed, but the IDAT holds only the first half of the zlib stream."""
    values = random_values(5, 30, 40, 8)
    whole = make_png(values)
    (_, start, end) = next(span for span in chunk_spans(whole) if span[0] == b"IDAT")
    stream = whole[start + 8 : end - 4]
    return whole[:start] + chunk(b"IDAT", stream[: len(stream) // 2]) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(cut_in_idat(), id="cut-in-idat"),
        pytest.param(png.SIGNATURE, id="signature-only"),
        pytest.param(good_png()[:20], id="cut-in-ihdr"),
        pytest.param(cut_before_iend(), id="no-iend"),
        pytest.param(truncated_stream(), id="short-zlib-stream"),
    ],
)
def test_truncated(data):
    """Truncated files raise PngError saying so."""
    with pytest.raises(png.PngError, match="truncated"):
        png.decode(data)


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (2**31 - 1, 2**31 - 1), (1 << 24, 1)])
def test_header_bigger_than_its_data_can_inflate_to(width, height):
    """A header declaring more pixels than the stream could ever inflate to (deflate's limit is
    1032:1) is refused before any buffer is allocated: no MemoryError, no gigabytes touched."""
    data = good_png()
    spans = chunk_spans(data)
    _, start, end = spans[0]
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    forged = data[:start] + chunk(b"IHDR", header) + data[end:]
    with pytest.raises(png.PngError, match="cannot inflate"):
        png.decode(forged)


@pytest.mark.parametrize(("colour", "depth", "interlace"), [(3, 8, 1), (0, 4, 0), (0, 1, 1)])
def test_forged_header_is_refused_on_the_pillow_paths_too(colour, depth, interlace):
    """Interlaced and low-depth grayscale PNGs go to Pillow: the same check comes first."""
    data = good_png()
    spans = chunk_spans(data)
    _, start, end = spans[0]
    header = struct.pack(">IIBBBBB", 100_000, 100_000, depth, colour, 0, 0, interlace)
    forged = data[:start] + chunk(b"IHDR", header) + data[end:]
    with pytest.raises(png.PngError, match="cannot inflate"):
        png.decode(forged)


def test_pillow_decompression_bomb_guard_is_a_png_error():
    """A header past Pillow's pixel limit, with data enough to pass ours, is a PngError, not Pillow's exception."""
    header = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 3, 0, 0, 1)  # interlaced: Pillow decodes it
    stream = zlib.compress(np.random.default_rng(0).integers(0, 256, 600_000, dtype=np.uint8).tobytes(), 0)
    data = png.SIGNATURE + chunk(b"IHDR", header) + chunk(b"PLTE", bytes(6)) + chunk(b"IDAT", stream) + chunk(b"IEND", b"")
    with pytest.raises(png.PngError, match="unreadable PNG"):
        png.decode(data)


@pytest.mark.parametrize("size", [0, 5, 771])
def test_a_palette_that_is_not_1_to_256_triplets_is_corrupt(size):
    data = good_png()
    spans = chunk_spans(data)
    _, start, end = next(span for span in spans if span[0] == b"PLTE")
    forged = data[:start] + chunk(b"PLTE", bytes(size)) + data[end:]
    for read in (png.decode, png.read_header):
        with pytest.raises(png.PngError, match=f"PLTE chunk of {size} bytes"):
            read(forged)


def test_highly_compressed_mask_is_not_refused():
    """A real mask near deflate's best ratio (one value everywhere) still decodes."""
    pixels = np.full((2160, 3840), 7, np.uint8)
    np.testing.assert_array_equal(png.decode(make_png(pixels))[0], pixels)


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def test_corrupt_crc():
    """A flipped bit in a chunk body or in its CRC raises PngError mentioning the CRC."""
    data = good_png()
    for kind, start, end in chunk_spans(data):
        if kind in (b"IHDR", b"IDAT"):
            for position in (start + 8, end - 1):
                with pytest.raises(png.PngError, match="CRC"):
                    png.decode(flip(data, position))


@pytest.mark.parametrize(
    "data",
    [b"", b"PNG", b"GIF89a" + bytes(40), b"\xff\xd8\xff\xe0" + bytes(40), bytes(range(256)), b"\x89PNG\r\n\x1b\n" + bytes(30)],
    ids=["empty", "short", "gif", "jpeg", "noise", "bad-signature"],
)
def test_not_a_png(data):
    """Bytes that are not a PNG raise PngError."""
    for read in (png.decode, png.read_header):
        with pytest.raises(png.PngError):
            read(data)


def replace_idat(data: bytes, stream: bytes) -> bytes:
    """``data`` with its image data replaced by one IDAT holding ``stream``."""
    spans = chunk_spans(data)
    first = next(start for kind, start, _ in spans if kind == b"IDAT")
    return data[:first] + chunk(b"IDAT", stream) + chunk(b"IEND", b"")


def test_unknown_filter_type():
    """A row with filter type 5 raises PngError naming the filter."""
    values = random_values(1, 4, 6, 8)
    raw = np.zeros((4, 7), np.uint8)
    raw[:, 1:] = values
    raw[2, 0] = 5
    with pytest.raises(png.PngError, match="filter"):
        png.decode(replace_idat(make_png(values), zlib.compress(raw.tobytes())))


def test_garbage_image_data():
    """An IDAT that is not a zlib stream raises PngError."""
    with pytest.raises(png.PngError, match="corrupt"):
        png.decode(replace_idat(good_png(), b"this is not zlib data at all"))


@pytest.mark.parametrize(("rows", "message"), [(29, "truncated"), (31, "corrupt"), (300, "corrupt")])
def test_wrong_amount_of_image_data(rows, message):
    """A complete zlib stream holding fewer rows than IHDR says is truncated; one holding more is corrupt."""
    raw = np.zeros((rows, 41), np.uint8)  # good_png() is 30 rows of 40 pixels
    with pytest.raises(png.PngError, match=message):
        png.decode(replace_idat(good_png(), zlib.compress(raw.tobytes())))


def test_missing_ihdr():
    """A PNG whose IHDR chunk is missing raises PngError from decode and read_header."""
    data = good_png()
    (_, start, end) = chunk_spans(data)[0]
    for read in (png.decode, png.read_header):
        with pytest.raises(png.PngError):
            read(data[:start] + data[end:])


def test_missing_image_data():
    """A PNG without IDAT raises PngError."""
    data = good_png()
    without = b"".join(data[start:end] for kind, start, end in chunk_spans(data) if kind != b"IDAT")
    for read in (png.decode, png.read_header):
        with pytest.raises(png.PngError, match="image data"):
            read(data[:8] + without)


# --------------------------------------------------------------------------- what Pillow refuses, or reads otherwise

#: Every (colour type, bit depth) the PNG specification allows; Pillow reads exactly these.
ALLOWED_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def packed_png(depth: int, colour: int = 3, height: int = 6, width: int = 40) -> bytes:
    """A PNG whose image data is ``height`` filter-0 rows of the length ``depth`` bits a pixel makes
    (for a depth the format does not allow too): only the header can tell it is wrong."""
    stride = (width * max(depth, 1) + 7) // 8
    raw = np.zeros((height, stride + 1), np.uint8)
    raw[:, 1:] = np.random.default_rng(depth).integers(0, 256, (height, stride), dtype=np.uint8)
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    plte = chunk(b"PLTE", bytes(768)) if colour == 3 else b""
    return png.SIGNATURE + chunk(b"IHDR", header) + plte + chunk(b"IDAT", zlib.compress(raw.tobytes())) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("colour", "depth"),
    [
        (c, d)
        for c in (0, 2, 3, 4, 6)
        for d in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 32, 255)
        if d not in ALLOWED_DEPTHS[c]
    ],
)
def test_a_bit_depth_the_format_does_not_allow_is_refused(colour, depth):
    """A palette PNG of bit depth 3 once decoded to an array narrower than its header (so RLE counts
    did not sum to h*w), and bit depth 0 raised ZeroDivisionError. Every combination the
    specification does not list is a PngError naming the depth, as Pillow refuses it too."""
    data = packed_png(depth, colour)
    assert pillow_refuses(data)
    for read in (png.decode, png.read_header):
        with pytest.raises(png.PngError, match=f"bit depth {depth} in a"):
            read(data)


@pytest.mark.parametrize("where", ["after-idat", "before-idat"])
def test_a_second_ihdr_is_refused(where):
    """A second IHDR after the image data was once the header the file was decoded by, while Pillow
    (and every viewer) uses the first: here a 4-bit header, so Pillow reads another image."""
    values = random_values(9, 6, 40, 2)  # bytes 0-3: read as 4-bit rows, each is a filter type Pillow knows
    original = make_png(values)
    first = with_ihdr(original, depth=4)
    second = chunk_spans(original)[0]
    forged = insert_chunk(first, original[second[1] : second[2]], b"IEND" if where == "after-idat" else b"IDAT")
    if where == "after-idat":
        assert not np.array_equal(pillow_values(forged), values)  # Pillow reads the 4-bit header
    with pytest.raises(png.PngError, match="second IHDR"):
        png.decode(forged)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(make_png(random_values(2, 7, 9, 8), interlace=True), id="interlaced"),
        pytest.param(make_png(random_values(2, 7, 9, 2), colour=0, depth=2), id="2-bit-grayscale"),
        pytest.param(make_png(random_values(2, 7, 9, 8)), id="fast-path-palette"),
        pytest.param(make_png(random_values(2, 7, 9, 8), colour=0), id="fast-path-grayscale"),
    ],
)
@pytest.mark.parametrize("where", [b"IEND", b"IDAT"], ids=["after-idat", "before-idat"])
def test_an_ancillary_chunk_pillow_refuses_is_a_png_error(data, where):
    """An empty iCCP chunk makes Pillow raise IndexError (after the image data: while loading).
    It once escaped as a traceback from the Pillow fallback path, and was accepted by the fast path."""
    forged = insert_chunk(data, chunk(b"iCCP", b""), where)
    assert pillow_refuses(forged)
    with pytest.raises(png.PngError, match=r"unreadable PNG: (IndexError|Pillow cannot open it)"):
        png.decode(forged)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (b"tRNS", b""),  # a palette with no alpha values: legal
        (b"tRNS", bytes(300)),  # more alpha values than palette entries: Pillow keeps them
        (b"tEXt", b"Comment\x00hi"),
        (b"zTXt", b"Comment\x00\x00" + zlib.compress(b"hello")),
        (b"zTXt", b"Comment\x00\x00not zlib"),
        (b"iCCP", b"p\x00\x00" + zlib.compress(b"icc")),
        (b"pHYs", struct.pack(">IIB", 2835, 2835, 1)),
        (b"gAMA", struct.pack(">I", 45455)),
        (b"sRGB", b"\x00"),
        (b"tIME", bytes(7)),
        (b"prVt", b"private data"),
    ],
)
@pytest.mark.parametrize("where", [b"IEND", b"IDAT"], ids=["after-idat", "before-idat"])
def test_ancillary_chunks_pillow_accepts_change_nothing(kind, body, where):
    """Chunks Pillow reads without complaint, before or after the image data, still decode (to Pillow's values)."""
    data = insert_chunk(make_png(random_values(4, 7, 9, 8)), chunk(kind, body), where)
    assert not pillow_refuses(data)
    assert_same_as_pillow(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"width": 0}, "0x30"),
        ({"height": 0}, "40x0"),
        ({"width": 2**31}, "2147483648x30"),
        ({"filter_method": 1}, "filter method 1"),
        ({"compression": 1}, "compression method 1"),
        ({"interlace": 2}, "interlace method 2"),
        ({"colour": 1}, "unknown colour type 1"),
        ({"colour": 7}, "unknown colour type 7"),
    ],
)
def test_header_fields_outside_the_format_are_refused(change, message):
    """IHDR values the specification does not define: a PngError naming the field, from decode and read_header."""
    data = with_ihdr(good_png(), **change)
    for read in (png.decode, png.read_header):
        with pytest.raises(png.PngError, match=message):
            read(data)


def test_a_zero_sized_header_is_what_pillow_refuses():
    """Pillow refuses a zero width or filter method 1; it ignores the compression byte, which we refuse."""
    assert pillow_refuses(with_ihdr(good_png(), width=0))
    assert pillow_refuses(with_ihdr(good_png(), filter_method=1))


def moved_chunk(data: bytes, kind: bytes, before: bytes) -> bytes:
    """``data`` with its first ``kind`` chunk moved before the first ``before`` chunk (or to just before IEND)."""
    _, start, end = next(span for span in chunk_spans(data) if span[0] == kind)
    rest = data[:start] + data[end:]
    return insert_chunk(rest, data[start:end], before)


def split_idat_run(data: bytes) -> bytes:
    """The image data in two IDAT chunks with a tEXt chunk between them."""
    _, start, end = next(span for span in chunk_spans(data) if span[0] == b"IDAT")
    stream = data[start + 8 : end - 4]
    half = len(stream) // 2
    middle = chunk(b"IDAT", stream[:half]) + chunk(b"tEXt", b"a\x00b") + chunk(b"IDAT", stream[half:])
    return data[:start] + middle + data[end:]


@pytest.mark.parametrize(
    ("forge", "message"),
    [
        (lambda d: moved_chunk(d, b"IHDR", b"IEND"), "first chunk is 'PLTE'"),
        (lambda d: moved_chunk(d, b"PLTE", b"IEND"), "PLTE chunk, or one after the image data"),
        (lambda d: insert_chunk(d, chunk(b"PLTE", bytes(6)), b"IDAT"), "second PLTE"),
        (split_idat_run, "not consecutive"),
        (lambda d: insert_chunk(d, chunk(b"acTL", bytes(8)), b"IDAT"), "animated PNG"),
        (lambda d: insert_chunk(d, chunk(b"fcTL", bytes(26)), b"IDAT"), "animated PNG"),
        (lambda d: insert_chunk(d, chunk(b"CRIT", b"x"), b"IDAT"), "unknown critical chunk 'CRIT'"),
        (lambda d: insert_chunk(d, chunk(b"ab1d", b"x"), b"IDAT"), "chunk type of b'ab1d'"),
        (lambda d: insert_chunk(d, chunk(b"a\x00bc", b"x"), b"IEND"), "chunk type of"),
    ],
    ids=["ihdr-not-first", "plte-after-idat", "two-plte", "idat-run-split", "actl", "fctl", "critical", "digit", "nul"],
)
def test_chunk_order_the_format_forbids_is_refused(forge, message):
    """Chunks out of the specification's order are refused rather than read one of the ways Pillow might."""
    with pytest.raises(png.PngError, match=message):
        png.decode(forge(good_png()))


def test_data_after_the_zlib_stream_is_ignored_as_pillow_does():
    """Bytes after the end of the zlib stream (in the last IDAT or an IDAT of their own) change nothing, for both."""
    data = good_png()
    _, start, end = next(span for span in chunk_spans(data) if span[0] == b"IDAT")
    stream = data[start + 8 : end - 4]
    for tail in (chunk(b"IDAT", stream + b"junk"), chunk(b"IDAT", stream) + chunk(b"IDAT", b"more junk")):
        assert_same_as_pillow(data[:start] + tail + data[end:])


# --------------------------------------------------------------------------- encode


@st.composite
def palettes(draw) -> bytes:
    """1 to 256 random RGB triplets."""
    entries = draw(st.one_of(st.integers(1, 256), st.sampled_from([1, 2, 255, 256])))
    return np.random.default_rng(draw(SEED)).integers(0, 256, 3 * entries, dtype=np.uint8).tobytes()


@SETTINGS
@given(height=SIDE, width=SIDE, seed=SEED, top=st.integers(0, 255), palette=palettes(), view=st.booleans())
def test_encode_palette_round_trip(height, width, seed, top, palette, view):
    """encode(label, "P", palette) reads back (Pillow and decode) to label, with the palette kept or padded."""
    label = np.random.default_rng(seed).integers(0, top + 1, (height, width), dtype=np.uint8)
    if view:  # a non-contiguous input encodes the same
        label = np.ascontiguousarray(label.T).T
    data = png.encode(label, "P", palette)
    np.testing.assert_array_equal(pillow_values(data), label)
    decoded, info = png.decode(data)
    np.testing.assert_array_equal(decoded, label)
    assert (info.width, info.height, info.mode, info.bit_depth) == (width, height, "P", 8)
    assert info.palette[: len(palette)] == palette
    assert len(info.palette) >= 3 * (int(label.max()) + 1)
    if int(label.max()) < len(palette) // 3:
        assert info.palette == palette
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "P"
        assert bytes(image.getpalette()) == info.palette


@SETTINGS
@given(height=SIDE, width=SIDE, seed=SEED)
def test_encode_grayscale_round_trip(height, width, seed):
    """encode(label, "L") reads back (Pillow and decode) to label, as 8-bit grayscale without palette."""
    label = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    data = png.encode(label, "L")
    np.testing.assert_array_equal(pillow_values(data), label)
    decoded, info = png.decode(data)
    np.testing.assert_array_equal(decoded, label)
    assert info == png.PngInfo(width, height, "L", 8, None)
    assert png.read_header(data) == info


@pytest.mark.parametrize("value", [0, 1, 255])
@pytest.mark.parametrize("mode", ["P", "L"])
def test_encode_one_pixel(mode, value):
    """A 1x1 label map survives encode and decode in both modes."""
    label = np.full((1, 1), value, np.uint8)
    data = png.encode(label, mode, png.DAVIS_PALETTE if mode == "P" else None)
    np.testing.assert_array_equal(pillow_values(data), label)
    np.testing.assert_array_equal(png.decode(data)[0], label)


def test_short_palette_is_padded():
    """A palette with fewer colours than max(label)+1 is padded with black so every index has a colour."""
    label = np.array([[0, 1, 2], [3, 200, 255]], np.uint8)
    palette = bytes([10, 20, 30, 40, 50, 60])
    info = png.read_header(png.encode(label, "P", palette))
    assert info.palette == palette + bytes(768 - len(palette))


@pytest.mark.parametrize(
    ("mode", "palette", "error"),
    [
        ("RGB", None, ValueError),
        ("P", None, ValueError),
        ("P", b"", ValueError),
        ("P", bytes(4), ValueError),
        ("P", bytes(771), ValueError),
    ],
)
def test_encode_rejects_bad_mode_or_palette(mode, palette, error):
    """An unknown mode, or a palette that is not 1 to 256 RGB triplets, raises ValueError."""
    with pytest.raises(error):
        png.encode(np.zeros((2, 2), np.uint8), mode, palette)


@pytest.mark.parametrize(
    "label", [np.zeros((2, 2), np.uint16), np.zeros((2, 2), bool), np.zeros((2, 2, 1), np.uint8), np.zeros(4, np.uint8)]
)
def test_encode_rejects_non_label_maps(label):
    """Anything but a 2-D uint8 array raises TypeError."""
    with pytest.raises(TypeError):
        png.encode(label, "L")


# --------------------------------------------------------------------------- the reused buffer


def test_reuse_overwrites_the_previous_mask_and_fresh_arrays_do_not():
    first_png, second_png = make_png(random_values(1, 20, 30, 8)), make_png(random_values(2, 20, 30, 8))
    first, _ = DECODE(first_png, reuse=True)
    kept = first.copy()
    DECODE(second_png, reuse=True)
    assert not np.array_equal(first, kept)  # the documented contract: one mask at a time
    fresh, _ = DECODE(first_png)
    DECODE(second_png)
    np.testing.assert_array_equal(fresh, kept)


def test_reuse_without_libdeflate_falls_back(monkeypatch):
    """A deflate build without the C API exported still decodes (into fresh bytes), with the same errors."""
    monkeypatch.setattr(libdeflate, "_bindings", [None])
    values = random_values(3, 9, 11, 8)
    decoded, _ = DECODE(make_png(values, filters=(1, 2, 3, 4)), reuse=True)
    np.testing.assert_array_equal(decoded, values)
    with pytest.raises(png.PngError, match="truncated"):
        DECODE(truncated_stream(), reuse=True)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_decodes_in_its_own_buffer():
    """The parent's scratch buffer survives a child decoding another mask (the child's copy is its own)."""
    first_png, second_png = make_png(random_values(4, 20, 30, 8)), make_png(random_values(5, 20, 30, 8))
    parent, _ = DECODE(first_png, reuse=True)
    kept = parent.copy()
    pid = os.fork()
    if pid == 0:
        child, _ = DECODE(second_png, reuse=True)
        os._exit(0 if np.array_equal(child, random_values(5, 20, 30, 8)) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    np.testing.assert_array_equal(parent, kept)


def test_threads_decode_at_once_each_in_its_own_buffer():
    """Each thread has its own scratch buffer and libdeflate decompressor (neither may be shared)."""
    import threading

    pngs = [(make_png(random_values(seed, 40, 50, 8)), random_values(seed, 40, 50, 8)) for seed in range(4)]
    failures = []

    def decode_many(data: bytes, expected: np.ndarray) -> None:
        for _ in range(200):
            values, _ = DECODE(data, reuse=True)
            if not np.array_equal(values, expected):
                failures.append(1)
                return

    threads = [threading.Thread(target=decode_many, args=pair) for pair in pngs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


@pytest.mark.parametrize("kind", range(5))
def test_unfilter_refuses_a_stride_whose_row_length_overflows(kind):
    """``stride + 1`` overflowed int64 for a stride of 2**63 - 1, so the size check passed and the kernel
    indexed far outside the buffer (a segfault). Run in a fresh interpreter, so a crash is a failure here."""
    code = (
        "from converters.codecs._native import kernels\n"
        f"raw = bytearray(bytes([{kind}]) + b'abcdefgh' * 4)\n"
        "for height in (1, 2):\n"
        "    try:\n"
        "        kernels.unfilter(raw, height, 2**63 - 1)\n"
        "    except ValueError as error:\n"
        "        print('refused:', error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.count("refused:") == 2, (done.returncode, done.stdout, done.stderr[-500:])
