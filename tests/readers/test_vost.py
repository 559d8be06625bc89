"""VOST: ``frame00000.jpg`` frames, sparse masks, 255 = ignore (kept as void), ``ImageSets/<split>.txt``, ``JPEGImages_10fps/``.

The fixture has the traits TRI-ML/VOST's loaders show: no resolution level, names ``frame%05d``, a
sequence that starts past ``frame00000`` (the release's ``5788_apply_paint`` starts at ``frame00024``),
frames without a PNG, ignore bands of 255, a ``test.txt`` naming sequences the release does not
ship, a ``Videos/`` folder of mp4s, and the hidden files a copy picks up.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.errors import SourceError
from converters.formats.davis.reader import DavisReader
from converters.formats.folders.entries import frame_files
from converters.formats.mose.reader import MoseReader
from converters.formats.vost.reader import VostOptions, VostReader
from converters.formats.vost.spec import FRAME_NAMES
from converters.model import VOID_ID, MaskEncoding
from converters.testing.conformance import read_all
from converters.testing.suite import ReaderSuite

from ..archives import KINDS, pack
from ..folderdata import APPLE_DOUBLE, add_macos_junk, save_palette_png

WIDTH, HEIGHT = 24, 16
#: DAVIS's palette where VOST's masks use it: 1 and 2 its first colours, 255 the ignore colour (224, 224, 192).
PALETTE = [0, 0, 0, 128, 0, 0, 0, 128, 0] + [0, 0, 0] * 252 + [224, 224, 192]

#: sequence: (split, 5 fps frame numbers, the frame numbers with a PNG)
SEQUENCES = {
    "3161_peel_banana": ("train", [0, 6, 12, 18, 24, 30], [0, 6, 12, 24, 30]),
    "555_tear_aluminium_foil": ("val", [0, 6, 12, 18], [0, 6, 12, 18]),
    "5788_apply_paint": ("val", [24, 30, 96, 102], [24, 96, 102]),
}


def frame_image(number: int) -> Image.Image:
    rng = np.random.default_rng(number)
    return Image.fromarray(rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8))


def mask_values(number: int) -> np.ndarray:
    """Object 1 (breaking into pieces as the frames go on), object 2 from frame 12, and an ignore band of 255."""
    label = np.zeros((HEIGHT, WIDTH), np.uint8)
    label[2:8, 2 : 10 - number % 5] = 1
    if number >= 12:
        label[10:14, 12:20] = 2
        label[10:14, 15] = 0  # the piece splits
    label[0, :] = VOID_ID  # an ignore band along the top
    label[8:10, 4:12] = VOID_ID  # and one between the pieces
    return label


def make_vost(root: Path) -> Path:
    """A VOST root as the release unpacks: JPEGImages/, Annotations/, ImageSets/, JPEGImages_10fps/ (val), Videos/."""
    for name, (_, numbers, annotated) in SEQUENCES.items():
        for number in numbers:
            path = root / "JPEGImages" / name / f"frame{number:05d}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            frame_image(number).save(path, quality=90)
        for number in annotated:
            save_palette_png(root / "Annotations" / name / f"frame{number:05d}.png", mask_values(number), PALETTE)
    for name, (split, numbers, _) in SEQUENCES.items():
        if split == "val":  # 10 fps: the 5 fps frames and one between each pair, which has no PNG
            for number in sorted({*numbers, *(n + 3 for n in numbers)}):
                path = root / "JPEGImages_10fps" / name / f"frame{number:05d}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                frame_image(number).save(path, quality=90)
    (root / "ImageSets").mkdir()
    for split in ("train", "val"):
        names = [name for name, (s, _, _) in SEQUENCES.items() if s == split]
        (root / "ImageSets" / f"{split}.txt").write_text("\n".join(names))  # the release's lists end without a newline
    (root / "ImageSets" / "test.txt").write_text("10183_cut_onion\n")  # test frames ship separately
    (root / "Videos").mkdir()
    (root / "Videos" / "3161_peel_banana.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    add_macos_junk(root)
    add_macos_junk(root / "JPEGImages" / "3161_peel_banana")
    (root / "Annotations" / "3161_peel_banana" / "._frame00000.png").write_bytes(APPLE_DOUBLE)
    return root


@pytest.fixture(scope="module")
def vost_root(tmp_path_factory) -> Path:
    return make_vost(tmp_path_factory.mktemp("vost") / "VOST")


@pytest.fixture
def vost_copy(vost_root, tmp_path) -> Path:
    return Path(shutil.copytree(vost_root, tmp_path / "VOST"))


def read(source: Path, **options) -> dict:
    with VostReader(source, VostOptions(**options)) as reader:
        return {ref.name: reader.read_video(ref) for ref in reader.list_videos()}


# ------------------------------------------------------------------ the conformance suite


class TestVostThroughEveryFormat(ReaderSuite):
    reader = "vost"
    # The folder layouts' writers (MOSE, DAVIS, YouTube-VOS, SA-V) take frames named by number only, as their
    # readers and loaders do (SAM 2's parses int(stem)): VOST's frame00000 names are refused there, not lost.
    refused = {name: "frame files are named by frame number" for name in ("mose", "davis", "youtube-vos", "sav")}

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls, tmp_path_factory):
        return make_vost(tmp_path_factory.mktemp("vost-suite") / "VOST"), {}


# ------------------------------------------------------------------ what is read


def test_frames_are_the_frame_files_in_numeric_order_sparse_masks_unannotated(vost_root):
    videos = read(vost_root)
    assert sorted(videos) == sorted(SEQUENCES)
    for name, (_, numbers, annotated) in SEQUENCES.items():
        video = videos[name]
        assert [f.file_name for f in video.frames] == [f"frame{n:05d}.jpg" for n in numbers]
        assert [f.annotated for f in video.frames] == [n in annotated for n in numbers]
        assert (video.width, video.height) == (WIDTH, HEIGHT)
        assert video.encoding is MaskEncoding.PALETTE
    assert videos["5788_apply_paint"].frames[0].file_name == "frame00024.jpg"


def test_255_is_the_void_region_never_object_255(vost_root):
    video = read(vost_root)["3161_peel_banana"]
    assert [o.object_id for o in video.objects] == [1, 2]
    frame = video.frames[2]  # frame00012: both objects and both ignore bands
    assert [m.object_id for m in frame.masks.objects] == [1, 2]
    assert frame.masks.void is not None and frame.masks.void.area == WIDTH + 2 * 8


def test_a_grayscale_mask_of_0_and_255_alone_is_void_not_a_binary_object(vost_copy):
    """DAVIS 2016's 0/255 masks hold one object; in VOST 255 is always the ignore region."""
    folder = vost_copy / "Annotations" / "555_tear_aluminium_foil"
    for path in folder.iterdir():
        label = np.zeros((HEIGHT, WIDTH), np.uint8)
        label[:3, :] = VOID_ID
        Image.fromarray(label, mode="L").save(path)
    video = read(vost_copy)["555_tear_aluminium_foil"]
    assert video.encoding is MaskEncoding.GRAYSCALE and video.objects == ()
    assert all(f.masks.objects == () and f.masks.void.area == 3 * WIDTH for f in video.frames)


