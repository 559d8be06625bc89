"""Derived sets at convert time (converters/run/derive.py): subsets, frame steps, first appearances,
resized copies and Cutie's empty-frames list, checked against the sample's PNGs read with Pillow."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pycocotools.mask as mask_api
import pytest
from PIL import Image

from converters import api
from converters.cli import main
from converters.errors import OptionError
from converters.run.derive import Derive, DerivedReader
from converters.run.derive_steps import nearest_indices, shrunk_size
from converters.sample import label_maps


def source_labels(root: Path, split: str = "train") -> dict[str, dict[str, np.ndarray]]:
    """``{video: {frame stem: label map}}`` of a MOSE-layout split, read with Pillow."""
    videos: dict[str, dict[str, np.ndarray]] = {}
    for relative, label in label_maps(root / split / "Annotations").items():
        video, name = relative.split("/")
        videos.setdefault(video, {})[name[:-4]] = label
    return {video: dict(sorted(frames.items())) for video, frames in sorted(videos.items())}


def frame_stems(root: Path, video: str, split: str = "train") -> list[str]:
    return sorted(p.stem for p in (root / split / "JPEGImages" / video).glob("*.jpg") if not p.name.startswith("."))


def coco_masks(path: Path) -> dict[str, dict[str, dict[int, np.ndarray]]]:
    """``{video: {frame stem: {object id: binary mask}}}`` of a vosconv COCO file, decoded by pycocotools."""
    data = json.loads(path.read_text())
    videos = {v["id"]: v for v in data["videos"]}
    found: dict[str, dict[str, dict[int, np.ndarray]]] = {}
    for video in data["videos"]:
        found[video["name"]] = {name.split("/")[-1].rsplit(".", 1)[0]: {} for name in video["file_names"]}
    for annotation in data["annotations"]:
        video = videos[annotation["video_id"]]
        for name, segmentation in zip(video["file_names"], annotation["segmentations"]):
            if segmentation is not None:
                stem = name.split("/")[-1].rsplit(".", 1)[0]
                rle = {"size": segmentation["size"], "counts": segmentation["counts"].encode()}
                found[video["name"]][stem][annotation["object_id"]] = mask_api.decode(rle)
    return found


def annotated_frames(path: Path) -> dict[str, list[str]]:
    """``{video: [stems of annotated frames]}`` from a vosconv COCO file."""
    data = json.loads(path.read_text())
    return {
        v["name"]: [v["file_names"][i].split("/")[-1].rsplit(".", 1)[0] for i in v["annotated_frames"]] for v in data["videos"]
    }


def derived_record(path: Path) -> dict:
    return json.loads(json.loads(path.read_text())["info"]["vosconv"]["source"]["attributes"]["derived"])


def convert(source: Path, output: Path, workers: int = 1, to: str = "coco", **derive):
    return api.convert(source, output, to=to, from_="mose", reader_options={"split": "train"}, derive=derive, workers=workers)


# ------------------------------------------------------------------ --videos-from


def test_videos_from_keeps_exactly_the_listed_videos(sample_root, tmp_path):
    root = sample_root["mose"]
    names = sorted(source_labels(root))
    listing = tmp_path / "subset.txt"
    listing.write_text(f"\n  {names[2]}  \n{names[0]}\n{names[0]}\n")  # blanks, spaces and a repeat are fine
    out = tmp_path / "subset.json"
    summary = convert(root, out, videos_from=str(listing))
    assert summary.stats.videos == 2
    assert sorted(v["name"] for v in json.loads(out.read_text())["videos"]) == [names[0], names[2]]
    record = derived_record(out)
    assert record["videos_from"]["videos"] == 2 and record["videos_from"]["file"] == str(listing.resolve())
    assert record["from"] == {"format": "mose", "source": str(root.resolve()), "split": "train"}


def test_videos_from_names_every_video_the_source_lacks(sample_root, tmp_path):
    names = sorted(source_labels(sample_root["mose"]))
    listing = tmp_path / "subset.txt"
    listing.write_text(f"{names[0]}\nnot-there\nalso-missing\n")
    out = tmp_path / "subset.json"
    with pytest.raises(OptionError, match="also-missing, not-there"):
        convert(sample_root["mose"], out, videos_from=str(listing))
    assert not out.exists()


def test_an_empty_or_missing_video_list_is_refused(sample_root, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    with pytest.raises(OptionError, match="names no video"):
        convert(sample_root["mose"], tmp_path / "a.json", videos_from=str(empty))
    with pytest.raises(OptionError, match="cannot read the video list"):
        convert(sample_root["mose"], tmp_path / "b.json", videos_from=str(tmp_path / "nowhere.txt"))


# ------------------------------------------------------------------ --frame-step


def test_frame_step_keeps_every_kth_frame_with_its_name_and_masks(sample_root, tmp_path):
    root = sample_root["mose"]
    out = tmp_path / "step.json"
    convert(root, out, frame_step=3)
    labels = source_labels(root)
    masks = coco_masks(out)
    assert sorted(masks) == sorted(labels)
    for video, frames in labels.items():
        kept = frame_stems(root, video)[::3]
        assert list(masks[video]) == kept  # names kept: 00000, 00003, 00006, ...
        for stem in kept:
            label = frames[stem]
            ids = sorted(set(np.unique(label).tolist()) - {0})
            assert sorted(masks[video][stem]) == ids
            for object_id in ids:
                assert np.array_equal(masks[video][stem][object_id], label == object_id)
    assert [len(frames) for frames in masks.values()] == [len(range(0, len(f), 3)) for f in labels.values()]
    assert derived_record(out)["frame_step"] == 3


def test_frame_step_drops_objects_left_without_masks_and_trims_listed_frames(sample_root):
    from converters.run.derive_steps import step_frames

    with api.open_reader(sample_root["youtube-vos"], "youtube-vos", {"split": "train"}) as reader:
        video = reader.read_video(reader.list_videos()[0])
    stepped = step_frames(video, 2)
    assert [f.file_name for f in stepped.frames] == [f.file_name for f in video.frames[::2]]
    assert [f.index for f in stepped.frames] == list(range(len(stepped.frames)))
    kept = {f.stem for f in stepped.frames}
    for obj in stepped.objects:
        original = next(o for o in video.objects if o.object_id == obj.object_id)
        assert obj.frames == tuple(name for name in original.frames if name in kept)


# ------------------------------------------------------------------ --first-appearance


def test_first_appearance_keeps_each_object_only_on_its_first_frame(sample_root, tmp_path):
    root = sample_root["mose"]
    out = tmp_path / "first.json"
    convert(root, out, first_appearance=True)
    labels = source_labels(root)
    masks = coco_masks(out)
    annotated = annotated_frames(out)
    for video, frames in labels.items():
        first: dict[int, str] = {}
        for stem, label in frames.items():
            for object_id in sorted(set(np.unique(label).tolist()) - {0}):
                first.setdefault(object_id, stem)
        assert annotated[video] == sorted(set(first.values()))  # every other frame is unannotated
        for stem, found in masks[video].items():
            expected = {i for i, s in first.items() if s == stem}
            assert set(found) == expected
            for object_id in expected:
                assert np.array_equal(found[object_id], frames[stem] == object_id)
    # the sample's third video has object 3 appear at frame 5: two annotated frames there
    assert sorted(len(stems) for stems in annotated.values()) == [1, 1, 2]


def test_first_appearance_written_to_the_youtube_vos_layout_looks_like_a_valid_split(sample_root, tmp_path):
    """YouTube-VOS gives trackers only the first-appearance PNGs: the derived folder holds exactly those."""
    root = sample_root["mose"]
    out = tmp_path / "yt"
    convert(root, out, to="youtube-vos", first_appearance=True)
    written = label_maps(out / "Annotations")
    labels = source_labels(root)
    expected = {}
    for video, frames in labels.items():
        seen: set[int] = set()
        for stem, label in frames.items():
            new = sorted(set(np.unique(label).tolist()) - {0} - seen)
            seen.update(new)
            if new:
                expected[f"{video}/{stem}.png"] = np.where(np.isin(label, new), label, 0)
    assert sorted(written) == sorted(expected)
    for name, label in expected.items():
        assert np.array_equal(written[name], label)
    marker = json.loads((out / ".vosconv.json").read_text())
    assert json.loads(marker["attributes"]["derived"])["first_appearance"] is True


# ------------------------------------------------------------------ --empty-frames-list


def test_empty_frames_list_is_what_cuties_script_finds(sample_root, tmp_path):
    root = sample_root["mose"]
    listing = tmp_path / "empty.json"
    convert(root, tmp_path / "out.json", empty_frames_list=str(listing))
    # Cutie's scripts/data/find_empty_mask.py: {video: [PNG stems whose maximum is 0]} over every video
    expected = {
        video: [stem for stem, label in frames.items() if label.max() == 0] for video, frames in source_labels(root).items()
    }
    assert json.loads(listing.read_text()) == expected
    assert sorted(map(len, expected.values())) == [0, 0, 1]  # the sample's frame 7 of its 12-frame video


def test_empty_frames_list_describes_the_derived_set_and_is_not_written_over(sample_root, tmp_path):
    root = sample_root["mose"]
    listing = tmp_path / "empty.json"
    convert(root, tmp_path / "odd.json", frame_step=2, empty_frames_list=str(listing))
    assert sorted(map(len, json.loads(listing.read_text()).values())) == [0, 0, 0]  # frame 7 is stepped over
    with pytest.raises(OptionError, match="already exists"):
        convert(root, tmp_path / "again.json", empty_frames_list=str(listing))
    assert not (tmp_path / "again.json").exists()


# ------------------------------------------------------------------ --max-side


def test_shrunk_size_and_nearest_indices():
    assert shrunk_size(1920, 1080, 960) == (960, 540)
    assert shrunk_size(854, 480, 480) == (480, 270)  # 269.8 rounds up
    assert shrunk_size(160, 240, 120) == (80, 120)  # portrait: the height is the long side
    assert shrunk_size(100, 50, 200) == (100, 50)  # never enlarged
    assert shrunk_size(1000, 1, 10) == (10, 1)  # never 0
    assert nearest_indices(10, 5).tolist() == [1, 3, 5, 7, 9]  # pixel centres
    assert nearest_indices(4, 4).tolist() == [0, 1, 2, 3]


def test_max_side_resizes_masks_by_nearest_neighbour_and_frames_to_match(sample_root, tmp_path):
    """Masks equal PyTorch's ``nearest-exact`` resize (pixel centres, exact arithmetic: Pillow and OpenCV
    round in fixed point and pick the neighbouring source pixel where a centre falls half-way)."""
    torch = pytest.importorskip("torch")
    root = sample_root["mose"]
    out = tmp_path / "small"
    summary = convert(root, out, to="mose", max_side=100)
    written = label_maps(out / "Annotations")
    for video, frames in source_labels(root).items():
        height, width = next(iter(frames.values())).shape
        size = shrunk_size(width, height, 100)
        assert max(size) == 100
        for stem, label in frames.items():
            as_tensor = torch.from_numpy(label)[None, None].float()
            expected = torch.nn.functional.interpolate(as_tensor, size=size[::-1], mode="nearest-exact")[0, 0].byte().numpy()
            assert np.array_equal(written[f"{video}/{stem}.png"], expected)
            with Image.open(out / "JPEGImages" / video / f"{stem}.jpg") as image:
                assert image.size == size and image.format == "JPEG"
    assert summary.stats.frames == sum(len(f) for f in source_labels(root).values())


def test_max_side_is_recorded_as_lossy_in_the_manifest(sample_root, tmp_path):
    out = tmp_path / "small-parquet"
    convert(sample_root["mose"], out, to="parquet", max_side=64, frame_step=2)
    manifest = json.loads((out / "manifest.json").read_text())
    record = json.loads(manifest["source"]["attributes"]["derived"])
    assert record["max_side"] == 64 and record["frame_step"] == 2 and "nearest neighbour" in record["lossy"]
    videos = list(api.read_videos(out))
    assert all(max(v.width, v.height) == 64 for v in videos)


def test_max_side_refuses_an_output_that_only_names_the_frames(sample_root, tmp_path):
    with pytest.raises(OptionError, match=r"full-size frames.*\(davis, hdf5, mose, parquet, sav, youtube-vos\)"):
        convert(sample_root["mose"], tmp_path / "small.json", max_side=64)
    with pytest.raises(OptionError, match="full-size frames"):
        api.convert(
            sample_root["mose"], tmp_path / "m", to="mose", reader_options={"split": "train"},
            writer_options={"images": False}, derive={"max_side": 64},
        )  # fmt: skip


# ------------------------------------------------------------------ determinism, workers, the CLI


def test_a_derived_set_is_the_same_bytes_with_two_workers(sample_root, tmp_path):
    root = sample_root["mose"]
    names = sorted(source_labels(root))
    listing = tmp_path / "subset.txt"
    listing.write_text("\n".join(names[1:]) + "\n")
    options = {"videos_from": str(listing), "frame_step": 2}
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    convert(root, one, workers=1, empty_frames_list=str(tmp_path / "one-empty.json"), **options)
    convert(root, two, workers=2, empty_frames_list=str(tmp_path / "two-empty.json"), **options)
    assert one.read_bytes() == two.read_bytes()
    assert (tmp_path / "one-empty.json").read_bytes() == (tmp_path / "two-empty.json").read_bytes()
    first_one, first_two = tmp_path / "first-one.json", tmp_path / "first-two.json"
    convert(root, first_one, workers=1, first_appearance=True, **options)
    convert(root, first_two, workers=2, first_appearance=True, **options)
    assert first_one.read_bytes() == first_two.read_bytes()
    small_one, small_two = tmp_path / "s1", tmp_path / "s2"
    convert(root, small_one, to="hdf5", workers=1, max_side=90)
    convert(root, small_two, to="hdf5", workers=2, max_side=90)
    assert (small_one / "manifest.json").read_bytes() == (small_two / "manifest.json").read_bytes()


def test_the_derived_reader_pickles_with_its_list(sample_root, tmp_path):
    listing = tmp_path / "subset.txt"
    listing.write_text(sorted(source_labels(sample_root["mose"]))[0] + "\n")
    with api.open_reader(sample_root["mose"], "mose", {"split": "train"}) as inner:
        reader = DerivedReader(inner, Derive(videos_from=str(listing), frame_step=4))
        listing.unlink()  # read once, when the reader is made: workers never reread it
        copy = pickle.loads(pickle.dumps(reader))
        refs = copy.list_videos()
        assert len(refs) == 1
        assert len(copy.read_video(refs[0]).frames) == len(reader.read_video(refs[0]).frames)


def test_cli_flags_make_the_same_set_as_the_api(sample_root, tmp_path, capsys):
    root = sample_root["mose"]
    api_out, cli_out = tmp_path / "api.json", tmp_path / "cli.json"
    convert(root, api_out, frame_step=2, first_appearance=True)
    status = main(["convert", str(root), "--split", "train", "-o", str(cli_out), "--frame-step", "2", "--first-appearance"])
    assert status == 0
    assert api_out.read_bytes() == cli_out.read_bytes()
    assert "derived set: one frame in 2; masks on each object's first frame only" in capsys.readouterr().out


def test_cli_max_side_says_it_is_lossy(sample_root, tmp_path, capsys):
    out = tmp_path / "small"
    argv = ["convert", str(sample_root["mose"]), "--split", "train", "-o", str(out), "--to", "mose", "--max-side", "50"]
    assert main(argv) == 0
    assert "lossy" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse refuses a side of 0
        main([*argv[:-1], "0"])


def test_bad_derive_options_are_option_errors():
    with pytest.raises(OptionError):
        Derive(frame_step=0)
    with pytest.raises(OptionError, match="frame_steps"):
        api.convert("nowhere", "out.json", to="coco", derive={"frame_steps": 2})


# ------------------------------------------------------------------ the order of the steps, pipelines.yaml


def test_first_appearance_is_taken_after_resizing():
    """An object too thin to survive the resize on its first frame gets its template where it still has pixels."""
    from converters.codecs import labels
    from converters.model import Frame, MaskEncoding, ObjectInfo, Video
    from converters.run.derive import derive_video

    thin, wide = np.zeros((40, 40), np.uint8), np.zeros((40, 40), np.uint8)
    thin[10, 10] = 1  # one pixel: gone at half size (rows and columns 1, 3, 5, ... are sampled)
    wide[10:20, 10:20] = 1
    masks = [labels.encode_frame(m, MaskEncoding.PALETTE) for m in (thin, wide)]
    frames = tuple(Frame(i, f"{i:05d}.jpg", masks=m) for i, m in enumerate(masks))
    video = Video("v", 40, 40, frames, (ObjectInfo(1),))
    derived = derive_video(video, Derive(first_appearance=True, max_side=20))
    assert [f.masks is not None for f in derived.frames] == [False, True]
    assert derived.frames[1].masks.objects[0].area == 25 and (derived.width, derived.height) == (20, 20)


def test_max_side_keeps_the_masks_per_frame_values():
    """A resized mask keeps what the source says of it on that frame (SA-V's stability score), where it was dropped."""
    import dataclasses

    from converters.codecs import labels
    from converters.model import Frame, MaskEncoding, ObjectInfo, Video
    from converters.run.derive import derive_video

    label = np.zeros((40, 40), np.uint8)
    label[10:20, 10:20] = 1
    masks = labels.encode_frame(label, MaskEncoding.PALETTE)
    scored = dataclasses.replace(masks, objects=(dataclasses.replace(masks.objects[0], values=(("stability_score", 0.5),)),))
    video = Video("v", 40, 40, (Frame(0, "00000.jpg", masks=scored),), (ObjectInfo(1),))
    derived = derive_video(video, Derive(max_side=20))
    assert derived.frames[0].masks.objects[0].values == (("stability_score", 0.5),)
    assert derived.frames[0].masks.objects[0].area == 25


def test_a_pipeline_can_make_a_derived_set(sample_root, tmp_path, capsys):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "one.txt").write_text(sorted(source_labels(sample_root["mose"]))[0] + "\n")
    config = tmp_path / "pipelines.yaml"
    config.write_text(
        "pipelines:\n"
        "  small:\n"
        f"    source: {sample_root['mose']}\n"
        "    reader: mose\n"
        "    reader_options: {split: train}\n"
        "    derive: {videos_from: lists/one.txt, frame_step: 2, empty_frames_list: empty.json}\n"
    )
    assert main(["run", "small", "--config", str(config)]) == 0
    out = tmp_path / "out" / "small.json"
    assert len(json.loads(out.read_text())["videos"]) == 1 and derived_record(out)["frame_step"] == 2
    assert len(json.loads((tmp_path / "empty.json").read_text())) == 1
    assert "small: derived set: videos listed in" in capsys.readouterr().out
    config.write_text(config.read_text().replace("frame_step: 2", "frame_step: 0"))
    assert main(["run", "small", "--config", str(config)]) == 1
    assert "derive" in capsys.readouterr().err


