"""The ``parquet`` and ``hdf5`` readers: detection, exact native layouts back, images, bad shards, pickling."""

from __future__ import annotations

import filecmp
import json
import os
import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.errors import SourceError, VosconvWarning
from converters.loading.dataset import ClipDataset
from converters.sample import label_maps

FORMATS = {"parquet": ("parquet", {}), "hdf5": ("hdf5", {}), "hdf5-dense": ("hdf5", {"masks": "dense"})}
SPLIT_ROOTS = {"mose": "train", "youtube-vos": "valid", "davis": "DAVIS"}


def convert(source, out, layout, fmt, options=None, reader_options=None):
    api.convert(
        source, out, to=FORMATS[fmt][0], from_=layout, reader_options=reader_options, writer_options=options or FORMATS[fmt][1]
    )
    return out


def visible_files(root):
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_detected(sample_root, tmp_path, fmt):
    out = convert(sample_root["mose"], tmp_path / "out", "mose", fmt, reader_options={"split": "train"})
    assert api.detect(out) == FORMATS[fmt][0]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("layout", ["mose", "davis", "youtube-vos"])
def test_native_layout_comes_back_identical(sample_root, tmp_path, layout, fmt):
    """Source -> Parquet/HDF5 -> the source's layout: the same PNG values and palettes, byte-identical JPEGs."""
    split = {"mose": "train", "youtube-vos": "valid", "davis": "val"}[layout]
    converted = convert(sample_root[layout], tmp_path / "converted", layout, fmt, reader_options={"split": split})
    back = tmp_path / "back"
    api.convert(converted, back, to=layout)
    root = sample_root[layout] / (split if layout != "davis" else "DAVIS")
    source = visible_files(root)
    if layout == "davis":
        names = (root / "ImageSets" / "2017" / "val.txt").read_text().split()
        source = {k: v for k, v in source.items() if k.split("/")[-2] in names and k.startswith(("JPEG", "Annotations"))}
    written = {k: v for k, v in visible_files(back).items() if not k.startswith("ImageSets") and k.endswith((".jpg", ".png"))}
    assert sorted(written) == sorted(k for k in source if k.endswith((".jpg", ".png")))
    source_masks, written_masks = label_maps(root), label_maps(back)
    for name, path in written.items():
        if name.endswith(".jpg"):
            assert filecmp.cmp(path, source[name], shallow=False), name
        else:
            np.testing.assert_array_equal(written_masks[name], source_masks[name], err_msg=name)
            with Image.open(path) as a, Image.open(source[name]) as b:
                assert (a.mode, a.getpalette()) == (b.mode, b.getpalette()), name
    if layout == "youtube-vos":
        assert json.loads((back / "meta.json").read_text()) == json.loads((root / "meta.json").read_text())


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_images_not_embedded(sample_copy, tmp_path, fmt):
    source = sample_copy("mose")
    out = convert(source, tmp_path / "out", "mose", fmt, {"images": False}, {"split": "train"})
    with api.open_reader(out) as reader:
        video = reader.read_video(reader.list_videos()[0])
    image = video.frames[0].image
    assert image.data is None and image.path == str(source.resolve() / "train" / "JPEGImages" / video.name / "00000.jpg")
    moved = tmp_path / "moved"
    shutil.move(source / "train" / "JPEGImages", moved)
    with api.open_reader(out) as reader, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reader.info()
        assert reader.read_video(reader.list_videos()[0]).frames[0].image is None
    said = [str(w.message) for w in caught if issubclass(w.category, VosconvWarning)]
    assert said and "pass --images DIR" in said[0]  # the flag the CLI has, not a made-up one
    with api.open_reader(out) as reader:  # a writer that embeds images refuses it (the pipeline's check_images)
        assert "not embedded and their folder" in reader.missing_images()
    with api.open_reader(out, options={"images": str(moved)}) as reader:
        assert reader.read_video(reader.list_videos()[0]).frames[0].image.path == str(moved / video.name / "00000.jpg")


