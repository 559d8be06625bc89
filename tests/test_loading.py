"""The training loader: videos and clips from Parquet and HDF5 outputs, exact against the source files."""

from __future__ import annotations

import io
import json
import multiprocessing
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.formats.parquet.spec import METADATA_KEY
from converters.loading.dataset import ClipDataset, VideoDataset, decode_jpeg, open_dataset
from converters.model import VOID_ID, MaskEncoding
from converters.sample import label_maps

FORMATS = {"parquet": ("parquet", {}), "hdf5": ("hdf5", {}), "hdf5-dense": ("hdf5", {"masks": "dense"})}
SOURCES = {  # layout, reader options, the folder under the sample root with JPEGImages/ and Annotations/
    "mose": ("mose", {"split": "train"}, "train", ""),
    "davis": ("davis", {"split": "train"}, "DAVIS", "/480p"),  # void bands, DAVIS 2016 binary masks
    "youtube-vos": ("youtube-vos", {"split": "valid"}, "valid", ""),  # sparse annotations
}


@pytest.fixture(scope="module")
def converted(sample_root, tmp_path_factory):
    """(format, source) -> output folder, each converted once for the module."""
    base = tmp_path_factory.mktemp("loading")
    outputs = {}
    for fmt, (writer, options) in FORMATS.items():
        for source, (layout, reader_options, _, _) in SOURCES.items():
            out = base / f"{fmt}-{source}"
            api.convert(sample_root[layout], out, to=writer, from_=layout, reader_options=reader_options, writer_options=options)
            outputs[fmt, source] = out
    return outputs


def expected_label(pngs: dict, key: str, binary: bool) -> np.ndarray | None:
    """The label map a clip should give for a PNG: its pixel values (a binary mask's 255 is object 1)."""
    label = pngs.get(key)
    if label is None or not binary:
        return label
    return (label == 255).astype(np.uint8)


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_clips_are_exact(sample_root, converted, fmt, source):
    layout, _, split, resolution = SOURCES[source]
    root = sample_root[layout] / split
    pngs = label_maps(root / f"Annotations{resolution}")
    clips = ClipDataset(converted[fmt, source], clip_length=3, stride=2)
    videos = open_dataset(converted[fmt, source])
    assert len(clips) == sum(max(0, len(v) - 4) for v in videos)
    binary = False
    for index in range(len(clips)):
        item = clips[index]
        video = videos[item["video"]]
        full = video.read_video()
        binary |= full.encoding is MaskEncoding.BINARY
        assert item["frame_indices"].tolist() == list(range(item["frame_indices"][0], item["frame_indices"][0] + 5, 2))
        assert item["object_ids"].tolist() == [o.object_id for o in full.objects]
        assert item["masks"].shape == (3, full.height, full.width) and item["masks"].dtype == np.uint8
        for t, frame_index in enumerate(item["frame_indices"]):
            frame = full.frames[frame_index]
            jpeg = root / f"JPEGImages{resolution}" / full.name / frame.file_name
            assert item["frames"][t] == jpeg.read_bytes()
            want = expected_label(pngs, f"{full.name}/{frame.stem}.png", full.encoding is MaskEncoding.BINARY)
            assert item["annotated"][t] == (want is not None)
            np.testing.assert_array_equal(item["masks"][t], np.zeros_like(item["masks"][t]) if want is None else want)
    assert binary == (source == "davis")  # the DAVIS 2016 sequence is covered


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_objects_mode_and_decoded_frames(sample_root, converted, fmt):
    labels = ClipDataset(converted[fmt, "davis"], clip_length=2)
    objects = ClipDataset(converted[fmt, "davis"], clip_length=2, masks="objects", decode_images=True)
    assert len(labels) == len(objects)
    saw_void = False
    for index in range(0, len(labels), 3):
        a, b = labels[index], objects[index]
        ids = a["object_ids"]
        assert b["masks"].shape == (2, len(ids), *a["masks"].shape[1:]) and b["masks"].dtype == bool
        for k, object_id in enumerate(ids):
            np.testing.assert_array_equal(b["masks"][:, k], a["masks"] == object_id)
        np.testing.assert_array_equal(b["void"], a["masks"] == VOID_ID)
        saw_void |= bool(b["void"].any())
        for raw, decoded in zip(a["frames"], b["frames"]):
            with Image.open(io.BytesIO(raw)) as image:
                np.testing.assert_array_equal(decoded, np.asarray(image.convert("RGB")))
            assert decoded.shape == (*a["masks"].shape[1:], 3) and decoded.dtype == np.uint8
    assert saw_void


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_annotated_only(converted, fmt):
    out = converted[fmt, "youtube-vos"]
    videos = open_dataset(out)
    clips = ClipDataset(out, clip_length=2, annotated_only=True)
    assert len(clips) == sum(max(0, len(v.annotated) - 1) for v in videos)
    for index in range(len(clips)):
        item = clips[index]
        assert item["annotated"].all()
        annotated = videos[item["video"]].annotated
        start = annotated.index(int(item["frame_indices"][0]))
        assert item["frame_indices"].tolist() == annotated[start : start + 2]
        assert item["masks"].any(axis=(1, 2)).all()  # valid annotations: each has an object
    strided = ClipDataset(out, clip_length=2, stride=2, annotated_only=True)
    assert len(strided) == sum(max(0, len(v.annotated) - 2) for v in videos)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_video_dataset(sample_root, converted, fmt):
    videos = open_dataset(converted[fmt, "mose"])
    assert isinstance(videos, VideoDataset) and videos.format == FORMATS[fmt][0]
    with api.open_reader(sample_root["mose"], "mose", {"split": "train"}) as reader:
        source = [reader.read_video(ref) for ref in reader.list_videos()]
    assert [v.name for v in videos] == [v.name for v in source]
    for handle, video in zip(videos, source):
        assert (len(handle), handle.size, handle.object_ids) == (
            len(video.frames),
            video.size,
            tuple(o.object_id for o in video.objects),
        )
        assert handle.annotated == list(video.annotated_indices)
        got = handle.read_video()
        assert [f.masks for f in got.frames] == [f.masks for f in video.frames]
        assert [f.image.data for f in got.frames] == [Path(f.image.path).read_bytes() for f in video.frames]
    clip = videos[0].read_clip([0, 2, 3], masks=None, images=False)
    assert "masks" not in clip and "frames" not in clip and clip["frame_indices"].tolist() == [0, 2, 3]
    with pytest.raises(IndexError):
        videos[0].read_clip([2, 1])
    with pytest.raises(IndexError):
        ClipDataset(videos, clip_length=2)[10_000]


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_frames_not_embedded_come_from_the_image_folder(sample_root, tmp_path, fmt):
    out = tmp_path / "out"
    api.convert(
        sample_root["mose"], out, to=fmt, from_="mose", reader_options={"split": "train"}, writer_options={"images": False}
    )
    item = ClipDataset(out, clip_length=2)[0]
    folder = sample_root["mose"] / "train" / "JPEGImages" / item["video"]
    assert item["frames"] == [(folder / f"{i:05d}.jpg").read_bytes() for i in item["frame_indices"]]