def test_a_derived_set_of_a_derived_set_keeps_the_chain(sample_root, tmp_path):
    first = tmp_path / "first.json"
    convert(sample_root["mose"], first, frame_step=2)
    second = tmp_path / "second.json"
    api.convert(first, second, to="coco", derive={"first_appearance": True})
    record = derived_record(second)
    assert record["first_appearance"] is True and record["from"]["format"] == "coco"
    assert record["from"]["derived"]["frame_step"] == 2


@pytest.mark.filterwarnings("ignore:.*shards the interrupted run finished are done again")  # redone on purpose
@pytest.mark.parametrize("list_at_first", [True, False])
def test_an_interrupted_derived_run_resumes_to_the_same_set_and_list(
    sample_root, tmp_path, monkeypatch, shard_writes, list_at_first
):
    """The empty frames travel with the shards' journaled facts; a run first started without the list redoes its shards."""
    from converters.formats.coco.writer import CocoWriter
    from converters.run.pipeline import Interrupted

    root = sample_root["mose"]
    reference, reference_list = tmp_path / "reference.json", tmp_path / "reference-empty.json"
    convert(root, reference, frame_step=1, empty_frames_list=str(reference_list))
    output, listing = tmp_path / "out.json", tmp_path / "empty.json"
    shard_writes(CocoWriter, interrupt_at=3)
    with pytest.raises(Interrupted):
        convert(root, output, empty_frames_list=str(listing) if list_at_first else None)
    monkeypatch.undo()
    summary = api.convert(
        root, output, to="coco", from_="mose", reader_options={"split": "train"}, resume=True,
        derive={"empty_frames_list": str(listing)},
    )  # fmt: skip
    assert summary.resumed == (2 if list_at_first else 0)
    assert output.read_bytes() == reference.read_bytes()
    assert listing.read_bytes() == reference_list.read_bytes()


