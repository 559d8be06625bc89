"""Output safety and publishing: what an output may replace, where a run stages, the one rename into place.

``--overwrite`` never deletes what vosconv did not write. Whether vosconv wrote something is
each writer's to say, through the contract (:meth:`Writer.owns`): the runner asks the chosen
writer, then every built-in one, and knows no format itself.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

from .. import registry
from ..errors import MissingDependency, OutputError, VosconvWarning
from ..writer import Writer
from . import locking

ERRORS_FILE = "errors.jsonl"
PUBLISHING = "publishing"  # in the staging folder from publishing on: the name there of the output being published
STALE_ERRORS = f"old.{ERRORS_FILE}"  # the list beside the output being replaced, set aside until it is published


def staging_path(output: Path) -> Path:
    """The private folder a conversion to ``output`` works in."""
    return output.parent / f".{output.name}.vosconv-partial"


def errors_path(output: Path, is_dir: bool) -> Path:
    return output / ERRORS_FILE if is_dir else output.with_name(f"{output.name}.{ERRORS_FILE}")


def aside_path(output: Path) -> Path:
    """Where :func:`publish` moves an output it replaces, until the new one is in place."""
    return output.parent / f".{output.name}.vosconv-old"


def owners(writer: Writer | type[Writer] | None = None) -> Iterator[type[Writer]]:
    """The writer classes asked whether they wrote an output: ``writer``'s first, then every built-in one.

    Imported one at a time, and only as far as needed; a built-in whose library is not installed
    wrote nothing here. Installed plugins are not imported to be asked (only when chosen).
    """
    seen: set[type[Writer]] = set()
    if writer is not None:
        first = _answering_class(writer)
        seen.add(first)
        yield first
    for spec in registry.specs("writer"):
        if spec.origin != "vosconv":
            continue
        try:
            cls = registry.writer_class(spec.name)
        except MissingDependency:
            continue
        if cls not in seen:
            seen.add(cls)
            yield cls


def _answering_class(writer: Writer | type[Writer]) -> type[Writer]:
    """The class that says whether ``writer`` wrote an output: a wrapper's (the empty-frames list's, derive.py)
    is that of the writer it wraps, whose ``owns`` a plugin's output needs (no built-in one knows it)."""
    while not isinstance(writer, type) and isinstance(getattr(writer, "inner", None), Writer):
        writer = writer.inner
    return writer if isinstance(writer, type) else type(writer)


def is_vosconv_output(path: Path, writer: Writer | type[Writer] | None = None) -> bool:
    """Written by vosconv: a regular file or a folder (not a link) that one of the writers owns (:func:`owners`)."""
    if path.is_symlink() or not (path.is_dir() or path.is_file()):  # a FIFO or a device would block or never end
        return False
    return any(cls.owns(path) for cls in owners(writer))


def check_output(output: Path, overwrite: bool, resume: bool = False, writer: Writer | None = None) -> None:
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
                "pass --overwrite (overwrite=True in Python) to replace it"
            )
        # none interrupted
        raise OutputError(f"{output} already exists; pass --overwrite (overwrite=True in Python) to replace it")
    refusal = not_replaceable(output, writer)
    if refusal is not None:
        raise OutputError(refusal)


def not_replaceable(output: Path, writer: Writer | None = None) -> str | None:
    """Why ``--overwrite`` may not replace ``output`` (what is there, what to do), or None when vosconv wrote it."""
    if output.is_symlink():
        return f"{output} is a link to {os.readlink(output)}, which vosconv does not replace; remove it or choose another output"
    if is_vosconv_output(output, writer):
        return None
    if not output.is_dir():
        return (
            f"{output} is not a file vosconv wrote (none of its writers recognises how it starts), so --overwrite "
            "does not replace it; remove it or choose another output"
        )
    for cls in owners(writer):
        words = cls.lookalike(output)
        if words:
            return f"{output} {words}"
    names = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in os.scandir(output))
    listed = ", ".join(names[:4] + (["..."] if len(names) > 4 else []))
    return f"{output} holds files vosconv did not write ({listed}); remove them or choose another output"


def check_not_source(output: Path, source: Path, *, listed: bool = False, writer: Writer | None = None) -> None:
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
    if data in target.parents and (output.exists() or output.is_symlink()) and not is_vosconv_output(output, writer):
        raise OutputError(
            f"{output} is part of the source {source}; replacing it could delete source data, so choose a new output"
        )


