"""JPEG encoding of decoded frames, byte-identical to what ``cv2.imwrite`` writes.

SAM 2's extraction script writes SA-V's frames with ``cv2.imwrite`` (libjpeg-turbo, quality 95,
4:2:0 chroma, baseline, the accurate integer DCT). Pillow's encoder, with the same settings,
writes the same bytes (checked in the tests against OpenCV); simplejpeg's does not (its
colour conversion differs in the last bit), so frames go through Pillow. A transcode: the mp4's
frames are lossy already, and the JPEG adds its own loss, as SAM 2's extraction does.
"""

from __future__ import annotations

import io

import numpy as np

#: ``cv2.imwrite``'s default quality.
DEFAULT_QUALITY = 95


def encode_rgb(pixels: np.ndarray, quality: int = DEFAULT_QUALITY) -> bytes:
    """An (H, W, 3) uint8 RGB frame as the JPEG ``cv2.imwrite`` writes of it (given as BGR)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "JPEG", quality=quality, subsampling="4:2:0", optimize=False)
    return buffer.getvalue()
