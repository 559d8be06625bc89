"""Folder layouts written for their consumers: DAVIS 2016's 0/255 and DAVIS's void in layouts that have neither.

MOSE and YouTube-VOS masks are palette PNGs whose every non-zero value is an object to their
loaders. The DAVIS 2017 evaluation kit is replayed from davisvideochallenge/davis2017-evaluation
``davis2017/davis.py`` (``DAVIS._get_all_elements`` sets 255 to 0, ``get_all_masks`` with
``separate_objects_masks`` counts ``max(first mask)`` objects); SAM 2's own loader is run in
``tests/integrations/test_layout_conventions.py``.
"""

from __future__ import annotations

import json
import os
from glob import glob

import numpy as np
import pytest
from PIL import Image

from converters import api, cli
from converters.errors import VosconvError
from converters.sample import label_maps

NO_VOID_LAYOUTS = ("mose", "youtube-vos")
BINARY = "pelican"  # the sample's DAVIS 2016 (0/255) sequence, in train
VOIDED = "paper-boat"  # void bands around objects 1 and 2, in train


def davis_kit_masks(folder) -> np.ndarray:
    """davis2017-evaluation's ``DAVIS.get_all_masks(sequence, separate_objects_masks=True)`` on one sequence folder."""
    paths = np.sort(glob(os.path.join(folder, "*.png"))).tolist()
    first = np.array(Image.open(paths[0]))
    all_objs = np.zeros((len(paths), *first.shape))
    for i, path in enumerate(paths):
        all_objs[i, ...] = np.array(Image.open(path))
        all_objs[i, all_objs[i, ...] == 255] = 0
    num_objects = int(np.max(all_objs[0, ...]))
    tmp = np.ones((num_objects, *all_objs.shape))
    tmp = tmp * np.arange(1, num_objects + 1)[:, None, None, None]
    return tmp == all_objs[None, ...]


def source_labels(sample_root, video: str) -> dict[str, np.ndarray]:
    return label_maps(sample_root["davis"] / "DAVIS" / "Annotations" / "480p" / video)


def written(out, layout: str, video: str) -> dict[str, np.ndarray]:
    return label_maps(out / "Annotations" / ("480p" if layout == "davis" else "") / video)


def to_layout(sample_root, out, layout: str, **writer_options):
    return api.convert(
        sample_root["davis"], out, to=layout, from_="davis", reader_options={"split": "train"}, writer_options=writer_options
    )


@pytest.mark.parametrize("layout", NO_VOID_LAYOUTS)
def test_a_binary_davis_2016_video_is_palette_id_1_where_there_is_no_0_255(sample_root, tmp_path, layout):
    summary = to_layout(sample_root, tmp_path / "out", layout)
    source, got = source_labels(sample_root, BINARY), written(tmp_path / "out", layout, BINARY)
    assert sorted(got) == sorted(source)
    for name, label in source.items():
        assert set(np.unique(label).tolist()) <= {0, 255}
        np.testing.assert_array_equal(got[name], (label == 255).astype(np.uint8), err_msg=name)
        with Image.open(tmp_path / "out" / "Annotations" / BINARY / name) as image:
            assert image.mode == "P"
    kit = davis_kit_masks(tmp_path / "out" / "Annotations" / BINARY)  # the kit now sees the object
    assert kit.shape[0] == 1
    for position, name in enumerate(sorted(source)):
        np.testing.assert_array_equal(kit[0, position], source[name] == 255)
    assert any("binary" in note and "palette id 1" in note for note in summary.notes)
    marker = json.loads((tmp_path / "out" / ".vosconv.json").read_text())
    assert marker["conventions"]["binary_as_palette"] == [BINARY]


def test_the_davis_layout_keeps_0_255(sample_root, tmp_path):
    summary = to_layout(sample_root, tmp_path / "out", "davis")
    for name, label in source_labels(sample_root, BINARY).items():
        path = tmp_path / "out" / "Annotations" / "480p" / BINARY / name
        with Image.open(path) as image:
            assert image.mode == "L"
            np.testing.assert_array_equal(np.asarray(image), label)
    assert summary.notes == ()


@pytest.mark.parametrize("layout", NO_VOID_LAYOUTS)
def test_void_becomes_background_by_default(sample_root, tmp_path, layout):
    summary = to_layout(sample_root, tmp_path / "out", layout)
    source, got = source_labels(sample_root, VOIDED), written(tmp_path / "out", layout, VOIDED)
    assert any((label == 255).any() for label in source.values())  # the sample has void to drop
    for name, label in source.items():
        np.testing.assert_array_equal(got[name], np.where(label == 255, 0, label), err_msg=name)
    objects = set(np.unique(np.concatenate([label.ravel() for label in source.values()])).tolist()) - {0, 255}
    assert davis_kit_masks(tmp_path / "out" / "Annotations" / VOIDED).shape[0] == len(objects)
    (note,) = [n for n in summary.notes if "void" in n]
    assert "background 0" in note and "void=keep" in note
    marker = json.loads((tmp_path / "out" / ".vosconv.json").read_text())
    conventions = marker["conventions"]
    assert conventions["void"] == "drop" and conventions["void_videos"] == [VOIDED]
    assert conventions["void_frames"] == sum(bool((label == 255).any()) for label in source.values())
    (video,) = [v for v in api.read_videos(tmp_path / "out", layout) if v.name == VOIDED]
    assert not video.has_void  # read back: no void, no object 255


@pytest.mark.parametrize("layout", NO_VOID_LAYOUTS)
def test_void_keep_writes_255_and_says_so(sample_root, tmp_path, layout):
    summary = to_layout(sample_root, tmp_path / "out", layout, void="keep")
    source, got = source_labels(sample_root, VOIDED), written(tmp_path / "out", layout, VOIDED)
    for name, label in source.items():
        np.testing.assert_array_equal(got[name], label, err_msg=name)
    (note,) = [n for n in summary.notes if "void" in n]
    assert "kept as pixel value 255" in note
    assert json.loads((tmp_path / "out" / ".vosconv.json").read_text())["conventions"]["void"] == "keep"


def test_the_davis_layout_keeps_void(sample_root, tmp_path):
    to_layout(sample_root, tmp_path / "out", "davis")
    source, got = source_labels(sample_root, VOIDED), written(tmp_path / "out", "davis", VOIDED)
    for name, label in source.items():
        np.testing.assert_array_equal(got[name], label, err_msg=name)


def test_void_through_coco_is_dropped_in_mose_too(sample_root, tmp_path):
    """The convention is the writer's, whatever the source format: DAVIS -> COCO -> MOSE."""
    coco = tmp_path / "x.json"
    api.convert(sample_root["davis"], coco, to="coco", from_="davis", reader_options={"split": "train"})
    api.convert(coco, tmp_path / "out", to="mose", from_="coco")
    for name, label in written(tmp_path / "out", "mose", VOIDED).items():
        assert 255 not in label, name
    assert set(np.unique(np.stack(list(written(tmp_path / "out", "mose", BINARY).values()))).tolist()) == {0, 1}


def test_the_summary_prints_what_was_changed(sample_root, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["convert", str(sample_root["davis"]), "-o", str(out), "--to", "youtube-vos", "-r", "split=train"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "note: 1 DAVIS 2016 binary (0/255) video: object 1 written as palette id 1" in printed
    assert "note: void (255) in" in printed and "-w void=keep keeps it" in printed


def test_void_option_takes_drop_or_keep(sample_root, tmp_path):
    with pytest.raises(VosconvError, match="void"):
        to_layout(sample_root, tmp_path / "out", "mose", void="maybe")
    assert not (tmp_path / "out").exists()
