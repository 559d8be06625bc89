"""Random clip reads for training: Parquet, HDF5 (RLE and dense) and the source folders with Pillow, in one run.

``run(workdir, quick=False) -> dict`` writes a deterministic MOSE-layout dataset (frames:
1/f textures seen by a panning camera, JPEG quality 90, about 80 kB at 480p like real DAVIS
frames; 5 objects per video with wobbly outlines that move and occlude each other, palette
PNGs written by Pillow) at 480p, and at 1080p too unless ``quick``, converts it with the
``parquet`` and ``hdf5`` writers, checks that every format gives the same clips as the
files, then times random 8-frame clips, the same clips for every format, interleaved:

* ``masks``: label maps only (the source decodes 8 PNGs with Pillow);
* ``bytes``: label maps and the frames' JPEG bytes (the source also reads 8 JPEG files);
* ``decoded``: label maps and the frames decoded to RGB arrays (the folders with Pillow, the
  loader with :func:`converters.loading.dataset.decode_jpeg`, checked to give the same pixels).

Figures are CPU time per clip (``time.process_time``), the median over rounds, each round
reading the same clip list once per method in a rotating order, with a warm page cache.
It prints a table of clips/s and the speed-up over the folders, and one of bytes on disk
against the source's, and returns the numbers (JSON-able), with ``tables`` and ``goals``
in the form ``python -m benchmarks`` prints.
"""

from __future__ import annotations

import functools
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from converters import api
from converters.loading.dataset import ClipDataset, decode_jpeg
from converters.sample import VOC_PALETTE

RESOLUTIONS = {"480p": (480, 854), "1080p": (1080, 1920)}
OBJECTS = 5
CLIP = 8
JPEG_QUALITY = 90
FORMATS = {
    "parquet": ("parquet", {}),
    "hdf5-rle": ("hdf5", {}),
    "hdf5-dense": ("hdf5", {"masks": "dense"}),
}
MODES = ("masks", "bytes", "decoded")
GOALS = {"masks": 10.0, "decoded": 1.5}
BASELINE = "folders (Pillow)"


# --------------------------------------------------------------------------------------------
# Data


def _smooth(rng: np.random.Generator, height: int, width: int, cells: float) -> np.ndarray:
    gh = max(2, round(cells * height / max(height, width)) + 2)
    gw = max(2, round(cells * width / max(height, width)) + 2)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    return np.asarray(Image.frombytes("F", (gw, gh), grid.tobytes()).resize((width, height), Image.Resampling.BICUBIC))


