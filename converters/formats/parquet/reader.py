"""vosconv's Parquet output back to the intermediate form, exactly.

``list_videos`` reads each shard's footer (the ``vosconv`` key-value metadata locates every
video's rows and row groups); ``read_video`` reads only that video's row groups through a
``ParquetFile`` kept open per process. Embedded JPEGs come back as bytes; frames written
with ``images=false`` point into the recorded image root (or the ``images`` option) when
that folder exists, else have no image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...codecs import rle
from ...errors import SourceError
from ...model import VOID_ID, Frame, FrameMasks, ImageRef, Video
from ...reader import VideoRef
from ...sources.files import join_inside
from ..sharded import manifest as shards
from ..sharded.reader import ShardedReader

if TYPE_CHECKING:  # pyarrow is imported when a shard is opened: detecting another format costs no pyarrow import
    import pyarrow.parquet as pq

METADATA_KEY = b"vosconv"


@dataclass(frozen=True)
class ParquetVideoRef(VideoRef):
    """The shard file, and the video's rows and row groups in it (``[start, stop)``)."""

    file: str = ""
    rows: tuple[int, int] = (0, 0)
    row_groups: tuple[int, int] = (0, 0)
    entry: shards.VideoEntry | None = None  # what the manifest says of the video, checked on reading

    def files(self) -> tuple[str, ...]:
        return (self.file,)


@dataclass(frozen=True)
class ParquetShard:
    """An open shard: the file, its per-video records (from the footer) by video name, and where row groups start."""

    path: str
    file: pq.ParquetFile
    videos: dict[str, dict]
    group_starts: list[int]  # the first row of each row group, then the row count

    def rows_of_groups(self, first: int, stop: int) -> tuple[int, int]:
        """The rows ``[start, stop)`` that row groups ``first..stop`` hold; ValueError for groups the file lacks."""
        if not 0 <= first <= stop < len(self.group_starts):
            raise ValueError(f"row groups {first}..{stop} of {len(self.group_starts) - 1}")
        return self.group_starts[first], self.group_starts[stop]

    def close(self) -> None:
        self.file.close()


def open_shard(path: str) -> ParquetShard:
    """Open a shard and parse its footer; SourceError names the file when it is missing or corrupt."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # pre-buffering coalesces reads for object stores; on local files it doubles the cost of a random read
        # page CRCs (the writer stores them) catch a damaged page, JPEG bytes included; older files have none
        file = pq.ParquetFile(path, pre_buffer=False, page_checksum_verification=True)
        raw = (file.metadata.metadata or {}).get(METADATA_KEY)
        if raw is None:
            raise SourceError(path, "no vosconv metadata in the footer: not a vosconv Parquet shard")
        record = json.loads(raw)
        videos = {v["name"]: v for v in record["videos"]}
        starts = [0]
        for group in range(file.metadata.num_row_groups):
            starts.append(starts[-1] + file.metadata.row_group(group).num_rows)
    except SourceError:
        raise
    except FileNotFoundError:
        raise SourceError(path, "shard file missing") from None
    except (OSError, pa.ArrowException) as exc:
        raise SourceError(path, f"cannot read Parquet shard: {exc}") from None
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise SourceError(path, f"malformed vosconv metadata ({type(exc).__name__}: {exc})") from None
    return ParquetShard(path, file, videos, starts)


class ParquetReader(ShardedReader):
    """Reads a folder written by the ``parquet`` writer."""

    name = "parquet"
    open_shard = staticmethod(open_shard)

    def shard_video(self, shard: shards.ShardEntry, name: str, entry: shards.VideoEntry | None) -> ParquetVideoRef:
        """The video's rows and row groups from the footer, which must agree: the reader reads the
        groups, the training loader the rows, so a footer whose two disagree would load another video."""
        opened = self._shards.get(str(self.source / shard.file))
        record = opened.videos.get(name)
        if record is None:
            raise SourceError(opened.path, f"video {name!r} listed in the manifest is not in the shard")
        try:
            first, stop = (int(i) for i in record["row_groups"])
            spanned = opened.rows_of_groups(first, stop)
            rows = tuple(int(i) for i in record["rows"])
            if rows != spanned:
                raise ValueError(f"rows {list(rows)} are not those of its row groups {first}..{stop}, {list(spanned)}")
            nbytes = sum(opened.file.metadata.row_group(i).total_byte_size for i in range(first, stop))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise SourceError(opened.path, f"video {name!r}: malformed footer record ({type(exc).__name__}: {exc})") from None
        return ParquetVideoRef(name, nbytes, shards.shard_stamp(self.source, shard), opened.path, rows, (first, stop), entry)

    def read_video(self, ref: ParquetVideoRef) -> Video:
        import pyarrow as pa

        shard = self._shards.get(ref.file)
        try:
            table = shard.file.read_row_groups(list(range(*ref.row_groups)))
        except (OSError, pa.ArrowException) as exc:
            raise SourceError(ref.file, f"cannot read video {ref.name!r}: {exc}") from None
        try:
            video = build_video(shard.videos[ref.name], table.to_pylist(), self._image_dir())
            shards.check_against_entry(video, ref.entry)
            return video
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
            raise SourceError(ref.file, f"video {ref.name!r}: malformed rows ({type(exc).__name__}: {exc})") from None


def build_video(record: dict, rows: list[dict], images: str | None) -> Video:
    """A Video from its footer record and its rows (in frame order)."""
    objects, encoding, palette = shards.parse_video_record(record)
    name = record["name"]
    if len(rows) != record["frames"] or any(r["video"] != name or r["frame_index"] != i for i, r in enumerate(rows)):
        raise ValueError(f"the rows are not frames 0..{record['frames'] - 1} of the video")
    width, height = int(record["width"]), int(record["height"])
    frames = tuple(
        Frame(i, row["file_name"], _image(row["image"], images), _masks(row, height, width)) for i, row in enumerate(rows)
    )
    return shards.with_frame_values(Video(name, width, height, frames, objects, encoding, palette), record["objects"])


def _image(cell: dict | None, images: str | None) -> ImageRef | None:
    if cell is None:
        return None
    if cell["bytes"] is not None:
        return ImageRef(data=cell["bytes"])
    return ImageRef(path=join_inside(images, cell["path"])) if images else None


def _masks(row: dict, height: int, width: int) -> FrameMasks | None:
    if not row["annotated"]:
        return None
    objects, void = [], None
    for o in row["objects"] or ():
        mask = rle.checked_mask(int(o["object_id"]), o["counts"], int(o["area"]), tuple(o["bbox"]), height, width)
        if o["iscrowd"] and mask.object_id == VOID_ID:
            void = mask
        else:
            objects.append(mask)
    return FrameMasks(tuple(objects), void)
