"""The SAM 2 drop-in against SAM 2's REAL training data code (the sam2==1.1.0 sdist's ``training`` package).

Nothing here skips: CI installs SAM 2 through ``make test``, and a setup that cannot import it fails.
"""

from __future__ import annotations

import json
import logging
import pickle
import random
import threading
import time
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from iopath.common.file_io import g_pathmgr
from pycocotools import mask as mask_api
from training.dataset.vos_dataset import VOSDataset
from training.dataset.vos_raw_dataset import PNGRawDataset
from training.dataset.vos_sampler import RandomUniformSampler
from training.utils.data_utils import collate_fn

from converters import api
from converters.integrations import sam2
from converters.integrations.sam2 import SCHEME, FrameNumbers, ShardRawDataset, frame_uri
from converters.loading import open_dataset
from converters.loading.dataset import VideoHandle

FORMATS = ("parquet", "hdf5")
ALL_FORMATS = (*FORMATS, "hdf5-dense")  # label maps stored whole: present_planes reads them another way


@pytest.fixture(autouse=True)
def quiet_retries():
    logging.disable(logging.WARNING)  # VOSDataset logs each retried sample
    yield
    logging.disable(logging.NOTSET)


def folders(clean) -> PNGRawDataset:
    return PNGRawDataset(img_folder=str(clean / "JPEGImages"), gt_folder=str(clean / "Annotations"))


def vos(raw, transforms=(), num_frames=4, max_num_objects=2) -> VOSDataset:
    sampler = RandomUniformSampler(num_frames=num_frames, max_num_objects=max_num_objects, reverse_time_prob=0.5)
    return VOSDataset(transforms=list(transforms), training=True, video_dataset=raw, sampler=sampler, multiplier=1)


def key(datapoint) -> tuple:
    """Everything a datapoint holds: ids, size, each frame's pixels and each object's id, frame and mask."""
    frames = []
    for frame in datapoint.frames:
        objects = [(int(o.object_id), o.frame_index, o.segment.dtype, o.segment.numpy().tobytes()) for o in frame.objects]
        frames.append((np.asarray(frame.data).tobytes(), objects))
    return datapoint.video_id, datapoint.size, frames


