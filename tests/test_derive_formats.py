"""Derived sets through every writer: resized masks and void read back from each format that holds frames, the
``derived`` record through every format and a second derivation, and --resume after a derive option changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.codecs import rle
from converters.run.derive_steps import nearest_indices, shrunk_size
from converters.sample import label_maps

from .folderdata import save_palette_png

#: The writers that hold frames (what --max-side needs), with options that keep the DAVIS sample's void.
HOLDING_FRAMES = {
    "davis": ("davis", {}),
    "mose": ("mose", {"void": "keep"}),
    "youtube-vos": ("youtube-vos", {"void": "keep"}),
    "sav": ("sav", {}),
    "parquet": ("parquet", {}),
    "hdf5": ("hdf5", {}),
    "hdf5-dense": ("hdf5", {"masks": "dense"}),
}
EVERY_WRITER = ["coco", "cocovid", "burst", "parquet", "hdf5", "sav", "davis", "mose", "youtube-vos"]


def output_name(writer: str) -> str:
    return f"{writer}.json" if writer in ("coco", "cocovid", "burst") else writer


def read_options(writer: str) -> dict:
    return {"split": "train"} if writer == "davis" else {}


def label_of(video, frame) -> np.ndarray:
    """The frame's masks as one label map, void 255 (the DAVIS sample's objects do not overlap)."""
    label = np.zeros((video.height, video.width), np.uint8)
    for mask in (*frame.masks.objects, *([frame.masks.void] if frame.masks.void else [])):
        label[rle.decode([(1, mask.counts)], video.height, video.width).astype(bool)] = mask.object_id
    return label


@pytest.mark.parametrize("target", sorted(HOLDING_FRAMES))
def test_max_side_reads_back_from_every_format_as_the_nearest_neighbour_of_the_source(sample_root, tmp_path, target):
    """Objects and void, every annotated frame, at the new size, exactly: the resize is the same whatever writes it."""
    root = sample_root["davis"]
    source = {}
    for video in api.read_videos(root, "davis", split="train"):  # DAVIS 2016's 0/255 read as object 1, as written
        new_width, new_height = shrunk_size(video.width, video.height, 97)
        rows, cols = nearest_indices(video.height, new_height), nearest_indices(video.width, new_width)
        for frame in video.frames:
            if frame.masks is not None:
                source[f"{video.name}/{frame.stem}"] = label_of(video, frame)[rows[:, None], cols[None, :]]
    assert any((label == 255).any() for label in source.values())  # the sample's void bands survive the resize
    writer, writer_options = HOLDING_FRAMES[target]
    out = tmp_path / writer
    options = {"split": "train"}
    api.convert(root, out, to=writer, reader_options=options, writer_options=writer_options, derive={"max_side": 97})
    found = {}
    for video in api.read_videos(out, **read_options(writer)):
        assert max(video.width, video.height) == 97
        for frame in video.frames:
            if frame.masks is not None:
                found[f"{video.name}/{frame.stem}"] = label_of(video, frame)
    expected = {key: label for key, label in source.items() if key.split("/")[0] in {k.split("/")[0] for k in found}}
    assert sorted(found) == sorted(expected) and found
    for key, label in expected.items():
        assert np.array_equal(found[key], label), key


def test_a_davis_output_of_resized_frames_says_it_kept_the_resolution_folder(sample_root, tmp_path):
    """``--max-side 97`` into DAVIS wrote 97-pixel frames under ``JPEGImages/480p/`` without a word in the summary."""
    root, options = sample_root["davis"], {"split": "train"}
    kept = "frames resized by --max-side written in JPEGImages/480p/ and Annotations/480p/, the source's resolution folder"
    summary = api.convert(root, tmp_path / "kept", to="davis", reader_options=options, derive={"max_side": 97})
    assert [note for note in summary.notes if note.startswith(kept)] and (tmp_path / "kept/JPEGImages/480p").is_dir()
    named = api.convert(
        root,
        tmp_path / "named",
        to="davis",
        reader_options=options,
        writer_options={"resolution": "97p"},
        derive={"max_side": 97},
    )
    plain = api.convert(root, tmp_path / "plain", to="davis", reader_options=options)
    assert not [note for note in (*named.notes, *plain.notes) if "--max-side" in note]


@pytest.mark.parametrize("writer", EVERY_WRITER)
def test_the_derived_record_survives_every_format_a_plain_conversion_and_a_second_derivation(sample_root, tmp_path, writer):
    out = tmp_path / output_name(writer)
    api.convert(sample_root["mose"], out, to=writer, reader_options={"split": "train"}, derive={"frame_step": 2})
    with api.open_reader(out, None, read_options(writer)) as reader:
        record = json.loads(reader.info().attribute("derived"))
    assert record["frame_step"] == 2 and record["from"]["format"] == "mose"
    plain = tmp_path / "plain"
    api.convert(out, plain, to="parquet", reader_options=read_options(writer))
    manifest = json.loads((plain / "manifest.json").read_text())
    assert json.loads(manifest["source"]["attributes"]["derived"]) == record
    second = tmp_path / "second.json"
    api.convert(out, second, to="coco", reader_options=read_options(writer), derive={"first_appearance": True})
    chained = json.loads(json.loads(second.read_text())["info"]["vosconv"]["source"]["attributes"]["derived"])
    assert chained["first_appearance"] is True and chained["from"]["format"] == writer
    assert chained["from"]["derived"] == record


@pytest.mark.filterwarnings("ignore:.*shards the interrupted run finished are done again")  # what is checked
def test_a_run_resumed_with_another_frame_step_redoes_every_shard(sample_root, tmp_path, monkeypatch, shard_writes):
    from converters.formats.coco.writer import CocoWriter
    from converters.run.pipeline import Interrupted

    root, output = sample_root["mose"], tmp_path / "out.json"
    shard_writes(CocoWriter, interrupt_at=3)
    options = {"split": "train"}
    with pytest.raises(Interrupted):
        api.convert(root, output, to="coco", reader_options=options, derive={"frame_step": 2})
    monkeypatch.undo()
    summary = api.convert(root, output, to="coco", reader_options=options, derive={"frame_step": 3}, resume=True)
    assert summary.resumed == 0
    fresh = tmp_path / "fresh.json"
    api.convert(root, fresh, to="coco", reader_options=options, derive={"frame_step": 3})
    assert output.read_bytes() == fresh.read_bytes()


def test_a_video_list_with_a_bom_crlf_blanks_and_repeats(sample_root, tmp_path):
    """Lists saved on Windows (BOM, CRLF) select the same videos as a plain one."""
    names = sorted(p.name for p in (sample_root["mose"] / "train" / "JPEGImages").iterdir() if p.is_dir())
    plain, windows = tmp_path / "plain.txt", tmp_path / "windows.txt"
    plain.write_text(f"{names[0]}\n{names[2]}\n")
    windows.write_bytes(f"\ufeff{names[2]}\r\n\r\n  {names[0]} \r\n{names[2]}\r\n".encode())
    outputs = []
    for listing in (plain, windows):
        out = tmp_path / f"{listing.stem}.json"
        api.convert(sample_root["mose"], out, to="coco", reader_options={"split": "train"}, derive={"videos_from": str(listing)})
        outputs.append(json.loads(out.read_text()))
    assert [v["name"] for v in outputs[1]["videos"]] == [names[0], names[2]]
    assert outputs[0]["videos"] == outputs[1]["videos"] and outputs[0]["annotations"] == outputs[1]["annotations"]


def cuties_preprocess_lvos(input_dir: Path) -> dict[str, np.ndarray]:
    """Cutie's ``scripts/data/preprocess_lvos.py`` (LVOS-api's ``convert_mask_for_eval.py`` is the same but for the
    background): ``{"<video>/<png>": label map}`` of the PNGs it writes, each holding only the ids new there."""
    written = {}
    for video in sorted(os.listdir(input_dir)):
        existing: set[int] = set()
        for name in sorted(os.listdir(input_dir / video)):
            mask = np.array(Image.open(input_dir / video / name)).astype(np.uint8)
            new = [label for label in np.unique(mask)[np.unique(mask) != 0].tolist() if label not in existing]
            if new:
                existing.update(new)
                output = np.zeros_like(mask)
                for label in new:
                    output[mask == label] = label
                written[f"{video}/{name}"] = output
    return written


def test_first_appearance_writes_the_pngs_cuties_and_lvos_scripts_write(tmp_path):
    """Objects that vanish and return, first seen late, several first seen on one frame, and a frame without a PNG."""
    split = tmp_path / "src" / "train"
    height, width = 24, 32
    plans = {  # frame -> ids visible (None: no PNG)
        "vanish": [{1}, {1}, set(), {1, 2}, None, {1, 2, 3, 4}, {2}],
        "late": [set(), set(), {5, 6, 7}, {5}, {6, 7, 8}],
    }
    for video, frames in plans.items():
        for index, ids in enumerate(frames):
            (split / "JPEGImages" / video).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (width, height), (index * 20, 0, 0)).save(split / "JPEGImages" / video / f"{index:05d}.jpg")
            if ids is not None:
                label = np.zeros((height, width), np.uint8)
                for object_id in ids:
                    label[(object_id % 4) * 6 : (object_id % 4) * 6 + 4, object_id * 3 : object_id * 3 + 3] = object_id
                save_palette_png(split / "Annotations" / video / f"{index:05d}.png", label)
    out = tmp_path / "first"
    api.convert(tmp_path / "src", out, to="mose", reader_options={"split": "train"}, derive={"first_appearance": True})
    expected, written = cuties_preprocess_lvos(split / "Annotations"), label_maps(out / "Annotations")
    assert sorted(written) == sorted(expected) == [
        "late/00002.png", "late/00004.png", "vanish/00000.png", "vanish/00003.png", "vanish/00005.png",
    ]  # fmt: skip
    for name, label in expected.items():
        assert np.array_equal(written[name], label), name
