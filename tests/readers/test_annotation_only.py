"""Annotation-only folders (``Annotations/`` and no ``JPEGImages/``: prediction folders, vosconv's ``--no-images``
outputs) read back, and ``--images`` (reader option ``images``) attaches frames from elsewhere.

Without images the frames are the mask files (``<stem>.jpg``, no image, sized by the PNGs): what a
``--no-images`` output keeps of its source is its annotated frames. With the original frames attached
it is the source again, exactly: unannotated frames and image bytes included.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.cli import main
from converters.errors import SourceError
from converters.formats.mose.reader import MoseOptions, MoseReader
from converters.testing.conformance import SOURCES, read_all
from converters.testing.content import assert_same_content

from ..archives import pack

#: Where each sample layout keeps the frames of the split a source reads, relative to the layout's root.
FRAMES = {"mose": "{split}/JPEGImages", "davis": "DAVIS/JPEGImages/480p", "youtube-vos": "{split}/JPEGImages"}


def no_images_output(sample_root: Path, source: str, out: Path) -> Path:
    """The sample ``source`` written to its own layout with ``--no-images``: annotations only."""
    layout, options = SOURCES[source]
    api.convert(sample_root[layout], out, to=layout, from_=layout, reader_options=options, writer_options={"images": False})
    assert not (out / "JPEGImages").exists() and (out / "Annotations").is_dir()
    return out


def frames_of(sample_root: Path, source: str) -> Path:
    layout, options = SOURCES[source]
    return sample_root[layout] / FRAMES[layout].format(split=options.get("split"))


def annotated_only(fingerprints: list[dict]) -> list[dict]:
    """What a source's fingerprints become without images: the annotated frames, renumbered, no image."""
    result = []
    for video in fingerprints:
        kept = [frame for frame in video["frames"] if frame[2] is not None]
        frames = [(index, name, masks, void, None) for index, (_, name, masks, void, _) in enumerate(kept)]
        result.append({**video, "frames": frames})
    return result


def assert_same_videos(expected: list[dict], actual: list[dict]) -> None:
    assert [v["name"] for v in actual] == [v["name"] for v in expected]
    for want, got in zip(expected, actual):
        assert_same_content(want, got)


# ------------------------------------------------------------------ --no-images outputs read back


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_a_no_images_output_reads_back_as_its_annotated_frames(sample_root, tmp_path, source):
    layout, options = SOURCES[source]
    out = no_images_output(sample_root, source, tmp_path / "out")
    assert api.detect(out) == layout
    expected, _ = read_all(sample_root[layout], layout, options)
    actual, info = read_all(out, layout)
    assert_same_videos(annotated_only(expected), actual)
    assert info.image_root is None


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_with_the_original_frames_attached_it_is_the_source_again(sample_root, tmp_path, source):
    layout, options = SOURCES[source]
    out = no_images_output(sample_root, source, tmp_path / "out")
    images = frames_of(sample_root, source)
    expected, _ = read_all(sample_root[layout], layout, options)
    actual, info = read_all(out, layout, {"images": str(images)})
    assert_same_videos(expected, actual)
    assert info.image_root == str(images)


@pytest.mark.filterwarnings("ignore:.*images are not embedded and")  # said on reading it back
@pytest.mark.parametrize("writer", ["coco", "parquet", "hdf5"])
def test_a_no_images_output_converts_on_without_images(sample_root, tmp_path, writer):
    out = no_images_output(sample_root, "mose-valid", tmp_path / "out")
    expected, _ = read_all(out, "mose")
    target = tmp_path / ("next.json" if writer == "coco" else "next")
    embeds = writer != "coco"
    api.convert(out, target, to=writer, writer_options={"images": False} if embeds else None)
    assert_same_videos(expected, read_all(target, writer)[0])


