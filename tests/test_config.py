"""pipelines.yaml: validated at load time against each plugin's options, errors naming the YAML path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from converters import config
from converters.errors import OptionError, VosconvError
from converters.sample import LAYOUTS

REPO = Path(__file__).resolve().parents[1]

MINIMAL = """
pipelines:
  p:
    source: data/src
"""


def write(folder: Path, text: str, name: str = "pipelines.yaml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def load_error(folder: Path, text: str) -> OptionError:
    with pytest.raises(OptionError) as caught:
        config.load(write(folder, text))
    return caught.value


# ------------------------------------------------------------------ the repository's file


def test_repo_pipelines_yaml_loads():
    loaded = config.load(REPO / "pipelines.yaml")
    assert loaded.path == REPO / "pipelines.yaml"
    assert loaded.default == ["mose-train"]
    assert {"mose-train", "davis-2017-val", "youtube-vos-train"} <= set(loaded.pipelines)
    mose = loaded.pipelines["mose-train"]
    assert mose.name == "mose-train"
    assert mose.source == REPO / "data" / "MOSE"
    assert mose.sample == "mose"
    assert mose.reader == "mose"
    assert mose.reader_options == {"split": "train"}
    assert mose.writer == "coco"
    assert mose.writer_options == {}
    assert mose.output == REPO / "out" / "mose-train"
    assert mose.overwrite is True
    assert mose.workers == 1
    assert mose.where == "pipelines.yaml: pipelines.mose-train"
    assert loaded.sample_dir == REPO / "data" / "sample"
    for pipeline in loaded.pipelines.values():
        assert pipeline.sample in LAYOUTS
        assert pipeline.default_source  # so the bundled sample stands in for each on a fresh clone


# ------------------------------------------------------------------ a valid file


def test_minimal_file_gets_defaults(tmp_path):
    loaded = config.load(write(tmp_path, MINIMAL))
    assert loaded.default == ["p"]
    (pipeline,) = loaded.pipelines.values()
    assert (pipeline.reader, pipeline.reader_options, pipeline.sample) == (None, {}, None)
    assert (pipeline.writer, pipeline.writer_options) == ("coco", {})
    assert (pipeline.workers, pipeline.overwrite) == (1, False)


def test_relative_paths_resolve_against_the_yaml_folder(tmp_path, monkeypatch):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = write(
        tmp_path / "project",
        """
        output_dir: build/out
        pipelines:
          a: {source: data/a}
          b: {source: ../shared/b, output: results/b-converted}
          c: {source: /abs/c}
        """,
    )
    loaded = config.load(path)
    folder = tmp_path / "project"
    a, b, c = (loaded.pipelines[n] for n in "abc")
    assert a.source == folder / "data" / "a"
    assert a.output == folder / "build" / "out" / "a"
    assert b.source == folder / ".." / "shared" / "b"
    assert b.output == folder / "results" / "b-converted"
    assert c.source == Path("/abs/c")
    assert c.output == folder / "build" / "out" / "c"


def test_full_pipeline_entry(tmp_path):
    loaded = config.load(
        write(
            tmp_path,
            """
            default: [b, a]
            pipelines:
              a:
                source: x
                sample: davis
                reader: davis
                reader_options: {split: val, resolution: Full-Resolution}
                writer: davis
                writer_options:
                  coco: {compresslevel: 1}
                  davis: {year: "2016"}
                workers: 4
                overwrite: true
              b: {source: y, writer: youtube-vos}
            """,
        )
    )
    assert loaded.default == ["b", "a"]
    a = loaded.pipelines["a"]
    assert a.reader_options == {"split": "val", "resolution": "Full-Resolution"}
    assert a.writer_options == {"coco": {"compresslevel": 1}, "davis": {"year": "2016"}}
    assert (a.workers, a.overwrite, a.writer) == (4, True, "davis")
    assert loaded.pipelines["b"].writer == "youtube-vos"


@pytest.mark.parametrize(
    ("sample", "source", "stands_in"),
    [
        ("mose", "data/MOSE", True),
        ("mose", "./data/MOSE/", True),  # the same path, spelt otherwise
        ("davis", "data/DAVIS", True),
        ("youtube-vos", "data/YouTube-VOS", True),
        ("mose", "data/MOES", False),  # a typo
        ("mose", "data/mose", False),
        ("mose", "data/DAVIS", False),  # another layout's default
        ("mose", "/datasets/MOSE", False),  # a path of one's own
        (None, "data/MOSE", False),  # no sample named
    ],
)
def test_the_sample_stands_in_only_for_the_shipped_default_source(tmp_path, sample, source, stands_in):
    text = f"pipelines:\n  p:\n    source: {source}\n" + (f"    sample: {sample}\n" if sample else "")
    assert config.load(write(tmp_path, text)).pipelines["p"].default_source is stands_in


def test_default_as_a_single_name(tmp_path):
    loaded = config.load(write(tmp_path, "default: q\npipelines:\n  p: {source: a}\n  q: {source: b}\n"))
    assert loaded.default == ["q"]


# ------------------------------------------------------------------ errors name the YAML path


def test_unknown_top_level_key(tmp_path):
    error = load_error(tmp_path, MINIMAL + "outputdir: x\n")
    assert error.where == "pipelines.yaml: outputdir"
    assert "unknown key (allowed: default, output_dir, pipelines)" in str(error)


def test_unknown_pipeline_key(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    worker: 2\n")
    assert error.where == "pipelines.yaml: pipelines.p.worker"
    assert "unknown key" in str(error)
    assert "workers" in str(error)


def test_missing_source(tmp_path):
    error = load_error(tmp_path, "pipelines:\n  p: {reader: mose}\n")
    assert error.where == "pipelines.yaml: pipelines.p"
    assert "missing 'source'" in str(error)


def test_source_must_be_text(tmp_path):
    error = load_error(tmp_path, "pipelines:\n  p: {source: [a, b]}\n")
    assert error.where == "pipelines.yaml: pipelines.p.source"


def test_unknown_reader(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    reader: mosev3\n")
    assert error.where == "pipelines.yaml: pipelines.p.reader"
    assert "unknown reader 'mosev3'" in str(error)
    assert "mose" in str(error).split("registered:")[1]


def test_unknown_writer(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    writer: gif\n")
    assert error.where == "pipelines.yaml: pipelines.p.writer"
    assert "unknown writer 'gif'" in str(error)


def test_a_misspelt_plugin_name_gets_the_name_meant(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    reader: moes\n")
    assert "unknown reader 'moes'; did you mean 'mose'" in str(error)


def test_unknown_writer_under_writer_options(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    writer_options: {gif: {}}\n")
    assert error.where == "pipelines.yaml: pipelines.p.writer_options.gif"


def test_bad_reader_option_value(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    reader: mose\n    reader_options: {split: 3}\n")
    assert error.where == "pipelines.yaml: pipelines.p.reader_options.split"
    assert str(error).startswith("pipelines.yaml: pipelines.p.reader_options.split: expected a string, got 3")


def test_unknown_reader_option(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    reader: mose\n    reader_options: {resolution: 480p}\n")
    assert error.where == "pipelines.yaml: pipelines.p.reader_options.resolution"
    assert "allowed: images, split" in str(error)


def test_bad_writer_option_value(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    writer_options:\n      coco: {compresslevel: max}\n")
    assert error.where == "pipelines.yaml: pipelines.p.writer_options.coco.compresslevel"
    assert "expected int, got 'max'" in str(error)


def test_writer_options_of_another_format_are_checked_too(tmp_path):
    """`vosconv run --format davis` may pick them later: they are validated now."""
    error = load_error(tmp_path, MINIMAL + "    writer: coco\n    writer_options:\n      davis: {split: 2017}\n")
    assert error.where == "pipelines.yaml: pipelines.p.writer_options.davis.split"


def test_writer_options_must_be_a_mapping(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    writer_options:\n      coco: [6]\n")
    assert error.where == "pipelines.yaml: pipelines.p.writer_options.coco"


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_workers_below_one(tmp_path, workers):
    error = load_error(tmp_path, MINIMAL + f"    workers: {workers}\n")
    assert error.where == "pipelines.yaml: pipelines.p.workers"
    assert "at least 1" in str(error)


@pytest.mark.parametrize("workers", ["two", "1.5", "true"])
def test_workers_must_be_an_integer(tmp_path, workers):
    error = load_error(tmp_path, MINIMAL + f"    workers: {workers}\n")
    assert error.where == "pipelines.yaml: pipelines.p.workers"


def test_overwrite_must_be_a_boolean(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    overwrite: 1\n")
    assert error.where == "pipelines.yaml: pipelines.p.overwrite"


@pytest.mark.parametrize(
    ("field", "says"),
    [
        ("overwrite: 1", "expected true or false, got 1"),
        ("workers: two", "expected an integer, got 'two'"),
        ("reader_options: [split]", "expected a mapping (key: value), got ['split']"),
        ("output: 3", "expected text, got 3"),
    ],
)
def test_a_field_of_the_wrong_kind_is_named_in_words(tmp_path, field, says):
    assert says in str(load_error(tmp_path, MINIMAL + f"    {field}\n"))


def test_output_must_be_text(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    output: 3\n")
    assert error.where == "pipelines.yaml: pipelines.p.output"


def test_default_naming_an_undefined_pipeline(tmp_path):
    error = load_error(tmp_path, "default: [p, nope]\n" + MINIMAL)
    assert error.where == "pipelines.yaml: default"
    assert "no pipeline named 'nope'; defined: p" in str(error)


def test_default_naming_a_pipeline_misspelt_suggests_the_close_name(tmp_path):
    error = load_error(tmp_path, "default: pp\n" + MINIMAL)
    assert error.where == "pipelines.yaml: default"
    assert "no pipeline named 'pp'; did you mean 'p'? defined: p" in str(error)


def test_invalid_yaml_syntax(tmp_path):
    error = load_error(tmp_path, "pipelines:\n  p: {source: a\n")
    assert error.where == "pipelines.yaml"
    assert "not valid YAML" in str(error)


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_not_a_mapping(tmp_path, text):
    error = load_error(tmp_path, text)
    assert error.where == "pipelines.yaml"


def test_pipelines_must_be_a_mapping(tmp_path):
    error = load_error(tmp_path, "pipelines: [a]\n")
    assert error.where == "pipelines.yaml: pipelines"


def test_pipeline_entry_must_be_a_mapping(tmp_path):
    error = load_error(tmp_path, "pipelines:\n  p: data/src\n")
    assert error.where == "pipelines.yaml: pipelines.p"


def test_sample_layout_not_in_layouts(tmp_path):
    error = load_error(tmp_path, MINIMAL + "    sample: kitti\n")
    assert error.where == "pipelines.yaml: pipelines.p.sample"
    assert all(layout in str(error) for layout in LAYOUTS)


def test_errors_use_the_file_name(tmp_path):
    with pytest.raises(OptionError, match=r"^mine\.yml: pipelines\.p\.workers: "):
        config.load(write(tmp_path, MINIMAL + "    workers: 0\n", name="mine.yml"))


def test_missing_file(tmp_path):
    with pytest.raises(VosconvError, match="no such pipelines file") as error:
        config.load(tmp_path / "absent.yaml")
    assert "--config FILE" in str(error.value)  # what to do next: run where the file is, or name it


@pytest.mark.parametrize("output", ["''", "/", ".", "..", "a/.."])
def test_output_must_end_in_a_name(tmp_path, output):
    error = load_error(tmp_path, MINIMAL + f"    output: {output}\n")
    assert error.where == "pipelines.yaml: pipelines.p.output"
    assert "file or folder name" in str(error)


@pytest.mark.parametrize("default", ["[[p]]", "[{p: 1}]", "[1]", "3"])
def test_default_entries_must_be_pipeline_names(tmp_path, default):
    error = load_error(tmp_path, f"default: {default}\n" + MINIMAL)
    assert error.where == "pipelines.yaml: default"


@pytest.mark.parametrize("name", ["1", "null", "''", "true"])
def test_pipeline_names_must_be_text(tmp_path, name):
    error = load_error(tmp_path, f"pipelines:\n  {name}:\n    source: data/src\n")
    assert error.where == "pipelines.yaml: pipelines"
    assert "pipeline names must be non-empty strings" in str(error)


def test_a_folder_is_not_a_pipelines_file(tmp_path):
    (tmp_path / "pipelines.yaml").mkdir()
    with pytest.raises(VosconvError, match="cannot read the pipelines file"):
        config.load(tmp_path / "pipelines.yaml")


def test_a_file_that_is_not_utf8(tmp_path):
    (tmp_path / "pipelines.yaml").write_bytes(b'pipelines: {a: {source: "\xe9"}}\n')
    error = load_error_of(tmp_path / "pipelines.yaml")
    assert error.where == "pipelines.yaml" and "not UTF-8" in str(error) and "0xe9" in str(error)


def test_nesting_too_deep_for_the_parser(tmp_path):
    (tmp_path / "pipelines.yaml").write_text("pipelines: " + "[" * 20_000 + "]" * 20_000 + "\n")
    error = load_error_of(tmp_path / "pipelines.yaml")
    assert error.where == "pipelines.yaml"


def load_error_of(path: Path) -> OptionError:
    with pytest.raises(OptionError) as caught:
        config.load(path)
    return caught.value


def test_a_trailing_slash_names_the_last_folder(tmp_path):
    loaded = config.load(write(tmp_path, MINIMAL + "    output: o/b/\n"))
    assert loaded.pipelines["p"].output == tmp_path / "o" / "b"


@pytest.mark.parametrize("name", ["/", ".", "..", "a/b"])
def test_a_pipeline_name_that_is_not_a_file_name_needs_an_output(tmp_path, name):
    text = f"pipelines:\n  '{name}':\n    source: data/src\n"
    error = load_error(tmp_path, text)
    assert "the name is the output's file name" in str(error)
    assert config.load(write(tmp_path, text + "    output: out/x\n")).pipelines[name].output == tmp_path / "out" / "x"
