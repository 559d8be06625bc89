"""One conversion, start to finish: plan shards, run them, finalize, publish atomically.

Data moves one way: source files -> reader -> intermediate form -> writer -> staging
folder -> one rename into place. The staging folder sits beside the output under a
hidden name, so a crash or a bad input never leaves a complete-looking output behind.

Each finished shard is recorded in the staging folder's journal (:mod:`converters.run.journal`);
after a crash or Ctrl-C, ``resume=True`` reuses the recorded shards and redoes the rest.
With ``on_error="skip"`` a video whose source is bad is left out and recorded in
``errors.jsonl`` (inside a folder output, beside a file output) instead of stopping the run.

This module orchestrates; the parts live beside it: :mod:`.stats` (counts), :mod:`.publish`
(what an output may replace, staging, the rename), :mod:`.resume` (the journal's side of a run),
:mod:`.plan` (roots, links, work order), :mod:`.tasks` (what a worker runs), :mod:`.progress`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import OptionError, OutputError, SourceError, VosconvError, VosconvWarning
from ..model import DatasetInfo
from ..reader import Reader
from ..sources.files import file_in_the_way
from ..writer import Shard, ShardResult, Writer
from . import journal, locking, plan
from . import resume as resuming
from .executors import Executor, check_executor, make_executor, progress_to
from .progress import progress_bar as _progress
from .publish import (
    ERRORS_FILE,
    PUBLISHING,
    STALE_ERRORS,
    aside_path,
    check_not_source,
    check_output,
    describe,
    errors_path,
    is_vosconv_output,
    names_source,
    publish,
    recover_publish,
    remove,
    remove_temporaries,
    set_aside,
    staging_path,
    write_errors,
)
from .stats import Stats
from .tasks import OnError, count, read_shard, run_shard

__all__ = [
    "ERRORS_FILE",
    "Interrupted",
    "OnError",
    "Stats",
    "Summary",
    "check_not_source",
    "check_output",
    "convert",
    "errors_path",
    "is_vosconv_output",
    "publish",
    "read_shard",
    "remove",
    "run_shard",
    "scan",
    "staging_path",
]

_aside = aside_path  # the name tests (and callers of older versions) know


class Interrupted(VosconvError):
    """The run was stopped (Ctrl-C); finished shards stay in the staging folder for ``--resume``."""


@dataclass
class Summary:
    output: Path
    stats: Stats
    seconds: float
    shards: int
    resumed: int = 0  # shards reused from an interrupted run
    resumed_frames: int = 0  # frames in those shards, converted by the interrupted run, not this one
    errors_file: Path | None = None
    notes: tuple[str, ...] = ()  # what the writer changed by design (void dropped, say): Writer.notes

    @property
    def converted_frames(self) -> int:
        """Frames this run converted itself (a resumed run's speed is over these only)."""
        return self.stats.frames - self.resumed_frames


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
    none_listed: str | None = None,
) -> Summary:
    """Convert everything ``reader`` lists into ``output`` with ``writer``; returns what was done.

    ``executor`` runs the shards (default: a local pool of ``workers`` processes).
    ``resume`` continues an interrupted run into the same output; without it (or
    ``overwrite``) an existing output is refused. ``none_listed`` is the warning when the
    reader lists no videos (by default it names the source and the reader).
    """
    started = time.perf_counter()
    output = Path(output)
    if on_error not in ("fail", "skip"):  # anything else ran as "fail", whatever the caller meant
        raise OptionError("on_error", f"'fail' or 'skip', got {on_error!r}")
    check_executor(executor)
    executor = executor or make_executor(workers)  # a bad worker count fails before anything is touched
    info = reader.info()
    plan.check_images(reader, writer)
    roots = reader.roots()
    plan.check_roots(output, roots, writer)
    if output.name in ("", ".", ".."):  # its lock and staging folder would land inside it, and be refused as foreign files
        why = "ends in '.' or '..', so names no output of its own"
        raise OutputError(f"{os.fspath(output)!r} {why}; name it (-o out/x{writer.suffix})")
    if (blocker := file_in_the_way(output)) is not None:  # said so, where the lock file's path was the error's
        raise OutputError(f"cannot write {output}: {blocker} is a file, not a folder; choose another output")
    try:
        with locking.exclusive(output):  # from here on, no other run touches this output or its staging
            recover_publish(output)
            refs = reader.list_videos()
            if not refs:  # a wrong folder or split: say so, where an empty output alone would pass for success
                what = none_listed or f"{reader.source}: the {reader.name} reader lists no videos"
                warnings.warn(f"{what}; {output} will hold none", VosconvWarning, stacklevel=3)  # the caller of convert()
            linked = plan.linked_folders(refs, output, writer)
            staging = staging_path(output)
            resuming.refuse_linked_staging(staging)
            if not (resume or overwrite):
                resuming.refuse_interrupted(output, staging)
            if resume and staging.is_dir():  # the interrupted run was allowed to replace it, if vosconv's still
                check_output(output, overwrite=True, writer=writer)
            else:
                check_output(output, overwrite, resume, writer)
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
        if names_source(exc, roots, output):
            raise SourceError(exc.filename, f"cannot read: {exc.strerror or exc}") from exc
        raise OutputError(f"cannot write {output}: {describe(exc)}; any previous output is untouched") from exc


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
    resuming.start_staging(staging, output, resume)
    keys = resuming.shard_keys(reader, writer, shards, on_error)
    record = journal.Journal(staging)
    outcomes = resuming.take_over(record, keys, staging) if resume else {}
    written = sum(len(result.files) for result, _ in outcomes.values())  # the files finished shards list
    outcomes = {index: (held(result, writer), shard_stats) for index, (result, shard_stats) in outcomes.items()}
    resumed = len(outcomes)
    resumed_frames = sum(shard_stats.frames for _, shard_stats in outcomes.values())
    todo = plan.work_order(shards, outcomes)

    stats = Stats()
    bar = _progress(sum(len(s.refs) for s in shards), progress)
    bar.update(sum(len(shards[i].refs) for i in outcomes))
    task = functools.partial(run_handed_over, reader=reader, writer=writer, staging=staging, info=info, on_error=on_error)
    moved: dict[int, int] = {}  # videos the bar moved by, per shard (a shard written again does not move it twice)

    def advance(index: int, videos: int) -> None:
        step = min(videos, len(shards[index].refs) - moved.get(index, 0))
        if step > 0:
            moved[index] = moved.get(index, 0) + step
            bar.update(step)

    def done(position: int, outcome: list) -> None:
        nonlocal written
        result, shard_stats = outcome
        outcome.clear()  # the executor keeps what each shard returned until the run ends: only the list, emptied
        shard = todo[position]
        record.record(resuming.entry(shard, keys[shard.index], result, shard_stats))
        outcomes[shard.index] = (held(result, writer), shard_stats)
        written += len(result.files)
        advance(shard.index, len(shard.refs))  # what per-video reports did not say (from spawned or Ray workers)

    finished = None
    try:
        with progress_to(advance):
            executor.run(task, todo, on_done=done)
        for index in sorted(outcomes):
            stats.merge(outcomes[index][1])
        results = [outcomes[i][0] for i in range(len(shards))]
        # what no finished shard wrote goes: an attempt at a shard that died (a Ray worker killed for memory, whose
        # task was run again) may have left files of a video the next attempt skipped
        resuming.sweep(staging, written, lambda: resuming.listed_files(record, outcomes))
        finished = writer.finalize(results, info, staging, output)
        notes = (*plan.recorded_images_note(reader, writer), *writer.notes(results))
        is_dir = finished.is_dir()
        # inside a folder output, published with it; beside a file output: written here first, and the list beside an
        # earlier file output goes before the new output is published, so no kill leaves one beside an output it does
        # not describe (nor beside a folder that replaces the file)
        write_errors(stats.skipped, finished / ERRORS_FILE if is_dir else staging / ERRORS_FILE)
        beside = errors_path(output, False)
        replaces_file = output.is_file() and not output.is_symlink()
        (staging / PUBLISHING).write_text(finished.name, encoding="utf-8")  # for recover_publish after a kill
        stale = set_aside(beside, staging / STALE_ERRORS) if not is_dir or replaces_file else None
        try:
            publish(finished, output, overwrite or resume, writer)
        except BaseException:
            if stale is not None and os.path.lexists(finished):  # the old output stays, and so does its list
                with contextlib.suppress(OSError):  # the error that stopped publishing is the one to report
                    os.replace(stale, beside)
            raise
        # at once: staging left by a kill from here on is no interrupted run to --resume, the output being in place
        (staging / journal.JOURNAL).unlink(missing_ok=True)
        if not is_dir and stats.skipped:
            try:
                os.replace(staging / ERRORS_FILE, beside)
            except OSError as exc:  # the output is already in place: say so, not "untouched"
                raise OutputError(f"wrote {output}, but not its list of skipped videos {beside}: {describe(exc)}") from None
        errors_file = errors_path(output, is_dir) if stats.skipped else None
    except KeyboardInterrupt:
        bar.close()
        if finished is not None and not os.path.lexists(finished):  # published: nothing is left to finish or resume
            with contextlib.suppress(OSError):
                recover_publish(output)  # and the new list beside it, if the interrupt came first
                remove(staging)
            listed = errors_path(output, output.is_dir()).exists()
            unlisted = " (its list of skipped videos may be missing)" if stats.skipped and not listed else ""
            raise Interrupted(f"interrupted once {output} was written whole{unlisted}; there is nothing to resume") from None
        remove_temporaries(staging)
        raise Interrupted(
            f"interrupted: {len(outcomes)} of {len(shards)} shards are complete in {staging}; "
            "run the same command with --resume to finish"
        ) from None
    except ChildProcessError as error:  # a worker killed (for memory, say), a Ray node lost: the finished shards stay
        bar.close()
        if finished is not None:  # finalizing or publishing runs here, in no worker
            raise
        remove_temporaries(staging)
        raise ChildProcessError(
            f"{error}: {len(outcomes)} of {len(shards)} shards are complete in {staging}; "
            "run the same command with --resume to finish"
        ) from None
    except BaseException:
        bar.close()
        with contextlib.suppress(OSError):  # the disk that failed the run may refuse this too
            remove(staging)
        raise
    bar.close()
    remove(staging)
    seconds = time.perf_counter() - started
    return Summary(output, stats, seconds, len(shards), resumed, resumed_frames, errors_file, notes)


