"""The Ray executor on a local two-CPU cluster: the same bytes as the local run, errors with their own type."""

from __future__ import annotations

import pytest

from converters import api
from converters.errors import OptionError, SourceError
from converters.run.executors import RayExecutor

from . import savdata

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One local Ray instance for the module, its files inside the test's temporary folder."""
    temp = tmp_path_factory.mktemp("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=str(temp))
    yield
    ray.shutdown()


@pytest.mark.parametrize("writer", ["coco", "youtube-vos"])
def test_same_bytes_as_the_local_run(cluster, sample_root, tmp_path, writer):
    name = "out.json" if writer == "coco" else "out"
    options = {"split": "train"}
    local = api.convert(sample_root["youtube-vos"], tmp_path / "local" / name, to=writer, reader_options=options)  # no fork
    remote = api.convert(
        sample_root["youtube-vos"], tmp_path / "ray" / name, to=writer, reader_options=options, executor=RayExecutor()
    )
    assert remote.stats.to_dict() == local.stats.to_dict()
    files = (
        sorted(p.relative_to(local.output) for p in local.output.rglob("*") if p.is_file()) if local.output.is_dir() else [None]
    )
    for relative in files:
        a = local.output / relative if relative else local.output
        b = remote.output / relative if relative else remote.output
        assert a.read_bytes() == b.read_bytes(), relative


@pytest.mark.parametrize("writer", ["parquet", "sav"])
def test_sav_mp4s_decode_in_ray_tasks_to_the_same_bytes(cluster, tmp_path, writer):
    """SA-V train: each mp4 decoded and its kept frames JPEG-encoded in a Ray task, as in local workers."""
    train = savdata.make_train(tmp_path / "sav_train", {"sav_000001": 9, "sav_000002": 6, "sav_000003": 5})
    options = {"json": True} if writer == "sav" else {}
    # in this process: forking worker processes once Ray runs here is unsafe (a child inherits Ray's locks, not its
    # threads: one such child hung the suite); worker counts give the same bytes (the conformance suites check it)
    local = api.convert(train, tmp_path / "local", to=writer, from_="sav", writer_options=options)
    remote = api.convert(train, tmp_path / "ray", to=writer, from_="sav", writer_options=options, executor=RayExecutor())
    assert remote.stats.to_dict() == local.stats.to_dict() and local.stats.to_dict()["videos"] == 3
    files = sorted(p.relative_to(local.output) for p in local.output.rglob("*") if p.is_file())
    assert any(str(f).endswith((".jpg", ".parquet")) for f in files)
    assert files == sorted(p.relative_to(remote.output) for p in remote.output.rglob("*") if p.is_file())
    for relative in files:
        assert (local.output / relative).read_bytes() == (remote.output / relative).read_bytes(), relative


def test_a_task_error_keeps_its_type_and_message(cluster, sample_copy, tmp_path):
    root = sample_copy("mose")
    victim = sorted((root / "train" / "Annotations").rglob("00002.png"))[0]
    victim.write_bytes(victim.read_bytes()[:70])
    with pytest.raises(SourceError, match=str(victim)):
        api.convert(root, tmp_path / "o.json", to="coco", reader_options={"split": "train"}, executor=RayExecutor())
    assert not (tmp_path / "o.json").exists()


def test_skips_are_recorded_the_same_way(cluster, sample_copy, tmp_path):
    root = sample_copy("mose")
    victim = sorted((root / "train" / "Annotations").rglob("00002.png"))[0]
    victim.write_bytes(b"not a png")
    summary = api.convert(
        root, tmp_path / "o.json", to="coco", reader_options={"split": "train"}, executor=RayExecutor(), on_error="skip"
    )
    assert [s["file"] for s in summary.stats.skipped] == [str(victim)]


def test_cli_executor_ray(cluster, sample_root, tmp_path, capsys):
    from converters.cli import main

    out = tmp_path / "o.json"
    code = main(["convert", str(sample_root["mose"]), "-o", str(out), "--to", "coco", "--split", "valid", "--executor", "ray"])
    assert code == 0 and out.is_file()


def test_a_cluster_address_nothing_answers_at_is_refused_at_once(capsys, sample_root, tmp_path):
    """Ray retries such an address forever in silence; vosconv names it before touching anything."""
    import socket

    from converters.cli import main
    from converters.errors import OptionError

    with socket.socket() as unused:  # a port nobody listens on: bound here, never listening
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        out = tmp_path / "out.json"
        argv = ["convert", str(sample_root["mose"]), "-o", str(out), "--split", "train", "--executor", "ray"]
        assert main([*argv, "--ray-address", f"127.0.0.1:{port}"]) == 1
        assert f"--ray-address: nothing answers at 127.0.0.1:{port}" in capsys.readouterr().err and not out.exists()
    for address in ["head", "head:port", "ray://"]:
        with pytest.raises(OptionError, match=r"is not host:port, ray://host:port or auto"):
            RayExecutor(address)


def test_auto_without_a_cluster_names_vosconvs_flags_not_rays(monkeypatch):
    """Ray's own message for ``--ray-address auto`` with no cluster running asked for its ``--address`` flag, which
    vosconv does not have; the message now says what vosconv takes. Ray's init is stood in for: a real "auto" would
    join whatever cluster another run on this machine started."""
    from converters.run import ray_executor

    def no_cluster(**options):
        raise ConnectionError("Could not find any running Ray instance. Please specify ... `--address` flag ...")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", no_cluster)
    with pytest.raises(OptionError) as error, ray_executor.ray_session("auto"):
        pass
    assert str(error.value) == (
        "--ray-address: auto: no Ray cluster is running here (ray start --head starts one); name a cluster with "
        "--ray-address HOST:PORT, or leave --ray-address out to start a local one"
    )


def test_relative_source_and_output_name_the_drivers_folder_in_tasks(cluster, sample_root, tmp_path, monkeypatch):
    """Workers of a cluster started elsewhere run in that folder: the driver's relative paths must still hold.

    The module's workers were started in the folder pytest runs in; the driver then moves to another one.
    """
    import shutil

    shutil.copytree(sample_root["mose"], tmp_path / "src")
    monkeypatch.chdir(tmp_path)
    options = {"split": "train"}
    local = api.convert("src", "local", to="davis", reader_options=options)
    remote = api.convert("src", "remote", to="davis", reader_options=options, executor=RayExecutor())
    assert remote.stats.to_dict() == local.stats.to_dict()
    files = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "remote") for p in (tmp_path / "remote").rglob("*") if p.is_file())
    for relative in files:
        assert (tmp_path / "local" / relative).read_bytes() == (tmp_path / "remote" / relative).read_bytes(), relative


