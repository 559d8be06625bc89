"""Names a file system folds (case, Unicode normalisation) never merge two videos' folders or files in silence.

On macOS APFS and Windows NTFS (by default) ``Bear`` and ``bear``, or ``café`` in NFC and in NFD, are one entry:
``mkdir("bear")`` fails and ``open("bear/00000.jpg", "wb")`` writes into ``Bear/``. This machine's file systems are
case-sensitive and no case-folding one can be mounted here (no vfat, no CONFIG_UNICODE), so the tests show a writer
what such a file system shows it: the folded name is already an entry, leading to the first video's. A link of that
name to the first video's entry does exactly that (``mkdir`` and an exclusive ``open`` fail on it, a plain ``open``
goes through it), with nothing in the writer replaced. A writer that reused the entry wrote the second video's files
over the first's, as it would on a folding file system.
"""

from __future__ import annotations

import json
import os
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from converters import api
from converters.codecs.rle import encode
from converters.errors import SourceError
from converters.formats.davis.writer import DavisWriter
from converters.formats.mose.writer import MoseWriter
from converters.formats.sav.writer import SavWriter, SavWriterOptions
from converters.formats.youtube_vos.writer import YoutubeVosWriter
from converters.model import DatasetInfo, Frame, FrameMasks, ImageRef, MaskEncoding, ObjectInfo, Video
from converters.run import resume
from converters.writer import Shard

NFC, NFD = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
#: (the name written first, the name a folding file system takes for it)
PAIRS = [("Bear", "bear"), (NFC, NFD)]
FOLDS = "on this file system, which folds case or Unicode normalisation"


def fold(folder: Path, name: str, into: str) -> None:
    """Make ``folder/name`` what a folding file system makes it: the entry ``into``, whether there yet or not."""
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(into, folder / name)


