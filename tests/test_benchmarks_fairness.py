"""The benchmarks against SAM 2 time both sides doing the same work under the same conditions (no timing assertions).

Each test pins one condition that once favoured a side: the decoders' thread counts on the
one-core SA-V timing, and the training-reads clip order that let the Parquet loader reuse the
row groups it had just read.
"""

from __future__ import annotations

import itertools
import os

import pytest

from benchmarks import bench_sav


def test_sam2_extraction_decodes_on_one_thread_like_vosconv_inside_one_core(tmp_path, monkeypatch):
    """OpenCV picks its FFmpeg thread count from the CPUs it saw at import, not from the pin: it must be told."""
    cv2 = pytest.importorskip("cv2")
    mp4 = bench_sav.make_mp4(tmp_path / "v.mp4", 64, 48, 8)
    real, threads = cv2.VideoCapture, []

    def recording(*args):
        capture = real(*args)
        threads.append(capture.get(cv2.CAP_PROP_N_THREADS))
        return capture

    monkeypatch.setattr(cv2, "VideoCapture", recording)
    with bench_sav.one_core():
        bench_sav.sam2_extract(mp4, tmp_path / "script")
        bench_sav.sam2_extract_streamed(mp4, tmp_path / "streamed")
    assert threads == [1, 1]


def test_the_sav_check_covers_the_every_frame_control_it_times(tmp_path):
    mp4 = bench_sav.make_mp4(tmp_path / "v.mp4", 64, 48, 8)
    assert bench_sav.verify(mp4, tmp_path / "runs") == 2
    written = sorted(p.name for p in (tmp_path / "runs" / "vosconv-every-frame").iterdir())
    assert written == sorted(p.name for p in (tmp_path / "runs" / "sam2-script").iterdir())


# --------------------------------------------------------------------------------------------
# training reads (benchmarks/bench_training.py)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """A small camera-like MOSE set (2 videos of 20 frames, as ``--quick``) and its Parquet and HDF5 conversions."""
    from benchmarks.bench_loading import write_dataset
    from converters import api

    work = tmp_path_factory.mktemp("training")
    source = write_dataset(work / "source", 2, 20, 48, 64)
    out = {}
    for fmt in ("parquet", "hdf5"):
        out[fmt] = work / fmt
        api.convert(source, out[fmt], to=fmt, from_="mose", reader_options={"split": "train"})
    return source / "train", out


def _names(root):
    return sorted(p.name for p in (root / "JPEGImages").iterdir())


def test_no_timed_clip_gets_the_parquet_row_groups_the_clip_before_it_read(shards, monkeypatch):
    """The Parquet loader keeps the last row groups it read: on 2 videos, random clips hit them a quarter of the time."""
    pq = pytest.importorskip("pyarrow.parquet")
    from benchmarks import bench_training
    from converters.loading import TrainingClips

    root, out = shards
    picks = bench_training.draw_picks(_names(root), 20, 8)
    real, reads = pq.ParquetFile.read_row_groups, []

    def counting(self, groups, columns=None, **kwargs):
        if columns and any(c.startswith(("image", "objects")) for c in columns):
            reads.append(tuple(groups))
        return real(self, groups, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", counting)
    clips = TrainingClips(out["parquet"], bench_training.CLIP)
    for _ in range(2):  # round after round, as the timing reads them
        for video, start in picks:
            clips.clip(video, range(start, start + bench_training.CLIP))
    assert len(reads) == 2 * len(picks)
    for worker in (0, 1):  # and in each DataLoader worker's order
        order = [bench_training._worker_pick(i, picks) for i in range(worker, 4 * len(picks), 2)]
        assert sorted(order[: len(picks)]) == sorted(picks)  # every clip once per pass
        assert all(bench_training._row_groups(a) != bench_training._row_groups(b) for a, b in itertools.pairwise(order))


def test_the_clip_check_compares_every_format_with_sam2s_path_and_catches_a_missing_object(shards, monkeypatch):
    from benchmarks import bench_training
    from converters.loading import TrainingClips

    root, out = shards
    pick = (_names(root)[0], 3)
    for fmt in ("parquet", "hdf5"):
        bench_training.check_same_clip(root, out[fmt], pick, (24, 32))
    real = TrainingClips.clip

    def one_object_short(self, video, indices, object_ids=None):
        item = real(self, video, indices, object_ids)
        return {**item, "object_ids": item["object_ids"][1:], "masks": item["masks"][:, 1:]}

    monkeypatch.setattr(TrainingClips, "clip", one_object_short)
    with pytest.raises(AssertionError, match="not all listed"):
        bench_training.check_same_clip(root, out["hdf5"], pick, (24, 32))


def test_the_dataloader_figure_is_a_second_pass_of_the_same_workers(tmp_path):
    """A first pass pays the forks and the files' opening, a fixed cost that weighed most on the fastest path."""
    from benchmarks import bench_training

    log = tmp_path / "reads"

    def read(index):
        with open(log, "a") as file:
            file.write(f"{os.getpid()} {index}\n")

    result = bench_training._loader(read, 4)
    assert result["clips_per_s"] > 0 and result["worker_rss_mb"] > 0
    lines = [line.split() for line in log.read_text().splitlines()]
    assert sorted(int(i) for _, i in lines) == [0, 0, 1, 1, 2, 2, 3, 3]  # every item read twice
    assert len({pid for pid, _ in lines}) == 2  # by the same two workers
