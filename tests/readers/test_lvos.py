"""LvosReader on a synthetic LVOS root with the real traits, the conformance suite on it, and its bad inputs.

The traits (LVOS-api README, lvos-evaluation): ``{split}/JPEGImages|Annotations/<video>/<8 digits>``
frames numbered from 1 by 5, palette PNGs, ``<split>_meta.json`` giving each object's
``frame_range`` (numbers, or strings of digits: the kit calls ``int()``), an expression meta
beside it, objects that first appear mid-video or vanish and return, val annotated on every
frame, macOS junk among the masks, 8-character mixed-case video ids.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.codecs import png
from converters.errors import SourceError
from converters.formats.lvos.reader import LvosOptions, LvosReader
from converters.model import ObjectInfo
from converters.synthetic import Plan, video_frames
from converters.testing.conformance import read_all
from converters.testing.suite import ReaderSuite

from ..folderdata import add_macos_junk, save_palette_png

#: video -> plan, per split: objects that appear late, vanish and return, or leave.
PLANS = {
    "train": {
        "0tCWPOrc": Plan(120, 72, 8, hidden=((), ((3, 5),))),  # object 2 vanishes for two frames and returns
        "Zq8w1KdM": Plan(104, 64, 6, hidden=(((0, 2),), (), ((4, 6),))),  # 1 appears at the third frame, 3 leaves
    },
    "val": {
        "2AkzuJYN": Plan(112, 64, 7, hidden=((), ((2, 4),))),
    },
}
#: Frame names by position: the 30 fps index of every 5th frame, from 1.
STEP, FIRST = 5, 1


def frame_stem(position: int) -> str:
    return f"{FIRST + STEP * position:08d}"


def write_video(split: Path, video: str, plan: Plan, rng: np.random.Generator) -> dict[str, dict]:
    """Frames and palette masks of one video; its meta ``objects`` (each object's first and last frame, and count)."""
    seen: dict[int, list[int]] = {}
    for position, (_, image, label) in enumerate(video_frames(rng, plan, 1)):
        stem = frame_stem(position)
        (split / "JPEGImages" / video).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(split / "JPEGImages" / video / f"{stem}.jpg", quality=90)
        save_palette_png(split / "Annotations" / video / f"{stem}.png", label)
        for object_id in set(np.unique(label).tolist()) - {0}:
            seen.setdefault(object_id, []).append(position)
    objects = {}
    for object_id, positions in sorted(seen.items()):
        start, end = FIRST + STEP * positions[0], FIRST + STEP * positions[-1]
        frame_range = {"start": start, "end": end, "frame_nums": (end - start) // STEP + 1}
        if object_id == 2:  # as strings of digits, which the kit's int() takes too
            frame_range = {key: str(value) for key, value in frame_range.items()}
        objects[str(object_id)] = {"frame_range": frame_range}
    return objects


def write_lvos(root: Path, seed: int = 0) -> Path:
    """An LVOS root with train and val split folders, meta and expression meta files, and hidden files."""
    rng = np.random.default_rng(seed)
    for split, plans in PLANS.items():
        folder = root / split
        videos = {video: {"objects": write_video(folder, video, plan, rng)} for video, plan in plans.items()}
        (folder / f"{split}_meta.json").write_text(json.dumps({"videos": videos}))
        expressions = {video: {"expressions": {"0": {"exp": "the dog", "obj_id": "1"}}} for video in plans}
        (folder / f"{split}_expression_meta.json").write_text(json.dumps({"videos": expressions}))
    add_macos_junk(root / "val" / "Annotations" / "2AkzuJYN", shadowing="00000001.png")
    add_macos_junk(root / "train" / "JPEGImages")
    return root


@pytest.fixture(scope="module")
def lvos_root(tmp_path_factory) -> Path:
    return write_lvos(tmp_path_factory.mktemp("lvos") / "LVOS")


@pytest.fixture
def lvos_copy(lvos_root, tmp_path) -> Path:
    target = tmp_path / "LVOS"
    shutil.copytree(lvos_root, target)
    return target


def read(source: Path, split: str | None = None) -> list:
    with LvosReader(source, LvosOptions(split=split)) as reader:
        return [reader.read_video(ref) for ref in reader.list_videos()]


def meta_of(root: Path, split: str) -> dict:
    return json.loads((root / split / f"{split}_meta.json").read_text())


def write_meta(root: Path, split: str, data: object) -> Path:
    path = root / split / f"{split}_meta.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


# ------------------------------------------------------------------ what is read


def test_train_split_frames_objects_and_frame_ranges(lvos_root):
    videos = read(lvos_root, "train")
    assert [v.name for v in videos] == ["0tCWPOrc", "Zq8w1KdM"]
    first, second = videos
    assert [f.file_name for f in first.frames] == [f"{frame_stem(t)}.jpg" for t in range(8)]
    assert all(f.annotated for f in first.frames)
    present = [[m.object_id for m in f.masks.objects] for f in first.frames]
    assert present == [[1, 2], [1, 2], [1, 2], [1], [1], [1, 2], [1, 2], [1, 2]]  # object 2 vanishes and returns
    assert [[m.object_id for m in f.masks.objects] for f in second.frames][:3] == [[2, 3], [2, 3], [1, 2, 3]]
    assert first.objects == (
        ObjectInfo(1, metadata=(("frame_range.start", 1), ("frame_range.end", 36), ("frame_range.frame_nums", 8))),
        ObjectInfo(2, metadata=(("frame_range.start", "1"), ("frame_range.end", "36"), ("frame_range.frame_nums", "8"))),
    )
    assert second.objects[0].get("frame_range.start") == 11  # first appears mid-video
    assert first.palette[:6] == png.DAVIS_PALETTE[:6]


def test_val_is_annotated_on_every_frame_and_hidden_files_are_skipped(lvos_root):
    (video,) = read(lvos_root / "val")
    assert len(video.frames) == 7 and all(f.annotated for f in video.frames)
    assert [m.object_id for m in video.frames[2].masks.objects] == [1]


def test_info_and_roots(lvos_root):
    with LvosReader(lvos_root, LvosOptions(split="val")) as reader:
        info = reader.info()
        roots = reader.roots()
    assert (info.source_format, info.split, info.image_root) == ("lvos", "val", str(lvos_root / "val" / "JPEGImages"))
    assert lvos_root / "val" / "val_meta.json" in roots


def test_a_frame_without_its_png_is_unannotated(lvos_copy):
    (lvos_copy / "val" / "Annotations" / "2AkzuJYN" / "00000011.png").unlink()
    (video,) = read(lvos_copy / "val")
    assert [f.annotated for f in video.frames] == [True, True, False, True, True, True, True]


def test_without_its_meta_the_objects_come_from_the_masks(lvos_copy):
    (lvos_copy / "train" / "train_meta.json").unlink()
    videos = read(lvos_copy, "train")
    assert videos[0].objects == (ObjectInfo(1), ObjectInfo(2))


def test_an_object_the_meta_names_but_no_mask_shows_is_kept(lvos_copy):
    meta = meta_of(lvos_copy, "val")
    meta["videos"]["2AkzuJYN"]["objects"]["7"] = {"frame_range": {"start": 1, "end": 1, "frame_nums": 1}}
    write_meta(lvos_copy, "val", meta)
    (video,) = read(lvos_copy, "val")
    assert [o.object_id for o in video.objects] == [1, 2, 7]


@pytest.mark.parametrize("place", ["val/metadata", "metadata"])
def test_the_v2_metadata_folder_is_looked_in(lvos_copy, place):
    """A third-party LVOS v2 test keeps ``metadata/val_meta.json``: in the split folder or the root, both taken."""
    (lvos_copy / place).mkdir()
    (lvos_copy / "val" / "val_meta.json").rename(lvos_copy / place / "val_meta.json")
    (video,) = read(lvos_copy, "val")
    assert video.objects[0].get("frame_range.frame_nums") == 7


def test_the_readme_slip_a_val_folder_holding_train_meta(lvos_copy):
    """The LVOS-api README lists ``train_meta.json`` under every split: the one meta file a split holds is its own."""
    (lvos_copy / "val" / "val_meta.json").rename(lvos_copy / "val" / "train_meta.json")
    (video,) = read(lvos_copy / "val")
    assert video.objects[1].get("frame_range.start") == "1"


def test_a_root_with_several_splits_needs_one_and_suggests(lvos_root):
    with pytest.raises(SourceError, match=r"holds several splits \(train, val\); choose one with --split"):
        LvosReader(lvos_root).list_videos()
    with pytest.raises(SourceError, match=r"no split 'vall'; splits here: train, val; did you mean 'val'\?"):
        LvosReader(lvos_root, LvosOptions(split="vall")).list_videos()
    with pytest.raises(SourceError, match="is a split folder itself: leave out --split"):
        LvosReader(lvos_root / "val", LvosOptions(split="val")).list_videos()


def test_read_from_the_zip_itself(lvos_root, tmp_path):
    archive = Path(shutil.make_archive(str(tmp_path / "LVOS"), "zip", lvos_root))
    assert api.detect(archive) == "lvos"
    assert read_all(archive, "lvos", {"split": "val"})[0] == read_all(lvos_root, "lvos", {"split": "val"})[0]
    assert read(archive, "val")[0].objects == read(lvos_root, "val")[0].objects


def test_reader_and_refs_pickle(lvos_root):
    reader = LvosReader(lvos_root, LvosOptions(split="train"))
    refs = reader.list_videos()
    again = pickle.loads(pickle.dumps(reader))
    assert again.read_video(pickle.loads(pickle.dumps(refs[1]))) == reader.read_video(refs[1])


def test_youtube_vos_written_from_lvos_keeps_8_digit_names_and_is_youtube_vos(lvos_root, tmp_path):
    api.convert(lvos_root, tmp_path / "yt", to="youtube-vos", from_="lvos", reader_options={"split": "val"})
    assert api.detect(tmp_path / "yt") == "youtube-vos"
    assert LvosReader.sniff(tmp_path / "yt").reason == f"{tmp_path / 'yt' / 'meta.json'} marks YouTube-VOS"


def test_sniff_says_why_not(tmp_path, sample_root):
    assert LvosReader.sniff(sample_root["mose"]).score == 0
    assert LvosReader.sniff(tmp_path).reason == "no <split>_meta.json and no 8-digit frame names"


# ------------------------------------------------------------------ object metadata through the formats


@pytest.mark.parametrize(("writer", "out"), [("coco", "out.json"), ("parquet", "out"), ("hdf5", "out")])
def test_frame_ranges_survive_the_formats_that_keep_object_metadata(lvos_root, tmp_path, writer, out):
    expected = read(lvos_root, "train")
    api.convert(lvos_root, tmp_path / out, to=writer, from_="lvos", reader_options={"split": "train"})
    with api.open_reader(tmp_path / out, writer) as reader:
        back = [reader.read_video(ref) for ref in reader.list_videos()]
    assert [v.objects for v in back] == [v.objects for v in expected]


def frame_ranges(video) -> dict[int, tuple]:
    return {o.object_id: tuple(o.get(f"frame_range.{field}") for field in ("start", "end", "frame_nums")) for o in video.objects}


def lvos_eval_walk(obj, spacing: int) -> list[str]:
    """The frames from ``start`` to ``end`` at a frame ``spacing``, whose count is ``frame_nums``: lvos-evaluation walks
    ``range(int(start), int(end), 5)``, opening each frame's PNG, and sizes its scores by ``frame_nums``."""
    start, end, count = (int(obj.get(f"frame_range.{field}")) for field in ("start", "end", "frame_nums"))
    walked = [f"{number:08d}" for number in range(start, end + 1, spacing)]
    assert len(walked) == count and walked[-1] == f"{end:08d}"
    return walked


def test_a_frame_step_recomputes_each_frame_range_over_the_frames_kept(lvos_root, tmp_path):
    api.convert(
        lvos_root, tmp_path / "out.json", to="coco", from_="lvos", reader_options={"split": "train"}, derive={"frame_step": 2}
    )
    with api.open_reader(tmp_path / "out.json", "coco") as reader:
        back = {ref.name: reader.read_video(ref) for ref in reader.list_videos()}
    # 0tCWPOrc has frames 1, 6, ..., 36 (1, 11, 21, 31 kept); Zq8w1KdM 1, 6, ..., 26 (1, 11, 21 kept)
    assert frame_ranges(back["0tCWPOrc"]) == {1: (1, 31, 4), 2: ("1", "31", "4")}  # strings stay strings
    assert frame_ranges(back["Zq8w1KdM"]) == {1: (11, 21, 2), 2: ("1", "21", "3"), 3: (1, 11, 2)}
    for video in back.values():
        stems = {frame.stem for frame in video.frames}
        for obj in video.objects:
            assert set(lvos_eval_walk(obj, 5 * 2)) <= stems


@pytest.mark.parametrize("derive", [{"first_appearance": True}, {"max_side": 40}, {"videos_from": "list.txt"}])
def test_steps_that_keep_every_frame_keep_the_frame_ranges(lvos_root, tmp_path, derive):
    (tmp_path / "list.txt").write_text("Zq8w1KdM\n")
    derive = {k: str(tmp_path / v) if k == "videos_from" else v for k, v in derive.items()}
    expected = {v.name: frame_ranges(v) for v in read(lvos_root, "train")}
    api.convert(lvos_root, tmp_path / "out", to="parquet", from_="lvos", reader_options={"split": "train"}, derive=derive)
    with api.open_reader(tmp_path / "out", "parquet") as reader:
        back = [reader.read_video(ref) for ref in reader.list_videos()]
    assert back and all(frame_ranges(video) == expected[video.name] for video in back)
    for video in back:
        for obj in video.objects:
            assert set(lvos_eval_walk(obj, 5)) <= {frame.stem for frame in video.frames}


def test_a_frame_step_drops_what_it_cannot_recompute_exactly(lvos_copy, tmp_path):
    meta = meta_of(lvos_copy, "train")
    objects = meta["videos"]["Zq8w1KdM"]["objects"]
    objects["1"]["frame_range"]["frame_nums"] = 9  # counts frames the folder does not have: what it counts is unknown
    objects["3"]["frame_range"] = {"start": 6, "end": 6, "frame_nums": 1}  # a range of one frame, stepped over
    write_meta(lvos_copy, "train", meta)
    api.convert(lvos_copy, tmp_path / "out", to="hdf5", from_="lvos", reader_options={"split": "train"}, derive={"frame_step": 2})
    with api.open_reader(tmp_path / "out", "hdf5") as reader:
        video = next(reader.read_video(ref) for ref in reader.list_videos() if ref.name == "Zq8w1KdM")
    assert video.objects[0].metadata == (("frame_range.start", 11), ("frame_range.end", 21))
    assert video.objects[2].object_id == 3 and video.objects[2].metadata == ()


# ------------------------------------------------------------------ conformance


class TestLvosThroughEveryFormat(ReaderSuite):
    reader = "lvos"

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls, tmp_path_factory):
        return write_lvos(tmp_path_factory.mktemp("lvos-suite") / "LVOS", seed=1), {"split": "train"}


def test_the_val_split_given_directly_is_detected_and_read_through_coco(lvos_root, tmp_path):
    assert api.detect(lvos_root / "val") == "lvos"
    expected, _ = read_all(lvos_root / "val", "lvos")
    api.convert(lvos_root / "val", tmp_path / "out.json", to="coco")
    assert read_all(tmp_path / "out.json", "coco")[0] == expected


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("{not json", "invalid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
        ('["videos"]', 'expected {"videos": '),
        ('{"videos": {"2AkzuJYN": {}}}', "videos/2AkzuJYN/objects: missing"),
        ('{"videos": {"2AkzuJYN": {"objects": {"one": {}}}}}', "videos/2AkzuJYN/objects/one: object key 'one' is not an integer"),
        ('{"videos": {"2AkzuJYN": {"objects": {"255": {}}}}}', "object key '255' is not an integer id from 1 to 254"),
        ('{"videos": {"2AkzuJYN": {"objects": {"1": {}}}}}', "videos/2AkzuJYN/objects/1/frame_range: missing"),
        (
            '{"videos": {"2AkzuJYN": {"objects": {"1": {"frame_range": {"start": 1, "end": 6}}}}}}',
            "videos/2AkzuJYN/objects/1/frame_range/frame_nums: missing",
        ),
        (
            '{"videos": {"2AkzuJYN": {"objects": {"1": {"frame_range": {"start": "soon", "end": 6, "frame_nums": 2}}}}}}',
            "frame_range/start: expected an integer, got 'soon'",
        ),
        (
            '{"videos": {"2AkzuJYN": {"objects": {"1": {"frame_range": {"start": true, "end": 6, "frame_nums": 2}}}}}}',
            "frame_range/start: expected an integer, got True",
        ),
        (
            '{"videos": {"2AkzuJYN": {"objects": {"1": {"frame_range": {"start": 1, "end": 1, "frame_nums": 1}}, '
            '"01": {"frame_range": {"start": 1, "end": 1, "frame_nums": 1}}}}}}',
            "videos/2AkzuJYN/objects: two keys name the same object id",
        ),
    ],
)
def test_a_malformed_meta_names_the_file_and_the_cause(lvos_copy, text, cause):
    path = write_meta(lvos_copy, "val", text)
    with pytest.raises(SourceError) as caught:
        read(lvos_copy, "val")
    assert caught.value.path == str(path) and cause in str(caught.value), str(caught.value)


