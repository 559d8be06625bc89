"""What an archive member may hold, judged from its name and first bytes before it is read whole.

A compressed member declares its size, and a tiny archive can honestly declare gigabytes
(1 GiB of zeros deflates to about 1 MB). Before such a member is inflated, its first bytes
must be what its name promises (the PNG signature, a JPEG's start-of-image marker) and its
size must fit what an image of the size its header states can be: a small multiple of its
pixels. Anything else a reader opens (``meta.json``, ``ImageSets`` lists) is bounded by
``OTHER_LIMIT``. Members no longer than ``HEAD`` are read whole at once and judged by their
decoder, which names what is wrong.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from ..errors import SourceError
from ..model import MAX_PIXELS, MAX_SIDE

#: Bytes read before anything is judged (and, for a small member, all of it): what ``probe_image`` reads of a frame.
HEAD = 4 << 10
#: A JPEG's frame header must come within this many bytes (EXIF, ICC and XMP blocks may come first).
JPEG_HEADER_LIMIT = 16 << 20
#: What an image may hold besides its pixels: metadata chunks, a phone's trailer after the image.
IMAGE_SLACK = 16 << 20
#: A JPEG larger than this many bytes a pixel (twice 4 components at 1.5 bytes, past any quality setting) is not one.
JPEG_BYTES_PER_PIXEL = 12
#: A PNG larger than this many times its unfiltered pixel rows (which stored deflate blocks barely exceed) is not one.
PNG_RAW_FACTOR = 2
#: Any other member a reader opens: metadata, far smaller in every dataset.
OTHER_LIMIT = 256 << 20

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def kind_of(name: str) -> str | None:
    """``"png"``, ``"jpeg"`` or None (any other member), by the name's ending."""
    lower = name.lower()
    if lower.endswith(".png"):
        return "png"
    if lower.endswith((".jpg", ".jpeg")):
        return "jpeg"
    return None


def checked_head(read: Callable[[int], bytes], size: int, where: str, slack: int = 0) -> bytes:
    """The member's first bytes, read with ``read(n)`` (in order), once they show that its declared
    ``size`` is one its kind can have; a SourceError naming ``where`` otherwise.

    ``slack`` more bytes are asked for than the member declares, so a caller that inflates can
    tell a member longer than its directory entry says (returned as is: the caller refuses it).
    """
    head = read(min(HEAD, size + slack))
    if len(head) >= size:  # read whole (or more than declared): its decoder, or the caller, judges it
        return head
    kind = kind_of(where)
    if kind == "png":
        limit, what = _png_limit(head, where)
    elif kind == "jpeg":
        head = _jpeg_head(head, read, size, where)
        limit, what = _jpeg_limit(head, where)
    else:
        limit, what = OTHER_LIMIT, "any file but an image a dataset holds"
    if size > limit:
        raise SourceError(where, f"declares {size} bytes, more than {what} can hold ({limit} at most): refused unread")
    return head


def _frame_size(width: int, height: int, what: str, where: str) -> None:
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= MAX_PIXELS):
        raise SourceError(where, f"{what} of {width}x{height}: out of the frame sizes taken (1 to {MAX_SIDE} a side)")


def _png_limit(head: bytes, where: str) -> tuple[int, str]:
    if not head.startswith(PNG_SIGNATURE):
        raise SourceError(where, f"not a PNG file (its first bytes are {head[:8]!r})")
    if len(head) < 26 or head[12:16] != b"IHDR":
        raise SourceError(where, "corrupt PNG: IHDR is not its first chunk")
    width, height, depth, colour = struct.unpack_from(">IIBB", head, 16)
    _frame_size(width, height, "PNG", where)
    bits = _PNG_CHANNELS.get(colour, 4) * (depth if depth in (1, 2, 4, 8, 16) else 16)
    raw = height * (1 + -(-width * bits // 8))
    return PNG_RAW_FACTOR * raw + IMAGE_SLACK, f"a {width}x{height} PNG"


def _jpeg_head(head: bytes, read: Callable[[int], bytes], size: int, where: str) -> bytes:
    """The head, read on until it holds the frame header (SOF), within ``JPEG_HEADER_LIMIT``."""
    if not head.startswith(b"\xff\xd8"):
        raise SourceError(where, f"not a JPEG file (its first bytes are {head[:4]!r})")
    while _jpeg_size(head) is None and len(head) < min(size, JPEG_HEADER_LIMIT):
        more = read(min(len(head), min(size, JPEG_HEADER_LIMIT) - len(head)))
        if not more:
            break
        head += more
    return head


def _jpeg_limit(head: bytes, where: str) -> tuple[int, str]:
    found = _jpeg_size(head)
    if found is None or found == (0, 0):
        raise SourceError(where, f"corrupt JPEG: no frame header (SOF) in its first {len(head)} bytes")
    width, height = found
    _frame_size(width, height, "JPEG", where)
    return JPEG_BYTES_PER_PIXEL * width * height + IMAGE_SLACK, f"a {width}x{height} JPEG"


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from the frame header, None before it is read; ``(0, 0)`` where no SOF can follow."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return (0, 0)
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            position += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: the frame header should have come
            return (0, 0)
        if marker in _JPEG_SOF:
            if position + 9 > len(data):
                return None
            height, width = struct.unpack_from(">HH", data, position + 5)
            return width, height
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return None
