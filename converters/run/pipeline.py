"""One conversion, start to finish: plan shards, run them, finalize, publish atomically.

Data moves one way: source files -> reader -> intermediate form -> writer -> staging
folder -> one rename into place. The staging folder sits beside the output under a
hidden name, so a crash or a bad input never leaves a complete-looking output behind.

Each finished shard is recorded in the staging folder's journal (:mod:`converters.run.journal`);
after a crash or Ctrl-C, ``resume=True`` reuses the recorded shards and redoes the rest.
With ``on_error="skip"`` a video whose source is bad is left out and recorded in
``errors.jsonl`` (inside a folder output, beside a file output) instead of stopping the run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import OutputError, SourceError, VosconvError, VosconvWarning
from ..model import DatasetInfo, Video
from ..reader import Reader, VideoRef
from ..writer import Shard, ShardResult, Writer
from . import journal, locking
from .executors import Executor, make_executor, progress_to, report_progress

OnError = Literal["fail", "skip"]
ERRORS_FILE = "errors.jsonl"
_COUNTS = ("videos", "frames", "annotated_frames", "objects", "masks", "void_masks", "empty_frames")


class Interrupted(VosconvError):
    """The run was stopped (Ctrl-C); finished shards stay in the staging folder for ``--resume``."""


def _is_skip_record(record: object) -> bool:
    return isinstance(record, dict) and all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in record.items())


@dataclass
class Stats:
    """Counts over the videos that went through, and the videos skipped: what summaries print."""

    videos: int = 0
    frames: int = 0
    annotated_frames: int = 0
    objects: int = 0
    masks: int = 0  # (object, frame) pairs with pixels
    void_masks: int = 0
    empty_frames: int = 0  # annotated frames without any object
    category_ids: set[int] = field(default_factory=set)
    skipped: list[dict[str, str]] = field(default_factory=list)  # one record per bad video

    def add(self, video: Video) -> None:
        self.videos += 1
        self.frames += len(video.frames)
        self.objects += len(video.objects)
        for frame in video.frames:
            if frame.masks is not None:
                self.annotated_frames += 1
                self.masks += len(frame.masks.objects)
                self.void_masks += frame.masks.void is not None
                self.empty_frames += not frame.masks.objects
        self.category_ids.update(o.category_id for o in video.objects if o.category_id is not None)

    def skip(self, video: str, error: SourceError) -> None:
        self.skipped.append({"video": video, "file": error.path, "error": type(error).__name__, "message": error.cause})

    def merge(self, other: Stats) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.category_ids |= other.category_ids
        self.skipped.extend(other.skipped)

    def to_dict(self) -> dict[str, Any]:
        return {**{n: getattr(self, n) for n in _COUNTS}, "category_ids": sorted(self.category_ids), "skipped": self.skipped}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stats:
        """The inverse of :meth:`to_dict`; ``ValueError`` for anything of another shape."""
        counts = [data.get(n) for n in _COUNTS]
        ids, skipped = data.get("category_ids"), data.get("skipped")
        if not all(type(c) is int and c >= 0 for c in counts) or not isinstance(ids, list) or not isinstance(skipped, list):
            raise ValueError("not a Stats record")
        if not all(type(i) is int for i in ids) or not all(_is_skip_record(r) for r in skipped):
            raise ValueError("not a Stats record")
        return cls(*counts, category_ids=set(ids), skipped=list(skipped))

    def line(self) -> str:
        text = (
            f"{self.videos} videos, {self.frames} frames ({self.annotated_frames} annotated, "
            f"{self.empty_frames} empty), {self.objects} objects, {self.masks} masks"
        )
        return text + (f", {len(self.skipped)} videos skipped" if self.skipped else "")


@dataclass
class Summary:
    output: Path
    stats: Stats
    seconds: float
    shards: int
    resumed: int = 0  # shards reused from an interrupted run
    resumed_frames: int = 0  # frames in those shards, converted by the interrupted run, not this one
    errors_file: Path | None = None

    @property
    def converted_frames(self) -> int:
        """Frames this run converted itself (a resumed run's speed is over these only)."""
        return self.stats.frames - self.resumed_frames


def staging_path(output: Path) -> Path:
    """The private folder a conversion to ``output`` works in."""
    return output.parent / f".{output.name}.vosconv-partial"


def errors_path(output: Path, is_dir: bool) -> Path:
    return output / ERRORS_FILE if is_dir else output.with_name(f"{output.name}.{ERRORS_FILE}")


def check_output(output: Path, overwrite: bool, resume: bool = False) -> None:
    """Refuse an existing output, unless it is an empty folder, or ``overwrite`` and vosconv wrote it.

    ``--overwrite`` never deletes what vosconv did not write: anything else is refused here,
    before anything is touched, naming what is there.
    """
    if not output.exists():
        return
    if output.is_dir() and not output.is_symlink() and not any(output.iterdir()):
        return
    if not overwrite:
        if resume:
            raise OutputError(
                f"{output} already exists and no interrupted run of it is left to resume; "
                "pass --overwrite (overwrite=True) to replace it"
            )
        raise OutputError(
            f"{output} already exists; pass --overwrite (overwrite=True) to replace it, "
            "or --resume (resume=True) to finish an interrupted run"
        )
    refusal = _not_replaceable(output)
    if refusal is not None:
        raise OutputError(refusal)


#: Names a dataset folder (or a folder-layout output older than the marker) has at its root.
_LAYOUT_NAMES = ("JPEGImages", "Annotations", "ImageSets", "meta.json")


def _not_replaceable(output: Path) -> str | None:
    """Why ``--overwrite`` may not replace ``output`` (what is there, what to do), or None when vosconv wrote it."""
    from ..formats.folders.writer import MARKER

    if output.is_symlink():
        return f"{output} is a link to {os.readlink(output)}, which vosconv does not replace; remove it or choose another output"
    if is_vosconv_output(output):
        return None
    if not output.is_dir():
        return (
            f"{output} is not a file vosconv wrote (it does not start with vosconv's COCO header), so --overwrite "
            "does not replace it; remove it or choose another output"
        )
    names = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in os.scandir(output))
    listed = ", ".join(names[:4] + (["..."] if len(names) > 4 else []))
    if any(name.rstrip("/") in _LAYOUT_NAMES for name in names):
        return (
            f"{output} looks like a dataset folder ({listed}) and lacks the {MARKER} that vosconv leaves in the folders "
            "it writes, so --overwrite does not replace it; if it is the output of an older vosconv (those left no "
            f"{MARKER}), delete it by hand, else choose another output"
        )
    return f"{output} holds files vosconv did not write ({listed}); remove them or choose another output"


