"""The training-ready loader (issue 19): sampling, determinism across processes, exact pixels and masks, resize, collate."""

from __future__ import annotations

import functools
import importlib.util
import multiprocessing
import pickle

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.codecs import rle
from converters.errors import OptionError, SourceError, VosconvWarning
from converters.loading import TrainingClips, collate_clips, open_dataset, read_video_list
from converters.loading.images import resize_masks
from converters.loading.training import _takes_rng
from converters.sample import label_maps

from .conftest import SHARD_FORMATS


@pytest.fixture(scope="module")
def converted(mose_shards, sample_root, tmp_path_factory):
    """format -> the MOSE sample's train split converted to it; 'youtube-vos' -> its sparse valid split as Parquet."""
    base = tmp_path_factory.mktemp("training")
    outputs = dict(mose_shards)
    outputs["youtube-vos"] = base / "yt"
    api.convert(
        sample_root["youtube-vos"], outputs["youtube-vos"], to="parquet", from_="youtube-vos", reader_options={"split": "valid"}
    )
    return outputs


def frame_names(root, video: str) -> list[str]:
    """The video's frame files in order (the sample's junk dot-files are no frames)."""
    return sorted(p.name for p in (root / "JPEGImages" / video).glob("*.jpg") if not p.name.startswith("."))


def source_frame(root, video: str, index: int) -> np.ndarray:
    with Image.open(root / "JPEGImages" / video / frame_names(root, video)[index]) as image:
        return np.asarray(image.convert("RGB"))


def source_label(pngs: dict, root, video: str, index: int) -> np.ndarray | None:
    return pngs.get(f"{video}/{frame_names(root, video)[index][:-4]}.png")


def test_chosen_clips_take_each_object_once(converted):
    clips = TrainingClips(converted["parquet"], num_frames=2, images=False)
    entry = clips.entries[0]
    with pytest.raises(OptionError, match="each object at most once"):
        clips.clip(entry.name, [0, 1], object_ids=[entry.object_ids[0]] * 2)


@pytest.mark.parametrize("fmt", sorted(SHARD_FORMATS))
def test_items_hold_the_source_pixels_and_masks(sample_root, converted, fmt):
    root = sample_root["mose"] / "train"
    pngs = label_maps(root / "Annotations")
    clips = TrainingClips(converted[fmt], num_frames=3, max_skip=3, reverse_time_prob=0.5, max_num_objects=2, output="numpy")
    assert len(clips) == len(open_dataset(converted[fmt]))
    saw_reverse = False
    for epoch in range(4):
        clips.set_epoch(epoch)
        for index in range(len(clips)):
            item = clips[index]
            indices, ids = item["frame_indices"], item["object_ids"]
            steps = np.diff(indices)
            saw_reverse |= bool((steps < 0).all())
            assert (np.abs(steps) >= 1).all() and (np.abs(steps) <= 3).all() and len(set(np.sign(steps))) == 1
            assert 1 <= len(ids) <= 2 and len(set(ids.tolist())) == len(ids)
            assert item["frames"].shape == (3, *item["masks"].shape[2:], 3) and item["masks"].dtype == bool
            assert item["present"][0].all(), "every sampled object shows on the clip's first frame"
            for t, index_ in enumerate(indices.tolist()):
                np.testing.assert_array_equal(item["frames"][t], source_frame(root, item["video"], index_))
                label = source_label(pngs, root, item["video"], index_)
                assert item["annotated"][t] == (label is not None)
                for k, object_id in enumerate(ids.tolist()):
                    want = np.zeros(item["masks"].shape[2:], bool) if label is None else label == object_id
                    np.testing.assert_array_equal(item["masks"][t, k], want)
                    assert item["present"][t, k] == want.any()
    assert saw_reverse


def test_the_same_seed_and_epoch_give_the_same_clips_and_epochs_differ(converted):
    def draw(clips, epoch):
        clips.set_epoch(epoch)
        return [(clips[i]["frame_indices"].tolist(), clips[i]["object_ids"].tolist()) for i in range(len(clips))]

    options = {"num_frames": 2, "max_skip": 4, "reverse_time_prob": 0.5, "max_num_objects": 1, "output": "numpy", "images": False}
    a, b = TrainingClips(converted["parquet"], **options), TrainingClips(converted["hdf5"], **options)
    assert draw(a, 0) == draw(b, 0) == draw(pickle.loads(pickle.dumps(a)), 0)
    assert any(draw(a, e) != draw(a, 0) for e in range(1, 5))
    assert any(draw(TrainingClips(converted["parquet"], seed=s, **options), 0) != draw(a, 0) for s in range(1, 6))


