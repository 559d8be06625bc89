"""YoutubeVosReader on small synthetic train/valid splits (4-bit palette PNGs, frames stepping by 5), and the real demo masks."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.codecs import labels
from converters.errors import SourceError
from converters.formats.youtube_vos.reader import YoutubeVosOptions, YoutubeVosReader
from converters.model import Category, MaskEncoding, ObjectInfo, Video

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
H, W = 5, 7
# fmt: off
YOUTUBE_PALETTE = [
    0, 0, 0, 236, 95, 103, 249, 145, 87, 250, 200, 99, 153, 199, 148, 98, 179, 178, 102, 153, 204, 197, 148, 197,
    171, 121, 103, 255, 255, 255, 101, 115, 126, 11, 11, 11, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15,
]
# fmt: on


def save_jpeg(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (W, H), (200, 10, 60)).save(path, "JPEG")


def save_4bit(path: Path, label: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(label, "P")
    image.putpalette(YOUTUBE_PALETTE)
    image.save(path, bits=4)
    assert path.read_bytes()[24] == 4  # IHDR bit depth: really a 4-bit PNG


def save_8bit(path: Path, label: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(label, "P")
    image.putpalette([v for i in range(256) for v in (i, 255 - i, i // 2)])
    image.save(path)


def random_label(seed: int, values: list[int]) -> np.ndarray:
    return np.random.default_rng(seed).choice(np.array(values, dtype=np.uint8), size=(H, W))


Frames = dict[str, np.ndarray | None]  # frame stem -> label written (None: no PNG)


def write_video(split: Path, name: str, frames: Frames, save=save_4bit) -> None:
    for stem, label in frames.items():
        save_jpeg(split / "JPEGImages" / name / f"{stem}.jpg")
        if label is not None:
            save(split / "Annotations" / name / f"{stem}.png", label)
    (split / "Annotations" / name).mkdir(parents=True, exist_ok=True)


def assert_frames(video: Video, frames: Frames) -> None:
    assert [f.file_name for f in video.frames] == [f"{stem}.jpg" for stem in frames]
    assert (video.width, video.height) == (W, H)
    for frame, label in zip(video.frames, frames.values(), strict=True):
        if label is None:
            assert frame.masks is None, frame.file_name
        else:
            np.testing.assert_array_equal(labels.label_map(video, frame.masks), label)


def read_all(reader: YoutubeVosReader) -> dict[str, Video]:
    return {ref.name: reader.read_video(ref) for ref in reader.list_videos()}


def train_split(split: Path) -> dict[str, Frames]:
    """Two train videos: frames from 00005 in steps of 5, an object that vanishes and returns, an empty frame."""
    penguins: Frames = {
        "00005": random_label(1, [0, 1, 2]),
        "00010": random_label(2, [0, 1]),
        "00015": np.zeros((H, W), np.uint8),
        "00020": random_label(4, [0, 1, 2]),
    }
    apes: Frames = {"00000": random_label(5, [0, 3, 10]), "00005": random_label(6, [0, 10]), "00010": random_label(7, [0, 3])}
    videos = {"003234408d": penguins, "0a0b0c0d0e": apes}
    for name, frames in videos.items():
        write_video(split, name, frames)
    meta = {
        "videos": {
            "003234408d": {
                "objects": {
                    "1": {"category": "penguin", "frames": ["00005", "00010", "00015", "00020"]},
                    "2": {"category": "fish", "frames": ["00005", "00020"]},
                }
            },
            "0a0b0c0d0e": {
                "objects": {
                    "10": {"category": "ape", "frames": ["00000", "00005"]},
                    "3": {"category": "penguin", "frames": ["00000", "00010"]},
                }
            },
        }
    }
    (split / "meta.json").write_text(json.dumps(meta))
    (split / "JPEGImages" / ".DS_Store").write_bytes(b"\0")
    (split / "Annotations" / "003234408d" / "._00005.png").write_bytes(b"junk")
    (split / "JPEGImages" / "003234408d" / "._00005.jpg").write_bytes(b"junk")
    return videos


def valid_split(split: Path) -> dict[str, Frames]:
    """Valid: a PNG only where objects first appear, holding only them; no categories; one video not in meta.json."""
    late = random_label(9, [0, 2])
    sparse: Frames = {"00000": random_label(8, [0, 1]), "00005": None, "00010": None, "00015": late, "00020": None}
    unlisted: Frames = {"00000": random_label(10, [0, 1]), "00005": None}
    write_video(split, "aaaa000000", sparse)
    write_video(split, "bbbb000000", unlisted, save=save_8bit)
    meta = {
        "videos": {
            "aaaa000000": {
                "objects": {
                    "2": {"frames": ["00015", "00020"]},
                    "1": {"frames": ["00000", "00005", "00010", "00015", "00020"]},
                }
            }
        }
    }
    (split / "meta.json").write_text(json.dumps(meta))
    return {"aaaa000000": sparse, "bbbb000000": unlisted}


@pytest.fixture
def youtube(tmp_path: Path) -> tuple[Path, dict[str, Frames], dict[str, Frames]]:
    root = tmp_path / "YouTubeVOS"
    return root, train_split(root / "train"), valid_split(root / "valid")


def test_train_split_exact(youtube):
    root, train, _ = youtube
    reader = YoutubeVosReader(root / "train")
    videos = read_all(reader)
    assert sorted(videos) == ["003234408d", "0a0b0c0d0e"]
    for name, video in videos.items():
        assert video.encoding is MaskEncoding.PALETTE
        assert video.palette == bytes(YOUTUBE_PALETTE)
        assert_frames(video, train[name])
        assert all(f.annotated for f in video.frames)
        for frame in video.frames:
            assert frame.image.path == str(root / "train" / "JPEGImages" / name / frame.file_name)
    penguins = videos["003234408d"]
    assert penguins.objects == (
        ObjectInfo(1, 3, ("00005", "00010", "00015", "00020")),
        ObjectInfo(2, 2, ("00005", "00020")),
    )
    assert [[m.object_id for m in f.masks.objects] for f in penguins.frames] == [[1, 2], [1], [], [1, 2]]
    assert videos["0a0b0c0d0e"].objects == (ObjectInfo(3, 3, ("00000", "00010")), ObjectInfo(10, 1, ("00000", "00005")))


def test_train_info(youtube):
    root, _, _ = youtube
    info = YoutubeVosReader(root / "train").info()
    assert info.source_format == "youtube-vos"
    assert info.split == "train"  # the split folder itself: the same split as chosen under the root
    assert info.categories == (Category(1, "ape"), Category(2, "fish"), Category(3, "penguin"))
    assert info.image_root == str(root / "train" / "JPEGImages")
    chosen = YoutubeVosReader(root, YoutubeVosOptions(split="train")).info()
    assert chosen.split == "train" and chosen.categories == info.categories


def test_valid_split_sparse_first_appearance(youtube):
    root, _, valid = youtube
    reader = YoutubeVosReader(root, YoutubeVosOptions(split="valid"))
    assert reader.info().categories == ()
    assert reader.info().split == "valid"
    videos = read_all(reader)
    sparse = videos["aaaa000000"]
    assert_frames(sparse, valid["aaaa000000"])
    assert sparse.annotated_indices == (0, 3)
    assert [m.object_id for m in sparse.frames[3].masks.objects] == [2]  # the PNG holds only the new object
    assert sparse.objects == (
        ObjectInfo(1, None, ("00000", "00005", "00010", "00015", "00020")),
        ObjectInfo(2, None, ("00015", "00020")),
    )
    unlisted = videos["bbbb000000"]  # on disk, not in meta.json: objects from its masks, 8-bit palette
    assert_frames(unlisted, valid["bbbb000000"])
    assert unlisted.objects == (ObjectInfo(1),)


def test_a_pair_folder_not_named_as_a_split_has_none(tmp_path: Path):
    train_split(tmp_path / "my-subset")
    assert YoutubeVosReader(tmp_path / "my-subset").info().split is None


def test_root_with_one_split_is_used(tmp_path: Path):
    train = train_split(tmp_path / "train")
    reader = YoutubeVosReader(tmp_path)
    assert reader.info().split == "train"
    assert_frames(read_all(reader)["003234408d"], train["003234408d"])


def test_root_with_several_splits_needs_split(youtube):
    root, _, _ = youtube
    with pytest.raises(SourceError, match=r"several splits \(train, valid\)") as caught:
        YoutubeVosReader(root).list_videos()
    assert caught.value.path == str(root)
    with pytest.raises(SourceError, match=r"no split 'test'.*train, valid"):
        YoutubeVosReader(root, YoutubeVosOptions(split="test")).info()


def test_no_meta_anywhere(tmp_path: Path):
    with pytest.raises(SourceError, match=r"no meta\.json"):
        YoutubeVosReader(tmp_path).info()


def test_meta_video_without_frames_folder(youtube):
    root, _, _ = youtube
    meta = root / "valid" / "meta.json"
    data = json.loads(meta.read_text())
    data["videos"]["ffff000000"] = {"objects": {"1": {"frames": ["00000"]}}}
    meta.write_text(json.dumps(data))
    with pytest.raises(SourceError, match="'ffff000000'") as caught:
        YoutubeVosReader(root / "valid").list_videos()
    assert caught.value.path == str(meta)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ('{\n  "videos": {,}\n}', r"invalid JSON: .* line 2, column 14"),
        ("[]", '"videos"'),
        ('{"videos": []}', '"videos"'),
        ('{"videos": {"v": []}}', "videos/v: expected"),
        ('{"videos": {"v": {"objects": {"x": {}}}}}', "videos/v/objects/x: object key 'x' is not an integer"),
        ('{"videos": {"v": {"objects": {"0": {}}}}}', "from 1 to 254"),
        ('{"videos": {"v": {"objects": {"1": "penguin"}}}}', "videos/v/objects/1: expected"),
        ('{"videos": {"v": {"objects": {"1": {"frames": "00000"}}}}}', "frames: expected a list"),
        ('{"videos": {"v": {"objects": {"1": {"frames": [0, 5]}}}}}', "frames: expected a list"),
        ('{"videos": {"v": {"objects": {"1": {"category": 3}}}}}', "category: expected a string"),
        ('{"videos": {"v": {"objects": {"1": {}, "01": {}}}}}', "same object id"),
    ],
)
def test_malformed_meta_names_meta_json(tmp_path: Path, text: str, cause: str):
    write_video(tmp_path, "v", {"00000": random_label(0, [0, 1])})
    (tmp_path / "meta.json").write_text(text)
    reader = YoutubeVosReader(tmp_path)
    for call in (reader.info, reader.list_videos):
        with pytest.raises(SourceError, match=cause) as caught:
            call()
        assert caught.value.path == str(tmp_path / "meta.json")


def test_reader_and_refs_pickle(youtube):
    root, _, _ = youtube
    reader = YoutubeVosReader(root, YoutubeVosOptions(split="train"))
    refs = reader.list_videos()
    clone = pickle.loads(pickle.dumps(reader))
    assert vars(clone).keys() == {"source", "options", "fs"}  # nothing dataset-sized rides along with each shard
    assert len(pickle.dumps(reader.fs)) < 100  # the local disk: no state
    for ref in refs:
        assert clone.read_video(pickle.loads(pickle.dumps(ref))) == reader.read_video(ref)


def test_sniff_and_detect(youtube, tmp_path: Path):
    root, _, _ = youtube
    assert YoutubeVosReader.sniff(root / "train").score == 10
    assert YoutubeVosReader.sniff(root).score == 10
    assert "train, valid" in YoutubeVosReader.sniff(root).reason
    assert api.detect(root) == "youtube-vos"
    assert api.detect(root / "valid") == "youtube-vos"
    bare = tmp_path / "bare"
    write_video(bare, "0123456789", {"00000": random_label(0, [0, 1])})
    assert YoutubeVosReader.sniff(bare).score == 0
    assert "meta.json" in YoutubeVosReader.sniff(bare).reason
    assert api.detect(bare) == "mose"


# ---------------------------------------------------------------- real YouTube-VOS demo masks from shared/samples


def test_real_4bit_demo_masks(tmp_path: Path):
    demo = SAMPLES / "youtubevos" / "static" / "demos" / "-t-NFaw9mv0_4"
    if not SAMPLES.is_dir():
        pytest.skip(f"no shared samples at {SAMPLES}")
    split = tmp_path / "train"
    for number in (0, 5):
        (split / "JPEGImages/0062f687f1").mkdir(parents=True, exist_ok=True)
        (split / "Annotations/0062f687f1").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demo / "images/0.jpg", split / f"JPEGImages/0062f687f1/{number:05d}.jpg")
        shutil.copyfile(demo / f"annotations/{number}.png", split / f"Annotations/0062f687f1/{number:05d}.png")
    expected = {n: np.array(Image.open(split / f"Annotations/0062f687f1/{n:05d}.png")) for n in (0, 5)}
    ids = sorted({int(v) for label in expected.values() for v in np.unique(label)} - {0})
    meta = {"videos": {"0062f687f1": {"objects": {str(i): {"category": "person", "frames": ["00000", "00005"]} for i in ids}}}}
    (split / "meta.json").write_text(json.dumps(meta))
    assert api.detect(split) == "youtube-vos"
    video = read_all(YoutubeVosReader(split))["0062f687f1"]
    assert (video.width, video.height) == (1280, 720)
    assert video.encoding is MaskEncoding.PALETTE and len(video.palette) == 48
    assert [o.object_id for o in video.objects] == ids
    assert all(o.category_id == 1 for o in video.objects)
    for frame, number in zip(video.frames, (0, 5), strict=True):
        np.testing.assert_array_equal(labels.label_map(video, frame.masks), expected[number])