def check_not_source(output: Path, source: Path, *, listed: bool = False) -> None:
    """Refuse an output whose replacing could delete the data being read.

    ``source`` is one of the reader's roots (:meth:`Reader.roots`), compared after
    resolving links: the output may not be it, hold it, or be something that already exists
    inside it (``DAVIS/Annotations/480p/bear`` with ``--overwrite``), unless that is an
    earlier vosconv output. A new file inside the dataset folder (``MOSE/train.json``) is fine,
    but nothing new goes inside a ``listed`` folder (``JPEGImages/``, ``Annotations/``, a video's
    folder): the reader lists what is there, so a new folder would become a video, a new file a frame.
    """
    target, data = output.resolve(), source.resolve()
    if target == data or target in data.parents:
        raise OutputError(f"{output} is or contains {source}, source data this conversion reads; choose an output outside it")
    if data in target.parents and listed:
        raise OutputError(f"{output} is inside {source}, whose contents the source is read from; choose an output outside it")
    if data in target.parents and (output.exists() or output.is_symlink()) and not is_vosconv_output(output):
        raise OutputError(
            f"{output} is part of the source {source}; replacing it could delete source data, so choose a new output"
        )


def is_vosconv_output(path: Path) -> bool:
    """Written by vosconv: a folder with its manifest or a layout writer's marker, or a COCO file with its header."""
    from ..formats.coco.spec import is_vosconv_coco
    from ..formats.folders.writer import is_marked
    from ..formats.sharded.manifest import peek_format

    if path.is_symlink():
        return False
    if path.is_dir():
        return peek_format(path) is not None or is_marked(path)
    return is_vosconv_coco(path)


