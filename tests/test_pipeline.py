"""One conversion end to end: output protection, overwrite, staging, stats, summary, shard planning."""

from __future__ import annotations

import errno
import io
import json
import os
import time
import warnings
from pathlib import Path

import pytest

from converters import api
from converters.errors import OutputError, SourceError, VosconvWarning
from converters.formats.coco.spec import FILE_HEAD
from converters.formats.coco.writer import CocoWriter
from converters.formats.folders.spec import MARKER
from converters.reader import VideoRef
from converters.run import pipeline
from converters.run.pipeline import Stats, staging_path
from converters.writer import Shard

#: (layout, reader options) of the bundled samples: together they hold void, empty and unannotated frames.
SOURCES = {
    "mose-train": ("mose", {"split": "train"}),
    "mose-valid": ("mose", {"split": "valid"}),
    "davis-val": ("davis", {"split": "val"}),
    "youtube-vos-train": ("youtube-vos", {"split": "train"}),
}
#: writer -> what it makes.
KINDS = {"coco": "file", "mose": "directory"}


def reader(sample_root, source: str = "mose-train"):
    layout, options = SOURCES[source]
    return api.open_reader(sample_root[layout], layout, options)


def convert(sample_root, output: Path, writer: str = "coco", **kwargs) -> pipeline.Summary:
    with reader(sample_root) as r:
        return pipeline.convert(r, api.open_writer(writer), output, progress=False, **kwargs)


def tree(root: Path) -> dict[str, bytes | None]:
    """Every entry under ``root`` (hidden ones included): file bytes, None for folders."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def contents(path: Path) -> dict[str, bytes | None] | bytes:
    return path.read_bytes() if path.is_file() else tree(path)


def make_old_output(path: Path, kind: str) -> None:
    """An earlier vosconv output (as ``--overwrite`` recognises one): a COCO file, or a marked folder."""
    if kind == "file":
        path.write_bytes(FILE_HEAD + b', "old": "output"}}')
    else:
        (path / "Annotations" / "sub").mkdir(parents=True)  # only names a layout writer makes: nothing of the user's
        (path / MARKER).write_text('{"format": "mose", "version": "0.1.0", "written_by": "vosconv"}\n')
        (path / "meta.json").write_text("old")
        (path / "Annotations" / "sub" / "old.png").write_bytes(b"old")


@pytest.fixture(scope="module")
def fresh(sample_root, tmp_path_factory) -> dict[str, object]:
    """A clean conversion of the MOSE train sample per writer, to compare other runs with."""
    base = tmp_path_factory.mktemp("fresh")
    return {writer: contents(convert(sample_root, base / writer, writer).output) for writer in KINDS}


# ------------------------------------------------------------------ the output and overwrite


@pytest.mark.parametrize("writer", sorted(KINDS))
@pytest.mark.parametrize("existing", ["file", "directory"])
def test_refuses_existing_output_without_overwrite(sample_root, tmp_path, writer, existing):
    out = tmp_path / "out"
    make_old_output(out, existing)
    before = tree(tmp_path)
    with pytest.raises(OutputError, match=r"already exists; pass --overwrite \(overwrite=True in Python\) to replace it$"):
        convert(sample_root, out, writer)  # no --resume offered: there is no interrupted run (that has its own refusal)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("writer", sorted(KINDS))
def test_accepts_an_empty_existing_folder(sample_root, tmp_path, fresh, writer):
    out = tmp_path / "out"
    out.mkdir()
    convert(sample_root, out, writer)
    assert out.is_file() if KINDS[writer] == "file" else out.is_dir()
    assert contents(out) == fresh[writer]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("writer", sorted(KINDS))
def test_overwrite_replaces_an_output_of_the_same_kind(sample_root, tmp_path, fresh, writer):
    out = tmp_path / "out"
    make_old_output(out, KINDS[writer])
    convert(sample_root, out, writer, overwrite=True)
    assert contents(out) == fresh[writer]  # the old content is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no .vosconv-old / .vosconv-partial


@pytest.mark.parametrize("writer", sorted(KINDS))
def test_overwrite_replaces_an_output_of_the_other_kind(sample_root, tmp_path, fresh, writer):
    """A folder where a file will go, or a file where a folder will go: replaced all the same."""
    out = tmp_path / "out"
    make_old_output(out, "directory" if KINDS[writer] == "file" else "file")
    convert(sample_root, out, writer, overwrite=True)
    assert contents(out) == fresh[writer]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_overwrite_twice_gives_the_same_bytes(sample_root, tmp_path, fresh):
    out = tmp_path / "out"
    for _ in range(2):
        convert(sample_root, out, "mose", overwrite=True)
        assert contents(out) == fresh["mose"]


def make_foreign(path: Path, what: str) -> None:
    """Something at the output path that vosconv did not write."""
    if what == "thesis folder":
        path.mkdir()
        (path / "thesis.tex").write_text("\\documentclass{article}")
        (path / "figures").mkdir()
        (path / "figures" / "plot.png").write_bytes(b"png")
    elif what == "dataset folder":  # a MOSE split, or a folder-layout output of a vosconv without the marker
        for folder in ("JPEGImages/v1", "Annotations/v1"):
            (path / folder).mkdir(parents=True)
        (path / "JPEGImages/v1/00000.jpg").write_bytes(b"jpeg")
    elif what == "foreign json":
        path.write_text('{"info": {"description": "mine"}, "videos": []}')
    elif what == "foreign json.gz":
        import gzip

        path.write_bytes(gzip.compress(b'{"info": {"description": "mine"}}'))
    elif what == "folder with a foreign manifest":
        path.mkdir()
        (path / "manifest.json").write_text('{"name": "my package"}')
    elif what == "link to a vosconv output":
        target = path.with_name("real")
        make_old_output(target, "directory")
        path.symlink_to(target)


#: what is there -> words the refusal must hold (what is there, and what to do)
FOREIGN = {
    "thesis folder": ["holds files vosconv did not write (figures/, thesis.tex)", "remove them or choose another output"],
    "dataset folder": ["looks like a dataset folder (Annotations/, JPEGImages/)", MARKER, "delete it by hand"],
    "foreign json": ["is not a file vosconv wrote", "remove it or choose another output"],
    "foreign json.gz": ["is not a file vosconv wrote"],
    "folder with a foreign manifest": ["holds files vosconv did not write (manifest.json)"],
    "link to a vosconv output": ["is a link to", "remove it or choose another output"],
}


@pytest.mark.parametrize("writer", sorted(KINDS))
@pytest.mark.parametrize("what", sorted(FOREIGN))
def test_overwrite_refuses_what_vosconv_did_not_write_and_touches_nothing(sample_root, tmp_path, writer, what):
    out = tmp_path / ("out.json.gz" if what.endswith("gz") else "out")
    make_foreign(out, what)
    before = tree(tmp_path)
    with pytest.raises(OutputError) as refused:
        convert(sample_root, out, writer, overwrite=True)
    assert str(refused.value).startswith(str(out))
    for words in FOREIGN[what]:
        assert words in str(refused.value)
    assert tree(tmp_path) == before  # not a file deleted, moved or added (no staging, lock or aside left)


@pytest.mark.parametrize("earlier", ["coco", "coco-gz", "parquet", "hdf5", "mose", "davis", "youtube-vos"])
def test_overwrite_replaces_every_kind_of_vosconv_output(sample_root, tmp_path, fresh, earlier):
    out = tmp_path / ("out.json.gz" if earlier == "coco-gz" else "out")
    with reader(sample_root) as r:
        pipeline.convert(r, api.open_writer(earlier.removesuffix("-gz")), out, progress=False)
    assert pipeline.is_vosconv_output(out)
    convert(sample_root, out, "mose", overwrite=True)
    assert contents(out) == fresh["mose"]


def test_a_folder_layout_output_is_marked_and_reads_back_without_the_marker(sample_root, tmp_path):
    out = convert(sample_root, tmp_path / "out", "youtube-vos").output
    marker = json.loads((out / MARKER).read_text())
    assert marker["written_by"] == "vosconv" and marker["format"] == "youtube-vos"
    with api.open_reader(out, "youtube-vos") as again, reader(sample_root) as original:
        assert [v.name for v in again.list_videos()] == [v.name for v in original.list_videos()]


def test_a_vosconv_output_inside_the_source_stays_replaceable_when_marked(sample_copy):
    """An earlier folder-layout output inside the dataset folder is vosconv's (its marker says so), not source data."""
    source = sample_copy("mose")
    for _ in range(2):
        with api.open_reader(source, "mose", {"split": "train"}) as r:
            pipeline.convert(r, api.open_writer("davis"), source / "as-davis", overwrite=True, progress=False)
    assert (source / "as-davis" / MARKER).is_file()


