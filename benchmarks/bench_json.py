"""Peak memory and time of the ``ytvis`` and ``cocovid`` readers on big JSON documents:
``python -m benchmarks.bench_json [--mb 200] [--data DIR] [--read]``.

Makes a YouTube-VIS file of about ``--mb`` MB (480x854 frames, 30 per video, 4 tracks each, whose
masks are compressed RLE, uncompressed RLE or polygons, with nulls where a track is absent, as
real files mix them) and the CocoVID file mmdet's ``youtubevis2coco.py`` makes of it. Then, each
in a fresh process, ``json.load`` of each file (what holding it whole costs) and each reader
listing every video (``--read``: and reading them all), printing wall and CPU time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
HEIGHT, WIDTH, FRAMES, TRACKS = 480, 854, 30, 4

DRIVER = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
started = time.perf_counter()
what, path = sys.argv[1], sys.argv[2]
if what == "json.load":
    with open(path, "rb") as file:
        json.load(file)
    videos = None
else:
    from converters import api
    with api.open_reader(path, what) as reader:
        refs = reader.list_videos()
        for ref in refs if sys.argv[3] == "read" else ():
            reader.read_video(ref)
    videos = len(refs)
usage = resource.getrusage(resource.RUSAGE_SELF)
with open("/proc/self/status") as status:  # VmHWM: this program's own peak (ru_maxrss counts the parent's, at fork)
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"videos": videos, "wall_s": time.perf_counter() - started, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "peak_mb": peak / 1024}))
"""


def _shapes(count: int, rng: np.random.Generator) -> list[str]:
    """Compressed RLE of wobbly ellipses: masks with as many runs as real objects' outlines give."""
    from pycocotools import mask as coco_mask

    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    shapes = []
    for _ in range(count):
        cy, cx, ry, rx = rng.uniform(60, HEIGHT - 60), rng.uniform(60, WIDTH - 60), rng.uniform(30, 200), rng.uniform(30, 300)
        wobble = 1 + 0.15 * np.sin(cols / rng.uniform(3, 9)) * np.cos(rows / rng.uniform(3, 9))
        mask = (((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 < wobble).astype(np.uint8)
        shapes.append(coco_mask.encode(np.asfortranarray(mask))["counts"].decode())
    return shapes


def _segmentation(kind: str, shape: str, rng: random.Random) -> object:
    from converters.codecs.rle import string_to_counts

    if kind == "string":
        return {"size": [HEIGHT, WIDTH], "counts": shape}
    if kind == "list":
        return {"size": [HEIGHT, WIDTH], "counts": string_to_counts(shape)}
    x, y, r = rng.uniform(100, WIDTH - 100), rng.uniform(100, HEIGHT - 100), rng.uniform(20, 90)
    angles = [2 * np.pi * k / 24 for k in range(24)]
    return [[round(v, 2) for a in angles for v in (x + r * np.cos(a) * rng.uniform(0.8, 1.2), y + r * np.sin(a))]]


def ytvis_document(megabytes: float, seed: int = 0) -> dict:
    rng = random.Random(seed)
    shapes = _shapes(200, np.random.default_rng(seed))
    videos, annotations, size = [], [], 0
    while size < megabytes * 1e6:
        video_id = len(videos) + 1
        names = [f"v{video_id:05d}/{frame * 5:05d}.jpg" for frame in range(FRAMES)]
        videos.append({"id": video_id, "width": WIDTH, "height": HEIGHT, "length": FRAMES, "file_names": names})
        for _ in range(TRACKS):
            kind = rng.choices(["string", "list", "polygon"], [0.6, 0.3, 0.1])[0]
            first, last = sorted(rng.sample(range(FRAMES + 1), 2))
            present = [first <= f < last and rng.random() > 0.05 for f in range(FRAMES)]
            masks = [_segmentation(kind, rng.choice(shapes), rng) if p else None for p in present]
            annotations.append(
                {"id": len(annotations) + 1, "video_id": video_id, "category_id": rng.randint(1, 40), "iscrowd": 0,
                 "segmentations": masks, "areas": [1000.0 if p else None for p in present],
                 "bboxes": [[1.0, 2.0, 30.0, 40.0] if p else None for p in present]}
            )  # fmt: skip
            size += sum(len(json.dumps(m)) for m in masks if m) + 400
    categories = [{"supercategory": "object", "id": i, "name": f"class{i}"} for i in range(1, 41)]
    return {"info": {"description": "synthetic"}, "videos": videos, "categories": categories, "annotations": annotations}


def cocovid_document(ytvis: dict) -> dict:
    """What mmdet's youtubevis2coco.py makes of it: images with frame_id, one annotation per frame and track."""
    out: dict = {"categories": ytvis["categories"], "videos": [], "images": [], "annotations": []}
    tracks: dict[int, list] = {}
    for track in ytvis["annotations"]:
        tracks.setdefault(track["video_id"], []).append(track)
    instance = 0
    for video in ytvis["videos"]:
        out["videos"].append({"id": video["id"], "name": video["file_names"][0].split("/")[0]})
        first = len(out["images"]) + 1
        for frame, name in enumerate(video["file_names"]):
            image = {"file_name": name, "height": HEIGHT, "width": WIDTH, "frame_id": frame, "video_id": video["id"]}
            out["images"].append({**image, "id": first + frame})
        for track in tracks.get(video["id"], []):
            instance += 1
            for frame, mask in enumerate(track["segmentations"]):
                if mask is not None:
                    out["annotations"].append(
                        {"id": len(out["annotations"]) + 1, "video_id": video["id"], "image_id": first + frame,
                         "category_id": track["category_id"], "instance_id": instance, "bbox": track["bboxes"][frame],
                         "area": track["areas"][frame], "segmentation": mask, "iscrowd": 0}
                    )  # fmt: skip
    return out


def run(what: str, path: Path, read: bool) -> dict:
    command = [sys.executable, "-c", DRIVER, what, str(path), "read" if read else "list"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200, help="size of the YouTube-VIS file")
    parser.add_argument("--data", type=Path, default=REPO / "benchmarks" / "results" / "json")
    parser.add_argument("--read", action="store_true", help="read every video too, not only list them")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    ytvis, cocovid = args.data / f"ytvis-{args.mb:g}mb.json", args.data / f"cocovid-{args.mb:g}mb.json"
    if not (ytvis.exists() and cocovid.exists()):
        document = ytvis_document(args.mb)
        ytvis.write_text(json.dumps(document))
        cocovid.write_text(json.dumps(cocovid_document(document)))
    print("| file | MB | what | videos | wall s | CPU s | peak RSS MB |\n|---|---|---|---|---|---|---|")
    for reader, path in (("ytvis", ytvis), ("cocovid", cocovid)):
        for what in ("json.load", reader):
            found = run(what, path, args.read)
            videos = "" if found["videos"] is None else found["videos"]
            print(
                f"| {path.name} | {path.stat().st_size / 1e6:.0f} | {what} | {videos} | {found['wall_s']:.1f} "
                f"| {found['cpu_s']:.1f} | {found['peak_mb']:.0f} |"
            )


if __name__ == "__main__":
    main()