def publish(finished: Path, output: Path, overwrite: bool) -> None:
    """Move the finished output into place with a rename (after flushing a file to disk).

    Replacing an existing output (``overwrite``) moves it aside first, so a folder can
    replace a file and the other way round; the old one is deleted once the new one is in place.
    """
    if finished.is_file():
        with open(finished, "rb") as file:
            os.fsync(file.fileno())
    if output.exists():
        check_output(output, overwrite)
        if output.is_dir() or finished.is_dir():
            old = _aside(output)
            remove(old)
            os.replace(output, old)
            try:
                os.replace(finished, output)
            except BaseException:
                os.replace(old, output)  # the old output goes back where it was
                raise
            remove(old)
            return
    os.replace(finished, output)


def _aside(output: Path) -> Path:
    return output.parent / f".{output.name}.vosconv-old"


def remove(path: Path) -> None:
    """Delete a file or a folder tree, if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def read_shard(
    reader: Reader,
    shard: Shard,
    stats: Stats,
    on_error: OnError = "fail",
    writer: Writer | None = None,
    handed: list[tuple[VideoRef, Video]] | None = None,
) -> Iterator[Video]:
    """The shard's videos, read one at a time; a bad one is skipped and noted when ``on_error="skip"``.

    ``handed`` gets each video as it is handed on: the last one is the video the writer is on.
    """
    for ref in shard.refs:
        try:
            video = reader.read_video(ref)
            if writer is not None:
                writer.check(video)  # what the target cannot hold is skipped like what cannot be read
        except SourceError as error:
            if on_error != "skip":
                raise
            stats.skip(ref.name, error)
            report_progress(shard.index)
            continue
        stats.add(video)
        if handed is not None:
            handed.append((ref, video))
        yield video
        report_progress(shard.index)  # the writer asks for the next video once this one is written


def run_shard(
    shard: Shard, *, reader: Reader, writer: Writer, staging: Path, info: DatasetInfo, on_error: OnError = "fail"
) -> tuple[ShardResult, Stats]:
    """One unit of work for an executor: read the shard's videos and write them (in whatever process).

    A frame image can fail only when the writer reads it whole (a zip member whose CRC-32 does
    not match, a read error mid-file), after the video was read and counted. Under ``skip`` the
    shard is then written again without that video, which is recorded like any other bad one.
    """
    order = {ref.name: position for position, ref in enumerate(shard.refs)}
    dropped: list[tuple[str, SourceError]] = []
    while True:
        stats, handed = Stats(), []
        try:
            result = writer.write_shard(read_shard(reader, shard, stats, on_error, writer, handed), shard, staging, info)
            break
        except SourceError as error:
            if on_error != "skip" or not handed or not _reads_image(handed[-1][1], error.path):
                raise
            culprit = handed[-1][0]
            dropped.append((culprit.name, error))
            shard = dataclasses.replace(shard, refs=tuple(ref for ref in shard.refs if ref is not culprit))
    for name, error in dropped:
        stats.skip(name, error)
    stats.skipped.sort(key=lambda record: order.get(record["video"], len(order)))  # in the shard's order
    return dataclasses.replace(result, checksums=journal.checksums(staging, result.files, result.checksums)), stats


def _reads_image(video: Video, path: str) -> bool:
    """``path`` is one of the video's frame images (the error is the video's, not the output's)."""
    return any(frame.image is not None and frame.image.location == path for frame in video.frames)


