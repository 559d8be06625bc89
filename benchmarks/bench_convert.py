"""Whole-dataset conversion: a MOSE-layout folder to COCO RLE JSON, naive script vs ``converters.convert``.

For each dataset (:class:`benchmarks.data.DatasetSpec`, generated once and cached), rounds of
interleaved runs time the naive UNINEXT-style script (:func:`benchmarks.naive.convert_dataset`),
``converters.convert(..., workers=1)`` and ``workers=2``. One-process runs are compared on CPU
time (``time.process_time``); the two-worker run can only be compared on wall time, so the
1-vs-2-worker ratio is a wall-time ratio and its row says how busy the rest of the host was.
Output sizes: the source PNG folder, vosconv's JSON and ``.json.gz``, and the naive JSON.

:func:`verify` proves, before timing, that vosconv's JSON holds exactly what the naive script
wrote (counts, areas and bboxes of every object in every frame, file names, sizes) and that
one and two workers write the same bytes.

The host's speed drifts by tens of percent over seconds, so besides the ratio of the median
wall times, each round's 1-worker/2-worker pair (run back to back) gives a ratio of its own;
their median is the 2-worker figure the goal is judged on.

Beside it, what bounds that figure: two controls run in the same rounds (:class:`IdealPair`,
two warm processes with half the videos each, and :class:`TwoThreads`, the same shards on two
threads), the minor page faults of each process per run (after a fork, mostly copy-on-write),
and how long a bare ``os.fork`` of the measuring process takes.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import converters
from converters.run.executors import wait_for_workers

from . import naive
from .data import DatasetSpec, cached_dataset, folder_bytes, replicate
from .timing import HostLoad, one_core

REPO = Path(__file__).resolve().parents[1]

FULL_SPECS = (
    DatasetSpec("1080p-200", 1080, 1920, videos=8, frames=25, objects=(3, 4, 5, 6, 8, 3, 5, 8)),
    DatasetSpec("480p-200", 480, 854, videos=8, frames=25, objects=(1, 3, 8, 20)),
)
QUICK_SPECS = (
    DatasetSpec("1080p-q", 1080, 1920, videos=2, frames=8, objects=(3, 8)),
    DatasetSpec("480p-q", 480, 854, videos=2, frames=8, objects=(1, 20)),
)


def vosconv_convert(source: Path, output: Path, workers: int, executor=None):
    return converters.convert(
        source, output, to="coco", from_="mose", workers=workers, executor=executor, overwrite=True, progress=False
    )


# --------------------------------------------------------------------------------------------
# Correctness guard


def _tracks_naive(data: dict) -> dict:
    videos = {v["id"]: v for v in data["videos"]}
    out = {}
    for v in data["videos"]:
        name = v["file_names"][0].split("/")[0]
        out[name] = {"size": (v["height"], v["width"]), "file_names": v["file_names"], "tracks": {}}
    for a in data["annotations"]:
        v = videos[a["video_id"]]
        name = v["file_names"][0].split("/")[0]
        out[name]["tracks"][a["ori_id"]] = (
            [None if s is None else (tuple(s["size"]), s["counts"]) for s in a["segmentations"]],
            a["areas"],
            [None if b is None else [int(x) for x in b] for b in a["bboxes"]],
        )
    return out


def _tracks_vosconv(data: dict) -> dict:
    videos = {v["id"]: v for v in data["videos"]}
    out = {}
    for v in data["videos"]:
        out[v["name"]] = {"size": (v["height"], v["width"]), "file_names": v["file_names"], "tracks": {}}
    for a in data["annotations"]:
        v = videos[a["video_id"]]
        out[v["name"]]["tracks"][a["object_id"]] = (
            [None if s is None else (tuple(s["size"]), s["counts"]) for s in a["segmentations"]],
            a["areas"],
            a["bboxes"],
        )
    return out


def verify(source: Path, workdir: Path, pin: bool = False) -> dict:
    """Convert ``source`` with the naive script and with vosconv (1 and 2 workers); assert they agree.

    The naive run is timed (pinned to one CPU when ``pin``), so it can count as a timing sample.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    naive_path = workdir / "naive.json"
    with one_core(pin):
        naive_run = _timed(lambda: naive.convert_dataset(source, naive_path))
    one = workdir / "vosconv-w1.json"
    two = workdir / "vosconv-w2.json"
    threads = workdir / "vosconv-threads.json"
    vosconv_convert(source, one, 1)
    vosconv_convert(source, two, 2)
    vosconv_convert(source, threads, 2, TwoThreads())
    assert one.read_bytes() == two.read_bytes(), f"{source}: 1 and 2 workers wrote different JSON"
    assert one.read_bytes() == threads.read_bytes(), f"{source}: the two-thread control wrote different JSON"
    want = _tracks_naive(json.loads(naive_path.read_text()))
    got = _tracks_vosconv(json.loads(one.read_text()))
    assert sorted(got) == sorted(want), f"{source}: different videos"
    masks = 0
    for name, video in want.items():
        mine = got[name]
        assert mine["size"] == video["size"] and mine["file_names"] == video["file_names"], f"{name}: video record differs"
        assert sorted(mine["tracks"]) == sorted(video["tracks"]), f"{name}: different objects"
        for object_id, track in video["tracks"].items():
            assert mine["tracks"][object_id] == track, f"{name}, object {object_id}: masks differ from the naive script's"
            masks += sum(s is not None for s in track[0])
    return {"videos": len(want), "masks": masks, "naive_run": naive_run}


