"""Where shards run: in this process, in a pool of local worker processes, or on a Ray cluster.

An executor runs one function over a list of items and returns the results in item
order, whatever order they finish in, so the output never depends on scheduling.
``on_done(position, result)`` is called in this process as each item finishes (for
progress and the resume journal). The first exception stops the run and is re-raised
with its original type; Ctrl-C stops the workers at once.

Within an item, :func:`report_progress` reaches the callback of :func:`progress_to` in this
process, also from forked workers (through their pipe); from spawned and Ray workers it is
not forwarded, and ``on_done`` alone says how far the run is.
"""

from __future__ import annotations

# multiprocessing and concurrent.futures are imported by the executors that use them: a run in
# this process (one worker, the default) costs no import of them (about a quarter of numpy's).
import contextlib
import numbers
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from ..errors import OptionError
from .ray_executor import RayExecutor, ray_options

T = TypeVar("T")
R = TypeVar("R")


#: Where :func:`report_progress` goes in this process: the parent's callback, or a forked worker's pipe.
_progress_sink: Callable[[Any, int], Any] | None = None


@contextlib.contextmanager
def progress_to(callback: Callable[[Any, int], Any]):
    """While inside, ``report_progress(key, amount)`` calls ``callback(key, amount)`` here, from whatever local process."""
    global _progress_sink
    previous, _progress_sink = _progress_sink, callback
    try:
        yield
    finally:
        _progress_sink = previous


def report_progress(key: Any, amount: int = 1) -> None:
    """Work done inside an item (a video of a shard, ``key`` naming the item), for a progress bar that moves per video."""
    if _progress_sink is not None:
        _progress_sink(key, amount)


class Executor(Protocol):
    def run(self, fn: Callable[[T], R], items: Sequence[T], on_done: Callable[[int, R], Any] | None = None) -> list[R]:
        """``[fn(item) for item in items]``, however it is computed; stops at the first exception."""


class SerialExecutor:
    """Everything in this process, in order: the simplest to debug."""

    def run(self, fn, items, on_done=None):
        results = []
        for index, item in enumerate(items):
            results.append(fn(item))
            if on_done is not None:
                on_done(index, results[-1])
        return results


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which stops them; no traceback per worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessExecutor:
    """Local worker processes: ``workers - 1`` forked children, plus this process doing its share.

    Every process takes the next item from a shared counter when it is free (self-scheduling),
    so the run ends within one item of perfect balance and no process waits on another to be
    handed work. Children are forked: they inherit ``fn`` and the items (nothing pickled on the
    way in, no re-import, no recompile); only results travel back, through one pipe each.
    Working in the parent too saves a process start, which matters for small datasets.
    Where the platform cannot fork, a spawn-based pool does the same job more slowly.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers

    def run(self, fn, items, on_done=None):
        import multiprocessing

        if not items:
            return []
        if "fork" not in multiprocessing.get_all_start_methods():
            return _run_in_spawned_pool(self.workers, fn, items, on_done)
        return _SelfScheduled(self.workers, fn, items, on_done).run()


class _SelfScheduled:
    """One run of :class:`ProcessExecutor` on a platform with fork."""

    def __init__(self, workers: int, fn: Callable, items: Sequence, on_done: Callable | None) -> None:
        import multiprocessing

        self.fn, self.items, self.on_done = fn, items, on_done
        self.results: list[Any] = [None] * len(items)
        self.workers = workers
        self.next = multiprocessing.get_context("fork").Value("q", 0)  # the next item to take; len(items) once stopped
        self.children: list[_Child] = []
        self.pipes: dict[Any, _Child] = {}  # child's receiving end -> child

    def _start_children(self) -> None:
        for _ in range(min(self.workers - 1, len(self.items) - 1)):  # no child for one item: it runs here
            child = _Child.fork(self.fn, self.items, self.next)
            self.children.append(child)
            self.pipes[child.pipe] = child

    def run(self) -> list[Any]:
        try:
            self._start_children()  # inside: if the second fork fails, the first child is stopped
            while (index := _take(self.next, len(self.items))) is not None:
                self._finished(index, self.fn(self.items[index]))
                self._collect(timeout=0)
            while self.pipes:
                self._collect(timeout=None)
        except BaseException:
            _stop(self.next, len(self.items))
            for child in self.children:
                child.terminate()
            raise
        finally:
            for child in self.children:
                child.pipe.close()
        # Each child has said "done" and is exiting; the kernel's teardown of its memory takes a
        # millisecond or more, so a thread waits for that, not the run.
        reaper = threading.Thread(target=_reap, args=(self.children,), name="vosconv-reap", daemon=True)
        reaper.start()
        _reapers[:] = [*(r for r in _reapers if r.is_alive()), reaper]  # finished ones are dropped
        return self.results

    def _finished(self, index: int, result: Any) -> None:
        self.results[index] = result
        if self.on_done is not None:
            self.on_done(index, result)

    def _collect(self, timeout: float | None) -> None:
        """Take in what children have sent; a child that died without saying why is an error."""
        import multiprocessing.connection

        for pipe in multiprocessing.connection.wait(list(self.pipes), timeout):
            try:
                message = pipe.recv()
            except EOFError:
                child = self.pipes.pop(pipe)
                raise ChildProcessError(f"a worker process ended unexpectedly (exit code {child.wait()})") from None
            kind, index, payload = message
            if kind == "progress":
                report_progress(index, payload)
            elif kind == "result":
                self._finished(index, payload)
            elif kind == "error":
                error, text = payload
                raise error from _RemoteTraceback(f'\n"""\n{text}"""')
            else:  # "done": the child found no more items
                self.pipes.pop(pipe)


class _Child:
    """A forked worker process: its pid and the receiving end of the pipe its outcomes come through.

    Forked with ``os.fork`` rather than ``multiprocessing.Process``: the child goes straight to
    work and leaves with ``os._exit`` once it has said "done", skipping multiprocessing's
    start-up and shutdown bookkeeping. That bookkeeping touches a few hundred pages, and after
    a fork each first write to a page costs a copy-on-write fault (about 3 us on the VMs we
    measure on): about 0.5 ms off every run. The pipe is also how the parent learns that a
    child died: its end reads EOF.
    """

    def __init__(self, pid: int, pipe) -> None:
        self.pid, self.pipe = pid, pipe
        self.exitcode: int | None = None

    @classmethod
    def fork(cls, fn, items, counter) -> _Child:
        import multiprocessing

        receive, send = multiprocessing.Pipe(duplex=False)
        _flush_std_streams()  # or the child, flushing its copy of our buffers on exit, would print them again
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                receive.close()
                _child(fn, items, counter, send)
                code = 0
            finally:
                _flush_std_streams()
                os._exit(code)
        send.close()
        return cls(pid, receive)

    def wait(self) -> int:
        """Wait for the child to end; its exit code (minus the signal number if a signal ended it)."""
        if self.exitcode is None:
            _, status = os.waitpid(self.pid, 0)
            self.exitcode = os.waitstatus_to_exitcode(status)
        return self.exitcode

    def terminate(self) -> None:
        if self.exitcode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            self.wait()


_reapers: list[threading.Thread] = []


def _reap(children: list[_Child]) -> None:
    for child in children:
        with contextlib.suppress(OSError):  # already waited for by someone else (the caller's own os.wait())
            child.wait()


def wait_for_workers() -> None:
    """Return once every worker of the finished runs has exited and been waited for.

    A run returns as soon as its workers have sent their last result; they end a moment
    later. Call this when that moment matters, e.g. before reading ``RUSAGE_CHILDREN``.
    """
    while _reapers:
        _reapers.pop().join()


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _take(counter, count: int) -> int | None:
    with counter.get_lock():
        index = counter.value
        if index >= count:
            return None
        counter.value = index + 1
    return index


def _stop(counter, count: int) -> None:
    """No process takes another item (those running finish theirs)."""
    with counter.get_lock():
        counter.value = count


def _child(fn, items, counter, pipe) -> None:
    """A forked worker's life: take items until none are left or one fails, send each outcome.

    A worker whose parent has died (killed, say) stops after its current item rather than
    working through the rest unasked, perhaps beside a ``--resume`` of the same output.
    """
    _ignore_interrupts()
    global _progress_sink
    if _progress_sink is not None:  # the parent wants progress within items: it goes through the pipe
        _progress_sink = lambda key, amount: pipe.send(("progress", key, amount))  # noqa: E731
    parent = os.getppid()
    while os.getppid() == parent and (index := _take(counter, len(items))) is not None:
        try:
            pipe.send(("result", index, fn(items[index])))  # a result that cannot be pickled is an error too
        except BaseException as error:
            _stop(counter, len(items))
            with contextlib.suppress(OSError):  # the parent may be gone
                pipe.send(("error", index, _portable(error)))
            return
    with contextlib.suppress(OSError):
        pipe.send(("done", None, None))


class _RemoteTraceback(Exception):
    """The worker's traceback, attached as the cause of the error re-raised in the parent."""

    def __str__(self) -> str:
        return self.args[0]