def _texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A 1/f-ish colour texture: octaves of smooth noise, amplitude falling with frequency."""
    texture = np.full((height, width, 3), 128, np.float32)
    for cells, amplitude in ((4, 50), (16, 25), (64, 14), (256, 8)):
        for channel in range(3):
            texture[..., channel] += amplitude * (0.7 + 0.15 * channel) * _smooth(rng, height, width, cells)
    return texture


def _objects(rng: np.random.Generator, count: int, height: int, width: int) -> list[dict]:
    objects = []
    for _ in range(count):
        objects.append(
            {
                "centre": rng.uniform([0.15 * width, 0.15 * height], [0.85 * width, 0.85 * height]),
                "velocity": rng.uniform(-6, 6, 2) * height / 480,
                "radius": float(np.exp(rng.uniform(np.log(0.06), np.log(0.22))) * height),
                "aspect": float(rng.uniform(0.5, 1.0)),
                "harmonics": rng.uniform(0, 0.12, 6),
                "phases": rng.uniform(0, 2 * np.pi, 6),
                "tint": rng.uniform(-60, 60, 3).astype(np.float32),
            }
        )
    return objects


def _bounce(position: float, extent: int) -> float:
    return position if 0 <= position < extent else abs((position % (2 * extent)) - extent)


def _draw(label: np.ndarray, image: np.ndarray, obj: dict, t: int, value: int) -> None:
    """One wobbly, turning ellipse at frame ``t``; later calls occlude earlier ones."""
    height, width = label.shape
    cx, cy = obj["centre"] + obj["velocity"] * t
    cx, cy = _bounce(cx, width), _bounce(cy, height)
    r = obj["radius"] * 1.5
    y0, y1 = max(int(cy - r), 0), min(int(cy + r) + 1, height)
    x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 1, width)
    if y0 >= y1 or x0 >= x1:
        return
    ys, xs = np.ogrid[y0:y1, x0:x1]
    dx, dy = xs + 0.5 - cx, (ys + 0.5 - cy) / obj["aspect"]
    angle = np.arctan2(dy, dx) + 0.05 * t
    wobble = 1 + sum(a * np.sin((k + 2) * angle + p + 0.1 * t) for k, (a, p) in enumerate(zip(obj["harmonics"], obj["phases"])))
    inside = np.hypot(dx, dy) <= obj["radius"] * wobble
    label[y0:y1, x0:x1][inside] = value
    image[y0:y1, x0:x1][inside] += obj["tint"]


def write_dataset(root: Path, videos: int, frames: int, height: int = 480, width: int = 854, seed: int = 0) -> Path:
    """A MOSE split folder ``root/train`` with every frame annotated; the same bytes for the same arguments."""
    rng = np.random.default_rng(seed)
    for v in range(videos):
        name = f"video{v:03d}"
        images, masks = root / "train" / "JPEGImages" / name, root / "train" / "Annotations" / name
        images.mkdir(parents=True)
        masks.mkdir(parents=True)
        pan = rng.uniform(1, 3, 2) * height / 480
        texture = _texture(rng, height + int(pan[1] * frames) + 1, width + int(pan[0] * frames) + 1)
        objects = _objects(rng, OBJECTS, height, width)
        noise = np.random.default_rng(seed * 1000 + v)
        for t in range(frames):
            oy, ox = int(pan[1] * t), int(pan[0] * t)
            image = texture[oy : oy + height, ox : ox + width].copy()
            label = np.zeros((height, width), np.uint8)
            for k, obj in enumerate(objects):
                _draw(label, image, obj, t, k + 1)
            image += noise.normal(0, 3, image.shape).astype(np.float32)
            Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(images / f"{t:05d}.jpg", quality=JPEG_QUALITY)
            png = Image.frombytes("P", (width, height), label.tobytes())
            png.putpalette(VOC_PALETTE)
            png.save(masks / f"{t:05d}.png")
    return root


# --------------------------------------------------------------------------------------------
# Readers under test


class FolderClips:
    """The baseline: a folder loader reading each frame's JPEG and PNG files with Pillow."""

    def __init__(self, root: Path) -> None:
        self.images, self.masks = root / "train" / "JPEGImages", root / "train" / "Annotations"

    def read(self, video: str, indices: np.ndarray, mode: str) -> dict:
        stems = [f"{i:05d}" for i in indices]
        masks = np.stack([np.asarray(Image.open(self.masks / video / f"{s}.png")) for s in stems])
        item = {"masks": masks}
        if mode == "bytes":
            item["frames"] = [(self.images / video / f"{s}.jpg").read_bytes() for s in stems]
        elif mode == "decoded":
            item["frames"] = [np.asarray(Image.open(self.images / video / f"{s}.jpg").convert("RGB")) for s in stems]
        return item


def _datasets(path: Path) -> dict[str, ClipDataset]:
    return {
        "masks": ClipDataset(path, CLIP, images=False),
        "bytes": ClipDataset(path, CLIP),
        "decoded": ClipDataset(path, CLIP, decode_images=True),
    }