def test_workers_do_not_stop_a_run_joining_a_cluster_found_on_this_machine(cluster, sample_root, tmp_path, monkeypatch):
    """Without an address Ray joins RAY_ADDRESS or a `ray start` cluster here, and refuses num_cpus for it."""
    from converters.run.executors import make_executor

    calls = []

    def init(address=None, **options):  # what ray.init does when it finds a cluster it did not start
        calls.append(options.get("num_cpus"))
        if "num_cpus" in options:
            raise ValueError("When connecting to an existing cluster, num_cpus and num_gpus must not be provided.")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", init)
    monkeypatch.setattr(ray, "shutdown", lambda: None)  # the module's cluster stays up
    summary = api.convert(
        sample_root["mose"], tmp_path / "o.json", to="coco", reader_options={"split": "train"}, executor=make_executor(2, "ray")
    )
    assert calls[:2] == [2, None] and summary.stats.to_dict()["videos"] == 3


def _exit_in_a_worker(item, driver):
    import os

    if os.getpid() != driver:
        os._exit(3)
    return item


def test_a_worker_that_dies_is_a_child_process_error_as_in_a_local_run(cluster):
    """Not Ray's WorkerCrashedError: the same type a local worker's death raises, which the pipeline handles as such."""
    import functools
    import os

    with pytest.raises(ChildProcessError, match="a Ray worker ended unexpectedly"):
        RayExecutor().run(functools.partial(_exit_in_a_worker, driver=os.getpid()), [1])


def test_a_run_of_several_pipelines_starts_ray_once(cluster, sample_root, tmp_path, monkeypatch, capsys):
    """Ray takes seconds to start: `vosconv run a b --executor ray` starts it once, with the most workers asked for."""
    from converters.cli import main

    inits, up = [], [False]

    def init(address=None, **options):  # the module's cluster does the work; this records what was asked for
        inits.append(options.get("num_cpus"))
        up[0] = True

    monkeypatch.setattr(ray, "is_initialized", lambda: up[0])
    monkeypatch.setattr(ray, "init", init)
    monkeypatch.setattr(ray, "shutdown", lambda: up.__setitem__(0, False))
    source = sample_root["mose"]
    config = tmp_path / "pipelines.yaml"
    config.write_text(
        "pipelines:\n"
        f"  a:\n    source: {source}\n    reader_options: {{split: train}}\n    output: {tmp_path / 'a.json'}\n    workers: 2\n"
        f"  b:\n    source: {source}\n    reader_options: {{split: valid}}\n    output: {tmp_path / 'b'}\n"
        "    writer: davis\n    workers: 3\n"
    )
    assert main(["run", "a", "b", "--config", str(config), "--executor", "ray"]) == 0, capsys.readouterr().err
    assert inits == [3] and not up[0]
    assert (tmp_path / "a.json").is_file() and (tmp_path / "b").is_dir()


def test_in_flight_caps_the_tasks_submitted_at_once(cluster, sample_root, tmp_path, monkeypatch):
    """On a Ray instance shared by several runs, a run of `workers` 2 keeps at most 2 tasks going."""
    waits = []
    real_wait = ray.wait

    def wait(pending, **options):
        waits.append(len(pending))
        return real_wait(pending, **options)

    monkeypatch.setattr(ray, "wait", wait)
    local = api.convert(sample_root["youtube-vos"], tmp_path / "local", to="davis", reader_options={"split": "train"})
    remote = api.convert(
        sample_root["youtube-vos"],
        tmp_path / "ray",
        to="davis",
        reader_options={"split": "train"},
        executor=RayExecutor(in_flight=2),
    )
    assert remote.stats.to_dict() == local.stats.to_dict()
    assert len(waits) >= 3 and max(waits) == 2, waits
    for bad in (0, -1, 1.5, True):
        with pytest.raises(OptionError, match=r"^in_flight: must be a whole number of at least 1"):
            RayExecutor(in_flight=bad)
