"""Bad input on the training loader's reading path: shards consistent in their own bytes (pages' CRCs recomputed,
HDF5 datasets well formed) whose contents disagree with the manifest are a SourceError naming the shard, never
masks dropped or merged in silence, black frames, or an internal error; and a few damaged shards, loaded every
way the loader reads, give a SourceError or the clips, nothing else (docs/robustness.md lists what is covered).
"""

from __future__ import annotations

import json
import re
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


def _painted(value: int, frame: int | None = None) -> Callable:
    """An edit of a dense group: a 2x3 patch of frame ``frame``'s label map (every frame's, by default) set to ``value``."""

    def edit(group):
        for index in range(len(group["masks"])) if frame is None else [frame]:
            label = group["masks"][index]
            label[:2, :3] = value
            group["masks"][index] = label

    return edit


@pytest.mark.parametrize("value", [5, 200, 254])
def test_hdf5_dense_label_values_of_no_object_are_refused_not_dropped_or_passed_on(converted, tmp_path, value):
    """The first video's objects are 1-4: a label value of no object was passed on in label maps, dropped from object
    planes and shown by SAM 2's drop-in as an object. The HDF5 reader refuses it too, naming the file."""
    from converters import api

    out = with_hdf5_group(converted["hdf5-dense"], tmp_path / "out", _painted(value))
    assert open_dataset(out)[0].object_ids == (1, 2, 3, 4)
    for read in _first_video_reads(out):
        with pytest.raises(SourceError, match=rf"part-00000\.h5: .*frame \d+: label value {value} is no object of the video"):
            read()
    with (
        api.open_reader(out, "hdf5") as reader,
        pytest.raises(SourceError, match=rf"part-00000\.h5: .*label value {value} is no"),
    ):
        reader.read_video(reader.list_videos()[0])


def test_hdf5_dense_void_and_object_values_still_load(converted, tmp_path):
    """The check's other side: 255 (void) and an object's id painted where another was are what a label map may hold."""
    out = with_hdf5_group(converted["hdf5-dense"], tmp_path / "out", _painted(255))
    out = with_hdf5_group(out, tmp_path / "out2", _painted(4, frame=3))
    for read in _first_video_reads(out):
        read()
    assert (open_dataset(out)[0].read_clip([2], images=False, masks="label")["masks"][0, :2, :3] == 255).all()


def test_hdf5_dense_labels_on_an_unannotated_frame_are_refused(sample_root, tmp_path):
    """YouTube-VOS valid is annotated where objects first appear; the writer stores nothing (zeros) on the other frames.
    Labels there were passed on in label maps beside ``annotated`` False, and dropped by the reader in silence."""
    from converters import api

    dense = tmp_path / "dense"
    api.convert(
        sample_root["youtube-vos"], dense, to="hdf5", reader_options={"split": "valid"}, writer_options={"masks": "dense"}
    )
    video = open_dataset(dense)[0]
    frame = next(i for i in range(len(video)) if i not in set(video.annotated))
    out = with_hdf5_group(dense, tmp_path / "out", _painted(video.object_ids[0], frame))
    video = open_dataset(out)[0]
    for read in (
        lambda: video.read_clip([frame], images=False, masks="label"),
        lambda: video.read_clip([frame], images=False, masks="objects"),
    ):
        with pytest.raises(SourceError, match=rf"part-00000\.h5: .*frame {frame} is not annotated, yet its label map holds"):
            read()
    with api.open_reader(out, "hdf5") as reader, pytest.raises(SourceError, match=rf"frame {frame} is not annotated"):
        reader.read_video(reader.list_videos()[0])


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


@pytest.mark.parametrize(
    ("ids", "encoding", "good", "bad"),
    [
        ((1, 2, 3), "palette", [0, 1, 3, 255], [4, 200, 254]),
        ((1, 3, 9), "palette", [0, 1, 3, 9, 255], [2, 4, 8, 10, 254]),  # gaps between ids: a pass each
        ((2, 4, 6, 8, 10, 12), "grayscale", [0, 2, 12, 255], [1, 3, 11, 13]),  # more gaps than passes: one lookup
        ((1,), "binary", [0, 255], [1, 2]),  # a binary video stores its object as 255
    ],
)
def test_label_values_allow_exactly_0_the_objects_and_void(ids, encoding, good, bad):
    from converters.formats.hdf5.label_values import LabelValues
    from converters.model import MaskEncoding

    values = LabelValues(ids, MaskEncoding(encoding))
    labels = np.zeros((3, 4, 5), np.uint8)
    labels[0, 0, : len(good)] = good
    values.check(labels, [10, 11, 12], [True, True, False])
    for value in bad:
        labels[1, 3, 4] = value
        with pytest.raises(ValueError, match=rf"^frame 11: label value.? \[?{value}"):
            values.check(labels, [10, 11, 12], [True, True, False])
        labels[1, 3, 4] = 0
    labels[2, 1, 1] = ids[0]
    with pytest.raises(ValueError, match=rf"^frame 12 is not annotated, yet its label map holds \[{ids[0]}\]"):
        values.check(labels, [10, 11, 12], [True, True, False])


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


# --------------------------------------------------------------------------- bit flips where no page or chunk checksum is

FLIPS_PER_PART = 6


