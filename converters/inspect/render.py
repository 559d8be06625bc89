"""One frame with its masks drawn over its image: the tile every preview is made of.

Each object is filled in its palette colour (the video's palette, else DAVIS's; ids 0, 255
and above 255, which no palette PNG holds, a colour of their own), half transparent over the
frame image, with a lighter outline and its id drawn at the mask pixel nearest its centre;
void is hatched in the palette's colour 255; an unannotated frame is dimmed and says so. Masks
are decoded one object at a time, so overlapping masks all show.
"""

from __future__ import annotations

import colorsys
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..codecs import rle
from ..codecs.png import DAVIS_PALETTE
from ..errors import SourceError
from ..model import VOID_ID, Frame, Mask, Video
from ..sources import imagefiles

#: How much of an object's colour covers the frame image under its mask.
ALPHA = 0.5
_HATCH = 4  # void stripes: this many pixels on, this many off, along the diagonal


def colours(video: Video) -> np.ndarray:
    """(256, 3) uint8: the video's palette, completed (or replaced, when it has none) by DAVIS's."""
    table = bytearray(DAVIS_PALETTE)
    if video.palette is not None:
        table[: len(video.palette)] = video.palette
    return np.frombuffer(bytes(table), np.uint8).reshape(256, 3)


def object_colour(table: np.ndarray, object_id: int) -> np.ndarray:
    """An object's RGB colour: its palette entry for ids 1 to 254, as the mask PNGs show them. Id 0 (the palette's
    black, the background's), 255 (void's colour) and ids past the palette (SA-V, COCO) get a bright colour of their
    own from the id, the same in every frame and every video."""
    if 0 < object_id < VOID_ID:
        return table[object_id]
    hue = (object_id * 0.6180339887498949) % 1.0  # the golden ratio: neighbouring ids get distant hues
    return np.array([round(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.75, 1.0)], np.uint8)


def frame_pixels(frame: Frame, video: Video) -> np.ndarray | None:
    """The frame's image as (height, width, 3) uint8 RGB at the video's size, or None when it has none."""
    if frame.image is None:
        return None
    data = imagefiles.read_bytes(frame.image)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image = image.convert("RGB")
            if image.size != (video.width, video.height):
                image = image.resize((video.width, video.height), Image.Resampling.BILINEAR)
            return np.asarray(image).copy()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise SourceError(frame.image.location, f"cannot decode image: {exc}") from None


def _binary(mask: Mask, video: Video) -> np.ndarray:
    return rle.decode([(1, mask.counts)], video.height, video.width).astype(bool)


def _edge(binary: np.ndarray) -> np.ndarray:
    """The mask's pixels with a 4-neighbour outside it (or on the frame's border)."""
    inner = binary.copy()
    inner[1:, :] &= binary[:-1, :]
    inner[:-1, :] &= binary[1:, :]
    inner[:, 1:] &= binary[:, :-1]
    inner[:, :-1] &= binary[:, 1:]
    inner[[0, -1], :] = False
    inner[:, [0, -1]] = False
    return binary & ~inner


def _paint(canvas: np.ndarray, where: np.ndarray, colour: np.ndarray, alpha: float) -> None:
    if alpha >= 1:
        canvas[where] = colour
    else:
        canvas[where] = np.round(canvas[where] * (1 - alpha) + colour * alpha).astype(np.uint8)


def _label_point(binary: np.ndarray) -> tuple[int, int]:
    """The mask pixel nearest the mask's centroid, as (x, y): inside the object even when it is a ring."""
    ys, xs = np.nonzero(binary)
    cy, cx = ys.mean(), xs.mean()
    nearest = int(np.argmin((ys - cy) ** 2 + (xs - cx) ** 2))
    return int(xs[nearest]), int(ys[nearest])


def draw_text(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, *, centred: bool = True) -> None:
    """White text on a black box (legible on any frame), centred on ``xy`` or from its top-left corner."""
    font = ImageFont.load_default()
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    width, height = right - left, bottom - top
    x, y = (xy[0] - width // 2, xy[1] - height // 2) if centred else xy
    draw.rectangle((x - 2, y - 2, x + width + 1, y + height + 1), fill=(0, 0, 0))
    draw.text((x - left, y - top), text, fill=(255, 255, 255), font=font)


def render_frame(
    video: Video, frame: Frame, *, ids: bool = True, image: bool = True, table: np.ndarray | None = None
) -> Image.Image:
    """The frame at the video's size with its masks drawn over its image (``image=False``: over black), in the
    colours of ``table`` (:func:`colours`; default the video's own)."""
    pixels = frame_pixels(frame, video) if image else None
    alpha = ALPHA if pixels is not None else 1.0
    canvas = pixels if pixels is not None else np.zeros((video.height, video.width, 3), np.uint8)
    if frame.masks is None:
        dimmed = Image.fromarray((canvas * 0.4).astype(np.uint8))
        draw_text(ImageDraw.Draw(dimmed), (4, 4), "not annotated", centred=False)
        return dimmed
    table = colours(video) if table is None else table
    if frame.masks.void is not None and frame.masks.void.area:
        void = _binary(frame.masks.void, video)
        rows, columns = np.indices(void.shape)
        stripes = void & (((rows + columns) // _HATCH) % 2 == 0)
        _paint(canvas, stripes, table[VOID_ID], alpha)
        _paint(canvas, _edge(void), table[VOID_ID], 1.0)
    labels = []
    for mask in frame.masks.objects:  # by id: a later object covers an earlier one where they overlap
        if not mask.area:
            continue
        binary = _binary(mask, video)
        colour = object_colour(table, mask.object_id)
        _paint(canvas, binary, colour, alpha)
        _paint(canvas, _edge(binary), (colour.astype(np.uint16) + 255) // 2, 1.0)  # lighter: seen on black and on colour
        labels.append((mask.object_id, _label_point(binary)))
    result = Image.fromarray(canvas)
    if ids:
        draw = ImageDraw.Draw(result)
        for object_id, point in labels:
            draw_text(draw, point, str(object_id))
    return result
