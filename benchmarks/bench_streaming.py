"""Peak memory of every reader, writer and command at N and 4N videos:
``python -m benchmarks.bench_streaming [--videos 40] [--only SUBSTRING ...] [--out FILE.json]``.

Opt-in, as ``bench_json.py`` is (not a ``make bench`` group, never part of ``make test``). It
makes a synthetic dataset of ``--videos`` and of four times as many small videos (64x64, 5 to 10
frames, three objects that come and go, a void band in every third video, every third frame
unannotated) in each source format: MOSE, LVOS and VOST folders and SA-V train mp4s drawn here,
the others converted from the MOSE folder (DAVIS, YouTube-VOS, COCO, CocoVID, BURST, SA-V val,
Parquet, HDF5; YouTube-VIS is the COCO file without vosconv's keys). Then each case runs in a
fresh interpreter, which reports its own peak RSS (``VmHWM``) and the largest peak of the
processes it waited for (``RUSAGE_CHILDREN``'s ``ru_maxrss``: forked workers, counting what they
inherited). The growth per video is (peak at 4N - peak at N) / 3N. What a run needs per video
(its name in a list, a manifest entry) is a few hundred bytes; more than about 2 kB a video, or
anything that follows the dataset's frames or pixels, is held that should not be.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SIZE = 64
#: The readers measured, each to COCO; the writers measured, each from MOSE.
READERS = (
    "mose",
    "davis",
    "youtube-vos",
    "sav-train",
    "sav-val",
    "burst",
    "ytvis",
    "cocovid",
    "lvos",
    "vost",
    "coco",
    "parquet",
    "hdf5",
)
WRITERS = ("coco", "cocovid", "parquet", "hdf5", "mose", "sav", "burst")
SUFFIX = {"coco": ".json", "cocovid": ".cocovid.json", "burst": ".burst.json", "parquet": ".parquet", "hdf5": ".h5"}

DRIVER = r"""
import json, resource, sys
case = json.loads(sys.argv[1])
if case["kind"] == "cli":
    from converters.cli import main
    code = main(case["argv"])
    if code not in case.get("codes", [0]):
        sys.exit(f"exit code {code}")
else:
    exec(case["code"], {"arg": case.get("arg")})
try:
    from converters.run.executors import wait_for_workers
    wait_for_workers()  # forked workers exit as a run returns; count them once gone
except ImportError:
    pass
with open("/proc/self/status") as status:
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"self_kb": hwm, "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""

READ_ALL = """
import converters
for video in converters.read_videos(arg, from_="parquet"):
    pass
"""
WRITE_GENERATOR = """
import converters
converters.write_videos((v for v in converters.read_videos(arg[0], from_="parquet")), arg[1], to="coco", overwrite=True)
"""
CLIPS = """
from converters.loading.dataset import ClipDataset
clips = ClipDataset(arg, clip_length=4, stride=2, decode_images=True)
for index in range(len(clips)):
    clips[index]
"""
TRAINING = """
from converters.loading.training import TrainingClips
clips = TrainingClips(arg, num_frames=4, max_skip=2, max_num_objects=2, size=(32, 32), output="numpy")
for index in range(len(clips)):
    clips[index]
"""


# ------------------------------------------------------------------ sources


def _video_labels(index: int, length: int) -> list[np.ndarray]:
    """Three objects moving across a 64x64 frame; object 2 gone for two frames mid-video; void in every third video."""
    labels = []
    for t in range(length):
        label = np.zeros((SIZE, SIZE), np.uint8)
        for k in range(3):
            if k == 1 and 2 <= t < 4:
                continue
            top, left = 4 + 18 * k, (index * 7 + t * 5 + k * 11) % (SIZE - 16)
            label[top : top + 14, left : left + 16] = k + 1
        if index % 3 == 0:
            label[-3:, :] = 255
        labels.append(label)
    return labels


def _frame(index: int, t: int) -> np.ndarray:
    rng = np.random.default_rng(index * 1000 + t)
    return rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)