def run_handed_over(shard: Shard, **task) -> list:
    """:func:`run_shard`'s result and stats in a list that the run empties once it has them (see :func:`held`)."""
    return list(run_shard(shard, **task))


def held(result: ShardResult, writer: Writer) -> ShardResult:
    """What the run keeps of a finished shard until ``finalize``: without its checksums and file names, which the
    journal holds, unless the writer's ``finalize`` reads them. Folder layouts and SA-V write a file per frame and
    object, and a checksum (about 150 bytes) and a name (about 80) each kept for every shard grew with the frames."""
    dropped = {
        **({} if writer.finalize_reads_checksums else {"checksums": ()}),
        **({} if writer.finalize_reads_files else {"files": ()}),
    }
    return dataclasses.replace(result, **dropped) if dropped else result


def scan(
    reader: Reader, *, workers: int = 1, progress: bool | None = None, on_error: OnError = "fail"
) -> tuple[DatasetInfo, Stats]:
    """Read every video (decoding every mask) and count what is there, writing nothing."""
    info = reader.info()
    refs = reader.list_videos()
    bar = _progress(len(refs), progress)
    stats = Stats()
    try:
        task = functools.partial(count, reader=reader, on_error=on_error)
        for part in make_executor(workers).run(task, plan.one_video_each(refs), on_done=lambda i, s: bar.update(1)):
            stats.merge(part)
    finally:
        bar.close()
    return info, stats
