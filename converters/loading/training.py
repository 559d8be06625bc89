"""Random training clips with per-object masks, sampled as SAM 2 and Cutie sample them.

>>> from converters.loading import TrainingClips, collate_clips
>>> clips = TrainingClips("mose-train.parquet", num_frames=8, max_skip=3, max_num_objects=3, size=480)  # doctest: +SKIP
>>> loader = torch.utils.data.DataLoader(clips, batch_size=4, num_workers=4, collate_fn=collate_clips)  # doctest: +SKIP

Item ``i`` of epoch ``e`` depends on ``(seed, e, i)`` alone (a generator seeded from those three),
never on the process or worker that reads it, so a ``DistributedSampler`` or any number of
fork- or spawn-started workers see the same clips. Call :meth:`TrainingClips.set_epoch`
before each epoch, as with ``DistributedSampler.set_epoch``: the epoch lives in shared memory,
so DataLoader workers see it, persistent ones (``persistent_workers=True``) too.
"""

from __future__ import annotations

import collections
import functools
import inspect
import numbers
import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from multiprocessing import RawValue
from multiprocessing.context import get_spawning_popen
from typing import IO, Any, Literal

import numpy as np

from ..errors import MissingDependency, OptionError, SourceError, VosconvWarning, install_hint
from ..formats.sharded import manifest as shards
from ..model import VOID_ID
from .backend import MALFORMED, VOID_PAIR, Frames
from .buffers import Recycler
from .dataset import VideoDataset, as_position, frame_indices
from .images import decode_frames, target_size
from .masks import object_masks, visible_objects

__all__ = ["TrainingClips", "read_video_list"]

#: How many times a clip is drawn again when none of its objects shows on its first frame (SAM 2 tries 1000);
#: then its first frame is drawn among the frames that show an object.
FIRST_FRAME_TRIES = 20
#: Frames whose masks that last resort reads at once: a dense HDF5 video's label maps read whole would hold the
#: whole video's pixels in a worker (a 1080p video of 300 annotated frames: 600 MB).
SHOWN_CHUNK = 16
#: The byte order mark Windows editors put before UTF-8 text, read as a character.
BOM = "\ufeff"
#: Appended to a transform generator's seed: its stream is never the sampling's, and a chosen clip's never a drawn one's.
_TRANSFORM, _CHOSEN = 1, 2