@pytest.mark.parametrize("layout", ["mose", "davis"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_vos_dataset_gives_the_same_datapoints_as_over_the_folders(sam2_sets, layout, fmt):
    """DAVIS: void (255) an object, as in the PNGs; the 2016 binary sequence's object 255, not vosconv's 1."""
    clean, outputs = sam2_sets[layout]
    want, got = vos(folders(clean)), vos(ShardRawDataset(outputs[fmt]))
    assert len(got) == len(want) == {"mose": 3, "davis": 4}[layout]
    for seed in range(40):
        for index in range(len(want)):
            random.seed(seed)
            a = want[index]
            random.seed(seed)
            b = got[index]
            assert key(a) == key(b), (seed, index)


@pytest.mark.parametrize("layout", ["mose", "youtube-vos", "davis"])
@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_raw_videos_and_segment_loaders_match_the_png_ones(sam2_sets, layout, fmt):
    """Frame numbers from file names (YouTube-VOS: 0, 5, ...), object order of first appearance, KeyError when
    unannotated, objects that vanish and return (MOSE), void and DAVIS 2016's 0/255 masks (DAVIS)."""
    clean, outputs = sam2_sets[layout]
    png, shards = folders(clean), ShardRawDataset(outputs[fmt])
    assert shards.video_names == png.video_names
    unannotated = 0
    for idx in range(len(png)):
        (video_a, loader_a), (video_b, loader_b) = png.get_video(idx), shards.get_video(idx)
        assert (video_b.video_name, video_b.video_id) == (video_a.video_name, video_a.video_id)
        assert [f.frame_idx for f in video_b.frames] == [f.frame_idx for f in video_a.frames]
        for frame_a, frame_b in zip(video_a.frames, video_b.frames):
            with open(frame_a.image_path, "rb") as source, g_pathmgr.open(frame_b.image_path, "rb") as served:
                assert served.read() == source.read()
            try:
                segments_a = loader_a.load(frame_a.frame_idx)
            except KeyError:
                unannotated += 1
                with pytest.raises(KeyError):
                    loader_b.load(frame_b.frame_idx)
                continue
            segments_b = loader_b.load(frame_b.frame_idx)
            assert [(type(k), int(k)) for k in segments_b] == [(type(k), int(k)) for k in segments_a]
            for k in segments_a:
                assert segments_b[k].dtype == torch.bool and torch.equal(segments_b[k], segments_a[k])
    assert (unannotated > 0) == (layout == "youtube-vos")


def test_video_lists_work_as_in_png_raw_dataset(sam2_sets, tmp_path):
    clean, outputs = sam2_sets["mose"]
    names = ShardRawDataset(outputs["parquet"]).video_names
    listing, excluded = tmp_path / "list.txt", tmp_path / "excluded.txt"
    listing.write_text("".join(f"{n}.mp4\n" for n in reversed(names)))
    excluded.write_text(f"{names[1]}\n")
    a = ShardRawDataset(outputs["parquet"], file_list_txt=str(listing), excluded_videos_list_txt=str(excluded))
    b = PNGRawDataset(str(clean / "JPEGImages"), str(clean / "Annotations"), str(listing), str(excluded))
    assert a.video_names == b.video_names == [names[0], names[2]] and len(a) == 2


def test_only_read_mode_and_frame_addresses(sam2_sets):
    _, outputs = sam2_sets["mose"]
    uri = frame_uri(str(outputs["hdf5"]), ShardRawDataset(outputs["hdf5"]).video_names[0], 0)
    with pytest.raises(ValueError, match="'rb'"):
        g_pathmgr.open(uri, "r")
    with pytest.raises(ValueError, match="not a vosconv frame address"):
        g_pathmgr.open(uri.replace("/0.jpg", "/x.jpg"), "rb")
    with pytest.raises(ValueError, match="not a vosconv frame address"):  # a digit to str, no number to int
        g_pathmgr.open(uri.replace("/0.jpg", "/\u00b2.jpg"), "rb")


def counting(monkeypatch, owner, name: str) -> list:
    """Calls of ``owner.name`` from now on (their first argument after self), the call still made."""
    calls, original = [], getattr(owner, name)

    def counted(self, *args, **kwargs):
        calls.append(args[0] if args else None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_video_reads_a_videos_file_names_once(sam2_sets, fmt, monkeypatch):
    """Each datapoint calls get_video: the frame list comes from what the first call read of the shard."""
    _, outputs = sam2_sets["youtube-vos"]
    raw = ShardRawDataset(outputs[fmt])
    calls = counting(monkeypatch, VideoHandle, "file_names")
    first, _ = raw.get_video(1)
    again, _ = raw.get_video(1)
    assert len(calls) == 1
    assert again == first and again.frames is not first.frames  # fresh objects, equal to the first
    assert [f.image_path for f in again.frames] == [frame_uri(raw.path, first.video_name, p) for p in range(len(first.frames))]
    assert pickle.loads(pickle.dumps(raw))._stored == {}  # workers read for themselves


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_frame_loaded_again_at_once_is_not_decoded_again(sam2_sets, fmt, monkeypatch):
    """SAM 2's sampler loads a clip's first frame twice and VOSDataset once more: one decode for the three."""
    _, outputs = sam2_sets["mose"]
    video, loader = ShardRawDataset(outputs[fmt]).get_video(0)
    calls = counting(monkeypatch, VideoHandle, "present_objects")
    first = video.frames[1].frame_idx
    a, b = loader.load(first), loader.load(first)
    loader.load(video.frames[2].frame_idx)
    c = loader.load(first)
    assert calls == [1, 2, 1]
    assert list(a) == list(b) == list(c) and a is not b
    assert all(torch.equal(a[k], b[k]) and torch.equal(a[k], c[k]) for k in a)


def test_frame_numbers_keep_evenly_spaced_numbers_as_a_range():
    youtube = FrameNumbers([f"{n:05d}.jpg" for n in range(0, 500, 5)])
    assert youtube.numbers == range(0, 500, 5)
    assert (youtube.position(0), youtube.position(495), youtube.position(7), youtube.position(500)) == (0, 99, None, None)
    gaps = FrameNumbers(["00002.jpg", "00003.jpg", "00007.jpg"])
    assert gaps.numbers == (2, 3, 7) and [gaps.position(n) for n in (2, 3, 7, 4)] == [0, 1, 2, None]
    assert FrameNumbers(["b.jpg", "a.jpg"]).numbers == range(2)  # names that are no numbers: positions
    assert FrameNumbers(["00000.jpg", "00001\u00b2.jpg"]).numbers == range(2)  # a superscript is a digit, not a number
    assert FrameNumbers(["00004.jpg"]).numbers == range(4, 5) and FrameNumbers([]).numbers == range(0)
    assert FrameNumbers(["00003.jpg", "00001.jpg"]).numbers == (3, 1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_image_gives_the_stored_bytes_of_one_frame(sam2_sets, fmt):
    clean, outputs = sam2_sets["mose"]
    handle = open_dataset(outputs[fmt])[0]
    for index, name in enumerate(handle.file_names()):
        assert handle.read_image(index) == (clean / "JPEGImages" / handle.name / name).read_bytes()
    with pytest.raises(IndexError):
        handle.read_image(len(handle))


def as_tensors(datapoint, **kwargs):
    """Frames to uint8 (3, H, W) tensors, what SAM 2's collate_fn stacks (its own transforms need the real torchvision)."""
    for frame in datapoint.frames:
        frame.data = torch.from_numpy(np.array(frame.data)).permute(2, 0, 1)
    return datapoint


def summary(datapoint) -> list:
    batch = collate_fn([datapoint], dict_key="all")
    return [batch.img_batch.sum().item(), batch.masks.sum().item(), batch.metadata.unique_objects_identifier.tolist()]


class Seeded(torch.utils.data.Dataset):
    """Python's random seeded per item, so a datapoint does not depend on which worker draws it."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index):
        random.seed(index)
        return summary(self.dataset[index])


@pytest.mark.parametrize("context", ["fork", "spawn"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_dataloader_workers_serve_the_frames(sam2_sets, fmt, context):
    """Spawned workers import the module anew: the vosconv:// handler registers itself there too. The main
    process reads first, so forked workers start with its shard files open (theirs to reopen, not to share)."""
    clean, outputs = sam2_sets["mose"]
    want = [Seeded(vos(folders(clean), [as_tensors]))[i] for i in range(3)]
    shards = Seeded(vos(ShardRawDataset(outputs[fmt]), [as_tensors]))
    assert [shards[i] for i in range(3)] == want
    loader = torch.utils.data.DataLoader(
        shards,
        batch_size=None,
        num_workers=2,
        multiprocessing_context=context,
    )
    assert list(loader) == want


def test_object_ids_over_255_load_and_train(sample_root, sam2_sets, tmp_path):
    """A converted COCO, YouTube-VIS or SA-V video may number its objects past 255: np.uint8(id) raised OverflowError."""
    _, outputs = sam2_sets["mose"]
    coco = tmp_path / "wide.cocovid.json"
    api.convert(sample_root["mose"], coco, to="cocovid", from_="mose", reader_options={"split": "train"})
    data = json.loads(coco.read_text())
    for record in [o for v in data["videos"] for o in v["vosconv"]["objects"]] + data["annotations"]:
        record["object_id"] += 300
    coco.write_text(json.dumps(data))
    api.convert(coco, tmp_path / "wide", to="parquet")
    narrow, wide = ShardRawDataset(outputs["parquet"]), ShardRawDataset(tmp_path / "wide")
    for idx in range(len(narrow)):
        (video, a), (_, b) = narrow.get_video(idx), wide.get_video(idx)
        for frame in video.frames:
            want, got = a.load(frame.frame_idx), b.load(frame.frame_idx)
            assert [int(k) + 300 for k in want] == [int(k) for k in got]
            assert all(torch.equal(want[k], got[int(k) + 300]) for k in want)
    random.seed(0)
    datapoint = vos(wide)[0]
    assert all(int(o.object_id) > 300 for frame in datapoint.frames for o in frame.objects)


def test_the_path_handler_is_registered_once_from_any_number_of_threads(monkeypatch):
    """Two threads both found the prefix free and both registered: iopath warned and swapped the handler."""
    calls, original = [], g_pathmgr.register_handler

    def slow(new, *args, **kwargs):
        calls.append(new)
        time.sleep(0.05)  # the window in which another thread checks the prefix
        original(new, *args, **kwargs)

    monkeypatch.setattr(g_pathmgr, "register_handler", slow)
    others = OrderedDict((prefix, h) for prefix, h in g_pathmgr._path_handlers.items() if prefix != SCHEME)
    monkeypatch.setattr(g_pathmgr, "_path_handlers", others)  # the whole dict put back after: iopath replaces it
    threads = [threading.Thread(target=sam2._register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sam2._register()
    assert len(calls) == 1 and g_pathmgr._path_handlers[SCHEME] is calls[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_threads_read_frames_through_g_pathmgr(sam2_sets, fmt, monkeypatch):
    """A fresh process's first reads from several threads at once (each opens the dataset and video on first use)."""
    _, outputs = sam2_sets["mose"]
    raw = ShardRawDataset(outputs[fmt])
    frames = [f for idx in range(len(raw)) for f in raw.get_video(idx)[0].frames] * 3

    def read(frame) -> bytes:
        with g_pathmgr.open(frame.image_path, "rb") as file:
            return file.read()

    want = [read(frame) for frame in frames]
    monkeypatch.setattr(sam2, "_OPEN", {})
    monkeypatch.setattr(sam2, "_ADDRESSED", {})
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(read, frames)) == want


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_overlapping_masks_load_whole(sample_root, tmp_path, fmt):
    """SA-V-derived shards: masks may overlap (no PNG can hold them); each object's mask comes whole, ids from 0
    and past 255, in the raster order of each mask's first pixel."""
    coco = tmp_path / "overlap.cocovid.json"
    api.convert(sample_root["mose"], coco, to="cocovid", from_="mose", reader_options={"split": "train"})
    data = json.loads(coco.read_text())
    image = data["annotations"][0]["image_id"]
    on_frame = [a for a in data["annotations"] if a["image_id"] == image]
    assert len(on_frame) >= 2
    first, second = on_frame[:2]
    second["segmentation"] = mask_api.merge([first["segmentation"], second["segmentation"]])  # covers `first` whole
    second["segmentation"]["counts"] = second["segmentation"]["counts"].decode()
    moved = second["object_id"]
    for record in [o for v in data["videos"] for o in v["vosconv"]["objects"]] + data["annotations"]:
        record["object_id"] += 299 if record["object_id"] == moved else -1  # SA-V counts its objects from 0
    coco.write_text(json.dumps(data))
    api.convert(coco, tmp_path / "out", to=fmt)
    raw = ShardRawDataset(tmp_path / "out")
    video_name, frame_name = next(i["file_name"] for i in data["images"] if i["id"] == image).split("/")
    _, loader = raw.get_video(raw.video_names.index(video_name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pycocotools under numpy 2
        want = {int(a["object_id"]): mask_api.decode(a["segmentation"]).astype(bool) for a in on_frame}
    got = loader.load(int(frame_name.split(".")[0]))
    assert sorted(int(k) for k in got) == sorted(want) and 0 in want
    assert (got[first["object_id"]] & got[second["object_id"]]).any()
    assert all(np.array_equal(got[k].numpy(), want[int(k)]) for k in got)
    assert [int(k) for k in got] == sorted(want, key=lambda k: np.flatnonzero(want[k]).min())


@pytest.mark.parametrize("fmt", FORMATS)
def test_frames_not_embedded_are_read_from_where_they_have_moved(sample_root, tmp_path, fmt):
    """A dataset converted with images=false keeps frame paths only: once its frames move, image_root= finds them,
    in spawned workers too (the address carries it), and gives the datapoints of PNGRawDataset over the new folder."""
    from converters.errors import SourceError

    from .conftest import clean_copy

    frames = clean_copy(sample_root["mose"] / "train", tmp_path / "train")
    out = tmp_path / "out"
    api.convert(frames, out, to=fmt, from_="mose", writer_options={"images": False})
    moved = tmp_path / "moved"
    frames.rename(moved)
    with pytest.raises(SourceError, match="image_root"):
        ShardRawDataset(out)
    raw = ShardRawDataset(out, image_root=moved / "JPEGImages")
    want = [Seeded(vos(folders(moved), [as_tensors]))[i] for i in range(3)]
    shards = Seeded(vos(raw, [as_tensors]))
    assert [shards[i] for i in range(3)] == want
    loader = torch.utils.data.DataLoader(shards, batch_size=None, num_workers=2, multiprocessing_context="spawn")
    assert list(loader) == want


def test_object_255_beside_a_void_region_is_refused_not_merged(tmp_path):
    """Parquet keeps an object 255 apart from the void; SAM 2's loader keys both as 255, so one replaced the other."""
    from converters.errors import SourceError
    from converters.formats.parquet.writer import ParquetWriter

    from ..test_loading_void import _video, _written

    out = _written(ParquetWriter(), _video((7, 255)), tmp_path)
    video, loader = ShardRawDataset(out).get_video(0)
    with pytest.raises(SourceError, match="frame 0 holds object 255 and a void region"):
        loader.load(video.frames[0].frame_idx)
    assert [int(k) for k in loader.load(video.frames[2].frame_idx)] == [255]  # alone, it is object 255
