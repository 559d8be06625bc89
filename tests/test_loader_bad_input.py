"""Bad input on the training loader's reading path: shards consistent in their own bytes (pages' CRCs recomputed,
HDF5 datasets well formed) whose contents disagree with the manifest are a SourceError naming the shard, never
masks dropped or merged in silence, black frames, or an internal error; and a few damaged shards, loaded every
way the loader reads, give a SourceError or the clips, nothing else (docs/robustness.md lists what is covered).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from converters.errors import SourceError
from converters.loading import ClipDataset, TrainingClips, open_dataset

from .conftest import SHARD_FORMATS


@pytest.fixture(scope="module")
def converted(mose_shards):
    """format -> the MOSE sample's train split converted to it."""
    return mose_shards


def first_shard(out: Path) -> Path:
    return out / json.loads((out / "manifest.json").read_text())["shards"][0]["file"]


def with_parquet_column(source: Path, target: Path, column: str, edit: Callable[[list], list], kind=None) -> Path:
    """A copy of a Parquet output whose first shard's ``column`` is ``edit(values)`` (of pyarrow type ``kind``,
    default the column's), rewritten whole: a file consistent in its bytes, footer kept, that says something else."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shutil.copytree(source, target)
    path = first_shard(target)
    metadata = pq.ParquetFile(path).metadata.metadata
    table = pq.read_table(path)
    index = table.schema.get_field_index(column)
    values = pa.array(edit(table.column(column).to_pylist()), kind or table.schema.field(column).type)
    pq.write_table(table.set_column(index, column, values).replace_schema_metadata(metadata), path, row_group_size=8)
    return target


def with_hdf5_group(source: Path, target: Path, edit: Callable) -> Path:
    """A copy of an HDF5 output with its first video's group changed by ``edit(group)``."""
    import h5py

    shutil.copytree(source, target)
    with h5py.File(first_shard(target), "r+") as file:
        edit(file["videos"][sorted(file["videos"])[0]])
    return target


def _objects(edit: Callable[[dict], None]) -> Callable[[list], list]:
    def rows(values: list) -> list:
        for frame in values:
            for record in frame or ():
                edit(record)
        return values

    return rows


def _replace(group, name: str, data) -> None:
    del group[name]
    group[name] = data


def _first_video_reads(out: Path) -> list[Callable[[], object]]:
    """Every way the loader reads the first video's masks: label maps, object planes, training clips, one frame's planes."""
    video = open_dataset(out)[0]
    frames = list(range(len(video)))
    clips = TrainingClips(out, num_frames=2, output="numpy", images=False, videos=[video.name])
    return [
        lambda: video.read_clip(frames, images=False, masks="label"),
        lambda: video.read_clip(frames, images=False, masks="objects"),
        lambda: [clips[i] for i in range(len(clips))],
        lambda: [video.present_objects(i) for i in video.annotated],
    ]


PARQUET_OBJECTS = {  # each object record of the first shard's frames changed
    "an object id the manifest does not list": lambda o: o.__setitem__("object_id", 100_000),
    "a negative object id": lambda o: o.__setitem__("object_id", -5),
    "object 255 that is no void region": lambda o: o.update(object_id=255, iscrowd=0),
}


@pytest.mark.parametrize("case", sorted(PARQUET_OBJECTS))
def test_parquet_masks_of_objects_the_manifest_does_not_list_are_refused(converted, tmp_path, case):
    out = with_parquet_column(converted["parquet"], tmp_path / "out", "objects", _objects(PARQUET_OBJECTS[case]))
    for read in _first_video_reads(out):
        with pytest.raises(SourceError, match=r"\.parquet: .*frame \d+ holds masks of .*not each at most once of the objects"):
            read()


def test_parquet_an_object_twice_on_a_frame_is_refused_not_merged(converted, tmp_path):
    out = with_parquet_column(converted["parquet"], tmp_path / "out", "objects", lambda rows: [r and r + r for r in rows])
    for read in _first_video_reads(out):
        with pytest.raises(SourceError, match=r"\.parquet: .*not each at most once"):
            read()


def test_parquet_null_objects_on_an_annotated_frame_are_refused_not_read_as_no_objects(converted, tmp_path):
    out = with_parquet_column(converted["parquet"], tmp_path / "out", "objects", lambda rows: [None] * len(rows))
    for read in _first_video_reads(out):
        with pytest.raises(SourceError, match=r"\.parquet: .*frame \d+: its objects are null, yet the manifest has it annotated"):
            read()


@pytest.mark.parametrize("value", [-3, 0, 256, 255])
def test_hdf5_rle_rows_of_objects_the_manifest_does_not_list_are_refused(converted, tmp_path, value):
    """255 is the void region's id in the tables: a frame of several rows of it is refused too."""

    def edit(group):
        ids = group["rle/object_id"][()]
        _replace(group["rle"], "object_id", np.full_like(ids, value))

    out = with_hdf5_group(converted["hdf5"], tmp_path / "out", edit)
    for read in _first_video_reads(out):
        with pytest.raises(SourceError, match=r"part-00000\.h5: .*frame \d+ holds masks of"):
            read()