def convert(
    reader: Reader,
    writer: Writer,
    output: str | os.PathLike,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    overwrite: bool = False,
    resume: bool = False,
    on_error: OnError = "fail",
    progress: bool | None = None,
) -> Summary:
    """Convert everything ``reader`` lists into ``output`` with ``writer``; returns what was done.

    ``executor`` runs the shards (default: a local pool of ``workers`` processes).
    ``resume`` continues an interrupted run into the same output; without it (or
    ``overwrite``) an existing output is refused.
    """
    started = time.perf_counter()
    output = Path(output)
    executor = executor or make_executor(workers)  # a bad worker count fails before anything is touched
    info = reader.info()
    _check_images(reader, writer)
    roots = reader.roots()
    for position, root in enumerate(roots):  # the first is the source itself; the rest are read folder by folder
        check_not_source(output, root, listed=position > 0 and os.path.isdir(root))
    try:
        with locking.exclusive(output):  # from here on, no other run touches this output or its staging
            _recover_publish(output)
            refs = reader.list_videos()
            # a video folder that is a link to data elsewhere (one that leads nowhere is the video's error)
            linked = [Path(f) for ref in refs for f in ref.folders() if os.path.islink(f) and os.path.isdir(f)]
            for root in linked:
                check_not_source(output, root, listed=True)
            staging = staging_path(output)
            if not (resume or overwrite):
                _refuse_interrupted(output, staging)
            if resume and staging.is_dir():  # the interrupted run was allowed to replace it, if vosconv's still
                check_output(output, overwrite=True)
            else:
                check_output(output, overwrite, resume)
            shards = writer.plan(refs)
            roots = [root.resolve() for root in [*roots, *linked]]
            return _write(
                reader,
                writer,
                output,
                shards,
                info,
                executor,
                overwrite=overwrite,
                resume=resume,
                on_error=on_error,
                progress=progress,
                started=started,
            )
    except (ChildProcessError, ConnectionError):  # a worker that died, a closed pipe: not the output's disk
        raise
    except OSError as exc:  # the output side (a full disk, a read-only folder), unless it names a source file
        if _names_source(exc, roots, output):
            raise SourceError(exc.filename, f"cannot read: {exc.strerror or exc}") from exc
        raise OutputError(f"cannot write {output}: {_describe(exc)}; any previous output is untouched") from exc


def _check_images(reader: Reader, writer: Writer) -> None:
    """An output that embeds images (``images`` on) is not written without them, unless asked (``images=False``)."""
    if getattr(writer.options, "images", False) is not True:
        return
    missing = reader.missing_images()
    if missing is not None:
        raise SourceError(
            reader.source,
            f"{missing}, so the {writer.name} output would hold no images: pass --images DIR (reader option images) "
            "naming the folder its file_names are relative to, or --no-images (writer option images: false) to write none",
        )


def _refuse_interrupted(output: Path, staging: Path) -> None:
    """A run with neither ``resume`` nor ``overwrite`` does not discard an interrupted run's finished shards."""
    finished = len(journal.Journal(staging).entries()) if staging.is_dir() else 0
    if finished:
        raise OutputError(
            f"an interrupted run of {output} left {finished} finished shard{'s' if finished > 1 else ''} in {staging}; "
            "pass --resume (resume=True) to continue it, or --overwrite (overwrite=True) to start over"
        )


def _recover_publish(output: Path) -> None:
    """Undo what a run killed inside :func:`publish` left: the old output moved aside, the new one not in place.

    With the output gone, the aside copy is the previous output and goes back; with both
    there, the new output made it and the aside copy is the old one, due for deletion.
    """
    old = _aside(output)
    if not (old.exists() or old.is_symlink()):
        return
    if output.exists() or output.is_symlink():
        remove(old)
        return
    os.replace(old, output)
    warnings.warn(
        f"{output}: put back the previous output, which a run stopped while replacing it had moved to {old}",
        VosconvWarning,
        stacklevel=4,
    )


def _names_source(error: OSError, roots: list[Path], output: Path) -> bool:
    """The error names a file the conversion reads, not one it writes (an output may lie inside the source)."""
    if not isinstance(error.filename, (str, bytes)) or not error.filename:
        return False
    path = Path(os.fsdecode(error.filename)).resolve()
    ours = (output, staging_path(output), _aside(output), errors_path(output, False), locking.lock_path(output))
    written = [p.resolve() for p in ours]
    if any(path == p or p in path.parents for p in written):
        return False
    return any(path == root or root in path.parents for root in roots)


