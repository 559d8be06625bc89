"""One run per output at a time: an exclusive lock beside the output, held for the whole run.

Two runs to the same output share its staging folder, and each deletes it at start and on
failure, so without the lock a second run could publish a mix of both, or delete the shards
the first one is about to assemble. The lock is ``flock`` on ``.<name>.vosconv-lock``: the
kernel drops it when the process ends, however it ends, so a killed run never blocks the
next for long: its forked workers share the lock until they have stopped, and a run that
finds the lock held by workers of a dead run waits for them. The file is removed when the
run ends; a run that opened it just before then sees that it is gone (another inode is at
the path, or none) and opens the new one.

Where ``fcntl`` does not exist (Windows) runs are not locked.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputError, VosconvWarning

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]


def lock_path(output: Path) -> Path:
    return output.parent / f".{output.name}.vosconv-lock"


@contextlib.contextmanager
def exclusive(output: Path) -> Iterator[None]:
    """Hold ``output``'s lock, or raise OutputError at once.

    Missing parent folders are made for the lock file, and removed again if the run leaves no
    output (and they are empty): a failed run leaves nothing behind.
    """
    if fcntl is None:  # pragma: no cover
        yield
        return
    path = lock_path(output)
    made = _make_folders(output.parent)
    try:
        with _locked(output, path, made):
            yield
    finally:
        if not (output.exists() or output.is_symlink()):  # a failed run leaves no empty folders of its own
            for folder in sorted(set(made), key=lambda folder: len(folder.parts), reverse=True):  # deepest first
                with contextlib.suppress(OSError):  # not empty: something else is in it now
                    folder.rmdir()


def _make_folders(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; the ones made here, deepest first."""
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(exist_ok=True)
    return missing


@contextlib.contextmanager
def _locked(output: Path, path: Path, made: list[Path]) -> Iterator[None]:
    for attempt in range(_ATTEMPTS):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)  # not through a link: it is truncated
        except FileNotFoundError:  # a failed run beside this one removed the folder it had made
            if attempt == _ATTEMPTS - 1:
                raise
            made += _make_folders(output.parent)
            continue
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            raise OutputError(f"{path} is a link, not the lock file vosconv makes there; remove the link and run again") from None
        try:
            _take(fd, output, path)
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, path):
            break
        os.close(fd)  # the run that held it removed it meanwhile: lock the file now at the path
    else:
        raise OutputError(f"{output}: could not take its lock {path}: other runs kept replacing it")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still held, so nobody locks this inode and then finds it gone
        os.close(fd)


def _take(fd: int, output: Path, path: Path) -> None:
    """Lock ``fd`` now; or, if the run holding it has died and only its workers are left, once they stop."""
    deadline = None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                if exc.errno in _NO_LOCKS:  # Lustre mounted noflock, some FUSE and network file systems
                    warnings.warn(
                        f"{path}: this file system cannot lock ({exc.strerror}); "
                        "nothing stops another run writing the same output meanwhile",
                        VosconvWarning,
                        stacklevel=5,
                    )
                    return
                raise
            holder = _read_pid(fd)
            if holder is None or _alive(holder) or (deadline is not None and time.monotonic() > deadline):
                raise OutputError(
                    f"{output} is being written by another vosconv run{f' (process {holder})' if holder else ''}"
                    f"{'' if holder is None or _alive(holder) else ' or its workers, still finishing'}; "
                    f"wait for it to end (its lock: {path})"
                ) from None
            # A killed run's forked workers share its lock and finish the video in hand first
            # (or the kernel is still tearing them down): a few moments, not a run.
            if deadline is None:
                deadline = time.monotonic() + WORKER_GRACE
                warnings.warn(
                    f"{output}: waiting for the workers of an ended run (process {holder}) to stop",
                    VosconvWarning,
                    stacklevel=5,
                )
            time.sleep(0.02)


_ATTEMPTS = 100  # at opening the lock file, against runs beside this one that end meanwhile
WORKER_GRACE = 60.0  # seconds to wait for the workers of a run that died
_NO_LOCKS = {errno.ENOSYS, errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip() or 0) or None
    return None
