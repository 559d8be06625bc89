"""A results folder (``<method>/<video>/<frame>.png``, masks alone, as VOS methods ship predictions and the DAVIS,
YouTube-VOS and MOSE servers read them) read directly, as the ``Annotations/`` folder of a layout without frames.

It was refused: detection could not tell the format, and ``--from mose`` found no ``JPEGImages/`` and
``Annotations/``. The fixture has the traits real results have: DAVIS palette PNGs with void, DAVIS 2016's 0/255
grayscale, a 4-bit palette PNG, grayscale ids, a ``.DS_Store``, a video missing a frame, and the CSVs DAVIS's
evaluation writes beside the video folders.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import converters
from converters import api
from converters.cli import main
from converters.codecs import png
from converters.errors import DetectionError, SourceError
from converters.formats.folders.results import DETECTION_SCORE
from converters.formats.mose.reader import MoseOptions, MoseReader
from converters.model import MaskEncoding
from converters.testing.conformance import read_all
from converters.testing.content import assert_same_content

from ..archives import pack
from ..folderdata import add_macos_junk, save_palette_png
from ..pngs import chunk_spans, make_png
from ..test_cli_mistakes import INSIDE_A_DATASET

#: A dataset's masks folder, which holds one folder of PNGs per video as a results folder does.
ANNOTATIONS_FOLDERS = ("/Annotations", "/Annotations/480p")

SIZE = (6, 10)  # height, width
#: A 16-colour palette, as YouTube-VOS's 4-bit PNGs carry.
SIXTEEN = bytes((7 * i + 3 * c) % 256 for i in range(16) for c in range(3))
#: Each video's frames: stem -> label map; a stem left out is a frame the method wrote no PNG for.
PALETTE_FRAMES = ("00000", "00001", "00003")  # 00002 missing


def label(shift: int, *ids: int) -> np.ndarray:
    values = np.zeros(SIZE, np.uint8)
    for k, object_id in enumerate(ids):
        values[1 + k, shift : shift + 3] = object_id
    return values


def results(root: Path) -> Path:
    """``root/osvos``: four videos of the kinds real results hold, and what tools leave beside them."""
    folder = root / "osvos"
    for shift, stem in enumerate(PALETTE_FRAMES):  # DAVIS 2017: palette, objects 1 and 2, void 255
        values = label(shift, 1, 2)
        values[5, :] = 255
        save_palette_png(folder / "bike-packing" / f"{stem}.png", values)
    for video in ("blackswan", "cows", "dogs"):
        (folder / video).mkdir()
    for stem in ("00000", "00001"):  # DAVIS 2016 results: grayscale 0/255, one object
        Image.fromarray(label(int(stem), 255), "L").save(folder / "blackswan" / f"{stem}.png")
    for stem in ("00000", "00001"):  # 4-bit palette PNGs (YouTube-VOS's website masks are 4-bit)
        (folder / "cows" / f"{stem}.png").write_bytes(make_png(label(int(stem), 3, 9), depth=4, palette=SIXTEEN))
    for stem in ("00000", "00001"):  # grayscale object ids
        Image.fromarray(label(int(stem), 1, 2), "L").save(folder / "dogs" / f"{stem}.png")
    add_macos_junk(folder)
    add_macos_junk(folder / "bike-packing", "00000.png")
    for name in ("global_results-val.csv", "per-sequence_results-val.csv"):  # davis2017-evaluation writes these
        (folder / name).write_text("J&F-Mean,J-Mean\n0.5,0.5\n")
    return folder


def pngs(folder: Path) -> dict[str, tuple[str, np.ndarray, bytes | None]]:
    """Each visible PNG under ``folder`` by relative path: its mode, pixel values and PLTE chunk body."""
    found = {}
    for path in sorted(folder.rglob("*.png")):
        if path.name.startswith("."):
            continue
        data = path.read_bytes()
        plte = next((data[start + 8 : end - 4] for kind, start, end in chunk_spans(data) if kind == b"PLTE"), None)
        with Image.open(path) as image:
            found[path.relative_to(folder).as_posix()] = (image.mode, np.asarray(image).copy(), plte)
    return found


def assert_same_pngs(expected: dict, actual: dict) -> None:
    assert sorted(actual) == sorted(expected)
    for name, (mode, values, plte) in expected.items():
        got_mode, got_values, got_plte = actual[name]
        assert (got_mode, got_plte) == (mode, plte), name
        np.testing.assert_array_equal(got_values, values, err_msg=name)


# ------------------------------------------------------------------ detected, and read as masks without frames


def test_a_results_folder_is_detected_as_mose_saying_why(tmp_path):
    folder = results(tmp_path)
    answer = MoseReader.sniff(folder)
    assert (answer.score, answer.reason, answer.near) == (
        DETECTION_SCORE,
        "a results folder: masks alone, one folder per video (bike-packing/00000.png)",
        0,
    )
    assert api.detect(folder) == "mose"


def test_it_reads_as_masks_without_frames_keeping_void_palettes_and_the_missing_frame(tmp_path):
    folder = results(tmp_path)
    with MoseReader(folder) as reader:
        assert reader.info().image_root is None and reader.info().split is None
        assert "a results folder" in reader.missing_images()
        videos = {ref.name: reader.read_video(ref) for ref in reader.list_videos()}
    assert sorted(videos) == ["bike-packing", "blackswan", "cows", "dogs"]  # the CSVs and .DS_Store are no videos
    bike = videos["bike-packing"]
    assert [(f.file_name, f.image, f.annotated) for f in bike.frames] == [(f"{s}.jpg", None, True) for s in PALETTE_FRAMES]
    assert bike.encoding is MaskEncoding.PALETTE and bike.palette[:768] == png.DAVIS_PALETTE[:768]
    assert all(f.masks.void is not None for f in bike.frames) and [o.object_id for o in bike.objects] == [1, 2]
    assert videos["blackswan"].encoding is MaskEncoding.BINARY and [o.object_id for o in videos["blackswan"].objects] == [1]
    assert videos["cows"].palette == SIXTEEN and [o.object_id for o in videos["cows"].objects] == [3, 9]
    assert videos["dogs"].encoding is MaskEncoding.GRAYSCALE
    assert all((v.width, v.height) == (SIZE[1], SIZE[0]) for v in videos.values())


def test_the_round_trip_through_coco_gives_back_the_same_pngs(tmp_path, capsys):
    """results folder -> COCO -> MOSE ``--no-images`` (void kept): every PNG's values, palette and name again.
    DAVIS 2016's 0/255 is the one exception by design (MOSE's loaders need object 1 as pixel value 1);
    DAVIS ``--no-images`` keeps it."""
    folder = results(tmp_path)
    coco = tmp_path / "osvos.json"
    assert main(["convert", str(folder), "-o", str(coco)]) == 0
    back = tmp_path / "back"
    assert main(["convert", str(coco), "-o", str(back), "--to", "mose", "--no-images", "-w", "void=keep"]) == 0
    assert "1 DAVIS 2016 binary (0/255) video: object 1 written as palette id 1" in capsys.readouterr().out
    source, again = pngs(folder), pngs(back / "Annotations")
    binary = {name: source.pop(name) for name in list(source) if name.startswith("blackswan/")}
    assert_same_pngs(source, {name: value for name, value in again.items() if not name.startswith("blackswan/")})
    assert all(again[name][0] == "P" and set(np.unique(again[name][1])) == {0, 1} for name in binary)
    davis = tmp_path / "davis"
    assert main(["convert", str(coco), "-o", str(davis), "--to", "davis", "--no-images"]) == 0
    kept = pngs(davis / "Annotations" / "480p")
    assert_same_pngs(binary, {name: value for name, value in kept.items() if name.startswith("blackswan/")})
    assert_same_content(read_all(folder, "mose")[0][1], read_all(coco, "coco")[0][1])


def test_frames_attached_with_images_make_the_missing_frame_unannotated(tmp_path):
    folder = results(tmp_path)
    frames = tmp_path / "JPEGImages"
    for video in ("bike-packing", "blackswan", "cows", "dogs"):
        for stem in ("00000", "00001", "00002", "00003"):
            (frames / video).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (SIZE[1], SIZE[0])).save(frames / video / f"{stem}.jpg")
    with MoseReader(folder, MoseOptions(images=str(frames))) as reader:
        assert reader.missing_images() is None and reader.info().image_root == str(frames)
        bike = reader.read_video(next(ref for ref in reader.list_videos() if ref.name == "bike-packing"))
    assert [(f.file_name, f.annotated) for f in bike.frames] == [
        ("00000.jpg", True),
        ("00001.jpg", True),
        ("00002.jpg", False),
        ("00003.jpg", True),
    ]
    assert all(f.image is not None for f in bike.frames)


def test_a_writer_that_embeds_images_refuses_it_unless_told(tmp_path):
    folder = results(tmp_path)
    with pytest.raises(SourceError) as caught:
        api.convert(folder, tmp_path / "shards", to="parquet")
    assert caught.value.path == str(folder)
    assert "a results folder" in caught.value.cause and "--no-images" in caught.value.cause
    assert not (tmp_path / "shards").exists()


@pytest.mark.parametrize("kind", ["zip", "tgz"])
@pytest.mark.parametrize("wrapped", [False, True], ids=["videos-at-the-root", "one-top-folder"])
def test_a_submission_archive_reads_in_place(tmp_path, kind, wrapped):
    """DAVIS's server wants the video folders at the zip's root; ``zip -r x.zip osvos`` wraps them in one folder,
    which MOSEv2's scorer allows. Both read, the macOS junk a Finder zip adds ignored."""
    folder = results(tmp_path)
    archive = pack(folder.parent if wrapped else folder, tmp_path / f"osvos{'.zip' if kind == 'zip' else '.tar.gz'}", kind)
    assert api.detect(archive) == "mose"
    expected, _ = read_all(folder, "mose")
    actual, info = read_all(archive, "mose")
    assert [v["name"] for v in actual] == [v["name"] for v in expected]
    for want, got in zip(expected, actual):
        assert_same_content(want, got)
    assert info.image_root is None


