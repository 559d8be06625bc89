"""MOSEv2 through the mose reader: its meta files checked against the folders, mixed annotation rates, valid's first frame.

The traits (MOSE-api MOSEv2 README and issues #24, #25, #29; ``sam2_rcms/tools/score.py``): MOSE's
``JPEGImages``/``Annotations`` pair with 5-digit names and palette PNGs; ``meta_train.json`` and
``meta_valid.json`` of the shape the scorer reads (``videos[<video>] = {length, height, width, ...}``,
``objects`` and other keys beside); a train video annotated on every frame beside sparser ones;
valid with only the first frame's PNG; 8-character lowercase video ids; macOS junk.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.errors import SourceError
from converters.formats.mose.reader import MoseOptions, MoseReader, MoseVideoRef, VideoFacts
from converters.synthetic import Plan, video_frames
from converters.testing.conformance import read_all
from converters.testing.suite import ReaderSuite

from ..folderdata import add_macos_junk, save_palette_png

#: split -> video -> (plan, every how many frames a PNG ships, or None: the first only).
VIDEOS = {
    "train": {
        "9mv2g80y": (Plan(128, 72, 9, hidden=((), ((3, 5),))), 1),  # full rate; object 2 vanishes and returns
        "ay0orzti": (Plan(120, 68, 13, hidden=((), ((6, 13),), ((0, 4),))), 4),  # sparse: every 4th frame
    },
    "valid": {
        "u8hyweuu": (Plan(112, 64, 7, hidden=((), ())), None),
    },
}


def write_video(split: Path, video: str, plan: Plan, every: int | None, rng: np.random.Generator) -> dict:
    """Frames and palette masks of one video; its meta entry as the scorer reads it, with extra keys."""
    images, masks = split / "JPEGImages" / video, split / "Annotations" / video
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    ids: set[int] = set()
    for position, (stem, image, label) in enumerate(video_frames(rng, plan, 1)):
        Image.fromarray(image).save(images / f"{stem}.jpg", quality=90)
        if position % (every or plan.length) == 0:
            save_palette_png(masks / f"{stem}.png", label)
        ids |= set(np.unique(label).tolist()) - {0}
    return {"length": plan.length, "height": plan.height, "width": plan.width, "objects": sorted(ids), "fps": 30}


def write_mosev2(root: Path, seed: int = 0) -> Path:
    """A MOSEv2 root: train with its meta in the split folder, valid with its meta beside the split folders."""
    rng = np.random.default_rng(seed)
    for split, videos in VIDEOS.items():
        entries = {video: write_video(root / split, video, plan, every, rng) for video, (plan, every) in videos.items()}
        where = root / split if split == "train" else root
        (where / f"meta_{split}.json").write_text(json.dumps({"videos": entries}))
    add_macos_junk(root / "train" / "Annotations" / "9mv2g80y", shadowing="00000.png")
    return root


@pytest.fixture(scope="module")
def mosev2_root(tmp_path_factory) -> Path:
    return write_mosev2(tmp_path_factory.mktemp("mosev2") / "MOSEv2")


@pytest.fixture
def mosev2_copy(mosev2_root, tmp_path) -> Path:
    target = tmp_path / "MOSEv2"
    shutil.copytree(mosev2_root, target)
    return target


def read(source: Path, split: str | None = None) -> list:
    with MoseReader(source, MoseOptions(split=split)) as reader:
        return [reader.read_video(ref) for ref in reader.list_videos()]


def edit_meta(path: Path, video: str, **changes) -> Path:
    meta = json.loads(path.read_text())
    meta["videos"][video].update(changes)
    path.write_text(json.dumps(meta))
    return path


# ------------------------------------------------------------------ what is read


def test_detected_as_mose_saying_mosev2(mosev2_root):
    assert api.detect(mosev2_root) == "mose"
    reason = "MOSEv2 (meta_valid.json, train/meta_train.json) with JPEGImages/ and Annotations/"
    assert MoseReader.sniff(mosev2_root).reason == reason
    assert api.detect(mosev2_root / "train") == "mose"
    assert "MOSEv2 (meta_train.json)" in MoseReader.sniff(mosev2_root / "train").reason


def test_mixed_annotation_rates_each_video_checked_against_the_meta(mosev2_root):
    """A full-rate video beside a sparse one: a frame without its PNG is unannotated, never an empty mask."""
    with api.open_reader(mosev2_root, options={"split": "train"}) as reader:
        refs = reader.list_videos()
        full, sparse = (reader.read_video(ref) for ref in refs)
    meta = str(mosev2_root / "train" / "meta_train.json")
    assert [ref.facts for ref in refs] == [VideoFacts(meta, 9, 128, 72), VideoFacts(meta, 13, 120, 68)]
    assert full.annotated_indices == tuple(range(9))
    assert [[m.object_id for m in f.masks.objects] for f in full.frames][2:6] == [[1, 2], [1], [1], [1, 2]]
    assert [f.file_name for f in sparse.frames] == [f"{i:05d}.jpg" for i in range(13)]
    assert sparse.annotated_indices == (0, 4, 8, 12)
    assert [[m.object_id for m in sparse.frames[i].masks.objects] for i in (0, 4, 8, 12)] == [[1, 2], [1, 2, 3], [1, 3], [1, 3]]
    assert [o.object_id for o in sparse.objects] == [1, 2, 3]


def test_valid_holds_the_first_frame_only_and_its_meta_sits_in_the_root(mosev2_root):
    with MoseReader(mosev2_root, MoseOptions(split="valid")) as reader:
        (ref,) = reader.list_videos()
        video = reader.read_video(ref)
        roots = reader.roots()
    assert ref.facts == VideoFacts(str(mosev2_root / "meta_valid.json"), 7, 112, 64)
    assert video.annotated_indices == (0,) and len(video.frames) == 7
    assert mosev2_root / "meta_valid.json" in roots


def test_a_split_folder_not_named_as_a_split_uses_the_meta_it_holds(mosev2_copy):
    folder = mosev2_copy / "train"
    folder.rename(mosev2_copy / "subset")
    (ref, _) = MoseReader(mosev2_copy / "subset").list_videos()
    assert ref.facts.path == str(mosev2_copy / "subset" / "meta_train.json")


def test_null_sizes_are_not_checked_and_unlisted_videos_are_read(mosev2_copy):
    """The scorer takes a null height or width from the first mask; a video the meta leaves out is read unchecked."""
    meta = mosev2_copy / "train" / "meta_train.json"
    edit_meta(meta, "9mv2g80y", height=None, width=None)
    data = json.loads(meta.read_text())
    del data["videos"]["ay0orzti"]
    meta.write_text(json.dumps(data))
    refs = MoseReader(mosev2_copy / "train").list_videos()
    assert [ref.facts for ref in refs] == [VideoFacts(str(meta), 9, None, None), None]
    assert [len(v.frames) for v in read(mosev2_copy / "train")] == [9, 13]


def test_a_split_tarball_with_its_meta_inside(mosev2_root, tmp_path):
    archive = Path(shutil.make_archive(str(tmp_path / "train"), "gztar", mosev2_root, "train"))
    assert api.detect(archive) == "mose"
    refs = MoseReader(archive).list_videos()
    assert refs[0].facts == VideoFacts(f"{archive}/train/meta_train.json", 9, 128, 72)
    assert read_all(archive, "mose")[0] == read_all(mosev2_root / "train", "mose")[0]


def test_refs_with_facts_pickle(mosev2_root):
    reader = MoseReader(mosev2_root / "train")
    ref = reader.list_videos()[1]
    assert isinstance(ref, MoseVideoRef)
    again = pickle.loads(pickle.dumps(ref))
    assert again == ref and pickle.loads(pickle.dumps(reader)).read_video(again) == reader.read_video(ref)


# ------------------------------------------------------------------ conformance


class TestMosev2ThroughEveryFormat(ReaderSuite):
    reader = "mose"

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls, tmp_path_factory):
        return write_mosev2(tmp_path_factory.mktemp("mosev2-suite") / "MOSEv2", seed=1), {"split": "train"}


# ------------------------------------------------------------------ bad input


def test_a_listed_video_without_frames_names_the_meta_and_the_video(mosev2_copy):
    meta = mosev2_copy / "meta_valid.json"
    data = json.loads(meta.read_text())
    data["videos"]["zz00zz00"] = {"length": 3, "height": 64, "width": 112}
    meta.write_text(json.dumps(data))
    with pytest.raises(SourceError) as caught:
        read(mosev2_copy, "valid")
    assert caught.value.path == str(meta)
    assert f"lists video 'zz00zz00', which has no folder in {mosev2_copy / 'valid' / 'JPEGImages'}" in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "cause"),
    [
        ({"length": 14}, "videos/ay0orzti: length 14, but its folder holds 13 frames (4 annotated)"),
        ({"length": 4}, "videos/ay0orzti: length 4, but its folder holds 13 frames (4 annotated)"),  # the PNG count is not it
        ({"width": 121}, "videos/ay0orzti: width 121, but its frames are 120x68"),
        ({"height": 67}, "videos/ay0orzti: height 67, but its frames are 120x68"),
    ],
)
def test_a_frame_count_or_size_that_disagrees_names_the_meta_and_the_video(mosev2_copy, changes, cause):
    meta = edit_meta(mosev2_copy / "train" / "meta_train.json", "ay0orzti", **changes)
    reader = MoseReader(mosev2_copy, MoseOptions(split="train"))
    first, second = reader.list_videos()
    reader.read_video(first)  # the other video is fine
    with pytest.raises(SourceError) as caught:
        reader.read_video(second)
    assert caught.value.path == str(meta) and cause in str(caught.value), str(caught.value)
    assert str(mosev2_copy / "train" / "JPEGImages" / "ay0orzti") in str(caught.value)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("{not json", "invalid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
        ('{"9mv2g80y": {"length": 9}}', 'expected {"videos": '),
        ('{"videos": {"9mv2g80y": []}}', "videos/9mv2g80y: expected an object, got []"),
        ('{"videos": {"9mv2g80y": {"height": 72, "width": 128}}}', "videos/9mv2g80y/length: missing"),
        ('{"videos": {"9mv2g80y": {"length": "9"}}}', "videos/9mv2g80y/length: expected an integer, got '9'"),
        ('{"videos": {"9mv2g80y": {"length": 9, "width": 12.5}}}', "videos/9mv2g80y/width: expected an integer, got 12.5"),
        ('{"videos": {"9mv2g80y": {"length": 0}}}', "videos/9mv2g80y/length: length is 0, not a positive integer"),
    ],
)
def test_a_malformed_meta_names_the_file_and_the_cause(mosev2_copy, text, cause):
    meta = mosev2_copy / "train" / "meta_train.json"
    meta.write_text(text)
    with pytest.raises(SourceError) as caught:
        MoseReader(mosev2_copy / "train").list_videos()
    assert caught.value.path == str(meta) and cause in str(caught.value), str(caught.value)
