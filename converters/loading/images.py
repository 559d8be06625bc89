"""Frames decoded for training: into preallocated arrays, at the training resolution.

A frame meant for a smaller resolution is decoded smaller in the JPEG's DCT when the target
is at most half the source (libjpeg-turbo's scaling through simplejpeg's ``min_height`` and
``min_width``: a quarter of the pixels costs about half the decode), then resized to the
exact size (bilinear for pixels). Masks are resized by nearest neighbour, never blended.
"""

from __future__ import annotations

import io

import numpy as np

from .masks import resize_masks

try:
    import simplejpeg as _simplejpeg
except ImportError:  # optional: Pillow decodes every frame then
    _simplejpeg = None

__all__ = ["decode_frames", "decode_jpeg", "resize_masks", "target_size"]


def decode_jpeg(data: bytes) -> np.ndarray:
    """A frame's JPEG (or PNG) bytes as a uint8 (H, W, 3) RGB array; EXIF orientation is ignored, as for the masks.

    simplejpeg (libjpeg-turbo straight into a numpy array) gives the same pixels as Pillow
    in about half the time here: Pillow's own decode is as fast, but copying its image
    out to numpy costs more than decoding it. Pillow takes what simplejpeg cannot
    (PNG frames, CMYK JPEGs) and everything when simplejpeg is not installed.
    """
    if _simplejpeg is not None and data[:2] == b"\xff\xd8":
        try:
            # CMYK/YCCK: simplejpeg converts those by another formula than Pillow's, so Pillow decodes them
            if _simplejpeg.decode_jpeg_header(data)[2] not in ("CMYK", "YCCK"):
                return _simplejpeg.decode_jpeg(data, colorspace="RGB")
        except (ValueError, RuntimeError):  # a JPEG libjpeg-turbo cannot read: Pillow may, or says why
            pass
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def target_size(height: int, width: int, size: int | tuple[int, int] | None) -> tuple[int, int]:
    """``(height, width)`` for ``size``: None keeps the frame's, an int is the short side, a pair is exact."""
    if size is None:
        return height, width
    if isinstance(size, int):
        if height <= width:
            return size, max(1, round(width * size / height))
        return max(1, round(height * size / width)), size
    return int(size[0]), int(size[1])


def _plain_jpeg_size(data: bytes) -> tuple[int, int] | None:
    """``(height, width)`` of a JPEG simplejpeg decodes to RGB itself; None for anything else (Pillow's)."""
    if _simplejpeg is None or data[:2] != b"\xff\xd8":
        return None
    try:
        height, width, colorspace, _ = _simplejpeg.decode_jpeg_header(data)
    except (ValueError, RuntimeError):
        return None
    return None if colorspace in ("CMYK", "YCCK") else (height, width)


def _resize_image(image: np.ndarray, height: int, width: int) -> np.ndarray:
    if image.shape[:2] == (height, width):
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))


def _check_size(found: tuple[int, int], height: int, width: int) -> None:
    if tuple(found) != (height, width):
        raise ValueError(f"the image is {found[1]}x{found[0]}, the video's frames {width}x{height}")


def decode_frames(
    images: list[bytes | None], height: int, width: int, size: tuple[int, int], out: np.ndarray | None = None
) -> np.ndarray:
    """uint8 (T, h, w, 3) frames of a (height, width) video at ``size`` = (h, w); a frame without image is zeros.

    At full size each JPEG is decoded straight into its slot of the clip's array (no copy). ``out``:
    a contiguous array of that shape to overwrite whole and return, instead of a new one.
    Raises whatever the decoders raise on bytes that are no image: the caller names the frame.
    """
    out_h, out_w = size
    shape = (len(images), out_h, out_w, 3)
    if out is None:
        out = np.empty(shape, np.uint8)
    elif out.shape != shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise TypeError(f"out must be a contiguous uint8 array of shape {shape}")
    scaled = 2 * out_h <= height and 2 * out_w <= width  # the DCT can shrink by 1/2, 1/4, 1/8
    for t, data in enumerate(images):
        if data is None:
            out[t] = 0
            continue
        found = _plain_jpeg_size(data)
        if found is None:
            decoded = decode_jpeg(data)
            _check_size(decoded.shape[:2], height, width)
            out[t] = _resize_image(decoded, out_h, out_w)
            continue
        _check_size(found, height, width)  # a smaller one would leave out[t] part-written
        if (out_h, out_w) == (height, width):
            _simplejpeg.decode_jpeg(data, colorspace="RGB", buffer=out[t])
        elif scaled:
            small = _simplejpeg.decode_jpeg(data, colorspace="RGB", min_height=out_h, min_width=out_w)
            out[t] = _resize_image(small, out_h, out_w)
        else:
            out[t] = _resize_image(_simplejpeg.decode_jpeg(data, colorspace="RGB"), out_h, out_w)
    return out