def files_under(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (links not followed) with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def _video(name: str, shade: int, objects: int = 1) -> Video:
    """Two annotated frames with JPEG bytes of their own (``shade``), one object in each."""
    label = np.zeros((6, 8), np.uint8)
    label[1 : 2 + shade % 4, 2:6] = 1
    masks = FrameMasks(tuple(encode(label))) if objects else FrameMasks(())
    frames = tuple(Frame(i, f"0000{i}.jpg", ImageRef(data=b"\xff\xd8" + bytes([shade, i]) * 9), masks) for i in range(2))
    return Video(name, 8, 6, frames, (ObjectInfo(1),) if objects else (), MaskEncoding.PALETTE)


LAYOUTS = {
    MoseWriter: ("JPEGImages", "Annotations"),
    DavisWriter: ("JPEGImages/480p", "Annotations/480p"),
    YoutubeVosWriter: ("JPEGImages", "Annotations"),
}


@pytest.mark.parametrize("writer", list(LAYOUTS), ids=lambda w: w.name)
@pytest.mark.parametrize(("first", "second"), PAIRS, ids=["case", "normalisation"])
def test_a_layout_refuses_a_video_whose_folder_the_file_system_takes_for_another_s(writer, first, second, tmp_path):
    info = DatasetInfo("test")
    writer().write_shard([_video(first, 1)], Shard(0, ()), tmp_path, info)
    written = files_under(tmp_path)
    for folder in LAYOUTS[writer]:
        fold(tmp_path / "output" / folder, second, first)
    with pytest.raises(SourceError) as refused:
        writer().write_shard([_video(second, 2)], Shard(1, ()), tmp_path, info)
    assert refused.value.path == second
    assert f"the folder of video {first!r} ({LAYOUTS[writer][0]}/{first}) {FOLDS}" in refused.value.cause
    assert "write coco, parquet or hdf5, or to a case-sensitive volume" in refused.value.cause
    assert files_under(tmp_path) == written  # the first video's files as they were, nothing of the second's


def test_without_images_the_annotations_folder_is_the_one_refused(tmp_path):
    from converters.formats.folders.writer import LayoutOptions

    writer = MoseWriter(LayoutOptions(images=False))
    writer.write_shard([_video("Bear", 1)], Shard(0, ()), tmp_path, DatasetInfo("test"))
    written = files_under(tmp_path)
    fold(tmp_path / "output" / "Annotations", "bear", "Bear")
    with pytest.raises(SourceError, match=r"^bear: Annotations/bear is the folder of video 'Bear' \(Annotations/Bear\)"):
        writer.write_shard([_video("bear", 2)], Shard(1, ()), tmp_path, DatasetInfo("test"))
    assert files_under(tmp_path) == written


def test_sav_refuses_a_video_whose_folder_the_file_system_takes_for_another_s(tmp_path):
    info = DatasetInfo("test")
    SavWriter().write_shard([_video("Bear", 1)], Shard(0, ()), tmp_path, info)
    written = files_under(tmp_path)
    for folder in ("JPEGImages_24fps", "Annotations_6fps"):
        fold(tmp_path / "output" / folder, "bear", "Bear")
    with pytest.raises(SourceError, match=r"^bear: JPEGImages_24fps/bear is the folder of video 'Bear'"):
        SavWriter().write_shard([_video("bear", 2)], Shard(1, ()), tmp_path, info)
    assert files_under(tmp_path) == written


@pytest.mark.parametrize(("options", "shared"), [({"images": False}, ".vosconv"), ({"json": True}, "Annotations_json")])
def test_sav_refuses_a_file_the_file_system_takes_for_another_video_s(tmp_path, options, shared):
    """A video without objects written without images has no folder of its own, only its files in folders every
    video's share (``.vosconv/<video>.json``; with json=true ``Annotations_json/<video>_manual.json``): there it is the
    file, opened for exclusive creation, that finds the other video's. Nothing of the refused video is left."""
    writer, info = SavWriter(SavWriterOptions(**options)), DatasetInfo("test")
    writer.write_shard([_video("Bear", 1, objects=0)], Shard(0, ()), tmp_path, info)
    written = files_under(tmp_path)
    suffix = ".json" if shared == ".vosconv" else "_manual.json"
    fold(tmp_path / "output" / shared, f"bear{suffix}", f"Bear{suffix}")
    if options.get("json"):  # its images go into a folder of its own, which does not collide here
        shutil.rmtree(tmp_path / "output" / "JPEGImages_24fps" / "Bear")
        written = files_under(tmp_path)
    expected = rf"^bear: {shared}/bear{suffix} is the file {shared}/Bear{suffix} {FOLDS}.*: writing it would replace that file"
    with pytest.raises(SourceError, match=expected):
        writer.write_shard([_video("bear", 2, objects=0)], Shard(1, ()), tmp_path, info)
    assert files_under(tmp_path) == written


def test_an_entry_that_leads_to_no_other_is_said_to_be_another_video_s(tmp_path):
    fold(tmp_path / "output" / "JPEGImages", "v", "gone")  # an entry under the name, not a folder made for the video
    with pytest.raises(SourceError, match=r"^v: JPEGImages/v is already there, another video's, on this file system"):
        MoseWriter().write_shard([_video("v", 1)], Shard(0, ()), tmp_path, DatasetInfo("test"))
    assert files_under(tmp_path) == {}


# The pipeline: two videos of a source whose names a folding file system takes for one.


@pytest.fixture
def folded_source(sample_root, tmp_path):
    """``(source, first, second, kept)`` for each pair: the MOSE sample's train split with a whole video as ``first``
    and two frames of another as ``second`` (fewer bytes, so it is written second), and a source of ``first`` alone."""

    def make(first: str, second: str) -> tuple[Path, Path]:
        train = sample_root["mose"] / "train"
        big, small, _ = sorted(p.name for p in (train / "JPEGImages").iterdir() if p.is_dir())
        source, kept = tmp_path / "source", tmp_path / "kept"
        two = {p.stem for p in sorted((train / "Annotations" / small).iterdir())[:2]}  # two annotated frames
        for root, videos in ((source, {first: big, second: small}), (kept, {first: big})):
            for kind in ("JPEGImages", "Annotations"):
                for name, video in videos.items():
                    (root / "train" / kind / name).mkdir(parents=True)
                    for path in (train / kind / video).iterdir():
                        if name == first or path.stem in two:
                            shutil.copyfile(path, root / "train" / kind / name / path.name)
        return source, kept

    return make


def fold_in_staging(monkeypatch, folders: tuple[str, ...], first: str, second: str) -> None:
    """As the run starts: ``second`` in each of the output's ``folders`` is the entry ``first``, as a folding file
    system has it (the run makes ``first`` itself, in ``second``'s place)."""
    start = resume.start_staging

    def start_staging(staging: Path, output: Path, resuming: bool) -> None:
        start(staging, output, resuming)
        for folder in folders:
            fold(staging / "output" / folder, second, first)

    monkeypatch.setattr(resume, "start_staging", start_staging)


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=["case", "normalisation"])
@pytest.mark.parametrize("layout", ["mose", "sav"])
def test_a_conversion_refuses_or_skips_the_second_of_two_videos_a_file_system_folds_into_one(
    folded_source, monkeypatch, tmp_path, first, second, layout
):
    source, kept = folded_source(first, second)
    folders = ("JPEGImages", "Annotations") if layout == "mose" else ("JPEGImages_24fps", "Annotations_6fps")
    fold_in_staging(monkeypatch, folders, first, second)
    options = {"to": layout, "from_": "mose", "reader_options": {"split": "train"}}
    with pytest.raises(SourceError, match=f"{folders[0]}/{second} is the folder of video {first!r}") as refused:
        api.convert(source, tmp_path / "refused", **options)
    assert refused.value.path == second
    assert not (tmp_path / "refused").exists()

    out = tmp_path / "out"
    summary = api.convert(source, out, on_error="skip", **options)
    (record,) = summary.stats.skipped
    assert (record["video"], record["file"], record["error"]) == (second, second, "writer")
    assert FOLDS in record["message"] and "case-sensitive volume" in record["message"]
    assert [json.loads(line) for line in summary.errors_file.read_text().splitlines()] == [record]
    for folder in folders:  # no entry of the second's own (the stand-in link is no output's file: the run removed it)
        assert not (out / folder / second).exists() or (out / folder / second).is_symlink()
    expected = tmp_path / "expected"
    monkeypatch.undo()
    api.convert(kept, expected, **options)
    for folder in folders:  # the first video's files are its own, none replaced by the second's
        assert files_under(out / folder / first) == files_under(expected / folder / first)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_shard_written_again_under_skip_starts_from_nothing(sample_root, tmp_path, monkeypatch, workers):
    """A shard of several videos written again without one (an image only the writer finds damaged): the writer took
    away what it wrote of the shard, so the files it writes anew are new, not a collision with its own."""
    from tests.archives import stored_zip_with_damaged_members

    monkeypatch.setattr(MoseWriter, "shard_videos", 10)  # one shard of all the videos
    root = sample_root["mose"]
    videos = sorted(p.name for p in (root / "train" / "JPEGImages").iterdir() if p.is_dir())
    member = f"train/JPEGImages/{videos[1]}/00003.jpg"  # the second video: the first is written before it fails
    source = stored_zip_with_damaged_members(root, tmp_path / "damaged.zip", [member])
    options = {"from_": "mose", "reader_options": {"split": "train"}, "workers": workers}
    summary = api.convert(source, tmp_path / "out", to="mose", on_error="skip", **options)
    assert [(r["video"], r["file"]) for r in summary.stats.skipped] == [(videos[1], f"{source}/{member}")]
    assert sorted(v.name for v in api.read_videos(tmp_path / "out", "mose")) == [videos[0], videos[2]]


