"""Annotation PNGs: decode to the pixel values (never colours) and encode them back, fast.

Pillow spends about 6 ms on a 1080p mask whose compressed stream inflates in 0.2 ms.
Masks are single-channel PNGs, so a short decoder does the whole job: parse the chunks,
inflate with libdeflate, undo the row filters (a strided view when every row uses filter 0,
the case for masks written by Pillow), unpack 1/2/4-bit rows. PNGs outside that path
(interlaced, sub-8-bit grayscale) go through Pillow. Colour and 16-bit PNGs are refused:
converting colours to ids would scramble them.

With ``reuse=True`` the stream inflates straight into a per-thread scratch buffer
(:mod:`converters.codecs.scratch`) through libdeflate's C API (:mod:`converters.codecs.libdeflate`):
no 2 MB allocation per frame, and no copy-on-write faults after a worker forks.

The encoder writes 8-bit palette or grayscale PNGs with filter 0 rows and libdeflate.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field

import deflate
import numpy as np

from . import libdeflate, scratch
from ._native import kernels

__all__ = ["PngError", "PngInfo", "decode", "encode", "read_header"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Deflate's ceiling: a 258-byte match in 2 bits. A header asking for more than this many bytes
#: per compressed byte is corrupt (or a decompression bomb); refused before any buffer is allocated.
_MAX_INFLATE_RATIO = 1032
_COLOUR_TYPES = {0: "grayscale", 2: "RGB", 3: "palette", 4: "grayscale+alpha", 6: "RGBA"}
#: The bit depths the PNG specification allows for each colour type (and exactly those Pillow reads).
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_MAX_SIDE = 2**31 - 1
#: Ancillary chunks Pillow parses (and refuses the file over when they are malformed); others it skips.
_INTERPRETED = frozenset({b"iCCP", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"tEXt", b"zTXt", b"iTXt", b"eXIf"})
_ANIMATION = frozenset({b"acTL", b"fcTL", b"fdAT"})


def voc_palette(high: int = 192) -> bytes:
    """The PASCAL VOC colour map that DAVIS 2017 (and MOSE) masks carry: colours from the bits of the index.

    ``high=191`` gives the DAVIS authors' toolkit variant, which writes the channel value 192 as 191.
    """
    colours = bytearray()
    for index in range(256):
        rgb = [0, 0, 0]
        value = index
        for shift in range(7, -1, -1):
            for channel in range(3):
                rgb[channel] |= ((value >> channel) & 1) << shift
            value >>= 3
        colours += bytes(high if c == 192 else c for c in rgb)
    return bytes(colours)


#: Default palettes for writing masks whose source had none (colours are cosmetic; ids are the values).
DAVIS_PALETTE = voc_palette()
_YOUTUBE_VOS_COLOURS = (
    "0 0 0 236 95 103 249 145 87 250 200 99 153 199 148 98 179 178 102 153 204 197 148 197 "
    "171 121 103 255 255 255 101 115 126 11 11 11 12 12 12 13 13 13 14 14 14 15 15 15"
)
YOUTUBE_VOS_PALETTE = bytes(int(v) for v in _YOUTUBE_VOS_COLOURS.split())


class PngError(ValueError):
    """Not a PNG we can read as a mask; the message says why."""


@dataclass(frozen=True)
class PngInfo:
    """The header facts a writer needs to store a mask back the same way."""

    width: int
    height: int
    mode: str  # "P" (palette) or "L" (grayscale)
    bit_depth: int
    palette: bytes | None  # RGB triplets from PLTE


def _chunks(data: bytes):
    if data[:8] != SIGNATURE:
        raise PngError("not a PNG file (bad signature)")
    pos = 8
    size = len(data)
    while pos + 8 <= size:
        length, kind = struct.unpack_from(">I4s", data, pos)
        if not kind.isalpha():
            raise PngError(f"corrupt PNG: a chunk type of {kind!r} at byte {pos + 4} (four ASCII letters expected)")
        end = pos + 8 + length
        if end + 4 > size:
            raise PngError(f"truncated PNG: chunk {kind.decode('latin-1')!r} runs past the end of the file")
        body = data[pos + 8 : end]
        (crc,) = struct.unpack_from(">I", data, end)
        if zlib.crc32(body, zlib.crc32(kind)) != crc:
            raise PngError(f"corrupt PNG: CRC mismatch in chunk {kind.decode('latin-1')!r}")
        yield kind, body
        if kind == b"IEND":
            return
        pos = end + 4
    raise PngError("truncated PNG: no IEND chunk")


@dataclass
class _Layout:
    """A PNG's chunks, checked for the order the specification gives them (section 5.6)."""

    header: tuple[int, int, int, int, int] | None = None
    palette: bytes | None = None
    idat: list[bytes] = field(default_factory=list)
    #: chunks Pillow interprets (and may refuse), as (type, body, after the image data)
    interpreted: list[tuple[bytes, bytes, bool]] = field(default_factory=list)