def test_with_images_attached_parquet_embeds_the_source_frames(sample_root, tmp_path):
    out = no_images_output(sample_root, "davis-val", tmp_path / "out")
    target = tmp_path / "shards"
    api.convert(out, target, to="parquet", reader_options={"images": str(frames_of(sample_root, "davis-val"))})
    assert_same_videos(read_all(sample_root["davis"], "davis", {"split": "val"})[0], read_all(target, "parquet")[0])


def test_the_cli_images_flag_attaches_the_frames(capsys, sample_root, tmp_path):
    out = no_images_output(sample_root, "youtube-vos-valid", tmp_path / "out")
    target = tmp_path / "again"
    images = frames_of(sample_root, "youtube-vos-valid")
    assert main(["convert", str(out), "-o", str(target), "--to", "youtube-vos", "--images", str(images)]) == 0
    capsys.readouterr()
    expected, _ = read_all(sample_root["youtube-vos"], "youtube-vos", {"split": "valid"})
    assert_same_videos(expected, read_all(target, "youtube-vos")[0])


@pytest.mark.parametrize("writer", ["parquet", "mose"])
def test_a_writer_that_embeds_images_refuses_annotations_only_unless_told(sample_root, tmp_path, writer):
    out = no_images_output(sample_root, "mose-train", tmp_path / "out")
    with pytest.raises(SourceError) as caught:
        api.convert(out, tmp_path / "next", to=writer)
    assert caught.value.path == str(out)
    assert (
        "annotations only" in caught.value.cause and "--no-images" in caught.value.cause and "--images DIR" in caught.value.cause
    )
    assert not (tmp_path / "next").exists()


@pytest.mark.filterwarnings("ignore:.*images are not embedded and")
@pytest.mark.parametrize("writer", ["mose", "parquet"])
def test_shards_whose_frames_are_gone_refuse_a_writer_that_embeds_images_unless_told(sample_copy, tmp_path, writer):
    """Parquet written with images=false names its frames: with their folder gone it holds annotations only, refused
    before anything is written as such a folder is (a layout failed on the first frame, after a warning that only the
    annotations would be written), and written with images=false."""
    source = sample_copy("mose")
    shards = tmp_path / "shards"
    api.convert(source, shards, to="parquet", from_="mose", reader_options={"split": "train"}, writer_options={"images": False})
    shutil.rmtree(source / "train" / "JPEGImages")
    with pytest.raises(SourceError) as caught:
        api.convert(shards, tmp_path / "next", to=writer)
    assert caught.value.path == str(shards)
    assert "not embedded" in caught.value.cause and "--no-images" in caught.value.cause and "--images DIR" in caught.value.cause
    assert not (tmp_path / "next").exists()
    api.convert(shards, tmp_path / "next", to=writer, writer_options={"images": False})
    assert_same_videos(read_all(shards, "parquet")[0], read_all(tmp_path / "next", writer)[0])


def test_annotations_only_in_an_archive_takes_its_frames_from_the_disk(sample_root, tmp_path):
    out = no_images_output(sample_root, "mose-train", tmp_path / "out")
    archive = pack(out, tmp_path / "predictions.zip", "zip")
    images = frames_of(sample_root, "mose-train")
    expected, _ = read_all(sample_root["mose"], "mose", {"split": "train"})
    assert_same_videos(annotated_only(expected), read_all(archive, "mose")[0])
    assert_same_videos(expected, read_all(archive, "mose", {"images": str(images)})[0])


# ------------------------------------------------------------------ a prediction folder


def predictions(root: Path) -> Path:
    """``Annotations/<video>/NNNNN.png`` alone, as a tracker writes its results: two 10x6 palette masks."""
    for stem in ("00000", "00003"):
        path = root / "Annotations" / "clip" / f"{stem}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        label = np.zeros((6, 10), np.uint8)
        label[1:4, 2:5] = 1
        Image.fromarray(label, mode="P").save(path)
    return root


