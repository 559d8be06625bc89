"""The synthetic sample datasets: deterministic bytes, the right trees, and the traits other tests rely on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import sample
from converters.codecs import png
from converters.errors import OutputError
from converters.sample import DAVIS191_PALETTE, LAYOUTS, VOC_PALETTE, YOUTUBE_PALETTE, label_maps, write_sample


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("samples")
    return {layout: write_sample(root / layout, layout) for layout in LAYOUTS}


def files(root: Path) -> dict[str, bytes]:
    """Every file under root (hidden ones included) by POSIX relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def visible(folder: Path, suffix: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix == suffix and not p.name.startswith("."))


def video_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir())


def ids(label: np.ndarray) -> set[int]:
    return set(np.unique(label).tolist()) - {0, 255}


def vanishes_and_returns(track: list[set[int]]) -> bool:
    """Some object is present, then absent for at least one annotated frame, then present again."""
    for object_id in set().union(*track):
        present = [object_id in frame for frame in track]
        first, last = present.index(True), len(present) - 1 - present[::-1].index(True)
        if not all(present[first : last + 1]):
            return True
    return False


def png_header(path: Path) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) straight from the IHDR bytes."""
    data = path.read_bytes()
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"), data[24], data[25]


# --------------------------------------------------------------------------------------------
# Every layout


@pytest.mark.parametrize("layout", LAYOUTS)
def test_same_arguments_give_the_same_bytes(tmp_path, samples, layout):
    first = files(write_sample(tmp_path / "a", layout, seed=7))
    second = files(write_sample(tmp_path / "b", layout, seed=7))
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    other = files(samples[layout])  # seed 0
    assert any(first[name] != other.get(name) for name in first if name.endswith(".jpg"))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_images_and_masks_match_in_size_and_sizes_vary(samples, layout):
    root = samples[layout]
    sizes = set()
    for images in {p.parent for p in root.rglob("*.jpg") if not p.name.startswith(".")}:
        masks = Path(str(images).replace("JPEGImages", "Annotations"))
        jpegs = visible(images, ".jpg")
        with Image.open(images / jpegs[0]) as first:
            size = first.size
        sizes.add(size)
        for name in jpegs:
            with Image.open(images / name) as image:
                assert image.size == size and image.mode == "RGB"
        for name in visible(masks, ".png"):
            assert png_header(masks / name)[:2] == size
            assert name[:-4] + ".jpg" in jpegs
    assert len(sizes) >= 3
    assert any(width % 8 for width, _ in sizes)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_fast_png_decoder_reads_what_pillow_reads(samples, layout):
    for name, label in label_maps(samples[layout]).items():
        decoded, _ = png.decode((samples[layout] / name).read_bytes())
        np.testing.assert_array_equal(decoded, label, err_msg=name)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_scale_multiplies_videos_and_frames(tmp_path, samples, layout):
    small, big = samples[layout], write_sample(tmp_path / "big", layout, scale=2)
    small_jpegs = [p for p in small.rglob("*.jpg") if not p.name.startswith(".")]
    big_jpegs = [p for p in big.rglob("*.jpg") if not p.name.startswith(".")]
    assert len(big_jpegs) == 4 * len(small_jpegs)
    assert len({p.parent for p in big_jpegs}) == 2 * len({p.parent for p in small_jpegs})


# --------------------------------------------------------------------------------------------
# Output folder handling


def test_refuses_a_non_empty_folder_and_a_file(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="not an empty folder"):
        write_sample(tmp_path / "full")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError):
        write_sample(tmp_path / "file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "full"]


def test_fills_an_empty_folder_and_leaves_nothing_beside_it(tmp_path):
    (tmp_path / "out").mkdir()
    assert write_sample(tmp_path / "out", "davis") == tmp_path / "out"
    assert (tmp_path / "out" / "DAVIS" / "ImageSets" / "2017" / "train.txt").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert write_sample(tmp_path / "new" / "nested", "youtube-vos") == tmp_path / "new" / "nested"
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["nested"]


def test_a_failed_run_leaves_nothing(tmp_path, monkeypatch):
    def fail(root, rng, scale):
        (root / "train").mkdir()
        raise KeyboardInterrupt

    monkeypatch.setitem(sample._WRITERS, "mose", fail)
    with pytest.raises(KeyboardInterrupt):
        write_sample(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_an_output_filled_meanwhile_is_left_alone(tmp_path, monkeypatch):
    write = sample._WRITERS["mose"]

    def racing(root, rng, scale):  # another process writes the same output while we build
        write(root, rng, scale)
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "theirs.txt").write_text("theirs")

    monkeypatch.setitem(sample._WRITERS, "mose", racing)
    with pytest.raises(OutputError, match="into place"):
        write_sample(tmp_path / "out")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["theirs.txt"]


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        write_sample(tmp_path / "x", "lvos")
    for scale in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="scale"):
            write_sample(tmp_path / "x", scale=scale)
    assert list(tmp_path.iterdir()) == []


def test_palettes():
    assert len(VOC_PALETTE) == len(DAVIS191_PALETTE) == 768 and len(YOUTUBE_PALETTE) == 48
    assert VOC_PALETTE[9 * 3 : 10 * 3] == bytes((192, 0, 0)) and VOC_PALETTE[-3:] == bytes((224, 224, 192))
    assert DAVIS191_PALETTE[9 * 3 : 10 * 3] == bytes((191, 0, 0)) and DAVIS191_PALETTE[-3:] == bytes((255, 255, 255))
    assert YOUTUBE_PALETTE[3:6] == bytes((236, 95, 103)) and YOUTUBE_PALETTE[-3:] == bytes((15, 15, 15))


# --------------------------------------------------------------------------------------------
# MOSE


def test_mose_tree(samples):
    root = samples["mose"]
    assert sorted(p.name for p in root.iterdir()) == ["train", "valid"]
    for split, count in (("train", 3), ("valid", 2)):
        names = [p.name for p in video_dirs(root / split / "JPEGImages")]
        assert len(names) == count and all(re.fullmatch("[0-9a-f]{8}", n) for n in names)
        assert names == [p.name for p in video_dirs(root / split / "Annotations")]
        for name in names:
            jpegs = visible(root / split / "JPEGImages" / name, ".jpg")
            pngs = visible(root / split / "Annotations" / name, ".png")
            assert jpegs == [f"{i:05d}.jpg" for i in range(len(jpegs))] and len(jpegs) >= 6
            assert pngs == ([j.replace(".jpg", ".png") for j in jpegs] if split == "train" else ["00000.png"])
            for mask in pngs:
                assert png_header(root / split / "Annotations" / name / mask)[2:] == (8, 3)
                with Image.open(root / split / "Annotations" / name / mask) as image:
                    assert image.mode == "P" and bytes(image.getpalette()) == VOC_PALETTE
    junk = {p.name for p in root.rglob("*") if p.is_file() and not p.name.endswith((".jpg", ".png"))}
    assert junk == {".DS_Store", "notes.txt"}
    assert {p.name for p in root.rglob("._*")} == {"._00000.png", "._00000.jpg"}


def test_mose_traits(samples):
    root = samples["mose"]
    maps = label_maps(root)
    tracks = {}
    for name, label in maps.items():
        split, _, video, _ = name.split("/")
        tracks.setdefault((split, video), []).append(ids(label))
    train = [track for (split, _), track in tracks.items() if split == "train"]
    assert any(not frame for track in train for frame in track[1:-1])  # a fully empty frame mid-video
    assert any(vanishes_and_returns(track) for track in train)
    assert any(set().union(*track) - track[0] for track in train)  # an object that appears later
    assert all(track[0] for (split, _), track in tracks.items() if split == "valid")
    assert all(not (np.unique(label) == 255).any() for label in maps.values())


# --------------------------------------------------------------------------------------------
# DAVIS


def test_davis_tree_and_lists(samples):
    davis = samples["davis"] / "DAVIS"
    names = [p.name for p in video_dirs(davis / "JPEGImages" / "480p")]
    assert names == [p.name for p in video_dirs(davis / "Annotations" / "480p")]
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", n) for n in names)
    sets = davis / "ImageSets"
    lists = {(y, s): (sets / y / f"{s}.txt").read_text().split() for y in ("2016", "2017") for s in ("train", "val")}
    assert sorted(lists["2017", "train"] + lists["2017", "val"]) == names
    assert lists["2017", "train"] and lists["2017", "val"]
    assert set(lists["2016", "train"]) <= set(lists["2017", "train"]) and set(lists["2016", "val"]) <= set(lists["2017", "val"])
    for name in names:  # every frame annotated
        jpegs = visible(davis / "JPEGImages" / "480p" / name, ".jpg")
        assert jpegs == [f"{i:05d}.jpg" for i in range(len(jpegs))]
        assert visible(davis / "Annotations" / "480p" / name, ".png") == [j.replace(".jpg", ".png") for j in jpegs]


def test_davis_mask_kinds(samples):
    annotations = samples["davis"] / "DAVIS" / "Annotations" / "480p"
    kinds = {}
    for folder in video_dirs(annotations):
        modes, palettes, values = set(), set(), set()
        for path in sorted(folder.glob("*.png")):
            with Image.open(path) as image:
                modes.add(image.mode)
                palettes.add(bytes(image.getpalette()) if image.mode == "P" else None)
                values |= set(np.unique(np.asarray(image)).tolist())
        assert len(modes) == len(palettes) == 1
        mode, palette = modes.pop(), palettes.pop()
        if mode == "L":
            kinds[folder.name] = "binary" if values == {0, 255} else "gray"
        else:
            kinds[folder.name] = "voc" if palette == VOC_PALETTE else "191" if palette == DAVIS191_PALETTE else "?"
        if kinds[folder.name] != "binary":
            objects = values - {0, 255}
            assert objects == set(range(1, len(objects) + 1)), folder.name  # ids 1..N
        if kinds[folder.name] in ("voc", "191"):
            assert 255 in values, f"{folder.name}: no void"
    assert sorted(kinds.values()) == ["191", "binary", "gray", "voc"]
    gray = next(name for name, kind in kinds.items() if kind == "gray")
    assert max(int(label.max()) for n, label in label_maps(annotations / gray).items()) == 3


def test_davis_void_is_a_thin_band_in_some_frames(samples):
    maps = label_maps(samples["davis"] / "DAVIS" / "Annotations" / "480p")
    with_void = [name for name, label in maps.items() if (label == 255).any() and ids(label)]  # not DAVIS 2016's 0/255
    palette_frames = [name for name in maps if name.split("/")[0] in {n.split("/")[0] for n in with_void}]
    assert 0 < len(with_void) < len(palette_frames)
    for name in with_void:
        label = maps[name]
        void = label == 255
        objects = (label > 0) & ~void
        assert void.sum() < objects.sum()  # thin next to the objects
        touching = np.zeros_like(void)  # every void pixel is within 3 pixels of an object
        for dy in range(-3, 4):
            for dx in range(-3, 4):
                touching |= np.roll(np.roll(objects, dy, 0), dx, 1)
        assert touching[void].all(), name


# --------------------------------------------------------------------------------------------
# YouTube-VOS


def test_youtube_tree(samples):
    root = samples["youtube-vos"]
    assert sorted(p.name for p in root.iterdir()) == ["train", "valid"]
    starts = []
    for split in ("train", "valid"):
        assert sorted(p.name for p in (root / split).iterdir()) == ["Annotations", "JPEGImages", "meta.json"]
        meta = json.loads((root / split / "meta.json").read_text())
        names = [p.name for p in video_dirs(root / split / "JPEGImages")]
        assert all(re.fullmatch("[0-9a-f]{10}", n) for n in names)
        assert list(meta["videos"]) == names == [p.name for p in video_dirs(root / split / "Annotations")]
        for name in names:
            numbers = [int(j[:-4]) for j in visible(root / split / "JPEGImages" / name, ".jpg")]
            assert numbers == list(range(numbers[0], numbers[0] + 5 * len(numbers), 5))
            starts.append(numbers[0])
            for mask in (root / split / "Annotations" / name).glob("*.png"):
                assert png_header(mask)[2:] == (4, 3)  # 4-bit palette
                with Image.open(mask) as image:
                    assert bytes(image.getpalette()) == YOUTUBE_PALETTE
    assert 0 in starts and any(starts)


def test_youtube_train_meta_lists_the_visible_frames(samples):
    root = samples["youtube-vos"] / "train"
    meta = json.loads((root / "meta.json").read_text())["videos"]
    gaps = 0
    empty = 0
    for name, video in meta.items():
        jpegs = visible(root / "JPEGImages" / name, ".jpg")
        assert visible(root / "Annotations" / name, ".png") == [j.replace(".jpg", ".png") for j in jpegs]
        maps = label_maps(root / "Annotations" / name)
        frames = {f"{f[:-4]}": ids(label) for f, label in maps.items()}
        empty += sum(not v for v in frames.values())
        assert list(video["objects"]) == [str(i) for i in sorted(set().union(*frames.values()))]
        for key, obj in video["objects"].items():
            assert sorted(obj) == ["category", "frames"] and obj["category"] in sample._CATEGORIES
            assert obj["frames"] == [f for f in sorted(frames) if int(key) in frames[f]]
        gaps += vanishes_and_returns([frames[f] for f in sorted(frames)])
    assert gaps and empty


def test_youtube_valid_annotates_first_appearances_only(samples):
    root = samples["youtube-vos"] / "valid"
    meta = json.loads((root / "meta.json").read_text())["videos"]
    several = 0
    for name, video in meta.items():
        stems = [j[:-4] for j in visible(root / "JPEGImages" / name, ".jpg")]
        maps = {f[:-4]: ids(label) for f, label in label_maps(root / "Annotations" / name).items()}
        assert maps[stems[0]], "the first frame introduces an object"
        seen: set[int] = set()
        for stem in sorted(maps):
            assert maps[stem] and not maps[stem] & seen  # only objects new in that frame
            seen |= maps[stem]
        several += len(maps) > 1
        assert list(video["objects"]) == [str(i) for i in sorted(seen)]
        for key, obj in video["objects"].items():
            assert list(obj) == ["frames"]  # no category in valid
            first = next(stem for stem in sorted(maps) if int(key) in maps[stem])
            assert obj["frames"] == stems[stems.index(first) :]
    assert several == len(meta)


def test_a_full_disk_is_an_output_error_and_leaves_nothing(tmp_path, monkeypatch):
    import errno
    import os

    write = sample._WRITERS["mose"]

    def filling(root, rng, scale):
        write(root, rng, scale)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setitem(sample._WRITERS, "mose", filling)
    with pytest.raises(OutputError, match="No space left on device"):
        write_sample(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
