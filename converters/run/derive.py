"""Derived sets made at convert time, from any source: the subsets and shims every lab rebuilds by hand.

* ``videos_from``: only the videos a list names (one per line: SAM 2's ``file_list_txt``, Cutie's subsets);
  a name the source lacks is an error listing every such name.
* ``frame_step``: every K-th frame (positions 0, K, 2K, ...), frame file names kept.
* ``first_appearance``: each object's mask only on the first frame it appears in, every other frame
  unannotated, each object listing the frames to predict it on: how YouTube-VOS, MOSE and LVOS
  validation sets are given to trackers.
* ``max_side``: frames and masks shrunk so that neither side exceeds N pixels (never enlarged); masks
  by nearest neighbour, decoded, resized and re-encoded exactly; frames re-encoded. Lossy.
* ``empty_frames_list``: a JSON file ``{video: [stems of annotated frames holding no object]}`` over
  the derived set, as Cutie's training reads it and byte for byte as ``scripts/data/find_empty_mask.py``
  writes it.

A step drops the source's statistics it makes untrue (:data:`derive_steps.OF_THE_FRAMES`, ``OF_THE_PIXELS``);
a frame step takes LVOS's frame ranges (:data:`converters.model.FRAME_RANGE`) over the frames it keeps.

:class:`DerivedReader` wraps a reader and transforms each video as it is read (in any process: it
pickles with the reader it wraps), so every writer gets derived sets for free. The output records
what it was derived from and how under the dataset attribute ``derived`` (a JSON string), which the
COCO header and the Parquet/HDF5 manifests carry.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import options as plugin_options
from .. import registry
from ..errors import OptionError, OutputError, SourceError
from ..model import DatasetInfo, Video
from ..reader import Detection, Reader, VideoRef
from ..sources.files import file_in_the_way
from ..writer import Shard, ShardResult, Writer
from .derive_steps import JPEG_QUALITY, first_appearances, shrink, step_frames

#: The dataset attribute that records how a derived set was made.
ATTRIBUTE = "derived"
#: The most read of a video list, and of an existing file to tell whether it is an empty-frames list (SA-V's 50,583
#: train names take 600 kB).
LIST_LIMIT = 1 << 26
#: Where a shard's empty frames travel to ``finalize`` (and into the resume journal).
_EMPTY_FACT = "derive.empty_frames"


@dataclass(frozen=True)
class Derive:
    """How to derive a set from a source; the defaults change nothing."""

    videos_from: str | None = field(default=None, metadata={"help": "a text file naming the videos to keep, one a line"})
    frame_step: int = field(default=1, metadata={"help": "keep every K-th frame (0, K, 2K, ...), names unchanged"})
    first_appearance: bool = field(default=False, metadata={"help": "keep each object's mask only where it first appears"})
    max_side: int | None = field(default=None, metadata={"help": "shrink frames and masks to at most N pixels a side (lossy)"})
    empty_frames_list: str | None = field(default=None, metadata={"help": "write {video: [empty frame stems]} JSON here"})

    def __post_init__(self) -> None:
        for flag, value, optional in (("--frame-step", self.frame_step, False), ("--max-side", self.max_side, True)):
            if not (optional and value is None) and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
                raise OptionError(flag, f"must be a whole number, got {value!r}")
        for name in ("frame_step", "max_side"):  # a NumPy integer is one, as workers= takes it; recorded as JSON, an int
            if isinstance(getattr(self, name), numbers.Integral):
                object.__setattr__(self, name, int(getattr(self, name)))
        if self.frame_step < 1:
            raise OptionError("--frame-step", f"must be at least 1, got {self.frame_step}")
        if self.max_side is not None and self.max_side < 1:
            raise OptionError("--max-side", f"must be at least 1, got {self.max_side}")
        for flag, path in (("--videos-from", self.videos_from), ("--empty-frames-list", self.empty_frames_list)):
            if path is not None and not str(path).strip():  # an unset shell variable: not "no list", which is None
                raise OptionError(flag, "is empty: name a file")
        if self.first_appearance and self.empty_frames_list is not None:  # the list of a training set, asked of a valid one
            raise OptionError(
                "--empty-frames-list",
                "a --first-appearance set has no empty annotated frame (each holds an object first seen there), so the "
                "list would name none; make it in a conversion without --first-appearance",
            )

    @property
    def changes_videos(self) -> bool:
        """Whether the videos themselves are derived (the empty-frames list alone only describes them)."""
        return bool(self.videos_from or self.frame_step > 1 or self.first_appearance or self.max_side)

    @property
    def active(self) -> bool:
        return self.changes_videos or self.empty_frames_list is not None

    def describe(self) -> str:
        """What the summary says about the derivation, lossy steps named as such."""
        parts = []
        if self.videos_from:
            parts.append(f"videos listed in {self.videos_from}")
        if self.frame_step > 1:
            parts.append(f"one frame in {self.frame_step}")
        if self.first_appearance:
            parts.append("masks on each object's first frame only")
        if self.max_side:
            parts.append(
                f"at most {self.max_side} px a side (lossy: larger videos get their frames re-encoded and their masks "
                "resized by nearest neighbour, so an object narrower than the sampling grid may vanish from a frame)"
            )
        if self.empty_frames_list:
            parts.append(f"empty frames listed in {self.empty_frames_list}")
        return "; ".join(parts)


def build(value: Derive | Mapping[str, Any] | None, where: str = "derive") -> Derive | None:
    """A :class:`Derive` from itself, a mapping of its fields (the API's and pipelines.yaml's form), or None."""
    if value is None:
        return None
    derive = value if isinstance(value, Derive) else plugin_options.build(Derive, value, where)
    return derive if derive.active else None


@dataclass(frozen=True)
class DerivedOptions:
    """The wrapped reader's options and the derivation: both decide a shard's bytes (the resume journal's key)."""

    reader: Any
    derive: Derive


class DerivedReader(Reader):
    """Another reader's videos, transformed one at a time by a :class:`Derive`; picklable like the reader it wraps."""

    name = "derived"

    def __init__(self, inner: Reader, derive: Derive) -> None:  # not Reader.__init__: the inner reader owns the source
        self.inner, self.derive = inner, derive
        self.name = inner.name  # what summaries and the journal name: the source's format
        self.source, self.fs = inner.source, inner.fs
        self.options = DerivedOptions(inner.options, derive)
        self.listed = _read_list(derive.videos_from) if derive.videos_from else None

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        return Detection(0, "a derived set wraps another reader; it reads no layout of its own")

    def info(self) -> DatasetInfo:
        info = self.inner.info()
        if not self.derive.changes_videos:
            return info
        attributes = dict(info.attributes)
        record = {"from": {"source": str(self.source.resolve()), "format": self.inner.name, "split": info.split}}
        if ATTRIBUTE in attributes:  # derived from a derived set: the chain stays readable
            record["from"][ATTRIBUTE] = _json_or_text(attributes[ATTRIBUTE])
        record.update(self._steps())
        attributes[ATTRIBUTE] = json.dumps(record, sort_keys=True, separators=(",", ":"))
        return dataclasses.replace(info, attributes=tuple(sorted(attributes.items())))

    def _steps(self) -> dict[str, Any]:
        steps: dict[str, Any] = {}
        derive = self.derive
        if self.listed is not None:
            path = Path(derive.videos_from).resolve()
            steps["videos_from"] = {"file": str(path), "sha256": self.listed.digest, "videos": len(self.listed.names)}
        if derive.frame_step > 1:
            steps["frame_step"] = derive.frame_step
        if derive.first_appearance:
            steps["first_appearance"] = True
        if derive.max_side:
            steps["max_side"] = derive.max_side
            steps["lossy"] = (
                f"videos over {derive.max_side} px a side: frames resized (Lanczos) and re-encoded (JPEG quality "
                f"{JPEG_QUALITY}, PNG as PNG), masks resized by nearest neighbour; smaller videos unchanged"
            )
        return steps

    def list_videos(self) -> list[VideoRef]:
        refs = self.inner.list_videos()
        if self.listed is None:
            return refs
        present = {ref.name for ref in refs}
        unknown = sorted(set(self.listed.names) - present)
        if unknown:
            shown = ", ".join(n[:80] + ("..." if len(n) > 80 else "") for n in unknown[:20])  # a line of a 1 MB file
            shown += f", ... ({len(unknown)} in all)" if len(unknown) > 20 else ""
            raise OptionError("--videos-from", f"{self.derive.videos_from} names videos the source does not have: {shown}")
        wanted = set(self.listed.names)
        return [ref for ref in refs if ref.name in wanted]

    def read_video(self, ref: VideoRef) -> Video:
        return derive_video(self.inner.read_video(ref), self.derive)

    def check_integrity(self) -> list[SourceError]:
        return self.inner.check_integrity()

    def roots(self) -> list[Path]:
        return self.inner.roots()

    def missing_images(self) -> str | None:
        return self.inner.missing_images()

    def recorded_images(self) -> str | None:
        return self.inner.recorded_images()

    def close(self) -> None:
        self.inner.close()


@dataclass(frozen=True)
class _List:
    names: tuple[str, ...]
    digest: str


def _read_list(path: str) -> _List:
    """The names of a video list: one a line, surrounding blanks and empty lines ignored.

    Read up to :data:`LIST_LIMIT` bytes: a video or an archive given by mistake is refused, not read whole.
    """
    try:
        with open(path, "rb") as file:  # a pipe or a device has no size: read, up to the limit
            data = None if os.fstat(file.fileno()).st_size > LIST_LIMIT else file.read(LIST_LIMIT + 1)
    except IsADirectoryError:
        raise OptionError("--videos-from", f"{path}: is a folder; name a text file of video names, one a line") from None
    except OSError as exc:
        raise OptionError("--videos-from", f"{path}: cannot read the video list: {exc.strerror or exc}") from None
    if data is None or len(data) > LIST_LIMIT:
        raise OptionError(
            "--videos-from", f"{path}: over {LIST_LIMIT >> 20} MiB, no list of video names (a video or an archive?)"
        )
    if b"\0" in data:  # valid UTF-8, but no text file holds it: a binary file
        raise OptionError("--videos-from", f"{path}: a binary file (NUL at byte {data.index(0)}), not video names one a line")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OptionError("--videos-from", f"{path}: not UTF-8 text (byte {exc.start})") from None
    names = tuple(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    if not names or text.lstrip()[:1] in ("{", "["):  # Cutie's empty-mask lists are JSON, in .txt files too
        why = "is JSON (Cutie's empty-masks map?), not video names one a line" if names else "names no video"
        raise OptionError("--videos-from", f"{path}: {why}")
    return _List(names, hashlib.sha256(data).hexdigest())


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


# ------------------------------------------------------------------ the transforms of one video


def derive_video(video: Video, derive: Derive) -> Video:
    """The video as ``derive`` makes it: frames stepped, then resized, then first appearances.

    Resizing comes before first appearances so that an object's template frame is the first where it
    still has pixels at the new size.
    """
    if derive.frame_step > 1:
        video = step_frames(video, derive.frame_step)
    if derive.max_side:
        video = shrink(video, derive.max_side)
    if derive.first_appearance:
        video = first_appearances(video)
    return video


# ------------------------------------------------------------------ the empty-frames list


class EmptyFramesWriter(Writer):
    """Another writer, noting each video's empty frames as it passes them on (journaled with the shard's facts)."""

    name = "empty-frames"

    def __init__(self, inner: Writer) -> None:
        super().__init__(inner.options)
        self.inner = inner
        self.name = inner.name
        self.output_kind = inner.output_kind
        self.suffix = inner.suffix
        self.found: dict[str, list[str]] = {}

    def plan(self, refs: Sequence[VideoRef]) -> list[Shard]:
        return self.inner.plan(refs)

    def check(self, video: Video) -> None:
        self.inner.check(video)

    def as_written(self, video: Video) -> Video:
        return self.inner.as_written(video)

    def notes(self, results: Sequence[ShardResult]) -> list[str]:
        return self.inner.notes(results)

    def write_shard(self, videos: Iterable[Video], shard: Shard, staging: Path, info: DatasetInfo) -> ShardResult:
        found: dict[str, list[str]] = {}

        def noting() -> Iterator[Video]:
            for video in videos:
                found[video.name] = empty_stems(video)
                yield video

        result = self.inner.write_shard(noting(), shard, staging, info)
        return dataclasses.replace(result, facts={**result.facts, _EMPTY_FACT: found})

    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        self.found = {}
        plain = []
        for result in results:
            facts = dict(result.facts)
            self.found.update(facts.pop(_EMPTY_FACT, {}))
            plain.append(dataclasses.replace(result, facts=facts))
        return self.inner.finalize(plain, info, staging, output)


def empty_stems(video: Video) -> list[str]:
    """Stems of the annotated frames that hold no object (a void region alone is no object)."""
    return [frame.stem for frame in video.frames if frame.masks is not None and not frame.masks.objects]


def write_empty_frames(path: str | os.PathLike, found: Mapping[str, list[str]]) -> None:
    """``{video: [stems]}`` with every video, sorted, written whole or not at all, byte for byte as Cutie's
    ``find_empty_mask.py`` writes it (``json.dump`` as it comes, each video's stems in the order of its sorted PNG
    names: its shipped lists can be compared with ``cmp``)."""
    path = Path(path)
    text = json.dumps({name: sorted(found[name], key=lambda stem: f"{stem}.png") for name in sorted(found)})  # its order
    tmp = path.with_name(f".{path.name}.vosconv-partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # as the output's folders are made
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write the empty-frames list {path}: {exc.strerror or exc}") from None


# ------------------------------------------------------------------ one derived conversion


def check_writer(derive: Derive, writer: Writer) -> None:
    """``max_side`` needs an output that holds the resized frames: one that names the source's images would mismatch."""
    if derive.max_side and getattr(writer.options, "images", False) is not True:
        holding = sorted(
            spec.name
            for spec in registry.specs("writer")
            if any(option.name == "images" and option.default is True for option in spec.options or ())
        )
        raise OptionError(
            "--max-side",
            f"the {writer.name} output would name the source's full-size frames beside resized masks; "
            f"write a format that holds the frames ({', '.join(holding)}) with images on",
        )


def convert(reader: Reader, writer: Writer, output: str | os.PathLike, derive: Derive, **run: Any):
    """:func:`converters.run.pipeline.convert` of the set ``derive`` makes from ``reader``'s source.

    ``run`` are the pipeline's keyword arguments (``workers``, ``overwrite``, ``resume``, ...).
    The empty-frames list is written once the output is in place.
    """
    from . import pipeline

    check_writer(derive, writer)
    listing = derive.empty_frames_list
    if listing is not None:
        replace = run.get("overwrite", False) or run.get("resume", False)
        _check_list_output(Path(listing), Path(output), reader.roots(), overwrite=replace)
        writer = EmptyFramesWriter(writer)
    # wrapped even for the list alone: the derivation is then part of every shard's resume key, so a
    # run resumed with --empty-frames-list never reuses shards that did not note their empty frames
    derived = DerivedReader(reader, derive)
    summary = pipeline.convert(derived, writer, output, **run)
    if listing is not None:
        write_empty_frames(listing, writer.found)
    return summary


def _check_list_output(path: Path, output: Path, roots: list[Path], *, overwrite: bool) -> None:
    """Refuse a list path that is a file the conversion reads, or inside a folder it lists, and with ``overwrite``
    an existing file that is not an empty-frames list: ``--overwrite`` replaces only what vosconv wrote."""
    if path.resolve() == output.resolve():
        raise OptionError("--empty-frames-list", f"{path} is the output itself; choose another file")
    if output.resolve() in path.resolve().parents:  # a file of its own there would make the output foreign to vosconv
        raise OptionError("--empty-frames-list", f"{path} lies inside the output {output}; choose a file beside it")
    if path.is_dir():
        raise OptionError("--empty-frames-list", f"{path} is a folder; name a .json file")
    if (blocker := file_in_the_way(path)) is not None:  # found now, not once the output is written
        raise OptionError("--empty-frames-list", f"{path}: {blocker} is a file, not a folder; choose another path")
    target = path.resolve()
    for position, root in enumerate(roots):
        data = Path(root).resolve()
        if target == data or (position > 0 and data.is_dir() and data in target.parents):
            where = "is" if target == data else "is inside"
            raise OptionError("--empty-frames-list", f"{path} {where} {root}, which this conversion reads; choose another file")
    if not (path.exists() or path.is_symlink()):
        return
    if not overwrite:
        raise OptionError("--empty-frames-list", f"{path} already exists; pass --overwrite to replace it")
    if not is_empty_frames_list(path):
        raise OptionError(
            "--empty-frames-list",
            f"{path} is not an empty-frames list ({{video: [frame stems]}}), so --overwrite does not replace it; "
            "choose another file",
        )


def is_empty_frames_list(path: Path) -> bool:
    """A regular file (not a link) holding ``{video: [frame stems]}``, what :func:`write_empty_frames` writes."""
    if path.is_symlink() or not path.is_file() or path.stat().st_size > LIST_LIMIT:
        return False
    try:
        value = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(value, dict) and all(
        isinstance(stems, list) and all(isinstance(stem, str) for stem in stems) for stems in value.values()
    )