def _layout(data: bytes, *, header_only: bool = False) -> _Layout:
    """Parse the chunks, refusing an order a viewer would read differently from us.

    One IHDR, first; at most one PLTE, before the image data; the IDAT chunks in one run.
    Pillow reads a second IHDR or PLTE into a different image or palette than the chunks
    before it say, so the file is refused rather than read one way of the two.
    """
    layout = _Layout()
    previous = None
    for kind, body in _chunks(data):
        if layout.header is None and kind != b"IHDR":
            raise PngError(f"corrupt PNG: the first chunk is {kind.decode()!r}, not 'IHDR'")
        if kind == b"IHDR":
            if layout.header is not None:
                raise PngError("corrupt PNG: a second IHDR chunk (a PNG has one header)")
            layout.header = _header(body)
        elif kind == b"PLTE":
            if layout.palette is not None or layout.idat:
                raise PngError("corrupt PNG: a second PLTE chunk, or one after the image data")
            layout.palette = _palette(body)
        elif kind == b"IDAT":
            if layout.idat and previous != b"IDAT":
                raise PngError("corrupt PNG: IDAT chunks that are not consecutive")
            layout.idat.append(body)
            if header_only:
                return layout
        elif kind in _ANIMATION:
            raise PngError("animated PNG (APNG): a mask must be a single image")
        elif kind in _INTERPRETED:
            layout.interpreted.append((kind, body, bool(layout.idat)))
        elif kind != b"IEND" and kind[0] & 0x20 == 0:
            raise PngError(f"unsupported PNG: unknown critical chunk {kind.decode()!r}")
        previous = kind
    if layout.header is None:
        raise PngError("corrupt PNG: no IHDR chunk")
    if not layout.idat:
        raise PngError("PNG without image data")
    return layout


def _palette(body: bytes) -> bytes:
    if len(body) % 3 or not 3 <= len(body) <= 768:
        raise PngError(f"corrupt PNG: a PLTE chunk of {len(body)} bytes (1 to 256 RGB triplets expected)")
    return body


def _header(body: bytes) -> tuple[int, int, int, int, int]:
    """(width, height, bit depth, colour type, interlace) of an IHDR the specification allows and we read."""
    if len(body) != 13:
        raise PngError(f"corrupt PNG: an IHDR chunk of {len(body)} bytes (13 expected)")
    width, height, depth, colour, compression, filter_method, interlace = struct.unpack(">IIBBBBB", body)
    if not (0 < width <= _MAX_SIDE and 0 < height <= _MAX_SIDE):
        raise PngError(f"corrupt PNG: an image of {width}x{height} pixels (1 to 2^31-1 a side)")
    if colour not in _DEPTHS:
        raise PngError(f"corrupt PNG: unknown colour type {colour}")
    if depth not in _DEPTHS[colour]:
        allowed = "/".join(map(str, _DEPTHS[colour]))
        raise PngError(f"corrupt PNG: bit depth {depth} in a {_COLOUR_TYPES[colour]} PNG (the format allows {allowed})")
    if compression or filter_method or interlace > 1:
        raise PngError(
            f"corrupt PNG: unknown compression method {compression}, filter method {filter_method} "
            f"or interlace method {interlace} (0, 0 and 0 or 1 expected)"
        )
    if colour not in (0, 3):
        raise PngError(
            f"{_COLOUR_TYPES[colour]} PNG: a mask must store object ids as palette indices or grayscale "
            "values; converting colours back to ids is not done because it scrambles them: save the masks as "
            "palette or grayscale PNGs of the ids"
        )
    if depth == 16:
        raise PngError("16-bit PNG: object ids must be 8-bit palette indices or grayscale values")
    return width, height, depth, colour, interlace


def read_header(data: bytes) -> PngInfo:
    """The mask's size and mode from its first chunks, without inflating anything."""
    layout = _layout(data, header_only=True)
    width, height, depth, colour, _ = layout.header
    return PngInfo(width, height, "P" if colour == 3 else "L", depth, layout.palette)


