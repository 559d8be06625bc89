"""``stats``: every figure against an independent count of the PNGs, hand-computed BOR, determinism, tables and plots."""

from __future__ import annotations

import csv
import json
import sys

import pytest

import converters
from converters.cli import main
from converters.errors import MissingDependency, OptionError, OutputError
from converters.inspect.stats import COLUMNS, bor, video_stats
from converters.model import Frame as F
from converters.model import FrameMasks, Mask, ObjectInfo, Video

from .oracle import bor_by_pixels, folder_figures

FLOATS = ("mean_bor", "mean_relative_area")


def assert_rows_equal(got: list[dict], expected: list[dict]) -> None:
    assert [r["video"] for r in got] == [r["video"] for r in expected]
    for row, want in zip(got, expected):
        assert list(row) == list(COLUMNS)
        assert {k: v for k, v in row.items() if k not in FLOATS} == {k: v for k, v in want.items() if k not in FLOATS}
        for key in FLOATS:
            assert row[key] == pytest.approx(want[key], rel=1e-12, abs=1e-15), (row["video"], key)


@pytest.mark.parametrize(
    ("layout", "options", "folders"),
    [
        ("mose", {"split": "train"}, ("train/JPEGImages", "train/Annotations", None)),
        ("mose", {"split": "valid"}, ("valid/JPEGImages", "valid/Annotations", None)),  # only 00000 annotated
        ("davis", {}, ("DAVIS/JPEGImages/480p", "DAVIS/Annotations/480p", None)),  # void, a binary and a grayscale video
        ("youtube-vos", {"split": "train"}, ("train/JPEGImages", "train/Annotations", "train/meta.json")),  # categories
    ],
)
def test_per_video_figures_match_an_independent_count_of_the_pngs(sample_root, layout, options, folders):
    root = sample_root[layout]
    images, annotations, meta = folders
    expected = folder_figures(root / images, root / annotations, root / meta if meta else None)
    result = converters.stats(root, reader_options=options)
    assert_rows_equal(result.rows(), expected)
    summary = result.summary()
    assert summary["videos"] == len(expected)
    for key in ("frames", "annotated_frames", "empty_frames", "objects", "masks", "disappearances", "void_pixels"):
        assert summary[key] == sum(r[key] for r in expected), key
    assert summary["mean_objects_per_video"] == sum(r["objects"] for r in expected) / len(expected)
    assert summary["disappearance_rate"] == sum(r["disappearing_objects"] for r in expected) / summary["objects"]
    assert summary["small_masks"] + summary["medium_masks"] + summary["large_masks"] == summary["masks"]


def test_the_sample_shows_the_traits_it_was_written_with(sample_root):
    """The MOSE sample's plan: an object that vanishes for 3 frames, one that appears at frame 5, an empty frame."""
    summary = converters.stats(sample_root["mose"], reader_options={"split": "train"}).summary()
    assert summary["empty_frames"] == 1
    assert summary["objects_appearing_late"] == 1
    assert summary["reappearing_objects"] >= 1 and summary["disappearing_objects"] > summary["reappearing_objects"]
    assert summary["occluded_frames"] > 0 and 0 < summary["mean_bor"] < 1


def test_davis_void_pixels_are_counted(sample_root):
    summary = converters.stats(sample_root["davis"]).summary()
    assert summary["void_masks"] > 0 and summary["void_pixels"] > 0
    assert 0 < summary["void_fraction"] < 1