def _hdf5_parts(shard: Path) -> dict[str, list[tuple[int, int]]]:
    """The shard's bytes by part: each dataset kind's data (``file_names``, ``rle/counts``, ...) and everything else,
    ``metadata`` (superblock, object headers with their attributes, indexes, heaps); JPEG data and dense mask chunks,
    which carry their own CRC-32 and Fletcher-32, left out."""
    import h5py

    spans: dict[str, list[tuple[int, int]]] = {}
    with h5py.File(shard, "r") as file:

        def visit(name: str, node) -> None:
            if not isinstance(node, h5py.Dataset):
                return
            kind = name.split("/", 1)[1]
            if node.chunks is None:
                start = node.id.get_offset()
                found = [] if start is None else [(start, start + node.id.get_storage_size())]
            else:
                found = [
                    (c.byte_offset, c.byte_offset + c.size) for c in map(node.id.get_chunk_info, range(node.id.get_num_chunks()))
                ]
            spans.setdefault(kind, []).extend(found)

        file["videos"].visititems(visit)
    metadata = _between(shard.stat().st_size, [s for found in spans.values() for s in found])
    parts = {kind: found for kind, found in spans.items() if kind not in ("images", "masks")}
    return parts | {"metadata": metadata, "chunk indexes": _chunk_indexes(shard.read_bytes(), metadata)}


#: Where the structures that find a dataset's chunks begin: a version 1 B-tree node (the earliest file format), a fixed
#: array's header and data block (HDF5 1.10's, for datasets of fixed size such as dense masks).
CHUNK_INDEX_SIGNATURES = (b"TREE", b"FAHD", b"FADB")


def _chunk_indexes(data: bytes, metadata: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The metadata ranges from each chunk index structure's signature to the next signature or 512 bytes on, at most:
    the damage there reads one frame's mask chunk as another's unless a checksum covers it."""
    starts = sorted(m.start() for m in re.finditer(b"|".join(CHUNK_INDEX_SIGNATURES), data))
    found = []
    for start in starts:
        gap = next((stop for a, stop in metadata if a <= start < stop), start)
        stop = min([gap, start + 512, *(s for s in starts if s > start)])
        if stop > start:
            found.append((start, stop))
    return found


def _parquet_parts(shard: Path) -> dict[str, list[tuple[int, int]]]:
    """The shard's bytes by part: each column's chunks (pages with their headers, dictionary pages), vosconv's JSON in
    the footer, and the rest of the footer (schema, statistics, offsets); the JPEG column, whose pages are CRC-checked
    as the other columns' are (and the fuzz above damages), left out to keep this fast."""
    import pyarrow.parquet as pq

    from converters.formats.parquet.spec import METADATA_KEY

    metadata = pq.ParquetFile(shard).metadata
    spans: dict[str, list[tuple[int, int]]] = {}
    for group in range(metadata.num_row_groups):
        for column in map(metadata.row_group(group).column, range(metadata.num_columns)):
            start = column.dictionary_page_offset if column.has_dictionary_page else column.data_page_offset
            spans.setdefault(column.path_in_schema.split(".")[0], []).append((start, start + column.total_compressed_size))
    data, size = shard.read_bytes(), shard.stat().st_size
    footer = size - 8 - int.from_bytes(data[-8:-4], "little")
    text = metadata.metadata[METADATA_KEY]
    own = data.index(text, footer)
    spans["vosconv's footer JSON"] = [(own, own + len(text))]
    spans["footer"] = [(footer, own), (own + len(text), size)]
    spans.pop("image")
    return spans


def _between(size: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ranges of ``[0, size)`` that no span covers."""
    gaps, at = [], 0
    for start, stop in sorted(spans):
        if start > at:
            gaps.append((at, start))
        at = max(at, stop)
    return gaps + ([(at, size)] if at < size else [])


def _everything_read(out: Path, fmt: str) -> list:
    """All the reader gives of every video, and all the loader gives of every frame (images, label maps, object planes,
    file names)."""
    from converters import api

    read: list = list(api.read_videos(out, fmt))
    for video in open_dataset(out):
        frames = list(range(len(video)))
        clip = video.read_clip(frames, masks="label")
        planes = video.read_clip(frames, images=False, masks="objects")["masks"]
        read.append((video.name, video.object_ids, clip["frames"], clip["masks"].tobytes(), planes.tobytes(), video.file_names()))
    return read


@pytest.mark.parametrize("fmt", sorted(SHARD_FORMATS))
def test_bit_flips_outside_the_checksummed_data_are_an_error_or_change_nothing(converted, tmp_path, fmt):
    """A few seeded bit flips in every part of a shard that neither JPEG CRCs nor dense chunks' Fletcher-32 cover: each
    read by the reader and every way the loader reads is a SourceError naming the shard, or gives exactly what the good
    shard gives. Found by this fuzz: in the earliest HDF5 file format a flip in metadata read as another frame's mask
    chunk, a frame's chunk gone or another attribute, and one in ``file_names`` as another frame name; in a Parquet
    footer a flip in vosconv's JSON (a palette's base64) read as another palette; all in silence."""
    writer = SHARD_FORMATS[fmt][0]
    good = _everything_read(converted[fmt], writer)
    shard = first_shard(converted[fmt])
    original = shard.read_bytes()
    parts = _parquet_parts(shard) if writer == "parquet" else _hdf5_parts(shard)
    rng = np.random.default_rng(20261208)
    for part, spans in sorted((part, spans) for part, spans in parts.items() if spans):
        positions = np.concatenate([np.arange(start, stop) for start, stop in spans])
        for number, position in enumerate(rng.choice(positions, min(FLIPS_PER_PART, len(positions)), replace=False)):
            out = tmp_path / f"{part.replace('/', '-')}-{number}"
            shutil.copytree(converted[fmt], out)
            flipped = bytearray(original)
            flipped[position] ^= 1 << int(rng.integers(8))
            first_shard(out).write_bytes(bytes(flipped))
            try:
                assert _everything_read(out, writer) == good, f"{part}: the bit flipped at byte {position} went unseen"
            except SourceError as exc:
                assert exc.path == str(first_shard(out)) or first_shard(out).name in str(exc), (part, position, str(exc))