def _check(reference: dict, item: dict, mode: str, where: str) -> None:
    if not np.array_equal(reference["masks"], item["masks"]):
        raise AssertionError(f"{where}: label maps differ from the PNGs")
    if mode == "bytes" and reference["frames"] != item["frames"]:
        raise AssertionError(f"{where}: JPEG bytes differ from the files")
    if mode == "decoded" and not all(np.array_equal(a, b) for a, b in zip(reference["frames"], item["frames"])):
        raise AssertionError(f"{where}: decoded frames differ")


# --------------------------------------------------------------------------------------------
# Timing


def _time(methods: dict[str, Callable[[], object]], rounds: int) -> dict[str, dict]:
    """Each method reads the whole clip list once per round, interleaved in a rotating order: median CPU and wall seconds."""
    names = list(methods)
    for name in names:
        methods[name]()  # warm-up: opens files, fills the page cache
    cpu: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            gc.disable()
            try:
                w0, c0 = time.perf_counter(), time.process_time()
                methods[name]()
                cpu[name].append(time.process_time() - c0)
                wall[name].append(time.perf_counter() - w0)
            finally:
                gc.enable()
    return {n: {"cpu_s": statistics.median(cpu[n]), "wall_s": statistics.median(wall[n])} for n in names}


def _read_folders(folders: FolderClips, picks: list[tuple[str, int]], mode: str) -> None:
    for video, start in picks:  # each clip is dropped before the next, as a training step would
        folders.read(video, np.arange(start, start + CLIP), mode)


def _read_clips(dataset: ClipDataset, indices: list[int]) -> None:
    for index in indices:
        dataset[index]


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(workdir: Path, resolution: str, videos: int, frames: int, clips: int, rounds: int) -> dict:
    """Generate, convert, check and time one resolution; the numbers as a JSON-able dict."""
    height, width = RESOLUTIONS[resolution]
    t0 = time.perf_counter()
    source = write_dataset(workdir / "source", videos, frames, height, width)
    generated = time.perf_counter() - t0
    outputs, convert_s = {}, {}
    for label, (fmt, options) in FORMATS.items():
        t1 = time.perf_counter()
        outputs[label] = workdir / label
        api.convert(source, outputs[label], to=fmt, from_="mose", reader_options={"split": "train"}, writer_options=options)
        convert_s[label] = time.perf_counter() - t1
    sizes = {"source folders (JPEG + PNG)": _size(source / "train")} | {label: _size(path) for label, path in outputs.items()}

    folders = FolderClips(source)
    datasets = {label: _datasets(path) for label, path in outputs.items()}
    names = [v.name for v in datasets["parquet"]["masks"].videos]
    rng = np.random.default_rng(1)
    picks = [(names[int(rng.integers(len(names)))], int(rng.integers(frames - CLIP + 1))) for _ in range(clips)]
    per_video = frames - CLIP + 1  # ClipDataset numbers every start of every video, in name order
    indices = [names.index(v) * per_video + s for v, s in picks]

    for mode in MODES:  # identical results first, on a few clips
        for (video, start), index in list(zip(picks, indices))[:3]:
            reference = folders.read(video, np.arange(start, start + CLIP), mode)
            for label in outputs:
                item = datasets[label][mode][index]
                assert item["video"] == video and item["frame_indices"][0] == start
                _check(reference, item, mode, f"{label} {mode} {video}@{start}")

    results: dict = {}
    for mode in MODES:
        methods: dict[str, Callable[[], object]] = {BASELINE: functools.partial(_read_folders, folders, picks, mode)}
        for label in outputs:
            methods[label] = functools.partial(_read_clips, datasets[label][mode], indices)
        timed = _time(methods, rounds)
        base = timed[BASELINE]["cpu_s"]
        results[mode] = {
            name: {
                "clips_per_s": clips / t["cpu_s"],
                "ms_per_clip": 1e3 * t["cpu_s"] / clips,
                "wall_clips_per_s": clips / t["wall_s"],
                "speedup": base / t["cpu_s"],
            }
            for name, t in timed.items()
        }
    jpeg = (source / "train" / "JPEGImages" / names[0] / "00000.jpg").read_bytes()
    t2 = time.process_time()
    for _ in range(10):
        decode_jpeg(jpeg)
    return {
        "resolution": resolution,
        "data": {
            "videos": videos,
            "frames": frames,
            "width": width,
            "height": height,
            "objects": OBJECTS,
            "generate_s": generated,
        },
        "convert_s": convert_s,
        "clips": clips,
        "rounds": rounds,
        "results": results,
        "bytes": sizes,
        "jpeg_bytes": len(jpeg),
        "jpeg_decode_ms": (time.process_time() - t2) / 10 * 1e3,
    }