def test_a_conversion_has_the_same_figures_as_its_source(sample_root, tmp_path):
    """Void, an empty frame, a binary video: the same figures from COCO, Parquet and HDF5, and from the folders again."""
    source = converters.stats(sample_root["davis"])
    converters.convert(sample_root["davis"], tmp_path / "davis.json", to="coco")
    converters.convert(sample_root["davis"], tmp_path / "davis.parquet", to="parquet")
    converters.convert(sample_root["davis"], tmp_path / "davis.h5", to="hdf5")
    converters.convert(tmp_path / "davis.h5", tmp_path / "back", to="davis")
    for output in ("davis.json", "davis.parquet", "davis.h5", "back"):
        assert converters.stats(tmp_path / output).rows() == source.rows(), output


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        ([], 0.0),
        ([(0, 0, 10, 10)], 0.0),
        ([(0, 0, 10, 10), (20, 20, 5, 5)], 0.0),  # apart
        ([(0, 0, 10, 10), (10, 0, 10, 10)], 0.0),  # touching edges share no pixel
        ([(0, 0, 10, 10), (5, 5, 10, 10)], 25 / 175),
        ([(0, 0, 10, 10)] * 3, 1.0),  # three boxes on one another: the union of intersections, not their sum
        ([(0, 0, 10, 10), (5, 0, 10, 10), (10, 0, 10, 10)], 100 / 200),  # a chain: [5, 15) covered twice, 200 in all
        ([(0, 0, 100, 100), (10, 10, 5, 5)], 25 / 10000),  # nested
        ([(0, 0, 0, 0), (0, 0, 10, 10)], 0.0),  # an empty box covers nothing
    ],
)
def test_bor_is_the_union_of_pairwise_intersections_over_the_union(boxes, expected):
    assert bor(boxes) == pytest.approx(expected, rel=1e-15)
    assert bor(boxes) == pytest.approx(bor_by_pixels(boxes, 200, 200), rel=1e-15)


def test_bor_of_random_boxes_matches_painting_them():
    import numpy as np

    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(2, 9))
        xs, ys = rng.integers(0, 40, n), rng.integers(0, 30, n)
        boxes = [(int(x), int(y), int(rng.integers(1, 25)), int(rng.integers(1, 25))) for x, y in zip(xs, ys)]
        assert bor(boxes) == pytest.approx(bor_by_pixels(boxes, 60, 70), rel=1e-12)


def mask(object_id: int, area: int, bbox: tuple[int, int, int, int]) -> Mask:
    return Mask(object_id, "not decoded", area, bbox)  # stats read area and bbox only; the counts are never parsed


def test_hand_built_video_figures():
    """Objects 1-3 over six frames (frame 4 unannotated): the figures worked out by hand."""
    one, two, three = (mask(1, 992, (0, 0, 31, 32)), mask(2, 1024, (20, 0, 32, 32)), mask(3, 9216, (100, 100, 96, 96)))
    void = Mask(255, "not decoded", 7, (0, 190, 7, 1))
    frames = (
        F(0, "0.jpg", masks=FrameMasks((one, two))),  # boxes overlap by 11 x 32 = 352 of 31*32 + 32*32 - 352 = 1664
        F(1, "1.jpg", masks=FrameMasks((one,), void)),  # 2 vanishes
        F(2, "2.jpg", masks=FrameMasks()),  # empty: 1 vanishes
        F(3, "3.jpg", masks=FrameMasks((one, two, three))),  # 1 and 2 come back, 3 appears late
        F(4, "4.jpg"),  # unannotated: says nothing
        F(5, "5.jpg", masks=FrameMasks((three,))),  # 1 and 2 vanish for good
    )
    objects = tuple(ObjectInfo(i, category_id=c) for i, c in ((1, 7), (2, 7), (3, None), (4, 9)))
    video = Video("hand", 200, 200, frames, objects)
    figures = video_stats(video, {7: "person"})
    assert figures.frames == 6 and figures.annotated_frames == 5 and figures.empty_frames == 1
    assert figures.objects == 4 and figures.masks == 7
    assert figures.categories == ("9", "person")  # a category without a name is shown by its id
    assert figures.objects_never_visible == 1 and figures.objects_appearing_late == 1
    assert [(t.object_id, t.visible, t.disappearances, t.reappearances) for t in figures.tracks] == [
        (1, (0, 1, 3), 2, 1),
        (2, (0, 3), 2, 1),
        (3, (3, 5), 0, 0),
        (4, (), 0, 0),
    ]
    assert (figures.disappearing_objects, figures.reappearing_objects) == (2, 2)
    assert (figures.disappearances, figures.reappearances) == (4, 2)
    frame0 = 352 / 1664
    frame3 = 352 / (1664 + 9216)
    assert figures.bor_frames == 4 and figures.occluded_frames == 2  # frames 0, 1, 3, 5 have objects
    assert figures.mean_bor == pytest.approx((frame0 + 0 + frame3 + 0) / 4, rel=1e-15)
    assert (figures.small_masks, figures.medium_masks, figures.large_masks) == (3, 2, 2)  # 31*32 < 32**2 <= 32*32
    assert (figures.void_masks, figures.void_pixels) == (1, 7)
    assert figures.mean_relative_area == pytest.approx((3 * 992 + 2 * 1024 + 2 * 9216) / 7 / 40000, rel=1e-15)


