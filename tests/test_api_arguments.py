"""The Python API given what a notebook gives it: every wrong type is an OptionError naming the argument, before
anything is read or written, never a TypeError or AttributeError from deep inside; Paths and numpy values work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import converters
from converters.errors import OptionError


@pytest.fixture(scope="module")
def mose_train(sample_root) -> Path:
    return sample_root["mose"] / "train"


@pytest.mark.parametrize(
    "call",
    [
        lambda src, out: converters.detect(None),
        lambda src, out: converters.detect([src]),
        lambda src, out: converters.detect(bytes(src)),
        lambda src, out: converters.open_reader(3),
        lambda src, out: converters.convert([src], out, to="coco"),
        lambda src, out: converters.convert(None, out, to="coco"),
        lambda src, out: converters.stats([src]),
        lambda src, out: converters.preview(None, out),
        lambda src, out: next(converters.read_videos([src])),
    ],
    ids=[
        "detect-none",
        "detect-list",
        "detect-bytes",
        "open_reader-int",
        "convert-list",
        "convert-none",
        "stats-list",
        "preview-none",
        "read_videos-list",
    ],
)
def test_a_source_that_is_no_path_names_the_argument(mose_train, tmp_path, call):
    with pytest.raises(OptionError) as caught:
        call(mose_train, tmp_path / "out.json")
    assert caught.value.where == "source"
    assert "expected a path" in caught.value.message


def test_a_list_of_sources_says_one_at_a_time(mose_train, tmp_path):
    with pytest.raises(OptionError, match="give one path at a time"):
        converters.convert([mose_train, mose_train], tmp_path / "out.json", to="coco")


@pytest.mark.parametrize("output", [None, 3, ["out.json"]])
def test_an_output_that_is_no_path_names_the_argument(mose_train, tmp_path, output):
    with pytest.raises(OptionError) as caught:
        converters.convert(mose_train, output, to="coco")
    assert caught.value.where == "output"


@pytest.mark.parametrize(("arguments", "where"), [({"to": None}, "to"), ({"to": 3}, "to"), ({"to": "coco", "from_": 1}, "from_")])
def test_a_format_name_that_is_no_string_names_the_argument(mose_train, tmp_path, arguments, where):
    with pytest.raises(OptionError) as caught:
        converters.convert(mose_train, tmp_path / "out.json", **arguments)
    assert caught.value.where == where
    assert not (tmp_path / "out.json").exists()


def test_open_writer_and_reader_format_of_another_type(mose_train):
    with pytest.raises(OptionError, match=r"^format: expected a format name"):
        converters.open_writer(None)
    with pytest.raises(OptionError, match=r"^format: expected a format name"):
        converters.open_reader(mose_train, ["mose"])
    with pytest.raises(OptionError, match=r"^from_: expected a format name"):
        converters.stats(mose_train, from_=("mose",))


@pytest.mark.parametrize("flag", ["overwrite", "resume", "progress"])
@pytest.mark.parametrize("value", ["false", "yes", 1])
def test_a_flag_given_as_text_is_refused(mose_train, tmp_path, flag, value):
    """``overwrite="false"``, the command line's text, was true: it replaced the output."""
    output = tmp_path / "out.json"
    output.write_text("{}")
    with pytest.raises(OptionError) as caught:
        converters.convert(mose_train, output, to="coco", **{flag: value})
    assert caught.value.where == flag
    assert output.read_text() == "{}"


def test_overwrite_and_resume_exclude_each_other_as_on_the_command_line(mose_train, tmp_path):
    with pytest.raises(OptionError) as caught:
        converters.convert(mose_train, tmp_path / "out.json", to="coco", overwrite=True, resume=True)
    assert caught.value.where == "resume"
    assert not (tmp_path / "out.json").exists()


def test_numpy_flags_are_flags(mose_train, tmp_path):
    converters.convert(mose_train, tmp_path / "out.json", to="coco", overwrite=np.bool_(False))
    converters.convert(mose_train, tmp_path / "out.json", to="coco", overwrite=np.bool_(True))
    converters.convert(mose_train, tmp_path / "out.json", to="coco", overwrite=np.array(True))


@pytest.mark.parametrize("flags", [np.array([True, False]), np.array([True]), np.array([], dtype=bool)])
def test_an_array_of_flags_is_no_flag(mose_train, tmp_path, flags):
    """numpy's truth of an array raised its own ValueError (two or none) or was its one element's."""
    with pytest.raises(OptionError, match=r"^overwrite: expected True or False, got ndarray"):
        converters.convert(mose_train, tmp_path / "out.json", to="coco", overwrite=flags)
    assert not (tmp_path / "out.json").exists()
    with pytest.raises(OptionError, match=r"^writer options.images: expected true or false, got array"):
        converters.convert(mose_train, tmp_path / "out.parquet", to="parquet", writer_options={"images": flags})
    assert not (tmp_path / "out.parquet").exists()


def test_an_executor_that_is_no_executor_names_the_argument(mose_train, tmp_path):
    with pytest.raises(OptionError) as caught:
        converters.convert(mose_train, tmp_path / "out.json", to="coco", executor="ray")
    assert caught.value.where == "executor"
    assert "RayExecutor" in caught.value.message
    assert not (tmp_path / "out.json").exists()
    with pytest.raises(OptionError, match=r"^executor: "):
        converters.stats(mose_train, executor="local")


