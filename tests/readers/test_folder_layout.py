"""FolderLayoutReader: a new folder layout is a subclass that says where its folders are (as its docstring shows)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from converters.errors import SourceError
from converters.formats.folders.reader import FolderLayoutReader, LayoutFolders, VideoIndex
from converters.formats.folders.spec import ANNOTATIONS, IMAGES
from converters.formats.mose.reader import MoseOptions, MoseReader
from converters.model import DatasetInfo, ObjectInfo
from converters.reader import Detection


@dataclass(frozen=True)
class FlatOptions:
    index: str | None = None  # a file naming the videos to read, one a line


class FlatReader(FolderLayoutReader):
    """A made-up layout: ``frames/<video>/`` beside ``masks/<video>/``, an optional index, objects of category 1."""

    name = "flat"
    Options = FlatOptions

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        return Detection(10 if (source / "frames").is_dir() else 0, "frames/")

    def info(self) -> DatasetInfo:
        return DatasetInfo(source_format=self.name, image_root=str(self.source / "frames"))

    def layout_folders(self) -> LayoutFolders:
        index = None
        if self.options.index is not None:
            path = self.source / self.options.index
            index = VideoIndex(path, tuple(path.read_text().split()), "clip", only=True)
        objects = {name: (ObjectInfo(1, 1),) for name in ("a", "b")}
        return LayoutFolders(self.source / "frames", self.source / "masks", index, objects)


@pytest.fixture
def flat(sample_root, tmp_path) -> tuple[Path, list[str]]:
    """The MOSE sample's train split moved into the flat layout."""
    train = sample_root["mose"] / "train"
    root = tmp_path / "flat"
    shutil.copytree(train / IMAGES, root / "frames")
    shutil.copytree(train / ANNOTATIONS, root / "masks")
    return root, sorted(p.name for p in (root / "frames").iterdir() if not p.name.startswith("."))


def test_a_subclass_reads_what_mose_reads(flat, sample_root):
    root, _ = flat
    with MoseReader(sample_root["mose"], MoseOptions(split="train")) as mose, FlatReader(root) as reader:
        theirs = [mose.read_video(ref) for ref in mose.list_videos()]
        refs = reader.list_videos()
        assert [r.name for r in refs] == [v.name for v in theirs]
        assert [r.nbytes for r in refs] == [r.nbytes for r in mose.list_videos()]
        mine = [reader.read_video(ref) for ref in refs]
    frames = [[(f.file_name, f.masks, Path(f.image.path).read_bytes()) for f in v.frames] for v in mine]
    assert frames == [[(f.file_name, f.masks, Path(f.image.path).read_bytes()) for f in v.frames] for v in theirs]
    assert [(v.objects, v.encoding, v.palette) for v in mine] == [(v.objects, v.encoding, v.palette) for v in theirs]
    assert reader.roots() == [root, root / "frames", root / "masks"]


def test_objects_from_metadata_are_kept(flat):
    root, names = flat
    # a video named "a": objects from the layout's metadata
    for folder in ("frames", "masks"):
        shutil.copytree(root / folder / names[0], root / folder / "a")
    with FlatReader(root) as reader:
        (ref,) = [r for r in reader.list_videos() if r.name == "a"]
        assert ref.objects == (ObjectInfo(1, 1),)
        assert reader.read_video(ref).objects[0] == ObjectInfo(1, 1)


def test_an_index_restricts_and_names_what_is_missing(flat):
    root, names = flat
    (root / "some.txt").write_text(f"{names[1]}\n{names[0]}\n")
    with FlatReader(root, FlatOptions("some.txt")) as reader:
        assert [r.name for r in reader.list_videos()] == sorted(names[:2])
    (root / "some.txt").write_text(f"{names[0]}\nghost\n")
    with FlatReader(root, FlatOptions("some.txt")) as reader, pytest.raises(SourceError) as caught:
        reader.list_videos()
    assert caught.value.path == str(root / "some.txt")
    assert caught.value.cause == f"lists clip 'ghost', which has no folder in {root / 'frames'}"
