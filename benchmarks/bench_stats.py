"""``vosconv stats`` against what a user would write: decode every annotation PNG with Pillow and count.

``python -m benchmarks --only stats``. For each benchmark dataset (MOSE layout, PNG masks),
times, in this process and one core:

* ``stats`` on the COCO file converted from it (the RLE's area and bbox; no mask decoded);
* ``stats`` on the PNG folder itself (vosconv's PNG decoder and RLE encoder do the reading);
* the baseline: ``Image.open`` + ``np.asarray`` per PNG, then per id its area and bounding box.

Both sides must find the same masks and the same total area before anything is timed.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from .bench_convert import FULL_SPECS, QUICK_SPECS
from .data import cached_dataset

GOAL = 10.0  # issue 22: stats reads at least 10x faster than decoding the PNG folders


def naive_stats(root: Path) -> tuple[int, int]:
    """The script a user writes: (masks, total mask area) from every annotation PNG, decoded by Pillow."""
    masks = area = 0
    for video in sorted((root / "Annotations").iterdir()):
        for png in sorted(video.glob("*.png")):
            with Image.open(png) as image:
                label = np.asarray(image)
            for k in np.unique(label):
                if k in (0, 255):
                    continue
                ys, xs = np.nonzero(label == k)
                masks += 1
                area += len(ys)
                _ = (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)  # its box
    return masks, area


def vosconv_stats(source: Path) -> tuple[int, int]:
    import converters

    summary = converters.stats(source)
    return summary.summary()["masks"], sum(a for v in summary.videos for a in v.mask_areas)


def _seconds(fn, rounds: int) -> float:
    """Median wall seconds of ``rounds`` calls (this process alone, one core)."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(root: Path, coco: Path, rounds: int, naive_rounds: int) -> dict:
    import converters

    if not coco.exists():
        converters.convert(root, coco, to="coco")
    started = time.perf_counter()
    expected = naive_stats(root)  # timed too: the baseline is slow, so this is its first sample
    naive_times = [time.perf_counter() - started]
    for source in (coco, root):  # also the warm-up: compiled kernels loaded, files in the page cache
        found = vosconv_stats(source)
        if found != expected:
            raise AssertionError(f"stats of {source} found {found} (masks, area), the Pillow script {expected}")
    frames = converters.stats(coco).summary()["frames"]
    coco_s = _seconds(lambda: converters.stats(coco), rounds)
    folder_s = _seconds(lambda: converters.stats(root), rounds)
    naive_times += [_seconds(lambda: naive_stats(root), 1) for _ in range(naive_rounds - 1)]
    naive_s = statistics.median(naive_times)
    return {"frames": frames, "masks": expected[0], "coco_s": coco_s, "folder_s": folder_s, "naive_s": naive_s}


def run(workdir: Path, data_cache: Path, quick: bool = False) -> dict:
    specs = QUICK_SPECS if quick else FULL_SPECS
    rounds, naive_rounds = (2, 1) if quick else (5, 1)  # the baseline takes 80 s at 1080p
    parts = {}
    for spec in specs:
        root = cached_dataset(data_cache, spec)
        parts[spec.name] = measure(root, Path(workdir) / f"{spec.name}.json", rounds, naive_rounds)
    rows = []
    for name, r in parts.items():
        per_frame = {k: r[k] / r["frames"] * 1e3 for k in ("naive_s", "folder_s", "coco_s")}
        rows.append(
            [
                name,
                r["frames"],
                r["masks"],
                f"{per_frame['naive_s']:.2f}",
                f"{per_frame['folder_s']:.2f}",
                f"{per_frame['coco_s']:.3f}",
                f"{r['naive_s'] / r['folder_s']:.1f}x",
                f"{r['naive_s'] / r['coco_s']:.1f}x",
            ]
        )
    headers = ["dataset", "frames", "masks", "Pillow script ms/frame", "stats PNG folder", "stats COCO"]
    headers += ["folder ratio", "COCO ratio"]
    worst = min(parts.items(), key=lambda item: item[1]["naive_s"] / item[1]["coco_s"])
    ratio = worst[1]["naive_s"] / worst[1]["coco_s"]
    return {
        "parts": parts,
        "tables": [{"title": "stats vs decoding the PNGs with Pillow (1 core, wall)", "headers": headers, "rows": rows}],
        "goals": [
            {
                "goal": "stats (from the RLE of a COCO file) vs decoding the PNG folders with Pillow",
                "target": f">= {GOAL:.0f}x",
                "value": ratio,
                "pass": ratio >= GOAL,
                "note": f"worst dataset {worst[0]}: {worst[1]['naive_s']:.2f} s -> {worst[1]['coco_s']:.3f} s",
            }
        ],
    }


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vosconv-bench-stats-") as folder:
        result = run(Path(folder), Path(__file__).resolve().parent / "results" / "data", quick="--quick" in sys.argv)
    for table in result["tables"]:
        print(table["title"], *[" | ".join(map(str, r)) for r in [table["headers"], *table["rows"]]], sep="\n")
    print(result["goals"])
