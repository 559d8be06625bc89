"""Scale: what grows with the number of videos. Opt-in, not part of ``make bench``.

``python -m benchmarks.bench_scale [--sizes 200 800 3200] [--writers coco parquet ...] [--workers 1 2]``

Generates MOSE-layout sources of N tiny videos (48x32, 3 frames, 3 objects: four distinct
videos, hard-linked N/4 times, under the system's temporary folder), so the per-video work is
small and fixed costs and terms that grow faster than N show. Each conversion runs in a fresh
Python process that times the pipeline's phases (listing, the shards, finalize, publish),
counts CPU seconds (its own and its workers') and reports its peak RSS (``VmHWM``) and its
workers' (``RUSAGE_CHILDREN``). ``mose-noimages`` converts a source annotated on the first
frame only (MOSE valid) to a MOSE folder without images: every video then has frames no file
holds, which ``finalize`` records. Then ``ClipDataset`` and ``TrainingClips`` are opened over
the Parquet and HDF5 outputs of each N (manifest parse, clip index), in a fresh process too.

The table to read: CPU ms per video, flat in N, and the parent's peak, flat but for a small
per-video record (the last line gives its bytes per video between the smallest and largest N).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WRITERS = ("coco", "cocovid", "parquet", "hdf5", "mose", "davis", "youtube-vos", "sav", "mose-noimages")
SUFFIXES = {"coco": ".json", "cocovid": ".cocovid.json", "parquet": ".parquet", "hdf5": ".h5"}

DRIVER = r"""
import functools, json, resource, sys, time
from converters import api
from converters.run import pipeline
source, output, writer_name = sys.argv[1], sys.argv[2], sys.argv[3]
workers, writer_options = int(sys.argv[4]), json.loads(sys.argv[5])
phases = {}
def timed(name, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
    return wrapper
reader = api.open_reader(source, "mose")
writer = api.open_writer(writer_name, writer_options)
type(reader).list_videos = timed("listing", type(reader).list_videos)
type(writer).finalize = timed("finalize", type(writer).finalize)
pipeline.publish = timed("publish", pipeline.publish)
made = pipeline.make_executor
def make_executor(count):
    executor = made(count)
    type(executor).run = timed("shards", type(executor).run)
    return executor
pipeline.make_executor = make_executor
cpu, started = time.process_time(), time.perf_counter()
with reader:
    summary = pipeline.convert(reader, writer, output, workers=workers, overwrite=True, progress=False)
phases["total"] = time.perf_counter() - started
from converters.run.executors import wait_for_workers
wait_for_workers()
children = resource.getrusage(resource.RUSAGE_CHILDREN)
with open("/proc/self/status") as status:
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({
    "videos": summary.stats.videos, "shards": summary.shards, "phases": phases,
    "cpu_s": time.process_time() - cpu + children.ru_utime + children.ru_stime,
    "parent_kb": hwm, "workers_kb": children.ru_maxrss,
}))
"""

LOADER = r"""
import json, sys, time
from converters.loading import ClipDataset, TrainingClips
def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
before = rss()
started = time.perf_counter()
clips = ClipDataset(sys.argv[1], clip_length=2)
middle = time.perf_counter()
training = TrainingClips(sys.argv[1], num_frames=2, output="numpy")
print(json.dumps({"clips_s": middle - started, "training_s": time.perf_counter() - middle, "grew_kb": rss() - before,
                  "videos": len(training.videos)}))