def _tables(part: dict) -> list[dict]:
    results, sizes = part["results"], part["bytes"]
    source = sizes["source folders (JPEG + PNG)"]
    data = part["data"]
    where = f"{data['width']}x{data['height']}, {OBJECTS} objects; CPU, {part['clips']} clips x {part['rounds']}"
    return [
        {
            "title": f"loading {part['resolution']}: random {CLIP}-frame clips ({where})",
            "headers": ["read", *[f"{m} clips/s" for m in MODES], *[f"{m} vs folders" for m in MODES]],
            "rows": [
                [
                    name,
                    *[f"{results[m][name]['clips_per_s']:.1f}" for m in MODES],
                    *[f"{results[m][name]['speedup']:.2f}x" for m in MODES],
                ]
                for name in results["masks"]
            ],
        },
        {
            "title": f"loading {part['resolution']}: bytes on disk ({data['videos']} videos x {data['frames']} frames)",
            "headers": ["format", "bytes", "vs source"],
            "rows": [[label, f"{n:,}", f"{n / source:.3f}"] for label, n in sizes.items()],
        },
    ]


def _goals(part: dict) -> list[dict]:
    goals = []
    for mode, target in GOALS.items():
        formats = [name for name in part["results"][mode] if name != BASELINE]
        worst = min(formats, key=lambda name: part["results"][mode][name]["speedup"])
        value = part["results"][mode][worst]["speedup"]
        what = "masks-only clips (label maps)" if mode == "masks" else "whole clips (frames decoded + label maps)"
        goals.append(
            {
                "goal": f"{what} vs PNG/JPEG folders, {part['resolution']}",
                "target": f">= {target:g}x",
                "value": value,
                "pass": value >= target,
                "note": f"slowest: {worst}",
            }
        )
    return goals


def run(workdir: Path, quick: bool = False) -> dict:
    """Every resolution's measurements, plus ``tables`` and ``goals`` for ``python -m benchmarks``."""
    workdir = Path(workdir)
    plans = {"480p": (4, 24, 40, 3)} if quick else {"480p": (8, 48, 120, 7), "1080p": (4, 24, 24, 5)}
    parts = [measure(workdir / name, name, *plan) for name, plan in plans.items()]
    from . import bench_training  # training reads (issue 19): SAM 2's path against the training loader

    training = bench_training.run(workdir / "training", quick=quick)
    summary = {
        "parts": parts,
        "training": training["parts"],
        "tables": [t for part in parts for t in _tables(part)] + training["tables"],
        "goals": [g for part in parts for g in _goals(part)] + training["goals"],
    }
    _print(summary)
    return summary


def _print(summary: dict) -> None:
    for table in summary["tables"]:
        print(f"\n{table['title']}\n")
        print(" | ".join(table["headers"]))
        for row in table["rows"]:
            print(" | ".join(str(c) for c in row))
    print()
    for goal in summary["goals"]:
        status = "not run" if goal["pass"] is None else "PASS" if goal["pass"] else "MISS"
        value = "n/a" if goal["value"] is None else f"{goal['value']:.2f}x"
        print(f"{goal['goal']}: {value} (target {goal['target']}, {status}; {goal['note']})")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vosconv-bench-loading-") as folder:
        run(Path(folder), quick="--quick" in sys.argv)
