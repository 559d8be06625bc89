"""Peak memory of a conversion as the dataset grows: 200 vs 2,000 frames at 1080p, every output format, 1 and 2 workers.

Each conversion runs in a fresh Python process (so nothing earlier in the benchmark counts),
which reports its own peak RSS (``VmHWM``, and ``ru_maxrss``) and the largest peak among its
worker processes (``RUSAGE_CHILDREN``, once the workers, which exit as ``convert``
returns, have been waited for). A run that only imports vosconv and loads the compiled kernels gives
the floor. The 2,000-frame dataset is the 200-frame one ten times over, as hard links: the
pixels are no different, so the ratio shows only what grows with the dataset. A writer
that plans the whole dataset as one shard (Parquet and HDF5 shards hold up to 1 GiB) runs
it in the main process, with no worker to measure.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from .data import DatasetSpec, cached_dataset, replicate

REPO = Path(__file__).resolve().parents[1]

DRIVER = r"""
import json, resource, sys, time
started = time.perf_counter()
import converters
source, output, workers, writer = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
frames = 0
if source == "-":  # the floor: imports and compiled kernels loaded, nothing converted
    import numpy as np
    from converters.codecs import png, rle
    label = np.ones((8, 8), np.uint8)
    png.decode(png.encode(label, "L"))
    rle.decode([(1, m.counts) for m in rle.encode(label)], 8, 8)
else:
    summary = converters.convert(source, output, to=writer, from_="mose", workers=workers, overwrite=True, progress=False)
    frames = summary.stats.frames
    from converters.run.executors import wait_for_workers
    wait_for_workers()  # workers exit just after convert returns; count them once gone
hwm = None
with open("/proc/self/status") as status:
    for line in status:
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
print(json.dumps({
    "frames": frames,
    "wall_s": time.perf_counter() - started,
    "parent_hwm_kb": hwm,
    "parent_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "workers_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
}))
"""


#: Every output format; Parquet and HDF5 embed the JPEGs (the heaviest case for memory).
WRITERS = ("coco", "parquet", "hdf5", "mose")


def measure(source: Path | None, output: Path, workers: int, writer: str = "coco") -> dict:
    """Run one conversion in a fresh interpreter; its peak memory figures (kB) and wall time."""
    args = [sys.executable, "-c", DRIVER, str(source) if source else "-", str(output), str(workers), writer]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory driver failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(
    spec: DatasetSpec,
    copies: int,
    cache: Path,
    workdir: Path,
    workers: tuple[int, ...] = (1, 2),
    writers: tuple[str, ...] = WRITERS,
) -> dict:
    """Peak RSS for ``spec`` and for ``copies`` times ``spec``, with each writer and worker count."""
    small = cached_dataset(cache, spec)
    big = workdir / "memory-big"
    shutil.rmtree(big, ignore_errors=True)
    replicate(small, big, copies)
    floor = measure(None, workdir / "unused.json", 1)
    rows = []
    for writer in writers:
        for w in workers:
            for name, source, frames in (("small", small, spec.total_frames), ("big", big, spec.total_frames * copies)):
                output = workdir / f"memory-{writer}-{name}-w{w}"
                m = measure(source, output, w, writer)
                shutil.rmtree(output, ignore_errors=True) if output.is_dir() else output.unlink(missing_ok=True)
                assert m["frames"] == frames, f"expected {frames} frames, converted {m['frames']}"
                rows.append({"writer": writer, "workers": w, "dataset": name, **m})
    shutil.rmtree(big, ignore_errors=True)
    results: dict = {"floor": floor, "runs": rows, "small_frames": spec.total_frames, "big_frames": spec.total_frames * copies}
    worst = 0.0
    for writer in writers:
        for w in workers:
            small_run, big_run = (
                next(r for r in rows if (r["writer"], r["workers"], r["dataset"]) == (writer, w, d)) for d in ("small", "big")
            )
            ratios = {"parent": big_run["parent_hwm_kb"] / small_run["parent_hwm_kb"]}
            if small_run["workers_maxrss_kb"] and big_run["workers_maxrss_kb"]:  # none when one shard ran here
                ratios["worker"] = big_run["workers_maxrss_kb"] / small_run["workers_maxrss_kb"]
            results[f"ratio_{writer}_w{w}"] = ratios
            worst = max(worst, *ratios.values())
    results["worst_ratio"] = worst
    return results