def _portable(error: BaseException) -> tuple[BaseException, str]:
    """``error`` ready to pickle (a stand-in if it cannot be), and its traceback as text."""
    import pickle
    import traceback

    text = "".join(traceback.format_exception(error))
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        error = RuntimeError(f"{type(error).__name__}: {error}")
    return error.with_traceback(None), text


def _run_in_spawned_pool(workers: int, fn, items, on_done):
    """Without fork: a pool of ``workers`` spawned processes, results gathered in item order."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    results: list[Any] = [None] * len(items)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_interrupts)
    try:
        running = {pool.submit(fn, item): index for index, item in enumerate(items)}
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=running.get):
                index = running.pop(future)
                results[index] = future.result()  # re-raises a worker's exception here
                if on_done is not None:
                    on_done(index, results[index])
    except BaseException:
        processes = list((pool._processes or {}).values())  # no public way to reach them
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        raise
    pool.shutdown()
    return results


def check_executor(executor: object) -> None:
    """None or an :class:`Executor`; anything else (``executor="ray"``) is an OptionError, not an AttributeError mid-run."""
    if executor is not None and not callable(getattr(executor, "run", None)):
        raise OptionError(
            "executor",
            f"expected an executor (an object with run(fn, items, on_done), such as RayExecutor(address) from "
            f"converters.run.executors) or None, got {type(executor).__name__} {executor!r:.60}",
        )


def make_executor(workers: int = 1, kind: str = "local", address: str | None = None) -> Executor:
    """``local``: this process (1 worker) or a process pool; ``ray``: a Ray cluster (``address``, else a local one)."""
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise OptionError("workers", f"must be a whole number of at least 1, got {workers!r}")
    workers = int(workers)
    if kind == "ray":
        return RayExecutor(address, **ray_options(workers, address))
    if kind != "local":
        raise ValueError(f"unknown executor {kind!r} (local or ray)")
    if address is not None:  # never a local run where a cluster was named
        raise OptionError("--ray-address", f"{address} is a Ray cluster, used only with --executor ray: add --executor ray")
    return SerialExecutor() if workers <= 1 else ProcessExecutor(workers)
