"""What a reader holds, and for how long: a closed reader says so, and a COCO reader's temporary index goes with it,
whether it was closed, collected without being closed, or used after its ``with`` block."""

from __future__ import annotations

import gc
import gzip
import os
import pickle
from pathlib import Path

import pytest

import converters
from converters.errors import OptionError, SourceError, VosconvError


@pytest.fixture(scope="module")
def coco_files(sample_root, tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("coco-lifetime")
    plain = base / "train.json"
    converters.convert(sample_root["mose"] / "train", plain, to="coco")
    packed = base / "train.json.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    cocovid = base / "train.cocovid.json"
    converters.convert(sample_root["mose"] / "train", cocovid, to="cocovid")
    return {"coco": plain, "coco-gz": packed, "cocovid": cocovid}


def index_folders(tmp_path: Path) -> set[str]:
    return {name for name in os.listdir(tmp_path) if name.startswith(("vosconv-coco-", "vosconv-cocovid-"))}


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """The readers' temporary folders go here, so that other runs' folders are not counted."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    return tmp_path


@pytest.mark.parametrize("kind", ["mose-folder", "mose-zip", "coco", "coco-gz", "cocovid"])
def test_a_closed_reader_says_so(sample_root, coco_files, tmp_path, kind, private_tmp):
    """After the ``with`` block, reading again opened again what ``close`` released (a COCO file's index folder, left
    behind for good) or, for a .json.gz, failed with 'No such file or directory', naming no reader."""
    if kind == "mose-zip":
        import shutil

        source = Path(shutil.make_archive(str(tmp_path / "mose"), "zip", sample_root["mose"] / "train"))
    elif kind == "mose-folder":
        source = sample_root["mose"] / "train"
    else:
        source = coco_files[kind]
    with converters.open_reader(source) as reader:
        refs = reader.list_videos()
        reader.read_video(refs[0])
    for call in (lambda: reader.read_video(refs[0]), reader.list_videos, reader.info):
        with pytest.raises(VosconvError, match="on a closed reader") as caught:
            call()
        assert os.fspath(source) in str(caught.value)
    assert index_folders(private_tmp) == set()
    assert "(closed)" in repr(reader)


@pytest.mark.parametrize("kind", ["coco", "coco-gz", "cocovid"])
def test_an_unclosed_coco_reader_removes_its_index_when_collected(coco_files, kind, private_tmp):
    """``converters.open_reader("x.json").list_videos()`` in a notebook: the index folder (a copy of the annotations)
    stayed in the temporary folder for good."""
    reader = converters.open_reader(coco_files[kind])
    reader.read_video(reader.list_videos()[0])
    assert len(index_folders(private_tmp)) == 1
    del reader
    gc.collect()
    assert index_folders(private_tmp) == set()


def test_a_pickled_coco_reader_leaves_the_index_to_its_owner(coco_files, private_tmp):
    """A worker's copy of the reader reads the owner's index and never removes it."""
    with converters.open_reader(coco_files["coco"]) as reader:
        refs = reader.list_videos()
        copy = pickle.loads(pickle.dumps(reader))
        assert copy.read_video(refs[0]) == reader.read_video(refs[0])
        del copy
        gc.collect()
        assert len(index_folders(private_tmp)) == 1
    assert index_folders(private_tmp) == set()


@pytest.mark.parametrize("kind", ["coco", "cocovid"])
def test_a_pickled_coco_reader_that_closes_leaves_the_owner_s_index(coco_files, kind, private_tmp):
    """A worker that closes its copy (its own ``with`` block) removed the index folder its owner still reads from."""
    with converters.open_reader(coco_files[kind]) as reader:
        refs = reader.list_videos()
        with pickle.loads(pickle.dumps(reader)) as copy:
            first = copy.read_video(refs[0])
        assert len(index_folders(private_tmp)) == 1
        assert reader.read_video(refs[0]) == first
    assert index_folders(private_tmp) == set()


@pytest.mark.parametrize("kind", ["coco", "cocovid"])
def test_a_forked_copy_that_closes_leaves_the_owner_s_index(coco_files, kind, private_tmp):
    """A forked child (a DataLoader worker, a user's own pool) closing the reader removed its parent's index."""
    with converters.open_reader(coco_files[kind]) as reader:
        refs = reader.list_videos()
        pid = os.fork()
        if pid == 0:  # the child: close its copy and leave at once, as a worker does
            try:
                reader.close()
            finally:
                os._exit(0)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        assert len(index_folders(private_tmp)) == 1
        assert reader.read_video(refs[0]).name == refs[0].name
    assert index_folders(private_tmp) == set()


# ------------------------------------------------------------------ read_videos


def test_read_videos_says_what_is_wrong_at_the_call(tmp_path, sample_root):
    """A missing source or a misspelt option was an error only at the first ``next``, far from the line that made it."""
    with pytest.raises(SourceError, match="no such file or folder"):
        converters.read_videos(tmp_path / "nowhere")
    with pytest.raises(OptionError, match="did you mean 'split'"):
        converters.read_videos(sample_root["mose"], splt="train")


def test_read_videos_read_twice_is_an_error_not_nothing(sample_root):
    """A second loop over the generator gave no video and no word: a notebook's statistics over 0 videos."""
    videos = converters.read_videos(sample_root["mose"] / "train")
    names = [video.name for video in videos]
    assert len(names) == 3
    assert repr(videos) == f"<read_videos({str(sample_root['mose'] / 'train')!r}): all 3 read>"
    with pytest.raises(VosconvError, match=r"gave every video already; call converters\.read_videos again"):
        list(videos)
    with pytest.raises(StopIteration):  # next() after the end is the end, as for any iterator
        next(videos)
    assert [video.name for video in converters.read_videos(sample_root["mose"] / "train")] == names


def test_read_videos_goes_on_where_a_loop_stopped(sample_root):
    videos = converters.read_videos(sample_root["mose"] / "train")
    first = next(videos)
    assert repr(videos).endswith(": 1 of 3 read>")
    assert [first.name] + [video.name for video in videos] == [
        v.name for v in converters.read_videos(sample_root["mose"] / "train")
    ]


def test_read_videos_takes_convert_s_names(sample_root):
    """``from_`` and ``reader_options`` as :func:`converters.convert` names them were unknown reader options."""
    expected = [v.name for v in converters.read_videos(sample_root["mose"], "mose", split="valid")]
    assert [
        v.name for v in converters.read_videos(sample_root["mose"], from_="mose", reader_options={"split": "valid"})
    ] == expected
    with pytest.raises(OptionError, match=r"^split: given both"):
        converters.read_videos(sample_root["mose"], reader_options={"split": "valid"}, split="train")
    with pytest.raises(OptionError, match=r"^from_: "):
        converters.read_videos(sample_root["mose"], "davis", from_="mose")
    with pytest.raises(OptionError, match=r"^reader_options: expected a mapping"):
        converters.read_videos(sample_root["mose"], reader_options="split=train")


@pytest.mark.parametrize("kind", ["coco", "cocovid"])
def test_read_videos_releases_the_reader(coco_files, kind, private_tmp):
    """At the last video, at the end of a ``with`` block, on ``close()``, or when the iterator is collected."""
    list(converters.read_videos(coco_files[kind]))
    assert index_folders(private_tmp) == set()
    with converters.read_videos(coco_files[kind]) as videos:
        next(videos)
        assert len(index_folders(private_tmp)) == 1
    assert index_folders(private_tmp) == set()
    with pytest.raises(VosconvError, match="was closed"):
        iter(videos)
    videos = converters.read_videos(coco_files[kind])
    next(videos)
    del videos
    gc.collect()
    assert index_folders(private_tmp) == set()


def test_a_reader_s_warning_names_its_caller_not_the_closed_guard(sample_root, tmp_path):
    """The guard of closed readers wrapped every reader method: each reader warning then named the wrapper's line."""
    import shutil
    import warnings

    from converters.errors import VosconvWarning

    frames = tmp_path / "train"
    shutil.copytree(sample_root["mose"] / "train", frames)
    converters.convert(frames, tmp_path / "out.parquet", to="parquet", writer_options={"images": False})
    shutil.rmtree(frames)  # the recorded image folder is gone: info() warns
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        converters.convert(tmp_path / "out.parquet", tmp_path / "out.json", to="coco")
    (warning,) = [w for w in caught if issubclass(w.category, VosconvWarning)]
    assert "images are not embedded" in str(warning.message)
    assert Path(warning.filename).name == "pipeline.py"


def test_read_videos_goes_on_after_a_video_that_cannot_be_read(sample_root, tmp_path):
    """A notebook looking through a damaged source: the bad video's SourceError, then the next video."""
    import shutil

    source = tmp_path / "train"
    shutil.copytree(sample_root["mose"] / "train", source)
    names = sorted(p.name for p in (source / "Annotations").iterdir())
    first_mask = sorted((source / "Annotations" / names[1]).iterdir())[0]
    first_mask.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)  # a PNG cut short
    videos = converters.read_videos(source)
    assert next(videos).name == names[0]
    with pytest.raises(SourceError) as caught:
        next(videos)
    assert caught.value.path == str(first_mask)
    assert [video.name for video in videos] == names[2:]


def test_read_videos_of_a_source_that_cannot_be_listed_ends_after_its_error(sample_root, tmp_path):
    """A loop that passes each SourceError and goes on, as above, over a source whose videos cannot be listed (a
    manifest that disagrees with itself): every next() listed again and met the same error, a loop that never ended
    (found by fuzzing). The error comes once, then the loop ends."""
    import json

    out = tmp_path / "out"
    converters.convert(sample_root["mose"], out, to="hdf5", reader_options={"split": "train"})
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["shards"][0]["videos"].pop()
    (out / "manifest.json").write_text(json.dumps(manifest))
    videos, errors = converters.read_videos(out), []
    for _ in range(3):  # bounded here; a while-loop passing errors until StopIteration was the hang
        try:
            next(videos)
        except SourceError as exc:
            errors.append(exc)
        except StopIteration:
            break
    assert len(errors) == 1 and errors[0].path == str(out / "manifest.json")
