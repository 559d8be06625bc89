"""Deterministic benchmark data: realistic label maps, palette PNGs, JPEGs and MOSE-layout videos.

Shapes follow ``shared/docs/performance-baselines.md`` ("Test data"): every object is a
metaball of 3-6 Gaussian lobes whose boundary is bent by low- and mid-frequency noise (limbs,
wiggles, a few islands); radii are log-uniform between 3.5 % and 22 % of the short side; half
the objects are placed against an earlier one, and later objects occlude earlier ones.
Masks are written by Pillow in mode ``P`` with the VOC palette (filter type 0 on every row,
as DAVIS/MOSE files are); :func:`png_adaptive` writes the same pixels with per-row adaptive
filters (None/Sub/Up/Avg/Paeth, libpng's minimum-sum heuristic) for the slower PNG path.

JPEGs (quality 90) are 1/f textures with a lens-like roll-off and a tint per object region,
sized like real frames (about 80 kB at 480p, 450 kB at 1080p). Converting annotations to
COCO JSON never decodes them (only the header is read), so a video reuses one JPEG for all
its frames; what matters is that the files exist with realistic sizes (shard planning
weighs videos by their bytes).

Everything comes from ``numpy.random.default_rng(seed)`` drawn in a fixed order, so the
same arguments give the same pixels (and, with the same Pillow, the same bytes).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from converters.sample import VOC_PALETTE

RESOLUTIONS = {"1080p": (1080, 1920), "480p": (480, 854)}
OBJECT_COUNTS = (1, 3, 8, 20)
JPEG_QUALITY = 90


# --------------------------------------------------------------------------------------------
# Shapes


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: float) -> np.ndarray:
    """Zero-mean noise of unit-ish amplitude varying over about ``cells`` cells across the longer side."""
    gh = max(2, round(cells * height / max(height, width)) + 2)
    gw = max(2, round(cells * width / max(height, width)) + 2)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    image = Image.frombytes("F", (gw, gh), grid.tobytes())
    return np.asarray(image.resize((width, height), Image.Resampling.BICUBIC))


def blob(rng: np.random.Generator, radius: float) -> np.ndarray:
    """One object's shape as a boolean sprite about ``4 * radius`` wide, centred in the sprite.

    The smooth field is evaluated on a grid of at most about 160 x 160 points and upsampled
    (bicubic) before thresholding, so big shapes cost no more than small ones and their
    boundaries stay smooth at the pixel level.
    """
    lobes = int(rng.integers(3, 7))
    size = max(8, int(np.ceil(4.2 * radius)))
    step = max(1.0, size / 160)
    n = max(8, int(np.ceil(size / step)))
    coords = (np.arange(n, dtype=np.float32) + 0.5) * np.float32(size / n) - np.float32(size / 2)
    ys, xs = coords[:, None], coords[None, :]
    field_ = np.zeros((n, n), np.float32)
    for k in range(lobes):
        angle = rng.uniform(0, 2 * np.pi)
        dist = 0.0 if k == 0 else rng.uniform(0.35, 0.9) * radius
        cy, cx = dist * np.sin(angle), dist * np.cos(angle)
        sigma = radius * (rng.uniform(0.45, 0.6) if k == 0 else rng.uniform(0.18, 0.38))
        stretch = rng.uniform(1.0, 2.2)  # elongated lobes make limbs
        ca, sa = np.float32(np.cos(angle)), np.float32(np.sin(angle))
        u = (xs - np.float32(cx)) * ca + (ys - np.float32(cy)) * sa
        v = (ys - np.float32(cy)) * ca - (xs - np.float32(cx)) * sa
        weight = np.float32(rng.uniform(0.7, 1.0))
        field_ += weight * np.exp(-((u / np.float32(stretch)) ** 2 + v**2) / np.float32(2 * sigma * sigma))
    field_ += 0.16 * _smooth_noise(rng, n, n, 5)  # bends, limbs
    field_ += 0.07 * _smooth_noise(rng, n, n, 16)  # wiggles, islands
    field_ += 0.035 * _smooth_noise(rng, n, n, 40)  # ragged edge
    if n != size:
        image = Image.frombytes("F", (n, n), field_.tobytes())
        field_ = np.asarray(image.resize((size, size), Image.Resampling.BICUBIC))
    return field_ > 0.42


def _paste(label: np.ndarray, sprite: np.ndarray, cy: float, cx: float, value: int) -> None:
    """Paint ``sprite`` centred at (cy, cx), clipped to the frame; later paints occlude earlier ones."""
    height, width = label.shape
    sh, sw = sprite.shape
    y0, x0 = round(cy - sh / 2), round(cx - sw / 2)
    ly0, lx0 = max(y0, 0), max(x0, 0)
    ly1, lx1 = min(y0 + sh, height), min(x0 + sw, width)
    if ly0 >= ly1 or lx0 >= lx1:
        return
    part = sprite[ly0 - y0 : ly1 - y0, lx0 - x0 : lx1 - x0]
    label[ly0:ly1, lx0:lx1][part] = value


def _radius(rng: np.random.Generator, short: int) -> float:
    return float(np.exp(rng.uniform(np.log(0.035 * short), np.log(0.22 * short))))


def _place(rng: np.random.Generator, height: int, width: int, radius: float, placed: list[tuple[float, float, float]]):
    """A centre: against an earlier object half of the time, else anywhere in the frame."""
    if placed and rng.random() < 0.5:
        py, px, pr = placed[int(rng.integers(len(placed)))]
        angle = rng.uniform(0, 2 * np.pi)
        dist = (pr + radius) * rng.uniform(0.55, 0.9)
        cy, cx = py + dist * np.sin(angle), px + dist * np.cos(angle)
        return float(np.clip(cy, 0, height - 1)), float(np.clip(cx, 0, width - 1))
    return float(rng.uniform(0.1, 0.9) * height), float(rng.uniform(0.08, 0.92) * width)


def label_map(rng: np.random.Generator, height: int, width: int, objects: int) -> np.ndarray:
    """A (height, width) uint8 label map holding exactly the ids 1..objects (0 is background)."""
    label = np.zeros((height, width), np.uint8)
    short = min(height, width)
    placed: list[tuple[float, float, float]] = []
    for value in range(1, objects + 1):
        radius = _radius(rng, short)
        cy, cx = _place(rng, height, width, radius, placed)
        _paste(label, blob(rng, radius), cy, cx, value)
        placed.append((cy, cx, radius))
    for _ in range(50):  # an object hidden behind later ones is drawn again on top, somewhere else
        present = np.bincount(label.ravel(), minlength=objects + 1)
        missing = [v for v in range(1, objects + 1) if present[v] == 0]
        if not missing:
            break
        for value in missing:
            radius = _radius(rng, short)
            cy, cx = _place(rng, height, width, radius, [])
            _paste(label, blob(rng, radius), cy, cx, value)
    return label


# --------------------------------------------------------------------------------------------
# Files


def png_pillow(label: np.ndarray, palette: bytes = VOC_PALETTE) -> bytes:
    """A mode-P PNG as Pillow writes it (filter 0 on every row, zlib level 6)."""
    image = Image.frombytes("P", (label.shape[1], label.shape[0]), np.ascontiguousarray(label).tobytes())
    image.putpalette(palette)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))


def png_adaptive(label: np.ndarray, palette: bytes = VOC_PALETTE, level: int = 6) -> bytes:
    """The same pixels with adaptive row filters, chosen per row by libpng's minimum sum of |signed bytes|."""
    height, width = label.shape
    x = label.astype(np.int16)
    left = np.zeros_like(x)
    left[:, 1:] = x[:, :-1]
    up = np.zeros_like(x)
    up[1:] = x[:-1]
    upleft = np.zeros_like(x)
    upleft[1:, 1:] = x[:-1, :-1]
    p = left + up - upleft
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - upleft)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
    filtered = np.stack([x, x - left, x - up, x - (left + up) // 2, x - paeth]).astype(np.uint8)
    signed = filtered.view(np.int8).astype(np.int32)
    cost = np.abs(signed).sum(axis=2)  # (5, height)
    choice = cost.argmin(axis=0)
    rows = np.empty((height, width + 1), np.uint8)
    rows[:, 0] = choice
    rows[:, 1:] = filtered[choice, np.arange(height)]
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", palette),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)),
            _chunk(b"IEND", b""),
        ]
    )


