"""DavisReader on small synthetic DAVIS 2016/2017 trees, and on real DAVIS masks copied from shared/samples."""

from __future__ import annotations

import json
import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters import options as plugin_options
from converters.codecs import labels
from converters.errors import OptionError, SourceError, VosconvWarning
from converters.formats.davis.reader import DavisOptions, DavisReader, read_sequence_list
from converters.formats.mose.reader import MoseReader
from converters.model import Category, MaskEncoding, ObjectInfo, Video

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
H, W = 6, 8


def voc_palette() -> list[int]:
    colours = []
    for index in range(256):
        r = g = b = 0
        c = index
        for shift in range(7, -1, -1):
            r, g, b = r | (c & 1) << shift, g | ((c >> 1) & 1) << shift, b | ((c >> 2) & 1) << shift
            c >>= 3
        colours += [r, g, b]
    return colours


def save_jpeg(path: Path, width: int = W, height: int = H) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (90, 120, 30)).save(path, "JPEG")


def save_palette(path: Path, label: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(label, "P")
    image.putpalette(voc_palette())
    image.save(path)


def save_gray(path: Path, label: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(label, "L").save(path)


def random_label(seed: int, values: list[int]) -> np.ndarray:
    return np.random.default_rng(seed).choice(np.array(values, dtype=np.uint8), size=(H, W))


def write_sequence(root: Path, name: str, frames: list[np.ndarray | None], save=save_palette, res: str = "480p") -> None:
    """One sequence: a JPEG per frame, a mask where the label is not None."""
    for index, label in enumerate(frames):
        save_jpeg(root / "JPEGImages" / res / name / f"{index:05d}.jpg")
        if label is not None:
            save(root / "Annotations" / res / name / f"{index:05d}.png", label)
    (root / "Annotations" / res / name).mkdir(parents=True, exist_ok=True)


def assert_frames(video: Video, expected: list[np.ndarray | None]) -> None:
    """Frame names in order, annotated exactly where a label was written, and each label map decoded back exactly."""
    assert [f.file_name for f in video.frames] == [f"{i:05d}.jpg" for i in range(len(expected))]
    assert (video.width, video.height) == (W, H)
    for frame, label in zip(video.frames, expected, strict=True):
        if label is None:
            assert frame.masks is None, frame.file_name
        else:
            np.testing.assert_array_equal(labels.label_map(video, frame.masks), label)


def read_all(reader: DavisReader) -> dict[str, Video]:
    return {ref.name: reader.read_video(ref) for ref in reader.list_videos()}


@pytest.fixture
def davis2017(tmp_path: Path) -> tuple[Path, dict[str, list[np.ndarray | None]]]:
    """A DAVIS 2017 trainval-like tree with a void region, a vanishing object, an empty frame, hidden files and semantics."""
    root = tmp_path / "DAVIS"
    bear = [random_label(i, [0, 1]) for i in range(3)]
    tennis = [
        random_label(10, [0, 1, 2, 255]),
        random_label(11, [0, 1]),  # object 2 gone
        np.zeros((H, W), np.uint8),  # annotated, and empty
        random_label(13, [0, 1, 2]),  # both back
    ]
    extra = [random_label(20, [0, 3])]  # in no list
    sequences = {"bear": bear, "tennis": tennis, "zebra": extra}
    for name, frames in sequences.items():
        write_sequence(root, name, frames)
    sets = root / "ImageSets" / "2017"
    sets.mkdir(parents=True)
    (sets / "train.txt").write_text("bear\n\n  tennis  \nbear\n")
    (sets / "val.txt").write_text("zebra\n")
    (sets / ".DS_Store").write_bytes(b"\0")
    (root / "JPEGImages" / "480p" / ".DS_Store").write_bytes(b"\0")
    (root / "JPEGImages" / "480p" / "tennis" / "._00000.jpg").write_bytes(b"junk")
    (root / "Annotations" / "480p" / "tennis" / "._00000.png").write_bytes(b"junk")
    (root / "Annotations" / "480p" / "tennis" / ".DS_Store").write_bytes(b"junk")
    (root / "categories.json").write_text(
        json.dumps({"bear": {"id": 3, "super_category": "animal"}, "person": {"id": 1, "super_category": "person"}})
    )
    (root / "davis_semantics.json").write_text(json.dumps({"bear": {"1": "bear"}, "tennis": {"2": "person", "1": "person"}}))
    return root, sequences


def test_davis2017_split_reads_listed_sequences_exactly(davis2017):
    root, sequences = davis2017
    reader = DavisReader(root, DavisOptions(split="train"))
    videos = read_all(reader)
    assert sorted(videos) == ["bear", "tennis"]
    for name, video in videos.items():
        assert video.encoding is MaskEncoding.PALETTE
        assert video.palette == bytes(voc_palette())
        assert_frames(video, sequences[name])
        for frame in video.frames:
            assert frame.image.path == str(root / "JPEGImages" / "480p" / name / frame.file_name)
    tennis = videos["tennis"]
    assert [o.object_id for o in tennis.objects] == [1, 2]
    assert tennis.frames[0].masks.void is not None and tennis.has_void
    assert [m.object_id for m in tennis.frames[1].masks.objects] == [1]
    assert tennis.frames[2].masks.objects == () and tennis.frames[2].annotated
    assert [m.object_id for m in tennis.frames[3].masks.objects] == [1, 2]
    assert tennis.annotated_indices == (0, 1, 2, 3)


def test_davis2017_info_and_categories(davis2017):
    root, _ = davis2017
    reader = DavisReader(root, DavisOptions(split="train"))
    info = reader.info()
    assert info.source_format == "davis" and info.split == "train"
    assert info.image_root == str(root / "JPEGImages" / "480p")
    lists = ("split_lists", '{"2017/train":["bear","tennis"],"2017/val":["zebra"]}')  # every list, whatever the split
    assert info.attributes == (("resolution", "480p"), ("year", "2017"), ("image_set", "2017/train.txt"), lists)
    assert info.categories == (Category(1, "person", "person"), Category(3, "bear", "animal"))
    videos = read_all(reader)
    assert videos["bear"].objects == (ObjectInfo(1, 3),)
    assert videos["tennis"].objects == (ObjectInfo(1, 1), ObjectInfo(2, 1))


def test_without_split_reads_every_folder_and_no_year(davis2017):
    root, sequences = davis2017
    reader = DavisReader(root)
    videos = read_all(reader)
    assert sorted(videos) == ["bear", "tennis", "zebra"]
    assert_frames(videos["zebra"], sequences["zebra"])
    assert videos["zebra"].objects == (ObjectInfo(3),)  # not in davis_semantics.json: no category
    assert reader.info().attributes == (
        ("resolution", "480p"),
        ("split_lists", '{"2017/train":["bear","tennis"],"2017/val":["zebra"]}'),
    )
    assert reader.info().split is None


def test_source_may_be_the_folder_holding_davis(davis2017):
    root, _ = davis2017
    reader = DavisReader(root.parent, DavisOptions(split="val"))
    assert [r.name for r in reader.list_videos()] == ["zebra"]
    assert DavisReader.sniff(root.parent).score == 10


def test_sparse_first_frame_annotation(tmp_path: Path):
    """test-dev / test-challenge: only 00000.png; the other frames are unannotated, not empty."""
    frames = [random_label(1, [0, 1, 2]), None, None]
    write_sequence(tmp_path, "salsa", frames)
    (tmp_path / "ImageSets" / "2017").mkdir(parents=True)
    (tmp_path / "ImageSets" / "2017" / "test-dev.txt").write_text("salsa\n")
    video = read_all(DavisReader(tmp_path, DavisOptions(split="test-dev")))["salsa"]
    assert_frames(video, frames)
    assert video.annotated_indices == (0,)


def test_davis2016_pair_list_and_binary_masks(tmp_path: Path):
    root = tmp_path / "DAVIS"
    swan = [random_label(i, [0, 255]) for i in range(3)]
    swan[1][:] = 0  # an annotated frame without the object
    write_sequence(root, "blackswan", swan, save=save_gray)
    write_sequence(root, "cows", [random_label(9, [0, 255])], save=save_gray)
    lists = root / "ImageSets" / "480p"
    lists.mkdir(parents=True)
    lines = [f"/JPEGImages/480p/blackswan/{i:05d}.jpg /Annotations/480p/blackswan/{i:05d}.png " for i in range(3)]
    (lists / "val.txt").write_text("\n".join(lines) + "\n\n")
    (lists / "train.txt").write_text("/JPEGImages/480p/cows/00000.jpg /Annotations/480p/cows/00000.png\n")
    reader = DavisReader(root, DavisOptions(split="val"))
    videos = read_all(reader)
    assert list(videos) == ["blackswan"]
    video = videos["blackswan"]
    assert video.encoding is MaskEncoding.BINARY and video.palette is None
    assert video.objects == (ObjectInfo(1),)
    assert_frames(video, swan)
    assert [m.object_id for m in video.frames[0].masks.objects] == [1]
    assert video.frames[1].masks.objects == ()
    assert not video.has_void
    assert reader.info().attributes == (("resolution", "480p"), ("year", "2016"), ("image_set", "480p/val.txt"))
    explicit = DavisReader(root, DavisOptions(split="train", year="2016"))
    assert [r.name for r in explicit.list_videos()] == ["cows"]
    # written back as DAVIS, the list is one of sequences, as the DAVIS 2017 release lists DAVIS 2016: said in a note
    out = tmp_path / "out"
    summary = api.convert(root, out, to="davis", reader_options={"split": "val"}, writer_options={"images": False})
    assert (out / "ImageSets" / "2016" / "val.txt").read_text() == "blackswan\n"
    assert (
        "DAVIS 2016's frame-pair list ImageSets/480p/val.txt written as ImageSets/2016/val.txt, one sequence a line, "
        "as the DAVIS 2017 release lists DAVIS 2016"
    ) in summary.notes


def save_one_bit(path: Path, label: np.ndarray) -> None:
    """A 0/255 mask as optimisers (optipng, oxipng) store it: 1-bit grayscale."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(label, "L").convert("1").save(path)


def test_one_bit_grayscale_masks_are_the_same_binary_masks(tmp_path: Path):
    """1-bit frames beside 8-bit 0/255 ones: one binary object, not object 1 here and void there."""
    root = tmp_path / "DAVIS"
    swan = [random_label(i, [0, 255]) for i in range(4)]
    write_sequence(root, "blackswan", swan, save=save_gray)
    for index in (0, 2):
        save_one_bit(root / "Annotations" / "480p" / "blackswan" / f"{index:05d}.png", swan[index])
        assert Image.open(root / "Annotations" / "480p" / "blackswan" / f"{index:05d}.png").mode == "1"
    (root / "ImageSets" / "2017").mkdir(parents=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text("blackswan\n")
    video = read_all(DavisReader(root, DavisOptions(split="val")))["blackswan"]
    assert video.encoding is MaskEncoding.BINARY and video.objects == (ObjectInfo(1),)
    assert not video.has_void
    assert_frames(video, swan)


def test_frames_whose_palettes_disagree_are_warned_about(tmp_path: Path):
    """One palette a video: a frame whose used colours differ says so; one that only adds or drops unused entries does not."""
    root = tmp_path / "DAVIS"
    bear = [random_label(i, [0, 1, 2]) for i in range(3)]
    write_sequence(root, "bear", bear)
    (root / "ImageSets" / "2017").mkdir(parents=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text("bear\n")
    masks = root / "Annotations" / "480p" / "bear"
    short = Image.fromarray(bear[1], "P")
    short.putpalette(voc_palette()[: 3 * 3])  # the same colours for 0, 1, 2; nothing more
    short.save(masks / "00001.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        video = read_all(DavisReader(root, DavisOptions(split="val")))["bear"]
    assert video.palette == bytes(voc_palette())
    other = Image.fromarray(bear[2], "P")
    other.putpalette([0, 0, 0, 10, 20, 30, *voc_palette()[6:]])  # object 1 in another colour
    other.save(masks / "00002.png")
    with pytest.warns(VosconvWarning, match=r"00002\.png: its palette colours differ from .*00000\.png"):
        video = read_all(DavisReader(root, DavisOptions(split="val")))["bear"]
    assert video.palette == bytes(voc_palette())
    assert_frames(video, bear)


def test_read_sequence_list_formats(tmp_path: Path):
    names = tmp_path / "names.txt"
    names.write_text(" bear\nbike-packing\n\nbear\n")
    assert read_sequence_list(names) == ["bear", "bike-packing"]
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("/JPEGImages/480p/b/00000.jpg /Annotations/480p/b/00000.png\n/JPEGImages/480p/a/00000.jpg x\n")
    assert read_sequence_list(pairs) == ["b", "a"]


def test_year_choice_2017_then_2016(tmp_path: Path):
    for name in ("bear", "car"):
        write_sequence(tmp_path, name, [random_label(0, [0, 1])])
    (tmp_path / "ImageSets" / "2016").mkdir(parents=True)
    (tmp_path / "ImageSets" / "2016" / "val.txt").write_text("car\n")
    (tmp_path / "ImageSets" / "2016" / "train.txt").write_text("bear\n")
    (tmp_path / "ImageSets" / "2017").mkdir(parents=True)
    (tmp_path / "ImageSets" / "2017" / "val.txt").write_text("bear\ncar\n")
    assert [r.name for r in DavisReader(tmp_path, DavisOptions(split="val")).list_videos()] == ["bear", "car"]
    in_2016 = DavisReader(tmp_path, DavisOptions(split="val", year="2016"))
    assert [r.name for r in in_2016.list_videos()] == ["car"]
    assert in_2016.info().attribute("year") == "2016"
    fallback = DavisReader(tmp_path, DavisOptions(split="train"))  # no 2017/train.txt
    assert [r.name for r in fallback.list_videos()] == ["bear"]
    assert fallback.info().attribute("year") == "2016"


def test_grayscale_index_masks(tmp_path: Path):
    frames = [random_label(3, [0, 1, 2, 3]), random_label(4, [0, 3, 255])]
    write_sequence(tmp_path, "choreography", frames, save=save_gray)
    video = read_all(DavisReader(tmp_path))["choreography"]
    assert video.encoding is MaskEncoding.GRAYSCALE
    assert [o.object_id for o in video.objects] == [1, 2, 3]
    assert video.frames[1].masks.void is not None
    assert_frames(video, frames)


@pytest.mark.parametrize("resolution", ["Full-Resolution", "1080p"])
def test_other_resolutions(tmp_path: Path, resolution: str):
    frames = [random_label(5, [0, 1])]
    write_sequence(tmp_path, "bear", frames, res=resolution)
    reader = DavisReader(tmp_path, DavisOptions(resolution=resolution))
    assert_frames(read_all(reader)["bear"], frames)
    assert reader.info().image_root == str(tmp_path / "JPEGImages" / resolution)
    assert reader.info().attribute("resolution") == resolution


def test_unknown_resolution_lists_the_existing_ones(davis2017):
    root, _ = davis2017
    with pytest.raises(SourceError, match=r"'Full-Resolution'.*resolutions here: 480p") as caught:
        DavisReader(root, DavisOptions(resolution="Full-Resolution")).list_videos()
    assert caught.value.path == str(root / "JPEGImages" / "Full-Resolution")


def test_listed_sequence_missing_on_disk(davis2017):
    root, _ = davis2017
    (root / "ImageSets" / "2017" / "val.txt").write_text("zebra\nghost\n")
    with pytest.raises(SourceError, match="'ghost'") as caught:
        DavisReader(root, DavisOptions(split="val")).list_videos()
    assert caught.value.path == str(root / "ImageSets" / "2017" / "val.txt")


def test_missing_split_list_names_the_existing_ones(davis2017):
    root, _ = davis2017
    with pytest.raises(SourceError, match=r"'test-dev'.*lists here: 2017/train, 2017/val$") as caught:
        DavisReader(root, DavisOptions(split="test-dev")).info()
    assert caught.value.path == str(root / "ImageSets" / "2017" / "test-dev.txt")
    with pytest.raises(SourceError, match=r"2016/val\.txt"):
        DavisReader(root, DavisOptions(split="val", year="2016")).list_videos()


def test_no_davis_folder(tmp_path: Path):
    with pytest.raises(SourceError, match="no JPEGImages"):
        DavisReader(tmp_path).list_videos()


def test_year_needs_split():
    with pytest.raises(OptionError, match="split"):
        plugin_options.build(DavisOptions, {"year": "2017"}, "reader options")
    assert plugin_options.build(DavisOptions, {"split": "val", "year": "2016"}, "x") == DavisOptions("val", "480p", "2016")


@pytest.mark.parametrize(
    ("file", "text", "cause"),
    [
        ("categories.json", "{not json", r"invalid JSON: .* line 1, column 2"),
        ("categories.json", '{"bear": {"id": "3"}}', "expected"),
        ("categories.json", '{"a": {"id": 1}, "b": {"id": 1}}', "share an id"),
        ("davis_semantics.json", '{"bear": {"1": "bear"}', "invalid JSON"),
        ("davis_semantics.json", '{"bear": {"one": "bear"}}', "not an integer"),
        ("davis_semantics.json", '{"bear": {"255": "bear"}}', "from 1 to 254"),
        ("davis_semantics.json", '{"bear": {"1": "lion"}}', "'lion' is not in categories.json"),
        ("davis_semantics.json", '["bear"]', "expected"),
    ],
)
def test_malformed_semantics_name_the_file(davis2017, file: str, text: str, cause: str):
    root, _ = davis2017
    (root / file).write_text(text)
    reader = DavisReader(root, DavisOptions(split="train"))
    for call in (reader.info, reader.list_videos):
        with pytest.raises(SourceError, match=cause) as caught:
            call()
        assert caught.value.path == str(root / file)


def test_one_semantics_file_alone_is_ignored(davis2017):
    root, _ = davis2017
    (root / "categories.json").unlink()
    reader = DavisReader(root, DavisOptions(split="train"))
    assert reader.info().categories == ()
    assert read_all(reader)["bear"].objects == (ObjectInfo(1),)


def test_reader_and_refs_pickle(davis2017):
    root, _ = davis2017
    reader = DavisReader(root, DavisOptions(split="train"))
    refs = reader.list_videos()
    clone = pickle.loads(pickle.dumps(reader))
    for ref in refs:
        assert clone.read_video(pickle.loads(pickle.dumps(ref))) == reader.read_video(ref)
    assert all(ref.nbytes > 0 for ref in refs)


def test_sniff_and_detect(davis2017, tmp_path: Path):
    root, _ = davis2017
    assert DavisReader.sniff(root).score == 10
    assert "ImageSets" in DavisReader.sniff(root).reason
    assert api.detect(root) == "davis"
    mose = tmp_path / "mose"
    save_jpeg(mose / "JPEGImages" / "0a1b2c3d" / "00000.jpg")
    save_palette(mose / "Annotations" / "0a1b2c3d" / "00000.png", random_label(0, [0, 1]))
    assert DavisReader.sniff(mose).score == 0
    assert api.detect(mose) == "mose"


@pytest.mark.parametrize("resolution", ["480p", "Full-Resolution", "1080p"])
def test_a_davis_root_without_image_sets_is_davis_not_mose(tmp_path: Path, resolution: str):
    """Read as MOSE, its resolution folder became one video: JPEGImages/<resolution>/ of video folders marks DAVIS."""
    bare = tmp_path / "bare"
    write_sequence(bare, "abc", [random_label(0, [0, 1])], res=resolution)
    assert DavisReader.sniff(bare).score == 10
    assert f"JPEGImages/{resolution}/" in DavisReader.sniff(bare).reason
    assert MoseReader.sniff(bare).score == 0
    assert api.detect(bare) == "davis"
    assert MoseReader.sniff(tmp_path).score == 0  # the folder holding it: MOSE took "bare" for a split before
    reader = DavisReader(bare, DavisOptions(resolution=resolution))
    assert [ref.name for ref in reader.list_videos()] == ["abc"]


def test_a_resolution_named_folder_of_frames_is_a_mose_video(tmp_path: Path):
    mose = tmp_path / "mose"
    save_jpeg(mose / "JPEGImages" / "480p" / "00000.jpg")
    save_palette(mose / "Annotations" / "480p" / "00000.png", random_label(0, [0, 1]))
    assert DavisReader.sniff(mose).score == 0
    assert api.detect(mose) == "mose"


def test_the_davis_2016_sample_without_image_sets_is_davis(shared_samples: Path):
    root = shared_samples / "davis2016"  # DAVIS/JPEGImages/480p/blackswan, no ImageSets/
    assert api.detect(root) == "davis"
    assert api.detect(root / "DAVIS") == "davis"
    with DavisReader(root) as reader:
        assert [ref.name for ref in reader.list_videos()] == ["blackswan"]


def test_a_misspelt_split_or_resolution_gets_a_suggestion(davis2017):
    root, _ = davis2017
    with pytest.raises(SourceError, match=r"no list for split 'trian'.*lists here: .*2017/train.*did you mean 'train'\?"):
        DavisReader(root, DavisOptions(split="trian")).list_videos()
    with pytest.raises(SourceError, match=r"no resolution '480' .*did you mean '480p'\?"):
        DavisReader(root, DavisOptions(resolution="480")).list_videos()
    # a resolution folder of another name, the default 480p not there: the flag that reads it is named
    (root / "JPEGImages" / "480p").rename(root / "JPEGImages" / "2017")
    with pytest.raises(SourceError, match=r"here: 2017\); choose one with --resolution \(reader option resolution\)$"):
        DavisReader(root).list_videos()


def test_detect_folder_holding_davis(davis2017):
    root, _ = davis2017
    assert api.detect(root.parent) == "davis"


# ---------------------------------------------------------------- real DAVIS masks from shared/samples


def samples(*parts: str) -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"no shared samples at {SAMPLES}")
    return SAMPLES.joinpath(*parts)


def place(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)


def test_real_davis2016_masks(tmp_path: Path):
    src = samples("davis2016", "DAVIS")
    root = tmp_path / "DAVIS"
    for index in range(2):
        place(src / "JPEGImages/480p/blackswan/00000.jpg", root / f"JPEGImages/480p/blackswan/{index:05d}.jpg")
        place(src / f"Annotations/480p/blackswan/{index:05d}.png", root / f"Annotations/480p/blackswan/{index:05d}.png")
    (root / "ImageSets/480p").mkdir(parents=True)
    (root / "ImageSets/480p/val.txt").write_text(
        "".join(f"/JPEGImages/480p/blackswan/{i:05d}.jpg /Annotations/480p/blackswan/{i:05d}.png\n" for i in range(2))
    )
    assert api.detect(root) == "davis"
    video = read_all(DavisReader(root, DavisOptions(split="val")))["blackswan"]
    assert video.encoding is MaskEncoding.BINARY
    assert (video.width, video.height) == (854, 480)
    assert video.objects == (ObjectInfo(1),)
    for frame in video.frames:
        expected = np.array(Image.open(root / "Annotations/480p/blackswan" / f"{frame.stem}.png"))
        assert set(np.unique(expected)) == {0, 255}
        np.testing.assert_array_equal(labels.label_map(video, frame.masks), expected)


def test_real_davis2017_masks_with_void(tmp_path: Path):
    src = samples("davis2017", "davisinteractive", "session", "test_data", "DAVIS")
    root = tmp_path / "DAVIS"
    for name in ("bear", "tennis"):
        for index in range(2):
            place(src / f"JPEGImages/480p/{name}/00000.jpg", root / f"JPEGImages/480p/{name}/{index:05d}.jpg")
            place(src / f"Annotations/480p/{name}/{index:05d}.png", root / f"Annotations/480p/{name}/{index:05d}.png")
    (root / "ImageSets/2017").mkdir(parents=True)
    (root / "ImageSets/2017/train.txt").write_text("bear\ntennis\n")
    videos = read_all(DavisReader(root, DavisOptions(split="train")))
    assert [o.object_id for o in videos["bear"].objects] == [1]
    assert [o.object_id for o in videos["tennis"].objects] == [1, 2]
    assert videos["tennis"].frames[0].masks.void.area == 225
    for name, video in videos.items():
        assert video.encoding is MaskEncoding.PALETTE
        for frame in video.frames:
            expected = np.array(Image.open(root / f"Annotations/480p/{name}/{frame.stem}.png"))
            np.testing.assert_array_equal(labels.label_map(video, frame.masks), expected)


def test_a_mose_folder_read_as_davis_says_what_it_looks_like(sample_root):
    """Video folders where resolutions should be: the error says so, instead of listing videos as resolutions."""
    with pytest.raises(SourceError, match=r"holds video folders, not resolution folders.*--from mose"):
        DavisReader(sample_root["mose"] / "train").list_videos()


def test_a_davis_folder_read_as_mose_says_its_videos_hold_folders(sample_root):
    """The other way round: ``480p`` taken for a video; "video has no frames" alone sent the user looking for lost JPEGs."""
    with MoseReader(sample_root["davis"] / "DAVIS") as reader:
        (ref,) = reader.list_videos()
        with pytest.raises(SourceError) as caught:
            reader.read_video(ref)
    assert ref.name == "480p" and caught.value.path.endswith("JPEGImages/480p")
    assert caught.value.cause.startswith("video has no frames, only folders (") and "leave --from out" in caught.value.cause
