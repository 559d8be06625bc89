"""The benchmark suite's correctness guards on tiny data, so ``make bench`` cannot rot (no timing assertions).

Each guard compares a vosconv fast path with the naive baseline the benchmark times it
against: PNG decode (filter 0 and adaptive filters) with Pillow, RLE encode and decode with
per-object pycocotools, PNG encode round trips, file-to-JSON, and a whole MOSE-layout
dataset converted by the naive script and by ``converters.convert`` with 1 and 2 workers
(and on two threads, the benchmark's control).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import __main__ as cli
from benchmarks import bench_convert, bench_frames, bench_memory, data, report
from benchmarks.timing import Settings, compare

# pycocotools 2.0.11's mask.decode trips numpy 2's __array__(copy=) deprecation; not ours to fix here
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

TINY = {"tiny": (37, 53), "small": (48, 64)}  # widths not multiples of 8, and one that is


@pytest.fixture(scope="module")
def cases():
    return data.make_frames(TINY, objects=(1, 3, 8), seed=7)


def test_frames_are_deterministic_and_hold_every_object(cases):
    again = data.make_frames(TINY, objects=(1, 3, 8), seed=7)
    for case, twin in zip(cases, again):
        assert case.png == twin.png and case.png_adaptive == twin.png_adaptive
        assert set(np.unique(case.label).tolist()) == set(range(case.objects + 1))
    assert any(t != 0 for case in cases for t in data.png_filter_types(case.png_adaptive))
    assert all(data.png_filter_types(case.png) == [0] for case in cases)


def test_frame_guards_pass_on_every_fast_path(cases, tmp_path):
    checked = bench_frames.verify(cases, tmp_path)
    assert checked == {
        "png-decode": 2 * len(cases),
        "rle-encode": len(cases),
        "rle-decode": len(cases),
        "png-encode": len(cases),
        "frame-e2e": len(cases),
    }


def test_frame_guard_catches_a_wrong_fast_path(cases, tmp_path, monkeypatch):
    real = bench_frames.rle.encode

    def off_by_one(label):
        masks = real(label)
        return [type(m)(m.object_id, m.counts, m.area + 1, m.bbox) for m in masks]

    monkeypatch.setattr(bench_frames.rle, "encode", off_by_one)
    with pytest.raises(AssertionError, match="differs from pycocotools"):
        bench_frames.verify(cases[:1], tmp_path, ("rle-encode",))


def test_frame_timing_and_tables_run(cases, tmp_path):
    results = bench_frames.run(cases[:2], tmp_path, Settings(samples=1, min_time=0.0))
    assert set(results) == set(bench_frames.GROUPS)
    stats = [{"name": c.name, **c.stats} for c in cases[:2]]
    text = "\n".join(t for _, t in report.frame_tables(results, stats))
    assert "png.decode" in text and "ratio" in text
    goals = report.goals({"frames": results})
    assert {g["status"] for g in goals} <= {"PASS", "MISS", "not run"}
    assert report.goals_table(goals).count("\n") == len(goals) + 1


def test_timing_compare_reports_every_method():
    timings = compare({"a": lambda: sum(range(100)), "b": lambda: sum(range(1000))}, Settings(samples=3, min_time=0.0005))
    assert set(timings) == {"a", "b"}
    assert all(t.samples == 3 and t.median > 0 and t.calls >= 3 for t in timings.values())


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    spec = data.DatasetSpec("tiny", 40, 58, videos=3, frames=3, objects=(2, 5))
    return data.write_dataset(tmp_path_factory.mktemp("bench") / "tiny", spec), spec


def test_dataset_guard_naive_script_equals_vosconv(dataset, tmp_path):
    source, spec = dataset
    checked = bench_convert.verify(source, tmp_path)
    assert checked["videos"] == spec.videos and checked["masks"] > 0
    naive_json = json.loads((tmp_path / "naive.json").read_text())
    assert len(naive_json["videos"]) == spec.videos
    assert sum(bench_convert.shard_sizes(source)) == spec.videos


def test_dataset_generation_is_cached_and_replicated(tmp_path):
    spec = data.DatasetSpec("tiny", 24, 30, videos=2, frames=2, objects=(1,))
    root = data.cached_dataset(tmp_path / "cache", spec)
    assert data.cached_dataset(tmp_path / "cache", spec) == root
    big = data.replicate(root, tmp_path / "big", 3)
    assert data.folder_bytes(big / "Annotations", ".png") == 3 * data.folder_bytes(root / "Annotations", ".png")
    assert len(list((big / "JPEGImages").iterdir())) == 3 * spec.videos


def test_memory_driver_runs(dataset, tmp_path):
    source, spec = dataset
    measured = bench_memory.measure(source, tmp_path / "out.json", 1)
    assert measured["frames"] == spec.total_frames
    assert measured["parent_hwm_kb"] > 0


def test_memory_driver_counts_the_workers(dataset, tmp_path):
    """With 2 workers the child's peak is there: the driver waits for workers that exit after convert returns."""
    source, _ = dataset
    assert bench_memory.measure(source, tmp_path / "out.json", 2)["workers_maxrss_kb"] > 0