def png_filter_types(data: bytes) -> list[int]:
    """The distinct row filter types of an 8-bit single-channel PNG (for the report)."""
    pos, idat, width, height = 8, [], 0, 0
    while pos < len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    rows = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(height, width + 1)
    return sorted(set(rows[:, 0].tolist()))


def texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A 1/f "natural image" RGB texture in 0..255 (float32) with lens-like roll-off."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    amplitude = (1.0 / f**1.75).astype(np.float32)
    amplitude[0, 0] = 0.0
    channels = []
    base = rng.standard_normal((height, width)).astype(np.float32)
    for _ in range(3):
        noise = 0.75 * base + 0.5 * rng.standard_normal((height, width)).astype(np.float32)
        img = np.fft.irfft2(np.fft.rfft2(noise) * amplitude, s=(height, width)).astype(np.float32)
        img /= img.std() + 1e-6
        channels.append(img)
    rgb = np.stack(channels, axis=2)
    rgb = 118 + 40 * rgb + rng.uniform(-20, 20, size=3).astype(np.float32)
    grain = rng.standard_normal((height, width, 1)).astype(np.float32)
    rgb += 4.0 * grain
    ys, xs = np.ogrid[0:height, 0:width]
    r2 = ((ys - height / 2) / (0.75 * height)) ** 2 + ((xs - width / 2) / (0.75 * width)) ** 2
    rgb *= (1.0 - 0.35 * r2)[:, :, None].astype(np.float32)
    return rgb


