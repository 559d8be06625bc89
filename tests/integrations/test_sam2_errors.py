"""What the SAM 2 drop-in says when something is missing or damaged: the file or address, and the cause."""

from __future__ import annotations

import pytest
from iopath.common.file_io import g_pathmgr

from converters import api
from converters.errors import SourceError
from converters.integrations.sam2 import ShardRawDataset, frame_uri
from converters.sample import write_sample


def test_a_frame_address_of_no_stored_frame_is_file_not_found_naming_it(sam2_sets):
    """A bare KeyError('name') or IndexError reached SAM 2's load_images, which does not retry: name the address."""
    _, outputs = sam2_sets["mose"]
    raw = ShardRawDataset(outputs["parquet"])
    video, _ = raw.get_video(0)
    past = frame_uri(raw.path, video.video_name, len(video.frames))
    with pytest.raises(FileNotFoundError, match=f"{past}: video '{video.video_name}' has {len(video.frames)} frames"):
        g_pathmgr.open(past, "rb")
    unknown = frame_uri(raw.path, "nosuchvideo", 0)
    with pytest.raises(FileNotFoundError, match=f"{unknown}: .* has no video 'nosuchvideo'"):
        g_pathmgr.open(unknown, "rb")


def test_g_pathmgr_exists_and_isfile_answer_for_frame_addresses(sam2_sets, tmp_path):
    """A user's own code asking iopath about a frame address gets True or False, never NotImplementedError."""
    _, outputs = sam2_sets["mose"]
    raw = ShardRawDataset(outputs["parquet"])
    video, _ = raw.get_video(0)
    there = video.frames[0].image_path
    gone = [
        frame_uri(raw.path, video.video_name, len(video.frames)),
        frame_uri(raw.path, "nosuchvideo", 0),
        frame_uri(str(tmp_path / "nosuchdataset"), video.video_name, 0),
        there.replace("/0.jpg", "/x.jpg"),
    ]
    assert g_pathmgr.exists(there) and g_pathmgr.isfile(there) and not g_pathmgr.isdir(there)
    assert [g_pathmgr.exists(p) or g_pathmgr.isfile(p) for p in gone] == [False] * len(gone)


def test_frames_whose_folder_is_gone_are_refused_when_made(tmp_path):
    """Not embedded (images=false) and the folder moved: said by the constructor, not by each DataLoader worker."""
    root = write_sample(tmp_path / "mose", "mose")
    served, gone = tmp_path / "served", tmp_path / "gone"
    for out in (served, gone):
        api.convert(root, out, to="parquet", from_="mose", reader_options={"split": "train"}, writer_options={"images": False})
    video = ShardRawDataset(served).get_video(0)[0]
    with g_pathmgr.open(video.frames[0].image_path, "rb") as frame:  # served from the folder while it is there
        assert frame.read() == (root / "train" / "JPEGImages" / video.video_name / "00000.jpg").read_bytes()
    (root / "train").rename(tmp_path / "moved")  # before this process opens `gone`
    with pytest.raises(SourceError, match=r"not embedded and this folder of them is gone; pass image_root=DIR$"):
        ShardRawDataset(gone)  # its only remedy: ShardRawDataset takes no images=False


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_missing_or_damaged_shard_is_named(sam2_sets, tmp_path, fmt, damage):
    """get_video (its error logged by VOSDataset's retries) and the frame addresses both name the shard file."""
    clean, _ = sam2_sets["mose"]
    out = tmp_path / fmt
    api.convert(clean, out, to=fmt)  # the clean MOSE folders, read as MOSE train
    raw = ShardRawDataset(out)
    (shard,) = [p for p in out.rglob("*") if p.suffix in (".parquet", ".h5")]
    if damage == "missing":
        shard.unlink()
    else:
        shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    with pytest.raises(SourceError, match=str(shard)):
        raw.get_video(0)
    with pytest.raises(SourceError, match=str(shard)):
        g_pathmgr.open(frame_uri(raw.path, raw.video_names[1], 0), "rb")
