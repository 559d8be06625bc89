"""Training reads (issue 19): SAM 2's per-clip data path against vosconv's training loader, in the same rounds.

``run(workdir, quick=False) -> dict`` writes camera-like MOSE folders (bench_loading's generator:
1/f textures under a panning camera, every frame different, JPEG quality 90, 5 moving objects),
converts them to Parquet, HDF5 (RLE) and dense HDF5, checks that both sides give the same pixels
and masks (:func:`check_same_clip`, each format), then times random 8-frame clips with one boolean
mask per object, no clip reading the Parquet row groups of the clip before it (:func:`draw_picks`):

* ``SAM 2 path``: what ``PNGRawDataset`` + ``VOSDataset`` do per frame, re-implemented here
  (``PIL.Image.open(jpg).convert("RGB")``; ``PalettisedPNGSegmentLoader.load``: PNG to a
  palette array, ``pd.unique``, ``masks == id`` per object as torch tensors), each frame then
  taken as a uint8 array as vosconv returns it (``np.asarray``: SAM 2 keeps the PIL image until
  its ``ToTensorAPI``); ``+ resize`` resizes each frame (Pillow bilinear, as SAM 2's ``resize``
  transform does a PIL frame) and the label map (nearest) to half size before the per-object
  compare: the masks of a per-object nearest resize at a quarter of the compare's cost, less
  than SAM 2, whose transform resizes each object's mask (a baseline kinder than SAM 2's own);
* ``vosconv``: :meth:`converters.loading.TrainingClips.clip` from Parquet and HDF5, full size and
  ``size=`` half (DCT-scaled decode);
* ``masks only``: the mask half of each; ``dense HDF5 stride 1/2``: label maps of clips whose
  frames are 1 or 2 apart;
* SAM 2's real ``VOSDataset`` (``RandomUniformSampler``, no transforms) over ``PNGRawDataset`` and
  over :class:`converters.integrations.sam2.ShardRawDataset` (when SAM 2's ``training`` package is
  installed, as ``make test`` does), and a ``DataLoader(num_workers=2)`` (fork) of each path;
  ``control: VOSDataset(PNGRawDataset), masks already loaded`` is SAM 2's with each frame's masks
  loaded before the timing, the most a drop-in that serves the masks can reach.

Single-process figures are CPU seconds (median over rounds, methods interleaved in a rotating
order) with torch on one thread, as in every DataLoader worker (torch sets it there): with its
thread pool on a shared 2-core host, SAM 2's per-mask ``.to(uint8)`` and ``.sum()`` time the
pool's contention, not the work. ``control: bool planes written once`` writes, once, the ``(T, K, H, W)``
bool array a masks-only clip returns, into memory already mapped (the loader recycles its clips'
memory, see ``converters.loading.buffers``), by the loader's RLE kernel given no runs (so with its
non-temporal stores above 32 MiB, which numpy's fill lacks), back to back, so the array stays as
cached as it can: no loader can beat it, so SAM 2's masks time over it is
the ceiling of the masks-only ratio. ``control: JPEG decode only``
decodes the clip's JPEGs into one reused array (simplejpeg, as the loader does); with the planes it is the
floor of a full-size clip, so SAM 2's path over their sum is that goal's ceiling. DataLoader figures are
wall clips/s of a second pass of the same two workers (the first pays the forks and the files' opening)
and the largest worker RSS; each worker keeps its clips (none is handed to the main process, on either
side). ``worker memory`` reads every clip of an 8-video and of a 64-video set (small frames: the index,
not the pixels, is what grows) through DataLoader workers.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import random
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from converters import api
from converters.codecs import rle
from converters.formats.parquet.writer import ParquetOptions
from converters.loading import ClipDataset, TrainingClips
from converters.loading.images import decode_frames

from .bench_loading import _time, write_dataset

CLIP = 8
RESOLUTIONS = {"480p": (480, 854), "1080p": (1080, 1920)}
GOALS = {"full": 3.0, "half": 4.0, "vos": 1.8, "masks": 20.0, "stride": 2.0, "memory": 1.1}
GROWTH = (8, 64)  # videos in the small and the large set of the worker-memory measure
STUBS = Path(__file__).resolve().parents[1] / "tests" / "integrations" / "stubs"


# --------------------------------------------------------------------------------------------
# SAM 2's per-clip path, step by step (training/dataset/vos_raw_dataset.py, vos_segment_loader.py)


def _unique(values: np.ndarray) -> np.ndarray:
    try:
        import pandas as pd

        return pd.unique(values)
    except ImportError:
        found, first = np.unique(values, return_index=True)
        return found[np.argsort(first, kind="stable")]


def sam2_masks(path: Path, size: tuple[int, int] | None = None) -> dict:
    """``PalettisedPNGSegmentLoader.load``: {object id: bool mask} of the objects on the frame (then resized, nearest)."""
    import torch

    with Image.open(path) as image:
        masks = np.array(image.convert("P"))
    if size is not None:
        masks = np.asarray(Image.fromarray(masks).resize(size[::-1], Image.NEAREST))
    ids = _unique(masks.flatten())
    return {i: torch.from_numpy(masks == i) for i in ids[ids != 0]}


def sam2_frame(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    if size is not None:
        rgb = rgb.resize(size[::-1], Image.BILINEAR)
    return np.asarray(rgb)


def sam2_clip(root: Path, video: str, indices: list[int], size=None, images: bool = True) -> tuple[list, list]:
    frames = [sam2_frame(root / "JPEGImages" / video / f"{i:05d}.jpg", size) for i in indices] if images else []
    return frames, [sam2_masks(root / "Annotations" / video / f"{i:05d}.png", size) for i in indices]


# --------------------------------------------------------------------------------------------
# SAM 2's real VOSDataset (optional: needs the sam2 sdist's training package)


class _MasksLoaded:
    """A raw dataset whose segment loader gives masks it loaded before: SAM 2 with no mask loading left."""

    def __init__(self, raw) -> None:
        self.raw, self.loaded = raw, {}

    def get_video(self, idx: int):
        video, loader = self.raw.get_video(idx)
        return video, _LoadedSegments(loader, self.loaded.setdefault(idx, {}))

    def __len__(self) -> int:
        return len(self.raw)


class _LoadedSegments:
    def __init__(self, loader, loaded: dict) -> None:
        self.loader, self.loaded = loader, loaded

    def load(self, frame_idx: int):
        if frame_idx not in self.loaded:
            self.loaded[frame_idx] = self.loader.load(frame_idx)
        return self.loaded[frame_idx]


def _vos_datasets(clean: Path, shards: Path) -> tuple[object, object, object] | None:
    if importlib.util.find_spec("training") is None:
        return None
    if importlib.util.find_spec("torchvision") is None and str(STUBS) not in sys.path:
        sys.path.append(str(STUBS))  # SAM 2's dataset code uses only torchvision's VisionDataset base class
    from training.dataset.vos_dataset import VOSDataset
    from training.dataset.vos_raw_dataset import PNGRawDataset
    from training.dataset.vos_sampler import RandomUniformSampler

    from converters.integrations.sam2 import ShardRawDataset

    logging.getLogger().setLevel(logging.ERROR)

    def vos(raw):
        sampler = RandomUniformSampler(num_frames=CLIP, max_num_objects=3)
        return VOSDataset(transforms=[], training=True, video_dataset=raw, sampler=sampler, multiplier=1)

    png = PNGRawDataset(img_folder=str(clean / "JPEGImages"), gt_folder=str(clean / "Annotations"))
    return vos(png), vos(ShardRawDataset(shards)), vos(_MasksLoaded(png))


def _datapoint(dataset, seed: int):
    random.seed(seed)
    return dataset[seed % len(dataset)]


def _datapoints(dataset, count: int) -> list:
    return [_datapoint(dataset, seed) for seed in range(count)]


def _same_datapoints(a, b) -> bool:
    def key(dp):
        return [
            (np.asarray(f.data).tobytes(), [(int(o.object_id), o.segment.numpy().tobytes()) for o in f.objects])
            for f in dp.frames
        ]

    return all(key(x) == key(y) for x, y in zip(a, b))


# --------------------------------------------------------------------------------------------
# The clips read


def _row_groups(pick: tuple[str, int], group_frames: int = ParquetOptions.row_group_frames) -> tuple[str, int, int]:
    """The video and the first and last Parquet row group a clip starting at ``pick`` reads."""
    video, start = pick
    return video, start // group_frames, (start + CLIP - 1) // group_frames


def draw_picks(names: list[str], frames: int, clips: int, seed: int = 1) -> list[tuple[str, int]]:
    """``clips`` random (video, first frame) pairs, no clip reading the Parquet row groups of the clip before it.

    The Parquet loader keeps the row groups it read last (SAM 2's drop-in reads a clip frame by
    frame), so a clip after one from the same groups skips the read. In a training set of thousands
    of videos that almost never happens; on this benchmark's 2-3 videos it did for a fifth to a
    quarter of the clips (saving 3 ms of a 1080p clip, 2.3 ms of its masks-only clip). The list is
    read in order and round after round (the last clip is followed by the first), and each
    DataLoader worker walks it in order too (:func:`_worker_pick`).
    """
    rng = np.random.default_rng(seed)
    picks: list[tuple[str, int]] = []
    for _ in range(100 * clips):
        if len(picks) == clips:
            break
        pick = (names[int(rng.integers(len(names)))], int(rng.integers(frames - 2 * CLIP + 2)))
        neighbours = picks[-1:] + (picks[:1] if len(picks) == clips - 1 else [])
        if all(_row_groups(pick) != _row_groups(other) for other in neighbours):
            picks.append(pick)
    if len(picks) < clips:
        raise ValueError(f"cannot draw {clips} clips of {len(names)} videos of {frames} frames, none after one of its row groups")
    return picks


def _worker_pick(index: int, picks: list) -> object:
    """Item ``index`` of a 2-worker DataLoader: worker 0 (even items) walks the picks from the first, worker 1 from the middle."""
    return picks[(index // 2 + (index % 2) * (len(picks) // 2)) % len(picks)]


# --------------------------------------------------------------------------------------------
# DataLoader workers


def _rss_mb() -> float:
    with open("/proc/self/statm") as file:
        import os

        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _Work:
    """A picklable map-style dataset: item i runs ``read(i)``; returns a checksum and the worker's RSS."""

    def __init__(self, read, count: int) -> None:
        self.read, self.count = read, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int):
        self.read(index)
        return _rss_mb()


