"""The ``hdf5`` writer: the documented layout (read with plain h5py), dense masks, codecs, shards, determinism."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401  (the Zstd and LZ4 filters)
import numpy as np
import pytest

from converters import api
from converters.codecs import labels
from converters.codecs.rle import encode
from converters.errors import OptionError, SourceError
from converters.formats.hdf5.spec import HEADER_ATTRIBUTE
from converters.formats.hdf5.writer import Hdf5Writer
from converters.formats.sharded import manifest as shards
from converters.model import DatasetInfo, Frame, FrameMasks, MaskEncoding, ObjectInfo, Video
from converters.sources.checksums import sha256
from converters.writer import Shard
from tests.memsource import convert as convert_memory

SOURCES = {
    "mose": ("mose", {"split": "train"}),
    "davis": ("davis", {"split": "val"}),  # void, an empty frame, grayscale masks
    "davis-train": ("davis", {"split": "train"}),  # DAVIS 2016 binary masks
    "youtube-vos": ("youtube-vos", {"split": "valid"}),  # unannotated frames
}


def convert(sample_root, out, source="davis", workers=1, **options):
    layout, reader_options = SOURCES[source]
    api.convert(
        sample_root[layout], out, to="hdf5", from_=layout, reader_options=reader_options, writer_options=options, workers=workers
    )
    return out


def source_videos(sample_root, source="davis"):
    layout, options = SOURCES[source]
    with api.open_reader(sample_root[layout], layout, options) as reader:
        return [reader.read_video(ref) for ref in reader.list_videos()]


def read_back(out):
    with api.open_reader(out, "hdf5") as reader:
        return [reader.read_video(ref) for ref in reader.list_videos()]


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_layout_opens_with_plain_h5py(sample_root, tmp_path, source):
    videos = source_videos(sample_root, source)
    out = convert(sample_root, tmp_path / "out", source)
    with h5py.File(out / "part-00000.h5", "r") as file:
        assert json.loads(file.attrs[HEADER_ATTRIBUTE])["format_version"] == 2
        assert list(file["videos"]) == [v.name for v in videos]
        for video in videos:
            group = file["videos"][video.name]
            assert (group.attrs["width"], group.attrs["height"]) == (video.width, video.height)
            assert group.attrs["encoding"] == video.encoding.value.encode()  # fixed-length strings: bytes in h5py
            assert group.attrs["images"] == b"embedded" and group.attrs["masks"] == b"rle"
            assert ("palette" in group.attrs) == (video.palette is not None)
            if video.palette is not None:
                assert group.attrs["palette"].tobytes() == video.palette
            assert group.attrs["object_ids"].tolist() == [o.object_id for o in video.objects]
            objects = json.loads(group.attrs["objects"])
            assert [(o["object_id"], o["category_id"]) for o in objects] == [(o.object_id, o.category_id) for o in video.objects]
            assert list(group["file_names"].asstr()[()]) == [f.file_name for f in video.frames]
            starts = group["images_offsets"][()]
            assert group["annotated"][()].tolist() == [f.annotated for f in video.frames]
            for frame in video.frames:
                image = group["images"][starts[frame.index] : starts[frame.index + 1]].tobytes()
                assert image == Path(frame.image.path).read_bytes()
            offsets, at = group["rle/offsets"][()], group["rle/counts_offsets"][()]
            for frame in video.frames:
                rows = range(offsets[frame.index], offsets[frame.index + 1])
                masks = [] if frame.masks is None else [*frame.masks.objects, *([frame.masks.void] if frame.masks.void else [])]
                assert [group["rle/object_id"][r] for r in rows] == [m.object_id for m in masks]
                assert [group["rle/counts"][at[r] : at[r + 1]].tobytes().decode() for r in rows] == [m.counts for m in masks]
                assert [group["rle/area"][r] for r in rows] == [m.area for m in masks]
                assert [tuple(group["rle/bbox"][r]) for r in rows] == [m.bbox for m in masks]


@pytest.mark.parametrize("codec", ["zstd", "lz4", "gzip"])
def test_dense_masks_are_the_png_values(sample_root, tmp_path, codec):
    videos = source_videos(sample_root, "davis-train")
    out = convert(sample_root, tmp_path / "out", "davis-train", masks="dense", codec=codec)
    with h5py.File(out / "part-00000.h5", "r") as file:
        for video in videos:
            dataset = file["videos"][video.name]["masks"]
            assert dataset.shape == (len(video.frames), video.height, video.width) and dataset.dtype == np.uint8
            assert dataset.chunks == (1, video.height, video.width)
            assert len(dataset.id.get_create_plist().get_filter(0)) > 0
            for frame in video.frames:
                assert np.array_equal(dataset[frame.index], labels.label_map(video, frame.masks)), (video.name, frame.index)
            assert "rle" not in file["videos"][video.name]
    assert read_back(out) == read_back(convert(sample_root, tmp_path / "rle", "davis-train"))


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_dense_and_rle_give_identical_videos(sample_root, tmp_path, source):
    rle = read_back(convert(sample_root, tmp_path / "rle", source))
    dense = read_back(convert(sample_root, tmp_path / "dense", source, masks="dense"))
    assert dense == rle
    assert [v.frames[0].masks is None for v in dense] == [v.frames[0].masks is None for v in source_videos(sample_root, source)]


def test_without_images(sample_root, tmp_path):
    out = convert(sample_root, tmp_path / "out", images=False)
    with h5py.File(out / "part-00000.h5", "r") as file:
        for group in file["videos"].values():
            assert group.attrs["images"] == b"external"
            assert "images" not in group


def test_small_shards_same_bytes_with_workers(sample_root, tmp_path):
    one = convert(sample_root, tmp_path / "one", "mose", shard_bytes=1, masks="dense")
    two = convert(sample_root, tmp_path / "two", "mose", shard_bytes=1, masks="dense", workers=2)
    manifest = shards.load_manifest(one, "hdf5")
    assert [s.file for s in manifest.shards] == ["part-00000.h5", "part-00001.h5", "part-00002.h5"]
    assert sorted(os.listdir(one)) == sorted(os.listdir(two))
    for name in os.listdir(one):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    for shard in manifest.shards:
        assert shard.sha256 == sha256(one / shard.file)
        with h5py.File(one / shard.file, "r") as file:
            assert tuple(file["videos"]) == shard.videos


def _overlapping_video() -> Video:
    label = np.zeros((6, 8), np.uint8)
    label[1:4, 1:4] = 1
    other = np.zeros((6, 8), np.uint8)
    other[2:5, 2:6] = 2
    masks = FrameMasks((*encode(label), *encode(other)))
    return Video("overlap", 8, 6, (Frame(0, "00000.jpg", None, masks),), (ObjectInfo(1), ObjectInfo(2)), MaskEncoding.PALETTE)


def test_dense_refuses_what_a_label_map_cannot_hold(tmp_path):
    video = _overlapping_video()
    writer = Hdf5Writer(Hdf5Writer.Options(masks="dense"))
    with pytest.raises(SourceError, match="overlap"):
        writer.write_shard([video], Shard(0, ()), tmp_path, DatasetInfo("test"))
    assert list((tmp_path / "output").iterdir()) == []  # no half-written shard left behind
    result = Hdf5Writer().write_shard([video], Shard(0, ()), tmp_path, DatasetInfo("test"))  # RLE keeps it
    assert [v["name"] for v in result.facts["videos"]] == ["overlap"]


def test_dense_keeps_per_frame_values(tmp_path):
    """SA-V's stability scores live in the objects' records, beside the label maps: masks=dense keeps them, where it
    refused such a video, saying its masks overlapped."""
    label = np.zeros((6, 8), np.uint8)
    label[1:4, 1:4], label[4:6, 0:2] = 1, 2
    first, second = encode(label)
    masks = FrameMasks((dataclasses.replace(first, values=(("stability_score", 0.75),)), second))
    video = Video("scored", 8, 6, (Frame(0, "00000.jpg", None, masks),), (ObjectInfo(1), ObjectInfo(2)), MaskEncoding.PALETTE)
    summary = convert_memory(DatasetInfo("test"), [video], api.open_writer("hdf5", {"masks": "dense"}), tmp_path / "out")
    assert read_back(summary.output) == [video]


@pytest.mark.parametrize("masks", ["rle", "dense"])
def test_a_video_of_no_frames_is_written_and_read_back(tmp_path, masks):
    """A COCO file's video of length 0: its file_names are empty, and an HDF5 chunk cannot be of 0 names."""
    video = Video("frameless", 8, 6, (), (), MaskEncoding.PALETTE)
    summary = convert_memory(DatasetInfo("test"), [video], api.open_writer("hdf5", {"masks": masks}), tmp_path / "out")
    assert read_back(summary.output) == [video]