def test_two_runs_give_identical_output_whatever_the_workers(sample_root, tmp_path):
    one = converters.stats(sample_root["mose"], reader_options={"split": "train"}, workers=1)
    two = converters.stats(sample_root["mose"], reader_options={"split": "train"}, workers=2)
    assert json.dumps(one.to_dict()) == json.dumps(two.to_dict())
    assert one.write_table(tmp_path / "a.csv").read_bytes() == two.write_table(tmp_path / "b.csv").read_bytes()
    assert one.write_table(tmp_path / "a.parquet").read_bytes() == two.write_table(tmp_path / "b.parquet").read_bytes()


def test_per_video_tables_read_back_to_the_same_rows(sample_root, tmp_path):
    import pyarrow.parquet as pq

    result = converters.stats(sample_root["davis"])
    rows = result.rows()
    assert pq.read_table(result.write_table(tmp_path / "v.parquet")).to_pylist() == rows
    with open(result.write_table(tmp_path / "v.csv"), newline="") as file:
        read = list(csv.DictReader(file))
    types = {k: type(v) for k, v in rows[0].items()}
    assert [{k: types[k](v) for k, v in r.items()} for r in read] == rows  # floats written exactly (repr)


def test_per_video_table_needs_csv_or_parquet(sample_root, tmp_path):
    result = converters.stats(sample_root["mose"], reader_options={"split": "valid"})
    with pytest.raises(OptionError, match=r"\.csv or \.parquet"):
        result.write_table(tmp_path / "v.xlsx")
    assert not list(tmp_path.iterdir())


def test_plots_are_written_and_deterministic(sample_root, tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    from converters.inspect.plots import FIGURES, write_plots

    result = converters.stats(sample_root["mose"], reader_options={"split": "train"})
    first = write_plots(result, tmp_path / "a", timelines=2)
    second = write_plots(result, tmp_path / "b", timelines=2)
    ranked = sorted(result.videos, key=lambda v: (-v.disappearances, v.name))[:2]
    assert [p.name for p in first] == [*FIGURES, *(f"timeline-{v.name}.png" for v in ranked)]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
        with Image.open(a) as image:
            assert image.format == "PNG" and image.width > 100
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".")]  # no temporary files left


def test_videos_named_up_to_255_bytes_get_their_timelines(sample_copy, tmp_path):
    """``timeline-<video>.png`` (and its temporary name) is longer than the video's name: a valid name of 243 bytes
    or more stopped ``--plots`` half way with 'File name too long'. Such a name is cut, with a digest of the whole."""
    pytest.importorskip("matplotlib")
    from converters.inspect.plots import write_plots

    train = sample_copy("mose") / "train"
    old = sorted(p.name for p in (train / "Annotations").iterdir())
    new = ["é" * 127 + "a", "é" * 127 + "b", "ok"]  # 255 bytes, two differing only at the end
    for folder in ("JPEGImages", "Annotations"):
        for before, after in zip(old, new):
            (train / folder / before).rename(train / folder / after)
    result = converters.stats(train.parent, reader_options={"split": "train"})
    written = write_plots(result, tmp_path / "plots", timelines=3)
    timelines = sorted(p.name for p in written if p.name.startswith("timeline-"))
    assert len(set(timelines)) == len([v for v in result.videos if v.tracks]) == 3
    assert "timeline-ok.png" in timelines
    for name in timelines:
        assert len(f".{name}.vosconv-tmp".encode()) <= 255 and name.endswith(".png")
    assert sum(name.startswith("timeline-" + "é" * 100) for name in timelines) == 2


def test_a_timeline_does_not_replace_another_video_s_that_a_file_system_folds_into_it(sample_copy, tmp_path):
    """On macOS or Windows ``timeline-bear.png`` is the ``timeline-Bear.png`` written a moment before; shown so here by a
    link of that name to it (tests/writers/test_folding.py says why): the second timeline is refused, not written."""
    pytest.importorskip("matplotlib")
    from converters.inspect.plots import write_plots

    train = sample_copy("mose") / "train"
    old = sorted(p.name for p in (train / "Annotations").iterdir())
    for folder in ("JPEGImages", "Annotations"):
        for before, after in zip(old, ["Bear", "bear", "ok"]):
            (train / folder / before).rename(train / folder / after)
    result = converters.stats(train.parent, reader_options={"split": "train"})
    ranked = [v.name for v in sorted(result.videos, key=lambda v: (-v.disappearances, v.name))]
    first, second = sorted(["Bear", "bear"], key=ranked.index)
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / f"timeline-{second}.png").symlink_to(f"timeline-{first}.png")
    with pytest.raises(OutputError, match=f"timeline-{second}.png: on this file system, which folds case"):
        write_plots(result, plots, timelines=3)
    assert (plots / f"timeline-{second}.png").is_symlink() and (plots / f"timeline-{first}.png").stat().st_size > 0