def _loader(read, count: int) -> dict:
    """Clips/s of the second pass of 2 persistent workers (the first pays the forks and the files' opening, a
    fixed cost that weighed most on the fastest path), and the largest worker RSS of either pass."""
    import torch

    loader = torch.utils.data.DataLoader(
        _Work(read, count), batch_size=None, num_workers=2, multiprocessing_context="fork", persistent_workers=True
    )
    warm = list(loader)
    t0 = time.perf_counter()
    rss = list(loader)
    return {"clips_per_s": count / (time.perf_counter() - t0), "worker_rss_mb": max(warm + rss)}


# --------------------------------------------------------------------------------------------


def _sam2_frame_masks(masks: dict, object_ids: list[int], shape: tuple[int, int]) -> np.ndarray:
    """SAM 2's {object id: mask} of one frame as vosconv's (K, H, W) planes: an object absent there is all False."""
    assert set(int(i) for i in masks) <= set(object_ids), f"SAM 2 finds objects {sorted(int(i) for i in masks)}, not all listed"
    return np.stack([masks[i].numpy() if i in masks else np.zeros(shape, bool) for i in object_ids])


def check_same_clip(root: Path, shards: Path, pick: tuple[str, int], half: tuple[int, int]) -> None:
    """vosconv's clip from ``shards`` is SAM 2's path's: the same frames, objects and masks, and masks-only its masks.

    At half size the frames differ by method (DCT scaling against a bilinear resize): dtypes, shapes and objects agree.
    """
    import torch

    video, indices = pick[0], range(pick[1], pick[1] + CLIP)
    want_frames, want_masks = sam2_clip(root, video, list(indices))
    height, width = want_frames[0].shape[:2]
    full = TrainingClips(shards, CLIP).clip(video, indices)
    ids = full["object_ids"].tolist()
    assert full["frames"].dtype == torch.uint8 and tuple(full["frames"].shape) == (CLIP, 3, height, width)
    assert all(np.array_equal(a, b.permute(1, 2, 0).numpy()) for a, b in zip(want_frames, full["frames"])), "frames differ"
    want = np.stack([_sam2_frame_masks(m, ids, (height, width)) for m in want_masks])
    assert full["masks"].numpy().dtype == bool and np.array_equal(full["masks"].numpy(), want), "masks differ"
    masks_only = TrainingClips(shards, CLIP, images=False).clip(video, indices)
    assert "frames" not in masks_only and np.array_equal(masks_only["masks"].numpy(), want), "masks-only masks differ"
    small = TrainingClips(shards, CLIP, size=half).clip(video, indices)
    assert small["object_ids"].tolist() == ids and small["frames"].dtype == torch.uint8
    assert tuple(small["frames"].shape) == (CLIP, 3, *half) and tuple(small["masks"].shape) == (CLIP, len(ids), *half)
    assert small["masks"].numpy().dtype == bool