def _write(
    reader: Reader,
    writer: Writer,
    output: Path,
    shards: list[Shard],
    info: DatasetInfo,
    executor: Executor,
    *,
    overwrite: bool,
    resume: bool,
    on_error: OnError,
    progress: bool | None,
    started: float,
) -> Summary:
    """The run itself, once the output is known to be allowed: stage, run the shards, finalize, publish."""
    staging = staging_path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not resume:
        if staging.is_dir():  # left by an interrupted run that is not being resumed
            finished = len(journal.Journal(staging).entries())
            if finished:
                warnings.warn(
                    f"discarding an interrupted run of {output} ({finished} finished shards in {staging}); "
                    "--resume would have kept those done with the same options",
                    VosconvWarning,
                    stacklevel=3,
                )
        remove(staging)
    staging.mkdir(exist_ok=True)

    context = {
        "reader": reader.name,
        "reader_options": journal.options_record(reader.options),
        "source": str(reader.source.resolve()),
        "writer": writer.name,
        "writer_options": journal.options_record(writer.options),
        "on_error": on_error,
        "source_files": _source_files(reader),
    }
    keys = [journal.shard_key(context, [(r.name, r.nbytes, r.stamp) for r in s.refs]) for s in shards]
    record = journal.Journal(staging)
    outcomes = _reusable(record, keys, staging) if resume else {}
    if resume:
        _prune(staging, {name for result, _ in outcomes.values() for name in result.files})
    resumed = len(outcomes)
    resumed_frames = sum(shard_stats.frames for _, shard_stats in outcomes.values())
    # largest first, so the run does not end waiting on one big shard (output order is by index regardless)
    todo = sorted((s for s in shards if s.index not in outcomes), key=lambda s: -sum(r.nbytes for r in s.refs))

    stats = Stats()
    bar = _progress(sum(len(s.refs) for s in shards), progress)
    bar.update(sum(len(shards[i].refs) for i in outcomes))
    task = functools.partial(run_shard, reader=reader, writer=writer, staging=staging, info=info, on_error=on_error)
    moved: dict[int, int] = {}  # videos the bar moved by, per shard (a shard written again does not move it twice)

    def advance(index: int, videos: int) -> None:
        step = min(videos, len(shards[index].refs) - moved.get(index, 0))
        if step > 0:
            moved[index] = moved.get(index, 0) + step
            bar.update(step)

    def done(position: int, outcome: tuple[ShardResult, Stats]) -> None:
        result, shard_stats = outcome
        shard = todo[position]
        record.record(
            {"shard": shard.index, "key": keys[shard.index], "result": _result_record(result), "stats": shard_stats.to_dict()}
        )
        outcomes[shard.index] = (result, shard_stats)
        advance(shard.index, len(shard.refs))  # what per-video reports did not say (from spawned or Ray workers)

    try:
        with progress_to(advance):
            executor.run(task, todo, on_done=done)
        for index in sorted(outcomes):
            stats.merge(outcomes[index][1])
        finished = writer.finalize([outcomes[i][0] for i in range(len(shards))], info, staging, output)
        is_dir = finished.is_dir()
        if is_dir:
            _write_errors(stats.skipped, finished / ERRORS_FILE)
        publish(finished, output, overwrite or resume)
        if not is_dir:  # beside the file; an old one from an earlier run of this output goes
            try:
                _write_errors(stats.skipped, errors_path(output, False))
            except OSError as exc:  # the output is already in place: say so, not "untouched"
                where = errors_path(output, False)
                raise OutputError(f"wrote {output}, but not its list of skipped videos {where}: {_describe(exc)}") from None
        errors_file = errors_path(output, is_dir) if stats.skipped else None
    except KeyboardInterrupt:
        bar.close()
        _remove_temporaries(staging)
        raise Interrupted(
            f"interrupted: {len(outcomes)} of {len(shards)} shards are complete in {staging}; "
            "run the same command with --resume to finish"
        ) from None
    except BaseException:
        bar.close()
        with contextlib.suppress(OSError):  # the disk that failed the run may refuse this too
            remove(staging)
        raise
    bar.close()
    remove(staging)
    return Summary(output, stats, time.perf_counter() - started, len(shards), resumed, resumed_frames, errors_file)


