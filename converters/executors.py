"""Where shards run: in this process, in a pool of local worker processes, or on a Ray cluster.

An executor runs one function over a list of items and returns the results in item
order, whatever order they finish in, so the output never depends on scheduling.
``on_done(position, result)`` is called in this process as each item finishes (for
progress and the resume journal). The first exception stops the run and is re-raised
with its original type; Ctrl-C stops the workers at once.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
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

    Fork where the platform has it (no re-import, no recompile). Working in the parent too
    saves a process start and its idle wait, which matters for small datasets.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers

    def run(self, fn, items, on_done=None):
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        results: list[Any] = [None] * len(items)
        queue = deque(enumerate(items))
        children = max(self.workers - 1, 1)
        pool = ProcessPoolExecutor(children, mp_context=context, initializer=_ignore_interrupts)

        def finished(index: int, result: Any) -> None:
            results[index] = result
            if on_done is not None:
                on_done(index, result)

        try:
            running: dict[Any, int] = {}
            while queue or running:
                while queue and len(running) < 2 * children:  # a spare item each: no child waits on the parent
                    index, item = queue.popleft()
                    running[pool.submit(fn, item)] = index
                if queue and self.workers > 1:
                    index, item = queue.popleft()
                    finished(index, fn(item))
                    done = [f for f in running if f.done()]
                else:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=running.get):
                    finished(running.pop(future), future.result())  # re-raises a worker's exception here
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown()
        return results


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now, rather than waiting for their shards."""
    processes = list((pool._processes or {}).values())  # no public way to reach them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()


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
                raise
            return results
        finally:
            if started_here:
                ray.shutdown()


def _call(fn, item):
    return fn(item)


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