def _batches(clips, context, sampler=None):
    import torch

    loader = torch.utils.data.DataLoader(
        clips, batch_size=2, num_workers=2, sampler=sampler, collate_fn=collate_clips, multiprocessing_context=context
    )
    return [(b["video"], b["frame_indices"].tolist(), b["object_ids"].tolist(), b["masks"].sum().item()) for b in loader]


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_workers_and_distributed_sampler_see_the_same_clips(converted, context):
    torch = pytest.importorskip("torch")
    if context not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {context} here")
    clips = TrainingClips(converted["hdf5"], num_frames=2, max_skip=2, max_num_objects=2, size=(40, 60), clips_per_video=2)
    clips.set_epoch(3)
    in_process = [collate_clips([clips[i], clips[i + 1]]) for i in range(0, len(clips), 2)]
    want = [(b["video"], b["frame_indices"].tolist(), b["object_ids"].tolist(), b["masks"].sum().item()) for b in in_process]
    assert _batches(clips, context) == want
    ranks = []
    for rank in range(2):
        sampler = torch.utils.data.distributed.DistributedSampler(clips, num_replicas=2, rank=rank, shuffle=True, seed=5)
        sampler.set_epoch(3)
        order = list(sampler)
        got = _batches(clips, context, sampler)
        items = [clips[i] for i in order]
        assert [v for b in got for v in b[0]] == [it["video"] for it in items]
        assert [f for b in got for f in b[1]] == [it["frame_indices"].tolist() for it in items]
        ranks += order
    assert sorted(ranks) == list(range(len(clips)))


def test_annotated_only_video_lists_and_too_short_videos(converted, tmp_path):
    sparse = open_dataset(converted["youtube-vos"])
    clips = TrainingClips(sparse, num_frames=2, annotated_only=True, output="numpy", images=False)
    assert clips.entries, "the sample has sparse videos with two annotated frames"
    for i in range(len(clips)):
        assert clips[i]["annotated"].all()
    names = [v.name for v in open_dataset(converted["parquet"])]
    listing = tmp_path / "train_list.txt"
    listing.write_text(f"{names[1]}.mp4\n\n{names[0]}\n")
    subset = TrainingClips(converted["parquet"], num_frames=2, videos=listing, images=False, output="numpy")
    assert [e.name for e in subset.entries] == sorted(names[:2])
    listing.write_text(f"{names[1]}\n{names[0]}\n{names[1]}.mp4\n")  # SAM 2 keeps a repeated name: drawn twice as often
    twice = TrainingClips(converted["parquet"], num_frames=2, videos=listing, images=False, output="numpy")
    assert [e.name for e in twice.entries] == [names[0], names[1], names[1]]
    assert twice[1]["video"] == twice[2]["video"] == names[1]
    with pytest.raises(OptionError, match="not in"):
        TrainingClips(converted["parquet"], videos=["no-such-video"])
    with pytest.raises(SourceError, match="cannot read the video list") as missing:
        TrainingClips(converted["parquet"], videos=tmp_path / "no-such-list.txt")
    assert missing.value.path == str(tmp_path / "no-such-list.txt")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00video")
    with pytest.raises(SourceError, match="not UTF-8"):
        TrainingClips(converted["parquet"], videos=tmp_path / "binary.txt")
    longest = max(len(v) for v in open_dataset(converted["parquet"]))
    with pytest.warns(VosconvWarning, match=rf"no video gives a clip of num_frames={longest + 1} \(frames: at most {longest};"):
        assert len(TrainingClips(converted["parquet"], num_frames=longest + 1)) == 0