def test_plots_without_matplotlib_name_the_extra(sample_root, tmp_path, monkeypatch):
    from converters.inspect.plots import write_plots

    result = converters.stats(sample_root["mose"], reader_options={"split": "valid"})
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with pytest.raises(MissingDependency, match=r"pip install '\.\[plots\]'"):
        write_plots(result, tmp_path / "plots")
    assert not (tmp_path / "plots").exists()


def test_an_unwritable_table_is_an_output_error(sample_root, tmp_path):
    result = converters.stats(sample_root["mose"], reader_options={"split": "valid"})
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="cannot write"):
        result.write_table(tmp_path / "file" / "v.csv")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", "plots"])
def test_ctrl_c_while_writing_leaves_no_temporary_file(sample_root, tmp_path, monkeypatch, suffix):
    """Ctrl-C between writing the temporary file and renaming it left a hidden .vosconv-tmp file behind."""
    import os

    result = converters.stats(sample_root["mose"], reader_options={"split": "valid"})

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        if suffix == "plots":
            pytest.importorskip("matplotlib")
            from converters.inspect.plots import write_plots

            write_plots(result, tmp_path / "plots")
        else:
            result.write_table(tmp_path / f"v{suffix}")
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_split_annotated_only_at_first_appearances_counts_no_disappearance(sample_root, tmp_path):
    """YouTube-VOS valid's PNGs hold only the objects first seen there: object 1 missing from a later PNG is not
    annotated in it, not gone. Stats counted each such object as disappearing (a rate of 0.5 on the sample)."""
    valid = converters.stats(sample_root["youtube-vos"], reader_options={"split": "valid"})
    summary = valid.summary()
    assert summary["first_appearances_only"] is True
    assert summary["annotated_frames"] > summary["videos"]  # later annotated frames exist: the case that misled
    assert summary["objects_appearing_late"] > 0  # what is known still counts
    for key in ("disappearing_objects", "reappearing_objects", "disappearances", "reappearances", "disappearance_rate"):
        assert summary[key] == 0, key
    assert all(t.disappearances == t.reappearances == 0 for v in valid.videos for t in v.tracks)
    assert sum(r["disappearances"] for r in valid.rows()) == 0

    # the same form made from a fully annotated split, and that split itself
    derived = tmp_path / "first.json"
    options = {"split": "train"}
    converters.convert(sample_root["mose"], derived, to="coco", reader_options=options, derive={"first_appearance": True})
    assert converters.stats(derived).summary()["first_appearances_only"] is True
    train = converters.stats(sample_root["mose"], reader_options=options).summary()
    assert train["first_appearances_only"] is False and train["disappearances"] > 0


def write_mose_train(root, videos: dict[str, list[list[int]]]):
    """A MOSE train folder, every frame annotated: ``videos[name][i]`` the ids drawn in frame i, each in its own band."""
    import numpy as np
    from PIL import Image

    from ..folderdata import save_palette_png

    for name, frames in videos.items():
        for index, ids in enumerate(frames):
            label = np.zeros((16, 24), np.uint8)
            for object_id in ids:
                label[2 * object_id : 2 * object_id + 2, 4:20] = object_id
            (root / "train" / "JPEGImages" / name).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (24, 16)).save(root / "train" / "JPEGImages" / name / f"{index:05d}.jpg")
            save_palette_png(root / "train" / "Annotations" / name / f"{index:05d}.png", label)
    return root