def test_grown_dataset_timing_runs(dataset, tmp_path):
    source, _ = dataset
    grown = bench_convert.grown(source, tmp_path, copies=2, pairs=1)
    assert grown["copies"] == 2 and grown["w1_wall"] > 0 and grown["w2_wall"] > 0
    assert len(grown["w2_speedup_rounds"]) == 1
    assert not (tmp_path / "grown").exists()


def test_two_thread_control_keeps_item_order_and_reraises():
    done = []
    control = bench_convert.TwoThreads()
    assert control.run(lambda x: x * x, list(range(20)), on_done=lambda i, r: done.append((i, r))) == [x * x for x in range(20)]
    assert sorted(done) == [(i, i * i) for i in range(20)]

    def seven_fails(x):
        if x == 7:
            raise ValueError("seven")
        return x

    with pytest.raises(ValueError, match="seven"):
        control.run(seven_fails, list(range(20)))


def test_dataset_measurement_reports_what_a_second_worker_costs(dataset, tmp_path):
    source, spec = dataset
    result = bench_convert.measure(spec, source, tmp_path, rounds=1, naive_rounds=1, pin=False)
    assert result["fork_ms"] > 0 and result["w2_faults_worker"] > 0 and result["threads_speedup_paired"] > 0
    titles = [title for title, _ in report.convert_tables({"tiny": result})]
    assert any(title.startswith("What a second worker costs") for title in titles)


def test_cli_groups():
    assert cli.parse_args(["--only", "frames"]).groups == bench_frames.GROUPS
    assert cli.parse_args(["--quick"]).groups == cli.ALL
    assert cli.parse_args(["--only", "convert", "rle-encode"]).groups == ("convert", "rle-encode")
    with pytest.raises(SystemExit):
        cli.parse_args(["--only", "nothing"])


def test_the_startup_group_times_every_command_against_the_numpy_control(tmp_path):
    from benchmarks import bench_startup

    result = bench_startup.run(tmp_path, quick=True)
    assert set(result["medians_s"]) == {"python -c pass", "import numpy", "--help", "formats", "convert 4 frames"}
    assert [g["target"] for g in result["goals"]] == ["<= 1.5x", "<= 1.5x", "<= 3.0x"]
    assert json.loads((tmp_path / "four.json").read_text())["videos"]  # the conversion really converted


def test_the_sav_group_checks_the_same_frames_then_times_both_and_gives_the_cpus_back(tmp_path):
    import os

    from benchmarks import bench_sav

    cpus = os.sched_getaffinity(0)
    result = bench_sav.run(tmp_path, quick=True)
    assert os.sched_getaffinity(0) == cpus  # later groups run on every core again
    assert [g["target"] for g in result["goals"]] == [">= 2x", ">= 2x", "<= 1.10x (flat)"]
    assert all(isinstance(g["value"], float) for g in result["goals"])
    assert [row[0] for row in result["tables"][1]["rows"]] == ["sav", "parquet", "hdf5"]  # peak memory, N and 4N frames
    headers = result["tables"][0]["headers"]
    assert {"SAM 2 script ms/frame", "control: SAM 2 steps, streamed", "control: vosconv sparse decode only"} <= set(headers)
    assert all("against SAM 2's steps streamed" in g["note"] and "ceiling" in g["note"] for g in result["goals"][:2])


def test_the_sav_group_refuses_to_time_extractions_whose_frames_differ(tmp_path, monkeypatch):
    from benchmarks import bench_sav

    mp4 = bench_sav.make_mp4(tmp_path / "v.mp4", 64, 48, 8)
    assert bench_sav.verify(mp4, tmp_path / "same") == 2  # SAM 2's script, its steps streamed and vosconv agree

    def first_frame_only(mp4, out):  # right bytes, too few files: the streamed control must match the script too
        return bench_sav.sam2_extract(mp4, out)[:1]

    monkeypatch.setitem(bench_sav.EXTRACTIONS, "sam2-streamed", first_frame_only)
    with pytest.raises(AssertionError, match="sam2-streamed"):
        bench_sav.verify(mp4, tmp_path / "differ")


def test_the_scale_benchmark_times_the_phases_and_reads_its_outputs_back(tmp_path):
    """``python -m benchmarks.bench_scale`` (opt-in): each conversion it times converts every video it made, and the
    loader opens the Parquet output of each size."""
    from benchmarks import bench_scale

    results = bench_scale.run(tmp_path, sizes=(2, 4), writers=("parquet",), workers=(1,))
    assert [r["videos"] for r in results["rows"]] == [2, 4]
    assert all({"listing", "shards", "finalize", "publish"} <= set(r["phases"]) for r in results["rows"])
    assert [r["videos"] for r in results["loader"]] == [2, 4]
    assert "bytes per video (2 -> 4 videos)" in bench_scale.tables(results)
