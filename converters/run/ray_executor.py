"""The Ray executor: one Ray task per shard, on a local Ray instance or a cluster.

Ray is an optional dependency, imported when a run uses it. :func:`ray_session` keeps one
instance up for several runs (``vosconv run a b c``), which would otherwise each start one.
"""

from __future__ import annotations

import contextlib
import itertools
import numbers
import os
from typing import Any

from ..errors import MissingDependency, OptionError, install_hint


def ray_options(workers: int, address: str | None) -> dict[str, Any]:
    """What ``workers`` means to Ray: on a local instance, that many tasks at once (1: as many as it has CPUs);
    on a cluster, nothing (it has the CPUs it has)."""
    if workers > 1 and address is None:
        return {"num_cpus": workers, "in_flight": workers}
    return {}


class RayExecutor:
    """One Ray task per item, on a local Ray instance or the cluster at ``address``.

    Every node must see the source and the output's folder at the same paths (a shared
    file system): tasks read sources and write shards there, and the driver assembles them.
    ``in_flight`` caps the tasks submitted at once (a run's ``workers`` on a local instance
    started for several runs); by default all are submitted and Ray schedules them.
    """

    def __init__(self, address: str | None = None, *, in_flight: int | None = None, **init_options: Any) -> None:
        _import_ray()
        whole = isinstance(in_flight, numbers.Integral) and not isinstance(in_flight, bool)
        if in_flight is not None and not (whole and in_flight >= 1):
            raise OptionError("in_flight", f"must be a whole number of at least 1, or None for all, got {in_flight!r}")
        if address is not None:
            check_ray_address(address)
        self.address = address
        self.in_flight = None if in_flight is None else int(in_flight)
        self.init_options = init_options

    def run(self, fn, items, on_done=None):
        import ray

        with _ray_session(self.address, self.init_options):
            task = ray.remote(_call)
            shared = ray.put(fn)
            here = os.getcwd()  # a relative source or output means the same folder in every task
            waiting = iter(range(len(items)))  # submitted in the plan's order, largest shard first
            position: dict[Any, int] = {}
            pending: list[Any] = []

            def submit(count: int) -> None:
                for index in itertools.islice(waiting, count):
                    ref = task.remote(shared, items[index], here)
                    position[ref] = index
                    pending.append(ref)

            results: list[Any] = [None] * len(items)
            submit(self.in_flight or len(items))
            try:
                while pending:
                    done, pending[:] = ray.wait(pending, num_returns=1)
                    for ref in done:
                        index = position.pop(ref)
                        results[index] = _get(ray, ref)
                        if on_done is not None:
                            on_done(index, results[index])
                    submit(len(done))
            except BaseException:
                for ref in pending:
                    ray.cancel(ref, force=True)
                _settle(ray, pending)  # stopped tasks must not write into a staging folder being removed
                raise
            return results


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise MissingDependency(f"the Ray executor needs ray: {install_hint('ray')}") from exc
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, **init_options: Any):
    """Ray started once for several runs (``vosconv run a b c``): each run's :class:`RayExecutor` joins it.

    Starting a local instance takes seconds; without this every run would start and stop its own.
    Nothing is started when Ray is already up in this process.
    """
    _import_ray()
    if address is not None:
        check_ray_address(address)  # Ray retries an address nobody answers at forever
    with _ray_session(address, init_options):
        yield


@contextlib.contextmanager
def _ray_session(address: str | None, init_options: dict[str, Any]):
    import ray

    if ray.is_initialized():
        yield
        return
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **init_options)
    except ConnectionError:  # address "auto" with no cluster running here; Ray's words name its own --address flag
        raise OptionError(
            "--ray-address",
            f"{address}: no Ray cluster is running here (ray start --head starts one); name a cluster with "
            "--ray-address HOST:PORT, or leave --ray-address out to start a local one",
        ) from None
    except ValueError as error:
        # No address, but Ray found a cluster to join (RAY_ADDRESS, or `ray start` on this machine):
        # it refuses a CPU count for a cluster it did not start. Join it with the CPUs it has.
        if not init_options or "existing cluster" not in str(error):
            raise
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def check_ray_address(address: str, timeout: float = 10.0) -> None:
    """Refuse a cluster address nothing answers at: Ray itself retries such an address forever, in silence."""
    import socket
    from urllib.parse import urlsplit

    if address in ("auto", "local"):
        return  # Ray resolves these itself, and fails at once when there is nothing to find
    try:
        parts = urlsplit(address if "://" in address else f"//{address}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or port is None:
        raise OptionError("--ray-address", f"{address!r} is not host:port, ray://host:port or auto")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        cause = error.strerror or type(error).__name__
        raise OptionError(
            "--ray-address", f"nothing answers at {host}:{port} ({cause}); is the cluster up (ray start --head)?"
        ) from None


def _call(fn, item, cwd: str | None = None):
    """``fn(item)`` in the driver's working folder.

    A worker of a cluster started elsewhere (``ray start`` on a node) runs in that command's
    folder, not the driver's: a relative source or output (``vosconv convert data/MOSE -o out.json``)
    would name another folder there, or none. On a shared file system the driver's folder is
    there at the same path; where it is not, the task runs where it is (absolute paths still work).
    """
    previous = None
    with contextlib.suppress(OSError):
        previous = os.getcwd()
        if cwd is not None and cwd != previous:
            os.chdir(cwd)
    try:
        return fn(item)
    finally:
        if previous is not None:
            with contextlib.suppress(OSError):
                os.chdir(previous)


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
    except ray.exceptions.RayError as error:  # a worker or node that died (OOM-killed, say), after Ray's retries
        raise ChildProcessError(f"a Ray worker ended unexpectedly: {error}") from None