def jpeg(rng: np.random.Generator, label: np.ndarray) -> bytes:
    """A frame matching ``label``: a texture with each object region tinted its own colour."""
    height, width = label.shape
    rgb = texture(rng, height, width)
    tints = rng.uniform(0.6, 1.4, size=(256, 3)).astype(np.float32)
    tints[0] = 1.0
    rgb *= tints[label]
    buffer = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Single frames (the per-frame benchmarks)


@dataclass
class FrameCase:
    """One annotated frame in every form the per-frame benchmarks need."""

    name: str  # "1080p/3obj"
    objects: int
    label: np.ndarray  # C-contiguous uint8 (what Pillow returns)
    png: bytes  # Pillow, mode P, filter 0
    png_adaptive: bytes | None = None
    jpeg: bytes | None = None
    stats: dict = field(default_factory=dict)


def column_runs(label: np.ndarray) -> int:
    """Maximal runs of equal value in column-major order (what RLE sizes grow with)."""
    flat = np.ascontiguousarray(label.T).ravel()
    return int(np.count_nonzero(flat[1:] != flat[:-1])) + 1


def make_frames(
    resolutions: dict[str, tuple[int, int]] | None = None,
    objects: tuple[int, ...] = OBJECT_COUNTS,
    *,
    seed: int = 0,
    adaptive: bool = True,
    jpegs: bool = False,
) -> list[FrameCase]:
    """One frame per (resolution, object count), each from its own seeded generator."""
    cases = []
    for res_index, (res, (height, width)) in enumerate((resolutions or RESOLUTIONS).items()):
        for n in objects:
            rng = np.random.default_rng([seed, res_index, n])
            label = label_map(rng, height, width, n)
            case = FrameCase(f"{res}/{n}obj", n, label, png_pillow(label))
            if adaptive:
                case.png_adaptive = png_adaptive(label)
            if jpegs:
                case.jpeg = jpeg(rng, label)
            case.stats = {
                "size": [height, width],
                "objects": n,
                "foreground_pct": round(100 * float(np.count_nonzero(label)) / label.size, 1),
                "runs": column_runs(label),
                "png_bytes": len(case.png),
                "png_adaptive_bytes": len(case.png_adaptive) if case.png_adaptive else None,
                "jpeg_bytes": len(case.jpeg) if case.jpeg else None,
            }
            cases.append(case)
    return cases


# --------------------------------------------------------------------------------------------
# Videos in the MOSE layout (the conversion and memory benchmarks)


@dataclass(frozen=True)
class DatasetSpec:
    """``videos`` videos of ``frames`` frames at (height, width); video i has ``objects[i % len]`` objects."""

    name: str
    height: int
    width: int
    videos: int
    frames: int
    objects: tuple[int, ...]
    seed: int = 0

    @property
    def total_frames(self) -> int:
        return self.videos * self.frames