"""


def _template(root: Path, seed: int, frames: int = 3, width: int = 48, height: int = 32, objects: int = 3) -> None:
    """One video: noise JPEGs and palette PNGs of ``objects`` small moving boxes."""
    import numpy as np
    from PIL import Image

    from converters.codecs import png

    rng = np.random.default_rng(seed)
    for t in range(frames):
        jpegs, masks = root / "JPEGImages" / f"t{seed}", root / "Annotations" / f"t{seed}"
        jpegs.mkdir(parents=True, exist_ok=True)
        masks.mkdir(parents=True, exist_ok=True)
        Image.fromarray((rng.random((height, width, 3)) * 255).astype(np.uint8)).save(jpegs / f"{t:05d}.jpg", quality=80)
        label = np.zeros((height, width), np.uint8)
        for k in range(1, objects + 1):
            x, y = (5 * k + 3 * t + seed) % (width - 10), (7 * k + seed) % (height - 8)
            label[y : y + 6, x : x + 9] = k
        image = Image.fromarray(label, "P")
        image.putpalette(png.DAVIS_PALETTE)
        image.save(masks / f"{t:05d}.png")


def make_source(workdir: Path, videos: int, first_frame_only: bool = False) -> Path:
    """A MOSE split folder of ``videos`` tiny videos, hard links to four templates (copies where links fail)."""
    templates = workdir / "templates"
    if not templates.exists():
        for seed in range(4):
            _template(templates, seed)
    root = workdir / f"mose-{videos}{'-sparse' if first_frame_only else ''}"
    if root.exists():
        return root
    for kind in ("JPEGImages", "Annotations"):
        for index in range(videos):
            folder = root / "train" / kind / f"v{index:06d}"
            folder.mkdir(parents=True)
            for file in sorted((templates / kind / f"t{index % 4}").iterdir()):
                if first_frame_only and kind == "Annotations" and not file.name.startswith("00000"):
                    continue
                try:
                    os.link(file, folder / file.name)
                except OSError:
                    shutil.copyfile(file, folder / file.name)
    return root


def _fresh(script: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"scale driver failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def convert(workdir: Path, videos: int, writer: str, workers: int) -> tuple[dict, Path]:
    """One conversion of the N-video source in a fresh process: its phases, CPU and peaks; the output is kept."""
    noimages = writer == "mose-noimages"
    source = make_source(workdir, videos, first_frame_only=noimages)
    name = "mose" if noimages else writer
    output = workdir / "out" / f"{writer}-{videos}-w{workers}{SUFFIXES.get(writer, '')}"
    options = {"images": False} if noimages else {}
    return _fresh(DRIVER, str(source), str(output), name, str(workers), json.dumps(options)), output


def run(workdir: Path, sizes=(200, 800, 3200), writers=WRITERS, workers=(1, 2)) -> dict:
    """Every writer at every size (workers 2 for the folder writers and coco only); the loader over Parquet and HDF5."""
    rows, loader = [], []
    for videos in sizes:
        for writer in writers:
            for count in workers if writer in ("coco", "mose", "sav") else workers[:1]:
                result, output = convert(workdir, videos, writer, count)
                rows.append({"videos": videos, "writer": writer, "workers": count, **result})
                if writer in ("parquet", "hdf5"):
                    loader.append({"format": writer, **_fresh(LOADER, str(output))})
                shutil.rmtree(output, ignore_errors=True) if output.is_dir() else output.unlink(missing_ok=True)
    return {"rows": rows, "loader": loader}


def tables(results: dict) -> str:
    rows = results["rows"]
    head = (
        "| N | writer | workers | listing s | shards s | finalize s | publish s | total s | CPU ms/video "
        "| parent peak MB | worker peak MB |"
    )
    lines = [head, "|" + " --- |" * 11]
    for r in rows:
        p = r["phases"]
        lines.append(
            f"| {r['videos']} | {r['writer']} | {r['workers']} | {p.get('listing', 0):.2f} | {p.get('shards', 0):.2f} "
            f"| {p.get('finalize', 0):.2f} | {p.get('publish', 0):.2f} | {p['total']:.2f} | {r['cpu_s'] / r['videos'] * 1e3:.2f} "
            f"| {r['parent_kb'] / 1024:.0f} | {r['workers_kb'] / 1024 if r['workers_kb'] else 0:.0f} |"
        )
    sizes = sorted({r["videos"] for r in rows})
    if len(sizes) > 1:
        growth = []
        for writer, count in dict.fromkeys((r["writer"], r["workers"]) for r in rows):
            low = next(r for r in rows if (r["writer"], r["workers"], r["videos"]) == (writer, count, sizes[0]))
            high = next(r for r in rows if (r["writer"], r["workers"], r["videos"]) == (writer, count, sizes[-1]))
            per_video = (high["parent_kb"] - low["parent_kb"]) * 1024 / (sizes[-1] - sizes[0])
            growth.append(f"{writer} w{count}: {per_video:.0f}")
        lines.append(f"\nParent peak growth, bytes per video ({sizes[0]} -> {sizes[-1]} videos): " + "; ".join(growth))
    if results["loader"]:
        lines += ["", "| format | videos | ClipDataset s | TrainingClips s | RSS growth MB |", "|" + " --- |" * 5]
        for r in results["loader"]:
            lines.append(
                f"| {r['format']} | {r['videos']} | {r['clips_s']:.3f} | {r['training_s']:.3f} | {r['grew_kb'] / 1024:.1f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 800, 3200], help="numbers of videos")
    parser.add_argument("--writers", nargs="+", default=list(WRITERS), choices=WRITERS)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the generated sources")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="vosconv-scale-"))
    try:
        results = run(workdir, tuple(args.sizes), tuple(args.writers), tuple(args.workers))
    finally:
        if args.keep:
            print(f"sources kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(tables(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
