"""The plugin registry: built-ins by name without imports, register(), missing extras, entry points."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import pytest

import converters.formats.mose
from converters import registry
from converters.errors import MissingDependency, VosconvError
from converters.model import DatasetInfo, Video
from converters.writer import Shard, ShardResult, Writer

BUILTIN_READERS = {"mose", "davis", "youtube-vos", "lvos", "vost", "coco", "cocovid", "ytvis", "sav", "burst"}
BUILTIN_WRITERS = {"coco", "cocovid", "mose", "davis", "youtube-vos", "sav", "burst"}
#: Being added alongside; allowed but not required.
OPTIONAL_BUILTINS = {"parquet", "hdf5"}


class FancyWriter(Writer):
    """A plugin class living outside the package, for register() and entry points."""

    name = "fancy"

    def write_shard(self, videos: Iterable[Video], shard: Shard, staging: Path, info: DatasetInfo) -> ShardResult:
        raise NotImplementedError

    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        raise NotImplementedError


@dataclass(frozen=True)
class FakeDistribution:
    name: str


@dataclass(frozen=True)
class FakeEntryPoint:
    """What registry reads of an ``importlib.metadata.EntryPoint``: name, value, group, dist."""

    name: str
    value: str
    group: str
    dist: Any = None


@pytest.fixture(autouse=True)
def clean_registry():
    """Snapshot the registry tables and restore them in place (the read-only views keep pointing at them)."""
    saved = {kind: dict(table) for kind, table in registry._known.items()}
    saved_loaded = registry._entry_points_loaded
    yield
    for kind, table in registry._known.items():
        table.clear()
        table.update(saved[kind])
    registry._entry_points_loaded = saved_loaded


@pytest.fixture
def entry_points(monkeypatch):
    """Install fake entry points: ``entry_points(FakeEntryPoint, ...)``; the registry reads them on next use."""

    def install(*entries: FakeEntryPoint) -> None:
        def fake(*, group: str):
            return [e for e in entries if e.group == group]

        monkeypatch.setattr(metadata, "entry_points", fake)
        monkeypatch.setattr(registry, "_entry_point_files_mention_vosconv", lambda: True)
        monkeypatch.setattr(registry, "_entry_points_loaded", False)

    return install


# ------------------------------------------------------------------ listing


def test_names_list_the_builtins():
    readers, writers = set(registry.names("reader")), set(registry.names("writer"))
    assert BUILTIN_READERS <= readers <= BUILTIN_READERS | OPTIONAL_BUILTINS
    assert BUILTIN_WRITERS <= writers <= BUILTIN_WRITERS | OPTIONAL_BUILTINS
    assert registry.names("writer") == sorted(writers)


def test_specs_match_names():
    for kind in ("reader", "writer"):
        specs = registry.specs(kind)
        assert [s.name for s in specs] == registry.names(kind)
        for spec in specs:
            if spec.name in BUILTIN_READERS | BUILTIN_WRITERS:
                assert spec.origin == "vosconv"
                assert spec.target.startswith("converters.formats.")
                assert ":" in spec.target


def test_read_only_views():
    assert set(registry.readers) >= BUILTIN_READERS
    assert set(registry.writers) >= BUILTIN_WRITERS
    with pytest.raises(TypeError):
        registry.writers["x"] = registry.writers["coco"]  # type: ignore[index]


def test_builtins_load_to_their_classes():
    from converters.formats.coco.writer import CocoWriter
    from converters.formats.mose.reader import MoseReader

    assert registry.load("reader", "mose") is MoseReader
    assert registry.reader_class("mose") is MoseReader
    assert registry.writer_class("coco") is CocoWriter
    for kind in ("reader", "writer"):
        for name in BUILTIN_READERS if kind == "reader" else BUILTIN_WRITERS:
            assert registry.load(kind, name).name == name


# ------------------------------------------------------------------ lazy imports


def test_load_imports_the_module_only_then(monkeypatch):
    """Listing costs no import; load() imports the plugin's module."""
    module = "converters.formats.mose.reader"
    monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.delattr(converters.formats.mose, "reader", raising=False)  # restored with sys.modules afterwards
    registry.names("reader")
    registry.specs("reader")
    assert module not in sys.modules
    cls = registry.load("reader", "mose")
    assert module in sys.modules
    assert cls.__module__ == module