def nearest(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest neighbour by definition: the source pixel under each target pixel's centre."""
    height, width = masks.shape[-2:]
    rows = ((np.arange(size[0]) + 0.5) * height / size[0]).astype(int)
    cols = ((np.arange(size[1]) + 0.5) * width / size[1]).astype(int)
    return masks[..., rows[:, None], cols[None, :]]


def test_masks_resize_by_nearest_neighbour_at_any_factor():
    masks = np.random.default_rng(0).random((2, 3, 60, 90)) > 0.5
    for size in ((30, 45), (20, 30), (25, 40), (60, 90), (7, 11)):
        np.testing.assert_array_equal(resize_masks(masks, size), nearest(masks, size))


@pytest.mark.parametrize("fmt", ["parquet", "hdf5-dense"])
def test_resize_in_the_loader(sample_root, converted, fmt):
    full = TrainingClips(converted[fmt], num_frames=2, output="numpy")
    half_size = []
    for size in ((40, 60), 50):
        small = TrainingClips(converted[fmt], num_frames=2, output="numpy", size=size)
        for i in range(len(full)):
            a, b = full[i], small[i]
            h, w = a["masks"].shape[2:]
            expected = size if isinstance(size, tuple) else ((50, round(w * 50 / h)) if h <= w else (round(h * 50 / w), 50))
            assert b["frames"].shape == (2, *expected, 3) and b["masks"].shape[2:] == expected
            np.testing.assert_array_equal(b["masks"], nearest(a["masks"], expected))
            shrunk = np.stack([np.asarray(Image.fromarray(f).resize(expected[::-1], Image.BILINEAR)) for f in a["frames"]])
            half_size.append(np.abs(shrunk.astype(int) - b["frames"]).mean())
    assert max(half_size) < 12  # the DCT-scaled decode is another, close, rendering of the same frame


def test_collate_pads_objects(converted):
    clips = TrainingClips(converted["parquet"], num_frames=2, size=(32, 48))
    items = [clips[i] for i in range(len(clips))]
    items[0] = {**items[0], **{k: items[0][k][:, :1] for k in ("masks", "present")}, "object_ids": items[0]["object_ids"][:1]}
    batch = collate_clips(items)
    k = max(len(i["object_ids"]) for i in items)
    assert tuple(batch["frames"].shape) == (len(items), 2, 3, 32, 48)
    assert tuple(batch["masks"].shape) == (len(items), 2, k, 32, 48)
    assert batch["object_ids"][0, 1:].tolist() == [-1] * (k - 1) and not batch["masks"][0, :, 1:].any()
    assert batch["valid"][0].tolist() == [True] + [False] * (k - 1)
    numpy_batch = collate_clips([TrainingClips(converted["parquet"], num_frames=2, size=(32, 48), output="numpy")[0]])
    assert isinstance(numpy_batch["frames"], np.ndarray) and numpy_batch["frames"].shape == (1, 2, 32, 48, 3)


def test_collate_names_clips_of_different_sizes_and_the_fix(converted):
    """A short side alone keeps each video's aspect ratio: the batch cannot stack, and the error says why and what to give."""
    clips = TrainingClips(converted["parquet"], num_frames=2, size=32, output="numpy")
    items = [clips[i] for i in range(len(clips))]
    widths = {item["video"]: item["frames"].shape[2] for item in items}
    assert len(set(widths.values())) > 1, "the sample's videos should differ in aspect ratio"
    i, j = next(
        (i, j) for i in range(len(items)) for j in range(len(items)) if widths[items[i]["video"]] != widths[items[j]["video"]]
    )
    with pytest.raises(OptionError, match=r"collate_clips: clips of different sizes") as caught:
        collate_clips([items[i], items[j]])
    assert repr(items[i]["video"]) in str(caught.value) and repr(items[j]["video"]) in str(caught.value)
    assert "size=(height, width)" in str(caught.value)
    no_frames = TrainingClips(converted["parquet"], num_frames=2, size=32, images=False, output="numpy")
    with pytest.raises(OptionError, match="masks of"):
        collate_clips([no_frames[i], no_frames[j]])


def test_collate_refuses_what_is_no_training_clips_item(converted):
    """A ClipDataset's items (label maps, frames as a list of bytes) failed with KeyError: 'present' or an AttributeError."""
    from converters.loading.dataset import ClipDataset

    clips = ClipDataset(converted["parquet"], clip_length=2)
    with pytest.raises(OptionError, match=r"collate_clips: takes TrainingClips items .* got \['annotated', 'frame_indices'"):
        collate_clips([clips[0], clips[1]])
    with pytest.raises(OptionError, match="got tuple"):
        collate_clips([(1, 2)])


def test_transform_runs_on_each_item(converted):
    clips = TrainingClips(converted["parquet"], num_frames=2, output="numpy", transform=lambda item: item["object_ids"].tolist())
    assert all(isinstance(clips[i], list) for i in range(len(clips)))


def _augment_at_random(item, rng):
    """A random augmentation drawing from the generator it is given (module level: spawned workers unpickle it)."""
    item["draw"] = float(rng.random())
    return item


def test_a_transform_taking_a_generator_draws_the_same_whatever_the_workers(converted):
    """Augmentations drawn from the global random state change with the worker count (and numpy's repeats across
    forked workers): a transform naming rng gets a generator of the item's own (seed, epoch, index)."""
    torch = pytest.importorskip("torch")
    clips = TrainingClips(converted["hdf5"], num_frames=2, output="numpy", images=False, transform=_augment_at_random)
    clips.set_epoch(2)
    in_process = [clips[i]["draw"] for i in range(len(clips))]
    assert len(set(in_process)) == len(in_process)  # each item its own draw
    context = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    for workers in (0, 2):
        loader = torch.utils.data.DataLoader(
            clips, batch_size=None, num_workers=workers, multiprocessing_context=context if workers else None
        )
        assert [item["draw"] for item in loader] == in_process
    clips.set_epoch(3)
    assert [clips[i]["draw"] for i in range(len(clips))] != in_process
    assert (
        TrainingClips(converted["hdf5"], num_frames=2, output="numpy", images=False, seed=1, transform=_augment_at_random)[0][
            "draw"
        ]
        != clips[0]["draw"]
    )
    video = clips.entries[0].name
    assert clips.clip(video, [0, 1])["draw"] == clips.clip(video, [0, 1])["draw"] != clips.clip(video, [1, 2])["draw"]


class _OneArgument:
    def __call__(self, item):
        return item


@pytest.mark.parametrize(
    ("transform", "takes_rng"),
    [
        (lambda item: item, False),
        (lambda item, rng: item, True),
        (lambda item, rng=None: item, True),
        (lambda item, *, rng: item, True),
        (lambda item, p=0.5: item, False),  # a second parameter of its own meaning: never handed a generator
        (_OneArgument(), False),
        (functools.partial(lambda scale, item: item, 2), False),
        (functools.partial(lambda item, rng: item, rng=np.random.default_rng(5)), False),  # the caller's own, kept
        (lambda *args, **kwargs: args[0], False),  # a wrapper's may pass on to a one-argument callable
        (print, False),  # a builtin whose signature reads as (*args, ...)
    ],
    ids=[
        *("item", "item-rng", "rng-default", "rng-keyword", "other-default", "callable-object"),
        *("partial", "partial-binding-rng", "wrapper", "builtin"),
    ],
)
def test_a_transform_gets_a_generator_only_when_it_names_rng(converted, transform, takes_rng):
    assert _takes_rng(transform) is takes_rng
    seen = []
    clips = TrainingClips(converted["parquet"], num_frames=2, output="numpy", images=False, transform=transform)
    clips.transform = lambda item, **given: seen.append(given) or item  # what TrainingClips passes, by the rule above
    clips[0]
    assert [isinstance(given.get("rng"), np.random.Generator) for given in seen] == [takes_rng]


@pytest.mark.parametrize(
    "transform",
    [lambda item, generator: item, lambda item, rng, /: item, lambda: None],
    ids=["second-named-otherwise", "rng-positional-only", "no-parameter"],
)
def test_a_transform_that_cannot_be_called_as_it_would_be_is_refused_up_front(converted, transform):
    """transform(item, generator) took the generator while any two-parameter transform did; now that only one naming
    rng gets it, such a transform was called as transform(item) and failed with a TypeError in every item, in a worker."""
    with pytest.raises(OptionError, match=r"transform: .*rng"):
        TrainingClips(converted["parquet"], num_frames=2, output="numpy", images=False, transform=transform)


def test_object_planes_decode_overlapping_masks_and_wide_ids():
    import pycocotools.mask as coco

    a = np.zeros((6, 9), np.uint8)
    a[1:4, 2:6] = 1
    b = np.zeros_like(a)
    b[2:5, 4:8] = 1
    ca, cb = (coco.encode(np.asfortranarray(m))["counts"] for m in (a, b))
    planes = rle.decode_planes([[(3, ca), (70000, cb)], []], [70000, 3, 9], 6, 9)
    assert planes.shape == (2, 3, 6, 9) and planes.dtype == bool
    np.testing.assert_array_equal(planes[0, 0], b == 1)  # the overlap belongs to both objects
    np.testing.assert_array_equal(planes[0, 1], a == 1)
    assert not planes[0, 2].any() and not planes[1].any()


def test_a_chosen_clip_holds_the_chosen_frames_and_objects(converted):
    clips = TrainingClips(converted["parquet"], num_frames=2, output="numpy")
    video = open_dataset(converted["parquet"])[0]
    item = clips.clip(video.name, [1, 3], object_ids=video.object_ids[::-1])
    assert item["frame_indices"].tolist() == [1, 3] and item["object_ids"].tolist() == list(video.object_ids[::-1])
    labels = video.read_clip([1, 3], images=False)["masks"]
    for k, object_id in enumerate(video.object_ids[::-1]):
        np.testing.assert_array_equal(item["masks"][:, k], labels == object_id)


@pytest.mark.parametrize("size", [0, -3, (0, 10), (10, -1), (20,), (20, 30, 3), 32.0, (20.5, 30), True, "64"])
def test_a_bad_size_is_an_option_error_when_made_not_a_shard_error_per_item(converted, size):
    """A size no frame can have was a SourceError blaming the shard (or an IndexError), raised by each item in a worker."""
    with pytest.raises(OptionError, match="size"):
        TrainingClips(converted["parquet"], num_frames=2, size=size)


@pytest.mark.parametrize(
    "counts",
    [{"num_frames": 2.0}, {"clips_per_video": 2.0}, {"max_skip": 2.5}, {"max_num_objects": 1.5}, {"num_frames": "2"}],
    ids=["num_frames-float", "clips_per_video-float", "max_skip-float", "max_num_objects-float", "num_frames-text"],
)
def test_counts_that_are_not_integers_are_option_errors_when_made(converted, counts):
    """num_frames=2.0 (a YAML config's number) failed in every item with numpy's TypeError, clips_per_video=2.0 in len(),
    and max_skip=2.5 was drawn from as if it were an integer: each is refused when the dataset is made."""
    with pytest.raises(OptionError, match="positive integers"):
        TrainingClips(converted["parquet"], **{"num_frames": 2, **counts})
    assert len(TrainingClips(converted["parquet"], num_frames=np.int64(2), max_skip=np.int32(2), images=False))


def test_numpy_integer_sizes_and_a_negative_seed(converted):
    """A numpy integer is a short side like an int (it was indexed as a pair); a seed numpy cannot take is refused at once."""
    a = TrainingClips(converted["parquet"], num_frames=2, output="numpy", size=np.int64(24))[0]
    b = TrainingClips(converted["parquet"], num_frames=2, output="numpy", size=24)[0]
    assert a["frames"].shape == b["frames"].shape and np.array_equal(a["masks"], b["masks"])
    with pytest.raises(OptionError, match="seed"):
        TrainingClips(converted["parquet"], seed=-1)
    with pytest.raises(OptionError, match="epoch"):
        TrainingClips(converted["parquet"]).set_epoch(-1)


def test_a_dataset_without_frames_is_refused_unless_images_false(tmp_path):
    """An SA-V masklet file alone (no mp4) written as Parquet holds masks only: training on black frames in silence
    was the default; images=False reads the masks."""
    import json

    from tests.savdata import masklet_doc

    source = tmp_path / "sav_000001_manual.json"
    source.write_text(json.dumps(masklet_doc("sav_000001", 9)))
    out = tmp_path / "masks-only.parquet"
    api.convert(source, out, to="parquet", writer_options={"images": False})
    with pytest.raises(OptionError, match=r"images: .*holds no frames.*pass images=False"):
        TrainingClips(out, num_frames=2)
    item = TrainingClips(out, num_frames=2, images=False, output="numpy")[0]
    assert "frames" not in item and item["masks"].shape[0] == 2 and item["masks"].any()


def test_a_negative_index_counts_from_the_end_as_in_clip_dataset(converted):
    """``clips[-1]`` is the last item, the very one ``clips[len(clips) - 1]`` draws; past the start it is an IndexError."""
    clips = TrainingClips(converted["parquet"], num_frames=2, clips_per_video=2, images=False, output="numpy")
    last, first = clips[-1], clips[-len(clips)]
    assert last["video"] == clips[len(clips) - 1]["video"]
    assert np.array_equal(last["frame_indices"], clips[len(clips) - 1]["frame_indices"])
    assert np.array_equal(first["frame_indices"], clips[0]["frame_indices"])
    with pytest.raises(IndexError, match=rf"clip {-len(clips) - 1} out of range"):
        clips[-len(clips) - 1]


def test_a_chosen_clip_refuses_objects_the_video_does_not_have(converted):
    """An id the video lacks (a typo, another video's object) gave an empty mask, as if the object were absent."""
    clips = TrainingClips(converted["parquet"], num_frames=2, images=False)
    video = open_dataset(converted["parquet"])[0]
    with pytest.raises(OptionError, match=r"\[999\] are not objects of"):
        clips.clip(video.name, [0, 1], object_ids=[video.object_ids[0], 999])
    assert clips.clip(video.name, [0, 1], object_ids=[])["masks"].shape[1] == 0


def test_collate_keeps_what_a_transform_added(converted):
    """Keys a transform adds (boxes, crop origins) were dropped from the batch without a word: now one list entry per item."""

    def add_boxes(item):
        return {**item, "boxes": np.zeros((len(item["object_ids"]), 4)), "crop": (1, 2)}

    clips = TrainingClips(converted["parquet"], num_frames=2, size=(16, 24), transform=add_boxes)
    items = [clips[i] for i in range(len(clips))]
    batch = collate_clips(items)
    assert [b.shape for b in batch["boxes"]] == [i["boxes"].shape for i in items] and batch["crop"] == [(1, 2)] * len(items)
    assert batch["masks"].shape[:2] == (len(items), 2)


def test_collate_stacks_frames_a_transform_gave_as_a_list(converted):
    """A per-frame augmentation returning a list of (H, W, 3) arrays stacked as before; the size check once asked each
    value for ``.shape`` and failed with AttributeError on the list."""

    def per_frame(item):
        return {**item, "frames": [frame[:, ::-1] for frame in item["frames"]]}

    clips = TrainingClips(converted["parquet"], num_frames=2, size=(16, 24), output="numpy", transform=per_frame)
    items = [clips[i] for i in range(len(clips))]
    batch = collate_clips(items)
    assert batch["frames"].shape == (len(items), 2, 16, 24, 3)
    assert np.array_equal(batch["frames"][0], np.stack(items[0]["frames"]))
    with pytest.raises(OptionError, match="clips of different sizes"):
        collate_clips([items[0], {**items[1], "frames": [f[:8] for f in items[1]["frames"]]}])


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_set_epoch_reaches_persistent_workers(converted, context):
    """Persistent DataLoader workers keep the dataset they started with: each epoch repeated epoch 0's clips."""
    torch = pytest.importorskip("torch")
    if context not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {context} here")
    clips = TrainingClips(converted["parquet"], num_frames=2, max_skip=5, max_num_objects=1, images=False, output="numpy")
    loader = torch.utils.data.DataLoader(
        clips, batch_size=None, num_workers=1, persistent_workers=True, multiprocessing_context=context
    )
    got, want = [], []
    for epoch in range(4):
        clips.set_epoch(epoch)
        got.append([(item["frame_indices"].tolist(), item["object_ids"].tolist()) for item in loader])
        want.append([(clips[i]["frame_indices"].tolist(), clips[i]["object_ids"].tolist()) for i in range(len(clips))])
    loader._iterator._shutdown_workers()  # persistent workers stop now, not when (or if) the loader is collected
    loader._iterator = None  # its queues' semaphores go with it, before the fixture stops the resource tracker
    del loader
    assert got == want and len({str(w) for w in want}) > 1
    copy = pickle.loads(pickle.dumps(clips))
    copy.set_epoch(9)
    assert (copy.epoch, clips.epoch) == (9, 3)  # a copy has an epoch of its own


def test_the_first_frame_shows_the_objects_where_few_frames_do(converted, monkeypatch):
    """Sparse annotations with every frame a candidate: when the draws miss, the first frame is drawn among the frames
    showing an object. It kept the last missed draw: objects absent from its first frame, or no object at all (K = 0)."""
    from converters.loading import training

    monkeypatch.setattr(training, "FIRST_FRAME_TRIES", 1)  # every miss goes to the last resort
    clips = TrainingClips(converted["youtube-vos"], num_frames=2, reverse_time_prob=0.5, images=False, output="numpy")
    annotated = {v.name: set(v.annotated) for v in open_dataset(converted["youtube-vos"])}
    for epoch in range(8):
        clips.set_epoch(epoch)
        for i in range(len(clips)):
            item = clips[i]
            assert len(item["object_ids"]) and item["present"][0].all(), (epoch, i, item["frame_indices"])
            assert int(item["frame_indices"][0]) in annotated[item["video"]]


def test_image_root_with_an_open_dataset_is_refused_not_ignored(converted, tmp_path):
    """image_root beside a VideoDataset was dropped without a word (ClipDataset refuses the pair)."""
    with pytest.raises(OptionError, match="image_root"):
        TrainingClips(open_dataset(converted["parquet"]), image_root=tmp_path)


def test_items_take_any_integer_index(converted):
    """torch's Subset over randperm indices passes 0-d tensors: numpy's SeedSequence failed on them (len() of a 0-d tensor)."""
    torch = pytest.importorskip("torch")
    clips = TrainingClips(converted["parquet"], num_frames=2, max_skip=3, images=False, output="numpy")
    want = clips[1]["frame_indices"].tolist()
    assert clips[torch.tensor(1)]["frame_indices"].tolist() == clips[np.int64(1)]["frame_indices"].tolist() == want
    assert torch.utils.data.Subset(clips, torch.tensor([1]))[0]["frame_indices"].tolist() == want
    with pytest.raises(TypeError):
        clips[True]


def test_the_first_frame_fallback_reads_a_few_frames_masks_at_a_time(converted, monkeypatch):
    """The last resort read the masks of every annotated frame of the video at once: a dense HDF5 video's whole label
    maps (600 MB for 300 frames at 1080p) in one worker array. Now a few frames at a time, with the same clips."""
    from converters.loading import training

    monkeypatch.setattr(training, "FIRST_FRAME_TRIES", 1)
    clips = TrainingClips(converted["youtube-vos"], num_frames=1, images=False, output="numpy")  # each draw reads 1 frame
    assert max(e.annotated_count for e in clips.entries) > 1
    want = [clips[i]["frame_indices"].tolist() for i in range(len(clips))]
    monkeypatch.setattr(training, "SHOWN_CHUNK", 1, raising=False)
    read, sizes = clips.videos._read_raw, []

    def recorded(entry, indices, images, masks):
        sizes.append(len(indices))
        return read(entry, indices, images, masks)

    monkeypatch.setattr(clips.videos, "_read_raw", recorded)
    assert [clips[i]["frame_indices"].tolist() for i in range(len(clips))] == want
    assert len(sizes) > len(clips) and max(sizes) == 1  # the fallback ran, one frame at a time


def test_a_list_file_naming_videos_the_dataset_lacks_is_named(converted, tmp_path):
    """The error said ``videos: 2 not in <dataset>`` without naming the list file at fault (SAM 2's drop-in names it)."""
    listing = tmp_path / "train_list.txt"
    names = [v.name for v in open_dataset(converted["parquet"])]
    listing.write_text(f"{names[0]}\nno-such-video.mp4\n")
    with pytest.raises(SourceError, match=r"1 of its videos are not in .*'no-such-video'") as caught:
        TrainingClips(converted["parquet"], videos=listing)
    assert caught.value.path == str(listing)


def test_a_video_name_given_as_a_string_says_it_is_read_as_a_list_file(converted):
    """``videos="abc"`` (one name) was a SourceError "abc: cannot read the video list: No such file or directory"."""
    name = open_dataset(converted["parquet"])[0].name
    said = rf"videos: '{name}' is read as a list file, and there is none; for the video give \['{name}'\]"
    with pytest.raises(OptionError, match=said):
        TrainingClips(converted["parquet"], videos=name)


def test_a_subset_naming_no_video_warns(converted, tmp_path):
    """An empty list file (or ``videos=[]``) gave an empty dataset in silence: a DataLoader then says only num_samples=0."""
    listing = tmp_path / "empty.txt"
    listing.write_text("\n\n")
    with pytest.warns(VosconvWarning, match=rf"the video list {listing} names no video; the dataset is empty"):
        assert len(TrainingClips(converted["parquet"], videos=listing, images=False)) == 0
    with pytest.warns(VosconvWarning, match="videos names no video"):
        assert len(TrainingClips(converted["parquet"], videos=[], images=False)) == 0


@pytest.mark.parametrize(
    "options, match",
    [
        ({"reverse_time_prob": None}, "reverse_time_prob must be a number in 0..1"),
        ({"reverse_time_prob": "0.5"}, "reverse_time_prob must be a number in 0..1"),
        ({"transform": "flip"}, "transform: a callable"),
    ],
    ids=["reverse-none", "reverse-text", "transform-text"],
)
def test_options_of_the_wrong_type_are_option_errors_when_made(converted, options, match):
    """reverse_time_prob=None (a YAML null) was a bare TypeError from a comparison; a transform that is no callable
    failed in every item, in a worker."""
    with pytest.raises(OptionError, match=match):
        TrainingClips(converted["parquet"], num_frames=2, images=False, **options)


@pytest.mark.parametrize("epoch", [1.7, 2**64, 2**63, "3", True])
def test_an_epoch_that_is_no_64_bit_count_is_refused(converted, epoch):
    """set_epoch(1.7) drew epoch 1's clips and set_epoch(2**64) epoch 0's: the shared value is a 64-bit integer."""
    clips = TrainingClips(converted["parquet"], num_frames=2, images=False)
    with pytest.raises(OptionError, match="epoch: a non-negative integer below 2\\*\\*63"):
        clips.set_epoch(epoch)
    assert clips.epoch == 0


def test_an_epoch_may_be_any_kind_of_integer(converted):
    torch = pytest.importorskip("torch")
    clips = TrainingClips(converted["parquet"], num_frames=2, images=False)
    for epoch in (np.int64(3), torch.tensor(4), 2**63 - 1):
        clips.set_epoch(epoch)
        assert clips.epoch == int(epoch)


def test_collate_names_an_empty_batch(converted):
    """``collate_clips([])`` was an IndexError, "list index out of range"."""
    with pytest.raises(OptionError, match="collate_clips: an empty batch"):
        collate_clips([])


def test_a_size_pair_from_a_config_or_an_array(converted):
    """A hydra config's ``size: [480, 864]`` arrives as omegaconf's ListConfig (as SAM 2's trainer instantiates), and
    a numpy pair as an array: both were refused as "got [32, 48]", which reads as a valid pair."""
    want = TrainingClips(converted["parquet"], num_frames=2, images=False, output="numpy", size=(32, 48))[0]["masks"]
    sizes = [np.array([32, 48])]
    if importlib.util.find_spec("omegaconf") is not None:
        from omegaconf import OmegaConf

        sizes.append(OmegaConf.create({"size": [32, 48]}).size)
    for size in sizes:
        got = TrainingClips(converted["parquet"], num_frames=2, images=False, output="numpy", size=size)[0]["masks"]
        assert np.array_equal(got, want)


def test_a_list_file_saved_with_a_byte_order_mark(converted, tmp_path):
    """Notepad and Excel start UTF-8 text with a byte order mark: the first name read as '\\ufeffname', a video the
    dataset lacks, so a list made on Windows was refused."""
    names = [v.name for v in open_dataset(converted["parquet"])][:2]
    listing = tmp_path / "train_list.txt"
    listing.write_bytes(b"\xef\xbb\xbf" + f"{names[0]}.mp4\r\n{names[1]}\r\n".encode())
    assert read_video_list(listing) == names
    assert [e.name for e in TrainingClips(converted["parquet"], num_frames=2, videos=listing, images=False).entries] == names


def test_an_object_seen_only_at_the_end_starts_a_reversed_clip(tmp_path, monkeypatch):
    """An object shown only on a video's last 3 frames leaves no room for a forward clip of 4 frames starting where it
    shows, but a reversed one (played from its last frame) has room, and reverse_time_prob allows it. When the draws
    missed, the fallback kept the last draw's direction: a forward clip whose first frame does not show the object."""
    from converters.loading import training
    from tests.folderdata import save_palette_png

    split = tmp_path / "train"
    for t in range(12):
        (split / "JPEGImages" / "late").mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((16, 24, 3), 20 * t, np.uint8)).save(split / "JPEGImages" / "late" / f"{t:05d}.jpg")
        label = np.zeros((16, 24), np.uint8)
        label[4:8, t : t + 4] = 1 if t >= 9 else 0
        save_palette_png(split / "Annotations" / "late" / f"{t:05d}.png", label)
    out = tmp_path / "late.parquet"
    api.convert(split, out, to="parquet", from_="mose")
    monkeypatch.setattr(training, "FIRST_FRAME_TRIES", 1)  # every miss goes to the fallback
    clips = TrainingClips(out, num_frames=4, reverse_time_prob=0.5, images=False, output="numpy")
    for epoch in range(12):
        clips.set_epoch(epoch)
        item = clips[0]
        assert item["object_ids"].tolist() == [1] and item["present"][0].all(), (epoch, item["frame_indices"])
        assert item["frame_indices"][0] >= 9 and (np.diff(item["frame_indices"]) == -1).all()  # played backwards
    forward = TrainingClips(out, num_frames=4, images=False, output="numpy")[0]  # no reversal allowed: no such clip
    assert (np.diff(forward["frame_indices"]) == 1).all() and not forward["present"][0].any()


@pytest.mark.parametrize(
    "indices", [[0.5, 1.7], ["0", "1"], 1, [[0, 1]], [True, True]], ids=["floats", "text", "bare", "2d", "bools"]
)
def test_chosen_frames_must_be_integer_indices(converted, indices):
    """``clip(video, [0.5, 1.7])`` read frames 0 and 1 (``read_clip`` too), ``["0", "1"]`` parsed the text, and a bare
    index failed with ``len() of unsized object``."""
    clips = TrainingClips(converted["parquet"], num_frames=2, images=False, output="numpy")
    video = open_dataset(converted["parquet"])[0]
    with pytest.raises(OptionError, match="indices: a sequence of integer frame indices"):
        clips.clip(video.name, indices)
    with pytest.raises(OptionError, match="indices: a sequence of integer frame indices"):
        video.read_clip(indices, images=False)
    assert clips.clip(video.name, np.array([0, 1], np.uint8))["frame_indices"].tolist() == [0, 1]
