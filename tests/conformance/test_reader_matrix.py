"""Every reader's own fixture, with the traits its real files have, through every writer and back.

The round-trip suite converts the MOSE, DAVIS and YouTube-VOS samples; :class:`ReaderSuite` runs each newer reader's
fixture through every writer, but compares only what :data:`METADATA_KEPT` says a format holds. Here each source is
compared as the whole intermediate form instead: for every (source, writer) pair the conversion is refused (a
``SourceError`` naming a video or frame of the source, for the cause in :data:`REFUSED`), or what is read back equals
the source exactly, but for what the writer said it changed (its summary's notes and its folder marker). A difference
the writer did not say is a silent loss.

The sources: SA-V train (an mp4, manual and auto masklets: ids from 0, overlaps, stability scores, masklet fields) and
val (0/1 PNGs, one folder per object, an id of 2^31-1); BURST with TAO's frame names (string track ids, overlaps, 1 fps
annotation, an empty annotated frame, a track never visible, is_gt/score) and with numbered frames (ids 300, 70000)
or a track 255; YouTube-VIS 2019 (nulls, polygons, uncompressed RLE, category ids), the same with ``.jpeg`` frames,
without annotations (a test split), and as OVIS (``img_0000001.jpg``); mmdet's CocoVID; LVOS (8-digit names,
``frame_range``); VOST (255 = ignore, ``frame00000.jpg``); MOSEv2 (sparse masks, meta); and vosconv's own COCO
(``.json.gz``), CocoVID, Parquet and HDF5 (RLE and dense) written from those.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.codecs import labels
from converters.errors import SourceError, VosconvWarning
from converters.formats.folders.spec import IMAGE_SUFFIXES
from converters.model import DatasetInfo, Video
from converters.testing.content import ALL_METADATA, assert_same_content, fingerprint
from converters.testing.suite import round_trip_writers

from .. import burstdata, savdata
from ..readers.test_cocovid import write_mmdet
from ..readers.test_lvos import write_lvos
from ..readers.test_mosev2 import write_mosev2
from ..readers.test_vost import make_vost
from ..readers.test_ytvis import write_2019, write_frames, ytvis_2019_document
from .test_unusual_sources import OUTPUT_NAMES, differences, reported

Source = tuple[Path, str, dict[str, Any]]


def _sav_train(root: Path) -> Source:
    pytest.importorskip("av")
    return savdata.make_train(root / "sav_train", {"sav_000001": 6}), "sav", {"masklets": "both"}


def _sav_every_frame(root: Path) -> Source:
    """Every 24 fps frame of the mp4: unannotated frames between the annotated ones."""
    source, reader, _ = _sav_train(root)
    return source, reader, {"frames": "all"}


def _sav_val(root: Path) -> Source:
    """SA-V's val layout as SA-V ships it (0/1 PNGs, no vosconv record), object 1's folder renamed to id 2^31-1."""
    pytest.importorskip("av")
    out = root / "sav_val"
    api.convert(savdata.make_train(root / "train", {"sav_000001": 6}), out, to="sav", from_="sav")
    for path in (out / "Annotations_6fps").rglob("*.png"):
        Image.fromarray((np.asarray(Image.open(path)) > 0).astype(np.uint8)).save(path)
    shutil.rmtree(out / ".vosconv")
    (out / ".vosconv.json").unlink()
    video = out / "Annotations_6fps" / "sav_000001"
    os.rename(video / "001", video / "2147483647")
    return out, "sav", {}


def _burst(root: Path, numbered: bool = False, track_255: bool = False) -> Source:
    annotations, frames = burstdata.write_tree(root, numbered=numbered)
    if not numbered:
        return annotations, "burst", {"images": str(frames)}
    path = annotations / "val" / "all_classes.json"
    if track_255:  # track 300 renumbered 255 (the void value of the label-map formats), track 1 left out where it overlaps
        document = json.loads(path.read_text())
        for sequence in document["sequences"]:
            ids = sequence["track_category_ids"]
            sequence["track_category_ids"] = {("255" if k == "300" else k): v for k, v in ids.items()}
            for masks in sequence["segmentations"]:
                if "300" in masks:
                    masks["255"] = masks.pop("300")
                    masks.pop("1", None)
        path.write_text(json.dumps(document))
    return path, "burst", {"images": str(frames)}


def _ytvis(root: Path, *, suffix: str = ".jpg", annotated: bool = True, ovis: bool = False) -> Source:
    document = ytvis_2019_document()
    for video in document["videos"]:
        names = video["file_names"]
        if ovis:  # img_0000001.jpg, ...
            names = [f"{name.split('/')[0]}/img_{i + 1:07d}.jpg" for i, name in enumerate(names)]
        video["file_names"] = [name.replace(".jpg", suffix) for name in names]
    if not annotated:
        del document["annotations"]
    if ovis:  # as DVIS registers it: annotations/annotations_{split}.json, frames under {split}/
        (root / "annotations").mkdir(parents=True)
        (root / "annotations" / "annotations_train.json").write_text(json.dumps(document))
        write_frames(root / "train", document)
        return root, "ytvis", {}
    return write_2019(root, document, split="train" if annotated else "test"), "ytvis", {}


def _cocovid(root: Path) -> Source:
    path, frames = write_mmdet(root)
    return path, "cocovid", {"images": str(frames)}


def _written(base: Callable[[Path], Source], writer: str, name: str, options: dict | None = None) -> Callable[[Path], Source]:
    """A source that is vosconv's own output: ``base`` written by ``writer`` to ``name``."""

    def make(root: Path) -> Source:
        source, reader, reader_options = base(root / "base")
        out = root / name
        api.convert(source, out, to=writer, from_=reader, reader_options=reader_options, writer_options=options)
        return out, writer, {}

    return make


