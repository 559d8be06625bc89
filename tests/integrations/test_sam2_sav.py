"""What ``--to sav`` writes, read by SAM 2's REAL loaders (the sam2==1.1.0 sdist's ``training`` package).

``-w json=true``'s ``Annotations_json/`` through ``JSONRawDataset`` and ``JSONSegmentLoader`` (``ann_every=4``, as
SAM 2's SA-V training config sets it), and the val/test per-object PNGs through ``PNGRawDataset(is_palette=False)``
and its ``MultiplePNGSegmentLoader`` (the installed package ships no ``tools/vos_inference.py``): the videos, the frame
files and numbers, and every object's mask against an oracle that is not vosconv (pycocotools on the source masklets,
Pillow on the source PNGs). Nothing here skips but the SA-V source's mp4s without PyAV: CI installs SAM 2 through
``make test``, and a setup that cannot import it fails.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pycocotools import mask as mask_api
from training.dataset.vos_dataset import VOSDataset
from training.dataset.vos_raw_dataset import JSONRawDataset, PNGRawDataset
from training.dataset.vos_sampler import EvalSampler
from training.dataset.vos_segment_loader import JSONSegmentLoader, MultiplePNGSegmentLoader

from converters import api
from converters.sample import label_maps
from converters.sources import imagefiles

from .. import savdata

#: SA-V's training config: annotations every 4th frame of 24 fps (vosconv's ``fps`` field says it for each file).
ANN_EVERY = 4
#: The DAVIS sample's 2016 sequence of 0/255 masks (converters/sample.py): its one object is vosconv's id 1.
BINARY = {"pelican"}
SOURCES = ("sav", "mose", "davis")

#: video -> frame number -> (the frame's JPEG bytes, [(source object id, mask)] in the source's object order)
Expected = dict[str, dict[int, tuple[bytes, list[tuple[int, np.ndarray]]]]]


def sav_expected(train: Path) -> Expected:
    """The frames as vosconv's reader extracts them from the mp4s, the masks as pycocotools decodes the source JSON."""
    with api.open_reader(train, "sav") as reader:
        videos = [reader.read_video(ref) for ref in reader.list_videos()]
    expected: Expected = {}
    for video in videos:
        doc = json.loads(next(train.rglob(f"{video.name}_manual.json")).read_text())
        assert len(video.frames) == len(doc["masklet"])
        expected[video.name] = {
            ANN_EVERY * k: (
                imagefiles.read_bytes(frame.image),
                [(doc["masklet_id"][j], mask_api.decode(rle)) for j, rle in enumerate(doc["masklet"][k])],
            )
            for k, frame in enumerate(video.frames)
        }
    return expected


def folder_expected(images: Path, annotations: Path) -> Expected:
    """Every annotated frame's JPEG file and its label map as Pillow reads it: object ``i`` is the pixels of value
    ``i`` (ids ascending; 255 is DAVIS's void, or the object of a 0/255 sequence)."""
    maps = label_maps(annotations)
    expected: Expected = {}
    for video in sorted({key.split("/")[0] for key in maps}):
        frames = {int(Path(key).stem): label for key, label in maps.items() if key.split("/")[0] == video}
        values = set(np.unique(np.stack(list(frames.values()))).tolist()) - {0}
        objects = [(1, 255)] if video in BINARY else [(v, v) for v in sorted(values - {255})]
        expected[video] = {
            n: ((images / video / f"{n:05d}.jpg").read_bytes(), [(i, label == value) for i, value in objects])
            for n, label in sorted(frames.items())
        }
    return expected


