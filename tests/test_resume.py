"""Crash safety: a conversion killed with SIGKILL resumes into the same bytes; Ctrl-C keeps finished shards."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from converters import api
from converters.errors import OutputError, VosconvWarning
from converters.formats.coco.writer import CocoWriter
from converters.run.journal import JOURNAL, seal
from converters.run.pipeline import Interrupted, staging_path
from converters.sources.checksums import sha256

#: Redone shards are said (a test below checks the words); the tests that redo them on purpose need not hear it.
pytestmark = pytest.mark.filterwarnings("ignore:.*shards the interrupted run finished are done again")

# A run slow enough to be killed halfway: a pause per video (coco shards hold one video each).
SLOW_RUN = textwrap.dedent(
    """
    import json, sys, time
    from converters import api
    from converters.formats.mose.reader import MoseReader

    read = MoseReader.read_video
    MoseReader.read_video = lambda self, ref: (time.sleep(0.4), read(self, ref))[1]
    source, output, workers, writer, options = sys.argv[1:]
    options = json.loads(options)
    api.convert(source, output, to=writer, writer_options=options, reader_options={"split": "train"}, workers=int(workers))
    """
)


@pytest.fixture(scope="module")
def big_mose(tmp_path_factory):
    from converters.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("big") / "mose", "mose", scale=3)


@contextlib.contextmanager
def ctrl_c_at_shard(monkeypatch, n: int, writer: type = CocoWriter):
    """Ctrl-C (KeyboardInterrupt) as the ``n``-th shard starts; shards before it finish normally."""
    original = writer.write_shard
    calls = {"n": 0}

    def write_shard(self, *args):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(writer, "write_shard", write_shard)
    try:
        yield
    finally:
        monkeypatch.setattr(writer, "write_shard", original)


def journal_lines(output: Path) -> int:
    path = staging_path(output) / JOURNAL
    return len(path.read_text().splitlines()) if path.exists() else 0


# parquet: about one video per shard file; mose: a folder per video, made new (a killed video's is left half written)
WRITERS = {"coco": ("out.json", {}), "parquet": ("out", {"shard_bytes": 1}), "mose": ("out", {})}


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_then_resume_gives_the_same_bytes(big_mose, tmp_path, workers, writer):
    name, options = WRITERS[writer]
    reference = tmp_path / "reference" / name
    api.convert(big_mose, reference, to=writer, writer_options=options, reader_options={"split": "train"})

    output = tmp_path / name
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    argv = [sys.executable, "-c", SLOW_RUN, str(big_mose), str(output), str(workers), writer, json.dumps(options)]
    process = subprocess.Popen(argv, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while journal_lines(output) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the whole process group: workers too
    process.wait()
    wait_until_gone(process.pid)  # else the resumed run waits for the killed workers itself, and warns that it does
    done = journal_lines(output)
    assert 2 <= done < 9, "the run should have been killed halfway"
    assert not output.exists()

    summary = api.convert(big_mose, output, to=writer, writer_options=options, reader_options={"split": "train"}, resume=True)
    assert summary.resumed >= done - 1  # a torn last line is redone, never trusted
    assert summary.resumed < summary.shards
    assert same_bytes(reference, output)
    assert not staging_path(output).exists()


def wait_until_gone(group: int, timeout: float = 30.0) -> None:
    """Until no process of ``group`` is left (killed workers are reaped by init a moment after their parent)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)


