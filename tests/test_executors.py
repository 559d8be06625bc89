"""Executors: results in item order whatever the finishing order, on_done once per item, errors propagated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from converters.cli import main
from converters.errors import OptionError, SourceError
from converters.run.executors import ProcessExecutor, SerialExecutor, make_executor, wait_for_workers

STEP = 0.1  # seconds: item i of n sleeps (n - 1 - i) * STEP, so early items finish last


def slow_square(item: tuple[int, int]) -> tuple[int, int]:
    index, count = item
    time.sleep((count - 1 - index) * STEP)
    return index * index, os.getpid()


def fail_on_two(item: int) -> int:
    if item == 2:
        raise SourceError("/data/MOSE/train/Annotations/v/00002.png", "truncated PNG")
    return item


def fail_with_option_error(item: int) -> int:
    raise OptionError("pipelines.x.workers", "must be at least 1")


def mark_then_fail_on_zero(item: tuple[int, str]) -> int:
    index, folder = item
    if index == 0:
        raise ValueError("item 0 is broken")
    time.sleep(0.05)
    Path(folder, f"{index}.done").touch()
    return index


EXECUTORS = {"serial": SerialExecutor, "process": lambda: ProcessExecutor(2)}


@pytest.fixture(params=sorted(EXECUTORS))
def executor(request):
    return EXECUTORS[request.param]()


def test_results_in_item_order(executor):
    count = 4
    finished = []
    results = executor.run(slow_square, [(i, count) for i in range(count)], on_done=lambda i, r: finished.append((i, r[0])))
    assert [square for square, _ in results] == [i * i for i in range(count)]
    assert sorted(finished) == [(i, i * i) for i in range(count)]  # once per item, with that item's result


def sleep_one_step(index: int) -> tuple[int, int]:
    time.sleep(STEP)
    return index, os.getpid()


def test_process_executor_reports_each_item_as_it_finishes():
    """on_done hears of items as they finish (progress bars and journals), not all at once at the end,
    and the parent process does its share: workers=2 is one child plus this process."""
    count = 6
    finished = []
    started = time.perf_counter()
    results = ProcessExecutor(2).run(
        sleep_one_step, list(range(count)), on_done=lambda i, r: finished.append((i, time.perf_counter() - started))
    )
    assert [index for index, _ in results] == list(range(count))
    assert sorted(i for i, _ in finished) == list(range(count))
    assert finished[0][1] < finished[-1][1] - STEP  # heard of as they finish, not all at the end
    assert {pid for _, pid in results} - {os.getpid()}, "some items run in a child process"
    assert len({pid for _, pid in results}) == 2


def sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_process_executor_balances_uneven_items():
    """Each process takes the next item when it is free: while one runs a long item, the other runs
    all the short ones (a split fixed in advance would give the long item's process some of them)."""
    pids = ProcessExecutor(2).run(sleep_then_pid, [10 * STEP] + [STEP] * 6)
    assert pids[0] not in pids[1:]
    assert len(set(pids[1:])) == 1


def test_serial_executor_runs_in_order_here():
    finished = []
    results = SerialExecutor().run(slow_square, [(i, 3) for i in range(3)], on_done=lambda i, r: finished.append(i))
    assert finished == [0, 1, 2]
    assert {pid for _, pid in results} == {os.getpid()}


def test_without_on_done(executor):
    assert executor.run(fail_on_two, [0, 1, 3]) == [0, 1, 3]


def test_no_items(executor):
    calls = []
    assert executor.run(fail_on_two, [], on_done=lambda i, r: calls.append(i)) == []
    assert calls == []


def test_worker_exception_keeps_its_type_and_fields(executor):
    with pytest.raises(SourceError) as caught:
        executor.run(fail_on_two, [0, 1, 2, 3])
    error = caught.value
    assert type(error) is SourceError
    assert error.path == "/data/MOSE/train/Annotations/v/00002.png"
    assert error.cause == "truncated PNG"
    assert str(error) == "/data/MOSE/train/Annotations/v/00002.png: truncated PNG"


def test_option_error_crosses_the_process_boundary(executor):
    with pytest.raises(OptionError) as caught:
        executor.run(fail_with_option_error, [0])
    assert (caught.value.where, caught.value.message) == ("pipelines.x.workers", "must be at least 1")


def test_serial_executor_stops_at_the_first_exception():
    seen, done = [], []

    def record(item: int) -> int:
        seen.append(item)
        return fail_on_two(item)

    with pytest.raises(SourceError):
        SerialExecutor().run(record, [0, 1, 2, 3, 4], on_done=lambda i, r: done.append(i))
    assert seen == [0, 1, 2]
    assert done == [0, 1]


def test_process_executor_stops_at_the_first_exception(tmp_path):
    """Items not yet started when one fails are never run."""
    count = 40
    with pytest.raises(ValueError, match="item 0 is broken"):
        ProcessExecutor(2).run(mark_then_fail_on_zero, [(i, str(tmp_path)) for i in range(count)])
    ran = len(list(tmp_path.glob("*.done")))
    assert ran < count // 2, f"{ran} of {count - 1} items ran after the failure"


def misbehave_in_a_child(item: tuple[int, int, str]):
    """Items that go wrong only in a worker process, so the failure surely crosses the process boundary
    (the parent sleeps through its items meanwhile)."""
    parent, index, how = item
    if os.getpid() != parent:
        if how == "die":
            os._exit(3)  # a worker killed mid-item (out of memory, say): no exception, no result
        if how == "raise":
            raise SourceError(f"/data/v/{index:05d}.png", "truncated PNG")
        return threading.Lock()  # "unpicklable": a result that cannot travel back
    time.sleep(STEP)
    return index


def in_children(how: str, count: int = 6) -> list[tuple[int, int, str]]:
    return [(os.getpid(), i, how) for i in range(count)]


def test_process_executor_reports_a_worker_that_dies():
    with pytest.raises(ChildProcessError, match="exit code 3"):
        ProcessExecutor(2).run(misbehave_in_a_child, in_children("die"))


def test_a_childs_error_arrives_with_its_type_fields_and_traceback():
    with pytest.raises(SourceError) as caught:
        ProcessExecutor(2).run(misbehave_in_a_child, in_children("raise"))
    error = caught.value
    assert error.path.startswith("/data/v/") and error.cause == "truncated PNG"
    assert "misbehave_in_a_child" in str(error.__cause__)  # the worker's traceback, as text


def test_one_item_runs_here_without_a_child():
    assert ProcessExecutor(4).run(sleep_one_step, [7]) == [(7, os.getpid())]


class _Children(list):
    """States of this process's children, saying in a failed assertion what each child runs."""

    def __init__(self, states: list[str], commands: list[str]) -> None:
        super().__init__(states)
        self.commands = commands

    def __repr__(self) -> str:
        return f"{list(self)!r} (running: {'; '.join(self.commands)})"


def _children_of_this_process() -> list[str]:
    """States of this process's children (Linux /proc): "Z" is a zombie nobody waited for.

    multiprocessing's resource tracker is left out: it is no worker, and a spawn-context test starts it for
    the rest of the session.
    """
    from multiprocessing import resource_tracker

    tracker = getattr(resource_tracker._resource_tracker, "_pid", None)
    states, commands = [], []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        if stat.parent.name == str(tracker):
            continue
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            states.append(fields[0])
            commands.append(command)
    return _Children(states, commands)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_wait_for_workers_returns_once_they_are_gone():
    ProcessExecutor(3).run(sleep_one_step, list(range(6)))
    wait_for_workers()
    assert _children_of_this_process() == []


def test_finished_reapers_are_not_kept():
    """A long-lived process running many conversions does not collect one thread object per run."""
    from converters.run import executors

    wait_for_workers()
    for _ in range(4):
        ProcessExecutor(2).run(abs, [-1, -2])
        time.sleep(0.3)  # the children exit and their reaper ends
    assert len(executors._reapers) <= 2


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_are_waited_for_after_the_run():
    ProcessExecutor(3).run(sleep_one_step, list(range(6)))
    deadline = time.perf_counter() + 10
    while _children_of_this_process() and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert _children_of_this_process() == []


def test_a_result_that_cannot_travel_back_is_an_error_not_a_dead_worker():
    with pytest.raises(TypeError, match="pickle"):
        ProcessExecutor(2).run(misbehave_in_a_child, in_children("unpicklable"))


ORPHAN_SCRIPT = """
import sys, time
from pathlib import Path
from converters.run.executors import ProcessExecutor

def touch(index):
    time.sleep(0.1)
    Path(sys.argv[1], str(index)).touch()
    return index

if __name__ == "__main__":
    ProcessExecutor(2).run(touch, list(range(100)))
"""


BUFFERED_SCRIPT = """
import sys
from converters.run.executors import ProcessExecutor

print("before the run", end="")  # still in this process's stdout buffer (a pipe) when the workers fork
print(ProcessExecutor(3).run(abs, [-1, -2, -3, -4]))
"""


def test_output_buffered_before_the_run_is_printed_once():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout to a pipe is block-buffered then
    done = subprocess.run(
        [sys.executable, "-c", BUFFERED_SCRIPT], cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "before the run[1, 2, 3, 4]\n"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers only")
def test_workers_stop_when_the_parent_is_killed(tmp_path):
    """After a SIGKILL of the run (no chance to stop its workers), a worker finishes at most its current item."""
    script = tmp_path / "run.py"
    script.write_text(ORPHAN_SCRIPT)
    marks = tmp_path / "marks"
    marks.mkdir()
    parent = subprocess.Popen([sys.executable, str(script), str(marks)], cwd=Path(__file__).resolve().parents[1])
    deadline = time.perf_counter() + 60
    while len(list(marks.iterdir())) < 4 and time.perf_counter() < deadline:
        time.sleep(0.05)
    parent.kill()
    parent.wait()
    time.sleep(0.5)  # a worker's current item ends within 0.1 s
    settled = len(list(marks.iterdir()))
    time.sleep(1.0)  # ten more items' time
    assert len(list(marks.iterdir())) == settled < 100


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers only")
def test_a_failed_fork_stops_the_workers_already_started(monkeypatch, tmp_path):
    started = []
    real_fork = os.fork

    def fork_once():
        if started:
            raise OSError("fork: resource temporarily unavailable")
        pid = real_fork()
        if pid:
            started.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork_once)
    with pytest.raises(OSError, match="fork"):
        ProcessExecutor(3).run(mark_then_fail_on_zero, [(i, str(tmp_path)) for i in range(1, 100)])
    with pytest.raises(ChildProcessError):
        os.waitpid(started[0], os.WNOHANG)  # stopped and already waited for
    assert len(list(tmp_path.glob("*.done"))) < 10  # the first worker did not go on through the items


@pytest.mark.parametrize("workers", [0, -1])
def test_process_executor_needs_a_worker(workers):
    with pytest.raises(ValueError, match="at least 1"):
        ProcessExecutor(workers)


def test_make_executor():
    assert isinstance(make_executor(), SerialExecutor)
    assert isinstance(make_executor(1), SerialExecutor)
    executor = make_executor(3)
    assert isinstance(executor, ProcessExecutor)
    assert executor.workers == 3


def test_a_ray_address_without_the_ray_executor_is_refused(capsys, sample_root, tmp_path):
    """--ray-address alone would run locally in silence, on one machine where a cluster was named."""
    with pytest.raises(OptionError, match=r"--ray-address: head:6379 is a Ray cluster, used only with --executor ray"):
        make_executor(4, "local", "head:6379")
    out = tmp_path / "out.json"
    argv = ["convert", str(sample_root["mose"]), "-o", str(out), "--split", "train", "--ray-address", "head:6379"]
    assert main(argv) == 1
    assert "add --executor ray" in capsys.readouterr().err and not out.exists()


@pytest.fixture
def python_sigint_handler():
    """Python's own Ctrl-C handler, even where this process was started with SIGINT ignored (a background job)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("python_sigint_handler")
def test_ctrl_c_stops_the_workers_at_once():
    """Ctrl-C (SIGINT to this process) does not wait for the slow items to finish, wherever it lands."""
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    started = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        ProcessExecutor(2).run(_sleep_then_return, [0.0, 30.0, 30.0, 30.0])
    assert time.perf_counter() - started < 10


def _sleep_then_return(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_a_worker_someone_else_waited_for_does_not_stop_its_reaper(monkeypatch):
    """The caller's own ``os.wait()`` may reap a worker first: the reaper's wait for it fails, and it
    goes on to the others (instead of dying with a traceback on stderr and leaving them zombies)."""
    import threading

    wait_for_workers()  # earlier tests' workers are gone before waitpid is replaced
    real_waitpid, stolen, failures = os.waitpid, [], []

    def reaped_elsewhere(pid, options):
        if not stolen:
            stolen.append(real_waitpid(pid, options))
            raise ChildProcessError(10, "No child processes")
        return real_waitpid(pid, options)

    monkeypatch.setattr(os, "waitpid", reaped_elsewhere)
    monkeypatch.setattr(threading, "excepthook", failures.append)
    ProcessExecutor(3).run(abs, [-1, -2, -3, -4])
    wait_for_workers()
    assert stolen and not failures
    if Path("/proc/self/stat").exists():
        assert _children_of_this_process() == []


class _DiesAfterOne:
    """An executor whose worker is killed (OOM, a lost Ray node) once the first shard is done."""

    def run(self, fn, items, on_done=None):
        on_done(0, fn(items[0]))
        raise ChildProcessError("a worker process ended unexpectedly (exit code -9)")


def test_a_dead_worker_keeps_the_finished_shards_for_resume(sample_root, tmp_path):
    """Hours of a cluster's work are not thrown away with one killed worker: --resume finishes into the same bytes."""
    from converters import api

    options = {"split": "train"}
    whole = api.convert(sample_root["mose"], tmp_path / "whole", to="davis", reader_options=options)
    out = tmp_path / "out"
    with pytest.raises(ChildProcessError, match=r"\(exit code -9\): 1 of 3 shards are complete in .*--resume to finish"):
        api.convert(sample_root["mose"], out, to="davis", reader_options=options, executor=_DiesAfterOne())
    assert not out.exists()
    summary = api.convert(sample_root["mose"], out, to="davis", reader_options=options, resume=True)
    assert summary.resumed == 1
    files = sorted(p.relative_to(whole.output) for p in whole.output.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    for relative in files:
        assert (whole.output / relative).read_bytes() == (out / relative).read_bytes(), relative


def test_the_cli_says_a_dead_worker_in_one_line(monkeypatch, capsys, sample_root, tmp_path):
    from converters.run import executors

    monkeypatch.setattr(executors, "make_executor", lambda *args: _DiesAfterOne())
    out = tmp_path / "out"
    assert main(["convert", str(sample_root["mose"]), "-o", str(out), "--to", "davis", "--split", "train"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: a worker process ended unexpectedly (exit code -9): 1 of 3 shards") and "Traceback" not in err
