"""The JSON readers' temporary files (the index of a COCO file, a YouTube-VIS file's lines, CocoVID's tracks):
a full disk or a missing ``TMPDIR`` there is said to be that, never "cannot read" of a source that is fine."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from converters import api
from converters.errors import OutputError, SourceError
from converters.sample import write_sample
from converters.sources import tempfiles

from ..archives import pack
from .test_ytvis import write_2019

#: Every file a JSON reader writes in its temporary folder.
WRITTEN = ("records.json", "tracks.json", "elements.json")


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    """One file each reader writes temporary files for: vosconv's COCO (plain and gzipped), CocoVID, YouTube-VIS."""
    root = tmp_path_factory.mktemp("temporary")
    mose = write_sample(root / "mose", "mose") / "train"
    made = {}
    for name, to in (("x.json", "coco"), ("x.json.gz", "coco"), ("x.cocovid.json", "cocovid")):
        made[name] = api.convert(mose, root / name, to=to).output
    made["ytvis"] = write_2019(root / "ytvis") / "train.json"
    return made


@pytest.fixture
def full_disk(monkeypatch, tmp_path):
    """Temporary folders whose files are all /dev/full: every write there fails with ENOSPC, as on a full disk."""

    def make_folder(prefix: str) -> str:
        folder = tempfile.mkdtemp(prefix=prefix, dir=tmp_path)
        for name in WRITTEN:
            os.symlink("/dev/full", os.path.join(folder, name))
        return folder

    monkeypatch.setattr(tempfiles, "make_folder", make_folder)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("name", ["x.json.gz", "x.cocovid.json", "ytvis"])
def test_a_full_disk_under_tmpdir_is_said_to_be_that(sources, full_disk, tmp_path, name):
    with pytest.raises(OutputError) as caught:
        api.read_videos(sources[name]).__next__()
    said = f"cannot write temporary files in {tmp_path}: No space left on device; set TMPDIR to a folder with room"
    assert str(caught.value) == said
    assert not isinstance(caught.value, SourceError)


@pytest.mark.parametrize("name", ["x.json", "x.json.gz", "x.cocovid.json", "ytvis"])
def test_a_tmpdir_that_is_no_folder_is_named(sources, monkeypatch, tmp_path, name):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with pytest.raises(OutputError, match=rf"^cannot write temporary files in {tmp_path}/missing: No such file"):
        next(api.read_videos(sources[name]))


def test_a_source_that_cannot_be_read_is_still_said_to_be_that(sources, tmp_path):
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(sources["x.json.gz"].read_bytes()[:-40])
    with pytest.raises(SourceError, match=r"cut\.json\.gz: cannot read: "):
        next(api.read_videos(cut))


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_an_archive_s_index_that_cannot_be_saved_is_said_to_be_that(tmp_path, monkeypatch, kind):
    """The index of an archive source, saved for the workers, goes to a temporary folder as well."""
    archive = pack(write_sample(tmp_path / "mose", "mose"), tmp_path / f"mose.{kind}", kind)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with pytest.raises(OutputError, match=rf"^cannot write temporary files in {tmp_path}/missing: No such file"):
        next(api.read_videos(archive, split="train"))


def test_no_usable_temporary_folder_at_all_is_said_to_be_that(monkeypatch):
    """Python's own search found none (every candidate read-only, say): the message is still vosconv's, whole."""
    import errno

    def none_usable(**kwargs):
        raise FileNotFoundError(errno.ENOENT, "No usable temporary directory found in ['/tmp', '/var/tmp']")

    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setattr(tempfile, "mkdtemp", none_usable)
    with pytest.raises(OutputError, match=r"^cannot write temporary files in any temporary folder: No usable temporary"):
        tempfiles.make_folder("vosconv-x-")
