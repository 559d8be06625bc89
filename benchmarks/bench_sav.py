"""SA-V train frames: vosconv's path against SAM 2's extraction script, per kept frame, on one core.

SAM 2's ``training/scripts/sav_frame_extraction_submitit.py`` decodes each mp4 with OpenCV, keeps
every 4th frame and writes it with ``cv2.imwrite``. vosconv decodes with PyAV, converts to RGB only
the frames it keeps, and encodes them with Pillow (the same libjpeg-turbo settings): the bytes must
be identical, which :func:`verify` checks before timing. Also timed: the whole conversion
(``sav`` train folder -> ``sav`` JPEG folders, Parquet, HDF5) with one worker.

``python -m benchmarks.bench_sav [--frames N] [--quick]``; ``run(workdir, quick) -> dict`` for the suite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = {"720p": (1280, 720), "1080p-like": (1920, 1080)}


def make_mp4(path: Path, width: int, height: int, frames: int) -> Path:
    """A moving, textured picture encoded like a phone video (libx264, yuv420p, 24 fps)."""
    import av

    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (height // 8, width // 8, 3), np.uint8).repeat(8, 0).repeat(8, 1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"x264-params": "mbtree=0", "crf": "23", "preset": "veryfast"}
        for index in range(frames):
            picture = np.roll(base, (index * 3, index * 5), (0, 1))
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def sam2_extract(mp4: Path, out: Path) -> list[Path]:
    """SAM 2's steps: OpenCV decode of every frame, frames[::4], cv2.imwrite as f"{4k:05d}.jpg"."""
    import cv2

    out.mkdir(parents=True, exist_ok=True)
    capture, written, index = cv2.VideoCapture(str(mp4)), [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % 4 == 0:
            path = out / f"{index:05d}.jpg"
            cv2.imwrite(str(path), frame)
            written.append(path)
        index += 1
    capture.release()
    return written


def vosconv_extract(mp4: Path, out: Path) -> list[Path]:
    """vosconv's steps: PyAV decode, RGB only for the kept frames, Pillow JPEG (codecs.video / codecs.jpeg)."""
    from converters.codecs import jpeg, video

    out.mkdir(parents=True, exist_ok=True)
    facts, cursor, written = video.probe(str(mp4)), video.FrameCursor(str(mp4)), []
    for index in range(0, facts.frames, 4):
        path = out / f"{index:05d}.jpg"
        path.write_bytes(jpeg.encode_rgb(cursor.rgb(index)))
        written.append(path)
    cursor.close()
    return written


def verify(mp4: Path, work: Path) -> int:
    a, b = sam2_extract(mp4, work / "sam2"), vosconv_extract(mp4, work / "vosconv")
    if [p.name for p in a] != [p.name for p in b] or any(x.read_bytes() != y.read_bytes() for x, y in zip(a, b)):
        raise AssertionError(f"{mp4}: vosconv's frames are not SAM 2's extraction's bytes")
    return len(a)


def _best(function, *args, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        function(*args)
        times.append(time.process_time() - start)
    return min(times)


@contextlib.contextmanager
def one_core():
    """This process (and OpenCV's threads) on one CPU while inside; the CPUs it had afterwards."""
    import cv2

    threads = cv2.getNumThreads()
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    cv2.setNumThreads(1)
    if cpus:
        os.sched_setaffinity(0, {min(cpus)})
    try:
        yield
    finally:
        cv2.setNumThreads(threads)
        if cpus:
            os.sched_setaffinity(0, cpus)


def run(workdir: Path, quick: bool = False, frames: int | None = None) -> dict:
    with one_core():
        return _run(workdir, quick, frames or (12 if quick else 48))


def _run(workdir: Path, quick: bool, frames: int) -> dict:
    from converters import api
    from tests import savdata

    rows, goals = [], []
    for label, (width, height) in SIZES.items():
        if quick:
            width, height = width // 16 * 2, height // 16 * 2
        folder = workdir / label / "sav_000"
        folder.mkdir(parents=True, exist_ok=True)
        mp4 = make_mp4(folder / "sav_000001.mp4", width, height, frames)
        doc = savdata.masklet_doc("sav_000001", frames, 2, width=width, height=height)
        (folder / "sav_000001_manual.json").write_text(json.dumps(doc))
        kept = verify(mp4, workdir / label / "verify")
        sam2 = _best(sam2_extract, mp4, workdir / label / "a") / kept
        ours = _best(vosconv_extract, mp4, workdir / label / "b") / kept
        convert = {}
        for to, name in (("sav", "jpeg"), ("parquet", "out.parquet"), ("hdf5", "out.h5")):
            out = workdir / label / "convert" / name
            start = time.process_time()
            api.convert(workdir / label, out, to=to, from_="sav")
            convert[to] = (time.process_time() - start) / kept * 1000
            shutil.rmtree(out, ignore_errors=True)
        rows.append([label, f"{width}x{height}", kept, f"{sam2 * 1000:.1f}", f"{ours * 1000:.1f}", f"{sam2 / ours:.2f}x"])
        rows[-1] += [f"{convert[k]:.1f}" for k in ("sav", "parquet", "hdf5")]
        speedup = sam2 / ours
        goals.append(
            {
                "goal": f"SA-V train frames ({label}) vs SAM 2's extraction (OpenCV decode, every 4th, cv2.imwrite), 1 core",
                "target": ">= 2x",
                "value": speedup,
                "pass": speedup >= 2,
                "note": f"{sam2 * 1000:.1f} -> {ours * 1000:.1f} ms per kept frame, the same JPEG bytes",
            }
        )
    headers = ["video", "size", "kept frames", "SAM 2 ms/frame", "vosconv ms/frame", "speed-up"]
    headers += ["convert->sav ms/frame", "->parquet", "->hdf5"]
    return {"tables": [{"title": "SA-V train frames, one core (CPU time)", "headers": headers, "rows": rows}], "goals": goals}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_sav")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--frames", type=int)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-sav-") as work:
        result = run(Path(work), args.quick, args.frames)
    table = result["tables"][0]
    print(f"## {table['title']}\n")
    print("| " + " | ".join(table["headers"]) + " |")
    print("|" + "---|" * len(table["headers"]))
    for row in table["rows"]:
        print("| " + " | ".join(map(str, row)) + " |")
    for goal in result["goals"]:
        print(f"{goal['goal']}: {goal['value']} (target {goal['target']}) {'PASS' if goal['pass'] else 'MISS'}")


if __name__ == "__main__":
    main()
