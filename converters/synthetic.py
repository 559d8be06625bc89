"""What a synthetic video looks like: a panning textured background and shaded, tinted ellipses that move,
turn, occlude each other, vanish and come back, as a layout's recipe (:class:`Plan`) asks.

Every random choice comes from the ``numpy`` generator handed in, drawn in a fixed order, so the
same plan and seed give the same pixels. :mod:`converters.sample` writes these into the folder layouts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

Ranges = tuple[tuple[int, int], ...]  # [start, stop) frame positions, at scale 1


@dataclass(frozen=True)
class Plan:
    """One video of a layout's recipe at scale 1: the traits it must show, not its looks.

    ``hidden[k]`` lists the frame positions where object ``k + 1`` is not drawn (it
    vanishes, or has not appeared yet); ``empty`` lists positions where no object is drawn.
    ``void`` names objects that get a void band in even frames (DAVIS). ``first`` is the
    first frame number and ``step`` the gap between frame numbers (YouTube-VOS: 5).
    """

    width: int
    height: int
    length: int
    hidden: tuple[Ranges, ...]
    empty: Ranges = ()
    void: tuple[int, ...] = ()
    first: int = 0
    step: int = 1

    def frame_names(self, scale: int) -> list[str]:
        return [f"{self.first + position * self.step:05d}" for position in range(self.length * scale)]


@dataclass(frozen=True)
class Blob:
    """An object: a shaded ellipse bouncing left and right in its own horizontal lane.

    Lanes are far enough apart that a neighbour never covers an object's centre, so an
    object that is drawn is always visible (the traits of the plan survive any seed).
    """

    object_id: int
    colour: tuple[float, float, float]
    lane: float  # centre y at rest, pixels
    bob: float  # vertical wobble amplitude, pixels
    start: float  # position along the bounce path, pixels
    speed: float  # pixels per frame
    rx: float
    ry: float
    tilt: float  # largest angle of the long axis from horizontal, radians (it rocks between -tilt and tilt)
    phase: float
    depth: float  # larger is nearer: drawn later, occludes
    hidden: frozenset[int]  # frame positions where it is not drawn

    def pose(self, t: int, width: int) -> tuple[float, float, float, float, float]:
        """Centre x, centre y, radii and angle at frame position ``t``."""
        low, span = 0.12 * width, 0.76 * width
        u = (self.start + self.speed * t) % (2 * span)
        x = low + (u if u < span else 2 * span - u)
        y = self.lane + self.bob * math.sin(0.7 * t + self.phase)
        breathe = 1 + 0.08 * math.sin(0.9 * t + 2 * self.phase)
        return x, y, self.rx * breathe, self.ry * breathe, self.tilt * math.sin(0.5 * t + self.phase)


@dataclass(frozen=True)
class Scene:
    """A video's background texture (larger than the frame: the camera pans over it) and objects."""

    width: int
    height: int
    texture: np.ndarray  # float RGB, (H + pan) x (W + pan) x 3
    pan: tuple[float, float]  # pixels per frame, x and y
    top: int  # texture row shown at the top of frame 0 (room to pan upwards)
    blobs: tuple[Blob, ...]  # sorted far to near


def _ranges(ranges: Ranges, scale: int) -> frozenset[int]:
    return frozenset(t for start, stop in ranges for t in range(start * scale, stop * scale))


