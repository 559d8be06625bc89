"""The public API: format detection, opening readers and writers by name, reading videos."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import converters
from converters import api, registry
from converters.errors import DetectionError, MissingDependency, OptionError, SourceError, VosconvError
from converters.formats.coco.writer import CocoWriter
from converters.model import DatasetInfo, Video
from converters.reader import Detection, Reader, VideoRef
from converters.registry import PluginSpec

LAYOUTS = ("mose", "davis", "youtube-vos")


class GreedyReader(Reader):
    """Claims every source, to make detection ambiguous."""

    name = "greedy"

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        return Detection(10, "takes anything")

    def info(self) -> DatasetInfo:
        return DatasetInfo("greedy")

    def list_videos(self) -> list[VideoRef]:
        return []

    def read_video(self, ref: VideoRef) -> Video:
        raise NotImplementedError


@pytest.fixture(scope="module")
def coco_json(sample_root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("coco") / "mose-train.json"
    api.convert(sample_root["mose"], out, to="coco", from_="mose", reader_options={"split": "train"})
    return out


def add_reader(monkeypatch, name: str, target: str, extra: str | None = None) -> None:
    registry.names("reader")  # read entry points first, so they cannot undo this
    monkeypatch.setitem(registry._known["reader"], name, PluginSpec(name, target, extra, origin="test"))


def video_folders(images: Path) -> list[str]:
    return sorted(p.name for p in images.iterdir() if p.is_dir() and not p.name.startswith("."))


# ------------------------------------------------------------------ detect


@pytest.mark.parametrize("layout", LAYOUTS)
def test_detect_sample_layouts(sample_root, layout):
    assert api.detect(sample_root[layout]) == layout
    assert converters.detect(str(sample_root[layout])) == layout


def test_detect_a_split_folder(sample_root):
    assert api.detect(sample_root["mose"] / "train") == "mose"
    assert api.detect(sample_root["youtube-vos"] / "valid") == "youtube-vos"
    assert api.detect(sample_root["davis"] / "DAVIS") == "davis"


@pytest.mark.parametrize("layout", ["mose", "youtube-vos"])
def test_a_split_folder_given_directly_records_the_same_output(sample_root, layout, tmp_path):
    """``MOSE/train`` and ``MOSE/ --split train`` are the same input: same split, same bytes out."""
    split = "train" if layout == "mose" else "valid"
    with api.open_reader(sample_root[layout] / split, layout) as direct:
        assert direct.info().split == split
    api.convert(sample_root[layout] / split, tmp_path / "direct.json", to="coco", from_=layout)
    api.convert(sample_root[layout], tmp_path / "chosen.json", to="coco", from_=layout, reader_options={"split": split})
    direct_bytes, chosen_bytes = (tmp_path / "direct.json").read_bytes(), (tmp_path / "chosen.json").read_bytes()
    assert f'"split":"{split}"'.encode() in direct_bytes
    assert direct_bytes == chosen_bytes


def test_detect_coco_json(coco_json, tmp_path):
    assert api.detect(coco_json) == "coco"
    gz = tmp_path / "x.json.gz"
    gz.write_bytes(gzip.compress(coco_json.read_bytes()))
    assert api.detect(gz) == "coco"


def test_a_vosconv_coco_file_of_any_name_is_detected_and_read(coco_json, tmp_path):
    """``-o out.txt --to coco`` writes COCO JSON under that name; reading it back needs no --from."""
    plain, packed, misnamed = tmp_path / "out.txt", tmp_path / "out.bin", tmp_path / "really-plain.json.gz"
    plain.write_bytes(coco_json.read_bytes())
    packed.write_bytes(gzip.compress(coco_json.read_bytes()))
    misnamed.write_bytes(coco_json.read_bytes())
    expected = list(api.read_videos(coco_json))
    for path in (plain, packed, misnamed):
        assert api.detect(path) == "coco"
        assert list(api.read_videos(path)) == expected
    other = tmp_path / "notes.txt"
    other.write_text('{"videos": []}')  # JSON, but not vosconv's and not named .json: not claimed
    with pytest.raises(DetectionError):
        api.detect(other)


def test_detect_any_json_file_as_coco(tmp_path):
    other = tmp_path / "instances.json"
    other.write_text(json.dumps({"images": [], "annotations": []}))
    assert api.detect(other) == "coco"


def test_detect_missing_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(SourceError) as caught:
        api.detect(missing)
    assert caught.value.path == str(missing)
    assert "no such file or folder" in str(caught.value)


def test_detect_empty_folder_says_what_each_reader_looked_for(tmp_path):
    with pytest.raises(DetectionError) as caught:
        api.detect(tmp_path)
    message = str(caught.value)
    assert f"cannot tell the format of {tmp_path}" in message
    assert "--from" in message
    for name in registry.names("reader"):
        assert f"{name}: " in message
    for looked_for in ("JPEGImages/ and Annotations/", "ImageSets/", "meta.json", ".json or .json.gz"):
        assert looked_for in message


def test_detect_other_file(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(DetectionError, match=r"not a \.json"):
        api.detect(text)


def test_detect_ambiguous_source(sample_root, monkeypatch):
    add_reader(monkeypatch, "greedy", f"{__name__}:GreedyReader")
    with pytest.raises(DetectionError, match=r"looks like greedy and mose .*name one with --from"):
        api.detect(sample_root["mose"])


def test_detect_survives_a_reader_with_a_missing_dependency(sample_root, tmp_path, monkeypatch):
    add_reader(monkeypatch, "arrowish", "vosconv_test_no_such_module:Reader", extra="parquet")
    assert api.detect(sample_root["mose"]) == "mose"
    with pytest.raises(DetectionError) as caught:
        api.detect(tmp_path)
    assert "arrowish: " in str(caught.value)
    assert "pip install 'vosconv[parquet]'" in str(caught.value)


# ------------------------------------------------------------------ open_reader / open_writer


def test_open_reader_detects_and_builds_options(sample_root):
    with api.open_reader(sample_root["mose"], options={"split": "valid"}) as reader:
        assert reader.name == "mose"
        assert reader.options.split == "valid"
        assert reader.info().split == "valid"


def test_open_reader_takes_text_options(sample_root):
    with api.open_reader(sample_root["davis"], "davis", {"split": "val", "year": "none"}) as reader:
        assert reader.options.year is None


@pytest.mark.parametrize(
    ("options", "where"),
    [({"split": 3}, "reader options.split"), ({"splt": "train"}, "reader options.splt")],
)
def test_open_reader_bad_options(sample_root, options, where):
    with pytest.raises(OptionError) as caught:
        api.open_reader(sample_root["mose"], "mose", options)
    assert caught.value.where == where


def test_open_reader_where_is_passed_on(sample_root):
    with pytest.raises(OptionError, match=r"^--reader-option\.split: expected a string"):
        api.open_reader(sample_root["mose"], "mose", {"split": 3}, where="--reader-option")


def test_open_reader_unknown_format(sample_root):
    with pytest.raises(VosconvError, match="no reader named 'kitti'"):
        api.open_reader(sample_root["mose"], "kitti")


def test_open_writer():
    writer = api.open_writer("coco", {"compresslevel": "9"})
    assert isinstance(writer, CocoWriter)
    assert writer.options.compresslevel == 9
    assert api.open_writer("coco").options.compresslevel is None  # gzip level 6 for a .json.gz output


@pytest.mark.parametrize(
    ("options", "where"),
    [({"compresslevel": "high"}, "writer options.compresslevel"), ({"level": 9}, "writer options.level")],
)
def test_open_writer_bad_options(options, where):
    with pytest.raises(OptionError) as caught:
        api.open_writer("coco", options)
    assert caught.value.where == where


def test_open_writer_missing_dependency(monkeypatch):
    registry.names("writer")
    spec = PluginSpec("arrowish", "vosconv_test_no_such_module:W", "parquet", origin="test")
    monkeypatch.setitem(registry._known["writer"], "arrowish", spec)
    with pytest.raises(MissingDependency, match=r"vosconv\[parquet\]"):
        api.open_writer("arrowish")


def test_convert_checks_writer_options_before_writing(sample_root, tmp_path):
    out = tmp_path / "out.json"
    with pytest.raises(OptionError, match="compresslevel"):
        api.convert(sample_root["mose"], out, to="coco", writer_options={"compresslevel": "x"}, reader_options={"split": "train"})
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ read_videos


@pytest.mark.parametrize(("layout", "split"), [("mose", "train"), ("mose", "valid"), ("youtube-vos", "train")])
def test_read_videos_in_name_order(sample_root, layout, split):
    videos = api.read_videos(sample_root[layout], layout, split=split)
    assert isinstance(videos, Iterator) and not isinstance(videos, list)  # one video at a time
    videos = list(videos)
    assert all(isinstance(v, Video) for v in videos)
    names = [v.name for v in videos]
    assert names == video_folders(sample_root[layout] / split / "JPEGImages")
    assert names == sorted(names)
    assert len(names) >= 2


def test_read_videos_detects_the_format(sample_root):
    names = [v.name for v in converters.read_videos(sample_root["youtube-vos"], split="valid")]
    assert names == video_folders(sample_root["youtube-vos"] / "valid" / "JPEGImages")


def test_read_videos_from_coco_json(sample_root, coco_json):
    from_json = list(api.read_videos(coco_json))
    from_folders = list(api.read_videos(sample_root["mose"], "mose", split="train"))
    assert [v.name for v in from_json] == [v.name for v in from_folders]
    assert [v.annotated_indices for v in from_json] == [v.annotated_indices for v in from_folders]


def test_read_videos_bad_option(sample_root):
    with pytest.raises(OptionError, match="split"):
        next(api.read_videos(sample_root["mose"], "mose", split=["train"]))


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_convert_refuses_a_worker_count_below_one_before_writing(sample_root, tmp_path, workers):
    with pytest.raises(OptionError, match="workers: must be a whole number of at least 1"):
        api.convert(sample_root["mose"], tmp_path / "o.json", to="coco", reader_options={"split": "train"}, workers=workers)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("on_error", ["ignore", "Skip", None])
def test_convert_refuses_an_on_error_it_does_not_know_before_writing(sample_root, tmp_path, on_error):
    """The command line offers fail and skip only; from Python anything else ran as "fail" without a word."""
    out = tmp_path / "out.json"
    with pytest.raises(OptionError, match=rf"on_error: 'fail' or 'skip', got {on_error!r}"):
        api.convert(sample_root["mose"], out, to="coco", reader_options={"split": "train"}, on_error=on_error)
    assert not out.exists()


def test_a_numpy_worker_count_is_a_worker_count(sample_root, tmp_path):
    import numpy as np

    summary = api.convert(
        sample_root["mose"], tmp_path / "o.json", to="coco", reader_options={"split": "train"}, workers=np.int64(2)
    )
    assert summary.output.is_file()


def test_a_split_folder_given_as_dot_records_its_split(sample_root, monkeypatch):
    monkeypatch.chdir(sample_root["mose"] / "train")
    with api.open_reader(".", "mose") as reader:
        assert reader.info().split == "train"