SOURCES: dict[str, Callable[[Path], Source]] = {
    "sav-train": _sav_train,
    "sav-every-frame": _sav_every_frame,
    "sav-val": _sav_val,
    "burst": _burst,
    "burst-numbered": lambda root: _burst(root, numbered=True),
    "burst-track-255": lambda root: _burst(root, numbered=True, track_255=True),
    "ytvis": lambda root: _ytvis(root / "ytvis_2019"),
    "ytvis-jpeg": lambda root: _ytvis(root / "ytvis_2019", suffix=".jpeg"),
    "ytvis-test": lambda root: _ytvis(root / "ytvis_2019", annotated=False),
    "ovis": lambda root: _ytvis(root / "OVIS", ovis=True),
    "cocovid": _cocovid,
    "lvos": lambda root: (write_lvos(root / "LVOS", seed=1), "lvos", {"split": "train"}),
    "vost": lambda root: (make_vost(root / "VOST"), "vost", {}),
    "mosev2": lambda root: (write_mosev2(root / "MOSEv2", seed=1), "mose", {"split": "train"}),
    "coco-of-burst": _written(lambda root: _burst(root, numbered=True), "coco", "out.json.gz"),
    "parquet-of-sav": _written(_sav_train, "parquet", "out.parquet"),
    "cocovid-of-vost": _written(lambda root: (make_vost(root / "VOST"), "vost", {}), "cocovid", "out.cocovid.json"),
    "hdf5-of-vost": _written(lambda root: (make_vost(root / "VOST"), "vost", {}), "hdf5", "out.h5"),
    "hdf5-dense-of-mosev2": _written(
        lambda root: (write_mosev2(root / "MOSEv2", seed=1), "mose", {"split": "train"}), "hdf5", "out.h5", {"masks": "dense"}
    ),
}

#: Test case -> (writer, its options): every writer, and the options that change what is stored.
CASES: dict[str, tuple[str, dict[str, Any] | None]] = {
    **{name: (name, None) for name in round_trip_writers()},
    "hdf5-dense": ("hdf5", {"masks": "dense"}),
    "parquet-named-frames": ("parquet", {"images": False}),
    "mose-void-kept": ("mose", {"void": "keep"}),
    "mose-renumbered": ("mose", {"renumber": True}),
    "davis-annotations-only": ("davis", {"images": False}),
    "youtube-vos-annotations-only": ("youtube-vos", {"images": False}),
    "sav-json": ("sav", {"json": True}),
}

LABEL_MAPS = ("mose", "davis", "youtube-vos", "mose-void-kept", "davis-annotations-only", "youtube-vos-annotations-only")
FOLDERS = (*LABEL_MAPS, "mose-renumbered", "sav", "sav-json")
PIXEL_VALUE = "is not a pixel value 1 to 254"
OVERLAP = "its masks overlap"
NUMBERED = "frame files are named by frame number"
JSON_STEP = "its annotated frames are not frames 0, s, 2s"