def test_a_split_reads_the_sequences_its_list_names(vost_root):
    assert sorted(read(vost_root, split="val")) == ["555_tear_aluminium_foil", "5788_apply_paint"]
    assert sorted(read(vost_root, split="train")) == ["3161_peel_banana"]
    with VostReader(vost_root, VostOptions(split="val")) as reader:
        info = reader.info()
    assert info.split == "val" and dict(info.attributes) == {"frames": "5fps", "image_set": "ImageSets/val.txt"}


def test_10fps_reads_jpegimages_10fps_where_every_other_frame_is_unannotated(vost_root):
    videos = read(vost_root, split="val", frames="10fps")
    video = videos["555_tear_aluminium_foil"]
    assert [f.file_name for f in video.frames][:4] == ["frame00000.jpg", "frame00003.jpg", "frame00006.jpg", "frame00009.jpg"]
    assert [f.annotated for f in video.frames] == [True, False] * 4
    assert Path(video.frames[1].image.path).parent.parent.name == "JPEGImages_10fps"


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_the_release_archive_is_read_in_place(vost_root, tmp_path, kind):
    archive = pack(vost_root.parent, tmp_path / f"VOST{KINDS[kind]}", kind)  # holding VOST/, hidden files and all
    assert api.detect(archive) == "vost"
    assert read_all(archive, "vost", {"split": "val"})[0] == read_all(vost_root, "vost", {"split": "val"})[0]


def test_the_frame_name_hook_keeps_numeric_order_at_any_width(tmp_path):
    for name in ("frame10.jpg", "frame9.jpg", "frame00011.jpg"):
        (tmp_path / name).write_bytes(b"")
    assert [e.name for e in frame_files(tmp_path, (".jpg",), names=FRAME_NAMES)] == [
        "frame9.jpg",
        "frame10.jpg",
        "frame00011.jpg",
    ]


def test_annotations_only_vost_reads_and_takes_its_frames_from_the_images_option(vost_copy):
    images = vost_copy.parent / "frames"
    shutil.move(vost_copy / "JPEGImages", images)
    shutil.rmtree(vost_copy / "JPEGImages_10fps")
    assert api.detect(vost_copy) == "vost"
    alone = read(vost_copy)["3161_peel_banana"]
    assert [f.file_name for f in alone.frames] == [f"frame{n:05d}.jpg" for n in (0, 6, 12, 24, 30)]
    assert all(f.image is None and f.annotated for f in alone.frames)
    attached = read(vost_copy, images=str(images))["3161_peel_banana"]
    assert [f.file_name for f in attached.frames] == [f"frame{n:05d}.jpg" for n in SEQUENCES["3161_peel_banana"][1]]
    assert attached.frames[3].image.path == str(images / "3161_peel_banana" / "frame00018.jpg")


