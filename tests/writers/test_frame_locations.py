"""Outputs that name their frames instead of holding them (COCO, CocoVID, BURST; Parquet and HDF5 with images=false)
say which frames are not where they name them: frames of an mp4, members of an archive, files outside the image root."""

from __future__ import annotations

import pytest

from converters import api
from converters.sources import imagefiles
from tests import archives, burstdata

#: writer -> (output name, writer options, the cases below whose frames it cannot find): each names its frames.
NAMING = {
    "coco": ("out.json", None, {1}),
    "cocovid": ("out.cocovid.json", None, {1}),
    "burst": ("out.burst.json", None, {1}),
    "parquet": ("out", {"images": False}, {0, 1}),
    "hdf5": ("out", {"images": False}, {0, 1}),
}


def _readable(out, writer) -> list[bool]:
    found = []
    for video in api.read_videos(out, writer):
        for frame in video.frames:
            try:
                imagefiles.read_bytes(frame.image)
                found.append(True)
            except Exception:
                found.append(False)
    return found


@pytest.mark.parametrize("writer", sorted(NAMING))
def test_frames_named_where_no_folder_holds_them_are_said(sample_root, tmp_path, writer):
    name, options, lost = NAMING[writer]
    annotations, frames = burstdata.write_tree(tmp_path / "burst")
    zipped = archives.pack(sample_root["mose"], tmp_path / "mose.zip", "zip")
    cases = [
        (annotations, "burst", {"images": str(frames)}),  # <dataset>/<seq_name>/: found by COCO and BURST, not by the shards
        (zipped, "mose", {"split": "train"}),  # members of an archive: found by none
        (sample_root["mose"], "mose", {"split": "train"}),  # <image root>/<video>/<frame>: found by all
    ]
    for number, (source, reader, reader_options) in enumerate(cases):
        out = tmp_path / str(number) / name
        out.parent.mkdir()
        summary = api.convert(source, out, to=writer, from_=reader, reader_options=reader_options, writer_options=options)
        readable = _readable(out, writer)
        if number not in lost:
            assert all(readable) and summary.notes == ()
            continue
        assert not any(readable)
        videos = list(api.read_videos(source, reader, **reader_options))
        (note,) = summary.notes
        assert note.startswith(f"{len(readable)} frames of {len(videos)} videos ({videos[0].name}, ")
        assert "are named where no folder holds them" in note


def test_embedded_frames_are_named_where_the_recorded_image_root_holds_them(sample_copy, tmp_path):
    """A Parquet source embeds its frames: COCO names them under the image root the manifest recorded, which holds
    them while the source folder is there, and no longer once it has moved (then the note says so)."""
    source = sample_copy("mose")
    api.convert(source, tmp_path / "embedded", to="parquet", from_="mose", reader_options={"split": "train"})
    summary = api.convert(tmp_path / "embedded", tmp_path / "there.json", to="coco", from_="parquet")
    assert summary.notes == () and all(_readable(tmp_path / "there.json", "coco"))
    source.rename(tmp_path / "moved")
    summary = api.convert(tmp_path / "embedded", tmp_path / "gone.json", to="coco", from_="parquet")
    (note,) = summary.notes
    assert "are named where no folder holds them" in note and not any(_readable(tmp_path / "gone.json", "coco"))


def test_embedded_frames_to_be_resized_are_not_the_files_under_the_image_root(sample_copy, tmp_path):
    """A frame whose bytes are resized when read (``ImageRef.resize``) is not the full-size file of that name under the
    image root: COCO naming it there paired it with the smaller video's size, and no note said so."""
    import dataclasses

    import converters

    source = sample_copy("mose")
    api.convert(source, tmp_path / "embedded", to="parquet", from_="mose", reader_options={"split": "train"})
    with api.open_reader(tmp_path / "embedded", "parquet") as reader:
        info = reader.info()
        videos = [reader.read_video(ref) for ref in reader.list_videos()]
    assert all(frame.image.data for video in videos for frame in video.frames)
    summary = converters.write_videos(videos, tmp_path / "full.json", to="coco", info=info)
    assert summary.notes == ()  # the bytes are those of the files under the image root

    def halve(video):
        size = (video.width // 2, video.height // 2)
        frames = tuple(dataclasses.replace(f, masks=None, image=dataclasses.replace(f.image, resize=size)) for f in video.frames)
        return dataclasses.replace(video, width=size[0], height=size[1], objects=(), frames=frames)

    halved = [halve(video) for video in videos]
    summary = converters.write_videos(halved, tmp_path / "half.json", to="coco", info=info)
    (note,) = summary.notes
    assert "are named where no folder holds them" in note


@pytest.mark.parametrize("source_writer", ["coco", "cocovid"])
def test_frames_copied_from_the_folder_a_json_records_are_said_so(sample_root, tmp_path, source_writer):
    """A COCO or CocoVID file names its frames under the absolute folder recorded when it was written (maybe on
    another machine, maybe an older copy): a conversion that copied them from there said nothing of it."""
    named = tmp_path / ("in.json" if source_writer == "coco" else "in.cocovid.json")
    api.convert(sample_root["mose"], named, to=source_writer, reader_options={"split": "train"})
    frames = sample_root["mose"] / "train" / "JPEGImages"
    said = f"frames copied from {frames.resolve()}, the images folder {named} records; --images DIR names another"
    assert said in api.convert(named, tmp_path / "recorded", to="parquet").notes
    chosen = api.convert(named, tmp_path / "chosen", to="mose", reader_options={"images": str(frames)})
    unembedded = api.convert(named, tmp_path / "unembedded", to="hdf5", writer_options={"images": False})
    again = api.convert(named, tmp_path / "again.json", to="coco")
    assert not [n for s in (chosen, unembedded, again) for n in s.notes if n.startswith("frames copied from")]


@pytest.mark.parametrize("writer", ["parquet", "hdf5"])
def test_frames_copied_from_the_folder_an_unembedded_output_records_are_said_so(sample_root, tmp_path, writer):
    """Parquet and HDF5 written with images=false name their frames under the recorded folder, as a COCO file does."""
    shards = tmp_path / "shards"
    api.convert(sample_root["mose"], shards, to=writer, reader_options={"split": "train"}, writer_options={"images": False})
    frames = (sample_root["mose"] / "train" / "JPEGImages").resolve()
    said = f"frames copied from {frames}, the images folder {shards} records; --images DIR names another"
    assert said in api.convert(shards, tmp_path / "copied", to="mose").notes
    embedded = tmp_path / "embedded"
    api.convert(sample_root["mose"], embedded, to=writer, reader_options={"split": "train"})
    assert not [n for n in api.convert(embedded, tmp_path / "again", to="mose").notes if n.startswith("frames copied")]