# --------------------------------------------------------------------------------------------
# Timing


def _usage() -> tuple[float, int, int]:
    """CPU seconds of waited-for children; minor page faults of this process and of those children."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime, me.ru_minflt, children.ru_minflt


def _timed(fn) -> dict:
    gc.collect()
    cpu0, wall0, (child0, faults0, child_faults0) = time.process_time(), time.perf_counter(), _usage()
    fn()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    wait_for_workers()  # they exit just after the run returns; their CPU time counts once they are gone
    child, faults, child_faults = _usage()
    return {
        "cpu": cpu,
        "wall": wall,
        "children_cpu": child - child0,
        "faults": faults - faults0,
        "children_faults": child_faults - child_faults0,
    }


# --------------------------------------------------------------------------------------------
# The ceiling for two workers


def split_in_two(source: Path, workdir: Path) -> tuple[Path, Path]:
    """Two MOSE-layout folders of symbolic links, each with half the videos (by bytes, largest first)."""
    videos = sorted(
        ((folder_bytes(source / "Annotations" / v.name, "") + folder_bytes(source / "JPEGImages" / v.name, ""), v.name))
        for v in (source / "Annotations").iterdir()
    )[::-1]
    halves = [workdir / "half-0", workdir / "half-1"]
    totals = [0, 0]
    for half in halves:
        shutil.rmtree(half, ignore_errors=True)
        (half / "Annotations").mkdir(parents=True)
        (half / "JPEGImages").mkdir()
    for size, name in videos:
        k = totals.index(min(totals))
        totals[k] += size
        for part in ("Annotations", "JPEGImages"):
            (halves[k] / part / name).symlink_to(source / part / name)
    return halves[0], halves[1]


class IdealPair:
    """Two warm processes that each convert one half of the dataset, started together.

    No executor can beat this on the machine: no process start, no fork, a perfectly balanced
    split decided in advance, and each half's planning and output written in parallel. Its
    wall time against one worker is the ceiling for the 2-worker ratio on this host.
    """

    def __init__(self, halves: tuple[Path, Path], workdir: Path) -> None:
        context = multiprocessing.get_context("fork")
        self.start, self.done = context.Barrier(3), context.Barrier(3)
        self.stop = context.Value("b", 0)
        self.processes = [
            context.Process(target=self._serve, args=(half, workdir / f"half-{k}.json"), daemon=True)
            for k, half in enumerate(halves)
        ]
        for process in self.processes:
            process.start()

    def _serve(self, half: Path, output: Path) -> None:
        vosconv_convert(half, output, 1)  # warm
        while True:
            self.start.wait()
            if self.stop.value:
                return
            vosconv_convert(half, output, 1)
            self.done.wait()

    def run(self) -> dict:
        wall0 = time.perf_counter()
        self.start.wait()
        self.done.wait()
        return {"wall": time.perf_counter() - wall0}

    def close(self) -> None:
        self.stop.value = 1
        self.start.wait()
        for process in self.processes:
            process.join()


class TwoThreads:
    """A control, not a vosconv executor: the same self-scheduling as the process pool, with threads.

    This thread and one more take shards from a shared counter. No fork and no copy-on-write
    faults, but the two share one GIL, which the Python side of each frame needs. Shows what
    the process pool's fixed costs would buy back if traded for the GIL.
    """

    def run(self, fn, items, on_done=None):
        lock = threading.Lock()
        taken = iter(range(len(items)))
        results: list = [None] * len(items)
        errors: list[BaseException] = []

        def work() -> None:
            while not errors:
                with lock:
                    index = next(taken, None)
                if index is None:
                    return
                try:
                    results[index] = fn(items[index])
                except BaseException as error:  # the other thread stops at its next shard
                    errors.append(error)
                    return
                if on_done is not None:
                    with lock:
                        on_done(index, results[index])

        helper = threading.Thread(target=work, name="bench-thread")
        helper.start()
        try:
            work()
        finally:
            helper.join()
        if errors:
            raise errors[0]
        return results


def fork_ms(repeats: int = 7) -> float:
    """How long ``os.fork`` takes in this process as it is now (the child leaves at once): median, ms."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        times.append(time.perf_counter() - start)
        os.waitpid(pid, 0)
    return statistics.median(times) * 1e3


