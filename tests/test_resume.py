"""Crash safety: a conversion killed with SIGKILL resumes into the same bytes; Ctrl-C keeps finished shards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from converters import api
from converters.journal import JOURNAL
from converters.pipeline import Interrupted, staging_path
from converters.writers.coco import CocoWriter

# A run that is slow enough to be killed halfway: one video per shard, a pause per video.
SLOW_RUN = textwrap.dedent(
    """
    import sys, time
    from converters import api
    from converters.readers.mose import MoseReader
    from converters.writers.coco import CocoWriter

    CocoWriter.shard_videos = 1
    read = MoseReader.read_video
    MoseReader.read_video = lambda self, ref: (time.sleep(0.4), read(self, ref))[1]
    api.convert(sys.argv[1], sys.argv[2], to="coco", reader_options={"split": "train"}, workers=int(sys.argv[3]))
    """
)


@pytest.fixture
def one_video_per_shard(monkeypatch):
    monkeypatch.setattr(CocoWriter, "shard_videos", 1)


@pytest.fixture(scope="module")
def big_mose(tmp_path_factory):
    from converters.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("big") / "mose", "mose", scale=3)


def journal_lines(output: Path) -> int:
    path = staging_path(output) / JOURNAL
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_then_resume_gives_the_same_bytes(big_mose, tmp_path, one_video_per_shard, workers):
    reference = tmp_path / "reference.json"
    api.convert(big_mose, reference, to="coco", reader_options={"split": "train"})

    output = tmp_path / "out.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, str(big_mose), str(output), str(workers)], env=env, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while journal_lines(output) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the whole process group: workers too
    process.wait()
    done = journal_lines(output)
    assert 2 <= done < 9, "the run should have been killed halfway"
    assert not output.exists()

    summary = api.convert(big_mose, output, to="coco", reader_options={"split": "train"}, resume=True)
    assert summary.resumed >= done - (workers - 1)  # a torn last line is redone, never trusted
    assert summary.resumed < summary.shards
    assert output.read_bytes() == reference.read_bytes()
    assert not staging_path(output).exists()


def test_resume_redoes_a_shard_whose_file_was_damaged(big_mose, tmp_path, one_video_per_shard, monkeypatch):
    reference = tmp_path / "reference.json"
    api.convert(big_mose, reference, to="coco", reader_options={"split": "train"})
    output = tmp_path / "out.json"
    calls = {"n": 0}
    original = CocoWriter.write_shard

    def crash_on_fourth(self, videos, shard, staging, info):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return original(self, videos, shard, staging, info)

    monkeypatch.setattr(CocoWriter, "write_shard", crash_on_fourth)
    with pytest.raises(Interrupted, match="3 of 9 shards are complete") as stopped:
        api.convert(big_mose, output, to="coco", reader_options={"split": "train"})
    assert "--resume" in str(stopped.value)
    monkeypatch.setattr(CocoWriter, "write_shard", original)

    staging = staging_path(output)
    entries = [json.loads(line) for line in (staging / JOURNAL).read_text().splitlines()]
    damaged = staging / entries[1]["files"][0][0]
    damaged.write_text(damaged.read_text().replace("0", "1", 1))
    summary = api.convert(big_mose, output, to="coco", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 2
    assert output.read_bytes() == reference.read_bytes()


def test_resume_ignores_shards_of_a_different_plan(big_mose, tmp_path, one_video_per_shard, monkeypatch):
    output = tmp_path / "out.json"
    original = CocoWriter.write_shard
    calls = {"n": 0}

    def crash_on_third(self, videos, shard, staging, info):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, videos, shard, staging, info)

    monkeypatch.setattr(CocoWriter, "write_shard", crash_on_third)
    with pytest.raises(Interrupted):
        api.convert(big_mose, output, to="coco", reader_options={"split": "train"})
    monkeypatch.setattr(CocoWriter, "write_shard", original)
    summary = api.convert(
        big_mose, output, to="coco", reader_options={"split": "train"}, writer_options={"compresslevel": 1}, resume=True
    )
    assert summary.resumed == 0  # other writer options: nothing reused


def test_without_resume_a_leftover_staging_folder_is_started_over(big_mose, tmp_path, one_video_per_shard, monkeypatch):
    output = tmp_path / "out.json"
    original = CocoWriter.write_shard
    monkeypatch.setattr(CocoWriter, "write_shard", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(Interrupted, match="0 of 9"):
        api.convert(big_mose, output, to="coco", reader_options={"split": "train"})
    assert staging_path(output).is_dir()
    monkeypatch.setattr(CocoWriter, "write_shard", original)
    summary = api.convert(big_mose, output, to="coco", reader_options={"split": "train"})
    assert summary.resumed == 0 and output.is_file() and not staging_path(output).exists()


def test_an_existing_output_is_refused_without_resume_or_overwrite(sample_root, tmp_path):
    output = tmp_path / "o.json"
    api.convert(sample_root["mose"], output, to="coco", reader_options={"split": "valid"})
    with pytest.raises(Exception, match="already exists"):
        api.convert(sample_root["mose"], output, to="coco", reader_options={"split": "valid"})
    before = output.read_bytes()
    api.convert(sample_root["mose"], output, to="coco", reader_options={"split": "valid"}, resume=True)
    assert output.read_bytes() == before


def test_ctrl_c_in_the_cli_says_what_was_complete(big_mose, tmp_path, capsys, monkeypatch, one_video_per_shard):
    from converters.cli import main

    calls = {"n": 0}
    original = CocoWriter.write_shard

    def crash_on_second(self, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(CocoWriter, "write_shard", crash_on_second)
    code = main(["convert", str(big_mose), "-o", str(tmp_path / "o.json"), "--to", "coco", "--split", "train"])
    assert code == 130
    assert "1 of 9 shards are complete" in capsys.readouterr().err
    assert not list(staging_path(tmp_path / "o.json").rglob("*.tmp"))