def _source_files(reader: Reader) -> list[tuple[str, int, int]]:
    """Size and modification time of each file the reader names as a root (an archive, a COCO file,
    ``meta.json``, a DAVIS list): a change to one of them changes every shard's key."""
    found = []
    for root in reader.roots():
        with contextlib.suppress(OSError):
            if os.path.isfile(root):
                info = os.stat(root)
                found.append((str(Path(root).resolve()), info.st_size, info.st_mtime_ns))  # not the cwd's spelling
    return found


def _reusable(record: journal.Journal, keys: list[str], staging: Path) -> dict[int, tuple[ShardResult, Stats]]:
    """The shards an interrupted run finished whose journal lines and files still hold."""
    found = {}
    for index, entry in record.entries().items():
        if index < len(keys) and record.intact(entry, keys[index], staging):
            with contextlib.suppress(ValueError):  # a damaged record: the shard is done again
                found[index] = (_result_from(entry["result"]), Stats.from_dict(entry["stats"]))
    return found


def _prune(staging: Path, keep: set[str]) -> None:
    """Before a resumed run: delete whatever the reused shards did not write (the journal stays).

    An interrupted shard's half-written files, or those of a video no longer in the plan,
    would otherwise end up in the output, since nothing would write over them.
    """
    for path in sorted(staging.rglob("*"), reverse=True):  # children before their folders
        name = path.relative_to(staging).as_posix()
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif name != journal.JOURNAL and name not in keep:
            path.unlink()


def _describe(error: OSError) -> str:
    """``No space left on device (path)``: the OS's words and, when it says, the file."""
    text = error.strerror or str(error)
    return f"{text} ({error.filename})" if error.filename else text


def _result_record(result: ShardResult) -> dict[str, Any]:
    return {
        "index": result.index,
        "files": list(result.files),
        "facts": result.facts,
        "checksums": [list(c) for c in result.checksums],
    }


def _result_from(record: dict[str, Any]) -> ShardResult:
    checksums = tuple((str(name), int(size), str(digest)) for name, size, digest in record["checksums"])
    return ShardResult(record["index"], tuple(record["files"]), record["facts"], checksums)


def _write_errors(skipped: list[dict[str, str]], path: Path) -> None:
    """``errors.jsonl``: one line per skipped video, written whole or not at all; none when nothing was skipped."""
    if not skipped:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as file:
        for record in skipped:
            file.write(json.dumps(record, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _remove_temporaries(staging: Path) -> None:
    """After an interrupt: drop half-written files, keep finished shards and the journal."""
    for path in staging.rglob("*.tmp"):
        path.unlink(missing_ok=True)


def scan(
    reader: Reader, *, workers: int = 1, progress: bool | None = None, on_error: OnError = "fail"
) -> tuple[DatasetInfo, Stats]:
    """Read every video (decoding every mask) and count what is there, writing nothing."""
    info = reader.info()
    refs = reader.list_videos()
    bar = _progress(len(refs), progress)
    stats = Stats()
    try:
        shards = [Shard(i, (ref,)) for i, ref in enumerate(refs)]
        task = functools.partial(_count, reader=reader, on_error=on_error)
        for part in make_executor(workers).run(task, shards, on_done=lambda i, s: bar.update(1)):
            stats.merge(part)
    finally:
        bar.close()
    return info, stats


def _count(shard: Shard, *, reader: Reader, on_error: OnError) -> Stats:
    stats = Stats()
    for _ in read_shard(reader, shard, stats, on_error):
        pass
    return stats


class _NoBar:
    """What a hidden bar does: nothing, without importing tqdm (and the multiprocessing lock it makes)."""

    def update(self, amount: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool | None):
    """A progress bar on stderr: shown when ``enabled``, or with None only when stderr is a terminal."""
    if enabled is False or (enabled is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())):
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="video", leave=False, dynamic_ncols=True)
