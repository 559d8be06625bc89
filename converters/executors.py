"""Where shards run: in this process, or in a pool of worker processes.

An executor runs one function over a list of items and returns the results in item
order, whatever order they finish in, so the output never depends on scheduling.
``on_done`` is called in this process as each item finishes (for progress and journals).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

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


class ProcessExecutor:
    """A local pool of worker processes (fork where the platform has it: no re-import, no recompile)."""

    def __init__(self, workers: int, initializer: Callable[[], Any] | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.initializer = initializer

    def run(self, fn, items, on_done=None):
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        results: list[Any] = [None] * len(items)
        with ProcessPoolExecutor(self.workers, mp_context=context, initializer=self.initializer) as pool:
            pending = {pool.submit(fn, item): index for index, item in enumerate(items)}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=pending.get):
                        index = pending.pop(future)
                        results[index] = future.result()  # re-raises a worker's exception here
                        if on_done is not None:
                            on_done(index, results[index])
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        return results


def make_executor(workers: int = 1) -> Executor:
    return SerialExecutor() if workers <= 1 else ProcessExecutor(workers)
