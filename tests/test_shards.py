"""The pieces the sharded formats share: manifest, planning, hashing, atomic writes, per-process handles."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from converters.errors import SourceError
from converters.formats.parquet.writer import ParquetWriter
from converters.formats.sharded import manifest as shards
from converters.model import Category, DatasetInfo
from converters.reader import VideoRef
from converters.sources.checksums import sha256
from converters.sources.handles import HandleCache


def manifest() -> shards.Manifest:
    return shards.Manifest(
        writer="parquet",
        options={"images": True, "shard_bytes": 100},
        source={"format": "davis", "split": "train", "image_root": None, "attributes": {"year": "2017"}},
        categories=(Category(1, "person", None), Category(2, "dog", "animal")),
        shards=(shards.ShardEntry("part-00000.parquet", ("a", "b"), 5, 10, "0" * 64),),
        videos=(
            shards.VideoEntry("a", 0, 3, 8, 6, ((0, 2),), (1, 2)),
            shards.VideoEntry("b", 0, 2, 8, 6, (), ()),
        ),
        vosconv_version="9.9",
    )


def test_names_sort_in_shard_order():
    assert shards.shard_name(3, ".h5") == "part-00003.h5"
    assert sorted(shards.shard_name(i, ".parquet") for i in (10, 2, 100000)) == [
        shards.shard_name(i, ".parquet") for i in (2, 10, 100000)
    ]


def test_ranges():
    assert shards.ranges([]) == []
    assert shards.ranges([0, 1, 2, 5, 7, 8]) == [[0, 3], [5, 6], [7, 9]]
    entry = shards.VideoEntry("v", 0, 10, 1, 1, ((0, 3), (5, 6)), ())
    assert entry.annotated_indices == [0, 1, 2, 5]


def test_shards_are_planned_by_bytes_and_never_split_a_video():
    refs = [VideoRef(f"v{i}", size) for i, size in enumerate([5, 5, 20, 1, 1, 1])]

    def plan(shard_bytes):
        return [[r.name for r in s.refs] for s in ParquetWriter(ParquetWriter.Options(shard_bytes=shard_bytes)).plan(refs)]

    assert plan(10) == [["v0", "v1"], ["v2"], ["v3", "v4", "v5"]]
    assert ParquetWriter().plan([]) == []
    assert len(plan(1 << 30)) == 1


def test_manifest_round_trip(tmp_path):
    shards.save_manifest(tmp_path, manifest())
    loaded = shards.load_manifest(tmp_path, "parquet")
    assert loaded == manifest()
    value = json.loads((tmp_path / "manifest.json").read_text())
    assert value["format"] == "vosconv-parquet"
    assert value["format_version"] == shards.FORMAT_VERSION
    assert value["writer"] == {"name": "parquet", "options": {"images": True, "shard_bytes": 100}}
    assert not list(tmp_path.glob("*.tmp"))
    info = loaded.info("parquet", None)
    assert info == DatasetInfo("parquet", "train", manifest().categories, None, (("year", "2017"),))
    assert shards.peek_format(tmp_path) == "vosconv-parquet"


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        (None, "no manifest.json"),
        ("{not json", "not valid JSON"),
        ('{"format": "vosconv-parquet"}', "malformed manifest"),
    ],
)
def test_bad_manifest_is_a_source_error(tmp_path, text, cause):
    if text is not None:
        (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(SourceError, match=cause) as error:
        shards.load_manifest(tmp_path)
    assert error.value.path == str(tmp_path / "manifest.json")


def test_manifest_checks(tmp_path):
    shards.save_manifest(tmp_path, manifest())
    with pytest.raises(SourceError, match="a parquet output, not hdf5"):
        shards.load_manifest(tmp_path, "hdf5")
    value = json.loads((tmp_path / "manifest.json").read_text())
    value["format_version"] = shards.FORMAT_VERSION + 1
    (tmp_path / "manifest.json").write_text(json.dumps(value))
    with pytest.raises(SourceError, match="newer"):
        shards.load_manifest(tmp_path)
    value["format_version"] = 1
    value["videos"][0]["shard"] = 3
    (tmp_path / "manifest.json").write_text(json.dumps(value))
    with pytest.raises(SourceError, match="shard 3"):
        shards.load_manifest(tmp_path)


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("part-00000.parquet", True),  # the older Parquet layout, and HDF5's
        ("data/train-00000-of-00002.parquet", True),  # the Hugging Face Hub's
        ("data/../x.parquet", False),
        ("../x.parquet", False),
        ("other/x.parquet", False),
        ("data/sub/x.parquet", False),
        ("data/.x.parquet", False),
        (".x.parquet", False),
        ("data/", False),
        ("/data/x.parquet", False),
        ("data\\x.parquet", False),
        ("c:x.parquet", False),
    ],
)
def test_a_shard_lies_in_the_output_folder_or_its_data_folder(tmp_path, name, allowed):
    shard = dataclasses.replace(manifest().shards[0], file=name)
    shards.save_manifest(tmp_path, dataclasses.replace(manifest(), shards=(shard,)))
    if allowed:
        assert shards.load_manifest(tmp_path).shards[0].file == name
    else:
        with pytest.raises(SourceError, match="plain names"):
            shards.load_manifest(tmp_path)


def test_verify_shard(tmp_path):
    data = b"shard bytes"
    (tmp_path / "part-00000.h5").write_bytes(data)
    entry = shards.ShardEntry("part-00000.h5", (), 0, len(data), hashlib.sha256(data).hexdigest())
    shards.verify_shard(tmp_path, entry)
    assert sha256(tmp_path / "part-00000.h5") == entry.sha256
    (tmp_path / "part-00000.h5").write_bytes(b"shard bytez")
    with pytest.raises(SourceError, match="sha256") as error:
        shards.verify_shard(tmp_path, entry)
    assert "part-00000.h5" in str(error.value)
    (tmp_path / "part-00000.h5").write_bytes(b"short")
    with pytest.raises(SourceError, match="bytes"):
        shards.verify_shard(tmp_path, entry)
    os.unlink(tmp_path / "part-00000.h5")
    with pytest.raises(SourceError, match="missing"):
        shards.verify_shard(tmp_path, entry)


def test_write_atomic_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "x.json"

    def fail(file):
        file.write(b"half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        shards.write_atomic(target, fail)
    assert not target.exists()
    shards.write_atomic(target, lambda file: file.write(b"whole"))
    assert target.read_bytes() == b"whole"


def _open_counter(path: str) -> list:
    return [path]


def test_handle_cache_is_per_process():
    cache = HandleCache(_open_counter)
    first = cache.get("a")
    assert cache.get("a") is first
    clone = pickle.loads(pickle.dumps(cache))
    assert clone._open == {}  # handles never travel
    assert clone.get("a") == ["a"] and clone.get("a") is not first
    cache._pid = -1  # as in a forked child: the parent's handles are dropped
    assert cache.get("a") is not first


class _Closing:
    def __init__(self, path: str) -> None:
        self.path, self.closed = path, False

    def close(self) -> None:
        self.closed = True


def test_handle_cache_keeps_a_bounded_number_of_files_open():
    """Random reads over more shards than the bound close the one used longest ago, never an fd per shard ever read."""
    cache = HandleCache(_Closing, max_open=2)
    a, b = cache.get("a"), cache.get("b")
    assert cache.get("a") is a  # a used again: b is now the oldest
    c = cache.get("c")
    assert b.closed and not a.closed and not c.closed
    assert list(cache._open) == ["a", "c"]
    again = cache.get("b")
    assert again is not b and not again.closed and a.closed
    clone = pickle.loads(pickle.dumps(cache))
    assert clone.max_open == 2
    cache.close()
    assert c.closed and again.closed


def test_sniff(tmp_path):
    assert shards.sniff(tmp_path, "parquet").score == 0
    shards.save_manifest(tmp_path, manifest())
    assert shards.sniff(tmp_path, "parquet").score == 10
    assert shards.sniff(tmp_path, "hdf5").score == 0
    assert shards.sniff(tmp_path / "manifest.json", "parquet").score == 0


@st.composite
def annotated_runs(draw):
    runs, position = [], 0
    for _ in range(draw(st.integers(0, 6))):
        start = position + draw(st.integers(0, 4))
        position = start + draw(st.integers(1, 5))
        runs.append((start, position))
    return tuple(runs), position + draw(st.integers(0, 3))


@given(annotated_runs(), st.integers(0, 40), st.integers(0, 40), st.integers(1, 4))
def test_annotated_slice_and_flags_follow_the_runs(runs_and_frames, start, length, step):
    runs, frames = runs_and_frames
    entry = shards.VideoEntry("v", 0, frames, 4, 4, runs, ())
    listed = entry.annotated_indices
    assert entry.annotated_count == len(listed)
    assert entry.annotated_slice(start, start + length, step) == listed[start : start + length : step]
    flags = np.zeros(frames, bool)
    flags[listed] = True
    assert entry.is_annotated(np.arange(frames, dtype=np.int64)).tolist() == flags.tolist()


class _CountedRuns(tuple):
    """Runs that count how often they are walked."""

    walks = 0

    def __iter__(self):
        type(self).walks += 1
        return super().__iter__()


def test_is_annotated_walks_the_runs_once_per_video_not_once_per_clip():
    # SA-V with its unannotated frames listed has a run every 4th frame: 1000 runs were listed again per clip (~145 us)
    runs = _CountedRuns((i, i + 1) for i in range(0, 4000, 4))
    entry = shards.VideoEntry("v", 0, 4000, 4, 4, runs, ())
    first = entry.is_annotated(np.arange(0, 8, dtype=np.int64))
    walks = _CountedRuns.walks
    for start in range(0, 80, 8):
        entry.is_annotated(np.arange(start, start + 8, dtype=np.int64))
    assert _CountedRuns.walks == walks
    assert first.tolist() == [True, False, False, False, True, False, False, False]
    assert pickle.loads(pickle.dumps(entry)).is_annotated(np.array([3, 4], np.int64)).tolist() == [False, True]