@pytest.mark.parametrize(
    "options",
    [{"masks": "png"}, {"codec": "lzf"}, {"codec": "lz4", "compression_level": 3}, {"codec": "gzip", "compression_level": 10}],
)
def test_bad_options(options):
    with pytest.raises(OptionError):
        api.open_writer("hdf5", options)


@pytest.mark.parametrize("masks", ["rle", "dense"])
def test_no_variable_length_data_so_no_global_heap(sample_root, tmp_path, masks):
    """libhdf5 loops forever on a damaged global-heap object header (HDFGroup/hdf5#1707): a shard
    holds no variable-length data, so it has no global heap ("GCOL" collections) to damage."""
    out = convert(sample_root, tmp_path / "out", "youtube-vos", masks=masks)
    data = (out / "part-00000.h5").read_bytes()
    assert b"GCOL" not in data

    def fixed(dtype) -> bool:  # neither vlen data nor a vlen string
        string = h5py.check_string_dtype(dtype)
        return h5py.check_vlen_dtype(dtype) is None and (string is None or string.length is not None)

    def visit(name, item):
        assert all(fixed(item.attrs.get_id(key).dtype) for key in item.attrs), name
        if isinstance(item, h5py.Dataset):
            assert fixed(item.dtype), name

    with h5py.File(out / "part-00000.h5", "r") as file:
        visit("/", file)
        file.visititems(visit)