def test_masks_alone_never_claim_a_fully_annotated_split_is_first_appearances_only(tmp_path, capsys):
    """Every frame annotated, object 1 leaving after frame 0 and object 2 entering, a video of one frame: no object is
    seen twice, as in a split annotated at first appearances, so stats called it one and counted object 1's
    disappearance as none. The masks cannot tell the two apart: the flag is unknown (None), absence counted."""
    root = write_mose_train(tmp_path / "MOSE", {"leaves": [[1], [2]], "still": [[1, 2]]})
    summary = converters.stats(root, reader_options={"split": "train"}).summary()
    assert summary["first_appearances_only"] is None
    assert summary["disappearances"] == summary["disappearing_objects"] == 1
    assert main(["stats", str(root), "--split", "train"]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("first appearances only ")]
    assert line.split()[-1] == "unknown"  # said in words, not Python's None

    # the same masks known to be a first-appearance set: written by --first-appearance, its record in the marker
    derived = tmp_path / "first"
    converters.convert(root, derived, to="mose", reader_options={"split": "train"}, derive={"first_appearance": True})
    summary = converters.stats(derived).summary()
    assert summary["first_appearances_only"] is True and summary["disappearances"] == 0

    # an object seen twice, or an empty annotated frame, says absence is absence; one annotated frame a video, nothing
    for videos in ({"leaves": [[1], [2]], "twice": [[1], [1]]}, {"leaves": [[1], [2], []]}, {"one": [[1]], "two": [[2]]}):
        again = write_mose_train(tmp_path / f"MOSE-{len(list(tmp_path.iterdir()))}", videos)
        assert converters.stats(again, reader_options={"split": "train"}).summary()["first_appearances_only"] is False


def test_the_per_video_rows_add_up_to_the_summary(sample_root):
    """Every count of the summary is its column's sum; mean BOR is the rows' mean BOR weighted by their BOR frames
    (the table lacked bor_frames, so the dataset's mean BOR could not be had from it)."""
    result = converters.stats(sample_root["davis"])
    summary, rows = result.summary(), result.rows()
    counts = [k for k, v in summary.items() if type(v) is int and k != "videos"]
    assert "bor_frames" in counts
    for key in counts:
        assert summary[key] == sum(r[key] for r in rows), key
    weighted = sum(r["mean_bor"] * r["bor_frames"] for r in rows) / sum(r["bor_frames"] for r in rows)
    assert summary["mean_bor"] == pytest.approx(weighted, rel=1e-12) and summary["mean_bor"] > 0


@pytest.mark.parametrize("frames", ["annotated", "all"])
def test_sav_figures_with_overlapping_masks_and_ids_from_0(tmp_path, frames):
    """SA-V: object 1 lies inside object 0 (overlapping masks, ids from 0), object 2 is visible on every other annotated
    frame; annotations every 4th frame (``frames=all``: the rest listed unannotated, never counted as absences)."""
    pytest.importorskip("av")
    from tests import savdata

    from .oracle import masks_figures

    lengths = {"sav_000001": 14, "sav_000002": 9}
    root = savdata.make_train(tmp_path / "sav", lengths, auto=False)
    result = converters.stats(root, reader_options={"frames": frames})
    expected = []
    for name, length in lengths.items():
        annotated = [{j: savdata.box(k, j).astype(bool) for j in range(3)} for k in range(-(-length // 4))]
        listed = annotated if frames == "annotated" else [annotated[i // 4] if i % 4 == 0 else None for i in range(length)]
        expected.append(masks_figures(name, savdata.WIDTH, savdata.HEIGHT, listed, [0, 1, 2]))
    assert_rows_equal(result.rows(), expected)
    assert result.summary()["disappearances"] > 0 and result.summary()["occluded_frames"] > 0
    converted = converters.convert(root, tmp_path / "sav.parquet", to="parquet", reader_options={"frames": frames})
    assert converters.stats(converted.output).rows() == result.rows()


def test_timelines_mark_no_absence_where_only_first_appearances_are_annotated(sample_root, tmp_path, monkeypatch):
    """YouTube-VOS valid's timelines ticked every annotated frame an object was not in as an absence."""
    pytest.importorskip("matplotlib")
    from matplotlib.axes import Axes

    from converters.inspect.plots import write_plots

    ticks = []
    plot = Axes.plot
    monkeypatch.setattr(Axes, "plot", lambda self, *a, **k: ticks.append(a) or plot(self, *a, **k))
    valid = converters.stats(sample_root["youtube-vos"], reader_options={"split": "valid"})
    write_plots(valid, tmp_path / "valid", timelines=2)
    assert not ticks
    write_plots(converters.stats(sample_root["mose"], reader_options={"split": "train"}), tmp_path / "train", timelines=2)
    assert ticks  # absences are ticked where they are known