@pytest.mark.parametrize("reader", ["davis", "youtube-vos", "lvos"])
def test_another_layouts_reader_says_mose_reads_it(tmp_path, capsys, reader):
    folder = results(tmp_path)
    assert main(["info", str(folder), "--from", reader]) == 1
    assert (
        capsys.readouterr()
        .err.rstrip()
        .endswith("; it is a results folder: masks alone, one folder per video (bike-packing/00000.png), which --from mose reads")
    )


def test_a_split_given_for_a_results_folder_says_to_leave_it_out(tmp_path):
    folder = results(tmp_path)
    with pytest.raises(SourceError) as caught:
        MoseReader(folder, MoseOptions(split="valid")).list_videos()
    assert caught.value.cause.endswith(f"{folder} is a results folder: leave out --split")


# ------------------------------------------------------------------ what is not a results folder


def test_a_folder_of_results_folders_names_them(tmp_path, capsys):
    results(tmp_path / "semi-supervised")
    with pytest.raises(DetectionError) as caught:
        api.detect(tmp_path / "semi-supervised")
    assert "mose: no JPEGImages/ and Annotations/ folders; it holds results folders (osvos/): pass one" in str(caught.value)
    code = main(["info", str(tmp_path / "semi-supervised"), "--from", "mose"])
    assert code == 1 and "it holds results folders (osvos/): pass one of them as the source" in capsys.readouterr().err