def same_bytes(a: Path, b: Path) -> bool:
    if a.is_file():
        return a.read_bytes() == b.read_bytes()
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_resume_redoes_a_shard_whose_file_was_damaged(big_mose, tmp_path, monkeypatch):
    reference = tmp_path / "reference.json"
    api.convert(big_mose, reference, to="coco", reader_options={"split": "train"})
    output = tmp_path / "out.json"
    with ctrl_c_at_shard(monkeypatch, 4), pytest.raises(Interrupted, match="3 of 9 shards are complete") as stopped:
        api.convert(big_mose, output, to="coco", reader_options={"split": "train"})
    assert "--resume" in str(stopped.value)

    staging = staging_path(output)
    entries = [json.loads(line) for line in (staging / JOURNAL).read_text().splitlines()]
    damaged = staging / entries[1]["result"]["checksums"][0][0]
    damaged.write_text(damaged.read_text().replace("0", "1", 1))
    summary = api.convert(big_mose, output, to="coco", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 2
    assert output.read_bytes() == reference.read_bytes()


def test_resume_ignores_shards_of_a_different_plan(big_mose, tmp_path, monkeypatch):
    output = tmp_path / "out.json.gz"
    with ctrl_c_at_shard(monkeypatch, 3), pytest.raises(Interrupted):
        api.convert(big_mose, output, to="coco", reader_options={"split": "train"})
    said = "2 of the 2 shards the interrupted run finished are done again: made with other options"  # not in silence
    with pytest.warns(VosconvWarning, match=said):
        summary = api.convert(
            big_mose, output, to="coco", reader_options={"split": "train"}, writer_options={"compresslevel": 1}, resume=True
        )
    assert summary.resumed == 0  # other writer options: nothing reused


def test_without_resume_a_leftover_staging_folder_is_started_over(big_mose, tmp_path, monkeypatch):
    output = tmp_path / "out.json"
    with ctrl_c_at_shard(monkeypatch, 1), pytest.raises(Interrupted, match="0 of 9"):
        api.convert(big_mose, output, to="coco", reader_options={"split": "train"})
    assert staging_path(output).is_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing finished, nothing to say
        summary = api.convert(big_mose, output, to="coco", reader_options={"split": "train"})
    assert summary.resumed == 0 and output.is_file() and not staging_path(output).exists()


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_run_over_an_interrupted_one_needs_resume_or_overwrite(big_mose, tmp_path, monkeypatch, capsys):
    """Finished shards are never discarded unasked: a plain run is refused, saying how many and what to pass."""
    from converters.cli import main

    output = tmp_path / "out.json"
    argv = ["convert", str(big_mose), "-o", str(output), "--to", "coco", "--split", "train"]
    with ctrl_c_at_shard(monkeypatch, 3):
        assert main(argv) == 130
    capsys.readouterr()
    before = files_under(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"an interrupted run of {output} left 2 finished shards" in err
    assert "--resume" in err and "to continue it" in err and "--overwrite" in err and "to start over" in err
    assert files_under(tmp_path) == before  # the finished shards and the journal are still there
    with ctrl_c_at_shard(monkeypatch, 4):
        assert main([*argv, "--overwrite"]) == 130  # starts over, and says what it discards
    assert "discarding an interrupted run" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    assert "3 of 9 shards kept from the interrupted run" in capsys.readouterr().out


def test_a_resumed_run_counts_its_speed_over_the_frames_it_converted(big_mose, tmp_path, monkeypatch):
    output = tmp_path / "out.json"
    entries = interrupted_after(big_mose, output, monkeypatch, 3)
    kept = sum(e["stats"]["frames"] for e in entries)
    summary = api.convert(big_mose, output, to="coco", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 3 and 0 < kept < summary.stats.frames
    assert summary.resumed_frames == kept
    assert summary.converted_frames == summary.stats.frames - kept


def test_the_summary_line_gives_the_speed_of_this_run_only(capsys, tmp_path):
    from converters.cli import _report
    from converters.run.pipeline import Stats, Summary

    summary = Summary(tmp_path / "o.json", Stats(videos=9, frames=100), seconds=2.0, shards=9, resumed=3, resumed_frames=60)
    _report(summary, "mose", "coco")
    line = capsys.readouterr().out
    assert "in 2.00 s, 20 frames/s over the 40 frames converted now" in line  # not 50 frames/s
    assert "3 of 9 shards kept from the interrupted run" in line


def test_an_existing_output_is_refused_without_resume_or_overwrite(sample_root, tmp_path):
    output = tmp_path / "o.json"
    api.convert(sample_root["mose"], output, to="coco", reader_options={"split": "valid"})
    with pytest.raises(Exception, match="already exists"):
        api.convert(sample_root["mose"], output, to="coco", reader_options={"split": "valid"})
    with pytest.raises(Exception, match="no interrupted run of it is left to resume"):
        api.convert(sample_root["mose"], output, to="coco", reader_options={"split": "valid"}, resume=True)


def test_ctrl_c_in_the_cli_says_what_was_complete(big_mose, tmp_path, capsys, monkeypatch):
    from converters.cli import main

    with ctrl_c_at_shard(monkeypatch, 2):
        code = main(["convert", str(big_mose), "-o", str(tmp_path / "o.json"), "--to", "coco", "--split", "train"])
    assert code == 130
    assert "1 of 9 shards are complete" in capsys.readouterr().err
    assert not list(staging_path(tmp_path / "o.json").rglob("*.tmp"))


def interrupted_after(big_mose, output: Path, monkeypatch, finished: int) -> list[dict]:
    """An interrupted coco run with ``finished`` shards journaled; returns the journal's entries."""
    with ctrl_c_at_shard(monkeypatch, finished + 1), pytest.raises(Interrupted):
        api.convert(big_mose, output, to="coco", reader_options={"split": "train"})
    return [json.loads(line) for line in (staging_path(output) / JOURNAL).read_text().splitlines()]


def rewrite_journal(output: Path, entries: list[dict], sealed: bool = True) -> None:
    """Replace the journal; ``sealed`` re-seals each line, as a buggy writer or another tool could."""
    lines = [json.dumps(seal(e) if sealed else e) + "\n" for e in entries]
    (staging_path(output) / JOURNAL).write_text("".join(lines))


@pytest.fixture
def coco_reference(big_mose, tmp_path):
    reference = tmp_path / "reference.json"
    api.convert(big_mose, reference, to="coco", reader_options={"split": "train"})
    return reference


@pytest.mark.parametrize("files", [["{secret}"], ["../{secret_name}"], ["{secret}", "/dev/null"]])
def test_resume_never_reuses_files_from_outside_the_staging_folder(big_mose, tmp_path, monkeypatch, coco_reference, files):
    secret = tmp_path / "secret.json"
    secret.write_text('{"secret": "outside"}\n')
    output = tmp_path / "out" / "out.json"
    output.parent.mkdir()
    (output.parent / secret.name).write_text(secret.read_text())  # beside the staging folder
    entries = interrupted_after(big_mose, output, monkeypatch, 2)
    entries[0]["result"]["files"] = [f.format(secret=secret, secret_name=secret.name) for f in files]
    entries[0]["result"]["checksums"] = []  # nothing to check, so only the file list can refuse it
    rewrite_journal(output, entries)
    summary = api.convert(big_mose, output, to="coco", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 1
    assert output.read_bytes() == coco_reference.read_bytes()


def test_resume_does_not_follow_a_link_out_of_the_staging_folder(big_mose, tmp_path, monkeypatch, coco_reference):
    output = tmp_path / "out.json"
    entries = interrupted_after(big_mose, output, monkeypatch, 2)
    name = entries[0]["result"]["files"][0]
    staged = staging_path(output) / name
    outside = tmp_path / "moved-out"
    os.replace(staged, outside)
    staged.symlink_to(outside)  # same bytes, so only the link itself can refuse it
    summary = api.convert(big_mose, output, to="coco", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 1
    assert output.read_bytes() == coco_reference.read_bytes()


GARBAGE = ["[1, 2]", "5", '"text"', '{"key": "x"}', '{"shard": "abc"}', '{"shard": null}', "\xff\xfe", "[" * 100_000]


@pytest.mark.parametrize("garbage", GARBAGE, ids=range(len(GARBAGE)))
def test_resume_ignores_journal_lines_it_did_not_write(big_mose, tmp_path, monkeypatch, coco_reference, garbage):
    output = tmp_path / "out.json"
    entries = interrupted_after(big_mose, output, monkeypatch, 2)
    with open(staging_path(output) / JOURNAL, "a", encoding="latin-1") as file:
        file.write(garbage + "\n")
    summary = api.convert(big_mose, output, to="coco", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == len(entries) == 2
    assert output.read_bytes() == coco_reference.read_bytes()


def damage(entry: dict, how: str) -> dict:
    entry = json.loads(json.dumps(entry))
    if how == "negative shard":
        entry["shard"] -= 9  # Python's indexing would make it another shard's entry
        entry["result"]["index"] = entry["shard"]
    elif how == "bool shard":
        entry["shard"] = entry["result"]["index"] = True
    elif how == "index disagrees":
        entry["result"]["index"] += 1
    elif how == "bad checksum record":
        entry["result"]["checksums"] = [["a", 1]]
    elif how == "size not an int":
        entry["result"]["checksums"][0][1] = "12"
    elif how == "stats missing a count":
        del entry["stats"]["videos"]
    elif how == "negative count":
        entry["stats"]["frames"] = -1
    elif how == "category ids not ints":
        entry["stats"]["category_ids"] = ["x"]
    elif how == "facts not an object":
        entry["result"]["facts"] = []
    return entry


DAMAGE = [
    "negative shard",
    "bool shard",
    "index disagrees",
    "bad checksum record",
    "size not an int",
    "stats missing a count",
    "negative count",
    "category ids not ints",
    "facts not an object",
]


@pytest.mark.parametrize("how", DAMAGE)
def test_resume_redoes_a_shard_whose_journal_record_is_damaged(big_mose, tmp_path, monkeypatch, coco_reference, how):
    output = tmp_path / "out.json"
    entries = interrupted_after(big_mose, output, monkeypatch, 2)
    if how == "negative shard":  # a copy under a negative index, beside the real entries
        entries.append(damage(entries[0], how))
    else:
        entries[0] = damage(entries[0], how)
    rewrite_journal(output, entries)
    summary = api.convert(big_mose, output, to="coco", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == (2 if how == "negative shard" else 1)
    assert summary.stats.videos == 9  # nothing counted twice
    assert output.read_bytes() == coco_reference.read_bytes()


UNSEALED_EDITS = {
    "coco facts": ("coco", "out.json", {}, lambda e: e["result"]["facts"].update(placeholders=["x"])),
    "parquet facts": ("parquet", "out", {"shard_bytes": 1}, lambda e: e["result"]["facts"]["videos"][0].update(frames=-3)),
    "stats": ("coco", "out.json", {}, lambda e: e["stats"].update(videos=100)),
    "seal removed": ("coco", "out.json", {}, lambda e: e.pop("seal")),
}


@pytest.mark.parametrize("case", sorted(UNSEALED_EDITS))
def test_resume_ignores_a_journal_line_changed_after_it_was_written(big_mose, tmp_path, monkeypatch, case):
    writer, name, options, edit = UNSEALED_EDITS[case]
    reference = tmp_path / "reference" / name
    api.convert(big_mose, reference, to=writer, writer_options=options, reader_options={"split": "train"})
    output = tmp_path / name
    target = (
        CocoWriter
        if writer == "coco"
        else __import__("converters.formats.parquet.writer", fromlist=["ParquetWriter"]).ParquetWriter
    )
    original, calls = target.write_shard, {"n": 0}

    def write_shard(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(target, "write_shard", write_shard)
    with pytest.raises(Interrupted):
        api.convert(big_mose, output, to=writer, writer_options=options, reader_options={"split": "train"})
    monkeypatch.setattr(target, "write_shard", original)
    entries = [json.loads(line) for line in (staging_path(output) / JOURNAL).read_text().splitlines()]
    edit(entries[0])
    rewrite_journal(output, entries, sealed=False)
    summary = api.convert(big_mose, output, to=writer, writer_options=options, reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 1 and summary.stats.videos == 9
    assert same_bytes(output, reference)


@pytest.fixture(scope="module")
def mose_reference(big_mose, tmp_path_factory):
    reference = tmp_path_factory.mktemp("mose-reference") / "out"
    api.convert(big_mose, reference, to="mose", reader_options={"split": "train"})
    return reference


def interrupted_layout_run(big_mose, output: Path, monkeypatch, finished: int) -> list[dict]:
    from converters.formats.mose.writer import MoseWriter

    with ctrl_c_at_shard(monkeypatch, finished + 1, MoseWriter), pytest.raises(Interrupted):
        api.convert(big_mose, output, to="mose", reader_options={"split": "train"})
    return [json.loads(line) for line in (staging_path(output) / JOURNAL).read_text().splitlines()]


def test_a_layout_run_resumes_into_the_same_tree(big_mose, tmp_path, monkeypatch, mose_reference):
    output = tmp_path / "out"
    entries = interrupted_layout_run(big_mose, output, monkeypatch, 3)
    assert all(e["result"]["files"] and e["result"]["checksums"] for e in entries)  # every file is checked on resume
    for name, size, digest in (c for e in entries for c in e["result"]["checksums"]):  # given from memory: still true
        path = staging_path(output) / name
        assert (path.stat().st_size, sha256(path)) == (size, digest)
    summary = api.convert(big_mose, output, to="mose", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 3
    assert same_bytes(output, mose_reference)


def test_resume_drops_what_an_interrupted_shard_left_behind(big_mose, tmp_path, monkeypatch, mose_reference):
    output = tmp_path / "out"
    interrupted_layout_run(big_mose, output, monkeypatch, 2)
    staged = staging_path(output) / "output"
    ghost = staged / "JPEGImages" / "ghost"  # a video no longer in the plan, half written
    ghost.mkdir(parents=True)
    (ghost / "00000.jpg").write_bytes(b"\xff\xd8 half")
    (staged / "Annotations" / "ghost").mkdir(parents=True)
    (staging_path(output) / "output" / "empty-folder").mkdir()
    summary = api.convert(big_mose, output, to="mose", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 2
    assert same_bytes(output, mose_reference)
    assert sorted(p.name for p in output.iterdir()) == sorted(p.name for p in mose_reference.iterdir())


def test_resume_writes_again_a_video_a_kill_left_half_written(big_mose, tmp_path, monkeypatch, mose_reference):
    """A kill in the middle of a video leaves its folders and some of its files; the folder writers make each video's
    folders and files new (never writing into an entry already there), so the resumed run must find none of them."""
    output = tmp_path / "out"
    entries = interrupted_layout_run(big_mose, output, monkeypatch, 2)
    done = {name for entry in entries for name in entry["result"]["files"]}
    staged = staging_path(output) / "output"
    video = next(
        p.name
        for p in sorted((big_mose / "train" / "JPEGImages").iterdir())
        if f"output/JPEGImages/{p.name}/00000.jpg" not in done
    )
    (staged / "JPEGImages" / video).mkdir(parents=True)
    (staged / "JPEGImages" / video / "00000.jpg").write_bytes(b"\xff\xd8 half")
    (staged / "Annotations" / video).mkdir(parents=True)
    summary = api.convert(big_mose, output, to="mose", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 2 and not summary.stats.skipped
    assert same_bytes(output, mose_reference)


def test_resume_redoes_a_layout_shard_whose_mask_was_damaged(big_mose, tmp_path, monkeypatch, mose_reference):
    output = tmp_path / "out"
    entries = interrupted_layout_run(big_mose, output, monkeypatch, 3)
    mask = next(name for name in entries[1]["result"]["files"] if name.endswith(".png"))
    (staging_path(output) / mask).write_bytes(b"not a png")
    summary = api.convert(big_mose, output, to="mose", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 2
    assert same_bytes(output, mose_reference)


def test_lines_of_an_older_journal_format_are_not_reused(big_mose, tmp_path, monkeypatch, mose_reference):
    from converters.run import journal

    output = tmp_path / "out"
    monkeypatch.setattr(journal, "FORMAT", journal.FORMAT - 1)  # as an older vosconv wrote them
    interrupted_layout_run(big_mose, output, monkeypatch, 2)
    monkeypatch.setattr(journal, "FORMAT", journal.FORMAT + 1)
    summary = api.convert(big_mose, output, to="mose", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 0
    assert same_bytes(output, mose_reference)


def _swap(a: Path, b: Path) -> None:
    """Exchange two files as ``mv`` would: each keeps its size and modification time."""
    tmp = a.with_name("swap.tmp")
    os.rename(a, tmp)
    os.rename(b, a)
    os.rename(tmp, b)


def _edit_in_place(path: Path) -> None:
    """Same size, new content: a palette colour changed (the PNG's CRC is redone, as an editor would)."""
    import struct
    import zlib

    data = bytearray(path.read_bytes())
    at = data.index(b"PLTE")
    data[at + 4 + 3] ^= 0xFF  # object 1's red
    length = struct.unpack(">I", data[at - 4 : at])[0]
    data[at + 4 + length : at + 8 + length] = struct.pack(">I", zlib.crc32(bytes(data[at : at + 4 + length])))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("change", [_swap, _edit_in_place], ids=["swapped-frames", "edited-in-place"])
def test_resume_redoes_a_finished_video_whose_files_changed_since(big_mose, tmp_path, monkeypatch, change):
    """The interrupted run's shard of that video no longer matches the source: kept, it would be stale."""
    import shutil

    source = tmp_path / "mose"
    shutil.copytree(big_mose, source)
    output = tmp_path / "out.json"
    with ctrl_c_at_shard(monkeypatch, 4), pytest.raises(Interrupted, match="3 of 9 shards"):
        api.convert(source, output, to="coco", reader_options={"split": "train"})
    finished = json.loads((staging_path(output) / JOURNAL).read_text().splitlines()[0])["shard"]
    video = sorted(p.name for p in (source / "train" / "Annotations").iterdir())[finished]
    masks = sorted(p for p in (source / "train" / "Annotations" / video).iterdir() if not p.name.startswith("."))
    if change is _swap:
        assert masks[1].read_bytes() != masks[2].read_bytes()
        change(masks[1], masks[2])
    else:
        change(masks[0])  # the first mask's palette is the video's: the output changes

    def palettes_warned():  # the edit leaves the video's later PNGs with other colours, which the reader says
        edited = change is _edit_in_place
        return pytest.warns(VosconvWarning, match="palette colours differ") if edited else contextlib.nullcontext()

    with palettes_warned():
        summary = api.convert(source, output, to="coco", reader_options={"split": "train"}, resume=True)
    assert summary.resumed == 2  # the other two finished shards are kept
    reference = tmp_path / "reference.json"
    with palettes_warned():
        api.convert(source, reference, to="coco", reader_options={"split": "train"})
    assert output.read_bytes() == reference.read_bytes()


def test_resume_redoes_every_shard_when_a_metadata_file_changed(sample_copy, tmp_path, monkeypatch):
    """meta.json's categories reach every video's annotations: an edit to it invalidates all shards."""
    source = sample_copy("youtube-vos")
    output = tmp_path / "out.json"
    options = {"reader_options": {"split": "train"}}
    with ctrl_c_at_shard(monkeypatch, 2), pytest.raises(Interrupted, match="1 of"):
        api.convert(source, output, to="coco", **options)
    meta = source / "train" / "meta.json"
    data = json.loads(meta.read_text())
    video = next(iter(data["videos"].values()))
    first = next(iter(video["objects"].values()))
    first["category"] = "renamed-category"
    meta.write_text(json.dumps(data))
    summary = api.convert(source, output, to="coco", resume=True, **options)
    assert summary.resumed == 0
    reference = tmp_path / "reference.json"
    api.convert(source, reference, to="coco", **options)
    assert output.read_bytes() == reference.read_bytes() and b"renamed-category" in reference.read_bytes()


def test_resume_keeps_shards_when_the_source_is_named_from_another_folder(sample_copy, tmp_path, monkeypatch):
    """The same source spelled relative to another working folder is the same source."""
    source = sample_copy("youtube-vos")
    output = tmp_path / "out.json"
    options = {"from_": "youtube-vos", "reader_options": {"split": "train"}}
    monkeypatch.chdir(source.parent)
    with ctrl_c_at_shard(monkeypatch, 2), pytest.raises(Interrupted, match="1 of"):
        api.convert(source.name, output, to="coco", **options)
    monkeypatch.chdir(tmp_path.parent)
    summary = api.convert(Path(tmp_path.name) / source.name, output, to="coco", resume=True, **options)
    assert summary.resumed == 1


def test_resume_does_not_replace_what_vosconv_did_not_write(big_mose, tmp_path, monkeypatch):
    """Something of the user's that appeared at the output while the run was stopped is refused, before any work."""
    output = tmp_path / "out.json"
    interrupted_after(big_mose, output, monkeypatch, 2)
    output.write_text("my notes")
    before = files_under(tmp_path)
    with pytest.raises(Exception, match="is not a file vosconv wrote"):
        api.convert(big_mose, output, to="coco", reader_options={"split": "train"}, resume=True)
    assert files_under(tmp_path) == before  # the user's file and the finished shards alike


@pytest.mark.parametrize("resume", [True, False])
def test_a_staging_path_that_is_a_link_is_refused_and_what_it_points_to_is_untouched(sample_root, tmp_path, resume):
    """``.out.vosconv-partial`` linking to a folder of the user's: --resume pruned that folder as its own
    (deleting thesis.tex) and then worked in it; a link is never vosconv's staging folder."""
    user = tmp_path / "user"
    user.mkdir()
    (user / "thesis.tex").write_text("\\documentclass{book}")
    output = tmp_path / "out"
    staging_path(output).symlink_to(user, target_is_directory=True)
    with pytest.raises(OutputError, match="link"):
        api.convert(sample_root["mose"], output, to="parquet", reader_options={"split": "train"}, resume=resume)
    assert [p.name for p in user.iterdir()] == ["thesis.tex"] and not output.exists()
    assert staging_path(output).is_symlink()


def test_a_lock_path_that_is_a_link_is_refused_and_the_file_it_points_to_is_untouched(sample_root, tmp_path):
    """``.out.vosconv-lock`` linking to a file of the user's: the lock opened through the link and truncated that file."""
    from converters.run.locking import lock_path

    user = tmp_path / "thesis.tex"
    user.write_text("\\documentclass{book}")
    output = tmp_path / "out.json"
    lock_path(output).symlink_to(user)
    with pytest.raises(OutputError, match="link"):
        api.convert(sample_root["mose"], output, to="coco", reader_options={"split": "train"})
    assert user.read_text() == "\\documentclass{book}" and not output.exists()