def test_strings_are_utf8_and_the_layout_version_is_2(sample_root, tmp_path):
    """Fixed-length strings tagged UTF-8, so plain h5py's asstr() reads non-ASCII names; version 2 marks the layout."""
    out = convert(sample_root, tmp_path / "out", "youtube-vos")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format_version"] == 2
    with h5py.File(out / "part-00000.h5", "r") as file:
        assert json.loads(file.attrs[HEADER_ATTRIBUTE])["format_version"] == 2
        group = next(iter(file["videos"].values()))
        for dtype in (group["file_names"].dtype, group.attrs.get_id("objects").dtype, file.attrs.get_id(HEADER_ATTRIBUTE).dtype):
            assert h5py.check_string_dtype(dtype).encoding == "utf-8"
    manifest["format_version"] = 3
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SourceError, match="format version 3 is newer than this vosconv reads"):
        api.open_reader(out).list_videos()


def _timestamps(path: Path) -> list[str]:
    """The objects of an HDF5 file that carry a modification time."""
    found = []
    with h5py.File(path, "r") as file:
        for name, item in [("/", file), *_items(file)]:
            if h5py.h5g.get_objinfo(item.id).mtime:
                found.append(name)
    return found


def _items(file: h5py.File) -> list[tuple[str, h5py.HLObject]]:
    items: list[tuple[str, h5py.HLObject]] = []
    file.visititems(lambda name, item: items.append((name, item)))
    return items


@pytest.mark.parametrize("h5py_default", ["timed", "as-installed"])
def test_no_object_carries_a_timestamp_whatever_h5py_does_by_default(sample_root, tmp_path, monkeypatch, h5py_default):
    """h5py before 3.15 (which vosconv accepts) stored a timestamp on every group created with ``track_order``, the root
    group too, so two runs a second apart wrote different bytes: the writer asks for none itself. ``timed`` gives a newer
    h5py's ``create_group`` and ``File`` those older defaults; with an older h5py, ``as-installed`` has them."""
    if h5py_default == "timed":
        if "track_times" not in inspect.signature(h5py.File.__init__).parameters:
            pytest.skip("this h5py stores timestamps by default: the as-installed case checks it")
        group, file = h5py.Group.create_group, h5py.File.__init__
        monkeypatch.setattr(h5py.Group, "create_group", lambda self, *a, **k: group(self, *a, **{**k, "track_times": True}))
        monkeypatch.setattr(h5py.File, "__init__", lambda self, *a, **k: file(self, *a, **{**k, "track_times": True}))
    out = convert(sample_root, tmp_path / "out", "youtube-vos")
    monkeypatch.undo()
    assert _timestamps(out / "part-00000.h5") == []
