"""The ``stats`` benchmark's guard on tiny data, so ``make bench`` cannot rot (no timing assertions)."""

from __future__ import annotations

import pytest

from benchmarks import bench_stats, data

TINY = data.DatasetSpec("tiny", 37, 53, videos=2, frames=3, objects=(1, 4))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return data.write_dataset(tmp_path_factory.mktemp("bench") / "tiny", TINY)


def test_stats_and_the_pillow_script_agree_before_timing(tiny, tmp_path):
    result = bench_stats.measure(tiny, tmp_path / "tiny.json", rounds=1, naive_rounds=1)
    assert result["frames"] == 6 and result["masks"] == bench_stats.naive_stats(tiny)[0] > 0
    assert all(result[k] > 0 for k in ("coco_s", "folder_s", "naive_s"))


def test_the_guard_catches_a_disagreement(tiny, tmp_path, monkeypatch):
    real = bench_stats.naive_stats
    monkeypatch.setattr(bench_stats, "naive_stats", lambda root: (real(root)[0], real(root)[1] + 1))
    with pytest.raises(AssertionError, match="the Pillow script"):
        bench_stats.measure(tiny, tmp_path / "tiny.json", rounds=1, naive_rounds=1)