def convert_with_list(source: Path, output: Path, listing: Path, to: str = "coco", **run):
    """A conversion of any layout's train split that also writes the empty-frames list ``listing``."""
    options = {"split": "train"}
    return api.convert(source, output, to=to, reader_options=options, derive={"empty_frames_list": str(listing)}, **run)


def test_overwrite_replaces_an_earlier_empty_frames_list(sample_root, tmp_path):
    root = sample_root["mose"]
    listing = tmp_path / "empty.json"
    listing.write_text('{"old": ["00003"]}\n')
    convert_with_list(root, tmp_path / "o.json", listing, overwrite=True)
    assert "old" not in json.loads(listing.read_text())


@pytest.mark.parametrize("target", ["notes", "other-json", "link", "meta.json", "inside-annotations"])
def test_overwrite_never_replaces_with_the_empty_frames_list_what_vosconv_did_not_write(sample_copy, tmp_path, target):
    """--overwrite replaces only vosconv's own files: not a file of the user's, nor the source's meta.json (which it
    replaced, breaking the dataset), nor anything inside a folder the reader lists."""
    root = sample_copy("youtube-vos")
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    paths = {
        "notes": notes,
        "other-json": tmp_path / "other.json",
        "link": tmp_path / "link.json",
        "meta.json": root / "train" / "meta.json",
        "inside-annotations": root / "train" / "Annotations" / "empty.json",
    }
    (tmp_path / "other.json").write_text('{"videos": {"a": {"objects": {}}}}')
    (tmp_path / "link.json").symlink_to(notes)
    path = paths[target]
    before = path.read_bytes() if path.exists() else None
    with pytest.raises(OptionError, match="empty-frames-list"):
        convert_with_list(root, tmp_path / "o.json", path, overwrite=True)
    assert (path.read_bytes() if path.exists() else None) == before
    assert notes.read_text() == "mine\n" and not (tmp_path / "o.json").exists()


@pytest.mark.parametrize("writer", ["mose", "parquet"])
def test_an_empty_frames_list_inside_the_output_is_refused(sample_root, tmp_path, writer):
    """A list written into a folder output is a file its writer did not record: the next --overwrite refused it."""
    out = tmp_path / "out"
    with pytest.raises(OptionError, match="lies inside the output"):
        convert_with_list(sample_root["mose"], out, out / "e.json", to=writer)
    assert not out.exists()
