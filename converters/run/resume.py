"""A run's side of ``--resume``: the staging folder kept or started afresh, each shard's key, the shards reused.

The journal itself (its lines, seals and checks) is :mod:`converters.run.journal`; this module
decides, per run, what goes into a key and which journaled shards a resumed run takes over.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from ..errors import OutputError, VosconvWarning
from ..reader import Reader
from ..writer import Shard, ShardResult, Writer
from . import journal
from .publish import remove
from .stats import Stats

Outcomes = dict[int, tuple[ShardResult, Stats]]


def refuse_linked_staging(staging: Path) -> None:
    """A link where the staging folder goes is not vosconv's: a run would prune and fill the folder it points to."""
    if staging.is_symlink():
        raise OutputError(
            f"{staging} is a link to {os.readlink(staging)}, not the staging folder vosconv makes there; "
            "remove the link and run again"
        )


def refuse_interrupted(output: Path, staging: Path) -> None:
    """A run with neither ``resume`` nor ``overwrite`` does not discard an interrupted run's finished shards."""
    finished = len(journal.Journal(staging).entries()) if staging.is_dir() else 0
    if finished:
        raise OutputError(
            f"an interrupted run of {output} left {finished} finished shard{'s' if finished > 1 else ''} in {staging}; "
            "pass --resume (resume=True in Python) to continue it, or --overwrite (overwrite=True in Python) to start over"
        )


def start_staging(staging: Path, output: Path, resume: bool) -> None:
    """The staging folder a run works in: kept when resuming, else emptied (warning when that discards finished shards)."""
    if not resume:
        if staging.is_dir():  # left by an interrupted run that is not being resumed
            finished = len(journal.Journal(staging).entries())
            if finished:
                warnings.warn(
                    f"discarding an interrupted run of {output} ({finished} finished shards in {staging}); "
                    "--resume would have kept those done with the same options",
                    VosconvWarning,
                    stacklevel=4,
                )
        remove(staging)
    staging.mkdir(exist_ok=True)


def shard_keys(reader: Reader, writer: Writer, shards: list[Shard], on_error: str) -> list[str]:
    """Each shard's key: a digest of everything that decides its bytes (see :func:`journal.shard_key`)."""
    context = {
        "reader": reader.name,
        "reader_options": journal.options_record(reader.options),
        "source": str(reader.source.resolve()),
        "writer": writer.name,
        "writer_options": journal.options_record(writer.options),
        "on_error": on_error,
        "source_files": source_files(reader),
    }
    return [journal.shard_key(context, [(r.name, r.nbytes, r.stamp) for r in s.refs]) for s in shards]


def source_files(reader: Reader) -> list[tuple[str, int, int]]:
    """Size and modification time of each file the reader names as a root (an archive, a COCO file,
    ``meta.json``, a DAVIS list): a change to one of them changes every shard's key."""
    found = []
    for root in reader.roots():
        with contextlib.suppress(OSError):
            if os.path.isfile(root):
                info = os.stat(root)
                found.append((str(Path(root).resolve()), info.st_size, info.st_mtime_ns))  # not the cwd's spelling
    return found


def take_over(record: journal.Journal, keys: list[str], staging: Path) -> Outcomes:
    """The shards an interrupted run finished that still hold, with everything else in the staging folder deleted."""
    outcomes = reusable(record, keys, staging)
    finished = len(record.entries())
    if finished > len(outcomes):  # the user asked to keep them: say why they are not, rather than run as long in silence
        warnings.warn(
            f"{finished - len(outcomes)} of the {finished} shards the interrupted run finished are done again: made with "
            "other options, from source files changed since, or damaged",
            VosconvWarning,
            stacklevel=4,
        )
    prune(staging, {name for result, _ in outcomes.values() for name in result.files})
    return outcomes


def reusable(record: journal.Journal, keys: list[str], staging: Path) -> Outcomes:
    """The shards an interrupted run finished whose journal lines and files still hold."""
    found = {}
    for index, entry in record.entries().items():
        if index < len(keys) and record.intact(entry, keys[index], staging):
            with contextlib.suppress(ValueError):  # a damaged record: the shard is done again
                found[index] = (result_from(entry["result"]), Stats.from_dict(entry["stats"]))
    return found


def sweep(staging: Path, listed: int, names: Callable[[], set[str]]) -> None:
    """Before ``finalize``: delete whatever no finished shard wrote (:func:`prune`). The files are counted first, with
    no name held: only when there are more than the ``listed`` the shards list (a Ray task run again after its worker
    died, whose dead attempt wrote files of a video the next attempt skipped) are their ``names`` gathered."""
    if _count_files(staging) > listed:
        prune(staging, names())


def listed_files(record: journal.Journal, finished: Collection[int]) -> set[str]:
    """The files the ``finished`` shards list, from the journal (the run keeps no name a writer does not need)."""
    return {name for index, entry in record.entries().items() if index in finished for name in entry["result"]["files"]}


def _count_files(staging: Path) -> int:
    """The files (and links) under ``staging``, the journal aside."""
    count = 0
    for folder, folders, files in os.walk(staging):
        count += len(files) + sum(os.path.islink(os.path.join(folder, name)) for name in folders)
        if folder == str(staging) and journal.JOURNAL in files:
            count -= 1
    return count


def prune(staging: Path, keep: set[str]) -> None:
    """Delete whatever the shards in ``keep`` did not write (the journal stays): before a resumed run, over the
    shards it reuses, and before ``finalize``, over every finished shard.

    An interrupted shard's half-written files, those of a video no longer in the plan, or those
    a dead attempt at a shard made of a video the next attempt skipped, would otherwise end up
    in the output, since nothing would write over them.
    """
    for folder, folders, files in os.walk(staging, topdown=False):  # children before their folders, no stat a file
        prefix = "" if folder == str(staging) else os.path.relpath(folder, staging).replace(os.sep, "/") + "/"
        links = [name for name in folders if os.path.islink(os.path.join(folder, name))]  # a link is no folder of ours
        for name in (*files, *links):
            if prefix + name != journal.JOURNAL and prefix + name not in keep:
                os.unlink(os.path.join(folder, name))
        if prefix and not os.listdir(folder):
            os.rmdir(folder)


def entry(shard: Shard, key: str, result: ShardResult, stats: Stats) -> dict[str, Any]:
    """The journal line of a finished shard."""
    return {"shard": shard.index, "key": key, "result": result_record(result), "stats": stats.to_dict()}


def result_record(result: ShardResult) -> dict[str, Any]:
    return {
        "index": result.index,
        "files": list(result.files),
        "facts": result.facts,
        "checksums": [list(c) for c in result.checksums],
    }


def result_from(record: dict[str, Any]) -> ShardResult:
    checksums = tuple((str(name), int(size), str(digest)) for name, size, digest in record["checksums"])
    return ShardResult(record["index"], tuple(record["files"]), record["facts"], checksums)