def test_decode_jpeg_matches_pillow(sample_root):
    path = next((sample_root["mose"] / "train" / "JPEGImages").rglob("00000.jpg"))
    with Image.open(path) as image:
        np.testing.assert_array_equal(decode_jpeg(path.read_bytes()), np.asarray(image.convert("RGB")))
    png = next((sample_root["mose"] / "train" / "Annotations").rglob("00000.png"))
    assert decode_jpeg(png.read_bytes()).shape[2] == 3


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_pickles_without_open_files(converted, fmt):
    clips = ClipDataset(converted[fmt, "mose"], clip_length=4)
    first = clips[5]
    clone = pickle.loads(pickle.dumps(clips))
    assert clone.videos._backend.files._open == {}
    again = clone[5]
    np.testing.assert_array_equal(again["masks"], first["masks"])
    assert again["frames"] == first["frames"]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_more_shards_than_open_files_read_the_same(sample_root, tmp_path, fmt):
    """A worker reading more shards than it keeps open closes and reopens them: the same clips, never an fd per shard."""
    writer, options = FORMATS[fmt]
    out = tmp_path / "out"
    api.convert(
        sample_root["mose"],
        out,
        to=writer,
        from_="mose",
        reader_options={"split": "train"},
        writer_options={**options, "shard_bytes": 1},
    )  # one video per shard
    assert len(json.loads((out / "manifest.json").read_text())["shards"]) > 2
    wide, narrow = ClipDataset(out, clip_length=2, masks="objects"), ClipDataset(out, clip_length=2, masks="objects")
    narrow.videos._backend.files.max_open = 1
    order = [i for i in range(len(wide)) for _ in range(2)][::-1]  # every shard, each twice, switching shards
    for index in order:
        want, got = wide[index], narrow[index]
        np.testing.assert_array_equal(got["masks"], want["masks"])
        assert got["frames"] == want["frames"]
        assert len(narrow.videos._backend.files._open) == 1


