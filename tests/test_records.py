"""converters.records, and the readers that read untrusted records through it: a field of the wrong type is named."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from converters import api
from converters.errors import SourceError
from converters.formats.coco.reader import CocoReader
from converters.formats.coco.spec import FILE_HEAD, is_vosconv_coco
from converters.formats.davis.reader import DavisOptions, DavisReader
from converters.formats.sharded import manifest as shards
from converters.formats.youtube_vos.reader import YoutubeVosReader
from converters.records import Record

# ------------------------------------------------------------------ the accessors


def test_a_missing_field_is_named_with_the_file_and_the_context():
    record = Record({"videos": [{"name": "a"}]}, "m.json", context="malformed manifest")
    (video,) = record.records("videos")
    with pytest.raises(SourceError) as caught:
        video.int("frames")
    assert caught.value.path == "m.json"
    assert caught.value.cause == "malformed manifest: videos/0/frames: missing"


@pytest.mark.parametrize(
    ("value", "call", "cause"),
    [
        ({"n": "7"}, lambda r: r.int("n"), "n: expected an integer, got '7'"),
        ({"n": True}, lambda r: r.int("n"), "n: expected an integer, got True"),
        ({"n": 7.0}, lambda r: r.int("n"), "n: expected an integer, got 7.0"),
        ({"n": None}, lambda r: r.text("n"), "n: expected a string, got None"),
        ({"n": [1, "2"]}, lambda r: r.ints("n"), "n: expected a list of integers, got [1, '2']"),
        ({"n": [1]}, lambda r: r.texts("n"), "n: expected a list of strings, got [1]"),
        ({"n": {}}, lambda r: r.list("n"), "n: expected a list, got an object"),
        ({"n": 1}, lambda r: r.bool("n"), "n: expected true or false, got 1"),
        ({"n": [1]}, lambda r: r.record("n"), "n: expected an object, got [1]"),
        ({"n": [5]}, lambda r: r.records("n"), "n/0: expected an object, got 5"),
        ({"n": "abc"}, lambda r: r.int("n", lenient=True), "n: expected an integer, got 'abc' (ValueError: "),
        ({"n": float("inf")}, lambda r: r.int("n", lenient=True), "n: expected an integer, got inf (OverflowError: "),
    ],
)
def test_a_field_of_the_wrong_type_is_named(value, call, cause):
    with pytest.raises(SourceError) as caught:
        call(Record(value, "f.json"))
    assert caught.value.cause.startswith(cause)


def test_defaults_null_and_leniency():
    record = Record({"a": None, "b": "7", "c": 480.0, "d": ["x"]}, "f.json")
    assert record.int("zz", 3) == 3 and record.text("zz", None) is None
    assert record.int("a", nullable=True) is None and record.text("a", nullable=True) is None
    assert record.int("b", lenient=True) == 7 and record.int("c", lenient=True) == 480
    assert record.texts("d") == ["x"] and "d" in record and "zz" not in record


def test_a_record_that_is_not_an_object_says_what_it_is():
    with pytest.raises(SourceError, match=r"categories/2: expected an object, got 'x'"):
        Record("x", "f.json", "categories/2")


# ------------------------------------------------------------------ the readers name the field


def test_manifest_field_of_the_wrong_type_is_named(tmp_path: Path, sample_root):
    out = api.convert(sample_root["mose"], tmp_path / "pq", to="parquet", reader_options={"split": "train"}).output
    path = out / shards.MANIFEST
    value = json.loads(path.read_text())
    value["videos"][1]["frames"] = "7"
    path.write_text(json.dumps(value))
    with pytest.raises(SourceError) as caught:
        shards.load_manifest(out)
    assert caught.value.path == str(path)
    assert caught.value.cause == "malformed manifest: videos/1/frames: expected an integer, got '7'"


def test_parquet_footer_field_of_the_wrong_type_is_named(tmp_path: Path, sample_root):
    out = api.convert(sample_root["mose"], tmp_path / "pq", to="parquet", reader_options={"split": "train"}).output
    with api.open_reader(out) as reader:
        entry = reader.manifest.shards[0]
        shard = reader._shards.get(str(reader.source / entry.file))
        shard.videos[entry.videos[0]]["rows"] = "ab"
        with pytest.raises(SourceError, match=r"malformed footer record: rows: expected a list, got a string"):
            reader.list_videos()


def _foreign_coco(path: Path, video: dict | None = None, annotation: dict | None = None) -> Path:
    counts = {"size": [2, 3], "counts": [1, 2, 3]}
    data = {
        "videos": [{"id": 1, "width": 3, "height": 2, "file_names": ["v/00000.jpg"], **(video or {})}],
        "annotations": [{"id": 4, "video_id": 1, "category_id": 1, "segmentations": [counts], **(annotation or {})}],
        "categories": [{"id": 1, "name": "person"}],
    }
    path.write_text(json.dumps(data))
    return path


def _read_coco(path: Path):
    with CocoReader(path) as reader:
        return [reader.read_video(ref) for ref in reader.list_videos()]


def test_coco_annotation_field_of_the_wrong_type_is_named(tmp_path: Path):
    path = _foreign_coco(tmp_path / "a.json", annotation={"segmentations": None})
    with pytest.raises(SourceError) as caught:
        _read_coco(path)
    assert caught.value.path == str(path)
    assert caught.value.cause == "video 'v': malformed record: annotation 4: segmentations: expected a list, got null"


def test_coco_video_size_of_the_wrong_type_is_named(tmp_path: Path):
    path = _foreign_coco(tmp_path / "a.json", video={"height": [2]})
    with pytest.raises(SourceError, match=r"video 'v': malformed record: height: expected an integer, got \[2\]"):
        _read_coco(path)


def test_coco_foreign_floats_and_digit_strings_still_read(tmp_path: Path):
    """Other tools write sizes as 2.0 and ids as "1": read as int() takes them, as before."""
    path = _foreign_coco(tmp_path / "a.json", video={"id": "1", "height": 2.0, "width": 3.0}, annotation={"video_id": "1"})
    (video,) = _read_coco(path)
    assert (video.width, video.height) == (3, 2) and video.frames[0].masks.objects[0].area == 2


def test_coco_lists_that_are_not_lists_are_named(tmp_path: Path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"videos": 5, "annotations": []}))
    with pytest.raises(SourceError, match="malformed file: videos: expected a list, got 5"):
        _read_coco(path)


def test_davis_category_field_of_the_wrong_type_is_named(sample_copy):
    root = sample_copy("davis") / "DAVIS"
    (root / "categories.json").write_text('{"bear": {"id": "3"}}')
    (root / "davis_semantics.json").write_text("{}")
    with pytest.raises(SourceError) as caught:
        DavisReader(root, DavisOptions(split="train")).info()
    assert caught.value.cause == "bear/id: expected an integer, got '3'"


def test_davis_category_id_the_model_refuses_is_a_source_error(sample_copy):
    """It raised ValueError out of the reader."""
    root = sample_copy("davis") / "DAVIS"
    (root / "categories.json").write_text('{"bear": {"id": 1099511627776}}')
    (root / "davis_semantics.json").write_text("{}")
    with pytest.raises(SourceError, match="bear: category id 1099511627776 is not an integer of 32 bits") as caught:
        DavisReader(root, DavisOptions(split="train")).info()
    assert caught.value.path == str(root / "categories.json")


def test_davis_semantics_category_that_is_not_a_name_is_a_source_error(sample_copy):
    """It raised TypeError (an unhashable list looked up among the categories)."""
    root = sample_copy("davis") / "DAVIS"
    (root / "categories.json").write_text('{"bear": {"id": 1}}')
    (root / "davis_semantics.json").write_text('{"bear": {"1": ["bear"]}}')
    with pytest.raises(SourceError) as caught:
        DavisReader(root, DavisOptions(split="train")).list_videos()
    assert caught.value.path == str(root / "davis_semantics.json")
    assert caught.value.cause == "bear/1: expected a string, got ['bear']"


def test_youtube_vos_frame_names_of_the_wrong_type_are_named(sample_copy):
    split = sample_copy("youtube-vos") / "train"
    meta = json.loads((split / "meta.json").read_text())
    video = sorted(meta["videos"])[0]
    meta["videos"][video]["objects"]["1"]["frames"] = [0, 5]
    (split / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(SourceError) as caught:
        YoutubeVosReader(split).list_videos()
    assert caught.value.cause == f"videos/{video}/objects/1/frames: expected a list of strings, got [0, 5]"


# ------------------------------------------------------------------ one test of "is this vosconv's COCO file"


def test_is_vosconv_coco(tmp_path: Path, sample_root):
    plain, packed = tmp_path / "a.json", tmp_path / "a.json.gz"
    for out in (plain, packed):
        api.convert(sample_root["mose"], out, to="coco", reader_options={"split": "valid"})
    link = tmp_path / "link.json"
    link.symlink_to(plain)
    foreign = _foreign_coco(tmp_path / "f.json")
    truncated = tmp_path / "t.json.gz"
    truncated.write_bytes(packed.read_bytes()[:12])
    assert is_vosconv_coco(plain) and is_vosconv_coco(packed) and is_vosconv_coco(plain.read_bytes()[:100])
    assert not is_vosconv_coco(link)  # --overwrite replaces no link
    assert not any(map(is_vosconv_coco, (foreign, truncated, tmp_path, tmp_path / "missing.json")))
    assert not is_vosconv_coco(b'{"info":{"vosconv":{}},\n')  # the sniffer took this for vosconv's; the output check did not
    assert FILE_HEAD.startswith(b'{"info":{"description":')
    copy = tmp_path / "out.txt"  # whatever it is called
    shutil.copy(packed, copy)
    with gzip.open(copy) as unpacked:
        assert unpacked.read(len(FILE_HEAD)) == FILE_HEAD
    assert is_vosconv_coco(copy)
    assert CocoReader.sniff(copy).score == 10