def write_folders(root: Path, videos: int, stem, annotated=lambda t: t % 3 != 2) -> list[str]:
    """``root/{JPEGImages,Annotations}/<video>/<stem(t)>.{jpg,png}``; frames where ``annotated`` is false have no PNG."""
    from converters.codecs import png

    names = [f"v{index:05d}" for index in range(videos)]
    for index, name in enumerate(names):
        (root / "JPEGImages" / name).mkdir(parents=True)
        (root / "Annotations" / name).mkdir(parents=True)
        for t, label in enumerate(_video_labels(index, 5 + index % 6)):
            Image.fromarray(_frame(index, t)).save(root / "JPEGImages" / name / f"{stem(t)}.jpg", quality=90)
            if annotated(t) or t == 0:
                image = Image.fromarray(label, "P")
                image.putpalette(png.DAVIS_PALETTE)
                image.save(root / "Annotations" / name / f"{stem(t)}.png")
    return names


def write_lvos(root: Path, videos: int) -> Path:
    split = root / "train"
    names = write_folders(split, videos, lambda t: f"{1 + 5 * t:08d}", annotated=lambda t: True)
    meta = {
        name: {"objects": {str(k): {"frame_range": {"start": 1, "end": 21, "frame_nums": 5}} for k in (1, 2, 3)}}
        for name in names
    }
    (split / "train_meta.json").write_text(json.dumps({"videos": meta}))
    return root


def write_vost(root: Path, videos: int) -> Path:
    names = write_folders(root, videos, lambda t: f"frame{6 * t:05d}")
    (root / "ImageSets").mkdir()
    (root / "ImageSets" / "train.txt").write_text("\n".join(names))
    return root


def write_sav_train(root: Path, videos: int) -> Path:
    from tests.savdata import make_train

    return make_train(root, {f"sav_{index:06d}": 5 + index % 6 for index in range(videos)}, auto=False)


def ytvis_from_coco(coco: Path, out: Path) -> Path:
    """The COCO file as another tool writes YouTube-VIS: videos, annotations, categories, nothing of vosconv's."""
    document = json.loads(coco.read_text())
    video_keys, annotation_keys = (
        ("id", "width", "height", "length", "file_names"),
        ("id", "video_id", "category_id", "segmentations", "areas", "bboxes", "iscrowd"),
    )
    categories = document.get("categories") or [{"id": 1, "name": "object"}]
    out.mkdir(parents=True)
    (out / "train.json").write_text(
        json.dumps(
            {
                "info": {"description": "YouTube-VIS"},
                "videos": [{k: v[k] for k in video_keys if k in v} for v in document["videos"]],
                "annotations": [
                    {**{k: a[k] for k in annotation_keys if k in a}, "category_id": a.get("category_id") or 1, "iscrowd": 0}
                    for a in document["annotations"]
                ],
                "categories": categories,
            }
        )
    )
    return out / "train.json"


@dataclass
class Source:
    path: Path
    args: list[str] = field(default_factory=list)


def build_sources(root: Path, videos: int) -> dict[str, Source]:
    """Every source format at ``videos`` videos under ``root`` (conversions here are preparation, not measured)."""
    import converters

    mose = root / "mose"
    write_folders(mose, videos, lambda t: f"{t:05d}")
    sources = {"mose": Source(mose, ["--from", "mose"])}
    sources["lvos"] = Source(write_lvos(root / "lvos", videos), ["--from", "lvos", "--split", "train"])
    sources["vost"] = Source(write_vost(root / "vost", videos), ["--from", "vost", "--split", "train"])
    sources["sav-train"] = Source(write_sav_train(root / "sav-train", videos), ["--from", "sav"])
    made = {
        "davis": ("davis", {}, ["--from", "davis"]),
        "youtube-vos": ("youtube-vos", {}, ["--from", "youtube-vos"]),
        "coco": ("coco", {}, ["--from", "coco"]),
        "cocovid": ("cocovid", {}, ["--from", "cocovid"]),
        "burst": ("burst", {}, ["--from", "burst", "--images", str(mose / "JPEGImages")]),
        "sav-val": ("sav", {}, ["--from", "sav"]),
        "parquet": ("parquet", {}, ["--from", "parquet"]),
        "hdf5": ("hdf5", {}, ["--from", "hdf5"]),
    }
    for name, (writer, options, args) in made.items():
        out = root / f"{name}{SUFFIX.get(writer, '.' + writer)}"
        converters.convert(mose, out, to=writer, from_="mose", writer_options=options, progress=False)
        sources[name] = Source(out, args)
    sources["ytvis"] = Source(
        ytvis_from_coco(root / "coco.json", root / "ytvis"), ["--from", "ytvis", "--images", str(mose / "JPEGImages")]
    )
    bad = root / "mose-bad"  # every other video with a PNG cut short
    shutil.copytree(mose, bad)
    for png in sorted((bad / "Annotations").glob("v*/00001.png"))[::2]:
        png.write_bytes(png.read_bytes()[:40])
    sources["mose-bad"] = Source(bad, ["--from", "mose"])
    (root / "half.txt").write_text("\n".join(f"v{index:05d}" for index in range(0, videos, 2)) + "\n")
    interrupt_half(mose, root / "resumed.json", videos)
    return sources


