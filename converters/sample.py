"""Small synthetic datasets in the MOSE, DAVIS and YouTube-VOS folder layouts, byte-identical for the same arguments.

Real datasets cannot ship with the project, yet every reader and writer must meet their
quirks, so the samples carry them on purpose (see ``shared/docs/input-layouts.md``):
objects that vanish and come back, objects that first appear mid-video, fully empty
annotated frames, DAVIS void (255) bands, DAVIS 2016 binary masks, grayscale index masks,
two DAVIS palettes, 4-bit YouTube-VOS PNGs, sparse valid annotations, frame numbers that
step by 5 and start above 0, frame sizes that are not multiples of 8, and hidden macOS
files beside the data.

Frames are smooth colourful textures seen through a slowly panning camera, with each
object drawn as a shaded, tinted ellipse that moves, turns and occludes its neighbours;
the masks are those ellipses. Every random choice comes from ``numpy.random.default_rng(seed)``
drawn in a fixed order, files are written by Pillow (JPEG quality 90, PNG without
timestamps), so the same ``(layout, seed, scale)`` gives the same bytes with the same Pillow.

Trees written by :func:`write_sample` (``<v8>`` / ``<v10>``: 8 / 10 lowercase hex characters):

* ``mose``: ``out/train/{JPEGImages,Annotations}/<v8>/NNNNN.{jpg,png}`` (every frame
  annotated) and ``out/valid/...`` (only ``00000.png``); 8-bit VOC-palette PNGs; junk files
  ``.DS_Store``, ``._00000.png``, ``._00000.jpg`` and ``notes.txt`` in some folders.
* ``davis``: ``out/DAVIS/{JPEGImages,Annotations}/480p/<seq>/NNNNN.{jpg,png}`` (every frame
  annotated) and ``out/DAVIS/ImageSets/{2016,2017}/{train,val}.txt``.
* ``youtube-vos``: ``out/{train,valid}/{meta.json,JPEGImages,Annotations}``; frames
  ``00000, 00005, ...``; 4-bit PNGs with the 16-colour YouTube-VOS palette.

Tests read the masks back with :func:`label_maps` (Pillow, independent of :mod:`converters.codecs.png`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .codecs import png
from .errors import OutputError
from .formats.davis import spec as davis_spec
from .formats.folders.spec import ANNOTATIONS, IMAGES
from .formats.youtube_vos.spec import META

__all__ = ["DAVIS191_PALETTE", "LAYOUTS", "VOC_PALETTE", "YOUTUBE_PALETTE", "label_maps", "write_sample"]

LAYOUTS = ("mose", "davis", "youtube-vos")

JPEG_QUALITY = 90


# --------------------------------------------------------------------------------------------
# Palettes (input-layouts.md §1.2)


#: The VOC colour map most DAVIS 2017 and MOSE tools write (index 9 = (192, 0, 0), 255 = (224, 224, 192)).
VOC_PALETTE = png.DAVIS_PALETTE
#: The DAVIS authors' 2017 toolkit variant: VOC entries 0-21 with 192 written as 191, then grey ramps (i, i, i).
DAVIS191_PALETTE = png.voc_palette(191)[: 22 * 3] + bytes(v for i in range(22, 256) for v in (i, i, i))
#: The 16 colours of YouTube-VOS's 4-bit annotation PNGs.
YOUTUBE_PALETTE = png.YOUTUBE_VOS_PALETTE

# macOS litter, as found in the MOSE training tree: an AppleDouble header and a Finder store.
_APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(56)
_DS_STORE = b"\x00\x00\x00\x01Bud1" + bytes(56)

_CATEGORIES = ("person", "dog", "skateboard", "cat", "horse", "bird", "surfboard", "umbrella")


# --------------------------------------------------------------------------------------------
# Public entry points


def write_sample(out: str | os.PathLike, layout: str = "mose", *, seed: int = 0, scale: int = 1) -> Path:
    """Write a synthetic dataset in ``layout`` at ``out`` and return ``out``, the path to give a reader.

    For DAVIS that is the folder holding ``DAVIS/`` (readers accept it, as they accept the
    folder that holds MOSE's and YouTube-VOS's split folders). ``scale`` multiplies both the
    number of videos and the length of each (so the data grows as ``scale**2``); ``scale=1``
    is 32 to 48 frames per layout, written in well under a second. ``out`` must not exist or
    be an empty folder (:class:`~converters.errors.OutputError` otherwise). The dataset is
    built in a hidden sibling folder and renamed into place at the end, so an interrupted
    run leaves nothing that looks like a dataset.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown sample layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"{out}: exists and is not an empty folder; choose another path or remove it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".{out.name}-", suffix=".partial", dir=out.parent))
    except OSError as exc:
        raise OutputError(f"{out}: cannot write here: {exc.strerror or exc}") from None
    try:
        _WRITERS[layout](build, np.random.default_rng(seed), scale)
        umask = os.umask(0)
        os.umask(umask)
        build.chmod(0o777 & ~umask)  # mkdtemp made it private; the dataset is an ordinary folder
        try:
            if out.exists():
                out.rmdir()
            build.rename(out)
        except OSError as exc:  # another process filled or created ``out`` meanwhile
            raise OutputError(f"{out}: cannot move the finished sample into place: {exc.strerror or exc}") from None
    except OSError as exc:  # a full disk while writing
        shutil.rmtree(build, ignore_errors=True)
        raise OutputError(f"{out}: cannot write the sample: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return out


def label_maps(root: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every annotation PNG under ``root`` as its pixel values, keyed by POSIX path relative to ``root``.

    Read with Pillow rather than :mod:`converters.codecs.png`, so tests can use it as an
    independent oracle. Hidden files (``._00000.png``) are skipped. Binary DAVIS 2016 masks
    come back as 0/255, exactly as stored.
    """
    root = Path(root)
    found = {}
    for path in sorted(root.rglob("*.png")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        with Image.open(path) as image:
            found[relative.as_posix()] = np.asarray(image, dtype=np.uint8).copy()
    return found


# --------------------------------------------------------------------------------------------
# What a video looks like (drawing helpers shared by all layouts)


Ranges = tuple[tuple[int, int], ...]  # [start, stop) frame positions, at scale 1


@dataclass(frozen=True)
class _Plan:
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
class _Blob:
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
class _Scene:
    """A video's background texture (larger than the frame: the camera pans over it) and objects."""

    width: int
    height: int
    texture: np.ndarray  # float RGB, (H + pan) x (W + pan) x 3
    pan: tuple[float, float]  # pixels per frame, x and y
    top: int  # texture row shown at the top of frame 0 (room to pan upwards)
    blobs: tuple[_Blob, ...]  # sorted far to near


def _ranges(ranges: Ranges, scale: int) -> frozenset[int]:
    return frozenset(t for start, stop in ranges for t in range(start * scale, stop * scale))


def _scene(rng: np.random.Generator, plan: _Plan, scale: int) -> _Scene:
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
            _Blob(
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
    return _Scene(width, height, texture, pan, top, tuple(blobs))


def _hsv(h: float, s: float, v: float) -> tuple[float, float, float]:
    """An HSV colour as RGB in 0..255 (colorsys without the import, and as floats)."""
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, r = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    rgb = [(v, r, p), (q, v, p), (p, v, r), (p, q, v), (r, p, v), (v, p, q)][i]
    return (255 * rgb[0], 255 * rgb[1], 255 * rgb[2])


def _render(scene: _Scene, t: int, void_ids: Sequence[int] = (), band: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
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


def _video(rng: np.random.Generator, plan: _Plan, scale: int) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(frame name, image, label map) for each frame of the plan; checks that the plan's traits came out."""
    scene = _scene(rng, plan, scale)  # draws from rng now, before the caller draws anything else
    names = plan.frame_names(scale)

    def frames() -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        for t, name in enumerate(names):
            image, label = _render(scene, t, plan.void if t % 2 == 0 else ())
            drawn = {b.object_id for b in scene.blobs if t not in b.hidden}
            seen = set(np.unique(label).tolist()) - {0, 255}
            if seen != drawn:  # a bug in the geometry, not bad luck: the lanes guarantee visibility
                raise RuntimeError(f"sample frame {t}: objects {sorted(drawn)} drawn but {sorted(seen)} visible")
            yield name, image, label

    return frames()


# --------------------------------------------------------------------------------------------
# File writing


def _save_jpeg(path: Path, image: np.ndarray) -> None:
    Image.fromarray(image).save(path, format="JPEG", quality=JPEG_QUALITY)


def _save_png(path: Path, label: np.ndarray, palette: bytes | None) -> None:
    """A palette PNG (8-bit, or 4-bit with a 16-colour palette) or, without a palette, 8-bit grayscale."""
    height, width = label.shape
    if palette is None:
        Image.frombytes("L", (width, height), label.tobytes()).save(path, format="PNG")
        return
    image = Image.frombytes("P", (width, height), label.tobytes())
    image.putpalette(palette)
    image.save(path, format="PNG", bits=4 if len(palette) == 48 else 8)


def _folders(root: Path, split: str, name: str) -> tuple[Path, Path]:
    images, masks = root / split / IMAGES / name, root / split / ANNOTATIONS / name
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    return images, masks


def _hex_names(rng: np.random.Generator, count: int, digits: int) -> list[str]:
    """``count`` distinct random ids of ``digits`` lowercase hex characters, like MOSE's and YouTube-VOS's."""
    names: list[str] = []
    while len(names) < count:
        name = f"{int(rng.integers(0, 16**digits)):0{digits}x}"
        if name not in names:
            names.append(name)
    return names


def _suffix(repeat: int) -> str:
    """``""``, ``"-b"``, ``"-c"``, ..., ``"-ba"``: keeps DAVIS names lowercase words when ``scale`` repeats them."""
    if repeat == 0:
        return ""
    letters = ""
    while repeat:
        repeat, digit = divmod(repeat, 26)
        letters = chr(ord("a") + digit) + letters
    return "-" + letters


# --------------------------------------------------------------------------------------------
# MOSE (input-layouts.md §2): train annotates every frame, valid only 00000.png.

_MOSE = {
    "train": (
        # object 2 vanishes for 3 frames and returns; object 3 appears at frame 5; frame 7 is empty
        _Plan(320, 180, 12, hidden=((), ((3, 6),), ((0, 5),)), empty=((7, 8),)),
        _Plan(250, 141, 8, hidden=((), ())),  # two large objects crossing: heavy occlusion
        _Plan(240, 160, 10, hidden=(((2, 4),), (), (), ((6, 10),))),  # object 4 leaves for good
    ),
    "valid": (
        _Plan(256, 144, 8, hidden=((), ())),
        _Plan(198, 111, 6, hidden=((), ((2, 4),), ())),
    ),
}


def _write_mose(root: Path, rng: np.random.Generator, scale: int) -> None:
    """MOSE: 8-hex video ids, 8-bit VOC-palette PNGs, macOS junk and a stray text file in the train tree."""
    plans = [(split, plan) for _ in range(scale) for split, split_plans in _MOSE.items() for plan in split_plans]
    names = _hex_names(rng, len(plans), 8)
    train = []
    for (split, plan), name in zip(plans, names):
        images, masks = _folders(root, split, name)
        for frame, image, label in _video(rng, plan, scale):
            _save_jpeg(images / f"{frame}.jpg", image)
            if split == "train" or frame == "00000":
                _save_png(masks / f"{frame}.png", label, VOC_PALETTE)
        if split == "train":
            train.append((images, masks))
    (root / "train" / ".DS_Store").write_bytes(_DS_STORE)
    (root / "train" / IMAGES / ".DS_Store").write_bytes(_DS_STORE)
    (train[0][1] / ".DS_Store").write_bytes(_DS_STORE)
    (train[0][1] / "._00000.png").write_bytes(_APPLE_DOUBLE)
    (train[1][0] / "._00000.jpg").write_bytes(_APPLE_DOUBLE)
    (train[0][0] / "notes.txt").write_text("object 2 walks behind the pillar in frames 3-5\n")


# --------------------------------------------------------------------------------------------
# DAVIS 2017 trainval 480p (input-layouts.md §4-5), with one DAVIS 2016 style and one grayscale sequence.


@dataclass(frozen=True)
class _Sequence:
    name: str
    split: str  # "train" or "val"
    plan: _Plan
    mode: str  # "voc", "191" (palettes), "binary" (L 0/255), "gray" (L ids)
    davis2016: bool = False  # listed in ImageSets/2016 too


_DAVIS = (
    # ids 1..3, void bands around objects 1 and 2 in even frames, object 3 gone in frames 4-5
    _Sequence("paper-boat", "train", _Plan(285, 160, 10, hidden=((), (), ((4, 6),)), void=(1, 2)), "voc"),
    _Sequence("pelican", "train", _Plan(285, 160, 8, hidden=((),)), "binary", davis2016=True),
    # the 191/grey palette, void around object 2, every object gone in frame 5 (as in bmx-bumps)
    _Sequence("lamp-swing", "val", _Plan(303, 160, 8, hidden=((), ()), empty=((5, 6),), void=(2,)), "191", davis2016=True),
    _Sequence("tram-stop", "val", _Plan(377, 160, 6, hidden=((), (), ())), "gray"),
)


def _write_davis(root: Path, rng: np.random.Generator, scale: int) -> None:
    """DAVIS: hyphenated sequence names, every frame annotated, ImageSets lists that partition the sequences."""
    davis = root / davis_spec.ROOT
    lists: dict[tuple[str, str], list[str]] = {(year, split): [] for year in ("2016", "2017") for split in ("train", "val")}
    palettes = {"voc": VOC_PALETTE, "191": DAVIS191_PALETTE, "binary": None, "gray": None}
    for repeat in range(scale):
        for sequence in _DAVIS:
            name = sequence.name + _suffix(repeat)
            images = davis / IMAGES / davis_spec.DEFAULT_RESOLUTION / name
            masks = davis / ANNOTATIONS / davis_spec.DEFAULT_RESOLUTION / name
            images.mkdir(parents=True)
            masks.mkdir(parents=True)
            for frame, image, label in _video(rng, sequence.plan, scale):
                _save_jpeg(images / f"{frame}.jpg", image)
                _save_png(masks / f"{frame}.png", label * 255 if sequence.mode == "binary" else label, palettes[sequence.mode])
            lists["2017", sequence.split].append(name)
            if sequence.davis2016:
                lists["2016", sequence.split].append(name)
    for (year, split), names in lists.items():
        folder = davis / davis_spec.IMAGE_SETS / year
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{split}.txt").write_text("".join(f"{n}\n" for n in sorted(names)))
    (davis / IMAGES / davis_spec.DEFAULT_RESOLUTION / ".DS_Store").write_bytes(_DS_STORE)


# --------------------------------------------------------------------------------------------
# YouTube-VOS 2019 (input-layouts.md §6): frames every 5, meta.json per split, sparse valid PNGs.

_YOUTUBE = {
    "train": (
        # object 2 vanishes and returns; object 3 first appears at 00020
        _Plan(320, 180, 12, hidden=((), ((3, 6),), ((0, 4),)), step=5),
        _Plan(256, 144, 8, hidden=((), ()), empty=((4, 5),), first=10, step=5),  # 00010..00045, 00030 empty
        _Plan(213, 120, 10, hidden=(((7, 10),), ()), step=5),
    ),
    "valid": (
        _Plan(240, 160, 10, hidden=((), (), ((0, 5),)), step=5),  # PNGs 00000 (1, 2) and 00025 (3)
        _Plan(160, 240, 8, hidden=((), ((0, 3),), ((0, 3),)), first=15, step=5),  # portrait; PNGs 00015 (1), 00030 (2, 3)
    ),
}


def _write_youtube(root: Path, rng: np.random.Generator, scale: int) -> None:
    """YouTube-VOS: 10-hex ids, 4-bit PNGs; train lists visible frames and categories, valid only first appearances."""
    plans = [(split, plan) for _ in range(scale) for split, split_plans in _YOUTUBE.items() for plan in split_plans]
    names = _hex_names(rng, len(plans), 10)
    meta: dict[str, dict[str, dict]] = {"train": {}, "valid": {}}
    for (split, plan), name in zip(plans, names):
        images, masks = _folders(root, split, name)
        categories = [str(rng.choice(_CATEGORIES)) for _ in plan.hidden] if split == "train" else []
        visible: dict[int, list[str]] = {}
        frames = plan.frame_names(scale)
        for frame, image, label in _video(rng, plan, scale):
            _save_jpeg(images / f"{frame}.jpg", image)
            ids = sorted(set(np.unique(label).tolist()) - {0})
            if split == "train":
                _save_png(masks / f"{frame}.png", label, YOUTUBE_PALETTE)
            else:  # only objects seen for the first time here, the others are 0 ("don't care")
                new = [i for i in ids if i not in visible]
                if new:
                    _save_png(masks / f"{frame}.png", np.where(np.isin(label, new), label, 0).astype(np.uint8), YOUTUBE_PALETTE)
            for i in ids:
                visible.setdefault(i, []).append(frame)
        objects = {}
        for object_id in sorted(visible):
            if split == "train":
                objects[str(object_id)] = {"category": categories[object_id - 1], "frames": visible[object_id]}
            else:
                objects[str(object_id)] = {"frames": frames[frames.index(visible[object_id][0]) :]}
        meta[split][name] = {"objects": objects}
    for split, videos in meta.items():
        document = {"videos": {name: videos[name] for name in sorted(videos)}}
        (root / split / META).write_text(json.dumps(document) + "\n")
    (root / "train" / IMAGES / ".DS_Store").write_bytes(_DS_STORE)


_WRITERS = {"mose": _write_mose, "davis": _write_davis, "youtube-vos": _write_youtube}
