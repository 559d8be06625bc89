"""``Writer.owns``: each writer recognises its own outputs, and ``--overwrite`` asks the writers, not the runner.

The runner (``converters.run``) knows no format: what it may replace is what the chosen writer,
or a built-in one, says it wrote (a COCO header, a sharded manifest, a layout's marker).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from converters import api, registry
from converters.errors import OutputError
from converters.model import DatasetInfo, Video
from converters.run import pipeline, publish
from converters.writer import Shard, ShardResult, Writer

SOURCE = ("mose", {"split": "train"})


def convert(sample_root, output: Path, writer: str | Writer, **kwargs) -> pipeline.Summary:
    layout, options = SOURCE
    with api.open_reader(sample_root[layout], layout, options) as reader:
        chosen = api.open_writer(writer) if isinstance(writer, str) else writer
        return pipeline.convert(reader, chosen, output, progress=False, **kwargs)


@pytest.fixture(scope="module")
def outputs(sample_root, tmp_path_factory) -> dict[str, Path]:
    """One output of each built-in writer."""
    base = tmp_path_factory.mktemp("outputs")
    names = {"coco": "o.json", "coco-gz": "o.json.gz", "parquet": "p", "hdf5": "h", "mose": "m", "davis": "d", "youtube-vos": "y"}
    return {kind: convert(sample_root, base / name, kind.removesuffix("-gz")).output for kind, name in names.items()}


@pytest.mark.parametrize("writer", ["coco", "parquet", "hdf5", "mose", "davis", "youtube-vos"])
def test_each_built_in_writer_owns_its_own_outputs_and_no_other_kind(outputs, writer):
    cls = api.open_writer(writer).__class__
    owned = sorted(kind for kind, path in outputs.items() if cls.owns(path))
    layouts = ["davis", "mose", "youtube-vos"]  # the layouts share one marker: any of them may replace another
    expected = {"coco": ["coco", "coco-gz"], "parquet": ["parquet"], "hdf5": ["hdf5"]}.get(writer, layouts)
    assert owned == expected


def test_a_writer_owns_nothing_by_default_and_a_fifo_is_not_opened(tmp_path, outputs):
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    answers = []
    worker = threading.Thread(target=lambda: answers.append(api.open_writer("coco").__class__.owns(fifo)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert answers == [False]  # answered, without blocking on the FIFO
    assert not publish.is_vosconv_output(fifo)
    assert not Writer.owns(outputs["coco"]) and Writer.lookalike(outputs["mose"]) is None


class MarkedWriter(Writer):
    """A third-party writer: one folder holding ``marked.json``, the sign that it wrote the folder."""

    name = "marked"

    @classmethod
    def owns(cls, path: Path) -> bool:
        return (path / "marked.json").is_file()

    def write_shard(self, videos: Iterable[Video], shard: Shard, staging: Path, info: DatasetInfo) -> ShardResult:
        return ShardResult(shard.index, facts={"videos": [video.name for video in videos]})

    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        folder = staging / "done"
        folder.mkdir()
        (folder / "marked.json").write_text(json.dumps([name for r in results for name in r.facts["videos"]]))
        return folder


def test_overwrite_replaces_what_the_chosen_plugin_writer_says_it_wrote(sample_root, tmp_path):
    out = tmp_path / "out"
    convert(sample_root, out, MarkedWriter())
    (out / "extra.txt").write_text("written by hand after the run")
    summary = convert(sample_root, out, MarkedWriter(), overwrite=True)
    assert summary.stats.videos > 0
    assert sorted(p.name for p in out.iterdir()) == ["marked.json"]


def test_a_plugin_output_is_not_replaced_by_another_writer(sample_root, tmp_path):
    """Only the chosen writer and the built-in ones are asked: a plugin not chosen is not imported to be asked."""
    out = tmp_path / "out"
    convert(sample_root, out, MarkedWriter())
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(OutputError, match="holds files vosconv did not write"):
        convert(sample_root, out, "mose", overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == before


def test_owners_asks_the_chosen_writer_first_then_each_built_in_once(outputs):
    asked = list(publish.owners(MarkedWriter))
    assert asked[0] is MarkedWriter
    names = [cls.name for cls in asked[1:]]
    assert sorted(names) == sorted(registry.names("writer"))  # every built-in, each once
    assert len(asked) == len(set(asked))


@pytest.mark.parametrize("writer", ["parquet", "hdf5", "davis", "mose", "youtube-vos", "sav"])
@pytest.mark.parametrize("where", ["top", "data"])
def test_overwrite_refuses_a_vosconv_output_holding_a_file_of_the_users(sample_root, tmp_path, writer, where):
    """A folder vosconv wrote, into which the user then put a file of their own: --overwrite would delete that file."""
    output = convert(sample_root, tmp_path / "out", writer).output
    inside = output / "data" if where == "data" and (output / "data").is_dir() else output
    (inside / "thesis.tex").write_text("\\documentclass{book}")
    with pytest.raises(OutputError, match=r"thesis\.tex"):
        convert(sample_root, output, writer, overwrite=True)
    assert (inside / "thesis.tex").read_text() == "\\documentclass{book}"


def test_a_sav_output_is_replaced_by_overwrite(sample_root, tmp_path):
    """The SA-V layout has its own root names (JPEGImages_24fps/, sav_<split>.txt, .vosconv/): its writer owns them."""
    output = convert(sample_root, tmp_path / "out", "sav").output
    assert convert(sample_root, output, "sav", overwrite=True).output == output


@pytest.mark.parametrize("writer", ["davis", "mose", "youtube-vos", "sav"])
@pytest.mark.parametrize("change", ["added", "removed"])
def test_overwrite_refuses_a_layout_output_whose_video_folders_were_changed(sample_root, tmp_path, writer, change):
    """The root's names say nothing of a video's folder: a file the user put there (or one taken out, the sign of such
    edits) would go with the output. The marker records the files, so --overwrite sees any change, at any depth."""
    output = convert(sample_root, tmp_path / "out", writer).output
    frames = sorted(p for p in output.rglob("*.png") if p.parent.parent != output)
    if change == "added":
        (frames[0].parent / "notes.txt").write_text("mine")
    else:
        frames[-1].unlink()
    with pytest.raises(OutputError, match=r"files other than the \d+ vosconv wrote"):
        convert(sample_root, output, writer, overwrite=True)
    assert (frames[0].parent / "notes.txt").read_text() == "mine" if change == "added" else not frames[-1].exists()


@pytest.mark.parametrize("writer", ["mose", "sav", "parquet"])
def test_a_desktops_own_files_do_not_make_an_output_foreign(sample_root, tmp_path, writer):
    """Opening an output's folders in Finder leaves .DS_Store (and ._ files on other file systems): no one's data, so
    --overwrite still replaces the output, theirs with it."""
    output = convert(sample_root, tmp_path / "out", writer).output
    inner = next(p for p in sorted(output.rglob("*")) if p.is_dir())
    for folder, name in [(output, ".DS_Store"), (inner, ".DS_Store"), (inner, "._00000.png"), (output, "Thumbs.db")]:
        (folder / name).write_bytes(b"\0\0\0\1Bud1")
    assert convert(sample_root, output, writer, overwrite=True).output == output
    assert not (output / ".DS_Store").exists()


def test_a_layout_output_marked_without_its_files_is_still_replaced(sample_root, tmp_path):
    """A marker recording no files (an earlier vosconv's) is judged by the root's names, as it was."""
    output = convert(sample_root, tmp_path / "out", "mose").output
    marker = output / ".vosconv.json"
    record = json.loads(marker.read_text())
    assert record.pop("files")["count"] == sum(1 for p in output.rglob("*") if p.is_file()) - 1
    marker.write_text(json.dumps(record))
    assert convert(sample_root, output, "mose", overwrite=True).output == output


@pytest.mark.parametrize("writer", ["parquet", "hdf5"])
def test_overwrite_refuses_a_shard_its_manifest_does_not_list(sample_root, tmp_path, writer):
    """Shard-named is not vosconv's: another split's Parquet shards put into ``data/`` for the Hub went with the output."""
    output = convert(sample_root, tmp_path / "out", writer).output
    shard = next(p for p in sorted(output.rglob("*")) if p.suffix in (".parquet", ".h5"))
    extra = shard.with_name("valid-00000-of-00001.parquet" if writer == "parquet" else "part-00042.h5")
    extra.write_bytes(shard.read_bytes())
    with pytest.raises(OutputError, match=extra.name):
        convert(sample_root, output, writer, overwrite=True)
    assert extra.read_bytes() == shard.read_bytes()