#: ``_unfilter(raw, height, stride)``: undoes PNG row filters in place for one byte per pixel (also right for
#: packed 1/2/4-bit rows); returns -1, or the first row whose filter type is unknown. In C
#: (``converters/_kernels.c``, ``unfilter``), without the GIL.
_unfilter = kernels.unfilter


def _unpack(rows: np.ndarray, width: int, depth: int) -> np.ndarray:
    """Packed 1/2/4-bit rows to one uint8 per pixel, most significant bits first."""
    per_byte = 8 // depth
    shifts = np.arange(8 - depth, -1, -depth, dtype=np.uint8)
    values = (rows[:, :, None] >> shifts) & np.uint8((1 << depth) - 1)
    return values.reshape(rows.shape[0], rows.shape[1] * per_byte)[:, :width]


def decode(data: bytes, *, reuse: bool = False) -> tuple[np.ndarray, PngInfo]:
    """Pixel values of a single-channel mask PNG as a 2-D uint8 array, and its header.

    The array has the header's shape and holds exactly what Pillow's ``np.asarray`` gives
    for modes ``P`` and ``L``, and 0/255 for mode ``1`` (Pillow's pixel values there: an
    optimiser that turns a DAVIS 2016 0/255 mask into 1-bit grayscale changes no value); a
    file Pillow refuses is a :class:`PngError`, the only exception raised. The array may be
    a strided view. With ``reuse=True`` it may live in
    a buffer that this thread's next ``reuse=True`` call overwrites: for callers that are
    done with one mask before decoding the next.
    """
    layout = _layout(data)
    width, height, depth, colour, interlace = layout.header
    info = PngInfo(width, height, "P" if colour == 3 else "L", depth, layout.palette)
    stride = (width * depth + 7) // 8
    stream = b"".join(layout.idat)
    # the bytes the image data must inflate to (interlaced: at least the pixels' bits, whatever the passes)
    least = height * width * depth // 8 if interlace else height * (stride + 1)
    if least > _MAX_INFLATE_RATIO * len(stream) + 1024:
        raise PngError(
            f"corrupt PNG: {len(stream)} bytes of image data cannot inflate to the {width}x{height} image its header declares"
        )
    if interlace or (colour == 0 and depth != 8):
        values = _decode_with_pillow(data, info)
        _inflate(stream, 1, _image_data_size(width, height, depth, interlace), False)  # Pillow ignores data past the image
        return values, info
    if layout.interpreted:
        _check_chunks_with_pillow(layout)
    rows = _inflate(stream, height, stride + 1, reuse)
    if rows[:, 0].any():
        if not rows.flags.writeable:
            rows = rows.copy()
        bad = _unfilter(rows.reshape(-1), height, stride)
        if bad >= 0:
            raise PngError(f"corrupt PNG: unknown filter type {rows[bad, 0]} on row {bad}")
    pixels = rows[:, 1:]
    if depth < 8:
        pixels = _unpack(pixels, width, depth)
    return pixels, info


#: Adam7's seven passes: (first column, column step, first row, row step).
_ADAM7 = ((0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4), (1, 2, 0, 2), (0, 1, 1, 2))


