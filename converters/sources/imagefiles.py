"""Frame images: read their bytes wherever they live, and their size from the header alone.

JPEG bytes are copied, never re-encoded; the size check reads the first kilobytes only. A frame
of a video file (``ImageRef.frame``) is decoded and encoded as a JPEG here, when a writer reads it, and a
resized one (``ImageRef.resize``, a derived set's) resized and encoded again.
Images inside an archive (``ImageRef.archive``) are read through the archive's per-process
:class:`~converters.sources.archives.ArchiveFS`; files on disk keep the plain ``open`` path.
"""

from __future__ import annotations

import dataclasses
import io
import os
import struct

from ..errors import SourceError
from ..model import ImageRef
from . import files as sources

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def read_bytes(ref: ImageRef) -> bytes:
    if ref.resize is not None:
        return _resized(ref)
    if ref.data is not None:
        return ref.data
    if ref.frame is not None:
        from ..codecs import video  # PyAV is imported only where a video is read

        return video.frame_jpeg(ref.path, ref.frame, ref.quality)
    try:
        if ref.archive is not None:
            data = sources.archive(ref.archive).read_member(ref.path)
        else:
            data = sources.read_regular(ref.path)
    except OSError as exc:
        raise SourceError(ref.location, f"cannot read image: {exc.strerror or exc}") from None
    if not data.startswith((b"\xff\xd8", PNG_SIGNATURE)):  # a file a source names as a frame (a COCO file's
        raise SourceError(ref.location, "not a JPEG or PNG image")  # file_names) goes into outputs only if it is one
    return data


def _resized(ref: ImageRef) -> bytes:
    """The image resized (Lanczos) to ``ref.resize`` and encoded as ``ref.resize_format``; a frame of a video file
    is resized as decoded, so that it is encoded once."""
    from PIL import Image

    kept: dict[str, object] = {}
    try:
        if ref.frame is not None and ref.data is None:
            from ..codecs import video

            picture = Image.fromarray(video.frame_rgb(ref.path, ref.frame), "RGB")
        else:
            with Image.open(io.BytesIO(read_bytes(dataclasses.replace(ref, resize=None)))) as opened:
                opened.load()
                picture = opened if opened.mode in ("RGB", "L", "RGBA") else opened.convert("RGB")
                kept = _kept_metadata(opened, converted=picture is not opened)
        small = picture.resize(ref.resize, Image.Resampling.LANCZOS)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise SourceError(ref.location, f"cannot decode image to resize it: {exc}") from None
    out = io.BytesIO()
    if ref.resize_format == "png":
        small.save(out, format="PNG", compress_level=6, **kept)
    else:
        small = small.convert("RGB" if small.mode == "RGBA" else small.mode)
        small.save(out, format="JPEG", quality=ref.quality, **kept)
    return out.getvalue()


#: EXIF's Orientation tag: how a viewer turns the stored pixels (the masks follow the stored pixels, not the view).
_ORIENTATION = 0x0112


def _kept_metadata(opened, *, converted: bool) -> dict[str, object]:
    """What of a frame's metadata still holds for its resized copy: its colour profile (unless its pixels were
    converted to RGB, which the profile does not describe) and its EXIF orientation, where it is one of EXIF's
    (a tag of another type or value would stop the encoder). The rest of EXIF (camera, thumbnail, the old pixel
    size) is dropped rather than carried over untrue."""
    from PIL import Image

    kept: dict[str, object] = {}
    profile = opened.info.get("icc_profile")
    if profile and not converted:
        kept["icc_profile"] = profile
    orientation = opened.getexif().get(_ORIENTATION)
    if type(orientation) is int and 2 <= orientation <= 8:  # EXIF's eight turns, 1 none; other values name no turn
        exif = Image.Exif()
        exif[_ORIENTATION] = orientation
        kept["exif"] = exif
    return kept


def image_size(data: bytes, where: str) -> tuple[int, int]:
    """``(width, height)`` of a JPEG or PNG from its header; SourceError when there is no valid header."""
    if data[:8] == PNG_SIGNATURE:
        if len(data) < 24:
            raise SourceError(where, "truncated PNG image")
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:2] != b"\xff\xd8":
        raise SourceError(where, "not a JPEG or PNG image")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise SourceError(where, f"corrupt JPEG: no marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _SOF:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if marker == 0xD9 or marker == 0xDA:
            break
        pos += 2 + length
    raise SourceError(where, "truncated or corrupt JPEG: no frame header (SOF) found")


def _scan_start(data: bytes) -> int | None:
    """Where a JPEG's first scan begins, past its header segments (whose EXIF thumbnail may hold an
    end-of-image marker of its own); None when the header ends first."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:  # start of scan: entropy-coded data follows its header
            return position + 2 + length
        position += 2 + length
    return None


def probe_image(path: str, head: int = 4096, fs: sources.FileSystem | None = None) -> tuple[int, int]:
    """``(width, height)`` of the image file at ``path``, checking that it is whole.

    Reads the header (more only when a big EXIF block hides it) and, for a JPEG, the last
    two bytes, which must be the end-of-image marker: a download cut short fails here
    instead of in a training job weeks later. ``fs`` opens the file (default: the local disk).
    """
    try:
        with sources.open_regular(path) if fs is None else fs.open(path) as file:
            data = file.read(head)
            try:
                size = image_size(data, path)
            except SourceError:
                data += file.read()
                size = image_size(data, path)
            if data[:2] == b"\xff\xd8":
                # the end-of-image marker, allowing a little trailing junk (some cameras append it);
                # a cut-off file ends in entropy-coded data, where 0xFF is always followed by 0x00
                file.seek(max(file.seek(0, os.SEEK_END) - 1024, 2))
                if b"\xff\xd9" not in file.read():
                    file.seek(0)  # more trailing data than that (a phone's appended trailer): look after the scan starts
                    whole = file.read()
                    start = _scan_start(whole)
                    if start is None or whole.find(b"\xff\xd9", start) < 0:
                        raise SourceError(path, "truncated JPEG: no end-of-image marker")
            return size
    except OSError as exc:
        raise SourceError(path, f"cannot read image: {exc.strerror or exc}") from None