# ------------------------------------------------------------------ detection


def test_a_vost_root_is_detected_as_vost_not_davis_or_mose(vost_root):
    assert api.detect(vost_root) == "vost"
    assert api.detect(vost_root.parent) == "vost"  # the folder the release unpacks into
    answer = VostReader.sniff(vost_root)
    assert answer.score > DavisReader.sniff(vost_root).score and "JPEGImages_10fps/" in answer.reason
    assert MoseReader.sniff(vost_root).score == 0


def test_vost_is_known_by_its_frame_names_without_jpegimages_10fps(vost_copy):
    shutil.rmtree(vost_copy / "JPEGImages_10fps")
    answer = VostReader.sniff(vost_copy)
    assert answer.score > 0 and "frames named like JPEGImages/3161_peel_banana/frame00000.jpg" in answer.reason
    assert api.detect(vost_copy) == "vost"


def test_a_davis_or_mose_root_is_not_vost(sample_root):
    for layout in ("davis", "mose"):
        assert VostReader.sniff(sample_root[layout]).score == 0
        assert api.detect(sample_root[layout]) == layout


# ------------------------------------------------------------------ bad input: each error names the file and the cause


def test_mixed_frame_name_styles_name_the_odd_file(vost_copy):
    folder = vost_copy / "JPEGImages" / "555_tear_aluminium_foil"
    shutil.copy(folder / "frame00006.jpg", folder / "00007.jpg")
    with pytest.raises(SourceError) as caught:
        read(vost_copy)
    assert caught.value.path == str(folder / "00007.jpg")
    assert "not a frame number (frames here are named like frame00000)" in caught.value.cause


def test_two_names_of_one_frame_number_are_refused(vost_copy):
    folder = vost_copy / "Annotations" / "555_tear_aluminium_foil"
    shutil.copy(folder / "frame00006.png", folder / "frame6.png")
    with pytest.raises(SourceError, match="duplicate frame number 6") as caught:
        read(vost_copy)
    assert Path(caught.value.path).parent == folder


def test_a_list_naming_a_missing_sequence_names_the_list(vost_root):
    with pytest.raises(SourceError) as caught:
        read(vost_root, split="test")
    assert caught.value.path == str(vost_root / "ImageSets" / "test.txt")
    assert "lists sequence '10183_cut_onion', which has no folder in" in caught.value.cause


def test_a_split_without_a_list_names_the_lists_there_are(vost_root):
    with pytest.raises(SourceError) as caught:
        read(vost_root, split="valid")
    assert caught.value.path == str(vost_root / "ImageSets" / "valid.txt")
    assert "lists here: test, train, val" in caught.value.cause and "did you mean 'val'" in caught.value.cause


def test_a_list_line_that_is_a_path_names_its_line(vost_copy):
    (vost_copy / "ImageSets" / "val.txt").write_text("555_tear_aluminium_foil\nJPEGImages/5788_apply_paint\n")
    with pytest.raises(SourceError, match="line 2: 'JPEGImages/5788_apply_paint' is not a sequence name"):
        read(vost_copy, split="val")


def test_a_mask_without_its_frame_is_named(vost_copy):
    stray = vost_copy / "Annotations" / "5788_apply_paint" / "frame00108.png"
    save_palette_png(stray, mask_values(108), PALETTE)
    with pytest.raises(SourceError) as caught:
        read(vost_copy)
    assert caught.value.path == str(stray) and "annotation without a frame of the same name" in caught.value.cause


def test_a_mask_of_another_size_is_named(vost_copy):
    path = vost_copy / "Annotations" / "3161_peel_banana" / "frame00012.png"
    save_palette_png(path, np.zeros((HEIGHT + 1, WIDTH), np.uint8), PALETTE)
    with pytest.raises(SourceError) as caught:
        read(vost_copy)
    assert (
        caught.value.path == str(path) and f"mask is {WIDTH}x{HEIGHT + 1} but its frame is {WIDTH}x{HEIGHT}" in caught.value.cause
    )


def test_10fps_without_its_folder_is_named(vost_copy):
    shutil.rmtree(vost_copy / "JPEGImages_10fps")
    with pytest.raises(SourceError) as caught:
        read(vost_copy, frames="10fps")
    assert caught.value.path == str(vost_copy / "JPEGImages_10fps") and "no JPEGImages_10fps/" in caught.value.cause


def test_read_all_of_a_vost_source_never_raises_anything_but_vosconv_errors(vost_copy):
    (vost_copy / "Annotations" / "3161_peel_banana" / "frame00006.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # cut short
    with pytest.raises(SourceError) as caught:
        read_all(vost_copy, "vost")
    assert caught.value.path.endswith("frame00006.png")