def _image_data_size(width: int, height: int, depth: int, interlace: int) -> int:
    """The bytes the image data inflates to: a filter byte and the packed pixels of each row (of each pass, interlaced)."""
    if not interlace:
        return height * ((width * depth + 7) // 8 + 1)
    size = 0
    for column, column_step, row, row_step in _ADAM7:
        columns, rows = (width - column + column_step - 1) // column_step, (height - row + row_step - 1) // row_step
        if columns > 0 and rows > 0:  # an empty pass has no rows, not even their filter bytes
            size += rows * ((columns * depth + 7) // 8 + 1)
    return size


def _inflate(stream: bytes, height: int, row_bytes: int, reuse: bool) -> np.ndarray:
    """The zlib ``stream`` inflated to ``height`` rows of ``row_bytes``; an error unless it is exactly that."""
    expected = height * row_bytes
    if reuse and libdeflate.available():
        rows = scratch.array("png", (height, row_bytes), np.uint8)
        got = libdeflate.zlib_decompress_into(stream, rows)
        if got is None:
            raise PngError(_inflate_failure(stream, expected))
        if got != expected:
            raise PngError(f"truncated PNG: image data holds {got} of {expected} bytes")
        return rows
    try:
        raw = deflate.zlib_decompress(stream, expected)
    except deflate.DeflateError:
        raise PngError(_inflate_failure(stream, expected)) from None
    if len(raw) != expected:
        raise PngError(f"truncated PNG: image data holds {len(raw)} of {expected} bytes")
    return np.frombuffer(raw, np.uint8).reshape(height, row_bytes)


def _inflate_failure(stream: bytes, expected: int) -> str:
    """Say whether the compressed stream is truncated or corrupt (zlib tells them apart)."""
    try:
        inflater = zlib.decompressobj()
        got = len(inflater.decompress(stream, expected + 1))
    except zlib.error as exc:
        return f"corrupt PNG: image data does not inflate ({exc})"
    if got > expected:
        return f"corrupt PNG: image data inflates to more than the {expected} bytes the header calls for"
    if not inflater.eof:
        return f"truncated PNG: image data ends after {got} of {expected} bytes"
    return f"corrupt PNG: image data inflates to {got} bytes, expected {expected}"


def _decode_with_pillow(data: bytes, info: PngInfo) -> np.ndarray:
    """Pillow's pixel values, for the PNGs the fast path leaves to it; whatever Pillow raises is a PngError."""
    values, mode = _pillow_pixels(data)
    if mode not in ("P", "L", "1"):
        raise PngError(f"mode {mode} PNG: a mask must hold palette indices or grayscale values")
    if values.shape != (info.height, info.width):  # never expected: the one IHDR is what both read
        raise PngError(
            f"unreadable PNG: Pillow read {values.shape[1]}x{values.shape[0]} pixels, the header says {info.width}x{info.height}"
        )
    return values


def _pillow_pixels(data: bytes) -> tuple[np.ndarray, str]:
    """``np.asarray`` of Pillow's image (mode "1" as 0/255, as Pillow's 2- and 4-bit samples scale to 0-255), and its mode."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # reads the chunks after the image data too, where Pillow may refuse the file
            if image.mode == "1":
                return np.asarray(image.convert("L")), "1"
            return np.asarray(image, dtype=np.uint8), image.mode
    except Image.UnidentifiedImageError:  # its message names only the BytesIO object
        raise PngError("unreadable PNG: Pillow cannot open it") from None
    except Exception as exc:  # any of Pillow's errors (IndexError from an empty iCCP, say) means refused
        raise PngError(f"unreadable PNG: {type(exc).__name__}: {exc}") from None


def _check_chunks_with_pillow(layout: _Layout) -> None:
    """Refuse what Pillow refuses over a chunk it interprets and the fast path skips (an empty iCCP, a short tRNS).

    Pillow reads these chunks before and after the image data, and an error in any of them
    fails the whole file. Rather than copy its rules, the same chunks go through Pillow in a
    1x1 stand-in of the same colour type and bit depth, in the same places around the image data.
    """
    _, _, depth, colour, _ = layout.header
    parts = [SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, depth, colour, 0, 0, 0))]
    if layout.palette is not None:
        parts.append(_chunk(b"PLTE", layout.palette))
    parts += [_chunk(kind, body) for kind, body, after in layout.interpreted if not after]
    parts.append(_chunk(b"IDAT", zlib.compress(bytes(2))))
    parts += [_chunk(kind, body) for kind, body, after in layout.interpreted if after]
    parts.append(_chunk(b"IEND", b""))
    _pillow_pixels(b"".join(parts))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))


def encode(label: np.ndarray, mode: str = "P", palette: bytes | None = None, level: int = 6) -> bytes:
    """An 8-bit palette (``mode="P"``) or grayscale (``"L"``) PNG holding ``label``'s values exactly."""
    if label.dtype != np.uint8 or label.ndim != 2:
        raise TypeError(f"expected a 2-D uint8 label map, got {label.dtype} {label.shape}")
    if mode not in ("P", "L"):
        raise ValueError(f"mode must be 'P' or 'L', got {mode!r}")
    height, width = label.shape
    rows = np.zeros((height, width + 1), np.uint8)
    rows[:, 1:] = label
    parts = [SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3 if mode == "P" else 0, 0, 0, 0))]
    if mode == "P":
        if palette is None or len(palette) % 3 or not 3 <= len(palette) <= 768:
            raise ValueError("a palette PNG needs 1 to 256 RGB triplets")
        if height and width and int(label.max()) >= len(palette) // 3:
            palette = palette + bytes(768 - len(palette))  # every index must have a colour
        parts.append(_chunk(b"PLTE", palette))
    parts.append(_chunk(b"IDAT", deflate.zlib_compress(rows.tobytes(), level)))
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)
