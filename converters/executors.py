"""Where shards run: in this process, in a pool of local worker processes, or on a Ray cluster.

An executor runs one function over a list of items and returns the results in item
order, whatever order they finish in, so the output never depends on scheduling.
``on_done(position, result)`` is called in this process as each item finishes (for
progress and the resume journal). The first exception stops the run and is re-raised
with its original type; Ctrl-C stops the workers at once.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from .errors import MissingDependency

T = TypeVar("T")
R = TypeVar("R")


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
        if not items:
            return []
        if "fork" not in multiprocessing.get_all_start_methods():
            return _run_in_spawned_pool(self.workers, fn, items, on_done)
        return _SelfScheduled(self.workers, fn, items, on_done).run()


class _SelfScheduled:
    """One run of :class:`ProcessExecutor` on a platform with fork."""

    def __init__(self, workers: int, fn: Callable, items: Sequence, on_done: Callable | None) -> None:
        context = multiprocessing.get_context("fork")
        self.fn, self.items, self.on_done = fn, items, on_done
        self.results: list[Any] = [None] * len(items)
        self.context = context
        self.workers = workers
        self.next = context.Value("q", 0)  # the next item to take; len(items) once stopped
        self.children = []
        self.pipes = {}  # child's receiving end -> child

    def _start_children(self) -> None:
        for _ in range(min(self.workers - 1, len(self.items) - 1)):  # no child for one item: it runs here
            receive, send = self.context.Pipe(duplex=False)
            child = self.context.Process(target=_child, args=(self.fn, self.items, self.next, send), daemon=True)
            child.start()
            send.close()
            self.children.append(child)
            self.pipes[receive] = child

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
            for child in self.children:
                child.join()
            raise
        finally:
            for pipe in self.pipes:
                pipe.close()
        # Each child has sent "done" and is exiting: a thread waits for its teardown (~5 ms), not the run.
        threading.Thread(target=_reap, args=(self.children,), name="vosconv-reap", daemon=True).start()
        return self.results

    def _finished(self, index: int, result: Any) -> None:
        self.results[index] = result
        if self.on_done is not None:
            self.on_done(index, result)

    def _collect(self, timeout: float | None) -> None:
        """Take in what children have sent; a child that died without saying why is an error."""
        sentinels = {child.sentinel: pipe for pipe, child in self.pipes.items()}
        for ready in multiprocessing.connection.wait([*self.pipes, *sentinels], timeout):
            pipe = sentinels.get(ready, ready)
            if pipe not in self.pipes:
                continue  # already handled through the other handle
            try:
                message = pipe.recv()
            except EOFError:
                child = self.pipes.pop(pipe)
                child.join()
                raise ChildProcessError(f"a worker process ended unexpectedly (exit code {child.exitcode})") from None
            kind, index, payload = message
            if kind == "result":
                self._finished(index, payload)
            elif kind == "error":
                error, text = payload
                raise error from _RemoteTraceback(f'\n"""\n{text}"""')
            else:  # "done": the child found no more items
                self.pipes.pop(pipe)


def _reap(children) -> None:
    for child in children:
        child.join()


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


class RayExecutor:
    """One Ray task per item, on a local Ray instance or the cluster at ``address``.

    Every node must see the source and the output's folder at the same paths (a shared
    file system): tasks read sources and write shards there, and the driver assembles them.
    """

    def __init__(self, address: str | None = None, **init_options: Any) -> None:
        try:
            import ray  # noqa: F401
        except ImportError as exc:
            raise MissingDependency("the Ray executor needs ray: pip install 'vosconv[ray]'") from exc
        self.address = address
        self.init_options = init_options

    def run(self, fn, items, on_done=None):
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False, **self.init_options)
        try:
            task = ray.remote(_call)
            shared = ray.put(fn)
            refs = [task.remote(shared, item) for item in items]
            position = {ref: index for index, ref in enumerate(refs)}
            results: list[Any] = [None] * len(items)
            pending = list(refs)
            try:
                while pending:
                    done, pending = ray.wait(pending, num_returns=1)
                    for ref in done:
                        index = position[ref]
                        results[index] = _get(ray, ref)
                        if on_done is not None:
                            on_done(index, results[index])
            except BaseException:
                for ref in pending:
                    ray.cancel(ref, force=True)
                _settle(ray, pending)  # stopped tasks must not write into a staging folder being removed
                raise
            return results
        finally:
            if started_here:
                ray.shutdown()


def _call(fn, item):
    return fn(item)


def _settle(ray, refs, timeout: float = 60.0) -> None:
    """Wait until cancelled tasks have really stopped (a cancel only asks); their outcome does not matter."""
    for ref in refs:
        with contextlib.suppress(Exception):
            ray.get(ref, timeout=timeout)


def _get(ray, ref):
    """``ray.get`` that re-raises a task's own exception rather than Ray's wrapper."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        cause = getattr(error, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None
        raise


def make_executor(workers: int = 1, kind: str = "local", address: str | None = None) -> Executor:
    """``local``: this process (1 worker) or a process pool; ``ray``: a Ray cluster (``address``, else a local one)."""
    if kind == "ray":
        options = {"num_cpus": workers} if workers > 1 and address is None else {}
        return RayExecutor(address, **options)
    if kind != "local":
        raise ValueError(f"unknown executor {kind!r} (local or ray)")
    return SerialExecutor() if workers <= 1 else ProcessExecutor(workers)
