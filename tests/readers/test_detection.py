"""Detection across readers: layouts vosconv does not read yet, the "cannot tell" message, splits that are not there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from converters import api
from converters.errors import DetectionError, SourceError
from converters.formats.davis.reader import DavisReader
from converters.formats.lookalikes import unread_layout
from converters.formats.lvos.reader import LvosReader
from converters.formats.mose.reader import MoseOptions, MoseReader
from converters.formats.youtube_vos.reader import YoutubeVosOptions, YoutubeVosReader

FOLDER_READERS = (MoseReader, DavisReader, YoutubeVosReader)


def frame_pair(root: Path, video: str, stem: str) -> None:
    """``JPEGImages/<video>/<stem>.jpg`` and ``Annotations/<video>/<stem>.png``: a one-frame video."""
    for folder, suffix, mode in (("JPEGImages", ".jpg", "RGB"), ("Annotations", ".png", "P")):
        path = root / folder / video / f"{stem}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new(mode, (8, 6)).save(path)


def lvos_split(root: Path, split: str = "val", meta: bool = True) -> Path:
    """An LVOS split as the LVOS-api README gives it: 8-digit frame names, ``<split>_meta.json``."""
    folder = root / split
    frame_pair(folder, "0tCWPOrc", "00000001")
    if meta:
        objects = {"1": {"frame_range": {"start": 1, "end": 1, "frame_nums": 1}}}
        (folder / f"{split}_meta.json").write_text(json.dumps({"videos": {"0tCWPOrc": {"objects": objects}}}))
    return folder


def assert_unread(source: Path, layout: str, evidence: str) -> None:
    """Every folder reader declines, and detection names the layout."""
    for reader in FOLDER_READERS:
        answer = reader.sniff(source)
        assert answer.score == 0 and layout in answer.reason, (reader.name, answer)
    with pytest.raises(DetectionError) as caught:
        api.detect(source)
    message = str(caught.value)
    assert f"looks like {layout} (" in message and evidence in message and "does not read yet" in message, message


# ------------------------------------------------------------------ layouts vosconv does not read yet


def assert_lvos(source: Path, evidence: str) -> None:
    """LVOS is read now: its reader takes the source and says why, and MOSE declines, naming LVOS."""
    assert api.detect(source) == "lvos"
    assert f"LVOS: {evidence}" in LvosReader.sniff(source).reason
    mose = MoseReader.sniff(source)
    assert mose.score == 0 and mose.reason.endswith("marks LVOS"), mose


def test_an_lvos_root_and_split_are_lvos_not_mose(tmp_path):
    root = tmp_path / "LVOS"
    lvos_split(root, "train")
    lvos_split(root, "val")
    assert_lvos(root, "train/train_meta.json")
    assert_lvos(root / "val", "val_meta.json")


def test_lvos_without_its_meta_files_is_known_by_its_8_digit_frames(tmp_path):
    split = lvos_split(tmp_path, meta=False)  # the meta JSONs are a separate download
    assert_lvos(split, "JPEGImages/0tCWPOrc/00000001")


def test_the_shared_lvos_video_ids_as_an_lvos_tree(shared_samples, tmp_path):
    """The real LVOS ids (8 mixed-case characters) as video folders of an LVOS split."""
    ids = (shared_samples / "lvos" / "unseen_videos.txt").read_text().split()[:3]
    for video in ids:
        frame_pair(tmp_path / "valid", video, "00000001")
    assert_lvos(tmp_path, f"valid/JPEGImages/{sorted(ids)[0]}/00000001")


def test_a_mosev2_split_is_mose_with_its_meta_named(tmp_path):
    root = tmp_path / "data"
    frame_pair(root, "video1", "00000")
    (root / "meta_train.json").write_text("{}")
    assert api.detect(root) == "mose"
    assert MoseReader.sniff(root).reason == "MOSEv2 (meta_train.json) with JPEGImages/ and Annotations/"


@pytest.mark.parametrize(
    ("make", "layout", "evidence"),
    [
        (
            lambda root: (root / "meta_expressions.json").write_text("{}"),
            "a referring VOS set (MeViS, Ref-YouTube-VOS)",
            "meta_expressions.json",
        ),
        (
            lambda root: (root / "val" / "mask_dict.json").write_text("{}"),
            "a referring VOS set (MeViS, Ref-YouTube-VOS)",
            "val/mask_dict.json",
        ),
        (lambda root: (root / "panomasks").mkdir(), "VIPSeg (video panoptic)", "panomasks/"),
        (
            lambda root: (root / "panoptic_gt_VIPSeg_val.json").write_text("{}"),
            "VIPSeg (video panoptic)",
            "panoptic_gt_VIPSeg_val.json",
        ),
    ],
)
def test_other_layouts_are_named(tmp_path, make, layout, evidence):
    root = tmp_path / "data"
    frame_pair(root, "video1", "00000")  # what made MOSE take them
    (root / "val").mkdir()
    make(root)
    assert_unread(root, layout, evidence)


def test_burst_annotation_files_are_no_lookalikes(tmp_path):
    """BURST is read now (tests/readers/test_burst.py): its file names mark no unread layout."""
    path = tmp_path / "all_classes.json"
    path.write_text("{}")
    assert unread_layout(path) is None


def test_the_shared_sa_v_annotation_file_is_named(shared_samples):
    """SA-V is read now: a lone masklet file is the sav reader's (masks without frames), not any JSON for coco."""
    path = shared_samples / "sav" / "sav_dataset" / "example" / "sav_000001_manual.json"
    assert api.detect(path) == "sav"