def _read_all(read, picks) -> None:
    for pick in picks:
        read(pick)


def measure(workdir: Path, resolution: str, videos: int, frames: int, clips: int, rounds: int) -> dict:
    height, width = RESOLUTIONS[resolution]
    half = (height // 2, width // 2)
    source = write_dataset(workdir / "source", videos, frames, height, width)
    root = source / "train"
    outputs = {}
    for label, fmt, options in (("parquet", "parquet", {}), ("hdf5", "hdf5", {}), ("hdf5-dense", "hdf5", {"masks": "dense"})):
        outputs[label] = workdir / label
        api.convert(source, outputs[label], to=fmt, from_="mose", reader_options={"split": "train"}, writer_options=options)
    names = sorted(p.name for p in (root / "JPEGImages").iterdir())
    picks = draw_picks(names, frames, clips)

    loaders = {
        f"vosconv {fmt}{' half' if size else ''}": TrainingClips(outputs[fmt], CLIP, size=size)
        for fmt in ("parquet", "hdf5")
        for size in (None, half)
    }
    masks_only = {f"vosconv {fmt} masks": TrainingClips(outputs[fmt], CLIP, images=False) for fmt in ("parquet", "hdf5")}
    dense = {s: ClipDataset(outputs["hdf5-dense"], CLIP, stride=s, images=False) for s in (1, 2)}

    def vosconv(clips, pick):
        return clips.clip(pick[0], range(pick[1], pick[1] + CLIP))

    def sam2(pick, size=None, images=True):
        return sam2_clip(root, pick[0], list(range(pick[1], pick[1] + CLIP)), size, images)

    def dense_read(stride, pick):
        per_video = frames - (CLIP - 1) * stride
        return dense[stride][names.index(pick[0]) * per_video + pick[1]]

    for fmt in ("parquet", "hdf5"):  # identical results first, from loaders of their own (the timed ones start cold)
        check_same_clip(root, outputs[fmt], picks[0], half)

    methods = {"SAM 2 path": functools.partial(_read_all, sam2, picks)}
    methods["SAM 2 path + resize"] = functools.partial(_read_all, functools.partial(sam2, size=half), picks)
    methods["SAM 2 masks"] = functools.partial(_read_all, functools.partial(sam2, images=False), picks)
    for name, clips_ in {**loaders, **masks_only}.items():
        methods[name] = functools.partial(_read_all, functools.partial(vosconv, clips_), picks)
    objects = [len(masks_only["vosconv hdf5 masks"].clip(p[0], range(p[1], p[1] + CLIP))["object_ids"]) for p in picks]

    planes = {k: np.empty((CLIP, k, height, width), bool) for k in set(objects)}  # memory already mapped
    no_masks = [[] for _ in range(CLIP)]

    def planes_written():  # the loader's kernel with no runs to decode: it only writes the planes, its fastest way
        for k in objects:
            rle.decode_planes(no_masks, range(k), height, width, out=planes[k])

    methods["control: bool planes written once"] = planes_written
    jpegs = [[(root / "JPEGImages" / p[0] / f"{i:05d}.jpg").read_bytes() for i in range(p[1], p[1] + CLIP)] for p in picks]

    frames_out = np.empty((CLIP, height, width, 3), np.uint8)  # memory already mapped, as the loader's

    def jpeg_only():
        for clip in jpegs:
            decode_frames(clip, height, width, (height, width), frames_out)

    methods["control: JPEG decode only"] = jpeg_only
    for stride in (1, 2):
        methods[f"dense HDF5 stride {stride}"] = functools.partial(_read_all, functools.partial(dense_read, stride), picks)
    vos = _vos_datasets(root, outputs["hdf5"])
    if vos is not None:
        assert _same_datapoints(_datapoints(vos[0], 2), _datapoints(vos[1], 2)), "VOSDataset datapoints differ"
    # DataLoader workers first: forked later, their RSS would count what the timings below keep in this process
    workers = {
        "SAM 2 path": lambda i: sam2(_worker_pick(i, picks)),
        "vosconv parquet": lambda i: vosconv(loaders["vosconv parquet"], _worker_pick(i, picks)),
        "vosconv hdf5": lambda i: vosconv(loaders["vosconv hdf5"], _worker_pick(i, picks)),
    }
    if vos is not None:  # the datapoints of the single-process timing (seeds 0..clips-1), not the first one over and over
        workers["VOSDataset(PNGRawDataset)"] = lambda i: _datapoint(vos[0], i % clips)
        workers["VOSDataset(ShardRawDataset)"] = lambda i: _datapoint(vos[1], i % clips)
    loader_results = {name: _loader(read, 2 * clips) for name, read in workers.items()}
    if vos is not None:
        methods["VOSDataset(PNGRawDataset)"] = functools.partial(_datapoints, vos[0], clips)
        methods["VOSDataset(ShardRawDataset)"] = functools.partial(_datapoints, vos[1], clips)
        _datapoints(vos[2], clips)  # the same datapoints' masks, loaded before timing
        methods["control: VOSDataset(PNGRawDataset), masks already loaded"] = functools.partial(_datapoints, vos[2], clips)
    timed = _time(methods, rounds)
    results = {name: {"clips_per_s": clips / t["cpu_s"], "ms_per_clip": 1e3 * t["cpu_s"] / clips} for name, t in timed.items()}
    return {
        "resolution": resolution,
        "data": {"videos": videos, "frames": frames, "height": height, "width": width},
        "jpeg_bytes": (root / "JPEGImages" / names[0] / "00000.jpg").stat().st_size,
        "clips": clips,
        "rounds": rounds,
        "results": results,
        "dataloader": loader_results,
    }


def worker_memory(workdir: Path) -> dict:
    """Largest DataLoader worker RSS reading every clip of a small and a large set, per format (MB)."""
    found: dict[str, dict[int, float]] = {}
    for videos in GROWTH:
        source = write_dataset(workdir / f"growth-{videos}", videos, 2 * CLIP, 96, 160, seed=videos)
        for fmt in ("parquet", "hdf5"):
            out = workdir / f"growth-{videos}-{fmt}"
            api.convert(source, out, to=fmt, from_="mose", reader_options={"split": "train"})
            clips = TrainingClips(out, CLIP, clips_per_video=4)
            found.setdefault(fmt, {})[videos] = _loader(clips.__getitem__, len(clips))["worker_rss_mb"]
    return found


def _ratio(results: dict, fast: str, slow: str) -> float | None:
    if fast not in results or slow not in results:
        return None
    return results[fast]["clips_per_s"] / results[slow]["clips_per_s"]


def goals(part: dict) -> list[dict]:
    r, res = part["results"], part["resolution"]
    checks = []
    for fmt in ("parquet", "hdf5"):
        checks.append((f"decoded clips + per-object masks, {fmt}, {res}", "full", _ratio(r, f"vosconv {fmt}", "SAM 2 path")))
        checks.append((f"half size in the loader, {fmt}, {res}", "half", _ratio(r, f"vosconv {fmt} half", "SAM 2 path + resize")))
        checks.append((f"masks only (per object), {fmt}, {res}", "masks", _ratio(r, f"vosconv {fmt} masks", "SAM 2 masks")))
    checks.append(
        (
            f"SAM 2 VOSDataset with the drop-in (HDF5), {res}",
            "vos",
            _ratio(r, "VOSDataset(ShardRawDataset)", "VOSDataset(PNGRawDataset)"),
        )
    )
    stride = _ratio(r, "dense HDF5 stride 1", "dense HDF5 stride 2")
    checks.append((f"dense HDF5 stride 2 time / stride 1 time, {res}", "stride", stride))
    ceiling = _ratio(r, "control: bool planes written once", "SAM 2 masks")
    notes = {"masks": "" if ceiling is None else f"ceiling {ceiling:.1f}x: SAM 2's masks time over writing the planes once"}
    loaded = "control: VOSDataset(PNGRawDataset), masks already loaded"
    if loaded in r:  # the drop-in can save at most SAM 2's mask loading
        ceiling = r[loaded]["clips_per_s"] / r["VOSDataset(PNGRawDataset)"]["clips_per_s"]
        notes["vos"] = f"ceiling about {ceiling:.2f}x: SAM 2's own time with its masks already loaded"
    if "control: JPEG decode only" in r and "control: bool planes written once" in r:
        floor = 1 / r["control: JPEG decode only"]["clips_per_s"] + 1 / r["control: bool planes written once"]["clips_per_s"]
        sam2 = r["SAM 2 path"]["clips_per_s"] ** -1
        notes["full"] = f"ceiling {sam2 / floor:.2f}x: the JPEG decode and the planes written once"
    out = []
    for goal, kind, value in checks:
        target = GOALS[kind]
        passed = None if value is None else (value <= target if kind == "stride" else value >= target)
        out.append(
            {
                "goal": goal,
                "target": f"{'<=' if kind == 'stride' else '>='} {target:g}x",
                "value": value,
                "pass": passed,
                "note": notes.get(kind, ""),
            }
        )
    return out


def memory_goals(memory: dict) -> list[dict]:
    small, large = GROWTH
    out = []
    for fmt, rss in memory.items():
        value = rss[large] / rss[small]
        out.append(
            {
                "goal": f"DataLoader worker RSS, {large} videos over {small}, {fmt}",
                "target": f"<= {GOALS['memory']:g}x (flat)",
                "value": value,
                "pass": value <= GOALS["memory"],
                "note": f"{rss[small]:.0f} MB and {rss[large]:.0f} MB",
            }
        )
    return out


def tables(part: dict) -> list[dict]:
    r, base = part["results"], part["results"]["SAM 2 path"]["clips_per_s"]
    d = part["data"]
    jpeg = part["jpeg_bytes"] / 1e6
    where = f"{d['width']}x{d['height']}, JPEG {jpeg:.2f} MB; CPU, {part['clips']} clips x {part['rounds']} rounds"
    rows = [
        [name, f"{v['clips_per_s']:.2f}", f"{v['ms_per_clip']:.1f}", f"{v['clips_per_s'] / base:.2f}x"] for name, v in r.items()
    ]
    loader_rows = [[name, f"{v['clips_per_s']:.2f}", f"{v['worker_rss_mb']:.0f}"] for name, v in part["dataloader"].items()]
    return [
        {
            "title": f"training reads {part['resolution']}: {CLIP}-frame clips ({where})",
            "headers": ["read", "clips/s", "ms/clip", "vs SAM 2 path"],
            "rows": rows,
        },
        {
            "title": f"training reads {part['resolution']}: DataLoader(num_workers=2, fork), wall",
            "headers": ["path", "clips/s", "worker RSS MB"],
            "rows": loader_rows,
        },
    ]


def run(workdir: Path, quick: bool = False) -> dict:
    workdir = Path(workdir)
    plans = {"480p": (2, 20, 6, 3)} if quick else {"480p": (3, 24, 20, 5), "1080p": (2, 20, 8, 5)}
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a DataLoader worker (see the module docstring)
    try:
        parts = [measure(workdir / name, name, *plan) for name, plan in plans.items()]
    finally:
        torch.set_num_threads(threads)
    memory = worker_memory(workdir / "memory")
    memory_table = {
        "title": "training reads: largest DataLoader(num_workers=2) worker RSS reading every clip, MB",
        "headers": ["format", *(f"{n} videos" for n in GROWTH)],
        "rows": [[fmt, *(f"{rss[n]:.0f}" for n in GROWTH)] for fmt, rss in memory.items()],
    }
    return {
        "parts": parts,
        "memory": memory,
        "tables": [*(t for p in parts for t in tables(p)), memory_table],
        "goals": [*(g for p in parts for g in goals(p)), *memory_goals(memory)],
    }


if __name__ == "__main__":
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_training", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: one small 480p dataset")
    arguments = parser.parse_args()  # `--help` prints this, where it ran the whole benchmark
    with tempfile.TemporaryDirectory(prefix="vosconv-bench-training-") as folder:
        summary = run(Path(folder), quick=arguments.quick)
    for table in summary["tables"]:
        print(f"\n{table['title']}\n\n" + " | ".join(table["headers"]))
        for row in table["rows"]:
            print(" | ".join(row))
    print()
    for goal in summary["goals"]:
        value = "n/a" if goal["value"] is None else f"{goal['value']:.2f}x"
        status = "not run" if goal["pass"] is None else "PASS" if goal["pass"] else "MISS"
        print(f"{goal['goal']}: {value} (target {goal['target']}, {status})")