def _refusals() -> dict[tuple[str, str], str]:
    """(source, case) -> what the refusal must say: the pairs whose target cannot hold the source."""
    refused: dict[tuple[str, str], str] = {}
    wide = ("sav-train", "sav-every-frame", "sav-val", "burst-numbered", "burst-track-255", "coco-of-burst", "parquet-of-sav")
    for source in wide:  # ids 0, 255, 300 or 2^31-1 and overlapping masks: one value 1-254 per pixel holds neither
        refused.update({(source, case): PIXEL_VALUE for case in (*LABEL_MAPS, "hdf5-dense")})
        if source != "burst-track-255":  # whose tracks do not overlap: renumbered 1..K, it is written
            refused[(source, "mose-renumbered")] = OVERLAP
    refused[("burst-track-255", "hdf5")] = "object id 255 is the void region in HDF5 RLE tables"
    for source in ("burst", "ovis", "vost", "cocovid-of-vost", "hdf5-of-vost"):  # frame0000.jpg, img_0000001.jpg
        refused.update({(source, case): NUMBERED for case in FOLDERS})
    refused[("burst", "hdf5-dense")] = PIXEL_VALUE
    for source in ("burst-numbered", "burst-track-255", "coco-of-burst", "ytvis", "ytvis-jpeg", "cocovid", "lvos"):
        refused[(source, "sav-json")] = JSON_STEP  # annotated every 30th or 5th frame: SAM 2's JSON loader needs 24/s
    return refused


REFUSED = _refusals()


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Source, DatasetInfo, list[Video]]]:
    """name -> (the source, its dataset info, its videos as read), each built and read once."""
    built: dict[str, tuple[Source, DatasetInfo, list[Video]]] = {}

    def get(name: str) -> tuple[Source, DatasetInfo, list[Video]]:
        if name not in built:
            source = SOURCES[name](tmp_path_factory.mktemp(name))
            with api.open_reader(*source) as reader:
                built[name] = source, reader.info(), [reader.read_video(ref) for ref in reader.list_videos()]
        return built[name]

    return get


def _read_back(out: Path, writer: str) -> tuple[DatasetInfo, list[Video | None]]:
    """The output read back; a video whose frames its reader cannot find (BURST's frame folders) is None."""
    with api.open_reader(out, writer) as reader, warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*images are not embedded and", VosconvWarning)
        videos: list[Video | None] = []
        for ref in reader.list_videos():
            try:
                videos.append(reader.read_video(ref))
            except SourceError as error:
                if "is missing" not in error.cause and "does not exist" not in error.cause:
                    raise
                videos.append(None)
        return reader.info(), videos


def _as_said(video: Video, out: Path, said: set[str], renumber: bool) -> Video:
    """The source video with the changes the writer said it made applied: what must come back."""
    if renumber:
        video, mapping = labels.renumbered(video)
        recorded = json.loads((out / "object_ids.json").read_text()).get(video.name, {})
        assert {int(new): old for new, old in recorded.items()} == {new: old for old, new in mapping.items()}
    if "frame_names" in said:  # an annotations-only folder names each frame by its mask: <number>.jpg
        frames = tuple(
            f if f.masks is None else dataclasses.replace(f, file_name=f.stem + IMAGE_SUFFIXES[0]) for f in video.frames
        )
        video = dataclasses.replace(video, frames=frames)
    return video


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_exact_or_refused_or_said(sources, tmp_path: Path, name: str, case: str) -> None:
    (source, reader, options), info, videos = sources(name)
    writer, writer_options = CASES[case]
    out = tmp_path / OUTPUT_NAMES.get(writer, "out")
    if (name, case) in REFUSED:
        with pytest.raises(SourceError, match=REFUSED[(name, case)]) as caught:
            api.convert(source, out, to=writer, from_=reader, reader_options=options, writer_options=writer_options)
        assert caught.value.path.split("/")[0] in {v.name for v in videos}, caught.value  # the video, or its frame
        assert not out.exists()
        return
    summary = api.convert(source, out, to=writer, from_=reader, reader_options=options, writer_options=writer_options)
    said = reported(out, tuple(summary.notes))
    if "left_out_videos" in said:
        said.add("videos")
    renumber = bool((writer_options or {}).get("renumber"))
    expected = [_as_said(video, out, said, renumber) for video in videos]
    images = (writer_options or {}).get("images", True)
    info_back, back = _read_back(out, writer)
    found = differences((info, expected), (info_back, back), writer, images=images)
    unsaid = {key: what for key, what in found.items() if key not in said}
    assert not unsaid, f"{name} -> {case} changed without saying so: {unsaid} (its notes: {summary.notes})"
    if said & {"unseen_objects", "unwritten_frames", "videos"} or None in back:
        return  # objects, frames or videos left out, as said: the comparison above is all there is
    # exact, as a fingerprint (values compared with their types: 1, 1.0 and True differ), but for what was said
    kept = ALL_METADATA - said - ({"categories"} if said & {"dataset_categories", "merged_categories"} else set())
    compare_images = images and "unlocated" not in said
    as_written = api.open_writer(writer, writer_options).as_written
    for want, got in zip(expected, back):
        print_want = fingerprint(as_written(want), info, images=compare_images)
        assert_same_content(print_want, fingerprint(got, info_back, images=compare_images), kept=kept)