@pytest.mark.parametrize(
    "spoil",
    [
        lambda folder: (folder / "notes.txt").write_text("not a video"),
        lambda folder: (folder / "dogs" / "00000.jpg").write_bytes(b""),
        lambda folder: shutil.rmtree(folder / "dogs") or (folder / "dogs").mkdir(),
        lambda folder: (folder / "JPEGImages").mkdir() or save_palette_png(folder / "JPEGImages" / "0.png", label(0, 1)),
    ],
    ids=["a-file-beside-the-videos", "a-jpeg-among-the-masks", "an-empty-video-folder", "a-layout-folder"],
)
def test_a_folder_of_anything_else_is_no_results_folder(tmp_path, spoil):
    folder = results(tmp_path)
    spoil(folder)
    assert MoseReader.sniff(folder).score == 0
    with pytest.raises(DetectionError):
        api.detect(folder)


@pytest.mark.parametrize(("layout", "inner"), [row[:2] for row in INSIDE_A_DATASET if row[1].endswith(ANNOTATIONS_FOLDERS)])
def test_a_datasets_own_annotations_folder_is_shaped_like_a_results_folder(sample_root, layout, inner):
    """It is read as one only when named with --from: detection names the dataset instead (tests/test_cli_mistakes.py
    holds that message for these folders and the others inside a dataset)."""
    assert MoseReader.sniff(sample_root[layout] / inner).score == DETECTION_SCORE


@pytest.mark.filterwarnings("ignore:.*images are not embedded and")
def test_datasets_their_splits_and_vosconvs_outputs_are_detected_as_before(sample_root, tmp_path):
    sources = {root: layout for layout, root in sample_root.items()}
    sources |= {split: "mose" for split in (sample_root["mose"] / "train", sample_root["mose"] / "valid")}
    sources |= {sample_root["youtube-vos"] / "train": "youtube-vos", sample_root["davis"] / "DAVIS": "davis"}
    for writer in ("mose", "davis", "youtube-vos"):
        for images in (True, False):
            out = tmp_path / f"{writer}-{images}"
            api.convert(sample_root["mose"], out, to=writer, reader_options={"split": "valid"}, writer_options={"images": images})
            sources[out] = writer
    api.convert(sample_root["mose"], tmp_path / "out.json", to="coco", reader_options={"split": "valid"})
    api.convert(sample_root["mose"], tmp_path / "shards", to="parquet", reader_options={"split": "valid"})
    sources |= {tmp_path / "out.json": "coco", tmp_path / "shards": "parquet"}
    for source, layout in sources.items():
        assert api.detect(source) == layout, source
        assert "results folder" not in MoseReader.sniff(source).reason, source


# ------------------------------------------------------------------ the real results in ../shared/samples


def test_the_shared_osvos_results_read_and_round_trip(shared_samples, tmp_path):
    """OSVOS's DAVIS 2017 predictions as davis2017-evaluation ships them (``results/semi-supervised/osvos``)."""
    folder = shared_samples / "davis2017" / "results" / "semi-supervised" / "osvos"
    assert api.detect(folder) == "mose"
    (video,) = converters.read_videos(folder)
    assert (video.name, video.width, video.height, [o.object_id for o in video.objects]) == ("bike-packing", 910, 480, [1, 2])
    api.convert(folder, tmp_path / "osvos.json", to="coco")
    api.convert(tmp_path / "osvos.json", tmp_path / "back", to="mose", writer_options={"images": False})
    assert_same_pngs(pngs(folder), pngs(tmp_path / "back" / "Annotations"))