@pytest.mark.parametrize("writer", sorted(KINDS))
def test_stale_staging_from_a_crashed_run_is_cleaned_up(sample_root, tmp_path, fresh, writer):
    out = tmp_path / "out"
    stale = staging_path(out)
    assert stale.parent == tmp_path and stale.name.startswith(".")
    (stale / "shards").mkdir(parents=True)
    (stale / "shards" / "00000.videos.jsonl").write_text("garbage from a crash\n")
    (stale / "output").mkdir()
    (stale / "output" / "stray.txt").write_text("stray")

    convert(sample_root, out, writer)
    assert contents(out) == fresh[writer]  # nothing of the stale folder got in
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_stale_old_output_from_a_crashed_publish_is_cleaned_up(sample_root, tmp_path, fresh):
    """A crash between the two renames of a folder replacement leaves ``.<name>.vosconv-old``: the next run removes it."""
    out = tmp_path / "out"
    old = tmp_path / ".out.vosconv-old"
    (old / "sub").mkdir(parents=True)
    (old / "sub" / "left.txt").write_text("from a crash during publish")
    make_old_output(out, "directory")
    convert(sample_root, out, "mose", overwrite=True)
    assert contents(out) == fresh["mose"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failed_conversion_keeps_the_old_output(sample_copy, tmp_path):
    """With overwrite, a run that fails leaves the previous output exactly as it was."""
    source = sample_copy("mose")
    out = tmp_path / "out"
    make_old_output(out, "directory")
    before = tree(out)
    victim = sorted((source / "train" / "Annotations").rglob("00002.png"))[0]
    victim.write_bytes(b"not a png")
    with api.open_reader(source, "mose", {"split": "train"}) as r, pytest.raises(SourceError, match=str(victim)):
        pipeline.convert(r, api.open_writer("mose"), out, overwrite=True, progress=False)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy-mose", "out"]


# (what the output is, relative to a MOSE copy's root; the writer): each would delete source data
INSIDE_SOURCE = {
    "the source": (".", "parquet"),
    "a folder holding it": ("..", "mose"),
    "its image folder": ("train/JPEGImages", "mose"),
    "a split inside it": ("train", "mose"),
    "its annotation folder": ("train/Annotations", "parquet"),
    "one video's masks": ("train/Annotations/{video}", "mose"),
    # new outputs inside folders the reader lists: a folder there would become a video, a file a frame
    "a new folder among the videos' frames": ("train/JPEGImages/copy", "mose"),
    "a new file among the videos' masks": ("train/Annotations/copy.json", "coco"),
    "a new file among one video's frames": ("train/JPEGImages/{video}/out.json", "coco"),
}


@pytest.mark.parametrize("case", sorted(INSIDE_SOURCE))
def test_an_output_that_would_replace_source_data_is_refused(sample_copy, case):
    source = sample_copy("mose")
    relative, writer = INSIDE_SOURCE[case]
    video = sorted(p.name for p in (source / "train" / "Annotations").iterdir())[0]
    output = source / relative.format(video=video)
    before = tree(source.parent)
    with api.open_reader(source, "mose", {"split": "train"}) as r, pytest.raises(OutputError, match="source"):
        pipeline.convert(r, api.open_writer(writer), output, overwrite=True, progress=False)
    assert tree(source.parent) == before  # nothing deleted, nothing added


def test_the_coco_source_file_cannot_be_its_own_output(sample_root, tmp_path):
    source = convert(sample_root, tmp_path / "c.json").output
    before = source.read_bytes()
    with api.open_reader(source, "coco") as r, pytest.raises(OutputError, match="source"):
        pipeline.convert(r, api.open_writer("coco"), source, overwrite=True, progress=False)
    assert source.read_bytes() == before


def test_a_new_file_inside_the_dataset_folder_is_allowed(sample_copy, fresh):
    source = sample_copy("mose")
    output = source / "train.json"
    with api.open_reader(source, "mose", {"split": "train"}) as r:
        pipeline.convert(r, api.open_writer("coco"), output, progress=False)
    written, expected = json.loads(output.read_bytes()), json.loads(fresh["coco"])
    assert written["annotations"] == expected["annotations"] and written["videos"] == expected["videos"]


def test_a_folder_reached_through_a_link_is_protected_too(sample_copy, tmp_path):
    source = sample_copy("mose")
    store = tmp_path / "annotation-store"  # the split's Annotations/ is a link to this folder
    (source / "train" / "Annotations").rename(store)
    (source / "train" / "Annotations").symlink_to(store)
    before = tree(store)
    with (
        api.open_reader(source, "mose", {"split": "train"}) as r,
        pytest.raises(OutputError, match="source data this conversion reads"),
    ):
        pipeline.convert(r, api.open_writer("mose"), store, overwrite=True, progress=False)
    assert tree(store) == before


@pytest.mark.parametrize("folder", ["JPEGImages/480p", "Annotations/480p", "ImageSets"])
def test_davis_folders_are_protected(sample_copy, folder):
    source = sample_copy("davis")
    root = next(p.parent for p in source.rglob("ImageSets"))
    before = tree(source)
    with api.open_reader(source, "davis", {"split": "val"}) as r, pytest.raises(OutputError, match="source"):
        pipeline.convert(r, api.open_writer("parquet"), root / folder, overwrite=True, progress=False)
    assert tree(source) == before


@pytest.mark.parametrize(("writer", "name"), [("parquet", "mose.parquet"), ("coco", "mose.json"), ("coco", "mose.json.gz")])
def test_an_earlier_vosconv_output_inside_the_dataset_folder_can_be_replaced(sample_copy, writer, name):
    source = sample_copy("mose")
    output = source / name
    for _ in range(2):  # the second run replaces the first one's output
        with api.open_reader(source, "mose", {"split": "train"}) as r:
            pipeline.convert(r, api.open_writer(writer), output, overwrite=True, progress=False)
    assert output.exists()
    stranger = source / "notes.json"
    stranger.write_text('{"info": {"description": "mine"}}')
    with api.open_reader(source, "mose", {"split": "train"}) as r, pytest.raises(OutputError, match="part of the source"):
        pipeline.convert(r, api.open_writer("coco"), stranger, overwrite=True, progress=False)
    assert stranger.read_text() == '{"info": {"description": "mine"}}'


def test_an_embedded_shard_output_can_be_written_back_over_its_old_image_folder(sample_root, tmp_path, fresh):
    first = convert(sample_root, tmp_path / "train", "mose").output  # a folder vosconv wrote
    shards = tmp_path / "m.parquet"
    with api.open_reader(first, "mose") as r:
        pipeline.convert(r, api.open_writer("parquet"), shards, progress=False)
    with api.open_reader(shards, "parquet") as r:  # its images are inside the shards: the old folder is not read
        pipeline.convert(r, api.open_writer("mose"), first, overwrite=True, progress=False)
    assert tree(first) == fresh["mose"]


def test_resume_without_an_interrupted_run_does_not_replace_an_output(sample_root, tmp_path):
    output = tmp_path / "out.json"
    output.write_text("someone else's file")
    with pytest.raises(OutputError, match="no interrupted run"):
        convert(sample_root, output, resume=True)
    assert output.read_text() == "someone else's file"
    assert not staging_path(output).exists()


def test_output_parents_are_created(sample_root, tmp_path):
    out = tmp_path / "a" / "b" / "out.json"
    convert(sample_root, out)
    assert out.is_file()


def test_a_failed_run_leaves_none_of_the_folders_it_made(sample_copy, tmp_path):
    source = sample_copy("mose")
    sorted((source / "train" / "Annotations").rglob("00002.png"))[0].write_bytes(b"not a png")
    (tmp_path / "a").mkdir()
    for writer in ("coco", "parquet"):  # a file output, a folder output
        with pytest.raises(SourceError), api.open_reader(source, "mose", {"split": "train"}) as r:
            pipeline.convert(r, api.open_writer(writer), tmp_path / "a" / "b" / "c" / "out", progress=False)
        assert list((tmp_path / "a").iterdir()) == []  # b/ and c/ were made for the run and went with it


# ------------------------------------------------------------------ stats and summary


def count(videos) -> Stats:
    """The counts of ``Stats``, computed here from the Video objects, independently of Stats.add."""
    frames = [f for v in videos for f in v.frames]
    annotated = [f.masks for f in frames if f.masks is not None]
    return Stats(
        videos=len(videos),
        frames=len(frames),
        annotated_frames=len(annotated),
        objects=sum(len(v.objects) for v in videos),
        masks=sum(len(m.objects) for m in annotated),
        void_masks=sum(m.void is not None for m in annotated),
        empty_frames=sum(m.objects == () for m in annotated),
        category_ids={o.category_id for v in videos for o in v.objects} - {None},
    )


def visible_files(root: Path, suffix: str) -> int:
    return sum(1 for p in root.rglob(f"*{suffix}") if not any(part.startswith(".") for part in p.relative_to(root).parts))


@pytest.fixture(scope="module")
def expected_stats(sample_root) -> dict[str, Stats]:
    result = {}
    for source in SOURCES:
        with reader(sample_root, source) as r:
            result[source] = count([r.read_video(ref) for ref in r.list_videos()])
    return result


def test_expected_stats_cover_every_kind_of_frame(expected_stats, sample_root):
    """Guards the stats tests: the samples do hold void masks, empty and unannotated frames, categories."""
    total = Stats()
    for stats in expected_stats.values():
        total.merge(stats)
    assert total.void_masks > 0
    assert total.empty_frames > 0
    assert total.frames > total.annotated_frames
    assert total.category_ids
    # and counting from the Video objects agrees with counting files on disk
    train = sample_root["mose"] / "train"
    assert expected_stats["mose-train"].frames == visible_files(train / "JPEGImages", ".jpg")
    assert expected_stats["mose-train"].annotated_frames == visible_files(train / "Annotations", ".png")
    valid = sample_root["mose"] / "valid"
    assert expected_stats["mose-valid"].annotated_frames == visible_files(valid / "Annotations", ".png")


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_conversion_stats_match_the_videos(sample_root, tmp_path, expected_stats, source):
    with reader(sample_root, source) as r:
        summary = pipeline.convert(r, api.open_writer("coco"), tmp_path / "out.json", progress=False)
    assert summary.stats == expected_stats[source]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_scan_gives_the_same_stats(sample_root, expected_stats, source, workers):
    with reader(sample_root, source) as r:
        info, stats = pipeline.scan(r, workers=workers, progress=False)
        assert info == r.info()
    assert stats == expected_stats[source]


def test_stats_line():
    line = Stats(videos=2, frames=10, annotated_frames=4, objects=3, masks=7, empty_frames=1).line()
    assert line == "2 videos, 10 frames (4 annotated, 1 empty), 3 objects, 7 masks"


def test_stats_line_says_one_of_each_in_the_singular():
    line = Stats(videos=1, frames=1, annotated_frames=1, objects=1, masks=1, empty_frames=0).line()
    assert line == "1 video, 1 frame (1 annotated, 0 empty), 1 object, 1 mask"


def test_summary_fields(sample_root, tmp_path, expected_stats):
    out = tmp_path / "out.json"
    started = time.perf_counter()
    with reader(sample_root) as r:
        writer = api.open_writer("coco")
        planned = writer.plan(r.list_videos())
        summary = pipeline.convert(r, writer, str(out), progress=False)
    elapsed = time.perf_counter() - started
    assert summary.output == out
    assert isinstance(summary.output, Path)
    assert summary.shards == len(planned) >= 1
    assert 0 < summary.seconds <= elapsed
    assert summary.stats == expected_stats["mose-train"]


class OneVideoShards(CocoWriter):
    shard_videos = 1


def test_sharding_does_not_change_the_coco_output(sample_root, tmp_path, fresh, expected_stats):
    """One shard per video, in two processes: the same file, and the summary counts the shards."""
    with reader(sample_root) as r:
        summary = pipeline.convert(r, OneVideoShards(), tmp_path / "out", workers=2, progress=False)
    assert summary.shards == expected_stats["mose-train"].videos > 1
    assert summary.stats == expected_stats["mose-train"]
    assert summary.output.read_bytes() == fresh["coco"]


# ------------------------------------------------------------------ plan()


def refs(*sizes: int) -> list[VideoRef]:
    return [VideoRef(f"v{i:02d}", size) for i, size in enumerate(sizes)]


def planner(videos: int = 64, nbytes: int = 64 << 20) -> CocoWriter:
    cls = type("Planner", (CocoWriter,), {"shard_videos": videos, "shard_bytes": nbytes})
    return cls()


def grouped(shards: list[Shard]) -> list[list[str]]:
    assert [s.index for s in shards] == list(range(len(shards)))
    return [[ref.name for ref in s.refs] for s in shards]


def test_plan_default_is_one_video_per_shard():
    """The unit of work is a video, so worker processes stay balanced however videos differ in size."""
    videos = refs(*[1000] * 10)
    assert grouped(CocoWriter().plan(videos)) == [[r.name] for r in videos]


def test_plan_nothing():
    assert CocoWriter().plan([]) == []


def test_plan_shard_videos_limit():
    assert [len(g) for g in grouped(planner(videos=3).plan(refs(*[1] * 10)))] == [3, 3, 3, 1]
    assert [len(g) for g in grouped(planner(videos=1).plan(refs(*[1] * 3)))] == [1, 1, 1]


def test_plan_shard_bytes_limit():
    shards = grouped(planner(nbytes=100).plan(refs(60, 30, 20, 150, 10, 50, 50)))
    # 60+30 fit; +20 would pass 100. A 150-byte video exceeds the limit alone: it gets its own shard, whole.
    assert shards == [["v00", "v01"], ["v02"], ["v03"], ["v04", "v05"], ["v06"]]


def test_plan_fills_a_shard_up_to_exactly_the_byte_limit():
    assert grouped(planner(nbytes=100).plan(refs(50, 50, 1))) == [["v00", "v01"], ["v02"]]


def test_plan_never_splits_or_reorders_a_video():
    videos = refs(*[(i * 37) % 90 + 1 for i in range(40)])
    for writer in (planner(videos=4), planner(nbytes=150), planner(videos=5, nbytes=200), CocoWriter()):
        shards = writer.plan(videos)
        assert [ref for s in shards for ref in s.refs] == videos
        for shard in shards:
            assert len(shard.refs) <= writer.shard_videos
            assert len(shard.refs) == 1 or sum(r.nbytes for r in shard.refs) <= writer.shard_bytes


def test_plan_is_deterministic():
    videos = refs(*[(i * 53) % 70 for i in range(30)])
    first = planner(videos=4, nbytes=120).plan(videos)
    assert planner(videos=4, nbytes=120).plan(list(videos)) == first
    assert planner(videos=4, nbytes=120).plan(tuple(videos)) == first


# ------------------------------------------------------------------ write failures


def test_an_output_under_a_file_is_an_output_error(sample_root, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"cannot write .*file/out\.json"):
        convert(sample_root, tmp_path / "file" / "out.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("stage", ["write_shard", "finalize"])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_disk_is_an_output_error_and_keeps_the_old_output(sample_root, tmp_path, monkeypatch, stage, workers):
    out = tmp_path / "out"
    make_old_output(out, "directory")
    before = tree(out)
    monkeypatch.setattr(CocoWriter, stage, disk_full)
    with pytest.raises(OutputError, match="No space left on device"):
        convert(sample_root, out, overwrite=True, workers=workers)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left


def test_a_full_disk_while_copying_frames_is_not_a_bad_source_video(sample_root, tmp_path, monkeypatch):
    """With on_error="skip" a write failure must stop the run, not skip every video as if it were bad. The disk fills
    as the frame's bytes are written (the file is made): the error names it, which a failed write itself does not."""
    import builtins

    from converters.formats.folders import exclusive

    class FullDisk(io.FileIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def full_disk_open(path, mode="r", *args, **kwargs):
        return FullDisk(path, mode) if mode == "xb" and str(path).endswith(".jpg") else builtins.open(path, mode, *args, **kwargs)

    monkeypatch.setattr(exclusive, "open", full_disk_open, raising=False)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match=r"No space left on device \(.*vosconv-partial.*\.jpg\)"):
        convert(sample_root, out, "mose", on_error="skip")
    assert list(tmp_path.iterdir()) == []


def test_a_source_file_that_goes_away_mid_run_is_a_source_error(sample_root, tmp_path):
    source = convert(sample_root, tmp_path / "c.json").output
    with api.open_reader(source, "coco") as r:
        r.list_videos()  # indexed, as a conversion does before the run
        source.unlink()
        with pytest.raises(SourceError, match=r"c\.json: cannot read video"):
            pipeline.convert(r, api.open_writer("parquet"), tmp_path / "out", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_failed_rename_into_place_puts_the_old_output_back(sample_root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    make_old_output(out, "directory")
    before = tree(out)
    aside = pipeline._aside(out)
    real = os.replace

    def replace(source, target):
        if Path(target) == out and Path(source) != aside:  # the new output's rename, not the way back
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError, match="Input/output error"):
        convert(sample_root, out, "mose", overwrite=True)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_worker_that_dies_is_not_reported_as_a_write_failure(sample_root, tmp_path, monkeypatch):
    parent, original = os.getpid(), CocoWriter.write_shard

    def write_shard(self, *args):
        if os.getpid() != parent:
            os._exit(9)  # the worker dies on its first shard; this process goes on with its own
        time.sleep(0.2)  # so the worker surely takes one
        return original(self, *args)

    monkeypatch.setattr(CocoWriter, "write_shard", write_shard)
    with pytest.raises(ChildProcessError, match="ended unexpectedly"):
        convert(sample_root, tmp_path / "o.json", workers=2)


def test_an_os_error_naming_a_source_file_is_a_source_error(sample_root, tmp_path, monkeypatch):
    victim = next((sample_root["mose"] / "train" / "JPEGImages").rglob("*.jpg"))

    def unreadable(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(victim))

    monkeypatch.setattr(CocoWriter, "write_shard", unreadable)
    with pytest.raises(SourceError, match=f"{victim}: cannot read: Input/output error"):
        convert(sample_root, tmp_path / "o.json")


def test_a_failure_after_publishing_says_the_output_was_written(sample_copy, tmp_path):
    source = sample_copy("mose")
    next((source / "train" / "Annotations").rglob("00002.png")).write_bytes(b"not a png")
    out = tmp_path / "out.json"
    pipeline.errors_path(out, False).mkdir()  # where the list of skipped videos would go
    with (
        api.open_reader(source, "mose", {"split": "train"}) as r,
        pytest.raises(OutputError, match=r"^wrote .*out\.json, but not"),
    ):
        pipeline.convert(r, api.open_writer("coco"), out, on_error="skip", progress=False)
    assert out.is_file()


class _Killed(BaseException):
    """A kill: nothing after it runs (no handler of vosconv's catches it)."""


def _skipping_runs(sample_copy, tmp_path):
    """A MOSE source with one bad PNG, a way to mend it, and a COCO output whose first run skipped that video."""
    source = sample_copy("mose")
    victim = next((source / "train" / "Annotations").rglob("00002.png"))
    good = victim.read_bytes()
    victim.write_bytes(b"not a png")
    out = tmp_path / "out.json"

    def run(**kwargs) -> pipeline.Summary:
        with api.open_reader(source, "mose", {"split": "train"}) as r:
            return pipeline.convert(r, api.open_writer("coco"), out, on_error="skip", progress=False, **kwargs)

    assert run().errors_file == pipeline.errors_path(out, False)
    return run, out, lambda: victim.write_bytes(good)


def test_a_run_without_skips_leaves_no_earlier_list_of_skipped_videos(sample_copy, tmp_path):
    run, out, mend = _skipping_runs(sample_copy, tmp_path)
    mend()
    assert run(overwrite=True).errors_file is None
    assert not pipeline.errors_path(out, False).exists()


def test_a_folder_replacing_a_file_output_leaves_no_list_beside_it(sample_copy, tmp_path):
    _, out, _ = _skipping_runs(sample_copy, tmp_path)
    with api.open_reader(sample_copy("davis"), "davis") as r:
        pipeline.convert(r, api.open_writer("parquet"), out, overwrite=True, progress=False)
    assert out.is_dir() and not pipeline.errors_path(out, False).exists()


def test_a_file_beside_a_new_folder_output_is_not_taken_for_a_list(sample_copy, tmp_path):
    """Named like a file output's list, but no file output of vosconv's is replaced: not vosconv's to delete."""
    out = tmp_path / "out"
    pipeline.errors_path(out, False).write_text("mine\n")
    with api.open_reader(sample_copy("davis"), "davis") as r:
        pipeline.convert(r, api.open_writer("parquet"), out, progress=False)
    assert pipeline.errors_path(out, False).read_text() == "mine\n"


@pytest.mark.parametrize("skips", [False, True])
def test_a_run_killed_after_publishing_leaves_no_earlier_list_beside_its_output(sample_copy, tmp_path, monkeypatch, skips):
    """Killed between publishing the file and its list of skipped videos: the earlier run's list must not sit beside
    the new output as if it were its own (it went before the output came)."""
    run, out, mend = _skipping_runs(sample_copy, tmp_path)
    if not skips:
        mend()
    published = pipeline.publish

    def publish_then_die(*args, **kwargs):
        published(*args, **kwargs)
        raise _Killed

    monkeypatch.setattr(pipeline, "publish", publish_then_die)
    with pytest.raises(_Killed):
        run(overwrite=True)
    assert out.is_file() and not pipeline.errors_path(out, False).exists()  # the new list was to come next


def _killed_at(run, rename_to: Path) -> None:
    """Run ``run(overwrite=True)`` in a child process that dies (no handler runs) once it renames a file to ``rename_to``."""
    pid = os.fork()
    if pid == 0:
        real = os.replace

        def replace(src, dst):
            real(src, dst)
            if Path(dst) == rename_to:
                os._exit(9)

        os.replace = replace
        try:
            run(overwrite=True)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 9


def test_a_run_killed_before_publishing_gives_the_old_output_its_list_back(sample_copy, tmp_path):
    """Killed once the old list is set aside, before the new output is in place: the old output is still the one
    in place, so the next run to that output, even one that is refused, puts its list back beside it."""
    run, out, mend = _skipping_runs(sample_copy, tmp_path)
    before = out.read_bytes(), pipeline.errors_path(out, False).read_bytes()
    mend()
    _killed_at(run, staging_path(out) / pipeline.STALE_ERRORS)
    assert not pipeline.errors_path(out, False).exists()  # what the kill left
    with pytest.raises(OutputError, match="an interrupted run"):
        run()
    assert (out.read_bytes(), pipeline.errors_path(out, False).read_bytes()) == before


@pytest.mark.parametrize("skips", [False, True])
def test_a_run_killed_after_publishing_gets_its_own_list_beside_its_output(sample_copy, tmp_path, skips):
    """Killed once the new output is in place, before its list is: the next run puts that list beside it (none when
    the new run skipped nothing), never the old output's."""
    run, out, mend = _skipping_runs(sample_copy, tmp_path)
    old = out.read_bytes()
    if not skips:
        mend()
    _killed_at(run, out)
    new = out.read_bytes()
    assert new != old or skips
    with pytest.raises(OutputError, match="already exists"):
        run()
    assert out.read_bytes() == new and not staging_path(out).exists()  # nothing left to resume
    beside = pipeline.errors_path(out, False)
    assert beside.exists() == skips
    if skips:
        assert "00002.png" in beside.read_text()


def test_a_folder_output_killed_once_in_place_is_no_interrupted_run(sample_copy, tmp_path):
    """Killed right after the rename that publishes it: the output is whole, and the next run says it exists
    (not that an interrupted run awaits --resume, which would write it all again)."""
    source, out = sample_copy("davis"), tmp_path / "out"

    def run(**kwargs) -> None:
        with api.open_reader(source, "davis") as r:
            pipeline.convert(r, api.open_writer("parquet"), out, progress=False, **kwargs)

    _killed_at(run, out)
    before = tree(out)
    with pytest.raises(OutputError, match="already exists"):
        run()
    assert tree(out) == before and not staging_path(out).exists()


def test_ctrl_c_once_the_output_is_published_says_it_is_whole_not_to_resume(sample_copy, tmp_path, monkeypatch):
    """A Ctrl-C while publishing clears away the replaced output (a large folder takes a while) comes after the output
    is in place: telling the user to --resume, which finds no interrupted run, would send them the wrong way."""
    source, out, reference = sample_copy("mose"), tmp_path / "out.json", tmp_path / "reference.json"
    with api.open_reader(source, "mose", {"split": "train"}) as r:
        pipeline.convert(r, api.open_writer("coco"), reference, progress=False)
    published = pipeline.publish

    def publish_then_ctrl_c(*args, **kwargs):
        published(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "publish", publish_then_ctrl_c)
    with api.open_reader(source, "mose", {"split": "train"}) as r, pytest.raises(pipeline.Interrupted) as caught:
        pipeline.convert(r, api.open_writer("coco"), out, progress=False)
    assert "written whole; there is nothing to resume" in str(caught.value) and "--resume" not in str(caught.value)
    assert out.read_bytes() == reference.read_bytes() and not pipeline.staging_path(out).exists()


def test_an_output_not_published_keeps_its_list_of_skipped_videos(sample_copy, tmp_path, monkeypatch):
    run, out, mend = _skipping_runs(sample_copy, tmp_path)
    before = out.read_bytes(), pipeline.errors_path(out, False).read_bytes()
    mend()

    def refuse(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out))

    monkeypatch.setattr(pipeline, "publish", refuse)
    with pytest.raises(OutputError, match="any previous output is untouched"):
        run(overwrite=True)
    assert (out.read_bytes(), pipeline.errors_path(out, False).read_bytes()) == before


def test_a_video_folder_that_is_a_link_is_protected(sample_copy, tmp_path):
    source = sample_copy("mose")
    masks = sorted((source / "train" / "Annotations").iterdir())[0]
    store = tmp_path / "one-video-masks"
    masks.rename(store)
    masks.symlink_to(store)
    before = tree(store)
    with api.open_reader(source, "mose", {"split": "train"}) as r, pytest.raises(OutputError, match="source data"):
        pipeline.convert(r, api.open_writer("coco"), store, overwrite=True, progress=False)
    assert tree(store) == before


def test_a_full_disk_for_an_output_inside_the_dataset_is_still_a_write_failure(sample_copy, monkeypatch):
    import builtins

    from converters.formats.folders import exclusive

    def full_disk_open(path, mode="r", *args, **kwargs):
        if "x" in mode:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return builtins.open(path, mode, *args, **kwargs)

    source = sample_copy("mose")
    monkeypatch.setattr(exclusive, "open", full_disk_open, raising=False)
    with api.open_reader(source, "mose", {"split": "train"}) as r, pytest.raises(OutputError, match="No space left"):
        pipeline.convert(r, api.open_writer("mose"), source / "copy", progress=False)


def test_a_fifo_inside_the_dataset_is_refused_without_opening_it(sample_copy):
    source = sample_copy("mose")
    os.mkfifo(source / "out.json")
    with api.open_reader(source, "mose", {"split": "train"}) as r, pytest.raises(OutputError, match="part of the source"):
        pipeline.convert(r, api.open_writer("coco"), source / "out.json", overwrite=True, progress=False)


def moved_coco(sample_root, tmp_path) -> tuple[Path, Path]:
    """A vosconv COCO file whose recorded image folder no longer exists; returns it and the folder it names."""
    written = convert(sample_root, tmp_path / "c.json").output
    root = json.loads(written.read_text())["info"]["vosconv"]["image_root"]
    source, gone = tmp_path / "moved.json", tmp_path / "gone"
    source.write_text(written.read_text().replace(json.dumps(root), json.dumps(str(gone))))
    written.unlink()
    return source, gone


@pytest.mark.parametrize("writer", ["parquet", "hdf5", "mose", "davis"])
def test_an_output_that_embeds_images_is_not_written_without_them(sample_root, tmp_path, writer):
    """The image folder moved: refused, naming the folder and --images, before anything is written; images=False writes it."""
    source, gone = moved_coco(sample_root, tmp_path)
    before = tree(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once, as the error, not as a warning first
        with api.open_reader(source, "coco") as r, pytest.raises(SourceError) as refused:
            pipeline.convert(r, api.open_writer(writer), tmp_path / "out", progress=False)
    message = str(refused.value)
    assert message.startswith(f"{source}: its images folder {gone} (recorded in the file) does not exist")
    assert "--images DIR" in message and "--no-images" in message
    assert tree(tmp_path) == before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with api.open_reader(source, "coco") as r:
            summary = pipeline.convert(r, api.open_writer(writer, {"images": False}), tmp_path / "out", progress=False)
    assert summary.stats.videos > 0


def test_a_coco_file_recording_no_image_folder_needs_images_or_no_images(sample_root, tmp_path):
    source, _ = moved_coco(sample_root, tmp_path)
    data = json.loads(source.read_text())
    data["info"]["vosconv"]["image_root"] = None
    source.write_text(json.dumps(data))
    with api.open_reader(source, "coco") as r, pytest.raises(SourceError, match=r"records no images folder.*--images DIR"):
        pipeline.convert(r, api.open_writer("parquet"), tmp_path / "out", progress=False)
    images = tmp_path / "frames"
    images.mkdir()
    with api.open_reader(source, "coco", {"images": str(images)}) as r:  # a folder given: its frames are looked for there
        assert r.missing_images() is None


def test_an_output_without_images_of_its_own_needs_no_image_folder(sample_root, tmp_path):
    """COCO names its frames and holds no image: converting a moved file to COCO is fine, and says nothing."""
    source, _ = moved_coco(sample_root, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with api.open_reader(source, "coco") as r:
            assert pipeline.convert(r, api.open_writer("coco"), tmp_path / "again.json", progress=False).stats.videos > 0


def test_a_run_killed_between_the_renames_of_a_replacement_gets_the_old_output_back(sample_copy, tmp_path):
    """Killed after moving the old output aside, before the new one is in place: the next run, even
    one that fails, puts the old output back instead of deleting it."""
    source = sample_copy("mose")
    out = tmp_path / "out"
    make_old_output(out, "directory")
    before = tree(out)
    pid = os.fork()
    if pid == 0:  # the run that is killed: its first rename (old output aside) is its last act
        real = os.replace

        def replace(src, dst):
            real(src, dst)
            if Path(dst) == pipeline._aside(out):
                os._exit(9)

        os.replace = replace
        try:
            with api.open_reader(source, "mose", {"split": "train"}) as r:
                pipeline.convert(r, api.open_writer("mose"), out, overwrite=True, progress=False)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 9
    assert not out.exists() and tree(pipeline._aside(out)) == before
    sorted((source / "train" / "Annotations").rglob("00002.png"))[0].write_bytes(b"not a png")
    with warnings.catch_warnings(record=True) as said, pytest.raises(SourceError, match=r"00002\.png"):
        warnings.simplefilter("always")
        with api.open_reader(source, "mose", {"split": "train"}) as r:
            pipeline.convert(r, api.open_writer("mose"), out, overwrite=True, progress=False)
    assert any("put back the previous output" in str(w.message) for w in said)
    assert tree(out) == before
    assert not pipeline._aside(out).exists() and not staging_path(out).exists()


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_a_second_run_to_an_output_being_written_is_refused_and_touches_nothing(sample_root, tmp_path, kind):
    from converters.run import locking

    out = tmp_path / ("out" if kind == "directory" else "out.json")
    make_old_output(out, kind)
    before = contents(out)
    staging = staging_path(out)
    (staging / "shards").mkdir(parents=True)
    (staging / "shards" / "00000.videos.jsonl").write_text("the first run's work")
    with locking.exclusive(out):  # the first run, still going
        with pytest.raises(OutputError, match=rf"being written by another vosconv run \(process {os.getpid()}\)"):
            convert(sample_root, out, "mose" if kind == "directory" else "coco", overwrite=True)
        assert contents(out) == before
        assert (staging / "shards" / "00000.videos.jsonl").read_text() == "the first run's work"
    summary = convert(sample_root, out, "mose" if kind == "directory" else "coco", overwrite=True)  # once it has ended
    assert summary.stats.videos > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # the lock is gone with the run


def test_the_lock_goes_when_a_run_fails_and_a_stale_lock_file_blocks_nothing(sample_copy, tmp_path):
    from converters.run import locking

    source = sample_copy("mose")
    victim = sorted((source / "train" / "Annotations").rglob("00002.png"))[0]
    good = victim.read_bytes()
    victim.write_bytes(b"not a png")
    out = tmp_path / "out" / "o.json"
    (tmp_path / "out").mkdir()
    with pytest.raises(SourceError), api.open_reader(source, "mose", {"split": "train"}) as r:
        pipeline.convert(r, api.open_writer("coco"), out, progress=False)
    assert list(out.parent.iterdir()) == []  # the folder was there before the run: it stays
    victim.write_bytes(good)
    locking.lock_path(out).write_text("12345\n")  # left by a process long gone: its flock went with it
    with api.open_reader(source, "mose", {"split": "train"}) as r:
        pipeline.convert(r, api.open_writer("coco"), out, progress=False)
    assert sorted(p.name for p in out.parent.iterdir()) == ["o.json"]


def test_without_flock_on_the_file_system_a_run_warns_and_goes_on(sample_root, tmp_path, monkeypatch):
    """Lustre mounted noflock, some FUSE mounts: flock fails with ENOSYS; the conversion still works."""
    from converters.run import locking

    def flock(fd, operation):
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))

    monkeypatch.setattr(locking.fcntl, "flock", flock)
    with pytest.warns(UserWarning, match="this file system cannot lock"):
        summary = convert(sample_root, tmp_path / "out.json")
    assert summary.stats.videos > 0 and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_lock_held_only_by_a_dead_runs_workers_is_waited_for_with_a_warning(tmp_path):
    """The run's process is gone but a worker it forked still holds the lock: wait, say so, then take it."""
    import fcntl

    from converters.run import locking

    out = tmp_path / "out.json"
    gone = os.fork()
    if gone == 0:
        os._exit(0)
    os.waitpid(gone, 0)  # a pid no process has now
    ready_r, ready_w = os.pipe()
    worker = os.fork()
    if worker == 0:  # the orphaned worker: holds the lock a moment, as a dead run's child would
        fd = os.open(locking.lock_path(out), os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"{gone}\n".encode())
        os.write(ready_w, b"x")
        time.sleep(0.5)
        os._exit(0)
    os.read(ready_r, 1)
    started = time.monotonic()
    warned = pytest.warns(UserWarning, match=rf"waiting for the workers of an ended run \(process {gone}\)")
    with warned, locking.exclusive(out):
        waited = time.monotonic() - started
    os.waitpid(worker, 0)
    assert waited > 0.2
    assert not locking.lock_path(out).exists()


def test_a_run_whose_new_folder_another_failed_run_removes_goes_on(sample_root, tmp_path, monkeypatch):
    """Run B finds ``new/`` (made by a run A beside it); A fails and removes it before B opens its lock file."""
    from converters.run import locking

    out = tmp_path / "new" / "out.json"
    real_open, removed = os.open, []

    def open_after_the_other_run_ended(path, *args, **kwargs):
        if str(path).endswith(".vosconv-lock") and not removed:
            removed.append(True)
            out.parent.rmdir()  # what run A's cleanup does
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(locking.os, "open", open_after_the_other_run_ended)
    convert(sample_root, out)
    assert removed and out.is_file()


@pytest.mark.parametrize("writer", ["mose", "parquet", "coco"])
def test_an_output_is_on_disk_before_the_rename_that_publishes_it(sample_root, tmp_path, monkeypatch, writer):
    """A power cut after the rename must not publish a folder of empty files: a folder's file system is synced (one
    syncfs), a file fsynced, before ``os.replace`` puts it in place."""
    from converters.run import publish

    events = []
    real_syncfs, real_fsync, real_replace = publish._syncfs, os.fsync, os.replace
    monkeypatch.setattr(publish, "_syncfs", lambda fd: events.append("syncfs") or real_syncfs(fd))
    monkeypatch.setattr(publish.os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(publish.os, "replace", lambda a, b: events.append(("replace", Path(b).name)) or real_replace(a, b))
    out = tmp_path / ("out.json" if writer == "coco" else "out")
    convert(sample_root, out, writer)
    published = events.index(("replace", out.name))
    assert ("syncfs" if writer != "coco" else "fsync") in events[:published], events


def test_a_run_killed_after_publishing_leaves_no_interrupted_run_behind(sample_root, tmp_path, monkeypatch):
    """Killed while removing its staging folder, after the output is in place: the next run must not report an
    interrupted run to --resume, nor discard one with a warning; the output is simply there."""
    real_remove = pipeline.remove

    def killed(path):
        if Path(path) == staging_path(out):
            raise KeyboardInterrupt  # stands for a kill: the staging folder stays
        return real_remove(path)

    out = tmp_path / "out.json"
    monkeypatch.setattr(pipeline, "remove", killed)
    with pytest.raises(KeyboardInterrupt):
        convert(sample_root, out)
    monkeypatch.undo()
    assert out.is_file() and staging_path(out).is_dir()
    with pytest.raises(OutputError, match="already exists"):
        convert(sample_root, out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "discarding an interrupted run"
        convert(sample_root, out, overwrite=True)


def test_reading_a_shard_holds_only_the_video_the_writer_is_on(sample_root):
    """What a shard's run keeps to blame a bad image on: the video handed on last, not every video of the shard (with
    frames embedded, a Parquet or HDF5 source's, that was the whole shard's JPEG bytes until it was written)."""
    from converters.run.tasks import read_shard

    with api.open_reader(sample_root["mose"], "mose", {"split": "train"}) as reader:
        refs = reader.list_videos()
        handed: list = []
        names = []
        for video in read_shard(reader, Shard(0, tuple(refs)), Stats(), handed=handed):
            assert len(handed) == 1 and handed[0][1] is video
            names.append(video.name)
    assert names == [ref.name for ref in refs] and len(names) > 1


def test_a_source_that_lists_no_videos_is_converted_with_a_warning_naming_it(tmp_path, capsys):
    """An empty folder or a split of nothing wrote an empty output and exit 0 without a word, as if it had worked."""
    from converters.cli import main

    source = tmp_path / "MOSE" / "train"
    (source / "JPEGImages").mkdir(parents=True)
    (source / "Annotations").mkdir()
    with pytest.warns(VosconvWarning, match=r"MOSE/train: the mose reader lists no videos; .*out\.json will hold none"):
        summary = api.convert(source, tmp_path / "out.json", to="coco", from_="mose")
    assert summary.stats.to_dict()["videos"] == 0 and (tmp_path / "out.json").is_file()
    assert main(["convert", str(source), "-o", str(tmp_path / "cli.json"), "--from", "mose"]) == 0
    assert "the mose reader lists no videos" in capsys.readouterr().err


def test_files_no_finished_shard_wrote_are_not_published(sample_copy, tmp_path, monkeypatch):
    """Ray runs a task again when its worker died (killed for memory): the dead attempt's files of a video the next
    attempt skips (its mask unreadable now) were no shard's, and were published with the output all the same."""
    from converters.run import resume

    source = sample_copy("mose")
    victim = next((source / "train" / "Annotations").rglob("00002.png"))
    victim.write_bytes(b"not a png")
    video = victim.parent.name
    start = resume.start_staging

    def dead_attempt(staging: Path, output: Path, resuming: bool) -> None:
        start(staging, output, resuming)
        for kind, name in (("JPEGImages", "00000.jpg"), ("Annotations", "00000.png")):
            (staging / "output" / kind / video).mkdir(parents=True)
            (staging / "output" / kind / video / name).write_bytes(b"half written")

    monkeypatch.setattr(resume, "start_staging", dead_attempt)
    with api.open_reader(source, "mose", {"split": "train"}) as r:
        summary = pipeline.convert(r, api.open_writer("mose"), tmp_path / "out", on_error="skip", progress=False)
    assert [record["video"] for record in summary.stats.skipped] == [video]
    assert not (tmp_path / "out" / "JPEGImages" / video).exists()
    assert not (tmp_path / "out" / "Annotations" / video).exists()
    assert sorted(p.name for p in (tmp_path / "out" / "JPEGImages").iterdir()) == sorted(
        p.name for p in (source / "train" / "JPEGImages").iterdir() if p.name != video and not p.name.startswith(".")
    )
