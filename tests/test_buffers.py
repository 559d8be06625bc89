"""The loader's recycled clip memory: reused only when nothing made from it is alive, never under a clip still held."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

from converters.loading import TrainingClips, buffers
from converters.loading.buffers import Recycler

BIG = (3, 1024, 1024, 12)  # 36 MiB: above the size below which nothing is kept


def test_a_block_comes_back_only_when_every_view_and_tensor_of_it_is_gone():
    torch = pytest.importorskip("torch")
    pool = Recycler()
    first = pool.empty(BIG, np.uint8)
    view = first[1:, ::2]
    tensor = torch.from_numpy(first[0])
    del first
    second = pool.empty(BIG, np.uint8)
    assert not np.shares_memory(second, view)  # the view still holds the first block
    del view
    third = pool.empty(BIG, np.uint8)
    assert not np.shares_memory(third, tensor.numpy()) and not np.shares_memory(third, second)  # the tensor holds it
    del tensor, third
    again = pool.empty(BIG, np.uint8)
    assert len(pool._blocks) == 3 and any(np.shares_memory(again, block) for block in pool._blocks)
    assert again.shape == BIG and again.flags.c_contiguous


def test_blocks_are_bounded_sized_by_request_and_small_arrays_are_not_kept():
    pool = Recycler(keep=2)
    held = [pool.empty(BIG, np.uint8) for _ in range(4)]  # all busy: new blocks, the oldest let go
    assert len(pool._blocks) == 2
    del held
    small = pool.empty((4, 4), np.float32)
    assert small.base is None and len(pool._blocks) == 2
    larger = pool.empty((2, *BIG), np.bool_)  # no free block fits: a new one replaces a free, smaller one
    assert len(pool._blocks) == 2 and pool._blocks[-1].nbytes == larger.nbytes
    assert pool.empty(BIG, np.int16).shape == BIG  # a smaller request fits a larger block


def test_a_kept_small_array_never_holds_a_much_larger_block():
    """A caller keeping each clip's masks and dropping its frames holds about the masks' bytes, not the frames'."""
    pool = Recycler()
    kept = []
    for _ in range(3):
        masks = pool.empty((33 * 2**20,), np.uint8)
        frames = pool.empty((100 * 2**20,), np.uint8)
        kept.append(masks)
        del frames
    assert sum(m.base.nbytes for m in kept) <= 2 * sum(m.nbytes for m in kept)


def test_a_frame_smaller_than_its_video_is_refused_not_left_part_written(sample_copy, tmp_path, monkeypatch):
    """simplejpeg decodes a smaller JPEG into the start of a larger buffer and says nothing: the rest of a recycled
    block would show an earlier clip's pixels. Such a frame (here on disk, beside an images=false output) is refused."""
    from PIL import Image

    from converters import api
    from converters.errors import SourceError
    from converters.loading import images

    small = Image.new("RGB", (16, 16), (200, 10, 10))
    data = io.BytesIO()
    small.save(data, "JPEG")
    with pytest.raises(ValueError, match="the image is 16x16, the video's frames 32x32"):
        images.decode_frames([data.getvalue()], 32, 32, (32, 32), np.full((1, 32, 32, 3), 7, np.uint8))
    monkeypatch.setattr(buffers, "SMALLEST", 0)
    source = sample_copy("mose")
    out = tmp_path / "out"
    api.convert(source, out, to="parquet", reader_options={"split": "train"}, writer_options={"images": False})
    clips = TrainingClips(out, num_frames=2, output="numpy")
    entry = clips.entries[0]
    folder = source / "train" / "JPEGImages" / entry.name
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    clips.clip(entry.name, [0, 1])
    Image.new("RGB", (entry.width // 2, entry.height // 2)).save(folder / names[1], "JPEG")
    with pytest.raises(SourceError, match=f"video '{entry.name}'.*the image is"):
        clips.clip(entry.name, [0, 1])


def test_a_worker_gets_a_recycler_without_the_parents_blocks():
    pool = Recycler(keep=3)
    kept = pool.empty(BIG, np.uint8)
    copy = pickle.loads(pickle.dumps(pool))
    assert copy.keep == 3 and copy._blocks == [] and kept.shape == BIG


def test_clips_kept_by_the_caller_keep_their_pixels(sample_root, tmp_path, monkeypatch):
    """Every clip's arrays are recycled here (no size floor): a clip still held is never written by the next ones."""
    from converters import api

    monkeypatch.setattr(buffers, "SMALLEST", 0)
    out = tmp_path / "parquet"
    api.convert(sample_root["mose"], out, to="parquet", from_="mose", reader_options={"split": "train"})
    clips = TrainingClips(out, num_frames=3, output="numpy", max_num_objects=1)
    fresh = TrainingClips(out, num_frames=3, output="numpy", max_num_objects=1)
    monkeypatch.setattr(fresh, "_buffers", type("NoRecycling", (), {"empty": staticmethod(np.empty)})())
    kept = [clips[i % len(clips)] for i in range(6)]
    for i in range(len(clips) * 3):
        clips[i % len(clips)]  # dropped at once: their memory comes back
    for i, item in enumerate(kept):
        want = fresh[i % len(fresh)]
        assert np.array_equal(item["frames"], want["frames"]) and np.array_equal(item["masks"], want["masks"])
    latest = clips[0]
    assert any(np.shares_memory(latest["masks"], block) for block in clips._buffers._blocks)