def test_a_prediction_folder_is_detected_and_read_as_masks_without_frames(tmp_path):
    root = predictions(tmp_path / "preds")
    assert "Annotations/ alone" in MoseReader.sniff(root).reason
    assert api.detect(root) == "mose"
    with MoseReader(root) as reader:
        assert "annotations only" in reader.missing_images()
        (video,) = [reader.read_video(ref) for ref in reader.list_videos()]
    assert (video.width, video.height) == (10, 6)
    assert [(f.file_name, f.image, f.annotated) for f in video.frames] == [("00000.jpg", None, True), ("00003.jpg", None, True)]


# ------------------------------------------------------------------ bad input, each error naming the file and the cause


def test_an_images_option_naming_no_folder_is_named(tmp_path):
    root = predictions(tmp_path / "preds")
    with pytest.raises(SourceError) as caught:
        MoseReader(root, MoseOptions(images=str(tmp_path / "nowhere"))).list_videos()
    assert caught.value.path == str(tmp_path / "nowhere") and "images folder does not exist" in caught.value.cause


def test_a_video_without_a_frame_folder_in_the_images_folder_is_named(tmp_path):
    root = predictions(tmp_path / "preds")
    (tmp_path / "frames" / "other").mkdir(parents=True)
    with pytest.raises(SourceError) as caught:
        MoseReader(root, MoseOptions(images=str(tmp_path / "frames"))).list_videos()
    assert caught.value.path == str(tmp_path / "frames" / "clip") and "no frame folder for video 'clip'" in caught.value.cause


def test_a_mask_without_its_frame_among_the_attached_frames_is_named(tmp_path):
    root = predictions(tmp_path / "preds")
    frame = tmp_path / "frames" / "clip" / "00000.jpg"
    frame.parent.mkdir(parents=True)
    Image.new("RGB", (10, 6)).save(frame)
    with MoseReader(root, MoseOptions(images=str(tmp_path / "frames"))) as reader:
        (ref,) = reader.list_videos()
        with pytest.raises(SourceError) as caught:
            reader.read_video(ref)
    assert caught.value.path == str(root / "Annotations" / "clip" / "00003.png")
    assert caught.value.cause.startswith("annotation without a frame of the same name")
    assert f"(no 00003.jpg in {frame.parent})" in caught.value.cause  # where it was looked for
    assert "more of this video's annotations" not in caught.value.cause
    (root / "Annotations" / "clip" / "00003.png").rename(root / "Annotations" / "clip" / "00002.png")
    (root / "Annotations" / "clip" / "00000.png").rename(root / "Annotations" / "clip" / "00001.png")
    with MoseReader(root, MoseOptions(images=str(tmp_path / "frames"))) as reader, pytest.raises(SourceError) as both:
        reader.read_video(reader.list_videos()[0])
    assert both.value.cause.endswith("; 1 more of this video's annotations have none")


def test_masks_of_two_sizes_without_frames_are_named(tmp_path):
    root = predictions(tmp_path / "preds")
    odd = root / "Annotations" / "clip" / "00003.png"
    Image.fromarray(np.zeros((7, 10), np.uint8), mode="P").save(odd)
    with MoseReader(root) as reader, pytest.raises(SourceError) as caught:
        reader.read_video(reader.list_videos()[0])
    assert caught.value.path == str(odd) and "mask is 10x7 but its frame is 10x6" in caught.value.cause


def test_a_split_list_naming_a_sequence_without_annotations_names_the_list(sample_root, tmp_path):
    out = no_images_output(sample_root, "davis-train", tmp_path / "out")
    (listed,) = (out / "ImageSets" / "2017").iterdir()
    shutil.rmtree(out / "Annotations" / "480p" / listed.read_text().split()[0])
    with pytest.raises(SourceError) as caught:
        read_all(out, "davis", {"split": listed.stem})
    assert caught.value.path == str(listed) and "which has no folder in" in caught.value.cause
