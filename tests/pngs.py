"""PNG files for the tests, written without converters.codecs.png: a small reference encoder and Pillow's.

``make_png`` writes any filter type on any row, Adam7 interlacing, IDAT split across chunks and
sub-byte grayscale; ``pillow_png`` has Pillow write ``pixels`` in a mode; ``pillow_values`` is the
reference every decoded file is compared with.
"""

from __future__ import annotations

import io
import itertools
import struct
import zlib

import numpy as np
from PIL import Image

from converters.codecs import png

# --------------------------------------------------------------------------- a reference PNG encoder

#: Adam7 passes as (x0, y0, dx, dy), from the PNG specification.
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, body, CRC over type and body."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def pack_rows(pixels: np.ndarray, depth: int) -> np.ndarray:
    """One byte per pixel to PNG scanline bytes: 1/2/4-bit values packed most significant first."""
    if depth == 8:
        return pixels.astype(np.uint8)
    per_byte = 8 // depth
    height, width = pixels.shape
    padded = np.zeros((height, -(-width // per_byte) * per_byte), np.uint16)
    padded[:, :width] = pixels
    shifts = np.arange(8 - depth, -1, -depth, dtype=np.uint16)
    return np.bitwise_or.reduce(padded.reshape(height, -1, per_byte) << shifts, axis=2).astype(np.uint8)


def paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The Paeth predictor of the PNG specification, elementwise."""
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def filter_row(kind: int, row: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Filter one scanline (bpp = 1) against the previous unfiltered scanline (zeros before the first)."""
    x = row.astype(np.int32)
    b = prior.astype(np.int32)
    a = np.concatenate(([0], x[:-1]))
    c = np.concatenate(([0], b[:-1]))
    predictor = {0: 0, 1: a, 2: b, 3: (a + b) // 2, 4: paeth(a, b, c)}[kind]
    return ((x - predictor) % 256).astype(np.uint8)


def split(data: bytes, parts: int) -> list[bytes]:
    """``data`` cut into ``parts`` consecutive pieces (the first ones may be empty)."""
    cuts = np.linspace(0, len(data), parts + 1).astype(int)
    return [data[i:j] for i, j in itertools.pairwise(cuts)]


def make_png(
    pixels: np.ndarray,
    *,
    colour: int = 3,
    depth: int = 8,
    filters: tuple[int, ...] = (0,),
    interlace: bool = False,
    idat_chunks: int = 1,
    palette: bytes | None = None,
    extra: bytes = b"",
) -> bytes:
    """A single-channel PNG of ``pixels``, written without Pillow.

    Row ``i`` (counted over all Adam7 passes when interlaced) uses filter ``filters[i % len(filters)]``;
    the zlib stream is split over ``idat_chunks`` IDAT chunks; ``extra`` (ancillary chunks) goes before them.
    """
    height, width = pixels.shape
    if interlace:
        images = [pixels[y0::dy, x0::dx] for x0, y0, dx, dy in ADAM7]
        images = [image for image in images if image.size]  # empty passes are left out entirely
    else:
        images = [pixels]
    raw = bytearray()
    row_index = 0
    for image in images:
        packed = pack_rows(image, depth)
        prior = np.zeros(packed.shape[1], np.uint8)
        for row in packed:
            kind = filters[row_index % len(filters)]
            raw.append(kind)
            raw += filter_row(kind, row, prior).tobytes()
            prior = row
            row_index += 1
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, int(interlace))
    parts = [png.SIGNATURE, chunk(b"IHDR", header)]
    if colour == 3:
        parts.append(chunk(b"PLTE", palette if palette is not None else grey_palette(depth)))
    parts.append(extra)
    parts += [chunk(b"IDAT", piece) for piece in split(zlib.compress(bytes(raw)), idat_chunks)]
    parts.append(chunk(b"IEND", b""))
    return b"".join(parts)


def grey_palette(depth: int) -> bytes:
    """A full palette for ``depth`` bits: entry i is the grey (i, i, i)."""
    return bytes(np.repeat(np.arange(1 << depth, dtype=np.uint8), 3))


# --------------------------------------------------------------------------- helpers


def pillow_values(data: bytes) -> np.ndarray:
    """What Pillow gives: ``np.asarray(Image.open(...))``; for mode "1" its pixel values, 0/255 (as ``getpixel``)."""
    with Image.open(io.BytesIO(data)) as image:
        values = np.asarray(image)
    return values.astype(np.uint8) * 255 if values.dtype == bool else values


def pillow_png(pixels: np.ndarray, mode: str, palette: bytes | None = None, **options) -> bytes:
    """``pixels`` saved by Pillow as a PNG in ``mode`` (P and L keep the values; others are converted from L)."""
    height, width = pixels.shape
    image = Image.frombytes("P" if mode == "P" else "L", (width, height), np.ascontiguousarray(pixels).tobytes())
    if palette is not None:
        image.putpalette(palette)
    if mode not in ("P", "L"):
        image = image.convert(mode, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def chunk_spans(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start of the chunk, end after its CRC) for every chunk of a well-formed PNG."""
    spans = []
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        spans.append((data[pos + 4 : pos + 8], pos, pos + 12 + length))
        pos += 12 + length
    return spans


def random_values(seed: int, height: int, width: int, depth: int) -> np.ndarray:
    """Uniform random ``depth``-bit values, with a few flat runs so filters see repeats too."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 1 << depth, (height, width), dtype=np.uint8)
    if height * width > 4:
        values[rng.integers(0, height), :] = rng.integers(0, 1 << depth)
        values[:, rng.integers(0, width)] = rng.integers(0, 1 << depth)
    return values


IHDR_FIELDS = ("width", "height", "depth", "colour", "compression", "filter_method", "interlace")


def with_ihdr(data: bytes, **fields: int) -> bytes:
    """``data`` with some IHDR fields changed (names from ``IHDR_FIELDS``), its CRC recomputed."""
    _, start, end = chunk_spans(data)[0]
    values = dict(zip(IHDR_FIELDS, struct.unpack(">IIBBBBB", data[start + 8 : start + 21]), strict=True))
    values.update(fields)
    return data[:start] + chunk(b"IHDR", struct.pack(">IIBBBBB", *values.values())) + data[end:]


def insert_chunk(data: bytes, new: bytes, before: bytes) -> bytes:
    """``data`` with the whole chunk ``new`` inserted before the first chunk of type ``before``."""
    start = next(start for kind, start, _ in chunk_spans(data) if kind == before)
    return data[:start] + new + data[start:]


def pillow_refuses(data: bytes) -> bool:
    """Whether Pillow fails to open or load ``data`` (any exception)."""
    try:
        pillow_values(data)
    except Exception:
        return True
    return False