def test_a_meta_naming_a_missing_video_names_the_meta(lvos_copy):
    meta = meta_of(lvos_copy, "val")
    meta["videos"]["aXXXXXXb"] = {"objects": {}}
    path = write_meta(lvos_copy, "val", meta)
    with pytest.raises(SourceError) as caught:
        read(lvos_copy, "val")
    assert caught.value.path == str(path)
    assert f"lists video 'aXXXXXXb', which has no folder in {lvos_copy / 'val' / 'JPEGImages'}" in str(caught.value)


@pytest.mark.parametrize(
    ("folder", "name"), [("JPEGImages", "0000011.jpg"), ("JPEGImages", "frame0006.jpg"), ("Annotations", "6.png")]
)
def test_a_frame_not_named_by_8_digits_is_named(lvos_copy, folder, name):
    stray = lvos_copy / "val" / folder / "2AkzuJYN" / name
    shutil.copy(next((lvos_copy / "val" / folder / "2AkzuJYN").iterdir()), stray)
    with pytest.raises(SourceError) as caught:
        read(lvos_copy, "val")
    assert caught.value.path == str(stray) and "frame name is not 8 digits" in str(caught.value)


def test_several_meta_files_and_none_for_the_split(lvos_copy):
    folder = lvos_copy / "val"
    (folder / "val_meta.json").rename(folder / "train_meta.json")
    (folder / "test_meta.json").write_text("{}")
    with pytest.raises(SourceError) as caught:
        read(folder)
    assert caught.value.path == str(folder)
    assert "holds several meta files (test_meta.json, train_meta.json) and none is val_meta.json" in str(caught.value)


def test_a_mask_of_another_size_names_the_mask(lvos_copy):
    mask = lvos_copy / "val" / "Annotations" / "2AkzuJYN" / "00000006.png"
    save_palette_png(mask, np.zeros((10, 10), np.uint8))
    with pytest.raises(SourceError) as caught:
        read(lvos_copy, "val")
    assert caught.value.path == str(mask) and "mask is 10x10 but its frame is 112x64" in str(caught.value)


def test_annotations_alone_read_as_masks_and_images_attaches_the_frames(lvos_root, tmp_path):
    """An LVOS split without its JPEGImages/ (predictions, --no-images copies) reads; -r images= gives the source back."""
    split = tmp_path / "lvos" / "train"
    shutil.copytree(lvos_root / "train", split)
    shutil.rmtree(split / "JPEGImages")
    alone, _ = read_all(split, "lvos", {})
    assert all(f[4] is None for v in alone for f in v["frames"])  # no image sha256: the frames have no images
    attached, _ = read_all(split, "lvos", {"images": str(lvos_root / "train" / "JPEGImages")})
    source, _ = read_all(lvos_root, "lvos", {"split": "train"})
    assert attached == source