def flush_to_disk(finished: Path) -> None:
    """Everything written under ``finished`` on disk before the rename that publishes it, so a power cut never leaves
    a published folder of empty files. A file is fsynced; a folder's file system gets one ``syncfs`` (Linux; else
    ``os.sync``): an fsync of each of a folder layout's many small files would take minutes."""
    if finished.is_file():
        with open(finished, "rb") as file:
            os.fsync(file.fileno())
        return
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(finished, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if _syncfs(fd):
                return
        finally:
            os.close(fd)
    if hasattr(os, "sync"):
        os.sync()


def _syncfs(fd: int) -> bool:
    """``syncfs(2)`` on the file system holding ``fd``; False where the C library has none or it fails."""
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return False
    return call(fd) == 0


def publish(finished: Path, output: Path, overwrite: bool, writer: Writer | None = None) -> None:
    """Move the finished output into place with a rename (after flushing it to disk: :func:`flush_to_disk`).

    Replacing an existing output (``overwrite``) moves it aside first, so a folder can
    replace a file and the other way round; the old one is deleted once the new one is in place.
    """
    flush_to_disk(finished)
    if output.exists():
        check_output(output, overwrite, writer=writer)
        if output.is_dir() or finished.is_dir():
            old = aside_path(output)
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


def recover_publish(output: Path) -> None:
    """Undo or finish what a run killed while publishing left: the old output moved aside, the new one not in place
    (:func:`publish`), and the lists of skipped videos of a file output (:func:`_recover_staging`).

    With the output gone, the aside copy is the previous output and goes back; with both
    there, the new output made it and the aside copy is the old one, due for deletion.
    """
    old = aside_path(output)
    if old.exists() or old.is_symlink():
        if output.exists() or output.is_symlink():
            remove(old)
        else:
            os.replace(old, output)
            warnings.warn(
                f"{output}: put back the previous output, which a run stopped while replacing it had moved to {old}",
                VosconvWarning,
                stacklevel=4,
            )
    _recover_staging(output)


def _recover_staging(output: Path) -> None:
    """Finish what a run stopped while publishing left in its staging folder (:data:`PUBLISHING` names its output).

    A file output's list of skipped videos is set aside before the output moves, and the new one put
    beside it after. Stopped with the new output still in staging, the old output is the one in place,
    so its list goes back (the staging folder stays, for ``--resume``); stopped once the new output is in
    place, the new list goes beside it and the staging folder holds nothing left to resume.
    """
    staging = staging_path(output)
    if staging.is_symlink() or not staging.is_dir():
        return
    try:
        name = (staging / PUBLISHING).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    if name in ("", ".", "..") or "/" in name or os.sep in name:
        return  # not vosconv's writing
    published = not os.path.lexists(staging / name)
    beside = errors_path(output, False)
    describes = staging / (ERRORS_FILE if published else STALE_ERRORS)
    if describes.is_file() and not describes.is_symlink() and not os.path.lexists(beside) and not output.is_dir():
        os.replace(describes, beside)
    if published:
        remove(staging)
    else:
        (staging / PUBLISHING).unlink()


def remove(path: Path) -> None:
    """Delete a file or a folder tree, if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def remove_temporaries(staging: Path) -> None:
    """After an interrupt: drop half-written files, keep finished shards and the journal."""
    for path in staging.rglob("*.tmp"):
        path.unlink(missing_ok=True)


def write_errors(skipped: list[dict[str, str]], path: Path) -> None:
    """``errors.jsonl``: one line per skipped video, written whole or not at all; none when nothing was skipped."""
    if not skipped:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as file:
        for record in skipped:
            file.write(json.dumps(record, sort_keys=True) + "\n")
    os.replace(tmp, path)


def set_aside(path: Path, aside: Path) -> Path | None:
    """Move a file (or a link) at ``path`` to ``aside`` (in the staging folder, so the same file system) and say where;
    None when there is none. A folder there is no list of vosconv's: it stays, and writing the list there fails."""
    if not path.is_symlink() and not path.is_file():
        return None
    os.replace(path, aside)
    return aside


def names_source(error: OSError, roots: list[Path], output: Path) -> bool:
    """The error names a file the conversion reads, not one it writes (an output may lie inside the source)."""
    if not isinstance(error.filename, (str, bytes)) or not error.filename:
        return False
    path = Path(os.fsdecode(error.filename)).resolve()
    ours = (output, staging_path(output), aside_path(output), errors_path(output, False), locking.lock_path(output))
    written = [p.resolve() for p in ours]
    if any(path == p or p in path.parents for p in written):
        return False
    return any(path == root or root in path.parents for root in roots)


def describe(error: OSError) -> str:
    """``No space left on device (path)``: the OS's words and, when it says, the file."""
    text = error.strerror or str(error)
    return f"{text} ({error.filename})" if error.filename else text