def _shard_files(out: Path) -> list[Path]:
    """The shard files, in shard order, as the manifest names them (Parquet: ``data/<split>-NNNNN-of-NNNNN.parquet``)."""
    return [out / shard["file"] for shard in json.loads((out / "manifest.json").read_text())["shards"]]


def _converted(sample_root, tmp_path, fmt):
    return convert(sample_root["mose"], tmp_path / "out", "mose", fmt, {"shard_bytes": 1, **FORMATS[fmt][1]}, {"split": "train"})


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_corrupt_shard_is_named(sample_root, tmp_path, fmt):
    out = _converted(sample_root, tmp_path, fmt)
    victim = _shard_files(out)[1]
    victim.write_bytes(victim.read_bytes()[:200])
    with pytest.raises(SourceError) as error, api.open_reader(out) as reader:
        for ref in reader.list_videos():
            reader.read_video(ref)
    assert error.value.path == str(victim)


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_missing_shard_and_checksums(sample_root, tmp_path, fmt):
    out = _converted(sample_root, tmp_path, fmt)
    victims = _shard_files(out)
    data = bytearray(victims[0].read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different bytes: only the checksum notices for sure
    victims[0].write_bytes(bytes(data))
    with pytest.raises(SourceError, match="sha256") as error, api.open_reader(out, options={"verify": True}) as reader:
        reader.list_videos()
    assert error.value.path == str(victims[0])
    victims[2].unlink()
    with pytest.raises(SourceError, match="missing") as error, api.open_reader(out) as reader:
        reader.list_videos()
    assert error.value.path == str(victims[2])


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_damaged_frame_bytes_are_found_by_conversion_validate_and_loader(sample_root, tmp_path, fmt):
    """A byte flipped inside a shard (bit rot, a bad copy) is an error, never a damaged JPEG written with exit 0:
    Parquet pages carry CRC32s, HDF5 groups a CRC32 per embedded frame, and ``validate`` checks every sha256."""
    from converters.loading.dataset import ClipDataset
    from converters.run import validate

    out = _converted(sample_root, tmp_path, fmt)
    victim = _shard_files(out)[0]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        group = pq.ParquetFile(victim).metadata.row_group(0)
        chunk = next(c for c in map(group.column, range(group.num_columns)) if c.path_in_schema == "image.bytes")
        data = bytearray(victim.read_bytes())
        data[chunk.data_page_offset + chunk.total_compressed_size // 2] ^= 0xFF  # inside the first frames' JPEG bytes
        victim.write_bytes(bytes(data))
    else:
        import h5py

        with h5py.File(victim, "r+") as file:
            group = file["videos"][sorted(file["videos"])[0]]
            start, end = group["images_offsets"][1:3]  # frame 1's bytes
            middle = int(start + end) // 2
            group["images"][middle] ^= 0xFF
    with pytest.raises(SourceError, match=r"CRC"), api.open_reader(out) as reader:
        for ref in reader.list_videos():
            reader.read_video(ref)
    with api.open_reader(out) as reader:
        report = validate.validate(reader, progress=False)
    assert not report.ok and any("sha256" in e["message"] for e in report.errors)
    assert all("sha256" in e["message"] for e in report.errors)  # its videos are not read again to say it twice
    with pytest.raises(SourceError, match=r"CRC|damaged"):
        clips = ClipDataset(out, clip_length=1)
        for index in range(len(clips)):
            clips[index]


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_bad_manifest(sample_root, tmp_path, fmt):
    out = _converted(sample_root, tmp_path, fmt)
    (out / "manifest.json").write_text('{"format": "vosconv-' + fmt + '"')
    with pytest.raises(SourceError, match=r"manifest\.json"), api.open_reader(out, fmt) as reader:
        reader.info()


@pytest.mark.parametrize("fmt", ["parquet", "hdf5-dense"])
def test_reader_pickles_without_open_files(sample_root, tmp_path, fmt):
    out = _converted(sample_root, tmp_path, fmt)
    with api.open_reader(out) as reader:
        refs = reader.list_videos()
        first = reader.read_video(refs[0])
        clone = pickle.loads(pickle.dumps(reader))
        assert clone.read_video(refs[0]) == first
        assert [ref.name for ref in pickle.loads(pickle.dumps(refs))] == [r.name for r in refs]


def _first_shard(out):
    return next(p for p in sorted(out.rglob("*.h5")))


@pytest.mark.parametrize(("dataset", "says"), [("area", "stored area"), ("counts", "invalid RLE")])
def test_hdf5_masks_are_checked_not_trusted(sample_root, tmp_path, dataset, says):
    """A stored area (or counts string) that its RLE does not bear out is an error naming the shard, not output."""
    import h5py

    out = convert(sample_root["mose"], tmp_path / "h5", "mose", "hdf5", reader_options={"split": "train"})
    shard = _first_shard(out)
    with h5py.File(shard, "r+") as file:
        table = file[f"videos/{next(iter(file['videos']))}/rle"]
        if dataset == "area":
            table["area"][0] = 999
        else:  # the first string's first characters, in the flat counts bytes
            table["counts"][:4] = np.frombuffer(b"zzzz", np.uint8)
    with pytest.raises(SourceError, match=says) as caught:
        api.convert(out, tmp_path / "back.json", to="coco", reader_options={"verify": False})
    assert caught.value.path == str(shard)


def test_checked_mask_measures_what_it_keeps():
    from converters.codecs import rle

    assert rle.checked_mask(1, "5220003", 6, (1, 1, 3, 2), 4, 5).bbox == (1, 1, 3, 2)
    with pytest.raises(rle.RleError, match="stored area 7"):
        rle.checked_mask(1, "5220003", 7, (1, 1, 3, 2), 4, 5)
    with pytest.raises(rle.RleError, match="bbox"):
        rle.checked_mask(1, "5220003", 6, (0, 0, 3, 2), 4, 5)


@pytest.mark.parametrize(
    ("key", "value"), [("row_groups", [-3, 1]), ("row_groups", [0, 1000]), ("row_groups", "ab"), ("rows", [0, float("inf")])]
)
def test_parquet_footer_record_out_of_range_is_named(sample_root, tmp_path, key, value):
    out = convert(sample_root["mose"], tmp_path / "pq", "mose", "parquet", reader_options={"split": "train"})
    with api.open_reader(out) as reader:
        entry = reader.manifest.shards[0]
        shard = reader._shards.get(str(reader.source / entry.file))  # the parsed footer the listing reads
        shard.videos[entry.videos[0]][key] = value
        with pytest.raises(SourceError, match="malformed footer record") as caught:
            reader.list_videos()
    assert caught.value.path == shard.path


@pytest.mark.parametrize("damage", ["annotated", "dense shape"])
def test_hdf5_group_whose_parts_disagree_is_named(sample_root, tmp_path, damage):
    """Before any buffer is sized from it: a dense dataset of another shape, or flags for other frames."""
    import h5py

    fmt = "hdf5-dense" if damage == "dense shape" else "hdf5"
    out = convert(sample_root["mose"], tmp_path / "h5", "mose", fmt, reader_options={"split": "train"})
    shard = _first_shard(out)
    with h5py.File(shard, "r+") as file:
        group = file[f"videos/{next(iter(file['videos']))}"]
        if damage == "annotated":
            flags = group["annotated"][()]
            del group["annotated"]
            group["annotated"] = flags[:-1]
        else:
            del group["masks"]
            group.create_dataset("masks", shape=(1, 200_000, 200_000), dtype="u1", chunks=(1, 64, 64))
    with pytest.raises(SourceError, match="annotated dataset of shape" if damage == "annotated" else "masks dataset of shape"):
        api.convert(out, tmp_path / "back.json", to="coco", reader_options={"verify": False})


def test_parquet_footer_nested_too_deep_is_named(sample_root, tmp_path):
    import pyarrow.parquet as pq

    from converters.formats.parquet.reader import open_shard
    from converters.formats.parquet.spec import METADATA_KEY

    out = convert(sample_root["mose"], tmp_path / "pq", "mose", "parquet", reader_options={"split": "train"})
    path = _shard_files(out)[0]
    table = pq.read_table(path)
    deep = b'{"videos": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    pq.write_table(table.replace_schema_metadata({METADATA_KEY: deep}), path)
    with pytest.raises(SourceError, match="malformed vosconv metadata"):
        open_shard(str(path))


def _as_older_vlen_layout(group) -> None:
    """Rewrite a group as vosconv wrote HDF5 before it dropped variable-length data."""
    import h5py

    for key in ("encoding", "objects", "images", "masks"):
        group.attrs[key] = group.attrs[key].decode()  # a str attribute: variable-length
    names = [n.decode() for n in group["file_names"][()]]
    del group["file_names"]
    group.create_dataset("file_names", data=np.array(names, dtype=object), dtype=h5py.string_dtype("utf-8"))
    for table, name, dtype in ((group, "images", h5py.vlen_dtype(np.uint8)), (group["rle"], "counts", h5py.string_dtype())):
        if name not in table:
            continue
        flat, at = table[name][()], table[f"{name}_offsets"][()]
        values = [flat[at[i] : at[i + 1]] for i in range(len(at) - 1)]
        data = np.empty(len(values), object)
        data[:] = values if name == "images" else [v.tobytes().decode() for v in values]
        del table[name], table[f"{name}_offsets"]
        table.create_dataset(name, data=data, dtype=dtype)


def test_hdf5_shards_of_the_older_vlen_layout_still_read(sample_root, tmp_path):
    import h5py

    out = convert(sample_root["youtube-vos"], tmp_path / "h5", "youtube-vos", "hdf5", reader_options={"split": "train"})
    with api.open_reader(out) as reader:
        expected = [reader.read_video(ref) for ref in reader.list_videos()]
    clips = ClipDataset(out, clip_length=2)
    expected_clips = [clips[i] for i in range(len(clips))]
    older = tmp_path / "older"
    shutil.copytree(out, older)
    for shard in older.glob("*.h5"):
        with h5py.File(shard, "r+") as file:
            for group in file["videos"].values():
                _as_older_vlen_layout(group)
    with api.open_reader(older, options={"verify": False}) as reader:
        assert [reader.read_video(ref) for ref in reader.list_videos()] == expected
    again = ClipDataset(older, clip_length=2)
    for mine, theirs in zip((again[i] for i in range(len(again))), expected_clips):
        assert mine.keys() == theirs.keys()
        for key in mine:
            assert np.array_equal(mine[key], theirs[key]) if isinstance(mine[key], np.ndarray) else mine[key] == theirs[key]


FUZZ = """
import sys
from pathlib import Path
from converters import api
from converters.errors import SourceError
from converters.loading.dataset import ClipDataset
for copy in sorted(Path(sys.argv[1]).iterdir()):
    try:
        with api.open_reader(copy, options={"verify": False}) as reader:
            for ref in reader.list_videos():
                reader.read_video(ref)
        clips = ClipDataset(copy, clip_length=3)
        for i in range(len(clips)):
            clips[i]
    except (SourceError, ValueError, OSError):
        pass
    print(copy.name, flush=True)
"""


def test_a_zeroed_block_anywhere_in_an_hdf5_shard_never_hangs_a_reader(sample_root, tmp_path):
    """4 KiB zeroed at offsets across the shard: reading each copy ends (in an error or not), never spins."""
    import subprocess
    import sys

    out = convert(sample_root["mose"], tmp_path / "h5", "mose", "hdf5", reader_options={"split": "train"})
    shard = _first_shard(out)
    data = shard.read_bytes()
    copies = tmp_path / "copies"
    for n, offset in enumerate(range(0, len(data), max(len(data) // 24, 4096))):
        copy = copies / f"{n:03d}-at-{offset}"
        shutil.copytree(out, copy)
        damaged = bytearray(data)
        damaged[offset : offset + 4096] = bytes(len(damaged[offset : offset + 4096]))
        (copy / shard.name).write_bytes(bytes(damaged))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", FUZZ, str(copies)], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == sorted(p.name for p in copies.iterdir())


MANIFEST_EDITS = {  # one video's manifest record changed by hand; the shard still holds the truth
    "more frames": lambda v: v.update(frames=v["frames"] + 8, annotated=[[0, v["frames"] + 8]]),
    "other objects": lambda v: v.update(object_ids=[*v["object_ids"], 200]),
    "fewer annotated frames": lambda v: v.update(annotated=[[0, 1]]),
}


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
@pytest.mark.parametrize("edit", sorted(MANIFEST_EDITS))
def test_a_manifest_that_disagrees_with_its_shard_is_an_error_for_validate_and_convert(sample_root, tmp_path, fmt, edit):
    """The loader refuses such a video (clips come from the manifest); validate and convert say so too."""
    from converters.run import validate

    out = convert(sample_root["mose"], tmp_path / "out", "mose", fmt, {}, {"split": "train"})
    manifest = json.loads((out / "manifest.json").read_text())
    video = manifest["videos"][0]
    MANIFEST_EDITS[edit](video)
    (out / "manifest.json").write_text(json.dumps(manifest))
    shard = str(out / manifest["shards"][video["shard"]]["file"])
    with api.open_reader(out) as reader:
        report = validate.validate(reader, progress=False)
    said = [e for e in report.errors if e["video"] == video["name"]]
    assert said and said[0]["file"] == shard and "manifest" in said[0]["message"], report.errors
    with pytest.raises(SourceError, match="manifest") as caught:
        api.convert(out, tmp_path / "back.json", to="coco")
    assert caught.value.path == shard


def fletcher32(data: bytes) -> int:
    """HDF5's Fletcher-32 checksum of a chunk (``H5_checksum_fletcher32``: big-endian 16-bit words, an odd byte last)."""
    words = np.frombuffer(data[: len(data) // 2 * 2], ">u2").astype(np.uint64)
    blocks = [words[start : start + 360] for start in range(0, len(words), 360)]  # folded after each, as HDF5 does
    if len(data) % 2:
        blocks.append(np.array([data[-1] << 8], np.uint64))
    first = second = 0
    for block in blocks:
        second += len(block) * first + int(np.cumsum(block).sum())
        first += int(block.sum())
        first, second = (first & 0xFFFF) + (first >> 16), (second & 0xFFFF) + (second >> 16)
    first, second = (first & 0xFFFF) + (first >> 16), (second & 0xFFFF) + (second >> 16)
    return (second << 16) | first


def _damage_first_chunk(out: Path) -> None:
    """Overwrite bytes inside the first dense LZ4 chunk of the first video, its Fletcher-32 recomputed, and record
    the shard's new size and sha256, so that the LZ4 filter, not a checksum, meets the damage (as in a shard
    written before the masks had a Fletcher-32)."""
    import hashlib

    import h5py

    shard = _first_shard(out)
    with h5py.File(shard, "r") as file:
        masks = file["videos"][sorted(file["videos"])[0]]["masks"]
        chunk = masks.id.get_chunk_info(0)
    data = bytearray(shard.read_bytes()[chunk.byte_offset : chunk.byte_offset + chunk.size])
    data[16:-4] = b"\xff" * min(64, chunk.size - 20) + data[16 + min(64, chunk.size - 20) : -4]
    data[-4:] = fletcher32(bytes(data[:-4])).to_bytes(4, "little")
    with open(shard, "r+b") as raw:
        raw.seek(chunk.byte_offset)
        raw.write(data)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["shards"][0]["sha256"] = hashlib.sha256(shard.read_bytes()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))


def test_validate_json_stays_json_when_a_codec_prints_to_stdout(sample_root, tmp_path):
    """hdf5plugin's LZ4 filter prints to file descriptor 1 on a damaged chunk; ``--json`` output is still only JSON,
    also from forked workers, of every command that has it (stats and convert let the filter's words through)."""
    import subprocess
    import sys

    out = convert(sample_root["mose"], tmp_path / "h5", "mose", "hdf5", {"masks": "dense", "codec": "lz4"}, {"split": "train"})
    _damage_first_chunk(out)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    skip = ["convert", str(out), "-o", str(tmp_path / "c.json"), "--on-error", "skip", "--json", "--workers", "2"]
    reading = [[name, str(out), "--json", "--workers", "2"] for name in ("validate", "info", "stats")]
    for command in [*reading, skip]:
        vosconv = [sys.executable, "-m", "converters"]
        done = subprocess.run([*vosconv, *command], env=env, capture_output=True, text=True, timeout=120)
        assert "decompressed size" in done.stderr  # what the filter said went to standard error
        if command[0] == "validate":
            report = json.loads(done.stdout)
            assert done.returncode == 1 and not report["ok"]
            assert [e["file"] for e in report["errors"]] == [str(_first_shard(out))], report
        elif command[0] == "convert":  # the damaged video skipped, the rest written, and stdout the document
            assert done.returncode == 3 and json.loads(done.stdout)["skipped"] == 1, done.stdout
        else:  # info stops at the error, which it says on standard error; standard output holds nothing else
            assert done.returncode == 1 and done.stdout == "" and "error:" in done.stderr


def _as_older_parquet_layout(out: Path) -> Path:
    """Rewrite a Parquet output as vosconv wrote them before the Hub's layout: ``part-NNNNN.parquet``
    beside the manifest (format version 1), no ``data/`` folder, no card."""
    manifest = json.loads((out / "manifest.json").read_text())
    for index, shard in enumerate(manifest["shards"]):
        (out / shard["file"]).rename(out / f"part-{index:05d}.parquet")
        shard["file"] = f"part-{index:05d}.parquet"
    manifest["format_version"] = 1
    (out / "data").rmdir()
    (out / "README.md").unlink()
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def test_parquet_outputs_of_the_older_layout_still_read_everywhere(sample_root, tmp_path):
    """Reader, loader and validate read ``part-NNNNN.parquet`` outputs; such an output is vosconv's to overwrite."""
    from converters.run import validate

    new = convert(sample_root["mose"], tmp_path / "new", "mose", "parquet", {"shard_bytes": 1}, {"split": "train"})
    old = _as_older_parquet_layout(
        convert(sample_root["mose"], tmp_path / "old", "mose", "parquet", {"shard_bytes": 1}, {"split": "train"})
    )
    assert sorted(p.name for p in old.iterdir()) == [
        "manifest.json",
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    api.convert(new, tmp_path / "new.json", to="coco")
    api.convert(old, tmp_path / "old.json", to="coco")
    assert (tmp_path / "new.json").read_bytes() == (tmp_path / "old.json").read_bytes()
    with api.open_reader(old) as reader:
        assert validate.validate(reader, progress=False).ok
    new_clips, old_clips = ClipDataset(new, clip_length=2), ClipDataset(old, clip_length=2)
    assert len(new_clips) == len(old_clips)
    for index in (0, len(old_clips) - 1):
        got, want = old_clips[index], new_clips[index]
        assert got["video"] == want["video"] and got["frames"] == want["frames"]
        assert np.array_equal(got["masks"], want["masks"])
    api.convert(sample_root["mose"], old, to="parquet", reader_options={"split": "train"}, overwrite=True)
    assert sorted(p.name for p in old.iterdir()) == ["README.md", "data", "manifest.json"]
