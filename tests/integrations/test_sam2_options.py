"""``ShardRawDataset``'s constructor against ``PNGRawDataset``'s: each argument the same, or an OptionError."""

from __future__ import annotations

import pytest
from iopath.common.file_io import g_pathmgr
from training.dataset.vos_raw_dataset import PNGRawDataset

from converters.errors import OptionError, SourceError
from converters.integrations.sam2 import ShardRawDataset


def videos(raw) -> list[tuple]:
    """Each video's name, id and frames (frame_idx and the image's bytes), as get_video gives them."""
    found = []
    for idx in range(len(raw)):
        video, _ = raw.get_video(idx)
        frames = []
        for frame in video.frames:
            with g_pathmgr.open(frame.image_path, "rb") as image:
                frames.append((frame.frame_idx, image.read()))
        found.append((video.video_name, video.video_id, frames))
    return found


@pytest.mark.parametrize("layout", ["mose", "youtube-vos"])
@pytest.mark.parametrize(
    "options",
    [
        {"sample_rate": 2},
        {"sample_rate": 3, "truncate_video": 7},
        {"truncate_video": 4},
        {"truncate_video": 0},
        {"frames_sampling_mult": True, "sample_rate": 4},
        {"is_palette": True, "single_object_mode": False},
    ],
)
def test_frame_options_work_as_in_png_raw_dataset(sam2_sets, layout, options):
    """sample_rate, truncate_video and frames_sampling_mult were unknown keywords: hydra's instantiate failed."""
    clean, outputs = sam2_sets[layout]
    want = videos(PNGRawDataset(str(clean / "JPEGImages"), str(clean / "Annotations"), **options))
    assert videos(ShardRawDataset(outputs["hdf5"], **options)) == want
    assert videos(ShardRawDataset(outputs["parquet"], **options)) == want
    assert any(len(frames) > 1 for _, _, frames in want)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"is_palette": False}, "per-object PNG folders"),
        ({"single_object_mode": True}, "per-object PNG folders"),
        ({"sample_rate": 0}, "sample_rate must be a positive integer"),
        ({"sample_rate": -1}, "sample_rate must be a positive integer"),  # PNGRawDataset: the frames reversed
        ({"sample_rate": 2.0}, "sample_rate must be a positive integer"),
        ({"sample_rate": True}, "sample_rate must be a positive integer"),
        ({"truncate_video": "8"}, "truncate_video an integer"),
        ({"img_folder": "JPEGImages"}, r"img_folder given: .*replace them with path: "),
        ({"gt_folder": "Annotations"}, r"gt_folder given: .*replace them with path: "),
    ],
)
def test_options_it_cannot_follow_are_an_option_error(sam2_sets, options, match):
    _, outputs = sam2_sets["mose"]
    with pytest.raises(OptionError, match=match):
        ShardRawDataset(outputs["parquet"], **options)


def test_a_sam2_config_with_only_its_target_changed_is_told_what_replaces_its_folders():
    """PNGRawDataset's img_folder and gt_folder left in the config, no path: not a bare TypeError."""
    with pytest.raises(OptionError, match=r"img_folder and gt_folder given: .*replace them with path: "):
        ShardRawDataset(img_folder="MOSE/train/JPEGImages", gt_folder="MOSE/train/Annotations")
    with pytest.raises(OptionError, match=r"replace them with path: "):
        ShardRawDataset()


def test_a_list_naming_videos_not_stored_is_a_source_error_naming_it(sam2_sets, tmp_path):
    _, outputs = sam2_sets["mose"]
    listing = tmp_path / "list.txt"
    listing.write_text("nosuchvideo.mp4\n")
    with pytest.raises(SourceError, match=f"{listing}: 1 of its videos are not in .*'nosuchvideo'"):
        ShardRawDataset(outputs["parquet"], file_list_txt=str(listing))


@pytest.mark.parametrize("argument", ["file_list_txt", "excluded_videos_list_txt"])
def test_a_list_that_cannot_be_read_is_a_source_error_naming_it(sam2_sets, tmp_path, argument):
    _, outputs = sam2_sets["mose"]
    missing, binary = tmp_path / "missing.txt", tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00video\n")
    with pytest.raises(SourceError, match=f"{missing}: cannot read the video list"):
        ShardRawDataset(outputs["parquet"], **{argument: str(missing)})
    with pytest.raises(SourceError, match=f"{binary}: the video list is not UTF-8 text"):
        ShardRawDataset(outputs["parquet"], **{argument: str(binary)})


def test_blank_lines_of_a_list_name_no_video(sam2_sets, tmp_path):
    _, outputs = sam2_sets["mose"]
    names = ShardRawDataset(outputs["parquet"]).video_names
    listing = tmp_path / "list.txt"
    listing.write_text(f"\n{names[2]}\n  \n{names[0]}.mp4\n\n")
    assert ShardRawDataset(outputs["parquet"], file_list_txt=str(listing)).video_names == [names[0], names[2]]


def test_len_and_get_video_out_of_range_as_in_png_raw_dataset(sam2_sets):
    clean, outputs = sam2_sets["mose"]
    png, shards = PNGRawDataset(str(clean / "JPEGImages"), str(clean / "Annotations")), ShardRawDataset(outputs["hdf5"])
    assert len(shards) == len(png) == 3
    for idx in (3, -4, 10**9):
        with pytest.raises(IndexError):
            png.get_video(idx)
        with pytest.raises(IndexError):
            shards.get_video(idx)
    (a, _), (b, _) = png.get_video(-1), shards.get_video(-1)  # Python's negative index, and video_id -1, as SAM 2 has it
    assert (b.video_name, b.video_id, [f.frame_idx for f in b.frames]) == (a.video_name, -1, [f.frame_idx for f in a.frames])
