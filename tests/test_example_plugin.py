"""A third-party format runs vosconv's conformance suite: the example plugin passes, broken ones fail.

The example is what a plugin package would hold: a writer and a reader (here a gzipped-JSON
flavour of COCO that wraps the built-in pair), registered by name, and a test class that
subclasses :class:`converters.testing.suite.RoundTripSuite`. docs/design.md shows it.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from converters import registry
from converters.formats.coco.reader import CocoReader
from converters.formats.coco.writer import CocoWriter
from converters.testing import check_failed_conversion_leaves_no_output, check_round_trip
from converters.testing.suite import RoundTripSuite


# --- the example plugin (in a package: my_format/__init__.py, plus an entry point or a register() call) ---
class ExampleWriter(CocoWriter):
    """COCO RLE JSON, always gzipped, under its own name."""

    name = "example"
    suffix = ".example.json.gz"


class ExampleReader(CocoReader):
    """Reads what ExampleWriter writes."""

    name = "example"


@pytest.fixture(autouse=True, scope="module")
def registered():
    """A plugin package registers through its entry points; a test registers for its own duration."""
    saved = {kind: dict(table) for kind, table in registry._known.items()}
    registry.register("writer", "example", ExampleWriter)
    registry.register("reader", "example", ExampleReader)
    yield
    for kind, table in registry._known.items():  # restore in place: other tests list the built-ins
        table.clear()
        table.update(saved[kind])


class TestExamplePlugin(RoundTripSuite):
    writer = "example"
    output_name = "out.example.json.gz"


# --- below: the checks catch what a lossy plugin loses ---


def _edit_frames(video, edit):
    return dataclasses.replace(video, frames=tuple(edit(frame) for frame in video.frames))


class DropsVoid(ExampleWriter):
    """Forgets every frame's void (255) region."""

    name = "example-drops-void"

    def write_shard(self, videos, shard, staging, info):
        def without_void(frame):
            masks = frame.masks and dataclasses.replace(frame.masks, void=None)
            return dataclasses.replace(frame, masks=masks)

        return super().write_shard((_edit_frames(v, without_void) for v in videos), shard, staging, info)


class EmptyIsUnannotated(ExampleWriter):
    """Writes an annotated frame holding no object as if it had no annotation file."""

    name = "example-empty-is-unannotated"

    def write_shard(self, videos, shard, staging, info):
        def unannotate_empty(frame):
            empty = frame.masks is not None and not frame.masks.objects and frame.masks.void is None
            return dataclasses.replace(frame, masks=None) if empty else frame

        return super().write_shard((_edit_frames(v, unannotate_empty) for v in videos), shard, staging, info)


class LeavesPartialOutput(ExampleWriter):
    """Writes its output in place instead of inside the staging folder."""

    name = "example-leaves-partial-output"

    def write_shard(self, videos, shard, staging, info):
        (staging.parent / "half-written.json").write_text("{")
        return super().write_shard(videos, shard, staging, info)


@pytest.fixture
def broken(request):
    """The broken writer class given as the test's parameter, registered under its own name for one test."""
    cls = request.param
    registry.register("writer", cls.name, cls)
    yield cls.name
    del registry._known["writer"][cls.name]


@pytest.mark.parametrize(
    "broken, source",
    [(DropsVoid, "davis-val"), (EmptyIsUnannotated, "mose-train"), (EmptyIsUnannotated, "youtube-vos-train")],
    indirect=["broken"],
)
def test_a_lossy_plugin_fails_the_round_trip(sample_root, tmp_path, broken, source):
    with pytest.raises(AssertionError, match=r"frame \S+: (void|object masks) is None, expected"):
        check_round_trip(sample_root, source, broken, tmp_path / "out.example.json.gz", reader="example")


@pytest.mark.parametrize("broken", [LeavesPartialOutput], indirect=True)
def test_a_plugin_writing_outside_its_staging_folder_fails(sample_root, tmp_path, broken):
    with pytest.raises(AssertionError, match="left"):
        check_failed_conversion_leaves_no_output(sample_root, broken, tmp_path, output_name="out.example.json.gz")


def test_the_samples_break_every_broken_plugin_they_should(sample_root):
    """The sources the checks use hold what the broken plugins lose: void, and empty annotated frames."""
    from converters.testing import read_all

    davis, _ = read_all(sample_root["davis"], "davis", {"split": "val"})
    mose, _ = read_all(sample_root["mose"], "mose", {"split": "train"})
    assert any(frame[3] is not None for video in davis for frame in video["frames"])
    assert any(frame[2] == [] and frame[3] is None for video in mose for frame in video["frames"])


def test_importing_the_suite_needs_no_pytest_and_a_conversion_imports_no_suite(tmp_path):
    mose, out = str(tmp_path / "mose"), str(tmp_path / "out.json")
    code = (
        "import sys, converters.testing; assert 'pytest' not in sys.modules, 'pytest'\n"
        "del sys.modules['converters.testing']\n"
        "[sys.modules.pop(m) for m in list(sys.modules) if m.startswith('converters.testing')]\n"
        "import converters\n"
        f"converters.sample.write_sample({mose!r}, 'mose')\n"
        f"converters.convert({mose!r}, {out!r}, to='coco', reader_options={{'split': 'train'}})\n"
        "assert not [m for m in sys.modules if m.startswith('converters.testing')], 'converters.testing'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