def _rss_anon_mb() -> float | None:
    """Resident anonymous memory of this process (what a fork copies the page tables of), MB."""
    try:
        with open("/proc/self/status") as file:
            kb = next(int(line.split()[1]) for line in file if line.startswith("RssAnon:"))
    except (OSError, StopIteration, ValueError):
        return None
    return kb / 1024


def _spin(n: int) -> int:
    x = 0
    for i in range(n):
        x += i * i
    return x


def host_scaling(loops: int = 1_500_000) -> float:
    """How much faster two cores finish two copies of a pure-Python loop than one core finishes one.

    A control with no memory traffic and no vosconv in it: on a host that boosts a lone busy
    core, this falls below 2x exactly when the 1-worker conversion got the boost.
    """
    context = multiprocessing.get_context("fork")

    def wall(copies: int) -> float:
        processes = [context.Process(target=_spin, args=(loops,)) for _ in range(copies)]
        wall0 = time.perf_counter()
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        return time.perf_counter() - wall0

    one = wall(1)
    return 2 * one / wall(2)


def time_dataset(
    source: Path, workdir: Path, rounds: int, naive_rounds: int, pin: bool = True, naive_runs: tuple[dict, ...] = ()
) -> dict:
    """Interleaved rounds of naive / workers=1 / workers=2 on ``source``; medians of each.

    ``naive_runs`` are naive samples already taken (the guard's run); they count towards ``naive_rounds``.
    """
    runs: dict[str, list[dict]] = {"naive": list(naive_runs), "w1": [], "w2": [], "ideal": [], "threads": []}
    loads: list[float] = []
    controls: list[float] = []
    ideal = IdealPair(split_in_two(source, workdir), workdir)
    try:
        for round_ in range(rounds):
            order = ["w1", "w2", "ideal", "threads", "naive"]
            order = order if round_ % 2 == 0 else order[::-1]
            for method in order:
                _run_method(method, runs, loads, source, workdir, naive_rounds, pin, ideal)
            controls.append(host_scaling())
    finally:
        ideal.close()

    def med(method: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[method])

    # w1 and w2 of one round run back to back, so their ratio cancels the host's slow drifts in speed
    paired = [one["wall"] / two["wall"] for one, two in zip(runs["w1"], runs["w2"])]
    ceiling = [one["wall"] / two["wall"] for one, two in zip(runs["w1"], runs["ideal"])]
    threaded = [one["wall"] / two["wall"] for one, two in zip(runs["w1"], runs["threads"])]

    return {
        "naive_cpu": med("naive", "cpu"),
        "naive_wall": med("naive", "wall"),
        "w1_cpu": med("w1", "cpu"),
        "w1_wall": med("w1", "wall"),
        "w1_wall_min": min(r["wall"] for r in runs["w1"]),
        "w2_wall": med("w2", "wall"),
        "w2_wall_min": min(r["wall"] for r in runs["w2"]),
        "w2_cpu_parent": med("w2", "cpu"),
        "w2_cpu_workers": med("w2", "children_cpu"),
        "w2_speedup_paired": statistics.median(paired),
        "w2_speedup_rounds": paired,
        "ideal_wall": med("ideal", "wall"),
        "ideal_speedup_paired": statistics.median(ceiling),
        "ideal_speedup_rounds": ceiling,
        "threads_wall": med("threads", "wall"),
        "threads_speedup_paired": statistics.median(threaded),
        "w1_faults": med("w1", "faults"),
        "w2_faults_parent": med("w2", "faults"),
        "w2_faults_worker": med("w2", "children_faults"),
        "fork_ms": fork_ms(),
        "rss_anon_mb": _rss_anon_mb(),
        "host_cpu_scaling": statistics.median(controls),
        "host_cpu_scaling_rounds": controls,
        "host_other_cores_busy": statistics.median(loads) if loads else None,
        "rounds": rounds,
        "naive_rounds": len(runs["naive"]),
    }