def test_listing_in_a_fresh_interpreter_imports_no_plugin():
    code = (
        "import sys\n"
        "from converters import registry\n"
        "registry.names('reader'); registry.specs('writer')\n"
        "plugins = [m for m in sys.modules if m.startswith('converters.formats.')]\n"
        "print(sorted(m for m in plugins if not m.endswith('.base')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1])
    assert done.stdout.strip() == "[]"


# ------------------------------------------------------------------ errors


def test_unknown_name_lists_registered_ones():
    with pytest.raises(VosconvError) as caught:
        registry.load("writer", "gif")
    message = str(caught.value)
    assert "no writer named 'gif'" in message
    for name in BUILTIN_WRITERS:
        assert name in message


def test_unknown_reader_is_not_a_missing_dependency():
    with pytest.raises(VosconvError) as caught:
        registry.reader_class("nope")
    assert not isinstance(caught.value, MissingDependency)
    listed = str(caught.value).split("registered readers: ", 1)[1].split(", ")
    assert listed == registry.names("reader")


def test_missing_module_names_the_extra():
    registry.register("writer", "arrowish", "vosconv_test_no_such_module.writer:ArrowWriter", extra="parquet")
    with pytest.raises(MissingDependency) as caught:
        registry.load("writer", "arrowish")
    assert isinstance(caught.value, ImportError)
    assert isinstance(caught.value, VosconvError)
    message = str(caught.value)
    assert "pip install 'vosconv[parquet]'" in message
    assert "'arrowish'" in message
    assert "vosconv_test_no_such_module" in message


def test_missing_module_without_extra():
    registry.register("reader", "orphan", "vosconv_test_no_such_module:Reader")
    with pytest.raises(MissingDependency, match="install the package providing vosconv_test_no_such_module"):
        registry.load("reader", "orphan")


def test_missing_dependency_inside_an_existing_module_names_the_dependency(tmp_path, monkeypatch):
    """The plugin module exists but imports something absent: the message names that, and the extra."""
    (tmp_path / "vosconv_test_plugin_needing_x.py").write_text("import vosconv_test_absent_dependency\n")
    monkeypatch.syspath_prepend(tmp_path)
    registry.register("writer", "needs-x", "vosconv_test_plugin_needing_x:W", extra="x")
    with pytest.raises(MissingDependency) as caught:
        registry.load("writer", "needs-x")
    assert "vosconv_test_absent_dependency" in str(caught.value)
    assert "pip install 'vosconv[x]'" in str(caught.value)


# ------------------------------------------------------------------ register()


def test_register_a_class_and_load_it():
    registry.register("writer", "fancy", FancyWriter)
    spec = registry.writers["fancy"]
    assert spec.target == f"{__name__}:FancyWriter"
    assert spec.origin == "register()"
    assert "fancy" in registry.names("writer")
    assert registry.load("writer", "fancy") is FancyWriter


def test_register_a_target_string():
    registry.register("writer", "fancy", f"{__name__}:FancyWriter", extra="fancy")
    assert registry.writers["fancy"].extra == "fancy"
    assert registry.writer_class("fancy") is FancyWriter


def test_register_refuses_a_duplicate():
    registry.register("writer", "fancy", FancyWriter)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("writer", "fancy", "elsewhere:Other")
    with pytest.raises(ValueError, match="'coco' is already registered"):
        registry.register("writer", "coco", FancyWriter)
    assert registry.load("writer", "fancy") is FancyWriter
    assert registry.writers["coco"].target == "converters.formats.coco.writer:CocoWriter"


def test_register_clobber_replaces():
    registry.register("writer", "coco", FancyWriter, clobber=True)
    assert registry.load("writer", "coco") is FancyWriter


def test_fixture_restores_the_tables():
    """Guards the autouse fixture: nothing registered by the tests above is still there."""
    assert "fancy" not in registry.writers
    assert registry.writers["coco"].target == "converters.formats.coco.writer:CocoWriter"


# ------------------------------------------------------------------ entry points


def test_entry_point_is_listed_with_its_origin_and_loadable(entry_points):
    entry_points(FakeEntryPoint("fancy", f"{__name__}:FancyWriter", "vosconv.writers", FakeDistribution("vosconv-fancy")))
    assert "fancy" in registry.names("writer")
    assert "fancy" not in registry.names("reader")
    (spec,) = [s for s in registry.specs("writer") if s.name == "fancy"]
    assert spec.origin == "vosconv-fancy"
    assert spec.target == f"{__name__}:FancyWriter"
    assert registry.load("writer", "fancy") is FancyWriter


def test_entry_point_without_distribution(entry_points):
    entry_points(FakeEntryPoint("fancy", f"{__name__}:FancyWriter", "vosconv.writers"))
    assert registry.writers.get("fancy") is None  # not read before the first use
    assert registry.writer_class("fancy") is FancyWriter
    assert registry.writers["fancy"].origin == "entry point"


def test_real_entry_point_objects_work(entry_points):
    from importlib.metadata import EntryPoint

    entry_points(EntryPoint("fancy", f"{__name__}:FancyWriter", "vosconv.writers"))
    assert registry.writer_class("fancy") is FancyWriter


def test_entry_point_cannot_replace_a_builtin(entry_points):
    from converters.formats.coco.writer import CocoWriter

    entry_points(
        FakeEntryPoint("coco", f"{__name__}:FancyWriter", "vosconv.writers", FakeDistribution("evil")),
        FakeEntryPoint("mose", f"{__name__}:FancyWriter", "vosconv.readers", FakeDistribution("evil")),
    )
    assert registry.load("writer", "coco") is CocoWriter
    assert registry.writers["coco"].origin == "vosconv"
    assert registry.load("reader", "mose").__name__ == "MoseReader"


def test_entry_points_are_read_once(entry_points, monkeypatch):
    calls = []
    entry_points(FakeEntryPoint("fancy", f"{__name__}:FancyWriter", "vosconv.writers"))
    real = metadata.entry_points

    def counting(*, group: str):
        calls.append(group)
        return real(group=group)

    monkeypatch.setattr(metadata, "entry_points", counting)
    registry.names("writer")
    registry.names("reader")
    registry.load("writer", "fancy")
    assert sorted(calls) == ["vosconv.readers", "vosconv.writers"]


# ------------------------------------------------------------------ the table is the classes' own facts


@pytest.mark.parametrize("kind", ["reader", "writer"])
def test_the_table_says_what_each_builtin_class_says(kind):
    """Descriptions, options (name, type, default) and suffixes are kept as plain data: they must equal the classes'."""
    for spec in registry.specs(kind):
        if spec.origin != "vosconv":
            continue
        cls = registry.load(kind, spec.name)
        own = registry.describe(spec.name, cls)
        assert spec.description == own.description, spec.name
        assert spec.options is not None, spec.name
        declared = [(o.name, o.type, o.default) for o in own.options]
        assert [(o.name, o.type, o.default) for o in spec.options] == declared, spec.name
        for option in spec.options:
            assert option.help and "\n" not in option.help, (spec.name, option.name)
        assert set(own.suffixes) <= set(spec.suffixes), spec.name


def test_option_types_are_written_for_people():
    from converters.options import type_text

    assert [type_text(t) for t in (int, bool, str, int | None, Literal["rle", "dense"])] == [
        "int",
        "bool",
        "str",
        "int or none",
        "rle|dense",
    ]


# ------------------------------------------------------------------ names as people type them


@pytest.mark.parametrize(
    ("kind", "typed", "name"),
    [
        ("writer", "COCO", "coco"),
        ("reader", "Parquet", "parquet"),
        ("reader", "YouTube_VOS", "youtube-vos"),
        ("writer", "HDF5", "hdf5"),
    ],
)
def test_names_are_matched_without_regard_to_case(kind, typed, name):
    assert registry.resolve(kind, typed) == name
    assert registry.load(kind, typed).name == name


@pytest.mark.parametrize(
    ("typed", "suggested"), [("cocoo", "'coco' or 'cocovid'"), ("parquett", "'parquet'"), ("youtubevos", "'youtube-vos'")]
)
def test_an_unknown_name_gets_the_nearest(typed, suggested):
    with pytest.raises(VosconvError) as caught:
        registry.load("writer", typed)
    assert f"no writer named {typed!r}; did you mean {suggested}?" in str(caught.value)


def test_a_name_far_from_all_gets_no_suggestion():
    with pytest.raises(VosconvError) as caught:
        registry.load("writer", "gif")
    assert "did you mean" not in str(caught.value)


@pytest.mark.parametrize(
    ("output", "writer"),
    [
        ("out.json", "coco"),
        ("out.JSON.gz", "coco"),
        ("data/mose-train.parquet", "parquet"),
        ("x.parquet/", "parquet"),
        ("x.h5", "hdf5"),
        ("x.hdf5", "hdf5"),
        ("out", None),
        ("out.txt", None),
    ],
)
def test_the_writer_an_output_name_implies(output, writer):
    assert registry.writer_for_output(output) == writer


# ------------------------------------------------------------------ entry points without importlib.metadata


def test_an_installed_distribution_declaring_a_plugin_is_found(tmp_path, monkeypatch):
    """The quick scan of entry_points.txt files lets the real importlib.metadata read a plugin that is there."""
    dist = tmp_path / "vosconv_fancy-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: vosconv-fancy\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[vosconv.writers]\nfancy = {__name__}:FancyWriter\n")
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    assert registry._entry_point_files_mention_vosconv()
    assert "fancy" in registry.names("writer")
    assert registry.writers["fancy"].origin == "vosconv-fancy"
    assert registry.writer_class("fancy") is FancyWriter


def test_without_a_vosconv_entry_point_importlib_metadata_is_not_imported():
    code = (
        "import sys\n"
        "from converters import registry\n"
        "assert not registry._entry_point_files_mention_vosconv()\n"
        "registry.names('reader')\n"
        "print('importlib.metadata' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    if done.returncode and "AssertionError" in done.stderr:
        pytest.skip("an installed distribution declares a vosconv entry point")
    assert done.stdout.strip() == "False", done.stderr