def _video_label_maps(rng: np.random.Generator, height: int, width: int, objects: int, frames: int):
    """Label maps of one video: objects drift and bounce, switch between two shapes, occlude by depth."""
    short = min(height, width)
    placed: list[tuple[float, float, float]] = []
    tracks = []
    for _ in range(objects):
        radius = _radius(rng, short)
        cy, cx = _place(rng, height, width, radius, placed)
        placed.append((cy, cx, radius))
        speed = rng.uniform(0.002, 0.012) * width
        angle = rng.uniform(0, 2 * np.pi)
        shapes = (blob(rng, radius), blob(rng, radius))
        tracks.append((cy, cx, speed * np.sin(angle), speed * np.cos(angle), shapes, int(rng.integers(4, 10))))
    for t in range(frames):
        label = np.zeros((height, width), np.uint8)
        for value, (cy, cx, vy, vx, shapes, period) in enumerate(tracks, start=1):
            y = _bounce(cy + vy * t, height)
            x = _bounce(cx + vx * t, width)
            _paste(label, shapes[(t // period) % 2], y, x, value)
        yield label


def _bounce(position: float, extent: int) -> float:
    span = 2 * (extent - 1)
    p = position % span
    return p if p <= extent - 1 else span - p


def write_dataset(root: Path, spec: DatasetSpec) -> Path:
    """Write ``spec`` in the MOSE layout under ``root`` (JPEGImages/ and Annotations/); returns ``root``."""
    images = root / "JPEGImages"
    annotations = root / "Annotations"
    rng = np.random.default_rng([spec.seed, spec.height, spec.width, spec.videos, spec.frames])
    names = sorted({rng.bytes(4).hex() for _ in range(spec.videos * 2)})[: spec.videos]
    frame_jpegs: dict[int, bytes] = {}
    for index, name in enumerate(names):
        objects = spec.objects[index % len(spec.objects)]
        vrng = np.random.default_rng([spec.seed, spec.height, index])
        (images / name).mkdir(parents=True)
        (annotations / name).mkdir(parents=True)
        first = None
        for t, label in enumerate(_video_label_maps(vrng, spec.height, spec.width, objects, spec.frames)):
            (annotations / name / f"{t:05d}.png").write_bytes(png_pillow(label))
            if first is None:
                first = label
        # a few distinct JPEGs per resolution; every frame of a video is a copy of its video's JPEG
        key = index % 4
        if key not in frame_jpegs:
            frame_jpegs[key] = jpeg(np.random.default_rng([spec.seed, spec.height, 1000 + key]), first)
        source = images / name / "00000.jpg"
        source.write_bytes(frame_jpegs[key])
        for t in range(1, spec.frames):
            os.link(source, images / name / f"{t:05d}.jpg")
    return root


def replicate(source: Path, target: Path, copies: int) -> Path:
    """A bigger dataset from hard links: ``copies`` times every video of ``source`` (names suffixed).

    Copies the files where hard links cannot be made (``target`` on another file system).
    """
    for kind in ("JPEGImages", "Annotations"):
        for video in sorted(p for p in (source / kind).iterdir() if p.is_dir()):
            for k in range(copies):
                folder = target / kind / f"{video.name}{k:03d}"
                folder.mkdir(parents=True)
                for file in sorted(video.iterdir()):
                    try:
                        os.link(file, folder / file.name)
                    except OSError:  # another file system (or no hard links): copy instead
                        shutil.copyfile(file, folder / file.name)
    return target


def _generator_key(spec: object) -> str:
    """What the cached data depends on: this module's source, the spec, numpy's and Pillow's versions."""
    import PIL

    text = Path(__file__).read_text() + repr(spec) + np.__version__ + PIL.__version__
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_dataset(cache: Path, spec: DatasetSpec) -> Path:
    """``spec`` written under ``cache`` once; regenerated when the generator, spec or libraries change."""
    key = _generator_key(spec)
    root = cache / f"{spec.name}-{key}"
    stamp = root / "done.json"
    if stamp.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    for stale in cache.glob(f"{spec.name}-*") if cache.exists() else []:
        shutil.rmtree(stale, ignore_errors=True)
    partial = cache / f".{spec.name}-{key}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    write_dataset(partial, spec)
    (partial / "done.json").write_text(json.dumps({"spec": repr(spec)}))
    partial.rename(root)
    return root


def folder_bytes(folder: Path, suffix: str) -> int:
    """Total size of the files under ``folder`` ending in ``suffix`` (hard links counted each time)."""
    return sum(p.stat().st_size for p in folder.rglob(f"*{suffix}"))