def _run_method(method, runs, loads, source, workdir, naive_rounds, pin, ideal) -> None:
    if method == "naive":
        if len(runs["naive"]) < naive_rounds:
            with one_core(pin):
                runs["naive"].append(_timed(lambda: naive.convert_dataset(source, workdir / "naive.json")))
    elif method == "w1":
        with one_core(pin):
            runs["w1"].append(_timed(lambda: vosconv_convert(source, workdir / "w1.json", 1)))
    elif method == "ideal":
        gc.collect()
        runs["ideal"].append(ideal.run())
    elif method == "threads":
        runs["threads"].append(_timed(lambda: vosconv_convert(source, workdir / "threads.json", 2, TwoThreads())))
    else:
        with HostLoad() as load:
            runs["w2"].append(_timed(lambda: vosconv_convert(source, workdir / "w2.json", 2)))
        if load.other is not None:
            loads.append(load.other)


def grown(source: Path, workdir: Path, copies: int, pairs: int = 5) -> dict:
    """1 vs 2 workers on ``copies`` times the dataset (hard links): how the ratio moves once the
    fixed costs of a run (planning, forking, finalising) are small beside the work."""
    big = workdir / "grown"
    shutil.rmtree(big, ignore_errors=True)
    replicate(source, big, copies)
    output = workdir / "grown.json"
    vosconv_convert(big, output, 1)  # warm: the file cache holds the copies' directory entries
    runs = []
    for _ in range(pairs):
        with one_core(True):
            one = _timed(lambda: vosconv_convert(big, output, 1))
        two = _timed(lambda: vosconv_convert(big, output, 2))
        runs.append((one["wall"], two["wall"]))
    shutil.rmtree(big, ignore_errors=True)
    output.unlink(missing_ok=True)
    return {
        "copies": copies,
        "w1_wall": statistics.median(a for a, _ in runs),
        "w2_wall": statistics.median(b for _, b in runs),
        "w2_speedup_paired": statistics.median(a / b for a, b in runs),
        "w2_speedup_rounds": [a / b for a, b in runs],
    }