@pytest.fixture(scope="module")
def converted(sample_root, tmp_path_factory):
    """source -> (the source, vosconv's ``--to sav -w json=true`` output, what SAM 2 should read from it), each made
    once, when a test first asks (the SA-V source alone needs PyAV)."""
    base = tmp_path_factory.mktemp("sam2-sav")
    made: dict[str, tuple[Path, Path, Expected]] = {}

    def get(source: str) -> tuple[Path, Path, Expected]:
        if source not in made:
            out = base / source
            if source == "sav":
                pytest.importorskip("av")
                root = savdata.make_train(base / "sav_train", {"sav_000001": 14, "sav_000002": 13})
                api.convert(root, out, to="sav", from_="sav", writer_options={"json": True})
                made[source] = root, out, sav_expected(root)
            else:
                root = sample_root[source]
                split, resolution = (root / "train", "") if source == "mose" else (root / "DAVIS", "480p")
                options = {"split": "train"} if source == "mose" else {}
                api.convert(root, out, to="sav", from_=source, reader_options=options, writer_options={"json": True})
                made[source] = root, out, folder_expected(split / "JPEGImages" / resolution, split / "Annotations" / resolution)
        return made[source]

    return get


def json_dataset(out: Path, **options) -> JSONRawDataset:
    """SAM 2's SA-V training data, as its config names it: frames at 24 fps, masklet JSONs, ``ann_every: 4``."""
    return JSONRawDataset(
        img_folder=str(out / "JPEGImages_24fps"), gt_folder=str(out / "Annotations_json"), ann_every=ANN_EVERY, **options
    )


def check_masks(segments: dict, objects: list[tuple[int, np.ndarray]], ids: list[int]) -> None:
    """SAM 2's masks, keyed by its own object ids, are the source's objects' masks, pixel for pixel."""
    assert list(segments) == ids and len(objects) == len(ids)
    for key, (_, mask) in zip(ids, objects):
        assert segments[key].dtype == torch.bool or segments[key].dtype == torch.uint8
        assert np.array_equal(segments[key].numpy().astype(bool), mask.astype(bool)), key


@pytest.mark.parametrize("source", SOURCES)
def test_json_raw_dataset_reads_the_masklets_and_frames_vosconv_wrote(converted, source):
    """SA-V: objects 0..N-1 as in the source file, every 4th frame. MOSE and DAVIS: every frame annotated (``fps``
    24 overrides the config's ann_every=4), ids 1..N (2016's 0/255 sequence: 1) numbered 0..N-1 by position, their
    ids kept in ``masklet_id``; objects that vanish, frames with none, DAVIS's void (in no object's mask)."""
    _, out, expected = converted(source)
    dataset = json_dataset(out)
    assert dataset.video_names == sorted(expected)
    renumbered = False
    for idx, name in enumerate(dataset.video_names):
        video, loader = dataset.get_video(idx)
        assert isinstance(loader, JSONSegmentLoader) and (video.video_name, video.video_id) == (name, idx)
        assert loader.ann_every == (ANN_EVERY if source == "sav" else 1)
        frames = expected[name]
        assert [f.frame_idx for f in video.frames] == sorted(frames)
        ids = [i for i, _ in next(iter(frames.values()))[1]]
        doc = json.loads((out / "Annotations_json" / f"{name}_manual.json").read_text())
        assert doc["masklet_id"] == ids and doc["masklet_num"] == len(ids)
        renumbered |= ids != list(range(len(ids)))
        positions = list(range(len(ids)))
        assert loader.get_valid_obj_frames_ids() == {j: sorted(frames) for j in positions}  # no null: every frame
        for frame in video.frames:
            jpeg, objects = frames[frame.frame_idx]
            assert Path(frame.image_path).read_bytes() == jpeg
            check_masks(loader.load(frame.frame_idx), objects, positions)
            sampled = positions[::2]  # VOSDataset asks for the sampled objects, in the sampler's order
            check_masks(loader.load(frame.frame_idx, obj_ids=sampled[::-1]), [objects[j] for j in sampled], sampled)
    assert renumbered == (source != "sav")