def read_video_list(path: str | os.PathLike, open_text: Callable[[Any], IO[str]] | None = None) -> list[str]:
    """Video names from a list file, one per line, read as SAM 2's ``file_list_txt`` is (``a.mp4`` names ``a``);
    a blank line names no video, and a leading byte order mark (Windows editors write one) is no part of the first.
    ``open_text(path)``: how to open it (SAM 2's drop-in opens it through iopath).

    A file that cannot be read as text is a SourceError naming it.
    """
    try:
        with open(path, encoding="utf-8") if open_text is None else open_text(path) as file:
            lines = [line.strip() for line in file]
    except OSError as exc:
        raise SourceError(path, f"cannot read the video list: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"the video list is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if lines and lines[0].startswith(BOM):  # a list saved by Notepad or Excel: its first name is no '\ufeffname'
        lines[0] = lines[0][len(BOM) :].strip()
    return [os.path.splitext(line)[0] for line in lines if line]


def _takes_rng(transform: Callable) -> bool:
    """Whether the transform names a parameter ``rng`` (positional or keyword): only then is it given one. A second
    parameter of another name (``def aug(item, p=0.5)``) keeps its meaning, and ``*args`` or ``**kwargs`` (a wrapper's,
    passed on to a callable that may take the item alone) asks for nothing; nor does an unreadable signature, nor
    a ``functools.partial`` that binds ``rng`` itself (the caller's generator, not to be replaced)."""
    if isinstance(transform, functools.partial) and "rng" in transform.keywords:
        return False
    try:
        parameter = inspect.signature(transform).parameters.get("rng")
    except (TypeError, ValueError):
        return False
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return parameter is not None and parameter.kind in named


def _check_call(transform: Callable, rng: bool) -> None:
    """OptionError when the transform cannot be called as it will be, ``(item)`` or ``(item, rng=...)``: a second
    parameter of another name, or a positional-only ``rng``, failed with a TypeError in every item, in a worker."""
    try:
        signature = inspect.signature(transform)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(None, rng=None) if rng else signature.bind(None)
    except TypeError as exc:
        call = "transform(item, rng=...)" if rng else "transform(item)"
        raise OptionError(
            "transform",
            f"it is called as {call} (given a generator only when it names a keyword parameter rng), "
            f"which {signature} cannot take: {exc}",
        ) from None


def _positive(value: object) -> bool:
    """A positive integer (numpy's too), not a bool, a float or a string."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def _size_option(size: object) -> int | tuple[int, int] | None:
    """``size`` checked once, when the dataset is made: a bad one would otherwise fail in every item, blaming the shard."""
    if size is None:
        return None
    if _positive(size):
        return int(size)
    pair = isinstance(size, (Sequence, np.ndarray)) and not isinstance(size, (str, bytes))  # a hydra config's ListConfig too
    if pair and np.ndim(size) == 1 and len(size) == 2 and all(_positive(side) for side in size):
        return int(size[0]), int(size[1])
    raise OptionError("size", f"a short side or a (height, width) pair, of positive integers, got {size!r}")


def sample_frames(
    candidates: np.ndarray,
    num_frames: int,
    max_skip: int,
    rng: np.random.Generator,
    shown: np.ndarray | None = None,
    reverse: bool = False,
) -> np.ndarray | None:
    """``num_frames`` of ``candidates`` in order, each 1 to ``max_skip`` candidates after the last (1: consecutive).

    ``shown``: positions in ``candidates`` the clip must start at (end at, when it will be played
    ``reverse``d); None when no clip fits there.
    """
    gaps = rng.integers(1, max_skip + 1, size=num_frames - 1)
    room = len(candidates) - 1
    while gaps.sum() > room:  # too long for this video: shorten the longest gaps, never below 1
        gaps[np.argmax(gaps)] -= 1
    if shown is None:
        start = int(rng.integers(0, len(candidates) - int(gaps.sum())))
    else:
        while True:
            span = int(gaps.sum())
            starts = shown - span if reverse else shown
            starts = starts[(starts >= 0) & (starts < len(candidates) - span)]
            if len(starts):
                break
            if span == len(gaps):  # consecutive and still no room
                return None
            gaps[np.argmax(gaps)] -= 1
        start = int(starts[rng.integers(len(starts))])
    return candidates[start + np.concatenate([[0], np.cumsum(gaps)]).astype(np.intp)]


class TrainingClips:
    """Random clips for training: one item per video (``clips_per_video`` of them) per epoch.

    Sampling: ``num_frames`` frames in order with gaps of 1 to ``max_skip`` frames (1 gives
    consecutive frames, as SAM 2's ``RandomUniformSampler``), time reversed with probability
    ``reverse_time_prob``; ``annotated_only`` draws annotated frames only (Cutie, SAM 2 on
    sparse annotations). The objects are up to ``max_num_objects`` of those visible on the
    clip's first frame (drawn again, up to 20 times, until some object is; then the first frame is
    drawn among the frames that show one). ``videos``: a subset,
    as names or a list file (SAM 2's ``file_list_txt``; a name listed twice is sampled twice as
    often, as there). Videos too short for a clip are left out.

    An item is a dict: ``frames`` uint8 (T, 3, H, W) torch tensor (``output="numpy"``: (T, H, W, 3)
    array; absent with ``images=False``), ``masks`` bool (T, K, H, W), ``object_ids`` int64 (K,),
    ``present`` bool (T, K) (object k has pixels on frame t), ``annotated`` bool (T,) (masks of an
    unannotated frame are empty, not absent objects), ``frame_indices`` int64 (T,), ``video``;
    with ``void=True`` also ``void`` bool (T, H, W), the region a DAVIS-style annotation leaves out
    (255), for a loss to ignore (else it reads as background). ``size``: the training resolution,
    a short side or ``(height, width)``. ``transform(item)`` runs last, on each item;
    ``transform(item, rng=...)`` when it names a parameter ``rng``: a numpy generator of the item's
    own (seed, epoch, index), so that random augmentations repeat whatever the worker count (the
    global random state differs from worker to worker).
    """

    def __init__(
        self,
        path: str | os.PathLike | VideoDataset,
        num_frames: int = 8,
        *,
        max_skip: int = 1,
        reverse_time_prob: float = 0.0,
        max_num_objects: int | None = None,
        annotated_only: bool = False,
        videos: str | os.PathLike | Iterable[str] | None = None,
        clips_per_video: int = 1,
        size: int | tuple[int, int] | None = None,
        images: bool = True,
        output: Literal["torch", "numpy"] = "torch",
        transform: Callable[..., Any] | None = None,  # (item) or (item, rng)
        seed: int = 0,
        image_root: str | os.PathLike | None = None,
        void: bool = False,
    ) -> None:
        counts = (num_frames, max_skip, clips_per_video, 1 if max_num_objects is None else max_num_objects)
        if not all(_positive(count) for count in counts):  # a float failed in every item, or was drawn from (max_skip)
            raise OptionError(
                "TrainingClips",
                "num_frames, max_skip, clips_per_video and max_num_objects must be positive integers, got "
                f"{num_frames!r}, {max_skip!r}, {clips_per_video!r}, {max_num_objects!r}",
            )
        real = isinstance(reverse_time_prob, numbers.Real) and not isinstance(reverse_time_prob, bool)
        if not (real and 0.0 <= reverse_time_prob <= 1.0) or output not in ("torch", "numpy"):  # None: a TypeError
            raise OptionError(
                "TrainingClips",
                f"reverse_time_prob must be a number in 0..1 and output 'torch' or 'numpy': {reverse_time_prob!r}, {output!r}",
            )
        if transform is not None and not callable(transform):  # else each item fails, in a worker
            raise OptionError("transform", f"a callable taking and returning an item, or None, got {transform!r}")
        self._transform_rng = transform is not None and _takes_rng(transform)
        if transform is not None:
            _check_call(transform, self._transform_rng)
        if output == "torch":  # said here, not as a bare ModuleNotFoundError from the first item, in a worker
            try:
                import torch  # noqa: F401
            except ImportError as exc:
                hint = f"{install_hint('torch')}, or output='numpy'"
                raise MissingDependency(f"TrainingClips(output='torch') needs torch: {hint}") from exc
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
            raise OptionError("seed", f"a non-negative integer (numpy's generators take no other), got {seed!r}")
        if isinstance(path, VideoDataset) and image_root is not None:
            raise OptionError("image_root", "give it to the VideoDataset (open_dataset), not beside one")
        self.videos = path if isinstance(path, VideoDataset) else VideoDataset(path, image_root=image_root)
        if images:
            self.videos._check_images()  # now, not in a DataLoader worker
        if images and self.videos.frameless:  # never black frames to train on in silence
            raise OptionError(
                "images",
                f"{self.videos.path} holds no frames (written with images=false from a source without an image folder): "
                "pass images=False to read the masks alone, or image_root=DIR where the frames are",
            )
        self.num_frames, self.max_skip, self.reverse_time_prob = num_frames, max_skip, reverse_time_prob
        self.max_num_objects, self.annotated_only, self.clips_per_video = max_num_objects, annotated_only, clips_per_video
        self.size, self.images, self.output, self.transform = _size_option(size), images, output, transform
        self.seed = int(seed)
        if not isinstance(void, bool):
            raise OptionError("void", f"True or False, got {void!r}")
        self.void = void
        self._epoch = RawValue("q", 0)  # shared with the DataLoader workers started from here
        self.entries = self._eligible(self._subset(videos))
        self._buffers = Recycler()  # a clip's arrays reuse memory no earlier clip still holds

    def _subset(self, videos: str | os.PathLike | Iterable[str] | None) -> list[shards.VideoEntry]:
        entries = self.videos.manifest.videos
        if videos is None:
            return list(entries)
        listed = isinstance(videos, (str, os.PathLike))
        if listed and not os.path.exists(videos) and os.fspath(videos) in self.videos:  # a name, not a list file
            name = os.fspath(videos)
            raise OptionError("videos", f"{name!r} is read as a list file, and there is none; for the video give [{name!r}]")
        names = read_video_list(videos) if listed else list(videos)
        unknown = sorted(set(names) - {e.name for e in entries})
        if unknown:
            if listed:  # the list is what is wrong: name it, as SAM 2's drop-in does
                raise SourceError(videos, f"{len(unknown)} of its videos are not in {self.videos.path}, e.g. {unknown[:3]}")
            raise OptionError("videos", f"{len(unknown)} not in {self.videos.path}, e.g. {unknown[:3]}")
        if not names:  # nothing to train on, said once here rather than as a DataLoader's "num_samples=0"
            import warnings

            where = f"the video list {os.fspath(videos)}" if listed else "videos"
            warnings.warn(f"{where} names no video; the dataset is empty", VosconvWarning, stacklevel=3)
        times = collections.Counter(names)  # a name listed twice is drawn twice as often, as in SAM 2's list files
        return [e for e in entries for _ in range(times[e.name])]

    def _eligible(self, entries: list[shards.VideoEntry]) -> list[shards.VideoEntry]:
        """Videos with an object and enough frames (annotated ones with ``annotated_only``) for one clip."""
        length = (lambda e: e.annotated_count) if self.annotated_only else (lambda e: e.frames)
        kept = [e for e in entries if e.object_ids and e.annotated_count and length(e) >= self.num_frames]
        if entries and not kept:  # a DataLoader over it says only "num_samples=0", or a training loop does nothing
            import warnings

            longest = max(map(length, entries))
            warnings.warn(
                f"{self.videos.path}: no video gives a clip of num_frames={self.num_frames} "
                f"({'annotated ' if self.annotated_only else ''}frames: at most {longest}; "
                f"videos with objects and an annotated frame: {sum(bool(e.object_ids and e.annotated_count) for e in entries)} "
                f"of {len(entries)}); the dataset is empty",
                VosconvWarning,
                stacklevel=3,
            )
        return kept

    def set_epoch(self, epoch: int) -> None:
        """Draw the clips of ``epoch`` (call it in every process, like ``DistributedSampler.set_epoch``)."""
        try:  # an integer of any kind (numpy's, a 0-d tensor), not a float: 1.7 was epoch 1
            value = as_position(epoch)
        except TypeError:
            value = -1
        if not 0 <= value < 2**63:  # the shared value is 64 bits: 2**64 was epoch 0 again
            raise OptionError("epoch", f"a non-negative integer below 2**63, got {epoch!r}")
        self._epoch.value = value

    @property
    def epoch(self) -> int:
        return self._epoch.value

    @epoch.setter
    def epoch(self, epoch: int) -> None:  # SAM 2's trainer sets ``dataset.epoch`` where a dataset has one
        self.set_epoch(epoch)

    def __getstate__(self) -> dict:
        """A worker being started shares the epoch (persistent workers keep their copy of the dataset:
        a plain number would stay the first epoch's); any other copy gets an epoch of its own."""
        state = dict(self.__dict__)
        if get_spawning_popen() is None:
            state["_epoch"] = self._epoch.value
        return state

    def __setstate__(self, state: dict) -> None:
        if isinstance(state["_epoch"], int):
            state["_epoch"] = RawValue("q", state["_epoch"])
        self.__dict__.update(state)

    def __len__(self) -> int:
        return len(self.entries) * self.clips_per_video

    def __repr__(self) -> str:
        options = [f"num_frames={self.num_frames}", f"max_skip={self.max_skip}"]
        defaults = {"reverse_time_prob": 0.0, "max_num_objects": None, "annotated_only": False, "clips_per_video": 1}
        defaults |= {"size": None, "images": True, "output": "torch", "seed": 0, "void": False, "transform": None}
        for name, default in defaults.items():
            value = getattr(self, name)
            if value != default:  # a transform by its name: a lambda's or a partial's repr runs long
                shown = getattr(value, "__qualname__", None) or type(value).__name__ if name == "transform" else repr(value)
                options.append(f"{name}={shown}")
        counted = f"{len(self)} clips of {len(self.entries)} videos, epoch {self.epoch}"
        return f"TrainingClips({str(self.videos.path)!r}, {counted}, {', '.join(options)})"

    def __getitem__(self, index: int) -> Any:
        given = index = as_position(index)  # a 0-d tensor too (torch's Subset passes them): the generator's seed takes ints only
        if index < 0:  # counted from the end, as ClipDataset and any sequence: the same item as its positive index
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"clip {given} out of range ({len(self)} clips)")
        entry = self.entries[index % len(self.entries)]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        item = self._draw(entry, rng)
        return self._transformed(item, [self.seed, self.epoch, index])

    def clip(self, video: str, indices: Sequence[int], object_ids: Sequence[int] | None = None) -> Any:
        """The item of chosen frames (increasing) and objects (default: all the video's) of ``video``, no sampling."""
        entry = self.videos[video].entry
        indices = frame_indices(indices)
        ids = [int(i) for i in (entry.object_ids if object_ids is None else object_ids)]
        if len(set(ids)) != len(ids):
            raise OptionError("object_ids", f"each object at most once, got {ids}")
        unknown = sorted(set(ids) - set(entry.object_ids))
        if unknown:  # an empty mask would pass for an absent object
            raise OptionError("object_ids", f"{unknown} are not objects of {video!r} (its objects: {list(entry.object_ids)})")
        read = self.videos._read_raw(entry, indices, self.images, True)
        item = self._item(entry, indices, read, ids, False)
        return self._transformed(item, [self.seed, zlib.crc32(video.encode()), *indices, _CHOSEN])

    def _transformed(self, item: dict[str, Any], key: list[int]) -> Any:
        """The item through ``transform``; one that names ``rng`` gets a generator of its own, apart from the sampling's."""
        if self.transform is None:
            return item
        if self._transform_rng:
            return self.transform(item, rng=np.random.default_rng([*key, _TRANSFORM]))
        return self.transform(item)

    def _candidates(self, entry: shards.VideoEntry) -> np.ndarray:
        if self.annotated_only:
            return np.asarray(entry.annotated_indices, np.int64)
        return np.arange(entry.frames, dtype=np.int64)

    def _draw(self, entry: shards.VideoEntry, rng: np.random.Generator) -> dict[str, Any]:
        candidates, ids = self._candidates(entry), list(entry.object_ids)
        for _ in range(FIRST_FRAME_TRIES):
            indices = sample_frames(candidates, self.num_frames, self.max_skip, rng)
            reverse = rng.random() < self.reverse_time_prob
            read = self.videos._read_raw(entry, indices, self.images, True)
            visible = self._visible(entry, read, -1 if reverse else 0, ids)
            if visible:
                break
        else:  # no drawn first frame shows an object: draw it among the frames that show one
            shown = self._shown(entry, candidates, ids)
            chosen = sample_frames(candidates, self.num_frames, self.max_skip, rng, shown, reverse)
            if chosen is None and 0.0 < self.reverse_time_prob < 1.0:  # an object seen only near one end: the other
                flipped = sample_frames(candidates, self.num_frames, self.max_skip, rng, shown, not reverse)  # way round
                if flipped is not None:
                    chosen, reverse = flipped, not reverse
            if chosen is not None:
                indices, read = chosen, self.videos._read_raw(entry, chosen, self.images, True)
                visible = self._visible(entry, read, -1 if reverse else 0, ids)
            else:  # no such frame leaves room for a clip: the objects seen anywhere in the last one
                visible = sorted({i for t in range(len(indices)) for i in self._visible(entry, read, t, ids)})
        if self.max_num_objects is not None and len(visible) > self.max_num_objects:
            visible = [visible[k] for k in rng.choice(len(visible), self.max_num_objects, replace=False)]
        return self._item(entry, indices, read, visible, reverse)

    def _shown(self, entry: shards.VideoEntry, candidates: np.ndarray, ids: list[int]) -> np.ndarray:
        """Positions in ``candidates`` of the frames that show an object (the masks of every annotated one read once,
        :data:`SHOWN_CHUNK` frames at a time)."""
        annotated, shown = np.flatnonzero(entry.is_annotated(candidates)), []
        for first in range(0, len(annotated), SHOWN_CHUNK):
            part = annotated[first : first + SHOWN_CHUNK]
            read = self.videos._read_raw(entry, candidates[part], False, True)
            shown += [p for t, p in enumerate(part.tolist()) if self._visible(entry, read, t, ids)]
        return np.array(shown, np.int64)

    def _visible(self, entry: shards.VideoEntry, read: Frames, frame: int, ids: list[int]) -> list[int]:
        try:
            return visible_objects(
                read, frame % len(read.rle if read.labels is None else read.labels), ids, entry.height, entry.width
            )
        except MALFORMED as exc:
            raise self.videos._shard_error(entry, exc) from None

    def _item(self, entry: shards.VideoEntry, indices: np.ndarray, read: Frames, ids: list[int], reverse: bool) -> dict[str, Any]:
        if reverse:  # reversed before decoding, so every array comes out contiguous
            indices = indices[::-1].copy()
            read = Frames(
                images=None if read.images is None else read.images[::-1],
                rle=None if read.rle is None else read.rle[::-1],
                labels=None if read.labels is None else read.labels[::-1],
                encoding=read.encoding,
            )
        size = target_size(entry.height, entry.width, self.size)
        try:
            masks, present = object_masks(read, ids, entry.height, entry.width, size, self._buffers.empty)
        except MALFORMED as exc:
            raise self.videos._shard_error(entry, exc) from None
        item: dict[str, Any] = {
            "video": entry.name,
            "frame_indices": indices,
            "object_ids": np.array(ids, np.int64),
            "annotated": entry.is_annotated(indices),
            "masks": masks,
            "present": present,
        }
        if self.void:  # a plane of its own: the objects' stay one contiguous array
            try:
                void_id = VOID_ID if read.rle is None else VOID_PAIR  # dense label maps paint it 255
                item["void"] = object_masks(read, [void_id], entry.height, entry.width, size, self._buffers.empty)[0][:, 0]
            except MALFORMED as exc:
                raise self.videos._shard_error(entry, exc) from None
        if self.images:
            item["frames"] = self._frames(entry, indices, read.images, size)
        return _to_torch(item) if self.output == "torch" else item

    def _frames(self, entry: shards.VideoEntry, indices: np.ndarray, images: list, size: tuple[int, int]) -> np.ndarray:
        try:
            out = self._buffers.empty((len(images), *size, 3), np.uint8)
            return decode_frames(images, entry.height, entry.width, size, out)
        except Exception as exc:  # Pillow and simplejpeg raise several kinds
            shard = self.videos.path / self.videos.manifest.shards[entry.shard].file
            raise SourceError(shard, f"video {entry.name!r}, frames {indices.tolist()}: cannot decode ({exc})") from None


def _to_torch(item: dict[str, Any]) -> dict[str, Any]:
    import torch

    out = {k: torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v for k, v in item.items()}
    if "frames" in out:
        out["frames"] = out["frames"].permute(0, 3, 1, 2)  # (T, 3, H, W), a view: channels last in memory
    return out