def measure(
    spec: DatasetSpec, source: Path, workdir: Path, rounds: int, naive_rounds: int, pin: bool = True, grow: int = 0
) -> dict:
    """Guard, then time one dataset; the figures for the tables. ``grow``: also time 1 vs 2 workers on that many copies."""
    out = workdir / spec.name
    checked = verify(source, out / "verify", pin)
    timing = time_dataset(source, out, rounds, naive_rounds, pin, (checked.pop("naive_run"),))
    if grow:
        timing["grown"] = {**grown(source, out, grow), "frames": spec.total_frames * grow}
    frames = spec.total_frames
    gz = out / "sizes.json.gz"
    with one_core(pin):
        gz_run = _timed(lambda: vosconv_convert(source, gz, 1))
    plain = out / "verify" / "vosconv-w1.json"
    result = {
        "spec": asdict(spec),
        "frames": frames,
        "shard_videos": shard_sizes(source),
        "checked": checked,
        **timing,
        "naive_ms_per_frame": timing["naive_cpu"] / frames * 1e3,
        "w1_ms_per_frame": timing["w1_cpu"] / frames * 1e3,
        "w1_wall_ms_per_frame": timing["w1_wall"] / frames * 1e3,
        "w2_wall_ms_per_frame": timing["w2_wall"] / frames * 1e3,
        "ratio_vs_naive": timing["naive_cpu"] / timing["w1_cpu"],
        "w2_speedup": timing["w1_wall"] / timing["w2_wall"],
        "w1_frames_per_s": frames / timing["w1_wall"],
        "w2_frames_per_s": frames / timing["w2_wall"],
        "ideal_wall_ms_per_frame": timing["ideal_wall"] / frames * 1e3,
        "gz_cpu_ms_per_frame": gz_run["cpu"] / frames * 1e3,
        "sizes": {
            "png_folder": folder_bytes(source / "Annotations", ".png"),
            "jpeg_folder": folder_bytes(source / "JPEGImages", ".jpg"),
            "vosconv_json": plain.stat().st_size,
            "vosconv_json_gz": gz.stat().st_size,
            "naive_json": (out / "verify" / "naive.json").stat().st_size,
        },
    }
    shutil.rmtree(out, ignore_errors=True)
    return result


def run(
    specs: tuple[DatasetSpec, ...],
    cache: Path,
    workdir: Path,
    rounds: int,
    naive_rounds: int,
    pin: bool = True,
    isolated: bool = True,
    grow: int = 0,
) -> dict:
    """Every dataset, each measured in a fresh interpreter when ``isolated``.

    A fresh process is what a user's ``vosconv`` run is: forking two workers from the benchmark
    process (hundreds of MB of earlier test data) would make the 2-worker figure look worse.
    """
    results = {}
    for spec in specs:
        source = cached_dataset(cache, spec)
        copies = grow if spec.height >= 1080 else 0  # the scaling row is for the 1080p dataset
        if not isolated:
            results[spec.name] = measure(spec, source, workdir, rounds, naive_rounds, pin, copies)
            continue
        payload = {"spec": asdict(spec), "source": str(source), "workdir": str(workdir), "rounds": rounds}
        payload.update({"naive_rounds": naive_rounds, "pin": pin, "grow": copies})
        args = [sys.executable, "-m", "benchmarks.bench_convert", json.dumps(payload)]
        done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"convert benchmark of {spec.name} failed ({done.returncode}):\n{done.stderr[-6000:]}")
        results[spec.name] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def shard_sizes(source: Path) -> list[int]:
    """How many videos each shard of the COCO writer's plan holds (for the report)."""
    from converters import api

    writer = api.open_writer("coco")
    with api.open_reader(source, "mose") as reader:
        return [len(s.refs) for s in writer.plan(reader.list_videos())]


def main(argv: list[str]) -> int:
    """``python -m benchmarks.bench_convert '<json>'``: measure one dataset, print the result as JSON."""
    payload = json.loads(argv[0])
    spec = DatasetSpec(**{**payload["spec"], "objects": tuple(payload["spec"]["objects"])})
    result = measure(
        spec,
        Path(payload["source"]),
        Path(payload["workdir"]),
        payload["rounds"],
        payload["naive_rounds"],
        payload["pin"],
        payload.get("grow", 0),
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