def test_parquet_frames_read_one_at_a_time_read_each_row_group_once(converted, monkeypatch):
    """SAM 2's drop-in reads a clip's images, then its masks, frame by frame: a row group is read once per column set."""
    import pyarrow.parquet as pq

    videos = open_dataset(converted["parquet", "mose"])
    handle = max(videos, key=len)
    want = handle.read_clip(range(len(handle)), masks="label")
    reads, original = [], pq.ParquetFile.read_row_groups

    def counted(self, groups, *args, **kwargs):
        reads.append((tuple(groups), tuple(kwargs["columns"])))
        return original(self, groups, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", counted)
    images = [handle.read_image(index) for index in range(len(handle))]
    planes = [dict(handle.present_objects(index)) for index in range(len(handle))]
    assert images == want["frames"]
    for index, found in enumerate(planes):
        values = [v for v in np.unique(want["masks"][index]).tolist() if v]
        assert sorted(found) == values and all(np.array_equal(found[v], want["masks"][index] == v) for v in values)
    assert len(reads) == len(set(reads))  # each row group once per column set
    assert len([groups for groups, columns in reads if columns == ("image.bytes",)]) > 1  # the video spans row groups
    assert pickle.loads(pickle.dumps(videos))._backend._kept == {}  # the kept groups stay in this process


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
@pytest.mark.parametrize("fmt", ["parquet", "hdf5-dense"])
def test_torch_data_loader_with_workers(converted, fmt, start_method):
    torch = pytest.importorskip("torch")
    if start_method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {start_method} here")
    clips = ClipDataset(converted[fmt, "mose"], clip_length=4)
    clips[0]  # files opened in the parent first: workers must not use them
    loader = torch.utils.data.DataLoader(
        clips, batch_size=None, shuffle=False, num_workers=2, multiprocessing_context=start_method
    )
    seen = 0
    for index, item in enumerate(loader):
        want = clips[index]
        assert isinstance(item["masks"], torch.Tensor)
        np.testing.assert_array_equal(item["masks"].numpy(), want["masks"])
        assert item["frames"] == want["frames"]
        assert item["video"] == want["video"]
        seen += 1
    assert seen == len(clips)


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_a_workers_source_error_reaches_the_training_loop_as_a_source_error(converted, tmp_path, fmt):
    """torch's DataLoader rebuilds a worker's exception from one message; a two-field error became RuntimeError."""
    import json
    import shutil

    from converters.errors import SourceError

    torch = pytest.importorskip("torch")
    out = tmp_path / "out"
    shutil.copytree(converted[fmt, "mose"], out)
    clips = ClipDataset(out, clip_length=2)
    shard = out / json.loads((out / "manifest.json").read_text())["shards"][0]["file"]
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2] + bytes(len(data) - len(data) // 2))  # damaged after opening
    with pytest.raises(SourceError, match=shard.name) as caught:
        list(torch.utils.data.DataLoader(clips, batch_size=None, num_workers=1))
    assert "DataLoader worker" in str(caught.value)


def test_the_two_field_errors_cross_processes_whole_and_rebuild_from_one_message():
    from converters.errors import OptionError, SourceError

    for error, fields in [(SourceError("a/b.png", "bad"), ("path", "cause")), (OptionError("-r x", "no"), ("where", "message"))]:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
        assert [getattr(copy, f) for f in fields] == [getattr(error, f) for f in fields]
        rebuilt = type(error)(str(error))
        assert str(rebuilt) == str(error) and str(pickle.loads(pickle.dumps(rebuilt))) == str(error)


# ------------------------------------------------------------------ damaged or forged outputs


def first_shard(out: Path) -> Path:
    """The first shard file, as the manifest names it (Parquet: ``data/<split>-00000-of-NNNNN.parquet``)."""
    import json

    return out / json.loads((out / "manifest.json").read_text())["shards"][0]["file"]


def edited_copy(source: Path, target: Path, edit_manifest=None, edit_group=None) -> Path:
    """A copy of a converted output with its manifest and/or first HDF5 group changed."""
    import json
    import shutil

    shutil.copytree(source, target)
    if edit_group is not None:
        import h5py

        with h5py.File(target / "part-00000.h5", "r+") as file:
            videos = file["videos"]
            edit_group(videos[sorted(videos)[0]])
    if edit_manifest is not None:
        manifest = json.loads((target / "manifest.json").read_text())
        edit_manifest(manifest, manifest["videos"][0])
        (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def set_field(key, value):
    def edit(manifest, video):
        video[key] = value

    return edit


#: manifest edits the loader must refuse when it opens the dataset, before allocating anything
BAD_MANIFESTS = {
    "frame size too large": set_field("height", 200_000),
    "negative width": set_field("width", -5),
    "frames beyond any video": set_field("frames", 10**12),
    "frames as text": set_field("frames", "10"),
    "annotated past the end": set_field("annotated", [[0, 10**10]]),
    "annotated runs overlap": set_field("annotated", [[0, 3], [2, 4]]),
    "name leads out": set_field("name", "../x"),
    "object id of 32 bits": set_field("object_ids", [1, 1 << 31]),  # ids are 0 to 2^31 - 1 (SA-V counts from 0)
    "shard index too large": set_field("shard", 7),
    "category id infinite": lambda m, v: m.update(categories=[{"id": float("inf"), "name": "x"}]),
    "format version as a float": lambda m, v: m.update(format_version=1.0),
    "image root not text": lambda m, v: m["source"].update(image_root=5),
    "supercategory not text": lambda m, v: m.update(categories=[{"id": 1, "name": "x", "supercategory": {"a": 1}}]),
    "a video listed twice": lambda m, v: m["videos"].append(dict(v)),
    "images option not a bool": lambda m, v: m["writer"]["options"].update(images="no"),
}


@pytest.mark.parametrize("case", sorted(BAD_MANIFESTS))
@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_a_forged_manifest_is_a_source_error_naming_it(converted, tmp_path, fmt, case):
    from converters.errors import SourceError

    out = edited_copy(converted[fmt, "mose"], tmp_path / "out", BAD_MANIFESTS[case])
    with pytest.raises(SourceError, match=r"manifest\.json"):
        ClipDataset(out, clip_length=1, annotated_only=True)


def test_a_path_that_is_no_output_folder_says_what_the_loader_reads_and_how_to_make_it(sample_root, tmp_path):
    """A COCO file, a folder layout or a typo given to the loader: a SourceError naming it and the fix, never
    'x.json/manifest.json: Not a directory'."""
    from converters.errors import SourceError

    coco = tmp_path / "train.json"
    api.convert(sample_root["mose"] / "train", coco, to="coco")
    cases = {
        coco: "a file, not the Parquet or HDF5 output folder",
        sample_root["mose"] / "train": "no manifest.json: not a Parquet or HDF5 output",
        tmp_path / "no-such.parquet": "no such folder",
    }
    for path, cause in cases.items():
        with pytest.raises(SourceError) as caught:
            open_dataset(path)
        assert caught.value.path == str(path) and caught.value.cause.startswith(cause), caught.value
        assert "vosconv convert" in caught.value.cause or "no such folder" in caught.value.cause


def test_the_current_folder_opens_as_any_other_path(converted, tmp_path, monkeypatch):
    """``open_dataset(".")`` from inside an output, or from a folder that is none: the fix the error suggests was
    named from ``Path(".").with_suffix``, which raised ValueError even for a valid output."""
    from converters.errors import SourceError

    monkeypatch.chdir(converted["parquet", "mose"])
    assert len(open_dataset(".")) == len(open_dataset(converted["parquet", "mose"]))
    (tmp_path / "frames").mkdir()
    monkeypatch.chdir(tmp_path / "frames")
    with pytest.raises(SourceError) as caught:
        open_dataset(".")
    assert "vosconv convert . -o frames.parquet makes one" in caught.value.cause


def test_a_video_name_the_dataset_lacks_is_a_key_error_naming_the_dataset(converted):
    videos = open_dataset(converted["parquet", "mose"])
    name = videos[0].name
    with pytest.raises(KeyError, match=rf"has no video '{name[:-1]}x'; did you mean '{name}'"):
        videos[name[:-1] + "x"]
    with pytest.raises(KeyError, match=rf"{re.escape(str(videos.path))} has no video 'zzz'; it has {len(videos)} videos"):
        videos["zzz"]


def more_frames(manifest, video):
    video["frames"] += 40  # the shard holds fewer: a clip past its real end must not read as valid


def rename(manifest, video):
    """The video renamed in the manifest's video list alone: the manifest disagrees with itself."""
    video["name"] = "not-in-shard"


def rename_everywhere(manifest, video):
    """The video renamed in the manifest's video list and its shard's list: the shard itself knows no such video."""
    shard = manifest["shards"][video["shard"]]
    shard["videos"] = ["not-in-shard" if n == video["name"] else n for n in shard["videos"]]
    video["name"] = "not-in-shard"


def swap_size(manifest, video):
    video["width"], video["height"] = video["height"], video["width"]  # the same pixel count, other shape


def fewer_objects(manifest, video):
    video["object_ids"] = video["object_ids"][:1]


def all_annotated(manifest, video):
    video["annotated"] = [[0, video["frames"]]]


def none_annotated(manifest, video):
    video["annotated"] = []


DISAGREEING = {
    "more frames than the shard": more_frames,
    "a video the shard lacks": rename_everywhere,
    "width and height swapped": swap_size,
    "objects left out": fewer_objects,
    "unannotated frames said to be annotated": all_annotated,
    "annotated frames said not to be": none_annotated,
}


@pytest.mark.parametrize("edit", list(DISAGREEING.values()), ids=list(DISAGREEING))
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_manifest_that_disagrees_with_its_shard_is_a_source_error_naming_the_shard(converted, tmp_path, fmt, edit):
    from converters.errors import SourceError

    source = "youtube-vos" if edit in (all_annotated, none_annotated) else "mose"  # sparse annotation
    out = edited_copy(converted[fmt, source], tmp_path / "out", edit)
    videos = open_dataset(out)
    forged = videos[videos.manifest.videos[0].name]
    with pytest.raises(SourceError, match=re.escape(first_shard(out).name)):
        forged.read_clip([len(forged) - 1])  # past the shard's real end when frames were added


def with_footer(out: Path, edit) -> Path:
    """Rewrite the first Parquet shard, row groups and all, with ``edit`` applied to its vosconv footer
    record, and the manifest's size and sha256 of it updated: an output consistent in all but the footer."""
    import hashlib
    import json

    import pyarrow.parquet as pq

    path = first_shard(out)
    source = pq.ParquetFile(path)
    record = json.loads(source.metadata.metadata[METADATA_KEY])
    edit({v["name"]: v for v in record["videos"]})
    edited = path.with_name("edited.parquet")
    with pq.ParquetWriter(edited, source.schema_arrow, compression="zstd", write_page_checksum=True) as writer:
        for group in range(source.num_row_groups):
            writer.write_table(source.read_row_group(group))
        writer.add_key_value_metadata({"vosconv": json.dumps(record)})
    edited.replace(path)
    manifest = json.loads((out / "manifest.json").read_text())
    data = path.read_bytes()
    manifest["shards"][0].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def test_a_footer_giving_a_video_another_videos_rows_is_refused_by_the_loader_and_validate(converted, tmp_path):
    """The footer's row range is checked against the rows' own video names and frame indices, and
    ``validate`` checks it against the video's row groups: neither serves one video's frames as another's."""
    from converters.errors import SourceError
    from converters.run import validate

    out = edited_copy(converted["parquet", "mose"], tmp_path / "out")
    names = [v.name for v in open_dataset(out).manifest.videos]
    frames = {v.name: v.frames for v in open_dataset(out).manifest.videos}
    victim = names[1]  # rows after the first video's: pointed at the first video's rows instead
    with_footer(out, lambda videos: videos[victim].update(rows=[0, frames[victim]]))
    clips = ClipDataset(out, clip_length=1, masks=None)
    position = next(i for i in range(len(clips)) if clips.locate(i)[0] == 1)
    with pytest.raises(SourceError, match=rf"{first_shard(out).name}.*{victim}.*footer's rows") as caught:
        clips[position]
    assert caught.value.path == str(first_shard(out))
    with api.open_reader(out) as reader:
        report = validate.validate(reader, progress=False)
    assert [e["file"] for e in report.errors] == [str(first_shard(out))], report.errors
    assert victim in report.errors[0]["message"] and "row groups" in report.errors[0]["message"]


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_a_video_its_shard_lacks_is_a_source_error_and_the_others_still_read(converted, tmp_path, fmt):
    """Renamed in the video list alone, the manifest disagrees with itself (its shard's list names a video the loader's
    index lacks, which would be left out in silence): refused whole. Renamed in both lists, it is that video's error."""
    from converters.errors import SourceError

    one_list = edited_copy(converted[fmt, "mose"], tmp_path / "one", rename)
    with pytest.raises(SourceError, match=r"lists video .*, which the manifest's videos do not") as caught:
        open_dataset(one_list)
    assert caught.value.path == str(one_list / "manifest.json")
    out = edited_copy(converted[fmt, "mose"], tmp_path / "out", rename_everywhere)
    videos = open_dataset(out)
    with pytest.raises(SourceError, match="not-in-shard") as caught:
        videos["not-in-shard"].read_video()
    assert caught.value.path == str(first_shard(out))
    for handle in videos:
        if handle.name != "not-in-shard":
            assert handle.read_video().name == handle.name


def unlist(manifest, video):
    """The video left out of its shard's list alone: the manifest's video list still names it."""
    manifest["shards"][video["shard"]]["videos"].remove(video["name"])


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_a_video_its_shard_entry_leaves_out_is_refused_by_the_loader_as_by_the_reader(converted, tmp_path, fmt):
    """The manifest disagrees with itself the other way round: the reader refused it, the loader loaded the video (a
    conversion of the output and training on it saw different datasets); robustness.md says both refuse."""
    from converters.errors import SourceError

    out = edited_copy(converted[fmt, "mose"], tmp_path / "out", unlist)
    said = r"video '.*': the manifest puts it in shard .*, whose list of videos does not name it"
    for open_it in (open_dataset, lambda path: list(api.read_videos(path, fmt))):
        with pytest.raises(SourceError, match=said) as caught:
            open_it(out)
        assert caught.value.path == str(out / "manifest.json")


def h5py_string():
    import h5py

    return h5py.string_dtype()


def _replace(group, name, data=None, **create):
    del group[name]
    if data is not None:
        group[name] = data
    else:
        group.create_dataset(name, **create)


def huge_rle_tables(group):
    """RLE tables of 2^36 rows (sparse: no bytes on disk) that rle/offsets agrees with: all on frame 0."""
    for name in ("object_id", "counts", "area", "bbox"):
        dataset = group[f"rle/{name}"]
        dtype, extra = dataset.dtype, dataset.shape[1:]
        del group[f"rle/{name}"]
        group.create_dataset(f"rle/{name}", shape=(2**36, *extra), dtype=dtype, chunks=(1024, *extra))
    del group["rle/counts_offsets"]  # the strings' positions: as many as the rows, plus one
    group.create_dataset("rle/counts_offsets", shape=(2**36 + 1,), dtype=np.int64, chunks=(1024,))
    offsets = np.full(group["rle/offsets"].shape, 2**36, np.int64)
    offsets[0] = 0
    _replace(group["rle"], "offsets", offsets)


BAD_GROUPS = {  # (converted format, edit of the first video's group)
    "file names of 2^40 rows": (
        "hdf5",
        lambda g: _replace(g, "file_names", shape=(2**40,), maxshape=(None,), dtype=h5py_string(), chunks=(1024,)),
    ),
    "rle tables of 2^36 rows": ("hdf5", huge_rle_tables),
    "offsets of 10^10 rows": (
        "hdf5",
        lambda g: _replace(g["rle"], "offsets", shape=(10**10,), dtype="i8", chunks=(1 << 20,)),  # sparse: no bytes on disk
    ),
    "offsets as floats": ("hdf5", lambda g: _replace(g["rle"], "offsets", g["rle/offsets"][()] + 0.5)),
    "offsets backwards": ("hdf5", lambda g: _replace(g["rle"], "offsets", g["rle/offsets"][()][::-1].copy())),
    "image offsets of 10^10 rows": (
        "hdf5",
        lambda g: _replace(g, "images_offsets", shape=(10**10,), dtype="i8", chunks=(1 << 20,)),  # sparse: no bytes on disk
    ),
    "image offsets past the bytes": ("hdf5", lambda g: g["images_offsets"].__setitem__(-1, g["images"].shape[0] + 1)),
    "counts as integers": ("hdf5", lambda g: _replace(g["rle"], "counts", np.arange(len(g["rle/counts"])))),
    "unknown encoding": ("hdf5", lambda g: g.attrs.__setitem__("encoding", "weird")),
    "dense masks as floats": ("hdf5-dense", lambda g: _replace(g, "masks", g["masks"][()].astype("f4"))),
    "dense masks too small": ("hdf5-dense", lambda g: _replace(g, "masks", g["masks"][()][:, :10, :10].copy())),
    "dense masks huge": (
        "hdf5-dense",
        lambda g: _replace(g, "masks", shape=(10, 60_000, 60_000), dtype="u1", chunks=(1, 1000, 1000)),
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_GROUPS))
def test_a_damaged_hdf5_group_is_a_source_error_for_the_loader_and_the_reader(converted, tmp_path, case):
    from converters.errors import SourceError

    fmt, edit = BAD_GROUPS[case]
    out = edited_copy(converted[fmt, "mose"], tmp_path / "out", edit_group=edit)
    videos = open_dataset(out)
    first = videos[sorted(v.name for v in videos)[0]]
    with pytest.raises(SourceError, match=r"part-00000\.h5"):
        first.read_clip([0])
    with api.open_reader(out, "hdf5") as reader, pytest.raises(SourceError, match=r"part-00000\.h5"):
        reader.read_video(next(r for r in reader.list_videos() if r.name == first.name))


def test_a_frame_name_in_a_shard_may_not_lead_out_of_the_image_folder(sample_root, tmp_path):
    from converters.errors import SourceError

    base = tmp_path / "out"
    api.convert(sample_root["mose"], base, to="hdf5", reader_options={"split": "train"}, writer_options={"images": False})
    (tmp_path / "secret.jpg").write_bytes(b"\xff\xd8 secret")

    def edit(group):
        names = group["file_names"].asstr()[()].tolist()
        names[0] = "../../../secret.jpg"
        _replace(group, "file_names", np.array(names, dtype=object).astype("S"))

    out = edited_copy(base, tmp_path / "edited", edit_group=edit)
    videos = open_dataset(out)
    first = videos[sorted(v.name for v in videos)[0]]
    with pytest.raises(SourceError, match="frame file name"):
        first.read_clip([0])


def test_hdf5_per_frame_datasets_are_checked_before_they_are_read(converted, tmp_path):
    from converters.errors import SourceError

    edit = lambda g: _replace(g, "annotated", shape=(2**40,), maxshape=(None,), dtype=bool, chunks=(1024,))  # noqa: E731
    out = edited_copy(converted["hdf5", "mose"], tmp_path / "out", edit_group=edit)
    with api.open_reader(out, "hdf5") as reader, pytest.raises(SourceError, match="annotated dataset of shape"):
        reader.read_video(reader.list_videos()[0])


def with_image_bytes(out: Path, data: bytes) -> Path:
    """The first Parquet shard rewritten with every frame's embedded bytes replaced by ``data`` (its pages' CRCs
    recomputed: a shard consistent in all but its images)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = first_shard(out)
    table = pq.read_table(path)
    images = table.column("image").combine_chunks()
    replaced = pa.StructArray.from_arrays(
        [pa.array([data] * len(table), pa.binary()), images.field("path")], fields=list(images.type)
    )
    metadata = pq.ParquetFile(path).metadata.metadata
    table = table.set_column(table.schema.get_field_index("image"), "image", replaced).replace_schema_metadata(metadata)
    pq.write_table(table, path)
    return path


def test_undecodable_frame_bytes_are_a_source_error_naming_the_frame(converted, tmp_path):
    from converters.errors import SourceError

    out = edited_copy(converted["parquet", "mose"], tmp_path / "out")
    path = with_image_bytes(out, b"not an image")
    clips = ClipDataset(out, clip_length=1, decode_images=True)
    with pytest.raises(SourceError, match=rf"{re.escape(path.name)}: video .*, frame 0: cannot decode image"):
        clips[0]


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_a_frame_of_another_size_than_its_video_is_a_source_error_naming_the_frame(converted, tmp_path, kind):
    """ClipDataset(decode_images=True) once returned such a frame as it was (TrainingClips refused it): frames and
    masks of different sizes in one clip."""
    from converters.errors import SourceError
    from converters.loading import TrainingClips

    out = edited_copy(converted["parquet", "mose"], tmp_path / "out")
    encoded = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 40)).save(encoded, kind)
    path = with_image_bytes(out, encoded.getvalue())
    says = rf"{re.escape(path.name)}: video .*, frame 0: the image is 24x16, the video's frames \d+x\d+"
    with pytest.raises(SourceError, match=says):
        ClipDataset(out, clip_length=1, decode_images=True)[0]
    with pytest.raises(SourceError, match="the image is 24x16"):
        TrainingClips(out, num_frames=1)[0]


@pytest.mark.parametrize(
    "text", ['{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", '{"format_version": ' + "9" * 5000 + "}"], ids=["deep", "long"]
)
def test_a_manifest_json_parsers_refuse_is_a_source_error(converted, tmp_path, text):
    from converters.errors import SourceError

    out = edited_copy(converted["parquet", "mose"], tmp_path / "out")
    (out / "manifest.json").write_text(text)
    with pytest.raises(SourceError, match=r"manifest\.json: not valid JSON"):
        open_dataset(out)


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_frames_that_moved_are_found_with_image_root_and_never_silently_none(sample_copy, tmp_path, fmt):
    """images=false outputs read frames from the source folder: after a move, image_root says where; without it, an error."""
    from converters.errors import SourceError

    source = sample_copy("mose")
    out = tmp_path / "out"
    api.convert(source, out, to=fmt, reader_options={"split": "train"}, writer_options={"images": False})
    moved = tmp_path / "moved"
    source.rename(moved)
    with pytest.raises(SourceError, match=r"not embedded.*image_root") as refused:
        ClipDataset(out, clip_length=1)
    assert refused.value.path == str((source / "train" / "JPEGImages").resolve())  # the folder, not a shard
    gone = open_dataset(out)
    for read in (lambda: gone[0].read_video(), lambda: gone[0].read_clip([0])):
        with pytest.raises(SourceError, match="JPEGImages"):
            read()
    assert ClipDataset(out, clip_length=1, images=False)[0]["masks"] is not None  # masks need no frames
    clips = ClipDataset(out, clip_length=2, image_root=moved / "train" / "JPEGImages")
    item = clips[0]
    folder = moved / "train" / "JPEGImages" / item["video"]
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert item["frames"] == [(folder / names[i]).read_bytes() for i in item["frame_indices"]]
    videos = open_dataset(out, image_root=moved / "train" / "JPEGImages")
    video = videos[item["video"]].read_video()
    assert video.frames[0].image is not None
    assert pickle.loads(pickle.dumps(clips))[0]["frames"] == item["frames"]
    (folder / names[item["frame_indices"][0]]).unlink()  # one frame gone: named, not None
    with pytest.raises(SourceError, match=re.escape(names[item["frame_indices"][0]])):
        ClipDataset(out, clip_length=2, image_root=moved / "train" / "JPEGImages")[0]
    with pytest.raises(SourceError, match="does not exist"):
        open_dataset(out, image_root=tmp_path / "nowhere")


def test_cmyk_jpegs_decode_as_pillow_does():
    rgb = np.random.default_rng(0).integers(0, 256, (16, 16, 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    np.testing.assert_array_equal(decode_jpeg(data), np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


def test_indices_must_be_integers_and_names_are_members(converted):
    clips = ClipDataset(converted["parquet", "mose"], clip_length=1)
    videos = clips.videos
    for bad in (1.7, "1", True):
        with pytest.raises(TypeError):
            clips[bad]
        with pytest.raises(TypeError):
            videos[bad] if not isinstance(bad, str) else videos[1.5]
    assert clips[np.int64(1)]["frame_indices"].tolist() == clips[1]["frame_indices"].tolist()
    with pytest.raises(IndexError, match=f"clip {-len(clips) - 1} out of range"):
        clips[-len(clips) - 1]
    name = videos.manifest.videos[0].name
    assert name in videos and "no-such-video" not in videos and videos[0] in videos


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_a_source_without_images_loads_with_no_frames(sample_root, tmp_path, fmt):
    """images=false from a COCO file without an image folder: nothing was ever there, so no error, frames None."""
    import json
    import warnings

    from converters.errors import VosconvWarning

    annotations = tmp_path / "a.json"
    api.convert(sample_root["mose"], annotations, to="coco", reader_options={"split": "train"})
    data = json.loads(annotations.read_text())
    data["info"]["vosconv"]["image_root"] = None  # annotations only, as a test split's file is
    annotations.write_text(json.dumps(data))
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VosconvWarning)  # no images folder: only annotations
        api.convert(annotations, out, to=fmt, writer_options={"images": False})
    item = ClipDataset(out, clip_length=2)[0]
    assert item["frames"] == [None, None] and item["masks"].shape[0] == 2


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_present_objects_are_the_png_values_in_raster_order(sample_root, converted, fmt, source):
    """What SAM 2's PNG segment loader finds on a frame (``pd.unique`` of the flat PNG, 0 left out; void 255 too)."""
    layout, _, split, resolution = SOURCES[source]
    pngs = label_maps(sample_root[layout] / split / f"Annotations{resolution}")
    checked = 0
    for handle in open_dataset(converted[fmt, source]):
        full = handle.read_video()
        for index, frame in enumerate(full.frames):
            want = expected_label(pngs, f"{full.name}/{frame.stem}.png", full.encoding is MaskEncoding.BINARY)
            if want is None:
                continue
            values, first = np.unique(want, return_index=True)
            order = [int(values[k]) for k in np.argsort(first, kind="stable") if values[k] != 0]
            got = handle.present_objects(index)
            assert [value for value, _ in got] == order
            for value, plane in got:
                np.testing.assert_array_equal(plane, want == value)
            checked += 1
    assert checked


@pytest.mark.parametrize("fmt", ["hdf5", "hdf5-dense"])
def test_an_hdf5_worker_keeps_the_datasets_of_a_few_videos_only(converted, monkeypatch, fmt):
    """Each video's open h5py datasets were kept for the life of the process (about 17 MB per 1,000 videos): a worker's
    memory grew with every video an epoch visits. Now only the last few videos' are kept, and reads go on as before."""
    from converters.formats.hdf5 import loader

    monkeypatch.setattr(loader, "KEPT_VIDEOS", 2, raising=False)
    clips = ClipDataset(converted[fmt, "mose"], clip_length=2)
    videos = clips.videos
    assert len(videos) > 2
    for _ in range(2):  # the second round reopens what the first let go
        for index in range(len(clips)):
            item = clips[index]
            want = videos[item["video"]].read_video()
            for t, frame_index in enumerate(item["frame_indices"].tolist()):
                assert item["frames"][t] == want.frames[frame_index].image.data
    shards = videos._backend.files._open.values()
    assert all(len(shard.videos) <= 2 for shard in shards)


@pytest.mark.parametrize(
    "options",
    [{"stride": 1.5}, {"clip_length": 2.0}, {"clip_length": 0}, {"stride": True}, {"masks": "object"}],
    ids=["stride-float", "length-float", "length-zero", "stride-bool", "masks-typo"],
)
def test_clip_options_are_checked_when_made(converted, options):
    """stride=1.5 was taken: its clips were consecutive frames, counted for neither stride (TrainingClips refuses a
    float count); the errors were bare ValueErrors where TrainingClips gives an OptionError."""
    from converters.errors import OptionError

    with pytest.raises(OptionError, match=r"positive integers|'label', 'objects' or None"):
        ClipDataset(converted["parquet", "mose"], **{"clip_length": 2, **options})
    assert len(ClipDataset(converted["parquet", "mose"], clip_length=np.int64(2), stride=np.int32(2)))


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_a_path_inside_an_output_folder_names_the_folder_to_give(converted, fmt):
    """A shard file, Parquet's ``data/`` (what ``datasets`` takes as ``data_dir``) or ``manifest.json`` was told to be
    converted (``vosconv convert .../part-00000.h5 -o part-00000.parquet makes one``): the fix is the folder above."""
    from converters.errors import SourceError

    out = converted[fmt, "mose"]
    inner = [p for p in out.rglob("*") if p.suffix in (".parquet", ".h5")] + [out / "manifest.json"]
    inner += [p.parent for p in inner if p.parent != out]
    assert len(inner) >= 2
    for path in inner:
        with pytest.raises(SourceError, match=rf"inside the output folder {re.escape(str(out))}, .*: give that folder"):
            open_dataset(path)
    assert len(open_dataset(out))