def make_scene(rng: np.random.Generator, plan: Plan, scale: int) -> Scene:
    """Draw a video's looks from ``rng``: texture, camera pan, and one blob per object of the plan."""
    width, height, length = plan.width, plan.height, plan.length * scale
    pan = (float(rng.uniform(0.8, 2.5)), float(rng.uniform(-0.6, 0.6)))
    tex_w = width + int(np.ceil(pan[0] * length)) + 2
    tex_h = height + int(np.ceil(abs(pan[1]) * length)) + 2
    # a muted sky above a darker ground, blotches of colour, fine ripples for the JPEG coder to chew on
    sky = _hsv(rng.uniform(), rng.uniform(0.15, 0.45), rng.uniform(0.75, 0.95))
    ground = _hsv(rng.uniform(), rng.uniform(0.25, 0.55), rng.uniform(0.35, 0.6))
    rows = np.arange(tex_h, dtype=np.float32)[:, None, None]
    horizon = 1 / (1 + np.exp((rows - rng.uniform(0.3, 0.6) * tex_h) / (0.06 * tex_h)))
    texture = horizon * np.float32(sky) + (1 - horizon) * np.float32(ground)
    grid = rng.integers(0, 256, size=(int(rng.integers(3, 6)), int(rng.integers(5, 9)), 3), dtype=np.uint8)
    blotches = np.asarray(Image.fromarray(grid).resize((tex_w, tex_h), Image.Resampling.BICUBIC), dtype=np.float32)
    texture = texture + 0.35 * (blotches - 128)
    ys, xs = np.mgrid[0:tex_h, 0:tex_w].astype(np.float32)
    for channel in range(3):
        fx, fy = rng.uniform(-0.12, 0.12, size=2)
        texture[:, :, channel] += 10 * np.sin(fx * xs + fy * ys + rng.uniform(0, 2 * np.pi))

    count = len(plan.hidden)
    spacing = height / count
    # Lane centres are >= 0.88 * spacing apart (bob <= 0.06 * spacing each); an ellipse reaching at most
    # 0.8 * spacing above and below its centre (breathing included) never covers a neighbour's centre.
    reach = 0.8 * spacing / 1.08
    lanes = rng.permutation(count)
    empty = _ranges(plan.empty, scale)
    blobs = []
    for index, hidden in enumerate(plan.hidden):
        ry = max(min(reach, 0.3 * height) * rng.uniform(0.5, 0.9), 3.0)
        rx = min(ry * rng.uniform(1.2, 2.2), 0.3 * width)
        # the widest tilt keeping the vertical half-extent sqrt((rx sin a)^2 + (ry cos a)^2) within reach
        limit = math.pi / 2 if rx <= reach else math.asin(math.sqrt((reach**2 - ry**2) / (rx**2 - ry**2)))
        blobs.append(
            Blob(
                object_id=index + 1,
                colour=_hsv((index / count + rng.uniform(0, 0.15)) % 1.0, rng.uniform(0.7, 0.95), rng.uniform(0.8, 1.0)),
                lane=(lanes[index] + 0.5) * spacing,
                bob=0.06 * spacing * rng.uniform(0.3, 1.0),
                start=rng.uniform(0, 1.52 * width),
                speed=rng.uniform(0.05, 0.13) * width * rng.choice([-1, 1]),
                rx=rx,
                ry=ry,
                tilt=limit * rng.uniform(0.3, 1.0) * rng.choice([-1, 1]),
                phase=rng.uniform(0, 2 * np.pi),
                depth=rng.uniform(0, 1),
                hidden=_ranges(hidden, scale) | empty,
            )
        )
    blobs.sort(key=lambda b: b.depth)
    top = tex_h - height - 2 if pan[1] < 0 else 0
    return Scene(width, height, texture, pan, top, tuple(blobs))


def _hsv(h: float, s: float, v: float) -> tuple[float, float, float]:
    """An HSV colour as RGB in 0..255 (colorsys without the import, and as floats)."""
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, r = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    rgb = [(v, r, p), (q, v, p), (p, v, r), (p, q, v), (r, p, v), (v, p, q)][i]
    return (255 * rgb[0], 255 * rgb[1], 255 * rgb[2])


def render(scene: Scene, t: int, void_ids: Sequence[int] = (), band: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Frame ``t`` as an RGB image and its label map (object ids; 255 in ``band``-pixel rings around ``void_ids``)."""
    width, height = scene.width, scene.height
    ox = round(scene.pan[0] * t)
    oy = scene.top + round(scene.pan[1] * t)
    image = scene.texture[oy : oy + height, ox : ox + width].copy()
    label = np.zeros((height, width), np.uint8)
    rings = []
    for blob in scene.blobs:
        if t in blob.hidden:
            continue
        x, y, rx, ry, angle = blob.pose(t, width)
        pad = max(rx, ry) + band + 1
        x0, x1 = max(int(x - pad), 0), min(int(x + pad) + 1, width)
        y0, y1 = max(int(y - pad), 0), min(int(y + pad) + 1, height)
        dy, dx = np.ogrid[y0:y1, x0:x1]
        dx, dy = dx + 0.5 - x, dy + 0.5 - y
        cos, sin = math.cos(angle), math.sin(angle)
        u, v = dx * cos + dy * sin, dy * cos - dx * sin
        d = (u / rx) ** 2 + (v / ry) ** 2
        inside = d <= 1
        window = (slice(y0, y1), slice(x0, x1))
        label[window][inside] = blob.object_id
        shade = (1.12 - 0.5 * d[inside] + 0.12 * np.sin(u[inside] * 0.5))[:, None]  # lit centre, faint stripes
        image[window][inside] = 0.72 * shade * np.asarray(blob.colour, np.float32) + 0.28 * image[window][inside]
        if blob.object_id in void_ids:
            ring = ((u / (rx + band)) ** 2 + (v / (ry + band)) ** 2 <= 1) & ~inside
            rings.append((window, ring))
    for window, ring in rings:  # after all objects: the void band never eats an object's pixels
        label[window][ring & (label[window] == 0)] = 255
    return np.clip(image, 0, 255).astype(np.uint8), label


def video_frames(rng: np.random.Generator, plan: Plan, scale: int) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(frame name, image, label map) for each frame of the plan; checks that the plan's traits came out."""
    scene = make_scene(rng, plan, scale)  # draws from rng now, before the caller draws anything else
    names = plan.frame_names(scale)

    def frames() -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        for t, name in enumerate(names):
            image, label = render(scene, t, plan.void if t % 2 == 0 else ())
            drawn = {b.object_id for b in scene.blobs if t not in b.hidden}
            seen = set(np.unique(label).tolist()) - {0, 255}
            if seen != drawn:  # a bug in the geometry, not bad luck: the lanes guarantee visibility
                raise RuntimeError(f"sample frame {t}: objects {sorted(drawn)} drawn but {sorted(seen)} visible")
            yield name, image, label

    return frames()
