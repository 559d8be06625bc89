"""Parquet shards: one row per frame, the JPEG embedded as a Hugging Face Image, the masks as COCO RLE.

Rows are sorted by (video, frame) and each video is written on its own, in row groups of
at most ``row_group_frames`` frames, so a group never spans two videos and reading a
clip reads only the groups that hold it. Video-level facts that no row holds (mask
encoding, palette, every object with its category and YouTube-VOS frame list) go in the
file's key-value metadata under ``vosconv``, together with each video's rows and row groups.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ...model import VOID_ID, DatasetInfo, Frame, Video
from ...sources import imagefiles
from ...writer import ShardResult
from ..sharded import manifest as shards
from ..sharded.writer import ShardedWriter, check_shard_bytes
from . import card
from .spec import HF_METADATA_KEY, METADATA_CRC_KEY, METADATA_KEY

IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
OBJECT_TYPE = pa.struct(
    [
        ("object_id", pa.int32()),
        ("category_id", pa.int32()),
        ("iscrowd", pa.int8()),
        ("counts", pa.string()),
        ("area", pa.int64()),
        ("bbox", pa.list_(pa.int32())),
    ]
)
#: ``datasets`` reads the ``image`` column as an Image feature only with this metadata and exactly this struct.
HF_METADATA = json.dumps({"info": {"features": {"image": {"_type": "Image"}}}}, separators=(",", ":"))
SCHEMA = pa.schema(
    [
        ("video", pa.string()),
        ("frame_index", pa.int32()),
        ("file_name", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("annotated", pa.bool_()),
        ("image", IMAGE_TYPE),
        ("objects", pa.list_(OBJECT_TYPE)),
    ],
    metadata={HF_METADATA_KEY: HF_METADATA},
)
#: Columns with min/max statistics (what engines filter on); never the image bytes.
STATISTICS = ["video", "frame_index", "annotated"]


@dataclass(frozen=True)
class ParquetOptions:
    images: bool = True  # embed each frame's JPEG bytes; false: keep only its path relative to the image root
    shard_bytes: int = 1 << 30  # target source bytes per shard file
    row_group_frames: int = 8  # frames per row group (a group never spans two videos)
    compression_level: int = 3  # zstd level

    def __post_init__(self) -> None:
        check_shard_bytes(self.shard_bytes)
        if self.row_group_frames < 1:
            raise ValueError(f"row_group_frames must be at least 1, got {self.row_group_frames}")
        if not 1 <= self.compression_level <= 22:
            raise ValueError(f"compression_level must be 1..22 (zstd), got {self.compression_level}")


class ParquetWriter(ShardedWriter):
    """A folder of ``data/<split>-NNNNN-of-NNNNN.parquet`` shards, a dataset card and ``manifest.json`` (the Hub's layout)."""

    name = "parquet"
    Options = ParquetOptions
    suffix = ".parquet"
    format_version = 2  # 1: part-NNNNN.parquet beside the manifest, no card (still read)

    _unsplit: bool = False  # the source had no split: its shards take the Hub's default name, train

    def published_names(self, count: int, info: DatasetInfo) -> list[str]:
        split = card.split_name(info)
        self._unsplit = not info.split  # set on every run: a writer used again must not repeat an earlier run's note
        return [f"{shards.SHARD_FOLDER}/{split}-{index:05d}-of-{count:05d}.parquet" for index in range(count)]

    def notes(self, results: Sequence[ShardResult]) -> list[str]:
        """The shared notes, and the split name given to a source without one (all of DAVIS read without --split)."""
        unsplit = "the source has no split: its shards are named train-*, the Hugging Face Hub's default split"
        return [*super().notes(results), *([unsplit] if self._unsplit else [])]

    def write_extras(self, folder: Path, manifest: shards.Manifest, info: DatasetInfo) -> None:
        """``README.md``: the dataset card the Hub and ``datasets.load_dataset`` read (never a source's own README)."""
        split = card.split_name(info)
        text = card.render(
            SCHEMA,
            info,
            split,
            f"{shards.SHARD_FOLDER}/{split}-*.parquet",
            frames=sum(v.frames for v in manifest.videos),
            videos=len(manifest.videos),
        )
        shards.write_atomic(folder / card.CARD, lambda file: file.write(text.encode("utf-8")))

    def write_file(self, videos: Iterable[Video], path: Path, info: DatasetInfo) -> None:
        options = self.options
        records = []
        rows = groups = 0
        with pq.ParquetWriter(
            path,
            SCHEMA,
            compression="zstd",
            compression_level=options.compression_level,
            use_dictionary=["video"],
            write_statistics=STATISTICS,
            write_page_checksum=True,  # a CRC32 per page: readers then notice a damaged page, JPEG bytes included
        ) as writer:
            for video in videos:
                step = options.row_group_frames
                for start in range(0, len(video.frames), step):  # a row group at a time: never a whole video's JPEGs
                    table = pa.Table.from_pydict(frame_columns(video, options.images, start, start + step), schema=SCHEMA)
                    writer.write_table(table, row_group_size=step)
                count = len(video.frames)
                used = -(-count // options.row_group_frames)
                records.append(
                    {**shards.video_record(video), "rows": [rows, rows + count], "row_groups": [groups, groups + used]}
                )
                rows, groups = rows + count, groups + used
            footer = shards.dumps({"format_version": self.format_version, "videos": records})
            writer.add_key_value_metadata({METADATA_KEY: footer, METADATA_CRC_KEY: str(zlib.crc32(footer.encode()))})


def frame_columns(video: Video, images: bool, start: int = 0, stop: int | None = None) -> dict[str, list]:
    """The rows of the video's frames ``start`` to ``stop`` (all by default), column by column."""
    categories = {o.object_id: o.category_id for o in video.objects}
    frames = video.frames[start:stop]
    return {
        "video": [video.name] * len(frames),
        "frame_index": [f.index for f in frames],
        "file_name": [f.file_name for f in frames],
        "width": [video.width] * len(frames),
        "height": [video.height] * len(frames),
        "annotated": [f.masks is not None for f in frames],
        "image": [_image(video, f, images) for f in frames],
        "objects": [_objects(f, categories) for f in frames],
    }


def _image(video: Video, frame: Frame, images: bool) -> dict | None:
    if frame.image is None:
        return None
    return {"bytes": imagefiles.read_bytes(frame.image) if images else None, "path": f"{video.name}/{frame.file_name}"}


def _objects(frame: Frame, categories: dict[int, int | None]) -> list[dict] | None:
    """None for an unannotated frame; else every object present, then the void region (id 255, iscrowd 1)."""
    if frame.masks is None:
        return None
    entries = [
        {
            "object_id": m.object_id,
            "category_id": categories.get(m.object_id),
            "iscrowd": 0,
            "counts": m.counts,
            "area": m.area,
            "bbox": list(m.bbox),
        }
        for m in frame.masks.objects
    ]
    void = frame.masks.void
    if void is not None:
        entries.append(
            {
                "object_id": VOID_ID,
                "category_id": None,
                "iscrowd": 1,
                "counts": void.counts,
                "area": void.area,
                "bbox": list(void.bbox),
            }
        )
    return entries