def test_parquet_file_names_that_are_not_text_are_a_source_error(converted, tmp_path):
    import pyarrow as pa

    out = with_parquet_column(
        converted["parquet"], tmp_path / "out", "file_name", lambda names: list(range(len(names))), pa.int64()
    )
    with pytest.raises(SourceError, match=r"\.parquet: .*file_name column of \['int'\], not strings"):
        open_dataset(out)[0].file_names()


def test_hdf5_file_names_that_are_not_text_are_a_source_error(converted, tmp_path):
    out = with_hdf5_group(converted["hdf5"], tmp_path / "out", lambda g: _replace(g, "file_names", np.zeros(len(g["annotated"]))))
    with pytest.raises(SourceError, match=r"part-00000\.h5: .*expected text, got float"):
        open_dataset(out)[0].file_names()


@pytest.mark.parametrize("value", ["external", "elsewhere"])
def test_an_hdf5_group_whose_images_disagree_with_the_manifest_is_refused_not_read_as_black_frames(converted, tmp_path, value):
    out = with_hdf5_group(converted["hdf5"], tmp_path / "out", lambda g: g.attrs.__setitem__("images", value))
    with pytest.raises(SourceError, match=rf"part-00000\.h5: .*the group's images are '{value}', the manifest's embedded"):
        open_dataset(out)[0].read_clip([0])


# --------------------------------------------------------------------------- a small deterministic fuzz


def _flipped(data: bytes, k: int) -> bytes:
    position = (k * 7919 + 1) % len(data)
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]


DAMAGE = {  # damage to the first shard's bytes: cuts, and single bytes flipped across the file
    **{f"cut at {frac}": (lambda data, f=frac: data[: int(len(data) * f)]) for frac in (0.0, 0.3, 0.7, 0.99)},
    **{f"byte {k} flipped": (lambda data, k=k: _flipped(data, k)) for k in range(6)},
}


EVERY_WAY = [  # every clip: label maps and object planes with decoded frames, training clips at the stored size and resized
    lambda out: list(ClipDataset(out, clip_length=2, masks="label")),
    lambda out: list(ClipDataset(out, clip_length=2, masks="objects", decode_images=True)),
    lambda out: list(TrainingClips(out, num_frames=2, output="numpy")),
    lambda out: list(TrainingClips(out, num_frames=2, output="numpy", size=(12, 20))),
]


@pytest.mark.parametrize("fmt", sorted(SHARD_FORMATS))
def test_damaged_shards_load_or_give_a_source_error_naming_the_shard(converted, tmp_path, fmt):
    """A damaged shard may load (a flipped byte in JPEG data decodes) or fail, but only as a SourceError naming it."""
    for number, (case, damage) in enumerate(sorted(DAMAGE.items())):
        out = tmp_path / f"case{number}"
        shutil.copytree(converted[fmt], out)
        shard = first_shard(out)
        shard.write_bytes(damage(shard.read_bytes()))
        for read in EVERY_WAY:
            try:
                read(out)
            except SourceError as exc:
                assert shard.name in str(exc), (case, str(exc))


def test_sam2_object_255_beside_a_void_region_names_the_shard(tmp_path):
    """The SAM 2 drop-in's refusal names the file as every loader error does, not the video alone."""
    pytest.importorskip("training.dataset.vos_raw_dataset")
    from converters.formats.parquet.writer import ParquetWriter
    from converters.integrations.sam2 import ShardRawDataset

    from .test_loading_void import _video, _written

    out = _written(ParquetWriter(), _video((7, 255)), tmp_path)
    video, loader = ShardRawDataset(out).get_video(0)
    with pytest.raises(SourceError, match=r"\.parquet: video '.*': frame 0 holds object 255 and a void region"):
        loader.load(video.frames[0].frame_idx)


def test_a_damaged_dense_mask_chunk_is_a_source_error_not_other_label_values(converted, tmp_path):
    """A byte flipped inside a dense mask chunk decoded (LZ4 has no checksum) to other label values, read by the
    loader and the reader alike without a word (found by fuzzing); each chunk now has HDF5's Fletcher-32."""
    import h5py

    from converters import api

    out = tmp_path / "out"
    shutil.copytree(converted["hdf5-dense"], out)
    shard = first_shard(out)
    with h5py.File(shard, "r") as file:  # every chunk of the first video: a training clip reads a few frames
        masks = file["videos"][sorted(file["videos"])[0]]["masks"]
        trailer = 4 if masks.fletcher32 else 0
        chunks = [masks.id.get_chunk_info(i) for i in range(masks.id.get_num_chunks())]
    data = bytearray(shard.read_bytes())
    for chunk in chunks:  # the last byte of the LZ4 data: a literal (an LZ4 block ends in 5), so it decodes, as another value
        data[chunk.byte_offset + chunk.size - trailer - 1] ^= 0x01
    shard.write_bytes(bytes(data))
    for read in [*_first_video_reads(out), lambda: list(api.read_videos(out, "hdf5"))]:
        with pytest.raises(SourceError, match="filter returned failure") as caught:
            read()
        assert caught.value.path == str(shard)