def test_the_layouts_vosconv_reads_are_no_lookalikes(sample_root):
    for layout, root in sample_root.items():
        assert unread_layout(root) is None, layout
        assert api.detect(root) == layout


def test_a_named_reader_reads_a_lookalike_anyway(tmp_path):
    split = lvos_split(tmp_path)
    with MoseReader(split) as reader:
        assert [ref.name for ref in reader.list_videos()] == ["0tCWPOrc"]


# ------------------------------------------------------------------ "cannot tell the format"


def test_cannot_tell_lists_one_line_per_reader_nearest_first(tmp_path):
    (tmp_path / "JPEGImages" / "v").mkdir(parents=True)  # half a MOSE split
    with pytest.raises(DetectionError) as caught:
        api.detect(tmp_path)
    first, *lines = str(caught.value).splitlines()
    assert first == f"cannot tell the format of {tmp_path}; name it with --from (format= or from_= in Python):"
    from converters import registry

    assert sorted(line.split(":")[0].strip() for line in lines) == registry.names("reader")
    assert lines[0] == "  mose: JPEGImages/ without Annotations/"
    assert all(line.startswith("  ") and len(line) < 130 for line in lines)


# ------------------------------------------------------------------ splits that are not there


def test_mose_lists_its_splits_and_the_nearest(sample_root):
    with pytest.raises(SourceError) as caught:
        MoseReader(sample_root["mose"], MoseOptions(split="trian")).list_videos()
    assert "no split 'trian'" in str(caught.value)
    assert "splits here: train, valid; did you mean 'train'?" in str(caught.value)


def test_mose_split_under_jpegimages_is_listed(tmp_path):
    for split in ("train", "valid"):
        frame_pair(tmp_path, f"{split}/v", "00000")  # JPEGImages/<split>/<video>, as some published loaders expect
    with pytest.raises(SourceError, match=r"splits here: train, valid; did you mean 'valid'\?"):
        MoseReader(tmp_path, MoseOptions(split="vaild")).list_videos()


def test_mose_split_given_for_a_split_folder(sample_root):
    with pytest.raises(SourceError, match="is a split folder itself: leave out --split"):
        MoseReader(sample_root["mose"] / "train", MoseOptions(split="train")).list_videos()


def test_youtube_vos_lists_its_splits_and_the_nearest(sample_root, tmp_path):
    root = tmp_path / "ytvos"
    shutil.copytree(sample_root["youtube-vos"], root)
    with pytest.raises(SourceError) as caught:
        YoutubeVosReader(root, YoutubeVosOptions(split="trian")).list_videos()
    assert "split folders with meta.json: train, valid; did you mean 'train'?" in str(caught.value)