@pytest.mark.parametrize("derive", ["frame_step=5", ["frame_step", 5], 5])
def test_derive_that_is_no_mapping_names_the_argument(mose_train, tmp_path, derive):
    with pytest.raises(OptionError) as caught:
        converters.convert(mose_train, tmp_path / "out.json", to="coco", derive=derive)
    assert caught.value.where == "derive"
    assert "expected a mapping" in caught.value.message


def test_paths_and_numpy_values_as_options(mose_train, sample_root, tmp_path):
    """A notebook's values: a Path where a file or folder goes, numpy's integers and booleans where numbers go."""
    listing = tmp_path / "videos.txt"
    with converters.open_reader(mose_train) as reader:
        listing.write_text(reader.list_videos()[0].name + "\n")
    summary = converters.convert(
        mose_train, tmp_path / "one.json", to="coco", derive={"videos_from": listing, "frame_step": np.int64(2)}
    )
    assert summary.stats.videos == 1
    images = sample_root["mose"] / "train" / "JPEGImages"
    summary = converters.convert(
        tmp_path / "one.json",
        tmp_path / "one.parquet",
        to="parquet",
        reader_options={"images": images},
        writer_options={"images": np.bool_(True), "shard_bytes": np.int64(1 << 20)},
    )
    assert summary.stats.videos == 1
    assert all(frame.image.data for video in converters.read_videos(tmp_path / "one.parquet") for frame in video.frames)


@pytest.mark.parametrize(
    ("options", "where", "message"),
    [
        ({"colums": 3}, "colums", "did you mean 'columns'?"),
        ({"vidoes": ["a"]}, "vidoes", "did you mean 'videos'"),
        ({"scale": "2"}, "scale", "expected a number"),
        ({"fps": "6"}, "fps", "expected a number"),
        ({"overwrite": "false"}, "overwrite", "expected True or False"),
        ({"videos": 5}, "videos", "expected a list of video names"),  # these three were a bare TypeError mid-reading
        ({"frames": [0, "a"]}, "frames", "expected a list of frame positions"),
        ({"frames": [0.5]}, "frames", "expected a list of frame positions"),
    ],
)
def test_preview_options_checked_before_reading(mose_train, tmp_path, options, where, message):
    with pytest.raises(OptionError) as caught:
        converters.preview(mose_train, tmp_path / "p.png", **options)
    assert caught.value.where == where
    assert message in caught.value.message
    assert not (tmp_path / "p.png").exists()


def test_preview_of_one_video_named_as_a_string(mose_train, tmp_path):
    """``videos="bear"`` is the video bear, not the videos b, e, a and r."""
    with converters.open_reader(mose_train) as reader:
        name = reader.list_videos()[1].name
    assert converters.preview(mose_train, tmp_path / "p.png", videos=name) == [tmp_path / "p.png"]
    with pytest.raises(OptionError, match="no video named nope;"):
        converters.preview(mose_train, tmp_path / "q.png", videos="nope")


def test_an_output_name_of_another_format_is_warned_of_as_on_the_command_line(mose_train, tmp_path):
    """``vosconv convert -o out.json --to parquet`` warns; ``converters.convert(..., "out.json", to="parquet")`` did not."""
    import warnings

    from converters.errors import VosconvWarning

    with pytest.warns(VosconvWarning, match=r"out\.json: a coco output's name; to='parquet' writes a parquet output there"):
        converters.convert(mose_train, tmp_path / "out.json", to="parquet")
    assert (tmp_path / "out.json" / "manifest.json").is_file()  # written as asked
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        converters.convert(mose_train, tmp_path / "out.cocovid.json", to="cocovid")  # a cocovid file is JSON: no slip
        converters.convert(mose_train, tmp_path / "plain", to="mose")


def test_a_per_video_table_replaces_a_file_only_when_told(mose_train, tmp_path):
    """``write_table`` replaced any file in silence (a notebook's own CSV), where ``--per-video`` needs ``--overwrite``."""
    from converters.errors import OutputError

    mine = tmp_path / "mine.csv"
    mine.write_text("my,own\n")
    result = converters.stats(mose_train)
    with pytest.raises(OutputError, match=r"mine\.csv already exists; pass overwrite=True"):
        result.write_table(mine)
    with pytest.raises(OptionError, match="expected True or False"):  # the text "false" was true: it replaced the file
        result.write_table(mine, overwrite="false")
    assert mine.read_text() == "my,own\n"
    assert result.write_table(mine, overwrite=True) == mine
    assert mine.read_text().startswith("video,width,height,")


def test_a_source_of_no_known_format_says_what_to_give_in_python(tmp_path):
    """ "name it with --from" named a flag that Python has no argument of that name for."""
    from converters.errors import DetectionError

    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DetectionError, match=r"name it with --from \(format= or from_= in Python\)"):
        converters.convert(tmp_path / "notes.txt", tmp_path / "out.json", to="coco")


def test_preview_of_one_frame_given_as_an_int(mose_train, tmp_path):
    """``frames=-1`` is the last frame, as ``frames="-1"`` is (it was a TypeError: an int is no list of positions)."""
    assert converters.preview(mose_train, tmp_path / "p.png", frames=-1) == [tmp_path / "p.png"]
    assert converters.preview(mose_train, tmp_path / "q.png", frames="-1") == [tmp_path / "q.png"]
    assert (tmp_path / "p.png").read_bytes() == (tmp_path / "q.png").read_bytes()