@pytest.mark.parametrize("source", SOURCES)
def test_vos_dataset_datapoints_hold_the_source_frames_and_masks(converted, source):
    """SAM 2's VOSDataset (EvalSampler: every frame, every object of frame 0) over the JSON: what it trains on."""
    _, out, expected = converted(source)
    raw = json_dataset(out, file_list_txt=str(out / "sav_val.txt"))  # vosconv's video list, as SAM 2 reads lists
    assert raw.video_names == sorted(expected)
    dataset = VOSDataset(transforms=[], training=False, video_dataset=raw, sampler=EvalSampler(), multiplier=1)
    for idx, name in enumerate(raw.video_names):
        frames = expected[name]
        datapoint = dataset[idx]
        assert datapoint.video_id == idx and len(datapoint.frames) == len(frames)
        for frame, (number, (jpeg, objects)) in zip(datapoint.frames, sorted(frames.items())):
            with Image.open(io.BytesIO(jpeg)) as image:
                assert np.array_equal(np.asarray(frame.data), np.asarray(image.convert("RGB")))
            assert [(o.object_id, o.frame_index) for o in frame.objects] == [(j, number) for j in range(len(objects))]
            for obj, (_, mask) in zip(frame.objects, objects):
                assert np.array_equal(obj.segment.numpy(), mask.astype(np.uint8))


def test_json_raw_dataset_keeps_only_annotated_frames_of_every_frame_written(converted, tmp_path):
    """-r frames=all writes all 14 frames; SAM 2 keeps 0, 4, 8, 12 (rm_unannotated), the same files as the annotated
    frames alone, and with rm_unannotated=False lists every frame by its number."""
    root, _, expected = converted("sav")
    api.convert(root, tmp_path / "all", to="sav", from_="sav", reader_options={"frames": "all"}, writer_options={"json": True})
    dataset = json_dataset(tmp_path / "all")
    video, loader = dataset.get_video(0)
    assert [f.frame_idx for f in video.frames] == sorted(expected["sav_000001"]) == [0, 4, 8, 12]
    for frame in video.frames:
        jpeg, objects = expected["sav_000001"][frame.frame_idx]
        assert Path(frame.image_path).read_bytes() == jpeg
        check_masks(loader.load(frame.frame_idx), objects, list(range(len(objects))))
    every, _ = json_dataset(tmp_path / "all", rm_unannotated=False).get_video(0)
    assert [f.frame_idx for f in every.frames] == list(range(14))


@pytest.mark.parametrize("single_object_mode", [False, True], ids=["objects", "single-object"])
@pytest.mark.parametrize("source", SOURCES)
def test_png_raw_dataset_reads_the_per_object_pngs(converted, source, single_object_mode):
    """The val/test layout through SAM 2's reader of per-object PNG folders: ``Annotations_6fps/<video>/<object:03d>/``
    is object ``int(folder) + 1`` to SAM 2 (its background is 0), so each source id plus one, its masks exact.
    Single-object mode lists ``<video>/<object>`` folders: vosconv's hidden record is not among them."""
    _, out, expected = converted(source)
    dataset = PNGRawDataset(
        img_folder=str(out / "JPEGImages_24fps"),
        gt_folder=str(out / "Annotations_6fps"),
        file_list_txt=str(out / "sav_val.txt"),
        is_palette=False,
        single_object_mode=single_object_mode,
    )
    want_names = []
    for name, frames in sorted(expected.items()):
        ids = [i for i, _ in next(iter(frames.values()))[1]]
        want_names += [f"{name}/{i:03d}" for i in ids] if single_object_mode else [name]
    assert dataset.video_names == want_names
    for idx, unit in enumerate(dataset.video_names):
        name, _, folder = unit.partition("/")
        video, loader = dataset.get_video(idx)
        assert isinstance(loader, MultiplePNGSegmentLoader)
        frames = expected[name]
        assert [f.frame_idx for f in video.frames] == sorted(frames)
        for frame in video.frames:
            jpeg, objects = frames[frame.frame_idx]
            assert Path(frame.image_path).read_bytes() == jpeg
            if single_object_mode:
                objects = [(i, mask) for i, mask in objects if i == int(folder)]
            check_masks(loader.load(frame.frame_idx), objects, [i + 1 for i, _ in objects])
