"""Interleaved, repeat-until-long-enough, median CPU-time measurement (the method of performance-baselines.md).

The host is shared: another tenant can keep a core busy and slow everything down for a
while. So every figure is CPU time (``time.process_time``), the methods of one group run
interleaved (each round takes one sample of every method, in a rotating order), each
sample repeats its call until it lasts at least ``min_time`` seconds, and the reported
figure is the median over the samples. Ratios inside one group are the firm numbers.
"""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Timing:
    """One method's samples, in seconds per call."""

    median: float  # CPU seconds per call, median over samples
    minimum: float  # CPU seconds per call, fastest sample
    wall_median: float  # wall seconds per call, median over samples
    samples: int
    calls: int  # calls made while sampling, in total

    @property
    def ms(self) -> float:
        return self.median * 1e3

    def as_dict(self) -> dict:
        return {**asdict(self), "ms": self.ms}


@dataclass(frozen=True)
class Settings:
    samples: int = 11
    min_time: float = 0.030  # seconds of CPU per sample


def sample(fn: Callable[[], object], min_time: float) -> tuple[float, float, int]:
    """Call ``fn`` until ``min_time`` CPU seconds have passed: (CPU s per call, wall s per call, calls)."""
    calls = 0
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    while True:
        fn()
        calls += 1
        cpu = time.process_time() - cpu0
        if cpu >= min_time:
            break
    wall = time.perf_counter() - wall0
    return cpu / calls, wall / calls, calls


def compare(methods: Mapping[str, Callable[[], object]], settings: Settings) -> dict[str, Timing]:
    """Time every method of a group interleaved; one warm-up call each first."""
    names = list(methods)
    for name in names:
        methods[name]()
    cpu: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    calls = dict.fromkeys(names, 0)
    enabled = gc.isenabled()
    try:
        for round_ in range(settings.samples):
            gc.collect()
            gc.disable()
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                c, w, n = sample(methods[name], settings.min_time)
                cpu[name].append(c)
                wall[name].append(w)
                calls[name] += n
            if enabled:
                gc.enable()
    finally:
        if enabled:
            gc.enable()
    return {n: Timing(statistics.median(cpu[n]), min(cpu[n]), statistics.median(wall[n]), len(cpu[n]), calls[n]) for n in names}


@contextlib.contextmanager
def one_core(enabled: bool = True) -> Iterator[int | None]:
    """Pin this process to one CPU (the last one allowed) for single-process timings, then restore.

    Worker pools must not start inside: forked children inherit the pin.
    """
    if not enabled or not hasattr(os, "sched_getaffinity"):
        yield None
        return
    allowed = os.sched_getaffinity(0)
    cpu = max(allowed)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, allowed)


class HostLoad:
    """How busy the rest of the machine was while a block ran: busy CPU time of all cores, minus ours.

    Reads ``/proc/stat``; ``other`` is the mean number of cores kept busy by other processes.
    """

    def __init__(self) -> None:
        self.other: float | None = None

    @staticmethod
    def _busy() -> float | None:
        try:
            with open("/proc/stat") as file:
                fields = file.readline().split()[1:]
        except OSError:
            return None
        values = [int(v) for v in fields]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _ours() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def __enter__(self) -> HostLoad:
        self._start = (self._busy(), self._ours(), time.perf_counter())
        return self

    def __exit__(self, *exc) -> None:
        busy0, ours0, wall0 = self._start
        busy1 = self._busy()
        wall = time.perf_counter() - wall0
        if busy0 is None or busy1 is None or wall <= 0:
            return
        self.other = max(0.0, ((busy1 - busy0) - (self._ours() - ours0)) / wall)


def fmt_ms(seconds: float | None) -> str:
    """Milliseconds with 3 significant digits."""
    if seconds is None:
        return "-"
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"