INTERRUPT = r"""
import sys
import converters
from converters.formats.coco.writer import CocoWriter
from converters.run.pipeline import Interrupted
write, calls, stop = CocoWriter.write_shard, [0], int(sys.argv[3])
def write_shard(self, *args):
    calls[0] += 1
    if calls[0] == stop:
        raise KeyboardInterrupt
    return write(self, *args)
CocoWriter.write_shard = write_shard
try:
    converters.convert(sys.argv[1], sys.argv[2], to="coco", from_="mose", progress=False)
except (Interrupted, KeyboardInterrupt):
    pass
"""


def interrupt_half(source: Path, output: Path, videos: int) -> None:
    """A COCO conversion stopped (Ctrl-C) as its shard number ``videos // 2`` starts, for ``--resume`` to finish."""
    args = [sys.executable, "-c", INTERRUPT, str(source), str(output), str(max(2, videos // 2))]
    subprocess.run(args, cwd=REPO, capture_output=True, check=True)


# ------------------------------------------------------------------ cases


def cases(sources: dict[str, Source], root: Path, out: Path, plots: bool) -> dict[str, dict]:
    """Case name -> what the driver runs, for one dataset size."""
    found: dict[str, dict] = {}

    def cli(name: str, *argv: str, codes=(0,)) -> None:
        found[name] = {"kind": "cli", "argv": list(argv), "codes": list(codes)}

    mose = sources["mose"]
    for reader in READERS:
        source = sources[reader]
        for workers in (1, 2):
            cli(
                f"convert {reader} -> coco w{workers}",
                "convert",
                str(source.path),
                *source.args,
                "-o",
                str(out / f"r-{reader}-{workers}.json"),
                "--to",
                "coco",
                "--workers",
                str(workers),
            )
    for writer in WRITERS:
        if writer == "coco":
            continue
        for workers in (1, 2):
            target = out / f"w-{writer}-{workers}{SUFFIX.get(writer, '.' + writer)}"
            cli(
                f"convert mose -> {writer} w{workers}",
                "convert",
                str(mose.path),
                *mose.args,
                "-o",
                str(target),
                "--to",
                writer,
                "--workers",
                str(workers),
            )
    cli("convert --frame-step 2", "convert", str(mose.path), *mose.args, "-o", str(out / "step.json"), "--frame-step", "2")
    cli("convert --max-side 32 -> hdf5", "convert", str(mose.path), *mose.args, "-o", str(out / "side.h5"), "--max-side", "32")
    cli(
        "convert --videos-from (half)",
        "convert",
        str(mose.path),
        *mose.args,
        "-o",
        str(out / "half.json"),
        "--videos-from",
        str(root / "half.txt"),
    )
    bad = sources["mose-bad"]
    cli(
        "convert --on-error skip (half bad)",
        "convert",
        str(bad.path),
        *bad.args,
        "-o",
        str(out / "skip.json"),
        "--on-error",
        "skip",
        "--allow-skips",
    )
    cli(
        "convert --resume (stopped halfway)",
        "convert",
        str(mose.path),
        *mose.args,
        "-o",
        str(root / "resumed.json"),
        "--to",
        "coco",
        "--resume",
    )
    cli("validate mose", "validate", str(mose.path), *mose.args)
    cli("validate parquet", "validate", str(sources["parquet"].path), *sources["parquet"].args)
    cli("validate mose-bad", "validate", str(bad.path), *bad.args, codes=(0, 1, 2, 3))
    cli("stats coco", "stats", str(sources["coco"].path), "--from", "coco")
    cli("stats mose", "stats", str(mose.path), *mose.args)
    cli("stats mose --per-video", "stats", str(mose.path), *mose.args, "--per-video", str(out / "per-video.csv"))
    if plots:
        cli("stats mose --plots", "stats", str(mose.path), *mose.args, "--plots", str(out / "plots"))
    cli("preview mose (first 4)", "preview", str(mose.path), *mose.args, "-o", str(out / "preview.png"))
    parquet = str(sources["parquet"].path)
    found["api read_videos (parquet)"] = {"kind": "api", "code": READ_ALL, "arg": parquet}
    found["api write_videos (generator)"] = {"kind": "api", "code": WRITE_GENERATOR, "arg": [parquet, str(out / "held.json")]}
    found["ClipDataset (parquet, all clips)"] = {"kind": "api", "code": CLIPS, "arg": parquet}
    found["ClipDataset (hdf5, all clips)"] = {"kind": "api", "code": CLIPS, "arg": str(sources["hdf5"].path)}
    found["TrainingClips (parquet, every video)"] = {"kind": "api", "code": TRAINING, "arg": parquet}
    return found


def measure(case: dict) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(case)], cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall_s": time.perf_counter() - started}


def row(name: str, small: dict, big: dict, more: int) -> str:
    """A table row: peaks in MB, and growth in kB per video, of the process and of its largest worker."""
    cells = [name, f"{small['self_kb'] / 1024:.1f}", f"{big['self_kb'] / 1024:.1f}"]
    cells.append(f"{(big['self_kb'] - small['self_kb']) / more:.2f}")
    if small["children_kb"] and big["children_kb"]:
        cells.append(f"{small['children_kb'] / 1024:.1f} / {big['children_kb'] / 1024:.1f}")
        cells.append(f"{(big['children_kb'] - small['children_kb']) / more:.2f}")
    else:
        cells += ["-", "-"]
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_streaming", description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=40, help="videos in the smaller dataset (the larger has 4x)")
    parser.add_argument("--only", nargs="+", metavar="TEXT", help="cases whose name contains one of these")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    try:
        import matplotlib  # noqa: F401

        plots = True
    except ImportError:
        plots = False
    scratch = Path(tempfile.mkdtemp(prefix="vosconv-streaming-"))
    results: dict[str, dict] = {}
    try:
        sizes = (args.videos, 4 * args.videos)
        plans = {}
        for videos in sizes:
            root = scratch / f"n{videos}"
            t0 = time.perf_counter()
            sources = build_sources(root / "src", videos)
            print(f"{videos} videos: sources made in {time.perf_counter() - t0:.0f} s", flush=True)
            plans[videos] = cases(sources, root / "src", root / "out", plots)
        (scratch / "out").mkdir()
        names = [n for n in plans[sizes[0]] if not args.only or any(text in n for text in args.only)]
        print(f"\n| case | peak MB, {sizes[0]} videos | {sizes[1]} | kB per video | workers' peak MB | kB per video |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name in names:
            runs = []
            for videos in sizes:
                (scratch / f"n{videos}" / "out").mkdir(exist_ok=True)
                runs.append(measure(plans[videos][name]))
            results[name] = {str(v): r for v, r in zip(sizes, runs)}
            if any("error" in r for r in runs):
                print(f"| {name} | failed: {[r.get('error') for r in runs]} | | | | |", flush=True)
                continue
            print(row(name, *runs, sizes[1] - sizes[0]), flush=True)
    finally:
        if args.keep:
            print(f"scratch kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