# A shard's task run again after its worker died (Ray retries such a task, docs/cluster.md): what the dead attempt made
# is under the very names the retry makes, real folders and files, never links; it is the video's own, not another's.


def _dead_attempt(writer, videos, staging: Path, info: DatasetInfo, *, half: bool) -> None:
    """What a worker killed while writing the shard left: everything (killed before its result was sent), or
    (``half``) the first video's folders with one file cut short, as a kill mid-write leaves them."""
    writer.write_shard(videos, Shard(0, ()), staging, info)
    if half:
        for path in sorted((staging / "output").rglob("*"), reverse=True):
            if path.is_file() and path.parent.name == videos[0].name and path.name != "00000.jpg":
                path.unlink()
        for path in (staging / "output").rglob("00000.jpg"):
            path.write_bytes(path.read_bytes()[:3])


@pytest.mark.parametrize("half", [False, True], ids=["whole", "half"])
@pytest.mark.parametrize(
    "writer",
    [MoseWriter(), DavisWriter(), SavWriter(), SavWriter(SavWriterOptions(json=True))],
    ids=["mose", "davis", "sav", "sav-json"],
)
def test_a_shard_written_again_after_its_worker_died_replaces_what_that_attempt_made(writer, half, tmp_path):
    info, videos = DatasetInfo("test"), [_video("Bear", 1), _video("cat", 2)]
    writer.write_shard(videos, Shard(0, ()), tmp_path / "clean", info)
    _dead_attempt(writer, videos, tmp_path / "retried", info, half=half)
    result = writer.write_shard(videos, Shard(0, ()), tmp_path / "retried", info)
    assert files_under(tmp_path / "retried") == files_under(tmp_path / "clean")
    assert sorted(result.files) == sorted(files_under(tmp_path / "clean"))


def test_a_sav_video_of_shared_files_alone_is_written_again_after_its_worker_died(tmp_path):
    """Without images or objects a video's only files are in folders every video shares (``.vosconv/<video>.json``)."""
    writer, info = SavWriter(SavWriterOptions(images=False, json=True)), DatasetInfo("test")
    videos = [_video("Bear", 1, objects=0)]
    writer.write_shard(videos, Shard(0, ()), tmp_path / "clean", info)
    writer.write_shard(videos, Shard(0, ()), tmp_path / "retried", info)
    (tmp_path / "retried" / "output" / ".vosconv" / "Bear.json").write_bytes(b"{")  # cut short by the kill
    writer.write_shard(videos, Shard(0, ()), tmp_path / "retried", info)
    assert files_under(tmp_path / "retried") == files_under(tmp_path / "clean")
